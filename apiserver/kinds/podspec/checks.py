"""Small checks every part of the pod spec uses: names, enums, paths, modes, ids."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from apiserver.kinds.common import MAX_INT32
from apitypes.validation import (
    FieldError,
    FieldPath,
    inclusive_range_error,
    invalid,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_port_name,
    is_valid_port_num,
    not_supported,
    required,
)

_FILE_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive"


NOT_POSITIVE = "must be greater than zero"


def msgs(path: FieldPath | str, value: Any, messages: Iterable[str]) -> list[FieldError]:
    return [invalid(path, value, msg) for msg in messages]


def dns_label(value: str, path: FieldPath) -> list[FieldError]:
    return msgs(path, value, is_dns1123_label(value))


def dns_subdomain(value: str, path: FieldPath) -> list[FieldError]:
    return msgs(path, value, is_dns1123_subdomain(value))


def qualified_name(value: str, path: FieldPath) -> list[FieldError]:
    return msgs(path, value, is_qualified_name(value))


def enum(path: FieldPath, value: str | None, allowed: Sequence[str]) -> list[FieldError]:
    """Required when empty, NotSupported when outside ``allowed``."""
    if not value:
        return [required(path)]
    if value not in allowed:
        return [not_supported(path, value, allowed)]
    return []


def file_mode(mode: int | None, path: FieldPath) -> list[FieldError]:
    if mode is not None and not 0 <= mode <= 0o777:
        return [invalid(path, mode, _FILE_MODE_ERROR)]
    return []


def no_backsteps(target: str, path: FieldPath) -> list[FieldError]:
    if ".." in target.replace("\\", "/").split("/"):
        return [invalid(path, target, "must not contain '..'")]
    return []


def local_descending_path(target: str, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if target.startswith("/"):
        errs.append(invalid(path, target, "must be a relative path"))
    errs.extend(no_backsteps(target, path))
    return errs


def local_non_reserved_path(target: str, path: FieldPath) -> list[FieldError]:
    errs = local_descending_path(target, path)
    if target.startswith("..") and not target.startswith("../"):
        errs.append(invalid(path, target, "must not start with '..'"))
    return errs


def port_num_or_name(port: int | str, path: FieldPath) -> list[FieldError]:
    if isinstance(port, int):
        return msgs(path, port, is_valid_port_num(port))
    return msgs(path, port, is_valid_port_name(port))


def valid_id(value: int | None, path: FieldPath) -> list[FieldError]:
    if value is not None and not 0 <= value <= MAX_INT32:
        return [invalid(path, value, inclusive_range_error(0, MAX_INT32))]
    return []
