"""The subject of the client certificate a TLS connection verified: the user a client
certificate names (CN the name, each O a group, as Kubernetes'
``CommonNameUserConversion``), for every server that takes client certificates (the
apiserver, the kubelet). The handshake verified it against the server's client CA
(``CERT_OPTIONAL``: a certificate of another CA is refused, a client without one goes on
to authenticate otherwise)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PeerCertificate:
    """The subject of a verified client certificate."""

    common_name: str
    organizations: tuple[str, ...]
    not_after: str = ""


def peer_certificate(transport: Any) -> PeerCertificate | None:
    """The verified client certificate on ``transport``, None without one."""
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    if ssl_object is None:
        return None
    try:
        cert = ssl_object.getpeercert()
    except (ValueError, ssl.SSLError):
        return None
    if not cert:
        return None
    cn = ""
    orgs: list[str] = []
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                cn = value
            elif key == "organizationName":
                orgs.append(value)
    return PeerCertificate(cn, tuple(orgs), str(cert.get("notAfter", "")))
