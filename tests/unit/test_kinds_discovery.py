"""The EndpointSlice strategy (discovery.k8s.io/v1): defaults, validation, table cells.

Messages are compared with what Kubernetes 1.30 answers for the same input.
"""

from __future__ import annotations

from typing import Any

from apiserver.kinds.endpointslice import EndpointSliceStrategy, fqdn_errors
from apiserver.tables import table
from apitypes.discovery import EndpointSlice
from apitypes.validation import FieldPath
from tests.unit.test_kinds_core import build as core_build
from tests.unit.test_kinds_core import msgs

STRATEGY = EndpointSliceStrategy()


def slice_body(address_type: str = "IPv4", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "metadata": {"name": "web-abc12", "namespace": "default"},
        "addressType": address_type,
        "endpoints": [{"addresses": ["10.244.0.5"], "conditions": {"ready": True}}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    }
    body.update(extra)
    return body


def build(body: dict[str, Any]) -> EndpointSlice:
    obj: EndpointSlice = core_build(STRATEGY, body)
    return obj


def test_a_valid_slice_passes_and_ports_are_defaulted() -> None:
    obj = build(slice_body(ports=[{"port": 80}]))
    assert STRATEGY.validate(obj) == []
    assert obj.to_dict()["ports"] == [{"name": "", "port": 80, "protocol": "TCP"}]
    assert STRATEGY.generation and not STRATEGY.status_subresource


def test_address_type_is_required_known_and_immutable() -> None:
    assert msgs(STRATEGY.validate(build(slice_body("")))) == ["addressType: Required value"]
    assert msgs(STRATEGY.validate(build(slice_body("IP", endpoints=[])))) == [
        'addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"'
    ]
    old = build(slice_body())
    new = build(slice_body("IPv6", endpoints=[]))
    assert msgs(STRATEGY.validate_update(new, old)) == [
        'addressType: Invalid value: "IPv6": field is immutable'
    ]


def test_addresses_must_fit_the_address_type() -> None:
    endpoints = [
        {"addresses": []},
        {"addresses": ["fd00::1", "127.0.0.1", "10.0.0.1"]},
    ]
    errs = msgs(STRATEGY.validate(build(slice_body(endpoints=endpoints))))
    assert errs == [
        "endpoints[0].addresses: Required value: must contain at least 1 address",
        'endpoints[1].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address',
        'endpoints[1].addresses[1]: Invalid value: "127.0.0.1": may not be in the loopback '
        "range (127.0.0.0/8, ::1/128)",
    ]
    v6 = msgs(STRATEGY.validate(build(slice_body("IPv6", endpoints=[{"addresses": ["10.0.0.1"]}]))))
    assert v6 == [
        'endpoints[0].addresses[0]: Invalid value: "10.0.0.1": must be a valid IPv6 address'
    ]
    fqdn = build(slice_body("FQDN", endpoints=[{"addresses": ["db.example.com", "local"]}]))
    assert msgs(STRATEGY.validate(fqdn)) == [
        'endpoints[0].addresses[1]: Invalid value: "local": should be a domain with at least '
        "two segments separated by dots"
    ]
    assert fqdn_errors("a.example.com.", FieldPath("x")) == []


def test_endpoint_fields_are_checked() -> None:
    endpoints = [
        {
            "addresses": ["10.0.0.1"],
            "hostname": "Web_0",
            "nodeName": "Node!",
            "hints": {"forZones": [{"name": "a"}, {"name": "a"}]},
        }
    ]
    errs = msgs(STRATEGY.validate(build(slice_body(endpoints=endpoints))))
    assert errs[0].startswith('endpoints[0].nodeName: Invalid value: "Node!": a lowercase RFC 1123')
    assert errs[1].startswith('endpoints[0].hostname: Invalid value: "Web_0": a lowercase RFC 1123')
    assert errs[2] == 'endpoints[0].hints.forZones[1].name: Duplicate value: "a"'
    assert len(errs) == 3


def test_limits_on_endpoints_addresses_and_ports() -> None:
    many = [{"addresses": ["10.0.0.1"]}] * 1001
    assert msgs(STRATEGY.validate(build(slice_body(endpoints=many)))) == [
        "endpoints: Too many: 1001: must have at most 1000 items"
    ]
    wide = [{"addresses": ["10.0.0.1"] * 101}]
    assert msgs(STRATEGY.validate(build(slice_body(endpoints=wide)))) == [
        "endpoints[0].addresses: Too many: 101: must have at most 100 items"
    ]
    ports = [{"name": f"p{i}", "port": i + 1} for i in range(101)]
    assert msgs(STRATEGY.validate(build(slice_body(ports=ports)))) == [
        "ports: Too many: 101: must have at most 100 items"
    ]


def test_port_names_and_protocols() -> None:
    ports = [
        {"name": "http", "port": 80},
        {"name": "http", "port": 81},
        {"name": "Bad_Name", "port": 82, "protocol": "ICMP"},
        {"port": 83, "appProtocol": "-bad"},
    ]
    errs = msgs(STRATEGY.validate(build(slice_body(ports=ports))))
    assert errs[0] == 'ports[1].name: Duplicate value: "http"'
    assert errs[1].startswith(
        'ports[2].name: Invalid value: "Bad_Name": a lowercase RFC 1123 label'
    )
    assert errs[2] == (
        'ports[2].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"'
    )
    assert errs[3].startswith('ports[3].appProtocol: Invalid value: "-bad": name part must consist')
    assert len(errs) == 4


def test_table_cells() -> None:
    endpoints = [{"addresses": [f"10.0.0.{n}"]} for n in range(1, 5)]
    ports = [{"port": 80}, {"name": "dns"}, {}, {"port": 9}]
    obj = build(slice_body(endpoints=endpoints, ports=ports))
    assert STRATEGY.row(obj)[:3] == [
        "IPv4",
        "80,dns, + 1 more...",
        "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...",
    ]
    empty = build(slice_body(endpoints=[], ports=[]))
    assert STRATEGY.row(empty)[:3] == ["IPv4", "<unset>", "<unset>"]
    doc = table(STRATEGY, [empty.to_dict()])
    assert [c["name"] for c in doc["columnDefinitions"]] == [
        "Name",
        "AddressType",
        "Ports",
        "Endpoints",
        "Age",
    ]
