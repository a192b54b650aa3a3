"""The Kubernetes ``Status`` of a failed request, as typed exceptions.

Callers catch what they mean (``NotFoundError``, ``ConflictError``) rather than
comparing codes; the full Status stays available on every error.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A request the apiserver refused (or could not answer)."""

    code: int = 0

    def __init__(self, status: dict[str, Any], code: int | None = None) -> None:
        self.status = status
        self.code = code or int(status.get("code") or 0) or type(self).code
        self.reason: str = status.get("reason") or ""
        self.message: str = status.get("message") or f"HTTP {self.code}"
        details = status.get("details") or {}
        self.details: dict[str, Any] = details
        self.causes: list[dict[str, Any]] = list(details.get("causes") or [])
        self.retry_after: int | None = details.get("retryAfterSeconds")
        super().__init__(self.message)

    @property
    def fields(self) -> list[str]:
        """The fields the causes name (``spec.containers[0].image``)."""
        return [c["field"] for c in self.causes if c.get("field")]


class BadRequestError(ApiError):
    code = 400


class UnauthorizedError(ApiError):
    code = 401


class ForbiddenError(ApiError):
    code = 403


class NotFoundError(ApiError):
    code = 404


class MethodNotAllowedError(ApiError):
    code = 405


class NotAcceptableError(ApiError):
    code = 406


class ConflictError(ApiError):
    """A write lost a race (``Conflict``); see ``AlreadyExistsError`` for creates."""

    code = 409


class AlreadyExistsError(ConflictError):
    pass


class GoneError(ApiError):
    """The resourceVersion asked for is older than the server keeps (410)."""

    code = 410


class RequestEntityTooLargeError(ApiError):
    code = 413


class UnsupportedMediaTypeError(ApiError):
    code = 415


class InvalidError(ApiError):
    """The object was refused by validation (422); ``causes`` name the fields."""

    code = 422


class TooManyRequestsError(ApiError):
    code = 429


class InternalError(ApiError):
    code = 500


class ServiceUnavailableError(ApiError):
    code = 503


class ServerTimeoutError(ApiError):
    code = 504


class ConnectionFailedError(ApiError):
    """The apiserver could not be reached at all."""

    code = 0


_BY_CODE: dict[int, type[ApiError]] = {
    cls.code: cls
    for cls in (
        BadRequestError,
        UnauthorizedError,
        ForbiddenError,
        NotFoundError,
        MethodNotAllowedError,
        NotAcceptableError,
        ConflictError,
        GoneError,
        RequestEntityTooLargeError,
        UnsupportedMediaTypeError,
        InvalidError,
        TooManyRequestsError,
        InternalError,
        ServiceUnavailableError,
        ServerTimeoutError,
    )
}


def from_status(status: dict[str, Any], http_code: int | None = None) -> ApiError:
    """The typed error for a ``Status`` body (and the HTTP code it came with)."""
    code = http_code or int(status.get("code") or 0)
    if status.get("reason") == "AlreadyExists":
        return AlreadyExistsError(status, code)
    cls = _BY_CODE.get(code)
    if cls is None:
        cls = InternalError if code >= 500 else ApiError
    return cls(status, code)
