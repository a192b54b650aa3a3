"""apps/v1 kinds: ReplicaSet, Deployment, DaemonSet, StatefulSet, ControllerRevision.

Each strategy applies Kubernetes 1.30's defaults (``pkg/apis/apps/v1/defaults.go`` plus
the pod defaults of its template), its validation (``pkg/apis/apps/validation``, with
the same field paths and wording) and its ``kubectl get`` columns.

Kubernetes renders a bad value that is a Go struct or map with ``%#v``
(``map[string]string{"app":"web"}``). The few such values users meet every day (label
maps, label selectors, int-or-percent fields) are rendered the same way here through
:class:`GoValue`; other structs fall back to the compact JSON that
:func:`apitypes.validation.format_value` uses.

The helpers for pod templates, selectors and int-or-percent fields are shared with
the batch and policy kinds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from apiserver.kinds.podspec import default_pod_template_spec, validate_pod_template_spec
from apiserver.kinds.printers import AGE_DESCRIPTION, format_labels, layout_container_cells
from apiserver.registry.strategy import Column, Strategy, age
from apitypes import registry
from apitypes.apps import (
    ControllerRevision,
    DaemonSet,
    DaemonSetSpec,
    DaemonSetStatus,
    DaemonSetUpdateStrategy,
    Deployment,
    DeploymentSpec,
    DeploymentStatus,
    ReplicaSet,
    ReplicaSetSpec,
    ReplicaSetStatus,
    RollingUpdateDaemonSet,
    RollingUpdateDeployment,
    RollingUpdateStatefulSetStrategy,
    StatefulSet,
    StatefulSetPersistentVolumeClaimRetentionPolicy,
    StatefulSetSpec,
    StatefulSetStatus,
    StatefulSetUpdateStrategy,
)
from apitypes.apps import DeploymentStrategy as DeploymentStrategySpec
from apitypes.core import (
    PersistentVolumeClaimVolumeSource,
    PodSpec,
    PodTemplateSpec,
    Volume,
)
from apitypes.meta import LabelSelector
from apitypes.registry import ResourceType
from apitypes.selectors import LabelSelectorExpr, SelectorError, from_label_selector
from apitypes.selectors import format_label_selector as _format_selector
from apitypes.validation import (
    FIELD_IMMUTABLE,
    IS_NEGATIVE,
    FieldError,
    FieldPath,
    forbidden,
    go_quote,
    invalid,
    is_dns1123_label,
    is_percent,
    not_supported,
    required,
    validate_label_selector,
)

# --- bad values as Go prints them ------------------------------------------------------


class GoValue:
    """A bad value whose text is Go's ``%#v`` of the Kubernetes value.

    :func:`apitypes.validation.format_value` cannot encode it as JSON and falls back to
    ``str()``, so the field error shows exactly this text.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"GoValue({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GoValue) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def _go_map_text(values: Mapping[str, str]) -> str:
    # Go prints a nil map as "(nil)"; an empty map in a decoded object is nil unless
    # the client sent "{}", which the models cannot tell apart, so empty reads as nil.
    if not values:
        return "map[string]string(nil)"
    pairs = ", ".join(f"{go_quote(k)}:{go_quote(values[k])}" for k in sorted(values))
    return "map[string]string{" + pairs + "}"


def go_string_map(values: Mapping[str, str]) -> GoValue:
    """``map[string]string{"a":"b"}``, keys sorted as Go's fmt sorts them."""
    return GoValue(_go_map_text(values))


def go_label_selector(selector: LabelSelector | None) -> GoValue | None:
    """A ``metav1.LabelSelector`` as ``%#v`` prints it; None stays None (``null``)."""
    if selector is None:
        return None
    if selector.match_expressions:
        parts = []
        for expr in selector.match_expressions:
            values = (
                "[]string{" + ", ".join(go_quote(v) for v in expr.values) + "}"
                if expr.values
                else "[]string(nil)"
            )
            parts.append(
                f"v1.LabelSelectorRequirement{{Key:{go_quote(expr.key)}, "
                f"Operator:{go_quote(expr.operator)}, Values:{values}}}"
            )
        exprs = "[]v1.LabelSelectorRequirement{" + ", ".join(parts) + "}"
    else:
        exprs = "[]v1.LabelSelectorRequirement(nil)"
    return GoValue(
        f"v1.LabelSelector{{MatchLabels:{_go_map_text(selector.match_labels)}, "
        f"MatchExpressions:{exprs}}}"
    )


def go_int_or_string(value: int | str) -> GoValue:
    """An ``intstr.IntOrString`` as ``%#v`` prints it (its ``String`` is not used)."""
    if isinstance(value, str):
        return GoValue(f"intstr.IntOrString{{Type:1, IntVal:0, StrVal:{go_quote(value)}}}")
    return GoValue(f'intstr.IntOrString{{Type:0, IntVal:{value}, StrVal:""}}')


def int_or_string_text(value: int | str) -> str:
    """``IntOrString.String()``: the number or the string as it is."""
    return str(value)


# --- small validators shared by the workload kinds ----------------------------------------


def nonnegative(value: int | None, path: FieldPath | str) -> list[FieldError]:
    """``ValidateNonnegativeField`` (an unset value counts as 0)."""
    if value is not None and value < 0:
        return [invalid(path, value, IS_NEGATIVE)]
    return []


def immutable(new: Any, old: Any, path: FieldPath | str, shown: Any = None) -> list[FieldError]:
    """``ValidateImmutableField``: ``new`` must equal ``old``; ``shown`` is the value
    to print (default: ``new``)."""
    if new != old:
        return [invalid(path, new if shown is None else shown, FIELD_IMMUTABLE)]
    return []


