"""The network agent's plan (routes and rules from Nodes) and its sync against a fake
kernel: only the difference is written, what is deleted behind its back comes back,
other agents' routes and rules are left alone, cleanup removes what it keeps."""

from __future__ import annotations

from typing import Any

from apitypes.core import Node
from netagent.agent import AgentConfig, NetworkAgent, cleanup
from netagent.kernel import Route, Rule
from netagent.plan import MASQ_CHAIN, desired_routes, route_changes, rules_for

CLUSTER = ["10.244.0.0/16"]


def node(name: str, cidr: str | None, *ips: str) -> Node:
    spec: dict[str, Any] = {"podCIDR": cidr, "podCIDRs": [cidr]} if cidr else {}
    addresses = [{"type": "InternalIP", "address": ip} for ip in ips]
    addresses.append({"type": "Hostname", "address": name})
    return Node.model_validate(
        {"metadata": {"name": name}, "spec": spec, "status": {"addresses": addresses}}
    )


def test_one_route_per_other_hosts_node_via_its_internal_ip():
    nodes = [
        node("here", "10.244.0.0/24", "10.120.0.11"),
        node("b", "10.244.1.0/24", "fd00::12", "10.120.0.12"),
        node("c", "10.244.2.0/24", "10.120.0.13"),
        node("no-cidr", None, "10.120.0.14"),
        node("no-ip", "10.244.4.0/24"),
        node("elsewhere", "10.9.0.0/24", "10.120.0.15"),  # outside the cluster CIDR
    ]
    routes = desired_routes(nodes, {"10.120.0.11", "127.0.0.1"}, CLUSTER)
    assert routes == {
        "10.244.1.0/24": Route("10.244.1.0/24", "10.120.0.12"),
        "10.244.2.0/24": Route("10.244.2.0/24", "10.120.0.13"),
    }
    # navarch up: every node is this host (InternalIP 127.0.0.1): no route at all.
    local = [node(f"n{i}", f"10.244.{i}.0/24", "127.0.0.1") for i in range(3)]
    assert desired_routes(local, {"127.0.0.1", "192.0.2.2"}, CLUSTER) == {}


def test_route_changes_fix_wrong_gateways_drop_gone_nodes_and_spare_other_clusters():
    desired = {
        "10.244.1.0/24": Route("10.244.1.0/24", "10.120.0.12"),
        "10.244.2.0/24": Route("10.244.2.0/24", "10.120.0.13"),
    }
    current = [
        Route("10.244.1.0/24", "10.120.0.99"),  # node moved
        Route("10.244.7.0/24", "10.120.0.17"),  # node gone
        Route("10.250.1.0/24", "10.120.0.20"),  # another agent's cluster
    ]
    replace, delete = route_changes(desired, current, CLUSTER)
    assert replace == [desired["10.244.1.0/24"], desired["10.244.2.0/24"]]
    assert delete == [Route("10.244.7.0/24", "10.120.0.17")]


def test_pod_to_pod_is_never_masqueraded_and_leaving_pod_traffic_is():
    rules = rules_for(CLUSTER, masquerade=True)
    jump = next(r for r in rules if r.chain == "POSTROUTING")
    assert jump.table == "nat"
    assert jump.spec[:5] == ("-s", "10.244.0.0/16", "!", "-d", "10.244.0.0/16")
    assert jump.spec[-2:] == ("-j", MASQ_CHAIN)
    accept = next(r for r in rules if r.chain == "DOCKER-USER")
    assert accept.first and accept.spec[:4] == ("-s", "10.244.0.0/16", "-d", "10.244.0.0/16")
    assert accept.spec[-2:] == ("-j", "ACCEPT")
    assert [r.chain for r in rules_for(CLUSTER, masquerade=False)] == ["DOCKER-USER"]


class FakeKernel:
    def __init__(self) -> None:
        self.addresses = {"127.0.0.1", "10.120.0.11"}
        self.route_table: dict[str, Route] = {}
        self.chains: dict[tuple[str, str], list[tuple[str, ...]]] = {
            ("filter", "DOCKER-USER"): [("-j", "RETURN")],
            ("nat", "POSTROUTING"): [],
        }
        self.writes = 0

    def local_addresses(self) -> set[str]:
        return set(self.addresses)

    def routes(self) -> list[Route]:
        return list(self.route_table.values())

    def replace_route(self, route: Route) -> None:
        self.writes += 1
        self.route_table[route.dst] = route

    def delete_route(self, route: Route) -> None:
        self.writes += 1
        self.route_table.pop(route.dst, None)

    def has_chain(self, table: str, chain: str) -> bool:
        return (table, chain) in self.chains

    def ensure_chain(self, table: str, chain: str) -> None:
        self.chains.setdefault((table, chain), [])

    def chain_rules(self, table: str, chain: str) -> list[str]:
        return [" ".join(["-A", chain, *spec]) for spec in self.chains[(table, chain)]]

    def flush_chain(self, table: str, chain: str) -> None:
        self.chains[(table, chain)] = []

    def delete_chain(self, table: str, chain: str) -> None:
        del self.chains[(table, chain)]

    def has_rule(self, rule: Rule) -> bool:
        return rule.spec in self.chains.get((rule.table, rule.chain), [])

    def add_rule(self, rule: Rule) -> None:
        self.writes += 1
        chain = self.chains[(rule.table, rule.chain)]
        chain.insert(0, rule.spec) if rule.first else chain.append(rule.spec)

    def delete_rule(self, rule: Rule) -> None:
        self.writes += 1
        self.chains[(rule.table, rule.chain)].remove(rule.spec)


