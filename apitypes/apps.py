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
    """The type of the condition."""
    status: str | None = None
    """True, False or Unknown."""
    last_transition_time: Time | None = None
    """When the condition last changed status."""
    reason: str | None = None
    """Why it last changed, in a CamelCase word."""
    message: str | None = None
    """A human-readable message about the transition."""


# --- ReplicaSet ----------------------------------------------------------------------


class ReplicaSetCondition(_WorkloadCondition):
    """One aspect of a ReplicaSet's state."""

    pass


class ReplicaSetSpec(KubeModel):
    """What a ReplicaSet keeps running."""

    replicas: int | None = None
    """How many pods are wanted. Default 1."""
    min_ready_seconds: int | None = None
    """Seconds a new pod must be ready, without crashing, to count as available. Default 0."""
    selector: LabelSelector
    """The pods the ReplicaSet counts and controls. It must select the template's labels and
    cannot change."""
    # Unlike the other workloads, Kubernetes lets a ReplicaSet omit its template.
    template: PodTemplateSpec | None = None
    """The pod to create when there are too few."""


class ReplicaSetStatus(KubeModel):
    """The observed numbers of a ReplicaSet's pods."""

    replicas: int
    """The number of pods the ReplicaSet has (not terminating)."""
    fully_labeled_replicas: int | None = None
    """Pods that carry all the template's labels."""
    ready_replicas: int | None = None
    """Pods that are ready."""
    available_replicas: int | None = None
    """Pods ready for at least minReadySeconds."""
    terminating_replicas: int | None = None
    """Pods that are being deleted."""
    observed_generation: int | None = None
    """The generation the status was computed for."""
    conditions: list[ReplicaSetCondition] = merge_list("type")
    """The latest observations of the ReplicaSet's state (ReplicaFailure)."""


class ReplicaSet(KubeObject):
    """Keeps a number of identical pods running, replacing those that fail or are deleted.
    Usually managed by a Deployment."""

    API_VERSION = "apps/v1"
    KIND = "ReplicaSet"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: ReplicaSetSpec | None = None
    """The desired number of pods, their selector and template."""
    status: ReplicaSetStatus | None = None
    """The most recently observed numbers of pods; may lag behind."""


# --- Deployment ------------------------------------------------------------------------


class RollingUpdateDeployment(KubeModel):
    """Rollout bounds: absolute pod counts (``1``) or percentages of replicas (``"25%"``)."""

    max_unavailable: IntOrString | None = None
    """How many of the desired pods may be unavailable during the update: a number or a
    percentage (rounded down). Default 25%; not 0 when maxSurge is 0."""
    max_surge: IntOrString | None = None
    """How many pods may exist beyond the desired number during the update: a number or a
    percentage (rounded up). Default 25%; not 0 when maxUnavailable is 0."""


class DeploymentStrategy(KubeModel):
    """How a Deployment replaces pods."""

    type: str | None = None
    """RollingUpdate (gradually, within maxSurge and maxUnavailable; the default) or Recreate
    (every old pod is gone before new ones start)."""
    rolling_update: RollingUpdateDeployment | None = None
    """The bounds of a RollingUpdate."""


class DeploymentSpec(KubeModel):
    """What a Deployment runs and how it rolls changes out."""

    replicas: int | None = None
    """How many pods are wanted. Default 1."""
    selector: LabelSelector
    """The pods (and ReplicaSets) the Deployment manages. It must select the template's labels
    and cannot change in apps/v1."""
    template: PodTemplateSpec
    """The pods to run. A change to it starts a new rollout."""
    strategy: DeploymentStrategy | None = retain_keys()
    """How old pods are replaced by new ones: RollingUpdate (the default) or Recreate."""
    min_ready_seconds: int | None = None
    """Seconds a new pod must be ready, without crashing, to count as available. Default 0."""
    revision_history_limit: int | None = None
    """How many old ReplicaSets are kept, for rollbacks. Default 10."""
    paused: bool | None = None
    """Pause the Deployment: changes to the template do not start a rollout until it is resumed.
    """
    progress_deadline_seconds: int | None = None
    """Seconds a rollout may go without progress before the Deployment reports it failed
    (Progressing=False, ProgressDeadlineExceeded). Default 600."""


class DeploymentCondition(KubeModel):
    # Optional in Kubernetes' own definition, see _WorkloadCondition.
    """One aspect of a Deployment's state."""

    type: str | None = None
    """Available, Progressing or ReplicaFailure."""
    status: str | None = None
    """True, False or Unknown."""
    last_update_time: Time | None = None
    """When the condition was last updated."""
    last_transition_time: Time | None = None
    """When the condition last changed status."""
    reason: str | None = None
    """Why it last changed, in a CamelCase word (NewReplicaSetAvailable,
    ProgressDeadlineExceeded...)."""
    message: str | None = None
    """A human-readable message."""


