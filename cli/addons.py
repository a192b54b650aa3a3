"""Cluster add-ons that ``navarch up`` and the compose cluster install: cluster DNS.

``deploy/addons/dns-rbac.yaml`` and ``dns.yaml`` (two ``navarch dns`` pods behind
``kube-dns`` at ``DNS_SERVICE_IP``), applied as the cluster admin with ``navctl apply``
(idempotent), in the image ``ADDON_IMAGE`` that ``deploy/compose/build-images.sh addon``
builds locally; no registry is pulled from, so without the image nothing is applied.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

DNS_SERVICE_IP = "10.96.0.10"
"""The ``kube-dns`` Service's fixed ClusterIP (the kubelets' ``--cluster-dns``)."""
CLUSTER_DOMAIN = "cluster.local"
ADDONS_DIR = Path(__file__).resolve().parents[1] / "deploy" / "addons"
ADDON_IMAGE = "navarch/navarch:current"
"""The image the add-ons run (``deploy/compose/build-images.sh addon`` builds it)."""
DNS_MANIFESTS = ("dns-rbac.yaml", "dns.yaml")


def image_present(image: str = ADDON_IMAGE) -> bool:
    """Whether the host's Docker Engine holds ``image``."""
    found = subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False)
    return found.returncode == 0


def missing_reason() -> str | None:
    """Why the DNS add-on cannot be installed from this installation, or None."""
    if not all((ADDONS_DIR / name).exists() for name in DNS_MANIFESTS):
        return f"{ADDONS_DIR} is not part of this installation"
    if not image_present():
        return (
            f"no image {ADDON_IMAGE} (build it: deploy/compose/build-images.sh addon; "
            "`make up` does)"
        )
    return None


def apply_dns(kubeconfig: Path, echo: Callable[[str], None] = print) -> None:
    """Apply the DNS add-on as the admin of ``kubeconfig``; RuntimeError when the
    apiserver refuses it."""
    files: list[str] = []
    for name in DNS_MANIFESTS:
        files += ["-f", str(ADDONS_DIR / name)]
    applied = subprocess.run(
        [sys.executable, "-m", "cli.navctl", "--kubeconfig", str(kubeconfig), "apply", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    if applied.returncode != 0:
        raise RuntimeError(f"dns: applying the add-on failed: {applied.stderr.strip()}")
    echo(f"dns: kube-system/navarch-dns applied (kube-dns at {DNS_SERVICE_IP})")
