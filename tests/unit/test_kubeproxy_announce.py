"""Who announces a load-balancer IP on the shared bridge (kubeproxy/announce.py)."""

from __future__ import annotations

import collections
from typing import Any

from apitypes.core import Node
from kubeproxy.announce import EXCLUDE_LABEL, eligible_nodes, gratuitous_arp, owned, owner
from kubeproxy.servicemap import ServicePortState
from tests.unit.test_kubeproxy import port

NODES = ["node-1", "node-2", "node-3"]


def node(name: str, ready: str = "True", **labels: str) -> Node:
    body: dict[str, Any] = {
        "metadata": {"name": name, "labels": labels},
        "status": {"conditions": [{"type": "Ready", "status": ready}]},
    }
    return Node.model_validate(body)


def test_every_node_computes_the_same_owner_and_ips_spread() -> None:
    ips = [f"10.120.0.{i}" for i in range(65, 125)]
    owners = {ip: owner(ip, NODES) for ip in ips}
    # The order the candidates come in does not matter: every kube-proxy agrees.
    assert owners == {ip: owner(ip, reversed(NODES)) for ip in ips}
    counts = collections.Counter(owners.values())
    assert set(counts) == set(NODES) and min(counts.values()) >= 10
    assert owner("10.120.0.65", []) is None


def test_failover_moves_only_the_lost_nodes_ips() -> None:
    ips = [f"10.120.0.{i}" for i in range(65, 125)]
    before = {ip: owner(ip, NODES) for ip in ips}
    after = {ip: owner(ip, ["node-1", "node-3"]) for ip in ips}
    for ip in ips:
        if before[ip] != "node-2":
            assert after[ip] == before[ip]
        else:
            assert after[ip] in ("node-1", "node-3")


def test_only_ready_nodes_not_excluded_are_eligible() -> None:
    nodes = [
        node("node-1"),
        node("node-2", ready="Unknown"),
        node("node-3", **{EXCLUDE_LABEL: ""}),
        Node.model_validate({"metadata": {"name": "node-4"}}),
    ]
    assert eligible_nodes(nodes) == {"node-1"}


def test_owned_follows_policy_local_to_nodes_with_endpoints() -> None:
    ip = next(f"10.120.0.{i}" for i in range(65, 125) if owner(f"10.120.0.{i}", NODES) == "node-2")
    cluster = {"ns/web": (ServicePortState(port(load_balancer_ips=(ip,))),)}
    assert owned("node-2", cluster, set(NODES), {}) == {ip}
    assert owned("node-1", cluster, set(NODES), {}) == set()
    local = {
        "ns/web": (ServicePortState(port(load_balancer_ips=(ip,), external_policy_local=True)),)
    }
    # Local policy: only a node with a ready endpoint may answer, or traffic is dropped.
    assert owned("node-2", local, set(NODES), {"ns/web": {"node-1"}}) == set()
    assert owned("node-1", local, set(NODES), {"ns/web": {"node-1"}}) == {ip}
    assert owned("node-1", local, {"node-2", "node-3"}, {"ns/web": {"node-1"}}) == set()


def test_gratuitous_arp_is_a_broadcast_request_for_the_address_from_itself() -> None:
    frame = gratuitous_arp("lo", "10.120.0.65")
    assert len(frame) == 42
    assert frame[:6] == b"\xff" * 6 and frame[12:14] == b"\x08\x06"
    arp = frame[14:]
    assert arp[6:8] == b"\x00\x01"  # a request
    sender_ip, target_ip = arp[14:18], arp[24:28]
    assert sender_ip == target_ip == bytes([10, 120, 0, 65])


class FakeAnnouncer:
    def __init__(self) -> None:
        self.held: list[set[str]] = []

    async def ensure(self, addresses: Any) -> None:
        self.held.append(set(addresses))


async def test_proxier_announces_what_it_owns_and_fails_over_when_a_node_turns_not_ready() -> None:
    from apiclient import Client, ClientConfig, InformerFactory
    from kubeproxy.proxier import Proxier, ProxyOptions
    from tests.unit.test_kubeproxy import FakeBackend, svc

    ip = next(
        f"10.120.0.{i}"
        for i in range(65, 125)
        if owner(f"10.120.0.{i}", NODES) == "node-2"
        and owner(f"10.120.0.{i}", ["node-1", "node-3"]) == "node-1"
    )
    announcer = FakeAnnouncer()
    client = Client(ClientConfig(server="http://127.0.0.1:1"))
    proxiers = {}
    for me in ("node-1", "node-2"):
        p = Proxier(
            InformerFactory(client), FakeBackend(), ProxyOptions(me),
            announcer=announcer if me == "node-1" else FakeAnnouncer(),  # type: ignore[arg-type]
        )  # fmt: skip
        lb = svc(type="LoadBalancer", status={"loadBalancer": {"ingress": [{"ip": ip}]}})
        p.services.store.put("ns/web", lb)
        for name in NODES:
            p.nodes.store.put(name, node(name))
        proxiers[me] = p
    for p in proxiers.values():
        await p.sync()
    assert announcer.held[-1] == set()  # node-1: node-2 owns it
    assert proxiers["node-2"].announcer.held[-1] == {ip}  # type: ignore[union-attr]
    # node-2 stops being Ready: node-1 takes over, by the Node's update alone.
    p1 = proxiers["node-1"]
    p1.nodes.store.put("node-2", node("node-2", ready="Unknown"))
    p1._node_changed(node("node-2", ready="Unknown"))
    assert p1.runner.schedule.requested
    await p1.sync()
    assert announcer.held[-1] == {ip}
    await client.close()
