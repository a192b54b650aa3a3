"""NodeResourcesBalancedAllocation: prefer nodes whose resources would be used evenly.

For each configured resource (default CPU and memory, weight 1 each) the fraction
``requested / allocatable`` once the pod is there (capped at 1) is computed from the
pods' actual requests; the score is ``(1 - standard deviation of the fractions)*100``.
With two resources the standard deviation is simply half their difference. A pod that
requests none of the resources is skipped: it would not change any balance.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from scheduler.framework import (
    MAX_NODE_SCORE,
    SKIP,
    ClusterEvent,
    CycleState,
    Handle,
    PreScorePlugin,
    ScorePlugin,
    Status,
)
from scheduler.nodeinfo import NodeInfo
from scheduler.plugins.noderesources import node_amounts, parse_resources
from scheduler.podinfo import PodInfo
from scheduler.resources import CPU, MEMORY

NAME = "NodeResourcesBalancedAllocation"


def balanced_score(fractions: Sequence[float]) -> int:
    if len(fractions) == 2:
        std = abs(fractions[0] - fractions[1]) / 2
    elif len(fractions) > 2:
        mean = sum(fractions) / len(fractions)
        std = math.sqrt(sum((f - mean) ** 2 for f in fractions) / len(fractions))
    else:
        std = 0.0
    return int((1 - std) * MAX_NODE_SCORE)


class NodeResourcesBalancedAllocation(PreScorePlugin, ScorePlugin):
    name = NAME

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        super().__init__(args, handle)
        self.resources = parse_resources(
            args.get("resources"), "NodeResourcesBalancedAllocation.resources"
        )
        self._cpu_memory = tuple(r.name for r in self.resources) == (CPU, MEMORY)

    def events(self) -> ClusterEvent:
        return ClusterEvent(0)

    def signature(self, state: CycleState, pod: PodInfo) -> Hashable | None:
        return tuple(pod.requests.get(r.name) for r in self.resources)

    def skips(self, state: CycleState, pod: PodInfo) -> bool:
        return not any(pod.requests.get(r.name) for r in self.resources)

    def pre_score(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> Status | None:
        if not any(pod.requests.get(r.name) for r in self.resources):
            return SKIP
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        fractions = []
        for spec in self.resources:
            capacity, requested = node_amounts(node, pod, spec.name, non_zero=False)
            if capacity == 0:
                continue
            fractions.append(min(requested / capacity, 1.0))
        return balanced_score(fractions)

    def score_nodes(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]:
        if not self._cpu_memory:
            return [self.score(state, pod, node) for node in nodes]
        pc, pm = pod.requests.cpu, pod.requests.memory
        out: list[int] = []
        append = out.append
        for node in nodes:
            ac = node.alloc_cpu
            am = node.alloc_memory
            if ac and am:
                fc = (node.req_cpu + pc) / ac
                fm = (node.req_memory + pm) / am
                fc = 1.0 if fc > 1.0 else fc
                fm = 1.0 if fm > 1.0 else fm
                append(int((1 - abs(fc - fm) / 2) * MAX_NODE_SCORE))
            else:
                append(MAX_NODE_SCORE)
        return out
