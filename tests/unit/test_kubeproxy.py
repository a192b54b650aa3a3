"""kube-proxy's logic without the kernel: endpoint merging, categorizing, the rules each
mode renders from Services and slices, the bounded runner, the userspace balancer."""

from __future__ import annotations

from typing import Any

import pytest

from apitypes.core import Service
from apitypes.discovery import EndpointSlice
from kubeproxy.iptables import (
    JUMPS,
    Change,
    IptablesRenderer,
    endpoint_chain,
    missing_jumps,
    parse_chains,
    port_chain_suffix,
)
from kubeproxy.nftables import STATIC_CHAINS as STATIC
from kubeproxy.nftables import NftablesRenderer, parse_listing
from kubeproxy.runner import Schedule
from kubeproxy.servicemap import (
    EndpointInfo,
    EndpointSliceCache,
    ServicePort,
    ServicePortName,
    ServicePortState,
    categorize,
    service_ports,
    service_state,
)
from kubeproxy.userspace import Balancer, desired_listeners


def svc(name: str = "web", **spec: Any) -> Service:
    body: dict[str, Any] = {
        "clusterIP": "10.96.0.20",
        "type": "ClusterIP",
        "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}],
    }
    status = spec.pop("status", None)
    body.update(spec)
    return Service.model_validate(
        {"metadata": {"name": name, "namespace": "ns"}, "spec": body, "status": status or {}}
    )


def eps(
    name: str, *endpoints: dict[str, Any], address_type: str = "IPv4", service: str = "web"
) -> EndpointSlice:
    return EndpointSlice.model_validate(
        {
            "metadata": {
                "name": name,
                "namespace": "ns",
                "labels": {"kubernetes.io/service-name": service},
            },
            "addressType": address_type,
            "endpoints": list(endpoints),
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        }
    )


def ep(ip: str, **conditions: Any) -> dict[str, Any]:
    node = conditions.pop("node", None)
    out: dict[str, Any] = {"addresses": [ip], "conditions": conditions}
    if node:
        out["nodeName"] = node
    return out


def state(
    service: Service, *slices: EndpointSlice, local: set[str] | None = None
) -> tuple[ServicePortState, ...]:
    cache = EndpointSliceCache(is_local=lambda n: n in (local or set()))
    for s in slices:
        cache.update(s)
    return service_state(service_ports(service), cache.endpoints(f"ns/{service.metadata.name}"))


def port(**fields: Any) -> ServicePort:
    base: dict[str, Any] = {
        "name": ServicePortName("ns", "web", "http", "TCP"),
        "cluster_ip": "10.96.0.20",
        "port": 80,
        "protocol": "TCP",
    }
    base.update(fields)
    return ServicePort(**base)


# --- Services and slices -------------------------------------------------------------------


def test_service_ports_follow_type_affinity_and_policies() -> None:
    assert service_ports(svc(clusterIP="None")) == []
    assert service_ports(svc(type="ExternalName", externalName="a.b", clusterIP=None)) == []
    lb = svc(
        type="LoadBalancer",
        ports=[{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}],
        sessionAffinity="ClientIP",
        externalTrafficPolicy="Local",
        status={"loadBalancer": {"ingress": [{"ip": "10.122.0.7"}]}},
    )
    (p,) = service_ports(lb)
    assert (p.node_port, p.load_balancer_ips, p.affinity_timeout) == (30080, ("10.122.0.7",), 10800)
    assert p.external_policy_local and not p.internal_policy_local
    assert str(p.name) == "ns/web:http"


