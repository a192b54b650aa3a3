"""The proxier: informers in, one sync at a time out to the mode's backend.

Handlers only note which Service changed (``pending``) and ask the runner for a sync.
A sync recomputes the ``ServicePortState`` s of the pending Services (ports from the
Service, endpoints merged from its EndpointSlices), keeps those that really differ
from what was last written, and hands them to the backend as a partial sync. Every
``--sync-period``, and after a failed write, the sync is a repair: the backend reads
the kernel's state back and rewrites whatever drifted from what it should be. The first
sync (and one after two failed writes in a row) rewrites everything (``_kind``).

Nodes count as local when they are this node (``--hostname-override``) or when their
InternalIP is an address of this host: on ``navarch up`` all kubelets share the
host's network namespace and one kube-proxy serves them all, so all their endpoints
are local for ``externalTrafficPolicy``/``internalTrafficPolicy: Local``.

With an ``Announcer`` (``--lb-announce-interface``), every sync also holds the LB IPs
this node owns on that interface (``announce.py``), and a Node's readiness changing
asks for a sync (failover).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apiclient import InformerFactory, object_key
from apitypes.core import Node, Service
from apitypes.discovery import EndpointSlice
from kubeproxy import metrics
from kubeproxy.announce import Announcer, eligible_nodes, owned
from kubeproxy.backend import Backend, SyncKind
from kubeproxy.command import CommandError
from kubeproxy.netif import DummyInterface, local_addresses
from kubeproxy.runner import BoundedFrequencyRunner
from kubeproxy.server import HealthState
from kubeproxy.servicemap import (
    TRIGGER_TIME,
    EndpointSliceCache,
    ServicePortState,
    parse_time,
    service_ports,
    service_state,
)

log = logging.getLogger(__name__)

PROXY_NAME_LABEL = "service.kubernetes.io/service-proxy-name"
HEADLESS_LABEL = "service.kubernetes.io/headless"


@dataclass
class ProxyOptions:
    node_name: str
    sync_period: float = 30.0
    min_sync_period: float = 1.0
    burst_syncs: int = 2


class Proxier:
    def __init__(
        self,
        factory: InformerFactory,
        backend: Backend,
        options: ProxyOptions,
        *,
        dummy: DummyInterface | None = None,
        announcer: Announcer | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.backend = backend
        self.options = options
        self.dummy = dummy
        self.announcer = announcer
        self.eligible: set[str] = set()
        """Nodes that may announce LB IPs (``announce.eligible_nodes``)."""
        self.clock = clock
        self.wall = wall
        self.services = factory.informer(Service, label_selector=f"!{PROXY_NAME_LABEL}")
        self.slices = factory.informer(
            EndpointSlice, label_selector=f"!{PROXY_NAME_LABEL},!{HEADLESS_LABEL}"
        )
        self.nodes = factory.informer(Node)
        self.cache = EndpointSliceCache(is_local=self.is_local)
        self.states: dict[str, tuple[ServicePortState, ...]] = {}
        self.pending: set[str] = set()
        self.recompute_all = True
        self.last_full: float | None = None
        """When the last repair or rewrite started (None: none yet)."""
        self.failures = 0
        """Failed writes in a row."""
        self.unsynced: set[str] = set()
        """Services the last (failed) write was to write."""
        self.host_addresses: set[str] = set()
        self.local_nodes: set[str] = {options.node_name}
        self.health = HealthState(2 * options.sync_period, clock)
        self.runner = BoundedFrequencyRunner(
            self.sync,
            min_interval=options.min_sync_period,
            max_interval=options.sync_period,
            burst=options.burst_syncs,
            clock=clock,
        )
        self.syncs = 0
        # Service key -> the oldest trigger time of slice changes not yet synced.
        self.triggers: dict[str, datetime] = {}
        self.services.add_handler(
            self._service_changed, self._service_updated, self._service_changed
        )
        self.slices.add_handler(self._slice_changed, self._slice_updated, self._slice_deleted)
        self.nodes.add_handler(
            self._node_changed, lambda _o, n: self._node_changed(n), self._node_changed
        )

    # --- handlers --------------------------------------------------------------------------

    def _queue(self, key: str) -> None:
        self.pending.add(key)
        self.health.queued()
        metrics.LAST_QUEUED.set(self.wall())
        self.runner.run()

    def _service_changed(self, svc: Service) -> None:
        self._queue(object_key(svc))

    def _service_updated(self, old: Service, new: Service) -> None:
        if old.metadata.resource_version != new.metadata.resource_version:
            self._queue(object_key(new))

    def _slice_changed(self, eps: EndpointSlice) -> None:
        key = self.cache.update(eps)
        if key is None:
            return
        trigger = parse_time(eps.metadata.annotations.get(TRIGGER_TIME))
        if trigger is not None and (key not in self.triggers or trigger < self.triggers[key]):
            self.triggers[key] = trigger
        self._queue(key)

    def _slice_updated(self, old: EndpointSlice, new: EndpointSlice) -> None:
        if old.metadata.resource_version == new.metadata.resource_version:
            return
        if old.service_name() != new.service_name():
            self._slice_deleted(old)
        self._slice_changed(new)

    def _slice_deleted(self, eps: EndpointSlice) -> None:
        key = self.cache.delete(eps)
        if key is not None:
            self._queue(key)

    def _node_changed(self, _node: Node) -> None:
        local = self._local_nodes()
        if local != self.local_nodes:
            self.local_nodes = local
            self.recompute_all = True
            self.health.queued()
            self.runner.run()
        if self.announcer is not None:
            eligible = eligible_nodes(self.nodes.store.objects())
            if eligible != self.eligible:
                # Who announces which LB IP may change (a node turned NotReady: failover).
                self.eligible = eligible
                self.runner.run()

    def _local_nodes(self) -> set[str]:
        local = {self.options.node_name}
        for node in self.nodes.store.objects():
            addresses = node.status.addresses if node.status else []
            if any(a.type == "InternalIP" and a.address in self.host_addresses for a in addresses):
                local.add(node.metadata.name or "")
        return local

    def is_local(self, node_name: str) -> bool:
        return node_name in self.local_nodes

    # --- sync ------------------------------------------------------------------------------

    def _recompute(self, keys: set[str]) -> set[str]:
        """New states for ``keys``; returns those that differ from the last ones."""
        changed: set[str] = set()
        for key in keys:
            svc = self.services.store.get(key)
            ports = service_ports(svc) if svc is not None else []
            state = service_state(ports, self.cache.endpoints(key)) if ports else ()
            if state != self.states.get(key, ()):
                changed.add(key)
            if state:
                self.states[key] = state
            else:
                self.states.pop(key, None)
        return changed

    def _kind(self, now: float) -> SyncKind:
        """``rewrite`` at the start and after a write failed twice running; ``repair``
        every ``--sync-period`` and after a failed write; ``partial`` otherwise. A
        repair reads the kernel's whole state back, so when changes wait as it comes
        due they go first in a partial sync and the repair follows with the next sync
        (soon, and at most a period late)."""
        if self.last_full is None or self.failures >= 2:
            return "rewrite"
        if self.failures:
            return "repair"
        since = now - self.last_full
        period = self.options.sync_period
        if since < period:
            return "partial"
        if self.pending and since < 2 * period:
            self.runner.run()
            return "partial"
        return "repair"

    async def sync(self) -> None:
        """One sync: one write of the backend's. On failure it raises, and the next sync
        is a repair (a rewrite after a second failure) that writes again every Service
        the failed one was to write."""
        start = self.clock()
        kind = self._kind(start)
        pending, self.pending = self.pending, set()
        if kind != "partial":
            self.host_addresses = await local_addresses()
            local = self._local_nodes()
            if local != self.local_nodes:
                self.local_nodes, self.recompute_all = local, True
        keys = pending
        if self.recompute_all:
            # Endpoint locality (or everything, at the start) may have changed.
            keys = set(self.states) | set(self.services.store.keys())
        changed = self._recompute(keys) | self.unsynced
        if self.announcer is not None:
            await self._announce()
        if kind == "partial" and not changed:
            self.health.updated()
            return
        try:
            if self.dummy is not None:
                await self.dummy.ensure(self.backend.local_addresses(self.states))
            result = await self.backend.sync(self.states, changed, kind)
        except Exception:
            metrics.SYNC_ERRORS.inc()
            self.failures += 1
            # self.states already holds what was to be written: the next sync writes
            # these Services again, whatever the kernel got of this write.
            self.unsynced = changed
            self.pending |= pending
            raise
        self.failures = 0
        self.unsynced = set()
        done = self.clock()
        elapsed = done - start
        self.syncs += 1
        self.recompute_all = False
        if kind == "partial":
            metrics.PARTIAL_SYNC_DURATION.observe(elapsed)
        else:
            self.last_full = start
            metrics.FULL_SYNC_DURATION.observe(elapsed)
        metrics.SYNC_DURATION.observe(elapsed)
        metrics.LAST_SYNC.set(self.wall())
        metrics.SERVICES.set(len(self.states))
        for table, count in result.rules.items():
            metrics.RULES.labels(table).set(count)
            if self.backend.mode == "iptables":
                metrics.IPTABLES_RULES.labels(table).set(count)
        self._observe_programming(pending, changed)
        self.health.updated()
        log.log(
            logging.INFO if kind != "partial" or elapsed > 1.0 else logging.DEBUG,
            "%s sync: %d of %d Services changed, %.3fs", kind, len(changed), len(self.states), elapsed,
        )  # fmt: skip

    async def _announce(self) -> None:
        """Hold the LB IPs this node owns on the announce interface (``announce.py``)."""
        assert self.announcer is not None
        self.eligible = eligible_nodes(self.nodes.store.objects())
        endpoint_nodes = {key: self.cache.ready_nodes(key) for key in self.states}
        mine = owned(self.options.node_name, self.states, self.eligible, endpoint_nodes)
        try:
            await self.announcer.ensure(mine)
        except (CommandError, OSError) as err:
            # The rules matter more than the announcement: they are written anyway, and
            # the next sync (at most --sync-period away) tries this again.
            log.warning("announcing load-balancer IPs failed: %s", err)

    def _observe_programming(self, synced: set[str], changed: set[str]) -> None:
        """Network programming latency: from the trigger time of each slice change now
        in place to now (Kubernetes' SLI)."""
        now = datetime.fromtimestamp(self.wall(), UTC)
        for key in synced:
            trigger = self.triggers.pop(key, None)
            if trigger is not None and key in changed:
                metrics.NETWORK_PROGRAMMING.observe(max((now - trigger).total_seconds(), 0.0))
