"""PodTopologySpread: keep matching pods evenly spread across topology domains.

For a constraint ``(maxSkew, topologyKey, selector)`` the pods the selector matches (in
the pod's namespace, not terminating) are counted per domain (value of
``topologyKey``) over the eligible nodes: nodes with every constraint's key that pass
the node inclusion policies (``nodeAffinityPolicy: Honor`` by default: the pod's
nodeSelector and required node affinity; ``nodeTaintsPolicy: Ignore`` by default).

- ``whenUnsatisfiable: DoNotSchedule`` filters: placing the pod on a node must keep
  ``count(node's domain) + 1 (if the pod matches itself) - min over domains <= maxSkew``;
  when fewer than ``minDomains`` domains exist the minimum counts as 0. A node without
  the key does not fit.
- ``ScheduleAnyway`` scores: fewer matching pods in the node's domain is better, each
  constraint weighted by log(number of domains + 2), as Kubernetes does.

Pods without constraints get the default constraints (``defaultingType: System``:
maxSkew 3 per hostname and 5 per zone, ScheduleAnyway). Kubernetes selects the pods
of the same Service, ReplicaSet or StatefulSet for those; navarch selects the pods with
the same controlling owner, which is what spreading replicas means, without watching
every workload kind. ``defaultingType: List`` uses ``defaultConstraints`` instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from apitypes.core import TopologySpreadConstraint
from apitypes.scheduling import RequiredNodeAffinity, find_untolerated_taint
from apitypes.selectors import (
    LabelSelectorExpr,
    Operator,
    Requirement,
    SelectorError,
    from_label_selector,
)
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
from scheduler.plugins.helpers import required_node_affinity
from scheduler.podinfo import LABEL_HOSTNAME, LABEL_ZONE, PodInfo

NAME = "PodTopologySpread"
REASON = "node(s) didn't match pod topology spread constraints"
REASON_MISSING_LABEL = REASON + " (missing required label)"
DO_NOT_SCHEDULE = "DoNotSchedule"
SCHEDULE_ANYWAY = "ScheduleAnyway"
SYSTEM_DEFAULTS = (
    {"maxSkew": 3, "topologyKey": LABEL_HOSTNAME, "whenUnsatisfiable": SCHEDULE_ANYWAY},
    {"maxSkew": 5, "topologyKey": LABEL_ZONE, "whenUnsatisfiable": SCHEDULE_ANYWAY},
)
_NO_MINIMUM = 2**31 - 1
_MEMO_KEYS = 256  # workloads whose per-node counts are kept

Pair = tuple[str, str]


@dataclass(slots=True, frozen=True)
class Constraint:
    """A parsed constraint: which pods count (a label selector, or pods of one owner)."""

    max_skew: int
    topology_key: str
    hard: bool
    selector: LabelSelectorExpr | None
    owner: str
    namespace: str
    min_domains: int
    honor_affinity: bool
    honor_taints: bool

    def matches(self, pod: PodInfo) -> bool:
        if pod.namespace != self.namespace:
            return False
        if self.selector is not None:
            return self.selector.matches(pod.labels)
        return pod.controller_uid == self.owner


def _parse_defaults(value: Any) -> list[TopologySpreadConstraint]:
    if not isinstance(value, list):
        raise ValueError("PodTopologySpread.defaultConstraints: must be a list")
    out = []
    for i, raw in enumerate(value):
        try:
            constraint = TopologySpreadConstraint.model_validate(raw)
        except Exception as err:
            raise ValueError(f"PodTopologySpread.defaultConstraints[{i}]: {err}") from None
        if constraint.label_selector is not None:
            raise ValueError(
                f"PodTopologySpread.defaultConstraints[{i}].labelSelector: Forbidden: "
                "constraint must not define a selector, as they deduced for each pod"
            )
        if constraint.max_skew <= 0:
            raise ValueError(f"PodTopologySpread.defaultConstraints[{i}].maxSkew: must be > 0")
        out.append(constraint)
    return out


class PodTopologySpread(PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin):
    name = NAME

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        super().__init__(args, handle)
        # (namespace, selector, owner) -> node name -> (node generation, matching pods).
        # A node's generation changes whenever one of its pods does, so a count is
        # reused until then: pods of one workload are scheduled one after another and
        # each changes a node or two, where a recount would visit every pod anew.
        self._counts: dict[
            tuple[str, LabelSelectorExpr | None, str], dict[str, tuple[int, int]]
        ] = {}
        defaulting = args.get("defaultingType") or "System"
        if defaulting == "System":
            if args.get("defaultConstraints"):
                raise ValueError(
                    "PodTopologySpread.defaultConstraints: must be empty when defaultingType is System"
                )
            self.defaults = _parse_defaults(list(SYSTEM_DEFAULTS))
            self.system_defaulted = True
        elif defaulting == "List":
            self.defaults = _parse_defaults(args.get("defaultConstraints") or [])
            self.system_defaulted = False
        else:
            raise ValueError(f"PodTopologySpread.defaultingType: Unsupported value: {defaulting!r}")

    def events(self) -> ClusterEvent:
        return (
            ClusterEvent.POD_ANY
            | ClusterEvent.NODE_ADD
            | ClusterEvent.NODE_DELETE
            | ClusterEvent.NODE_LABEL
            | ClusterEvent.NODE_TAINT
        )

    # --- constraints ---------------------------------------------------------------------

    def constraints(self, pod: PodInfo) -> tuple[tuple[Constraint, ...], bool, str]:
        """(constraints, whether they are the pod's own, an error message)."""
        cached = pod.memo.get(NAME)
        if cached is not None:
            return cached
        spec = pod.pod.spec
        own = list(spec.topology_spread_constraints) if spec else []
        out: list[Constraint] = []
        error = ""
        if own:
            for c in own:
                try:
                    selector = from_label_selector(c.label_selector)
                except SelectorError as err:
                    error = f"invalid topology spread constraint labelSelector: {err}"
                    break
                extra = [
                    Requirement(key, Operator.IN, (pod.labels[key],))
                    for key in c.match_label_keys
                    if key in pod.labels
                ]
                if extra:
                    selector = selector.add(*extra)
                out.append(self._constraint(c, pod, selector, ""))
        elif pod.controller_uid:
            out = [self._constraint(c, pod, None, pod.controller_uid) for c in self.defaults]
        result = (tuple(out), bool(own), error)
        pod.memo[NAME] = result
        return result

    @staticmethod
    def _constraint(
        c: TopologySpreadConstraint, pod: PodInfo, selector: LabelSelectorExpr | None, owner: str
    ) -> Constraint:
        return Constraint(
            max_skew=max(c.max_skew, 1),
            topology_key=c.topology_key,
            hard=c.when_unsatisfiable == DO_NOT_SCHEDULE,
            selector=selector,
            owner=owner,
            namespace=pod.namespace,
            min_domains=c.min_domains or 1,
            honor_affinity=(c.node_affinity_policy or "Honor") == "Honor",
            honor_taints=(c.node_taints_policy or "Ignore") == "Honor",
        )

    def _matching(self, pod: PodInfo, c: Constraint) -> dict[str, int]:
        """Node name -> pods that ``c`` counts on it (not terminating, not ``pod``).

        Few candidates are counted one by one; many are counted per node, with each
        node's count kept until that node's generation changes.
        """
        cache = self.handle.cache
        if c.selector is None:
            candidates = cache.by_controller.get(c.owner, {})
        else:
            candidates = cache.by_namespace.get(pod.namespace, {})
        counts: dict[str, int] = {}
        if len(candidates) <= len(cache.nodes):
            for other in candidates.values():
                if other.terminating or other.key == pod.key or not c.matches(other):
                    continue
                counts[other.node_name] = counts.get(other.node_name, 0) + 1
            return counts
        key = (c.namespace, c.selector, c.owner)
        memo = self._counts.get(key)
        if memo is None:
            if len(self._counts) >= _MEMO_KEYS:
                self._counts.clear()
            memo = self._counts[key] = {}
        for name, info in cache.nodes.items():
            hit = memo.get(name)
            if hit is not None and hit[0] == info.generation:
                n = hit[1]
            else:
                n = sum(1 for o in info.pods.values() if not o.terminating and c.matches(o))
                memo[name] = (info.generation, n)
            if n:
                counts[name] = n
        me = cache.pods.get(pod.key)
        if me is not None and not me.terminating and c.matches(me) and counts.get(me.node_name):
            counts[me.node_name] -= 1
        return counts

    @staticmethod
    def _eligible(
        pod: PodInfo, node: NodeInfo, c: Constraint, affinity: RequiredNodeAffinity
    ) -> bool:
        if c.honor_affinity and not affinity.empty and not affinity.matches(node.labels, node.name):
            return False
        return not (
            c.honor_taints
            and node.hard_taints
            and find_untolerated_taint(node.hard_taints, pod.tolerations) is not None
        )

    # --- filter: DoNotSchedule -----------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: PodInfo) -> Status | None:
        constraints, _own, error = self.constraints(pod)
        if error:
            return unschedulable(error, resolvable=False)
        hard = [c for c in constraints if c.hard]
        if not hard:
            return SKIP
        cache = self.handle.cache
        affinity = required_node_affinity(pod)
        keys = [c.topology_key for c in hard]
        trivial = all(not c.honor_taints and (not c.honor_affinity or affinity.empty) for c in hard)
        domains: list[set[str]] = [set() for _ in hard]
        if trivial and len(set(keys)) == 1:
            for i in range(len(hard)):
                domains[i] = set(cache.label_values.get(keys[0], {}))
        else:
            for node in cache.node_list():
                labels = node.labels
                if not all(k in labels for k in keys):
                    continue
                for i, c in enumerate(hard):
                    if self._eligible(pod, node, c, affinity):
                        domains[i].add(labels[c.topology_key])
        counts: list[dict[str, int]] = [dict.fromkeys(d, 0) for d in domains]
        eligible: dict[tuple[str, int], bool] = {}
        for i, c in enumerate(hard):
            for node_name, n in self._matching(pod, c).items():
                host = cache.nodes.get(node_name)
                if host is None or host.node is None:
                    continue
                labels = host.labels
                if not all(k in labels for k in keys):
                    continue
                memo = (host.name, i)
                ok = eligible.get(memo)
                if ok is None:
                    ok = eligible[memo] = self._eligible(pod, host, c, affinity)
                if ok:
                    value = labels[c.topology_key]
                    counts[i][value] = counts[i].get(value, 0) + n
        minimums = []
        for i, c in enumerate(hard):
            if len(counts[i]) < c.min_domains:
                minimums.append(0)
            else:
                minimums.append(min(counts[i].values(), default=_NO_MINIMUM))
        self_match = [c.matches(pod) for c in hard]
        state.data[NAME] = (hard, counts, minimums, self_match)
        return None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        found = state.data.get(NAME)
        if found is None:
            if self.pre_filter(state, pod) is not None:
                return None
            found = state.data[NAME]
        hard, counts, minimums, self_match = found
        labels = node.labels
        for i, c in enumerate(hard):
            value = labels.get(c.topology_key)
            if value is None:
                return unschedulable(REASON_MISSING_LABEL, resolvable=False)
            skew = counts[i].get(value, 0) + (1 if self_match[i] else 0) - minimums[i]
            if skew > c.max_skew:
                return unschedulable(REASON)
        return None

    # --- score: ScheduleAnyway -----------------------------------------------------------

    def skips(self, state: CycleState, pod: PodInfo) -> bool:
        constraints, _own, error = self.constraints(pod)
        return bool(error) or all(c.hard for c in constraints)

    def pre_score(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> Status | None:
        constraints, own, error = self.constraints(pod)
        soft = [c for c in constraints if not c.hard]
        if error or not soft:
            return SKIP
        require_all = own or not self.system_defaulted
        keys = [c.topology_key for c in soft]
        ignored: set[str] = set()
        pair_counts: dict[Pair, int] = {}
        sizes = [0] * len(soft)
        for node in nodes:
            labels = node.labels
            if require_all and not all(k in labels for k in keys):
                ignored.add(node.name)
                continue
            for i, c in enumerate(soft):
                if c.topology_key == LABEL_HOSTNAME:
                    continue
                value = labels.get(c.topology_key)
                if value is None:
                    continue
                pair = (c.topology_key, value)
                if pair not in pair_counts:
                    pair_counts[pair] = 0
                    sizes[i] += 1
        weights = []
        for i, c in enumerate(soft):
            size = len(nodes) - len(ignored) if c.topology_key == LABEL_HOSTNAME else sizes[i]
            weights.append(math.log(size + 2))
        cache = self.handle.cache
        affinity = required_node_affinity(pod)
        host_counts: list[dict[str, int]] = [{} for _ in soft]
        for i, c in enumerate(soft):
            for node_name, n in self._matching(pod, c).items():
                host = cache.nodes.get(node_name)
                if host is None or host.node is None:
                    continue
                labels = host.labels
                if c.topology_key == LABEL_HOSTNAME:
                    host_counts[i][host.name] = host_counts[i].get(host.name, 0) + n
                    continue
                if require_all and not all(k in labels for k in keys):
                    continue
                if not self._eligible(pod, host, c, affinity):
                    continue
                value = labels.get(c.topology_key)
                if value is None:
                    continue
                pair = (c.topology_key, value)
                if pair in pair_counts:
                    pair_counts[pair] += n
        state.data[NAME + "/score"] = (soft, weights, pair_counts, host_counts, ignored)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        found = state.data.get(NAME + "/score")
        if found is None:
            return 0
        soft, weights, pair_counts, host_counts, ignored = found
        if node.name in ignored:
            return 0
        labels = node.labels
        total = 0.0
        for i, c in enumerate(soft):
            value = labels.get(c.topology_key)
            if value is None:
                continue
            if c.topology_key == LABEL_HOSTNAME:
                count = host_counts[i].get(node.name, 0)
            else:
                count = pair_counts.get((c.topology_key, value), 0)
            total += count * weights[i] + (c.max_skew - 1)
        return math.floor(total + 0.5)

    def normalize(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo], scores: list[int]
    ) -> None:
        found = state.data.get(NAME + "/score")
        ignored: set[str] = found[4] if found is not None else set()
        valid = [s for node, s in zip(nodes, scores, strict=True) if node.name not in ignored]
        if not valid:
            scores[:] = [0] * len(scores)
            return
        low, high = min(valid), max(valid)
        for i, node in enumerate(nodes):
            if node.name in ignored:
                scores[i] = 0
            elif high == 0:
                scores[i] = MAX_NODE_SCORE
            else:
                scores[i] = MAX_NODE_SCORE * (high + low - scores[i]) // high
