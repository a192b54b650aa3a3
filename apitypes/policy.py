"""policy/v1: PodDisruptionBudget and Eviction.

An Eviction is never stored: it is the body of ``POST .../pods/{name}/eviction``,
which deletes the pod only if no PodDisruptionBudget covering it would be broken.
"""

from __future__ import annotations

from pydantic import Field

from apitypes.base import (
    PATCH_STRATEGY,
    IntOrString,
    KubeModel,
    KubeObject,
    Time,
    mapping,
    merge_list,
)
from apitypes.meta import Condition, DeleteOptions, LabelSelector, ObjectMeta


class PodDisruptionBudgetSpec(KubeModel):
    """At most one of ``min_available`` and ``max_unavailable`` is set: a count or a percentage."""

    min_available: IntOrString | None = None
    """Pods that must remain available after an eviction: a number or a percentage. Not with
    maxUnavailable."""
    # Kubernetes patches the selector with strategy "replace": a patch that sets it
    # replaces the whole selector instead of merging its labels into the old one.
    selector: LabelSelector | None = Field(
        default=None, json_schema_extra={PATCH_STRATEGY: "replace"}
    )
    """The pods the budget covers. An empty selector covers every pod of the namespace."""
    max_unavailable: IntOrString | None = None
    """Pods that may be unavailable after an eviction: a number or a percentage. Not with
    minAvailable."""
    unhealthy_pod_eviction_policy: str | None = None
    """When pods not ready may be evicted: IfHealthyBudget (the default: only while the budget
    is met) or AlwaysAllow."""


class PodDisruptionBudgetStatus(KubeModel):
    """The observed state of a disruption budget."""

    observed_generation: int | None = None
    """The generation the status was computed for."""
    # Pod name -> when the eviction subresource let it go, until the disruption
    # controller sees the pod deleted.
    disrupted_pods: dict[str, Time] = mapping()
    """Pods evicted whose deletion is not seen yet, with when; entries expire after a while."""
    disruptions_allowed: int | None = None
    """How many more disruptions are allowed now."""
    current_healthy: int | None = None
    """Pods healthy now."""
    desired_healthy: int | None = None
    """Pods that must stay healthy."""
    expected_pods: int | None = None
    """Pods the budget counts (from their controllers' scale)."""
    conditions: list[Condition] = merge_list("type")
    """The budget's conditions (DisruptionAllowed)."""


class PodDisruptionBudget(KubeObject):
    """Bounds how many pods of a set may be down at once through voluntary disruptions
    (evictions, drains)."""

    API_VERSION = "policy/v1"
    KIND = "PodDisruptionBudget"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: PodDisruptionBudgetSpec | None = None
    """The pods covered and how many must stay available."""
    status: PodDisruptionBudgetStatus | None = None
    """The most recently observed numbers of healthy pods and allowed disruptions."""


class Eviction(KubeObject):
    """A request to evict the pod named by ``metadata``, with options for its deletion."""

    API_VERSION = "policy/v1"
    KIND = "Eviction"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """The pod to evict: its name and namespace."""
    delete_options: DeleteOptions | None = None
    """Options of the pod's deletion."""


__all__ = [
    "Eviction",
    "PodDisruptionBudget",
    "PodDisruptionBudgetSpec",
    "PodDisruptionBudgetStatus",
]
