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
import dataclasses
import logging
import os
import signal
import socket
import uuid
from collections.abc import Sequence
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
from apiclient.tokensource import ServiceAccountTokenSource
from controllers.base import Clock, Controller, ControllerContext, Options
from controllers.bootstrap import (
    DISABLED_BY_DEFAULT,
    BootstrapSignerController,
    TokenCleanerController,
)
from controllers.certificates import (
    CSRApprovingController,
    CSRCleanerController,
    CSRSigningController,
)
from controllers.clusterroleaggregation import ClusterRoleAggregationController
from controllers.cronjob import CronJobController
from controllers.daemonset import DaemonSetController
from controllers.deployment import DeploymentController
from controllers.disruption import DisruptionController
from controllers.endpoints import EndpointsController
from controllers.endpointslice import EndpointSliceController
from controllers.garbagecollector import GarbageCollector
from controllers.job import JobController
from controllers.namespace import NamespaceController
from controllers.nodeipam import NodeIpamController
from controllers.nodelifecycle import NodeLifecycleController, TaintEvictionController
from controllers.podgc import PodGCController
from controllers.replicaset import ReplicaSetController
from controllers.replication import ReplicationManager
from controllers.resourcequota import ResourceQuotaController
from controllers.rootcacert import RootCACertPublisher
from controllers.serviceaccount import ServiceAccountController
from controllers.servicelb import ServiceLBController
from controllers.statefulset import StatefulSetController
from controllers.ttlafterfinished import TTLAfterFinishedController

log = logging.getLogger(__name__)


CONTROLLERS: tuple[type[Controller], ...] = (
    EndpointsController,
    EndpointSliceController,
    ServiceLBController,
    PodGCController,
    NamespaceController,
    GarbageCollector,
    DaemonSetController,
    JobController,
    DeploymentController,
    ReplicaSetController,
    ReplicationManager,
    DisruptionController,
    StatefulSetController,
    CronJobController,
    TTLAfterFinishedController,
    NodeLifecycleController,
    TaintEvictionController,
    NodeIpamController,
    ServiceAccountController,
    RootCACertPublisher,
    ClusterRoleAggregationController,
    ResourceQuotaController,
    CSRApprovingController,
    CSRSigningController,
    CSRCleanerController,
    BootstrapSignerController,
    TokenCleanerController,
)
"""Every controller, in the order they start; each class declares its name, aliases
and worker flag (see ``Controller``)."""


def known_controllers() -> dict[str, tuple[str, ...]]:
    """Canonical controller name -> aliases."""
    return {cls.name: cls.aliases for cls in CONTROLLERS}


class UnknownControllerError(ValueError):
    pass


def enabled_controllers(spec: Sequence[str], known: dict[str, tuple[str, ...]]) -> list[str]:
    """The controllers ``--controllers`` turns on, in ``known`` order.

    Kubernetes' rules: ``*`` means every controller on by default (all but the
    bootstrap-token ones, ``DISABLED_BY_DEFAULT``); ``name``
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
    return [name for name in known if decided.get(name, star and name not in DISABLED_BY_DEFAULT)]


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
    use_service_account_credentials: bool = False
    """Each controller acts as its own service account (``kube-system/<name>``, with a
    token from the TokenRequest API) instead of as the controller-manager."""


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
        by_name = {cls.name: cls for cls in CONTROLLERS}
        names = enabled_controllers(cfg.controllers, known_controllers())
        factory = InformerFactory(self.client)
        recorder = EventRecorder(self.client, "controller-manager", host=socket.gethostname())
        ctx = ControllerContext(
            client=self.client,
            factory=factory,
            recorder=recorder,
            options=cfg.options,
            clock=Clock(),
        )
        sources: list[ServiceAccountTokenSource] = []
        clients: list[Client] = []
        controllers = []
        try:
            for name in names:
                cls = by_name[name]
                own = ctx
                if cfg.use_service_account_credentials and cls.service_account:
                    source = await ServiceAccountTokenSource(
                        self.client, "kube-system", cls.service_account
                    ).start()
                    sources.append(source)
                    client = Client(
                        dataclasses.replace(
                            cfg.client,
                            token=None,
                            token_file=None,
                            client_cert_file=None,
                            client_key_file=None,
                            token_source=source,
                        ),
                        user_agent=f"navarch-controller-manager/{name}",
                    )
                    clients.append(client)
                    own = dataclasses.replace(ctx, client=client)
                controllers.append(cls(own, cls.workers_for(cfg.options)))
            log.info("starting controllers: %s", ", ".join(names))
            factory.start()
            await factory.wait_for_sync()
            log.info("caches synced")
            await asyncio.gather(*(c.run() for c in controllers))
        finally:
            await factory.stop()
            await recorder.close()
            for source in sources:
                await source.close()
            for client in clients:
                await client.close()

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