def test_slices_merge_per_port_dedupe_and_read_unset_conditions_as_ready() -> None:
    cache = EndpointSliceCache(is_local=lambda n: n == "me")
    cache.update(
        eps("a", ep("10.244.0.5"), ep("10.244.0.6", ready=False, serving=True, terminating=True))
    )
    cache.update(eps("b", ep("10.244.0.5", node="me"), {"addresses": ["10.244.0.7"]}))
    cache.update(eps("v6", ep("fd00::1"), address_type="IPv6"))
    merged = cache.endpoints("ns/web")[("http", "TCP")]
    assert [str(e) for e in merged] == ["10.244.0.5:8080", "10.244.0.6:8080", "10.244.0.7:8080"]
    assert merged[0].local  # the copy from the slice that says "local" wins
    assert merged[1].terminating and not merged[1].ready and merged[1].serving
    assert merged[2].ready
    assert cache.delete(eps("b")) == "ns/web"
    assert [str(e) for e in cache.endpoints("ns/web")[("http", "TCP")]] == [
        "10.244.0.5:8080",
        "10.244.0.6:8080",
    ]


def test_categorize_falls_back_to_terminating_and_splits_local() -> None:
    ready = EndpointInfo("10.0.0.1", 80, local=False)
    terminating = EndpointInfo(
        "10.0.0.2", 80, ready=False, serving=True, terminating=True, local=True
    )
    gone = EndpointInfo("10.0.0.3", 80, ready=False, serving=False)
    cluster = categorize(port(), [ready, terminating, gone])
    assert cluster.cluster == (ready,) and cluster.has_any
    only_terminating = categorize(port(), [terminating, gone])
    assert only_terminating.cluster == (terminating,)
    local = categorize(port(internal_policy_local=True), [ready, terminating])
    assert local.cluster == () and local.local == (terminating,) and local.has_any
    nothing = categorize(port(), [gone])
    assert not nothing.has_any and nothing.reachable == ()


# --- iptables ----------------------------------------------------------------------------------


def test_chain_names_are_kubernetes_own() -> None:
    p = port(name=ServicePortName("ns1", "svc1", "p80", "TCP"))
    assert f"KUBE-SVC-{port_chain_suffix(p)}" == "KUBE-SVC-XPGD46QRK7WJZT7O"
    assert endpoint_chain(p, EndpointInfo("10.180.0.1", 80)) == "KUBE-SEP-SXIVWICOYRO3J4NJ"


def rewrite(r: IptablesRenderer) -> str:
    """The restore input of a rewrite onto an empty kernel."""
    return r.resync(Change(), {}, everything=True).text()


def lines_of(text: str, chain: str, table: str = "nat") -> list[str]:
    """The rules of ``chain`` in ``table`` of a restore input."""
    section = text.split(f"*{table}\n", 1)[1].split("COMMIT", 1)[0]
    return [line for line in section.splitlines() if line.startswith(f"-A {chain} ")]


def test_iptables_cluster_ip_balances_masquerades_and_hairpins() -> None:
    s = state(svc(), eps("a", ep("10.244.0.5"), ep("10.244.0.6"), ep("10.244.0.7")))
    r = IptablesRenderer()
    r.update({"ns/web": s}, ["ns/web"])
    text = rewrite(r)
    suffix = port_chain_suffix(s[0].port)
    chain = f"KUBE-SVC-{suffix}"
    assert lines_of(text, "KUBE-SERVICES")[0] == (
        '-A KUBE-SERVICES -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp '
        f"-d 10.96.0.20 --dport 80 -j {chain}"
    )
    # The nodeport jump is the last rule of KUBE-SERVICES.
    assert "KUBE-NODEPORTS" in lines_of(text, "KUBE-SERVICES")[-1]
    svc_lines = lines_of(text, chain)
    assert "! -s 10.244.0.0/16 -j KUBE-MARK-MASQ" in svc_lines[0]
    assert "--probability 0.3333333333" in svc_lines[1]
    assert "--probability 0.5000000000" in svc_lines[2]
    assert "statistic" not in svc_lines[3]
    seps = [line.rsplit(" ", 1)[1] for line in svc_lines[1:]]
    for sep, ip in zip(seps, ("10.244.0.5", "10.244.0.6", "10.244.0.7"), strict=True):
        assert f":{sep} - [0:0]" in text
        hairpin, dnat = lines_of(text, sep)
        assert hairpin.endswith(f"-s {ip} -j KUBE-MARK-MASQ")
        assert dnat.endswith(f"-m tcp -p tcp -j DNAT --to-destination {ip}:8080")
    # Both tables in one input, each committed once.
    assert text.count("COMMIT") == 2 and text.index("*filter") < text.index("*nat")
    assert r.nat_rules == 1 + 4 + 6 + 4 + 1


