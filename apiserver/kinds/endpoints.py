"""Endpoints: every subset has addresses, every address a valid non-special IP."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apiserver.kinds.common import PORT_PROTOCOLS, CoreStrategy, non_special_ip_errors
from apiserver.kinds.printers import AGE_COLUMN, NONE, join_host_port
from apiserver.registry.strategy import Column, age
from apitypes import registry
from apitypes.core import Endpoints
from apitypes.validation import (
    FieldError,
    FieldPath,
    invalid,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_ip,
    is_valid_port_num,
    not_supported,
    required,
)


class EndpointsStrategy(CoreStrategy):
    """Endpoints: every subset has addresses, every address a valid non-special IP."""

    resource = registry.resource("", "endpoints")
    columns = (
        Column("Endpoints", description="The set of all endpoints is the union of all subsets."),
        AGE_COLUMN,
    )

    def default(self, obj: Endpoints) -> None:
        for subset in obj.subsets:
            for port in subset.ports:
                if not port.protocol:
                    port.protocol = "TCP"

    def validate(self, obj: Endpoints) -> list[FieldError]:
        errs = self.validate_metadata(obj)
        subsets = FieldPath("subsets")
        for i, subset in enumerate(obj.subsets):
            idx = subsets.index(i)
            if not subset.addresses and not subset.not_ready_addresses:
                errs.append(required(idx, "must specify `addresses` or `notReadyAddresses`"))
            for attr, wire in (
                ("addresses", "addresses"),
                ("not_ready_addresses", "notReadyAddresses"),
            ):
                for j, address in enumerate(getattr(subset, attr)):
                    errs.extend(_endpoint_address(address, idx.child(wire).index(j)))
            for j, port in enumerate(subset.ports):
                errs.extend(
                    _endpoint_port(port, len(subset.ports) > 1, idx.child("ports").index(j))
                )
        return errs

    def row(self, obj: Endpoints) -> Sequence[Any]:
        return [format_endpoints(obj), age(obj.metadata.creation_timestamp)]


def _endpoint_address(address: Any, path: FieldPath) -> list[FieldError]:
    errs = [invalid(path.child("ip"), address.ip, msg) for msg in is_valid_ip(address.ip)]
    if address.hostname:
        errs.extend(
            invalid(path.child("hostname"), address.hostname, m)
            for m in is_dns1123_label(address.hostname)
        )
    if address.node_name is not None:
        errs.extend(
            invalid(path.child("nodeName"), address.node_name, m)
            for m in is_dns1123_subdomain(address.node_name)
        )
    errs.extend(non_special_ip_errors(address.ip, path.child("ip")))
    return errs


def _endpoint_port(port: Any, require_name: bool, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if require_name and not port.name:
        errs.append(required(path.child("name")))
    elif port.name:
        errs.extend(invalid(path.child("name"), port.name, m) for m in is_dns1123_label(port.name))
    errs.extend(invalid(path.child("port"), port.port, m) for m in is_valid_port_num(port.port))
    if not port.protocol:
        errs.append(required(path.child("protocol")))
    elif port.protocol not in PORT_PROTOCOLS:
        errs.append(not_supported(path.child("protocol"), port.protocol, PORT_PROTOCOLS))
    if port.app_protocol is not None:
        errs.extend(
            invalid(path.child("appProtocol"), port.app_protocol, m)
            for m in is_qualified_name(port.app_protocol)
        )
    return errs


def format_endpoints(endpoints: Endpoints, limit: int = 3) -> str:
    """``ip:port`` pairs, at most ``limit`` of them then ``+ N more...`` (``formatEndpoints``)."""
    if not endpoints.subsets:
        return NONE
    shown: list[str] = []
    more = False
    count = 0
    for subset in endpoints.subsets:
        if not subset.ports:
            count += len(subset.addresses)
            for address in subset.addresses:
                if len(shown) == limit:
                    more = True
                    break
                shown.append(address.ip)
            continue
        for port in subset.ports:
            count += len(subset.addresses)
            for address in subset.addresses:
                if len(shown) == limit:
                    more = True
                    break
                shown.append(join_host_port(address.ip, port.port))
    text = ",".join(shown)
    if more:
        return f"{text} + {count - limit} more..."
    return text
