"""``navarch dns`` against a real apiserver: every record type, over UDP and TCP, with
dnspython and with ``dig`` (Debian's bind9-dnsutils); answers that follow the API
within 2 s; truncation then TCP. Upstream names go to a fake server on 127.0.0.1."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import httpx
import pytest

from testkit.dnsserver import DnsServerProcess
from testkit.fakedns import FakeUpstream
from testkit.processes import ApiServerProcess, wait_until

pytestmark = pytest.mark.integration

SLICES = "/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices"


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    fake = FakeUpstream({"www.example.com.": [("A", "192.0.2.53", 300)]}).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def server(
    apiserver: ApiServerProcess, upstream: FakeUpstream, session_dir: Path
) -> Iterator[DnsServerProcess]:
    proc = DnsServerProcess.create(apiserver.url, session_dir, upstream=upstream.address)
    proc.start()
    yield proc
    proc.stop()


def ask(server: DnsServerProcess, name: str, rdtype: str = "A", *, tcp: bool = False,
        **kw: Any) -> dns.message.Message:  # fmt: skip
    query = dns.message.make_query(name, rdtype, **kw)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, "127.0.0.1", port=server.port, timeout=3)


def data(reply: dns.message.Message, rdtype: int | None = None) -> set[str]:
    return {
        rd.to_text()
        for rrset in reply.answer
        if rdtype is None or rrset.rdtype == rdtype
        for rd in rrset
    }


def dig(server: DnsServerProcess, *args: str) -> str:
    assert shutil.which("dig"), "dig (bind9-dnsutils) is installed by deploy/ensure-dns-tools.sh"
    out = subprocess.run(
        ["dig", "@127.0.0.1", "-p", str(server.port), "+time=2", "+tries=1", *args],
        capture_output=True, text=True, timeout=20, check=True,
    )  # fmt: skip
    return out.stdout


def create_service(api: httpx.Client, ns: str, name: str, **spec: Any) -> dict:
    resp = api.post(f"/api/v1/namespaces/{ns}/services",
                    json={"metadata": {"name": name}, "spec": spec})  # fmt: skip
    assert resp.status_code == 201, resp.text
    return resp.json()


def endpoints(*ips: str, ready: bool = True, hostname: str | None = None) -> list[dict]:
    out = []
    for ip in ips:
        item: dict[str, Any] = {"addresses": [ip], "conditions": {"ready": ready}}
        if hostname:
            item["hostname"] = hostname
        out.append(item)
    return out


def put_slice(api: httpx.Client, ns: str, service: str, eps: list[dict],
              ports: list[dict] | None = None) -> None:  # fmt: skip
    body = {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": f"{service}-manual", "labels": {
            "kubernetes.io/service-name": service,
            "endpointslice.kubernetes.io/managed-by": "tests"}},
        "addressType": "IPv4", "endpoints": eps,
        "ports": ports if ports is not None else [{"name": "http", "port": 8080, "protocol": "TCP"}],
    }  # fmt: skip
    base = SLICES.format(ns=ns)
    current = api.get(f"{base}/{service}-manual")
    if current.status_code == 200:
        body["metadata"]["resourceVersion"] = current.json()["metadata"]["resourceVersion"]
        resp = api.put(f"{base}/{service}-manual", json=body)
    else:
        resp = api.post(base, json=body)
    assert resp.status_code in (200, 201), resp.text


def eventually(condition: Any, timeout: float = 2.0, what: str = "") -> Any:
    return wait_until(condition, timeout, interval=0.02, what=what)


def test_every_record_type(server: DnsServerProcess, api: httpx.Client, namespace: str) -> None:
    ns = namespace
    zone = "cluster.local."
    web = create_service(api, ns, "web", ports=[
        {"name": "http", "port": 80, "protocol": "TCP"}, {"name": "dns", "port": 53, "protocol": "UDP"}])  # fmt: skip
    ip = web["spec"]["clusterIP"]
    create_service(api, ns, "db", clusterIP="None", ports=[{"name": "pg", "port": 5432}])
    put_slice(api, ns, "db", endpoints("10.244.7.1", hostname="db-0") + endpoints("10.244.7.2"),
              ports=[{"name": "pg", "port": 5432, "protocol": "TCP"}])  # fmt: skip
    create_service(api, ns, "ext", type="ExternalName", externalName="www.example.com")
    svc = f"web.{ns}.svc.{zone}"
    db = f"db.{ns}.svc.{zone}"
    eventually(lambda: data(ask(server, f"db-0.{db}")) == {"10.244.7.1"}, 5, "db-0 named")

    for tcp in (False, True):
        assert data(ask(server, svc, tcp=tcp)) == {ip}
        assert data(ask(server, f"_http._tcp.{svc}", "SRV", tcp=tcp)) == {f"0 100 80 {svc}"}
        assert data(ask(server, f"_dns._udp.{svc}", "SRV", tcp=tcp)) == {f"0 100 53 {svc}"}
        reverse = ".".join(reversed(ip.split("."))) + ".in-addr.arpa."
        assert data(ask(server, reverse, "PTR", tcp=tcp)) == {svc}
        assert data(ask(server, db, tcp=tcp)) == {"10.244.7.1", "10.244.7.2"}
        assert data(ask(server, f"_pg._tcp.{db}", "SRV", tcp=tcp)) == {
            f"0 100 5432 db-0.{db}", f"0 100 5432 10-244-7-2.{db}"}  # fmt: skip
        assert data(ask(server, "1.7.244.10.in-addr.arpa.", "PTR", tcp=tcp)) == {f"db-0.{db}"}
        ext = ask(server, f"ext.{ns}.svc.{zone}", tcp=tcp)
        assert data(ext, dns.rdatatype.CNAME) == {"www.example.com."}
        assert data(ext, dns.rdatatype.A) == {"192.0.2.53"}
        assert data(ask(server, f"10-244-7-9.{ns}.pod.{zone}", tcp=tcp)) == {"10.244.7.9"}
        assert data(ask(server, f"dns-version.{zone}", "TXT", tcp=tcp)) == {'"1.1.0"'}
        assert data(ask(server, "www.example.com.", tcp=tcp)) == {"192.0.2.53"}
        nodata = ask(server, svc, "AAAA", tcp=tcp)
        assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer
        assert ask(server, f"nope.{ns}.svc.{zone}", tcp=tcp).rcode() == dns.rcode.NXDOMAIN
        assert ask(server, f"_nope._tcp.{svc}", "SRV", tcp=tcp).rcode() == dns.rcode.NXDOMAIN

    # The same through a real resolver's client.
    assert dig(server, "+short", svc).split() == [ip]
    assert dig(server, "+short", "-x", ip).split() == [svc]
    assert sorted(dig(server, "+short", "SRV", f"_pg._tcp.{db}").splitlines()) == [
        f"0 100 5432 10-244-7-2.{db}", f"0 100 5432 db-0.{db}"]  # fmt: skip
    assert dig(server, "+short", "TXT", f"dns-version.{zone}").split() == ['"1.1.0"']
    assert dig(server, "+short", f"ext.{ns}.svc.{zone}").split() == [
        "www.example.com.",
        "192.0.2.53",
    ]
    assert "status: NXDOMAIN" in dig(server, f"nope.{ns}.svc.{zone}")
    nodata = dig(server, "AAAA", svc)
    assert "status: NOERROR" in nodata and "ANSWER: 0" in nodata and "SOA" in nodata
    assert dig(server, "+tcp", "+short", svc).split() == [ip]


def test_a_deleted_service_disappears_within_2s(
    server: DnsServerProcess, api: httpx.Client, namespace: str
) -> None:
    name = f"gone.{namespace}.svc.cluster.local."
    create_service(api, namespace, "gone", ports=[{"port": 80}])
    eventually(lambda: ask(server, name).rcode() == dns.rcode.NOERROR and data(ask(server, name)),
               5, "the new Service named")  # fmt: skip
    assert api.delete(f"/api/v1/namespaces/{namespace}/services/gone").status_code == 200
    eventually(lambda: ask(server, name).rcode() == dns.rcode.NXDOMAIN, 2.0, "NXDOMAIN in 2 s")


def test_headless_answers_track_endpoint_readiness(
    server: DnsServerProcess, api: httpx.Client, namespace: str
) -> None:
    name = f"peers.{namespace}.svc.cluster.local."
    create_service(api, namespace, "peers", clusterIP="None", ports=[{"name": "http", "port": 80}])
    put_slice(api, namespace, "peers", endpoints("10.244.8.1", "10.244.8.2"))
    eventually(lambda: data(ask(server, name)) == {"10.244.8.1", "10.244.8.2"}, 5, "both ready")
    put_slice(api, namespace, "peers",
              endpoints("10.244.8.1") + endpoints("10.244.8.2", ready=False))  # fmt: skip
    eventually(lambda: data(ask(server, name)) == {"10.244.8.1"}, 2.0, "one ready")
    put_slice(api, namespace, "peers", endpoints("10.244.8.1", "10.244.8.2", ready=False))
    eventually(lambda: ask(server, name).rcode() == dns.rcode.NXDOMAIN, 2.0, "none ready")
    put_slice(api, namespace, "peers", endpoints("10.244.8.2"))
    eventually(lambda: data(ask(server, name)) == {"10.244.8.2"}, 2.0, "ready again")


def test_udp_truncation_then_tcp_retry(
    server: DnsServerProcess, api: httpx.Client, namespace: str
) -> None:
    name = f"many.{namespace}.svc.cluster.local."
    create_service(api, namespace, "many", clusterIP="None", ports=[{"name": "http", "port": 80}])
    ips = [f"10.244.9.{i}" for i in range(1, 121)]
    put_slice(api, namespace, "many", endpoints(*ips))
    eventually(lambda: len(data(ask(server, name, tcp=True))) == 120, 5, "120 endpoints")
    udp = ask(server, name, use_edns=0, payload=1232)
    assert udp.flags & dns.flags.TC and not udp.answer
    assert data(ask(server, name, tcp=True)) == set(ips)
    flags = re.search(r"flags: ([a-z ]+);", dig(server, "+noedns", "+ignore", name))
    assert flags is not None and "tc" in flags.group(1).split()
    retried = dig(server, name)  # dig retries over TCP by itself
    assert "Truncated, retrying in TCP mode" in retried
    answers = {line.split()[-1] for line in retried.splitlines() if line.startswith(name)}
    assert answers == set(ips)


def test_health_ready_and_metrics(server: DnsServerProcess) -> None:
    assert httpx.get(f"{server.health_url}/health").status_code == 200
    assert httpx.get(f"{server.health_url}/ready").status_code == 200
    ask(server, "www.example.com.")
    ask(server, "www.example.com.")
    text = httpx.get(f"{server.health_url}/metrics").text
    assert 'navarch_dns_requests_total{proto="udp",rcode="NOERROR",type="A"}' in text
    assert "navarch_dns_request_duration_seconds_bucket" in text
    hits = [line for line in text.splitlines() if line.startswith("navarch_dns_cache_hits_total ")]
    assert hits and float(hits[0].split()[1]) >= 1


def test_no_upstream_servfail_and_cluster_names_still_answer(
    apiserver: ApiServerProcess, session_dir: Path
) -> None:
    proc = DnsServerProcess.create(apiserver.url, session_dir, upstream=None)
    proc.start()
    try:
        assert ask(proc, "www.example.com.").rcode() == dns.rcode.SERVFAIL
        assert data(ask(proc, "dns-version.cluster.local.", "TXT")) == {'"1.1.0"'}
    finally:
        proc.stop()


def test_addon_manifest_is_accepted_by_the_apiserver(apiserver: ApiServerProcess) -> None:
    manifest = Path(__file__).resolve().parents[2] / "deploy" / "addons" / "dns.yaml"
    out = subprocess.run(
        [sys.executable, "-m", "cli.navctl", "--kubeconfig", str(apiserver.kubeconfig), "apply", "-f", str(manifest),
         "--dry-run=server"],
        check=False, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    for name in ("serviceaccount/kube-dns", "deployment.apps/navarch-dns", "service/kube-dns",
                 "poddisruptionbudget.policy/navarch-dns"):  # fmt: skip
        assert name in out.stdout, out.stdout
