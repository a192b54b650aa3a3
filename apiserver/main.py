"""``navarch apiserver``: run the API server over etcd until stopped."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import uvicorn

from apiserver.server import ApiServer, ServerConfig, build_app


@dataclass
class ServeOptions:
    bind_address: str = "127.0.0.1"
    port: int = 6443
    tls_cert_file: str | None = None
    tls_private_key_file: str | None = None
    log_level: str = "info"


def serve(config: ServerConfig, opts: ServeOptions) -> None:
    """Serve until SIGINT/SIGTERM. Plain HTTP unless a TLS certificate and key are given."""
    logging.basicConfig(
        level=getattr(logging, opts.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not config.advertise_address or config.advertise_address == "127.0.0.1:6443":
        config.advertise_address = f"{opts.bind_address}:{opts.port}"
    app = build_app(ApiServer(config))
    uvicorn.run(
        app,
        host=opts.bind_address,
        port=opts.port,
        ssl_certfile=opts.tls_cert_file,
        ssl_keyfile=opts.tls_private_key_file,
        log_level="warning" if opts.log_level == "info" else opts.log_level,
        access_log=False,
        loop="uvloop",
        http="httptools",
        timeout_keep_alive=120,
        lifespan="on",
    )
