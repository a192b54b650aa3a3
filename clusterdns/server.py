"""The DNS server: asyncio UDP and TCP listeners around one ``Responder``.

``Responder.respond(wire, proto)`` turns a query's wire form into the answer's, or
into a coroutine when it must wait for an upstream. In order:

1. the answer cache: the same query bytes (all but the ID) got this answer before and
   nothing changed since (the zone's listener empties it on every change; forwarded
   answers stay at most a second, so their TTLs still count down) -> the old answer
   under the new ID, with no parsing at all;
2. a name in the cluster zone (or a reverse name the zone holds) -> answered from the
   zone's index; an ExternalName's target is resolved too (in the zone, or upstream);
3. anything else -> the forwarder (its cache, else the upstreams); SERVFAIL when no
   upstream answers or there is none.

Over UDP an answer larger than the client's EDNS0 buffer (512 bytes without EDNS0,
at most ``UDP_PAYLOAD``) goes out empty with the TC bit, and the client asks again
over TCP, where answers are never truncated; a TCP connection may carry many queries
and is closed after ``TCP_IDLE`` seconds without one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import time
from collections.abc import Callable, Coroutine
from typing import Any

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from clusterdns.forward import Forwarded, Forwarder
from clusterdns.metrics import Metrics
from clusterdns.records import SRV
from clusterdns.zone import ClusterZone, Result

log = logging.getLogger(__name__)

UDP_PAYLOAD = 1232
"""The largest UDP answer we send and the EDNS0 buffer we advertise (DNS Flag Day 2020)."""
TCP_IDLE = 10.0
WIRE_CACHE_SIZE = 20_000
FORWARD_WIRE_SECONDS = 1.0

KNOWN_TYPES = frozenset(["A", "AAAA", "SRV", "PTR", "TXT", "CNAME", "NS", "SOA", "MX", "ANY"])

Pending = Coroutine[Any, Any, bytes | None]


def _type_label(rdtype: int) -> str:
    text = dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rdtype))
    return text if text in KNOWN_TYPES else "other"


class Responder:
    """Answers queries from the zone, the forwarder, and a cache of finished answers."""

    def __init__(
        self,
        zone: ClusterZone,
        forwarder: Forwarder,
        metrics: Metrics,
        *,
        ready: Callable[[], bool] = lambda: True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.zone = zone
        self.forwarder = forwarder
        self.metrics = metrics
        self.ready = ready
        self._clock = clock
        # (proto, query bytes after the ID) -> (answer after the ID, expiry, type, rcode,
        # forwarded: it counts as a cache hit)
        self._wire: dict[tuple[str, bytes], tuple[bytes, float, str, str, bool]] = {}
        zone.add_listener(self._wire.clear)

    # --- entry points ----------------------------------------------------------------

    def respond(self, data: bytes, proto: str) -> bytes | Pending | None:
        """The answer to ``data``, a coroutine that makes it, or ``None`` (drop it)."""
        start = time.perf_counter()
        hit = self._wire.get((proto, data[2:]))
        if hit is not None and hit[1] > self._clock():
            if hit[4]:
                self.metrics.cache_hits.inc()
            self.metrics.count(proto, hit[2], hit[3], time.perf_counter() - start)
            return data[:2] + hit[0]
        try:
            query = dns.message.from_wire(data)
        except dns.exception.DNSException:
            return self._formerr(data, proto, start)
        if query.flags & dns.flags.QR:
            return None
        if query.opcode() != dns.opcode.QUERY:
            return self._error(query, dns.rcode.NOTIMP, proto, start)
        if len(query.question) != 1:
            return self._error(query, dns.rcode.FORMERR, proto, start)
        if query.edns > 0:
            return self._error(query, dns.rcode.BADVERS, proto, start)
        question = query.question[0]
        name = question.name.to_text().lower()
        rdtype = question.rdtype
        if rdtype in (dns.rdatatype.AXFR, dns.rdatatype.IXFR):
            return self._error(query, dns.rcode.REFUSED, proto, start)  # no zone transfers
        if question.rdclass == dns.rdataclass.IN or not self.zone.is_ours(name):
            result = (
                self.zone.lookup(name, rdtype) if question.rdclass == dns.rdataclass.IN else None
            )
        else:
            return self._error(query, dns.rcode.REFUSED, proto, start)
        if result is not None:
            if not self.ready():
                return self._error(query, dns.rcode.SERVFAIL, proto, start)
            if result.cname is None or rdtype == dns.rdatatype.CNAME:
                return self._local(query, result, proto, start, data)
            return self._chase(query, result, proto, start)
        cached = self.forwarder.cache.get((name, rdtype, question.rdclass))
        if cached is not None:
            self.metrics.cache_hits.inc()
            return self._forwarded(query, cached, proto, start, data)
        self.metrics.cache_misses.inc()
        return self._forward(query, name, proto, start, data)

    # --- answers ---------------------------------------------------------------------

    def _local(
        self, query: dns.message.Message, result: Result, proto: str, start: float, data: bytes
    ) -> bytes:
        qname = query.question[0].name
        answer = self._rrsets(qname, result)
        additional = self._srv_addresses(result)
        authority = self._soa() if result.soa else []
        wire = self._render(query, proto, result.rcode, answer, authority, additional, True)
        return self._finish(query, wire, proto, start, data, float("inf"))

    async def _chase(
        self, query: dns.message.Message, result: Result, proto: str, start: float
    ) -> bytes | None:
        """An ExternalName: the CNAME, then the target's records of the asked type."""
        question = query.question[0]
        assert result.cname is not None
        answer = self._rrsets(question.name, result)
        rcode: int = dns.rcode.NOERROR
        target = result.cname.to_text().lower()
        inner = self.zone.lookup(target, question.rdtype)
        if inner is not None:
            answer += self._rrsets(result.cname, inner)
            rcode = inner.rcode
        else:
            found = await self.forwarder.resolve(result.cname, question.rdtype, question.rdclass)
            if found is not None:
                answer += found.answer
                rcode = found.rcode
        wire = self._render(query, proto, rcode, answer, [], [], True)
        return self._finish(query, wire, proto, start, None, 0)

    async def _forward(
        self, query: dns.message.Message, name: str, proto: str, start: float, data: bytes
    ) -> bytes | None:
        question = query.question[0]
        found = await self.forwarder.resolve(question.name, question.rdtype, question.rdclass)
        if found is None:
            return self._error(query, dns.rcode.SERVFAIL, proto, start)
        return self._forwarded(query, found, proto, start, data)

    def _forwarded(
        self, query: dns.message.Message, found: Forwarded, proto: str, start: float, data: bytes
    ) -> bytes:
        wire = self._render(
            query, proto, found.rcode, found.answer, found.authority, found.additional, False
        )
        keep = FORWARD_WIRE_SECONDS if self.forwarder.cache.ttl_of(found) > 0 else 0
        return self._finish(query, wire, proto, start, data, keep)

    def _error(self, query: dns.message.Message, rcode: int, proto: str, start: float) -> bytes:
        wire = self._render(query, proto, rcode, [], [], [], False)
        return self._finish(query, wire, proto, start, None, 0)

    def _formerr(self, data: bytes, proto: str, start: float) -> bytes | None:
        if len(data) < 12:
            return None
        # Header only: the ID and opcode copied, QR set, RCODE 1; no sections.
        flags = (struct.unpack_from("!H", data, 2)[0] & 0x7900) | 0x8000 | dns.rcode.FORMERR
        self.metrics.count(proto, "other", "FORMERR", time.perf_counter() - start)
        return data[:2] + struct.pack("!HHHHH", flags, 0, 0, 0, 0)

    # --- helpers ---------------------------------------------------------------------

    def _finish(
        self,
        query: dns.message.Message,
        wire: bytes,
        proto: str,
        start: float,
        data: bytes | None,
        keep: float,
    ) -> bytes:
        qtype = _type_label(query.question[0].rdtype) if query.question else "other"
        rcode = dns.rcode.to_text(dns.rcode.Rcode.make(_rcode_of(wire)))
        if data is not None and keep > 0:
            if len(self._wire) >= WIRE_CACHE_SIZE:
                self._wire.clear()
            forwarded = keep != float("inf")
            self._wire[(proto, data[2:])] = (
                wire[2:],
                self._clock() + keep,
                qtype,
                rcode,
                forwarded,
            )
        self.metrics.count(proto, qtype, rcode, time.perf_counter() - start)
        return wire

    def _rrsets(self, owner: dns.name.Name, result: Result) -> list[dns.rrset.RRset]:
        ttl = self.zone.ttl
        return [dns.rrset.from_rdata_list(owner, ttl, rdatas) for _, rdatas in result.answers]

    def _srv_addresses(self, result: Result) -> list[dns.rrset.RRset]:
        """The A/AAAA records of SRV targets (spec 2.3.2, 2.4.2: "may include")."""
        out = []
        for rdtype, rdatas in result.answers:
            if rdtype != SRV:
                continue
            for rdata in rdatas:
                target = rdata.target  # type: ignore[attr-defined]
                found = self.zone.addresses(target.to_text().lower())
                by_type: dict[int, list[Any]] = {}
                for address in found:
                    by_type.setdefault(address.rdtype, []).append(address)
                for items in by_type.values():
                    out.append(dns.rrset.from_rdata_list(target, self.zone.ttl, items))
        return out

    def _soa(self) -> list[dns.rrset.RRset]:
        return [dns.rrset.from_rdata_list(self.zone.origin_name, self.zone.ttl, [self.zone.soa()])]

    def _render(
        self,
        query: dns.message.Message,
        proto: str,
        rcode: int,
        answer: list[dns.rrset.RRset],
        authority: list[dns.rrset.RRset],
        additional: list[dns.rrset.RRset],
        authoritative: bool,
    ) -> bytes:
        response = dns.message.make_response(query, our_payload=UDP_PAYLOAD)
        response.flags |= dns.flags.RA | (dns.flags.AA if authoritative else 0)
        response.set_rcode(dns.rcode.Rcode.make(rcode))
        response.answer = answer
        response.authority = authority
        response.additional = additional
        limit = 65535 if proto == "tcp" else udp_limit(query)
        try:
            return response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            # RFC 2181 9: the answer does not fit; say so and let the client use TCP.
            response.answer, response.authority, response.additional = [], [], []
            response.flags |= dns.flags.TC
            return response.to_wire(max_size=limit)


