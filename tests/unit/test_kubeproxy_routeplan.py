"""The routing plan of one Service port, and that both rule renderers follow it."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import pytest

from kubeproxy import iptables, nftables
from kubeproxy.routeplan import Policy, plan
from kubeproxy.servicemap import EndpointInfo, ServicePortState
from tests.unit.test_kubeproxy import port

REMOTE = EndpointInfo("10.0.0.1", 80, local=False)
LOCAL = EndpointInfo("10.0.0.2", 80, local=True)
LOCAL_TERMINATING = EndpointInfo(
    "10.0.0.3", 80, ready=False, serving=True, terminating=True, local=True
)
GONE = EndpointInfo("10.0.0.4", 80, ready=False, serving=False, local=True)


def test_policy_picks_its_own_side() -> None:
    assert Policy.CLUSTER.pick("KUBE-SVC-X", "KUBE-SVL-X") == "KUBE-SVC-X"
    assert Policy.LOCAL.pick("KUBE-SVC-X", "KUBE-SVL-X") == "KUBE-SVL-X"


def test_cluster_ip_with_endpoints_goes_to_the_cluster_chain_only() -> None:
    route = plan(port(), [REMOTE, LOCAL, GONE])
    assert route.internal is Policy.CLUSTER and route.has_internal
    assert route.internal_endpoints == (REMOTE, LOCAL)
    assert route.uses_cluster_chain and not route.uses_local_chain
    assert not route.uses_ext_chain and not route.uses_fw_chain


def test_no_endpoints_rejects_and_needs_no_chain() -> None:
    route = plan(port(node_port=30080, load_balancer_ips=("10.122.0.5",)), [GONE])
    assert not route.has_endpoints and route.refuse_rejects
    assert not route.has_internal and not route.has_external
    assert not (route.uses_cluster_chain or route.uses_local_chain or route.uses_ext_chain)


def test_internal_local_without_a_local_endpoint_drops() -> None:
    route = plan(port(internal_policy_local=True), [REMOTE])
    assert route.internal is Policy.LOCAL
    assert route.has_endpoints and not route.has_internal and not route.refuse_rejects
    assert not route.uses_cluster_chain and not route.uses_local_chain
    assert route.internal_endpoints == ()


def test_external_local_keeps_cluster_ip_traffic_on_every_endpoint() -> None:
    route = plan(port(node_port=30080, external_policy_local=True), [REMOTE, LOCAL_TERMINATING])
    assert route.internal is Policy.CLUSTER and route.external is Policy.LOCAL
    assert route.has_internal and route.has_external and route.uses_ext_chain
    assert route.uses_cluster_chain and route.uses_local_chain
    assert route.internal_endpoints == (REMOTE,)
    # No local endpoint is ready: Local falls back to the serving, terminating one.
    assert route.external_endpoints == (LOCAL_TERMINATING,)


def test_firewall_chain_only_with_source_ranges_and_endpoints() -> None:
    lb = {"load_balancer_ips": ("10.122.0.5",)}
    assert plan(port(source_ranges=("10.0.0.0/8",), **lb), [REMOTE]).uses_fw_chain
    assert not plan(port(**lb), [REMOTE]).uses_fw_chain
    assert not plan(port(source_ranges=("10.0.0.0/8",), **lb), []).uses_fw_chain


PORTS = [
    port(
        node_port=node_port,
        load_balancer_ips=lb,
        source_ranges=ranges,
        internal_policy_local=internal_local,
        external_policy_local=external_local,
    )
    for node_port, lb, ranges, internal_local, external_local in itertools.product(
        [0, 30080], [(), ("10.122.0.5",)], [(), ("10.0.0.0/8",)], [False, True], [False, True]
    )
]
ENDPOINT_SETS = [(), (REMOTE,), (LOCAL,), (LOCAL_TERMINATING,), (REMOTE, LOCAL), (GONE,)]


def chains_written(names: dict[str, str], chains: Iterable[str]) -> set[str]:
    """Which of a port's chains (cluster, local, external, firewall) a renderer wrote."""
    present = set(chains)
    return {kind for kind, chain in names.items() if chain in present}


@pytest.mark.parametrize("endpoints", ENDPOINT_SETS, ids=lambda e: "+".join(map(str, e)) or "none")
def test_both_renderers_write_the_chains_the_plan_names(
    endpoints: tuple[EndpointInfo, ...],
) -> None:
    for svc in PORTS:
        route = plan(svc, endpoints)
        planned = {
            kind
            for kind, used in (
                ("cluster", route.uses_cluster_chain),
                ("local", route.uses_local_chain),
                ("external", route.uses_ext_chain),
                ("firewall", route.uses_fw_chain),
            )
            if used
        }
        states = (ServicePortState(svc, endpoints),)

        ipt = iptables.render_service(states, cluster_cidr="10.244.0.0/16")
        suffix = iptables.port_chain_suffix(svc)
        ipt_names = {"cluster": "KUBE-SVC-", "local": "KUBE-SVL-", "external": "KUBE-EXT-"}
        ipt_names = {k: v + suffix for k, v in (*ipt_names.items(), ("firewall", "KUBE-FW-"))}
        assert chains_written(ipt_names, ipt.chains) == planned
        internal = route.internal.pick(ipt_names["cluster"], ipt_names["local"])
        nat = " ".join(ipt.shared.get(("nat", "KUBE-SERVICES"), []))
        assert (f"-j {internal}" in nat) == route.has_internal
        refused = " ".join(ipt.shared.get(("filter", "KUBE-SERVICES"), []))
        if not route.has_internal:
            assert ("-j REJECT" in refused) == route.refuse_rejects
            assert ("-j DROP" in refused) != route.refuse_rejects

        nft = nftables.render_service(states, cluster_cidr="10.244.0.0/16")
        base = nftables.chain_base(svc)
        nft_names = {k: f"{k}-{base}" for k in ("local", "external", "firewall")}
        nft_names["cluster"] = f"service-{base}"
        assert chains_written(nft_names, nft.chains) == planned
        verdicts = {(m, v) for m, k, v in nft.elements if k.startswith(svc.cluster_ip)}
        internal = route.internal.pick(nft_names["cluster"], nft_names["local"])
        assert (("service-ips", f"goto {internal}") in verdicts) == route.has_internal
        if not route.has_internal:
            refuse = "goto reject-chain" if route.refuse_rejects else "drop"
            assert ("no-endpoint-services", refuse) in verdicts
