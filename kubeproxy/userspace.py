"""``--proxy-mode userspace``: asyncio TCP and UDP proxies, one listener per address.

This kernel has no IPVS, so the scheduling algorithms IPVS would offer live here
(``--lb-algorithm``): ``round-robin``, ``least-conn`` (fewest open connections or UDP
sessions) and ``source-hash`` (the client's address picks the endpoint). ClientIP
session affinity comes first: a client keeps its endpoint while it is ready, for
``timeoutSeconds`` after its last connection.

How traffic reaches the listeners: every ClusterIP, external IP and load-balancer IP
of a served Service is bound as a /32 on kube-proxy's dummy interface (``netif``), so
they are local addresses of the host. A Service port with endpoints gets a listener
on each of its addresses (``ip:port``) and on ``0.0.0.0:<nodePort>``; one without
endpoints gets none, so the kernel itself refuses connections at once (TCP reset, ICMP
port unreachable for UDP). No iptables rule is involved, and a pod reaching its own
Service is proxied like any other client.

TCP is relayed with two ``asyncio.Protocol`` s that write each chunk straight to the
other side and pause reading when the other side's buffer is full (no coroutine per
chunk); half-closes are passed on. A connect that fails tries the next endpoint. UDP
keeps one connected socket per client to its endpoint, closed after
``UDP_IDLE_TIMEOUT`` seconds without traffic.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from kubeproxy.backend import SyncKind, SyncResult
from kubeproxy.routeplan import plan
from kubeproxy.servicemap import EndpointInfo, ServicePort, ServicePortState

log = logging.getLogger(__name__)

ALGORITHMS = ("round-robin", "least-conn", "source-hash")
UDP_IDLE_TIMEOUT = 30.0
CONNECT_TIMEOUT = 3.0
CONNECT_TRIES = 3

ListenerKey = tuple[str, int, str]
"""(address, port, protocol)."""


@dataclass
class Balancer:
    """Chooses an endpoint for a client: affinity first, then the algorithm."""

    algorithm: str
    endpoints: tuple[EndpointInfo, ...] = ()
    affinity_timeout: int = 0
    active: dict[str, int] = field(default_factory=dict)
    affinity: dict[str, tuple[EndpointInfo, float]] = field(default_factory=dict)
    _next: int = 0

    def set_endpoints(self, endpoints: tuple[EndpointInfo, ...], affinity_timeout: int) -> None:
        self.endpoints = endpoints
        self.affinity_timeout = affinity_timeout
        alive = {str(e) for e in endpoints}
        self.affinity = {c: v for c, v in self.affinity.items() if str(v[0]) in alive}

    def pick(self, client: str, skip: frozenset[str] = frozenset()) -> EndpointInfo | None:
        candidates = [e for e in self.endpoints if str(e) not in skip]
        if not candidates:
            return None
        now = time.monotonic()
        if self.affinity_timeout:
            held = self.affinity.get(client)
            fresh = held is not None and now - held[1] <= self.affinity_timeout
            if held is not None and fresh and held[0] in candidates:
                self.affinity[client] = (held[0], now)
                return held[0]
        if self.algorithm == "source-hash":
            chosen = candidates[zlib.crc32(client.encode()) % len(candidates)]
        elif self.algorithm == "least-conn":
            start = self._next % len(candidates)
            order = candidates[start:] + candidates[:start]
            chosen = min(order, key=lambda e: self.active.get(str(e), 0))
            self._next += 1
        else:
            chosen = candidates[self._next % len(candidates)]
            self._next += 1
        if self.affinity_timeout:
            self.affinity[client] = (chosen, now)
        return chosen

    def opened(self, ep: EndpointInfo) -> None:
        self.active[str(ep)] = self.active.get(str(ep), 0) + 1

    def closed(self, ep: EndpointInfo) -> None:
        left = self.active.get(str(ep), 0) - 1
        if left > 0:
            self.active[str(ep)] = left
        else:
            self.active.pop(str(ep), None)


# --- TCP ------------------------------------------------------------------------------------


class _Relay(asyncio.Protocol):
    """One side of a proxied connection; writes what it reads to its peer."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.peer: _Relay | None = None
        self.eof = False
        self.on_close: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio's; they provide the same methods.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.write(data)

    def eof_received(self) -> bool:
        self.eof = True
        peer = self.peer
        if peer is not None and peer.transport is not None and peer.transport.can_write_eof():
            peer.transport.write_eof()
        if peer is not None and peer.eof:
            self._close_both()
            return False
        return True

    def pause_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self._close_both()

    def _close_both(self) -> None:
        for side in (self, self.peer):
            if side is not None and side.transport is not None and not side.transport.is_closing():
                side.transport.close()
        if self.on_close is not None:
            callback, self.on_close = self.on_close, None
            callback()
        if self.peer is not None and self.peer.on_close is not None:
            callback, self.peer.on_close = self.peer.on_close, None
            callback()


