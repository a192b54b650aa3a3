"""NodeAffinity: ``nodeSelector`` and required node affinity filter nodes; preferred
node affinity terms score them (the sum of the weights of the terms a node matches,
scaled so that the best node gets 100).

Required terms are ORed; the expressions and fields inside a term are ANDed; operators
``In``, ``NotIn``, ``Exists``, ``DoesNotExist``, ``Gt``, ``Lt``; ``matchFields`` on
``metadata.name``. When every required term pins ``metadata.name`` (DaemonSet pods
do), PreFilter narrows the candidates to those names, so the pod does not look at
every node; names that match no existing node leave the pod pending.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from apitypes.scheduling import NODE_NAME_FIELD, CompiledTerm, compile_term
from scheduler.framework import (
    SKIP,
    ClusterEvent,
    CycleState,
    FilterPlugin,
    PreFilterPlugin,
    PreFilterResult,
    PreScorePlugin,
    ScorePlugin,
    Status,
    default_normalize,
    unschedulable,
)
from scheduler.nodeinfo import NodeInfo
from scheduler.plugins.helpers import required_node_affinity
from scheduler.podinfo import PodInfo

NAME = "NodeAffinity"
REASON = "node(s) didn't match Pod's node affinity/selector"
REASON_CONFLICT = "pod affinity terms conflict"


def _pinned_names(pod: PodInfo) -> frozenset[str] | None:
    """Node names every required term is limited to by ``metadata.name In``; None if
    some term allows any name."""
    spec = pod.pod.spec
    node_affinity = spec.affinity.node_affinity if spec and spec.affinity else None
    required = (
        node_affinity.required_during_scheduling_ignored_during_execution if node_affinity else None
    )
    if required is None or not required.node_selector_terms:
        return None
    names: set[str] = set()
    for term in required.node_selector_terms:
        term_names: set[str] | None = None
        for expr in term.match_fields:
            if expr.key == NODE_NAME_FIELD and expr.operator == "In":
                values = set(expr.values)
                term_names = values if term_names is None else term_names & values
        if term_names is None:
            return None
        names |= term_names
    return frozenset(names)


class NodeAffinity(PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin):
    name = NAME

    def events(self) -> ClusterEvent:
        return ClusterEvent.NODE_ADD | ClusterEvent.NODE_LABEL

    def signature(self, state: CycleState, pod: PodInfo) -> Hashable | None:
        return (required_node_affinity(pod), self._preferred(pod))

    def pre_filter(self, state: CycleState, pod: PodInfo) -> Status | PreFilterResult | None:
        required = required_node_affinity(pod)
        if required.empty:
            return SKIP
        pinned = _pinned_names(pod)
        if pinned is not None:
            if not pinned:
                return unschedulable(REASON_CONFLICT, resolvable=False)
            return PreFilterResult(pinned)
        return None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if required_node_affinity(pod).matches(node.labels, node.name):
            return None
        return unschedulable(REASON, resolvable=False)

    def filter_nodes(
        self,
        state: CycleState,
        pod: PodInfo,
        nodes: Sequence[NodeInfo],
        failed: dict[str, Status],
    ) -> list[NodeInfo]:
        required = required_node_affinity(pod)
        passed: list[NodeInfo] = []
        status: Status | None = None
        for node in nodes:
            if required.matches(node.labels, node.name):
                passed.append(node)
            else:
                status = status or unschedulable(REASON, resolvable=False)
                failed[node.name] = status
        return passed

    # --- score ---------------------------------------------------------------------------

    def _preferred(self, pod: PodInfo) -> tuple[tuple[CompiledTerm, int], ...]:
        cached = pod.memo.get("preferred_node_affinity")
        if cached is not None:
            return cached
        spec = pod.pod.spec
        node_affinity = spec.affinity.node_affinity if spec and spec.affinity else None
        terms: list[tuple[CompiledTerm, int]] = []
        if node_affinity is not None:
            for pref in node_affinity.preferred_during_scheduling_ignored_during_execution:
                if not pref.weight:
                    continue
                compiled = compile_term(pref.preference)
                if compiled is not None:
                    terms.append((compiled, pref.weight))
        result = tuple(terms)
        pod.memo["preferred_node_affinity"] = result
        return result

    def skips(self, state: CycleState, pod: PodInfo) -> bool:
        return not self._preferred(pod)

    def pre_score(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> Status | None:
        return None if self._preferred(pod) else SKIP

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        labels, name = node.labels, node.name
        return sum(weight for term, weight in self._preferred(pod) if term.matches(labels, name))

    def normalize(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo], scores: list[int]
    ) -> None:
        default_normalize(scores)
