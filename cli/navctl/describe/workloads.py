"""Workloads: Deployment, ReplicaSet, DaemonSet, StatefulSet and Job pages.

Each shows its pod template (the blocks of ``pods``); a Deployment lists the replica
sets it owns, the others count their pods by phase.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cli.navctl.describe.helpers import (
    EventSearch,
    Page,
    PrefixWriter,
    annotations_multiline,
    controller_of,
    describe_events,
    format_selector,
    labels_multiline,
    list_items,
    rfc1123z,
)
from cli.navctl.describe.pods import describe_pod_template
from cli.navctl.printing import format_labels

if TYPE_CHECKING:
    from cli.navctl.session import Session

POD_TEMPLATE_HASH = "pod-template-hash"


def _strip_hash(template: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(template or {})
    labels = (result.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(POD_TEMPLATE_HASH, None)
    return result


def _rs_list(replicasets: list[dict[str, Any]]) -> str:
    parts = [
        f"{(rs.get('metadata') or {}).get('name')} ({(rs.get('status') or {}).get('replicas', 0)}/"
        f"{(rs.get('spec') or {}).get('replicas', 0)} replicas created)"
        for rs in replicasets
    ]
    return ", ".join(parts) or "<none>"


def describe_deployment(
    d: dict[str, Any], replicasets: list[dict[str, Any]] | None, events: list[dict[str, Any]] | None
) -> str:
    meta = d.get("metadata") or {}
    spec = d.get("spec") or {}
    status = d.get("status") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    w.write(0, f"CreationTimestamp:\t{rfc1123z(meta.get('creationTimestamp'))}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"Selector:\t{format_selector(spec.get('selector'))}\n")
    w.write(
        0,
        f"Replicas:\t{spec.get('replicas', 0)} desired | {status.get('updatedReplicas', 0)} "
        f"updated | {status.get('replicas', 0)} total | {status.get('availableReplicas', 0)} "
        f"available | {status.get('unavailableReplicas', 0)} unavailable\n",
    )
    strategy = spec.get("strategy") or {}
    w.write(0, f"StrategyType:\t{strategy.get('type', '')}\n")
    w.write(0, f"MinReadySeconds:\t{spec.get('minReadySeconds', 0)}\n")
    rolling = strategy.get("rollingUpdate")
    if rolling is not None:
        w.write(
            0,
            f"RollingUpdateStrategy:\t{rolling.get('maxUnavailable', '')} max unavailable, "
            f"{rolling.get('maxSurge', '')} max surge\n",
        )
    describe_pod_template(w, spec.get("template"))
    conditions = status.get("conditions") or []
    if conditions:
        w.write(0, "Conditions:\n  Type\tStatus\tReason\n")
        w.write(1, "----\t------\t------\n")
        for cond in conditions:
            w.write(1, f"{cond.get('type')} \t{cond.get('status')}\t{cond.get('reason', '')}\n")
    if replicasets:
        # kubectl prints these lines only when the deployment owns replica sets.
        template = _strip_hash(spec.get("template") or {})
        ordered = sorted(
            replicasets, key=lambda rs: (rs.get("metadata") or {}).get("creationTimestamp", "")
        )
        new = next(
            (
                rs
                for rs in ordered
                if _strip_hash((rs.get("spec") or {}).get("template") or {}) == template
            ),
            None,
        )
        old = [rs for rs in replicasets if rs is not new]
        w.write(0, f"OldReplicaSets:\t{_rs_list(old)}\n")
        w.write(0, f"NewReplicaSet:\t{_rs_list([new] if new is not None else [])}\n")
    describe_events(w, events)
    return w.render()


def _pod_counts(pods: list[dict[str, Any]], uid: str) -> str:
    counts = {"Running": 0, "Pending": 0, "Succeeded": 0, "Failed": 0}
    for pod in pods:
        refs = (pod.get("metadata") or {}).get("ownerReferences") or []
        if not any(r.get("controller") and r.get("uid") == uid for r in refs):
            continue
        phase = (pod.get("status") or {}).get("phase", "")
        if phase in counts:
            counts[phase] += 1
    return (
        f"{counts['Running']} Running / {counts['Pending']} Waiting / "
        f"{counts['Succeeded']} Succeeded / {counts['Failed']} Failed"
    )


def describe_replicaset(
    rs: dict[str, Any], pods: list[dict[str, Any]], events: list[dict[str, Any]] | None
) -> str:
    meta = rs.get("metadata") or {}
    spec = rs.get("spec") or {}
    status = rs.get("status") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    w.write(0, f"Selector:\t{format_selector(spec.get('selector'))}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    controller = controller_of(meta)
    if controller:
        w.write(0, f"Controlled By:\t{controller}\n")
    w.write(
        0, f"Replicas:\t{status.get('replicas', 0)} current / {spec.get('replicas', 0)} desired\n"
    )
    w.write(0, f"Pods Status:\t{_pod_counts(pods, meta.get('uid', ''))}\n")
    describe_pod_template(w, spec.get("template"))
    conditions = status.get("conditions") or []
    if conditions:
        w.write(0, "Conditions:\n  Type\tStatus\tReason\n")
        w.write(1, "----\t------\t------\n")
        for cond in conditions:
            w.write(1, f"{cond.get('type')} \t{cond.get('status')}\t{cond.get('reason', '')}\n")
    describe_events(w, events)
    return w.render()


def describe_daemonset(
    ds: dict[str, Any], pods: list[dict[str, Any]], events: list[dict[str, Any]] | None
) -> str:
    meta = ds.get("metadata") or {}
    spec = ds.get("spec") or {}
    status = ds.get("status") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    w.write(0, f"Selector:\t{format_selector(spec.get('selector'))}\n")
    node_selector = ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector") or {}
    w.write(0, f"Node-Selector:\t{format_labels(node_selector)}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    for title, key in (
        ("Desired Number of Nodes Scheduled", "desiredNumberScheduled"),
        ("Current Number of Nodes Scheduled", "currentNumberScheduled"),
        ("Number of Nodes Scheduled with Up-to-date Pods", "updatedNumberScheduled"),
        ("Number of Nodes Scheduled with Available Pods", "numberAvailable"),
        ("Number of Nodes Misscheduled", "numberMisscheduled"),
    ):
        w.write(0, f"{title}: {status.get(key, 0)}\n")
    w.write(0, f"Pods Status:\t{_pod_counts(pods, meta.get('uid', ''))}\n")
    describe_pod_template(w, spec.get("template"))
    describe_events(w, events)
    return w.render()


def describe_statefulset(
    sts: dict[str, Any], pods: list[dict[str, Any]], events: list[dict[str, Any]] | None
) -> str:
    meta = sts.get("metadata") or {}
    spec = sts.get("spec") or {}
    status = sts.get("status") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    w.write(0, f"CreationTimestamp:\t{rfc1123z(meta.get('creationTimestamp'))}\n")
    w.write(0, f"Selector:\t{format_selector(spec.get('selector'))}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(
        0, f"Replicas:\t{spec.get('replicas', 0)} desired | {status.get('replicas', 0)} total\n"
    )
    strategy = spec.get("updateStrategy") or {}
    w.write(0, f"Update Strategy:\t{strategy.get('type', '')}\n")
    partition = (strategy.get("rollingUpdate") or {}).get("partition")
    if partition is not None:
        w.write(1, f"Partition:\t{partition}\n")
    w.write(0, f"Pods Status:\t{_pod_counts(pods, meta.get('uid', ''))}\n")
    describe_pod_template(w, spec.get("template"))
    claims = spec.get("volumeClaimTemplates") or []
    if not claims:
        w.write(0, "Volume Claims:\t<none>\n")
    else:
        w.write(0, "Volume Claims:\n")
        for claim in claims:
            cmeta = claim.get("metadata") or {}
            cspec = claim.get("spec") or {}
            w.write(1, f"Name:\t{cmeta.get('name', '')}\n")
            w.write(1, f"StorageClass:\t{cspec.get('storageClassName', '')}\n")
            labels_multiline(w, "Labels", cmeta.get("labels"), "  ")
            labels_multiline(w, "Annotations", cmeta.get("annotations"), "  ")
            storage = ((cspec.get("resources") or {}).get("requests") or {}).get("storage")
            w.write(1, f"Capacity:\t{storage or '<default>'}\n")
            modes = " ".join(cspec.get("accessModes") or [])
            w.write(1, f"Access Modes:\t[{modes}]\n")
    describe_events(w, events)
    return w.render()


def describe_job(job: dict[str, Any], events: list[dict[str, Any]] | None) -> str:
    meta = job.get("metadata") or {}
    spec = job.get("spec") or {}
    status = job.get("status") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    w.write(0, f"Selector:\t{format_selector(spec.get('selector'))}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    controller = controller_of(meta)
    if controller:
        w.write(0, f"Controlled By:\t{controller}\n")
    if spec.get("parallelism") is not None:
        w.write(0, f"Parallelism:\t{spec['parallelism']}\n")
    completions = spec.get("completions")
    w.write(0, f"Completions:\t{completions if completions is not None else '<unset>'}\n")
    if spec.get("completionMode"):
        w.write(0, f"Completion Mode:\t{spec['completionMode']}\n")
    if spec.get("suspend") is not None:
        w.write(0, f"Suspend:\t{'true' if spec['suspend'] else 'false'}\n")
    if spec.get("backoffLimit") is not None:
        w.write(0, f"Backoff Limit:\t{spec['backoffLimit']}\n")
    if status.get("startTime"):
        w.write(0, f"Start Time:\t{rfc1123z(status['startTime'])}\n")
    if status.get("completionTime"):
        w.write(0, f"Completed At:\t{rfc1123z(status['completionTime'])}\n")
    active, succeeded, failed = (
        status.get("active", 0),
        status.get("succeeded", 0),
        status.get("failed", 0),
    )
    if status.get("ready") is None:
        w.write(0, f"Pods Statuses:\t{active} Active / {succeeded} Succeeded / {failed} Failed\n")
    else:
        w.write(
            0,
            f"Pods Statuses:\t{active} Active ({status['ready']} Ready) / {succeeded} Succeeded / "
            f"{failed} Failed\n",
        )
    describe_pod_template(w, spec.get("template"))
    describe_events(w, events)
    return w.render()


# --- fetching ------------------------------------------------------------------------------


async def _owned(
    session: Session, group: str, plural: str, owner: dict[str, Any]
) -> list[dict[str, Any]]:
    meta = owner.get("metadata") or {}
    items = await list_items(session, group, plural, meta.get("namespace"))
    uid = meta.get("uid")
    return [
        item
        for item in items
        if any(
            r.get("controller") and r.get("uid") == uid
            for r in (item.get("metadata") or {}).get("ownerReferences") or []
        )
    ]


async def _deployment_page(session: Session, d: dict[str, Any], events: EventSearch) -> str:
    replicasets = await _owned(session, "apps", "replicasets", d)
    return describe_deployment(d, replicasets, await events())


def _with_pods(describer: Callable[..., str]) -> Page:
    """The page of a kind that counts the pods of its namespace it controls."""

    async def page(session: Session, obj: dict[str, Any], events: EventSearch) -> str:
        pods = await list_items(session, "", "pods", (obj.get("metadata") or {}).get("namespace"))
        return describer(obj, pods, await events())

    return page


async def _job_page(session: Session, job: dict[str, Any], events: EventSearch) -> str:
    return describe_job(job, await events())


PAGES: dict[str, Page] = {
    "Deployment": _deployment_page,
    "ReplicaSet": _with_pods(describe_replicaset),
    "DaemonSet": _with_pods(describe_daemonset),
    "StatefulSet": _with_pods(describe_statefulset),
    "Job": _job_page,
}
