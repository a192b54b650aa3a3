"""``rollout status|history|undo|restart|pause|resume``, as kubectl does them.

- ``rollout status`` watches the object and prints kubectl's progress line for every
  change ("Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas
  are available...") until the rollout completes, fails (progress deadline) or times out.
- ``history`` reads the revisions from the Deployment's ReplicaSets
  (``deployment.kubernetes.io/revision``, ``kubernetes.io/change-cause``).
- ``undo`` copies an older ReplicaSet's pod template (without its
  ``pod-template-hash`` label) and annotations back into the Deployment with a JSON
  patch, as kubectl's rollbacker does.
- ``restart`` stamps ``kubectl.kubernetes.io/restartedAt`` into the pod template;
  ``pause``/``resume`` set ``spec.paused``.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.navctl.console import out
from cli.navctl.errors import CliError, fail
from cli.navctl.options import DryRun, Namespace, dry_run_mode, duration_flag, verb_app
from cli.navctl.printing import TabWriter
from cli.navctl.resources import kind_prefix, parse_targets, resource
from cli.navctl.session import Session, run
from cli.navctl.waiting import watch_until

if TYPE_CHECKING:
    from apitypes.registry import ResourceType

app = verb_app(
    help="""Manage the rollout of Deployments (and DaemonSets, StatefulSets).

    [bold]Examples:[/bold]

      navctl rollout status deployment/web

      navctl rollout history deployment/web

      navctl rollout undo deployment/web --to-revision=2
    """,
    no_args_is_help=True,
)

RolloutArgs = Annotated[
    list[str] | None,
    typer.Argument(help="TYPE NAME or TYPE/NAME, e.g. deployment/web.", show_default=False),
]


def _rollout(
    action: str,
    args: list[str],
    namespace: str | None,
    *,
    watch: bool = True,
    timeout: str = "0s",
    revision: int = 0,
    to_revision: int = 0,
    dry_run: str = "",
) -> None:
    async def go(session: Session) -> int:
        return await rollout(
            session, action, args, namespace=namespace, watch=watch, timeout=timeout,
            revision=revision, to_revision=to_revision, dry_run=dry_run,
        )  # fmt: skip

    run(go)


@app.command("status")
def rollout_status_cmd(
    args: RolloutArgs = None,
    namespace: Namespace = None,
    watch: Annotated[
        bool, typer.Option("--watch/--no-watch", "-w", help="Follow until the rollout ends.")
    ] = True,
    timeout: Annotated[
        str, typer.Option("--timeout", help="Give up after this long, e.g. 2m; 0: never.")
    ] = "0s",
    revision: Annotated[
        int, typer.Option("--revision", help="Pin to this revision (fails if it changes).")
    ] = 0,
) -> None:
    """Show the status of a rollout, following it until it completes.

    [bold]Examples:[/bold]

      navctl rollout status deploy/web

      navctl rollout status daemonset/agent --timeout=2m
    """
    _rollout("status", args or [], namespace, watch=watch, timeout=timeout, revision=revision)


@app.command("history")
def rollout_history_cmd(
    args: RolloutArgs = None,
    namespace: Namespace = None,
    revision: Annotated[
        int, typer.Option("--revision", help="Show the pod template of this revision.")
    ] = 0,
) -> None:
    """List the revisions of a Deployment (from its ReplicaSets).

    [bold]Examples:[/bold]

      navctl rollout history deploy/web

      navctl rollout history deploy/web --revision=2
    """
    _rollout("history", args or [], namespace, revision=revision)


@app.command("undo")
def rollout_undo_cmd(
    args: RolloutArgs = None,
    namespace: Namespace = None,
    to_revision: Annotated[
        int, typer.Option("--to-revision", help="The revision to go back to (0: the previous).")
    ] = 0,
    dry_run: DryRun = None,
) -> None:
    """Roll a Deployment back to an earlier revision's pod template.

    [bold]Examples:[/bold]

      navctl rollout undo deploy/web

      navctl rollout undo deploy/web --to-revision=2
    """
    _rollout("undo", args or [], namespace, to_revision=to_revision, dry_run=dry_run_mode(dry_run))


@app.command("restart")
def rollout_restart_cmd(args: RolloutArgs = None, namespace: Namespace = None) -> None:
    """Restart the pods of a Deployment, DaemonSet or StatefulSet by a new rollout.

    [bold]Example:[/bold]

      navctl rollout restart deploy/web
    """
    _rollout("restart", args or [], namespace)


@app.command("pause")
def rollout_pause_cmd(args: RolloutArgs = None, namespace: Namespace = None) -> None:
    """Pause a Deployment's rollout (template changes wait for resume).

    [bold]Example:[/bold]

      navctl rollout pause deploy/web
    """
    _rollout("pause", args or [], namespace)


@app.command("resume")
def rollout_resume_cmd(args: RolloutArgs = None, namespace: Namespace = None) -> None:
    """Resume a paused Deployment's rollout.

    [bold]Example:[/bold]

      navctl rollout resume deploy/web
    """
    _rollout("resume", args or [], namespace)


# --- implementation --------------------------------------------------------------------------

REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
POD_TEMPLATE_HASH = "pod-template-hash"
_SKIP_ON_ROLLBACK = {
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
}


class RolloutError(Exception):
    """The rollout cannot finish (progress deadline exceeded, revision changed)."""


# --- status messages (pure) -------------------------------------------------------------


def _condition(status: dict[str, Any], ctype: str) -> dict[str, Any] | None:
    for cond in status.get("conditions") or []:
        if cond.get("type") == ctype:
            return dict(cond)
    return None


def deployment_status(obj: dict[str, Any], revision: int = 0) -> tuple[str, bool]:
    """(kubectl's progress line, done) for a Deployment; ``RolloutError`` if it failed."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    name = meta.get("name", "")
    if revision > 0:
        current = int((meta.get("annotations") or {}).get(REVISION) or 0)
        if current != revision:
            raise RolloutError(
                f"desired revision ({revision}) is different from the running revision ({current})"
            )
    if meta.get("generation", 0) <= status.get("observedGeneration", 0):
        progressing = _condition(status, "Progressing")
        if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
            raise RolloutError(f'deployment "{name}" exceeded its progress deadline')
        replicas = spec.get("replicas")
        updated = status.get("updatedReplicas", 0)
        if replicas is not None and updated < replicas:
            return (
                f'Waiting for deployment "{name}" rollout to finish: {updated} out of '
                f"{replicas} new replicas have been updated...\n",
                False,
            )
        total = status.get("replicas", 0)
        if total > updated:
            return (
                f'Waiting for deployment "{name}" rollout to finish: {total - updated} old '
                "replicas are pending termination...\n",
                False,
            )
        available = status.get("availableReplicas", 0)
        if available < updated:
            return (
                f'Waiting for deployment "{name}" rollout to finish: {available} of {updated} '
                "updated replicas are available...\n",
                False,
            )
        return f'deployment "{name}" successfully rolled out\n', True
    return "Waiting for deployment spec update to be observed...\n", False


def daemonset_status(obj: dict[str, Any]) -> tuple[str, bool]:
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    name = meta.get("name", "")
    strategy = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate")
    if strategy != "RollingUpdate":
        raise RolloutError("rollout status is only available for RollingUpdate strategy type")
    if meta.get("generation", 0) <= status.get("observedGeneration", 0):
        desired = status.get("desiredNumberScheduled", 0)
        updated = status.get("updatedNumberScheduled", 0)
        if updated < desired:
            return (
                f'Waiting for daemon set "{name}" rollout to finish: {updated} out of {desired} '
                "new pods have been updated...\n",
                False,
            )
        available = status.get("numberAvailable", 0)
        if available < desired:
            return (
                f'Waiting for daemon set "{name}" rollout to finish: {available} of {desired} '
                "updated pods are available...\n",
                False,
            )
        return f'daemon set "{name}" successfully rolled out\n', True
    return "Waiting for daemon set spec update to be observed...\n", False


def statefulset_status(obj: dict[str, Any]) -> tuple[str, bool]:
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        raise RolloutError("rollout status is only available for RollingUpdate strategy type")
    observed = status.get("observedGeneration", 0)
    if not observed or meta.get("generation", 0) > observed:
        return "Waiting for statefulset spec update to be observed...\n", False
    replicas = spec.get("replicas")
    ready = status.get("readyReplicas", 0)
    if replicas is not None and ready < replicas:
        return f"Waiting for {replicas - ready} pods to be ready...\n", False
    rolling = strategy.get("rollingUpdate")
    updated = status.get("updatedReplicas", 0)
    if rolling is not None:
        partition = rolling.get("partition")
        if replicas is not None and partition is not None and updated < replicas - partition:
            return (
                "Waiting for partitioned roll out to finish: "
                f"{updated} out of {replicas - partition} new pods have been updated...\n",
                False,
            )
        return f"partitioned roll out complete: {updated} new pods have been updated...\n", True
    if status.get("updateRevision") != status.get("currentRevision"):
        return (
            f"waiting for statefulset rolling update to complete {updated} pods at revision "
            f"{status.get('updateRevision')}...\n",
            False,
        )
    return (
        f"statefulset rolling update complete {status.get('currentReplicas', 0)} pods at "
        f"revision {status.get('currentRevision')}...\n",
        True,
    )


def rollout_message(kind: str, obj: dict[str, Any], revision: int = 0) -> tuple[str, bool]:
    if kind == "Deployment":
        return deployment_status(obj, revision)
    if kind == "DaemonSet":
        return daemonset_status(obj)
    if kind == "StatefulSet":
        return statefulset_status(obj)
    raise CliError(f'error: no status viewer has been implemented for "{kind}"')


# --- revisions (pure) ----------------------------------------------------------------------


def owned_by(obj: dict[str, Any], uid: str) -> bool:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("uid") == uid and ref.get("controller"):
            return True
    return False


def revision_of(obj: dict[str, Any]) -> int:
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION)
    try:
        return int(value) if value else 0
    except ValueError:
        return 0


