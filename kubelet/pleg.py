"""PLEG, the pod lifecycle event generator: relist the runtime, report what changed.

Every ``period`` seconds PLEG lists every container of the node and compares each
pod's ids and states with the previous listing. A pod whose containers changed by
any means (a process exited, someone ran ``docker kill`` or ``docker rm``, the Docker
daemon restarted) is handed to ``on_change``, which wakes that pod's sync. Pods the
runtime holds but the kubelet does not know (orphans) are reported the same way, so
the sync removes them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from kubelet.runtime import Runtime, RuntimeUnavailableError

log = logging.getLogger(__name__)


class Pleg:
    def __init__(
        self,
        runtime: Runtime,
        on_change: Callable[[str], None],
        *,
        period: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.runtime = runtime
        self.on_change = on_change
        self.period = period
        self.clock = clock
        self._last: dict[str, tuple[object, ...]] = {}
        self.last_relist: float | None = None
        self.runtime_uids: set[str] = set()

    def healthy(self, threshold: float = 180.0) -> bool:
        """Relisting works (Kubernetes' "PLEG is not healthy" after 3 minutes)."""
        return self.last_relist is not None and self.clock() - self.last_relist < threshold

    async def relist(self) -> set[str]:
        """One relist; returns the uids reported as changed."""
        pods = await self.runtime.list_pods()
        current = {p.uid: p.fingerprint() for p in pods}
        changed = {uid for uid, fp in current.items() if self._last.get(uid) != fp}
        changed |= {uid for uid in self._last if uid not in current}
        self._last = current
        self.runtime_uids = set(current)
        self.last_relist = self.clock()
        for uid in changed:
            self.on_change(uid)
        return changed

    async def run(self) -> None:
        failing = False
        while True:
            try:
                await self.relist()
                if failing:
                    log.info("the container runtime answers again")
                failing = False
            except RuntimeUnavailableError as err:
                if not failing:
                    log.warning("PLEG relist failed: %s", err)
                failing = True
            except Exception:
                log.exception("PLEG relist failed")
            await asyncio.sleep(self.period)
