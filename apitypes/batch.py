"""batch/v1: Job and CronJob.

Shapes and wire names follow Kubernetes' ``batch/v1`` types. ``JobStatus.conditions``
is the odd list out: strategic merge patch merges it by ``type`` while server-side
apply treats it as atomic, and its metadata says both.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from apitypes.base import (
    LIST_TYPE,
    PATCH_MERGE_KEY,
    PATCH_STRATEGY,
    KubeModel,
    KubeObject,
    Time,
    WireShape,
    items,
)
from apitypes.core import ObjectReference, PodTemplateSpec
from apitypes.meta import LabelSelector, ObjectMeta

# Value of ``spec.managedBy`` (or its absence) that hands a Job to the built-in controller.
JOB_CONTROLLER_NAME = "kubernetes.io/job-controller"


def _set_list() -> Any:
    """An optional list of scalars that server-side apply treats as a set.

    No patch strategy: strategic merge patch replaces it whole, as Kubernetes does.
    """
    return Field(default_factory=list, json_schema_extra={LIST_TYPE: "set"})


# --- failure and success policies --------------------------------------------------------


# Labels Kubernetes puts on a Job's pod template and selects its pods by.
CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
LEGACY_JOB_NAME_LABEL = "job-name"


class PodFailurePolicyOnExitCodesRequirement(KubeModel):
    """Matches a failed pod by its containers' exit codes (``In`` / ``NotIn`` ``values``)."""

    container_name: str | None = None
    operator: str
    values: list[int] = Field(json_schema_extra={LIST_TYPE: "set"})


class PodFailurePolicyOnPodConditionsPattern(KubeModel):
    type: str
    # Kubernetes defaults an unset status to "True".
    status: str | None = None


class PodFailurePolicyRule(KubeModel):
    action: str
    on_exit_codes: PodFailurePolicyOnExitCodesRequirement | None = None
    on_pod_conditions: list[PodFailurePolicyOnPodConditionsPattern] = items()


class PodFailurePolicy(KubeModel):
    rules: list[PodFailurePolicyRule]


class SuccessPolicyRule(KubeModel):
    succeeded_indexes: str | None = None
    succeeded_count: int | None = None


class SuccessPolicy(KubeModel):
    rules: list[SuccessPolicyRule]


# --- Job ---------------------------------------------------------------------------------


# --- the wire shape of JobSpec.scheduling --------------------------------------------------
# scheduling.k8s.io/v1alpha3 types, modelled only to describe the JSON a Job keeps verbatim
# (``WireShape``) to the protobuf codec; private, as no client library has them yet.


class _WorkloadPodGroupBasicSchedulingPolicy(KubeModel):
    pass


class _WorkloadPodGroupGangSchedulingPolicy(KubeModel):
    min_count: int | None = None


class _WorkloadPodGroupSchedulingPolicy(KubeModel):
    basic: _WorkloadPodGroupBasicSchedulingPolicy | None = None
    gang: _WorkloadPodGroupGangSchedulingPolicy | None = None


class _TopologyConstraint(KubeModel):
    key: str | None = None


class _WorkloadPodGroupSchedulingConstraints(KubeModel):
    topology: list[_TopologyConstraint] = items()


class _WorkloadPodGroupSingleDisruptionMode(KubeModel):
    pass


class _WorkloadPodGroupAllDisruptionMode(KubeModel):
    pass


class _WorkloadPodGroupDisruptionMode(KubeModel):
    single: _WorkloadPodGroupSingleDisruptionMode | None = None
    all: _WorkloadPodGroupAllDisruptionMode | None = None


class _JobSchedulingConfiguration(KubeModel):
    scheduling_policy: _WorkloadPodGroupSchedulingPolicy | None = None
    scheduling_constraints: _WorkloadPodGroupSchedulingConstraints | None = None
    disruption_mode: _WorkloadPodGroupDisruptionMode | None = None


class JobSpec(KubeModel):
    parallelism: int | None = None
    completions: int | None = None
    active_deadline_seconds: int | None = None
    pod_failure_policy: PodFailurePolicy | None = None
    success_policy: SuccessPolicy | None = None
    backoff_limit: int | None = None
    backoff_limit_per_index: int | None = None
    max_failed_indexes: int | None = None
    selector: LabelSelector | None = None
    manual_selector: bool | None = None
    template: PodTemplateSpec
    ttl_seconds_after_finished: int | None = None
    completion_mode: str | None = None
    suspend: bool | None = None
    pod_replacement_policy: str | None = None
    managed_by: str | None = None
    # Alpha (feature gate WorkloadWithJob): gang-scheduling settings whose types live in
    # scheduling.k8s.io/v1alpha3, which navarch does not model for use. Kept as JSON so
    # that a Job carrying it survives a read-modify-write unchanged.
    scheduling: Annotated[dict[str, Any], WireShape(_JobSchedulingConfiguration)] | None = None


class JobCondition(KubeModel):
    type: str
    status: str
    last_probe_time: Time | None = None
    last_transition_time: Time | None = None
    reason: str | None = None
    message: str | None = None


class UncountedTerminatedPods(KubeModel):
    """UIDs of finished pods the Job controller has not yet added to its counters."""

    succeeded: list[str] = _set_list()
    failed: list[str] = _set_list()


class JobStatus(KubeModel):
    # merge_list() would declare a map-keyed list; Kubernetes declares this one atomic
    # for server-side apply while keeping the merge-by-type patch strategy.
    conditions: list[JobCondition] = Field(
        default_factory=list,
        json_schema_extra={PATCH_STRATEGY: "merge", PATCH_MERGE_KEY: "type", LIST_TYPE: "atomic"},
    )
    start_time: Time | None = None
    completion_time: Time | None = None
    active: int | None = None
    succeeded: int | None = None
    failed: int | None = None
    terminating: int | None = None
    completed_indexes: str | None = None
    failed_indexes: str | None = None
    uncounted_terminated_pods: UncountedTerminatedPods | None = None
    ready: int | None = None


class Job(KubeObject):
    API_VERSION = "batch/v1"
    KIND = "Job"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: JobSpec | None = None
    status: JobStatus | None = None


# --- CronJob -----------------------------------------------------------------------------


class JobTemplateSpec(KubeModel):
    """The metadata and spec of the Jobs a CronJob creates."""

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: JobSpec | None = None


class CronJobSpec(KubeModel):
    schedule: str
    time_zone: str | None = None
    starting_deadline_seconds: int | None = None
    concurrency_policy: str | None = None
    suspend: bool | None = None
    job_template: JobTemplateSpec
    successful_jobs_history_limit: int | None = None
    failed_jobs_history_limit: int | None = None


class CronJobStatus(KubeModel):
    active: list[ObjectReference] = items()
    last_schedule_time: Time | None = None
    last_successful_time: Time | None = None


class CronJob(KubeObject):
    API_VERSION = "batch/v1"
    KIND = "CronJob"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: CronJobSpec | None = None
    status: CronJobStatus | None = None


__all__ = [
    "JOB_CONTROLLER_NAME",
    "CronJob",
    "CronJobSpec",
    "CronJobStatus",
    "Job",
    "JobCondition",
    "JobSpec",
    "JobStatus",
    "JobTemplateSpec",
    "PodFailurePolicy",
    "PodFailurePolicyOnExitCodesRequirement",
    "PodFailurePolicyOnPodConditionsPattern",
    "PodFailurePolicyRule",
    "SuccessPolicy",
    "SuccessPolicyRule",
    "UncountedTerminatedPods",
]
