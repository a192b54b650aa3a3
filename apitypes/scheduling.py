"""Where a pod may run: node selectors, required node affinity, taints and tolerations.

One implementation for everyone who places or evicts pods: the scheduler (filters and
scores), the DaemonSet controller (which nodes get a daemon pod), the taint-eviction
controller (which pods leave a tainted node, and when). As Kubernetes'
``component-helpers/scheduling/corev1`` (``nodeaffinity``, ``helpers``) and the core v1
helpers:

- ``nodeSelector`` and required node affinity must both admit the node; affinity terms
  are ORed, the requirements inside a term ANDed.
- A term that cannot be parsed (an unknown operator, ``In`` with no values, ``Exists``
  with values, ``Gt`` with a non-integer, an invalid label key or value, a
  ``matchFields`` requirement that is not ``In``/``NotIn`` with exactly one value)
  matches no node, but does not stop the other terms from matching. An empty term
  matches no node either.
- Node labels compared with ``Gt``/``Lt`` must be integers as Go's ``ParseInt`` reads
  them, or the requirement fails.
- ``matchFields`` sees one field, ``metadata.name``; a requirement on another key
  compares against the empty string.
- A taint is tolerated by a toleration with the same effect (or none), the same key
  (or none), and the same value (operator ``Equal``, the default) or any value
  (``Exists``). The taint-eviction controller counts only the first toleration that
  tolerates each taint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from apitypes.core import Node, NodeSelectorTerm, Pod, PodSpec, Taint, Toleration
from apitypes.selectors import LabelSelectorExpr, Operator, Requirement, SelectorError

NODE_NAME_FIELD: Final = "metadata.name"
"""The one field of a Node that ``matchFields`` can select on."""

_NODE_OPERATORS = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
    "Gt": Operator.GREATER_THAN,
    "Lt": Operator.LESS_THAN,
}


# --- node affinity ---------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class CompiledTerm:
    """A parsed ``NodeSelectorTerm``: its label requirements AND its field tests."""

    labels: LabelSelectorExpr
    fields: tuple[tuple[str, str, bool], ...]  # (key, value, equal: In rather than NotIn)

    def matches(self, labels: Mapping[str, str], name: str) -> bool:
        """Whether a node with ``labels`` and ``name`` satisfies the term."""
        if self.fields and name:  # Kubernetes skips the fields of a node without a name
            for key, value, equal in self.fields:
                have = name if key == NODE_NAME_FIELD else ""
                if (have == value) != equal:
                    return False
        return self.labels.matches(labels)


def compile_term(term: NodeSelectorTerm) -> CompiledTerm | None:
    """The term compiled, or None when it matches no node (empty or unparsable)."""
    if not term.match_expressions and not term.match_fields:
        return None
    requirements: list[Requirement] = []
    for expr in term.match_expressions:
        operator = _NODE_OPERATORS.get(expr.operator)
        if operator is None:
            return None
        try:
            requirements.append(Requirement.new(expr.key, operator, expr.values))
        except SelectorError:
            return None
    fields: list[tuple[str, str, bool]] = []
    for expr in term.match_fields:
        if expr.operator not in ("In", "NotIn") or len(expr.values) != 1:
            return None
        fields.append((expr.key, expr.values[0], expr.operator == "In"))
    return CompiledTerm(LabelSelectorExpr(requirements), tuple(fields))


@dataclass(slots=True, frozen=True)
class RequiredNodeAffinity:
    """A pod's ``nodeSelector`` AND (any of its required node affinity terms, if given).

    Immutable and hashable, so that callers can memoise per pod and compare pods.
    """

    selector: tuple[tuple[str, str], ...]
    terms: tuple[CompiledTerm, ...] | None  # None: no required node affinity at all

    @property
    def empty(self) -> bool:
        """True when the pod may run on any node as far as these rules go."""
        return not self.selector and self.terms is None

    def matches(self, labels: Mapping[str, str], name: str) -> bool:
        """Whether a node with ``labels`` and ``name`` is admitted."""
        for key, value in self.selector:
            if labels.get(key) != value:
                return False
        if self.terms is None:
            return True
        return any(term.matches(labels, name) for term in self.terms)

    def matches_node(self, node: Node) -> bool:
        return self.matches(node.metadata.labels, node.metadata.name or "")


def required_node_affinity(spec: PodSpec | None) -> RequiredNodeAffinity:
    """The pod's node selector and required node affinity, compiled
    (``nodeaffinity.GetRequiredNodeAffinity``)."""
    if spec is None:
        return RequiredNodeAffinity((), None)
    node_affinity = spec.affinity.node_affinity if spec.affinity else None
    required = (
        node_affinity.required_during_scheduling_ignored_during_execution if node_affinity else None
    )
    terms: tuple[CompiledTerm, ...] | None = None
    if required is not None:
        compiled = (compile_term(t) for t in required.node_selector_terms)
        terms = tuple(t for t in compiled if t is not None)
    return RequiredNodeAffinity(tuple(sorted(spec.node_selector.items())), terms)


# --- taints and tolerations ------------------------------------------------------------


def tolerates(tolerations: Iterable[Toleration], taint: Taint) -> bool:
    """Whether any of ``tolerations`` tolerates ``taint`` (``TolerationsTolerateTaint``)."""
    return any(t.tolerates(taint) for t in tolerations)


def find_untolerated_taint(
    taints: Iterable[Taint],
    tolerations: Sequence[Toleration],
    include: Callable[[Taint], bool] | None = None,
) -> Taint | None:
    """The first taint (of those ``include`` accepts) that no toleration tolerates
    (``FindMatchingUntoleratedTaint``); None when every one is tolerated."""
    for taint in taints:
        if include is not None and not include(taint):
            continue
        if not tolerates(tolerations, taint):
            return taint
    return None


def matching_tolerations(
    taints: Sequence[Taint], tolerations: Sequence[Toleration]
) -> list[Toleration] | None:
    """For each taint, the first toleration that tolerates it (``GetMatchingTolerations``);
    None when some taint is tolerated by none."""
    used: list[Toleration] = []
    for taint in taints:
        first = next((t for t in tolerations if t.tolerates(taint)), None)
        if first is None:
            return None
        used.append(first)
    return used


NOT_READY: Final = "node.kubernetes.io/not-ready"
UNREACHABLE: Final = "node.kubernetes.io/unreachable"


def default_tolerations(
    pod: Pod, not_ready_seconds: int, unreachable_seconds: int
) -> list[Toleration]:
    """A pod's tolerations plus what Kubernetes' DefaultTolerationSeconds admission adds.

    As that plugin, a toleration counts as the pod's own for a taint when its key is the
    taint's (or empty) and its effect NoExecute (or empty), whatever its operator and value.
    """
    tolerations = list(pod.spec.tolerations) if pod.spec else []
    for key, seconds in ((NOT_READY, not_ready_seconds), (UNREACHABLE, unreachable_seconds)):
        if not any(
            t.key in (None, "", key) and t.effect in (None, "", "NoExecute") for t in tolerations
        ):
            tolerations.append(
                Toleration(
                    key=key, operator="Exists", effect="NoExecute", toleration_seconds=seconds
                )
            )
    return tolerations


__all__ = [
    "NODE_NAME_FIELD",
    "NOT_READY",
    "UNREACHABLE",
    "CompiledTerm",
    "RequiredNodeAffinity",
    "compile_term",
    "default_tolerations",
    "find_untolerated_taint",
    "matching_tolerations",
    "required_node_affinity",
    "tolerates",
]