class DeploymentStatus(KubeModel):
    """The observed state of a Deployment's rollout."""

    observed_generation: int | None = None
    """The generation the status was computed for."""
    replicas: int | None = None
    """The pods of all its ReplicaSets (not terminating)."""
    updated_replicas: int | None = None
    """Pods of the current template."""
    ready_replicas: int | None = None
    """Pods that are ready."""
    available_replicas: int | None = None
    """Pods ready for at least minReadySeconds."""
    unavailable_replicas: int | None = None
    """Pods still needed to have every desired pod available."""
    terminating_replicas: int | None = None
    """Pods being deleted."""
    conditions: list[DeploymentCondition] = merge_list("type")
    """The latest observations of the Deployment's state (Available, Progressing,
    ReplicaFailure)."""
    collision_count: int | None = None
    """Counts hash collisions of the template's ReplicaSet names; part of the hash, so that a
    collision gives a new name."""


class Deployment(KubeObject):
    """Declarative updates for pods: a Deployment rolls its pod template out through
    ReplicaSets, keeps their history, and can pause, resume and roll back."""

    API_VERSION = "apps/v1"
    KIND = "Deployment"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: DeploymentSpec | None = None
    """The desired state: the pod template, how many replicas, and how to roll changes out."""
    status: DeploymentStatus | None = None
    """The most recently observed state of the rollout."""


# --- DaemonSet -------------------------------------------------------------------------


class RollingUpdateDaemonSet(KubeModel):
    """The bounds of a DaemonSet's rolling update."""

    max_unavailable: IntOrString | None = None
    """How many nodes' pods may be unavailable during the update: a number or a percentage.
    Default 1."""
    max_surge: IntOrString | None = None
    """How many nodes may run an old and a new pod at once during the update: a number or a
    percentage. Default 0."""


class DaemonSetUpdateStrategy(KubeModel):
    """How a DaemonSet replaces its pods."""

    type: str | None = None
    """RollingUpdate (node by node, within the bounds) or OnDelete (a new pod only once the old
    one is deleted)."""
    rolling_update: RollingUpdateDaemonSet | None = None
    """The bounds of a RollingUpdate."""


class DaemonSetSpec(KubeModel):
    """What a DaemonSet runs and how it updates."""

    selector: LabelSelector
    """The pods the DaemonSet manages. It must select the template's labels and cannot change.
    """
    template: PodTemplateSpec
    """The pod to run on each eligible node (nodes matching its node selector and affinity,
    whose taints it tolerates)."""
    update_strategy: DaemonSetUpdateStrategy | None = None
    """How pods are replaced when the template changes: RollingUpdate (the default) or OnDelete.
    """
    min_ready_seconds: int | None = None
    """Seconds a new pod must be ready, without crashing, to count as available. Default 0."""
    revision_history_limit: int | None = None
    """How many old revisions are kept, for rollbacks. Default 10."""


class DaemonSetCondition(_WorkloadCondition):
    """One aspect of a DaemonSet's state."""

    pass


class DaemonSetStatus(KubeModel):
    """The observed state of a DaemonSet."""

    current_number_scheduled: int
    """Nodes running at least one of its pods that should."""
    number_misscheduled: int
    """Nodes running its pod that should not."""
    desired_number_scheduled: int
    """Nodes that should run its pod."""
    number_ready: int
    """Nodes whose pod is ready."""
    observed_generation: int | None = None
    """The generation the status was computed for."""
    updated_number_scheduled: int | None = None
    """Nodes running a pod of the current template."""
    number_available: int | None = None
    """Nodes whose pod has been ready for minReadySeconds."""
    number_unavailable: int | None = None
    """Nodes that should run an available pod and do not."""
    collision_count: int | None = None
    """Counts hash collisions of its revision names."""
    conditions: list[DaemonSetCondition] = merge_list("type")
    """The latest observations of the DaemonSet's state."""


class DaemonSet(KubeObject):
    """Runs a copy of a pod on every eligible node (log collectors, node agents, network
    plugins)."""

    API_VERSION = "apps/v1"
    KIND = "DaemonSet"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: DaemonSetSpec | None = None
    """The pod to run on each node, and how to update it."""
    status: DaemonSetStatus | None = None
    """The most recently observed numbers of the DaemonSet's pods."""


# --- StatefulSet -----------------------------------------------------------------------


class RollingUpdateStatefulSetStrategy(KubeModel):
    """The bounds of a StatefulSet's rolling update."""

    partition: int | None = None
    """Only pods with an ordinal at least this are updated (for staged rollouts). Default 0."""
    max_unavailable: IntOrString | None = None
    """How many pods may be unavailable during the update. Default 1."""


