"""Job (batch/v1).

Defaults follow ``pkg/apis/batch/v1/defaults.go`` of Kubernetes 1.30, validation
``pkg/apis/batch/validation`` (paths and wording), and the strategy
``pkg/registry/batch/job``: a Job whose ``manualSelector`` is not true gets a selector
on its own uid and the matching labels on its pod template at create; a Job's template
is immutable except for scheduling directives of a suspended Job that never started.

Fields behind feature gates that are off in 1.30 (``managedBy``, ``successPolicy``)
and the later alpha ``scheduling`` are dropped on create, and on update unless the
stored Job already has them, as Kubernetes drops disabled fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from apiserver.kinds.common import (
    CONDITION_STATUSES,
    MAX_INT32,
    go_int32s,
    go_label_selector,
    go_list,
    go_string_map,
    immutable,
    nonnegative,
)
from apiserver.kinds.podspec import validate_pod_template_spec
from apiserver.kinds.printers import AGE_COLUMN
from apiserver.kinds.workload import (
    CONTAINERS,
    IMAGES,
    container_cells,
    default_template,
    parse_selector,
    selector_column,
    template_spec,
)
from apiserver.registry.strategy import Column, Strategy, age
from apiserver.subresources.status import Status
from apitypes import registry
from apitypes.base import now
from apitypes.batch import (
    CONTROLLER_UID_LABEL,
    JOB_NAME_LABEL,
    LEGACY_CONTROLLER_UID_LABEL,
    LEGACY_JOB_NAME_LABEL,
    Job,
    JobCondition,
    JobSpec,
    JobStatus,
    PodFailurePolicy,
    PodFailurePolicyOnExitCodesRequirement,
    PodFailurePolicyRule,
)
from apitypes.core import Affinity, PodTemplateSpec
from apitypes.meta import LabelSelector, ObjectMeta
from apitypes.selectors import format_label_selector
from apitypes.validation import (
    OMIT,
    FieldError,
    FieldPath,
    duplicate,
    invalid,
    is_dns1123_label,
    is_qualified_name,
    not_supported,
    required,
    too_many,
    validate_label_selector,
)

_MAX_PARALLELISM_INDEXED = 100_000
_MAX_FAILED_INDEXES = 100_000
_COMPLETIONS_SOFT_LIMIT = 100_000
_PARALLELISM_LIMIT_HIGH_COMPLETIONS = 10_000
_MAX_FAILED_INDEXES_HIGH_COMPLETIONS = 10_000
_MAX_POD_FAILURE_RULES = 20
_MAX_EXIT_CODE_VALUES = 255
_MAX_POD_CONDITION_PATTERNS = 20


_FAILURE_ACTIONS = ("Count", "FailIndex", "FailJob", "Ignore")
_EXIT_CODE_OPERATORS = ("In", "NotIn")


# --- Job spec ----------------------------------------------------------------------------


def default_job_template_spec(spec: JobSpec) -> None:
    """Defaults every Job template gets, in a Job or a CronJob's jobTemplate."""
    if spec.pod_failure_policy is not None:
        for rule in spec.pod_failure_policy.rules:
            for pattern in rule.on_pod_conditions:
                if not pattern.status:
                    pattern.status = "True"
    default_template(spec.template)


def _validate_exit_codes(
    req: PodFailurePolicyOnExitCodesRequirement, path: FieldPath, containers: set[str]
) -> list[FieldError]:
    errors: list[FieldError] = []
    op_path = path.child("operator")
    if not req.operator:
        errors.append(required(op_path, f"valid values: {go_list(_EXIT_CODE_OPERATORS)}"))
    elif req.operator not in _EXIT_CODE_OPERATORS:
        errors.append(not_supported(op_path, req.operator, _EXIT_CODE_OPERATORS))
    if req.container_name is not None and req.container_name not in containers:
        errors.append(
            invalid(
                path.child("containerName"),
                req.container_name,
                "must be one of the container or initContainer names in the pod template",
            )
        )
    values_path = path.child("values")
    if not req.values:
        errors.append(invalid(values_path, go_int32s(req.values), "at least one value is required"))
    elif len(req.values) > _MAX_EXIT_CODE_VALUES:
        errors.append(too_many(values_path, len(req.values), _MAX_EXIT_CODE_VALUES))
    seen: set[int] = set()
    ordered = True
    for j, code in enumerate(req.values):
        value_path = values_path.index(j)
        if req.operator == "In" and code == 0:
            errors.append(invalid(value_path, code, "must not be 0 for the In operator"))
        if code in seen:
            errors.append(duplicate(value_path, code))
        seen.add(code)
        if j > 0 and req.values[j - 1] > code:
            ordered = False
    if not ordered:
        errors.append(invalid(values_path, go_int32s(req.values), "must be ordered"))
    return errors


