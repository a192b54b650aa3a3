"""EndpointSlices (discovery.k8s.io/v1) served by a real apiserver process."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

DISCOVERY = "/apis/discovery.k8s.io/v1"
TABLE = "application/json;as=Table;g=meta.k8s.io;v=v1"


def eps(name: str, service: str, *addresses: str, address_type: str = "IPv4") -> dict[str, Any]:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": name, "labels": {"kubernetes.io/service-name": service}},
        "addressType": address_type,
        "endpoints": [{"addresses": [a], "conditions": {"ready": True}} for a in addresses],
        "ports": [{"name": "http", "port": 8080}],
    }


def test_discovery_and_openapi_list_endpointslices(api: httpx.Client) -> None:
    groups = {g["name"]: g for g in api.get("/apis").json()["groups"]}
    assert groups["discovery.k8s.io"]["preferredVersion"]["groupVersion"] == "discovery.k8s.io/v1"
    resources = {r["name"]: r for r in api.get(DISCOVERY).json()["resources"]}
    assert resources["endpointslices"]["kind"] == "EndpointSlice"
    assert resources["endpointslices"]["namespaced"] is True
    assert "watch" in resources["endpointslices"]["verbs"]
    v2 = api.get("/openapi/v2").json()
    assert "io.k8s.api.discovery.v1.EndpointSlice" in v2["definitions"]
    v3 = api.get("/openapi/v3/apis/discovery.k8s.io/v1").json()
    assert "io.k8s.api.discovery.v1.EndpointSlice" in v3["components"]["schemas"]


def test_create_select_print_and_refuse(api: httpx.Client, namespace: str) -> None:
    base = f"{DISCOVERY}/namespaces/{namespace}/endpointslices"
    created = api.post(base, json=eps("web-1", "web", "10.244.1.2", "10.244.1.3"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["metadata"]["generation"] == 1
    assert body["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert api.post(base, json=eps("db-1", "db", "10.244.1.9")).status_code == 201

    selected = api.get(base, params={"labelSelector": "kubernetes.io/service-name=web"}).json()
    assert [i["metadata"]["name"] for i in selected["items"]] == ["web-1"]
    by_name = api.get(base, params={"fieldSelector": "metadata.name=db-1"}).json()
    assert [i["metadata"]["name"] for i in by_name["items"]] == ["db-1"]

    table = api.get(base, headers={"Accept": TABLE}).json()
    assert [c["name"] for c in table["columnDefinitions"]][:4] == [
        "Name", "AddressType", "Ports", "Endpoints",
    ]  # fmt: skip
    cells = {row["cells"][0]: row["cells"][1:4] for row in table["rows"]}
    assert cells["web-1"] == ["IPv4", "8080", "10.244.1.2,10.244.1.3"]

    changed = dict(body, addressType="IPv6", endpoints=[])
    refused = api.put(f"{base}/web-1", json=changed)
    assert refused.status_code == 422
    assert refused.json()["details"]["causes"][0]["field"] == "addressType"
    bad = api.post(base, json=eps("bad", "web", "fd00::1"))
    assert bad.status_code == 422
    assert bad.json()["details"]["causes"][0]["field"] == "endpoints[0].addresses[0]"

    body["endpoints"] = body["endpoints"][:1]
    updated = api.put(f"{base}/web-1", json=body).json()
    assert updated["metadata"]["generation"] == 2
