"""The record builder and the zone against the examples of the Kubernetes DNS
specification (kubernetes/dns docs/specification.md, schema 1.1.0)."""

from __future__ import annotations

from typing import Any

import dns.rcode
import dns.rdatatype
import pytest

from apitypes.core import Service
from apitypes.discovery import EndpointSlice
from clusterdns.records import service_records
from clusterdns.zone import PODS_DISABLED, ClusterZone

ZONE = "cluster.local."
A, AAAA, SRV, PTR, TXT, CNAME = (dns.rdatatype.A, dns.rdatatype.AAAA, dns.rdatatype.SRV,
                                 dns.rdatatype.PTR, dns.rdatatype.TXT, dns.rdatatype.CNAME)  # fmt: skip
NS, SOA, ANY = dns.rdatatype.NS, dns.rdatatype.SOA, dns.rdatatype.ANY


def service(name: str, ns: str = "default", **spec: Any) -> Service:
    return Service.model_validate(
        {"metadata": {"name": name, "namespace": ns, **spec.pop("meta", {})}, "spec": spec}
    )


def endpoint(ip: str, *, hostname: str | None = None, ready: bool | None = True) -> dict:
    out: dict[str, Any] = {"addresses": [ip], "conditions": {"ready": ready}}
    if hostname:
        out["hostname"] = hostname
    return out


def slice_of(svc: str, endpoints: list[dict], *, ns: str = "default", name: str = "",
             ports: list[dict] | None = None, family: str = "IPv4") -> EndpointSlice:  # fmt: skip
    return EndpointSlice.model_validate({
        "metadata": {"name": name or f"{svc}-abc", "namespace": ns,
                     "labels": {"kubernetes.io/service-name": svc}},
        "addressType": family,
        "endpoints": endpoints,
        "ports": ports if ports is not None else [{"name": "https", "protocol": "TCP", "port": 8443}],
    })  # fmt: skip


def texts(records: list) -> set[str]:
    return {r.text() for r in records}


def answer(zone: ClusterZone, name: str, rdtype: int) -> tuple[int, set[str]]:
    result = zone.lookup(name, rdtype)
    assert result is not None, f"{name} is not ours"
    return result.rcode, {rd.to_text() for _, rdatas in result.answers for rd in rdatas}


KUBERNETES = service(
    "kubernetes", clusterIP="10.3.0.1", clusterIPs=["10.3.0.1"],
    ports=[{"name": "https", "port": 443, "protocol": "TCP"}, {"port": 80}],
)  # fmt: skip
HEADLESS = service("headless", clusterIP="None", ports=[{"name": "https", "port": 443}])
HEADLESS_SLICE = slice_of("headless", [
    endpoint("10.3.0.11"), endpoint("10.3.0.12"), endpoint("10.3.0.13"),
    endpoint("10.3.0.100", hostname="my-pet"), endpoint("10.3.0.200", hostname="my-pet-2"),
    endpoint("10.3.0.9", ready=False),
], ports=[{"name": "https", "protocol": "TCP", "port": 443}])  # fmt: skip


# --- the builder: spec sections 2.3 to 2.5 ------------------------------------------------


def test_cluster_ip_service_a_srv_ptr_2_3() -> None:
    records = texts(service_records(KUBERNETES, [], ZONE))
    assert records == {
        "kubernetes.default.svc.cluster.local. A 10.3.0.1",
        "_https._tcp.kubernetes.default.svc.cluster.local. SRV 0 100 443 kubernetes.default.svc.cluster.local.",
        "1.0.3.10.in-addr.arpa. PTR kubernetes.default.svc.cluster.local.",
    }  # the unnamed port 80 has no SRV record


def test_ipv6_cluster_ip_aaaa_and_nibble_ptr_2_3() -> None:
    svc = service("kubernetes", clusterIP="2001:db8::1", ports=[{"name": "https", "port": 443}])
    records = texts(service_records(svc, [], ZONE))
    assert "kubernetes.default.svc.cluster.local. AAAA 2001:db8::1" in records
    nibbles = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."
    assert f"{nibbles} PTR kubernetes.default.svc.cluster.local." in records