def _validate_failure_rule(
    spec: JobSpec, rule: PodFailurePolicyRule, path: FieldPath, containers: set[str]
) -> list[FieldError]:
    errors: list[FieldError] = []
    action_path = path.child("action")
    if not rule.action:
        errors.append(required(action_path, f"valid values: {go_list(_FAILURE_ACTIONS)}"))
    elif rule.action == "FailIndex":
        if spec.backoff_limit_per_index is None:
            errors.append(
                invalid(action_path, rule.action, "requires the backoffLimitPerIndex to be set")
            )
    elif rule.action not in _FAILURE_ACTIONS:
        errors.append(not_supported(action_path, rule.action, _FAILURE_ACTIONS))
    if rule.on_exit_codes is not None:
        errors += _validate_exit_codes(rule.on_exit_codes, path.child("onExitCodes"), containers)
    if rule.on_pod_conditions:
        patterns_path = path.child("onPodConditions")
        if len(rule.on_pod_conditions) > _MAX_POD_CONDITION_PATTERNS:
            errors.append(
                too_many(patterns_path, len(rule.on_pod_conditions), _MAX_POD_CONDITION_PATTERNS)
            )
        for j, pattern in enumerate(rule.on_pod_conditions):
            pattern_path = patterns_path.index(j)
            errors += [
                invalid(pattern_path.child("type"), pattern.type, msg)
                for msg in is_qualified_name(pattern.type)
            ]
            status_path = pattern_path.child("status")
            if not pattern.status:
                errors.append(required(status_path, f"valid values: {go_list(CONDITION_STATUSES)}"))
            elif pattern.status not in CONDITION_STATUSES:
                errors.append(not_supported(status_path, pattern.status, CONDITION_STATUSES))
    if rule.on_exit_codes is not None and rule.on_pod_conditions:
        errors.append(
            invalid(path, OMIT, "specifying both OnExitCodes and OnPodConditions is not supported")
        )
    if rule.on_exit_codes is None and not rule.on_pod_conditions:
        errors.append(
            invalid(path, OMIT, "specifying one of OnExitCodes and OnPodConditions is required")
        )
    return errors


def _validate_pod_failure_policy(
    spec: JobSpec, policy: PodFailurePolicy, path: FieldPath
) -> list[FieldError]:
    rules_path = path.child("rules")
    errors: list[FieldError] = []
    if len(policy.rules) > _MAX_POD_FAILURE_RULES:
        errors.append(too_many(rules_path, len(policy.rules), _MAX_POD_FAILURE_RULES))
    pod = spec.template.spec
    containers: set[str] = set()
    if pod is not None:
        containers = {c.name for c in pod.containers} | {c.name for c in pod.init_containers}
    for i, rule in enumerate(policy.rules):
        errors += _validate_failure_rule(spec, rule, rules_path.index(i), containers)
    return errors


