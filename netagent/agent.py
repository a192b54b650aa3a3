"""The network agent: routes to the other nodes' pods, and the pod NAT/forward rules.

One per host network namespace (one for all the nodes of ``navarch up``, one per node
container in compose). It watches Nodes through an informer; a change that matters (a
Node added or deleted, its podCIDRs or InternalIPs changed) wakes the sync at once,
at most every ``min_sync_period``; the sync also runs every ``sync_period`` so that
routes and rules deleted behind its back come back. A sync reads the kernel, computes
what it should hold (``plan.py``) and changes only the difference.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from apiclient import Client, Informer
from apitypes.core import Node
from netagent import localroutes
from netagent.kernel import CommandError, HostKernel, Kernel, Rule
from netagent.plan import (
    DOCKER_USER,
    MASQ_CHAIN,
    MASQ_RULE,
    desired_routes,
    route_changes,
    rules_for,
)

log = logging.getLogger(__name__)


@dataclass
class AgentConfig:
    cluster_cidrs: list[str] = field(default_factory=lambda: ["10.244.0.0/16"])
    service_cidr: str | None = "10.96.0.0/12"
    """Kept routed to ``navarch-svc0`` (None: left to whoever set the host up)."""
    sync_period: float = 10.0
    min_sync_period: float = 0.5
    masquerade: bool = True
    local_routes: bool = True
    """Keep the service CIDR's dummy route and the cluster CIDR's blackhole in place."""


@dataclass
class SyncResult:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class NetworkAgent:
    def __init__(self, client: Client, config: AgentConfig, kernel: Kernel | None = None) -> None:
        self.client = client
        self.config = config
        self.kernel: Kernel = kernel or HostKernel()
        self.nodes: Informer[Node] = Informer(client, Node)
        self.nodes.add_handler(
            lambda _n: self.wake(), self._updated, lambda _n: self.wake()
        )  # fmt: skip
        self._dirty = asyncio.Event()
        self.syncs = 0
        self.last_sync: float | None = None

    def _updated(self, old: Node, new: Node) -> None:
        if old.pod_cidrs() != new.pod_cidrs() or old.internal_ips() != new.internal_ips():
            self.wake()

    def wake(self) -> None:
        self._dirty.set()

    # --- one sync, blocking (run in a thread) ---------------------------------------------

    def sync(self) -> SyncResult:
        """Bring the kernel in line with the Nodes; errors are collected, not raised,
        so that one bad route does not keep the rest from being written."""
        result = SyncResult()
        clusters = self.config.cluster_cidrs
        if self.config.local_routes:
            try:
                localroutes.ensure(self.config.service_cidr, clusters)
            except CommandError as err:
                result.errors.append(str(err))
        try:
            local = self.kernel.local_addresses()
            desired = desired_routes(self.nodes.store.objects(), local, clusters)
            replace, delete = route_changes(desired, self.kernel.routes(), clusters)
        except CommandError as err:
            result.errors.append(str(err))
            replace, delete = [], []
        for route in delete:
            self.kernel.delete_route(route)
            result.removed.append(f"route {route.dst} via {route.via}")
        for route in replace:
            try:
                self.kernel.replace_route(route)
                result.added.append(f"route {route.dst} via {route.via}")
            except CommandError as err:
                result.errors.append(str(err))
        for rule in rules_for(clusters, masquerade=self.config.masquerade):
            try:
                if self._ensure_rule(rule):
                    result.added.append(rule.describe())
            except CommandError as err:
                result.errors.append(str(err))
        return result

    def _ensure_rule(self, rule: Rule) -> bool:
        """Add ``rule`` if missing; True if it was. ``DOCKER-USER`` is Docker's: when
        it is not there (no Docker yet), there is no isolation to open either."""
        if rule.chain == DOCKER_USER and not self.kernel.has_chain(rule.table, DOCKER_USER):
            return False
        if rule.chain == MASQ_CHAIN:
            self.kernel.ensure_chain(rule.table, MASQ_CHAIN)
            extra = [r for r in self.kernel.chain_rules(rule.table, MASQ_CHAIN)
                     if r.split() != ["-A", MASQ_CHAIN, *rule.spec]]  # fmt: skip
            if extra:
                self.kernel.flush_chain(rule.table, MASQ_CHAIN)
        if self.kernel.has_rule(rule):
            return False
        if rule.chain == "POSTROUTING":
            self.kernel.ensure_chain(rule.table, MASQ_CHAIN)  # the jump needs its target
        self.kernel.add_rule(rule)
        return True

    # --- the loop --------------------------------------------------------------------------

    async def sync_once(self) -> SyncResult:
        result = await asyncio.to_thread(self.sync)
        self.syncs += 1
        self.last_sync = time.monotonic()
        for item in result.added:
            log.info("added %s", item)
        for item in result.removed:
            log.info("removed %s", item)
        for item in result.errors:
            log.warning("sync: %s", item)
        return result

    async def run(self) -> None:
        """Sync after the Node cache fills, then on every relevant change (at most
        every ``min_sync_period``) and every ``sync_period``, until cancelled."""
        task = self.nodes.start()
        try:
            await self.nodes.wait_synced()
            log.info(
                "network agent: %d nodes, cluster CIDR %s",
                len(self.nodes.store),
                ", ".join(self.config.cluster_cidrs),
            )
            while True:
                self._dirty.clear()
                started = time.monotonic()
                try:
                    await self.sync_once()
                except Exception:
                    log.exception("sync failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._dirty.wait(), self.config.sync_period)
                pause = self.config.min_sync_period - (time.monotonic() - started)
                if pause > 0:
                    await asyncio.sleep(pause)
        finally:
            task.cancel()
            await self.nodes.stop()


def cleanup(kernel: Kernel, clusters: list[str]) -> SyncResult:
    """Remove every route and rule an agent for ``clusters`` keeps; ``NAVARCH-MASQ``
    goes too unless another agent's jump (another cluster CIDR) still uses it."""
    result = SyncResult()
    _, delete = route_changes({}, kernel.routes(), clusters)
    for route in delete:
        kernel.delete_route(route)
        result.removed.append(f"route {route.dst} via {route.via}")
    for rule in rules_for(clusters, masquerade=True):
        if rule == MASQ_RULE or not kernel.has_chain(rule.table, rule.chain):
            continue
        if kernel.has_rule(rule):
            kernel.delete_rule(rule)
            result.removed.append(rule.describe())
    if kernel.has_chain("nat", MASQ_CHAIN):
        users = [r for r in kernel.chain_rules("nat", "POSTROUTING") if MASQ_CHAIN in r]
        if not users:
            kernel.flush_chain("nat", MASQ_CHAIN)
            kernel.delete_chain("nat", MASQ_CHAIN)
            result.removed.append(f"-t nat chain {MASQ_CHAIN}")
    return result