def test_headless_service_ready_endpoints_hostnames_srv_ptr_2_4() -> None:
    records = texts(service_records(HEADLESS, [HEADLESS_SLICE], ZONE))
    name = "headless.default.svc.cluster.local."
    a = {r.split()[-1] for r in records if r.startswith(f"{name} A ")}
    assert a == {"10.3.0.11", "10.3.0.12", "10.3.0.13", "10.3.0.100", "10.3.0.200"}  # not 10.3.0.9
    assert f"my-pet.{name} A 10.3.0.100" in records
    srv = {r for r in records if r.startswith(f"_https._tcp.{name}")}
    assert f"_https._tcp.{name} SRV 0 100 443 my-pet.{name}" in srv
    assert f"_https._tcp.{name} SRV 0 100 443 my-pet-2.{name}" in srv
    # no hostname: the system-assigned identifier is the dashed address
    assert f"_https._tcp.{name} SRV 0 100 443 10-3-0-11.{name}" in srv
    assert len(srv) == 5  # N ready endpoints x M named ports
    assert f"100.0.3.10.in-addr.arpa. PTR my-pet.{name}" in records
    assert not any("10.3.0.9" in r or "9.0.3.10" in r for r in records)


def test_publish_not_ready_addresses_names_every_endpoint() -> None:
    svc = service("headless", clusterIP="None", publishNotReadyAddresses=True)
    records = texts(service_records(svc, [HEADLESS_SLICE], ZONE))
    assert "headless.default.svc.cluster.local. A 10.3.0.9" in records
    old = service("headless", clusterIP="None",
                  meta={"annotations": {"service.alpha.kubernetes.io/tolerate-unready-endpoints": "true"}})  # fmt: skip
    assert "headless.default.svc.cluster.local. A 10.3.0.9" in texts(
        service_records(old, [HEADLESS_SLICE], ZONE)
    )


def test_external_name_is_a_cname_2_5() -> None:
    svc = service("foo", type="ExternalName", externalName="www.example.com")
    assert texts(service_records(svc, [], ZONE)) == {
        "foo.default.svc.cluster.local. CNAME www.example.com."
    }


def test_cluster_ip_service_names_its_ready_endpoints_too() -> None:
    slices = [slice_of("kubernetes", [endpoint("10.244.0.5"), endpoint("10.244.0.6", ready=False)])]
    records = texts(service_records(KUBERNETES, slices, ZONE))
    assert "10-244-0-5.kubernetes.default.svc.cluster.local. A 10.244.0.5" in records
    assert (
        "5.0.244.10.in-addr.arpa. PTR 10-244-0-5.kubernetes.default.svc.cluster.local." in records
    )
    assert not any("10.244.0.6" in r for r in records)
    # the service name and its SRV stay on the ClusterIP
    assert not any(r.startswith("kubernetes.default.svc.cluster.local. A 10.244") for r in records)


def test_unallocated_cluster_ip_makes_no_records() -> None:
    assert service_records(service("pending"), [], ZONE) == []


# --- the zone: answers, NODATA, NXDOMAIN ---------------------------------------------------


@pytest.fixture
def zone() -> ClusterZone:
    z = ClusterZone("Cluster.Local", ttl=5)
    z.set_service(KUBERNETES)
    z.set_service(HEADLESS)
    z.set_slice(HEADLESS_SLICE)
    return z


def test_version_txt_2_2(zone: ClusterZone) -> None:
    assert answer(zone, "dns-version.cluster.local.", TXT) == (dns.rcode.NOERROR, {'"1.1.0"'})


def test_examples_answer(zone: ClusterZone) -> None:
    assert answer(zone, "kubernetes.default.svc.cluster.local.", A) == (0, {"10.3.0.1"})
    assert answer(zone, "_https._tcp.kubernetes.default.svc.cluster.local.", SRV) == (
        0, {"0 100 443 kubernetes.default.svc.cluster.local."},
    )  # fmt: skip
    assert answer(zone, "1.0.3.10.in-addr.arpa.", PTR) == (
        0, {"kubernetes.default.svc.cluster.local."},
    )  # fmt: skip
    assert answer(zone, "my-pet.headless.default.svc.cluster.local.", A) == (0, {"10.3.0.100"})
    rcode, addresses = answer(zone, "headless.default.svc.cluster.local.", A)
    assert rcode == 0 and len(addresses) == 5


def test_nodata_for_existing_names_of_another_type(zone: ClusterZone) -> None:
    for name, rdtype in [
        ("kubernetes.default.svc.cluster.local.", AAAA),  # an IPv4 Service
        ("kubernetes.default.svc.cluster.local.", TXT),
        ("_tcp.kubernetes.default.svc.cluster.local.", SRV),  # empty non-terminal
        ("default.svc.cluster.local.", A),  # a namespace with Services
        ("svc.cluster.local.", A),
        ("cluster.local.", A),
    ]:
        result = zone.lookup(name, rdtype)
        assert result is not None
        assert (result.rcode, result.answers, result.soa) == (dns.rcode.NOERROR, [], True), name