def _validate_indexed(spec: JobSpec, path: FieldPath) -> list[FieldError]:
    errors: list[FieldError] = []
    if spec.completions is None:
        errors.append(required(path.child("completions"), "when completion mode is Indexed"))
    if spec.parallelism is not None and spec.parallelism > _MAX_PARALLELISM_INDEXED:
        errors.append(
            invalid(
                path.child("parallelism"),
                spec.parallelism,
                f"must be less than or equal to {_MAX_PARALLELISM_INDEXED} when completion "
                "mode is Indexed",
            )
        )
    failed = spec.max_failed_indexes
    if spec.completions is not None and failed is not None and failed > spec.completions:
        errors.append(
            invalid(
                path.child("maxFailedIndexes"), failed, "must be less than or equal to completions"
            )
        )
    if failed is not None and failed > _MAX_FAILED_INDEXES:
        errors.append(
            invalid(
                path.child("maxFailedIndexes"),
                failed,
                f"must be less than or equal to {_MAX_FAILED_INDEXES}",
            )
        )
    if (
        spec.completions is not None
        and spec.completions > _COMPLETIONS_SOFT_LIMIT
        and spec.backoff_limit_per_index is not None
    ):
        suffix = (
            f"when completions are above {_COMPLETIONS_SOFT_LIMIT} and used with backoff "
            "limit per index"
        )
        if failed is None:
            errors.append(
                required(
                    path.child("maxFailedIndexes"),
                    f"must be specified when completions is above {_COMPLETIONS_SOFT_LIMIT}",
                )
            )
        if spec.parallelism is not None and spec.parallelism > _PARALLELISM_LIMIT_HIGH_COMPLETIONS:
            errors.append(
                invalid(
                    path.child("parallelism"),
                    spec.parallelism,
                    f"must be less than or equal to {_PARALLELISM_LIMIT_HIGH_COMPLETIONS} {suffix}",
                )
            )
        if failed is not None and failed > _MAX_FAILED_INDEXES_HIGH_COMPLETIONS:
            errors.append(
                invalid(
                    path.child("maxFailedIndexes"),
                    failed,
                    f"must be less than or equal to {_MAX_FAILED_INDEXES_HIGH_COMPLETIONS} "
                    f"{suffix}",
                )
            )
    return errors


def validate_job_template_spec(spec: JobSpec, path: FieldPath) -> list[FieldError]:
    """``validateJobSpec``: everything but the selector (shared with CronJob templates)."""
    errors = nonnegative(spec.parallelism, path.child("parallelism"))
    errors += nonnegative(spec.completions, path.child("completions"))
    errors += nonnegative(spec.active_deadline_seconds, path.child("activeDeadlineSeconds"))
    errors += nonnegative(spec.backoff_limit, path.child("backoffLimit"))
    errors += nonnegative(spec.ttl_seconds_after_finished, path.child("ttlSecondsAfterFinished"))
    errors += nonnegative(spec.backoff_limit_per_index, path.child("backoffLimitPerIndex"))
    if spec.max_failed_indexes is not None:
        errors += nonnegative(spec.max_failed_indexes, path.child("maxFailedIndexes"))
        if spec.backoff_limit_per_index is None:
            errors.append(
                required(path.child("backoffLimitPerIndex"), "when maxFailedIndexes is specified")
            )
    mode = spec.completion_mode
    if mode is not None:
        if mode not in ("NonIndexed", "Indexed"):
            errors.append(
                not_supported(path.child("completionMode"), mode, ["NonIndexed", "Indexed"])
            )
        if mode == "Indexed":
            errors += _validate_indexed(spec, path)
    if mode is None or mode == "NonIndexed":
        for name, value in (
            ("backoffLimitPerIndex", spec.backoff_limit_per_index),
            ("maxFailedIndexes", spec.max_failed_indexes),
        ):
            if value is not None:
                errors.append(invalid(path.child(name), value, "requires indexed completion mode"))
    if spec.pod_failure_policy is not None:
        errors += _validate_pod_failure_policy(
            spec, spec.pod_failure_policy, path.child("podFailurePolicy")
        )
    replacement = spec.pod_replacement_policy
    if replacement is not None:
        allowed = (
            ["Failed"] if spec.pod_failure_policy is not None else ["Failed", "TerminatingOrFailed"]
        )
        if replacement not in allowed:
            errors.append(not_supported(path.child("podReplacementPolicy"), replacement, allowed))
    errors += validate_pod_template_spec(spec.template, path.child("template"))
    restart = template_spec(spec.template).restart_policy or ""
    restart_path = path.child("template", "spec", "restartPolicy")
    if restart in ("Always", ""):
        errors.append(required(restart_path, 'valid values: "OnFailure", "Never"'))
    elif restart not in ("OnFailure", "Never"):
        errors.append(not_supported(restart_path, restart, ["OnFailure", "Never"]))
    elif spec.pod_failure_policy is not None and restart != "Never":
        errors.append(
            invalid(
                restart_path,
                restart,
                'only "Never" is supported when podFailurePolicy is specified',
            )
        )
    return errors


