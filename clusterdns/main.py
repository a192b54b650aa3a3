"""``navarch dns``: the process. Connect, watch Services and EndpointSlices, serve.

The listeners bind first, so the port answers at once; names in the cluster zone get
SERVFAIL (not a false NXDOMAIN that clients would cache) until both informers have
listed, and ``/ready`` turns 200 at the same moment. SIGTERM/SIGINT stop it (exit 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from apiclient import Client, ClientConfig, InformerFactory, load_config
from apiclient.loop import run_main
from apitypes.core import Service
from apitypes.discovery import EndpointSlice
from clusterdns.forward import (
    AnswerCache,
    Forwarder,
    Upstream,
    parse_upstream,
    resolv_conf_upstreams,
)
from clusterdns.metrics import Metrics, health_app
from clusterdns.server import Responder, start_listeners
from clusterdns.zone import PODS_INSECURE, ClusterZone

log = logging.getLogger("clusterdns")


class ConfigError(ValueError):
    """A flag's value is unusable."""


@dataclass
class Options:
    kubeconfig: str | None = None
    master: str | None = None
    cluster_domain: str = "cluster.local"
    ttl: int = 5
    bind_address: str = "0.0.0.0"
    port: int = 53
    upstream: list[str] = field(default_factory=list)
    resolv_conf: str = "/etc/resolv.conf"
    health_port: int = 8080
    health_bind_address: str = "0.0.0.0"
    pods: str = PODS_INSECURE
    cache_size: int = 10_000
    cache_max_ttl: int = 3600
    forward_timeout: float = 2.0
    log_level: str = "info"


def upstreams(options: Options) -> list[Upstream]:
    """``--upstream`` when given, else the resolv.conf's nameservers less our own address."""
    if options.upstream:
        try:
            return [parse_upstream(u) for u in options.upstream if u.strip()]
        except ValueError as err:
            raise ConfigError(f"--upstream: {err}") from err
    exclude = {options.bind_address}
    if options.port == 53 and options.bind_address in ("0.0.0.0", "::"):
        # We answer on every local address: a loopback nameserver could be ourselves.
        exclude |= {"127.0.0.1", "::1"}
    return resolv_conf_upstreams(Path(options.resolv_conf), exclude)


def client_config(options: Options) -> ClientConfig:
    if options.master and not options.kubeconfig:
        return ClientConfig(server=options.master.rstrip("/"))
    loaded = load_config(options.kubeconfig)
    if options.master:
        loaded.server = options.master.rstrip("/")
    return loaded


async def serve(options: Options) -> int:
    if options.ttl < 0:
        raise ConfigError("--ttl must not be negative")
    zone = ClusterZone(options.cluster_domain, ttl=options.ttl, pods=options.pods)
    metrics = Metrics()
    metrics.services.set_function(lambda: zone.services)
    metrics.records.set_function(lambda: zone.record_count)
    cache = AnswerCache(options.cache_size, max_ttl=options.cache_max_ttl)
    metrics.cache_entries.set_function(lambda: len(cache))
    forwarder = Forwarder(
        upstreams(options),
        cache=cache,
        timeout=options.forward_timeout,
        on_upstream=lambda up, rcode: metrics.upstream.labels(str(up), rcode).inc(),
    )
    client = Client(client_config(options), user_agent="navarch-dns")
    factory = InformerFactory(client)
    services = factory.informer(Service)
    slices = factory.informer(EndpointSlice)
    services.add_handler(zone.set_service, zone.set_service, zone.delete_service)
    slices.add_handler(zone.set_slice, zone.set_slice, zone.delete_slice)

    def ready() -> bool:
        return services.synced.is_set() and slices.synced.is_set()

    responder = Responder(zone, forwarder, metrics, ready=ready)
    udp, tcp = await start_listeners(responder, options.bind_address, options.port)
    runner = web.AppRunner(health_app(metrics, ready), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, options.health_bind_address, options.health_port).start()

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    log.info(
        "serving %s on %s:%d (udp, tcp), health on :%d, upstreams %s, apiserver %s",
        zone.origin, options.bind_address, tcp.sockets[0].getsockname()[1],
        options.health_port, ", ".join(map(str, forwarder.upstreams)) or "none",
        client.config.server,
    )  # fmt: skip
    factory.start()
    synced = asyncio.ensure_future(_report_sync(factory, zone))
    try:
        await stop.wait()
    finally:
        synced.cancel()
        udp.close()
        tcp.close()
        await runner.cleanup()
        await forwarder.close()
        await factory.stop()
        await client.close()
    log.info("stopped")
    return 0


async def _report_sync(factory: InformerFactory, zone: ClusterZone) -> None:
    await factory.wait_for_sync()
    log.info("caches synced: %d services, %d records", zone.services, zone.record_count)


def run(options: Options) -> int:
    logging.basicConfig(
        level=getattr(logging, options.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        return run_main(serve(options))
    except KeyboardInterrupt:
        return 0
