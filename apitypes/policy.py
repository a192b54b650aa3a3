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
    # Kubernetes patches the selector with strategy "replace": a patch that sets it
    # replaces the whole selector instead of merging its labels into the old one.
    selector: LabelSelector | None = Field(
        default=None, json_schema_extra={PATCH_STRATEGY: "replace"}
    )
    max_unavailable: IntOrString | None = None
    unhealthy_pod_eviction_policy: str | None = None


class PodDisruptionBudgetStatus(KubeModel):
    observed_generation: int | None = None
    # Pod name -> when the eviction subresource let it go, until the disruption
    # controller sees the pod deleted.
    disrupted_pods: dict[str, Time] = mapping()
    disruptions_allowed: int | None = None
    current_healthy: int | None = None
    desired_healthy: int | None = None
    expected_pods: int | None = None
    conditions: list[Condition] = merge_list("type")


class PodDisruptionBudget(KubeObject):
    API_VERSION = "policy/v1"
    KIND = "PodDisruptionBudget"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: PodDisruptionBudgetSpec | None = None
    status: PodDisruptionBudgetStatus | None = None


class Eviction(KubeObject):
    """A request to evict the pod named by ``metadata``, with options for its deletion."""

    API_VERSION = "policy/v1"
    KIND = "Eviction"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    delete_options: DeleteOptions | None = None


__all__ = [
    "Eviction",
    "PodDisruptionBudget",
    "PodDisruptionBudgetSpec",
    "PodDisruptionBudgetStatus",
]
