"""The watch cache's revision: what it claims to hold must be what it holds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson

from apiserver.storage.interface import ListResult, StorageEvent, WatchBatch
from apiserver.watchcache import Codec, WatchCache

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
