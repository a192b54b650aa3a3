"""apps/v1: ReplicaSet, Deployment, DaemonSet, StatefulSet, ControllerRevision.

Shapes and wire names follow Kubernetes' ``apps/v1`` types. Every ``status.conditions``
list is merged by ``type`` under strategic merge patch; a Deployment's ``strategy`` is
a union patched with ``$retainKeys`` so that switching to ``Recreate`` drops
``rollingUpdate``.

Counters that Kubernetes always writes (``json`` tag without ``omitempty`` and not
marked optional: ``ReplicaSetStatus.replicas``, the four DaemonSet scheduling counts,
``StatefulSetStatus.replicas``) are required here, so a status this package writes
always carries them, as clients generated from the OpenAPI document expect.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from apitypes.base import (
    IntOrString,
    KubeModel,
    KubeObject,
    Time,
    WireShape,
    items,
    merge_list,
    retain_keys,
)
from apitypes.core import PersistentVolumeClaim, PodTemplateSpec
from apitypes.meta import LabelSelector, ObjectMeta

# Label every pod (and ControllerRevision) of a DaemonSet or StatefulSet carries, naming
# the revision of the template it was made from.
CONTROLLER_REVISION_HASH_LABEL = "controller-revision-hash"
# Label a Deployment adds to its ReplicaSets' selectors and pod templates.
POD_TEMPLATE_HASH_LABEL = "pod-template-hash"
STATEFULSET_POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


class _WorkloadCondition(KubeModel):
    """The condition shape shared by ReplicaSet, DaemonSet and StatefulSet.

    Kubernetes marks ``type`` and ``status`` optional on these (unlike
    ``metav1.Condition``), so they are optional here too.
    """

    type: str | None = None
    status: str | None = None
    last_transition_time: Time | None = None
    reason: str | None = None
    message: str | None = None


# --- ReplicaSet ----------------------------------------------------------------------


class ReplicaSetCondition(_WorkloadCondition):
    pass


class ReplicaSetSpec(KubeModel):
    replicas: int | None = None
    min_ready_seconds: int | None = None
    selector: LabelSelector
    # Unlike the other workloads, Kubernetes lets a ReplicaSet omit its template.
    template: PodTemplateSpec | None = None


class ReplicaSetStatus(KubeModel):
    replicas: int
    fully_labeled_replicas: int | None = None
    ready_replicas: int | None = None
    available_replicas: int | None = None
    terminating_replicas: int | None = None
    observed_generation: int | None = None
    conditions: list[ReplicaSetCondition] = merge_list("type")


class ReplicaSet(KubeObject):
    API_VERSION = "apps/v1"
    KIND = "ReplicaSet"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: ReplicaSetSpec | None = None
    status: ReplicaSetStatus | None = None


# --- Deployment ------------------------------------------------------------------------


class RollingUpdateDeployment(KubeModel):
    """Rollout bounds: absolute pod counts (``1``) or percentages of replicas (``"25%"``)."""

    max_unavailable: IntOrString | None = None
    max_surge: IntOrString | None = None


class DeploymentStrategy(KubeModel):
    type: str | None = None
    rolling_update: RollingUpdateDeployment | None = None


class DeploymentSpec(KubeModel):
    replicas: int | None = None
    selector: LabelSelector
    template: PodTemplateSpec
    strategy: DeploymentStrategy | None = retain_keys()
    min_ready_seconds: int | None = None
    revision_history_limit: int | None = None
    paused: bool | None = None
    progress_deadline_seconds: int | None = None


class DeploymentCondition(KubeModel):
    # Optional in Kubernetes' own definition, see _WorkloadCondition.
    type: str | None = None
    status: str | None = None
    last_update_time: Time | None = None
    last_transition_time: Time | None = None
    reason: str | None = None
    message: str | None = None


class DeploymentStatus(KubeModel):
    observed_generation: int | None = None
    replicas: int | None = None
    updated_replicas: int | None = None
    ready_replicas: int | None = None
    available_replicas: int | None = None
    unavailable_replicas: int | None = None
    terminating_replicas: int | None = None
    conditions: list[DeploymentCondition] = merge_list("type")
    collision_count: int | None = None


class Deployment(KubeObject):
    API_VERSION = "apps/v1"
    KIND = "Deployment"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: DeploymentSpec | None = None
    status: DeploymentStatus | None = None


# --- DaemonSet -------------------------------------------------------------------------


class RollingUpdateDaemonSet(KubeModel):
    max_unavailable: IntOrString | None = None
    max_surge: IntOrString | None = None


class DaemonSetUpdateStrategy(KubeModel):
    type: str | None = None
    rolling_update: RollingUpdateDaemonSet | None = None


class DaemonSetSpec(KubeModel):
    selector: LabelSelector
    template: PodTemplateSpec
    update_strategy: DaemonSetUpdateStrategy | None = None
    min_ready_seconds: int | None = None
    revision_history_limit: int | None = None


class DaemonSetCondition(_WorkloadCondition):
    pass


class DaemonSetStatus(KubeModel):
    current_number_scheduled: int
    number_misscheduled: int
    desired_number_scheduled: int
    number_ready: int
    observed_generation: int | None = None
    updated_number_scheduled: int | None = None
    number_available: int | None = None
    number_unavailable: int | None = None
    collision_count: int | None = None
    conditions: list[DaemonSetCondition] = merge_list("type")


class DaemonSet(KubeObject):
    API_VERSION = "apps/v1"
    KIND = "DaemonSet"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: DaemonSetSpec | None = None
    status: DaemonSetStatus | None = None


# --- StatefulSet -----------------------------------------------------------------------


class RollingUpdateStatefulSetStrategy(KubeModel):
    partition: int | None = None
    max_unavailable: IntOrString | None = None


class StatefulSetUpdateStrategy(KubeModel):
    type: str | None = None
    rolling_update: RollingUpdateStatefulSetStrategy | None = None


class StatefulSetPersistentVolumeClaimRetentionPolicy(KubeModel):
    """What happens to claims made from ``volumeClaimTemplates``: ``Retain`` or ``Delete``."""

    when_deleted: str | None = None
    when_scaled: str | None = None


class StatefulSetOrdinals(KubeModel):
    """Replica indices run from ``start`` to ``start + replicas - 1`` (``start`` unset: 0)."""

    start: int | None = None


class StatefulSetSpec(KubeModel):
    replicas: int | None = None
    selector: LabelSelector
    template: PodTemplateSpec
    # Items are core/v1 PersistentVolumeClaims (an atomic list in Kubernetes). They stay
    # plain dicts (their model only describes the wire shape): the StatefulSet
    # controller reads ``metadata.name`` and copies the rest into each claim.
    volume_claim_templates: list[Annotated[dict[str, Any], WireShape(PersistentVolumeClaim)]] = (
        items()
    )
    service_name: str | None = None
    pod_management_policy: str | None = None
    update_strategy: StatefulSetUpdateStrategy | None = None
    revision_history_limit: int | None = None
    min_ready_seconds: int | None = None
    persistent_volume_claim_retention_policy: (
        StatefulSetPersistentVolumeClaimRetentionPolicy | None
    ) = None
    ordinals: StatefulSetOrdinals | None = None


class StatefulSetCondition(_WorkloadCondition):
    pass


class StatefulSetStatus(KubeModel):
    observed_generation: int | None = None
    replicas: int
    ready_replicas: int | None = None
    current_replicas: int | None = None
    updated_replicas: int | None = None
    current_revision: str | None = None
    update_revision: str | None = None
    collision_count: int | None = None
    conditions: list[StatefulSetCondition] = merge_list("type")
    available_replicas: int | None = None


class StatefulSet(KubeObject):
    API_VERSION = "apps/v1"
    KIND = "StatefulSet"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: StatefulSetSpec | None = None
    status: StatefulSetStatus | None = None


# --- ControllerRevision ----------------------------------------------------------------


class ControllerRevision(KubeObject):
    """An immutable snapshot of a DaemonSet's or StatefulSet's pod template.

    ``data`` is a ``runtime.RawExtension`` in Kubernetes: arbitrary JSON, in practice
    the strategic merge patch that turns the owner's spec into this revision's.
    """

    API_VERSION = "apps/v1"
    KIND = "ControllerRevision"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    data: dict[str, Any]
    revision: int | None = None


__all__ = [
    "CONTROLLER_REVISION_HASH_LABEL",
    "POD_INDEX_LABEL",
    "POD_TEMPLATE_HASH_LABEL",
    "STATEFULSET_POD_NAME_LABEL",
    "ControllerRevision",
    "DaemonSet",
    "DaemonSetCondition",
    "DaemonSetSpec",
    "DaemonSetStatus",
    "DaemonSetUpdateStrategy",
    "Deployment",
    "DeploymentCondition",
    "DeploymentSpec",
    "DeploymentStatus",
    "DeploymentStrategy",
    "ReplicaSet",
    "ReplicaSetCondition",
    "ReplicaSetSpec",
    "ReplicaSetStatus",
    "RollingUpdateDaemonSet",
    "RollingUpdateDeployment",
    "RollingUpdateStatefulSetStrategy",
    "StatefulSet",
    "StatefulSetCondition",
    "StatefulSetOrdinals",
    "StatefulSetPersistentVolumeClaimRetentionPolicy",
    "StatefulSetSpec",
    "StatefulSetStatus",
    "StatefulSetUpdateStrategy",
]
