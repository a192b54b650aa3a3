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
    """The container checked; every container when unset."""
    operator: str
    """In or NotIn."""
    values: list[int] = Field(json_schema_extra={LIST_TYPE: "set"})
    """The exit codes."""


class PodFailurePolicyOnPodConditionsPattern(KubeModel):
    """A pod condition a rule matches."""

    type: str
    """The condition type (DisruptionTarget...)."""
    # Kubernetes defaults an unset status to "True".
    status: str | None = None
    """The condition status. Default True."""


class PodFailurePolicyRule(KubeModel):
    """One rule: a pod failure that matches, and what to do."""

    action: str
    """FailJob, FailIndex, Ignore (the failure does not count) or Count (the default handling).
    """
    on_exit_codes: PodFailurePolicyOnExitCodesRequirement | None = None
    """The container exit codes that match."""
    on_pod_conditions: list[PodFailurePolicyOnPodConditionsPattern] = items()
    """The pod conditions that match."""


class PodFailurePolicy(KubeModel):
    """How the failures of a Job's pods are handled, by rules."""

    rules: list[PodFailurePolicyRule]
    """The rules, tried in order; the first that matches a failed pod decides."""


class SuccessPolicyRule(KubeModel):
    """A success criterion of an Indexed Job."""

    succeeded_indexes: str | None = None
    """Indexes that must have succeeded."""
    succeeded_count: int | None = None
    """How many of them (or of all indexes) must have succeeded."""


class SuccessPolicy(KubeModel):
    """When an Indexed Job succeeds early."""

    rules: list[SuccessPolicyRule]
    """The rules; the Job succeeds as soon as one is met."""


# --- Job ---------------------------------------------------------------------------------


# --- the wire shape of JobSpec.scheduling --------------------------------------------------
# scheduling.k8s.io/v1alpha3 types, modelled only to describe the JSON a Job keeps verbatim
# (``WireShape``) to the protobuf codec; private, as no client library has them yet.


class _WorkloadPodGroupBasicSchedulingPolicy(KubeModel):
    """Alpha: independent scheduling."""

    pass


class _WorkloadPodGroupGangSchedulingPolicy(KubeModel):
    """Alpha: all-or-nothing scheduling."""

    min_count: int | None = None
    """The fewest pods scheduled together."""


class _WorkloadPodGroupSchedulingPolicy(KubeModel):
    """Alpha: the scheduling policy of a pod group."""

    basic: _WorkloadPodGroupBasicSchedulingPolicy | None = None
    """Pods are scheduled independently."""
    gang: _WorkloadPodGroupGangSchedulingPolicy | None = None
    """Pods are scheduled together, or not at all."""


class _TopologyConstraint(KubeModel):
    """Alpha: a topology a group must fit in."""

    key: str | None = None
    """The node label defining the domain."""


class _WorkloadPodGroupSchedulingConstraints(KubeModel):
    """Alpha: where a pod group may be placed."""

    topology: list[_TopologyConstraint] = items()
    """The topology constraints."""


class _WorkloadPodGroupSingleDisruptionMode(KubeModel):
    """Alpha: pods disrupted one at a time."""

    pass


class _WorkloadPodGroupAllDisruptionMode(KubeModel):
    """Alpha: pods disrupted together."""

    pass


class _WorkloadPodGroupDisruptionMode(KubeModel):
    """Alpha: how a pod group is disrupted."""

    single: _WorkloadPodGroupSingleDisruptionMode | None = None
    """One pod at a time."""
    all: _WorkloadPodGroupAllDisruptionMode | None = None
    """The whole group at once."""


class _JobSchedulingConfiguration(KubeModel):
    """Alpha: how a Job's pods are scheduled as a group."""

    scheduling_policy: _WorkloadPodGroupSchedulingPolicy | None = None
    """Basic or gang scheduling."""
    scheduling_constraints: _WorkloadPodGroupSchedulingConstraints | None = None
    """Topology the group must fit in."""
    disruption_mode: _WorkloadPodGroupDisruptionMode | None = None
    """Whether pods are disrupted one by one or all together."""


class JobSpec(KubeModel):
    """What a Job runs and when it is done."""

    parallelism: int | None = None
    """The most pods running at once. Default 1; 0 pauses the Job."""
    completions: int | None = None
    """Successful pods needed for the Job to be complete. Unset: any success completes it once
    all pods finished."""
    active_deadline_seconds: int | None = None
    """Seconds, from the Job's start, after which its pods are stopped and it fails
    (DeadlineExceeded)."""
    pod_failure_policy: PodFailurePolicy | None = None
    """Rules deciding, from a failed pod's exit codes and conditions, whether to fail the Job,
    ignore the failure or count it."""
    success_policy: SuccessPolicy | None = None
    """When an Indexed Job is successful before all indexes succeeded."""
    backoff_limit: int | None = None
    """Retries before the Job is marked failed (BackoffLimitExceeded). Default 6."""
    backoff_limit_per_index: int | None = None
    """For Indexed Jobs: retries per index."""
    max_failed_indexes: int | None = None
    """For Indexed Jobs with backoffLimitPerIndex: failed indexes tolerated before the Job
    fails."""
    selector: LabelSelector | None = None
    """The pods the Job counts. Generated by the server unless manualSelector is set."""
    manual_selector: bool | None = None
    """Set selector by hand instead of having the server generate a unique one. Rarely right."""
    template: PodTemplateSpec
    """The pods to run. Their restartPolicy must be Never or OnFailure."""
    ttl_seconds_after_finished: int | None = None
    """Seconds after the Job finished (Complete or Failed) before it is deleted with its pods.
    """
    completion_mode: str | None = None
    """NonIndexed (the default: completions are interchangeable) or Indexed (each pod gets an
    index 0 to completions-1)."""
    suspend: bool | None = None
    """Suspend the Job: its pods are deleted and none are created until it is resumed."""
    pod_replacement_policy: str | None = None
    """When a failed pod is replaced: TerminatingOrFailed (the default) or Failed (only once
    fully terminated)."""
    managed_by: str | None = None
    """The controller that manages the Job; the built-in one when unset."""
    # Alpha (feature gate WorkloadWithJob): gang-scheduling settings whose types live in
    # scheduling.k8s.io/v1alpha3, which navarch does not model for use. Kept as JSON so
    # that a Job carrying it survives a read-modify-write unchanged.
    scheduling: Annotated[dict[str, Any], WireShape(_JobSchedulingConfiguration)] | None = None
    """Alpha: gang-scheduling settings of the Job's pods."""