_GO_INT_RE = re.compile(r"[+-]?[0-9]+")


def percent_value(value: int | str) -> int | None:
    """The number of a valid percentage string (``"25%"`` -> 25), else None."""
    if isinstance(value, str) and not is_percent(value):
        return int(value[:-1])
    return None


def int_or_percent_value(value: int | str) -> int:
    """``getIntOrPercentValue``: the percentage's number, the integer, or the string
    read as an integer (0 when it is none)."""
    pct = percent_value(value)
    if pct is not None:
        return pct
    if isinstance(value, int):
        return value
    return int(value) if _GO_INT_RE.fullmatch(value) else 0


def validate_int_or_percent(value: int | str, path: FieldPath) -> list[FieldError]:
    """``ValidatePositiveIntOrPercent``: a non-negative integer or a valid percentage."""
    if isinstance(value, str):
        return [invalid(path, go_int_or_string(value), msg) for msg in is_percent(value)]
    return nonnegative(value, path)


def not_more_than_100_percent(value: int | str, path: FieldPath) -> list[FieldError]:
    """``IsNotMoreThan100Percent``: integers always pass."""
    pct = percent_value(value)
    if pct is None or pct <= 100:
        return []
    return [invalid(path, go_int_or_string(value), "must not be greater than 100%")]


def parse_selector(selector: LabelSelector | None) -> LabelSelectorExpr | None:
    """``LabelSelectorAsSelector``: None when the selector is malformed; a missing
    selector selects nothing."""
    try:
        return from_label_selector(selector)
    except SelectorError:
        return None


def validate_workload_selector(
    selector: LabelSelector | None, path: FieldPath, kind_word: str
) -> list[FieldError]:
    """A controller's selector: required, well-formed, and not empty."""
    if selector is None:
        return [required(path)]
    errors = validate_label_selector(selector, path)
    if not selector.match_labels and not selector.match_expressions:
        errors.append(
            invalid(path, go_label_selector(selector), f"empty selector is invalid for {kind_word}")
        )
    return errors


def selector_matches_template(
    selector: LabelSelectorExpr, template: PodTemplateSpec, path: FieldPath
) -> list[FieldError]:
    """The template's labels must be selected (``path`` is the template's)."""
    labels = template.metadata.labels
    if selector.matches(labels):
        return []
    return [
        invalid(
            path.child("metadata", "labels"),
            go_string_map(labels),
            "`selector` does not match template `labels`",
        )
    ]


def template_spec(template: PodTemplateSpec) -> PodSpec:
    """The template's pod spec, created empty if absent (Kubernetes' zero value)."""
    if template.spec is None:
        template.spec = PodSpec()
    return template.spec


def default_template(template: PodTemplateSpec | None) -> None:
    """Pod defaults for a template (``SetDefaults_PodSpec`` and friends)."""
    if template is not None:
        default_pod_template_spec(template)


def empty_template() -> PodTemplateSpec:
    """Kubernetes' zero-value template with pod defaults: what a missing one means."""
    template = PodTemplateSpec()
    default_template(template)
    return template


def validate_template(template: PodTemplateSpec, path: FieldPath) -> list[FieldError]:
    """``ValidatePodTemplateSpec``: template labels and annotations, the pod spec, no
    ephemeral containers (labels are reported at ``<path>.labels``, as Kubernetes does)."""
    return validate_pod_template_spec(template, path)


def validate_replica_template(
    template: PodTemplateSpec, selector: LabelSelectorExpr, path: FieldPath
) -> list[FieldError]:
    """``ValidatePodTemplateSpecForReplicaSet`` (used by Deployments as well, hence the
    ReplicaSet wording): selected labels, a valid pod, ``restartPolicy: Always``."""
    errors: list[FieldError] = []
    if not selector.is_empty():
        errors += selector_matches_template(selector, template, path)
    errors += validate_template(template, path)
    errors += always_restart(template, path, "ReplicaSet")
    return errors


def always_restart(template: PodTemplateSpec, path: FieldPath, kind: str) -> list[FieldError]:
    """Long-running pods restart ``Always`` and have no ``activeDeadlineSeconds``."""
    spec = template_spec(template)
    errors: list[FieldError] = []
    if spec.restart_policy != "Always":
        errors.append(
            not_supported(
                path.child("spec", "restartPolicy"), spec.restart_policy or "", ["Always"]
            )
        )
    if spec.active_deadline_seconds is not None:
        errors.append(
            forbidden(
                path.child("spec", "activeDeadlineSeconds"),
                f"activeDeadlineSeconds in {kind} is not Supported",
            )
        )
    return errors


def decremented(new: int | None, old: int | None) -> bool:
    """``IsDecremented``: a counter went down or was removed."""
    if new is None:
        return old is not None
    return old is not None and new < old


def collision_count_errors(new: int | None, old: int | None) -> list[FieldError]:
    if decremented(new, old):
        return [invalid("status.collisionCount", new or 0, "cannot be decremented")]
    return []


def not_above(value: int | None, limit: int | None, path: str, message: str) -> list[FieldError]:
    if (value or 0) > (limit or 0):
        return [invalid(path, value or 0, message)]
    return []


def container_cells(template: PodTemplateSpec | None) -> tuple[str, str]:
    """The CONTAINERS and IMAGES cells of a template's pods."""
    return layout_container_cells(template.spec.containers if template and template.spec else [])


def format_label_selector(selector: LabelSelector | None) -> str:
    """``metav1.FormatLabelSelector`` (``<none>`` when empty or missing)."""
    return _format_selector(selector)


