"""Phase ``certs``: the certificate authorities, then every leaf certificate they sign
(``pki.certlist``). A missing one is made; one signed by another CA, with other names
or usages, or with less than a third of its life left is made anew; the rest is kept."""

from __future__ import annotations

import datetime
from pathlib import Path

from pki import certlist
from pki.x509 import KeyPair, Outcome, ensure_ca, ensure_leaf, utcnow


def run(
    pki_dir: Path,
    config: certlist.ClusterPKIConfig,
    *,
    now: datetime.datetime | None = None,
) -> list[Outcome]:
    """Ensure every CA and leaf certificate of ``config`` under ``pki_dir``."""
    now = now or utcnow()
    pki_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    outcomes: list[Outcome] = []
    cas: dict[str, KeyPair] = {}
    for spec in certlist.certificate_authorities():
        cas[spec.name], outcome = ensure_ca(pki_dir, spec, now=now)
        outcomes.append(outcome)
    for leaf in certlist.leaf_certs(config):
        _, outcome = ensure_leaf(pki_dir, leaf, cas[leaf.ca], now=now)
        outcomes.append(outcome)
    return outcomes
