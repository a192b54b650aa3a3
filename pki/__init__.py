"""The cluster's PKI, made with the ``cryptography`` library as kubeadm's certificate
phases make it (``cmd/kubeadm/app/phases/certs``): a library that the command line
(``navarch up``, ``navarch pki``, ``navarch kubeconfig``) and the daemons (a serving
certificate for an apiserver or kubelet started without one, ``pki.serving``) use.

It sits beside ``apiclient`` in the layers: it imports nothing of navarch, and every
daemon may use it. ``ensure`` runs every phase (``pki.phases``) over one directory;
each phase makes what is missing, renews what is due (less than a third of a
certificate's life left, another CA, other names) and keeps the rest, so running it
on every start is how certificates rotate before they expire.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from pki.certlist import ClusterPKIConfig, Host, User
from pki.phases import certs, encryption, kubeconfig, sakey
from pki.x509 import Outcome


def ensure(
    pki_dir: Path,
    config: ClusterPKIConfig,
    *,
    kubeconfig_dir: Path | None = None,
    cluster: str = "kubernetes",
    server: str | None = None,
    now: datetime.datetime | None = None,
) -> list[Outcome]:
    """Run every phase: certificates, the service-account key, the encryption config,
    and (given a ``server`` URL) one kubeconfig per client identity in
    ``kubeconfig_dir`` (default: ``pki_dir``'s parent)."""
    outcomes = certs.run(pki_dir, config, now=now)
    outcomes += sakey.run(pki_dir)
    outcomes += encryption.run(pki_dir)
    if server is not None:
        out = kubeconfig_dir or pki_dir.parent
        outcomes += kubeconfig.run(pki_dir, out, config, cluster=cluster, server=server)
    return outcomes


__all__ = ["ClusterPKIConfig", "Host", "Outcome", "User", "ensure"]
