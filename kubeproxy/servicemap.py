"""What kube-proxy knows about a Service: its ports and, per port, its endpoints.

``service_ports`` turns a Service into ``ServicePort`` s (one per port, IPv4 only;
none for headless, ExternalName or not-yet-allocated Services), and
``EndpointSliceCache`` merges a Service's EndpointSlices into one endpoint list per
port, as Kubernetes' ``pkg/proxy/endpointslicecache.go`` does: slices of other address
types are ignored, an endpoint listed by two slices counts once (local wins), and an
endpoint's conditions left unset read as ready/serving/not terminating.

``categorize`` is Kubernetes' ``CategorizeEndpoints``: which endpoints "Cluster" and
"Local" traffic policies use, falling back to serving-and-terminating endpoints when
none is ready. Every mode renders from these.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apitypes.core import Service
from apitypes.discovery import ADDRESS_TYPE_IPV4, EndpointSlice

AFFINITY_DEFAULT_TIMEOUT = 10800
TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time"


@dataclass(frozen=True)
class ServicePortName:
    """``namespace/name:port`` of one Service port (the port name may be empty)."""

    namespace: str
    name: str
    port: str
    protocol: str

    @property
    def service(self) -> str:
        return f"{self.namespace}/{self.name}"

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}:{self.port}" if self.port else self.service


@dataclass(frozen=True)
class ServicePort:
    """One Service port as the proxy serves it."""

    name: ServicePortName
    cluster_ip: str
    port: int
    protocol: str
    node_port: int = 0
    load_balancer_ips: tuple[str, ...] = ()
    external_ips: tuple[str, ...] = ()
    source_ranges: tuple[str, ...] = ()
    affinity_timeout: int = 0
    """ClientIP session affinity: seconds a client sticks to its endpoint; 0 is off."""
    external_policy_local: bool = False
    internal_policy_local: bool = False
    health_check_node_port: int = 0

    @property
    def externally_accessible(self) -> bool:
        return bool(self.node_port or self.load_balancer_ips or self.external_ips)

    @property
    def uses_cluster_endpoints(self) -> bool:
        return not self.internal_policy_local or (
            self.externally_accessible and not self.external_policy_local
        )

    @property
    def uses_local_endpoints(self) -> bool:
        return self.internal_policy_local or (
            self.externally_accessible and self.external_policy_local
        )


@dataclass(frozen=True, order=True)
class EndpointInfo:
    ip: str
    port: int
    ready: bool = True
    serving: bool = True
    terminating: bool = False
    local: bool = False

    def __str__(self) -> str:
        return f"{self.ip}:{self.port}"


@dataclass(frozen=True)
class ServicePortState:
    """A port and the endpoints behind it: what one sync renders for it."""

    port: ServicePort
    endpoints: tuple[EndpointInfo, ...] = ()


def _ipv4(address: str) -> str | None:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    return str(ip) if ip.version == 4 else None


def service_ports(svc: Service) -> list[ServicePort]:
    """The ports of ``svc`` the proxy serves; none for headless, ExternalName and
    Services without an (IPv4) ClusterIP."""
    spec = svc.spec
    if spec is None or spec.type == "ExternalName":
        return []
    cluster_ip = _ipv4(spec.cluster_ip or "")
    if cluster_ip is None:
        return []
    external = spec.type in ("NodePort", "LoadBalancer") or bool(spec.external_ips)
    affinity = 0
    if spec.session_affinity == "ClientIP":
        config = spec.session_affinity_config
        timeout = config.client_ip.timeout_seconds if config and config.client_ip else None
        affinity = timeout or AFFINITY_DEFAULT_TIMEOUT
    lb_ips: tuple[str, ...] = ()
    if spec.type == "LoadBalancer" and svc.status and svc.status.load_balancer:
        lb_ips = tuple(
            ip
            for ingress in svc.status.load_balancer.ingress
            if ingress.ip and (ip := _ipv4(ingress.ip))
        )
    ports = []
    for port in spec.ports:
        protocol = port.protocol or "TCP"
        ports.append(
            ServicePort(
                name=ServicePortName(
                    svc.metadata.namespace or "", svc.metadata.name or "", port.name or "", protocol
                ),
                cluster_ip=cluster_ip,
                port=port.port,
                protocol=protocol,
                node_port=(port.node_port or 0) if spec.type in ("NodePort", "LoadBalancer") else 0,
                load_balancer_ips=lb_ips,
                external_ips=tuple(ip for e in spec.external_ips if (ip := _ipv4(e))),
                source_ranges=tuple(spec.load_balancer_source_ranges) if lb_ips else (),
                affinity_timeout=affinity,
                external_policy_local=external and spec.external_traffic_policy == "Local",
                internal_policy_local=spec.internal_traffic_policy == "Local",
                health_check_node_port=spec.health_check_node_port or 0,
            )
        )
    return ports


@dataclass
class EndpointSliceCache:
    """The EndpointSlices of every Service, merged per Service port on demand."""

    is_local: Callable[[str], bool] = lambda _node: False
    _slices: dict[str, dict[str, EndpointSlice]] = field(default_factory=dict)

    @staticmethod
    def service_key(eps: EndpointSlice) -> str | None:
        name = eps.service_name()
        return f"{eps.metadata.namespace}/{name}" if name else None

    def update(self, eps: EndpointSlice) -> str | None:
        """Store a slice; returns the key of the Service it belongs to."""
        key = self.service_key(eps)
        if key is not None:
            self._slices.setdefault(key, {})[eps.metadata.name or ""] = eps
        return key

    def delete(self, eps: EndpointSlice) -> str | None:
        key = self.service_key(eps)
        if key is not None:
            slices = self._slices.get(key, {})
            slices.pop(eps.metadata.name or "", None)
            if not slices:
                self._slices.pop(key, None)
        return key

    def trigger_time(self, key: str) -> datetime | None:
        """The newest ``last-change-trigger-time`` of the Service's slices."""
        newest: datetime | None = None
        for eps in self._slices.get(key, {}).values():
            stamp = parse_time(eps.metadata.annotations.get(TRIGGER_TIME))
            if stamp is not None and (newest is None or stamp > newest):
                newest = stamp
        return newest

    def ready_nodes(self, key: str) -> set[str]:
        """The nodes with a ready endpoint of the Service (any port, any address type)."""
        return {
            endpoint.node_name
            for eps in self._slices.get(key, {}).values()
            for endpoint in eps.endpoints
            if endpoint.node_name and endpoint.is_ready()
        }

    def endpoints(self, key: str) -> dict[tuple[str, str], tuple[EndpointInfo, ...]]:
        """(port name, protocol) -> the endpoints of that port, sorted."""
        merged: dict[tuple[str, str], dict[str, EndpointInfo]] = {}
        for eps in self._slices.get(key, {}).values():
            if eps.address_type != ADDRESS_TYPE_IPV4:
                continue
            for port in eps.ports:
                if port.port is None or port.name is None:
                    continue
                found = merged.setdefault((port.name, port.protocol or "TCP"), {})
                for endpoint in eps.endpoints:
                    if not endpoint.addresses:
                        continue
                    ip = _ipv4(endpoint.addresses[0])
                    if ip is None:
                        continue
                    info = EndpointInfo(
                        ip=ip,
                        port=port.port,
                        ready=endpoint.is_ready(),
                        serving=endpoint.is_serving(),
                        terminating=endpoint.is_terminating(),
                        local=bool(endpoint.node_name and self.is_local(endpoint.node_name)),
                    )
                    if str(info) not in found or info.local:
                        found[str(info)] = info
        return {k: tuple(sorted(v.values())) for k, v in merged.items()}


