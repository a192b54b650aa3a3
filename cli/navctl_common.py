"""What every ``navctl`` command shares: global flags, the session, errors, output.

A command is an async function of a ``Session``; ``run`` executes it and turns every
failure a person can cause (a bad flag, a missing file, a refused object, an apiserver
that is down) into ONE line on stderr and a non-zero exit code, in kubectl's words
where kubectl has words for it. Only a bug in navctl itself shows a traceback.

The session builds its client lazily, so commands that never talk to the apiserver
(``config``, ``--help``) never import the client library.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from apiclient import Client, ClientConfig
    from cli.navctl_resources import Resolver


@dataclass
class GlobalFlags:
    """The flags kubectl accepts on every command."""

    kubeconfig: str | None = None
    context: str | None = None
    server: str | None = None
    namespace: str | None = None
    token: str | None = None
    insecure_skip_tls_verify: bool = False
    request_timeout: float | None = None


FLAGS = GlobalFlags()
"""Set once by the root callback before any command runs."""


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


def out(text: str) -> None:
    """Write to stdout, flushed (watches and progress lines must show at once)."""
    sys.stdout.write(text)
    sys.stdout.flush()


def err(text: str) -> None:
    sys.stderr.write(text if text.endswith("\n") else text + "\n")
    sys.stderr.flush()


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
    from cli.navctl_jsonpath import JSONPathError

    if isinstance(error, JSONPathError):
        return f"error: {error}"
    if isinstance(error, TimeoutError):
        return (
            f"error: timed out waiting for the condition{': ' + str(error) if str(error) else ''}"
        )
    return None


class Session:
    """One command's view of the cluster: config, client, namespace, resource names."""

    def __init__(self, flags: GlobalFlags) -> None:
        self.flags = flags
        self._config: ClientConfig | None = None
        self._client: Client | None = None
        self._resolver: Resolver | None = None
        self.exit_code = 0

    @property
    def config(self) -> ClientConfig:
        if self._config is None:
            from apiclient import load_config

            config = load_config(
                self.flags.kubeconfig,
                context=self.flags.context,
                server=self.flags.server,
            )
            if self.flags.token:
                config.token = self.flags.token
            if self.flags.insecure_skip_tls_verify:
                config.insecure_skip_tls_verify = True
            if self.flags.request_timeout:
                config.timeout = self.flags.request_timeout
            self._config = config
        return self._config

    @property
    def server(self) -> str:
        return self._config.server if self._config is not None else ""

    @property
    def client(self) -> Client:
        if self._client is None:
            from apiclient import Client

            self._client = Client(self.config, user_agent="navctl/0.1.0")
        return self._client

    @property
    def resolver(self) -> Resolver:
        if self._resolver is None:
            from cli.navctl_resources import Resolver

            self._resolver = Resolver(self)
        return self._resolver

    def namespace(self, flag: str | None = None) -> str:
        """``-n`` on the command, else ``-n`` before it, else the context's namespace."""
        return flag or self.flags.namespace or self.config.namespace

    def explicit_namespace(self, flag: str | None = None) -> bool:
        return bool(flag or self.flags.namespace)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


def run(command: Callable[[Session], Awaitable[int | None]]) -> None:
    """Run ``command`` and exit as kubectl would: 0, or one error line and 1."""
    import typer

    session = Session(FLAGS)

    async def main() -> int | None:
        try:
            return await command(session)
        finally:
            await session.close()

    try:
        code = asyncio.run(main())
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except ExitCode as done:
        raise typer.Exit(done.code) from None
    except BrokenPipeError:
        # A reader like ``head`` went away; say nothing more.
        _silence_stdout()
        raise typer.Exit(0) from None
    except Exception as error:
        line = error_line(error, session.server)
        if line is None:
            raise
        err(line)
        code = getattr(error, "exit_code", 1)
        raise typer.Exit(code) from None
    code = code or session.exit_code
    if code:
        raise typer.Exit(code)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def split_key_values(items: list[str], what: str) -> dict[str, str]:
    """``KEY=VALUE`` arguments (``--env``, ``--labels``, ``--from-literal``) as a dict."""
    result: dict[str, str] = {}
    for item in items:
        for part in [item] if what != "labels" else item.split(","):
            key, sep, value = part.partition("=")
            if not sep or not key:
                fail(f"invalid {what} {part!r}: expected KEY=VALUE")
            result[key] = value
    return result


def object_ref(obj: dict[str, Any]) -> tuple[str, str, str]:
    """(kind, name, namespace) of an object dict."""
    meta = obj.get("metadata") or {}
    return obj.get("kind", ""), meta.get("name", ""), meta.get("namespace", "")
