"""What may change in a pod's spec after it is created (``ValidatePodUpdate``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from apiserver.kinds.common import MAX_INT32
from apiserver.kinds.podspec.tolerations import validate_tolerations
from apitypes.base import KubeModel
from apitypes.core import Container, PodSpec, Toleration
from apitypes.validation import (
    FieldError,
    FieldPath,
    forbidden,
    inclusive_range_error,
    invalid,
    required,
)

_UPDATABLE_FIELDS = ",".join(
    (
        "`spec.containers[*].image`",
        "`spec.initContainers[*].image`",
        "`spec.activeDeadlineSeconds`",
        "`spec.tolerations` (only additions to existing tolerations)",
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
    )
)


def _container_image_updates(
    new: Sequence[Container], old: Sequence[Container], path: FieldPath
) -> tuple[list[FieldError], bool]:
    if len(new) != len(old):
        return [forbidden(path, "pod updates may not add or remove containers")], True
    errs: list[FieldError] = []
    for i, container in enumerate(new):
        image = container.image or ""
        if not image:
            errs.append(required(path.index(i).child("image")))
        if image.strip() != image:
            errs.append(
                invalid(
                    path.index(i).child("image"),
                    image,
                    "must not have leading or trailing whitespace",
                )
            )
    return errs, False


def _toleration_key(toleration: Toleration) -> tuple[Any, ...]:
    return (toleration.key, toleration.operator, toleration.value, toleration.effect)


def _spec_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """A short rendering of what differs, in the spirit of the diff Kubernetes appends."""
    lines = ["  core.PodSpec{"]
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            if key in old:
                lines.append(f"- \t{key}: {_compact(old[key])},")
            if key in new:
                lines.append(f"+ \t{key}: {_compact(new[key])},")
    lines.append("  }")
    return "\n".join(lines) + "\n"


def _compact(value: Any) -> str:
    import orjson

    return orjson.dumps(value).decode()


def _wire(model: KubeModel) -> dict[str, Any]:
    return model.to_dict()


def validate_pod_spec_update(
    new: PodSpec | None, old: PodSpec | None, path: FieldPath
) -> list[FieldError]:
    """Errors in changing a pod's spec from ``old`` to ``new`` (``ValidatePodUpdate``).

    A pod's spec is immutable except for container and init container images,
    ``activeDeadlineSeconds`` (set, or lowered), added tolerations (existing ones may only
    change ``tolerationSeconds``), removed scheduling gates (and, while gated, added
    node selector entries), and ``terminationGracePeriodSeconds`` going from a negative
    value to 1.
    """
    new = new if new is not None else PodSpec()
    old = old if old is not None else PodSpec()
    errs, stop = _container_image_updates(new.containers, old.containers, path.child("containers"))
    if stop:
        return errs
    init_errs, stop = _container_image_updates(
        new.init_containers, old.init_containers, path.child("initContainers")
    )
    errs.extend(init_errs)
    if stop:
        return errs
    deadline_path = path.child("activeDeadlineSeconds")
    if new.active_deadline_seconds is not None:
        value = new.active_deadline_seconds
        if not 0 <= value <= MAX_INT32:
            errs.append(invalid(deadline_path, value, inclusive_range_error(0, MAX_INT32)))
            return errs
        if old.active_deadline_seconds is not None and old.active_deadline_seconds < value:
            errs.append(
                invalid(deadline_path, value, "must be less than or equal to previous value")
            )
            return errs
    elif old.active_deadline_seconds is not None:
        errs.append(
            invalid(deadline_path, None, "must not update from a positive integer to nil value")
        )
    for toleration in old.tolerations:
        kept = _toleration_key(toleration)
        if not any(_toleration_key(candidate) == kept for candidate in new.tolerations):
            errs.append(
                forbidden(
                    path.child("tolerations"),
                    "existing toleration can not be modified except its tolerationSeconds",
                )
            )
            break
    else:
        errs.extend(validate_tolerations(new.tolerations, path.child("tolerations")))
    old_gates = {gate.name for gate in old.scheduling_gates}
    if new.scheduling_gates:
        for i, gate in enumerate(new.scheduling_gates):
            if gate.name not in old_gates:
                errs.append(
                    forbidden(
                        path.child("schedulingGates").index(i).child("name"),
                        f"only deletion is allowed, but found new scheduling gate '{gate.name}'",
                    )
                )
    new_wire, old_wire = _wire(new), _wire(old)
    if new_wire == old_wire:
        return errs
    munged = new.model_copy(deep=True)
    for container, before in zip(munged.containers, old.containers, strict=True):
        container.image = before.image
    for container, before in zip(munged.init_containers, old.init_containers, strict=True):
        container.image = before.image
    munged.active_deadline_seconds = old.active_deadline_seconds
    munged.scheduling_gates = old.scheduling_gates
    munged.tolerations = old.tolerations
    old_grace = old.termination_grace_period_seconds
    if old_grace is not None and old_grace < 0 and munged.termination_grace_period_seconds == 1:
        munged.termination_grace_period_seconds = old_grace
    if old.scheduling_gates and munged.node_selector != old.node_selector:
        for key, label_value in old.node_selector.items():
            if munged.node_selector.get(key) != label_value:
                errs.append(
                    invalid(
                        path.child("nodeSelector"),
                        munged.node_selector,
                        "only additions to spec.nodeSelector are allowed (no mutations or deletions)",
                    )
                )
                break
        munged.node_selector = old.node_selector
    munged_wire = _wire(munged)
    if munged_wire != old_wire:
        detail = f"pod updates may not change fields other than {_UPDATABLE_FIELDS}\n" + _spec_diff(
            old_wire, munged_wire
        )
        errs.append(forbidden(path, detail))
    return errs
