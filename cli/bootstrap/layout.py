"""Where ``navarch init``/``join`` put things on a host, kubeadm's layout with
``navarch`` for ``kubernetes``: configuration and credentials in ``/etc/navarch`` (the
PKI in ``/etc/navarch/pki``), state in ``/var/lib/navarch``, logs (audit, and every
daemon's under the supervisor) in ``/var/log/navarch``, units in
``/etc/systemd/system``. Every path can sit under a root prefix (``--root`` or
``NAVARCH_ROOT``), which is how tests run a whole init on one machine.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

ETC = "/etc/navarch"
VAR = "/var/lib/navarch"
LOG = "/var/log/navarch"
UNITS = "/etc/systemd/system"
CONTROL_PLANE = "control-plane"
NODE = "node"


def default_root() -> Path:
    return Path(os.environ.get("NAVARCH_ROOT") or "/")


@dataclass(frozen=True)
class Layout:
    root: Path = field(default_factory=default_root)

    def under(self, path: str) -> Path:
        """``path`` (absolute, as on a real host) under the root."""
        return self.root / path.lstrip("/")

    @property
    def etc(self) -> Path:
        return self.under(ETC)

    @property
    def pki(self) -> Path:
        return self.etc / "pki"

    @property
    def var(self) -> Path:
        return self.under(VAR)

    @property
    def logs(self) -> Path:
        return self.under(LOG)

    @property
    def units(self) -> Path:
        return self.under(UNITS)

    @property
    def run(self) -> Path:
        """The supervisor's pid files and state (supervisor mode only)."""
        return self.var / "run"

    @property
    def admin_conf(self) -> Path:
        return self.etc / "admin.conf"

    @property
    def kubelet_conf(self) -> Path:
        """The kubelet's kubeconfig (its rotating client certificate)."""
        return self.etc / "kubelet.conf"

    @property
    def bootstrap_conf(self) -> Path:
        return self.etc / "bootstrap-kubelet.conf"

    def config(self, daemon: str) -> Path:
        """``--config`` file of ``daemon`` (``apiserver``, ``kubelet``, ...)."""
        return self.etc / f"{daemon}.yaml"

    @property
    def record_file(self) -> Path:
        return self.var / "host.json"

    def rewrite(self, text: str) -> str:
        """A unit's text with the host paths moved under the root."""
        if self.root == Path("/"):
            return text
        for path in (ETC, VAR, LOG):
            text = text.replace(path, str(self.under(path)))
        return text


@dataclass
class HostRecord:
    """What init or join made on this host, so that ``reset`` undoes exactly that."""

    role: str
    node_name: str
    units: list[str]
    init_system: str
    cluster_cidr: str = ""
    service_cidr: str = ""

    def save(self, layout: Layout) -> None:
        layout.var.mkdir(parents=True, exist_ok=True)
        layout.record_file.write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, layout: Layout) -> HostRecord | None:
        try:
            doc = json.loads(layout.record_file.read_text())
            return cls(**doc)
        except (OSError, ValueError, TypeError):
            return None
