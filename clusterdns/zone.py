"""The cluster zone: every Service's records in one index, kept by informer handlers.

Handlers call ``set_service``/``delete_service``/``set_slice``/``delete_slice``; each
call rebuilds the records of the one Service it touches (``records.service_records``)
and applies the difference to the index, so a query is dictionary look-ups only and
never lists anything. ``generation`` counts changes; listeners (the server's answer
cache) are told after each one.

``lookup`` decides, for a name in the zone or a reverse name we hold, between an
answer, NODATA (the name exists: it has records of other types, or names below it
have records — an "empty non-terminal" such as ``<ns>.svc.<zone>`` or
``_tcp.<svc>...``) and NXDOMAIN (nothing at or below it), as DNS (RFC 8020) and the
specification want: a headless Service with no ready endpoint has no record at all,
so its name is NXDOMAIN (spec 2.4.1). Reverse names we do not hold are not ours:
``lookup`` returns ``None`` and the server forwards them, as CoreDNS's ``fallthrough``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import dns.name
import dns.rcode
import dns.rdata
import dns.rdatatype
import dns.rdtypes.ANY.NS
import dns.rdtypes.ANY.SOA

from apitypes.core import Service
from apitypes.discovery import EndpointSlice
from clusterdns.records import (
    AAAA,
    CNAME,
    IN,
    Record,
    absolute,
    address_record,
    pod_address,
    service_records,
    version_record,
)

PODS_INSECURE = "insecure"
PODS_DISABLED = "disabled"
POD_MODES = (PODS_INSECURE, PODS_DISABLED)

NS = dns.rdatatype.NS
SOA = dns.rdatatype.SOA
ANY = dns.rdatatype.ANY
REVERSE_ZONES = ("in-addr.arpa.", "ip6.arpa.")

Rdatas = list[dns.rdata.Rdata]


@dataclass(slots=True)
class Result:
    """What the zone says about one question.

    ``answers`` are (type, data) sets owned by the query name, a CNAME first; ``cname``
    is an ExternalName target the server should resolve for the query type; ``soa``
    asks for the zone's SOA in the authority section (negative answers)."""

    rcode: int
    answers: list[tuple[int, Rdatas]] = field(default_factory=list)
    cname: dns.name.Name | None = None
    soa: bool = False


def _key(obj: Service | EndpointSlice) -> str:
    return f"{obj.metadata.namespace}/{obj.metadata.name}"


