"""Phase ``kubeconfig``: one kubeconfig per client identity (``admin.conf``,
``controller-manager.conf``, ``scheduler.conf``, ``kube-proxy.conf``,
``network-agent.conf``, ``node-<name>.conf``), each with the cluster CA, the server
URL and the identity's client certificate and key embedded (``*-data``), as kubeadm
writes ``/etc/kubernetes/*.conf``. Rewritten only when what it would hold changed (a
renewed certificate, another server URL)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml

from pki import certlist
from pki.x509 import Outcome, cert_path, key_path, write_private


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def document(
    *,
    cluster: str,
    server: str,
    ca_pem: bytes,
    user: str,
    cert_pem: bytes | None = None,
    key_pem: bytes | None = None,
    token: str | None = None,
    context: str | None = None,
    namespace: str | None = None,
) -> dict[str, Any]:
    """A whole kubeconfig for one cluster, one user and the context joining them."""
    credentials: dict[str, Any] = {}
    if cert_pem is not None and key_pem is not None:
        credentials["client-certificate-data"] = _b64(cert_pem)
        credentials["client-key-data"] = _b64(key_pem)
    if token:
        credentials["token"] = token
    ctx: dict[str, Any] = {"cluster": cluster, "user": user}
    if namespace:
        ctx["namespace"] = namespace
    name = context or f"{user}@{cluster}"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster,
                "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)},
            }
        ],
        "users": [{"name": user, "user": credentials}],
        "contexts": [{"name": name, "context": ctx}],
        "current-context": name,
    }


def for_user(pki_dir: Path, user: certlist.User, *, cluster: str, server: str) -> dict[str, Any]:
    """The kubeconfig of ``user`` (whose certificate the ``certs`` phase made)."""
    spec = certlist.user_cert(user)
    return document(
        cluster=cluster,
        server=server,
        ca_pem=cert_path(pki_dir, certlist.CLUSTER_CA.name).read_bytes(),
        user=user.common_name,
        cert_pem=cert_path(pki_dir, spec.name).read_bytes(),
        key_pem=key_path(pki_dir, spec.name).read_bytes(),
    )


def file_name(user: certlist.User) -> str:
    return f"{user.file}.conf"


def run(
    pki_dir: Path,
    out_dir: Path,
    config: certlist.ClusterPKIConfig,
    *,
    cluster: str,
    server: str,
) -> list[Outcome]:
    """Write (or keep) the kubeconfig of every user of ``config`` into ``out_dir``."""
    outcomes = []
    for user in certlist.users(config):
        path = out_dir / file_name(user)
        data = yaml.safe_dump(
            for_user(pki_dir, user, cluster=cluster, server=server), sort_keys=False
        ).encode()
        if path.exists() and path.read_bytes() == data:
            outcomes.append(Outcome(path.name, "kept"))
            continue
        action = "renewed" if path.exists() else "created"
        write_private(path, data)
        outcomes.append(Outcome(path.name, action, "", [path]))
    return outcomes