def selector_string(selector: LabelSelector | None) -> str:
    """``LabelSelectorAsSelector(...).String()``, ``<invalid>`` when malformed."""
    parsed = parse_selector(selector)
    return "<invalid>" if parsed is None else str(parsed)


# Column descriptions: the literal ones are Kubernetes' own; the rest say the same
# as the field documentation they are taken from.
AGE = Column("Age", description=AGE_DESCRIPTION)
CONTAINERS = Column(
    "Containers", priority=1, description="Names of each container in the template."
)
IMAGES = Column(
    "Images", priority=1, description="Images referenced by each container in the template."
)


def selector_column(description: str) -> Column:
    return Column("Selector", priority=1, description=description)


def _r(plural: str) -> ResourceType:
    return registry.resource("apps", plural)


# --- ReplicaSet ----------------------------------------------------------------------------


def _validate_replica_set_spec(spec: ReplicaSetSpec | None) -> list[FieldError]:
    path = FieldPath("spec")
    replicas = spec.replicas if spec else None
    errors = nonnegative(replicas, path.child("replicas"))
    errors += nonnegative(spec.min_ready_seconds if spec else None, path.child("minReadySeconds"))
    selector = spec.selector if spec else None
    # Kubernetes' message names deployments for ReplicaSets too.
    errors += validate_workload_selector(selector, path.child("selector"), "deployment")
    parsed = parse_selector(selector)
    if parsed is None:
        errors.append(
            invalid(path.child("selector"), go_label_selector(selector), "invalid label selector")
        )
    else:
        template = spec.template if spec and spec.template else empty_template()
        errors += validate_replica_template(template, parsed, path.child("template"))
    return errors


class ReplicaSetStrategy(Strategy):
    """ReplicaSets: replicas default to 1; the selector must select the template and
    cannot change."""

    resource = _r("replicasets")
    generation = True
    selectable_fields = ("status.replicas",)
    columns = (
        Column("Desired", "integer", "Number of desired pods."),
        Column("Current", "integer", "The most recently observed number of replicas."),
        Column("Ready", "integer", "The number of pods targeted that have a Ready condition."),
        AGE,
        CONTAINERS,
        IMAGES,
        selector_column("Label query over pods that should match the replica count."),
    )

    def fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        status = obj.get("status") or {}
        return {"status.replicas": str(status.get("replicas") or 0)}

    def default(self, obj: ReplicaSet) -> None:
        spec = obj.spec
        if spec is None:
            return
        if spec.replicas is None:
            spec.replicas = 1
        # The template is optional on the wire but a value in Kubernetes' types: an
        # absent one is defaulted (and then fails validation for want of containers).
        if spec.template is None:
            spec.template = PodTemplateSpec()
        default_template(spec.template)

    def validate(self, obj: ReplicaSet) -> list[FieldError]:
        return self.validate_metadata(obj) + _validate_replica_set_spec(obj.spec)

    def validate_update(self, new: ReplicaSet, old: ReplicaSet) -> list[FieldError]:
        return _selector_unchanged(new.spec, old.spec)

    def validate_status_update(self, new: ReplicaSet, old: ReplicaSet) -> list[FieldError]:
        status = new.status or ReplicaSetStatus(replicas=0)
        p = "status."
        errors = nonnegative(status.replicas, p + "replicas")
        errors += nonnegative(status.fully_labeled_replicas, p + "fullyLabeledReplicas")
        errors += nonnegative(status.ready_replicas, p + "readyReplicas")
        errors += nonnegative(status.available_replicas, p + "availableReplicas")
        errors += nonnegative(status.observed_generation, p + "observedGeneration")
        msg = "cannot be greater than status.replicas"
        replicas = status.replicas
        errors += not_above(
            status.fully_labeled_replicas, replicas, p + "fullyLabeledReplicas", msg
        )
        errors += not_above(status.ready_replicas, replicas, p + "readyReplicas", msg)
        errors += not_above(status.available_replicas, replicas, p + "availableReplicas", msg)
        errors += not_above(
            status.available_replicas,
            status.ready_replicas,
            p + "availableReplicas",
            "cannot be greater than readyReplicas",
        )
        return errors

    def row(self, obj: ReplicaSet) -> Sequence[Any]:
        spec, status = obj.spec, obj.status
        cells: list[Any] = [
            (spec.replicas or 0) if spec else 0,
            status.replicas if status else 0,
            (status.ready_replicas or 0) if status else 0,
            age(obj.metadata.creation_timestamp),
        ]
        names, images = container_cells(spec.template if spec else None)
        return [*cells, names, images, format_label_selector(spec.selector if spec else None)]


def _selector_unchanged(new: Any, old: Any) -> list[FieldError]:
    """apps/v1 forbids changing a controller's selector."""
    new_sel = new.selector if new else None
    old_sel = old.selector if old else None
    return immutable(new_sel, old_sel, "spec.selector", go_label_selector(new_sel))


# --- Deployment -----------------------------------------------------------------------------


def _validate_deployment_strategy(
    strategy: DeploymentStrategySpec | None, path: FieldPath
) -> list[FieldError]:
    strategy = strategy or DeploymentStrategySpec()
    if strategy.type == "Recreate":
        if strategy.rolling_update is not None:
            return [
                forbidden(
                    path.child("rollingUpdate"),
                    "may not be specified when strategy `type` is 'Recreate'",
                )
            ]
        return []
    if strategy.type == "RollingUpdate":
        rolling = strategy.rolling_update
        if rolling is None:
            return [
                required(path.child("rollingUpdate"), "this should be defaulted and never be nil")
            ]
        return _validate_rolling_update_deployment(rolling, path.child("rollingUpdate"))
    shown = (
        GoValue(
            f"apps.DeploymentStrategy{{Type:{go_quote(strategy.type or '')}, "
            "RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}"
        )
        if strategy.rolling_update is None
        else strategy
    )
    return [not_supported(path, shown, ["Recreate", "RollingUpdate"])]


