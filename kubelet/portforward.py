"""``/portForward/<namespace>/<pod>``: TCP tunnels from the apiserver to a pod's ports.

The kubelet reaches a port as ``<pod IP>:<port>`` from the host (the sandbox's address on
the Docker bridge; ``127.0.0.1`` for ``hostNetwork`` pods). The real kubelet dials
``localhost`` inside the pod's network namespace instead, so a server here must listen
on the pod's interface, not only on its loopback.

Two wire protocols, both a WebSocket (the apiserver relays its frames unchanged):

- **channels** (``v4.channel.k8s.io``, ``v4.base64.channel.k8s.io``, or no subprotocol):
  the ports come from the ``port`` query parameter (repeated or comma separated). Port
  ``i`` gets a data channel ``2*i`` and an error channel ``2*i+1``; each binary frame is
  the channel byte and the payload (base64: the channel as an ASCII digit and base64
  text). The first frame the kubelet sends on each channel is the port, two bytes little
  endian. One TCP connection per port, opened at once; an error is written as text on
  the error channel. The socket closes when every port's connection has ended.
- **SPDY tunnelled in a WebSocket** (``SPDY/3.1+portforward.k8s.io``, what kubectl 1.30+
  speaks): the binary frames concatenated are a SPDY/3.1 session. The client opens two
  streams per TCP connection, both with headers ``port`` and ``requestID``, one with
  ``streamType: error`` and one with ``streamType: data``; each gets an empty SYN_REPLY.
  Once both are there the kubelet dials the port and copies bytes between the data
  stream and the connection. When the pod's side ends, the data stream and then the
  error stream are finished (FIN); a dial error is written on the error stream first.
  PINGs are echoed. Flow control (WINDOW_UPDATE) is not used by kubectl's SPDY library,
  so none is sent and received ones are ignored. The session lives until the client
  closes it; one session carries every connection of a ``kubectl port-forward``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import struct
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from kubelet.kubelet import Kubelet, KubeletError

log = logging.getLogger(__name__)

SPDY_PROTOCOL = "SPDY/3.1+portforward.k8s.io"
CHANNEL_PROTOCOL = "v4.channel.k8s.io"
BASE64_PROTOCOL = "v4.base64.channel.k8s.io"
PROTOCOLS = (SPDY_PROTOCOL, CHANNEL_PROTOCOL, BASE64_PROTOCOL)
CHUNK = 32 * 1024
DIAL_TIMEOUT = 10.0


def _spdy_dictionary() -> bytes:
    """SPDY/3's preset zlib dictionary for header blocks (draft 3, section 2.6.10.1):
    length-prefixed header names and values, then a run of common strings."""
    names = (
        "options head post put delete trace accept accept-charset accept-encoding "
        "accept-language accept-ranges age allow authorization cache-control connection "
        "content-base content-encoding content-language content-length content-location "
        "content-md5 content-range content-type date etag expect expires from host if-match "
        "if-modified-since if-none-match if-range if-unmodified-since last-modified location "
        "max-forwards pragma proxy-authenticate proxy-authorization range referer retry-after "
        "server te trailer transfer-encoding upgrade user-agent vary via warning "
        "www-authenticate method get status"
    )
    words = names.split()
    words += ["200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive"]
    words += ["origin"]
    prefix = b"".join(struct.pack(">I", len(w)) + w.encode() for w in words)
    tail = (
        "100101201202205206300302303304305306307402405406407408409410411412413414415416417"
        "502504505203 Non-Authoritative Information204 No Content301 Moved Permanently"
        "400 Bad Request401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error"
        "501 Not Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct "
        "Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,"
        "image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,"
        "publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
    )
    return prefix + tail.encode()


SPDY_DICTIONARY = _spdy_dictionary()

# SPDY/3 control frame types and flags.
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = (
    1, 2, 3, 4, 6, 7, 8, 9,
)  # fmt: skip
FLAG_FIN = 0x01
RST_PROTOCOL_ERROR = 1
SPDY_VERSION = 3


# --- reaching the pod ---------------------------------------------------------------------


@dataclass
class PodTarget:
    """Where a pod's ports are reached from the host, and the names errors use."""

    host: str
    pod: str
    sandbox: str


async def pod_target(kubelet: Kubelet, namespace: str, name: str) -> PodTarget:
    """The pod's address; ``KubeletError`` (404 unknown pod, 400 no running sandbox)."""
    pod = kubelet.find_pod(namespace, name)
    if pod is None:
        raise KubeletError(404, f'pod "{name}" not found in namespace "{namespace}"')
    state = await kubelet.runtime.pod(pod.metadata.uid or "")
    sandbox = state.sandbox() if state else None
    if sandbox is None or not sandbox.ready:
        raise KubeletError(400, f"pod {name} has no running sandbox")
    if pod.spec is not None and pod.spec.host_network:
        return PodTarget("127.0.0.1", name, sandbox.id)
    if not sandbox.ip:
        raise KubeletError(400, f"pod {name} has no IP address yet")
    return PodTarget(sandbox.ip, name, sandbox.id)


