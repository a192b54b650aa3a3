"""``cordon``, ``uncordon`` and ``drain``.

drain follows kubectl's: cordon the node; list its pods; run each through kubectl's
filters, in its order: a running pod managed by a DaemonSet is refused (unless
``--ignore-daemonsets``, which leaves it running; if its DaemonSet is gone, the pod is an
orphan that ``--force`` deletes), mirror pods are left alone, pods keeping data in an
``emptyDir`` are refused (unless ``--delete-emptydir-data``), pods managed by nothing are
refused (unless ``--force``); finished pods pass every filter. Any refusal stops the drain
before anything is evicted. Then evict every pod through ``pods/<name>/eviction`` (a 429
from a PodDisruptionBudget is retried every few seconds until ``--timeout``), and wait
until each is really gone.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from cli.navctl.console import err, out
from cli.navctl.errors import CliError, api_error_line, fail
from cli.navctl.options import (
    WEEK,
    DryRun,
    Selector,
    dry_run_mode,
    dry_run_suffix,
    duration_flag,
    verb_app,
)
from cli.navctl.resources import resource
from cli.navctl.session import Session, run
from cli.navctl.waiting import wait_gone

app = verb_app()


@app.command("cordon")
def cordon_cmd(
    nodes: Annotated[list[str] | None, typer.Argument(help="Node names.")] = None,
    selector: Selector = None,
    dry_run: DryRun = None,
) -> None:
    """Mark nodes unschedulable.

    [bold]Example:[/bold]

      navctl cordon node-1
    """

    async def go(session: Session) -> int:
        return await cordon(
            session, nodes or [], True, selector=selector, dry_run=dry_run_mode(dry_run)
        )

    run(go)


@app.command("uncordon")
def uncordon_cmd(
    nodes: Annotated[list[str] | None, typer.Argument(help="Node names.")] = None,
    selector: Selector = None,
    dry_run: DryRun = None,
) -> None:
    """Mark nodes schedulable again.

    [bold]Example:[/bold]

      navctl uncordon node-1
    """

    async def go(session: Session) -> int:
        return await cordon(
            session, nodes or [], False, selector=selector, dry_run=dry_run_mode(dry_run)
        )

    run(go)


@app.command("drain")
def drain_cmd(
    nodes: Annotated[list[str] | None, typer.Argument(help="Node names.")] = None,
    selector: Selector = None,
    ignore_daemonsets: Annotated[
        bool, typer.Option("--ignore-daemonsets", help="Leave DaemonSet pods in place.")
    ] = False,
    delete_emptydir_data: Annotated[
        bool,
        typer.Option("--delete-emptydir-data", help="Evict pods with emptyDir volumes too."),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Evict pods no controller manages too.")
    ] = False,
    grace_period: Annotated[
        int, typer.Option("--grace-period", help="Seconds each pod gets; -1: its own.")
    ] = -1,
    timeout: Annotated[
        str, typer.Option("--timeout", help="Give up after this long, e.g. 5m; 0: never.")
    ] = "0s",
    pod_selector: Annotated[
        str | None, typer.Option("--pod-selector", help="Only evict pods matching this.")
    ] = None,
    disable_eviction: Annotated[
        bool, typer.Option("--disable-eviction", help="Delete pods instead of evicting them.")
    ] = False,
    dry_run: DryRun = None,
) -> None:
    """Cordon nodes, then evict their pods (honouring PodDisruptionBudgets).

    Refuses to go on if a pod is managed by a DaemonSet (without --ignore-daemonsets),
    managed by nothing (without --force), or uses emptyDir (without
    --delete-emptydir-data); waits until the evicted pods are gone.

    [bold]Examples:[/bold]

      navctl drain node-1 --ignore-daemonsets

      navctl drain node-1 --ignore-daemonsets --delete-emptydir-data --force --timeout=2m
    """

    async def go(session: Session) -> int:
        opts = DrainOptions(
            selector=selector,
            ignore_daemonsets=ignore_daemonsets,
            delete_emptydir_data=delete_emptydir_data,
            force=force,
            grace_period=grace_period,
            timeout=timeout,
            pod_selector=pod_selector,
            disable_eviction=disable_eviction,
            dry_run=dry_run_mode(dry_run),
        )
        return await drain(session, nodes or [], opts)

    run(go)


# --- implementation --------------------------------------------------------------------------

MIRROR = "kubernetes.io/config.mirror"
EVICTION_RETRY = 5.0


async def _nodes(session: Session, names: list[str], selector: str | None) -> list[dict[str, Any]]:
    if names and selector:
        fail("cannot specify both a node name and a --selector option")
    if names:
        return [await session.client.get_raw(resource("", "nodes"), name) for name in names]
    if selector:
        listed = await session.client.list_raw(resource("", "nodes"), label_selector=selector)
        return list(listed.get("items") or [])
    fail("USAGE: cordon NODE [flags]")


async def set_unschedulable(
    session: Session, node: dict[str, Any], unschedulable: bool, dry_run: str = ""
) -> bool:
    """Cordon or uncordon; False when the node was already that way."""
    spec = node.get("spec") or {}
    if bool(spec.get("unschedulable")) == unschedulable:
        return False
    if dry_run != "client":
        patch = {"spec": {"unschedulable": True if unschedulable else None}}
        await session.client.patch_raw(
            resource("", "nodes"), node["metadata"]["name"], patch, dry_run=dry_run == "server"
        )
    return True


async def cordon(
    session: Session, names: list[str], unschedulable: bool, *, selector: str | None = None,
    dry_run: str = "",
) -> int:  # fmt: skip
    """Run ``navctl cordon`` / ``navctl uncordon``."""
    verb = "cordoned" if unschedulable else "uncordoned"
    suffix = dry_run_suffix(dry_run)
    for node in await _nodes(session, names, selector):
        changed = await set_unschedulable(session, node, unschedulable, dry_run)
        name = node["metadata"]["name"]
        out(f"node/{name} {'' if changed else 'already '}{verb}{suffix}\n")
    return 0


@dataclass
class DrainOptions:
    selector: str | None = None
    ignore_daemonsets: bool = False
    delete_emptydir_data: bool = False
    force: bool = False
    grace_period: int = -1
    timeout: str = "0s"
    pod_selector: str | None = None
    disable_eviction: bool = False
    dry_run: str = ""


@dataclass
class DrainPlan:
    """What a drain does with a node's pods: delete these, leave those, or refuse.

    ``warnings`` and ``errors`` are ``"<message>: ns/pod, ns/pod"`` entries, one per
    distinct message, in the order the pods that first earned each message were listed.
    """

    delete: list[dict[str, Any]]
    warnings: list[str]
    errors: list[str]


@dataclass(frozen=True)
class DaemonSetLookup:
    """What reading a pod's DaemonSet gave: nothing wrong, or the API error's message."""

    error: str = ""
    not_found: bool = False


DaemonSetKey = tuple[str, str]
"""(namespace, name) of a DaemonSet."""


@dataclass(frozen=True)
class _Verdict:
    """One filter's say about a pod (kubectl's PodDeleteStatus)."""

    delete: bool
    warning: str = ""
    error: str = ""


_OKAY = _Verdict(True)
_SKIP = _Verdict(False)
DAEMONSET_FATAL = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
DAEMONSET_WARNING = "ignoring DaemonSet-managed Pods"
LOCAL_STORAGE_FATAL = "Pods with local storage (use --delete-emptydir-data to override)"
LOCAL_STORAGE_WARNING = "deleting Pods with local storage"
UNMANAGED_FATAL = "cannot delete Pods that declare no controller (use --force to override)"
UNMANAGED_WARNING = "deleting Pods that declare no controller"


def _controller(pod: dict[str, Any]) -> dict[str, Any] | None:
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return dict(ref)
    return None


def _key(pod: dict[str, Any]) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"


def _finished(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def daemonset_of(pod: dict[str, Any]) -> DaemonSetKey | None:
    """The DaemonSet drain must look up for ``pod``: it is running and one controls it."""
    controller = _controller(pod)
    if controller is None or controller.get("kind") != "DaemonSet" or _finished(pod):
        return None
    return (str((pod.get("metadata") or {}).get("namespace") or ""), str(controller.get("name")))


def _daemonset_filter(
    pod: dict[str, Any], opts: DrainOptions, daemonsets: Mapping[DaemonSetKey, DaemonSetLookup]
) -> _Verdict:
    key = daemonset_of(pod)
    if key is None:
        return _OKAY
    lookup = daemonsets.get(key, DaemonSetLookup())
    if lookup.error:
        # A pod whose DaemonSet is gone is an orphan: --force deletes it.
        if lookup.not_found and opts.force:
            return _Verdict(True, warning=lookup.error)
        return _Verdict(False, error=lookup.error)
    if not opts.ignore_daemonsets:
        return _Verdict(False, error=DAEMONSET_FATAL)
    return _Verdict(False, warning=DAEMONSET_WARNING)


def _mirror_filter(pod: dict[str, Any]) -> _Verdict:
    # Static pods belong to the node's kubelet, not to the API.
    return _SKIP if MIRROR in ((pod.get("metadata") or {}).get("annotations") or {}) else _OKAY


def _local_storage_filter(pod: dict[str, Any], opts: DrainOptions) -> _Verdict:
    volumes = (pod.get("spec") or {}).get("volumes") or []
    if not any(v.get("emptyDir") is not None for v in volumes) or _finished(pod):
        return _OKAY
    if not opts.delete_emptydir_data:
        return _Verdict(False, error=LOCAL_STORAGE_FATAL)
    return _Verdict(True, warning=LOCAL_STORAGE_WARNING)


def _unreplicated_filter(pod: dict[str, Any], opts: DrainOptions) -> _Verdict:
    if _finished(pod) or _controller(pod) is not None:
        return _OKAY
    if opts.force:
        return _Verdict(True, warning=UNMANAGED_WARNING)
    return _Verdict(False, error=UNMANAGED_FATAL)


def _verdict(
    pod: dict[str, Any], opts: DrainOptions, daemonsets: Mapping[DaemonSetKey, DaemonSetLookup]
) -> _Verdict:
    """The filters in kubectl's order; the first that keeps the pod has the last word."""
    verdict = _daemonset_filter(pod, opts, daemonsets)
    if verdict.delete:
        verdict = _mirror_filter(pod)
    if verdict.delete:
        verdict = _local_storage_filter(pod, opts)
    if verdict.delete:
        verdict = _unreplicated_filter(pod, opts)
    return verdict


