"""The scheduling framework: plugin interfaces, and the profile that runs them.

A scheduling decision for one pod goes through extension points, as in Kubernetes:

    PreEnqueue   may the pod enter the active queue at all (scheduling gates)?
    PreFilter    per pod: precompute, reject outright, skip the plugin's Filter, or
                 narrow the candidates to a set of node names
    Filter       per node: can the pod run there? (a Status with reasons if not)
    PreScore     per pod, given the feasible nodes: precompute, or skip the Score
    Score        per node: 0..100 after the plugin's normalisation, times its weight

Every plugin is one small class; it subclasses the base class of each extension point
it implements. Filter and Score have a per-node method (``filter``, ``score``) that is
the contract, and a batch method (``filter_nodes``, ``score_nodes``) that the framework
calls; the batch methods loop over the per-node ones by default, and hot plugins
override them with a tight loop that means the same. Plugins never raise for bad pod
or node content; an exception is a bug, reported as an ERROR status for that pod.

Plugins also say which cluster events could make a pod they rejected schedulable
(``events``), so that the queue retries a pod only when something relevant changed.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag
from typing import TYPE_CHECKING, Any, ClassVar

from scheduler.nodeinfo import NodeInfo
from scheduler.podinfo import PodInfo

if TYPE_CHECKING:
    from scheduler.cache import Cache
    from scheduler.config import Profile

log = logging.getLogger(__name__)

MAX_NODE_SCORE = 100
MEMO_CLASSES = 64
MISSING: Any = object()


class Code(IntEnum):
    SUCCESS = 0
    ERROR = 1
    UNSCHEDULABLE = 2
    # No amount of preemption on this node would help (a label, a taint, a name).
    UNSCHEDULABLE_AND_UNRESOLVABLE = 3
    SKIP = 4


@dataclass(slots=True, frozen=True)
class Status:
    """A plugin's verdict; success is spelled ``None`` on the hot paths."""

    code: Code
    reasons: tuple[str, ...] = ()
    plugin: str = ""

    @property
    def message(self) -> str:
        return ", ".join(self.reasons)

    def rejected(self) -> bool:
        return self.code in (Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)


def unschedulable(*reasons: str, plugin: str = "", resolvable: bool = True) -> Status:
    code = Code.UNSCHEDULABLE if resolvable else Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    return Status(code, reasons, plugin)


SKIP = Status(Code.SKIP)


@dataclass(slots=True, frozen=True)
class PreFilterResult:
    """Only these nodes can possibly fit (a pod pinned by ``metadata.name``)."""

    node_names: frozenset[str]


class ClusterEvent(IntFlag):
    """Changes that may make an unschedulable pod schedulable."""

    NODE_ADD = 1
    NODE_DELETE = 2
    NODE_LABEL = 4
    NODE_TAINT = 8
    NODE_ALLOCATABLE = 16
    NODE_UNSCHEDULABLE = 32
    POD_ADD = 64  # a pod assigned to a node appeared (or was assumed)
    POD_UPDATE = 128  # an assigned pod's labels or requests changed
    POD_DELETE = 256  # an assigned pod went away (or a bind was forgotten)
    NAMESPACE = 512
    NODE_ANY = 63
    POD_ANY = 448


class CycleState:
    """Per-decision scratch space: plugins keep PreFilter/PreScore results here."""

    __slots__ = ("data", "skip_filter", "skip_score")

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.skip_filter: set[str] = set()
        self.skip_score: set[str] = set()


class Handle:
    """What plugins may read: the cache of nodes and assigned/assumed pods, and the
    labels of every namespace (for namespace selectors), kept by the scheduler."""

    def __init__(
        self, cache: Cache, namespaces: dict[str, Mapping[str, str]] | None = None
    ) -> None:
        self.cache = cache
        self.namespaces: dict[str, Mapping[str, str]] = namespaces if namespaces is not None else {}

    def namespace_labels(self, namespace: str) -> Mapping[str, str] | None:
        return self.namespaces.get(namespace)


# --- plugin interfaces ---------------------------------------------------------------------


