"""One etcd watch per resource, fanned out to every client watch.

The cache lists a resource once, then follows one etcd watch. It keeps the current
objects (serving ``resourceVersion=0`` lists and the initial state of new watches) and
a window of recent events in a ring, each with a sequence number. A client watch is
only a cursor into that ring: it costs no etcd watch, no copy of the stream, and a
slow client only lags behind. A cursor that the ring has overwritten is closed, and
the client resumes from its last ``resourceVersion``.

History: the one etcd watch starts up to ``capacity`` revisions *before* the list
(or at etcd's compaction point), and the events up to the list's revision fill the
ring without touching the objects. So a client resuming from a version older than
this apiserver's start (after a restart, or from another apiserver) is served from
the ring like any other; only a version older than the whole window is refused, with
410 Expired, as Kubernetes' watch cache refuses it. No client watch opens an etcd
watch of its own.

The objects are also kept as a :class:`Snapshot`, sorted by key and built at most once
per revision: every watch and ``resourceVersion=0`` list starting at that revision
shares it, so a thousand new watches on a large list hold one sorted copy, not a
thousand.

Every event is decoded once; its wire line is serialised once per event type and
shared by every watcher that sees it.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import dataclasses
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
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

_ETCD_BATCH_REVISIONS = 1000
"""etcd sends a watch's backlog at most this many revisions at a time (watchBatchMaxRevs)."""
_HISTORY_QUIET = 1.0
"""Seconds without a backlog batch after which the history is taken as complete."""

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


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The cache's objects at one revision, sorted by key (immutable, so shared)."""

    keys: tuple[str, ...]
    objects: tuple[CachedObject, ...]
    revision: int
    cursor: int
    """The ring cursor that continues exactly after this state."""
    prefix: str

    def select(self, pred: Predicate) -> Iterator[CachedObject]:
        """The objects ``pred`` matches, in key order (a namespace is a key range)."""
        lo, hi = 0, len(self.keys)
        if pred.namespace is not None:
            start = f"{self.prefix}{pred.namespace}/"
            lo = bisect.bisect_left(self.keys, start)
            hi = bisect.bisect_left(self.keys, start[:-1] + "0")  # "0" follows "/"
        objects = self.objects
        for i in range(lo, hi):
            co = objects[i]
            if pred.matches(co):
                yield co


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
        self._snapshot: Snapshot | None = None
        self._revision = 0
        self._changes = 0
        self._horizon = 0  # every event with a revision above this is in the ring
        self._epoch = 0
        self._changed = asyncio.Event()
        self._ready = asyncio.Event()
        self._history = asyncio.Event()  # the ring holds its history (see the docstring)
        self._history_seen = 0.0
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
        self._history.clear()
        self._objects = objects
        self._changes += 1
        self._snapshot = None
        self._revision = listed.revision
        # Until the history is in, only versions from the list on can be served.
        self._horizon = listed.revision
        self._ready.set()
        self._notify()
        # ``capacity`` revisions hold at most ``capacity`` events of this resource.
        start = max(1, listed.revision - self._ring.capacity + 1)
        try:
            await self._follow(start, listed.revision)
        except CompactedError as err:
            if self._history.is_set() or not start < err.compact_revision <= listed.revision:
                raise
            # The history before etcd's compaction point is gone: begin there.
            await self._follow(err.compact_revision, listed.revision)

    async def _follow(self, start: int, listed: int) -> None:
        """Follow one etcd watch from ``start``. Events up to ``listed`` (the objects
        already hold their result) only fill the ring's history; later ones apply.

        When is the history complete? etcd 3.4 answers a progress request at once, ahead
        of events it has not sent, so that cannot say. But etcd sends a watch that starts
        in the past its backlog in batches of at most ``_ETCD_BATCH_REVISIONS``
        revisions, each stamped with etcd's revision when read: a batch with fewer
        revisions than that is the rest of the backlog up to its stamp. Any event after
        ``listed`` also ends it, and a backlog with no events of this resource at all
        sends nothing, so a quiet second ends it too.
        """
        stream = self._storage.watch(self._prefix, start)
        self._stream = stream
        loop = asyncio.get_running_loop()
        ticker = loop.create_task(self._tick(stream))
        horizon = start - 1
        quiet = loop.create_task(self._history_quiet(lambda: horizon))
        try:
            async for batch in stream:
                history = 0
                for ev in batch.events:
                    if ev.revision <= listed:
                        history += 1
                        evicted = self._ring.append(self._codec.event(ev, None))
                        if evicted is not None:
                            horizon = evicted.revision
                        continue
                    if not self._history.is_set():
                        self._history_loaded(horizon)
                    self._apply(ev)
                if history:
                    self._history_seen = loop.time()
                    distinct = len({ev.revision for ev in batch.events})
                    if batch.revision >= listed and distinct < _ETCD_BATCH_REVISIONS:
                        self._history_loaded(horizon)
                if not batch.events:
                    # A progress notification: every event up to its revision was sent.
                    # The header of a response *with* events is etcd's current revision,
                    # which runs ahead of the events while a busy watcher catches up in
                    # fragments: trusting it would let a list claim writes it lacks.
                    self._revision = max(self._revision, batch.revision)
                self._notify()
        finally:
            ticker.cancel()
            quiet.cancel()
            self._stream = None
            await stream.close()

    async def _history_quiet(self, horizon: Callable[[], int]) -> None:
        loop = asyncio.get_running_loop()
        self._history_seen = loop.time()
        while not self._history.is_set():
            await asyncio.sleep(_HISTORY_QUIET)
            if loop.time() - self._history_seen >= _HISTORY_QUIET:
                self._history_loaded(horizon())

    def _history_loaded(self, horizon: int) -> None:
        if not self._history.is_set():
            self._horizon = horizon
            self._history.set()

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
        self._snapshot = None
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

    def snapshot(self) -> Snapshot:
        """The current objects, sorted by key, with the revision and the cursor that
        continues exactly after them; built once per change and shared."""
        snap = self._snapshot
        if snap is not None and snap.revision != self._revision:
            # Only the revision moved (a progress notification): same objects.
            snap = dataclasses.replace(snap, revision=self._revision, cursor=self._ring.next)
            self._snapshot = snap
        if snap is None:
            keys = tuple(sorted(self._objects))
            objects = self._objects
            snap = Snapshot(
                keys=keys,
                objects=tuple(objects[k] for k in keys),
                revision=self._revision,
                cursor=self._ring.next,
                prefix=self._prefix,
            )
            self._snapshot = snap
        return snap

    def get(self, key: str) -> CachedObject | None:
        return self._objects.get(key)

    def keys(self) -> Iterable[str]:
        return self._objects.keys()

    @property
    def horizon(self) -> int:
        """Every event with a revision above this is in the ring."""
        return self._horizon

    async def wait_history(self, timeout: float) -> None:
        """Wait until the ring holds its history (right after a (re-)list it holds only
        what follows the list)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._history.wait(), timeout)

    def cursor_after(self, revision: int) -> int | None:
        """A cursor delivering every event after ``revision``, or None if the ring no
        longer holds them all (the client must re-list: 410 Expired)."""
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
