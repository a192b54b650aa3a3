"""Informers: list, then watch, into a local indexed cache; relist when needed.

An ``Informer`` keeps ``store`` equal to the apiserver's view of one resource (one
namespace, one selector) and tells handlers about every change. It lists, then
watches from the list's ``resourceVersion``; a broken stream or a restarted apiserver
is resumed from the last version seen, so no change is lost; a ``410 Gone`` (the
version is compacted away) triggers a relist, and the relist delivers only the
differences: adds, updates and deletes against what the cache already holds.

Relisting lives here, once, so that no caller ever has to recover by hand.

Handlers are plain functions and should only enqueue keys (see ``workqueue``); they
run on the event loop, in order, and an exception in one is logged, not fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from apiclient import errors
from apiclient.rest import Client
from apitypes.base import KubeObject
from apitypes.registry import by_model

log = logging.getLogger(__name__)

T = TypeVar("T", bound=KubeObject)

IndexFunc = Callable[[Any], Iterable[str]]


def object_key(obj: KubeObject) -> str:
    """``namespace/name``, or ``name`` for cluster-scoped objects (client-go's key)."""
    meta = obj.metadata  # type: ignore[attr-defined]
    return f"{meta.namespace}/{meta.name}" if meta.namespace else str(meta.name)


def split_key(key: str) -> tuple[str | None, str]:
    namespace, _, name = key.rpartition("/")
    return (namespace or None), name


def index_by_namespace(obj: Any) -> list[str]:
    return [obj.metadata.namespace or ""]


def index_by_node_name(obj: Any) -> list[str]:
    """Pods by ``spec.nodeName`` ("" for unscheduled pods)."""
    spec = getattr(obj, "spec", None)
    return [getattr(spec, "node_name", None) or ""]


def index_by_owner_uid(obj: Any) -> list[str]:
    return [ref.uid for ref in obj.metadata.owner_references]


def index_by_controller_uid(obj: Any) -> list[str]:
    ref = obj.metadata.controller_ref()
    return [ref.uid] if ref is not None else []


class Store(Generic[T]):
    """The informer's cache: objects by key, plus named indexes."""

    def __init__(self, indexers: dict[str, IndexFunc] | None = None) -> None:
        self._items: dict[str, T] = {}
        self._indexers: dict[str, IndexFunc] = {"namespace": index_by_namespace}
        self._indexers.update(indexers or {})
        self._indexes: dict[str, dict[str, set[str]]] = {name: {} for name in self._indexers}

    def add_indexers(self, indexers: dict[str, IndexFunc]) -> None:
        for name, func in indexers.items():
            if name in self._indexers:
                continue
            self._indexers[name] = func
            index: dict[str, set[str]] = {}
            for key, obj in self._items.items():
                for value in func(obj):
                    index.setdefault(value, set()).add(key)
            self._indexes[name] = index

    def get(self, key: str) -> T | None:
        return self._items.get(key)

    def get_by_name(self, namespace: str | None, name: str) -> T | None:
        return self._items.get(f"{namespace}/{name}" if namespace else name)

    def objects(self) -> list[T]:
        return list(self._items.values())

    def keys(self) -> list[str]:
        return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def by_index(self, index: str, value: str) -> list[T]:
        keys = self._indexes[index].get(value, ())
        return [self._items[k] for k in keys]

    def index_values(self, index: str) -> list[str]:
        return [v for v, keys in self._indexes[index].items() if keys]

    def put(self, key: str, obj: T) -> T | None:
        old = self._items.get(key)
        if old is not None:
            self._unindex(key, old)
        self._items[key] = obj
        for name, func in self._indexers.items():
            index = self._indexes[name]
            for value in func(obj):
                index.setdefault(value, set()).add(key)
        return old

    def remove(self, key: str) -> T | None:
        old = self._items.pop(key, None)
        if old is not None:
            self._unindex(key, old)
        return old

    def _unindex(self, key: str, obj: T) -> None:
        for name, func in self._indexers.items():
            index = self._indexes[name]
            for value in func(obj):
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]