def _grouped(found: list[tuple[str, str]], prefix: str = "") -> list[str]:
    """``message: ns/a, ns/b`` per distinct message, in first-seen order."""
    pods: dict[str, list[str]] = {}
    for message, key in found:
        pods.setdefault(message, []).append(key)
    lines = []
    for message, keys in pods.items():
        said = message if not prefix or message.lower().startswith(prefix) else prefix + message
        lines.append(f"{said}: {', '.join(keys)}")
    return lines


def plan_drain(
    pods: list[dict[str, Any]],
    opts: DrainOptions,
    daemonsets: Mapping[DaemonSetKey, DaemonSetLookup] | None = None,
) -> DrainPlan:
    """kubectl's pod filters, in its order, with its messages.

    Each pod goes through the filters (DaemonSet, mirror pod, local storage, no
    controller) until one keeps it; only the last filter's warning or error counts
    (as in kubectl, where a later filter's "okay" drops an earlier warning).
    ``daemonsets`` holds the lookups :func:`daemonset_of` asked for; a DaemonSet
    missing from it counts as existing.
    """
    known = daemonsets or {}
    delete: list[dict[str, Any]] = []
    warnings: list[tuple[str, str]] = []
    errors: list[tuple[str, str]] = []
    for pod in pods:
        verdict = _verdict(pod, opts, known)
        if verdict.delete:
            delete.append(pod)
        if verdict.error:
            errors.append((verdict.error, _key(pod)))
        elif verdict.warning:
            warnings.append((verdict.warning, _key(pod)))
    return DrainPlan(delete, _grouped(warnings), _grouped(errors, prefix="cannot delete "))


