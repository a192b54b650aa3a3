"""Kubernetes ``Status`` errors: every refusal the apiserver sends is one of these.

The constructors word their messages as Kubernetes does (``pods "x" not found``), so
that clients written for Kubernetes, and people used to it, read them unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apitypes.validation import FieldError


class ApiError(Exception):
    """An error with its Kubernetes ``Status`` body."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self) -> dict[str, Any]:
        return status_body(
            "Failure",
            message=self.message,
            reason=self.reason,
            details=self.details,
            code=self.code,
        )


# The order Go writes ``metav1.Status`` and ``metav1.StatusDetails`` in (struct field
# order); clients that compare bodies byte for byte see Kubernetes' own.
_DETAILS_ORDER = ("name", "group", "kind", "uid", "causes", "retryAfterSeconds")


def status_body(
    status: str,
    *,
    message: str = "",
    reason: str = "",
    details: dict[str, Any] | None = None,
    code: int = 0,
) -> dict[str, Any]:
    """A ``Status`` object as Kubernetes writes it: ``kind``, ``apiVersion``,
    ``metadata``, ``status``, ``message``, ``reason``, ``details`` (``name``, ``group``,
    ``kind``, ``uid``, ``causes``, ``retryAfterSeconds``), ``code``; empty fields left
    out (Go's ``omitempty``). Every Status the apiserver sends is built here."""
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": status}
    if message:
        body["message"] = message
    if reason:
        body["reason"] = reason
    if details:
        ordered = {k: details[k] for k in _DETAILS_ORDER if details.get(k) not in (None, "", [])}
        ordered.update((k, v) for k, v in details.items() if k not in _DETAILS_ORDER)
        if ordered:
            body["details"] = ordered
    if code:
        body["code"] = code
    return body


def _details(name: str | None, group: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "group": group, "kind": kind, **extra}


def _qualified(resource: str, group: str) -> str:
    return f"{resource}.{group}" if group else resource


def not_found(resource: str, name: str, group: str = "") -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'{_qualified(resource, group)} "{name}" not found',
        details=_details(name, group, resource),
    )


def already_exists(resource: str, name: str, group: str = "") -> ApiError:
    return ApiError(
        409,
        "AlreadyExists",
        f'{_qualified(resource, group)} "{name}" already exists',
        details=_details(name, group, resource),
    )


def conflict(resource: str, name: str, group: str = "", detail: str | None = None) -> ApiError:
    detail = detail or (
        "the object has been modified; please apply your changes to the latest version "
        "and try again"
    )
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {_qualified(resource, group)} "{name}": {detail}',
        details=_details(name, group, resource),
    )


def invalid(kind: str, name: str | None, errors: Sequence[FieldError], group: str = "") -> ApiError:
    messages = [e.message() for e in errors]
    summary = messages[0] if len(messages) == 1 else "[" + ", ".join(messages) + "]"
    causes = [{"reason": e.reason(), "message": e.body(), "field": e.field} for e in errors]
    return ApiError(
        422,
        "Invalid",
        f'{kind}{"." + group if group else ""} "{name or ""}" is invalid: {summary}',
        details=_details(name, group, kind, causes=causes),
    )


def bad_request(message: str, causes: list[dict[str, str]] | None = None) -> ApiError:
    return ApiError(400, "BadRequest", message, details={"causes": causes} if causes else None)


def forbidden(resource: str, name: str, message: str, group: str = "") -> ApiError:
    qualified = _qualified(resource, group)
    target = f'{qualified} "{name}"' if name else qualified
    return ApiError(
        403,
        "Forbidden",
        f"{target} is forbidden: {message}",
        details=_details(name, group, resource),
    )


def method_not_allowed(verb: str, resource: str) -> ApiError:
    return ApiError(
        405,
        "MethodNotAllowed",
        f"the server does not allow this method on the requested resource ({verb} {resource})",
    )


def not_acceptable(accept: str) -> ApiError:
    return ApiError(406, "NotAcceptable", f"only the following media types are accepted: {accept}")


def unsupported_media_type(content_type: str, supported: Sequence[str]) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format - accepted media types include: "
        f'{", ".join(supported)} (got "{content_type}")',
    )


def too_large(limit: int) -> ApiError:
    return ApiError(413, "RequestEntityTooLarge", f"Request entity too large: limit is {limit}")


def object_too_large(resource: str, name: str, size: int, group: str = "") -> ApiError:
    """The object, as it would be stored, is more than etcd takes in one request."""
    return ApiError(
        413,
        "RequestEntityTooLarge",
        f'Request entity too large: {_qualified(resource, group)} "{name}" would be stored as '
        f"{size:,} bytes, more than etcd accepts in one request (its --max-request-bytes, "
        "1.5 MiB by default)",
        details=_details(name, group, resource),
    )


def expired(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def gone(message: str) -> ApiError:
    return ApiError(410, "Gone", message)


def timeout(message: str, retry_after: int = 1) -> ApiError:
    return ApiError(
        504,
        "Timeout",
        message,
        details={"retryAfterSeconds": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


def service_unavailable(message: str) -> ApiError:
    return ApiError(503, "ServiceUnavailable", message)


def internal(message: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {message}")


def not_found_path(path: str) -> ApiError:
    return ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")