def service_state(
    ports: Iterable[ServicePort],
    endpoints: Mapping[tuple[str, str], tuple[EndpointInfo, ...]],
) -> tuple[ServicePortState, ...]:
    return tuple(ServicePortState(p, endpoints.get((p.name.port, p.protocol), ())) for p in ports)


@dataclass(frozen=True)
class Categorized:
    cluster: tuple[EndpointInfo, ...]
    local: tuple[EndpointInfo, ...]
    reachable: tuple[EndpointInfo, ...]
    """Every endpoint some rule may send to (cluster and local, each once)."""
    has_any: bool


def categorize(port: ServicePort, endpoints: Iterable[EndpointInfo]) -> Categorized:
    """Kubernetes' ``CategorizeEndpoints`` (without topology hints)."""
    eps = tuple(endpoints)
    cluster: tuple[EndpointInfo, ...] = ()
    local: tuple[EndpointInfo, ...] = ()
    has_any = False
    if port.uses_cluster_endpoints:
        cluster = tuple(e for e in eps if e.ready)
        if not cluster:
            cluster = tuple(e for e in eps if e.serving and e.terminating)
        has_any = bool(cluster)
    if not port.uses_local_endpoints:
        return Categorized(cluster, (), cluster, has_any)
    local_ready = local_terminating = False
    for e in eps:
        if e.ready:
            has_any = True
            local_ready = local_ready or e.local
        elif e.serving and e.terminating:
            has_any = True
            local_terminating = local_terminating or e.local
    if local_ready:
        local = tuple(e for e in eps if e.local and e.ready)
    elif local_terminating:
        local = tuple(e for e in eps if e.local and e.serving and e.terminating)
    if not port.uses_cluster_endpoints:
        return Categorized((), local, local, has_any)
    seen = {str(e) for e in cluster}
    reachable = cluster + tuple(e for e in local if str(e) not in seen)
    return Categorized(cluster, local, reachable, has_any)


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