@dataclass
class Handler(Generic[T]):
    on_add: Callable[[T], None] | None = None
    on_update: Callable[[T, T], None] | None = None
    on_delete: Callable[[T], None] | None = None


class Informer(Generic[T]):
    """Keeps ``store`` in step with one resource. Run it with ``start()`` or ``run()``."""

    def __init__(
        self,
        client: Client,
        model: type[T],
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        resync_period: float = 0.0,
        indexers: dict[str, IndexFunc] | None = None,
        watch_timeout: tuple[int, int] = (300, 600),
    ) -> None:
        self.client = client
        self.model = model
        self.resource = by_model(model)
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.resync_period = resync_period
        self.store: Store[T] = Store(indexers)
        self.synced = asyncio.Event()
        self.last_resource_version = ""
        self.relists = 0
        self._handlers: list[Handler[T]] = []
        self._watch_timeout = watch_timeout
        self._task: asyncio.Task[None] | None = None

    # --- handlers -----------------------------------------------------------------

    def add_handler(
        self,
        on_add: Callable[[T], None] | None = None,
        on_update: Callable[[T, T], None] | None = None,
        on_delete: Callable[[T], None] | None = None,
    ) -> None:
        """Register handlers; a handler added after the first sync gets an add for every
        object already cached, so it starts from the same state as earlier ones."""
        handler = Handler(on_add, on_update, on_delete)
        self._handlers.append(handler)
        if self.synced.is_set() and on_add is not None:
            for obj in self.store.objects():
                self._call(on_add, obj)

    def _call(self, func: Callable[..., None] | None, *args: Any) -> None:
        if func is None:
            return
        try:
            func(*args)
        except Exception:
            log.exception("%s informer handler failed", self.resource.plural)

    def _emit_add(self, obj: T) -> None:
        for h in self._handlers:
            self._call(h.on_add, obj)

    def _emit_update(self, old: T, new: T) -> None:
        for h in self._handlers:
            self._call(h.on_update, old, new)

    def _emit_delete(self, obj: T) -> None:
        for h in self._handlers:
            self._call(h.on_delete, obj)

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self.run(), name=f"informer-{self.resource.plural}"
            )
        return self._task

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def wait_synced(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self.synced.wait(), timeout)

    async def run(self) -> None:
        """List and watch until cancelled."""
        resync = None
        if self.resync_period > 0:
            resync = asyncio.get_running_loop().create_task(self._resync_loop())
        backoff = _Backoff()
        try:
            while True:
                try:
                    await self._list()
                    backoff.reset()
                    await self._watch_until_gone(backoff)
                    self.relists += 1
                except asyncio.CancelledError:
                    raise
                except errors.ApiError as err:
                    delay = backoff.next()
                    log.warning(
                        "%s informer: list failed (%s); retrying in %.1fs",
                        self.resource.plural, err.message, delay,
                    )  # fmt: skip
                    await asyncio.sleep(delay)
                except Exception:
                    delay = backoff.next()
                    log.exception(
                        "%s informer failed; relisting in %.1fs", self.resource.plural, delay
                    )
                    await asyncio.sleep(delay)
        finally:
            if resync is not None:
                resync.cancel()

    async def _list(self) -> None:
        body = await self.client.list_raw(
            self.resource,
            self.namespace,
            all_namespaces=self.namespace is None,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
        )
        items = [self.model.model_validate(raw) for raw in body.get("items") or []]
        self._replace(items)
        self.last_resource_version = (body.get("metadata") or {}).get("resourceVersion", "")
        self.synced.set()

    def _replace(self, items: list[T]) -> None:
        """Make the store hold exactly ``items``, telling handlers only what changed."""
        fresh = {object_key(obj): obj for obj in items}
        for key in list(self.store.keys()):
            if key not in fresh:
                gone = self.store.remove(key)
                if gone is not None:
                    self._emit_delete(gone)
        for key, obj in fresh.items():
            old = self.store.put(key, obj)
            if old is None:
                self._emit_add(obj)
            elif old.metadata.resource_version != obj.metadata.resource_version:  # type: ignore[attr-defined]
                self._emit_update(old, obj)

    async def _watch_until_gone(self, backoff: _Backoff) -> None:
        """Watch from the last version; reconnect on breaks; return on 410 (relist)."""
        while True:
            timeout = random.randint(*self._watch_timeout)
            try:
                async for event in self.client.watch_raw(
                    self.resource,
                    self.namespace,
                    all_namespaces=self.namespace is None,
                    resource_version=self.last_resource_version,
                    label_selector=self.label_selector,
                    field_selector=self.field_selector,
                    timeout_seconds=timeout,
                    allow_bookmarks=True,
                ):
                    self._apply(event)
                    backoff.reset()
            except errors.GoneError:
                log.info("%s informer: version %s is gone; relisting",
                         self.resource.plural, self.last_resource_version)  # fmt: skip
                return
            except errors.ApiError as err:
                # A 429 (too many watches) says when to come back; never sooner.
                delay = max(backoff.next(), float(err.retry_after or 0))
                log.info("%s informer: watch ended (%s); resuming in %.1fs",
                         self.resource.plural, err.message, delay)  # fmt: skip
                await asyncio.sleep(delay)

    def _apply(self, event: dict[str, Any]) -> None:
        raw = event.get("object") or {}
        rv = (raw.get("metadata") or {}).get("resourceVersion")
        kind = event.get("type")
        if kind == "BOOKMARK":
            if rv:
                self.last_resource_version = rv
            return
        obj = self.model.model_validate(raw)
        key = object_key(obj)
        if kind == "DELETED":
            self.store.remove(key)
            self._emit_delete(obj)
        else:
            old = self.store.put(key, obj)
            if old is None:
                self._emit_add(obj)
            else:
                self._emit_update(old, obj)
        if rv:
            self.last_resource_version = rv

    async def _resync_loop(self) -> None:
        # A periodic resync re-delivers every cached object as an update, so that
        # level-triggered controllers revisit everything even without changes.
        while True:
            await asyncio.sleep(self.resync_period)
            if self.synced.is_set():
                for obj in self.store.objects():
                    self._emit_update(obj, obj)


