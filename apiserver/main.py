"""``navarch apiserver``: run the API server over etcd until stopped."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass
from typing import Any

import uvicorn

from apiserver.limits import HEADER_TIMEOUT, Limits
from apiserver.security import SecurityConfig
from apiserver.server import ApiServer, ServerConfig, build_app
from apiserver.tls import TLSHttpProtocol, TLSWebSocketProtocol, server_ssl_options


@dataclass
class ServeOptions:
    bind_address: str = "127.0.0.1"
    port: int = 6443
    tls_cert_file: str | None = None
    tls_private_key_file: str | None = None
    client_ca_file: str | None = None
    """``--client-ca-file``: client certificates it signed authenticate their subject."""
    cert_dir: str | None = None
    """``--cert-dir``: without ``--tls-cert-file``, a self-signed serving certificate is
    made (and kept) here, as kube-apiserver does."""
    log_level: str = "info"
    workers: int = 1
    request_header_timeout: float = HEADER_TIMEOUT


def serving_certificate(opts: ServeOptions) -> None:
    """With ``--cert-dir`` and no ``--tls-cert-file``: make (or keep) a self-signed
    serving certificate there and serve it."""
    if opts.tls_cert_file or not opts.cert_dir:
        return
    from pathlib import Path

    from pki.serving import self_signed

    hosts = ["localhost", "127.0.0.1"]
    if opts.bind_address not in ("0.0.0.0", "::", ""):
        hosts.append(opts.bind_address)
    files = self_signed(Path(opts.cert_dir), "apiserver", hosts)
    opts.tls_cert_file = str(files.cert_file)
    opts.tls_private_key_file = str(files.key_file)
    logging.getLogger(__name__).info(
        "serving a self-signed certificate; clients trust %s", files.ca_file
    )


def serve(config: ServerConfig, opts: ServeOptions) -> None:
    """Serve until SIGINT/SIGTERM: HTTPS with ``--tls-cert-file`` (or a self-signed
    certificate in ``--cert-dir``), plain HTTP without either (tests only)."""
    logging.basicConfig(
        level=getattr(logging, opts.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    serving_certificate(opts)
    config.security.client_ca_file = opts.client_ca_file
    try:
        # Built once here (also in worker mode) so that bad security flags (an unknown
        # authorization mode, an unreadable key) stop the start with their message.
        first = ApiServer(config)
    except (ValueError, OSError) as err:
        raise SystemExit(f"error: {err}") from err
    if not config.advertise_address or config.advertise_address == "127.0.0.1:6443":
        config.advertise_address = f"{opts.bind_address}:{opts.port}"
    if opts.workers > 1:
        # Several processes share the port (SO_REUSEPORT through uvicorn's supervisor);
        # each is a whole apiserver with its own watch caches, correct together because
        # every version comes from etcd, as when Kubernetes runs several apiservers.
        os.environ[_CONFIG_ENV] = json.dumps(dataclasses.asdict(config))
        target: Any = "apiserver.main:app_from_environment"
    else:
        target = build_app(first)
    uvicorn.run(
        target,
        factory=opts.workers > 1,
        workers=opts.workers if opts.workers > 1 else None,
        host=opts.bind_address,
        port=opts.port,
        **server_ssl_options(opts.tls_cert_file, opts.tls_private_key_file, opts.client_ca_file),
        log_level="warning" if opts.log_level == "info" else opts.log_level,
        access_log=False,
        loop="uvloop",
        # httptools with a cap on request heads and a deadline for them (slowloris), and
        # the WebSocket protocol (any subprotocol: kubectl port-forward offers
        # SPDY/3.1+portforward.k8s.io), each with the client certificate in scope.
        http=TLSHttpProtocol.with_limits(header_timeout=opts.request_header_timeout),
        timeout_keep_alive=120,
        lifespan="on",
        ws=TLSWebSocketProtocol,
    )


_CONFIG_ENV = "NAVARCH_APISERVER_CONFIG"


def app_from_environment() -> Any:
    """The app of one worker process, configured by its parent (``--workers``)."""
    raw = json.loads(os.environ[_CONFIG_ENV])
    raw["service_node_port_range"] = tuple(raw["service_node_port_range"])
    raw["security"] = SecurityConfig(**raw["security"])
    raw["limits"] = Limits(**raw["limits"])
    return build_app(ApiServer(ServerConfig(**raw)))
