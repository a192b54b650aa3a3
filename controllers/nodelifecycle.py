"""Node lifecycle: notice dead nodes, taint them, evict their pods.

``NodeLifecycleController`` watches Nodes, node Leases (``kube-node-lease``) and Pods.
Every ``--node-monitor-period`` it looks at each node: a kubelet shows it is alive by
renewing its Lease (or by a new ``lastHeartbeatTime`` on its Ready condition). When
neither changed for ``--node-monitor-grace-period`` (measured on this process's own
clock from when the change was *observed*, so clock skew does not matter), the node's
Ready, MemoryPressure, DiskPressure and PIDPressure conditions become ``Unknown``
(reason ``NodeStatusUnknown``) and its pods are marked not Ready. It then keeps the
node's taints in step with its conditions:

- Ready ``Unknown`` -> ``node.kubernetes.io/unreachable`` (NoExecute and NoSchedule);
- Ready ``False``   -> ``node.kubernetes.io/not-ready`` (NoExecute and NoSchedule);
- Ready ``True``    -> neither (a node that comes back is untainted);
- pressure conditions and ``spec.unschedulable`` -> their NoSchedule taints.

``TaintEvictionController`` (Kubernetes' taint-eviction-controller) watches Nodes and
Pods and deletes a pod bound to a node with a NoExecute taint it does not tolerate:
at once without a matching toleration, otherwise after the smallest ``tolerationSeconds``
among the first matching toleration of each taint (counted from the taint's
``timeAdded``; for good when none of them has a bound). A pod with no
toleration of its own for not-ready/unreachable is treated as tolerating them for
``--default-not-ready-toleration-seconds`` / ``--default-unreachable-toleration-seconds``
(300 s), which is what Kubernetes' admission would have added to it. The pod's
controller then replaces it on a healthy node.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apiclient import Informer, errors, object_key
from apitypes.base import format_time
from apitypes.coordination import Lease
from apitypes.core import Node, Pod, Taint, Toleration
from apitypes.registry import by_model
from apitypes.scheduling import NOT_READY, UNREACHABLE, default_tolerations, matching_tolerations
from controllers.base import Controller, ControllerContext
from controllers.util import NODE_INDEX, index_node_name

log = logging.getLogger(__name__)

NODES = by_model(Node)
PODS = by_model(Pod)
LEASE_NAMESPACE = "kube-node-lease"

MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
PID_PRESSURE = "node.kubernetes.io/pid-pressure"
NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
MANAGED_TAINTS = {
    UNREACHABLE, NOT_READY, MEMORY_PRESSURE, DISK_PRESSURE, PID_PRESSURE, NETWORK_UNAVAILABLE,
    UNSCHEDULABLE,
}  # fmt: skip
MONITORED_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")


def desired_taints(node: Node) -> list[tuple[str, str]]:
    """(key, effect) of the taints this controller wants on ``node`` given its conditions."""
    status = node.status
    ready = status.condition("Ready") if status else None
    wanted: list[tuple[str, str]] = []
    if ready is not None and ready.status == "Unknown":
        wanted += [(UNREACHABLE, "NoExecute"), (UNREACHABLE, "NoSchedule")]
    elif ready is not None and ready.status == "False":
        wanted += [(NOT_READY, "NoExecute"), (NOT_READY, "NoSchedule")]
    for cond_type, key in (
        ("MemoryPressure", MEMORY_PRESSURE),
        ("DiskPressure", DISK_PRESSURE),
        ("PIDPressure", PID_PRESSURE),
        ("NetworkUnavailable", NETWORK_UNAVAILABLE),
    ):
        cond = status.condition(cond_type) if status else None
        if cond is not None and cond.status == "True":
            wanted.append((key, "NoSchedule"))
    if node.is_unschedulable():
        wanted.append((UNSCHEDULABLE, "NoSchedule"))
    return wanted


def reconcile_taints(node: Node, now: datetime) -> list[Taint] | None:
    """The node's new taint list, or None when it is already right."""
    current = node.taints()
    wanted = desired_taints(node)
    kept = [t for t in current if t.key not in MANAGED_TAINTS or (t.key, t.effect) in wanted]
    have = {(t.key, t.effect) for t in kept}
    added = [
        Taint(key=key, effect=effect, time_added=now if effect == "NoExecute" else None)
        for key, effect in wanted
        if (key, effect) not in have
    ]
    if not added and len(kept) == len(current):
        return None
    return kept + added


@dataclass
class _Health:
    probe: float
    heartbeat: str | None
    lease_renew: str | None