def _validate_rolling_update_deployment(
    rolling: RollingUpdateDeployment, path: FieldPath
) -> list[FieldError]:
    # Defaulting sets both; an unset one behaves as Kubernetes' zero value.
    max_unavailable = rolling.max_unavailable if rolling.max_unavailable is not None else 0
    max_surge = rolling.max_surge if rolling.max_surge is not None else 0
    errors = validate_int_or_percent(max_unavailable, path.child("maxUnavailable"))
    errors += validate_int_or_percent(max_surge, path.child("maxSurge"))
    if int_or_percent_value(max_unavailable) == 0 and int_or_percent_value(max_surge) == 0:
        errors.append(
            invalid(
                path.child("maxUnavailable"),
                go_int_or_string(max_unavailable),
                "may not be 0 when `maxSurge` is 0",
            )
        )
    errors += not_more_than_100_percent(max_unavailable, path.child("maxUnavailable"))
    return errors


def _validate_deployment_spec(spec: DeploymentSpec | None) -> list[FieldError]:
    path = FieldPath("spec")
    errors = nonnegative(spec.replicas if spec else None, path.child("replicas"))
    selector = spec.selector if spec else None
    errors += validate_workload_selector(selector, path.child("selector"), "deployment")
    parsed = parse_selector(selector)
    if parsed is None:
        errors.append(
            invalid(path.child("selector"), go_label_selector(selector), "invalid label selector")
        )
    else:
        template = spec.template if spec else empty_template()
        errors += validate_replica_template(template, parsed, path.child("template"))
    errors += _validate_deployment_strategy(spec.strategy if spec else None, path.child("strategy"))
    min_ready = (spec.min_ready_seconds if spec else None) or 0
    errors += nonnegative(min_ready, path.child("minReadySeconds"))
    if spec is not None:
        errors += nonnegative(spec.revision_history_limit, path.child("revisionHistoryLimit"))
        deadline = spec.progress_deadline_seconds
        if deadline is not None:
            errors += nonnegative(deadline, path.child("progressDeadlineSeconds"))
            if deadline <= min_ready:
                errors.append(
                    invalid(
                        path.child("progressDeadlineSeconds"),
                        deadline,
                        "must be greater than minReadySeconds",
                    )
                )
    return errors


class DeploymentStrategy(Strategy):
    """Deployments: replicas 1, a RollingUpdate strategy of 25%/25%, ten old
    ReplicaSets kept, 600 s to make progress. Annotation changes count as a new
    generation (they are copied to the ReplicaSets), and ``/status`` may change
    annotations (the deployment controller records the revision there)."""

    resource = _r("deployments")
    generation = True
    columns = (
        Column("Ready", description="Number of the pod with ready state"),
        Column("Up-to-date", description="Total number of pods with the desired template."),
        Column("Available", description="Total number of available pods."),
        AGE,
        CONTAINERS,
        IMAGES,
        selector_column("Label selector for pods."),
    )

    def default(self, obj: Deployment) -> None:
        spec = obj.spec
        if spec is None:
            return
        if spec.replicas is None:
            spec.replicas = 1
        if spec.strategy is None:
            spec.strategy = DeploymentStrategySpec()
        strategy = spec.strategy
        if not strategy.type:
            strategy.type = "RollingUpdate"
        if strategy.type == "RollingUpdate":
            if strategy.rolling_update is None:
                strategy.rolling_update = RollingUpdateDeployment()
            if strategy.rolling_update.max_unavailable is None:
                strategy.rolling_update.max_unavailable = "25%"
            if strategy.rolling_update.max_surge is None:
                strategy.rolling_update.max_surge = "25%"
        if spec.revision_history_limit is None:
            spec.revision_history_limit = 10
        if spec.progress_deadline_seconds is None:
            spec.progress_deadline_seconds = 600
        default_template(spec.template)

    def prepare_for_update(self, new: Deployment, old: Deployment) -> None:
        super().prepare_for_update(new, old)
        # The store counts spec changes; Kubernetes counts annotation changes too.
        if new.metadata.annotations != old.metadata.annotations:
            new.metadata.generation = (old.metadata.generation or 0) + 1

    def prepare_for_status_update(self, new: Deployment, old: Deployment) -> None:
        annotations = dict(new.metadata.annotations)
        super().prepare_for_status_update(new, old)
        new.metadata.annotations = annotations

    def validate(self, obj: Deployment) -> list[FieldError]:
        return self.validate_metadata(obj) + _validate_deployment_spec(obj.spec)

    def validate_update(self, new: Deployment, old: Deployment) -> list[FieldError]:
        return _selector_unchanged(new.spec, old.spec)

    def validate_status_update(self, new: Deployment, old: Deployment) -> list[FieldError]:
        status = new.status or DeploymentStatus()
        p = "status."
        errors = nonnegative(status.observed_generation, p + "observedGeneration")
        errors += nonnegative(status.replicas, p + "replicas")
        errors += nonnegative(status.updated_replicas, p + "updatedReplicas")
        errors += nonnegative(status.ready_replicas, p + "readyReplicas")
        errors += nonnegative(status.available_replicas, p + "availableReplicas")
        errors += nonnegative(status.unavailable_replicas, p + "unavailableReplicas")
        errors += nonnegative(status.collision_count, p + "collisionCount")
        msg = "cannot be greater than status.replicas"
        errors += not_above(status.updated_replicas, status.replicas, p + "updatedReplicas", msg)
        errors += not_above(status.ready_replicas, status.replicas, p + "readyReplicas", msg)
        errors += not_above(
            status.available_replicas, status.replicas, p + "availableReplicas", msg
        )
        errors += not_above(
            status.available_replicas,
            status.ready_replicas,
            p + "availableReplicas",
            "cannot be greater than readyReplicas",
        )
        old_count = old.status.collision_count if old.status else None
        errors += collision_count_errors(status.collision_count, old_count)
        return errors

    def row(self, obj: Deployment) -> Sequence[Any]:
        spec, status = obj.spec, obj.status or DeploymentStatus()
        desired = (spec.replicas or 0) if spec else 0
        cells: list[Any] = [
            f"{status.ready_replicas or 0}/{desired}",
            status.updated_replicas or 0,
            status.available_replicas or 0,
            age(obj.metadata.creation_timestamp),
        ]
        names, images = container_cells(spec.template if spec else None)
        return [*cells, names, images, selector_string(spec.selector if spec else None)]