def _has_label(meta: ObjectMeta, path: FieldPath, key: str, expected: str) -> list[FieldError]:
    """``ValidateHasLabel`` on a template's metadata."""
    label_path = path.child("labels").key(key)
    if key not in meta.labels:
        return [required(label_path, f"must be '{expected}'")]
    if meta.labels[key] != expected:
        return [invalid(label_path, go_string_map(meta.labels), f"must be '{expected}'")]
    return []


def _validate_generated_selector(job: Job, spec: JobSpec) -> list[FieldError]:
    if spec.manual_selector or spec.selector is None:
        return []
    errors: list[FieldError] = []
    uid, name = job.metadata.uid or "", job.metadata.name or ""
    if not uid:
        errors.append(required("metadata.uid"))
    meta = spec.template.metadata
    path = FieldPath("spec", "template", "metadata")
    errors += _has_label(meta, path, LEGACY_CONTROLLER_UID_LABEL, uid)
    errors += _has_label(meta, path, LEGACY_JOB_NAME_LABEL, name)
    errors += _has_label(meta, path, CONTROLLER_UID_LABEL, uid)
    errors += _has_label(meta, path, JOB_NAME_LABEL, name)
    expected = {
        CONTROLLER_UID_LABEL: uid,
        JOB_NAME_LABEL: name,
        LEGACY_CONTROLLER_UID_LABEL: uid,
        LEGACY_JOB_NAME_LABEL: name,
    }
    parsed = parse_selector(spec.selector)
    if parsed is not None and not parsed.matches(expected):
        errors.append(
            invalid(
                "spec.selector", go_label_selector(spec.selector), "`selector` not auto-generated"
            )
        )
    return errors


def _validate_job_spec(spec: JobSpec) -> list[FieldError]:
    """``ValidateJobSpec``: the template spec plus a selector that selects the template."""
    path = FieldPath("spec")
    errors = validate_job_template_spec(spec, path)
    if spec.selector is None:
        errors.append(required(path.child("selector")))
    else:
        errors += validate_label_selector(spec.selector, path.child("selector"))
    parsed = parse_selector(spec.selector)
    labels = spec.template.metadata.labels
    if parsed is not None and not parsed.matches(labels):
        errors.append(
            invalid(
                path.child("template", "metadata", "labels"),
                go_string_map(labels),
                "`selector` does not match template `labels`",
            )
        )
    return errors


def _generate_selector(job: Job, spec: JobSpec) -> None:
    """Label the template with the Job's name and uid and select on the uid; labels the
    user already set are kept (validation then reports a conflict)."""
    labels = spec.template.metadata.labels
    name, uid = job.metadata.name or "", job.metadata.uid or ""
    for key in (LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL):
        labels.setdefault(key, name)
    for key in (LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL):
        labels.setdefault(key, uid)
    if spec.selector is None:
        spec.selector = LabelSelector()
    spec.selector.match_labels.setdefault(CONTROLLER_UID_LABEL, uid)


def empty_job_spec() -> JobSpec:
    return JobSpec(template=PodTemplateSpec())


def _drop_disabled(new: JobSpec, old: JobSpec | None) -> None:
    """Fields whose feature gates are off in 1.30 go, unless already stored."""
    if old is None or old.managed_by is None:
        new.managed_by = None
    if old is None or old.success_policy is None:
        new.success_policy = None
    if old is None or old.scheduling is None:
        new.scheduling = None


