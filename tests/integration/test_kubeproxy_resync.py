"""kube-proxy's periodic resync repairs what someone else deleted: a real ``navarch
proxy --proxy-mode iptables`` runs in a network namespace of the test's own (no default
route: nothing it does can reach another machine, and the host's rules are never
touched), fed by a real apiserver reachable over the namespace's veth. No packet is sent
to a Service: the test reads and edits the namespace's rules with iptables itself.
"""

from __future__ import annotations

import os
import shlex
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from apitypes.core import Service
from apitypes.discovery import EndpointSlice
from kubeproxy.iptables import Change, IptablesRenderer, parse_chains
from kubeproxy.servicemap import EndpointSliceCache, ServicePortState, service_ports, service_state
from testkit.netns import BoundApiServer, NetNamespace, bound_apiserver
from testkit.processes import DaemonProcess, wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("iptables") is None,
        reason="needs root and iptables (a network namespace of its own)",
    ),
]

SYNC_PERIOD = 3.0
OUTPUT_JUMP = '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES'


@dataclass
class Setup:
    ns: NetNamespace
    api: httpx.Client
    proxy: DaemonProcess
    namespace: str

    def nat(self, chain: str) -> list[str]:
        """The rules of ``chain`` in the namespace's nat table, as iptables-save prints
        them."""
        saved = self.ns.run(["iptables-save", "-t", "nat"])
        return [line for line in saved.splitlines() if line.startswith(f"-A {chain} ")]

    def cluster_ip_rule(self) -> str | None:
        marker = f'"{self.namespace}/web:http cluster IP"'
        return next((r for r in self.nat("KUBE-SERVICES") if marker in r), None)


@pytest.fixture
def setup(etcd: str, session_dir: Path) -> Iterator[Setup]:
    with NetNamespace.create() as ns:
        server: BoundApiServer = bound_apiserver(etcd, ns.host_ip, session_dir)
        server.start()
        api = server.client(timeout=30)
        namespace = f"kpr-{uuid.uuid4().hex[:6]}"
        proxy = ns.daemon(
            [
                "proxy", *server.daemon_flags(), "--proxy-mode", "iptables",
                "--hostname-override", "kpr-node", "--sync-period", f"{SYNC_PERIOD:g}s",
                "--healthz-bind-address", "127.0.0.1:0", "--metrics-bind-address", "127.0.0.1:0",
            ],
            session_dir / f"kube-proxy-resync-{ns.name}.log",
        )  # fmt: skip
        try:
            created = api.post("/api/v1/namespaces", json={"metadata": {"name": namespace}})
            assert created.status_code == 201, created.text
            svc = api.post(
                f"/api/v1/namespaces/{namespace}/services",
                json={
                    "metadata": {"name": "web"},
                    "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
                },
            )
            assert svc.status_code == 201, svc.text
            # The endpoints by hand (no controller-manager here); nothing listens there,
            # and nothing is sent.
            eps = api.post(
                f"/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices",
                json={
                    "metadata": {
                        "name": "web-1",
                        "labels": {"kubernetes.io/service-name": "web"},
                    },
                    "addressType": "IPv4",
                    "endpoints": [{"addresses": [ns.ns_ip], "conditions": {"ready": True}}],
                    "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
                },
            )
            assert eps.status_code == 201, eps.text
            proxy.start()
            yield Setup(ns, api, proxy, namespace)
        finally:
            proxy.stop()
            api.delete(f"/api/v1/namespaces/{namespace}")
            api.close()
            server.stop()


