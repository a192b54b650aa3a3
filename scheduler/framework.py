"""The scheduling framework: the plugin interfaces and the types they speak.

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
(``events``, a :class:`ClusterEvent`), so that the queue retries a pod only when
something relevant changed. ``runtime.Framework`` runs a profile's plugins.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, ClassVar

from scheduler.cache import Cache
from scheduler.clusterevents import ClusterEvent
from scheduler.nodeinfo import NodeInfo
from scheduler.podinfo import PodInfo

MAX_NODE_SCORE = 100


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


__all__ = [
    "MAX_NODE_SCORE",
    "NO_NODES_AVAILABLE",
    "SKIP",
    "ClusterEvent",
    "Code",
    "CycleState",
    "Diagnosis",
    "FilterPlugin",
    "Handle",
    "Plugin",
    "PreEnqueuePlugin",
    "PreFilterPlugin",
    "PreFilterResult",
    "PreScorePlugin",
    "Registry",
    "ScorePlugin",
    "Status",
    "default_normalize",
    "fit_error_message",
    "unschedulable",
]