async def dial(target: PodTarget, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TCP connection to the pod's ``port``; ``ConnectionError`` with the message the
    client is shown (kubelet's wording) when it cannot be made."""
    try:
        return await asyncio.wait_for(
            asyncio.open_connection(target.host, port, limit=1 << 20), DIAL_TIMEOUT
        )
    except (OSError, TimeoutError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise ConnectionError(
            f"error forwarding port {port} to pod {target.sandbox}, uid : failed to connect "
            f"to {target.host}:{port} in the pod's network: {reason or 'timed out'}"
        ) from err


def parse_ports(values: list[str]) -> list[int]:
    """Ports from ``port`` query values (each may be a comma-separated list); ValueError."""
    ports: list[int] = []
    for value in values:
        if not value:
            raise ValueError('query parameter "port" cannot be empty')
        for part in value.split(","):
            if not part.isdigit() or not 0 < int(part) < 65536:
                raise ValueError(f"unable to parse {value!r} as a port")
            ports.append(int(part))
    return ports


async def _close(writer: asyncio.StreamWriter | None) -> None:
    if writer is None:
        return
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


# --- the channel protocol -----------------------------------------------------------------


async def serve_channels(ws: web.WebSocketResponse, target: PodTarget, ports: list[int]) -> None:
    """Forward ``ports`` over a prepared WebSocket speaking the v4 channel protocol."""
    text = ws.ws_protocol == BASE64_PROTOCOL
    send_lock = asyncio.Lock()

    async def send(channel: int, data: bytes) -> None:
        async with send_lock:
            if text:
                await ws.send_str(chr(ord("0") + channel) + base64.b64encode(data).decode())
            else:
                await ws.send_bytes(bytes([channel]) + data)

    writers: list[asyncio.Future[asyncio.StreamWriter | None]] = [
        asyncio.get_running_loop().create_future() for _ in ports
    ]
    for index, port in enumerate(ports):
        for channel in (2 * index, 2 * index + 1):
            await send(channel, port.to_bytes(2, "little"))

    async def forward(index: int, port: int) -> None:
        try:
            reader, writer = await dial(target, port)
        except ConnectionError as err:
            writers[index].set_result(None)
            await send(2 * index + 1, str(err).encode())
            return
        writers[index].set_result(writer)
        try:
            while data := await reader.read(CHUNK):
                await send(2 * index, data)
        except OSError:
            pass
        finally:
            await _close(writer)

    async def inbound() -> None:
        async for msg in ws:
            if msg.type == WSMsgType.BINARY and msg.data:
                channel, data = msg.data[0], bytes(msg.data[1:])
            elif msg.type == WSMsgType.TEXT and msg.data:
                channel = ord(msg.data[0]) - ord("0")
                try:
                    data = base64.b64decode(msg.data[1:])
                except ValueError:
                    continue
            else:
                continue
            index = channel // 2
            if channel % 2 or not 0 <= index < len(ports) or not data:
                continue  # Clients write only to data channels.
            writer = await writers[index]
            if writer is not None and not writer.is_closing():
                with contextlib.suppress(OSError):
                    writer.write(data)
                    await writer.drain()

    pumps = [asyncio.create_task(forward(i, p)) for i, p in enumerate(ports)]
    reader_task = asyncio.create_task(inbound())

    async def all_ended() -> None:
        await asyncio.gather(*pumps)

    everything = asyncio.create_task(all_ended())
    try:
        done, _ = await asyncio.wait({reader_task, everything}, return_when=asyncio.FIRST_COMPLETED)
        if everything in done:
            # As exec: the reader stops before close(), which then waits for the
            # client's close frame instead of dropping the connection under it.
            await _cancel([reader_task])
            await ws.close()
    finally:
        await _cancel([reader_task, everything, *pumps])
        for future in writers:
            if future.done() and not future.cancelled():
                await _close(future.result())


# --- SPDY/3.1 -----------------------------------------------------------------------------


class SpdyError(Exception):
    """The peer broke the SPDY framing; the session ends."""


class HeaderCodec:
    """One direction each of SPDY/3 header compression: a single zlib stream per direction
    for the whole session, primed with ``SPDY_DICTIONARY`` and flushed per frame."""

    def __init__(self) -> None:
        self._inflate = zlib.decompressobj(zdict=SPDY_DICTIONARY)
        self._deflate = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY,
                                         SPDY_DICTIONARY)  # fmt: skip

    def decode(self, block: bytes) -> dict[str, list[str]]:
        try:
            raw = self._inflate.decompress(block)
        except zlib.error as err:
            raise SpdyError(f"bad header block: {err}") from err
        try:
            (count,) = struct.unpack_from(">I", raw, 0)
            offset = 4
            headers: dict[str, list[str]] = {}
            for _ in range(count):
                (size,) = struct.unpack_from(">I", raw, offset)
                name = raw[offset + 4 : offset + 4 + size].decode().lower()
                offset += 4 + size
                (size,) = struct.unpack_from(">I", raw, offset)
                value = raw[offset + 4 : offset + 4 + size].decode()
                offset += 4 + size
                headers.setdefault(name, []).extend(value.split("\x00"))
        except (struct.error, UnicodeDecodeError) as err:
            raise SpdyError(f"bad header block: {err}") from err
        return headers

    def encode(self, headers: dict[str, list[str]]) -> bytes:
        raw = struct.pack(">I", len(headers))
        for name, values in headers.items():
            key, value = name.lower().encode(), "\x00".join(values).encode()
            raw += struct.pack(">I", len(key)) + key + struct.pack(">I", len(value)) + value
        return self._deflate.compress(raw) + self._deflate.flush(zlib.Z_SYNC_FLUSH)


def control_frame(kind: int, flags: int, payload: bytes) -> bytes:
    return struct.pack(">HHI", 0x8000 | SPDY_VERSION, kind, (flags << 24) | len(payload)) + payload


def data_frame(stream_id: int, data: bytes, *, fin: bool = False) -> bytes:
    flags = FLAG_FIN if fin else 0
    return struct.pack(">II", stream_id & 0x7FFFFFFF, (flags << 24) | len(data)) + data


@dataclass
class Frame:
    """One SPDY frame: ``control`` frames carry ``kind`` and ``payload``, data frames
    ``stream_id`` and ``payload``."""

    control: bool
    kind: int
    flags: int
    stream_id: int
    payload: bytes


class FrameReader:
    """Splits a byte stream (arriving in arbitrary pieces) into SPDY frames."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        while len(self._buffer) >= 8:
            first, second = struct.unpack_from(">II", self._buffer, 0)
            length = second & 0xFFFFFF
            if len(self._buffer) < 8 + length:
                break
            payload = bytes(self._buffer[8 : 8 + length])
            del self._buffer[: 8 + length]
            flags = second >> 24
            if first & 0x80000000:
                frames.append(Frame(True, first & 0xFFFF, flags, 0, payload))
            else:
                frames.append(Frame(False, 0, flags, first & 0x7FFFFFFF, payload))
        return frames


@dataclass
class _Pair:
    """The two streams of one forwarded connection."""

    request_id: str
    port: int = 0
    data: int = 0
    error: int = 0
    inbox: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None


class SpdySession:
    """The server side of a port-forward SPDY session over a WebSocket."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        target: PodTarget,
        dialer: Callable[
            [PodTarget, int], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
        ] = dial,
    ) -> None:
        self.ws = ws
        self.target = target
        self.dialer = dialer
        self.headers = HeaderCodec()
        self.frames = FrameReader()
        self.pairs: dict[str, _Pair] = {}
        self.by_stream: dict[int, _Pair] = {}
        self._send_lock = asyncio.Lock()

    async def send(self, frame: bytes) -> None:
        async with self._send_lock:
            await self.ws.send_bytes(frame)

    async def _reply(self, stream_id: int) -> None:
        async with self._send_lock:
            # Compress under the lock: the peer inflates header blocks in send order.
            block = self.headers.encode({})
            await self.ws.send_bytes(
                control_frame(SYN_REPLY, 0, struct.pack(">I", stream_id) + block)
            )

    async def _reset(self, stream_id: int) -> None:
        await self.send(
            control_frame(RST_STREAM, 0, struct.pack(">II", stream_id, RST_PROTOCOL_ERROR))
        )

    async def run(self) -> None:
        """Serve until the client closes the WebSocket (or sends GOAWAY)."""
        try:
            async for msg in self.ws:
                if msg.type != WSMsgType.BINARY:
                    continue
                for frame in self.frames.feed(msg.data):
                    if not await self._handle(frame):
                        return
        except SpdyError as err:
            log.info("port-forward session for %s ended: %s", self.target.pod, err)
        finally:
            await _cancel([p.task for p in self.pairs.values() if p.task is not None])
            with contextlib.suppress(Exception):
                await self.ws.close()

    async def _handle(self, frame: Frame) -> bool:
        """Act on one frame; False when the session is over."""
        if not frame.control:
            pair = self.by_stream.get(frame.stream_id)
            if pair is not None and frame.stream_id == pair.data:
                if frame.payload:
                    pair.inbox.put_nowait(frame.payload)
                if frame.flags & FLAG_FIN:
                    pair.inbox.put_nowait(None)
            return True
        if frame.kind == SYN_STREAM:
            await self._syn_stream(frame)
        elif frame.kind == PING:
            await self.send(control_frame(PING, 0, frame.payload[:4]))
        elif frame.kind == RST_STREAM and len(frame.payload) >= 4:
            (stream_id,) = struct.unpack_from(">I", frame.payload, 0)
            pair = self.by_stream.get(stream_id & 0x7FFFFFFF)
            if pair is not None and pair.task is not None:
                pair.task.cancel()
        elif frame.kind == GOAWAY:
            return False
        elif frame.kind == HEADERS and len(frame.payload) >= 4:
            self.headers.decode(frame.payload[4:])  # keeps the zlib stream in step
        return True

    async def _syn_stream(self, frame: Frame) -> None:
        if len(frame.payload) < 10:
            raise SpdyError("short SYN_STREAM")
        (stream_id,) = struct.unpack_from(">I", frame.payload, 0)
        stream_id &= 0x7FFFFFFF
        headers = self.headers.decode(frame.payload[10:])
        kind = (headers.get("streamtype") or [""])[0]
        request_id = (headers.get("requestid") or [""])[0]
        port_text = (headers.get("port") or [""])[0]
        if kind not in ("data", "error") or not port_text.isdigit():
            await self._reset(stream_id)
            return
        await self._reply(stream_id)
        # Older clients send no requestID: then the port pairs the two streams.
        key = request_id or f"port:{port_text}"
        pair = self.pairs.setdefault(key, _Pair(key, int(port_text)))
        self.by_stream[stream_id] = pair
        if kind == "data":
            pair.data = stream_id
        else:
            pair.error = stream_id
        if pair.data and pair.error and pair.task is None:
            pair.task = asyncio.create_task(self._forward(pair))

    async def _forward(self, pair: _Pair) -> None:
        writer: asyncio.StreamWriter | None = None
        inbound: asyncio.Task[None] | None = None
        try:
            try:
                reader, writer = await self.dialer(self.target, pair.port)
            except ConnectionError as err:
                await self.send(data_frame(pair.error, str(err).encode()))
                return
            inbound = asyncio.create_task(self._pump_in(pair, writer))
            with contextlib.suppress(OSError):
                while data := await reader.read(CHUNK):
                    await self.send(data_frame(pair.data, data))
        finally:
            if inbound is not None:
                await _cancel([inbound])
            await _close(writer)
            with contextlib.suppress(Exception):
                await self.send(data_frame(pair.data, b"", fin=True))
                await self.send(data_frame(pair.error, b"", fin=True))
            self.pairs.pop(pair.request_id, None)
            self.by_stream.pop(pair.data, None)
            self.by_stream.pop(pair.error, None)

    @staticmethod
    async def _pump_in(pair: _Pair, writer: asyncio.StreamWriter) -> None:
        """Client bytes to the pod; the client's FIN half-closes the connection."""
        while (data := await pair.inbox.get()) is not None:
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()


# --- the handler --------------------------------------------------------------------------


async def handle(kubelet: Kubelet, request: web.Request) -> web.StreamResponse:
    """``GET /portForward/<namespace>/<pod>``: a WebSocket upgrade, or a plain-text error."""
    ws = web.WebSocketResponse(protocols=PROTOCOLS, max_msg_size=16 << 20, autoping=True)
    ready = ws.can_prepare(request)
    if not ready.ok:
        raise web.HTTPBadRequest(
            text="port-forward needs a WebSocket upgrade (SPDY/3.1+portforward.k8s.io or "
            "v4.channel.k8s.io); plain SPDY is not served"
        )
    ports: list[int] = []
    if ready.protocol != SPDY_PROTOCOL:
        # The channel protocols name their ports up front; SPDY names them per stream.
        values = [*request.query.getall("port", []), *request.query.getall("ports", [])]
        try:
            ports = parse_ports(values)
        except ValueError as err:
            raise web.HTTPBadRequest(text=str(err)) from err
        if not ports:
            raise web.HTTPBadRequest(text='query parameter "port" is required')
    info = request.match_info
    try:
        target = await pod_target(kubelet, info["namespace"], info["pod"])
    except KubeletError as err:
        cls = web.HTTPNotFound if err.status == 404 else web.HTTPBadRequest
        raise cls(text=str(err)) from err
    await ws.prepare(request)
    if ws.ws_protocol == SPDY_PROTOCOL:
        await SpdySession(ws, target).run()
    else:
        await serve_channels(ws, target, ports)
    return ws