class _Backoff:
    """Exponential backoff with jitter, 0.2 s doubling to 30 s."""

    def __init__(self, base: float = 0.2, cap: float = 30.0) -> None:
        self._base = base
        self._cap = cap
        self._current = base

    def next(self) -> float:
        delay = self._current * (0.5 + random.random())
        self._current = min(self._current * 2, self._cap)
        return min(delay, self._cap)

    def reset(self) -> None:
        self._current = self._base


class InformerFactory:
    """Shares one informer per (kind, namespace, selectors) among a daemon's controllers."""

    def __init__(self, client: Client, *, resync_period: float = 0.0) -> None:
        self.client = client
        self.resync_period = resync_period
        self._informers: dict[tuple[Any, ...], Informer[Any]] = {}

    def informer(
        self,
        model: type[T],
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        indexers: dict[str, IndexFunc] | None = None,
    ) -> Informer[T]:
        key: tuple[Any, ...] = (model, namespace, label_selector, field_selector)
        informer = self._informers.get(key)
        if informer is None:
            informer = Informer(
                self.client,
                model,
                namespace=namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                resync_period=self.resync_period,
                indexers=indexers,
            )
            self._informers[key] = informer
        elif indexers:
            informer.store.add_indexers(indexers)
        return informer

    def start(self) -> None:
        for informer in self._informers.values():
            informer.start()

    async def wait_for_sync(self, timeout: float | None = None) -> None:
        await asyncio.gather(*(i.wait_synced(timeout) for i in self._informers.values()))

    async def stop(self) -> None:
        await asyncio.gather(*(i.stop() for i in self._informers.values()))
