"""NodeResourcesFit: the pod's requests must fit in what the node has left; nodes are
scored by how much would be left (LeastAllocated, the default: spread), how full they
would be (MostAllocated: bin packing), or a utilisation curve (RequestedToCapacityRatio).

Fit: for CPU, memory, ephemeral storage and every extended resource the pod requests,
``request <= allocatable - requested by pods already there (or assumed)``, and one
more pod must fit in the node's ``pods`` allocatable. Each shortfall is one reason
("Insufficient cpu", "Too many pods"), so a node can fail for several.

Scores use "non-zero" CPU and memory requests (containers that request nothing count
as 100m / 200Mi) so that request-less pods still spread. Per resource:

    LeastAllocated:  (allocatable - requested) * 100 / allocatable   (0 if over)
    MostAllocated:   requested * 100 / allocatable                   (100 if over)

combined by the configured resource weights (default cpu 1, memory 1). Resources the
node has none of are left out; extended resources only count when the pod asks for them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scheduler.framework import (
    ClusterEvent,
    CycleState,
    FilterPlugin,
    Handle,
    PreFilterPlugin,
    ScorePlugin,
    Status,
    unschedulable,
)
from scheduler.nodeinfo import NodeInfo
from scheduler.podinfo import PodInfo
from scheduler.resources import CPU, EPHEMERAL_STORAGE, MEMORY, PODS

NAME = "NodeResourcesFit"
LEAST_ALLOCATED = "LeastAllocated"
MOST_ALLOCATED = "MostAllocated"
REQUESTED_TO_CAPACITY_RATIO = "RequestedToCapacityRatio"
TOO_MANY_PODS = "Too many pods"
MAX_UTILIZATION = 100
MAX_CUSTOM_SCORE = 10
_NATIVE = frozenset({CPU, MEMORY, EPHEMERAL_STORAGE, PODS})


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    name: str
    weight: int


DEFAULT_RESOURCES = (ResourceSpec(CPU, 1), ResourceSpec(MEMORY, 1))


def parse_resources(value: Any, path: str) -> tuple[ResourceSpec, ...]:
    if value is None:
        return DEFAULT_RESOURCES
    if not isinstance(value, list) or not value:
        raise ValueError(f"{path}: must be a non-empty list of {{name, weight}}")
    specs = []
    for i, entry in enumerate(value):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            raise ValueError(f"{path}[{i}].name: Required value")
        weight = entry.get("weight", 1)
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 < weight <= 100:
            raise ValueError(f"{path}[{i}].weight: must be an integer in 1..100")
        specs.append(ResourceSpec(entry["name"], weight))
    return tuple(specs)


def node_amounts(node: NodeInfo, pod: PodInfo, resource: str, *, non_zero: bool) -> tuple[int, int]:
    """(allocatable, requested including the pod) for scoring; (0, 0) to leave the
    resource out (an extended resource the pod does not request)."""
    if resource == CPU:
        if non_zero:
            return node.alloc_cpu, node.nz_cpu + pod.non_zero_cpu
        return node.alloc_cpu, node.req_cpu + pod.requests.cpu
    if resource == MEMORY:
        if non_zero:
            return node.alloc_memory, node.nz_memory + pod.non_zero_memory
        return node.alloc_memory, node.req_memory + pod.requests.memory
    wanted = pod.requests.other.get(resource, 0)
    if resource not in _NATIVE and not wanted:
        return 0, 0
    return node.allocatable(resource), node.requested(resource) + wanted


def least_allocated(requested: int, capacity: int) -> int:
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * 100 // capacity


def most_allocated(requested: int, capacity: int) -> int:
    if capacity == 0:
        return 0
    return min(requested, capacity) * 100 // capacity


def ratio_function(shape: Sequence[tuple[int, int]]) -> Callable[[int, int], int]:
    """A piecewise-linear utilisation -> score curve (scores 0..10, scaled to 0..100)."""
    points = [(u, s * 100 // MAX_CUSTOM_SCORE) for u, s in shape]

    def raw(utilization: int) -> int:
        for i, (u, s) in enumerate(points):
            if utilization <= u:
                if i == 0:
                    return s
                pu, ps = points[i - 1]
                return ps + (s - ps) * (utilization - pu) // (u - pu)
        return points[-1][1]

    def scorer(requested: int, capacity: int) -> int:
        if capacity == 0 or requested > capacity:
            return raw(MAX_UTILIZATION)
        return raw(requested * MAX_UTILIZATION // capacity)

    return scorer


def _parse_shape(value: Any, path: str) -> list[tuple[int, int]]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"{path}: at least one point is required")
    shape: list[tuple[int, int]] = []
    for i, point in enumerate(value):
        if not isinstance(point, Mapping):
            raise ValueError(f"{path}[{i}]: must be {{utilization, score}}")
        u, s = point.get("utilization"), point.get("score")
        if not isinstance(u, int) or not 0 <= u <= MAX_UTILIZATION:
            raise ValueError(f"{path}[{i}].utilization: must be in 0..100")
        if not isinstance(s, int) or not 0 <= s <= MAX_CUSTOM_SCORE:
            raise ValueError(f"{path}[{i}].score: must be in 0..10")
        if shape and u <= shape[-1][0]:
            raise ValueError(f"{path}[{i}].utilization: values must be sorted in increasing order")
        shape.append((u, s))
    return shape


class NodeResourcesFit(PreFilterPlugin, FilterPlugin, ScorePlugin):
    name = NAME

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        super().__init__(args, handle)
        strategy = args.get("scoringStrategy") or {}
        self.strategy = strategy.get("type") or LEAST_ALLOCATED
        self.resources = parse_resources(
            strategy.get("resources"), "NodeResourcesFit.scoringStrategy.resources"
        )
        self._scorer: Callable[[int, int], int]
        if self.strategy == LEAST_ALLOCATED:
            self._scorer = least_allocated
        elif self.strategy == MOST_ALLOCATED:
            self._scorer = most_allocated
        elif self.strategy == REQUESTED_TO_CAPACITY_RATIO:
            shape = (strategy.get("requestedToCapacityRatio") or {}).get("shape")
            self._scorer = ratio_function(
                _parse_shape(shape, "scoringStrategy.requestedToCapacityRatio.shape")
            )
        else:
            raise ValueError(
                f"NodeResourcesFit.scoringStrategy.type: Unsupported value: {self.strategy!r}"
            )
        self.ignored = frozenset(args.get("ignoredResources") or ())
        self.ignored_groups = frozenset(args.get("ignoredResourceGroups") or ())
        self._cpu_memory = tuple(r.name for r in self.resources) == (CPU, MEMORY)

    def events(self) -> ClusterEvent:
        return (
            ClusterEvent.NODE_ADD
            | ClusterEvent.NODE_ALLOCATABLE
            | ClusterEvent.POD_DELETE
            | ClusterEvent.POD_UPDATE
        )

    def signature(self, state: CycleState, pod: PodInfo) -> Hashable | None:
        req = pod.requests
        return (
            req.cpu,
            req.memory,
            tuple(sorted(req.other.items())),
            pod.non_zero_cpu,
            pod.non_zero_memory,
        )

    def _checked_other(self, pod: PodInfo) -> list[tuple[str, int]]:
        return [
            (name, value)
            for name, value in sorted(pod.requests.other.items())
            if value
            and name not in self.ignored
            and not (name not in _NATIVE and name.split("/", 1)[0] in self.ignored_groups)
        ]

    # --- filter --------------------------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: PodInfo) -> Status | None:
        if pod.request_error:
            return unschedulable(
                f"invalid resource requests: {pod.request_error}", resolvable=False
            )
        state.data[NAME] = self._checked_other(pod)
        return None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        other = state.data.get(NAME)
        if other is None:
            other = self._checked_other(pod)
        reasons = self._shortfalls(pod, node, other)
        return unschedulable(*reasons) if reasons else None

    def _shortfalls(self, pod: PodInfo, node: NodeInfo, other: list[tuple[str, int]]) -> list[str]:
        reasons = []
        if len(node.pods) + 1 > node.alloc_pods:
            reasons.append(TOO_MANY_PODS)
        req = pod.requests
        if req.cpu and req.cpu > node.alloc_cpu - node.req_cpu:
            reasons.append("Insufficient cpu")
        if req.memory and req.memory > node.alloc_memory - node.req_memory:
            reasons.append("Insufficient memory")
        for name, value in other:
            if value > node.allocatable(name) - node.requested(name):
                reasons.append(f"Insufficient {name}")
        return reasons

    def filter_nodes(
        self,
        state: CycleState,
        pod: PodInfo,
        nodes: Sequence[NodeInfo],
        failed: dict[str, Status],
    ) -> list[NodeInfo]:
        other = state.data.get(NAME)
        if other is None:
            other = self._checked_other(pod)
        cpu = pod.requests.cpu
        memory = pod.requests.memory
        passed: list[NodeInfo] = []
        append = passed.append
        for node in nodes:
            if (
                len(node.pods) < node.alloc_pods
                and (not cpu or cpu <= node.alloc_cpu - node.req_cpu)
                and (not memory or memory <= node.alloc_memory - node.req_memory)
                and (
                    not other or all(v <= node.allocatable(n) - node.requested(n) for n, v in other)
                )
            ):
                append(node)
            else:
                failed[node.name] = unschedulable(*self._shortfalls(pod, node, other))
        return passed

    # --- score ---------------------------------------------------------------------------

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        total = weights = 0
        for spec in self.resources:
            capacity, requested = node_amounts(node, pod, spec.name, non_zero=True)
            if capacity == 0:
                continue
            total += self._scorer(requested, capacity) * spec.weight
            weights += spec.weight
        return total // weights if weights else 0

    def score_nodes(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]:
        if not self._cpu_memory or self.strategy == REQUESTED_TO_CAPACITY_RATIO:
            return [self.score(state, pod, node) for node in nodes]
        # CPU and memory only: the same arithmetic, inlined for the common case.
        wc, wm = self.resources[0].weight, self.resources[1].weight
        pc, pm = pod.non_zero_cpu, pod.non_zero_memory
        least = self.strategy == LEAST_ALLOCATED
        out: list[int] = []
        append = out.append
        for node in nodes:
            ac = node.alloc_cpu
            am = node.alloc_memory
            total = weights = 0
            if ac:
                rc = node.nz_cpu + pc
                if least:
                    total += ((ac - rc) * 100 // ac if rc <= ac else 0) * wc
                else:
                    total += (min(rc, ac) * 100 // ac) * wc
                weights += wc
            if am:
                rm = node.nz_memory + pm
                if least:
                    total += ((am - rm) * 100 // am if rm <= am else 0) * wm
                else:
                    total += (min(rm, am) * 100 // am) * wm
                weights += wm
            append(total // weights if weights else 0)
        return out
