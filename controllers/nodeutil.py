"""Daemon pod placement: the tolerations every daemon pod gets, which nodes it should
run on, and pinning a pod to its node.

The DaemonSet controller decides placement itself (then pins each pod to its node with
a ``metadata.name`` node-affinity term for the scheduler), with the same rules the
scheduler applies (:mod:`apitypes.scheduling`).
"""

from __future__ import annotations

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
from apitypes.scheduling import NODE_NAME_FIELD, find_untolerated_taint, required_node_affinity

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
    pin = NodeSelectorRequirement(key=NODE_NAME_FIELD, operator="In", values=[node_name])
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
            if field.key == NODE_NAME_FIELD and field.operator == "In" and len(field.values) == 1:
                return field.values[0]
    return None


def should_run(spec: PodSpec, node: Node) -> tuple[bool, bool]:
    """(should a daemon pod run on ``node``, may an existing one keep running there).

    ``spec`` already carries the daemon tolerations. A node that does not match the
    selectors or affinity gets no pod; an untolerated NoExecute taint evicts one; an
    untolerated NoSchedule taint only stops new ones.
    """
    if not required_node_affinity(spec).matches_node(node):
        return False, False
    taints = node.taints()
    if find_untolerated_taint(taints, spec.tolerations, _no_execute) is not None:
        return False, False
    if find_untolerated_taint(taints, spec.tolerations, _no_schedule) is not None:
        return False, True
    return True, True


def _no_execute(taint: Taint) -> bool:
    return taint.effect == "NoExecute"


def _no_schedule(taint: Taint) -> bool:
    return taint.effect == "NoSchedule"
