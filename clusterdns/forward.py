"""Forwarding names outside the cluster zone to upstream resolvers, with a cache.

``Forwarder.resolve`` answers from the ``AnswerCache`` when it can; otherwise it asks
the upstreams in order over one shared UDP socket each (queries told apart by their
random IDs), retries over TCP when an answer comes back truncated, and shares one
upstream query among concurrent askers of the same question. It returns ``None``
when no upstream answered (or there is none), and the server answers SERVFAIL.

The cache keeps positive answers for the smallest TTL in them and negative ones
(NXDOMAIN, NODATA) for the SOA's minimum (RFC 2308), both capped; answers handed
out have their TTLs counted down. It holds at most ``capacity`` entries, dropping the
least recently used.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import struct
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 2.0
UPSTREAM_PAYLOAD = 1232

Key = tuple[str, int, int]  # (lower-case name, type, class)


@dataclass(slots=True)
class Forwarded:
    """An upstream's answer, sections without the OPT record."""

    rcode: int
    answer: list[dns.rrset.RRset]
    authority: list[dns.rrset.RRset]
    additional: list[dns.rrset.RRset]
    cached: bool = False


@dataclass(frozen=True, slots=True)
class Upstream:
    host: str
    port: int = 53

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def parse_upstream(text: str) -> Upstream:
    """``1.2.3.4``, ``1.2.3.4:5353``, ``[::1]:53`` or ``::1``."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return Upstream(host, int(rest.lstrip(":") or 53))
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        return Upstream(host, int(port))
    return Upstream(text)


def resolv_conf_upstreams(path: Path, exclude: set[str]) -> list[Upstream]:
    """The ``nameserver`` lines of a resolv.conf, less ``exclude`` (our own addresses)."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver" and parts[1] not in exclude:
            out.append(Upstream(parts[1]))
    return out


