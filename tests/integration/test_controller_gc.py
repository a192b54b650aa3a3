"""Cascading deletion (Background, Foreground, Orphan), dangling dependents, and
namespace deletion, with a real controller-manager process."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit.fakenode import FakeNodes
from testkit.processes import ApiServerProcess, controller_manager, wait_until
from testkit.watching import RawWatch

pytestmark = pytest.mark.integration

APPS = "/apis/apps/v1"
SUITE = f"gc-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def cluster(apiserver: ApiServerProcess, session_dir: Path) -> Iterator[FakeNodes]:
    manager = controller_manager(
        apiserver.url, session_dir, "--leader-elect-resource-name", f"kcm-{SUITE}", name="cm-gc"
    )
    manager.start()
    nodes = FakeNodes(apiserver.url, [f"{SUITE}-a", f"{SUITE}-b"]).start()
    try:
        yield nodes
    finally:
        nodes.stop()
        manager.stop()


def get(api: httpx.Client, path: str) -> dict[str, Any]:
    resp = api.get(path)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def items(api: httpx.Client, path: str) -> list[dict[str, Any]]:
    return list(get(api, path)["items"])


def deployment(name: str, replicas: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": "web:1"}]},
            },
        },
    }


def running(api: httpx.Client, namespace: str, name: str) -> None:
    def available() -> bool:
        d = get(api, f"{APPS}/namespaces/{namespace}/deployments/{name}")
        return bool((d.get("status") or {}).get("availableReplicas") == d["spec"]["replicas"])

    wait_until(available, 60, what=f"deployment {name} available")


def delete(api: httpx.Client, path: str, policy: str) -> httpx.Response:
    return api.request(
        "DELETE",
        path,
        json={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": policy},
    )


def test_background_deletion_removes_replicasets_and_pods(
    cluster: FakeNodes, api: httpx.Client, namespace: str
):
    assert (
        api.post(f"{APPS}/namespaces/{namespace}/deployments", json=deployment("bg")).status_code
        == 201
    )
    running(api, namespace, "bg")
    assert len(items(api, f"/api/v1/namespaces/{namespace}/pods?labelSelector=app=bg")) == 2
    resp = delete(api, f"{APPS}/namespaces/{namespace}/deployments/bg", "Background")
    assert resp.status_code == 200, resp.text
    # The owner goes at once; the collector then removes what it owned.
    assert api.get(f"{APPS}/namespaces/{namespace}/deployments/bg").status_code == 404
    wait_until(
        lambda: not items(api, f"{APPS}/namespaces/{namespace}/replicasets"), 30, what="rs gone"
    )
    wait_until(
        lambda: not items(api, f"/api/v1/namespaces/{namespace}/pods?labelSelector=app=bg"),
        30, what="pods gone",
    )  # fmt: skip


def test_foreground_deletion_removes_the_owner_last(
    cluster: FakeNodes, api: httpx.Client, apiserver: ApiServerProcess, namespace: str
):
    assert (
        api.post(f"{APPS}/namespaces/{namespace}/deployments", json=deployment("fg")).status_code
        == 201
    )
    running(api, namespace, "fg")
    watches = {
        kind: RawWatch(
            apiserver.url, path, resourceVersion=get(api, path)["metadata"]["resourceVersion"]
        )
        for kind, path in (
            ("deployment", f"{APPS}/namespaces/{namespace}/deployments"),
            ("replicaset", f"{APPS}/namespaces/{namespace}/replicasets"),
            ("pod", f"/api/v1/namespaces/{namespace}/pods"),
        )
    }
    try:
        resp = delete(api, f"{APPS}/namespaces/{namespace}/deployments/fg", "Foreground")
        assert resp.status_code == 200, resp.text
        marked = resp.json()
        assert "foregroundDeletion" in marked["metadata"]["finalizers"]
        assert marked["metadata"]["deletionTimestamp"]
        wait_until(
            lambda: api.get(f"{APPS}/namespaces/{namespace}/deployments/fg").status_code == 404,
            60, what="owner finally deleted",
        )  # fmt: skip
        deleted_at: dict[str, list[int]] = {}
        for kind, watch in watches.items():
            while not watch.events.empty():
                event = watch.events.get()
                if event["type"] == "DELETED":
                    rv = int(event["object"]["metadata"]["resourceVersion"])
                    deleted_at.setdefault(kind, []).append(rv)
    finally:
        for watch in watches.values():
            watch.close()
    assert len(deleted_at.get("pod", [])) == 2
    assert len(deleted_at.get("replicaset", [])) == 1
    # etcd revisions order the deletions: pods, then their ReplicaSet, then the Deployment.
    assert max(deleted_at["pod"]) < deleted_at["replicaset"][0] < deleted_at["deployment"][0]


def test_orphan_deletion_keeps_dependents(cluster: FakeNodes, api: httpx.Client, namespace: str):
    assert (
        api.post(f"{APPS}/namespaces/{namespace}/deployments", json=deployment("orph")).status_code
        == 201
    )
    running(api, namespace, "orph")
    rs_uid = items(api, f"{APPS}/namespaces/{namespace}/replicasets")[0]["metadata"]["uid"]
    resp = delete(api, f"{APPS}/namespaces/{namespace}/deployments/orph", "Orphan")
    assert resp.status_code == 200, resp.text
    assert "orphan" in resp.json()["metadata"]["finalizers"]
    wait_until(
        lambda: api.get(f"{APPS}/namespaces/{namespace}/deployments/orph").status_code == 404,
        30, what="owner deleted once its dependents are orphaned",
    )  # fmt: skip
    sets = items(api, f"{APPS}/namespaces/{namespace}/replicasets")
    assert [rs["metadata"]["uid"] for rs in sets] == [rs_uid]
    assert not sets[0]["metadata"].get("ownerReferences")
    pods = items(api, f"/api/v1/namespaces/{namespace}/pods?labelSelector=app=orph")
    assert len(pods) == 2
    # The pods still belong to the (now orphaned) ReplicaSet.
    assert all(p["metadata"]["ownerReferences"][0]["uid"] == rs_uid for p in pods)


def test_dangling_dependents_are_deleted(cluster: FakeNodes, api: httpx.Client, namespace: str):
    owner = api.post(
        f"/api/v1/namespaces/{namespace}/configmaps", json={"metadata": {"name": "owner"}}
    )
    assert owner.status_code == 201
    owner_uid = owner.json()["metadata"]["uid"]

    def dependent(name: str, uid: str, owner_name: str) -> dict[str, Any]:
        return {
            "metadata": {
                "name": name,
                "ownerReferences": [
                    {"apiVersion": "v1", "kind": "ConfigMap", "name": owner_name, "uid": uid}
                ],
            }
        }

    base = f"/api/v1/namespaces/{namespace}/configmaps"
    assert api.post(base, json=dependent("kept", owner_uid, "owner")).status_code == 201
    assert api.post(base, json=dependent("dangling", str(uuid.uuid4()), "gone")).status_code == 201
    # Same name as a live object but another uid: that owner is gone too.
    assert api.post(base, json=dependent("stale", str(uuid.uuid4()), "owner")).status_code == 201
    wait_until(lambda: api.get(f"{base}/dangling").status_code == 404, 30, what="dangling removed")
    wait_until(lambda: api.get(f"{base}/stale").status_code == 404, 30, what="stale removed")
    assert api.get(f"{base}/kept").status_code == 200
    api.delete(f"{base}/owner")
    wait_until(
        lambda: api.get(f"{base}/kept").status_code == 404, 30, what="dependent follows owner"
    )


def test_namespace_deletion_empties_then_removes_it(
    cluster: FakeNodes, api: httpx.Client, apiserver: ApiServerProcess
):
    name = f"doomed-{uuid.uuid4().hex[:6]}"
    assert api.post("/api/v1/namespaces", json={"metadata": {"name": name}}).status_code == 201
    assert (
        api.post(f"{APPS}/namespaces/{name}/deployments", json=deployment("app", 3)).status_code
        == 201
    )
    assert (
        api.post(
            f"/api/v1/namespaces/{name}/configmaps", json={"metadata": {"name": "cfg"}}
        ).status_code
        == 201
    )
    service = {
        "metadata": {"name": "svc"},
        "spec": {"selector": {"app": "app"}, "ports": [{"port": 80}]},
    }
    assert api.post(f"/api/v1/namespaces/{name}/services", json=service).status_code == 201
    running(api, name, "app")
    resp = api.delete(f"/api/v1/namespaces/{name}")
    assert resp.status_code == 200, resp.text
    ns = get(api, f"/api/v1/namespaces/{name}")
    assert ns["status"]["phase"] == "Terminating"
    wait_until(
        lambda: api.get(f"/api/v1/namespaces/{name}").status_code == 404, 60, what="namespace gone"
    )
    for path in (
        f"/api/v1/namespaces/{name}/pods",
        f"/api/v1/namespaces/{name}/configmaps",
        f"/api/v1/namespaces/{name}/services",
        f"{APPS}/namespaces/{name}/replicasets",
    ):
        assert items(api, path) == [], path