def test_iptables_no_endpoints_rejects_and_no_local_endpoints_drops() -> None:
    none = state(
        svc(
            type="NodePort",
            ports=[{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}],
        )
    )
    r = IptablesRenderer()
    r.update({"ns/web": none}, ["ns/web"])
    text = rewrite(r)
    assert len(lines_of(text, "KUBE-SERVICES")) == 1  # only the nodeports jump
    assert '"ns/web:http has no endpoints" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j REJECT' in text
    assert "-m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30080 -j REJECT" in text
    local = state(svc(internalTrafficPolicy="Local"), eps("a", ep("10.244.0.5", node="other")))
    r.update({"ns/web": local}, ["ns/web"])
    text = rewrite(r)
    assert (
        '"ns/web:http has no local endpoints" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j DROP'
        in text
    )


def test_iptables_affinity_load_balancer_firewall_and_local_policy() -> None:
    lb = svc(
        type="LoadBalancer",
        ports=[{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}],
        sessionAffinity="ClientIP",
        sessionAffinityConfig={"clientIP": {"timeoutSeconds": 60}},
        externalTrafficPolicy="Local",
        loadBalancerSourceRanges=["192.0.2.0/24"],
        status={"loadBalancer": {"ingress": [{"ip": "10.122.0.7"}]}},
    )
    s = state(lb, eps("a", ep("10.244.0.5", node="me"), ep("10.244.0.6")), local={"me"})
    r = IptablesRenderer()
    r.update({"ns/web": s}, ["ns/web"])
    text = rewrite(r)
    suffix = port_chain_suffix(s[0].port)
    fw, ext, svl = f"KUBE-FW-{suffix}", f"KUBE-EXT-{suffix}", f"KUBE-SVL-{suffix}"
    assert any(
        "-d 10.122.0.7 --dport 80 -j " + fw in line for line in lines_of(text, "KUBE-SERVICES")
    )
    assert lines_of(text, fw)[0].endswith(f"-s 192.0.2.0/24 -j {ext}")
    assert "-A KUBE-PROXY-FIREWALL" in text and "-d 10.122.0.7 --dport 80 -j DROP" in text
    assert lines_of(text, "KUBE-NODEPORTS") == [
        f'-A KUBE-NODEPORTS -m comment --comment "ns/web:http" -m tcp -p tcp --dport 30080 -j {ext}'
    ]
    ext_lines = lines_of(text, ext)
    assert "-s 10.244.0.0/16 -j KUBE-SVC-" in ext_lines[0]
    assert ext_lines[-1] == f"-A {ext} -j {svl}"
    sep_local = endpoint_chain(s[0].port, EndpointInfo("10.244.0.5", 8080))
    assert lines_of(text, svl) == [
        f'-A {svl} -m comment --comment "ns/web:http -> 10.244.0.5:8080" -m recent --name {sep_local} '
        f"--rcheck --seconds 60 --reap -j {sep_local}",
        f'-A {svl} -m comment --comment "ns/web:http -> 10.244.0.5:8080" -j {sep_local}',
    ]
    assert f"-m recent --name {sep_local} --set -m tcp -p tcp -j DNAT" in text


