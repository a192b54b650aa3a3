"""Hollow nodes: many kubelets over the fake runtime in one process (kubemark, kwok).

Every hollow node is a real ``Kubelet`` (same sync logic, Node registration, Lease
heartbeats, pod statuses); only the runtime is fake. They share one client (one
connection pool) and one pod informer indexed by ``spec.nodeName``, so that a
thousand nodes hold one watch on the apiserver, and they register a few at a time so
that starting does not storm the apiserver.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from apiclient import Client, ClientConfig
from apiclient.loop import run_main
from apitypes.core import Taint
from kubelet.config import KubeletConfig
from kubelet.fake_runtime import FakeRuntime
from kubelet.kubelet import Kubelet
from kubelet.node import MachineInfo, hollow_machine
from kubelet.sources import NodeSource, PodSource, ServiceSource

log = logging.getLogger(__name__)

HOLLOW_MACHINE = MachineInfo(
    machine_id="hollow",
    system_uuid="hollow",
    boot_id="hollow",
    kernel_version="hollow",
    os_image="navarch hollow node",
    architecture="amd64",
)


@dataclass
class HollowOptions:
    count: int
    prefix: str = "hollow-node-"
    cpu: str = "4"
    memory: str = "16Gi"
    max_pods: int = 110
    node_labels: dict[str, str] = field(default_factory=dict)
    taints: list[Taint] = field(default_factory=list)
    lease_duration: int = 40
    status_update_frequency: float = 10.0
    start_concurrency: int = 50
    root_dir: Path | None = None


def node_ip(index: int) -> str:
    """A distinct address per hollow node (never dialled: hollow nodes serve nothing)."""
    return f"10.64.{(index >> 8) & 255}.{index & 255}"


class HollowNodes:
    def __init__(self, client: Client, options: HollowOptions) -> None:
        self.client = client
        self.options = options
        self.source = PodSource(client)
        self.nodes = NodeSource(client)
        self.services = ServiceSource(client)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        root = options.root_dir
        if root is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="navarch-hollow-")
            root = Path(self._tmp.name)
        stats = hollow_machine(options.cpu, options.memory)
        base = KubeletConfig(
            runtime="fake",
            root_dir=root,
            port=0,
            max_pods=options.max_pods,
            capacity_cpu=options.cpu,
            capacity_memory=options.memory,
            node_labels=dict(options.node_labels),
            register_with_taints=list(options.taints),
            node_lease_duration=options.lease_duration,
            node_status_update_frequency=options.status_update_frequency,
            pleg_relist_period=10.0,
            workers=1,
            events=False,
            eviction_hard_memory="0",
            eviction_hard_nodefs_percent=0.0,
        )
        self.kubelets: list[Kubelet] = []
        for i in range(options.count):
            name = f"{options.prefix}{i}"
            config = replace(
                base,
                node_name=name,
                node_ip=node_ip(i),
                root_dir=root / name,
                node_labels=dict(options.node_labels),
            )
            self.kubelets.append(
                Kubelet(
                    config,
                    client,
                    FakeRuntime(name),
                    pod_source=self.source,
                    node_source=self.nodes,
                    service_source=self.services,
                    stats=stats,
                    machine=HOLLOW_MACHINE,
                )
            )

    async def start(self) -> None:
        self.source.start()
        self.nodes.start()
        self.services.start()
        gate = asyncio.Semaphore(self.options.start_concurrency)

        async def start_one(kubelet: Kubelet) -> None:
            async with gate:
                await kubelet.start()
                await kubelet.node_agent.registered.wait()

        await asyncio.gather(*(start_one(k) for k in self.kubelets))
        log.info("%d hollow nodes registered", len(self.kubelets))

    async def stop(self) -> None:
        await asyncio.gather(*(k.stop() for k in self.kubelets), return_exceptions=True)
        await self.source.stop()
        await self.nodes.stop()
        await self.services.stop()
        if self._tmp is not None:
            self._tmp.cleanup()


async def run_hollow_nodes(client_config: ClientConfig, options: HollowOptions) -> None:
    client = Client(client_config, user_agent="navarch-hollow-nodes")
    nodes = HollowNodes(client, options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        starting = asyncio.create_task(nodes.start())
        await stop.wait()
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await starting
    finally:
        await nodes.stop()
        await client.close()


def serve(client_config: ClientConfig, options: HollowOptions, log_level: str = "info") -> None:
    logging.basicConfig(
        level=getattr(logging, log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # One line per request is the client's debug output, not the kubelet's news.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    run_main(run_hollow_nodes(client_config, options))