def agent(kernel: FakeKernel, *nodes: Node) -> NetworkAgent:
    a = NetworkAgent(None, AgentConfig(cluster_cidrs=CLUSTER, local_routes=False), kernel)  # type: ignore[arg-type]
    for n in nodes:
        a.nodes.store.put(n.metadata.name or "", n)
    return a


async def test_sync_writes_the_difference_and_restores_what_was_deleted():
    kernel = FakeKernel()
    a = agent(
        kernel,
        node("me", "10.244.0.0/24", "10.120.0.11"),
        node("b", "10.244.1.0/24", "10.120.0.12"),
    )
    result = a.sync()
    assert result.errors == []
    assert kernel.route_table == {"10.244.1.0/24": Route("10.244.1.0/24", "10.120.0.12")}
    assert kernel.chains[("filter", "DOCKER-USER")][0][-1] == "ACCEPT"  # before RETURN
    assert kernel.chains[("nat", MASQ_CHAIN)] == [("-j", "MASQUERADE")]
    assert len(kernel.chains[("nat", "POSTROUTING")]) == 1
    writes = kernel.writes
    assert a.sync().added == [] and kernel.writes == writes  # nothing to do

    # Deleted behind its back, and a stray rule in its chain: the next sync repairs.
    kernel.route_table.clear()
    kernel.chains[("filter", "DOCKER-USER")].pop(0)
    kernel.chains[("nat", MASQ_CHAIN)].insert(0, ("-d", "1.2.3.4", "-j", "RETURN"))
    a.sync()
    assert "10.244.1.0/24" in kernel.route_table
    assert kernel.chains[("filter", "DOCKER-USER")][0][-1] == "ACCEPT"
    assert kernel.chains[("nat", MASQ_CHAIN)] == [("-j", "MASQUERADE")]

    # A node that goes away takes its route with it.
    a.nodes.store.remove("b")
    a.sync()
    assert kernel.route_table == {}


async def test_no_docker_user_chain_no_rule_there():
    kernel = FakeKernel()
    del kernel.chains[("filter", "DOCKER-USER")]
    a = agent(kernel)
    assert a.sync().errors == []
    assert ("filter", "DOCKER-USER") not in kernel.chains
    assert kernel.chains[("nat", MASQ_CHAIN)] == [("-j", "MASQUERADE")]


async def test_cleanup_removes_its_own_and_keeps_the_chain_another_cluster_jumps_to():
    kernel = FakeKernel()
    a = agent(kernel, node("b", "10.244.1.0/24", "10.120.0.12"))
    a.sync()
    other = NetworkAgent(
        None, AgentConfig(cluster_cidrs=["10.250.0.0/16"], local_routes=False), kernel
    )  # type: ignore[arg-type]
    other.sync()
    kernel.route_table["10.250.3.0/24"] = Route("10.250.3.0/24", "10.120.0.30")
    removed = cleanup(kernel, CLUSTER).removed
    assert any("10.244.1.0/24" in r for r in removed)
    assert list(kernel.route_table) == ["10.250.3.0/24"]
    assert kernel.chains[("nat", MASQ_CHAIN)] == [("-j", "MASQUERADE")]  # still used
    (jump,) = kernel.chains[("nat", "POSTROUTING")]
    assert "10.250.0.0/16" in jump
    cleanup(kernel, ["10.250.0.0/16"])
    assert ("nat", MASQ_CHAIN) not in kernel.chains
    assert kernel.chains[("nat", "POSTROUTING")] == []
    assert kernel.chains[("filter", "DOCKER-USER")] == [("-j", "RETURN")]


def test_local_routes_stay_while_another_live_cluster_holds_them(tmp_path, monkeypatch):
    from netagent import localroutes

    calls: list[tuple[str, Any]] = []
    monkeypatch.setattr(localroutes, "REGISTRY", tmp_path)
    monkeypatch.setattr(localroutes, "ensure", lambda s, c: calls.append(("ensure", (s, *c))))
    monkeypatch.setattr(localroutes, "remove_service_route", lambda: calls.append(("svc", None)))
    monkeypatch.setattr(localroutes, "remove_blackhole", lambda c: calls.append(("hole", c)))
    localroutes.acquire("/data/a", "10.96.0.0/12", ["10.244.0.0/16"])
    localroutes.acquire("/data/b", "10.96.0.0/12", ["10.170.0.0/16"])
    assert calls == [
        ("ensure", ("10.96.0.0/12", "10.244.0.0/16")),
        ("ensure", ("10.96.0.0/12", "10.170.0.0/16")),
    ]
    calls.clear()
    # a goes down while b runs: only a's blackhole goes.
    removed = localroutes.release("/data/a", in_use=lambda holder: holder == "/data/b")
    assert calls == [("hole", "10.244.0.0/16")] and removed == ["blackhole 10.244.0.0/16"]
    calls.clear()
    # b goes down too (or nothing runs it any more): everything goes.
    localroutes.acquire("/data/a", "10.96.0.0/12", ["10.244.0.0/16"])
    calls.clear()
    localroutes.release("/data/b", in_use=lambda holder: False)
    assert ("svc", None) in calls and ("hole", "10.170.0.0/16") in calls
    assert list(tmp_path.iterdir()) != []  # a's note stays until a's own down
