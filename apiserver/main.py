"""``navarch apiserver``: run the API server over etcd until stopped."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass
from typing import Any

import uvicorn

from apiserver.limits import HEADER_TIMEOUT, GuardedHttpToolsProtocol, Limits
from apiserver.server import ApiServer, ServerConfig, build_app
from apiserver.subresources.podproxy import KubeWebSocketProtocol


@dataclass
class ServeOptions:
    bind_address: str = "127.0.0.1"
    port: int = 6443
    tls_cert_file: str | None = None
    tls_private_key_file: str | None = None
    log_level: str = "info"
    workers: int = 1
    request_header_timeout: float = HEADER_TIMEOUT


def serve(config: ServerConfig, opts: ServeOptions) -> None:
    """Serve until SIGINT/SIGTERM. Plain HTTP unless a TLS certificate and key are given."""
    logging.basicConfig(
        level=getattr(logging, opts.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not config.advertise_address or config.advertise_address == "127.0.0.1:6443":
        config.advertise_address = f"{opts.bind_address}:{opts.port}"
    if opts.workers > 1:
        # Several processes share the port (SO_REUSEPORT through uvicorn's supervisor);
        # each is a whole apiserver with its own watch caches, correct together because
        # every version comes from etcd, as when Kubernetes runs several apiservers.
        os.environ[_CONFIG_ENV] = json.dumps(dataclasses.asdict(config))
        target: Any = "apiserver.main:app_from_environment"
    else:
        target = build_app(ApiServer(config))
    uvicorn.run(
        target,
        factory=opts.workers > 1,
        workers=opts.workers if opts.workers > 1 else None,
        host=opts.bind_address,
        port=opts.port,
        ssl_certfile=opts.tls_cert_file,
        ssl_keyfile=opts.tls_private_key_file,
        log_level="warning" if opts.log_level == "info" else opts.log_level,
        access_log=False,
        loop="uvloop",
        # httptools with a cap on request heads and a deadline for them (slowloris).
        http=GuardedHttpToolsProtocol.with_limits(header_timeout=opts.request_header_timeout),
        timeout_keep_alive=120,
        lifespan="on",
        # kubectl port-forward offers the subprotocol SPDY/3.1+portforward.k8s.io.
        ws=KubeWebSocketProtocol,
    )


_CONFIG_ENV = "NAVARCH_APISERVER_CONFIG"


def app_from_environment() -> Any:
    """The app of one worker process, configured by its parent (``--workers``)."""
    raw = json.loads(os.environ[_CONFIG_ENV])
    raw["service_node_port_range"] = tuple(raw["service_node_port_range"])
    raw["limits"] = Limits(**raw["limits"])
    return build_app(ApiServer(ServerConfig(**raw)))