def aggregate(messages: list[str]) -> str:
    """Several errors said as one, as apimachinery's aggregate error says them."""
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else f"[{', '.join(unique)}]"


async def lookup_daemonsets(
    session: Session, pods: list[dict[str, Any]]
) -> dict[DaemonSetKey, DaemonSetLookup]:
    """Read the DaemonSet of every running DaemonSet-managed pod (each once)."""
    from apiclient import errors

    found: dict[DaemonSetKey, DaemonSetLookup] = {}
    for pod in pods:
        key = daemonset_of(pod)
        if key is None or key in found:
            continue
        try:
            await session.client.get_raw(resource("apps", "daemonsets"), key[1], key[0])
            found[key] = DaemonSetLookup()
        except errors.ApiError as error:
            found[key] = DaemonSetLookup(
                error.message, not_found=isinstance(error, errors.NotFoundError)
            )
    return found


async def _evict(
    session: Session, pod: dict[str, Any], opts: DrainOptions, deadline: float
) -> None:
    from apiclient import errors

    meta = pod.get("metadata") or {}
    grace = opts.grace_period if opts.grace_period >= 0 else None
    while True:
        try:
            if opts.disable_eviction:
                await session.client.delete_raw(
                    resource("", "pods"),
                    meta["name"],
                    meta["namespace"],
                    grace_period_seconds=grace,
                )
            else:
                await session.client.evict(
                    meta["namespace"], meta["name"], grace_period_seconds=grace
                )
            return
        except errors.NotFoundError:
            return
        except errors.TooManyRequestsError as error:
            if time.monotonic() + EVICTION_RETRY > deadline:
                raise CliError(
                    f'error: unable to drain node: error when evicting pods/"{meta["name"]}" -n '
                    f'"{meta["namespace"]}": global timeout reached'
                ) from error
            err(
                f'error when evicting pods/"{meta["name"]}" -n "{meta["namespace"]}" '
                f"(will retry after 5s): {error.message}"
            )
            await asyncio.sleep(EVICTION_RETRY)