class NodeLifecycleController(Controller):
    name = "node-lifecycle-controller"
    service_account = "node-controller"
    aliases = ("nodelifecycle",)

    def __init__(self, ctx: ControllerContext, workers: int = 1) -> None:
        super().__init__(ctx, workers)
        self.nodes: Informer[Node] = self.factory.informer(Node)
        self.leases: Informer[Lease] = self.factory.informer(Lease, namespace=LEASE_NAMESPACE)
        self.pods: Informer[Pod] = self.factory.informer(
            Pod, indexers={NODE_INDEX: index_node_name}
        )
        self.health: dict[str, _Health] = {}
        # Taints follow conditions as soon as the node changes, not only on the period.
        self.nodes.add_handler(self.enqueue, lambda _old, new: self.enqueue(new), self._forget)

    def _forget(self, node: Node) -> None:
        self.health.pop(node.metadata.name or "", None)

    def loops(self) -> list[Coroutine[Any, Any, None]]:
        return [self.every(self.options.node_monitor_period, self.monitor)]

    async def monitor(self) -> float | None:
        """Check every node's heartbeats; mark the silent ones Unknown."""
        now = self.clock.monotonic()
        for node in self.nodes.store.objects():
            name = node.metadata.name or ""
            ready = node.status.condition("Ready") if node.status else None
            heartbeat = (
                format_time(ready.last_heartbeat_time)
                if ready is not None and ready.last_heartbeat_time
                else None
            )
            lease = self.leases.store.get_by_name(LEASE_NAMESPACE, name)
            renew = None
            if lease is not None and lease.spec is not None and lease.spec.renew_time:
                renew = lease.spec.renew_time.isoformat()
            health = self.health.get(name)
            if health is None:
                self.health[name] = _Health(now, heartbeat, renew)
                continue
            if heartbeat != health.heartbeat or renew != health.lease_renew:
                health.probe, health.heartbeat, health.lease_renew = now, heartbeat, renew
                continue
            grace = (
                self.options.node_monitor_grace_period
                if ready is not None
                else self.options.node_startup_grace_period
            )
            if now - health.probe > grace:
                await self._mark_unknown(node)
        return None

    async def _mark_unknown(self, node: Node) -> None:
        name = node.metadata.name or ""
        status = node.status
        now = self.clock.now()
        changes = []
        for cond_type in MONITORED_CONDITIONS:
            cond = status.condition(cond_type) if status else None
            if cond is None:
                changes.append({
                    "type": cond_type, "status": "Unknown", "reason": "NodeStatusNeverUpdated",
                    "message": "Kubelet never posted node status.",
                    "lastHeartbeatTime": format_time(now), "lastTransitionTime": format_time(now),
                })  # fmt: skip
            elif cond.status != "Unknown":
                changes.append({
                    "type": cond_type, "status": "Unknown", "reason": "NodeStatusUnknown",
                    "message": "Kubelet stopped posting node status.",
                    "lastTransitionTime": format_time(now),
                })  # fmt: skip
        if not changes:
            return
        log.info("node %s stopped reporting; marking its conditions Unknown", name)
        try:
            await self.client.patch_raw(
                NODES, name, {"status": {"conditions": changes}}, subresource="status"
            )
        except errors.NotFoundError:
            return
        self.recorder.event(
            node, "Normal", "NodeNotReady", f"Node {name} status is now: NodeNotReady"
        )
        await self._mark_pods_not_ready(name, now)

    async def _mark_pods_not_ready(self, node_name: str, now: datetime) -> None:
        async def one(pod: Pod) -> None:
            patch = {"status": {"conditions": [{
                "type": "Ready", "status": "False", "reason": "NodeNotReady",
                "lastTransitionTime": format_time(now),
            }]}}  # fmt: skip
            with contextlib.suppress(errors.ApiError):
                await self.client.patch_raw(
                    PODS, pod.metadata.name or "", patch, pod.metadata.namespace,
                    subresource="status",
                )  # fmt: skip

        pods = [
            pod
            for pod in self.pods.store.by_index(NODE_INDEX, node_name)
            if not pod.is_terminal() and pod.is_ready()
        ]
        for start in range(0, len(pods), 50):
            await asyncio.gather(*(one(pod) for pod in pods[start : start + 50]))

    async def reconcile(self, key: str) -> float | None:
        """Keep one node's taints in step with its conditions."""
        node = self.nodes.store.get(key)
        if node is None:
            return None
        taints = reconcile_taints(node, self.clock.now())
        if taints is None:
            return None
        body = {
            "metadata": {"resourceVersion": node.metadata.resource_version},
            "spec": {"taints": [t.to_dict() for t in taints]},
        }
        try:
            await self.client.patch_raw(NODES, key, body, patch_type="merge")
        except errors.NotFoundError:
            return None
        ready = node.status.condition("Ready") if node.status else None
        log.info(
            "node %s (Ready=%s): taints now %s",
            key, ready.status if ready else "?", [f"{t.key}:{t.effect}" for t in taints],
        )  # fmt: skip
        return None


