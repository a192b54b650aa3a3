"""EndpointSlice (discovery.k8s.io/v1).

As Kubernetes 1.30's ``pkg/apis/discovery/validation`` and the EndpointSlice registry
strategy: an ``addressType`` of IPv4, IPv6 or FQDN that never changes, at most 1000
endpoints of 1 to 100 addresses valid for that type (IPs neither unspecified, loopback
nor link-local), at most 100 ports with unique DNS-label names and a known protocol.
Port names default to ``""`` and protocols to ``TCP`` (the v1 defaulting functions).
There is no status; ``generation`` counts changes to anything but metadata.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

from apiserver.kinds.common import PORT_PROTOCOLS, non_special_ip_errors
from apiserver.kinds.printers import AGE_COLUMN
from apiserver.registry.strategy import Column, Strategy, age
from apitypes import registry
from apitypes.discovery import (
    ADDRESS_TYPE_FQDN,
    ADDRESS_TYPE_IPV4,
    ADDRESS_TYPE_IPV6,
    ADDRESS_TYPES,
    Endpoint,
    EndpointHints,
    EndpointPort,
    EndpointSlice,
)
from apitypes.validation import (
    FIELD_IMMUTABLE,
    FieldError,
    FieldPath,
    duplicate,
    invalid,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
    not_supported,
    parse_ip_sloppy,
    required,
    too_many,
    validate_labels,
)

MAX_ENDPOINTS = 1000
MAX_ADDRESSES = 100
MAX_PORTS = 100
MAX_TOPOLOGY_LABELS = 16
MAX_ZONE_HINTS = 8
_UNSET = "<unset>"
_SHOWN = 3


def _ip_of_family(address: str, version: int) -> bool:
    if not parse_ip_sloppy(address):
        return False
    if version == 4:
        return ":" not in address
    try:
        return ipaddress.ip_address(address).version == 6
    except ValueError:
        return False


def fqdn_errors(name: str, path: FieldPath) -> list[FieldError]:
    """``IsFullyQualifiedDomainName``: a DNS subdomain of two labels or more (one
    trailing dot allowed); the first problem only."""
    if not name:
        return [required(path)]
    trimmed = name[:-1] if name.endswith(".") else name
    msgs = is_dns1123_subdomain(trimmed)
    if msgs:
        return [invalid(path, trimmed, ",".join(msgs))]
    labels = trimmed.split(".")
    if len(labels) < 2:
        return [
            invalid(
                path, trimmed, "should be a domain with at least two segments separated by dots"
            )
        ]
    for label in labels:
        msgs = is_dns1123_label(label)
        if msgs:
            return [invalid(path, label, ",".join(msgs))]
    return []


def _address_errors(address: str, address_type: str, path: FieldPath) -> list[FieldError]:
    # Unknown address types are refused elsewhere; their addresses are not checked.
    if address_type == ADDRESS_TYPE_IPV4:
        if not _ip_of_family(address, 4):
            return [invalid(path, address, "must be a valid IPv4 address")]
        return non_special_ip_errors(address, path)
    if address_type == ADDRESS_TYPE_IPV6:
        if not _ip_of_family(address, 6):
            return [invalid(path, address, "must be a valid IPv6 address")]
        return non_special_ip_errors(address, path)
    if address_type == ADDRESS_TYPE_FQDN:
        return fqdn_errors(address, path)
    return []


def _hints_errors(hints: EndpointHints, path: FieldPath) -> list[FieldError]:
    zones = path.child("forZones")
    if len(hints.for_zones) > MAX_ZONE_HINTS:
        return [too_many(zones, len(hints.for_zones), MAX_ZONE_HINTS)]
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, zone in enumerate(hints.for_zones):
        name_path = zones.index(i).child("name")
        if zone.name in seen:
            errs.append(duplicate(name_path, zone.name))
        seen.add(zone.name)
        errs += [invalid(name_path, zone.name, m) for m in is_valid_label_value(zone.name)]
    return errs


def validate_endpoints(
    endpoints: Sequence[Endpoint], address_type: str, path: FieldPath
) -> list[FieldError]:
    if len(endpoints) > MAX_ENDPOINTS:
        return [too_many(path, len(endpoints), MAX_ENDPOINTS)]
    errs: list[FieldError] = []
    for i, endpoint in enumerate(endpoints):
        item = path.index(i)
        addresses = item.child("addresses")
        if not endpoint.addresses:
            errs.append(required(addresses, "must contain at least 1 address"))
        elif len(endpoint.addresses) > MAX_ADDRESSES:
            errs.append(too_many(addresses, len(endpoint.addresses), MAX_ADDRESSES))
        for j, address in enumerate(endpoint.addresses):
            errs += _address_errors(address, address_type, addresses.index(j))
        if endpoint.node_name is not None:
            node = item.child("nodeName")
            errs += [
                invalid(node, endpoint.node_name, m)
                for m in is_dns1123_subdomain(endpoint.node_name)
            ]
        topology = endpoint.deprecated_topology or {}
        topology_path = item.child("deprecatedTopology")
        if len(topology) > MAX_TOPOLOGY_LABELS:
            errs.append(too_many(topology_path, len(topology), MAX_TOPOLOGY_LABELS))
        errs += validate_labels(topology, topology_path)
        if endpoint.hostname is not None:
            host = item.child("hostname")
            errs += [
                invalid(host, endpoint.hostname, m) for m in is_dns1123_label(endpoint.hostname)
            ]
        if endpoint.hints is not None:
            errs += _hints_errors(endpoint.hints, item.child("hints"))
    return errs


def validate_ports(ports: Sequence[EndpointPort], path: FieldPath) -> list[FieldError]:
    if len(ports) > MAX_PORTS:
        return [too_many(path, len(ports), MAX_PORTS)]
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, port in enumerate(ports):
        item = path.index(i)
        name = port.name or ""
        if name:
            errs += [invalid(item.child("name"), name, m) for m in is_dns1123_label(name)]
        if name in names:
            errs.append(duplicate(item.child("name"), name))
        names.add(name)
        if port.protocol is None:
            errs.append(required(item.child("protocol")))
        elif port.protocol not in PORT_PROTOCOLS:
            errs.append(not_supported(item.child("protocol"), port.protocol, PORT_PROTOCOLS))
        if port.app_protocol is not None:
            errs += [
                invalid(item.child("appProtocol"), port.app_protocol, m)
                for m in is_qualified_name(port.app_protocol)
            ]
    return errs


def _with_more(shown: list[str], count: int) -> str:
    """``listWithMoreString``: up to three items, then ``+ N more...``; ``<unset>``."""
    text = ",".join(shown)
    if count > len(shown):
        return f"{text} + {count - len(shown)} more..."
    return text or _UNSET


def format_ports(ports: Iterable[EndpointPort]) -> str:
    """The PORTS cell: numbers (or names, or ``*``)."""
    cells = [
        str(p.port) if p.port is not None else (p.name if p.name is not None else "*")
        for p in ports
    ]
    return _with_more(cells[:_SHOWN], len(cells))


def format_endpoint_addresses(endpoints: Iterable[Endpoint]) -> str:
    """The ENDPOINTS cell: every endpoint's addresses."""
    addresses = [address for endpoint in endpoints for address in endpoint.addresses]
    return _with_more(addresses[:_SHOWN], len(addresses))


