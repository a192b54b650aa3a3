"""The scheduler's cache: nodes, the pods on them, and pods assumed but not yet bound.

The cache is what the scheduler believes the cluster looks like, and it is ahead of
the apiserver on purpose. When a pod is placed, the cache *assumes* it onto its node
at once, before the binding is written, so that the next decision (which does not
wait for the bind) already sees the node's resources, ports and labels taken. Then:

- the bind succeeds: the assumption is marked finished and given a deadline; when
  the informer shows the pod bound, the assumption is *confirmed* (replaced by the
  pod as the apiserver has it);
- the bind fails: the assumption is *forgotten* (the node's totals drop back);
- the informer never shows the pod bound: at the deadline the assumption *expires*.

Everything plugins need per decision is kept incrementally, as events arrive: each
node's totals (in :class:`NodeInfo`), pods by namespace, pods with (anti-)affinity,
pods by owning controller, and how many nodes carry each label value.

All methods are synchronous and the scheduler calls them from one event loop, so a
scheduling decision, which never awaits, always sees a consistent cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from apitypes.core import Node
from scheduler.clusterevents import ClusterEvent
from scheduler.nodeinfo import NodeInfo
from scheduler.podinfo import PodInfo


class Cache:
    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, assumed_ttl: float = 30.0
    ) -> None:
        self.clock = clock
        self.assumed_ttl = assumed_ttl
        self.nodes: dict[str, NodeInfo] = {}
        self.pods: dict[str, PodInfo] = {}
        # key -> deadline once its bind has finished (None while the bind is in flight).
        self.assumed: dict[str, float | None] = {}
        self.by_namespace: dict[str, dict[str, PodInfo]] = {}
        self.with_affinity: dict[str, PodInfo] = {}
        self.with_anti_affinity: dict[str, PodInfo] = {}
        self.by_controller: dict[str, dict[str, PodInfo]] = {}
        # node label key -> value -> number of nodes carrying it
        self.label_values: dict[str, dict[str, int]] = {}
        self.prefer_no_schedule_nodes = 0
        self._node_list: list[NodeInfo] = []
        # Generation of each node, aligned with _node_list: slices of it tell at C speed
        # whether any node in a window changed.
        self._generations: list[int] = []
        self._positions: dict[str, int] = {}
        self._list_dirty = False

    # --- nodes ---------------------------------------------------------------------------

    def node_list(self) -> list[NodeInfo]:
        """Nodes that exist (have a Node object), zones interleaved.

        Interleaving means that examining only a slice of the list (large clusters)
        still looks at every zone. Rebuilt lazily when nodes come, go or move zone.
        """
        if self._list_dirty:
            zones: dict[str, list[NodeInfo]] = {}
            for info in self.nodes.values():
                if info.node is not None:
                    zones.setdefault(info.zone, []).append(info)
            groups = [zones[z] for z in sorted(zones)]
            ordered: list[NodeInfo] = []
            for i in range(max((len(g) for g in groups), default=0)):
                ordered.extend(g[i] for g in groups if i < len(g))
            self._node_list = ordered
            self._generations = [n.generation for n in ordered]
            self._positions = {n.name: i for i, n in enumerate(ordered)}
            self._list_dirty = False
        return self._node_list

    def node_generations(self) -> list[int]:
        """Each node's generation, aligned with (and as current as) ``node_list()``."""
        self.node_list()
        return self._generations

    def _touched(self, info: NodeInfo) -> None:
        position = self._positions.get(info.name)
        if position is not None and not self._list_dirty:
            self._generations[position] = info.generation

    def node(self, name: str) -> NodeInfo | None:
        info = self.nodes.get(name)
        return info if info is not None and info.node is not None else None

    def add_node(self, node: Node) -> ClusterEvent:
        """Add or replace a node; returns the events the change amounts to."""
        name = node.metadata.name or ""
        info = self.nodes.get(name)
        if info is not None and info.node is not None:
            return self.update_node(node)
        if info is None:
            info = NodeInfo(name)
            self.nodes[name] = info
        info.set_node(node)
        self._index_node(info, 1)
        self._list_dirty = True
        return ClusterEvent.NODE_ADD

    def update_node(self, node: Node) -> ClusterEvent:
        name = node.metadata.name or ""
        info = self.nodes.get(name)
        if info is None or info.node is None:
            return self.add_node(node)
        before = (info.labels, info.taints, info.unschedulable, info.zone)
        allocatable = (info.alloc_cpu, info.alloc_memory, info.alloc_pods, info.alloc_other)
        self._index_node(info, -1)
        info.set_node(node)
        self._index_node(info, 1)
        self._touched(info)
        event = ClusterEvent(0)
        if before[0] != info.labels:
            event |= ClusterEvent.NODE_LABEL
        if before[1] != info.taints:
            event |= ClusterEvent.NODE_TAINT
        if before[2] != info.unschedulable:
            event |= ClusterEvent.NODE_UNSCHEDULABLE
        if allocatable != (info.alloc_cpu, info.alloc_memory, info.alloc_pods, info.alloc_other):
            event |= ClusterEvent.NODE_ALLOCATABLE
        if before[3] != info.zone:
            self._list_dirty = True
        return event

    def remove_node(self, name: str) -> ClusterEvent:
        info = self.nodes.get(name)
        if info is None or info.node is None:
            return ClusterEvent(0)
        self._index_node(info, -1)
        if info.pods:
            # Its pods are still bound to it; keep their totals until they go.
            info.node = None
            info.labels = {}
        else:
            del self.nodes[name]
        self._list_dirty = True
        return ClusterEvent.NODE_DELETE

    def _index_node(self, info: NodeInfo, sign: int) -> None:
        for key, value in info.labels.items():
            values = self.label_values.setdefault(key, {})
            count = values.get(value, 0) + sign
            if count > 0:
                values[value] = count
            else:
                values.pop(value, None)
                if not values:
                    del self.label_values[key]
        if info.prefer_taints:
            self.prefer_no_schedule_nodes += sign

    # --- pods ----------------------------------------------------------------------------

    def add_pod(self, pod: PodInfo) -> None:
        """A pod the apiserver shows bound (informer add or update); confirms an
        assumption of the same pod."""
        self.assumed.pop(pod.key, None)
        if pod.key in self.pods:
            self._remove(pod.key)
        self._add(pod)

    update_pod = add_pod

    def remove_pod(self, key: str) -> PodInfo | None:
        """A bound pod is gone (deleted, finished); drops any assumption too."""
        self.assumed.pop(key, None)
        return self._remove(key)

    def assume(self, pod: PodInfo, node_name: str) -> PodInfo:
        """Count ``pod`` on ``node_name`` now, ahead of its binding."""
        assumed = pod.assigned_to(node_name)
        if pod.key in self.pods:
            self._remove(pod.key)
        self._add(assumed)
        self.assumed[pod.key] = None
        return assumed

    def is_assumed(self, key: str) -> bool:
        return key in self.assumed

    def finish_binding(self, key: str) -> None:
        """The bind was written; expire the assumption if the informer never confirms."""
        if key in self.assumed:
            self.assumed[key] = self.clock() + self.assumed_ttl

    def forget(self, key: str) -> PodInfo | None:
        """The bind failed: undo the assumption (no-op if already confirmed)."""
        if key not in self.assumed:
            return None
        del self.assumed[key]
        return self._remove(key)

    def expire(self) -> list[PodInfo]:
        """Drop finished assumptions the informer never confirmed; returns them."""
        now = self.clock()
        expired = [
            k for k, deadline in self.assumed.items() if deadline is not None and deadline <= now
        ]
        gone: list[PodInfo] = []
        for key in expired:
            del self.assumed[key]
            pod = self._remove(key)
            if pod is not None:
                gone.append(pod)
        return gone

    def _add(self, pod: PodInfo) -> None:
        key = pod.key
        self.pods[key] = pod
        info = self.nodes.get(pod.node_name)
        if info is None:
            info = NodeInfo(pod.node_name)
            self.nodes[pod.node_name] = info
        info.add_pod(pod)
        self._touched(info)
        self.by_namespace.setdefault(pod.namespace, {})[key] = pod
        if pod.has_pod_affinity:
            self.with_affinity[key] = pod
        if pod.required_anti_affinity:
            self.with_anti_affinity[key] = pod
        if pod.controller_uid:
            self.by_controller.setdefault(pod.controller_uid, {})[key] = pod

    def _remove(self, key: str) -> PodInfo | None:
        pod = self.pods.pop(key, None)
        if pod is None:
            return None
        info = self.nodes.get(pod.node_name)
        if info is not None:
            info.remove_pod(key)
            self._touched(info)
            if info.node is None and not info.pods:
                del self.nodes[pod.node_name]
        namespace = self.by_namespace.get(pod.namespace)
        if namespace is not None:
            namespace.pop(key, None)
            if not namespace:
                del self.by_namespace[pod.namespace]
        self.with_affinity.pop(key, None)
        self.with_anti_affinity.pop(key, None)
        if pod.controller_uid:
            owned = self.by_controller.get(pod.controller_uid)
            if owned is not None:
                owned.pop(key, None)
                if not owned:
                    del self.by_controller[pod.controller_uid]
        return pod
