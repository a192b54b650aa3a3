"""The DNS server in-process: real UDP and TCP listeners on 127.0.0.1, a fake upstream
on 127.0.0.1, the zone fed directly (the informers' part is in the integration tests)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator

import dns.asyncquery
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from clusterdns.forward import AnswerCache, Forwarded, Forwarder, parse_upstream
from clusterdns.metrics import Metrics
from clusterdns.server import Responder, start_listeners
from clusterdns.zone import ClusterZone
from testkit.fakedns import FakeUpstream
from tests.unit.test_clusterdns_records import HEADLESS, KUBERNETES, endpoint, service, slice_of

UPSTREAM_RECORDS = {
    "www.example.com.": [("A", "192.0.2.53", 300)],
    "big.example.com.": [("TXT", '"' + "x" * 200 + '"', 300)],
}


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    fake = FakeUpstream(UPSTREAM_RECORDS).start()
    yield fake
    fake.stop()


class Server:
    def __init__(self, zone: ClusterZone, responder: Responder, port: int) -> None:
        self.zone, self.responder, self.port = zone, responder, port
        self.ready = True

    async def udp(self, name: str, rdtype: str = "A", **kw) -> dns.message.Message:
        query = dns.message.make_query(name, rdtype, **kw)
        return await dns.asyncquery.udp(query, "127.0.0.1", port=self.port, timeout=3)

    async def tcp(self, name: str, rdtype: str = "A", **kw) -> dns.message.Message:
        query = dns.message.make_query(name, rdtype, **kw)
        return await dns.asyncquery.tcp(query, "127.0.0.1", port=self.port, timeout=3)


async def start(upstreams: list[str]) -> tuple[Server, list]:
    zone = ClusterZone(ttl=5)
    zone.set_service(KUBERNETES)
    forwarder = Forwarder([parse_upstream(u) for u in upstreams], timeout=1.0)
    server = Server(zone, None, 0)  # type: ignore[arg-type]
    responder = Responder(zone, forwarder, Metrics(), ready=lambda: server.ready)
    udp, tcp = await start_listeners(responder, "127.0.0.1", 0)
    server.responder = responder
    server.port = tcp.sockets[0].getsockname()[1]
    return server, [udp, tcp, forwarder]


@pytest.fixture
async def server(upstream: FakeUpstream) -> AsyncIterator[Server]:
    srv, closers = await start([upstream.address])
    yield srv
    closers[0].close()
    closers[1].close()
    await closers[2].close()


def rdatas(message: dns.message.Message) -> set[str]:
    return {rd.to_text() for rrset in message.answer for rd in rrset}


async def test_cluster_answer_over_udp_and_tcp(server: Server) -> None:
    for ask in (server.udp, server.tcp):
        reply = await ask("kubernetes.default.svc.cluster.local.")
        assert reply.rcode() == dns.rcode.NOERROR
        assert reply.flags & dns.flags.AA
        assert rdatas(reply) == {"10.3.0.1"}
        assert reply.answer[0].ttl == 5
    reply = await server.udp("KUBERNETES.Default.svc.Cluster.Local.")  # case-insensitive
    assert rdatas(reply) == {"10.3.0.1"}
    assert reply.question[0].name.to_text() == "KUBERNETES.Default.svc.Cluster.Local."


async def test_nxdomain_and_nodata_carry_the_soa(server: Server) -> None:
    missing = await server.udp("nothing.default.svc.cluster.local.")
    assert missing.rcode() == dns.rcode.NXDOMAIN
    assert missing.authority[0].rdtype == dns.rdatatype.SOA
    assert missing.authority[0][0].minimum == 5
    nodata = await server.udp("kubernetes.default.svc.cluster.local.", "AAAA")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer
    assert nodata.authority[0].rdtype == dns.rdatatype.SOA


async def test_srv_answer_has_target_addresses_in_additional(server: Server) -> None:
    reply = await server.udp("_https._tcp.kubernetes.default.svc.cluster.local.", "SRV")
    assert rdatas(reply) == {"0 100 443 kubernetes.default.svc.cluster.local."}
    assert {rd.to_text() for rrset in reply.additional for rd in rrset} == {"10.3.0.1"}


async def test_zone_changes_reach_cached_answers(server: Server) -> None:
    name = "kubernetes.default.svc.cluster.local."
    assert rdatas(await server.udp(name)) == {"10.3.0.1"}
    assert rdatas(await server.udp(name)) == {"10.3.0.1"}  # from the answer cache
    server.zone.set_service(service("kubernetes", clusterIP="10.3.0.2"))
    assert rdatas(await server.udp(name)) == {"10.3.0.2"}
    server.zone.delete_service(KUBERNETES)
    assert (await server.udp(name)).rcode() == dns.rcode.NXDOMAIN


async def test_truncated_over_udp_then_whole_over_tcp(server: Server) -> None:
    server.zone.set_service(HEADLESS)
    server.zone.set_slice(slice_of("headless", [endpoint(f"10.3.5.{i}") for i in range(1, 41)]))
    name = "headless.default.svc.cluster.local."
    plain = await server.udp(name)  # no EDNS0: 512 bytes
    assert plain.flags & dns.flags.TC and not plain.answer
    edns = await server.udp(name, use_edns=0, payload=1232)  # 40 records fit in 1232
    assert not edns.flags & dns.flags.TC and len(rdatas(edns)) == 40
    assert edns.edns == 0 and edns.payload == 1232
    server.zone.set_slice(slice_of("headless", [endpoint(f"10.3.{i // 250}.{i % 250 + 1}")
                                                for i in range(200)]))  # fmt: skip
    big = await server.udp(name, use_edns=0, payload=4096)  # capped at 1232
    assert big.flags & dns.flags.TC
    whole = await server.tcp(name)
    assert not whole.flags & dns.flags.TC and len(rdatas(whole)) == 200


async def test_forwarded_names_are_cached(server: Server, upstream: FakeUpstream) -> None:
    for _ in range(3):
        reply = await server.udp("www.example.com.")
        assert reply.rcode() == dns.rcode.NOERROR and rdatas(reply) == {"192.0.2.53"}
        assert not reply.flags & dns.flags.AA and reply.flags & dns.flags.RA
    assert upstream.asked[("www.example.com.", "A")] == 1
    for _ in range(3):
        assert (await server.udp("nope.example.com.")).rcode() == dns.rcode.NXDOMAIN
    assert upstream.asked[("nope.example.com.", "A")] == 1  # negative caching from the SOA
    metrics = server.responder.metrics
    assert metrics.cache_hits._value.get() >= 2


async def test_external_name_is_chased_through_the_upstream(server: Server) -> None:
    server.zone.set_service(service("foo", type="ExternalName", externalName="www.example.com"))
    reply = await server.udp("foo.default.svc.cluster.local.")
    assert [r.rdtype for r in reply.answer] == [dns.rdatatype.CNAME, dns.rdatatype.A]
    assert rdatas(reply) == {"www.example.com.", "192.0.2.53"}


async def test_no_upstream_is_servfail_at_once() -> None:
    srv, closers = await start([])
    try:
        began = time.monotonic()
        reply = await srv.udp("www.example.com.")
        assert reply.rcode() == dns.rcode.SERVFAIL
        assert time.monotonic() - began < 0.5
        assert rdatas(await srv.udp("kubernetes.default.svc.cluster.local.")) == {"10.3.0.1"}
    finally:
        closers[0].close()
        closers[1].close()


async def test_unanswering_upstream_is_servfail_after_the_timeout() -> None:
    quiet = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    quiet.bind(("127.0.0.1", 0))  # bound, never answers
    srv, closers = await start([f"127.0.0.1:{quiet.getsockname()[1]}"])
    try:
        reply = await srv.udp("www.example.com.")
        assert reply.rcode() == dns.rcode.SERVFAIL
    finally:
        quiet.close()
        closers[0].close()
        closers[1].close()


async def test_cluster_names_are_servfail_until_synced(server: Server) -> None:
    server.ready = False
    reply = await server.udp("kubernetes.default.svc.cluster.local.")
    assert reply.rcode() == dns.rcode.SERVFAIL
    server.ready = True
    assert rdatas(await server.udp("kubernetes.default.svc.cluster.local.")) == {"10.3.0.1"}


async def test_malformed_and_unsupported_queries(server: Server) -> None:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    try:
        await loop.sock_sendto(sock, b"\x12\x34" + b"\x01\x00" + b"\x00\x05" + b"\xff" * 10,
                               ("127.0.0.1", server.port))  # fmt: skip
        data = await asyncio.wait_for(loop.sock_recv(sock, 512), 3)
    finally:
        sock.close()
    assert data[:2] == b"\x12\x34" and data[3] & 0x0F == dns.rcode.FORMERR
    notify = dns.message.make_query("cluster.local.", "SOA")
    notify.set_opcode(dns.opcode.NOTIFY)
    reply = await dns.asyncquery.udp(notify, "127.0.0.1", port=server.port, timeout=3)
    assert reply.rcode() == dns.rcode.NOTIMP
    reply = await server.udp("kubernetes.default.svc.cluster.local.", use_edns=1)
    assert reply.rcode() == dns.rcode.BADVERS
    assert (await server.tcp("cluster.local.", "AXFR")).rcode() == dns.rcode.REFUSED


def test_answer_cache_ttls_count_down_and_expire() -> None:
    now = [100.0]
    cache = AnswerCache(2, clock=lambda: now[0])
    positive = Forwarded(0, [dns.rrset.from_text("a.example.", 30, "IN", "A", "192.0.2.1")], [], [])
    cache.put(("a.example.", 1, 1), positive)
    now[0] += 10
    hit = cache.get(("a.example.", 1, 1))
    assert hit is not None and hit.answer[0].ttl == 20 and hit.cached
    now[0] += 21
    assert cache.get(("a.example.", 1, 1)) is None
    soa = dns.rrset.from_text("example.", 600, "IN", "SOA", "ns. h. 1 2 3 4 45")
    negative = Forwarded(dns.rcode.NXDOMAIN, [], [soa], [])
    assert cache.ttl_of(negative) == 45
    assert cache.ttl_of(Forwarded(dns.rcode.NXDOMAIN, [], [], [])) == 0  # no SOA: not kept
    assert cache.ttl_of(Forwarded(dns.rcode.SERVFAIL, [], [soa], [])) == 0
    for i in range(3):  # bounded: the least recently used goes
        cache.put((f"{i}.example.", 1, 1), positive)
    assert len(cache) == 2 and cache.get(("0.example.", 1, 1)) is None
