"""Request limits: what keeps one client, or many, from taking the whole server.

Two layers, each wired at one place:

- :class:`RequestLimiter` wraps the ASGI application (``server.build_app``). As
  Kubernetes' ``--max-requests-inflight`` (400) and ``--max-mutating-requests-inflight``
  (200): a request beyond them is refused at once with ``429 TooManyRequests`` and
  ``Retry-After: 1``, before any work is spent on it. Long-running requests (watches,
  ``exec``, ``attach``, ``log``, ``portforward``, ``proxy``) are not counted, as in
  Kubernetes, nor are health probes (its APF exempts them). Watches have caps of their
  own: in total, and per client (its address, until authentication names users).
  A connection whose requests keep being refused as malformed (400, 405, 413, 415,
  422, ... :data:`MALFORMED`) is slowed: from its :data:`STRIKES_BEFORE_PENALTY` th
  refusal in a row, each further request waits :data:`PENALTY` seconds, doubling to
  :data:`MAX_PENALTY` (with jitter, so that many such clients do not wake together),
  and is then served in a single lane shared by all such connections, one at a time;
  one answered otherwise clears the count. In
  one event loop every request costs every other some time, so a client hammering the
  server with bad requests would otherwise raise the latency of good ones (64 such
  clients raised good writes' p99 six-fold); a client that makes a mistake now and then
  never notices.
- :class:`GuardedHttpToolsProtocol` is uvicorn's HTTP protocol with the limits Go's
  server gives kube-apiserver (``apiserver.main`` passes it to uvicorn): a request head
  (request line and headers) over :data:`MAX_HEADER_BYTES` is answered ``431`` and the
  connection closed, and one not complete within :data:`HEADER_TIMEOUT` seconds of its
  first byte (or of the connection, or of the last response) is answered ``408`` and
  closed, so slow ("slowloris") clients cannot hold connections open.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from apiserver import errors
from apiserver.metrics import DROPPED, INFLIGHT

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 1 << 20
"""A request head may be at most 1 MiB (Go's ``MaxHeaderBytes`` as kube-apiserver sets it)."""
HEADER_TIMEOUT = 32.0
"""Seconds a client has to send a request head (kube-apiserver's ``ReadHeaderTimeout``)."""

MALFORMED = frozenset({400, 405, 406, 411, 413, 414, 415, 422, 431})
"""Answers that say the request itself was wrong (not 404, 409, 410, 429, 401/403)."""
STRIKES_BEFORE_PENALTY = 8
PENALTY = 0.05
MAX_PENALTY = 1.0
_STRIKES_REMEMBERED = 4096  # connections; the least recently refused are forgotten

LONG_RUNNING_SUBRESOURCES = frozenset({"exec", "attach", "log", "portforward", "proxy"})
EXEMPT_PATHS = ("/healthz", "/livez", "/readyz")
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Limits:
    """The limits of one apiserver (its flags). 0 disables a limit."""

    max_requests_inflight: int = 400
    max_mutating_requests_inflight: int = 200
    max_watches: int = 8000
    """Watches open at once, from all clients: each idle watch costs about 70 KiB."""
    max_watches_per_client: int = 4000


def _is_watch(query: bytes) -> bool:
    if b"watch" not in query:
        return False
    # The last value counts, as for the handler (Starlette's ``query_params.get``).
    values = [v for k, v in parse_qsl(query.decode("latin-1")) if k == "watch"]
    return bool(values) and values[-1].lower() in ("true", "1")


def classify(scope: Scope) -> str:
    """``watch``, ``long`` (other long-running), ``exempt``, ``mutating`` or ``readonly``."""
    path: str = scope["path"]
    method: str = scope["method"]
    if path.startswith(EXEMPT_PATHS):
        return "exempt"
    if method == "GET" and _is_watch(scope.get("query_string", b"")):
        return "watch"
    if _subresource(path) in LONG_RUNNING_SUBRESOURCES:
        return "long"
    return "mutating" if method in MUTATING else "readonly"


def _subresource(path: str) -> str | None:
    """The subresource a resource path names (``.../pods/p/log``), if any."""
    segs = path.strip("/").split("/")
    if segs[0] == "api":
        segs = segs[2:]
    elif segs[0] == "apis":
        segs = segs[3:]
    else:
        return None
    # <resource>/<name>/<sub>, or namespaces/<ns>/<resource>/<name>/<sub>
    if len(segs) == 3 or (len(segs) == 5 and segs[0] == "namespaces"):
        return segs[-1]
    return None


class RequestLimiter:
    """ASGI middleware enforcing :class:`Limits` (see the module docstring)."""

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits
        self.state = getattr(app, "state", None)
        self.inflight = {"readonly": 0, "mutating": 0}
        self.watches = 0
        self.watches_by_client: dict[str, int] = {}
        self.strikes: OrderedDict[Any, int] = OrderedDict()
        self._lane = asyncio.Semaphore(1)  # where penalised connections are served

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kind = classify(scope)
        if kind == "watch":
            await self._watch(scope, receive, send)
            return
        if kind in ("long", "exempt"):
            await self.app(scope, receive, send)
            return
        connection = scope.get("client")
        if self.strikes.get(connection, 0) >= STRIKES_BEFORE_PENALTY:
            await self._penalised(kind, connection, scope, receive, send)
            return
        await self._limited(kind, connection, scope, receive, send)

    async def _penalised(
        self, kind: str, connection: Any, scope: Scope, receive: Receive, send: Send
    ) -> None:
        strikes = self.strikes[connection] - STRIKES_BEFORE_PENALTY
        delay = min(PENALTY * 2 ** min(strikes, 16), MAX_PENALTY)
        await asyncio.sleep(delay * (0.5 + random.random() / 2))
        async with self._lane:
            await self._limited(kind, connection, scope, receive, send)

    async def _limited(
        self, kind: str, connection: Any, scope: Scope, receive: Receive, send: Send
    ) -> None:
        limit = (
            self.limits.max_mutating_requests_inflight
            if kind == "mutating"
            else self.limits.max_requests_inflight
        )
        if limit and self.inflight[kind] >= limit:
            DROPPED.labels(_KIND_LABEL[kind]).inc()
            await _too_many(send, "Too many requests, please try again later.")
            return
        self.inflight[kind] += 1
        INFLIGHT.labels(_KIND_LABEL[kind]).inc()
        status = 0

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            self.inflight[kind] -= 1
            INFLIGHT.labels(_KIND_LABEL[kind]).dec()
            self._count(connection, status)

    def _count(self, connection: Any, status: int) -> None:
        """Note a connection's answer: another refusal in a row, or a clean slate."""
        if status in MALFORMED:
            self.strikes[connection] = self.strikes.get(connection, 0) + 1
            self.strikes.move_to_end(connection)
            if len(self.strikes) > _STRIKES_REMEMBERED:
                self.strikes.popitem(last=False)
        elif self.strikes:
            self.strikes.pop(connection, None)

    async def _watch(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = _client(scope)
        mine = self.watches_by_client.get(client, 0)
        limits = self.limits
        if limits.max_watches and self.watches >= limits.max_watches:
            await _too_many(
                send, f"too many watches: {self.watches} open (limit {limits.max_watches})"
            )
            return
        if limits.max_watches_per_client and mine >= limits.max_watches_per_client:
            await _too_many(
                send,
                f"too many watches from {client}: {mine} open "
                f"(limit {limits.max_watches_per_client} per client)",
            )
            return
        self.watches += 1
        self.watches_by_client[client] = mine + 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.watches -= 1
            left = self.watches_by_client[client] - 1
            if left:
                self.watches_by_client[client] = left
            else:
                del self.watches_by_client[client]


_KIND_LABEL = {"readonly": "readOnly", "mutating": "mutating"}


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def _too_many(send: Send, message: str, retry_after: int = 1) -> None:
    err = errors.ApiError(
        429,
        "TooManyRequests",
        message,
        details={"retryAfterSeconds": retry_after},
    )
    body = orjson.dumps(err.status())
    start: Message = {
        "type": "http.response.start",
        "status": 429,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(retry_after).encode()),
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body})


