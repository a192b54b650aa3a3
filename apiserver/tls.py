"""Serving: the certificate a client presented, carried into each request's scope, and
the WebSocket handshake Kubernetes' clients need.

Uvicorn terminates TLS but does not hand the peer's certificate to the application.
These protocol classes (``http=`` and ``ws=`` of uvicorn) read it once per connection
from the SSL object (verified against ``--client-ca-file`` by the handshake itself:
``CERT_OPTIONAL`` refuses a certificate of another CA and lets a client without one
through, to authenticate otherwise) and put it in the scope as the ASGI TLS extension
does: ``scope["extensions"]["tls"]["client_cert"]``, a ``PeerCertificate``.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.datastructures import Headers
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol

from apiserver.limits import GuardedHttpToolsProtocol
from pki.peer import PeerCertificate, peer_certificate

__all__ = ["PeerCertificate", "client_certificate", "peer_certificate"]


def client_certificate(scope: Any) -> PeerCertificate | None:
    """The client certificate of a request's ``scope``, None when there is none."""
    tls = (scope.get("extensions") or {}).get("tls")
    if not tls:
        return None
    found = tls.get("client_cert")
    return found if isinstance(found, PeerCertificate) else None


def _with_tls(scope: Any, peer: PeerCertificate | None) -> None:
    if peer is not None:
        extensions = scope.setdefault("extensions", {})
        extensions["tls"] = {"client_cert": peer}


class _AnySubprotocolServer(ServerProtocol):
    """The WebSocket handshake without websockets' own subprotocol check.

    That parser accepts only HTTP tokens and so refuses kubectl's
    ``SPDY/3.1+portforward.k8s.io`` (a ``/``) with a 400 before the app sees the request.
    Uvicorn reads the offered subprotocols itself (split on commas) and answers with
    the one the app accepts, so nothing is lost by skipping it here."""

    def process_subprotocol(self, headers: Headers) -> Subprotocol | None:
        return None


class KubeWebSocketProtocol(WebSocketsSansIOProtocol):
    """Uvicorn's WebSocket protocol (``ws=``) taking any offered subprotocol."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn.__class__ = _AnySubprotocolServer


class TLSHttpProtocol(GuardedHttpToolsProtocol):
    """Uvicorn's httptools protocol with the request-head limits
    (``apiserver.limits``), and the client certificate in every scope."""

    _peer: PeerCertificate | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._peer = peer_certificate(transport)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        _with_tls(self.scope, self._peer)


class TLSWebSocketProtocol(KubeWebSocketProtocol):
    """The WebSocket protocol (any subprotocol) with the client certificate in scope."""

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        # The ASGI task is scheduled, not yet running: the scope can still be extended.
        _with_tls(self.scope, peer_certificate(self.transport))


def server_ssl_options(
    cert_file: str | None, key_file: str | None, client_ca_file: str | None
) -> dict[str, Any]:
    """Uvicorn's ``ssl_*`` arguments: serve ``cert_file``; with a client CA, ask for a
    client certificate and verify it (without requiring one)."""
    if not cert_file:
        return {}
    options: dict[str, Any] = {"ssl_certfile": cert_file, "ssl_keyfile": key_file}
    if client_ca_file:
        options["ssl_ca_certs"] = client_ca_file
        options["ssl_cert_reqs"] = ssl.CERT_OPTIONAL
    return options