async def drain(session: Session, names: list[str], opts: DrainOptions) -> int:
    """Run ``navctl drain``."""
    timeout = duration_flag(opts.timeout) or WEEK
    deadline = time.monotonic() + timeout
    nodes = await _nodes(session, names, opts.selector)
    suffix = dry_run_suffix(opts.dry_run)
    for node in nodes:
        name = node["metadata"]["name"]
        changed = await set_unschedulable(session, node, True, opts.dry_run)
        out(f"node/{name} {'' if changed else 'already '}cordoned{suffix}\n")
        selector = f"spec.nodeName={name}"
        listed = await session.client.list_raw(
            resource("", "pods"),
            all_namespaces=True,
            field_selector=selector,
            label_selector=opts.pod_selector,
        )
        pods = list(listed.get("items") or [])
        plan = plan_drain(pods, opts, await lookup_daemonsets(session, pods))
        if plan.errors:
            fail(f'unable to drain node "{name}" due to error: {aggregate(plan.errors)}')
        if plan.warnings:
            err(f"Warning: {'; '.join(plan.warnings)}")
        if opts.dry_run:
            for pod in plan.delete:
                out(f"evicting pod {_key(pod)}{suffix}\n")
            out(f"node/{name} drained{suffix}\n")
            continue
        for pod in plan.delete:
            out(f"evicting pod {_key(pod)}\n")
        await asyncio.gather(*(_evict(session, pod, opts, deadline) for pod in plan.delete))
        remaining = max(deadline - time.monotonic(), 0.0)
        gone = [
            (
                resource("", "pods"),
                p["metadata"]["name"],
                p["metadata"]["namespace"],
                p["metadata"].get("uid", ""),
            )
            for p in plan.delete
        ]
        left = await wait_gone(session, gone, remaining)
        for pod in plan.delete:
            label = f"pods/{pod['metadata']['name']}"
            if label not in left:
                out(f"pod/{pod['metadata']['name']} evicted\n")
        if left:
            fail(
                f'unable to drain node "{name}" due to error: global timeout reached: '
                f"{opts.timeout} (still there: {', '.join(left)})"
            )
        out(f"node/{name} drained\n")
    return 0


__all__ = [
    "DaemonSetLookup",
    "DrainOptions",
    "DrainPlan",
    "aggregate",
    "api_error_line",
    "cordon",
    "daemonset_of",
    "drain",
    "lookup_daemonsets",
    "plan_drain",
]
