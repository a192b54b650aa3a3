"""How navctl fails: one line on stderr, in kubectl's words, and an exit code.

``fail`` stops a command with ``error: <message>``; ``error_line`` words every failure
a person can cause (a bad flag, a missing file, a refused object, an apiserver that is
down) and answers None for a bug in navctl, which ``session.run`` lets show as a
traceback. ``api_error_line`` words an apiserver's refusal as kubectl does.
"""

from __future__ import annotations

from typing import NoReturn
from urllib.parse import urlsplit


class CliError(Exception):
    """A failure to report as one line (already worded) and an exit code."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class ExitCode(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Leave with this code after output that already said everything (exec, wait)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def fail(message: str, exit_code: int = 1) -> NoReturn:
    """Stop the command with ``error: <message>``."""
    raise CliError(f"error: {message}", exit_code)


_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Gone",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def _host_port(server: str) -> str:
    parts = urlsplit(server)
    if parts.port:
        return f"{parts.hostname}:{parts.port}"
    return f"{parts.hostname}:{443 if parts.scheme == 'https' else 80}"


def _refused(error: BaseException) -> bool:
    """Whether a connection failure was a refusal (nothing listens there)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return True
        text = str(current).lower()
        if "refused" in text or "connect call failed" in text:
            return True
        current = current.__cause__ or current.__context__
    return False


def api_error_line(error: Exception, server: str = "") -> str:
    """One line for an ``ApiError``, worded as kubectl words it."""
    from apiclient import errors

    if isinstance(error, errors.ConnectionFailedError):
        if _refused(error):
            return (
                f"The connection to the server {_host_port(server)} was refused - "
                "did you specify the right host or port?"
            )
        return f"Unable to connect to the server: {error.__cause__ or error.message}"
    assert isinstance(error, errors.ApiError)
    if isinstance(error, errors.InvalidError):
        return f"error: {error.message}"
    reason = error.reason or _REASONS.get(error.code, "")
    if reason:
        return f"Error from server ({reason}): {error.message}"
    return f"Error from server: {error.message}"


def error_line(error: BaseException, server: str = "") -> str | None:
    """The line for an error a person can cause, or None for a bug (traceback)."""
    import yaml

    if isinstance(error, CliError):
        return error.message
    from apiclient import ConfigError, errors

    if isinstance(error, errors.ApiError):
        return api_error_line(error, server)
    if isinstance(error, ConfigError):
        return f"error: {error}"
    if isinstance(error, yaml.YAMLError):
        return f"error: error parsing YAML: {error}".replace("\n", " ")
    if isinstance(error, FileNotFoundError):
        return f'error: the path "{error.filename}" does not exist'
    if isinstance(error, PermissionError):
        return f"error: {error.strerror}: {error.filename}"
    from cli.navctl.jsonpath import JSONPathError

    if isinstance(error, JSONPathError):
        return f"error: {error}"
    if isinstance(error, TimeoutError):
        return (
            f"error: timed out waiting for the condition{': ' + str(error) if str(error) else ''}"
        )
    return None
