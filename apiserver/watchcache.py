"""One etcd watch per resource, fanned out to every client watch.

The cache lists a resource once, then follows one etcd watch from the list's
revision. It keeps the current objects (serving ``resourceVersion=0`` lists and the
initial state of new watches) and a window of recent events in a ring, each with a
sequence number. A client watch is only a cursor into that ring: it costs no etcd
watch, no copy of the stream, and a slow client only lags behind. A cursor that the
ring has overwritten is closed, and the client resumes from its last
``resourceVersion`` (through a direct etcd watch, see the store), so no event is lost.

Every event is decoded once; its wire line is serialised once per event type and
shared by every watcher that sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from apiserver.storage.interface import (
    CompactedError,
    Storage,
    StorageError,
    StorageEvent,
)
from apitypes.selectors import FieldSelectorExpr, LabelSelectorExpr

log = logging.getLogger(__name__)

ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"


@dataclass(slots=True)
class CachedObject:
    """An object as served: its JSON (``resourceVersion`` included) plus what
    selectors look at.

    The JSON is kept as bytes, not as a parsed dict: lists and watches send it as it
    is, and a cache of thousands of objects then holds three containers per object
    instead of dozens, which keeps the cyclic garbage collector's pauses short.
    """

    raw: bytes
    namespace: str
    labels: Mapping[str, str]
    fields: Mapping[str, str]

    def obj(self) -> dict[str, Any]:
        """A fresh parsed copy (the caller may change it)."""
        parsed: dict[str, Any] = orjson.loads(self.raw)
        return parsed


def event_line(event_type: str, raw: bytes) -> bytes:
    """One line of a watch stream around an object's JSON."""
    return b'{"type":"' + event_type.encode() + b'","object":' + raw + b"}\n"


@dataclass(slots=True)
class CacheEvent:
    type: str
    revision: int
    key: str
    cur: CachedObject | None
    """The object after the event; for DELETED, its last state at the delete revision."""
    prev: CachedObject | None
    """The object before the event, when there was one."""
    _prev_at_rev: bytes | None = None
    _lines: dict[str, bytes] = field(default_factory=dict)

    def line(self, event_type: str) -> bytes:
        """The JSON line for this event delivered as ``event_type`` (computed once)."""
        line = self._lines.get(event_type)
        if line is None:
            line = event_line(event_type, self.raw_for(event_type))
            self._lines[event_type] = line
        return line

    def raw_for(self, event_type: str) -> bytes:
        if event_type == DELETED and self.type != DELETED:
            # The object left the watcher's selector: Kubernetes sends its previous
            # content stamped with this event's resourceVersion.
            if self._prev_at_rev is None:
                assert self.prev is not None
                obj = self.prev.obj()
                obj.setdefault("metadata", {})["resourceVersion"] = str(self.revision)
                self._prev_at_rev = orjson.dumps(obj)
            return self._prev_at_rev
        assert self.cur is not None
        return self.cur.raw

    def object_for(self, event_type: str) -> dict[str, Any]:
        parsed: dict[str, Any] = orjson.loads(self.raw_for(event_type))
        return parsed


@dataclass(frozen=True, slots=True)
class Predicate:
    """Which objects a list or watch wants: namespace, label and field selectors."""

    namespace: str | None = None
    labels: LabelSelectorExpr | None = None
    fields: FieldSelectorExpr | None = None

    def matches(self, co: CachedObject) -> bool:
        if self.namespace is not None and co.namespace != self.namespace:
            return False
        if self.labels is not None and not self.labels.matches(co.labels):
            return False
        return self.fields is None or self.fields.matches(co.fields)

    @property
    def everything(self) -> bool:
        return self.namespace is None and self.labels is None and self.fields is None


def deliver_as(event: CacheEvent, pred: Predicate) -> str | None:
    """The event type a watcher with ``pred`` sees for ``event``, or None to skip it.

    An object that enters the selector is ADDED, one that leaves it is DELETED.
    """
    if pred.everything:
        return event.type
    prev_ok = event.prev is not None and pred.matches(event.prev)
    if event.type == DELETED:
        return DELETED if prev_ok else None
    assert event.cur is not None
    cur_ok = pred.matches(event.cur)
    if cur_ok:
        return MODIFIED if prev_ok and event.type == MODIFIED else ADDED
    return DELETED if prev_ok else None