class Plugin:
    """Base of every plugin. Subclasses set ``name`` and take ``(args, handle)``."""

    name: ClassVar[str] = ""

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        self.args = args
        self.handle = handle

    def events(self) -> ClusterEvent:
        """Events after which a pod this plugin rejected is worth another try."""
        return ClusterEvent(0)

    def signature(self, state: CycleState, pod: PodInfo) -> Hashable | None:
        """What this plugin's per-node Filter and raw Score results depend on, besides
        the node, for ``pod`` in this cycle; None if they depend on anything else (the
        placement of other pods, say).

        With a signature, the framework reuses a node's earlier result for a pod with
        the same signature as long as the node has not changed (its generation): pods
        of one ReplicaSet cost one evaluation per node, not one per pod and node.
        """
        return None


class PreEnqueuePlugin(Plugin):
    def pre_enqueue(self, pod: PodInfo) -> Status | None:
        raise NotImplementedError


class PreFilterPlugin(Plugin):
    def pre_filter(self, state: CycleState, pod: PodInfo) -> Status | PreFilterResult | None:
        """None to go on; ``SKIP`` to skip this plugin's Filter for this pod; a
        rejection to fail the pod on every node; a ``PreFilterResult`` to narrow."""
        raise NotImplementedError


class FilterPlugin(Plugin):
    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        """None if the pod may run on ``node``; else a rejection with reasons."""
        raise NotImplementedError

    def filter_nodes(
        self,
        state: CycleState,
        pod: PodInfo,
        nodes: Sequence[NodeInfo],
        failed: dict[str, Status],
    ) -> list[NodeInfo]:
        """The nodes that pass, in order; each rejected node's status goes to ``failed``."""
        passed: list[NodeInfo] = []
        for node in nodes:
            status = self.filter(state, pod, node)
            if status is None:
                passed.append(node)
            else:
                failed[node.name] = status
        return passed


class PreScorePlugin(Plugin):
    def pre_score(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> Status | None:
        """None to go on; ``SKIP`` to skip this plugin's Score for this pod."""
        raise NotImplementedError


class ScorePlugin(Plugin):
    def skips(self, state: CycleState, pod: PodInfo) -> bool:
        """True only if this plugin's PreScore would certainly return ``SKIP`` for
        ``pod`` (a cheap check that needs no node list; False when unsure)."""
        return False

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        """The raw score of ``node`` (normalised afterwards by ``normalize``)."""
        raise NotImplementedError

    def score_nodes(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]:
        return [self.score(state, pod, node) for node in nodes]

    def normalize(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo], scores: list[int]
    ) -> None:
        """Bring ``scores`` (in place) into 0..100; by default they already are."""


Registry = Mapping[str, type[Plugin]]
"""Plugin name -> plugin class (the class is the factory: ``cls(args, handle)``)."""


