"""Service: defaults and validation as Kubernetes; cluster IPs and node ports allocated
from the server's ranges.

Every allocation is a companion key (``<prefix>/ranges/serviceips/<ip>``,
``<prefix>/ranges/servicenodeports/<port>``) created in the same etcd transaction as
the Service and deleted with it, so several apiservers never hand out the same address
and no allocation outlives its Service.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apiserver.kinds.common import (
    CIDR_ERROR,
    PORT_PROTOCOLS,
    SPEC,
    STATUS,
    CoreStrategy,
    GoValue,
    dual_stack,
    non_special_ip_errors,
    valid_cidr,
)
from apiserver.kinds.printers import AGE_COLUMN, NONE, UNKNOWN, format_labels
from apiserver.kinds.service_allocator import (
    ServiceAllocator,
    needs_cluster_ip,
    needs_health_check,
    needs_node_ports,
)
from apiserver.registry.strategy import Column, KindSettings, StoreContext, age
from apiserver.storage.interface import Companions
from apiserver.subresources.status import Status
from apitypes import registry
from apitypes.core import (
    ClientIPConfig,
    LoadBalancerStatus,
    Service,
    ServicePort,
    ServiceSpec,
    ServiceStatus,
    SessionAffinityConfig,
)
from apitypes.validation import (
    FIELD_IMMUTABLE,
    FieldError,
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_ip,
    is_valid_port_name,
    is_valid_port_num,
    not_supported,
    parse_ip_sloppy,
    required,
    validate_labels,
)

_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_SESSION_AFFINITIES = ("ClientIP", "None")
_TRAFFIC_POLICIES = ("Cluster", "Local")
_IP_FAMILIES = ("IPv4", "IPv6")
_IP_FAMILY_POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")
_MAX_AFFINITY_TIMEOUT = 86400
_DEFAULT_AFFINITY_TIMEOUT = 10800


def _externally_accessible(svc: Service) -> bool:
    spec = svc.spec
    if spec is None:
        return False
    return spec.type in ("LoadBalancer", "NodePort") or (
        spec.type == "ClusterIP" and bool(spec.external_ips)
    )


def _headless(svc: Service) -> bool:
    return svc.spec is not None and svc.spec.cluster_ip == "None"


def _service_port_repr(port: ServicePort) -> GoValue:
    return GoValue(
        f'core.ServicePort{{Name:"", Protocol:"{port.protocol or ""}", AppProtocol:(*string)(nil), '
        f'Port:{port.port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:""}}, NodePort:0}}'
    )


class ServiceStrategy(CoreStrategy):
    """Services: defaults and validation as Kubernetes, cluster IPs from
    ``settings.service_cluster_ip_range`` and node ports from
    ``settings.service_node_port_range``, each held by a companion key."""

    resource = registry.resource("", "services")
    subresources = (Status(),)
    allocates = True
    return_deleted_object = True
    columns = (
        Column("Type", description="Type determines how the Service is exposed."),
        Column(
            "Cluster-IP", description="The IP address of the service, usually assigned randomly."
        ),
        Column(
            "External-IP",
            description="The IP addresses for which nodes also accept traffic for this service.",
        ),
        Column("Port(s)", description="The list of ports that are exposed by this service."),
        AGE_COLUMN,
        Column(
            "Selector",
            priority=1,
            description="Route service traffic to pods with label keys and values matching this selector.",
        ),
    )

    def __init__(self, settings: KindSettings | None = None) -> None:
        super().__init__(settings)
        self.allocator = ServiceAllocator(self.settings)
        self.family = self.allocator.family

    def name_errors(self, name: str) -> list[str]:
        return is_dns1035_label(name)

    # -- defaults and lifecycle --

    def default(self, obj: Service) -> None:
        if obj.spec is None:
            obj.spec = ServiceSpec()
        spec = obj.spec
        if not spec.session_affinity:
            spec.session_affinity = "None"
        if spec.session_affinity == "None":
            spec.session_affinity_config = None
        if spec.session_affinity == "ClientIP":
            config = spec.session_affinity_config
            if (
                config is None
                or config.client_ip is None
                or config.client_ip.timeout_seconds is None
            ):
                spec.session_affinity_config = SessionAffinityConfig(
                    client_ip=ClientIPConfig(timeout_seconds=_DEFAULT_AFFINITY_TIMEOUT)
                )
        if not spec.type:
            spec.type = "ClusterIP"
        for port in spec.ports:
            if not port.protocol:
                port.protocol = "TCP"
            if port.target_port is None or port.target_port in (0, ""):
                port.target_port = port.port
        if _externally_accessible(obj) and not spec.external_traffic_policy:
            spec.external_traffic_policy = "Cluster"
        if spec.internal_traffic_policy is None and spec.type in (
            "ClusterIP",
            "NodePort",
            "LoadBalancer",
        ):
            spec.internal_traffic_policy = "Cluster"
        if spec.type == "LoadBalancer" and spec.allocate_load_balancer_node_ports is None:
            spec.allocate_load_balancer_node_ports = True
        if spec.cluster_ip and not spec.cluster_ips:
            spec.cluster_ips = [spec.cluster_ip]
        if needs_cluster_ip(obj):
            self._default_families(obj)
        if obj.status is None:
            obj.status = ServiceStatus(load_balancer=LoadBalancerStatus())
        elif obj.status.load_balancer is None:
            obj.status.load_balancer = LoadBalancerStatus()

    def _default_families(self, obj: Service) -> None:
        spec = obj.spec
        assert spec is not None
        for i, ip in enumerate(spec.cluster_ips):
            if ip == "None":
                break
            if i >= len(spec.ip_families) and parse_ip_sloppy(ip):
                spec.ip_families.append("IPv6" if ":" in ip else "IPv4")
        if spec.cluster_ip == "None" and not spec.selector:
            # Headless without selector: both families, whatever the cluster has.
            if spec.ip_family_policy is None:
                spec.ip_family_policy = "RequireDualStack"
            if not spec.ip_families:
                spec.ip_families = [self.family]
            if len(spec.ip_families) < 2 and spec.ip_family_policy != "SingleStack":
                spec.ip_families.append("IPv6" if spec.ip_families[0] == "IPv4" else "IPv4")
            return
        if spec.ip_family_policy is None:
            two = len(spec.ip_families) == 2 or len(spec.cluster_ips) == 2
            spec.ip_family_policy = "RequireDualStack" if two else "SingleStack"
        if not spec.ip_families:
            spec.ip_families = [self.family]

    def prepare_for_update(self, new: Service, old: Service) -> None:
        new.status = old.status
        # Defaults first, as Kubernetes has them from decoding before this point.
        self.default(new)
        assert new.spec is not None and old.spec is not None
        self._patch_allocated(new, old)
        self._normalize_cluster_ips(new, old)
        self._drop_type_dependent(new, old)

    def _patch_allocated(self, new: Service, old: Service) -> None:
        """Values the client left out but the server allocated before are kept."""
        spec, before = new.spec, old.spec
        assert spec is not None and before is not None
        if needs_cluster_ip(old) and needs_cluster_ip(new):
            if not spec.cluster_ip:
                spec.cluster_ip = before.cluster_ip
            if not spec.cluster_ips and before.cluster_ips:
                spec.cluster_ips = list(before.cluster_ips)
            if not spec.ip_families and before.ip_families:
                spec.ip_families = list(before.ip_families)
            if spec.ip_family_policy is None:
                spec.ip_family_policy = before.ip_family_policy
        if needs_node_ports(old) and needs_node_ports(new):
            used = {p.node_port for p in before.ports if p.node_port} & {
                p.node_port for p in spec.ports if p.node_port
            }
            by_name = {p.name or "": p.node_port for p in before.ports}
            for port in spec.ports:
                if not port.node_port:
                    previous = by_name.get(port.name or "")
                    if previous and previous not in used:
                        port.node_port = previous
        if needs_health_check(old) and needs_health_check(new) and not spec.health_check_node_port:
            spec.health_check_node_port = before.health_check_node_port

    def _normalize_cluster_ips(self, new: Service, old: Service) -> None:
        spec, before = new.spec, old.spec
        assert spec is not None and before is not None
        if before.cluster_ips and not spec.cluster_ips and before.cluster_ip == spec.cluster_ip:
            spec.cluster_ips = list(before.cluster_ips)
        if before.cluster_ip != spec.cluster_ip:
            same = spec.cluster_ips == before.cluster_ips
            if before.cluster_ip and not spec.cluster_ip and same:
                spec.cluster_ips = []
            if spec.cluster_ip and same:
                spec.cluster_ips = [spec.cluster_ip]

    def _drop_type_dependent(self, new: Service, old: Service) -> None:
        """Fields the new type no longer uses go, when the client did not change them."""
        spec, before = new.spec, old.spec
        assert spec is not None and before is not None
        if needs_cluster_ip(old) and not needs_cluster_ip(new):
            if spec.cluster_ip == before.cluster_ip and spec.cluster_ips == before.cluster_ips:
                spec.cluster_ip = None
                spec.cluster_ips = []
            if spec.ip_families == before.ip_families:
                spec.ip_families = []
            if spec.ip_family_policy == before.ip_family_policy:
                spec.ip_family_policy = None
        same_ports = [p.node_port for p in spec.ports] == [p.node_port for p in before.ports]
        if needs_node_ports(old) and not needs_node_ports(new) and same_ports:
            for port in spec.ports:
                port.node_port = None
        same_hc = spec.health_check_node_port == before.health_check_node_port
        if needs_health_check(old) and not needs_health_check(new) and same_hc:
            spec.health_check_node_port = None
        if before.type == "LoadBalancer" and spec.type != "LoadBalancer":
            if spec.allocate_load_balancer_node_ports == before.allocate_load_balancer_node_ports:
                spec.allocate_load_balancer_node_ports = None
            if spec.load_balancer_class == before.load_balancer_class:
                spec.load_balancer_class = None
        same_etp = spec.external_traffic_policy == before.external_traffic_policy
        if _externally_accessible(old) and not _externally_accessible(new) and same_etp:
            spec.external_traffic_policy = None
        if spec.type != "LoadBalancer" and new.status is not None:
            new.status = new.status.model_copy(update={"load_balancer": LoadBalancerStatus()})

    # -- validation --

    def validate(self, obj: Service) -> list[FieldError]:
        errs = self.validate_metadata(obj)
        spec = obj.spec
        assert spec is not None
        headless = _headless(obj)
        if not spec.ports and not headless and spec.type != "ExternalName":
            errs.append(required(SPEC.child("ports")))
        if spec.type in ("LoadBalancer", "NodePort") and headless:
            errs.append(
                invalid(
                    SPEC.child("clusterIPs").index(0),
                    spec.cluster_ips[0] if spec.cluster_ips else "None",
                    f"may not be set to 'None' for {spec.type} services",
                )
            )
        if spec.type == "ExternalName":
            if spec.cluster_ips:
                errs.append(
                    forbidden(SPEC.child("clusterIPs"), "may not be set for ExternalName services")
                )
            if spec.ip_families:
                errs.append(
                    forbidden(SPEC.child("ipFamilies"), "may not be set for ExternalName services")
                )
            if spec.ip_family_policy is not None:
                errs.append(
                    forbidden(
                        SPEC.child("ipFamilyPolicy"), "may not be set for ExternalName services"
                    )
                )
            cname = (spec.external_name or "").removesuffix(".")
            if cname:
                errs.extend(
                    invalid(SPEC.child("externalName"), cname, msg)
                    for msg in is_dns1123_subdomain(cname)
                )
            else:
                errs.append(required(SPEC.child("externalName")))
        names: set[str] = set()
        ports_path = SPEC.child("ports")
        for i, port in enumerate(spec.ports):
            errs.extend(_service_port(port, len(spec.ports) > 1, names, ports_path.index(i)))
        errs.extend(validate_labels(spec.selector, SPEC.child("selector")))
        errs.extend(self._session_affinity(obj))
        errs.extend(self._cluster_ip_fields(obj))
        for i, ip in enumerate(spec.external_ips):
            path = SPEC.child("externalIPs").index(i)
            messages = is_valid_ip(ip)
            errs.extend(invalid(path, ip, msg) for msg in messages)
            if not messages:
                errs.extend(non_special_ip_errors(ip, path))
        if not spec.type:
            errs.append(required(SPEC.child("type")))
        elif spec.type not in _SERVICE_TYPES:
            errs.append(not_supported(SPEC.child("type"), spec.type, _SERVICE_TYPES))
        if spec.type == "ClusterIP":
            for i, port in enumerate(spec.ports):
                if port.node_port:
                    errs.append(
                        forbidden(
                            ports_path.index(i).child("nodePort"),
                            "may not be used when `type` is 'ClusterIP'",
                        )
                    )
        node_ports: set[tuple[str, int]] = set()
        for i, port in enumerate(spec.ports):
            if not port.node_port:
                continue
            key = (port.protocol or "", port.node_port)
            if key in node_ports:
                errs.append(duplicate(ports_path.index(i).child("nodePort"), port.node_port))
            node_ports.add(key)
        pairs: set[tuple[str, int]] = set()
        for i, port in enumerate(spec.ports):
            key = (port.protocol or "", port.port)
            if key in pairs:
                errs.append(duplicate(ports_path.index(i), _service_port_repr(port)))
            pairs.add(key)
        if spec.load_balancer_source_ranges:
            path = SPEC.child("LoadBalancerSourceRanges")
            if spec.type != "LoadBalancer":
                errs.append(forbidden(path, "may only be used when `type` is 'LoadBalancer'"))
            for i, cidr in enumerate(spec.load_balancer_source_ranges):
                if not valid_cidr(cidr.strip()):
                    errs.append(invalid(path.index(i), cidr.strip(), CIDR_ERROR))
        if spec.allocate_load_balancer_node_ports is not None and spec.type != "LoadBalancer":
            errs.append(
                forbidden(
                    SPEC.child("allocateLoadBalancerNodePorts"),
                    "may only be used when `type` is 'LoadBalancer'",
                )
            )
        if spec.type == "LoadBalancer" and spec.allocate_load_balancer_node_ports is None:
            errs.append(required(FieldPath("allocateLoadBalancerNodePorts")))
        if spec.load_balancer_class is not None:
            path = SPEC.child("loadBalancerClass")
            if spec.type != "LoadBalancer":
                errs.append(forbidden(path, "may only be used when `type` is 'LoadBalancer'"))
            else:
                errs.extend(
                    invalid(path, spec.load_balancer_class, m)
                    for m in is_qualified_name(spec.load_balancer_class)
                )
        errs.extend(self._traffic_policies(obj))
        return errs

    def _session_affinity(self, obj: Service) -> list[FieldError]:
        spec = obj.spec
        assert spec is not None
        errs: list[FieldError] = []
        affinity = spec.session_affinity or ""
        if not affinity:
            errs.append(required(SPEC.child("sessionAffinity")))
        elif affinity not in _SESSION_AFFINITIES:
            errs.append(not_supported(SPEC.child("sessionAffinity"), affinity, _SESSION_AFFINITIES))
        config_path = SPEC.child("sessionAffinityConfig")
        if affinity == "ClientIP":
            detail = "when session affinity type is ClientIP"
            config = spec.session_affinity_config
            if config is None:
                errs.append(required(config_path, detail))
            elif config.client_ip is None:
                errs.append(required(config_path.child("clientIP"), detail))
            elif config.client_ip.timeout_seconds is None:
                errs.append(required(config_path.child("clientIP", "timeoutSeconds"), detail))
            else:
                timeout = config.client_ip.timeout_seconds
                if timeout <= 0 or timeout > _MAX_AFFINITY_TIMEOUT:
                    errs.append(
                        invalid(
                            config_path.child("clientIP", "timeoutSeconds"),
                            timeout,
                            f"must be greater than 0 and less than {_MAX_AFFINITY_TIMEOUT}",
                        )
                    )
        elif affinity == "None" and spec.session_affinity_config is not None:
            errs.append(forbidden(config_path, "must not be set when session affinity is None"))
        return errs

    def _cluster_ip_fields(self, obj: Service) -> list[FieldError]:
        """``ValidateServiceClusterIPsRelatedFields`` plus what this cluster can serve."""
        spec = obj.spec
        assert spec is not None
        if spec.type == "ExternalName":
            return []
        errs: list[FieldError] = []
        ips_path = SPEC.child("clusterIPs")
        families_path = SPEC.child("ipFamilies")
        policy_path = SPEC.child("ipFamilyPolicy")
        if spec.cluster_ip:
            if not spec.cluster_ips:
                errs.append(required(ips_path))
            elif spec.cluster_ips[0] != spec.cluster_ip:
                errs.append(
                    invalid(ips_path, spec.cluster_ips, "first value must match `clusterIP`")
                )
        elif spec.cluster_ips:
            errs.append(
                invalid(
                    ips_path, spec.cluster_ips, "must be empty when `clusterIP` is not specified"
                )
            )
        seen: set[str] = set()
        for i, family in enumerate(spec.ip_families):
            if family not in _IP_FAMILIES:
                errs.append(not_supported(families_path.index(i), family, _IP_FAMILIES))
            if family in seen:
                errs.append(duplicate(families_path.index(i), family))
            seen.add(family)
        policy = spec.ip_family_policy
        if policy is not None and policy not in _IP_FAMILY_POLICIES:
            errs.append(not_supported(policy_path, policy, _IP_FAMILY_POLICIES))
        bad_ips = False
        for i, ip in enumerate(spec.cluster_ips):
            if i == 0 and ip == "None":
                if len(spec.cluster_ips) > 1:
                    bad_ips = True
                    errs.append(
                        invalid(
                            ips_path, spec.cluster_ips, "'None' must be the first and only value"
                        )
                    )
                continue
            messages = is_valid_ip(ip)
            bad_ips = bad_ips or bool(messages)
            errs.extend(invalid(ips_path.index(i), ip, msg) for msg in messages)
        if len(spec.cluster_ips) > 2:
            errs.append(invalid(ips_path, spec.cluster_ips, "may only hold up to 2 values"))
        if bad_ips:
            return errs
        if len(spec.cluster_ips) > 1 and not dual_stack(spec.cluster_ips):
            errs.append(
                invalid(
                    ips_path, spec.cluster_ips, "may specify no more than one IP for each IP family"
                )
            )
        if not _headless(obj):
            for i, (ip, family) in enumerate(zip(spec.cluster_ips, spec.ip_families, strict=False)):
                v6 = ":" in ip
                if family == "IPv4" and v6:
                    errs.append(
                        invalid(
                            ips_path.index(i),
                            ip,
                            f"expected an IPv4 value as indicated by `ipFamilies[{i}]`",
                        )
                    )
                if family == "IPv6" and not v6:
                    errs.append(
                        invalid(
                            ips_path.index(i),
                            ip,
                            f"expected an IPv6 value as indicated by `ipFamilies[{i}]`",
                        )
                    )
        if _headless(obj) and not spec.selector:
            return errs
        # This cluster serves one family only.
        if policy == "RequireDualStack":
            errs.append(
                invalid(
                    policy_path, policy, "this cluster is not configured for dual-stack services"
                )
            )
        for i, family in enumerate(spec.ip_families):
            if family in _IP_FAMILIES and family != self.family:
                errs.append(
                    invalid(families_path.index(i), family, "not configured on this cluster")
                )
        if policy == "SingleStack" and len(spec.ip_families) > 1:
            errs.append(
                invalid(
                    policy_path,
                    policy,
                    "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified",
                )
            )
        return errs

    def _traffic_policies(self, obj: Service) -> list[FieldError]:
        spec = obj.spec
        assert spec is not None
        errs: list[FieldError] = []
        etp = spec.external_traffic_policy or ""
        path = SPEC.child("externalTrafficPolicy")
        if not _externally_accessible(obj):
            if etp:
                errs.append(
                    invalid(path, etp, "may only be set for externally-accessible services")
                )
        elif not etp:
            errs.append(required(path))
        elif etp not in _TRAFFIC_POLICIES:
            errs.append(not_supported(path, etp, _TRAFFIC_POLICIES))
        hc = spec.health_check_node_port or 0
        hc_path = SPEC.child("healthCheckNodePort")
        if not needs_health_check(obj):
            if hc:
                errs.append(
                    invalid(
                        hc_path,
                        hc,
                        "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
                    )
                )
        elif hc:
            # An unset one is allocated with the Service, so only a given one is checked.
            errs.extend(invalid(hc_path, hc, msg) for msg in is_valid_port_num(hc))
        itp = spec.internal_traffic_policy
        itp_path = SPEC.child("internalTrafficPolicy")
        if itp is None:
            if spec.type in ("NodePort", "LoadBalancer", "ClusterIP"):
                errs.append(required(itp_path))
        elif itp not in _TRAFFIC_POLICIES:
            errs.append(not_supported(itp_path, itp, _TRAFFIC_POLICIES))
        return errs

    def validate_update(self, new: Service, old: Service) -> list[FieldError]:
        spec, before = new.spec, old.spec
        assert spec is not None and before is not None
        errs: list[FieldError] = []
        if spec.type != "ExternalName" and before.type != "ExternalName":
            new_headless, old_headless = _headless(new), _headless(old)
            if not (new_headless and old_headless):
                errs.extend(
                    _cluster_ip_changes(spec.cluster_ips, before.cluster_ips, spec.ip_family_policy)
                )
            if new_headless == old_headless and not new_headless:
                errs.extend(_family_changes(spec, before))
        changed_hc = spec.health_check_node_port != before.health_check_node_port
        if needs_health_check(old) and needs_health_check(new) and changed_hc:
            errs.append(forbidden(SPEC.child("healthCheckNodePort"), FIELD_IMMUTABLE))
        if (
            before.type == "LoadBalancer"
            and spec.type == "LoadBalancer"
            and before.load_balancer_class is not None
            and spec.load_balancer_class != before.load_balancer_class
        ):
            errs.append(
                invalid(
                    SPEC.child("loadBalancerClass"),
                    spec.load_balancer_class,
                    "may not change once set",
                )
            )
        return errs

    def validate_status_update(self, new: Service, old: Service) -> list[FieldError]:
        errs: list[FieldError] = []
        balancer = new.status.load_balancer if new.status else None
        ingress_path = STATUS.child("loadBalancer", "ingress")
        for i, ingress in enumerate(balancer.ingress if balancer else []):
            path = ingress_path.index(i)
            if ingress.ip:
                errs.extend(
                    invalid(path.child("ip"), ingress.ip, msg) for msg in is_valid_ip(ingress.ip)
                )
            if ingress.hostname:
                errs.extend(
                    invalid(path.child("hostname"), ingress.hostname, msg)
                    for msg in is_dns1123_subdomain(ingress.hostname)
                )
                if parse_ip_sloppy(ingress.hostname):
                    errs.append(
                        invalid(
                            path.child("hostname"),
                            ingress.hostname,
                            "must be a DNS name, not an IP address",
                        )
                    )
        return errs

    # -- allocation --

    async def companions_for_create(self, obj: Service, ctx: StoreContext) -> Companions:
        return await self.allocator.allocate(obj, None, ctx)

    async def companions_for_update(
        self, new: Service, old: Service, ctx: StoreContext
    ) -> Companions:
        return await self.allocator.allocate(new, old, ctx)

    def companions_for_delete(self, obj: Service, ctx: StoreContext | None = None) -> Companions:
        return self.allocator.release(obj, ctx)

    # -- printing --

    def row(self, obj: Service) -> Sequence[Any]:
        spec = obj.spec
        assert spec is not None
        ports = ",".join(
            f"{p.port}:{p.node_port}/{p.protocol or ''}"
            if p.node_port
            else f"{p.port}/{p.protocol or ''}"
            for p in spec.ports
        )
        return [
            spec.type or "",
            spec.cluster_ips[0] if spec.cluster_ips else NONE,
            _external_ip(obj),
            ports or NONE,
            age(obj.metadata.creation_timestamp),
            format_labels(spec.selector),
        ]


def _external_ip(svc: Service) -> str:
    spec = svc.spec
    assert spec is not None
    if spec.type in ("ClusterIP", "NodePort"):
        return ",".join(spec.external_ips) if spec.external_ips else NONE
    if spec.type == "LoadBalancer":
        balancer = svc.status.load_balancer if svc.status else None
        found = sorted(
            {ing.ip or ing.hostname or "" for ing in (balancer.ingress if balancer else [])} - {""}
        )
        if spec.external_ips:
            return ",".join([*found, *spec.external_ips])
        return ",".join(found) if found else "<pending>"
    if spec.type == "ExternalName":
        return spec.external_name or ""
    return UNKNOWN


def _service_port(
    port: ServicePort, require_name: bool, names: set[str], path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    if require_name and not port.name:
        errs.append(required(path.child("name")))
    elif port.name:
        errs.extend(invalid(path.child("name"), port.name, m) for m in is_dns1123_label(port.name))
        if port.name in names:
            errs.append(duplicate(path.child("name"), port.name))
        else:
            names.add(port.name)
    errs.extend(invalid(path.child("port"), port.port, m) for m in is_valid_port_num(port.port))
    if not port.protocol:
        errs.append(required(path.child("protocol")))
    elif port.protocol not in PORT_PROTOCOLS:
        errs.append(not_supported(path.child("protocol"), port.protocol, PORT_PROTOCOLS))
    target = port.target_port if port.target_port is not None else 0
    target_path = path.child("targetPort")
    if isinstance(target, int):
        errs.extend(invalid(target_path, target, m) for m in is_valid_port_num(target))
    else:
        errs.extend(invalid(target_path, target, m) for m in is_valid_port_name(target))
    if port.app_protocol is not None:
        errs.extend(
            invalid(path.child("appProtocol"), port.app_protocol, m)
            for m in is_qualified_name(port.app_protocol)
        )
    return errs


def _cluster_ip_changes(new: list[str], old: list[str], policy: str | None) -> list[FieldError]:
    path = SPEC.child("clusterIPs")
    errs: list[FieldError] = []
    if len(old) == len(new):
        errs.extend(
            invalid(path.index(i), new, "may not change once set")
            for i, ip in enumerate(old)
            if ip != new[i]
        )
    elif len(old) > len(new):
        if not new:
            errs.append(invalid(path.index(0), new, "primary clusterIP can not be unset"))
        if old and new and new[0] != old[0]:
            errs.append(invalid(path.index(0), new, "may not change once set"))
        if len(new) == 1 and policy != "SingleStack":
            errs.append(
                invalid(
                    SPEC.child("ipFamilyPolicy"),
                    policy,
                    "must be set to 'SingleStack' when releasing the secondary clusterIP",
                )
            )
    elif old and new[0] != old[0]:
        errs.append(invalid(path.index(0), new, "may not change once set"))
    return errs


def _family_changes(spec: Any, before: Any) -> list[FieldError]:
    path = SPEC.child("ipFamilies")
    new, old = spec.ip_families, before.ip_families
    errs: list[FieldError] = []
    if len(old) == len(new):
        errs.extend(
            invalid(path.index(0), new, "may not change once set")
            for i, f in enumerate(old)
            if f != new[i]
        )
    elif len(old) > len(new):
        if not spec.cluster_ips:
            errs.append(invalid(path.index(0), new, "primary ipFamily can not be unset"))
        if new and new[0] != old[0]:
            errs.append(invalid(path.index(0), spec.cluster_ips, "may not change once set"))
        if len(new) == 1 and spec.ip_family_policy != "SingleStack":
            errs.append(
                invalid(
                    SPEC.child("ipFamilyPolicy"),
                    spec.ip_family_policy,
                    "must be set to 'SingleStack' when releasing the secondary ipFamily",
                )
            )
    elif old and new[0] != old[0]:
        errs.append(invalid(path.index(0), new, "may not change once set"))
    return errs
