"""EndpointSlices (discovery.k8s.io/v1): served by a real apiserver process, and written
by the EndpointSlice controller in a real controller-manager process."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit.fakenode import FakeNodes
from testkit.processes import (
    ApiServerProcess,
    controller_manager,
    wait_until,
)

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


# --- the EndpointSlice controller, in a real controller-manager ------------------------

SUITE = f"eps-{uuid.uuid4().hex[:6]}"
NODE = f"{SUITE}-a"


@pytest.fixture(scope="module")
def cluster(apiserver: ApiServerProcess, session_dir: Path) -> Iterator[FakeNodes]:
    manager = controller_manager(
        apiserver.url, session_dir,
        "--leader-elect-resource-name", f"kcm-{SUITE}",
        "--controllers", "endpointslice,garbagecollector",
        "--max-endpoints-per-slice", "2",
        name="cm-endpointslices",
    )  # fmt: skip
    manager.start()
    nodes = FakeNodes(apiserver.url, [NODE], schedule=False).start()
    try:
        yield nodes
    finally:
        nodes.stop()
        manager.stop()


def bound_pod(name: str, app: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"app": app}},
        "spec": {
            "nodeName": NODE,
            "containers": [
                {
                    "name": "c",
                    "image": "busybox",
                    "ports": [{"name": "http", "containerPort": 8080}],
                }
            ],
        },
    }


def test_controller_writes_slices_and_updates_them_in_place(
    cluster: FakeNodes, api: httpx.Client, namespace: str
) -> None:
    base = f"{DISCOVERY}/namespaces/{namespace}/endpointslices"
    service = {
        "metadata": {"name": "web", "labels": {"team": "a"}},
        "spec": {
            "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }
    created = api.post(f"/api/v1/namespaces/{namespace}/services", json=service)
    assert created.status_code == 201, created.text
    svc_uid = created.json()["metadata"]["uid"]
    for n in range(3):
        assert (
            api.post(
                f"/api/v1/namespaces/{namespace}/pods", json=bound_pod(f"web-{n}", "web")
            ).status_code
            == 201
        )

    def slices() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = api.get(
            base, params={"labelSelector": "kubernetes.io/service-name=web"}
        ).json()["items"]
        return items

    def ready_ips() -> set[str]:
        return {
            e["addresses"][0] for s in slices() for e in s["endpoints"] if e["conditions"]["ready"]
        }

    def pod_ips() -> set[str]:
        items = api.get(f"/api/v1/namespaces/{namespace}/pods").json()["items"]
        return {p["status"]["podIP"] for p in items if p.get("status", {}).get("podIP")}

    wait_until(
        lambda: len(pod_ips()) == 3 and ready_ips() == pod_ips(), 30, what="three ready endpoints"
    )
    current = slices()
    assert sorted(len(s["endpoints"]) for s in current) == [1, 2]
    first = current[0]
    assert first["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == (
        "endpointslice-controller.k8s.io"
    )
    assert first["metadata"]["labels"]["team"] == "a"
    assert first["metadata"]["ownerReferences"][0]["uid"] == svc_uid
    assert first["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert first["endpoints"][0]["nodeName"] == NODE

    # A pod turns unready: the slice that holds it changes in place, nothing is created.
    names = {s["metadata"]["name"] for s in current}
    victim = current[0]["endpoints"][0]
    cluster.stop_node(NODE)
    try:
        api.patch(
            f"/api/v1/namespaces/{namespace}/pods/{victim['targetRef']['name']}/status",
            json={"status": {"conditions": [{"type": "Ready", "status": "False"}]}},
            headers={"Content-Type": "application/strategic-merge-patch+json"},
        )
        wait_until(lambda: victim["addresses"][0] not in ready_ips(), 30, what="endpoint not ready")
        assert {s["metadata"]["name"] for s in slices()} == names
        conditions = [
            e["conditions"]
            for s in slices()
            for e in s["endpoints"]
            if e["addresses"] == victim["addresses"]
        ]
        assert conditions == [{"ready": False, "serving": False, "terminating": False}]
    finally:
        cluster.start_node(NODE)

    # The Service goes: the garbage collector takes its slices.
    api.delete(f"/api/v1/namespaces/{namespace}/services/web")
    wait_until(lambda: not slices(), 30, what="slices removed with their Service")


# --- the service load-balancer controller ------------------------------------------------


def lb_service(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "type": "LoadBalancer",
            "selector": {"app": name},
            "ports": [{"port": 80}],
            **spec,
        },
    }


def test_load_balancer_addresses_come_from_the_pool_once_and_go_back(
    apiserver: ApiServerProcess, session_dir: Path, api: httpx.Client, namespace: str
) -> None:
    services = f"/api/v1/namespaces/{namespace}/services"

    def start() -> Any:
        manager = controller_manager(
            apiserver.url, session_dir,
            "--leader-elect-resource-name", f"kcm-lb-{SUITE}",
            "--controllers", "servicelb",
            "--load-balancer-ip-pool", "10.122.0.8/30",
            name="cm-servicelb",
        )  # fmt: skip
        manager.start()
        return manager

    def ingress(name: str) -> list[str]:
        status = api.get(f"{services}/{name}").json().get("status") or {}
        return [i["ip"] for i in (status.get("loadBalancer") or {}).get("ingress") or []]

    manager = start()
    try:
        for name in ("a", "b", "c"):
            assert api.post(services, json=lb_service(name)).status_code == 201
        # A /30 has two host addresses: two Services get one each, the third waits.
        wait_until(lambda: ingress("a") and ingress("b"), 30, what="two addresses assigned")
        assert {*ingress("a"), *ingress("b")} == {"10.122.0.9", "10.122.0.10"}
        assert ingress("c") == []
        status = api.get(f"{services}/a").json()["status"]["loadBalancer"]["ingress"][0]
        assert status["ipMode"] == "VIP"
        table = api.get(services, headers={"Accept": TABLE}).json()
        external = {row["cells"][0]: row["cells"][3] for row in table["rows"]}
        assert external["a"] == ingress("a")[0]

        # A restarted controller keeps every assignment and still does not double one.
        manager.stop()
        manager = start()
        freed = ingress("a")[0]
        assert api.delete(f"{services}/a").status_code == 200
        wait_until(lambda: ingress("c") == [freed], 30, what="the freed address reassigned")
        assert ingress("b") != [freed]

        # A type change gives the address back and clears the status.
        patch = {"spec": {"type": "ClusterIP", "ports": [{"port": 80, "nodePort": None}]}}
        changed = api.patch(
            f"{services}/b", json=patch, headers={"Content-Type": "application/merge-patch+json"}
        )
        assert changed.status_code == 200, changed.text
        wait_until(lambda: ingress("b") == [], 30, what="status cleared after a type change")
        assert api.post(services, json=lb_service("d")).status_code == 201
        wait_until(lambda: len(ingress("d")) == 1, 30, what="the released address reused")
        assert ingress("d") != ingress("c")
    finally:
        manager.stop()
