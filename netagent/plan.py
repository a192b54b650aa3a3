"""What the kernel should hold, computed from the Nodes: pure functions, no I/O.

- **Routes**: for every Node with a podCIDR inside the cluster CIDR and an InternalIP
  of the same family that is not one of this host's addresses, ``podCIDR via
  InternalIP`` (kindnetd's ``routes.go``, flannel's host-gw). Nodes of this host need
  none: their pod bridges' connected routes are there.
- **Rules** (iptables):
  - ``filter DOCKER-USER``: ``-s <cluster> -d <cluster> -j ACCEPT`` first, so that
    Docker's isolation of one bridge network from another does not cut pod bridges of
    the same host (or traffic routed in from another node) apart;
  - ``nat POSTROUTING``: ``-s <cluster> ! -d <cluster> -j NAVARCH-MASQ``, and
    ``NAVARCH-MASQ`` holds ``-j MASQUERADE``: pod traffic leaving the cluster CIDR takes
    the address of the interface it leaves by; pod-to-pod traffic is never NATed
    (kindnetd's ``masq.go``). The cluster CIDR lives in the jump rule, not in the
    chain, so two agents with different cluster CIDRs on one host (two local clusters)
    share the chain without undoing each other.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from apitypes.core import Node
from netagent.kernel import Route, Rule

MASQ_CHAIN = "NAVARCH-MASQ"
DOCKER_USER = "DOCKER-USER"


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def in_cluster(cidr: str, clusters: Iterable[str]) -> bool:
    net = _network(cidr)
    if net is None:
        return False
    for text in clusters:
        cluster = _network(text)
        if cluster is not None and net.version == cluster.version and net.subnet_of(cluster):  # type: ignore[arg-type]
            return True
    return False


def desired_routes(nodes: Iterable[Node], local: set[str], clusters: list[str]) -> dict[str, Route]:
    """Routes by destination: one per other host's Node podCIDR."""
    routes: dict[str, Route] = {}
    for node in sorted(nodes, key=lambda n: n.metadata.name or ""):
        ips = node.internal_ips()
        if any(ip in local for ip in ips):
            continue  # this host's Node: its bridge is here
        for cidr in node.pod_cidrs():
            net = _network(cidr)
            if net is None or not in_cluster(cidr, clusters):
                continue
            via = next((ip for ip in ips if _family(ip) == net.version), None)
            if via is not None:
                routes[str(net)] = Route(str(net), via)
    return routes


def _family(address: str) -> int:
    try:
        return ipaddress.ip_address(address).version
    except ValueError:
        return 0


def route_changes(
    desired: dict[str, Route], current: list[Route], clusters: list[str]
) -> tuple[list[Route], list[Route]]:
    """(to replace, to delete): our routes inside the cluster CIDRs that are wrong or
    gone, and desired ones that are missing. Our routes outside them belong to another
    agent (another local cluster) and are left alone."""
    ours = [r for r in current if in_cluster(r.dst, clusters)]
    have = {r.dst: r for r in ours}
    replace = [r for dst, r in sorted(desired.items()) if have.get(dst) != r]
    delete = [r for r in ours if r.dst not in desired]
    return replace, delete


def forward_rules(clusters: list[str]) -> list[Rule]:
    comment = ("-m", "comment", "--comment", "navarch: pod bridges are not isolated")
    return [
        Rule("filter", DOCKER_USER, ("-s", c, "-d", c, *comment, "-j", "ACCEPT"), first=True)
        for c in clusters
    ]


def masquerade_jumps(clusters: list[str]) -> list[Rule]:
    comment = ("-m", "comment", "--comment", "navarch: pod traffic leaving the cluster CIDR")
    return [
        Rule("nat", "POSTROUTING", ("-s", c, "!", "-d", c, *comment, "-j", MASQ_CHAIN))
        for c in clusters
    ]


MASQ_RULE = Rule("nat", MASQ_CHAIN, ("-j", "MASQUERADE"))


def rules_for(clusters: list[str], *, masquerade: bool) -> list[Rule]:
    """Every rule the agent keeps (``NAVARCH-MASQ``'s own rule last)."""
    rules = forward_rules(clusters)
    if masquerade:
        rules += [*masquerade_jumps(clusters), MASQ_RULE]
    return rules
