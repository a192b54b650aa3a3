"""NodePorts: two pods cannot hold the same host port (and protocol) on one node.

A port bound on the wildcard address ``0.0.0.0`` collides with the same port on every
address; specific addresses collide only with themselves.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from scheduler.framework import (
    SKIP,
    ClusterEvent,
    CycleState,
    FilterPlugin,
    PreFilterPlugin,
    Status,
    unschedulable,
)
from scheduler.nodeinfo import NodeInfo
from scheduler.podinfo import PodInfo

NAME = "NodePorts"
REASON = "node(s) didn't have free ports for the requested pod ports"


class NodePorts(PreFilterPlugin, FilterPlugin):
    name = NAME

    def events(self) -> ClusterEvent:
        return ClusterEvent.NODE_ADD | ClusterEvent.POD_DELETE

    def signature(self, state: CycleState, pod: PodInfo) -> Hashable | None:
        return pod.host_ports

    def pre_filter(self, state: CycleState, pod: PodInfo) -> Status | None:
        return None if pod.host_ports else SKIP

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if not node.used_ports:
            return None
        for ip, protocol, port in pod.host_ports:
            if node.port_conflict(ip, protocol, port):
                return unschedulable(REASON)
        return None

    def filter_nodes(
        self,
        state: CycleState,
        pod: PodInfo,
        nodes: Sequence[NodeInfo],
        failed: dict[str, Status],
    ) -> list[NodeInfo]:
        passed: list[NodeInfo] = []
        for node in nodes:
            status = self.filter(state, pod, node) if node.used_ports else None
            if status is None:
                passed.append(node)
            else:
                failed[node.name] = status
        return passed
