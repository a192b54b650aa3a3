"""Client certificates: the TLS handshake already checked the certificate against
``--client-ca-file`` (``apiserver.tls``); its subject is the user: CN the name, each O a
group (Kubernetes' ``CommonNameUserConversion``)."""

from __future__ import annotations

from typing import Any

from apiserver.tls import client_certificate
from apiserver.user import UserInfo


def authenticate(scope: Any) -> UserInfo | None:
    cert = client_certificate(scope)
    if cert is None or not cert.common_name:
        return None
    return UserInfo(cert.common_name, "", cert.organizations)
