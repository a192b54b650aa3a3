"""The framework runtime: one profile's plugins, instantiated, ordered and run.

``Framework`` builds the plugins a profile enables (each from the registry, with its
args), orders them per extension point, and runs a scheduling decision through them:
PreFilter, Filter over the sampled nodes, PreScore, Score with normalisation and
weights. It memoises, per class of pods with equal plugin signatures, each node's
verdict and weighted score until that node changes. ``run_*`` methods never raise.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from typing import Any

from scheduler.clusterevents import ClusterEvent
from scheduler.config import Profile
from scheduler.framework import (
    Code,
    CycleState,
    FilterPlugin,
    Handle,
    Plugin,
    PreEnqueuePlugin,
    PreFilterPlugin,
    PreFilterResult,
    PreScorePlugin,
    Registry,
    ScorePlugin,
    Status,
    unschedulable,
)
from scheduler.nodeinfo import NodeInfo
from scheduler.podinfo import PodInfo

log = logging.getLogger(__name__)

MEMO_CLASSES = 64
MISSING: Any = object()


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