# --- the HTTP protocol ----------------------------------------------------------------------


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a cap on the request head's size and a
    deadline for it (see the module docstring).

    The bytes of a request head are counted as they arrive, before httptools buffers
    them (it gathers a header's pieces before it reports the header), so no head larger
    than about the cap plus one read is ever held.
    """

    header_timeout: float = HEADER_TIMEOUT
    max_header_bytes: int = MAX_HEADER_BYTES

    @classmethod
    def with_limits(
        cls, *, header_timeout: float = HEADER_TIMEOUT, max_header_bytes: int = MAX_HEADER_BYTES
    ) -> type[GuardedHttpToolsProtocol]:
        """The protocol class with other limits (uvicorn takes a class)."""
        attrs = {"header_timeout": header_timeout, "max_header_bytes": max_header_bytes}
        return type(cls.__name__, (cls,), attrs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._start_head_timer()
            self._head_bytes += len(data)
            if self._head_bytes > self.max_header_bytes:
                self._refuse(431, b"Request Header Fields Too Large")
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._stop_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        # The bytes after this belong to the next request's head.
        self._in_head = True
        self._head_bytes = 0

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._in_head and not self.transport.is_closing():
            # Idle keep-alive connections have uvicorn's keep-alive timeout; the head
            # deadline starts again with the next request's first byte.
            self._stop_head_timer()

    def _start_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self._refuse(408, b"Request Timeout")

    def _refuse(self, code: int, reason: bytes) -> None:
        self._stop_head_timer()
        if self.transport.is_closing():
            return
        body = reason + b"\n"
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (code, reason, len(body), body)
        )
        self.transport.close()
