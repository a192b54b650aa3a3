"""A raw watch client for tests: reads the JSON-lines stream in a background thread."""

from __future__ import annotations

import contextlib
import http.client
import json
import queue
import socket
import threading
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from testkit.testca import session_ca


class RawWatch:
    """Opens ``GET path?watch=true&...`` and collects events as they arrive."""

    def __init__(self, base_url: str, path: str, **params: str) -> None:
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.status_code: int | None = None
        self.ended = threading.Event()
        self.error: BaseException | None = None  # why the stream ended, if not by its end
        parts = urlsplit(base_url)
        # http.client rather than httpx: closing the socket from another thread reliably
        # ends a blocked read, so a test can drop a watch at any time.
        # An HTTPS base_url is a test apiserver: verified against the session's test CA.
        self._conn = (
            http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=30, context=session_ca().ssl_context()
            )
            if parts.scheme == "https"
            else http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
        )
        self._target = f"{path}?{urlencode({'watch': 'true', **params})}"
        self._opened = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._opened.wait(30):
            raise TimeoutError("watch did not open")

    def _run(self) -> None:
        try:
            self._conn.request("GET", self._target)
            resp = self._conn.getresponse()
            self.status_code = resp.status
            self._opened.set()
            if self._conn.sock is not None:
                self._conn.sock.settimeout(None)
            if resp.status != 200:
                self.events.put(json.loads(resp.read()))
                return
            while True:
                line = resp.readline()
                if not line:
                    return
                if line.strip():
                    self.events.put(json.loads(line))
        except (OSError, http.client.HTTPException, ValueError, AttributeError) as err:
            # AttributeError: http.client, when close() races a blocked read.
            self.error = err
        finally:
            self._opened.set()
            self.ended.set()

    def next(self, timeout: float = 10.0, *, skip_bookmarks: bool = True) -> dict[str, Any]:
        """The next event; TimeoutError naming why when none comes within ``timeout``
        (at once when the stream has already ended and nothing is left to read)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                event = self.events.get(timeout=max(min(remaining, 0.1), 0.0))
            except queue.Empty:
                if self.ended.is_set() and self.events.empty():
                    raise TimeoutError(self._why("the watch ended")) from None
                if remaining <= 0:
                    raise TimeoutError(self._why(f"no watch event in {timeout:.0f}s")) from None
                continue
            if skip_bookmarks and event.get("type") == "BOOKMARK":
                continue
            return event

    def _why(self, what: str) -> str:
        return f"{what} (HTTP {self.status_code}, error: {self.error!r}): {self._target}"

    def collect(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        return [self.next(timeout) for _ in range(count)]

    def close(self) -> None:
        sock = self._conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._conn.close()
        self._thread.join(5)
