"""The records a Service owns, by the Kubernetes DNS specification (schema 1.1.0).

A pure module: a Service and its EndpointSlices in, resource records out. The zone
(``zone.py``) keeps the union of every Service's records in an index and answers
queries from it; nothing here looks anything up.

For a Service ``<svc>`` in ``<ns>`` under ``<zone>`` (names are lower case, absolute):

- ClusterIP (any type but ExternalName, with ``spec.clusterIP`` set and not ``None``):
  ``<svc>.<ns>.svc.<zone>`` A/AAAA for each ClusterIP; ``_<port>._<proto>.<svc>...``
  SRV per named port, targeting the Service name; a PTR per ClusterIP.
- Headless (``clusterIP: None``): ``<svc>...`` A/AAAA for each *ready* endpoint
  address; SRV per named port and ready endpoint, targeting the endpoint's name, with
  the endpoint's own port number (the slice's, which is where the pod listens).
- Every Service with endpoints: ``<hostname>.<svc>...`` A/AAAA per ready endpoint
  address and its PTR, where ``<hostname>`` is the endpoint's ``hostname`` or, when
  it has none, the address with ``.``/``:`` replaced by ``-`` (the spec's
  "system-assigned identifier", as CoreDNS spells it).
- ExternalName: ``<svc>...`` CNAME ``<externalName>.``.

*Ready* is the endpoint's ``ready`` condition (unknown counts as ready), or any
endpoint when the Service publishes not-ready addresses (``publishNotReadyAddresses``
or the older ``service.alpha.kubernetes.io/tolerate-unready-endpoints: "true"``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.CNAME
import dns.rdtypes.ANY.PTR
import dns.rdtypes.ANY.TXT
import dns.rdtypes.IN.A
import dns.rdtypes.IN.AAAA
import dns.rdtypes.IN.SRV

from apitypes.core import Service
from apitypes.discovery import ADDRESS_TYPE_IPV4, ADDRESS_TYPE_IPV6, EndpointSlice

SCHEMA_VERSION = "1.1.0"
TOLERATE_UNREADY = "service.alpha.kubernetes.io/tolerate-unready-endpoints"
EXTERNAL_NAME = "ExternalName"

A = dns.rdatatype.A
AAAA = dns.rdatatype.AAAA
CNAME = dns.rdatatype.CNAME
PTR = dns.rdatatype.PTR
SRV = dns.rdatatype.SRV
TXT = dns.rdatatype.TXT
IN = dns.rdataclass.IN

# RFC 2782: lower priority first, weight shares load within one priority.
SRV_PRIORITY = 0
SRV_WEIGHT = 100


@dataclass(frozen=True, slots=True)
class Record:
    """One resource record: owner name (lower case, absolute text), type, data."""

    name: str
    rdtype: int
    rdata: dns.rdata.Rdata

    def text(self) -> str:
        """``name TYPE data``, for tests and logs."""
        return f"{self.name} {dns.rdatatype.to_text(dns.rdatatype.RdataType.make(self.rdtype))} {self.rdata.to_text()}"


def absolute(name: str) -> str:
    """``name`` lower-cased with exactly one trailing dot."""
    return name.strip(".").lower() + "."


def service_name(svc: str, namespace: str, zone: str) -> str:
    return f"{svc}.{namespace}.svc.{zone}".lower()


def reverse_name(ip: str) -> str:
    """``d.c.b.a.in-addr.arpa.`` or the nibbles of an IPv6 address under ``ip6.arpa.``."""
    return ipaddress.ip_address(ip).reverse_pointer + "."


def dashed(ip: str) -> str:
    """An address as one DNS label: ``10.244.0.5`` -> ``10-244-0-5``, ``fd00::1`` -> ``fd00--1``."""
    return ip.replace(".", "-").replace(":", "-")


def address_record(name: str, ip: str) -> Record | None:
    """A or AAAA for ``ip``; ``None`` when it is not an IP address."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if addr.version == 4:
        return Record(name, A, dns.rdtypes.IN.A.A(IN, A, str(addr)))
    return Record(name, AAAA, dns.rdtypes.IN.AAAA.AAAA(IN, AAAA, str(addr)))


def ptr_record(ip: str, target: str) -> Record:
    return Record(
        reverse_name(ip), PTR, dns.rdtypes.ANY.PTR.PTR(IN, PTR, dns.name.from_text(target))
    )


def srv_record(name: str, port: int, target: str) -> Record:
    rdata = dns.rdtypes.IN.SRV.SRV(
        IN, SRV, SRV_PRIORITY, SRV_WEIGHT, port, dns.name.from_text(target)
    )
    return Record(name, SRV, rdata)


