"""The controller-manager process: leader election, one informer factory, the controllers.

``run(config)`` connects to the apiserver, then (with leader election on) waits to hold
the Lease ``kube-system/kube-controller-manager``; while it leads it builds every
enabled controller on one shared ``InformerFactory``, waits for the caches to fill,
and runs them. Losing the Lease ends the process with a non-zero status, as
kube-controller-manager does: a supervisor restarts it as a follower, with clean
caches and no half-finished work.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import signal
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from apiclient import (
    Client,
    ClientConfig,
    ElectionConfig,
    EventRecorder,
    InformerFactory,
    LeaderElector,
)
from apiclient.loop import run_main
from controllers.base import Clock, Controller, ControllerContext, Options

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Descriptor:
    """A controller by name: its aliases, where its class lives, its worker count."""

    name: str
    aliases: tuple[str, ...]
    target: str
    workers: Callable[[Options], int]

    def build(self, ctx: ControllerContext) -> Controller:
        # Imported on use so that a process running a few controllers loads only those.
        module, _, cls_name = self.target.partition(":")
        cls: type[Controller] = getattr(importlib.import_module(module), cls_name)
        return cls(ctx, self.workers(ctx.options))


DESCRIPTORS: tuple[Descriptor, ...] = (
    Descriptor("endpoints-controller", ("endpoint",),
               "controllers.endpoints:EndpointsController",
               lambda o: o.concurrent_endpoint_syncs),
    Descriptor("endpointslice-controller", ("endpointslice",),
               "controllers.endpointslice:EndpointSliceController",
               lambda o: o.concurrent_service_endpoint_syncs),
    Descriptor("service-lb-controller", ("servicelb",),
               "controllers.servicelb:ServiceLBController", lambda o: 1),
    Descriptor("pod-garbage-collector-controller", ("podgc",),
               "controllers.podgc:PodGCController", lambda o: 1),
    Descriptor("namespace-controller", ("namespace",),
               "controllers.namespace:NamespaceController",
               lambda o: o.concurrent_namespace_syncs),
    Descriptor("garbage-collector-controller", ("garbagecollector",),
               "controllers.garbagecollector:GarbageCollector", lambda o: o.concurrent_gc_syncs),
    Descriptor("daemonset-controller", ("daemonset",),
               "controllers.daemonset:DaemonSetController",
               lambda o: o.concurrent_daemonset_syncs),
    Descriptor("job-controller", ("job",), "controllers.job:JobController",
               lambda o: o.concurrent_job_syncs),
    Descriptor("deployment-controller", ("deployment",),
               "controllers.deployment:DeploymentController",
               lambda o: o.concurrent_deployment_syncs),
    Descriptor("replicaset-controller", ("replicaset",),
               "controllers.replicaset:ReplicaSetController",
               lambda o: o.concurrent_replicaset_syncs),
    Descriptor("disruption-controller", ("disruption",),
               "controllers.disruption:DisruptionController",
               lambda o: o.concurrent_disruption_syncs),
    Descriptor("statefulset-controller", ("statefulset",),
               "controllers.statefulset:StatefulSetController",
               lambda o: o.concurrent_statefulset_syncs),
    Descriptor("cronjob-controller", ("cronjob",), "controllers.cronjob:CronJobController",
               lambda o: o.concurrent_cron_job_syncs),
    Descriptor("ttl-after-finished-controller", ("ttl-after-finished",),
               "controllers.ttlafterfinished:TTLAfterFinishedController",
               lambda o: o.concurrent_ttl_after_finished_syncs),
    Descriptor("node-lifecycle-controller", ("nodelifecycle",),
               "controllers.nodelifecycle:NodeLifecycleController", lambda o: 1),
    Descriptor("taint-eviction-controller", (),
               "controllers.nodelifecycle:TaintEvictionController", lambda o: 1),
)  # fmt: skip


def known_controllers() -> dict[str, tuple[str, ...]]:
    """Canonical controller name -> aliases."""
    return {d.name: d.aliases for d in DESCRIPTORS}


class UnknownControllerError(ValueError):
    pass


def enabled_controllers(spec: Sequence[str], known: dict[str, tuple[str, ...]]) -> list[str]:
    """The controllers ``--controllers`` turns on, in ``known`` order.

    Kubernetes' rules: ``*`` means every controller on by default (here: all); ``name``
    turns one on, ``-name`` off; an explicit entry beats ``*`` and the first
    entry naming a controller wins; aliases (``replicaset``
    for ``replicaset-controller``) are accepted.
    """
    canonical = {name: name for name in known}
    for name, aliases in known.items():
        for alias in aliases:
            canonical[alias] = name
    decided: dict[str, bool] = {}
    star = False
    for raw in spec:
        item = raw.strip()
        if not item:
            continue
        if item == "*":
            star = True
            continue
        negate = item.startswith("-")
        target = canonical.get(item[1:] if negate else item)
        if target is None:
            raise UnknownControllerError(f"{item!r} is not a known controller")
        decided.setdefault(target, not negate)
    return [name for name in known if decided.get(name, star)]


@dataclass
class ManagerConfig:
    client: ClientConfig
    options: Options = field(default_factory=Options)
    controllers: list[str] = field(default_factory=lambda: ["*"])
    leader_elect: bool = True
    lease_name: str = "kube-controller-manager"
    lease_namespace: str = "kube-system"
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    identity: str = ""


class ControllerManager:
    def __init__(self, config: ManagerConfig) -> None:
        self.config = config
        self.identity = config.identity or f"{socket.gethostname()}_{uuid.uuid4()}"
        self.client = Client(config.client, user_agent="navarch-controller-manager")
        self.lost_leadership = False
        self._leading: asyncio.Task[None] | None = None
        self.stopping = False

    def shutdown(self) -> None:
        """Stop acting first (the controllers), then let ``run`` release the Lease."""
        self.stopping = True
        if self._leading is not None and not self._leading.done():
            self._leading.cancel()

    async def lead(self) -> None:
        """Build and run the enabled controllers until cancelled."""
        self._leading = asyncio.current_task()
        cfg = self.config
        known = {d.name: d for d in DESCRIPTORS}
        names = enabled_controllers(cfg.controllers, {n: d.aliases for n, d in known.items()})
        factory = InformerFactory(self.client)
        recorder = EventRecorder(self.client, "controller-manager", host=socket.gethostname())
        ctx = ControllerContext(
            client=self.client,
            factory=factory,
            recorder=recorder,
            options=cfg.options,
            clock=Clock(),
        )
        controllers = [known[name].build(ctx) for name in names]
        log.info("starting controllers: %s", ", ".join(names))
        factory.start()
        try:
            await factory.wait_for_sync()
            log.info("caches synced")
            await asyncio.gather(*(c.run() for c in controllers))
        finally:
            await factory.stop()
            await recorder.close()

    async def run(self) -> int:
        cfg = self.config
        try:
            if not cfg.leader_elect:
                await self.lead()
                return 0
            elector = LeaderElector(
                self.client,
                ElectionConfig(
                    name=cfg.lease_name,
                    namespace=cfg.lease_namespace,
                    identity=self.identity,
                    lease_duration=cfg.lease_duration,
                    renew_deadline=cfg.renew_deadline,
                    retry_period=cfg.retry_period,
                ),
                self.lead,
                on_new_leader=lambda who: log.info("leader is now %s", who),
            )
            await elector.run()
            if self.stopping:
                return 0
            log.error("leader election lost")
            self.lost_leadership = True
            return 1
        finally:
            # Stop the controllers before the client they use goes away.
            leading = self._leading
            if leading is not None and not leading.done():
                leading.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await leading
            await self.client.close()


def serve(config: ManagerConfig) -> int:
    """Run the manager in this process until SIGTERM/SIGINT; returns the exit status."""

    async def main() -> int:
        manager = ControllerManager(config)
        task = asyncio.create_task(manager.run())
        loop = asyncio.get_running_loop()

        def stop() -> None:
            if manager.stopping or manager._leading is None:
                task.cancel()
            manager.shutdown()

        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop)
        try:
            return await task
        except asyncio.CancelledError:
            return 0

    # One line per request is far too much at this daemon's request rates.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    log.info("controller-manager starting (pid %d)", os.getpid())
    return run_main(main())
