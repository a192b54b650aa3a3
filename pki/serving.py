"""A serving certificate for a daemon started without one, as kube-apiserver and the
kubelet make theirs: a CA of its own (``<name>-ca.crt``) and a certificate it signed
for the given hosts (``<name>.crt``, the chain, and ``<name>.key``), in ``cert_dir``.
Kept across restarts while it still names the same hosts and has a third of its life
left; a client trusts it by trusting ``<name>-ca.crt``."""

from __future__ import annotations

import datetime
import socket
from dataclasses import dataclass
from pathlib import Path

from pki.certlist import split_names
from pki.x509 import SERVER, CASpec, CertSpec, ensure_ca, ensure_leaf, utcnow, write_private


@dataclass(frozen=True)
class ServingFiles:
    cert_file: Path
    """The certificate and its CA, concatenated (the chain a TLS server sends)."""
    key_file: Path
    ca_file: Path


def self_signed(
    cert_dir: Path,
    name: str,
    hosts: list[str],
    *,
    now: datetime.datetime | None = None,
) -> ServingFiles:
    """Ensure a serving certificate for ``hosts`` (DNS names and IPs) under ``cert_dir``."""
    now = now or utcnow()
    hostname = socket.gethostname()
    ca_spec = CASpec(f"{name}-ca", f"{hostname}-ca@{name}", days=365)
    ca, _ = ensure_ca(cert_dir, ca_spec, now=now)
    dns, ips = split_names(hosts)
    dns = dns or ["localhost"]
    leaf_spec = CertSpec(
        f"{name}-leaf", ca_spec.name, f"{hostname}@{name}", (), (SERVER,),
        tuple(dict.fromkeys(dns)), tuple(dict.fromkeys(ips)), days=365,
    )  # fmt: skip
    leaf, _ = ensure_leaf(cert_dir, leaf_spec, ca, now=now)
    chain = cert_dir / f"{name}.crt"
    key = cert_dir / f"{name}.key"
    write_private(chain, leaf.cert_pem + ca.cert_pem)
    write_private(key, leaf.key_pem)
    return ServingFiles(chain, key, cert_dir / f"{name}-ca.crt")
