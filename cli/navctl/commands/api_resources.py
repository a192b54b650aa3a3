"""``navctl api-resources`` and ``api-versions``: what the server serves, from discovery."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.navctl.console import out
from cli.navctl.errors import fail
from cli.navctl.options import verb_app
from cli.navctl.printing import tabulate
from cli.navctl.resources import ApiResource
from cli.navctl.session import Session, run

app = verb_app()


@app.command("api-resources")
def api_resources_cmd(
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="wide (adds verbs) or name.")
    ] = None,
    namespaced: Annotated[
        bool | None,
        typer.Option(
            "--namespaced/--no-namespaced",
            help="true: only namespaced kinds; false: only cluster-wide.",
        ),
    ] = None,
    api_group: Annotated[
        str | None, typer.Option("--api-group", help="Only this group ('' for core).")
    ] = None,
    verbs: Annotated[
        list[str] | None, typer.Option("--verbs", help="Only resources allowing these verbs.")
    ] = None,
    no_headers: Annotated[bool, typer.Option("--no-headers", help="Omit headers.")] = False,
    sort_by: Annotated[str | None, typer.Option("--sort-by", help="name or kind.")] = None,
) -> None:
    """Print the resource types the server serves (from discovery).

    [bold]Examples:[/bold]

      navctl api-resources

      navctl api-resources --namespaced=false

      navctl api-resources --api-group=apps -o wide
    """

    async def go(session: Session) -> int:
        return await api_resources(
            session, output=output, namespaced=namespaced, api_group=api_group,
            verbs=[v for vs in verbs or [] for v in vs.split(",")], no_headers=no_headers,
            sort_by=sort_by,
        )  # fmt: skip

    run(go)


@app.command("api-versions")
def api_versions_cmd() -> None:
    """Print the group/versions the server serves.

    [bold]Example:[/bold]

      navctl api-versions
    """

    async def go(session: Session) -> int:
        return await api_versions(session)

    run(go)


# --- implementation --------------------------------------------------------------------------


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
