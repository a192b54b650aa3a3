"""``navctl cluster-info``: where the control plane (and the cluster DNS) answers."""

from __future__ import annotations

from cli.navctl.console import out
from cli.navctl.options import verb_app
from cli.navctl.session import Session, run

app = verb_app()


@app.command("cluster-info")
def cluster_info_cmd() -> None:
    """Print where the control plane (and cluster DNS, if any) is.

    [bold]Example:[/bold]

      navctl cluster-info
    """

    async def go(session: Session) -> int:
        return await cluster_info(session)

    run(go)


# --- implementation --------------------------------------------------------------------------


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