def test_iptables_partial_sync_writes_only_what_changed_and_deletes_stale_chains() -> None:
    web = state(svc(), eps("a", ep("10.244.0.5"), ep("10.244.0.6")))
    db = state(svc("db", clusterIP="10.96.0.30"), eps("d", ep("10.244.0.9"), service="db"))
    states = {"ns/web": web, "ns/db": db}
    r = IptablesRenderer()
    r.update(states, states)
    full = rewrite(r)
    web_sep = endpoint_chain(web[0].port, EndpointInfo("10.244.0.6", 8080))
    assert f":{web_sep} - [0:0]" in full
    # One web endpoint goes: only web's chains are written, its old endpoint chain deleted.
    states["ns/web"] = state(svc(), eps("a", ep("10.244.0.5")))
    change = r.update(states, ["ns/web"])
    assert change.stale_chains() == {web_sep}
    partial = r.partial(change).text()
    db_chain = f"KUBE-SVC-{port_chain_suffix(db[0].port)}"
    assert f":{db_chain} - [0:0]" not in partial and f"-A {db_chain} " not in partial
    assert f"-j {db_chain}" not in partial  # KUBE-SERVICES is edited, not rewritten
    assert partial.rstrip().splitlines()[-2] == f"-X {web_sep}"
    assert f":{web_sep} - [0:0]" in partial  # flushed before it is deleted


def test_parse_chains_and_missing_jumps_read_iptables_save() -> None:
    saved = parse_chains(
        "*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:KUBE-SVC-X - [0:0]\n"
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n'
        "-A OUTPUT -j DOCKER\nCOMMIT\n"
        "*filter\n:INPUT ACCEPT [0:0]\n"
        # iptables-save's own order of matches: the jump still counts as there.
        '-A INPUT -m comment --comment "kubernetes load balancer firewall" '
        "-m conntrack --ctstate NEW -j KUBE-PROXY-FIREWALL\nCOMMIT\n"
    )
    assert saved["nat"]["KUBE-SVC-X"] == [] and saved["nat"]["OUTPUT"] == ["-A OUTPUT -j DOCKER"]
    missing = missing_jumps(saved)
    assert ("nat", "OUTPUT", JUMPS[10][2]) in missing
    assert not any(chain == "PREROUTING" for _, chain, _ in missing)
    assert JUMPS[0] not in missing and JUMPS[1] in missing
    assert missing == [j for j in JUMPS if j in missing]  # in JUMPS order


# --- nftables ----------------------------------------------------------------------------------


