"""NodeUnschedulable: cordoned nodes (``spec.unschedulable``) take no new pods, unless
the pod tolerates the ``node.kubernetes.io/unschedulable:NoSchedule`` taint."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from apitypes.core import Taint
from apitypes.scheduling import tolerates
from scheduler.framework import ClusterEvent, CycleState, FilterPlugin, Status, unschedulable
from scheduler.nodeinfo import NodeInfo
from scheduler.podinfo import PodInfo

NAME = "NodeUnschedulable"
REASON = "node(s) were unschedulable"
UNSCHEDULABLE_TAINT = Taint(key="node.kubernetes.io/unschedulable", effect="NoSchedule")


class NodeUnschedulable(FilterPlugin):
    name = NAME

    def events(self) -> ClusterEvent:
        return ClusterEvent.NODE_ADD | ClusterEvent.NODE_UNSCHEDULABLE | ClusterEvent.NODE_TAINT

    def signature(self, state: CycleState, pod: PodInfo) -> Hashable | None:
        return self._tolerated(pod)

    def _tolerated(self, pod: PodInfo) -> bool:
        return bool(pod.tolerations) and tolerates(pod.tolerations, UNSCHEDULABLE_TAINT)

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if not node.unschedulable or self._tolerated(pod):
            return None
        return unschedulable(REASON, resolvable=False)

    def filter_nodes(
        self,
        state: CycleState,
        pod: PodInfo,
        nodes: Sequence[NodeInfo],
        failed: dict[str, Status],
    ) -> list[NodeInfo]:
        passed = [n for n in nodes if not n.unschedulable]
        if len(passed) == len(nodes) or self._tolerated(pod):
            return list(nodes)
        status = unschedulable(REASON, resolvable=False)
        for node in nodes:
            if node.unschedulable:
                failed[node.name] = status
        return passed
