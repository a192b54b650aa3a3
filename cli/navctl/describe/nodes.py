"""Nodes: the node page, with its lease, its pods and what they request of it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cli.navctl.describe.helpers import (
    EventSearch,
    Page,
    PrefixWriter,
    annotations_multiline,
    describe_events,
    labels_multiline,
    list_items,
    rfc1123z,
)
from cli.navctl.printing import age
from cli.navctl.resources import resource

if TYPE_CHECKING:
    from cli.navctl.session import Session


def taints_multiline(w: PrefixWriter, title: str, taints: list[dict[str, Any]]) -> None:
    w.write(0, f"{title}:\t")
    if not taints:
        w.line("<none>")
        return
    ordered = sorted(taints, key=lambda t: f"{t.get('effect', '')},{t.get('key', '')}")
    for i, taint in enumerate(ordered):
        if i:
            w.write(0, "\t")
        value = f"={taint['value']}" if taint.get("value") else ""
        w.write(0, f"{taint.get('key', '')}{value}:{taint.get('effect', '')}\n")


def _percent(part: Any, whole: Any, milli: bool) -> int:
    if whole is None:
        return 0
    denominator = whole.milli_value() if milli else whole.value()
    if not denominator:
        return 0
    numerator = part.milli_value() if milli else part.value()
    return int(numerator / denominator * 100)


def describe_node(
    node: dict[str, Any],
    pods: list[dict[str, Any]] | None,
    events: list[dict[str, Any]] | None,
    lease: dict[str, Any] | None,
) -> str:
    from apitypes.quantity import Quantity

    meta = node.get("metadata") or {}
    spec = node.get("spec") or {}
    status = node.get("status") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    roles = sorted(
        key.split("/", 1)[1]
        for key in (meta.get("labels") or {})
        if key.startswith("node-role.kubernetes.io/") and key.split("/", 1)[1]
    )
    w.write(0, f"Roles:\t{','.join(roles) or '<none>'}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"CreationTimestamp:\t{rfc1123z(meta.get('creationTimestamp'))}\n")
    taints_multiline(w, "Taints", spec.get("taints") or [])
    w.write(0, f"Unschedulable:\t{'true' if spec.get('unschedulable') else 'false'}\n")
    if lease is not None:
        lspec = lease.get("spec") or {}
        w.write(0, "Lease:\n")
        w.write(1, f"HolderIdentity:\t{lspec.get('holderIdentity') or '<unset>'}\n")
        w.write(
            1,
            f"AcquireTime:\t{rfc1123z(lspec['acquireTime']) if lspec.get('acquireTime') else '<unset>'}\n",
        )
        w.write(
            1,
            f"RenewTime:\t{rfc1123z(lspec['renewTime']) if lspec.get('renewTime') else '<unset>'}\n",
        )
    conditions = status.get("conditions") or []
    if conditions:
        w.write(
            0,
            "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n",
        )
        w.write(1, "----\t------\t-----------------\t------------------\t------\t-------\n")
        for c in conditions:
            w.write(
                1,
                f"{c.get('type')} \t{c.get('status')} \t{rfc1123z(c.get('lastHeartbeatTime'))} \t"
                f"{rfc1123z(c.get('lastTransitionTime'))} \t{c.get('reason', '')} \t"
                f"{c.get('message', '')}\n",
            )
    w.write(0, "Addresses:\n")
    for address in status.get("addresses") or []:
        w.write(1, f"{address.get('type')}:\t{address.get('address')}\n")
    for title, key in (("Capacity", "capacity"), ("Allocatable", "allocatable")):
        values = status.get(key) or {}
        if values:
            w.write(0, f"{title}:\n")
            for name in sorted(values):
                w.write(0, f"  {name}:\t{Quantity.parse(str(values[name]))}\n")
    info = status.get("nodeInfo") or {}
    w.write(0, "System Info:\n")
    for title, key in (
        ("Machine ID", "machineID"),
        ("System UUID", "systemUUID"),
        ("Boot ID", "bootID"),
        ("Kernel Version", "kernelVersion"),
        ("OS Image", "osImage"),
        ("Operating System", "operatingSystem"),
        ("Architecture", "architecture"),
        ("Container Runtime Version", "containerRuntimeVersion"),
        ("Kubelet Version", "kubeletVersion"),
        ("Kube-Proxy Version", "kubeProxyVersion"),
    ):
        w.write(0, f"  {title}:\t{info.get(key, '')}\n")
    if spec.get("podCIDR"):
        w.write(0, f"PodCIDR:\t{spec['podCIDR']}\n")
    if spec.get("podCIDRs"):
        w.write(0, f"PodCIDRs:\t{','.join(spec['podCIDRs'])}\n")
    if spec.get("providerID"):
        w.write(0, f"ProviderID:\t{spec['providerID']}\n")
    if pods is None:
        w.write(0, "Pods:\tnot authorized\n")
    else:
        _node_resources(w, node, pods)
    describe_events(w, events)
    return w.render()


def _node_resources(w: PrefixWriter, node: dict[str, Any], pods: list[dict[str, Any]]) -> None:
    from apitypes.core import PodSpec
    from apitypes.quantity import Quantity
    from apitypes.resources import as_quantity, pod_limits, pod_requests

    status = node.get("status") or {}
    allocatable = status.get("allocatable") or status.get("capacity") or {}

    def alloc(name: str) -> Any:
        return Quantity.parse(str(allocatable[name])) if name in allocatable else None

    w.write(0, f"Non-terminated Pods:\t({len(pods)} in total)\n")
    w.write(
        1,
        "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n",
    )
    w.write(
        1,
        "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n",
    )
    totals_req: dict[str, Any] = {}
    totals_lim: dict[str, Any] = {}
    for pod in pods:
        meta = pod.get("metadata") or {}
        pod_spec = PodSpec.from_dict(pod.get("spec") or {})
        requests = pod_requests(pod_spec, as_quantity)
        limits = pod_limits(pod_spec, as_quantity)
        for name, value in requests.items():
            totals_req[name] = totals_req.get(name, Quantity.zero()) + value
        for name, value in limits.items():
            totals_lim[name] = totals_lim.get(name, Quantity.zero()) + value
        zero = Quantity.zero()
        cpu_r, cpu_l = requests.get("cpu", zero), limits.get("cpu", zero)
        mem_r, mem_l = requests.get("memory", zero), limits.get("memory", zero)
        w.write(
            1,
            f"{meta.get('namespace', '')}\t{meta.get('name', '')}\t\t"
            f"{cpu_r} ({_percent(cpu_r, alloc('cpu'), True)}%)\t"
            f"{cpu_l} ({_percent(cpu_l, alloc('cpu'), True)}%)\t"
            f"{mem_r} ({_percent(mem_r, alloc('memory'), False)}%)\t"
            f"{mem_l} ({_percent(mem_l, alloc('memory'), False)}%)\t"
            f"{age(meta.get('creationTimestamp'))}\n",
        )
    w.write(
        0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n"
    )
    w.write(1, "Resource\tRequests\tLimits\n")
    w.write(1, "--------\t--------\t------\n")
    zero = Quantity.zero()
    for name, milli in (("cpu", True), ("memory", False), ("ephemeral-storage", False)):
        req = totals_req.get(name, zero)
        lim = totals_lim.get(name, zero)
        w.write(
            1,
            f"{name}\t{req} ({_percent(req, alloc(name), milli)}%)\t"
            f"{lim} ({_percent(lim, alloc(name), milli)}%)\n",
        )
    standard = {"cpu", "memory", "ephemeral-storage", "storage", "pods"}
    for name in sorted(n for n in allocatable if n not in standard and "/" in n):
        w.write(1, f"{name}\t{totals_req.get(name, zero)}\t{totals_lim.get(name, zero)}\n")


async def _node_page(session: Session, node: dict[str, Any], events: EventSearch) -> str:
    from apiclient import errors

    meta = node.get("metadata") or {}
    node_pods: list[dict[str, Any]] | None
    try:
        node_pods = await list_items(
            session, "", "pods", None, all_namespaces=True,
            field_selector=f"spec.nodeName={meta.get('name')},status.phase!=Succeeded,"
            "status.phase!=Failed",
        )  # fmt: skip
    except errors.ForbiddenError:
        node_pods = None
    try:
        lease = await session.client.get_raw(
            resource("coordination.k8s.io", "leases"), meta["name"], "kube-node-lease"
        )
    except errors.ApiError:
        lease = None
    return describe_node(node, node_pods, await events(uid=meta.get("name")), lease)


PAGES: dict[str, Page] = {"Node": _node_page}