def _mutable_scheduling_template(new: PodTemplateSpec, old: PodTemplateSpec) -> PodTemplateSpec:
    """``old`` with the scheduling directives of ``new``: what a suspended Job that never
    started may change (node affinity, node selector, tolerations, template labels and
    annotations, scheduling gates)."""
    result = old.model_copy(deep=True)
    new_pod, pod = template_spec(new), template_spec(result)
    if new_pod.affinity is None and pod.affinity is not None:
        pod.affinity.node_affinity = None
        if pod.affinity == Affinity():
            pod.affinity = None
    elif new_pod.affinity is not None and pod.affinity is None:
        pod.affinity = Affinity(node_affinity=new_pod.affinity.node_affinity)
    elif new_pod.affinity is not None and pod.affinity is not None:
        pod.affinity.node_affinity = new_pod.affinity.node_affinity
    pod.node_selector = dict(new_pod.node_selector)
    pod.tolerations = list(new_pod.tolerations)
    pod.scheduling_gates = list(new_pod.scheduling_gates)
    result.metadata.annotations = dict(new.metadata.annotations)
    result.metadata.labels = dict(new.metadata.labels)
    return result


def _job_condition(conditions: Sequence[JobCondition], kind: str) -> bool:
    """``hasJobCondition``: the first condition of the type decides."""
    for condition in conditions:
        if condition.type == kind:
            return condition.status == "True"
    return False


