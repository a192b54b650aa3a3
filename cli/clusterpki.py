"""``navarch pki`` and ``navarch kubeconfig``: the cluster's PKI and kubeconfigs from the
command line, for clusters that ``navarch up`` does not start (the compose cluster,
hosts joined by hand).

``navarch pki`` runs every PKI phase over one directory (``pki.ensure``): re-running it
keeps what is valid, renews what is due and adds what a new node or member needs.
``navarch kubeconfig`` prints (or writes) the kubeconfig of one identity.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from pki import certlist, ensure
from pki.phases import kubeconfig
from pki.x509 import Outcome, write_private


def parse_host(text: str, default_ips: tuple[str, ...] = ("127.0.0.1",)) -> certlist.Host:
    """``NAME`` or ``NAME=IP[,IP...]`` (a node, an etcd member, a control-plane host)."""
    name, sep, ips = text.partition("=")
    if not name.strip():
        raise ValueError(f"{text!r}: expected NAME or NAME=IP[,IP...]")
    found = tuple(ip.strip() for ip in ips.split(",") if ip.strip()) if sep else default_ips
    import ipaddress

    for ip in found:
        ipaddress.ip_address(ip)
    return certlist.Host(name.strip(), found)


def config_from_flags(
    *,
    nodes: list[str],
    etcd_members: list[str],
    control_plane: list[str],
    apiserver_names: list[str],
    service_cidr: str,
    cluster_domain: str,
) -> certlist.ClusterPKIConfig:
    return certlist.ClusterPKIConfig(
        nodes=tuple(parse_host(n) for n in nodes),
        etcd_members=tuple(parse_host(m) for m in etcd_members) or (certlist.Host("etcd"),),
        control_plane=tuple(parse_host(h) for h in control_plane) or (certlist.Host("localhost"),),
        apiserver_names=tuple(apiserver_names),
        service_cidr=service_cidr,
        cluster_domain=cluster_domain,
    )


def describe(outcomes: list[Outcome], *, verbose: bool = False) -> list[str]:
    """One line per change (every item with ``verbose``)."""
    lines = []
    for o in outcomes:
        if o.action == "kept" and not verbose:
            continue
        why = f" ({o.reason})" if o.reason else ""
        lines.append(f"{o.name}: {o.action}{why}")
    return lines


def run_pki(
    pki_dir: Path,
    config: certlist.ClusterPKIConfig,
    *,
    server: str | None,
    cluster: str,
    kubeconfig_dir: Path | None,
) -> list[Outcome]:
    return ensure(pki_dir, config, server=server, cluster=cluster, kubeconfig_dir=kubeconfig_dir)


def user_for(name: str) -> certlist.User:
    """The identity a ``--user`` names: ``admin``, ``controller-manager``, ``scheduler``,
    ``kube-proxy``, ``network-agent`` or ``node:<name>``."""
    if name.startswith("node:"):
        return certlist.node_user(name.removeprefix("node:"))
    for user in certlist.CONTROL_PLANE_USERS:
        if user.file == name:
            return user
    known = ", ".join(u.file for u in certlist.CONTROL_PLANE_USERS)
    raise ValueError(f"unknown user {name!r}: one of {known}, or node:<name>")


def kubeconfig_text(pki_dir: Path, user: str, *, server: str, cluster: str) -> str:
    """The kubeconfig of ``user``; its certificate must exist (``navarch pki`` first)."""
    who = user_for(user)
    spec = certlist.user_cert(who)
    if not (pki_dir / f"{spec.name}.crt").exists():
        raise FileNotFoundError(
            f"{pki_dir / spec.name}.crt does not exist: run `navarch pki --dir {pki_dir}` "
            "first (with --node for a node's identity)"
        )
    doc = kubeconfig.for_user(pki_dir, who, cluster=cluster, server=server)
    return yaml.safe_dump(doc, sort_keys=False)


def write_text(path: Path, text: str) -> None:
    write_private(path, text.encode())