def _made(protocol: _Relay) -> Callable[[], _Relay]:
    return lambda: protocol


class _Client(_Relay):
    """The accepted connection: connects to an endpoint, then relays."""

    def __init__(self, proxy: PortProxy) -> None:
        super().__init__()
        self.proxy = proxy

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.early: list[bytes] = []
        self.proxy.tasks.add(asyncio.get_running_loop().create_task(self._connect()))

    def data_received(self, data: bytes) -> None:
        if self.peer is None:
            # Not connected to an endpoint yet: keep it (uvloop may start reading
            # before connection_made could pause it) and stop reading more.
            self.early.append(data)
            if self.transport is not None:
                self.transport.pause_reading()
            return
        super().data_received(data)

    async def _connect(self) -> None:
        assert self.transport is not None
        peer = self.transport.get_extra_info("peername") or ("", 0)
        client = str(peer[0])
        balancer = self.proxy.balancer
        tried: set[str] = set()
        loop = asyncio.get_running_loop()
        for _ in range(CONNECT_TRIES):
            ep = balancer.pick(client, frozenset(tried))
            if ep is None:
                break
            tried.add(str(ep))
            backend = _Relay()
            try:
                await asyncio.wait_for(
                    loop.create_connection(_made(backend), ep.ip, ep.port), CONNECT_TIMEOUT
                )
            except (OSError, TimeoutError) as err:
                log.debug("%s: %s unreachable: %s", self.proxy.name, ep, err)
                continue
            if self.transport.is_closing():
                if backend.transport is not None:
                    backend.transport.close()
                return
            balancer.opened(ep)
            self.on_close = functools.partial(balancer.closed, ep)
            self.peer, backend.peer = backend, self
            if backend.transport is not None:
                for chunk in self.early:
                    backend.transport.write(chunk)
            self.early.clear()
            if self.eof and backend.transport is not None and backend.transport.can_write_eof():
                backend.transport.write_eof()
            self.transport.resume_reading()
            return
        # No endpoint answered: reset the client, as a refused connection looks.
        self.transport.abort()


# --- UDP ------------------------------------------------------------------------------------


class _UdpSession(asyncio.DatagramProtocol):
    def __init__(self, listener: _UdpListener, client: tuple[str, int]) -> None:
        self.listener = listener
        self.client = client
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: list[bytes] = []
        self.last = time.monotonic()
        self.endpoint: EndpointInfo | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)
        for data in self.pending:
            self.transport.sendto(data)
        self.pending.clear()

    def send(self, data: bytes) -> None:
        self.last = time.monotonic()
        if self.transport is None:
            self.pending.append(data)
        else:
            self.transport.sendto(data)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.last = time.monotonic()
        if self.listener.transport is not None:
            self.listener.transport.sendto(data, self.client)

    def error_received(self, exc: Exception) -> None:
        log.debug("udp session %s: %s", self.client, exc)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        if self.endpoint is not None:
            self.listener.proxy.balancer.closed(self.endpoint)
            self.endpoint = None


class _UdpListener(asyncio.DatagramProtocol):
    def __init__(self, proxy: PortProxy) -> None:
        self.proxy = proxy
        self.transport: asyncio.DatagramTransport | None = None
        self.sessions: dict[tuple[str, int], _UdpSession] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        client = (str(addr[0]), int(addr[1]))
        session = self.sessions.get(client)
        if session is None:
            ep = self.proxy.balancer.pick(client[0])
            if ep is None:
                return
            session = self.sessions[client] = _UdpSession(self, client)
            session.endpoint = ep
            self.proxy.balancer.opened(ep)
            loop = asyncio.get_running_loop()
            self.proxy.tasks.add(
                loop.create_task(self._open(session, ep), name=f"udp-session-{client}")
            )
        session.send(data)

    async def _open(self, session: _UdpSession, ep: EndpointInfo) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.create_datagram_endpoint(lambda: session, remote_addr=(ep.ip, ep.port))
        except OSError as err:
            log.debug("%s: udp to %s failed: %s", self.proxy.name, ep, err)
            self.drop(session.client)

    def drop(self, client: tuple[str, int]) -> None:
        session = self.sessions.pop(client, None)
        if session is not None:
            session.close()

    def expire(self, now: float) -> None:
        for client, session in list(self.sessions.items()):
            if now - session.last > UDP_IDLE_TIMEOUT:
                self.drop(client)

    def close(self) -> None:
        for client in list(self.sessions):
            self.drop(client)
        if self.transport is not None:
            self.transport.close()