class StatefulSetUpdateStrategy(KubeModel):
    """How a StatefulSet replaces its pods."""

    type: str | None = None
    """RollingUpdate (highest ordinal first) or OnDelete (a new pod only once the old one is
    deleted)."""
    rolling_update: RollingUpdateStatefulSetStrategy | None = None
    """The bounds of a RollingUpdate."""


class StatefulSetPersistentVolumeClaimRetentionPolicy(KubeModel):
    """What happens to claims made from ``volumeClaimTemplates``: ``Retain`` or ``Delete``."""

    when_deleted: str | None = None
    """Retain (the default) or Delete the claims when the StatefulSet is deleted."""
    when_scaled: str | None = None
    """Retain (the default) or Delete the claims of pods removed by scaling down."""


class StatefulSetOrdinals(KubeModel):
    """Replica indices run from ``start`` to ``start + replicas - 1`` (``start`` unset: 0)."""

    start: int | None = None
    """The ordinal of the first pod. Default 0."""


class StatefulSetSpec(KubeModel):
    """What a StatefulSet runs."""

    replicas: int | None = None
    """How many pods are wanted. Default 1."""
    selector: LabelSelector
    """The pods the StatefulSet manages. It must select the template's labels and cannot change.
    """
    template: PodTemplateSpec
    """The pods to run; each gets a name with its ordinal."""
    # Items are core/v1 PersistentVolumeClaims (an atomic list in Kubernetes). They stay
    # plain dicts (their model only describes the wire shape): the StatefulSet
    # controller reads ``metadata.name`` and copies the rest into each claim.
    volume_claim_templates: list[Annotated[dict[str, Any], WireShape(PersistentVolumeClaim)]] = (
        items()
    )
    """Claims made for each pod (one per template), kept across its restarts."""
    service_name: str | None = None
    """The headless Service that gives the pods their DNS names
    (<pod>.<service>.<namespace>.svc)."""
    pod_management_policy: str | None = None
    """OrderedReady (the default: one at a time, in order, each ready before the next) or
    Parallel."""
    update_strategy: StatefulSetUpdateStrategy | None = None
    """How pods are replaced when the template changes: RollingUpdate (the default) or OnDelete.
    """
    revision_history_limit: int | None = None
    """How many old revisions are kept. Default 10."""
    min_ready_seconds: int | None = None
    """Seconds a new pod must be ready, without crashing, to count as available. Default 0."""
    persistent_volume_claim_retention_policy: (
        StatefulSetPersistentVolumeClaimRetentionPolicy | None
    ) = None
    """What happens to the claims of volumeClaimTemplates when the StatefulSet is deleted or
    scaled down."""
    ordinals: StatefulSetOrdinals | None = None
    """The numbering of the pods."""


class StatefulSetCondition(_WorkloadCondition):
    """One aspect of a StatefulSet's state."""

    pass


class StatefulSetStatus(KubeModel):
    """The observed state of a StatefulSet."""

    observed_generation: int | None = None
    """The generation the status was computed for."""
    replicas: int
    """The pods the StatefulSet has."""
    ready_replicas: int | None = None
    """Pods that are ready."""
    current_replicas: int | None = None
    """Pods of currentRevision."""
    updated_replicas: int | None = None
    """Pods of updateRevision."""
    current_revision: str | None = None
    """The revision the pods up to currentReplicas were made from."""
    update_revision: str | None = None
    """The revision of the current template."""
    collision_count: int | None = None
    """Counts hash collisions of its revision names."""
    conditions: list[StatefulSetCondition] = merge_list("type")
    """The latest observations of the StatefulSet's state."""
    available_replicas: int | None = None
    """Pods ready for at least minReadySeconds."""


class StatefulSet(KubeObject):
    """Runs pods with stable identities (name-0, name-1, ...), stable network names and their
    own storage, created, updated and removed in order."""

    API_VERSION = "apps/v1"
    KIND = "StatefulSet"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: StatefulSetSpec | None = None
    """The desired pods, their identity and how they are updated."""
    status: StatefulSetStatus | None = None
    """The most recently observed state of the StatefulSet's pods."""


# --- ControllerRevision ----------------------------------------------------------------


class ControllerRevision(KubeObject):
    """An immutable snapshot of a DaemonSet's or StatefulSet's pod template.

    ``data`` is a ``runtime.RawExtension`` in Kubernetes: arbitrary JSON, in practice
    the strategic merge patch that turns the owner's spec into this revision's.
    """

    API_VERSION = "apps/v1"
    KIND = "ControllerRevision"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    data: dict[str, Any]
    """The recorded state (the template, as a patch)."""
    revision: int | None = None
    """The revision's number."""


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
