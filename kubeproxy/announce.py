"""Layer-2 announcement of load-balancer IPs, as MetalLB's L2 mode does.

Where the nodes share one bridge and the load-balancer pool is a range of it (the
compose cluster: docs/network.md), a LoadBalancer IP must answer ARP on that bridge
from exactly one node. Every kube-proxy holds every served LB IP on ``kube-proxy0``
(``netif.py``) and DNATs it; with ``--lb-announce-interface IFACE`` it also:

- turns strict ARP on in its network namespace (``arp_ignore=1``: answer only for
  addresses of the interface the request came in on; ``arp_announce=2``), as
  kube-proxy's ``--ipvs-strict-arp`` does for MetalLB, so no node answers for the
  addresses on ``kube-proxy0``;
- adds to IFACE, as /32s labelled ``IFACE:lb``, the LB IPs this node owns, and sends
  one gratuitous ARP for each it takes, so that clients' neighbour caches follow a
  failover at once.

The owner of an IP (``owner``) is the same in every kube-proxy, with no talk between
them: of the candidate nodes, the one whose ``sha256(node "#" ip)`` is lowest
(MetalLB orders its speakers by such a hash, so IPs spread over the nodes).
Candidates are the Ready nodes without the
``node.kubernetes.io/exclude-from-external-load-balancers`` label; for a Service with
``externalTrafficPolicy: Local``, only those with a ready endpoint of it. When the
owner's Node stops being Ready (its kubelet's heartbeats stop: the node lifecycle
controller's grace period), the next candidate takes the IP over.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import socket
from collections.abc import Iterable, Mapping
from pathlib import Path

from apitypes.core import Node
from kubeproxy.netif import Addresses
from kubeproxy.servicemap import ServicePortState

log = logging.getLogger(__name__)

EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"
SYSCTLS = {"arp_ignore": "1", "arp_announce": "2"}


def owner(ip: str, candidates: Iterable[str]) -> str | None:
    """The node that announces ``ip``: the candidate with the lowest
    ``sha256(node#ip)``; None without candidates."""
    ranked = sorted(candidates, key=lambda node: hashlib.sha256(f"{node}#{ip}".encode()).digest())
    return ranked[0] if ranked else None


def eligible_nodes(nodes: Iterable[Node]) -> set[str]:
    """Ready nodes not excluded from external load balancers."""
    found: set[str] = set()
    for node in nodes:
        if EXCLUDE_LABEL in node.metadata.labels:
            continue
        conditions = node.status.conditions if node.status else []
        if any(c.type == "Ready" and c.status == "True" for c in conditions):
            found.add(node.metadata.name or "")
    return found


def owned(
    me: str,
    states: Mapping[str, tuple[ServicePortState, ...]],
    eligible: set[str],
    endpoint_nodes: Mapping[str, set[str]],
) -> set[str]:
    """The LB IPs node ``me`` announces. ``endpoint_nodes``: Service key -> the nodes with
    a ready endpoint of it (the candidates of ``externalTrafficPolicy: Local``)."""
    mine: set[str] = set()
    for key, ports in states.items():
        for state in ports:
            port = state.port
            candidates = eligible
            if port.external_policy_local:
                candidates = eligible & endpoint_nodes.get(key, set())
            mine.update(ip for ip in port.load_balancer_ips if owner(ip, candidates) == me)
    return mine


def gratuitous_arp(interface: str, ip: str) -> bytes:
    """An ARP request for ``ip`` from ``ip`` (RFC 5227's announcement), broadcast from
    ``interface``'s MAC address."""
    mac = bytes.fromhex(
        Path(f"/sys/class/net/{interface}/address").read_text().strip().replace(":", "")
    )
    addr = ipaddress.IPv4Address(ip).packed
    broadcast = b"\xff" * 6
    header = broadcast + mac + b"\x08\x06"
    arp = b"\x00\x01\x08\x00\x06\x04\x00\x01" + mac + addr + b"\x00" * 6 + addr
    return header + arp


class Announcer:
    """The /32s on one interface that kube-proxy announces, kept equal to what this node
    owns. Only addresses with its label are ever touched."""

    def __init__(self, interface: str) -> None:
        self.interface = interface
        self.addresses = Addresses(interface, label=f"{interface}:lb"[:15])
        self.strict = False

    def strict_arp(self) -> None:
        """``arp_ignore=1``, ``arp_announce=2`` on every interface of this namespace."""
        for name, value in SYSCTLS.items():
            for scope in ("all", self.interface):
                path = Path(f"/proc/sys/net/ipv4/conf/{scope}/{name}")
                try:
                    path.write_text(value)
                except OSError as err:
                    log.warning("strict ARP: cannot set %s: %s", path, err)
        self.strict = True

    async def ensure(self, addresses: Iterable[str]) -> None:
        """Hold exactly ``addresses`` (announcing each new one)."""
        if not self.strict:
            self.strict_arp()
        before = self.addresses.current
        added = await self.addresses.apply(addresses)
        if added or (before is not None and self.addresses.current != before):
            log.info("announcing %s on %s (took %s)", sorted(self.addresses.current or ()),
                     self.interface, added or "none")  # fmt: skip
        for ip in added:
            self._announce(ip)

    def _announce(self, ip: str) -> None:
        try:
            with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sock:
                sock.bind((self.interface, 0))
                sock.send(gratuitous_arp(self.interface, ip))
        except OSError as err:
            log.warning("gratuitous ARP for %s on %s: %s", ip, self.interface, err)

    async def clear(self) -> bool:
        """Remove every address of ours from the interface; True if there were any."""
        self.addresses.current = await self.addresses.read()
        had = bool(self.addresses.current)
        await self.addresses.apply(())
        return had
