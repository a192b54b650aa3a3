"""The request log: one line per request, as kube-apiserver's ``httplog`` writes them.

``RequestLog`` wraps the whole ASGI app. It notes the start time and the status the
response starts with; when the request ends it decides, from two numbers, whether the
request is worth a line, and only then formats one::

    HTTP verb="LIST" URI="/api/v1/pods?limit=500" latency="2.1ms"
         userAgent="kubectl/v1.32.4 (linux/amd64)" srcIP="127.0.0.1:51234" resp=200

What is logged follows the verbosity (``-v``, as Kubernetes' klog levels):

- always: every 5xx (as an error, with the traceback of the exception behind it) and
  every request slower than ``slow`` seconds that is not long-running by nature
  (watches, ``log``, ``exec``, ``attach``, ``portforward``, ``proxy``);
- ``-v=1``: also every 4xx;
- ``-v=2`` and up: every request.

The handler tells the log what it knows through the ASGI scope: ``SCOPE_VERB`` (the
request's API verb: LIST, WATCH, GET, ...) and ``SCOPE_ERROR`` (the exception behind
an error answer). Without a verb the HTTP method is logged.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("apiserver.requests")

SCOPE_VERB = "navarch.verb"
SCOPE_ERROR = "navarch.error"

EVERY_REQUEST = 2
"""The verbosity from which every request is logged."""
CLIENT_ERRORS = 1
"""The verbosity from which 4xx answers are logged."""
SLOW_SECONDS = 1.0
"""What a request may take before it is logged as slow (at every verbosity)."""

_LONG_RUNNING_SUBRESOURCES = frozenset({"log", "exec", "attach", "portforward", "proxy"})


class RequestLog:
    """ASGI middleware writing the request log of ``app`` at ``verbosity``."""

    def __init__(self, app: ASGIApp, verbosity: int = 0, *, slow: float = SLOW_SECONDS) -> None:
        self.app = app
        self.verbosity = verbosity
        self.slow = slow

    def __getattr__(self, name: str) -> Any:
        # The wrapped app's attributes (``state``) stay reachable through the wrapper.
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [0]

        async def noting_send(message: Message) -> None:
            mtype = message["type"]
            if mtype in ("http.response.start", "websocket.http.response.start"):
                status[0] = message["status"]
            elif mtype == "websocket.accept":
                status[0] = 101
            await send(message)

        try:
            await self.app(scope, receive, noting_send)
        except Exception as err:
            status[0] = status[0] or 500
            scope.setdefault(SCOPE_ERROR, err)
            raise
        finally:
            # Cancelled before answering (the server stopping): nothing to log.
            code = status[0] or (403 if kind == "websocket" else 0)
            elapsed = time.perf_counter() - started
            if code and (
                code >= 500
                or self.verbosity >= EVERY_REQUEST
                or (code >= 400 and self.verbosity >= CLIENT_ERRORS)
                or (elapsed > self.slow and not _long_running(scope))
            ):
                self._write(scope, code, elapsed)

    def _write(self, scope: Scope, code: int, elapsed: float) -> None:
        if code >= 500:
            level = logging.ERROR
        elif code >= 400 or elapsed <= self.slow or _long_running(scope):
            level = logging.INFO
        else:
            level = logging.WARNING
        if not log.isEnabledFor(level):
            return
        error = scope.get(SCOPE_ERROR) if code >= 500 else None
        exc_info = (type(error), error, error.__traceback__) if error is not None else None
        log.log(
            level,
            'HTTP verb="%s" URI="%s" latency="%s" userAgent="%s" srcIP="%s" resp=%d',
            _verb(scope),
            _uri(scope),
            _latency(elapsed),
            _header(scope, b"user-agent"),
            _client(scope),
            code,
            exc_info=exc_info,
        )


def _verb(scope: Scope) -> str:
    verb = scope.get(SCOPE_VERB)
    if verb:
        return str(verb)
    # A WebSocket (exec, port-forward) is what Kubernetes' metrics call a CONNECT.
    return "CONNECT" if scope["type"] == "websocket" else str(scope.get("method", ""))


def _uri(scope: Scope) -> str:
    query = scope.get("query_string") or b""
    path = str(scope.get("path", ""))
    return f"{path}?{query.decode('latin-1')}" if query else path


def _latency(seconds: float) -> str:
    """As Go prints a ``time.Duration``, to a few significant digits."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g}µs"
    if seconds < 1:
        return f"{seconds * 1e3:.4g}ms"
    return f"{seconds:.4g}s"


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key == name:
            return str(value.decode("latin-1")).replace('"', '\\"')
    return ""


def _client(scope: Scope) -> str:
    client = scope.get("client")
    if not client:
        return ""
    host, port = client[0], client[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def _long_running(scope: Scope) -> bool:
    """Watches and streaming subresources: their latency is how long they were open."""
    if scope.get(SCOPE_VERB) == "WATCH" or scope["type"] == "websocket":
        return True
    query = scope.get("query_string") or b""
    if b"watch=true" in query or b"watch=1" in query:
        return True
    return str(scope.get("path", "")).rstrip("/").rsplit("/", 1)[-1] in _LONG_RUNNING_SUBRESOURCES
