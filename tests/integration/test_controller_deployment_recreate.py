"""A Deployment deleted and created again with the same template while its old
ReplicaSet is still going: the hash + ``collisionCount`` scheme, as in Kubernetes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit.fakenode import FakeNodes
from testkit.processes import ApiServerProcess, DaemonProcess, controllers, wait_until

pytestmark = pytest.mark.integration

APPS = "/apis/apps/v1"
NODES = ["recreate-n1"]


@pytest.fixture(scope="module")
def manager(apiserver: ApiServerProcess, session_dir: Path) -> Iterator[DaemonProcess]:
    with controllers(apiserver.url, session_dir, "recreate", "deployment", "replicaset") as proc:
        nodes = FakeNodes(apiserver.url, NODES).start()
        try:
            yield proc
        finally:
            nodes.stop()
            for name in NODES:
                httpx.delete(f"{apiserver.url}/api/v1/nodes/{name}", verify=apiserver.verify)


def _deployment(name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "web:1"}]},
            },
        },
    }


def _get(api: httpx.Client, path: str) -> dict[str, Any]:
    resp = api.get(path)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _complete(api: httpx.Client, path: str) -> bool:
    d = _get(api, path)
    status = d.get("status") or {}
    return bool(
        status.get("observedGeneration", 0) >= d["metadata"]["generation"]
        and status.get("updatedReplicas") == 2
        and status.get("availableReplicas") == 2
        and status.get("replicas") == 2
    )


def test_recreating_a_deployment_while_its_replica_set_is_deleted(
    manager: DaemonProcess, api: httpx.Client, namespace: str
) -> None:
    deployments = f"{APPS}/namespaces/{namespace}/deployments"
    sets = f"{APPS}/namespaces/{namespace}/replicasets"
    assert api.post(deployments, json=_deployment("web")).status_code == 201
    wait_until(lambda: _complete(api, f"{deployments}/web"), 30, what="first rollout")
    (old,) = _get(api, sets)["items"]
    old_name = old["metadata"]["name"]
    # The old ReplicaSet stays, being deleted, until its finalizer goes.
    patch = {"metadata": {"finalizers": ["example.com/hold"]}}
    resp = api.patch(
        f"{sets}/{old_name}", json=patch, headers={"Content-Type": "application/merge-patch+json"}
    )
    assert resp.status_code == 200, resp.text
    assert api.delete(f"{sets}/{old_name}").status_code == 200
    assert api.delete(f"{deployments}/web").status_code == 200
    log_before = manager.log_path.read_text(errors="replace")

    assert api.post(deployments, json=_deployment("web")).status_code == 201
    wait_until(lambda: _complete(api, f"{deployments}/web"), 30, what="second rollout")
    d = _get(api, f"{deployments}/web")
    assert d["status"]["collisionCount"] == 1
    names = {rs["metadata"]["name"] for rs in _get(api, sets)["items"]}
    (new_name,) = names - {old_name}
    assert new_name.startswith("web-") and new_name != old_name
    new_rs = _get(api, f"{sets}/{new_name}")
    assert new_rs["metadata"]["ownerReferences"][0]["uid"] == d["metadata"]["uid"]
    hash_label = new_rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"]
    assert new_name == f"web-{hash_label}"
    # No reconcile failed on the way.
    added = manager.log_path.read_text(errors="replace")[len(log_before) :]
    assert "failed" not in added, added
    # The old one goes once its finalizer does.
    resp = api.patch(
        f"{sets}/{old_name}",
        json={"metadata": {"finalizers": None}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert resp.status_code == 200, resp.text


def test_a_deployment_deleted_mid_rollout_is_no_failure(
    manager: DaemonProcess, api: httpx.Client, namespace: str
) -> None:
    deployments = f"{APPS}/namespaces/{namespace}/deployments"
    log_before = manager.log_path.read_text(errors="replace")
    for i in range(6):
        name = f"gone-{i}"
        assert api.post(deployments, json=_deployment(name)).status_code == 201
        # Deleted while the controller creates its ReplicaSet and writes its status.
        wait_until(
            lambda name=name: _get(api, f"{deployments}/{name}").get("status"),  # type: ignore[misc]
            10,
            what="the controller at work",
        )
        assert api.delete(f"{deployments}/{name}").status_code == 200
    # A Deployment made after them is rolled out: the controller went through theirs.
    assert api.post(deployments, json=_deployment("after")).status_code == 201
    wait_until(lambda: _complete(api, f"{deployments}/after"), 30, what="a later rollout")
    added = manager.log_path.read_text(errors="replace")[len(log_before) :]
    assert "not found" not in added and "failed" not in added, added
