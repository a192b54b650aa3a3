"""The kube-proxy process: ``serve(config)`` runs it, ``cleanup()`` undoes it.

At start the proxy removes what the other modes may have left (as kube-proxy does
when its mode changes), waits for its informers, then syncs at the runner's pace and
serves ``/healthz`` and ``/metrics`` until SIGTERM/SIGINT. It leaves its rules in
place when it exits, as Kubernetes' kube-proxy does, so established Services keep
working across a restart; ``navarch proxy --cleanup`` removes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from dataclasses import dataclass, field
from pathlib import Path

from apiclient import Client, ClientConfig, InformerFactory
from apiclient.loop import run_main
from kubeproxy.announce import Announcer
from kubeproxy.backend import Backend
from kubeproxy.iptables import IptablesBackend, cleanup_iptables
from kubeproxy.netif import DEVICE, DummyInterface
from kubeproxy.nftables import NftablesBackend, cleanup_nftables
from kubeproxy.proxier import Proxier, ProxyOptions
from kubeproxy.server import ProxyServer, split_address
from kubeproxy.userspace import ALGORITHMS, UserspaceBackend

log = logging.getLogger(__name__)

MODES = ("iptables", "nftables", "userspace")


@dataclass
class ProxyConfig:
    client: ClientConfig
    mode: str = "iptables"
    node_name: str = field(default_factory=socket.gethostname)
    cluster_cidr: str | None = "10.244.0.0/16"
    masquerade_all: bool = False
    sync_period: float = 30.0
    min_sync_period: float = 1.0
    lb_algorithm: str = "round-robin"
    healthz_bind_address: str = "0.0.0.0:10256"
    metrics_bind_address: str = "127.0.0.1:10249"
    device: str = DEVICE
    lb_announce_interface: str = ""
    """Announce the LB IPs this node owns on this interface (``announce.py``); "" is off."""


def make_backend(config: ProxyConfig) -> Backend:
    if config.mode == "iptables":
        return IptablesBackend(
            cluster_cidr=config.cluster_cidr, masquerade_all=config.masquerade_all
        )
    if config.mode == "nftables":
        return NftablesBackend(
            cluster_cidr=config.cluster_cidr, masquerade_all=config.masquerade_all
        )
    if config.mode == "userspace":
        return UserspaceBackend(algorithm=config.lb_algorithm)
    raise ValueError(f"--proxy-mode must be one of {', '.join(MODES)}")


def validate(config: ProxyConfig) -> None:
    """Refuse bad flags before anything is touched."""
    make_backend(config)
    if config.lb_algorithm not in ALGORITHMS:
        raise ValueError(f"--lb-algorithm must be one of {', '.join(ALGORITHMS)}")
    if config.min_sync_period < 0 or config.sync_period <= 0:
        raise ValueError("--sync-period must be positive and --min-sync-period not negative")
    if (
        config.lb_announce_interface
        and not Path(f"/sys/class/net/{config.lb_announce_interface}").exists()
    ):
        raise ValueError(f"--lb-announce-interface: no interface {config.lb_announce_interface}")
    split_address(config.healthz_bind_address, 10256)
    split_address(config.metrics_bind_address, 10249)


async def cleanup(
    device: str = DEVICE, *, keep: str | None = None, announce_interface: str = ""
) -> list[str]:
    """Remove what every mode (except ``keep``) created, and the addresses announced on
    ``announce_interface``; names what was found."""
    found: list[str] = []
    if keep is None and announce_interface and await Announcer(announce_interface).clear():
        found.append(f"announced addresses on {announce_interface}")
    if keep != "iptables" and await cleanup_iptables():
        found.append("iptables chains")
    if keep != "nftables" and await cleanup_nftables():
        found.append("nftables table")
    if keep is None and await DummyInterface(device).delete():
        found.append(f"interface {device}")
    return found


async def _run(config: ProxyConfig, stop: asyncio.Event) -> None:
    backend = make_backend(config)
    leftovers = await cleanup(config.device, keep=config.mode)
    if leftovers:
        log.info("removed what other modes left: %s", ", ".join(leftovers))
    client = Client(config.client, user_agent="navarch-kube-proxy")
    factory = InformerFactory(client)
    proxier = Proxier(
        factory,
        backend,
        ProxyOptions(
            node_name=config.node_name,
            sync_period=config.sync_period,
            min_sync_period=config.min_sync_period,
        ),
        dummy=DummyInterface(config.device),
        announcer=Announcer(config.lb_announce_interface) if config.lb_announce_interface else None,
    )
    server = ProxyServer(proxier.health, proxier.wall)
    factory.start()
    loop_task: asyncio.Task[None] | None = None
    try:
        await server.start(
            split_address(config.healthz_bind_address, 10256),
            split_address(config.metrics_bind_address, 10249),
        )
        await factory.wait_for_sync()
        log.info("caches synced; %s mode", config.mode)
        loop_task = asyncio.create_task(proxier.runner.loop())
        await stop.wait()
    finally:
        if loop_task is not None:
            loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop_task
        if isinstance(backend, UserspaceBackend):
            await backend.close()
        await server.stop()
        await factory.stop()
        await client.close()


def serve(config: ProxyConfig) -> int:
    """Run kube-proxy in this process until SIGTERM/SIGINT; returns the exit status."""
    validate(config)

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await _run(config, stop)
        return 0

    log.info("kube-proxy starting (pid %d)", os.getpid())
    return run_main(main())


def run_cleanup(device: str = DEVICE, announce_interface: str = "") -> int:
    async def main() -> int:
        found = await cleanup(device, announce_interface=announce_interface)
        log.info("cleaned up: %s", ", ".join(found) or "nothing was there")
        return 0

    return run_main(main())