def test_periodic_resync_restores_rules_deleted_by_hand(setup: Setup) -> None:
    def written() -> bool:
        if not setup.proxy.alive():
            raise RuntimeError(f"kube-proxy exited:\n{setup.proxy.log_tail()}")
        return setup.cluster_ip_rule() is not None and bool(setup.nat("OUTPUT"))

    wait_until(written, 30, what="kube-proxy's rules in the namespace")
    rule = setup.cluster_ip_rule()
    assert rule is not None
    service_chain = rule.rsplit(" -j ", 1)[1]
    before = setup.nat(service_chain)
    assert before, "the Service's own chain is empty"
    assert setup.nat("OUTPUT").count(f"-A OUTPUT {OUTPUT_JUMP}") == 1

    # Someone deletes the Service's rule, the jump into KUBE-SERVICES, and flushes the
    # Service's chain: a partial sync would never notice; the periodic resync does.
    setup.ns.run(["iptables", "-t", "nat", "-D", *shlex.split(rule[3:])])
    setup.ns.run(["iptables", "-t", "nat", "-D", "OUTPUT", *shlex.split(OUTPUT_JUMP)])
    setup.ns.run(["iptables", "-t", "nat", "-F", service_chain])
    deleted = time.monotonic()
    assert setup.cluster_ip_rule() is None and setup.nat(service_chain) == []

    def repaired() -> bool:
        return (
            setup.cluster_ip_rule() == rule
            and f"-A OUTPUT {OUTPUT_JUMP}" in setup.nat("OUTPUT")
            and setup.nat(service_chain) == before
        )

    wait_until(repaired, 2 * SYNC_PERIOD + 5, interval=0.1, what="the rules restored")
    elapsed = time.monotonic() - deleted
    # Within one period (the runner's schedule), plus the time a sync takes.
    assert elapsed <= SYNC_PERIOD + 1.5, f"restored after {elapsed:.1f}s"
    # Restored once: the next repairs find nothing to add.
    deadline = time.monotonic() + SYNC_PERIOD + 1
    while time.monotonic() < deadline:
        assert setup.nat("OUTPUT").count(f"-A OUTPUT {OUTPUT_JUMP}") == 1
        assert [r for r in setup.nat("KUBE-SERVICES") if r == rule] == [rule]
        time.sleep(0.2)
    assert "repair sync" in setup.proxy.log_path.read_text()


def _state(
    name: str, spec: dict[str, object], endpoints: list[tuple[str, str | None]]
) -> tuple[ServicePortState, ...]:
    svc = Service.model_validate(
        {
            "metadata": {"name": name, "namespace": "ns"},
            "spec": spec,
            "status": spec.pop("status", {}),
        }
    )
    cache = EndpointSliceCache(is_local=lambda node: node == "me")
    cache.update(
        EndpointSlice.model_validate(
            {
                "metadata": {
                    "name": name,
                    "namespace": "ns",
                    "labels": {"kubernetes.io/service-name": name},
                },
                "addressType": "IPv4",
                "endpoints": [
                    {
                        "addresses": [ip],
                        "conditions": {"ready": True},
                        **({"nodeName": n} if n else {}),
                    }
                    for ip, n in endpoints
                ],
                "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            }
        )
    )
    return service_state(service_ports(svc), cache.endpoints(f"ns/{name}"))


def test_a_repair_after_real_writes_finds_nothing_to_do() -> None:
    """What iptables-save prints back compares equal to what was written (its own order
    and spelling of matches), after a rewrite and after a partial sync: a periodic
    repair of an undisturbed kernel writes nothing."""
    http = [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080, "nodePort": 30080}]
    lb = {
        "clusterIP": "10.96.0.20", "type": "LoadBalancer", "ports": http,
        "sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}},
        "externalTrafficPolicy": "Local", "loadBalancerSourceRanges": ["192.0.2.0/24"],
        "externalIPs": ["10.122.0.9"], "status": {"loadBalancer": {"ingress": [{"ip": "10.122.0.7"}]}},
    }  # fmt: skip
    plain = {"clusterIP": "10.96.0.30", "ports": http[:1]}
    empty = {
        "clusterIP": "10.96.0.31",
        "type": "NodePort",
        "ports": [{**http[0], "nodePort": 30081}],
    }
    states = {
        "ns/web": _state("web", dict(lb), [("10.244.0.5", "me"), ("10.244.0.6", None)]),
        "ns/db": _state("db", dict(plain), [("10.244.0.9", None)]),
        "ns/empty": _state("empty", dict(empty), []),
    }
    with NetNamespace.create() as ns:
        r = IptablesRenderer()

        def saved() -> dict[str, dict[str, list[str]]]:
            return parse_chains(ns.run(["iptables-save"]))

        def restore(text: str) -> None:
            ns.run(["iptables-restore", "-w", "5", "--noflush"], text)

        restore(r.resync(r.update(states, states), saved(), everything=True).text())
        assert r.resync(Change(), saved()).empty()
        del states["ns/db"]
        states["ns/web"] = _state("web", dict(lb), [("10.244.0.5", "me")])
        restore(r.partial(r.update(states, ["ns/db", "ns/web"])).text())
        kernel = saved()
        assert r.resync(Change(), kernel).empty()
        assert not any("ns/db" in rule for rules in kernel["nat"].values() for rule in rules)
        assert not any(chain.startswith("KUBE-SEP-") and "ns/web" in str(rules) and "10.244.0.6" in str(rules)
                       for chain, rules in kernel["nat"].items())  # fmt: skip
