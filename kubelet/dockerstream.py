"""Docker's streaming endpoints (exec attach, logs) spoken directly over its socket.

The Docker SDK serves everything else; these two need a connection that stays open,
is read as data arrives, and (for exec) is half-closed to end the command's stdin.
The SDK does that with blocking sockets and reads the upgraded connection underneath
a buffered HTTP reader (bytes the reader already buffered are lost), so here the
request is written and the response head parsed by hand on an asyncio connection.

Docker multiplexes a non-TTY container's streams: each frame is an 8-byte header
(stream id, three zero bytes, big-endian length) and the payload.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson

DEFAULT_SOCKET = "/var/run/docker.sock"


class DockerStreamError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class DockerConnector:
    """Opens raw connections to the Docker Engine named by ``base_url``."""

    def __init__(self, base_url: str | None, api_version: str) -> None:
        url = base_url or f"unix://{DEFAULT_SOCKET}"
        parts = urlsplit(url)
        self.unix_path: str | None = None
        self.host = ""
        self.port = 0
        if parts.scheme in ("unix", "http+unix"):
            self.unix_path = parts.path or DEFAULT_SOCKET
        elif parts.scheme in ("tcp", "http"):
            self.host = parts.hostname or "127.0.0.1"
            self.port = parts.port or 2375
        else:
            raise ValueError(f"unsupported Docker host {url!r} for streaming")
        self.api_version = api_version

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.unix_path is not None:
            return await asyncio.open_unix_connection(self.unix_path, limit=1 << 20)
        return await asyncio.open_connection(self.host, self.port, limit=1 << 20)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        upgrade: bool = False,
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Send one request; return the connection positioned at the response body.

        Raises ``DockerStreamError`` for an error answer. Without ``upgrade`` the
        request is HTTP/1.0, so the body is unframed and ends when the connection does.
        """
        target = f"/v{self.api_version}{path}"
        if params:
            target += "?" + urlencode(params)
        payload = orjson.dumps(body) if body is not None else b""
        lines = [
            f"{method} {target} HTTP/{'1.1' if upgrade else '1.0'}",
            "Host: docker",
            "User-Agent: navarch-kubelet",
        ]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        if upgrade:
            lines += ["Connection: Upgrade", "Upgrade: tcp"]
        reader, writer = await self._open()
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        if status >= 400:
            headers = {}
            for line in header_lines:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
            text = await _read_error(reader, headers)
            writer.close()
            raise DockerStreamError(status, text)
        return reader, writer


async def _read_error(reader: asyncio.StreamReader, headers: dict[str, str]) -> str:
    try:
        length = int(headers.get("content-length", "-1"))
        raw = await (reader.readexactly(length) if length >= 0 else reader.read(65536))
    except (asyncio.IncompleteReadError, OSError):
        return "docker error"
    try:
        return str(orjson.loads(raw).get("message") or raw.decode(errors="replace"))
    except (orjson.JSONDecodeError, AttributeError):
        return raw.decode(errors="replace").strip()


async def read_frames(reader: asyncio.StreamReader, tty: bool) -> AsyncIterator[tuple[int, bytes]]:
    """``(stream, data)`` chunks until the connection ends (TTY output is stream 1)."""
    if tty:
        while True:
            data = await reader.read(65536)
            if not data:
                return
            yield 1, data
    while True:
        try:
            header = await reader.readexactly(8)
        except asyncio.IncompleteReadError:
            return
        size = int.from_bytes(header[4:8], "big")
        try:
            data = await reader.readexactly(size)
        except asyncio.IncompleteReadError as err:
            if err.partial:
                yield header[0], err.partial
            return
        yield header[0], data


class DockerExecSession:
    """An attached ``docker exec``; see ``runtime.ExecSession``."""

    def __init__(
        self,
        runtime: Any,
        exec_id: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        tty: bool,
    ) -> None:
        self._runtime = runtime
        self.exec_id = exec_id
        self._writer = writer
        self._frames = read_frames(reader, tty)
        self._stdin_closed = False

    async def read(self) -> tuple[int, bytes] | None:
        try:
            return await anext(self._frames)
        except (StopAsyncIteration, ConnectionError):
            return None

    async def write(self, data: bytes) -> None:
        if self._stdin_closed:
            return
        self._writer.write(data)
        await self._writer.drain()

    async def close_stdin(self) -> None:
        if not self._stdin_closed:
            self._stdin_closed = True
            with contextlib.suppress(OSError, RuntimeError):
                self._writer.write_eof()

    async def resize(self, width: int, height: int) -> None:
        await self._runtime.exec_resize(self.exec_id, width, height)

    async def exit_code(self) -> int:
        return int(await self._runtime.exec_exit_code(self.exec_id))

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()
