"""``navarch scheduler``: the process. Connect, watch, elect, schedule, shut down.

Informers start before leader election, so that a standby scheduler keeps a warm
cache and can take over at once; only the leader runs the scheduling loop. Losing the
lease ends the process (exit status 1), as Kubernetes' scheduler does; SIGTERM/SIGINT
releases the lease and exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from dataclasses import dataclass

from apiclient import (
    Client,
    ClientConfig,
    ElectionConfig,
    EventRecorder,
    InformerFactory,
    LeaderElector,
    load_config,
)
from apiclient.loop import run_main
from apitypes.core import Namespace, Node, Pod
from scheduler.config import SchedulerConfig
from scheduler.config import load_config as load_scheduler_config
from scheduler.plugins import REGISTRY
from scheduler.scheduler import Scheduler

log = logging.getLogger("scheduler")

# Terminal pods hold no resources; the apiserver sends them as deletions.
POD_FIELD_SELECTOR = "status.phase!=Succeeded,status.phase!=Failed"


@dataclass
class Options:
    kubeconfig: str | None = None
    master: str | None = None
    config: str | None = None
    scheduler_name: str | None = None
    leader_elect: bool | None = None
    lease_duration: float | None = None
    renew_deadline: float | None = None
    retry_period: float | None = None
    resource_name: str | None = None
    resource_namespace: str | None = None
    bind_workers: int = 16
    identity: str = ""
    log_level: str = "info"


def default_identity() -> str:
    return f"{socket.gethostname()}_{os.getpid()}"


def build_config(options: Options) -> SchedulerConfig:
    """The configuration file (or defaults) with the command line's overrides."""
    config = load_scheduler_config(options.config, REGISTRY)
    if options.scheduler_name:
        config.profiles[0].scheduler_name = options.scheduler_name
    le = config.leader_election
    if options.leader_elect is not None:
        le.leader_elect = options.leader_elect
    if options.lease_duration is not None:
        le.lease_duration = options.lease_duration
    if options.renew_deadline is not None:
        le.renew_deadline = options.renew_deadline
    if options.retry_period is not None:
        le.retry_period = options.retry_period
    if options.resource_name:
        le.resource_name = options.resource_name
    if options.resource_namespace:
        le.resource_namespace = options.resource_namespace
    return config


def client_config(options: Options, config: SchedulerConfig) -> ClientConfig:
    """``--master`` alone means that URL with no credentials; otherwise the kubeconfig
    (``--kubeconfig``, the config file's, ``$KUBECONFIG``, ``~/.kube/config``), with
    ``--master`` overriding its server."""
    kubeconfig = options.kubeconfig or config.kubeconfig
    if options.master and not kubeconfig:
        return ClientConfig(server=options.master.rstrip("/"))
    loaded = load_config(kubeconfig)
    if options.master:
        loaded.server = options.master.rstrip("/")
    return loaded


async def serve(options: Options) -> int:
    config = build_config(options)
    identity = options.identity or default_identity()
    cfg = client_config(options, config)
    # Binds are the scheduler's own output: no client-side throttling of them.
    cfg.qps = 0
    client = Client(cfg, user_agent=f"navarch-scheduler/{identity}")
    names = [p.scheduler_name for p in config.profiles]
    recorder = EventRecorder(client, names[0], host=identity)
    scheduler = Scheduler(config, REGISTRY, client=client, recorder=recorder,
                          bind_workers=options.bind_workers)  # fmt: skip
    factory = InformerFactory(client)
    pods = factory.informer(Pod, field_selector=POD_FIELD_SELECTOR)
    nodes = factory.informer(Node)
    namespaces = factory.informer(Namespace)
    nodes.add_handler(scheduler.on_node_add, scheduler.on_node_update, scheduler.on_node_delete)
    namespaces.add_handler(
        scheduler.on_namespace_add, scheduler.on_namespace_update, scheduler.on_namespace_delete
    )
    pods.add_handler(scheduler.on_pod_add, scheduler.on_pod_update, scheduler.on_pod_delete)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)

    log.info("scheduler %s starting for %s against %s", identity, ", ".join(names), cfg.server)
    factory.start()
    recorder.start()
    lost = False
    try:
        waiting = asyncio.ensure_future(factory.wait_for_sync())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set():
            waiting.cancel()
            return 0
        log.info("caches synced: %d nodes, %d pending pods", len(nodes.store), len(scheduler.queue))
        le = config.leader_election
        if le.leader_elect:
            elector = LeaderElector(
                client,
                ElectionConfig(
                    name=le.resource_name,
                    namespace=le.resource_namespace,
                    identity=identity,
                    lease_duration=le.lease_duration,
                    renew_deadline=le.renew_deadline,
                    retry_period=le.retry_period,
                ),
                scheduler.run,
                on_new_leader=lambda holder: log.info("the leader is now %s", holder),
            )
            work = asyncio.ensure_future(elector.run())
        else:
            work = asyncio.ensure_future(scheduler.run())
        await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if work.done() and not stop.is_set():
            lost = True
            log.error("leader election lost; exiting")
        work.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await work
        stopping.cancel()
    finally:
        await recorder.close()
        await factory.stop()
        await client.close()
    log.info("scheduler %s stopped", identity)
    return 1 if lost else 0


def run(options: Options) -> int:
    logging.basicConfig(
        level=getattr(logging, options.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if logging.getLogger().level > logging.DEBUG:
        # One line per request would be thousands of lines a second while binding.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        return run_main(serve(options))
    except KeyboardInterrupt:
        return 0
