"""The watch cache's revision: what it claims to hold must be what it holds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson

from apiserver.storage.interface import ListResult, StorageEvent, WatchBatch
from apiserver.watchcache import Codec, Predicate, WatchCache

PREFIX = "/registry/configmaps/"


class ScriptedStream:
    """An etcd watch that delivers the given responses, then waits."""

    def __init__(self, batches: list[WatchBatch]) -> None:
        self.batches = batches

    async def request_progress(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def __aiter__(self) -> AsyncIterator[WatchBatch]:
        return self._gen()

    async def _gen(self) -> AsyncIterator[WatchBatch]:
        for batch in self.batches:
            yield batch
        await asyncio.Event().wait()


class ScriptedStorage:
    def __init__(self, batches: list[WatchBatch]) -> None:
        self.stream = ScriptedStream(batches)

    async def list_prefix(self, prefix: str) -> ListResult:
        return ListResult(items=[], revision=10, more=False, count=0)

    def watch(self, prefix: str, start: int) -> ScriptedStream:
        return self.stream


def put(name: str, revision: int) -> StorageEvent:
    body = {"metadata": {"name": name, "namespace": "default"}}
    return StorageEvent("PUT", PREFIX + "default/" + name, orjson.dumps(body), None, revision, True)


async def settle(cache: WatchCache, events: int) -> None:
    cache.start()
    await cache.wait_ready(5)
    for _ in range(1000):
        if len(list(cache.keys())) >= events:
            break
        await asyncio.sleep(0)  # let the cache's task consume the scripted responses


def _fields(obj: dict[str, Any]) -> dict[str, str]:
    return {"metadata.name": obj["metadata"]["name"]}


async def test_a_fragment_header_does_not_advance_the_revision_past_its_events() -> None:
    # etcd sends a busy watcher its backlog in fragments, each stamped with the store's
    # current revision (here 20) while events up to 20 are still to come.
    storage = ScriptedStorage([WatchBatch([put("a", 11), put("b", 12)], revision=20)])
    cache = WatchCache(storage, PREFIX, Codec(_fields))  # type: ignore[arg-type]
    try:
        await settle(cache, 2)
        assert sorted(cache.keys()) == [PREFIX + "default/a", PREFIX + "default/b"]
        assert cache.revision == 12
    finally:
        await cache.stop()


async def test_a_progress_notification_advances_the_revision() -> None:
    storage = ScriptedStorage(
        [WatchBatch([put("a", 11)], revision=15), WatchBatch([], revision=15)]
    )
    cache = WatchCache(storage, PREFIX, Codec(_fields))  # type: ignore[arg-type]
    try:
        await settle(cache, 1)
        for _ in range(1000):
            if cache.revision == 15:
                break
            await asyncio.sleep(0)
        assert cache.revision == 15
    finally:
        await cache.stop()


class HistoryStorage(ScriptedStorage):
    """A store listed at revision 10 whose watch, from ``start``, first replays what
    happened before the list (revisions 4 and 7), then continues."""

    def __init__(self, batches: list[WatchBatch]) -> None:
        super().__init__(batches)
        self.starts: list[int] = []

    def watch(self, prefix: str, start: int) -> ScriptedStream:
        self.starts.append(start)
        return self.stream


async def wait_for(condition: Any) -> None:
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition never held")


async def test_the_ring_holds_history_from_before_the_list() -> None:
    backlog = WatchBatch([put("old", 4), put("older", 7)], revision=10)
    storage = HistoryStorage([backlog, WatchBatch([put("new", 12)], revision=12)])
    cache = WatchCache(storage, PREFIX, Codec(_fields), capacity=100)  # type: ignore[arg-type]
    try:
        await cache.wait_ready(5)
        await cache.wait_history(5)
        # One etcd watch, started a ring's worth of revisions before the list.
        assert storage.starts == [1]
        await wait_for(lambda: cache.revision == 12)
        # History events only fill the ring: the objects are what the list said, plus
        # what came after it.
        assert list(cache.keys()) == [PREFIX + "default/new"]
        assert cache.horizon == 0
        cursor = cache.cursor_after(5)
        assert cursor is not None
        events, _ = cache.events_from(cursor, cache.epoch)
        assert [e.revision for e in events] == [7, 12]
    finally:
        await cache.stop()


async def test_versions_older_than_the_ring_are_refused() -> None:
    backlog = WatchBatch([put(f"o{i}", i) for i in range(2, 9)], revision=10)
    storage = HistoryStorage([backlog])
    cache = WatchCache(storage, PREFIX, Codec(_fields), capacity=3)  # type: ignore[arg-type]
    try:
        await cache.wait_ready(5)
        await cache.wait_history(5)
        assert storage.starts == [8]  # 10 - 3 + 1: three revisions hold three events
        # The scripted backlog holds more than the ring: the oldest were let go.
        assert cache.horizon == 5
        assert cache.cursor_after(4) is None
        assert cache.cursor_after(5) is not None
    finally:
        await cache.stop()


async def test_an_empty_history_completes_after_a_quiet_moment() -> None:
    storage = HistoryStorage([])
    cache = WatchCache(storage, PREFIX, Codec(_fields))  # type: ignore[arg-type]
    try:
        await cache.wait_ready(5)
        await cache.wait_history(5)
        assert cache.horizon == 0 and cache.cursor_after(3) is not None
    finally:
        await cache.stop()


async def test_watches_share_one_snapshot_per_revision() -> None:
    storage = ScriptedStorage([WatchBatch([put("a", 11), put("b", 12)], revision=12)])
    cache = WatchCache(storage, PREFIX, Codec(_fields))  # type: ignore[arg-type]
    try:
        await settle(cache, 2)
        first, second = cache.snapshot(), cache.snapshot()
        assert first is second  # no copy per watch
        assert first.keys == (PREFIX + "default/a", PREFIX + "default/b")
        other_namespace = Predicate(namespace="other")
        assert list(first.select(other_namespace)) == []
        assert len(list(first.select(Predicate(namespace="default")))) == 2
    finally:
        await cache.stop()
