"""TaintToleration: a pod goes only where it tolerates every ``NoSchedule`` and
``NoExecute`` taint; among those, nodes with fewer untolerated ``PreferNoSchedule``
taints score higher.

Most nodes carry the same few taint sets (often none), so the verdict per taint set
is memoised for the duration of one decision.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from apitypes.scheduling import find_untolerated_taint, tolerates
from scheduler.framework import (
    SKIP,
    ClusterEvent,
    CycleState,
    FilterPlugin,
    PreScorePlugin,
    ScorePlugin,
    Status,
    default_normalize,
    unschedulable,
)
from scheduler.nodeinfo import NodeInfo
from scheduler.podinfo import PodInfo

NAME = "TaintToleration"


def _reason(key: str, value: str | None) -> str:
    return f"node(s) had untolerated taint {{{key}: {value or ''}}}"


class TaintToleration(FilterPlugin, PreScorePlugin, ScorePlugin):
    name = NAME

    def events(self) -> ClusterEvent:
        return ClusterEvent.NODE_ADD | ClusterEvent.NODE_TAINT

    def signature(self, state: CycleState, pod: PodInfo) -> Hashable | None:
        return tuple((t.key, t.operator, t.value, t.effect) for t in pod.tolerations)

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if not node.hard_taints:
            return None
        taint = find_untolerated_taint(node.hard_taints, pod.tolerations)
        if taint is None:
            return None
        return unschedulable(_reason(taint.key, taint.value), resolvable=False)

    def filter_nodes(
        self,
        state: CycleState,
        pod: PodInfo,
        nodes: Sequence[NodeInfo],
        failed: dict[str, Status],
    ) -> list[NodeInfo]:
        passed: list[NodeInfo] = []
        verdicts: dict[tuple[tuple[str, str | None, str], ...], Status | None] = {}
        for node in nodes:
            taints = node.hard_taints
            if not taints:
                passed.append(node)
                continue
            # Equal taint lists on different nodes are different objects; key by content.
            key = tuple((t.key, t.value, t.effect) for t in taints)
            if key in verdicts:
                status = verdicts[key]
            else:
                status = verdicts[key] = self.filter(state, pod, node)
            if status is None:
                passed.append(node)
            else:
                failed[node.name] = status
        return passed

    # --- score: fewer intolerable PreferNoSchedule taints is better ----------------------

    def skips(self, state: CycleState, pod: PodInfo) -> bool:
        return not self.handle.cache.prefer_no_schedule_nodes

    def pre_score(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> Status | None:
        # Without any PreferNoSchedule taint in the cluster every node scores the same.
        if not self.handle.cache.prefer_no_schedule_nodes:
            return SKIP
        state.data[NAME] = tuple(
            t for t in pod.tolerations if not t.effect or t.effect == "PreferNoSchedule"
        )
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        tolerations = state.data.get(NAME)
        if tolerations is None:
            tolerations = tuple(
                t for t in pod.tolerations if not t.effect or t.effect == "PreferNoSchedule"
            )
        return sum(1 for taint in node.prefer_taints if not tolerates(tolerations, taint))

    def score_nodes(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]:
        return [self.score(state, pod, n) if n.prefer_taints else 0 for n in nodes]

    def normalize(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo], scores: list[int]
    ) -> None:
        default_normalize(scores, reverse=True)