def version_record(zone: str) -> Record:
    """``dns-version.<zone>. TXT "1.1.0"`` (section 2.2)."""
    return Record(
        f"dns-version.{zone}", TXT, dns.rdtypes.ANY.TXT.TXT(IN, TXT, [SCHEMA_VERSION.encode()])
    )


def cluster_ips(service: Service) -> list[str]:
    """The Service's ClusterIPs; empty for headless, ExternalName and unallocated ones."""
    spec = service.spec
    if spec is None or spec.type == EXTERNAL_NAME:
        return []
    ips = list(spec.cluster_ips) or ([spec.cluster_ip] if spec.cluster_ip else [])
    return [ip for ip in ips if ip and ip != "None"]


def publishes_not_ready(service: Service) -> bool:
    spec = service.spec
    if spec is not None and spec.publish_not_ready_addresses:
        return True
    return service.metadata.annotations.get(TOLERATE_UNREADY, "").lower() == "true"


@dataclass(frozen=True, slots=True)
class ReadyEndpoint:
    """One address of an endpoint that DNS names, with the ports of its slice."""

    hostname: str
    address: str
    ports: tuple[tuple[str, str, int], ...]  # (name, protocol, port), named ports only


def ready_endpoints(service: Service, slices: Iterable[EndpointSlice]) -> list[ReadyEndpoint]:
    """Every ready address of the Service's IP slices, once each, in a stable order."""
    every = publishes_not_ready(service)
    seen: dict[tuple[str, str], ReadyEndpoint] = {}
    for piece in slices:
        if piece.address_type not in (ADDRESS_TYPE_IPV4, ADDRESS_TYPE_IPV6):
            continue
        ports = tuple(
            (p.name.lower(), (p.protocol or "TCP").lower(), p.port)
            for p in piece.ports
            if p.name and p.port
        )
        for endpoint in piece.endpoints:
            if not (every or endpoint.is_ready()):
                continue
            for address in endpoint.addresses:
                host = (endpoint.hostname or dashed(address)).lower()
                key = (host, address)
                if key not in seen:
                    seen[key] = ReadyEndpoint(host, address, ports)
    return sorted(seen.values(), key=lambda e: (e.hostname, e.address))


def service_records(service: Service, slices: Iterable[EndpointSlice], zone: str) -> list[Record]:
    """Every record the Service and its slices make under ``zone`` (``cluster.local.``)."""
    meta = service.metadata
    spec = service.spec
    if spec is None or not meta.name or not meta.namespace:
        return []
    name = service_name(meta.name, meta.namespace, zone)
    if spec.type == EXTERNAL_NAME:
        if not spec.external_name:
            return []
        target = dns.name.from_text(spec.external_name)
        return [Record(name, CNAME, dns.rdtypes.ANY.CNAME.CNAME(IN, CNAME, target))]

    records: list[Record] = []
    endpoints = ready_endpoints(service, slices)
    ips = cluster_ips(service)
    headless = spec.cluster_ip == "None"
    if ips:
        for ip in ips:
            record = address_record(name, ip)
            if record is not None:
                records.append(record)
                records.append(ptr_record(ip, name))
        for port in spec.ports:
            if port.name:
                proto = (port.protocol or "TCP").lower()
                records.append(srv_record(f"_{port.name}._{proto}.{name}".lower(), port.port, name))
    elif not headless:
        return []  # no ClusterIP allocated yet: nothing to name
    for endpoint in endpoints:
        host = f"{endpoint.hostname}.{name}"
        record = address_record(host, endpoint.address)
        if record is None:
            continue
        records.append(record)
        records.append(ptr_record(endpoint.address, host))
        if headless:
            records.append(address_record(name, endpoint.address))  # type: ignore[arg-type]
            for port_name, proto, number in endpoint.ports:
                records.append(srv_record(f"_{port_name}._{proto}.{name}", number, host))
    return _unique(records)


def _unique(records: list[Record]) -> list[Record]:
    seen: set[tuple[str, int, dns.rdata.Rdata]] = set()
    out = []
    for record in records:
        key = (record.name, record.rdtype, record.rdata)
        if key not in seen:
            seen.add(key)
            out.append(record)
    return out


def pod_address(labels: list[str]) -> str | None:
    """The address a pod name ``a-b-c-d`` (or an IPv6 one with ``-`` for ``:``) spells."""
    if len(labels) != 1:
        return None
    label = labels[0]
    for candidate in (label.replace("-", "."), label.replace("-", ":")):
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None
