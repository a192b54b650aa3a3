"""``navarch kubelet``: run one kubelet in the foreground until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from apiclient import Client, ClientConfig
from apiclient.loop import run_main
from kubelet.auth import KubeletAuth
from kubelet.config import KubeletConfig
from kubelet.fake_runtime import FakeRuntime
from kubelet.kubelet import Kubelet
from kubelet.runtime import Runtime
from kubelet.server import KubeletServer

log = logging.getLogger(__name__)


def make_runtime(config: KubeletConfig) -> Runtime:
    if config.runtime == "fake":
        return FakeRuntime(config.node_name)
    if config.runtime == "docker":
        from kubelet.docker_runtime import DockerRuntime

        return DockerRuntime(
            config.node_name,
            base_url=config.docker_host,
            network=config.pod_network,
            pod_cidr=config.pod_cidr,
            pause_image=config.pause_image,
        )
    raise ValueError(f"unknown runtime {config.runtime!r}: choose docker or fake")


async def run_kubelet(config: KubeletConfig, client_config: ClientConfig) -> None:
    """Run until cancelled or signalled; containers are left running for the next start."""
    client = Client(client_config, user_agent=f"navarch-kubelet/{config.node_name}")
    runtime = make_runtime(config)
    kubelet = Kubelet(config, client, runtime)
    server = None
    if config.port:
        server = KubeletServer(
            kubelet,
            address=config.address,
            port=config.port,
            cert_file=config.tls_cert_file,
            key_file=config.tls_private_key_file,
            auth=KubeletAuth(config.auth, client, config.node_name),
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        if server is not None:
            await server.start()
        runner = asyncio.create_task(kubelet.run(), name="kubelet")
        stopper = asyncio.create_task(stop.wait(), name="stop")
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if runner in done:
            runner.result()
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
        stopper.cancel()
    finally:
        if server is not None:
            await server.stop()
        await kubelet.stop()
        await runtime.close()
        await client.close()
        log.info("kubelet %s stopped", config.node_name)


def serve(config: KubeletConfig, client_config: ClientConfig, log_level: str = "info") -> None:
    logging.basicConfig(
        level=getattr(logging, log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # One line per request is the client's debug output, not the kubelet's news.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    run_main(run_kubelet(config, client_config))