def udp_limit(query: dns.message.Message) -> int:
    """The client's EDNS0 buffer, at least 512 and at most ``UDP_PAYLOAD``."""
    if query.edns < 0:
        return 512
    return max(512, min(query.payload, UDP_PAYLOAD))


def _rcode_of(wire: bytes) -> int:
    # The header's 4 bits; extended rcodes (BADVERS) live in the OPT record.
    return wire[3] & 0x0F if len(wire) >= 4 else dns.rcode.SERVFAIL


# --- transports -----------------------------------------------------------------------


class UdpServer(asyncio.DatagramProtocol):
    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.transport: asyncio.DatagramTransport | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            out = self.responder.respond(data, "udp")
        except Exception:
            log.exception("query from %s failed", addr)
            return
        if out is None:
            return
        if isinstance(out, bytes):
            self._send(out, addr)
            return
        task = asyncio.get_running_loop().create_task(self._later(out, addr))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _later(self, pending: Pending, addr: Any) -> None:
        try:
            out = await pending
        except Exception:
            log.exception("query from %s failed", addr)
            return
        if out is not None:
            self._send(out, addr)

    def _send(self, wire: bytes, addr: Any) -> None:
        if self.transport is not None:
            self.transport.sendto(wire, addr)


async def handle_tcp(
    responder: Responder, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """One TCP connection: length-prefixed queries, answered in order (RFC 7766)."""
    try:
        while True:
            try:
                async with asyncio.timeout(TCP_IDLE):
                    (length,) = struct.unpack("!H", await reader.readexactly(2))
                    data = await reader.readexactly(length)
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                return
            out = responder.respond(data, "tcp")
            if out is not None and not isinstance(out, bytes):
                out = await out
            if out is None:
                continue
            writer.write(struct.pack("!H", len(out)) + out)
            await writer.drain()
    except Exception:
        log.exception("TCP connection failed")
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def start_listeners(
    responder: Responder, host: str, port: int
) -> tuple[asyncio.DatagramTransport, asyncio.Server]:
    """Bind UDP and TCP on ``host:port`` (port 0: one free port, the same for both)."""
    loop = asyncio.get_running_loop()
    server = await asyncio.start_server(
        lambda r, w: handle_tcp(responder, r, w), host, port, reuse_address=True
    )
    bound = server.sockets[0].getsockname()[1]
    transport, _ = await loop.create_datagram_endpoint(
        lambda: UdpServer(responder), local_addr=(host, bound)
    )
    return transport, server
