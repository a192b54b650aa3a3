"""Rules shared by the kinds that carry a pod template (ReplicaSet, Deployment, DaemonSet,
StatefulSet, Job, CronJob): template defaults and checks, selectors that must select
the template, int-or-percent fields, status counters, and the CONTAINERS / IMAGES /
SELECTOR columns. PodDisruptionBudgets use the int-or-percent rules too.
"""

from __future__ import annotations

import re
from typing import Any

from apiserver.kinds.common import (
    go_int_or_string,
    go_label_selector,
    go_string_map,
    immutable,
    nonnegative,
)
from apiserver.kinds.podspec import default_pod_template_spec, validate_pod_template_spec
from apiserver.kinds.printers import layout_container_cells
from apiserver.registry.strategy import Column
from apitypes.core import PodSpec, PodTemplateSpec
from apitypes.meta import LabelSelector
from apitypes.selectors import LabelSelectorExpr, SelectorError, from_label_selector
from apitypes.validation import (
    FieldError,
    FieldPath,
    forbidden,
    invalid,
    is_percent,
    not_supported,
    required,
    validate_label_selector,
)

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


def validate_replica_template(
    template: PodTemplateSpec,
    selector: LabelSelectorExpr,
    path: FieldPath,
    *,
    kind: str = "ReplicaSet",
) -> list[FieldError]:
    """``ValidatePodTemplateSpecForReplicaSet`` (used by Deployments as well, hence the
    ReplicaSet wording) and ``ValidatePodTemplateSpecForRC`` (``kind``): selected
    labels, a valid pod, ``restartPolicy: Always``."""
    errors: list[FieldError] = []
    if not selector.is_empty():
        errors += selector_matches_template(selector, template, path)
    errors += validate_pod_template_spec(template, path)
    errors += always_restart(template, path, kind)
    return errors


def validate_replicated_pods(
    selector: LabelSelector | None, template: PodTemplateSpec | None, path: FieldPath
) -> list[FieldError]:
    """A ReplicaSet's or Deployment's selector and template (``path`` is the spec's):
    a valid, non-empty selector that selects a valid template restarting Always."""
    # Kubernetes' message names deployments for ReplicaSets too.
    errors = validate_workload_selector(selector, path.child("selector"), "deployment")
    parsed = parse_selector(selector)
    if parsed is None:
        errors.append(
            invalid(path.child("selector"), go_label_selector(selector), "invalid label selector")
        )
    else:
        template = template or empty_template()
        errors += validate_replica_template(template, parsed, path.child("template"))
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


def selector_string(selector: LabelSelector | None) -> str:
    """``LabelSelectorAsSelector(...).String()``, ``<invalid>`` when malformed."""
    parsed = parse_selector(selector)
    return "<invalid>" if parsed is None else str(parsed)


# Column descriptions: the literal ones are Kubernetes' own; the rest say the same


CONTAINERS = Column(
    "Containers", priority=1, description="Names of each container in the template."
)
IMAGES = Column(
    "Images", priority=1, description="Images referenced by each container in the template."
)


def selector_column(description: str) -> Column:
    return Column("Selector", priority=1, description=description)


def selector_unchanged(new: Any, old: Any) -> list[FieldError]:
    """apps/v1 forbids changing a controller's selector."""
    new_sel = new.selector if new else None
    old_sel = old.selector if old else None
    return immutable(new_sel, old_sel, "spec.selector", go_label_selector(new_sel))
