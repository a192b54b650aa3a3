"""The systemd units of a host and each daemon's ``--config`` file.

The templates are this package's ``systemd/*.service`` (package data: the AWS path
installs navarch from the wheel alone; ``deploy/systemd`` in the repository is a link
here, so there is one copy). Each is a valid unit for the default installation
(``/usr/local/bin/navarch``, ``/usr/bin/etcd``, ``/etc/navarch``); ``render`` puts in
this host's navarch and etcd executables and moves the paths under the layout's root.
Each daemon's ``ExecStart`` is ``<daemon> --config /etc/navarch/<daemon>.yaml``: what
differs per host is in that YAML file (``cli/daemonconfig.py``), written here.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cli.bootstrap.layout import Layout
from pki.x509 import write_private

NAVARCH_DEFAULT = "/usr/local/bin/navarch"
ETCD_DEFAULT = "/usr/bin/etcd"
CONTROL_PLANE_UNITS = (
    "navarch-etcd",
    "navarch-apiserver",
    "navarch-controller-manager",
    "navarch-scheduler",
)
NODE_UNITS = ("navarch-kubelet", "navarch-proxy", "navarch-network-agent")
ALL_UNITS = (*CONTROL_PLANE_UNITS, *NODE_UNITS)


def daemon_of(unit: str) -> str:
    """``navarch-apiserver`` -> ``apiserver`` (also its config file's stem)."""
    return unit.removeprefix("navarch-")


def template(unit: str) -> str:
    """The shipped text of ``<unit>.service``."""
    return (resources.files("cli.bootstrap") / "systemd" / f"{unit}.service").read_text()


def navarch_executable() -> str:
    """This installation's ``navarch`` (the venv's, beside this Python), else PATH's."""
    beside = Path(sys.executable).parent / "navarch"
    if beside.exists():
        return str(beside)
    return shutil.which("navarch") or NAVARCH_DEFAULT


def etcd_executable() -> str:
    from apiserver.etcd_server import etcd_binary

    try:
        return etcd_binary()
    except FileNotFoundError:
        return ETCD_DEFAULT


def render(unit: str, layout: Layout, *, navarch: str, etcd: str) -> str:
    text = template(unit).replace(NAVARCH_DEFAULT, navarch).replace(ETCD_DEFAULT, etcd)
    return layout.rewrite(text)


def exec_start(text: str) -> list[str]:
    """The command of a unit's ``ExecStart=`` line."""
    for line in text.splitlines():
        if line.startswith("ExecStart="):
            return shlex.split(line.removeprefix("ExecStart=").lstrip("-@+!:"))
    raise ValueError("the unit has no ExecStart=")


def write_units(layout: Layout, units: tuple[str, ...] | list[str]) -> list[Path]:
    """Render ``units`` into the layout's unit directory; their paths."""
    layout.units.mkdir(parents=True, exist_ok=True)
    navarch, etcd = navarch_executable(), etcd_executable()
    written = []
    for unit in units:
        path = layout.units / f"{unit}.service"
        path.write_text(render(unit, layout, navarch=navarch, etcd=etcd))
        written.append(path)
    return written


def installed_units(layout: Layout) -> list[str]:
    """navarch's units in the layout's unit directory, in start order."""
    return [u for u in ALL_UNITS if (layout.units / f"{u}.service").exists()]


def write_config(layout: Layout, daemon: str, values: dict[str, Any]) -> Path:
    """``/etc/navarch/<daemon>.yaml`` (root-only: it names key files)."""
    path = layout.config(daemon)
    write_private(path, yaml.safe_dump(values, sort_keys=False).encode())
    return path


def flag_pairs(flags: list[str]) -> dict[str, str]:
    """``["--a", "1", "--b", "2"]`` -> ``{"a": "1", "b": "2"}`` (a flag list of pairs)."""
    if len(flags) % 2:
        raise ValueError("flags must come in pairs")
    return {flags[i].removeprefix("--"): flags[i + 1] for i in range(0, len(flags), 2)}


def etcd_config(layout: Layout, member: str, client_port: int, peer_port: int) -> dict[str, Any]:
    """etcd's own ``--config-file`` (its YAML form of its flags): one member on loopback
    (the apiserver is its only client), mutual TLS on both ports as ``navarch up``."""
    etcd_pki = layout.pki / "etcd"
    client = f"https://127.0.0.1:{client_port}"
    peer = f"https://127.0.0.1:{peer_port}"

    def tls(kind: str) -> dict[str, Any]:
        return {
            "cert-file": str(etcd_pki / member / f"{kind}.crt"),
            "key-file": str(etcd_pki / member / f"{kind}.key"),
            "client-cert-auth": True,
            "trusted-ca-file": str(etcd_pki / "ca.crt"),
        }

    return {
        "name": member,
        "data-dir": str(layout.var / "etcd"),
        "listen-client-urls": client,
        "advertise-client-urls": client,
        "listen-peer-urls": peer,
        "initial-advertise-peer-urls": peer,
        "initial-cluster": f"{member}={peer}",
        "initial-cluster-state": "new",
        "logger": "zap",
        "log-level": "warn",
        "quota-backend-bytes": 4 * 1024**3,
        "snapshot-count": 50000,
        "client-transport-security": tls("server"),
        "peer-transport-security": tls("peer"),
    }
