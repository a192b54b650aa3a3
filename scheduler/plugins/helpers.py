"""Matching shared by several plugins: node selectors and affinity, tolerations.

Node selector terms are compiled once per pod version (memoised on the ``PodInfo``)
into label selectors plus ``metadata.name`` field tests. As in Kubernetes, a term
that cannot be parsed (an unknown operator, ``Gt`` with a non-number, an empty ``In``)
matches no node, but does not stop the other terms from matching; an empty term
matches no node either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from apitypes.core import NodeSelectorTerm, Taint, Toleration
from apitypes.selectors import LabelSelectorExpr, Operator, Requirement, SelectorError
from scheduler.nodeinfo import NodeInfo
from scheduler.podinfo import PodInfo

NAME_FIELD = "metadata.name"
_NODE_OPERATORS = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
    "Gt": Operator.GREATER_THAN,
    "Lt": Operator.LESS_THAN,
}


@dataclass(slots=True, frozen=True)
class CompiledTerm:
    """A parsed ``NodeSelectorTerm``: labels AND ``metadata.name`` tests."""

    labels: LabelSelectorExpr
    names: tuple[tuple[bool, str], ...]  # (is In, name)

    def matches(self, labels: Mapping[str, str], name: str) -> bool:
        for is_in, value in self.names:
            if (name == value) != is_in:
                return False
        return self.labels.matches(labels)


def compile_term(term: NodeSelectorTerm) -> CompiledTerm | None:
    """None for a term that matches nothing (empty or invalid)."""
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
    names: list[tuple[bool, str]] = []
    for expr in term.match_fields:
        # Nodes have one selectable field; In and NotIn take exactly one name.
        if expr.key != NAME_FIELD or expr.operator not in ("In", "NotIn"):
            return None
        if len(expr.values) != 1:
            return None
        names.append((expr.operator == "In", expr.values[0]))
    return CompiledTerm(LabelSelectorExpr(requirements), tuple(names))


@dataclass(slots=True, frozen=True)
class RequiredNodeAffinity:
    """``nodeSelector`` AND (any of the required node affinity terms, if given)."""

    selector: tuple[tuple[str, str], ...]
    terms: tuple[CompiledTerm, ...] | None  # None: no required node affinity at all

    @property
    def empty(self) -> bool:
        return not self.selector and self.terms is None

    def matches(self, node: NodeInfo) -> bool:
        labels = node.labels
        for key, value in self.selector:
            if labels.get(key) != value:
                return False
        if self.terms is None:
            return True
        name = node.name
        return any(term.matches(labels, name) for term in self.terms)


def required_node_affinity(pod: PodInfo) -> RequiredNodeAffinity:
    """The pod's node selector and required node affinity, compiled (memoised)."""
    cached = pod.memo.get("required_node_affinity")
    if cached is not None:
        return cached
    spec = pod.pod.spec
    selector: tuple[tuple[str, str], ...] = ()
    terms: tuple[CompiledTerm, ...] | None = None
    if spec is not None:
        selector = tuple(sorted(spec.node_selector.items()))
        node_affinity = spec.affinity.node_affinity if spec.affinity else None
        required = (
            node_affinity.required_during_scheduling_ignored_during_execution
            if node_affinity
            else None
        )
        if required is not None:
            compiled = (compile_term(t) for t in required.node_selector_terms)
            terms = tuple(t for t in compiled if t is not None)
    result = RequiredNodeAffinity(selector, terms)
    pod.memo["required_node_affinity"] = result
    return result


def first_untolerated(taints: Iterable[Taint], tolerations: Sequence[Toleration]) -> Taint | None:
    """The first taint none of ``tolerations`` tolerates, if any."""
    for taint in taints:
        if not any(t.tolerates(taint) for t in tolerations):
            return taint
    return None


def tolerates(tolerations: Sequence[Toleration], taint: Taint) -> bool:
    return any(t.tolerates(taint) for t in tolerations)