class EndpointSliceStrategy(Strategy):
    """EndpointSlices: no status, generation on every non-metadata change, addressType
    fixed at create."""

    resource = registry.resource("discovery.k8s.io", "endpointslices")
    generation = True
    columns = (
        Column("AddressType", description="addressType specifies the type of address carried by this EndpointSlice."),
        Column("Ports", description="ports specifies the list of network ports exposed by each endpoint in this slice."),
        Column("Endpoints", description="endpoints is a list of unique endpoints in this slice."),
        AGE_COLUMN,
    )  # fmt: skip

    def default(self, obj: EndpointSlice) -> None:
        for port in obj.ports:
            if port.name is None:
                port.name = ""
            if port.protocol is None:
                port.protocol = "TCP"

    def validate(self, obj: EndpointSlice) -> list[FieldError]:
        errs = self.validate_metadata(obj)
        path = FieldPath("addressType")
        if not obj.address_type:
            errs.append(required(path))
        elif obj.address_type not in ADDRESS_TYPES:
            errs.append(not_supported(path, obj.address_type, sorted(ADDRESS_TYPES)))
        errs += validate_endpoints(obj.endpoints, obj.address_type, FieldPath("endpoints"))
        errs += validate_ports(obj.ports, FieldPath("ports"))
        return errs

    def validate_update(self, new: EndpointSlice, old: EndpointSlice) -> list[FieldError]:
        if new.address_type != old.address_type:
            return [invalid(FieldPath("addressType"), new.address_type, FIELD_IMMUTABLE)]
        return []

    def row(self, obj: EndpointSlice) -> Sequence[Any]:
        return [
            obj.address_type,
            format_ports(obj.ports),
            format_endpoint_addresses(obj.endpoints),
            age(obj.metadata.creation_timestamp),
        ]
