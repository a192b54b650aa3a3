"""Reading objects from inside the server (authenticators, authorizers, admission):
from the watch cache when it holds them, from etcd when it does not (an object made a
moment ago may not have reached the cache), never through HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from apiserver import errors
from apiserver.registry.store import ResourceStore
from apiserver.watchcache import Predicate


class StoreLookup:
    def __init__(self, stores: Mapping[tuple[str, str], ResourceStore]) -> None:
        self._stores = stores

    def store(self, plural: str, group: str = "") -> ResourceStore:
        return self._stores[(group, plural)]

    async def get(
        self, plural: str, namespace: str | None, name: str, group: str = ""
    ) -> dict[str, Any] | None:
        """The object, None when it does not exist."""
        if not name:
            return None
        store = self._stores[(group, plural)]
        cached = store.cache.get(store.key(namespace, name)) if store.cache.ready else None
        if cached is not None:
            return cached.obj()
        try:
            return await store.get(namespace, name)
        except errors.ApiError as err:
            if err.code == 404:
                return None
            raise

    async def create(
        self, plural: str, namespace: str | None, body: dict[str, Any], group: str = ""
    ) -> dict[str, Any] | None:
        """Create an object as the server itself (no admission); None if it exists."""
        from apiserver.registry.store import WriteOptions

        try:
            return (await self._stores[(group, plural)].create(namespace, body, WriteOptions())).obj
        except errors.ApiError as err:
            if err.code == 409:
                return None
            raise

    async def update_status(
        self, plural: str, namespace: str | None, body: dict[str, Any], group: str = ""
    ) -> dict[str, Any]:
        """Write an object's status as the server itself; ``body``'s resourceVersion is a
        precondition (409 when the object changed meanwhile)."""
        from apiserver.registry.store import WriteOptions

        store = self._stores[(group, plural)]
        name = body["metadata"]["name"]
        result = await store.update(namespace, name, body, WriteOptions(), subresource="status")
        return result.obj

    def changes(self, plural: str, group: str = "") -> int:
        """The change counter of a resource's watch cache (``WatchCache.changes``)."""
        return self._stores[(group, plural)].cache.changes

    def cached_list(
        self, plural: str, namespace: str | None = None, group: str = ""
    ) -> list[dict[str, Any]]:
        """Every object of a resource (in ``namespace``) the watch cache holds now."""
        store = self._stores[(group, plural)]
        if not store.cache.ready:
            return []
        found = store.cache.snapshot().select(Predicate(namespace=namespace))
        return [orjson.loads(co.raw) for co in found]