class Codec:
    """Turns stored bytes into ``CachedObject``; knows the kind's selectable fields."""

    def __init__(self, field_set: Callable[[dict[str, Any]], Mapping[str, str]]) -> None:
        self._field_set = field_set

    def decode(self, value: bytes, revision: int) -> CachedObject:
        obj = orjson.loads(value)
        meta = obj.setdefault("metadata", {})
        meta["resourceVersion"] = str(revision)
        return self.wrap(obj)

    def wrap(self, obj: dict[str, Any]) -> CachedObject:
        meta = obj["metadata"]
        return CachedObject(
            raw=orjson.dumps(obj),
            namespace=meta.get("namespace", ""),
            labels=meta.get("labels") or {},
            fields=self._field_set(obj),
        )

    def event(self, ev: StorageEvent, previous: CachedObject | None) -> CacheEvent:
        """Decode one storage event; ``previous`` is the known prior state, if any."""
        if previous is None and ev.prev_value is not None:
            previous = self.decode(ev.prev_value, ev.revision)
        if ev.type == "DELETE":
            if previous is None:
                # Nothing to show for a key we never saw (should not happen with prev_kv).
                empty = {"metadata": {"name": ev.key.rsplit("/", 1)[-1]}}
                previous = self.wrap(empty)
            last = previous.obj()
            last["metadata"]["resourceVersion"] = str(ev.revision)
            gone = CachedObject(
                raw=orjson.dumps(last),
                namespace=previous.namespace,
                labels=previous.labels,
                fields=previous.fields,
            )
            return CacheEvent(DELETED, ev.revision, ev.key, gone, previous)
        assert ev.value is not None
        cur = self.decode(ev.value, ev.revision)
        kind = ADDED if ev.created or previous is None else MODIFIED
        return CacheEvent(kind, ev.revision, ev.key, cur, previous)


