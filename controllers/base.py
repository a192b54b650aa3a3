"""What every controller is made of: a context, a work queue, and ``reconcile(key)``.

A controller registers informers on the shared ``InformerFactory`` and handlers that
only turn events into keys on its ``WorkQueue`` (and note observations in its
expectations). Workers call ``reconcile(key)``, which reads the informer caches,
acts through the API, writes status, and returns None (done), a delay in seconds (look
again then), or raises (retried with backoff).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from apiclient import Client, EventRecorder, InformerFactory, WorkQueue, object_key, run_workers
from apitypes.base import KubeObject

log = logging.getLogger(__name__)


class Clock:
    """Wall time (for comparing with API timestamps) and monotonic time (for intervals).

    ``offset`` shifts the wall clock; tests and the CronJob test hook use it.
    """

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def now(self) -> datetime:
        stamp = datetime.now(UTC)
        return stamp + timedelta(seconds=self.offset) if self.offset else stamp

    def monotonic(self) -> float:
        return time.monotonic()


@dataclass
class Options:
    """Settings of the controllers (the command-line flags, named as Kubernetes names them)."""

    concurrent_replicaset_syncs: int = 5
    concurrent_rc_syncs: int = 5
    concurrent_deployment_syncs: int = 5
    concurrent_daemonset_syncs: int = 2
    concurrent_statefulset_syncs: int = 5
    concurrent_job_syncs: int = 5
    concurrent_cron_job_syncs: int = 5
    concurrent_gc_syncs: int = 20
    concurrent_namespace_syncs: int = 10
    concurrent_endpoint_syncs: int = 5
    concurrent_service_endpoint_syncs: int = 5
    max_endpoints_per_slice: int = 100
    load_balancer_ip_pool: str = "10.122.0.0/24"
    concurrent_ttl_after_finished_syncs: int = 5
    concurrent_disruption_syncs: int = 5
    node_monitor_period: float = 5.0
    node_monitor_grace_period: float = 40.0
    node_startup_grace_period: float = 60.0
    default_not_ready_toleration_seconds: int = 300
    default_unreachable_toleration_seconds: int = 300
    terminated_pod_gc_threshold: int = 12500
    pod_gc_period: float = 20.0
    orphan_pod_quarantine: float = 40.0
    job_backoff_base: float = 10.0
    job_backoff_max: float = 360.0
    cronjob_clock_offset: float = 0.0
    burst_replicas: int = 500
    allocate_node_cidrs: bool = False
    cluster_cidr: str = ""
    node_cidr_mask_size: int = 24
    node_cidr_mask_size_ipv6: int = 64
    service_cluster_ip_range: str = ""
    resource_quota_sync_period: float = 300.0
    """``--resource-quota-sync-period``: every quota is recounted at least this often."""
    root_ca_file: str = ""
    """``--root-ca-file``: the CA published as ``kube-root-ca.crt`` in every namespace."""
    cluster_signing_cert_file: str = ""
    """``--cluster-signing-cert-file``: the CA certificate the CSR signer signs with."""
    cluster_signing_key_file: str = ""
    """``--cluster-signing-key-file``: that CA's private key."""
    cluster_signing_duration: float = 365 * 24 * 3600.0
    """``--cluster-signing-duration``: the longest life of a signed certificate (1y)."""
    approve_kubelet_serving: bool = False
    """``--approve-kubelet-serving-certificates``: the CSR approver also approves a node's
    own ``kubernetes.io/kubelet-serving`` requests whose names are that Node's addresses
    (Kubernetes leaves them to an external approver)."""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ControllerContext:
    client: Client
    factory: InformerFactory
    recorder: EventRecorder
    options: Options
    clock: Clock


class Controller:
    """Base of every controller: a named work queue over string keys.

    A subclass declares what the controller-manager needs to know about it: its
    ``name`` (``--controllers``), its ``aliases``, and ``workers_option``, the
    ``Options`` field (a ``--concurrent-*-syncs`` flag) that sets how many keys it
    reconciles at once (one when None).
    """

    name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    workers_option: ClassVar[str | None] = None
    service_account: ClassVar[str] = ""
    """Its service account in kube-system (Kubernetes' name, bound to
    ``system:controller:<name>``): with ``--use-service-account-credentials`` the
    controller's writes are made as it."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        option = cls.workers_option
        if option is not None and option not in {f.name for f in fields(Options)}:
            raise TypeError(f"{cls.__name__}.workers_option: Options has no field {option!r}")

    @classmethod
    def workers_for(cls, options: Options) -> int:
        """How many workers ``options`` give this controller."""
        return int(getattr(options, cls.workers_option)) if cls.workers_option else 1

    def __init__(self, ctx: ControllerContext, workers: int = 1) -> None:
        self.ctx = ctx
        self.client = ctx.client
        self.factory = ctx.factory
        self.recorder = ctx.recorder
        self.options = ctx.options
        self.clock = ctx.clock
        self.workers = max(1, workers)
        self.queue: WorkQueue[str] = WorkQueue(name=self.name)
        # Objects this controller wrote, until its cache shows them (read your writes).
        self._written: dict[str, Any] = {}

    async def reconcile(self, key: str) -> float | None:
        raise NotImplementedError

    def loops(self) -> list[Coroutine[Any, Any, None]]:
        """Background loops besides the workers (periodic scans); none by default."""
        return []

    async def run(self) -> None:
        """Run the workers and loops until cancelled."""
        tasks = [
            asyncio.create_task(run_workers(self.queue, self.reconcile, self.workers)),
            *(asyncio.create_task(loop) for loop in self.loops()),
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            await self.queue.shut_down()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    # --- read your writes ---------------------------------------------------------------

    def fresh(self, obj: Any) -> Any:
        """``obj`` from the cache, or the copy this controller last wrote if that is newer.

        A controller's own writes reach its cache a little later; deciding from the
        older copy could undo them (a counter written back to an older value).
        """
        uid = obj.metadata.uid or ""
        mine = self._written.get(uid)
        if mine is None:
            return obj
        if int(mine.metadata.resource_version or 0) > int(obj.metadata.resource_version or 0):
            return mine
        del self._written[uid]
        return obj

    def remember(self, obj: Any) -> Any:
        """Note ``obj`` (as the apiserver returned it) as this controller's latest write."""
        self._written[obj.metadata.uid or ""] = obj
        if len(self._written) > 10_000:
            self._written.clear()
        return obj

    # --- helpers for handlers -------------------------------------------------------

    def enqueue(self, obj: KubeObject) -> None:
        self.queue.add(object_key(obj))

    def enqueue_after(self, obj: KubeObject, delay: float) -> None:
        self.queue.add_after(object_key(obj), delay)

    async def every(self, period: float, step: Callable[[], Awaitable[float | None]]) -> None:
        """Call ``step`` every ``period`` seconds (or after the delay it returns)."""
        while True:
            delay: float | None = period
            try:
                delay = await step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: periodic step failed", self.name)
            await asyncio.sleep(period if delay is None else max(delay, 0.01))
