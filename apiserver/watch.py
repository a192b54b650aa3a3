"""Serving one client watch: a stream of JSON lines from the cache or from etcd.

The stream sends the synthetic ADDED events first (for watches without a
``resourceVersion``), from the cache's shared snapshot in chunks of about
:data:`CHUNK_BYTES` (the server writes a chunk only when the client has taken the
last, so a watch holds at most about one chunk, however large the list); then it
follows the watch cache's ring from its cursor. A version older than the ring holds
(its history reaches back before this apiserver started, see ``watchcache``) gets an
ERROR event with a 410 Expired Status, and the client re-lists: no client watch opens
an etcd watch of its own. Bookmarks, when asked for, carry the latest revision so that
an idle client's resume point keeps up with the store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from apiserver import errors
from apiserver.metrics import WATCH_EVENTS, WATCHERS
from apiserver.registry.store import ResourceStore, WatchStart
from apiserver.watchcache import (
    ADDED,
    CachedObject,
    CacheEvent,
    CacheResetError,
    CursorExpiredError,
    Predicate,
    deliver_as,
    event_line,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchParams:
    predicate: Predicate
    resource_version: str | None
    timeout: float
    bookmarks: bool
    bookmark_interval: float


CHUNK_BYTES = 64 * 1024
"""About how much of a watch's initial state is written at once."""

Transform = Callable[[str, dict[str, Any]], dict[str, Any]] | None
"""Turns (type, object) into the object to send (Tables for ``kubectl get -w``)."""


def _line(event_type: str, obj: dict[str, Any]) -> bytes:
    return orjson.dumps({"type": event_type, "object": obj}) + b"\n"


def error_line(err: errors.ApiError) -> bytes:
    return _line("ERROR", err.status())


class WatchStream:
    """An async iterator of byte chunks for one client watch."""

    def __init__(self, store: ResourceStore, params: WatchParams, transform: Transform) -> None:
        self._store = store
        self._params = params
        self._transform = transform
        self._labels = (store.resource.group, store.resource.plural)
        self._bookmark_kind = {
            "kind": store.resource.kind,
            "apiVersion": store.resource.api_version,
        }

    def _encode(self, event_type: str, event: CacheEvent) -> bytes:
        if self._transform is not None:
            return _line(event_type, self._transform(event_type, event.object_for(event_type)))
        return event.line(event_type)

    def _encode_raw(self, event_type: str, raw: bytes) -> bytes:
        if self._transform is not None:
            return _line(event_type, self._transform(event_type, orjson.loads(raw)))
        return event_line(event_type, raw)

    def _bookmark(self, revision: int) -> bytes:
        obj = {**self._bookmark_kind, "metadata": {"resourceVersion": str(revision)}}
        return _line("BOOKMARK", obj)

    async def prepare(self) -> WatchStart:
        """Errors that must answer as a plain HTTP status are raised here, before the
        stream starts."""
        return await self._store.watch_start(self._params.predicate, self._params.resource_version)

    async def stream(self, start: WatchStart) -> AsyncIterator[bytes]:
        gauge = WATCHERS.labels(*self._labels)
        gauge.inc()
        try:
            async for chunk in self._initial(start.initial):
                yield chunk
            if start.cursor is None:
                oldest = self._store.cache.horizon + 1
                yield error_line(_too_old(start.revision, oldest))
                return
            async for chunk in self._from_cache(start.cursor, start.revision):
                yield chunk
        finally:
            gauge.dec()

    async def _initial(self, objects: Iterator[CachedObject]) -> AsyncIterator[bytes]:
        counter = WATCH_EVENTS.labels(*self._labels)
        lines: list[bytes] = []
        size = 0
        for co in objects:
            line = self._encode_raw(ADDED, co.raw)
            lines.append(line)
            size += len(line)
            if size >= CHUNK_BYTES:
                counter.inc(len(lines))
                chunk, lines, size = b"".join(lines), [], 0
                yield chunk
                del chunk  # not kept alive while the generator waits
        if lines:
            counter.inc(len(lines))
            yield b"".join(lines)

    async def _from_cache(self, cursor: int, start: int) -> AsyncIterator[bytes]:
        cache = self._store.cache
        epoch = cache.epoch
        pred = self._params.predicate
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._params.timeout
        next_bookmark = loop.time() + self._params.bookmark_interval
        last_sent = cache.revision
        counter = WATCH_EVENTS.labels(*self._labels)
        while True:
            try:
                events, cursor = cache.events_from(cursor, epoch)
            except (CacheResetError, CursorExpiredError):
                # The client resumes from the last version it saw; nothing is lost.
                return
            if events:
                lines = []
                for ev in events:
                    if ev.revision <= start:
                        # Already in what the client listed: an event etcd delivered
                        # late (after claiming progress past it) must not roll it back.
                        continue
                    as_type = deliver_as(ev, pred)
                    if as_type is not None:
                        lines.append(self._encode(as_type, ev))
                if lines:
                    counter.inc(len(lines))
                    yield b"".join(lines)
                last_sent = events[-1].revision
            now = loop.time()
            if now >= deadline:
                return
            if self._params.bookmarks and now >= next_bookmark:
                next_bookmark = now + self._params.bookmark_interval
                yield self._bookmark(max(last_sent, cache.revision))
            wait = min(deadline, next_bookmark if self._params.bookmarks else deadline) - now
            await cache.wait_change(cursor, max(wait, 0.0))


def _too_old(requested: int, compacted: int) -> errors.ApiError:
    return errors.expired(f"too old resource version: {requested} ({compacted})")
