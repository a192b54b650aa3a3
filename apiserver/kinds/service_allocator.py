"""Service allocations: cluster IPs from ``--service-cluster-ip-range``, node ports from
``--service-node-port-range``.

Every allocation is a companion key (``<prefix>/ranges/serviceips/<ip>``,
``<prefix>/ranges/servicenodeports/<port>``) created in the same etcd transaction as
the Service and deleted with it, so several apiservers never hand out the same value
and no allocation outlives its Service. A value is picked at random among the free
ones, from a preferred dynamic band above a static one, as Kubernetes' allocators do.
"""

from __future__ import annotations

import ipaddress
import random

import orjson

from apiserver import errors
from apiserver.kinds.common import SPEC, canonical_ip
from apiserver.registry.strategy import KindSettings, StoreContext
from apiserver.storage.interface import NO_COMPANIONS, Companions
from apitypes.core import Service
from apitypes.validation import FieldPath, invalid

_IP_KEYS = "ranges/serviceips"
_PORT_KEYS = "ranges/servicenodeports"
# Random draws before falling back to a scan of the whole range.
_RANDOM_TRIES = 64


def needs_cluster_ip(svc: Service) -> bool:
    return svc.spec is not None and svc.spec.type != "ExternalName"


def needs_node_ports(svc: Service) -> bool:
    return svc.spec is not None and svc.spec.type in ("NodePort", "LoadBalancer")


def allocates_node_ports(svc: Service) -> bool:
    spec = svc.spec
    if spec is None:
        return False
    if spec.type == "NodePort":
        return True
    return spec.type == "LoadBalancer" and spec.allocate_load_balancer_node_ports is not False


def needs_health_check(svc: Service) -> bool:
    spec = svc.spec
    return (
        spec is not None and spec.type == "LoadBalancer" and spec.external_traffic_policy == "Local"
    )


def _allocated_ips(svc: Service | None) -> list[str]:
    if svc is None or not needs_cluster_ip(svc):
        return []
    assert svc.spec is not None
    return [ip for ip in svc.spec.cluster_ips if ip and ip != "None"]


def _allocated_ports(svc: Service | None) -> set[int]:
    if svc is None or svc.spec is None:
        return set()
    ports = (
        {port.node_port for port in svc.spec.ports if port.node_port}
        if needs_node_ports(svc)
        else set()
    )
    if needs_health_check(svc) and svc.spec.health_check_node_port:
        ports.add(svc.spec.health_check_node_port)
    return ports


class _Range:
    """A block of integers handed out with a preferred dynamic band above a static one,
    as Kubernetes' allocators do (requests by number are steered to the low band)."""

    def __init__(
        self, first: int, last: int, offset: int, reserved: frozenset[int] = frozenset()
    ) -> None:
        self.first = first
        self.last = last
        self.offset = offset
        self.reserved = reserved

    def contains(self, value: int) -> bool:
        return self.first <= value <= self.last

    def pick(self, taken: set[int]) -> int | None:
        """A random free value: from the upper band first, then anywhere."""
        bands = [(self.first + self.offset, self.last), (self.first, self.first + self.offset - 1)]
        for low, high in bands:
            if low > high:
                continue
            for _ in range(_RANDOM_TRIES):
                candidate = random.randint(low, high)
                if candidate not in taken and candidate not in self.reserved:
                    return candidate
            start = random.randint(low, high)
            for step in range(high - low + 1):
                candidate = low + (start - low + step) % (high - low + 1)
                if candidate not in taken and candidate not in self.reserved:
                    return candidate
        return None


