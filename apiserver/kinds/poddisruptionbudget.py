"""PodDisruptionBudget (policy/v1).

Defaults: none. Validation follows ``pkg/apis/policy/validation``: at most one of
``minAvailable`` and ``maxUnavailable`` (each a non-negative count or a percentage up
to 100%), a well-formed selector, a known unhealthy-pod eviction policy. The selector
may change (policy/v1 allows it). Names are DNS-1123 subdomains, as for most kinds:
Kubernetes long checked only that a PDB's name fits in a URL path (``invalid++`` was
accepted) and now validates its metadata like every other kind's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from apiserver.kinds.common import CONDITION_STATUSES, int_or_string_text, nonnegative
from apiserver.kinds.printers import AGE_COLUMN
from apiserver.kinds.workload import not_more_than_100_percent, validate_int_or_percent
from apiserver.registry.strategy import Column, Strategy, age
from apiserver.subresources.status import Status
from apitypes import registry
from apitypes.meta import Condition
from apitypes.policy import PodDisruptionBudget, PodDisruptionBudgetSpec, PodDisruptionBudgetStatus
from apitypes.validation import (
    FieldError,
    FieldPath,
    duplicate,
    invalid,
    is_qualified_name,
    not_supported,
    regex_error,
    required,
    too_long,
    validate_label_selector,
)

_EVICTION_POLICIES = ("AlwaysAllow", "IfHealthyBudget")
_MAX_REASON_LENGTH = 1024
_MAX_MESSAGE_LENGTH = 32 * 1024
_REASON_FMT = "[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?"
_REASON_RE = re.compile(_REASON_FMT)
_REASON_MSG = (
    "a condition reason must start with alphabetic character, optionally followed by a "
    "string of alphanumeric characters or '_,:', and must end with an alphanumeric "
    "character or '_'"
)


def validate_pdb_spec(spec: PodDisruptionBudgetSpec, path: FieldPath) -> list[FieldError]:
    errors: list[FieldError] = []
    if spec.min_available is not None and spec.max_unavailable is not None:
        errors.append(invalid(path, spec, "minAvailable and maxUnavailable cannot be both set"))
    for name, value in (
        ("minAvailable", spec.min_available),
        ("maxUnavailable", spec.max_unavailable),
    ):
        if value is not None:
            errors += validate_int_or_percent(value, path.child(name))
            errors += not_more_than_100_percent(value, path.child(name))
    errors += validate_label_selector(spec.selector, path.child("selector"))
    policy = spec.unhealthy_pod_eviction_policy
    if policy is not None and policy not in _EVICTION_POLICIES:
        errors.append(
            not_supported(path.child("unhealthyPodEvictionPolicy"), policy, _EVICTION_POLICIES)
        )
    return errors


def validate_conditions(conditions: Sequence[Condition], path: FieldPath) -> list[FieldError]:
    """``metav1validation.ValidateConditions``: unique, well-formed ``metav1.Condition`` s."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, cond in enumerate(conditions):
        item = path.index(i)
        if cond.type in seen:
            errors.append(duplicate(item.child("type"), cond.type))
        seen.add(cond.type)
        errors += [invalid(item.child("type"), cond.type, m) for m in is_qualified_name(cond.type)]
        if cond.status not in CONDITION_STATUSES:
            errors.append(not_supported(item.child("status"), cond.status, CONDITION_STATUSES))
        if cond.observed_generation is not None and cond.observed_generation < 0:
            errors.append(
                invalid(
                    item.child("observedGeneration"),
                    cond.observed_generation,
                    "must be greater than or equal to zero",
                )
            )
        if cond.last_transition_time is None:
            errors.append(required(item.child("lastTransitionTime"), "must be set"))
        reason = cond.reason or ""
        if not reason:
            errors.append(required(item.child("reason"), "must be set"))
        else:
            if not _REASON_RE.fullmatch(reason):
                errors.append(
                    invalid(
                        item.child("reason"),
                        reason,
                        regex_error(
                            _REASON_MSG,
                            _REASON_FMT,
                            "my_name",
                            "MY_NAME",
                            "MyName",
                            "ReasonA,ReasonB",
                            "ReasonA:ReasonB",
                        ),
                    )
                )
            if len(reason.encode()) > _MAX_REASON_LENGTH:
                errors.append(too_long(item.child("reason"), reason, _MAX_REASON_LENGTH))
        if len((cond.message or "").encode()) > _MAX_MESSAGE_LENGTH:
            errors.append(too_long(item.child("message"), cond.message, _MAX_MESSAGE_LENGTH))
    return errors


class PodDisruptionBudgetStrategy(Strategy):
    """PodDisruptionBudgets: spec and status split, generation counted; status
    counters may not be negative and conditions must be well-formed."""

    resource = registry.resource("policy", "poddisruptionbudgets")
    subresources = (Status(),)
    generation = True
    columns = (
        Column("Min Available", description="The minimum number of pods that must be available."),
        Column(
            "Max Unavailable", description="The maximum number of pods that may be unavailable."
        ),
        Column(
            "Allowed Disruptions",
            "integer",
            "Calculated number of pods that may be disrupted at this time.",
        ),
        AGE_COLUMN,
    )

    def validate(self, obj: PodDisruptionBudget) -> list[FieldError]:
        errors = self.validate_metadata(obj)
        errors += validate_pdb_spec(obj.spec or PodDisruptionBudgetSpec(), FieldPath("spec"))
        return errors

    def validate_status_update(
        self, new: PodDisruptionBudget, old: PodDisruptionBudget
    ) -> list[FieldError]:
        status = new.status or PodDisruptionBudgetStatus()
        path = FieldPath("status")
        errors = validate_conditions(status.conditions, path.child("conditions"))
        errors += nonnegative(status.disruptions_allowed, path.child("disruptionsAllowed"))
        errors += nonnegative(status.current_healthy, path.child("currentHealthy"))
        errors += nonnegative(status.desired_healthy, path.child("desiredHealthy"))
        errors += nonnegative(status.expected_pods, path.child("expectedPods"))
        return errors

    def row(self, obj: PodDisruptionBudget) -> Sequence[Any]:
        spec = obj.spec or PodDisruptionBudgetSpec()
        min_available = (
            "N/A" if spec.min_available is None else int_or_string_text(spec.min_available)
        )
        max_unavailable = (
            "N/A" if spec.max_unavailable is None else int_or_string_text(spec.max_unavailable)
        )
        allowed = (obj.status.disruptions_allowed or 0) if obj.status else 0
        return [min_available, max_unavailable, allowed, age(obj.metadata.creation_timestamp)]