# --- DaemonSet ------------------------------------------------------------------------------


def _validate_daemon_set_strategy(
    strategy: DaemonSetUpdateStrategy | None, path: FieldPath
) -> list[FieldError]:
    strategy = strategy or DaemonSetUpdateStrategy()
    if strategy.type == "OnDelete":
        return []
    if strategy.type == "RollingUpdate":
        rolling = strategy.rolling_update
        if rolling is None:
            return [required(path.child("rollingUpdate"))]
        return _validate_rolling_update_daemon_set(rolling, path.child("rollingUpdate"))
    shown = (
        GoValue(
            f"apps.DaemonSetUpdateStrategy{{Type:{go_quote(strategy.type or '')}, "
            "RollingUpdate:(*apps.RollingUpdateDaemonSet)(nil)}"
        )
        if strategy.rolling_update is None
        else strategy
    )
    return [not_supported(path, shown, ["RollingUpdate", "OnDelete"])]


def _validate_rolling_update_daemon_set(
    rolling: RollingUpdateDaemonSet, path: FieldPath
) -> list[FieldError]:
    max_unavailable = rolling.max_unavailable if rolling.max_unavailable is not None else 0
    max_surge = rolling.max_surge if rolling.max_surge is not None else 0
    errors = validate_int_or_percent(max_unavailable, path.child("maxUnavailable"))
    errors += validate_int_or_percent(max_surge, path.child("maxSurge"))
    errors += not_more_than_100_percent(max_unavailable, path.child("maxUnavailable"))
    errors += not_more_than_100_percent(max_surge, path.child("maxSurge"))
    has_unavailable = int_or_percent_value(max_unavailable) != 0
    has_surge = int_or_percent_value(max_surge) != 0
    if has_unavailable and has_surge:
        errors.append(
            invalid(
                path.child("maxSurge"),
                go_int_or_string(max_surge),
                "may not be set when maxUnavailable is non-zero",
            )
        )
    elif not has_unavailable and not has_surge:
        errors.append(required(path.child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
    return errors


def _validate_daemon_set_spec(spec: DaemonSetSpec | None) -> list[FieldError]:
    path = FieldPath("spec")
    selector = spec.selector if spec else None
    template = spec.template if spec else empty_template()
    errors = validate_label_selector(selector, path.child("selector"))
    parsed = parse_selector(selector)
    if parsed is not None:
        # No emptiness exemption here: a DaemonSet's selector must select the template.
        errors += selector_matches_template(parsed, template, path.child("template"))
    if selector is not None and not selector.match_labels and not selector.match_expressions:
        errors.append(
            invalid(
                path.child("selector"),
                go_label_selector(selector),
                "empty selector is invalid for daemonset",
            )
        )
    errors += validate_template(template, path.child("template"))
    errors += always_restart(template, path.child("template"), "DaemonSet")
    errors += nonnegative(spec.min_ready_seconds if spec else None, path.child("minReadySeconds"))
    errors += _validate_daemon_set_strategy(
        spec.update_strategy if spec else None, path.child("updateStrategy")
    )
    if spec is not None:
        errors += nonnegative(spec.revision_history_limit, path.child("revisionHistoryLimit"))
    return errors


class DaemonSetStrategy(Strategy):
    """DaemonSets: a RollingUpdate strategy replacing one pod at a time without surge,
    ten revisions kept; the selector cannot change."""

    resource = _r("daemonsets")
    generation = True
    columns = (
        Column("Desired", "integer", "The total number of nodes that should run the pod."),
        Column("Current", "integer", "The number of nodes running at least one pod."),
        Column("Ready", "integer", "The number of nodes whose pod is ready."),
        Column("Up-to-date", "integer", "The number of nodes running the updated pod."),
        Column("Available", "integer", "The number of nodes whose pod is available."),
        Column("Node Selector", description="The node selector of the pod template."),
        AGE,
        CONTAINERS,
        IMAGES,
        selector_column("A label query over pods that are managed by the daemon set."),
    )

    def default(self, obj: DaemonSet) -> None:
        spec = obj.spec
        if spec is None:
            return
        if spec.update_strategy is None:
            spec.update_strategy = DaemonSetUpdateStrategy()
        strategy = spec.update_strategy
        if not strategy.type:
            strategy.type = "RollingUpdate"
        if strategy.type == "RollingUpdate":
            if strategy.rolling_update is None:
                strategy.rolling_update = RollingUpdateDaemonSet()
            if strategy.rolling_update.max_unavailable is None:
                strategy.rolling_update.max_unavailable = 1
            if strategy.rolling_update.max_surge is None:
                strategy.rolling_update.max_surge = 0
        if spec.revision_history_limit is None:
            spec.revision_history_limit = 10
        default_template(spec.template)

    def validate(self, obj: DaemonSet) -> list[FieldError]:
        return self.validate_metadata(obj) + _validate_daemon_set_spec(obj.spec)

    def validate_update(self, new: DaemonSet, old: DaemonSet) -> list[FieldError]:
        return _selector_unchanged(new.spec, old.spec)

    def validate_status_update(self, new: DaemonSet, old: DaemonSet) -> list[FieldError]:
        status = new.status or DaemonSetStatus(
            current_number_scheduled=0,
            number_misscheduled=0,
            desired_number_scheduled=0,
            number_ready=0,
        )
        p = "status."
        errors = nonnegative(status.current_number_scheduled, p + "currentNumberScheduled")
        errors += nonnegative(status.number_misscheduled, p + "numberMisscheduled")
        errors += nonnegative(status.desired_number_scheduled, p + "desiredNumberScheduled")
        errors += nonnegative(status.number_ready, p + "numberReady")
        errors += nonnegative(status.observed_generation, p + "observedGeneration")
        errors += nonnegative(status.updated_number_scheduled, p + "updatedNumberScheduled")
        errors += nonnegative(status.number_available, p + "numberAvailable")
        errors += nonnegative(status.number_unavailable, p + "numberUnavailable")
        errors += nonnegative(status.collision_count, p + "collisionCount")
        old_count = old.status.collision_count if old.status else None
        errors += collision_count_errors(status.collision_count, old_count)
        return errors

    def row(self, obj: DaemonSet) -> Sequence[Any]:
        spec, status = obj.spec, obj.status
        template = spec.template if spec else None
        node_selector = template.spec.node_selector if template and template.spec else {}
        cells: list[Any] = [
            status.desired_number_scheduled if status else 0,
            status.current_number_scheduled if status else 0,
            status.number_ready if status else 0,
            (status.updated_number_scheduled or 0) if status else 0,
            (status.number_available or 0) if status else 0,
            format_labels(node_selector),
            age(obj.metadata.creation_timestamp),
        ]
        names, images = container_cells(template)
        return [*cells, names, images, format_label_selector(spec.selector if spec else None)]


# --- StatefulSet ----------------------------------------------------------------------------

_STATEFUL_SET_MUTABLE = (
    "replicas",
    "template",
    "update_strategy",
    "min_ready_seconds",
    "ordinals",
    "persistent_volume_claim_retention_policy",
)
_STATEFUL_SET_UPDATE_FORBIDDEN = (
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
    "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "
    "forbidden"
)


def _validate_stateful_set_strategy(
    strategy: StatefulSetUpdateStrategy | None, path: FieldPath
) -> list[FieldError]:
    strategy = strategy or StatefulSetUpdateStrategy()
    rolling = strategy.rolling_update
    if not strategy.type:
        return [required(path)]
    if strategy.type == "OnDelete":
        if rolling is not None:
            return [
                invalid(
                    path.child("rollingUpdate"),
                    _go_rolling_stateful_set(rolling),
                    "only allowed for updateStrategy 'RollingUpdate'",
                )
            ]
        return []
    if strategy.type == "RollingUpdate":
        if rolling is None:
            return []
        errors = nonnegative(rolling.partition, path.child("rollingUpdate", "partition"))
        if rolling.max_unavailable is not None:
            max_path = path.child("rollingUpdate", "maxUnavailable")
            errors += validate_int_or_percent(rolling.max_unavailable, max_path)
            if int_or_percent_value(rolling.max_unavailable) == 0:
                errors.append(
                    invalid(max_path, go_int_or_string(rolling.max_unavailable), "cannot be 0")
                )
            errors += not_more_than_100_percent(rolling.max_unavailable, max_path)
        return errors
    shown = (
        GoValue(
            f"apps.StatefulSetUpdateStrategy{{Type:{go_quote(strategy.type)}, "
            "RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}"
        )
        if rolling is None
        else strategy
    )
    return [invalid(path, shown, "must be 'RollingUpdate' or 'OnDelete'")]


def _go_rolling_stateful_set(rolling: RollingUpdateStatefulSetStrategy) -> Any:
    if rolling.max_unavailable is not None:
        return rolling  # Go would print a pointer address; JSON says more
    return GoValue(
        f"apps.RollingUpdateStatefulSetStrategy{{Partition:{rolling.partition or 0}, "
        "MaxUnavailable:(*intstr.IntOrString)(nil)}"
    )


def _validate_retention_policy(
    policy: StatefulSetPersistentVolumeClaimRetentionPolicy | None, path: FieldPath
) -> list[FieldError]:
    if policy is None:
        return []
    errors: list[FieldError] = []
    for name, value in (("whenDeleted", policy.when_deleted), ("whenScaled", policy.when_scaled)):
        if value not in ("Retain", "Delete"):
            errors.append(not_supported(path.child(name), value or "", ["Retain", "Delete"]))
    return errors


def _validate_claim_templates(templates: list[dict[str, Any]], path: FieldPath) -> list[FieldError]:
    """Claim templates need distinct names usable in claim and volume names.

    Kubernetes 1.30 checks nothing here and lets the controller fail later; a claim
    named ``<template>-<set>-<ordinal>`` and a pod volume named ``<template>`` can only
    be made from a DNS-1123 name, so navarch refuses bad ones up front.
    """
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, claim in enumerate(templates):
        meta = claim.get("metadata") if isinstance(claim, dict) else None
        name = meta.get("name") if isinstance(meta, dict) else None
        name_path = path.index(i).child("metadata", "name")
        if not isinstance(name, str) or not name:
            errors.append(required(name_path))
            continue
        errors += [invalid(name_path, name, msg) for msg in is_dns1123_label(name)]
        if name in seen:
            errors.append(invalid(name_path, name, "must be unique"))
        seen.add(name)
    return errors


def _claim_names(templates: list[dict[str, Any]]) -> list[str]:
    names = []
    for claim in templates:
        meta = claim.get("metadata") if isinstance(claim, dict) else None
        name = meta.get("name") if isinstance(meta, dict) else None
        if isinstance(name, str) and name:
            names.append(name)
    return names


def _stateful_pod_template(spec: StatefulSetSpec, set_name: str) -> PodTemplateSpec:
    """The template as the controller turns it into a pod: each claim template becomes
    a volume of that name (replacing a template volume of the same name)."""
    template = spec.template.model_copy(deep=True)
    pod = template_spec(template)
    claims = list(dict.fromkeys(_claim_names(spec.volume_claim_templates)))  # dups reported
    pod.volumes = [v for v in pod.volumes if v.name not in claims]
    pod.volumes += [
        Volume(
            name=claim,
            persistent_volume_claim=PersistentVolumeClaimVolumeSource(
                claim_name=f"{claim}-{set_name}-0"
            ),
        )
        for claim in claims
    ]
    return template


def _validate_stateful_set_spec(spec: StatefulSetSpec | None, set_name: str) -> list[FieldError]:
    path = FieldPath("spec")
    if spec is None:
        return [
            required(path.child("podManagementPolicy")),
            required(path.child("updateStrategy")),
            required(path.child("selector")),
        ]
    errors: list[FieldError] = []
    policy = spec.pod_management_policy
    if not policy:
        errors.append(required(path.child("podManagementPolicy")))
    elif policy not in ("OrderedReady", "Parallel"):
        errors.append(
            invalid(
                path.child("podManagementPolicy"), policy, "must be 'OrderedReady' or 'Parallel'"
            )
        )
    errors += _validate_stateful_set_strategy(spec.update_strategy, path.child("updateStrategy"))
    errors += _validate_retention_policy(
        spec.persistent_volume_claim_retention_policy,
        path.child("persistentVolumeClaimRetentionPolicy"),
    )
    errors += nonnegative(spec.replicas, path.child("replicas"))
    errors += nonnegative(spec.min_ready_seconds, path.child("minReadySeconds"))
    if spec.ordinals is not None:
        errors += nonnegative(spec.ordinals.start, path.child("ordinals.start"))
    if spec.service_name:
        # Becomes each pod's spec.subdomain; Kubernetes 1.33 added this check.
        errors += [
            invalid(path.child("serviceName"), spec.service_name, msg)
            for msg in is_dns1123_label(spec.service_name)
        ]
    errors += _validate_claim_templates(
        spec.volume_claim_templates, path.child("volumeClaimTemplates")
    )
    errors += validate_workload_selector(spec.selector, path.child("selector"), "statefulset")
    parsed = parse_selector(spec.selector)
    template_path = path.child("template")
    if parsed is None:
        errors.append(invalid(path.child("selector"), go_label_selector(spec.selector), ""))
    elif not parsed.is_empty():
        errors += selector_matches_template(parsed, spec.template, template_path)
    # Kubernetes 1.30 checks only the template's labels and annotations and leaves the
    # pod spec to fail at pod creation; navarch checks the pod the controller will make.
    errors += validate_template(_stateful_pod_template(spec, set_name), template_path)
    errors += always_restart(spec.template, template_path, "StatefulSet")
    return errors


def _default_claim_template(claim: dict[str, Any]) -> None:
    """PersistentVolumeClaim defaults Kubernetes applies to claim templates."""
    spec = claim.setdefault("spec", {})
    if isinstance(spec, dict) and not spec.get("volumeMode"):
        spec["volumeMode"] = "Filesystem"
    status = claim.setdefault("status", {})
    if isinstance(status, dict) and not status.get("phase"):
        status["phase"] = "Pending"


def _drop_max_unavailable(new: StatefulSet, old: StatefulSet | None) -> None:
    """``maxUnavailable`` is alpha (off) in 1.30: dropped unless already in use."""
    old_rolling = (
        old.spec.update_strategy.rolling_update
        if old and old.spec and old.spec.update_strategy
        else None
    )
    if old_rolling is not None and old_rolling.max_unavailable is not None:
        return
    if new.spec and new.spec.update_strategy and new.spec.update_strategy.rolling_update:
        new.spec.update_strategy.rolling_update.max_unavailable = None


class StatefulSetStrategy(Strategy):
    """StatefulSets: one replica, OrderedReady pod management, RollingUpdate from
    partition 0, claims retained; names are DNS labels (they become host names), and
    only replicas, template, updateStrategy, minReadySeconds, ordinals and the claim
    retention policy may change."""

    resource = _r("statefulsets")
    generation = True
    columns = (
        Column("Ready", description="Number of the pod with ready state"),
        AGE,
        CONTAINERS,
        IMAGES,
    )

    def name_errors(self, name: str) -> list[str]:
        return is_dns1123_label(name)

    def prepare_for_create(self, obj: StatefulSet) -> None:
        super().prepare_for_create(obj)
        _drop_max_unavailable(obj, None)

    def prepare_for_update(self, new: StatefulSet, old: StatefulSet) -> None:
        super().prepare_for_update(new, old)
        _drop_max_unavailable(new, old)

    def default(self, obj: StatefulSet) -> None:
        spec = obj.spec
        if spec is None:
            return
        if not spec.pod_management_policy:
            spec.pod_management_policy = "OrderedReady"
        if spec.update_strategy is None:
            spec.update_strategy = StatefulSetUpdateStrategy()
        strategy = spec.update_strategy
        if not strategy.type:
            strategy.type = "RollingUpdate"
            if strategy.rolling_update is None:
                strategy.rolling_update = RollingUpdateStatefulSetStrategy()
        if (
            strategy.type == "RollingUpdate"
            and strategy.rolling_update is not None
            and strategy.rolling_update.partition is None
        ):
            strategy.rolling_update.partition = 0
        if spec.persistent_volume_claim_retention_policy is None:
            spec.persistent_volume_claim_retention_policy = (
                StatefulSetPersistentVolumeClaimRetentionPolicy()
            )
        retention = spec.persistent_volume_claim_retention_policy
        retention.when_deleted = retention.when_deleted or "Retain"
        retention.when_scaled = retention.when_scaled or "Retain"
        if spec.replicas is None:
            spec.replicas = 1
        if spec.revision_history_limit is None:
            spec.revision_history_limit = 10
        for claim in spec.volume_claim_templates:
            if isinstance(claim, dict):
                _default_claim_template(claim)
        default_template(spec.template)

    def validate(self, obj: StatefulSet) -> list[FieldError]:
        return self.validate_metadata(obj) + _validate_stateful_set_spec(
            obj.spec, obj.metadata.name or ""
        )

    def validate_update(self, new: StatefulSet, old: StatefulSet) -> list[FieldError]:
        # Kubernetes defaults what it reads from storage too: compare like with like.
        old = old.model_copy(deep=True)
        self.default(old)
        if new.spec is None or old.spec is None:
            return (
                [] if new.spec == old.spec else [forbidden("spec", _STATEFUL_SET_UPDATE_FORBIDDEN)]
            )
        keep = {name: getattr(old.spec, name) for name in _STATEFUL_SET_MUTABLE}
        if new.spec.model_copy(update=keep).to_dict() != old.spec.to_dict():
            return [forbidden("spec", _STATEFUL_SET_UPDATE_FORBIDDEN)]
        return []

    def validate_status_update(self, new: StatefulSet, old: StatefulSet) -> list[FieldError]:
        status = new.status or StatefulSetStatus(replicas=0)
        p = "status."
        errors = nonnegative(status.replicas, p + "replicas")
        errors += nonnegative(status.ready_replicas, p + "readyReplicas")
        errors += nonnegative(status.current_replicas, p + "currentReplicas")
        errors += nonnegative(status.updated_replicas, p + "updatedReplicas")
        errors += nonnegative(status.available_replicas, p + "availableReplicas")
        errors += nonnegative(status.observed_generation, p + "observedGeneration")
        errors += nonnegative(status.collision_count, p + "collisionCount")
        msg = "cannot be greater than status.replicas"
        replicas = status.replicas
        errors += not_above(status.ready_replicas, replicas, p + "readyReplicas", msg)
        errors += not_above(status.current_replicas, replicas, p + "currentReplicas", msg)
        errors += not_above(status.updated_replicas, replicas, p + "updatedReplicas", msg)
        errors += not_above(status.available_replicas, replicas, p + "availableReplicas", msg)
        errors += not_above(
            status.available_replicas,
            status.ready_replicas,
            p + "availableReplicas",
            "cannot be greater than status.readyReplicas",
        )
        old_count = old.status.collision_count if old.status else None
        errors += collision_count_errors(status.collision_count, old_count)
        return errors

    def row(self, obj: StatefulSet) -> Sequence[Any]:
        spec, status = obj.spec, obj.status
        desired = (spec.replicas or 0) if spec else 0
        ready = (status.ready_replicas or 0) if status else 0
        names, images = container_cells(spec.template if spec else None)
        return [f"{ready}/{desired}", age(obj.metadata.creation_timestamp), names, images]


# --- ControllerRevision -----------------------------------------------------------------------


class ControllerRevisionStrategy(Strategy):
    """ControllerRevisions: ``data`` is required and immutable, ``revision`` is not
    negative."""

    resource = _r("controllerrevisions")
    status_subresource = False
    columns = (
        Column("Controller", description="Controller of the object"),
        Column("Revision", description="Revision indicates the revision of the state."),
        AGE,
    )

    def validate(self, obj: ControllerRevision) -> list[FieldError]:
        return self.validate_metadata(obj) + nonnegative(obj.revision, "revision")

    def validate_update(self, new: ControllerRevision, old: ControllerRevision) -> list[FieldError]:
        return immutable(new.data, old.data, "data")

    def row(self, obj: ControllerRevision) -> Sequence[Any]:
        ref = obj.metadata.controller_ref()
        controller = "<none>"
        if ref is not None:
            group = ref.api_version.split("/")[0] if ref.api_version.count("/") == 1 else ""
            kind = f"{ref.kind}.{group}" if group else ref.kind
            controller = f"{kind.lower()}/{ref.name}" if kind else ref.name
        return [controller, obj.revision or 0, age(obj.metadata.creation_timestamp)]


STRATEGIES: tuple[type[Strategy], ...] = (
    ReplicaSetStrategy,
    DeploymentStrategy,
    DaemonSetStrategy,
    StatefulSetStrategy,
    ControllerRevisionStrategy,
)

__all__ = [
    "STRATEGIES",
    "ControllerRevisionStrategy",
    "DaemonSetStrategy",
    "DeploymentStrategy",
    "GoValue",
    "ReplicaSetStrategy",
    "StatefulSetStrategy",
    "go_int_or_string",
    "go_label_selector",
    "go_string_map",
]
