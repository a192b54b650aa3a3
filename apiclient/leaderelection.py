"""Leader election on a ``coordination.k8s.io/v1`` Lease, as client-go does it.

Several copies of a daemon run; one holds the Lease and acts. The holder renews the
Lease every ``retry_period``; the others try to take it every ``retry_period`` and
succeed once it has not been renewed for ``lease_duration`` *as they observed it*
(time is measured on each candidate's own clock from when it last saw the Lease
change, so clock skew between machines does not matter). A holder that cannot renew
within ``renew_deadline`` stops leading. Writes are compare-and-swap on the Lease's
``resourceVersion``, so two candidates never both win.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from apiclient import errors
from apiclient.rest import Client
from apitypes.base import now
from apitypes.coordination import Lease, LeaseSpec
from apitypes.meta import ObjectMeta

log = logging.getLogger(__name__)


@dataclass
class ElectionConfig:
    name: str
    namespace: str = "kube-system"
    identity: str = ""
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    release_on_cancel: bool = True


class LeaderElector:
    """Run ``lead`` while this process holds the Lease.

    ``run()`` returns after leadership is lost (or ``lead`` returns); the usual daemon
    response is to exit and let its supervisor restart it, as Kubernetes' daemons do.
    """

    def __init__(
        self,
        client: Client,
        config: ElectionConfig,
        lead: Callable[[], Coroutine[Any, Any, None]],
        *,
        on_new_leader: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not config.identity:
            raise ValueError("leader election needs an identity")
        if config.renew_deadline >= config.lease_duration:
            raise ValueError("renew_deadline must be shorter than lease_duration")
        self.client = client
        self.config = config
        self._lead = lead
        self._on_new_leader = on_new_leader
        self._clock = clock
        self._observed: Lease | None = None
        self._observed_at = 0.0
        self._last_renew = 0.0
        self.leader: str = ""
        self.is_leader = asyncio.Event()

    async def run(self) -> None:
        await self._acquire()
        leading = asyncio.create_task(self._lead(), name=f"leading-{self.config.name}")
        renewing = asyncio.create_task(self._renew_loop())
        try:
            done, _ = await asyncio.wait({leading, renewing}, return_when=asyncio.FIRST_COMPLETED)
            if renewing in done:
                log.warning("%s: lost the lease; stopping", self.config.identity)
        finally:
            # Also when run() itself is cancelled: a renew loop left behind would take
            # the Lease back right after release() gave it up.
            for task in (leading, renewing):
                task.cancel()
            for task in (leading, renewing):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.shield(task)
            self.is_leader.clear()
            if self.config.release_on_cancel:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self.release())

    async def _acquire(self) -> None:
        while not await self._try_acquire_or_renew():
            await asyncio.sleep(self.config.retry_period)
        log.info(
            "%s: became leader of %s/%s",
            self.config.identity,
            self.config.namespace,
            self.config.name,
        )
        self.is_leader.set()

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.retry_period)
            deadline = self._last_renew + self.config.renew_deadline
            while not await self._try_acquire_or_renew():
                if self._clock() >= deadline:
                    return
                await asyncio.sleep(min(self.config.retry_period, 0.5))

    def _observe(self, lease: Lease) -> None:
        old = self._observed
        changed = (
            old is None
            or old.spec != lease.spec
            or old.metadata.resource_version != lease.metadata.resource_version
        )
        if changed:
            self._observed = lease
            self._observed_at = self._clock()
        holder = (lease.spec.holder_identity if lease.spec else None) or ""
        if holder != self.leader:
            self.leader = holder
            if self._on_new_leader is not None and holder:
                self._on_new_leader(holder)

    async def _try_acquire_or_renew(self) -> bool:
        cfg = self.config
        stamp = now()
        try:
            current = await self.client.get(Lease, cfg.name, cfg.namespace)
        except errors.NotFoundError:
            lease = Lease(
                metadata=ObjectMeta(name=cfg.name, namespace=cfg.namespace),
                spec=LeaseSpec(
                    holder_identity=cfg.identity,
                    lease_duration_seconds=int(cfg.lease_duration),
                    acquire_time=stamp,
                    renew_time=stamp,
                    lease_transitions=0,
                ),
            )
            try:
                created = await self.client.create(lease)
            except errors.ApiError as err:
                log.info("%s: could not create lease: %s", cfg.identity, err.message)
                return False
            self._observe(created)
            self._last_renew = self._clock()
            return True
        except errors.ApiError as err:
            log.info("%s: could not read lease: %s", cfg.identity, err.message)
            return False

        self._observe(current)
        spec = current.spec or LeaseSpec()
        holder = spec.holder_identity or ""
        duration = spec.lease_duration_seconds or cfg.lease_duration
        expired = self._observed_at + duration <= self._clock()
        if holder and holder != cfg.identity and not expired:
            return False
        transitions = spec.lease_transitions or 0
        if holder != cfg.identity:
            transitions += 1
            spec.acquire_time = stamp
        spec.holder_identity = cfg.identity
        spec.lease_duration_seconds = int(cfg.lease_duration)
        spec.renew_time = stamp
        spec.lease_transitions = transitions
        current.spec = spec
        try:
            updated = await self.client.update(current)  # CAS on resourceVersion
        except errors.ApiError as err:
            log.info("%s: could not update lease: %s", cfg.identity, err.message)
            return False
        self._observe(updated)
        self._last_renew = self._clock()
        return True

    async def release(self) -> None:
        """Give the Lease up at once (others need not wait for it to expire)."""
        cfg = self.config
        try:
            current = await self.client.get(Lease, cfg.name, cfg.namespace)
        except errors.ApiError:
            return
        if not current.spec or current.spec.holder_identity != cfg.identity:
            return
        current.spec.holder_identity = None
        current.spec.lease_duration_seconds = 1
        current.spec.renew_time = now()
        with contextlib.suppress(errors.ApiError):
            await self.client.update(current)
            log.info("%s: released %s/%s", cfg.identity, cfg.namespace, cfg.name)
