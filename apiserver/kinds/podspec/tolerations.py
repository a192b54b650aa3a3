"""Tolerations and taint effects."""

from __future__ import annotations

from collections.abc import Sequence

from apiserver.kinds.podspec.checks import qualified_name
from apitypes.core import Toleration
from apitypes.validation import (
    FieldError,
    FieldPath,
    invalid,
    is_valid_label_value,
    not_supported,
    required,
)

_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


_TOLERATION_OPERATORS = ("Equal", "Exists")


def validate_taint_effect(
    effect: str | None, path: FieldPath, *, allow_empty: bool
) -> list[FieldError]:
    """An effect must be NoSchedule, PreferNoSchedule or NoExecute (or empty if allowed)."""
    if not effect:
        return [] if allow_empty else [required(path)]
    if effect not in _TAINT_EFFECTS:
        return [not_supported(path, effect, _TAINT_EFFECTS)]
    return []


def validate_tolerations(tolerations: Sequence[Toleration], path: FieldPath) -> list[FieldError]:
    """Keys, operators, values and effects of tolerations (``ValidateTolerations``)."""
    errs: list[FieldError] = []
    for i, toleration in enumerate(tolerations):
        idx = path.index(i)
        key = toleration.key or ""
        operator = toleration.operator or ""
        value = toleration.value or ""
        effect = toleration.effect or ""
        if key:
            errs.extend(qualified_name(key, idx.child("key")))
        if not key and operator != "Exists":
            errs.append(
                invalid(
                    idx.child("operator"),
                    operator,
                    'operator must be Exists when `key` is empty, which means "match all values '
                    'and all keys"',
                )
            )
        if toleration.toleration_seconds is not None and effect != "NoExecute":
            errs.append(
                invalid(
                    idx.child("effect"),
                    effect,
                    "effect must be 'NoExecute' when `tolerationSeconds` is set",
                )
            )
        if operator in ("Equal", ""):
            messages = is_valid_label_value(value)
            if messages:
                errs.append(invalid(idx.child("operator"), value, ";".join(messages)))
        elif operator == "Exists":
            if value:
                errs.append(
                    invalid(
                        idx.child("operator"),
                        value,
                        "value must be empty when `operator` is 'Exists'",
                    )
                )
        else:
            errs.append(not_supported(idx.child("operator"), operator, _TOLERATION_OPERATORS))
        if effect:
            errs.extend(validate_taint_effect(effect, idx.child("effect"), allow_empty=True))
    return errs
