"""The service load-balancer controller: LoadBalancer Services get an address from a pool.

navarch runs on bare metal, so this plays the cloud provider's part (as MetalLB's
controller does): every Service of type LoadBalancer without a ``loadBalancerClass``
gets one IP from ``--load-balancer-ip-pool`` (default ``10.122.0.0/24``, see
docs/network.md) in ``status.loadBalancer.ingress[0].ip`` (``ipMode: VIP``); kube-proxy
makes that address answer on the nodes. ``spec.loadBalancerIP``, when set, is the IP
asked for (granted when it lies in the pool and is free). A Service that stops being
of type LoadBalancer (or is deleted) gives its address back, and its status is
cleared.

Who holds which address is read from the Services themselves (their status, indexed
in the informer), so a restarted controller, or a new leader, knows every assignment
before it makes one: assignments survive restarts and are never doubled. Assignments
this process wrote but its cache does not show yet are kept in ``_assigned``, so that
two Services reconciled one after the other never get the same address either. The
lowest free address is taken, so the outcome does not depend on timing.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator
from typing import Any

from apiclient import Informer, object_key
from apitypes.core import LoadBalancerIngress, LoadBalancerStatus, Service, ServiceStatus
from apitypes.registry import by_model
from controllers.base import Controller, ControllerContext

log = logging.getLogger(__name__)

SERVICES = by_model(Service)
IP_INDEX = "loadBalancerIP"
WARNING = "Warning"
NORMAL = "Normal"


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_pool(spec: str) -> list[Network]:
    """The networks of ``--load-balancer-ip-pool`` (comma-separated CIDRs)."""
    networks: list[Network] = []
    for part in spec.split(","):
        if part.strip():
            networks.append(ipaddress.ip_network(part.strip(), strict=False))
    if not networks:
        raise ValueError("--load-balancer-ip-pool names no network")
    return networks


class Pool:
    """The assignable addresses: every host address of the pool's networks (a /24's
    network and broadcast addresses are left out, as some clients mishandle them)."""

    def __init__(self, spec: str) -> None:
        self.networks = parse_pool(spec)

    def __contains__(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net and self._is_host(net, ip) for net in self.networks)

    @staticmethod
    def _is_host(net: Network, ip: Any) -> bool:
        if net.num_addresses <= 2:
            return True
        if ip == net.network_address:
            return False
        return net.version == 6 or ip != net.broadcast_address

    @staticmethod
    def _hosts(net: Network) -> Iterator[Any]:
        return iter(net) if net.num_addresses <= 2 else net.hosts()

    def addresses(self) -> Iterator[str]:
        for net in self.networks:
            for ip in self._hosts(net):
                yield str(ip)


def ingress_ips(svc: Service) -> list[str]:
    lb = svc.status.load_balancer if svc.status else None
    return [i.ip for i in (lb.ingress if lb else []) if i.ip]


def index_by_lb_ip(svc: Any) -> list[str]:
    return ingress_ips(svc)


def wants_address(svc: Service) -> bool:
    spec = svc.spec
    return spec is not None and spec.type == "LoadBalancer" and not spec.load_balancer_class


class ServiceLBController(Controller):
    name = "service-lb-controller"
    service_account = "service-controller"
    aliases = ("servicelb",)

    def __init__(self, ctx: ControllerContext, workers: int = 1) -> None:
        # One worker: assignments are decided one Service at a time.
        super().__init__(ctx, 1)
        self.pool = Pool(self.options.load_balancer_ip_pool)
        self.services: Informer[Service] = self.factory.informer(
            Service, indexers={IP_INDEX: index_by_lb_ip}
        )
        self.services.add_handler(self.enqueue, self._updated, self.enqueue)
        # address -> Service key, for assignments written but maybe not yet cached.
        self._assigned: dict[str, str] = {}

    def _updated(self, old: Service, new: Service) -> None:
        if wants_address(old) or wants_address(new) or ingress_ips(new):
            self.enqueue(new)

    def _holder(self, address: str) -> str | None:
        """The Service key holding ``address``, per the cache and our own writes."""
        for svc in self.services.store.by_index(IP_INDEX, address):
            if wants_address(svc):
                return object_key(svc)
        return self._assigned.get(address)

    def _free(self, address: str, key: str) -> bool:
        holder = self._holder(address)
        return holder is None or holder == key

    def _release(self, key: str) -> None:
        for address in [a for a, k in self._assigned.items() if k == key]:
            del self._assigned[address]

    def _choose(self, svc: Service, key: str) -> str | None:
        assert svc.spec is not None
        asked = svc.spec.load_balancer_ip
        if asked:
            if asked not in self.pool:
                self.recorder.event(svc, WARNING, "AllocationFailed",
                                    f"loadBalancerIP {asked} is not in the pool")  # fmt: skip
                return None
            if not self._free(asked, key):
                self.recorder.event(svc, WARNING, "AllocationFailed",
                                    f"loadBalancerIP {asked} is already in use")  # fmt: skip
                return None
            return asked
        current = [ip for ip in ingress_ips(svc) if ip in self.pool and self._free(ip, key)]
        if current:
            return current[0]
        for address in self.pool.addresses():
            if self._free(address, key):
                return address
        self.recorder.event(svc, WARNING, "AllocationFailed", "no available IP in the pool")
        return None

    async def reconcile(self, key: str) -> float | None:
        cached = self.services.store.get(key)
        if cached is None:
            self._release(key)
            return None
        svc: Service = self.fresh(cached)
        if not wants_address(svc):
            self._release(key)
            ours = [ip for ip in ingress_ips(svc) if ip in self.pool]
            if ours and svc.spec is not None and not svc.spec.load_balancer_class:
                await self._write(svc, [])
            return None
        address = self._choose(svc, key)
        if address is None:
            self._release(key)
            if ingress_ips(svc):
                await self._write(svc, [])
            return 30.0
        self._release(key)
        self._assigned[address] = key
        if ingress_ips(svc) != [address]:
            await self._write(svc, [address])
            self.recorder.event(svc, NORMAL, "IPAllocated", f"Assigned IP [{address}]")
        return None

    async def _write(self, svc: Service, addresses: list[str]) -> None:
        status = svc.status.model_copy(deep=True) if svc.status else ServiceStatus()
        status.load_balancer = LoadBalancerStatus(
            ingress=[LoadBalancerIngress(ip=ip, ip_mode="VIP") for ip in addresses]
        )
        body = svc.model_copy()
        body.status = status
        written = await self.client.update_raw(SERVICES, body.to_dict(), subresource="status")
        self.remember(Service.model_validate(written))
        log.info("%s: load balancer ingress %s", object_key(svc), addresses or "cleared")