# --- taint-based eviction ----------------------------------------------------------------------


def eviction_delay(
    taints: list[Taint], tolerations: list[Toleration], now: datetime
) -> float | None:
    """Seconds until a pod with ``tolerations`` must leave a node with ``taints`` (0: now),
    or None if it may stay.

    As Kubernetes' taint-eviction controller: only NoExecute taints count; each is
    tolerated by the first toleration that matches it, and the pod stays for the
    smallest ``tolerationSeconds`` among those (for good if none of them has a bound).
    The time runs from each taint's ``timeAdded``, so a restarted controller keeps it.
    """
    no_execute = [t for t in taints if t.effect == "NoExecute"]
    if not no_execute:
        return None
    used = matching_tolerations(no_execute, tolerations)
    if used is None:
        return 0.0
    delay: float | None = None
    for taint, toleration in zip(no_execute, used, strict=True):
        if toleration.toleration_seconds is None:
            continue
        seconds = max(toleration.toleration_seconds, 0)
        since = taint.time_added or now
        left = seconds - (now - since).total_seconds()
        delay = left if delay is None else min(delay, left)
    return None if delay is None else max(delay, 0.0)


class TaintEvictionController(Controller):
    name = "taint-eviction-controller"
    service_account = "taint-eviction-controller"
    aliases = ()

    def __init__(self, ctx: ControllerContext, workers: int = 1) -> None:
        super().__init__(ctx, max(workers, 4))
        self.nodes: Informer[Node] = self.factory.informer(Node)
        self.pods: Informer[Pod] = self.factory.informer(
            Pod, indexers={NODE_INDEX: index_node_name}
        )
        self.nodes.add_handler(self._node_changed, self._node_updated, None)
        self.pods.add_handler(self._pod_changed, lambda _old, new: self._pod_changed(new), None)

    def _node_changed(self, node: Node) -> None:
        if any(t.effect == "NoExecute" for t in node.taints()):
            for pod in self.pods.store.by_index(NODE_INDEX, node.metadata.name or ""):
                self.enqueue(pod)

    def _node_updated(self, old: Node, new: Node) -> None:
        before = [t.to_dict() for t in old.taints() if t.effect == "NoExecute"]
        after = [t.to_dict() for t in new.taints() if t.effect == "NoExecute"]
        if before != after:
            self._node_changed(new)

    def _pod_changed(self, pod: Pod) -> None:
        node_name = pod.node_name()
        if node_name is None or pod.metadata.deletion_timestamp is not None:
            return
        node = self.nodes.store.get(node_name)
        if node is not None and any(t.effect == "NoExecute" for t in node.taints()):
            self.enqueue(pod)

    async def reconcile(self, key: str) -> float | None:
        pod = self.pods.store.get(key)
        if pod is None or pod.is_terminal() or pod.metadata.deletion_timestamp is not None:
            return None
        node_name = pod.node_name()
        node = self.nodes.store.get(node_name) if node_name else None
        if node is None:
            return None
        taints = [t for t in node.taints() if t.effect == "NoExecute"]
        if not taints:
            return None
        now = self.clock.now()
        tolerations = default_tolerations(
            pod,
            self.options.default_not_ready_toleration_seconds,
            self.options.default_unreachable_toleration_seconds,
        )
        delay = eviction_delay(taints, tolerations, now)
        if delay is None:
            return None
        if delay > 0:
            return delay
        await self._evict(pod, now)
        return None

    async def _evict(self, pod: Pod, now: datetime) -> None:
        namespace, name = pod.metadata.namespace or "", pod.metadata.name or ""
        condition = {"status": {"conditions": [{
            "type": "DisruptionTarget", "status": "True", "reason": "DeletionByTaintManager",
            "message": "Taint manager: deleting due to NoExecute taint",
            "lastTransitionTime": format_time(now),
        }]}}  # fmt: skip
        with contextlib.suppress(errors.ApiError):
            await self.client.patch_raw(PODS, name, condition, namespace, subresource="status")
        try:
            await self.client.delete_raw(
                PODS, name, namespace, preconditions={"uid": pod.metadata.uid or ""}
            )
        except (errors.NotFoundError, errors.ConflictError):
            return
        log.info("evicted pod %s from node %s (NoExecute taint)", object_key(pod), pod.node_name())
        self.recorder.event(
            pod, "Normal", "TaintManagerEviction", f"Marking for deletion Pod {object_key(pod)}"
        )
