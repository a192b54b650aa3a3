"""``api-resources``, ``api-versions``, ``version`` and ``cluster-info``: what the server is."""

from __future__ import annotations

from typing import Any

from cli.navctl.console import out
from cli.navctl.errors import fail
from cli.navctl.printing import go_json, tabulate, to_yaml
from cli.navctl.resources import ApiResource
from cli.navctl.session import Session

CLIENT_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0-navctl",
    "gitCommit": "navarch",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "python",
    "compiler": "cpython",
    "platform": "linux/amd64",
}


def _client_version() -> dict[str, Any]:
    import platform
    import sys
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as pkg_version

    try:
        ours = pkg_version("navarch")
    except PackageNotFoundError:  # pragma: no cover - running from a checkout
        ours = "0.0.0"
    info = dict(CLIENT_VERSION)
    info["gitVersion"] = f"v1.32.0-navctl-{ours}"
    info["goVersion"] = f"python{sys.version_info.major}.{sys.version_info.minor}"
    info["platform"] = f"{platform.system().lower()}/{platform.machine()}"
    return info


async def version(session: Session, *, client_only: bool, output: str | None) -> int:
    """``Client Version: ...`` and ``Server Version: ...`` (or the yaml/json of both)."""
    client = _client_version()
    server: dict[str, Any] | None = None
    if not client_only:
        server = await session.client.server_version()
    if output in ("json", "yaml"):
        doc: dict[str, Any] = {"clientVersion": client}
        if server is not None:
            doc["serverVersion"] = server
        out(go_json(doc, indent=2) + "\n" if output == "json" else to_yaml(doc))
        return 0
    if output:
        fail(f"--output must be 'yaml' or 'json', not {output!r}")
    out(f"Client Version: {client['gitVersion']}\n")
    if server is not None:
        out(f"Server Version: {server.get('gitVersion', '')}\n")
    return 0


async def cluster_info(session: Session) -> int:
    """Where the control plane runs, and the cluster DNS service if there is one."""
    from apiclient import errors
    from apitypes.registry import resource

    await session.client.server_version()
    out(f"Kubernetes control plane is running at {session.config.server}\n")
    try:
        services = await session.client.list_raw(
            resource("", "services"), "kube-system",
            label_selector="kubernetes.io/cluster-service=true",
        )  # fmt: skip
    except errors.ApiError:
        services = {}
    for svc in services.get("items") or []:
        name = (svc.get("metadata") or {}).get("labels", {}).get("kubernetes.io/name") or (
            svc.get("metadata") or {}
        ).get("name")
        svc_name = (svc.get("metadata") or {}).get("name")
        out(
            f"{name} is running at {session.config.server}/api/v1/namespaces/kube-system/"
            f"services/{svc_name}:dns/proxy\n"
        )
    out("\nTo further debug and diagnose cluster problems, use 'navctl cluster-info dump'.\n")
    return 0


def _sort_key(item: ApiResource, sort_by: str | None) -> tuple[str, ...]:
    if sort_by == "kind":
        return (item.type.kind,)
    if sort_by == "name":
        return (item.type.plural,)
    return (item.type.group, item.type.plural)


async def api_resources(
    session: Session,
    *,
    output: str | None,
    namespaced: bool | None,
    api_group: str | None,
    verbs: list[str],
    no_headers: bool,
    sort_by: str | None,
) -> int:
    """kubectl's api-resources table: NAME SHORTNAMES APIVERSION NAMESPACED KIND."""
    if output not in (None, "", "wide", "name"):
        fail(f"--output {output} is not available; use wide or name")
    if sort_by not in (None, "", "name", "kind"):
        fail('--sort-by accepts only "name" or "kind"')
    items = [
        item
        for item in await session.resolver.discovery()
        if (namespaced is None or item.type.namespaced == namespaced)
        and (api_group is None or item.type.group == api_group)
        and all(v in item.verbs for v in verbs)
    ]
    items.sort(key=lambda item: _sort_key(item, sort_by))
    if output == "name":
        out("".join(f"{item.type.qualified}\n" for item in items))
        return 0
    header = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    if output == "wide":
        header += ["VERBS", "CATEGORIES"]
    rows = [] if no_headers else [header]
    for item in items:
        row = [
            item.type.plural,
            ",".join(item.type.short_names),
            item.type.api_version,
            "true" if item.type.namespaced else "false",
            item.type.kind,
        ]
        if output == "wide":
            row += [",".join(sorted(item.verbs)), ",".join(item.type.categories)]
        rows.append(row)
    out(tabulate(rows))
    return 0


async def api_versions(session: Session) -> int:
    client = session.client
    core, groups = await client.request("GET", "/api"), await client.request("GET", "/apis")
    versions = list((core or {}).get("versions") or [])
    for group in (groups or {}).get("groups") or []:
        versions.extend(v.get("groupVersion") for v in group.get("versions") or [])
    out("".join(f"{v}\n" for v in sorted(versions)))
    return 0
