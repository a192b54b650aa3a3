"""Field references of the downward API (env ``valueFrom`` and ``downwardAPI`` volume files)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from apiserver.kinds.podspec.checks import file_mode, local_non_reserved_path, qualified_name
from apiserver.kinds.podspec.resources import parse_quantity_field
from apitypes.core import ObjectFieldSelector, ResourceFieldSelector
from apitypes.validation import FieldError, FieldPath, invalid, not_supported, required

ENV_FIELD_PATHS = (
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
)


_VOLUME_FIELD_PATHS = (
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
)


# Every label the downward API converts for pods (``ConvertDownwardAPIFieldLabel``).
_DOWNWARD_API_LABELS = frozenset(
    {
        "metadata.annotations",
        "metadata.labels",
        "metadata.name",
        "metadata.namespace",
        "metadata.uid",
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.serviceAccountName",
        "spec.schedulerName",
        "status.phase",
        "status.hostIP",
        "status.hostIPs",
        "status.podIP",
        "status.podIPs",
    }
)


_RESOURCE_FIELD_PATHS = (
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
)


_HUGEPAGES_FIELD_PREFIXES = ("limits.hugepages-", "requests.hugepages-")


_CPU_DIVISORS = frozenset({"1m", "1"})


_BYTE_DIVISORS = frozenset(
    {"1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"}
)


_BYTE_DIVISORS_TEXT = "1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei"


_SUBSCRIPTED_RE = re.compile(r"(.+)\['(.*)'\]")


def object_field_selector(
    ref: ObjectFieldSelector, allowed: Sequence[str], path: FieldPath
) -> list[FieldError]:
    if not ref.api_version:
        return [required(path.child("apiVersion"))]
    if not ref.field_path:
        return [required(path.child("fieldPath"))]
    label = ref.field_path
    subscripted = _SUBSCRIPTED_RE.fullmatch(label)
    if ref.api_version != "v1":
        detail = f"error converting fieldPath: unsupported pod version: {ref.api_version}"
        return [invalid(path.child("fieldPath"), label, detail)]
    if subscripted:
        base, subscript = subscripted.group(1), subscripted.group(2)
        if base == "metadata.annotations":
            return qualified_name(subscript.lower(), path)
        if base == "metadata.labels":
            return qualified_name(subscript, path)
        detail = f"error converting fieldPath: field label does not support subscript: {label}"
        return [invalid(path.child("fieldPath"), label, detail)]
    if label == "spec.host":
        label = "spec.nodeName"
    elif label not in _DOWNWARD_API_LABELS:
        detail = f"error converting fieldPath: field label not supported: {label}"
        return [invalid(path.child("fieldPath"), label, detail)]
    if label not in allowed:
        return [not_supported(path.child("fieldPath"), label, allowed)]
    return []


def resource_field_selector(
    ref: ResourceFieldSelector, path: FieldPath, *, volume: bool
) -> list[FieldError]:
    errs: list[FieldError] = []
    if volume and not ref.container_name:
        errs.append(required(path.child("containerName")))
    elif not ref.resource:
        errs.append(required(path.child("resource")))
    elif ref.resource not in _RESOURCE_FIELD_PATHS and not ref.resource.startswith(
        _HUGEPAGES_FIELD_PREFIXES
    ):
        errs.append(not_supported(path.child("resource"), ref.resource, _RESOURCE_FIELD_PATHS))
    if ref.divisor is None:
        return errs
    divisor, qerrs = parse_quantity_field(ref.divisor, path.child("divisor"))
    if qerrs:
        return errs + qerrs
    assert divisor is not None
    if divisor.is_zero():
        return errs
    text = str(divisor)
    resource = ref.resource
    if resource in ("limits.cpu", "requests.cpu") and text not in _CPU_DIVISORS:
        detail = "only divisor's values 1m and 1 are supported with the cpu resource"
        errs.append(invalid(path.child("divisor"), resource, detail))
    elif resource in ("limits.memory", "requests.memory") and text not in _BYTE_DIVISORS:
        detail = (
            f"only divisor's values {_BYTE_DIVISORS_TEXT} are supported with the memory resource"
        )
        errs.append(invalid(path.child("divisor"), resource, detail))
    elif (
        resource in ("limits.ephemeral-storage", "requests.ephemeral-storage")
        and text not in _BYTE_DIVISORS
    ):
        detail = (
            f"only divisor's values {_BYTE_DIVISORS_TEXT} are supported with the local "
            "ephemeral storage resource"
        )
        errs.append(invalid(path.child("divisor"), resource, detail))
    return errs


def downward_api_file(item: Any, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if not item.path:
        errs.append(required(path.child("path")))
    errs.extend(local_non_reserved_path(item.path, path.child("path")))
    if item.field_ref is not None:
        errs.extend(
            object_field_selector(item.field_ref, _VOLUME_FIELD_PATHS, path.child("fieldRef"))
        )
        if item.resource_field_ref is not None:
            errs.append(
                invalid(
                    path,
                    "resource",
                    "fieldRef and resourceFieldRef can not be specified simultaneously",
                )
            )
    elif item.resource_field_ref is not None:
        errs.extend(
            resource_field_selector(
                item.resource_field_ref, path.child("resourceFieldRef"), volume=True
            )
        )
    else:
        errs.append(required(path, "one of fieldRef and resourceFieldRef is required"))
    errs.extend(file_mode(item.mode, path.child("mode")))
    return errs
