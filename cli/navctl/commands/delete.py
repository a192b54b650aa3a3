"""``navctl delete``: by file, name, label or ``--all``; waits until objects are gone.

As kubectl: ``--grace-period=0`` without ``--force`` becomes 1 (no accidental
immediate deletion); ``--force`` without a grace period means 0 and warns; ``--now``
is 1. ``--cascade`` maps to the propagation policy (``true``/``false`` are the old
spellings of background/orphan). After the DELETE calls, every object is watched until
it is gone -- or replaced by a new object of the same name (another uid) -- unless
``--wait=false``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.navctl.console import err, out
from cli.navctl.errors import api_error_line, fail
from cli.navctl.manifests import load, set_namespace, validate
from cli.navctl.options import (
    WEEK,
    All,
    AllNamespaces,
    DryRun,
    FieldSelector,
    Filenames,
    Namespace,
    Recursive,
    ResourceArgs,
    Selector,
    dry_run_mode,
    dry_run_suffix,
    duration_flag,
    verb_app,
)
from cli.navctl.resources import Target, kind_prefix, parse_targets
from cli.navctl.session import Session, run
from cli.navctl.waiting import wait_gone

if TYPE_CHECKING:
    from apitypes.registry import ResourceType

app = verb_app()


@app.command("delete")
def delete_cmd(
    args: ResourceArgs = None,
    filename: Filenames = None,
    recursive: Recursive = False,
    namespace: Namespace = None,
    all_namespaces: AllNamespaces = False,
    selector: Selector = None,
    field_selector: FieldSelector = None,
    all_: All = False,
    cascade: Annotated[
        str,
        typer.Option("--cascade", help="background (default), foreground or orphan."),
    ] = "background",
    grace_period: Annotated[
        int,
        typer.Option("--grace-period", help="Seconds for graceful termination; -1: the object's."),
    ] = -1,
    now: Annotated[
        bool, typer.Option("--now", help="Terminate at once (same as --grace-period=1).")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="With --grace-period=0, skip graceful deletion.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait until the objects are gone.")
    ] = True,
    timeout: Annotated[
        str, typer.Option("--timeout", help="How long to wait, e.g. 60s; 0: a week.")
    ] = "0s",
    ignore_not_found: Annotated[
        bool, typer.Option("--ignore-not-found", help="Treat missing objects as deleted.")
    ] = False,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="name: print only kind/name.")
    ] = None,
    dry_run: DryRun = None,
) -> None:
    """Delete objects by file, by type and name, by label, or all of a type.

    Waits until the objects are really gone (finalizers run, pods terminate) unless
    --wait=false, as kubectl does.

    [bold]Examples:[/bold]

      navctl delete -f deploy.yaml

      navctl delete pod web-7d4b9c

      navctl delete deploy/web svc/web

      navctl delete pods -l app=web

      navctl delete pods --all --grace-period=0 --force
    """

    async def go(session: Session) -> int:
        opts = DeleteOptions(
            filenames=filename or [],
            recursive=recursive,
            namespace=namespace,
            all_namespaces=all_namespaces,
            selector=selector,
            field_selector=field_selector,
            all=all_,
            cascade=cascade,
            grace_period=grace_period,
            now=now,
            force=force,
            wait=wait,
            timeout=timeout,
            ignore_not_found=ignore_not_found,
            output=output,
            dry_run=dry_run_mode(dry_run),
        )
        return await delete(session, args or [], opts)

    run(go)


# --- implementation --------------------------------------------------------------------------

_CASCADE = {
    "background": "Background",
    "true": "Background",
    "foreground": "Foreground",
    "orphan": "Orphan",
    "false": "Orphan",
}


@dataclass
class DeleteOptions:
    filenames: list[str] = field(default_factory=list)
    recursive: bool = False
    namespace: str | None = None
    all_namespaces: bool = False
    selector: str | None = None
    field_selector: str | None = None
    all: bool = False
    cascade: str = "background"
    grace_period: int = -1
    now: bool = False
    force: bool = False
    wait: bool = True
    timeout: str = "0s"
    ignore_not_found: bool = False
    output: str | None = None
    dry_run: str = ""


def effective_grace_period(opts: DeleteOptions) -> int | None:
    """The gracePeriodSeconds to send (None: the object's own), as kubectl computes it."""
    grace = opts.grace_period
    if opts.now:
        if grace != -1:
            fail("--now and --grace-period cannot be specified together")
        grace = 1
    if grace == 0 and not opts.force:
        # kubectl turns a bare --grace-period=0 into 1 so that nothing is lost by accident.
        grace = 1
    if opts.force and grace < 0:
        grace = 0
    if opts.force and grace > 0:
        fail("--force and --grace-period greater than 0 cannot be specified together")
    return None if grace < 0 else grace


async def _objects_of(
    session: Session, target: Target, opts: DeleteOptions
) -> list[tuple[str, str | None]]:
    """(name, namespace) of each object a target means."""
    rtype = target.resource
    ns = session.namespace(opts.namespace) if rtype.namespaced else None
    if target.names:
        return [(name, ns) for name in target.names]
    listed = await session.client.list_raw(
        rtype, ns, all_namespaces=opts.all_namespaces, label_selector=opts.selector,
        field_selector=opts.field_selector,
    )  # fmt: skip
    return [
        (
            (o.get("metadata") or {}).get("name", ""),
            (o.get("metadata") or {}).get("namespace") or None,
        )
        for o in listed.get("items") or []
    ]


async def _targets(session: Session, args: list[str], opts: DeleteOptions) -> list[Target]:
    if opts.filenames:
        if args:
            fail("resource names may not be given together with -f")

        targets: list[Target] = []
        ns = session.namespace(opts.namespace)
        explicit = session.explicit_namespace(opts.namespace)
        for manifest in load(opts.filenames, recursive=opts.recursive, verb="delete"):
            validate(manifest)
            rtype = await session.resolver.resolve_kind(manifest.api_version, manifest.kind)
            obj = set_namespace(manifest, rtype, ns, explicit)
            # A manifest may name another namespace than -n: keep it per object.
            target_ns = (obj.get("metadata") or {}).get("namespace")
            targets.append(_WithNamespace(rtype, [manifest.name], target_ns))
        return targets
    targets = await parse_targets(session.resolver, args, verb="delete", allow_all=True)
    has_names = any(t.names for t in targets)
    if not has_names and not (opts.all or opts.selector or opts.field_selector):
        fail("resource(s) were provided, but no name was specified")
    if has_names and (opts.all or opts.selector):
        fail("name cannot be provided when a selector is specified")
    return targets


@dataclass
class _WithNamespace(Target):
    namespace: str | None = None


async def delete(session: Session, args: list[str], opts: DeleteOptions) -> int:
    """Run ``navctl delete``; returns the exit code."""
    from apiclient import errors

    if opts.all_namespaces and not (opts.all or opts.selector or opts.field_selector):
        opts.all = True
    grace = effective_grace_period(opts)
    policy = _CASCADE.get(opts.cascade.lower())
    if policy is None:
        fail(
            f'invalid cascade value ({opts.cascade}). Must be "background", "foreground", or "orphan".'
        )
    if opts.output not in (None, "", "name"):
        fail(f"--output {opts.output} is not supported by delete; use -o name")
    if grace == 0 and opts.force:
        err(
            "Warning: Immediate deletion does not wait for confirmation that the running "
            "resource has been terminated. The resource may continue to run on the cluster "
            "indefinitely."
        )
    targets = await _targets(session, args, opts)
    deleted: list[tuple[ResourceType, str, str | None, str]] = []
    problems: list[str] = []
    found_any = False
    for target in targets:
        if isinstance(target, _WithNamespace):
            objects = [(name, target.namespace) for name in target.names]
        else:
            objects = await _objects_of(session, target, opts)
        for name, ns in objects:
            found_any = True
            try:
                answer = await _delete_one(session, target.resource, name, ns, grace, policy, opts)
            except errors.NotFoundError as error:
                if not opts.ignore_not_found:
                    problems.append(api_error_line(error, session.server))
                continue
            uid = str(((answer or {}).get("metadata") or {}).get("uid") or "")
            deleted.append((target.resource, name, ns, uid))
            if opts.output == "name":
                out(f"{kind_prefix(target.resource)}/{name}\n")
            else:
                suffix = dry_run_suffix(opts.dry_run)
                out(f'{kind_prefix(target.resource)} "{name}" deleted{suffix}\n')
    if not found_any and not problems and not any(t.names for t in targets):
        if all(t.resource.namespaced for t in targets) and not opts.all_namespaces:
            err(f"No resources found in {session.namespace(opts.namespace)} namespace.")
        else:
            err("No resources found")
    if opts.wait and deleted and not opts.dry_run and not (grace == 0 and opts.force):
        timeout = duration_flag(opts.timeout) or WEEK
        left = await wait_gone(session, [d for d in deleted if d[3]], timeout)
        for label in left:
            problems.append(f"error: timed out waiting for the condition on {label}")
    for line in problems:
        err(line)
    return 1 if problems else 0


async def _delete_one(
    session: Session,
    rtype: ResourceType,
    name: str,
    namespace: str | None,
    grace: int | None,
    policy: str,
    opts: DeleteOptions,
) -> dict[str, Any] | None:
    client = session.client
    if opts.dry_run == "client":
        return await client.get_raw(rtype, name, namespace)
    answer: dict[str, Any] = await client.delete_raw(
        rtype, name, namespace, grace_period_seconds=grace, propagation_policy=policy,
        dry_run=opts.dry_run == "server",
    )  # fmt: skip
    if answer.get("kind") == "Status":
        # Deleted at once; the Status names the uid when the server says it.
        details = answer.get("details") or {}
        return {"metadata": {"uid": details.get("uid", "")}}
    return answer
