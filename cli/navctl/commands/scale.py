"""``navctl scale``: a merge patch to the ``scale`` subresource of each object.

``--current-replicas`` makes it conditional; ``--timeout`` waits (by watch) until the
object reports the new number of replicas for its latest generation.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from cli.navctl.console import out
from cli.navctl.errors import CliError, fail
from cli.navctl.manifests import load
from cli.navctl.options import (
    WEEK,
    All,
    DryRun,
    Filenames,
    Namespace,
    OutputFlag,
    ResourceArgs,
    Selector,
    dry_run_mode,
    dry_run_suffix,
    duration_flag,
    verb_app,
)
from cli.navctl.resources import Target, kind_prefix, parse_targets
from cli.navctl.session import Session, run
from cli.navctl.waiting import watch_until

app = verb_app()


@app.command("scale")
def scale_cmd(
    args: ResourceArgs = None,
    replicas: Annotated[int, typer.Option("--replicas", help="The new number of replicas.")] = -1,
    current_replicas: Annotated[
        int, typer.Option("--current-replicas", help="Only scale if it has this many now.")
    ] = -1,
    namespace: Namespace = None,
    selector: Selector = None,
    all_: All = False,
    filename: Filenames = None,
    timeout: Annotated[
        str, typer.Option("--timeout", help="Wait this long for the scale to finish (0: no wait).")
    ] = "0s",
    dry_run: DryRun = None,
    output: OutputFlag = None,
) -> None:
    """Set the number of replicas of a Deployment, ReplicaSet or StatefulSet.

    [bold]Examples:[/bold]

      navctl scale deploy/web --replicas=3

      navctl scale --current-replicas=2 --replicas=3 deployment web
    """

    async def go(session: Session) -> int:
        return await scale(
            session, args or [], replicas=replicas,
            current_replicas=current_replicas, namespace=namespace, selector=selector,
            all_=all_, filenames=filename or [], timeout=timeout, dry_run=dry_run_mode(dry_run),
            output=output,
        )  # fmt: skip

    run(go)


# --- implementation --------------------------------------------------------------------------


async def scale(
    session: Session,
    args: list[str],
    *,
    replicas: int,
    current_replicas: int = -1,
    namespace: str | None = None,
    selector: str | None = None,
    all_: bool = False,
    filenames: list[str] | None = None,
    timeout: str = "0s",
    dry_run: str = "",
    output: str | None = None,
) -> int:
    """Run ``navctl scale``: a merge patch to the scale subresource per object."""
    if replicas < 0:
        fail("The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0")
    targets: list[Target]
    if filenames:
        targets = []
        for m in load(filenames, verb="scale"):
            rtype = await session.resolver.resolve_kind(m.api_version, m.kind)
            targets.append(Target(rtype, [m.name]))
    else:
        targets = await parse_targets(session.resolver, args, verb="scale")
    client = session.client
    seconds = duration_flag(timeout)
    for target in targets:
        rtype = target.resource
        if "scale" not in rtype.subresources and rtype.kind not in (
            "Deployment", "ReplicaSet", "StatefulSet", "ReplicationController",
        ):  # fmt: skip
            fail(f'cannot scale a {rtype.kind}: it has no "scale" subresource')
        ns = session.namespace(namespace) if rtype.namespaced else None
        names = list(target.names)
        if not names:
            if not (all_ or selector):
                fail("resource(s) were provided, but no name was specified")
            listed = await client.list_raw(rtype, ns, label_selector=selector)
            names = [(o.get("metadata") or {}).get("name", "") for o in listed.get("items") or []]
        for name in names:
            if current_replicas >= 0:
                current = await client.get_raw(rtype, name, ns, subresource="scale")
                now = (current.get("spec") or {}).get("replicas", 0)
                if now != current_replicas:
                    fail(f"Expected replicas to be {current_replicas}, was {now}")
            if dry_run != "client":
                await client.patch_raw(
                    rtype, name, {"spec": {"replicas": replicas}}, ns, patch_type="merge",
                    subresource="scale", dry_run=dry_run == "server",
                )  # fmt: skip
            if output == "name":
                out(f"{kind_prefix(rtype)}/{name}\n")
            else:
                suffix = dry_run_suffix(dry_run)
                out(f"{kind_prefix(rtype)}/{name} scaled{suffix}\n")
            if seconds > 0 and not dry_run:
                deadline = time.monotonic() + min(seconds, WEEK)

                def scaled(obj: dict[str, Any] | None) -> bool:
                    status = (obj or {}).get("status") or {}
                    return status.get("replicas", 0) == replicas and status.get(
                        "observedGeneration", 0
                    ) >= ((obj or {}).get("metadata") or {}).get("generation", 0)

                try:
                    await watch_until(
                        session, rtype, name, ns, scaled, max(deadline - time.monotonic(), 0)
                    )
                except TimeoutError:
                    raise CliError("error: timed out waiting for the condition") from None
    return 0