def _range_offset(size: int, minimum: int, maximum: int, step: int) -> int:
    if size <= minimum:
        return 0
    return max(minimum, min(size // step, maximum))


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class ServiceAllocator:
    """Picks, checks and releases the cluster IPs and node ports of Services."""

    def __init__(self, settings: KindSettings) -> None:
        self.settings = settings
        self.network = ipaddress.ip_network(self.settings.service_cluster_ip_range, strict=False)
        self.family = "IPv4" if self.network.version == 4 else "IPv6"
        base = int(self.network.network_address) + 1
        last = int(self.network.broadcast_address) - 1
        size = max(last - base + 1, 0)
        # The first address belongs to the ``kubernetes`` Service; only a request gets it.
        self.ips = _Range(base, last, _range_offset(size, 16, 256, 16), frozenset({base}))
        low, high = self.settings.service_node_port_range
        self.node_ports = _Range(low, high, _range_offset(high - low + 1, 16, 128, 32))

    def release(self, svc: Service, ctx: StoreContext | None = None) -> Companions:
        """The keys to delete with ``svc``: its cluster IPs and node ports."""
        prefix = ctx.prefix if ctx is not None else "/registry"
        ips = [f"{prefix}/{_IP_KEYS}/{ip}" for ip in _allocated_ips(svc)]
        ports = [f"{prefix}/{_PORT_KEYS}/{port}" for port in sorted(_allocated_ports(svc))]
        return Companions(delete=ips + ports)

    async def _taken(self, ctx: StoreContext, kind: str) -> set[str]:
        base = f"{ctx.prefix}/{kind}/"
        page = await ctx.storage.list_prefix(base)
        return {kv.key[len(base) :] for kv in page.items}

    async def allocate(self, svc: Service, old: Service | None, ctx: StoreContext) -> Companions:
        """Fill in and reserve the Service's cluster IP and node ports.

        Requested values must lie in the configured ranges and be free (422 otherwise);
        missing ones are picked at random among the free ones. Returns the keys to
        create for new allocations and to delete for released ones.
        """
        spec = svc.spec
        assert spec is not None
        owner = orjson.dumps({"namespace": svc.metadata.namespace, "name": svc.metadata.name})
        old_ips = set(_allocated_ips(old))
        old_ports = _allocated_ports(old)
        creates: dict[str, bytes] = {}
        if needs_cluster_ip(svc) and spec.cluster_ip != "None":
            await self._allocate_ips(svc, old_ips, ctx)
        new_ips = set(_allocated_ips(svc))
        for ip in sorted(new_ips - old_ips):
            creates[f"{ctx.prefix}/{_IP_KEYS}/{ip}"] = owner
        if needs_node_ports(svc) or (needs_health_check(svc)):
            await self._allocate_ports(svc, old_ports, ctx)
        new_ports = _allocated_ports(svc)
        for port in sorted(new_ports - old_ports):
            creates[f"{ctx.prefix}/{_PORT_KEYS}/{port}"] = owner
        deletes = [f"{ctx.prefix}/{_IP_KEYS}/{ip}" for ip in sorted(old_ips - new_ips)]
        deletes += [f"{ctx.prefix}/{_PORT_KEYS}/{port}" for port in sorted(old_ports - new_ports)]
        if not creates and not deletes:
            return NO_COMPANIONS
        return Companions(create=creates, delete=deletes)

    async def _allocate_ips(self, svc: Service, old_ips: set[str], ctx: StoreContext) -> None:
        spec = svc.spec
        assert spec is not None
        wanted = [ip for ip in spec.cluster_ips if ip and ip != "None"]
        if not wanted:
            taken = await self._taken(ctx, _IP_KEYS)
            numbers = {int(ipaddress.ip_address(ip)) for ip in taken if _is_ip(ip)}
            picked = self.ips.pick(numbers)
            if picked is None:
                raise errors.internal("failed to allocate a serviceIP: range is full")
            address = str(ipaddress.ip_address(picked))
            spec.cluster_ip = address
            spec.cluster_ips = [address]
            return
        fresh = [ip for ip in wanted if canonical_ip(ip) not in old_ips and ip not in old_ips]
        if not fresh:
            return
        taken = await self._taken(ctx, _IP_KEYS)
        for ip in fresh:
            address = canonical_ip(ip)
            number = int(ipaddress.ip_address(address)) if address else -1
            version_ok = address and ipaddress.ip_address(address).version == self.network.version
            if not version_ok or not self.ips.contains(number):
                reason = (
                    f"the provided IP ({ip}) is not in the valid range. The range of valid IPs is "
                    f"{self.network}"
                )
            elif address in taken:
                reason = "provided IP is already allocated"
            else:
                continue
            raise errors.invalid(
                "Service",
                svc.metadata.name,
                [
                    invalid(
                        SPEC.child("clusterIPs"),
                        spec.cluster_ips,
                        f"failed to allocate IP {ip}: {reason}",
                    )
                ],
            )

    async def _allocate_ports(self, svc: Service, old_ports: set[int], ctx: StoreContext) -> None:
        spec = svc.spec
        assert spec is not None
        allocate = allocates_node_ports(svc)
        wanted_hc = needs_health_check(svc)
        needs_pick = (allocate and any(not p.node_port for p in spec.ports)) or (
            wanted_hc and not spec.health_check_node_port
        )
        requested = {p.node_port for p in spec.ports if p.node_port} | (
            {spec.health_check_node_port} if wanted_hc and spec.health_check_node_port else set()
        )
        if not needs_pick and requested <= old_ports:
            return
        taken = {
            int(port) for port in await self._taken(ctx, _PORT_KEYS) if port.isdigit()
        } - old_ports
        claimed: set[int] = set()

        def claim(port: int, path: FieldPath, prefix: str = "") -> None:
            if not self.node_ports.contains(port):
                low, high = self.settings.service_node_port_range
                reason = f"provided port is not in the valid range. The range of valid ports is {low}-{high}"
            elif port in taken or port in claimed:
                reason = "provided port is already allocated"
            else:
                claimed.add(port)
                return
            raise errors.invalid(
                "Service", svc.metadata.name, [invalid(path, port, prefix + reason)]
            )

        def pick() -> int:
            port = self.node_ports.pick(taken | claimed)
            if port is None:
                raise errors.internal("failed to allocate a nodePort: range is full")
            claimed.add(port)
            return port

        by_port: dict[int, int] = {}
        ports_path = SPEC.child("ports")
        if needs_node_ports(svc):
            for i, port in enumerate(spec.ports):
                if not port.node_port and not allocate:
                    continue
                assigned = by_port.get(port.port)
                path = ports_path.index(i).child("nodePort")
                if assigned is None:
                    asked = next(
                        (
                            p.node_port
                            for p in spec.ports[i:]
                            if p.port == port.port and p.node_port
                        ),
                        None,
                    )
                    if asked:
                        claim(asked, path)
                        port.node_port = asked
                    else:
                        port.node_port = pick()
                    by_port[port.port] = port.node_port
                elif port.node_port != assigned:
                    if not port.node_port:
                        port.node_port = assigned
                    else:
                        claim(port.node_port, path)
        if wanted_hc:
            if spec.health_check_node_port:
                claim(
                    spec.health_check_node_port,
                    SPEC.child("healthCheckNodePort"),
                    f"failed to allocate requested HealthCheck NodePort {spec.health_check_node_port}: ",
                )
            else:
                spec.health_check_node_port = pick()
