"""The kubelet's HTTP(S) server: container logs, exec and port-forward, for the
apiserver to proxy.

Paths are the real kubelet's:

- ``GET /containerLogs/<namespace>/<pod>/<container>`` with ``follow``, ``tailLines``,
  ``sinceSeconds``, ``sinceTime``, ``timestamps``, ``previous``, ``limitBytes``;
- ``GET /exec/<namespace>/<pod>/<container>?command=...&stdin=&stdout=&stderr=&tty=``,
  a WebSocket speaking Kubernetes' channel protocol (``v5.channel.k8s.io``, and
  ``v4.channel.k8s.io``): each message is one channel byte (0 stdin, 1 stdout,
  2 stderr, 3 error, 4 resize; 255 in v5 closes a stream) and the data, in a binary
  frame, or from a client also in a text frame (its first character the channel). When the
  command ends, a ``Status`` on channel 3 carries its exit code and the socket closes;
- ``GET /portForward/<namespace>/<pod>``, a WebSocket: ``SPDY/3.1+portforward.k8s.io``
  (SPDY tunnelled in WebSocket frames, as kubectl 1.30+ speaks it) or the channel
  protocol ``v4.channel.k8s.io`` with ``?port=``; see ``kubelet.portforward``;
- ``GET /healthz``, ``GET /pods``.

Every request is authenticated and authorized first (``kubelet.auth``: 401, 403), and
a WebSocket upgrade from another ``Origin`` is refused.

Errors are plain text with the HTTP status, as the kubelet answers them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from aiohttp import WSMessage, WSMsgType, web

from kubelet import portforward
from kubelet.auth import KubeletAuth
from kubelet.kubelet import Kubelet, KubeletError
from kubelet.runtime import ContainerInfo, LogOptions

log = logging.getLogger(__name__)

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("true", "1")


def _int(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError as err:
        raise web.HTTPBadRequest(text=f"{name}: {raw!r} is not an integer") from err


def exec_status(exit_code: int, command: list[str]) -> dict[str, Any]:
    """The Status sent on the error channel when an exec ends."""
    if exit_code == 0:
        return {"metadata": {}, "status": "Success"}
    return {
        "metadata": {},
        "status": "Failure",
        "message": (
            "command terminated with non-zero exit code: error executing command "
            f"{command}, exit code {exit_code}"
        ),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(exit_code)}]},
    }


def channel_frame(msg: WSMessage) -> bytes | None:
    """The channel byte and data of a client's message, None if it carries none.

    Clients send BINARY frames, or TEXT frames whose first character is the channel
    (the official Python client's ``write_stdin("...")``); Kubernetes reads both alike
    under every channel subprotocol, so both are taken here.
    """
    if msg.type == WSMsgType.BINARY and msg.data:
        return bytes(msg.data)
    if msg.type == WSMsgType.TEXT and msg.data:
        return str(msg.data).encode()
    return None


class KubeletServer:
    def __init__(
        self,
        kubelet: Kubelet,
        *,
        address: str,
        port: int,
        cert_file: str | None = None,
        key_file: str | None = None,
        auth: KubeletAuth | None = None,
    ) -> None:
        self.kubelet = kubelet
        self.address = address
        self.port = port
        self.cert_file = cert_file
        self.key_file = key_file
        self.auth = auth
        self.app = web.Application(middlewares=[auth.middleware()] if auth is not None else [])
        self.app.add_routes(
            [
                web.get("/healthz", self.healthz),
                web.get("/pods", self.pods),
                web.get("/containerLogs/{namespace}/{pod}/{container}", self.logs),
                web.get("/exec/{namespace}/{pod}/{container}", self.exec),
                web.post("/exec/{namespace}/{pod}/{container}", self.exec),
                web.get("/portForward/{namespace}/{pod}", self.port_forward),
                web.post("/portForward/{namespace}/{pod}", self.port_forward),
            ]
        )
        self._runner: web.AppRunner | None = None
        self._context: ssl.SSLContext | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        context = None
        if self.cert_file:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.cert_file, self.key_file)
            client_ca = self.auth.config.client_ca_file if self.auth is not None else None
            if client_ca:
                # Optional: a client without a certificate authenticates otherwise.
                context.load_verify_locations(client_ca)
                context.verify_mode = ssl.CERT_OPTIONAL
        self._context = context
        site = web.TCPSite(self._runner, self.address, self.port, ssl_context=context)
        await site.start()
        log.info(
            "kubelet server on %s://%s:%d", "https" if context else "http", self.address, self.port
        )

    async def use_certificate(self, path: Path) -> None:
        """Serve with the certificate and key in ``path`` (a rotated serving
        certificate): the first one starts the server; later ones are loaded into its
        TLS context, so new connections see them."""
        self.cert_file = self.key_file = str(path)
        if self._context is not None:
            self._context.load_cert_chain(path, path)
        elif self._runner is None:
            await self.start()

    @property
    def started(self) -> bool:
        return self._runner is not None

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def healthz(self, _request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def pods(self, _request: web.Request) -> web.Response:
        body = {
            "kind": "PodList",
            "apiVersion": "v1",
            "metadata": {},
            "items": [p.to_dict() for p in self.kubelet.pod_manager.pods()],
        }
        return web.Response(body=orjson.dumps(body), content_type="application/json")

    async def _container(self, request: web.Request, *, previous: bool = False) -> ContainerInfo:
        info = request.match_info
        try:
            return await self.kubelet.find_container(
                info["namespace"], info["pod"], info["container"], previous=previous
            )
        except KubeletError as err:
            raise _http_error(err.status, str(err)) from err

    async def logs(self, request: web.Request) -> web.StreamResponse:
        previous = _flag(request, "previous")
        container = await self._container(request, previous=previous)
        since: float | None = None
        seconds = _int(request, "sinceSeconds")
        if seconds is not None:
            since = time.time() - seconds
        since_time = request.query.get("sinceTime")
        if since_time:
            try:
                since = datetime.fromisoformat(since_time.replace("Z", "+00:00")).timestamp()
            except ValueError as err:
                raise web.HTTPBadRequest(text=f"sinceTime: {since_time!r} is not RFC 3339") from err
        options = LogOptions(
            follow=_flag(request, "follow") and not previous,
            tail_lines=_int(request, "tailLines"),
            since=since,
            timestamps=_flag(request, "timestamps"),
        )
        limit = _int(request, "limitBytes")
        response = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
        await response.prepare(request)
        sent = 0
        chunks = self.kubelet.runtime.logs(container.id, options)
        try:
            async for chunk in chunks:
                data = chunk if limit is None else chunk[: max(limit - sent, 0)]
                if data:
                    await response.write(data)
                    sent += len(data)
                if limit is not None and sent >= limit:
                    break
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        finally:
            with contextlib.suppress(Exception):
                await chunks.aclose()  # type: ignore[attr-defined]
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        return response

    async def port_forward(self, request: web.Request) -> web.StreamResponse:
        """``/portForward/<ns>/<pod>``: see ``kubelet.portforward``."""
        return await portforward.handle(self.kubelet, request)

    async def exec(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(protocols=PROTOCOLS, max_msg_size=16 << 20)
        if not ws.can_prepare(request).ok:
            raise web.HTTPBadRequest(
                text="exec needs a WebSocket upgrade (v5.channel.k8s.io); SPDY is not served"
            )
        commands = request.query.getall("command", [])
        if not commands:
            raise web.HTTPBadRequest(text="you must specify at least 1 command")
        container = await self._container(request)
        if not container.running:
            raise web.HTTPBadRequest(
                text=f"container {container.name} is not running (state: {container.state})"
            )
        stdin = _flag(request, "stdin")
        stdout = _flag(request, "stdout")
        stderr = _flag(request, "stderr")
        tty = _flag(request, "tty")
        await ws.prepare(request)
        v5 = ws.ws_protocol == PROTOCOLS[0]
        size: tuple[int, int] | None = None
        early: list[bytes] = []
        if tty:
            # A terminal client sends its size first (channel 4): start the command
            # with it rather than at 0x0. Anything else that comes first is kept.
            with contextlib.suppress(TimeoutError):
                first = channel_frame(await ws.receive(timeout=1.0))
                if first is not None and first[:1] == bytes([RESIZE]):
                    with contextlib.suppress(ValueError, KeyError, TypeError):
                        dims = orjson.loads(first[1:])
                        size = (int(dims["Width"]), int(dims["Height"]))
                elif first is not None:
                    early.append(first)
        try:
            session = await self.kubelet.runtime.exec_stream(
                container.id, commands, stdin=stdin, tty=tty, size=size
            )
        except Exception as err:
            status = {"metadata": {}, "status": "Failure", "message": str(err)}
            await ws.send_bytes(bytes([ERROR]) + orjson.dumps(status))
            await ws.close()
            return ws

        async def pump_out() -> None:
            while (chunk := await session.read()) is not None:
                stream, data = chunk
                channel = STDERR if stream == 2 and not tty else STDOUT
                if (channel == STDOUT and not stdout) or (channel == STDERR and not stderr):
                    continue
                await ws.send_bytes(bytes([channel]) + data)

        async def handle(frame: bytes) -> None:
            channel, data = frame[0], frame[1:]
            if channel == STDIN and stdin:
                if data:
                    await session.write(data)
            elif channel == RESIZE:
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    dims = orjson.loads(data)
                    await session.resize(int(dims["Width"]), int(dims["Height"]))
            elif channel == CLOSE and v5 and data[:1] == bytes([STDIN]):
                await session.close_stdin()

        async def pump_in() -> None:
            for frame in early:
                await handle(frame)
            async for msg in ws:
                received = channel_frame(msg)
                if received is not None:
                    await handle(received)

        reader = asyncio.create_task(pump_in())
        try:
            output = asyncio.create_task(pump_out())
            done, _ = await asyncio.wait({reader, output}, return_when=asyncio.FIRST_COMPLETED)
            if output in done:
                await output
                code = await session.exit_code()
                await ws.send_bytes(bytes([ERROR]) + orjson.dumps(exec_status(code, commands)))
                # The reader stops first, so that close() itself waits for the client's
                # close frame: closed under a pending read, aiohttp drops the connection
                # right after sending its own, and a client still answering it (the
                # apiserver's relay) sees an abnormal closure (1006), which kubectl
                # reports as an error after the command's output.
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader
                await ws.close()
            else:
                output.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await output
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
            await session.close()
        return ws


def _http_error(status: int, text: str) -> web.HTTPException:
    classes: dict[int, type[web.HTTPException]] = {
        400: web.HTTPBadRequest,
        404: web.HTTPNotFound,
        500: web.HTTPInternalServerError,
    }
    return classes.get(status, web.HTTPBadRequest)(text=text)