class JobStrategy(Strategy):
    """Jobs: one completion with parallelism 1 when neither is set, six retries,
    NonIndexed, not suspended, a generated selector unless ``manualSelector``; the
    template is immutable."""

    resource = registry.resource("batch", "jobs")
    subresources = (Status(),)
    generation = True
    selectable_fields = ("status.successful",)
    columns = (
        Column("Status", description="Status of the job."),
        Column("Completions", description="The number of pods which reached phase Succeeded."),
        Column("Duration", description="Time required to complete the job."),
        AGE_COLUMN,
        CONTAINERS,
        IMAGES,
        selector_column("A label query over pods that should match the pod count."),
    )

    def fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        status = obj.get("status") or {}
        return {"status.successful": str(status.get("succeeded") or 0)}

    def prepare_for_create(self, obj: Job) -> None:
        super().prepare_for_create(obj)
        if obj.spec is None:
            obj.spec = empty_job_spec()
        _drop_disabled(obj.spec, None)
        # The store has set the uid already; Kubernetes generates here too.
        if not obj.spec.manual_selector:
            _generate_selector(obj, obj.spec)

    def prepare_for_update(self, new: Job, old: Job) -> None:
        super().prepare_for_update(new, old)
        if new.spec is None:
            new.spec = empty_job_spec()
        _drop_disabled(new.spec, old.spec)

    def default(self, obj: Job) -> None:
        if obj.spec is None:
            obj.spec = empty_job_spec()
        spec = obj.spec
        if spec.completions is None and spec.parallelism is None:
            spec.completions = 1
            spec.parallelism = 1
        if spec.parallelism is None:
            spec.parallelism = 1
        if spec.backoff_limit is None:
            spec.backoff_limit = MAX_INT32 if spec.backoff_limit_per_index is not None else 6
        if spec.template.metadata.labels and not obj.metadata.labels:
            obj.metadata.labels = dict(spec.template.metadata.labels)
        if spec.completion_mode is None:
            spec.completion_mode = "NonIndexed"
        if spec.suspend is None:
            spec.suspend = False
        if spec.pod_replacement_policy is None:
            spec.pod_replacement_policy = (
                "Failed" if spec.pod_failure_policy is not None else "TerminatingOrFailed"
            )
        if spec.manual_selector is None:
            spec.manual_selector = False
        default_job_template_spec(spec)

    def validate(self, obj: Job) -> list[FieldError]:
        spec = obj.spec or empty_job_spec()
        errors = self.validate_metadata(obj)
        errors += _validate_generated_selector(obj, spec)
        errors += _validate_job_spec(spec)
        if spec.completion_mode == "Indexed" and spec.completions and spec.completions > 0:
            hostname = f"{obj.metadata.name}-{spec.completions - 1}"
            if is_dns1123_label(hostname):
                errors.append(
                    invalid(
                        "metadata.name",
                        obj.metadata.name or "",
                        f"will not able to create pod with invalid DNS label: {hostname}",
                    )
                )
        return errors

    def validate_update(self, new: Job, old: Job) -> list[FieldError]:
        spec = new.spec or empty_job_spec()
        # Kubernetes defaults what it reads from storage too: compare like with like.
        old = old.model_copy(deep=True)
        self.default(old)
        old_spec = old.spec or empty_job_spec()
        errors = self._completions_update(spec, old_spec)
        errors += immutable(
            spec.selector, old_spec.selector, "spec.selector", go_label_selector(spec.selector)
        )
        old_template = old_spec.template
        suspended = bool(old_spec.suspend)
        started = old.status is not None and old.status.start_time is not None
        if suspended and not started:
            old_template = _mutable_scheduling_template(spec.template, old_template)
        errors += immutable(spec.template, old_template, "spec.template")
        errors += immutable(spec.completion_mode, old_spec.completion_mode, "spec.completionMode")
        errors += immutable(
            spec.pod_failure_policy, old_spec.pod_failure_policy, "spec.podFailurePolicy"
        )
        errors += immutable(
            spec.backoff_limit_per_index,
            old_spec.backoff_limit_per_index,
            "spec.backoffLimitPerIndex",
        )
        return errors

    @staticmethod
    def _completions_update(spec: JobSpec, old: JobSpec) -> list[FieldError]:
        # Indexed Jobs may scale (ElasticIndexedJob, on in 1.30) with parallelism.
        if spec.completion_mode != "Indexed":
            return immutable(spec.completions, old.completions, "spec.completions")
        if spec.completions == old.completions or spec.completions is None:
            return []
        if spec.completions != spec.parallelism:
            return [
                invalid(
                    "spec.completions",
                    spec.completions,
                    "can only be modified in tandem with spec.parallelism",
                )
            ]
        return []

    def validate_status_update(self, new: Job, old: Job) -> list[FieldError]:
        status = new.status or JobStatus()
        p = "status."
        errors = nonnegative(status.active, p + "active")
        errors += nonnegative(status.succeeded, p + "succeeded")
        errors += nonnegative(status.failed, p + "failed")
        errors += nonnegative(status.ready, p + "ready")
        errors += nonnegative(status.terminating, p + "terminating")
        uncounted = status.uncounted_terminated_pods
        if uncounted is not None:
            path = FieldPath("status", "uncountedTerminatedPods")
            seen: set[str] = set()
            for name, uids in (("succeeded", uncounted.succeeded), ("failed", uncounted.failed)):
                for i, uid in enumerate(uids):
                    item = path.child(name).index(i)
                    if not uid:
                        errors.append(invalid(item, uid, "must not be empty"))
                    elif uid in seen:
                        errors.append(duplicate(item, uid))
                    else:
                        seen.add(uid)
        return errors

    def row(self, obj: Job) -> Sequence[Any]:
        spec, status = obj.spec, obj.status or JobStatus()
        succeeded = status.succeeded or 0
        if spec is not None and spec.completions is not None:
            completions = f"{succeeded}/{spec.completions}"
        else:
            parallelism = (spec.parallelism or 0) if spec else 0
            completions = f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"
        if status.start_time is None:
            duration = ""
        else:
            duration = age(status.start_time, status.completion_time or now())
        conditions = status.conditions
        if _job_condition(conditions, "Complete"):
            state = "Complete"
        elif _job_condition(conditions, "Failed"):
            state = "Failed"
        elif obj.metadata.deletion_timestamp is not None:
            state = "Terminating"
        elif _job_condition(conditions, "Suspended"):
            state = "Suspended"
        elif _job_condition(conditions, "FailureTarget"):
            state = "FailureTarget"
        else:
            state = "Running"
        names, images = container_cells(spec.template if spec else None)
        return [
            state,
            completions,
            duration,
            age(obj.metadata.creation_timestamp),
            names,
            images,
            format_label_selector(spec.selector if spec else None),
        ]
