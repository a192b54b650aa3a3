"""Which nodes a pod may run on: node selectors, required node affinity, taints.

The DaemonSet controller decides placement itself (then pins each pod to its node with
a ``metadata.name`` node-affinity term for the scheduler), so it needs the same
predicates the scheduler applies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from apitypes.core import (
    Affinity,
    Node,
    NodeAffinity,
    NodeSelector,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    PodSpec,
    Taint,
    Toleration,
)

NAME_FIELD = "metadata.name"

# What Kubernetes' DaemonSet controller adds to every daemon pod, so that daemons run on
# nodes that are not ready, unreachable, under pressure, or cordoned.
DAEMON_TOLERATIONS = (
    Toleration(key="node.kubernetes.io/not-ready", operator="Exists", effect="NoExecute"),
    Toleration(key="node.kubernetes.io/unreachable", operator="Exists", effect="NoExecute"),
    Toleration(key="node.kubernetes.io/disk-pressure", operator="Exists", effect="NoSchedule"),
    Toleration(key="node.kubernetes.io/memory-pressure", operator="Exists", effect="NoSchedule"),
    Toleration(key="node.kubernetes.io/pid-pressure", operator="Exists", effect="NoSchedule"),
    Toleration(key="node.kubernetes.io/unschedulable", operator="Exists", effect="NoSchedule"),
)
HOST_NETWORK_TOLERATION = Toleration(
    key="node.kubernetes.io/network-unavailable", operator="Exists", effect="NoSchedule"
)


def _requirement_matches(req: NodeSelectorRequirement, values: dict[str, str]) -> bool:
    present = req.key in values
    value = values.get(req.key, "")
    op = req.operator
    if op == "In":
        return present and value in req.values
    if op == "NotIn":
        return not present or value not in req.values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt"):
        if not present or len(req.values) != 1:
            return False
        try:
            have, bound = int(value), int(req.values[0])
        except ValueError:
            return False
        return have > bound if op == "Gt" else have < bound
    return False


def term_matches(term: NodeSelectorTerm, node: Node) -> bool:
    """All requirements of one term hold; a term with none matches nothing."""
    if not term.match_expressions and not term.match_fields:
        return False
    labels = node.metadata.labels
    fields = {NAME_FIELD: node.metadata.name or ""}
    return all(_requirement_matches(r, labels) for r in term.match_expressions) and all(
        _requirement_matches(r, fields) for r in term.match_fields
    )


def selector_matches(selector: NodeSelector, node: Node) -> bool:
    """Any term holds (terms are ORed)."""
    return any(term_matches(term, node) for term in selector.node_selector_terms)


def required_placement_matches(spec: PodSpec, node: Node) -> bool:
    """``nodeSelector`` and required node affinity both admit ``node``."""
    labels = node.metadata.labels
    if any(labels.get(k) != v for k, v in spec.node_selector.items()):
        return False
    affinity = spec.affinity.node_affinity if spec.affinity else None
    required = affinity.required_during_scheduling_ignored_during_execution if affinity else None
    return required is None or selector_matches(required, node)


def untolerated(
    taints: Iterable[Taint], tolerations: Sequence[Toleration], effects: set[str]
) -> Taint | None:
    for taint in taints:
        if taint.effect not in effects:
            continue
        if not any(t.tolerates(taint) for t in tolerations):
            return taint
    return None


def with_daemon_tolerations(spec: PodSpec) -> PodSpec:
    """``spec`` plus the tolerations every daemon pod gets (the ones it lacks)."""
    out = spec.model_copy(deep=True)
    extra = list(DAEMON_TOLERATIONS)
    if spec.host_network:
        extra.append(HOST_NETWORK_TOLERATION)
    for tol in extra:
        if not any(_same_toleration(tol, have) for have in out.tolerations):
            out.tolerations.append(tol.model_copy())
    return out


def _same_toleration(a: Toleration, b: Toleration) -> bool:
    return (a.key, a.operator or "Equal", a.effect, a.value) == (
        b.key,
        b.operator or "Equal",
        b.effect,
        b.value,
    )


def pin_to_node(spec: PodSpec, node_name: str) -> None:
    """Require ``node_name`` through node affinity, as Kubernetes pins daemon pods: every
    required term gets ``matchFields metadata.name In [node]`` (one term if none)."""
    pin = NodeSelectorRequirement(key=NAME_FIELD, operator="In", values=[node_name])
    if spec.affinity is None:
        spec.affinity = Affinity()
    if spec.affinity.node_affinity is None:
        spec.affinity.node_affinity = NodeAffinity()
    node_affinity = spec.affinity.node_affinity
    required = node_affinity.required_during_scheduling_ignored_during_execution
    if required is None or not required.node_selector_terms:
        node_affinity.required_during_scheduling_ignored_during_execution = NodeSelector(
            node_selector_terms=[NodeSelectorTerm(match_fields=[pin])]
        )
        return
    for term in required.node_selector_terms:
        term.match_fields = [pin]


def pinned_node(spec: PodSpec | None) -> str | None:
    """The node a pod is pinned to by a ``metadata.name In [x]`` required term."""
    if spec is None or spec.affinity is None or spec.affinity.node_affinity is None:
        return None
    required = spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
    if required is None:
        return None
    for term in required.node_selector_terms:
        for field in term.match_fields:
            if field.key == NAME_FIELD and field.operator == "In" and len(field.values) == 1:
                return field.values[0]
    return None


def should_run(spec: PodSpec, node: Node) -> tuple[bool, bool]:
    """(should a daemon pod run on ``node``, may an existing one keep running there).

    ``spec`` already carries the daemon tolerations. A node that does not match the
    selectors or affinity gets no pod; an untolerated NoExecute taint evicts one; an
    untolerated NoSchedule taint only stops new ones.
    """
    if not required_placement_matches(spec, node):
        return False, False
    taints = node.taints()
    if untolerated(taints, spec.tolerations, {"NoExecute"}) is not None:
        return False, False
    if untolerated(taints, spec.tolerations, {"NoSchedule"}) is not None:
        return False, True
    return True, True