# --- one proxied address ------------------------------------------------------------------------


class PortProxy:
    """A listener on one (address, port, protocol) and the balancer behind it."""

    def __init__(self, key: ListenerKey, name: str, algorithm: str) -> None:
        self.key = key
        self.name = name
        self.balancer = Balancer(algorithm)
        self.server: asyncio.AbstractServer | None = None
        self.udp: _UdpListener | None = None
        self.tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        address, port, protocol = self.key
        loop = asyncio.get_running_loop()
        if protocol == "TCP":
            self.server = await loop.create_server(
                lambda: _Client(self), address, port, reuse_address=True, backlog=1024
            )
        else:
            listener = _UdpListener(self)
            await loop.create_datagram_endpoint(lambda: listener, local_addr=(address, port))
            self.udp = listener

    def tick(self, now: float) -> None:
        self.tasks = {t for t in self.tasks if not t.done()}
        if self.udp is not None:
            self.udp.expire(now)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        if self.udp is not None:
            self.udp.close()
        for task in self.tasks:
            task.cancel()


def desired_listeners(
    states: Mapping[str, tuple[ServicePortState, ...]],
) -> dict[ListenerKey, tuple[str, tuple[EndpointInfo, ...], int]]:
    """(address, port, protocol) -> (port name, endpoints, affinity timeout) for every
    Service port that has endpoints for that kind of traffic."""
    out: dict[ListenerKey, tuple[str, tuple[EndpointInfo, ...], int]] = {}
    for ports in states.values():
        for state in ports:
            svc: ServicePort = state.port
            route = plan(svc, state.endpoints)
            internal, external = route.internal_endpoints, route.external_endpoints
            name = str(svc.name)
            if internal:
                out[(svc.cluster_ip, svc.port, svc.protocol)] = (
                    name,
                    internal,
                    svc.affinity_timeout,
                )
            if external:
                for ip in (*svc.external_ips, *svc.load_balancer_ips):
                    out[(ip, svc.port, svc.protocol)] = (name, external, svc.affinity_timeout)
                if svc.node_port:
                    out[("0.0.0.0", svc.node_port, svc.protocol)] = (
                        name,
                        external,
                        svc.affinity_timeout,
                    )
    return out


def service_addresses(states: Mapping[str, tuple[ServicePortState, ...]]) -> set[str]:
    """Every ClusterIP, external and load-balancer IP of the served Services."""
    found: set[str] = set()
    for ports in states.values():
        for state in ports:
            svc = state.port
            found.add(svc.cluster_ip)
            found.update(svc.external_ips)
            found.update(svc.load_balancer_ips)
    return found


class UserspaceBackend:
    mode = "userspace"

    def __init__(self, *, algorithm: str) -> None:
        if algorithm not in ALGORITHMS:
            raise ValueError(f"--lb-algorithm must be one of {', '.join(ALGORITHMS)}")
        self.algorithm = algorithm
        self.proxies: dict[ListenerKey, PortProxy] = {}
        self.failed: set[ListenerKey] = set()

    async def sync(
        self, states: Mapping[str, tuple[ServicePortState, ...]], changed: set[str], kind: SyncKind
    ) -> SyncResult:
        wanted = desired_listeners(states)
        for key in [k for k in self.proxies if k not in wanted]:
            await self.proxies.pop(key).stop()
        self.failed = set()
        for key, (name, endpoints, affinity) in wanted.items():
            proxy = self.proxies.get(key)
            if proxy is None:
                proxy = PortProxy(key, name, self.algorithm)
                try:
                    await proxy.start()
                except OSError as err:
                    log.warning("cannot listen on %s:%d/%s for %s: %s", *key, name, err)
                    self.failed.add(key)
                    continue
                self.proxies[key] = proxy
            proxy.name = name
            proxy.balancer.set_endpoints(endpoints, affinity)
        now = time.monotonic()
        for proxy in self.proxies.values():
            proxy.tick(now)
        if self.failed:
            raise OSError(f"{len(self.failed)} listeners could not bind")
        return SyncResult({"listeners": len(self.proxies)})

    async def close(self) -> None:
        for proxy in self.proxies.values():
            await proxy.stop()
        self.proxies.clear()

    def local_addresses(self, states: Mapping[str, tuple[ServicePortState, ...]]) -> set[str]:
        """The listeners bind to every Service address, so the host must have them all."""
        return service_addresses(states)

    async def cleanup(self) -> None:
        await self.close()