class JobCondition(KubeModel):
    """One aspect of a Job's state."""

    type: str
    """Complete, Failed, Suspended, FailureTarget or SuccessCriteriaMet."""
    status: str
    """True, False or Unknown."""
    last_probe_time: Time | None = None
    """When the condition was last checked."""
    last_transition_time: Time | None = None
    """When the condition last changed status."""
    reason: str | None = None
    """Why it last changed, in a CamelCase word (BackoffLimitExceeded, DeadlineExceeded...)."""
    message: str | None = None
    """A human-readable message."""


class UncountedTerminatedPods(KubeModel):
    """UIDs of finished pods the Job controller has not yet added to its counters."""

    succeeded: list[str] = _set_list()
    """Uids of succeeded pods not counted yet."""
    failed: list[str] = _set_list()
    """Uids of failed pods not counted yet."""


class JobStatus(KubeModel):
    # merge_list() would declare a map-keyed list; Kubernetes declares this one atomic
    # for server-side apply while keeping the merge-by-type patch strategy.
    """The observed state of a Job."""

    conditions: list[JobCondition] = Field(
        default_factory=list,
        json_schema_extra={PATCH_STRATEGY: "merge", PATCH_MERGE_KEY: "type", LIST_TYPE: "atomic"},
    )
    """The latest observations of the Job's state (Complete, Failed, Suspended, FailureTarget,
    SuccessCriteriaMet)."""
    start_time: Time | None = None
    """When the Job controller started the Job (not when it was created)."""
    completion_time: Time | None = None
    """When the Job completed; only set once it succeeded."""
    active: int | None = None
    """Pods pending or running."""
    succeeded: int | None = None
    """Pods that succeeded."""
    failed: int | None = None
    """Pods that failed."""
    terminating: int | None = None
    """Pods being deleted."""
    completed_indexes: str | None = None
    """For Indexed Jobs: the succeeded indexes, as ranges (1,3-5,7)."""
    failed_indexes: str | None = None
    """For Indexed Jobs with backoffLimitPerIndex: the failed indexes."""
    uncounted_terminated_pods: UncountedTerminatedPods | None = None
    """Finished pods whose result is not yet in the counters, while their tracking finalizers
    are removed."""
    ready: int | None = None
    """Pods that are ready."""


class Job(KubeObject):
    """Runs pods until a number of them succeed, retrying failures up to a limit."""

    API_VERSION = "batch/v1"
    KIND = "Job"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: JobSpec | None = None
    """What the Job runs, how many successes it needs and how failures are handled."""
    status: JobStatus | None = None
    """The most recently observed state of the Job."""


# --- CronJob -----------------------------------------------------------------------------


class JobTemplateSpec(KubeModel):
    """The metadata and spec of the Jobs a CronJob creates."""

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Labels and annotations of the Jobs made from the template."""
    spec: JobSpec | None = None
    """The spec of the Jobs made from the template."""


class CronJobSpec(KubeModel):
    """When a CronJob runs and what."""

    schedule: str
    """The schedule in cron format (minute hour day-of-month month day-of-week), or @hourly,
    @daily, @every 5m..."""
    time_zone: str | None = None
    """The time zone the schedule is read in (an IANA name); the controller's local time zone
    when unset."""
    starting_deadline_seconds: int | None = None
    """How late a missed run may still start; later ones count as missed."""
    concurrency_policy: str | None = None
    """What to do when a run is due while the previous one is active: Allow (the default),
    Forbid (skip the new one) or Replace (stop the old one)."""
    suspend: bool | None = None
    """Suspend the CronJob: no new runs start. Running Jobs are not affected. Default false."""
    job_template: JobTemplateSpec
    """The Job to create at each run."""
    successful_jobs_history_limit: int | None = None
    """Finished successful Jobs kept. Default 3."""
    failed_jobs_history_limit: int | None = None
    """Failed Jobs kept. Default 1."""


class CronJobStatus(KubeModel):
    """The observed state of a CronJob."""

    active: list[ObjectReference] = items()
    """References to the Jobs running now."""
    last_schedule_time: Time | None = None
    """When a Job was last scheduled."""
    last_successful_time: Time | None = None
    """When a Job last completed successfully."""


class CronJob(KubeObject):
    """Creates Jobs on a repeating schedule, written in cron format."""

    API_VERSION = "batch/v1"
    KIND = "CronJob"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: CronJobSpec | None = None
    """The schedule and the Job to create."""
    status: CronJobStatus | None = None
    """The most recently observed state of the CronJob."""


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