class ClusterZone:
    """The records of ``domain`` (and the reverse names of its addresses)."""

    def __init__(
        self, domain: str = "cluster.local", *, ttl: int = 5, pods: str = PODS_INSECURE
    ) -> None:
        if pods not in POD_MODES:
            raise ValueError(f"pods mode must be one of {', '.join(POD_MODES)}")
        self.origin = absolute(domain)
        self.origin_name = dns.name.from_text(self.origin)
        self.ttl = ttl
        self.pods = pods
        self.generation = 0
        self._pod_suffix = "pod." + self.origin
        self._services: dict[str, Service] = {}
        self._slices: dict[str, dict[str, EndpointSlice]] = {}
        self._slice_owner: dict[str, str] = {}
        self._records: dict[str, list[Record]] = {}
        # name -> type -> data -> how many Services contribute it
        self._data: dict[str, dict[int, dict[dns.rdata.Rdata, int]]] = {}
        # name -> how many records are at or below it (in the zone only)
        self._names: dict[str, int] = {}
        self._listeners: list[Callable[[], None]] = []
        self._serial = int(time.time())
        self._add(version_record(self.origin))

    # --- informer handlers -------------------------------------------------------------

    def set_service(self, service: Service, new: Service | None = None) -> None:
        """Add or update (usable as both ``on_add`` and ``on_update``)."""
        service = new if new is not None else service
        key = _key(service)
        self._services[key] = service
        self._rebuild(key)

    def delete_service(self, service: Service) -> None:
        key = _key(service)
        self._services.pop(key, None)
        self._rebuild(key)

    def set_slice(self, piece: EndpointSlice, new: EndpointSlice | None = None) -> None:
        piece = new if new is not None else piece
        key = _key(piece)
        owner = self._owner(piece)
        before = self._slice_owner.get(key)
        if before is not None and before != owner:
            self._drop_slice(key, before)
        if owner is None:
            return
        self._slice_owner[key] = owner
        self._slices.setdefault(owner, {})[key] = piece
        self._rebuild(owner)

    def delete_slice(self, piece: EndpointSlice) -> None:
        key = _key(piece)
        owner = self._slice_owner.get(key)
        if owner is not None:
            self._drop_slice(key, owner)

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Called after every change of the zone's records."""
        self._listeners.append(listener)

    @property
    def services(self) -> int:
        return len(self._services)

    @property
    def record_count(self) -> int:
        return sum(len(r) for r in self._records.values())

    # --- queries ---------------------------------------------------------------------

    def is_ours(self, name: str) -> bool:
        """``name`` (lower case, absolute) is in the cluster zone."""
        return name == self.origin or name.endswith("." + self.origin)

    def lookup(self, name: str, rdtype: int) -> Result | None:
        """Answer ``name`` (lower case, absolute) for ``rdtype``; ``None``: not ours."""
        if not self.is_ours(name):
            if name.endswith(REVERSE_ZONES) and name in self._data:
                return self._from_data(name, rdtype)
            return None
        if name == self.origin:
            return self._apex(rdtype)
        if name == self._pod_suffix or name.endswith("." + self._pod_suffix):
            return self._pod(name, rdtype)
        if name == "ns.dns." + self.origin:
            return self._nameserver(rdtype)
        if name in self._data:
            return self._from_data(name, rdtype)
        if name in self._names:
            return Result(dns.rcode.NOERROR, soa=True)
        return Result(dns.rcode.NXDOMAIN, soa=True)

    def addresses(self, name: str) -> Rdatas:
        """A and AAAA data held for ``name`` (for additional sections)."""
        types = self._data.get(name)
        if not types:
            return []
        return [*types.get(dns.rdatatype.A, ()), *types.get(AAAA, ())]

    def soa(self) -> dns.rdata.Rdata:
        """The zone's SOA; its serial changes with the records, its minimum is the TTL."""
        return dns.rdtypes.ANY.SOA.SOA(
            IN, SOA,
            dns.name.from_text("ns.dns." + self.origin),
            dns.name.from_text("hostmaster." + self.origin),
            (self._serial + self.generation) % 2**32, 7200, 1800, 86400, self.ttl,
        )  # fmt: skip

    # --- internals -------------------------------------------------------------------

    def _from_data(self, name: str, rdtype: int) -> Result:
        types = self._data[name]
        if rdtype == ANY:
            return Result(dns.rcode.NOERROR, [(t, list(d)) for t, d in types.items()])
        found = types.get(rdtype)
        if found:
            return Result(dns.rcode.NOERROR, [(rdtype, list(found))])
        cname = types.get(CNAME)
        if cname:
            target = next(iter(cname))
            return Result(dns.rcode.NOERROR, [(CNAME, [target])], cname=target.target)  # type: ignore[attr-defined]
        return Result(dns.rcode.NOERROR, soa=True)

    def _apex(self, rdtype: int) -> Result:
        ns = dns.rdtypes.ANY.NS.NS(IN, NS, dns.name.from_text("ns.dns." + self.origin))
        sets: dict[int, Rdatas] = {SOA: [self.soa()], NS: [ns]}
        if rdtype == ANY:
            return Result(dns.rcode.NOERROR, list(sets.items()))
        if rdtype in sets:
            return Result(dns.rcode.NOERROR, [(rdtype, sets[rdtype])])
        return Result(dns.rcode.NOERROR, soa=True)

    def _nameserver(self, rdtype: int) -> Result:
        # ns.dns.<zone> names the addresses of the kube-dns Service, as CoreDNS's does.
        found = self._data.get(f"kube-dns.kube-system.svc.{self.origin}", {})
        if rdtype in (dns.rdatatype.A, AAAA) and found.get(rdtype):
            return Result(dns.rcode.NOERROR, [(rdtype, list(found[rdtype]))])
        return Result(dns.rcode.NOERROR, soa=True)

    def _pod(self, name: str, rdtype: int) -> Result:
        if self.pods == PODS_DISABLED:
            return Result(dns.rcode.NXDOMAIN, soa=True)
        labels = (
            name[: -len(self._pod_suffix)].rstrip(".").split(".")
            if name != self._pod_suffix
            else []
        )
        if len(labels) <= 1:  # pod.<zone>, <ns>.pod.<zone>: names with names below them
            return Result(dns.rcode.NOERROR, soa=True)
        address = pod_address(labels[:-1])
        record = address_record(name, address) if address else None
        if record is None:
            return Result(dns.rcode.NXDOMAIN, soa=True)
        if rdtype in (record.rdtype, ANY):
            return Result(dns.rcode.NOERROR, [(record.rdtype, [record.rdata])])
        return Result(dns.rcode.NOERROR, soa=True)

    @staticmethod
    def _owner(piece: EndpointSlice) -> str | None:
        svc = piece.service_name()
        return f"{piece.metadata.namespace}/{svc}" if svc else None

    def _drop_slice(self, key: str, owner: str) -> None:
        self._slice_owner.pop(key, None)
        pieces = self._slices.get(owner)
        if pieces is not None:
            pieces.pop(key, None)
            if not pieces:
                del self._slices[owner]
        self._rebuild(owner)

    def _rebuild(self, key: str) -> None:
        service = self._services.get(key)
        fresh = (
            service_records(service, self._slices.get(key, {}).values(), self.origin)
            if service is not None
            else []
        )
        old = self._records.get(key, [])
        if fresh == old:
            return
        for record in old:
            self._remove(record)
        for record in fresh:
            self._add(record)
        if fresh:
            self._records[key] = fresh
        else:
            self._records.pop(key, None)
        self.generation += 1
        for listener in self._listeners:
            listener()

    def _add(self, record: Record) -> None:
        types = self._data.setdefault(record.name, {})
        data = types.setdefault(record.rdtype, {})
        data[record.rdata] = data.get(record.rdata, 0) + 1
        for name in self._tree(record.name):
            self._names[name] = self._names.get(name, 0) + 1

    def _remove(self, record: Record) -> None:
        types = self._data.get(record.name)
        if types is None:
            return
        data = types.get(record.rdtype)
        if data is None or record.rdata not in data:
            return
        data[record.rdata] -= 1
        if data[record.rdata] <= 0:
            del data[record.rdata]
            if not data:
                del types[record.rdtype]
                if not types:
                    del self._data[record.name]
        for name in self._tree(record.name):
            count = self._names.get(name, 0) - 1
            if count > 0:
                self._names[name] = count
            else:
                self._names.pop(name, None)

    def _tree(self, name: str) -> list[str]:
        """``name`` and its ancestors below the apex; nothing for names outside the zone."""
        if not name.endswith("." + self.origin):
            return []
        out = []
        while name != self.origin:
            out.append(name)
            name = name.split(".", 1)[1]
        return out