def revisions(replicasets: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Revision number -> ReplicaSet (the revision annotation is the truth)."""
    return {revision_of(rs): rs for rs in replicasets if revision_of(rs) > 0}


def history_text(replicasets: list[dict[str, Any]]) -> str:
    """kubectl's ``REVISION  CHANGE-CAUSE`` table (or "No rollout history found.")."""
    by_revision = revisions(replicasets)
    if not by_revision:
        return "No rollout history found.\n"
    writer = TabWriter(minwidth=0, padding=2)
    writer.write("REVISION\tCHANGE-CAUSE\n")
    for number in sorted(by_revision):
        annotations = (by_revision[number].get("metadata") or {}).get("annotations") or {}
        writer.write(f"{number}\t{annotations.get(CHANGE_CAUSE) or '<none>'}\n")
    return writer.flush() + "\n"


def _strip_hash(template: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(template)
    labels = (result.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(POD_TEMPLATE_HASH, None)
    return result


def rollback_patch(
    deployment: dict[str, Any], replicasets: list[dict[str, Any]], to_revision: int
) -> tuple[list[dict[str, Any]] | None, int]:
    """(JSON patch restoring ``to_revision`` (0: the previous), the revision chosen).

    None as the patch means the template already matches that revision.
    """
    name = (deployment.get("metadata") or {}).get("name", "")
    by_revision = revisions(replicasets)
    if not by_revision:
        raise RolloutError(f'no rollout history found for deployment "{name}"')
    if to_revision == 0:
        ordered = sorted(by_revision)
        if len(ordered) < 2:
            raise RolloutError(f'no revision found for deployment "{name}"')
        to_revision = ordered[-2]
    if to_revision not in by_revision:
        raise RolloutError(f"unable to find specified revision {to_revision} in history")
    rs = by_revision[to_revision]
    template = _strip_hash((rs.get("spec") or {}).get("template") or {})
    current = _strip_hash((deployment.get("spec") or {}).get("template") or {})
    if template == current:
        return None, to_revision
    own = (deployment.get("metadata") or {}).get("annotations") or {}
    annotations = {k: v for k, v in own.items() if k in _SKIP_ON_ROLLBACK}
    for key, value in ((rs.get("metadata") or {}).get("annotations") or {}).items():
        if key not in _SKIP_ON_ROLLBACK:
            annotations[key] = value
    patch = [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]
    return patch, to_revision


def template_text(template: dict[str, Any]) -> str:
    """A short ``Pod Template:`` block, as ``rollout history --revision`` prints it."""
    meta = template.get("metadata") or {}
    spec = template.get("spec") or {}
    lines = ["Pod Template:"]
    labels = meta.get("labels") or {}
    label_text = "\n\t".join(f"{k}={labels[k]}" for k in sorted(labels)) or "<none>"
    lines.append(f"  Labels:\t{label_text}")
    annotations = meta.get("annotations") or {}
    if annotations:
        text = "\n\t".join(f"{k}: {annotations[k]}" for k in sorted(annotations))
        lines.append(f"  Annotations:\t{text}")
    lines.append("  Containers:")
    for container in spec.get("containers") or []:
        lines.append(f"   {container.get('name')}:")
        lines.append(f"    Image:\t{container.get('image', '')}")
        ports = container.get("ports") or []
        port_text = ", ".join(f"{p['containerPort']}/{p.get('protocol', 'TCP')}" for p in ports)
        lines.append(f"    Port:\t{port_text or '<none>'}")
        env = container.get("env") or []
        lines.append(f"    Environment:\t{'<none>' if not env else ''}")
        for var in env:
            lines.append(f"      {var.get('name')}:\t{var.get('value', '')}")
    writer = TabWriter(minwidth=0, padding=1)
    writer.write("\n".join(lines) + "\n")
    return writer.flush()


# --- commands ----------------------------------------------------------------------------


async def _one_target(session: Session, args: list[str], verb: str) -> tuple[ResourceType, str]:
    targets = await parse_targets(session.resolver, args, verb=verb)
    if len(targets) != 1 or len(targets[0].names) != 1:
        fail(f"{verb} needs exactly one object: TYPE NAME or TYPE/NAME, e.g. deployment/web")
    return targets[0].resource, targets[0].names[0]


async def _replicasets_of(session: Session, deployment: dict[str, Any]) -> list[dict[str, Any]]:

    meta = deployment.get("metadata") or {}
    listed = await session.client.list_raw(resource("apps", "replicasets"), meta.get("namespace"))
    return [rs for rs in listed.get("items") or [] if owned_by(rs, meta.get("uid", ""))]


async def rollout(
    session: Session,
    action: str,
    args: list[str],
    *,
    namespace: str | None = None,
    watch: bool = True,
    timeout: str = "0s",
    revision: int = 0,
    to_revision: int = 0,
    dry_run: str = "",
) -> int:
    """Run ``navctl rollout <action>``."""
    rtype, name = await _one_target(session, args, f"rollout {action}")
    ns = session.namespace(namespace) if rtype.namespaced else None
    label = f"{kind_prefix(rtype)}/{name}"
    client = session.client
    try:
        if action == "status":
            return await _status(session, rtype, name, ns, watch, timeout, revision)
        obj = await client.get_raw(rtype, name, ns)
        if action == "history":
            if rtype.kind != "Deployment":
                fail(f'no history viewer has been implemented for "{rtype.kind}"')
            replicasets = await _replicasets_of(session, obj)
            if revision:
                chosen = revisions(replicasets).get(revision)
                if chosen is None:
                    fail("unable to find the specified revision")
                template = (chosen.get("spec") or {}).get("template") or {}
                out(f"{label} with revision #{revision}\n{template_text(_strip_hash(template))}")
                return 0
            out(f"{label} \n{history_text(replicasets)}")
            return 0
        if action == "undo":
            if rtype.kind != "Deployment":
                fail(f'no rollbacker has been implemented for "{rtype.kind}"')
            if (obj.get("spec") or {}).get("paused"):
                fail(
                    "you cannot rollback a paused deployment; resume it first with "
                    f"'navctl rollout resume {label}' and try again"
                )
            patch, chosen_revision = rollback_patch(
                obj, await _replicasets_of(session, obj), to_revision
            )
            if patch is None:
                out(
                    f"{label} skipped rollback (current template already matches revision {chosen_revision})\n"
                )
                return 0
            if dry_run != "client":
                await client.patch_raw(
                    rtype, name, patch, ns, patch_type="json", dry_run=dry_run == "server"
                )
            out(f"{label} rolled back\n")
            return 0
        if action == "restart":
            return await _restart(session, rtype, obj, label)
        if action in ("pause", "resume"):
            return await _pause(session, rtype, obj, label, action == "pause")
    except RolloutError as failure:
        fail(str(failure))
    fail(f"unknown rollout action {action}")


async def _status(
    session: Session,
    rtype: ResourceType,
    name: str,
    ns: str | None,
    watch: bool,
    timeout: str,
    revision: int,
) -> int:
    if rtype.kind not in ("Deployment", "DaemonSet", "StatefulSet"):
        fail(f'no status viewer has been implemented for "{rtype.kind}"')
    seconds = duration_flag(timeout)
    await session.client.get_raw(rtype, name, ns)  # NotFound, in kubectl's words, first.
    deleted = False

    def done(obj: dict[str, Any] | None) -> bool:
        nonlocal deleted
        if obj is None:
            deleted = True
            return True
        message, finished = rollout_message(rtype.kind, obj, revision)
        out(message)
        return finished or not watch

    try:
        await watch_until(session, rtype, name, ns, done, seconds or None)
    except RolloutError as failure:
        fail(str(failure))
    except TimeoutError:
        raise CliError("error: timed out waiting for the condition") from None
    if deleted:
        fail("object has been deleted")
    return 0


async def _restart(session: Session, rtype: ResourceType, obj: dict[str, Any], label: str) -> int:
    if rtype.kind not in ("Deployment", "DaemonSet", "StatefulSet"):
        fail(f'restarting is not supported for "{rtype.kind}"')
    spec = obj.get("spec") or {}
    meta = obj.get("metadata") or {}
    if spec.get("paused"):
        fail(
            f'{rtype.qualified} "{meta.get("name")}" can\'t restart paused deployment '
            "(run rollout resume first)"
        )
    stamp = datetime.now(UTC).astimezone().isoformat(timespec="seconds").replace("+00:00", "Z")
    patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
    await session.client.patch_raw(rtype, meta.get("name", ""), patch, meta.get("namespace"))
    out(f"{label} restarted\n")
    return 0


async def _pause(
    session: Session, rtype: ResourceType, obj: dict[str, Any], label: str, pause: bool
) -> int:
    if rtype.kind != "Deployment":
        fail(f'{"pausing" if pause else "resuming"} is not supported for "{rtype.kind}"')
    meta = obj.get("metadata") or {}
    paused = bool((obj.get("spec") or {}).get("paused"))
    if paused == pause:
        state = "already paused" if pause else "not paused"
        fail(f'{rtype.qualified} "{meta.get("name")}" is {state}')
    patch = {"spec": {"paused": True if pause else None}}
    await session.client.patch_raw(rtype, meta.get("name", ""), patch, meta.get("namespace"))
    out(f"{label} {'paused' if pause else 'resumed'}\n")
    return 0