def default_normalize(scores: list[int], *, reverse: bool = False) -> None:
    """Scale to 0..100 by the maximum; ``reverse`` makes high raw scores low.

    All-zero scores stay 0 (or all become 100 when reversed), as in Kubernetes.
    """
    top = max(scores, default=0)
    if top == 0:
        if reverse:
            scores[:] = [MAX_NODE_SCORE] * len(scores)
        return
    if reverse:
        scores[:] = [MAX_NODE_SCORE - MAX_NODE_SCORE * s // top for s in scores]
    else:
        scores[:] = [MAX_NODE_SCORE * s // top for s in scores]


# --- diagnosis -----------------------------------------------------------------------------

NO_NODES_AVAILABLE = "no nodes available to schedule pods"


@dataclass
class Diagnosis:
    """Why a pod fits nowhere: the status of every rejected node, and who rejected."""

    node_statuses: dict[str, Status] = field(default_factory=dict)
    unschedulable_plugins: set[str] = field(default_factory=set)
    pre_filter_message: str = ""
    absent_nodes: int = 0
    absent_reason: str = ""
    error: str = ""


def fit_error_message(num_nodes: int, diagnosis: Diagnosis) -> str:
    """Kubernetes' wording: ``0/3 nodes are available: 2 Insufficient cpu, 1 ...``.

    Reasons are counted over nodes, written as "<count> <reason>", and sorted as
    strings, exactly as Kubernetes sorts them.
    """
    if num_nodes == 0:
        return NO_NODES_AVAILABLE
    message = f"0/{num_nodes} nodes are available:"
    if diagnosis.pre_filter_message:
        return f"{message} {diagnosis.pre_filter_message}."
    histogram: Counter[str] = Counter()
    for status in diagnosis.node_statuses.values():
        for reason in status.reasons:
            histogram[reason] += 1
    if diagnosis.absent_nodes:
        histogram[diagnosis.absent_reason] += diagnosis.absent_nodes
    reasons = sorted(f"{count} {reason}" for reason, count in histogram.items())
    if reasons:
        message += " " + ", ".join(reasons) + "."
    return message


# --- a profile's plugins, run ----------------------------------------------------------------


class Framework:
    """The plugins of one profile (one ``schedulerName``), instantiated and ordered.

    ``run_*`` methods never raise: a plugin that throws yields an ERROR status that
    names it, and is logged with its traceback.
    """

    def __init__(self, profile: Profile, registry: Registry, handle: Handle) -> None:
        self.profile = profile
        self.scheduler_name = profile.scheduler_name
        self.handle = handle
        self.percentage_of_nodes_to_score = profile.percentage_of_nodes_to_score
        instances: dict[str, Plugin] = {}

        def get(name: str) -> Plugin:
            plugin = instances.get(name)
            if plugin is None:
                factory = registry.get(name)
                if factory is None:
                    raise ValueError(f"unknown plugin {name!r}")
                plugin = factory(profile.plugin_args.get(name, {}), handle)
                instances[name] = plugin
            return plugin

        def of(point: str, kind: type[Plugin]) -> list[Any]:
            found = []
            for name in profile.plugins.get(point, []):
                plugin = get(name)
                if not isinstance(plugin, kind):
                    raise ValueError(f"plugin {name!r} does not implement {point}")
                found.append(plugin)
            return found

        self.pre_enqueue_plugins: list[PreEnqueuePlugin] = of("preEnqueue", PreEnqueuePlugin)
        self.pre_filter_plugins: list[PreFilterPlugin] = of("preFilter", PreFilterPlugin)
        self.filter_plugins: list[FilterPlugin] = of("filter", FilterPlugin)
        self.pre_score_plugins: list[PreScorePlugin] = of("preScore", PreScorePlugin)
        self.score_plugins: list[tuple[ScorePlugin, int]] = [
            (plugin, profile.weights.get(plugin.name, 1)) for plugin in of("score", ScorePlugin)
        ]
        self.plugins = instances
        # signature -> node name -> (node generation, result); a few pod classes, oldest
        # dropped first.
        self._memo: dict[Hashable, dict[str, tuple[int, Any]]] = {}
        self._tables: dict[Hashable, _Table] = {}
        # Which plugins care about each single event flag.
        self.event_plugins: dict[ClusterEvent, frozenset[str]] = {}
        for flag in ClusterEvent:
            if flag in (ClusterEvent.NODE_ANY, ClusterEvent.POD_ANY):
                continue
            self.event_plugins[flag] = frozenset(
                name for name, plugin in instances.items() if plugin.events() & flag
            )

    def plugins_for(self, event: ClusterEvent) -> frozenset[str]:
        """Names of the plugins that registered any of the flags in ``event``."""
        names: set[str] = set()
        for flag, plugins in self.event_plugins.items():
            if event & flag:
                names |= plugins
        return frozenset(names)

    # --- extension points --------------------------------------------------------------

    def run_pre_enqueue(self, pod: PodInfo) -> Status | None:
        for plugin in self.pre_enqueue_plugins:
            try:
                status = plugin.pre_enqueue(pod)
            except Exception as err:
                return self._error("PreEnqueue", plugin, err)
            if status is not None:
                return Status(status.code, status.reasons, plugin.name)
        return None

    def run_pre_filter(
        self, state: CycleState, pod: PodInfo
    ) -> tuple[frozenset[str] | None, list[str], Status | None]:
        """(nodes the pod is limited to, or None for all; the plugins that limited it;
        a rejection or error, if any)."""
        allowed: frozenset[str] | None = None
        narrowing: list[str] = []
        for plugin in self.pre_filter_plugins:
            try:
                result = plugin.pre_filter(state, pod)
            except Exception as err:
                return None, narrowing, self._error("PreFilter", plugin, err)
            if result is None:
                continue
            if isinstance(result, PreFilterResult):
                narrowing.append(plugin.name)
                allowed = result.node_names if allowed is None else allowed & result.node_names
                if not allowed:
                    reason = (
                        f"node(s) didn't satisfy plugin {narrowing[0]}"
                        if len(narrowing) == 1
                        else f"node(s) didn't satisfy plugin(s) {go_list(narrowing)} simultaneously"
                    )
                    return allowed, narrowing, unschedulable(reason, plugin=plugin.name)
                continue
            if result.code == Code.SKIP:
                state.skip_filter.add(plugin.name)
                continue
            return None, narrowing, Status(result.code, result.reasons, plugin.name)
        return allowed, narrowing, None

    def _memo_table(self, key: Hashable) -> dict[str, tuple[int, Any]]:
        table = self._memo.get(key)
        if table is None:
            if len(self._memo) >= MEMO_CLASSES:
                self._memo.pop(next(iter(self._memo)))
            table = self._memo[key] = {}
        return table

    def _run_filter_plugins(
        self,
        state: CycleState,
        pod: PodInfo,
        plugins: Sequence[FilterPlugin],
        nodes: Sequence[NodeInfo],
        failed: dict[str, Status],
    ) -> list[NodeInfo] | Status:
        remaining: Sequence[NodeInfo] = nodes
        for plugin in plugins:
            if not remaining:
                break
            rejected: dict[str, Status] = {}
            try:
                remaining = plugin.filter_nodes(state, pod, remaining, rejected)
            except Exception as err:
                return self._error("Filter", plugin, err)
            if rejected:
                name = plugin.name
                for node_name, status in rejected.items():
                    failed[node_name] = (
                        status if status.plugin else Status(status.code, status.reasons, name)
                    )
        return list(remaining)

    def run_filters(
        self,
        state: CycleState,
        pod: PodInfo,
        nodes: Sequence[NodeInfo],
        failed: dict[str, Status],
    ) -> list[NodeInfo] | Status:
        """The nodes that pass every filter (in order), or an ERROR status.

        The leading filters that have a signature for this pod run through the memo:
        only nodes that changed since a pod with the same signature was filtered are
        evaluated again. The rest run on whatever passed.
        """
        active = [p for p in self.filter_plugins if p.name not in state.skip_filter]
        prefix: list[FilterPlugin] = []
        signatures: list[tuple[str, Hashable]] = []
        for plugin in active:
            signature = plugin.signature(state, pod)
            if signature is None:
                break
            prefix.append(plugin)
            signatures.append((plugin.name, signature))
        rest = active[len(prefix) :]
        if not prefix:
            return self._run_filter_plugins(state, pod, rest, nodes, failed)
        table = self._memo_table(("filter", tuple(signatures)))
        verdicts: list[Status | None] = []
        stale: list[NodeInfo] = []
        for node in nodes:
            entry = table.get(node.name)
            if entry is not None and entry[0] == node.generation:
                verdicts.append(entry[1])
            else:
                verdicts.append(MISSING)
                stale.append(node)
        if stale:
            fresh_failed: dict[str, Status] = {}
            passed = self._run_filter_plugins(state, pod, prefix, stale, fresh_failed)
            if isinstance(passed, Status):
                return passed
            for node in stale:
                table[node.name] = (node.generation, fresh_failed.get(node.name))
            verdicts = [
                (fresh_failed.get(node.name) if verdict is MISSING else verdict)
                for node, verdict in zip(nodes, verdicts, strict=True)
            ]
        survivors: list[NodeInfo] = []
        for node, verdict in zip(nodes, verdicts, strict=True):
            if verdict is None:
                survivors.append(node)
            else:
                failed[node.name] = verdict
        if not rest:
            return survivors
        return self._run_filter_plugins(state, pod, rest, survivors, failed)

    def run_filters_on(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        """Every filter on one node (per-node path; for tests and diagnostics)."""
        for plugin in self.filter_plugins:
            if plugin.name in state.skip_filter:
                continue
            status = plugin.filter(state, pod, node)
            if status is not None:
                return Status(status.code, status.reasons, plugin.name)
        return None

    def run_score(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> list[int] | Status:
        """Weighted total score per node (same order as ``nodes``), or an ERROR status.

        Raw scores of plugins with a signature for this pod come from the memo where
        the node has not changed; normalisation and weights apply every time.
        """
        if not nodes:
            return []
        for plugin in self.pre_score_plugins:
            try:
                status = plugin.pre_score(state, pod, nodes)
            except Exception as err:
                return self._error("PreScore", plugin, err)
            if status is not None:
                if status.code == Code.SKIP:
                    state.skip_score.add(plugin.name)
                else:
                    return Status(status.code, status.reasons, plugin.name)
        active = [(p, w) for p, w in self.score_plugins if p.name not in state.skip_score]
        memoised: list[tuple[ScorePlugin, int]] = []
        signatures: list[tuple[str, Hashable]] = []
        plain: list[tuple[ScorePlugin, int]] = []
        for scorer, weight in active:
            signature = scorer.signature(state, pod)
            if signature is None:
                plain.append((scorer, weight))
            else:
                memoised.append((scorer, weight))
                signatures.append((scorer.name, signature))
        raw: list[tuple[ScorePlugin, int, list[int]]] = []
        current: ScorePlugin | None = None
        try:
            if memoised:
                table = self._memo_table(("score", tuple(signatures)))
                rows: list[tuple[int, ...] | None] = []
                stale: list[NodeInfo] = []
                for node in nodes:
                    entry = table.get(node.name)
                    if entry is not None and entry[0] == node.generation:
                        rows.append(entry[1])
                    else:
                        rows.append(None)
                        stale.append(node)
                if stale:
                    columns = []
                    for current, _ in memoised:
                        columns.append(current.score_nodes(state, pod, stale))
                    fresh = dict(
                        zip((n.name for n in stale), zip(*columns, strict=True), strict=True)
                    )
                    for node in stale:
                        table[node.name] = (node.generation, fresh[node.name])
                    rows = [
                        fresh[node.name] if row is None else row
                        for node, row in zip(nodes, rows, strict=True)
                    ]
                for (scorer, weight), column in zip(memoised, zip(*rows, strict=True), strict=True):
                    raw.append((scorer, weight, list(column)))
            for current, weight in plain:
                raw.append((current, weight, current.score_nodes(state, pod, nodes)))
        except Exception as err:
            assert current is not None
            return self._error("Score", current, err)
        totals = [0] * len(nodes)
        for scorer, weight, scores in raw:
            try:
                scorer.normalize(state, pod, nodes, scores)
            except Exception as err:
                return self._error("Score", scorer, err)
            if weight == 1:
                totals = [t + s for t, s in zip(totals, scores, strict=True)]
            else:
                totals = [t + weight * s for t, s in zip(totals, scores, strict=True)]
        return totals

    # --- the memoised fast path ----------------------------------------------------------

    def fast_plan(
        self, state: CycleState, pod: PodInfo
    ) -> tuple[list[FilterPlugin], list[tuple[ScorePlugin, int]], Hashable] | None:
        """Filters and scorers for the fast path, and their key; None if it does not apply.

        It applies when every filter still active after PreFilter has a signature and
        every scorer either certainly skips this pod or has a signature and no
        normalisation: then a node's verdict and weighted score are a function of the
        node alone, and can be kept per node until the node changes.
        """
        filters: list[FilterPlugin] = []
        signatures: list[tuple[str, Hashable]] = []
        for plugin in self.filter_plugins:
            if plugin.name in state.skip_filter:
                continue
            signature = plugin.signature(state, pod)
            if signature is None:
                return None
            filters.append(plugin)
            signatures.append((plugin.name, signature))
        scorers: list[tuple[ScorePlugin, int]] = []
        for scorer, weight in self.score_plugins:
            if scorer.skips(state, pod):
                state.skip_score.add(scorer.name)
                continue
            signature = scorer.signature(state, pod)
            if signature is None or type(scorer).normalize is not ScorePlugin.normalize:
                return None
            if isinstance(scorer, PreScorePlugin):
                status = scorer.pre_score(state, pod, ())
                if status is not None:
                    if status.code != Code.SKIP:
                        return None
                    state.skip_score.add(scorer.name)
                    continue
            scorers.append((scorer, weight))
            signatures.append((f"score:{scorer.name}:{weight}", signature))
        return filters, scorers, tuple(signatures)

    def fast_find(
        self,
        state: CycleState,
        pod: PodInfo,
        nodes: list[NodeInfo],
        generations: list[int],
        start: int,
        to_find: int,
        plan: tuple[list[FilterPlugin], list[tuple[ScorePlugin, int]], Hashable],
    ) -> tuple[list[NodeInfo], list[int], int, dict[str, Status]] | Status:
        """Like filtering then scoring from ``start``: (the first ``to_find`` feasible
        nodes, their weighted scores, how many nodes were examined and rejected, the
        rejected nodes' statuses when none was feasible), or an ERROR status.

        ``nodes`` and ``generations`` are the cache's node list and the generation of
        each node; the memo's arrays are aligned with them.
        """
        filters, scorers, key = plan
        table = self._tables.get(key)
        if table is None or table.nodes is not nodes:
            if table is None and len(self._tables) >= MEMO_CLASSES:
                self._tables.pop(next(iter(self._tables)))
            table = self._tables[key] = _Table(nodes)
        count = len(nodes)
        feasible: list[NodeInfo] = []
        scores: list[int] = []
        processed = 0
        while processed < count and len(feasible) < to_find:
            need = to_find - len(feasible)
            size = min(count - processed, need if not processed else max(need * 2, 64))
            begin = (start + processed) % count
            end = begin + size
            spans = [(begin, min(end, count))]
            if end > count:
                spans.append((0, end - count))
            for a, b in spans:
                if generations[a:b] != table.generations[a:b]:
                    error = self._refresh(
                        table, state, pod, nodes, generations, a, b, filters, scorers
                    )
                    if error is not None:
                        return error
                verdicts = table.verdicts[a:b]
                if verdicts.count(None) == b - a:
                    feasible.extend(nodes[a:b])
                    scores.extend(table.totals[a:b])
                else:
                    keep = [a + i for i, v in enumerate(verdicts) if v is None]
                    feasible.extend(nodes[i] for i in keep)
                    scores.extend(table.totals[i] for i in keep)
            processed += size
        rejected = processed - len(feasible)
        del feasible[to_find:]
        del scores[to_find:]
        failed: dict[str, Status] = {}
        if not feasible:
            failed = {
                nodes[i].name: v for i in range(count) if (v := table.verdicts[i]) is not None
            }
        return feasible, scores, rejected, failed

    def _refresh(
        self,
        table: _Table,
        state: CycleState,
        pod: PodInfo,
        nodes: list[NodeInfo],
        generations: list[int],
        a: int,
        b: int,
        filters: list[FilterPlugin],
        scorers: list[tuple[ScorePlugin, int]],
    ) -> Status | None:
        """Recompute the verdicts and scores of the nodes in ``[a, b)`` that changed."""
        stale: list[int] = []
        _differences(generations, table.generations, a, b, stale)
        stale_nodes = [nodes[i] for i in stale]
        failed: dict[str, Status] = {}
        passed = self._run_filter_plugins(state, pod, filters, stale_nodes, failed)
        if isinstance(passed, Status):
            return passed
        scores: dict[str, int] = {}
        if passed:
            totals = [0] * len(passed)
            for scorer, weight in scorers:
                try:
                    column = scorer.score_nodes(state, pod, passed)
                except Exception as err:
                    return self._error("Score", scorer, err)
                totals = [t + weight * s for t, s in zip(totals, column, strict=True)]
            scores = dict(zip((n.name for n in passed), totals, strict=True))
        for i in stale:
            name = nodes[i].name
            table.generations[i] = generations[i]
            verdict = failed.get(name)
            table.verdicts[i] = verdict
            table.totals[i] = scores.get(name, 0) if verdict is None else -1
        return None

    def _error(self, point: str, plugin: Plugin, err: Exception) -> Status:
        log.error("%s plugin %s failed", point, plugin.name, exc_info=err)
        return Status(Code.ERROR, (f"running {point} plugin {plugin.name!r}: {err}",), plugin.name)


def _differences(now: list[int], before: list[int], a: int, b: int, out: list[int]) -> None:
    """Indexes in ``[a, b)`` where the lists differ, found by halving: a handful of
    C-speed slice comparisons when, as usual, only one or two entries changed."""
    if now[a:b] == before[a:b]:
        return
    if b - a <= 16:
        out.extend(i for i in range(a, b) if now[i] != before[i])
        return
    middle = (a + b) // 2
    _differences(now, before, a, middle, out)
    _differences(now, before, middle, b, out)


class _Table:
    """Per pod class, arrays aligned with the cache's node list: the generation each
    entry was computed at, the verdict (None: feasible) and the weighted score."""

    __slots__ = ("generations", "nodes", "totals", "verdicts")

    def __init__(self, nodes: list[NodeInfo]) -> None:
        self.nodes = nodes
        self.generations: list[int] = [-1] * len(nodes)
        self.verdicts: list[Status | None] = [None] * len(nodes)
        self.totals: list[int] = [0] * len(nodes)


def go_list(items: Sequence[str]) -> str:
    """A list as Go's ``%v`` prints it: ``[a b c]``."""
    return "[" + " ".join(items) + "]"