def test_nxdomain_for_names_that_do_not_exist(zone: ClusterZone) -> None:
    for name in [
        "nothing.default.svc.cluster.local.",
        "kubernetes.nowhere.svc.cluster.local.",
        "_http._tcp.kubernetes.default.svc.cluster.local.",  # no such port name
        "_https._udp.kubernetes.default.svc.cluster.local.",
        "x.kubernetes.default.svc.cluster.local.",
        "other.cluster.local.",
    ]:
        result = zone.lookup(name, A)
        assert result is not None and result.rcode == dns.rcode.NXDOMAIN and result.soa, name


def test_headless_without_ready_endpoints_is_nxdomain_2_4_1(zone: ClusterZone) -> None:
    zone.set_slice(slice_of("headless", [endpoint("10.3.0.1", ready=False)]))
    result = zone.lookup("headless.default.svc.cluster.local.", A)
    assert result is not None and result.rcode == dns.rcode.NXDOMAIN
    zone.set_slice(slice_of("headless", [endpoint("10.3.0.1", ready=True)]))
    assert answer(zone, "headless.default.svc.cluster.local.", A) == (0, {"10.3.0.1"})


def test_deleting_a_service_removes_every_record_and_name(zone: ClusterZone) -> None:
    before = zone.generation
    zone.delete_service(KUBERNETES)
    assert zone.generation > before
    result = zone.lookup("kubernetes.default.svc.cluster.local.", A)
    assert result is not None and result.rcode == dns.rcode.NXDOMAIN
    assert zone.lookup("1.0.3.10.in-addr.arpa.", PTR) is None  # not ours any more: forwarded
    zone.delete_slice(HEADLESS_SLICE)
    zone.delete_service(HEADLESS)
    result = zone.lookup("default.svc.cluster.local.", A)
    assert result is not None and result.rcode == dns.rcode.NXDOMAIN
    assert zone.record_count == 0


def test_slices_of_one_service_are_merged_and_removed_one_by_one(zone: ClusterZone) -> None:
    second = slice_of("headless", [endpoint("10.3.1.1")], name="headless-def")
    zone.set_slice(second)
    assert "10.3.1.1" in answer(zone, "headless.default.svc.cluster.local.", A)[1]
    zone.delete_slice(HEADLESS_SLICE)
    assert answer(zone, "headless.default.svc.cluster.local.", A) == (0, {"10.3.1.1"})


def test_external_name_answers_cname_with_target_to_chase(zone: ClusterZone) -> None:
    zone.set_service(service("foo", type="ExternalName", externalName="www.example.com"))
    result = zone.lookup("foo.default.svc.cluster.local.", A)
    assert result is not None and result.answers[0][0] == CNAME
    assert result.cname is not None and result.cname.to_text() == "www.example.com."


def test_pod_records_and_modes(zone: ClusterZone) -> None:
    assert answer(zone, "10-244-1-7.default.pod.cluster.local.", A) == (0, {"10.244.1.7"})
    assert answer(zone, "10-244-1-7.default.pod.cluster.local.", AAAA) == (0, set())
    result = zone.lookup("10-244-1-777.default.pod.cluster.local.", A)
    assert result is not None and result.rcode == dns.rcode.NXDOMAIN
    off = ClusterZone(pods=PODS_DISABLED)
    result = off.lookup("10-244-1-7.default.pod.cluster.local.", A)
    assert result is not None and result.rcode == dns.rcode.NXDOMAIN


def test_apex_soa_ns_and_names_outside(zone: ClusterZone) -> None:
    rcode, soa = answer(zone, "cluster.local.", SOA)
    assert rcode == 0 and next(iter(soa)).endswith(" 7200 1800 86400 5")
    assert answer(zone, "cluster.local.", NS) == (0, {"ns.dns.cluster.local."})
    assert zone.lookup("example.com.", A) is None
    assert zone.lookup("9.9.9.9.in-addr.arpa.", PTR) is None
    zone.set_service(service("kube-dns", "kube-system", clusterIP="10.96.0.10"))
    assert answer(zone, "ns.dns.cluster.local.", A) == (0, {"10.96.0.10"})