def test_nftables_full_sync_uses_maps_numgen_and_affinity_sets() -> None:
    s = state(
        svc(sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": 60}}),
        eps("a", ep("10.244.0.5"), ep("10.244.0.6")),
    )
    empty = state(svc("db", clusterIP="10.96.0.30"))
    r = NftablesRenderer()
    both = {"ns/web": s, "ns/db": empty}
    text = r.full(
        both,
        both,
        existing_chains={"service-OLD-x/y/tcp/p"},
        existing_sets=set(),
    )
    lines = text.splitlines()
    assert lines[0].startswith("add table ip kube-proxy")
    element = next(
        line for line in lines if line.startswith("add element ip kube-proxy service-ips")
    )
    assert "10.96.0.20 . tcp . 80 : goto service-" in element and "ns/web/tcp/http" in element
    assert (
        "add element ip kube-proxy no-endpoint-services { 10.96.0.30 . tcp . 80 : goto reject-chain }"
        in lines
    )
    numgen = next(line for line in lines if "numgen" in line)
    assert (
        "numgen random mod 2 vmap { 0 : goto endpoint-" in numgen
        and " , 1 : goto endpoint-" in numgen
    )
    sets = [line for line in lines if line.startswith("add set ip kube-proxy affinity-")]
    assert len(sets) == 2 and all("flags dynamic,timeout ; timeout 60s" in x for x in sets)
    assert any(line.endswith("update @" + sets[0].split()[4] + " { ip saddr }") for line in lines)
    # The old chain is flushed first and deleted last; maps are flushed, affinity sets never.
    assert lines.index("flush chain ip kube-proxy service-OLD-x/y/tcp/p") < lines.index(
        "delete chain ip kube-proxy service-OLD-x/y/tcp/p"
    )
    assert "flush map ip kube-proxy service-ips" in lines
    assert not any(line.startswith("flush set ip kube-proxy affinity-") for line in lines)
    # Every chain is declared before the first rule jumps into it.
    first_jump = min(i for i, line in enumerate(lines) if "goto endpoint-" in line)
    first_decl = min(
        i for i, line in enumerate(lines) if line.startswith("add chain ip kube-proxy endpoint-")
    )
    assert first_decl < first_jump


def test_nftables_partial_sync_swaps_only_the_changed_elements() -> None:
    web = state(svc(), eps("a", ep("10.244.0.5")))
    db = state(svc("db", clusterIP="10.96.0.30"), eps("d", ep("10.244.0.9"), service="db"))
    r = NftablesRenderer()
    both = {"ns/web": web, "ns/db": db}
    r.full(both, both, set(), set())
    gone = service_state(service_ports(svc()), {})
    text = r.partial({"ns/web": gone, "ns/db": db}, ["ns/web"])
    lines = text.splitlines()
    assert "delete element ip kube-proxy service-ips { 10.96.0.20 . tcp . 80 }" in lines
    assert (
        "add element ip kube-proxy no-endpoint-services { 10.96.0.20 . tcp . 80 : goto reject-chain }"
        in lines
    )
    assert not any("10.96.0.30" in line or "/db/" in line for line in lines)
    deletes = [line for line in lines if line.startswith("delete chain")]
    assert len(deletes) == 2  # the service chain and its endpoint chain
    assert lines.index(
        "delete element ip kube-proxy service-ips { 10.96.0.20 . tcp . 80 }"
    ) < lines.index(deletes[0])


def test_parse_listing_keeps_our_table_only() -> None:
    text = "table ip nat {\n\tchain DOCKER {\n\t}\n}\ntable ip kube-proxy {\n\tchain services {\n\t}\n\tset affinity-a/b {\n\t}\n}\n"
    assert parse_listing(text, "chain") == {"services"}
    assert parse_listing(text, "set") == {"affinity-a/b"}


# --- the runner --------------------------------------------------------------------------------


def test_schedule_bursts_then_spaces_runs_and_resyncs_periodically() -> None:
    s = Schedule(min_interval=1.0, max_interval=30.0, burst=2)
    s.last_refill = 0.0
    assert s.next_delay(0.0) == 0.0  # the first run
    s.requested = True
    assert s.next_delay(0.1) == 0.0  # the burst's second token
    s.requested = True
    assert s.next_delay(0.2) == pytest.approx(0.8)  # then one per min_interval
    assert s.next_delay(1.0) == 0.0
    assert s.next_delay(1.5) == pytest.approx(29.5)  # nothing asked: the resync
    assert s.next_delay(31.0) == 0.0


def test_schedule_merges_requests() -> None:
    s = Schedule(min_interval=1.0, max_interval=30.0, burst=1)
    assert s.next_delay(0.0) == 0.0
    for _ in range(5):
        s.requested = True
    assert s.next_delay(0.5) == pytest.approx(0.5)
    assert s.next_delay(1.0) == 0.0
    assert s.next_delay(1.1) > 1.0  # five requests made one run


# --- userspace -----------------------------------------------------------------------------------


def test_balancer_algorithms_and_affinity() -> None:
    eps3 = tuple(EndpointInfo(f"10.0.0.{i}", 80) for i in range(1, 4))
    rr = Balancer("round-robin", eps3)
    assert [str(rr.pick("c")) for _ in range(4)] == [
        "10.0.0.1:80",
        "10.0.0.2:80",
        "10.0.0.3:80",
        "10.0.0.1:80",
    ]
    lc = Balancer("least-conn", eps3)
    lc.opened(eps3[0])
    lc.opened(eps3[1])
    assert lc.pick("c") == eps3[2]
    sh = Balancer("source-hash", eps3)
    assert len({sh.pick("192.0.2.9") for _ in range(10)}) == 1
    sticky = Balancer("round-robin")
    sticky.set_endpoints(eps3, affinity_timeout=60)
    first = sticky.pick("c1")
    assert all(sticky.pick("c1") == first for _ in range(5))
    sticky.set_endpoints(tuple(e for e in eps3 if e != first), affinity_timeout=60)
    assert sticky.pick("c1") != first
    assert rr.pick("c", frozenset(str(e) for e in eps3)) is None


def test_userspace_listens_only_where_there_are_endpoints() -> None:
    np = svc(
        type="NodePort", ports=[{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}]
    )
    with_eps = state(np, eps("a", ep("10.244.0.5")))
    wanted = desired_listeners({"ns/web": with_eps})
    assert set(wanted) == {("10.96.0.20", 80, "TCP"), ("0.0.0.0", 30080, "TCP")}
    assert desired_listeners({"ns/web": state(np)}) == {}


def test_iptables_incremental_partial_sync_leaves_the_shared_chains_in_place() -> None:
    web = state(svc(), eps("a", ep("10.244.0.5")))
    db = state(svc("db", clusterIP="10.96.0.30"), eps("d", ep("10.244.0.9"), service="db"))
    states = {"ns/web": web, "ns/db": db}
    r = IptablesRenderer()
    r.update(states, states)
    rewrite(r)
    states["ns/web"] = state(svc(), eps("a", ep("10.244.0.6")))  # the endpoint moves
    del states["ns/db"]  # and db goes
    text = r.partial(r.update(states, ["ns/web", "ns/db"])).text()
    lines = text.splitlines()
    assert ":KUBE-SERVICES - [0:0]" not in lines  # never flushed
    db_chain = f"KUBE-SVC-{port_chain_suffix(db[0].port)}"
    deletion = next(
        line for line in lines if line.startswith("-D KUBE-SERVICES") and db_chain in line
    )
    assert deletion.endswith(f"-j {db_chain}")
    assert f"-X {db_chain}" in lines and lines.index(deletion) < lines.index(f"-X {db_chain}")
    new_sep = endpoint_chain(states["ns/web"][0].port, EndpointInfo("10.244.0.6", 8080))
    assert f":{new_sep} - [0:0]" in lines
    # web's KUBE-SERVICES rule did not change (same chain, same IP): not touched.
    assert not any(
        line.startswith(("-I KUBE-SERVICES", "-D KUBE-SERVICES")) and "ns/web" in line
        for line in lines
    )


def kernel(r: IptablesRenderer) -> dict[str, dict[str, list[str]]]:
    """What iptables-save would show once ``r``'s rules are written: our chains and
    the jumps to them from the built-in chains."""
    tables = {table: dict(chains) for table, chains in r.expected().items()}
    for table, chain, spec in JUMPS:
        tables[table].setdefault(chain, []).append(f"-A {chain} {spec}")
    return tables


def test_iptables_repair_rewrites_only_what_drifted() -> None:
    web = state(svc(), eps("a", ep("10.244.0.5"), ep("10.244.0.6")))
    r = IptablesRenderer()
    r.update({"ns/web": web}, ["ns/web"])
    expected = kernel(r)
    # iptables-save prints matches in its own order: only counts and targets compare.
    saved = {
        table: {chain: [f"-A {chain} -x -j {line.partition(' -j ')[2]}" if " -j " in line and chain.startswith("KUBE-") else line
                        for line in lines]
                for chain, lines in chains.items()}
        for table, chains in expected.items()
    }  # fmt: skip
    assert r.resync(Change(), saved).empty()
    svc_chain = f"KUBE-SVC-{port_chain_suffix(web[0].port)}"
    saved["nat"][svc_chain] = saved["nat"][svc_chain][:1]  # someone deleted rules
    saved["nat"]["KUBE-SVC-LEFTOVER0000000"] = []
    del saved["nat"]["PREROUTING"]  # and the jump into KUBE-SERVICES
    lines = r.resync(Change(), saved).text().splitlines()
    assert f":{svc_chain} - [0:0]" in lines and "-X KUBE-SVC-LEFTOVER0000000" in lines
    assert (
        '-I PREROUTING 1 -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'
        in lines
    )
    assert ":KUBE-SERVICES - [0:0]" not in lines and "*filter" not in lines


def test_nftables_repair_recreates_missing_objects_and_drops_leftovers() -> None:
    web = state(svc(), eps("a", ep("10.244.0.5")))
    db = state(svc("db", clusterIP="10.96.0.30"), eps("d", ep("10.244.0.9"), service="db"))
    states = {"ns/web": web, "ns/db": db}
    r = NftablesRenderer()
    r.full(states, states, set(), set())
    everything = {c for x in r.rendered.values() for c in x.chains}
    maps = {
        "service-ips",
        "service-nodeports",
        "no-endpoint-services",
        "no-endpoint-nodeports",
        "firewall-ips",
    }
    static = set(STATIC)
    sets = {"cluster-ips"}
    assert r.repair(states, set(), static | everything, sets, maps) == ""
    web_chains = set(r.rendered["ns/web"].chains)
    text = r.repair(states, set(), static | (everything - web_chains) | {"service-OLD"}, sets, maps)
    assert text is not None
    assert all(f"add chain ip kube-proxy {c}" in text for c in web_chains)
    assert "delete chain ip kube-proxy service-OLD" in text
    assert not any("/db/" in line for line in text.splitlines())
    assert r.repair(states, set(), everything, sets, maps) is None  # the base chains are gone


def test_iptables_repair_with_a_change_edits_the_shared_chains_instead_of_rewriting() -> None:
    web = state(svc(), eps("a", ep("10.244.0.5")))
    r = IptablesRenderer()
    r.update({"ns/web": web}, ["ns/web"])
    saved = kernel(r)  # the kernel holds exactly what was written
    states = {
        "ns/web": web,
        "ns/db": state(svc("db", clusterIP="10.96.0.30"), eps("d", ep("10.244.0.9"), service="db")),
    }
    change = r.update(states, ["ns/db"])
    lines = r.resync(change, saved).text().splitlines()
    assert ":KUBE-SERVICES - [0:0]" not in lines  # in place: edited, not rewritten
    assert any(
        line.startswith("-I KUBE-SERVICES 1 ") and "ns/db:http cluster IP" in line for line in lines
    )
    # Drift in KUBE-SERVICES as well: then it is rewritten whole, with db's rule in it.
    saved["nat"]["KUBE-SERVICES"] = saved["nat"]["KUBE-SERVICES"][-1:]
    lines = r.resync(change, saved).text().splitlines()
    assert ":KUBE-SERVICES - [0:0]" in lines
    assert not any(line.startswith("-I KUBE-SERVICES") for line in lines)
    assert sum(line.startswith("-A KUBE-SERVICES ") for line in lines) == 3


def test_iptables_partial_sync_edits_only_the_changed_lines_of_the_shared_chains() -> None:
    node_port = [{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}]
    web = state(svc(type="NodePort", ports=node_port), eps("a", ep("10.244.0.5")))
    db = state(svc("db", clusterIP="10.96.0.30"), eps("d", ep("10.244.0.9"), service="db"))
    states = {"ns/web": web, "ns/db": db}
    r = IptablesRenderer()
    r.update(states, states)
    # web's port moves from 80 to 81: its cluster-IP line is swapped, its node-port line
    # (no port in it) and its endpoint chain stay; db is not written at all.
    moved = [{"name": "http", "port": 81, "protocol": "TCP", "nodePort": 30080}]
    states["ns/web"] = state(svc(type="NodePort", ports=moved), eps("a", ep("10.244.0.5")))
    tx = r.partial(r.update(states, ["ns/web"]))
    assert tx.filter.empty()
    assert [line.split(" -j ")[0][-10:] for line in tx.nat.delete] == ["--dport 80"]
    assert len(tx.nat.add) - sum(len(x) for x in r.rendered["ns/web"].chains.values()) == 1
    assert any(
        line.startswith("-I KUBE-SERVICES 1 ") and "--dport 81" in line for line in tx.nat.add
    )
    assert not any(
        line.startswith(("-A KUBE-NODEPORTS", "-D KUBE-NODEPORTS"))
        for line in tx.text().splitlines()
    )
    assert set(tx.nat.declare) == set(r.rendered["ns/web"].chains)
    assert tx.nat.remove == []
    assert not any("ns/db" in line for line in tx.text().splitlines())
    # The endpoints go: the rules move to the filter table (REJECT), the chains are deleted.
    states["ns/web"] = state(svc(type="NodePort", ports=moved))
    old_chains = set(r.rendered["ns/web"].chains)
    tx = r.partial(r.update(states, ["ns/web"]))
    assert set(tx.nat.remove) == old_chains and tx.nat.declare == []
    assert {line.split(" ", 2)[1] for line in tx.nat.delete} == {"KUBE-SERVICES", "KUBE-NODEPORTS"}
    assert len(tx.filter.add) == 2 and all(line.endswith("-j REJECT") for line in tx.filter.add)
    lines = tx.text().splitlines()
    assert lines.index(tx.nat.delete[0]) < lines.index(f"-X {sorted(old_chains)[0]}")


def test_iptables_repair_after_a_failed_write_rewrites_the_chains_the_kernel_lacks() -> None:
    web = state(svc(), eps("a", ep("10.244.0.5")))
    r = IptablesRenderer()
    r.update({"ns/web": web}, ["ns/web"])
    saved = kernel(r)
    db = state(svc("db", clusterIP="10.96.0.30"), eps("d", ep("10.244.0.9"), service="db"))
    states = {"ns/web": web, "ns/db": db}
    r.update(states, ["ns/db"])  # its write failed: the kernel is as before
    # The next sync re-renders db again (the proxier's ``unsynced``): no edit to make,
    # but KUBE-SERVICES lacks db's rule, so it is rewritten whole, and db's chains.
    tx = r.resync(r.update(states, ["ns/db"]), saved)
    assert "KUBE-SERVICES" in tx.nat.declare and tx.nat.delete == []
    assert set(r.rendered["ns/db"].chains) <= set(tx.nat.declare)
    assert not set(r.rendered["ns/web"].chains) & set(tx.nat.declare)
    assert sum(line.startswith("-A KUBE-SERVICES ") for line in tx.nat.add) == 3
    assert tx.filter.empty()


class FakeBackend:
    mode = "fake"

    def __init__(self) -> None:
        self.kinds: list[str] = []
        self.fail = False

    async def sync(self, states: Any, changed: set[str], kind: Any) -> Any:
        from kubeproxy.backend import SyncResult

        self.kinds.append(kind)
        if self.fail:
            raise RuntimeError("restore failed")
        return SyncResult({})

    def local_addresses(self, states: Any) -> set[str]:
        return set()

    async def cleanup(self) -> None:
        return None


async def test_proxier_syncs_partial_then_repairs_each_period_and_after_failures() -> None:
    from apiclient import Client, ClientConfig, InformerFactory
    from kubeproxy.proxier import Proxier, ProxyOptions

    now = [100.0]
    backend = FakeBackend()
    client = Client(ClientConfig(server="http://127.0.0.1:1"))
    p = Proxier(
        InformerFactory(client), backend, ProxyOptions("n1", sync_period=30),
        clock=lambda: now[0],
    )  # fmt: skip
    await p.sync()
    assert backend.kinds == ["rewrite"]
    p.pending.add("ns/web")
    p.states["ns/web"] = state(svc())  # now gone: a change to write
    now[0] += 1
    await p.sync()
    assert backend.kinds[-1] == "partial"
    now[0] += 1
    await p.sync()  # nothing pending, within the period: no write
    assert len(backend.kinds) == 2
    now[0] += 30
    await p.sync()
    assert backend.kinds[-1] == "repair"
    # A failed write: the next sync repairs with the same Services, a second failure
    # in a row turns into a rewrite.
    backend.fail = True
    p.pending.add("ns/db")
    p.states["ns/db"] = state(svc("db"))
    now[0] += 1
    with pytest.raises(RuntimeError):
        await p.sync()
    assert backend.kinds[-1] == "partial" and p.unsynced == {"ns/db"}
    with pytest.raises(RuntimeError):
        await p.sync()
    assert backend.kinds[-1] == "repair"
    backend.fail = False
    await p.sync()
    assert backend.kinds[-1] == "rewrite" and p.unsynced == set() and p.failures == 0
    await client.close()