class AnswerCache:
    """Upstream answers by question, bounded, with TTLs counted down on the way out."""

    def __init__(
        self,
        capacity: int = 10_000,
        *,
        max_ttl: int = 3600,
        max_negative_ttl: int = 1800,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = capacity
        self.max_ttl = max_ttl
        self.max_negative_ttl = max_negative_ttl
        self._clock = clock
        self._entries: OrderedDict[Key, tuple[float, float, Forwarded]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key) -> Forwarded | None:
        entry = self._entries.get(key)
        now = self._clock()
        if entry is None or entry[1] <= now:
            if entry is not None:
                del self._entries[key]
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        stored, _, answer = entry
        age = int(now - stored)
        return Forwarded(
            answer.rcode,
            _aged(answer.answer, age),
            _aged(answer.authority, age),
            _aged(answer.additional, age),
            cached=True,
        )

    def put(self, key: Key, answer: Forwarded) -> None:
        ttl = self.ttl_of(answer)
        if ttl <= 0 or self.capacity <= 0:
            return
        now = self._clock()
        self._entries[key] = (now, now + ttl, answer)
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def ttl_of(self, answer: Forwarded) -> int:
        """How long ``answer`` may be kept: 0 for failures and for negative answers
        without an SOA (RFC 2308 section 5)."""
        if answer.rcode == dns.rcode.NOERROR and answer.answer:
            return min(*(r.ttl for r in answer.answer), self.max_ttl)
        if answer.rcode in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            for rrset in answer.authority:
                if rrset.rdtype == dns.rdatatype.SOA and len(rrset):
                    minimum = rrset[0].minimum
                    return min(rrset.ttl, minimum, self.max_negative_ttl)
        return 0


def _aged(rrsets: list[dns.rrset.RRset], age: int) -> list[dns.rrset.RRset]:
    if age <= 0:
        return rrsets
    out = []
    for rrset in rrsets:
        copy = rrset.copy()
        copy.ttl = max(rrset.ttl - age, 0)
        out.append(copy)
    return out


class _UdpClient(asyncio.DatagramProtocol):
    """One connected UDP socket to one upstream; replies matched to queries by ID."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, asyncio.Future[bytes]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: object) -> None:
        if len(data) < 12:
            return
        future = self.pending.pop(struct.unpack_from("!H", data)[0], None)
        if future is not None and not future.done():
            future.set_result(data)

    def error_received(self, exc: Exception) -> None:
        # An ICMP error (port unreachable) fails every query in flight on this socket.
        for future in self.pending.values():
            if not future.done():
                future.set_exception(exc)
        self.pending.clear()

    def connection_lost(self, exc: Exception | None) -> None:
        self.error_received(exc or ConnectionError("upstream socket closed"))
        self.transport = None


class Forwarder:
    """Resolves names through upstream servers, caching what they say."""

    def __init__(
        self,
        upstreams: list[Upstream],
        *,
        cache: AnswerCache | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        on_upstream: Callable[[Upstream, str], None] | None = None,
    ) -> None:
        self.upstreams = upstreams
        self.cache = cache if cache is not None else AnswerCache()
        self.timeout = timeout
        self._on_upstream = on_upstream
        self._clients: dict[Upstream, _UdpClient] = {}
        self._inflight: dict[Key, asyncio.Future[Forwarded | None]] = {}

    async def resolve(self, qname: dns.name.Name, rdtype: int, rdclass: int) -> Forwarded | None:
        key = (qname.to_text().lower(), rdtype, rdclass)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        if not self.upstreams:
            return None
        running = self._inflight.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[Forwarded | None] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            answer = await self._ask(qname, rdtype, rdclass)
            if answer is not None:
                self.cache.put(key, answer)
            future.set_result(answer)
            return answer
        except BaseException as err:
            future.set_exception(err)
            future.exception()  # retrieved: waiters get it, the loop does not log it
            raise
        finally:
            del self._inflight[key]

    async def close(self) -> None:
        for client in self._clients.values():
            if client.transport is not None:
                client.transport.close()
        self._clients.clear()

    async def _ask(self, qname: dns.name.Name, rdtype: int, rdclass: int) -> Forwarded | None:
        query = dns.message.make_query(
            qname,
            dns.rdatatype.RdataType.make(rdtype),
            dns.rdataclass.RdataClass.make(rdclass),
            use_edns=0,
            payload=UPSTREAM_PAYLOAD,
        )
        for upstream in self.upstreams:
            try:
                reply = await self._udp(upstream, query)
                if reply.flags & dns.flags.TC:
                    reply = await self._tcp(upstream, query)
            except (OSError, TimeoutError, dns.exception.DNSException) as err:
                log.debug("upstream %s failed for %s: %s", upstream, qname, err)
                self._count(upstream, "error")
                continue
            rcode = reply.rcode()
            self._count(upstream, dns.rcode.to_text(rcode))
            if rcode in (dns.rcode.SERVFAIL, dns.rcode.REFUSED, dns.rcode.NOTIMP):
                continue
            return Forwarded(rcode, list(reply.answer), list(reply.authority),
                             [r for r in reply.additional if r.rdtype != dns.rdatatype.OPT])  # fmt: skip
        return None

    def _count(self, upstream: Upstream, outcome: str) -> None:
        if self._on_upstream is not None:
            self._on_upstream(upstream, outcome)

    async def _udp(self, upstream: Upstream, query: dns.message.Message) -> dns.message.Message:
        client = self._clients.get(upstream)
        if client is None or client.transport is None:
            loop = asyncio.get_running_loop()
            _, client = await loop.create_datagram_endpoint(
                _UdpClient, remote_addr=(upstream.host, upstream.port)
            )
            self._clients[upstream] = client
        while True:
            query.id = random.randrange(65536)
            if query.id not in client.pending:
                break
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        client.pending[query.id] = future
        assert client.transport is not None
        client.transport.sendto(query.to_wire())
        try:
            wire = await asyncio.wait_for(future, self.timeout)
        finally:
            client.pending.pop(query.id, None)
        reply = dns.message.from_wire(wire)
        if not query.is_response(reply):
            raise dns.exception.FormError("the reply does not answer the query")
        return reply

    async def _tcp(self, upstream: Upstream, query: dns.message.Message) -> dns.message.Message:
        async with asyncio.timeout(self.timeout):
            reader, writer = await asyncio.open_connection(upstream.host, upstream.port)
            try:
                wire = query.to_wire()
                writer.write(struct.pack("!H", len(wire)) + wire)
                await writer.drain()
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                reply = dns.message.from_wire(await reader.readexactly(length))
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
        if not query.is_response(reply):
            raise dns.exception.FormError("the reply does not answer the query")
        return reply