class _Ring:
    """A fixed-size ring of events addressed by ever-growing sequence numbers."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._slots: list[CacheEvent | None] = [None] * capacity
        self._revisions: list[int] = [0] * capacity
        self.oldest = 0  # sequence number of the oldest event held
        self.next = 0  # sequence number the next event gets

    def append(self, event: CacheEvent) -> CacheEvent | None:
        """Store ``event``; return the event it pushed out, if the ring was full."""
        evicted = None
        if self.next - self.oldest == self.capacity:
            evicted = self._slots[self.oldest % self.capacity]
            self.oldest += 1
        slot = self.next % self.capacity
        self._slots[slot] = event
        self._revisions[slot] = event.revision
        self.next += 1
        return evicted

    def get(self, seq: int) -> CacheEvent:
        event = self._slots[seq % self.capacity]
        assert event is not None
        return event

    def first_after(self, revision: int) -> int:
        """The sequence number of the first event with a revision above ``revision``."""
        lo, hi = self.oldest, self.next
        while lo < hi:
            mid = (lo + hi) // 2
            if self._revisions[mid % self.capacity] <= revision:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def clear(self) -> None:
        self._slots = [None] * self.capacity
        self.oldest = self.next


class CacheResetError(Exception):
    """The cache re-listed; cursors into its old event stream are void."""


class CursorExpiredError(Exception):
    """The cursor fell behind the ring; the client should resume by resourceVersion."""


class WatchCache:
    """The cache of one resource (one key prefix). See the module docstring."""

    def __init__(
        self,
        storage: Storage,
        prefix: str,
        codec: Codec,
        *,
        capacity: int = 10_000,
        progress_interval: float = 5.0,
    ) -> None:
        self._storage = storage
        self._prefix = prefix
        self._codec = codec
        self._ring = _Ring(capacity)
        self._objects: dict[str, CachedObject] = {}
        self._revision = 0
        self._changes = 0
        self._horizon = 0  # every event with a revision above this is in the ring
        self._epoch = 0
        self._changed = asyncio.Event()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stream: Any = None
        self._progress_interval = progress_interval

    # --- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self._prefix)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._notify()

    async def wait_ready(self, timeout: float | None = None) -> None:
        self.start()
        await asyncio.wait_for(self._ready.wait(), timeout)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    @property
    def revision(self) -> int:
        """The store revision this cache is complete up to."""
        return self._revision

    @property
    def epoch(self) -> int:
        return self._epoch

    @property
    def changes(self) -> int:
        """How often the cached objects changed (events applied, re-lists): a cheap
        way for indexes built on the cache to know they are stale."""
        return self._changes

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                await self._list_and_watch()
                delay = 0.1
            except asyncio.CancelledError:
                raise
            except (StorageError, OSError) as err:
                log.warning("watch cache %s: %s; re-listing in %.1fs", self._prefix, err, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            except Exception:
                log.exception("watch cache %s failed; re-listing", self._prefix)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _list_and_watch(self) -> None:
        listed = await self._storage.list_prefix(self._prefix)
        objects = {kv.key: self._codec.decode(kv.value, kv.mod_revision) for kv in listed.items}
        if self._ready.is_set():
            # A re-list: cursors into the previous stream cannot be continued safely.
            self._epoch += 1
            self._ring.clear()
        self._objects = objects
        self._changes += 1
        self._revision = listed.revision
        self._horizon = listed.revision
        self._ready.set()
        self._notify()
        stream = self._storage.watch(self._prefix, listed.revision + 1)
        self._stream = stream
        ticker = asyncio.get_running_loop().create_task(self._tick(stream))
        try:
            async for batch in stream:
                for ev in batch.events:
                    self._apply(ev)
                if not batch.events:
                    # A progress notification: every event up to its revision was sent.
                    # The header of a response *with* events is etcd's current revision,
                    # which runs ahead of the events while a busy watcher catches up in
                    # fragments: trusting it would let a list claim writes it lacks.
                    self._revision = max(self._revision, batch.revision)
                self._notify()
        except CompactedError:
            raise
        finally:
            ticker.cancel()
            self._stream = None
            await stream.close()

    async def _tick(self, stream: Any) -> None:
        # Progress notifications move the cache's revision forward while the resource
        # is idle, so that bookmarks and "not older than" reads see recent revisions.
        while True:
            await asyncio.sleep(self._progress_interval)
            with contextlib.suppress(Exception):
                await stream.request_progress()

    def _apply(self, ev: StorageEvent) -> None:
        event = self._codec.event(ev, self._objects.get(ev.key))
        if event.type == DELETED:
            self._objects.pop(ev.key, None)
        else:
            assert event.cur is not None
            self._objects[ev.key] = event.cur
        self._changes += 1
        evicted = self._ring.append(event)
        if evicted is not None:
            self._horizon = evicted.revision
        self._revision = ev.revision

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    # --- reads ---------------------------------------------------------------------

    async def wait_fresh(self, revision: int, timeout: float) -> bool:
        """Wait until the cache is complete up to ``revision``; False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        await self.wait_ready(timeout)
        while self._revision < revision:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            if self._stream is not None:
                with contextlib.suppress(Exception):
                    await self._stream.request_progress()
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), min(remaining, 0.5))
        return True

    def snapshot(self, pred: Predicate) -> tuple[list[CachedObject], int, int]:
        """Current objects matching ``pred``, sorted by key, with the revision and the
        cursor that continues exactly after them."""
        if pred.namespace is not None:
            prefix = f"{self._prefix}{pred.namespace}/"
            keys = sorted(k for k in self._objects if k.startswith(prefix))
        else:
            keys = sorted(self._objects)
        matched = [co for k in keys if pred.matches(co := self._objects[k])]
        return matched, self._revision, self._ring.next

    def get(self, key: str) -> CachedObject | None:
        return self._objects.get(key)

    def keys(self) -> Iterable[str]:
        return self._objects.keys()

    def cursor_after(self, revision: int) -> int | None:
        """A cursor delivering every event after ``revision``, or None if the ring no
        longer holds them all (the caller then watches etcd directly)."""
        if revision < self._horizon:
            return None
        return self._ring.first_after(revision)

    def events_from(self, cursor: int, epoch: int) -> tuple[list[CacheEvent], int]:
        """Events from ``cursor`` on, and the cursor after them (does not wait)."""
        if epoch != self._epoch:
            raise CacheResetError
        if cursor < self._ring.oldest:
            raise CursorExpiredError
        end = self._ring.next
        return [self._ring.get(seq) for seq in range(cursor, end)], end

    async def wait_change(self, cursor: int, timeout: float) -> None:
        """Return when events past ``cursor`` exist, the cache changes, or on timeout."""
        if cursor < self._ring.next:
            return
        changed = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), timeout)
