"""Recording what daemons do as ``Event`` objects, so that people can see it.

``EventRecorder.event(obj, type, reason, message)`` returns at once; a background task
writes. Repeats of the same event (same object, reason, message and source) within
the aggregation window update one Event's ``count`` and ``lastTimestamp`` instead of
creating new ones, as Kubernetes' recorder does. A per-object token bucket keeps a
misbehaving loop from flooding the apiserver (events beyond it are dropped, with a
count in the log).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from apiclient import errors
from apiclient.rest import Client
from apitypes.base import KubeObject, format_time, now
from apitypes.registry import resource

log = logging.getLogger(__name__)

NORMAL = "Normal"
WARNING = "Warning"
_EVENTS = resource("", "events")


@dataclass
class _Seen:
    name: str
    namespace: str
    count: int
    first: str
    last_write: float


class EventRecorder:
    def __init__(
        self,
        client: Client,
        component: str,
        *,
        host: str | None = None,
        aggregation_window: float = 600.0,
        burst: int = 25,
        refill_seconds: float = 300.0,
        cache_size: int = 4096,
    ) -> None:
        self.client = client
        self.component = component
        self.host = host
        self.window = aggregation_window
        self.burst = burst
        self.refill = refill_seconds
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=10_000)
        self._seen: OrderedDict[tuple[str, ...], _Seen] = OrderedDict()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._cache_size = cache_size
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="events")

    async def close(self) -> None:
        """Write what is queued, then stop."""
        if self._task is None:
            return
        await self._queue.put(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._task, 10)
        self._task = None

    def event(self, obj: KubeObject, event_type: str, reason: str, message: str) -> None:
        """Record an event about ``obj`` (does not wait)."""
        meta = obj.metadata  # type: ignore[attr-defined]
        involved = {
            "kind": obj.kind or obj.KIND,
            "apiVersion": obj.api_version or obj.API_VERSION,
            "name": meta.name,
            "namespace": meta.namespace,
            "uid": meta.uid,
            "resourceVersion": meta.resource_version,
        }
        self.event_for(involved, event_type, reason, message)

    def event_for(
        self, involved: dict[str, Any], event_type: str, reason: str, message: str
    ) -> None:
        """Record an event about the object ``involved`` references."""
        if not self._allow(str(involved.get("uid") or involved.get("name"))):
            self.dropped += 1
            return
        item = {"involved": {k: v for k, v in involved.items() if v}, "type": event_type,
                "reason": reason, "message": message[:1024]}  # fmt: skip
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1
        self.start()

    def _allow(self, key: str) -> bool:
        stamp = time.monotonic()
        tokens, last = self._buckets.get(key, (float(self.burst), stamp))
        tokens = min(self.burst, tokens + (stamp - last) * self.burst / self.refill)
        allowed = tokens >= 1
        self._buckets[key] = (tokens - 1 if allowed else tokens, stamp)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self._cache_size:
            self._buckets.popitem(last=False)
        return allowed

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            try:
                await self._write(item)
            except errors.ApiError as err:
                log.info("event %s not written: %s", item["reason"], err.message)
            except Exception:
                log.exception("event %s not written", item["reason"])

    async def _write(self, item: dict[str, Any]) -> None:
        involved = item["involved"]
        namespace = involved.get("namespace") or "default"
        key = (
            namespace, involved.get("kind", ""), involved.get("name", ""),
            involved.get("uid", ""), item["type"], item["reason"], item["message"],
        )  # fmt: skip
        stamp = format_time(now())
        seen = self._seen.get(key)
        if seen is not None and time.monotonic() - seen.last_write < self.window:
            seen.count += 1
            seen.last_write = time.monotonic()
            patch = {"count": seen.count, "lastTimestamp": stamp}
            try:
                await self.client.patch_raw(_EVENTS, seen.name, patch, seen.namespace,
                                            patch_type="merge")  # fmt: skip
                self._seen.move_to_end(key)
                return
            except errors.NotFoundError:
                self._seen.pop(key, None)
        name = f"{involved.get('name', 'unknown')}.{uuid.uuid4().hex[:16]}"
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": involved,
            "reason": item["reason"],
            "message": item["message"],
            "type": item["type"],
            "count": 1,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "source": {"component": self.component, **({"host": self.host} if self.host else {})},
            "reportingComponent": self.component,
            "reportingInstance": self.host or "",
        }
        await self.client.create_raw(_EVENTS, body, namespace)
        self._seen[key] = _Seen(name, namespace, 1, stamp, time.monotonic())
        while len(self._seen) > self._cache_size:
            self._seen.popitem(last=False)
