"""InterPodAffinity: place a pod near (affinity) or away from (anti-affinity) other pods,
per topology domain (the node's value of the term's ``topologyKey``: its hostname, its
zone...).

Filter, for a candidate node, in Kubernetes' order:

1. every required affinity term of the pod must have a matching pod in the node's
   domain, except for the first pod of a group that selects itself (no pod anywhere
   matches, and the pod matches its own terms);
2. no required anti-affinity term of the pod may have a matching pod in the node's
   domain;
3. no pod already placed may have a required anti-affinity term that matches the
   incoming pod with the node in its domain (the symmetry that keeps a placed pod's
   anti-affinity true).

Score: per domain, the weights of the pod's preferred terms that existing pods match
(anti-affinity subtracts), plus existing pods' required affinity (``hardPodAffinityWeight``,
default 1) and preferred terms that match the incoming pod; min-max scaled to 0..100.

PreFilter and PreScore count matches per (topologyKey, value) once per pod, from the
cache's indexes (pods by namespace, pods with affinity), so the per-node work is a few
dict lookups.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from apitypes.selectors import NOTHING
from scheduler.framework import (
    MAX_NODE_SCORE,
    SKIP,
    ClusterEvent,
    CycleState,
    FilterPlugin,
    Handle,
    PreFilterPlugin,
    PreScorePlugin,
    ScorePlugin,
    Status,
    unschedulable,
)
from scheduler.nodeinfo import NodeInfo
from scheduler.podinfo import AffinityTerm, PodInfo, WeightedAffinityTerm

NAME = "InterPodAffinity"
REASON_AFFINITY = "node(s) didn't match pod affinity rules"
REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"

Pair = tuple[str, str]


@dataclass(slots=True)
class _FilterState:
    affinity: tuple[AffinityTerm, ...]
    anti_affinity: tuple[AffinityTerm, ...]
    affinity_counts: dict[Pair, int]
    anti_affinity_counts: dict[Pair, int]
    existing_anti_counts: dict[Pair, int]
    matches_own_terms: bool


class InterPodAffinity(PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin):
    name = NAME

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        super().__init__(args, handle)
        weight = args.get("hardPodAffinityWeight", 1)
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
            raise ValueError("InterPodAffinity.hardPodAffinityWeight: must be in 0..100")
        self.hard_weight = weight
        self.ignore_existing_preferred = bool(args.get("ignorePreferredTermsOfExistingPods"))

    def events(self) -> ClusterEvent:
        return (
            ClusterEvent.POD_ANY
            | ClusterEvent.NODE_ADD
            | ClusterEvent.NODE_LABEL
            | ClusterEvent.NAMESPACE
        )

    # --- helpers -------------------------------------------------------------------------

    def _expand(self, terms: Iterable[AffinityTerm]) -> tuple[AffinityTerm, ...]:
        """Fold namespace selectors into explicit namespace sets, as of now."""
        out = []
        for term in terms:
            if term.namespace_selector.matches_nothing():
                out.append(term)
                continue
            selected = {
                ns
                for ns, labels in self.handle.namespaces.items()
                if term.namespace_selector.matches(labels)
            }
            out.append(
                replace(term, namespaces=term.namespaces | selected, namespace_selector=NOTHING)
            )
        return tuple(out)

    def _pods_in(self, namespaces: Iterable[str]) -> Iterator[tuple[PodInfo, NodeInfo]]:
        cache = self.handle.cache
        for namespace in set(namespaces):
            for pod in cache.by_namespace.get(namespace, {}).values():
                node = cache.nodes.get(pod.node_name)
                if node is not None and node.node is not None:
                    yield pod, node

    # --- filter --------------------------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: PodInfo) -> Status | None:
        if pod.affinity_error:
            return unschedulable(f"invalid pod affinity: {pod.affinity_error}", resolvable=False)
        cache = self.handle.cache
        if (
            not pod.required_affinity
            and not pod.required_anti_affinity
            and not cache.with_anti_affinity
        ):
            return SKIP
        namespace_labels = self.handle.namespace_labels(pod.namespace) or {}
        existing: dict[Pair, int] = {}
        for other in cache.with_anti_affinity.values():
            node = cache.nodes.get(other.node_name)
            if node is None or node.node is None or other.key == pod.key:
                continue
            labels = node.labels
            for term in other.required_anti_affinity:
                value = labels.get(term.topology_key)
                if value is not None and term.matches(pod, namespace_labels):
                    pair = (term.topology_key, value)
                    existing[pair] = existing.get(pair, 0) + 1
        affinity = self._expand(pod.required_affinity)
        anti = self._expand(pod.required_anti_affinity)
        affinity_counts: dict[Pair, int] = {}
        anti_counts: dict[Pair, int] = {}
        if affinity or anti:
            namespaces = [ns for t in (*affinity, *anti) for ns in t.namespaces]
            for other, node in self._pods_in(namespaces):
                if other.key == pod.key:
                    continue
                labels = node.labels
                if affinity and all(t.matches(other, None) for t in affinity):
                    for term in affinity:
                        value = labels.get(term.topology_key)
                        if value is not None:
                            pair = (term.topology_key, value)
                            affinity_counts[pair] = affinity_counts.get(pair, 0) + 1
                for term in anti:
                    value = labels.get(term.topology_key)
                    if value is not None and term.matches(other, None):
                        pair = (term.topology_key, value)
                        anti_counts[pair] = anti_counts.get(pair, 0) + 1
        own = bool(affinity) and all(t.matches(pod, None) for t in affinity)
        state.data[NAME] = _FilterState(affinity, anti, affinity_counts, anti_counts, existing, own)
        return None

    def _filter_state(self, state: CycleState, pod: PodInfo) -> _FilterState:
        found = state.data.get(NAME)
        if found is None:
            self.pre_filter(state, pod)
            found = state.data.get(NAME) or _FilterState((), (), {}, {}, {}, False)
        return found

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        s = self._filter_state(state, pod)
        labels = node.labels
        if s.affinity:
            exists = True
            for term in s.affinity:
                value = labels.get(term.topology_key)
                if value is None:
                    return unschedulable(REASON_AFFINITY, resolvable=False)
                if s.affinity_counts.get((term.topology_key, value), 0) <= 0:
                    exists = False
            if not exists and not (not s.affinity_counts and s.matches_own_terms):
                return unschedulable(REASON_AFFINITY, resolvable=False)
        for term in s.anti_affinity:
            value = labels.get(term.topology_key)
            if value is not None and s.anti_affinity_counts.get((term.topology_key, value), 0) > 0:
                return unschedulable(REASON_ANTI_AFFINITY)
        if s.existing_anti_counts:
            for pair in labels.items():
                if s.existing_anti_counts.get(pair, 0) > 0:
                    return unschedulable(REASON_EXISTING_ANTI_AFFINITY)
        return None

    # --- score ---------------------------------------------------------------------------

    def skips(self, state: CycleState, pod: PodInfo) -> bool:
        if pod.affinity_error:
            return True
        preferred = pod.preferred_affinity or pod.preferred_anti_affinity
        return not preferred and (
            self.ignore_existing_preferred or not self.handle.cache.with_affinity
        )

    def pre_score(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> Status | None:
        if pod.affinity_error:
            return SKIP
        cache = self.handle.cache
        preferred = pod.preferred_affinity or pod.preferred_anti_affinity
        if not preferred and (self.ignore_existing_preferred or not cache.with_affinity):
            return SKIP
        scores: dict[str, dict[str, int]] = {}

        def add(key: str, labels: Mapping[str, str], amount: int) -> None:
            value = labels.get(key)
            if value is not None:
                domain = scores.setdefault(key, {})
                domain[value] = domain.get(value, 0) + amount

        if preferred:
            soft = [
                WeightedAffinityTerm(t, w.weight)
                for w in pod.preferred_affinity
                for t in self._expand((w.term,))
            ]
            soft_anti = [
                WeightedAffinityTerm(t, w.weight)
                for w in pod.preferred_anti_affinity
                for t in self._expand((w.term,))
            ]
            namespaces = [ns for w in (*soft, *soft_anti) for ns in w.term.namespaces]
            for other, node in self._pods_in(namespaces):
                if other.key == pod.key:
                    continue
                for w in soft:
                    if w.term.matches(other, None):
                        add(w.term.topology_key, node.labels, w.weight)
                for w in soft_anti:
                    if w.term.matches(other, None):
                        add(w.term.topology_key, node.labels, -w.weight)
        if not self.ignore_existing_preferred:
            namespace_labels = self.handle.namespace_labels(pod.namespace) or {}
            for other in cache.with_affinity.values():
                host = cache.nodes.get(other.node_name)
                if host is None or host.node is None or other.key == pod.key:
                    continue
                labels = host.labels
                if self.hard_weight:
                    for term in other.required_affinity:
                        if term.matches(pod, namespace_labels):
                            add(term.topology_key, labels, self.hard_weight)
                for w in other.preferred_affinity:
                    if w.term.matches(pod, namespace_labels):
                        add(w.term.topology_key, labels, w.weight)
                for w in other.preferred_anti_affinity:
                    if w.term.matches(pod, namespace_labels):
                        add(w.term.topology_key, labels, -w.weight)
        if not scores:
            return SKIP
        state.data[NAME + "/score"] = scores
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        scores: dict[str, dict[str, int]] = state.data.get(NAME + "/score") or {}
        labels = node.labels
        total = 0
        for key, domains in scores.items():
            value = labels.get(key)
            if value is not None:
                total += domains.get(value, 0)
        return total

    def normalize(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo], scores: list[int]
    ) -> None:
        if not scores:
            return
        low, high = min(scores), max(scores)
        spread = high - low
        if spread <= 0:
            scores[:] = [0] * len(scores)
            return
        scores[:] = [int(MAX_NODE_SCORE * ((s - low) / spread)) for s in scores]
