"""``navarch kubelet``: run one kubelet in the foreground until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from apiclient import Client, ClientConfig, load_config
from apiclient.loop import run_main
from kubelet.auth import KubeletAuth
from kubelet.certificate import (
    CertificateRotator,
    bootstrap,
    client_rotator,
    prefer_rotated,
    serving_kind,
    valid_now,
)
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
    if config.rotate_certificates:
        prefer_rotated(client_config, config.certificate_dir)
    client = Client(client_config, user_agent=f"navarch-kubelet/{config.node_name}")
    rotators: list[CertificateRotator] = []
    if config.rotate_certificates and client_config.client_cert_file:
        rotators.append(
            client_rotator(client, client_config, config.node_name, config.certificate_dir)
        )
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
    if server is not None and config.rotate_server_certificates:
        rotators.append(serving_rotator(config, client, server))
    stop = asyncio.Event()
    rotating: list[asyncio.Task[None]] = []
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        # A kubelet waiting for its first serving certificate serves once it has it.
        if server is not None and (server.cert_file or not config.rotate_server_certificates):
            await server.start()
        runner = asyncio.create_task(kubelet.run(), name="kubelet")
        rotating = [
            asyncio.create_task(r.run(), name=f"{r.kind.prefix}-rotation") for r in rotators
        ]
        stopper = asyncio.create_task(stop.wait(), name="stop")
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if runner in done:
            runner.result()
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
        stopper.cancel()
    finally:
        for task in rotating:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if server is not None:
            await server.stop()
        await kubelet.stop()
        await runtime.close()
        await client.close()
        log.info("kubelet %s stopped", config.node_name)


def serving_rotator(
    config: KubeletConfig, client: Client, server: KubeletServer
) -> CertificateRotator:
    """``--rotate-server-certificates``: the server's certificate comes from the
    kubelet-serving signer (for the node's name and ``--node-ip``), kept in the
    certificate directory; a valid one from before is used at once."""
    names = (config.hostname or config.node_name,)
    kind = serving_kind(names, (config.node_ip,) if config.node_ip else ())
    current = config.certificate_dir / kind.current
    if valid_now(current):
        server.cert_file = server.key_file = str(current)

    def cert_file() -> str | None:
        return str(current) if valid_now(current) else None

    return CertificateRotator(
        client, config.node_name, config.certificate_dir,
        cert_file=cert_file, on_new=server.use_certificate, kind=kind,
    )  # fmt: skip


async def bootstrap_and_run(
    config: KubeletConfig, kubeconfig: Path, bootstrap_kubeconfig: Path, server: str | None
) -> None:
    """TLS bootstrap (``--bootstrap-kubeconfig``) when ``kubeconfig`` has no usable
    client certificate, then run with it."""
    await bootstrap(kubeconfig, bootstrap_kubeconfig, config.certificate_dir, config.node_name)
    await run_kubelet(config, load_config(kubeconfig, server=server))


def serve(
    config: KubeletConfig,
    client_config: ClientConfig | None,
    log_level: str = "info",
    *,
    bootstrap_from: tuple[Path, Path, str | None] | None = None,
) -> None:
    """Run the kubelet with ``client_config``, or, given ``bootstrap_from`` (the
    kubeconfig to write, the bootstrap kubeconfig, ``--server``), after TLS bootstrap."""
    logging.basicConfig(
        level=getattr(logging, log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # One line per request is the client's debug output, not the kubelet's news.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if bootstrap_from is not None:
        run_main(bootstrap_and_run(config, *bootstrap_from))
    elif client_config is not None:
        run_main(run_kubelet(config, client_config))
