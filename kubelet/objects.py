"""ConfigMaps and Secrets pods refer to, read on demand and reused for a while.

The kubelet does not watch every ConfigMap and Secret in the cluster; it reads the
ones its pods name, and reuses each answer for ``ttl`` seconds (Kubernetes' "Cache"
strategy). Updates to a volume therefore show up within ``ttl`` plus the pod's next
sync (``--sync-frequency``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from apiclient import Client, errors
from apitypes.base import KubeObject

T = TypeVar("T", bound=KubeObject)


class ObjectCache:
    def __init__(self, client: Client, ttl: float, clock: Callable[[], float] = time.monotonic):
        self.client = client
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[tuple[str, str, str], tuple[float, KubeObject | None]] = {}

    async def get(self, model: type[T], namespace: str, name: str) -> T | None:
        """The object, or None if it does not exist (both answers are cached)."""
        key = (model.KIND, namespace, name)
        entry = self._entries.get(key)
        if entry is not None and self.clock() - entry[0] < self.ttl:
            return entry[1]  # type: ignore[return-value]
        try:
            obj: T | None = await self.client.get(model, name, namespace)
        except errors.NotFoundError:
            obj = None
        self._entries[key] = (self.clock(), obj)
        return obj

    def invalidate(self, namespace: str) -> None:
        for key in [k for k in self._entries if k[1] == namespace]:
            del self._entries[key]
