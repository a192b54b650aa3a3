"""Hollow nodes: many fake-runtime kubelets in one process register, heartbeat and run
pods, sharing one pod watch and one Node watch."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from testkit.kubelets import HollowNodesProcess, pod_manifest, running, wait_for_pod
from testkit.processes import ApiServerProcess, wait_until

pytestmark = pytest.mark.integration

COUNT = 40


def watchers(api: httpx.Client, resource: str) -> float:
    text = api.get("/metrics").text
    pattern = rf'^apiserver_registered_watchers\{{group="",resource="{resource}"\}} (\S+)$'
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def ready_nodes(api: httpx.Client, prefix: str) -> list[dict]:
    nodes = api.get("/api/v1/nodes").json()["items"]
    return [
        n for n in nodes
        if n["metadata"]["name"].startswith(prefix)
        and any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"])
    ]  # fmt: skip


@pytest.fixture(scope="module")
def hollow(
    apiserver: ApiServerProcess, session_dir: Path
) -> Iterator[tuple[HollowNodesProcess, dict[str, float]]]:
    prefix = f"hollow-{uuid.uuid4().hex[:4]}-"
    with apiserver.client() as api:
        before = {"pods": watchers(api, "pods"), "nodes": watchers(api, "nodes")}
    proc = HollowNodesProcess.create(
        apiserver.url, COUNT, session_dir, prefix,
        "--node-lease-duration", "4", "--node-status-update-frequency", "1s",
    )  # fmt: skip
    proc.start()
    try:
        yield proc, before
    finally:
        proc.stop()
        with apiserver.client() as api:
            for i in range(COUNT):
                api.delete(f"/api/v1/nodes/{prefix}{i}")


def test_hollow_nodes_register_and_heartbeat(
    api: httpx.Client, hollow: tuple[HollowNodesProcess, dict[str, float]]
) -> None:
    proc, before = hollow
    wait_until(
        lambda: len(ready_nodes(api, proc.name_prefix)) == COUNT or not proc.alive(),
        timeout=60, interval=0.5, what="every hollow node Ready",
    )  # fmt: skip
    assert proc.alive(), proc.log_tail()
    node = api.get(f"/api/v1/nodes/{proc.name_prefix}7").json()
    assert node["status"]["capacity"] == {
        "cpu": "4", "memory": "16Gi", "ephemeral-storage": "100Gi", "pods": "110",
    }  # fmt: skip
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"] == "fake://1.0.0"
    assert {a["address"] for a in node["status"]["addresses"]} >= {
        "10.64.0.7",
        f"{proc.name_prefix}7",
    }
    leases = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"

    def ours() -> dict[str, str]:
        return {
            item["metadata"]["name"]: item["spec"]["renewTime"]
            for item in api.get(leases).json()["items"]
            if item["metadata"]["name"].startswith(proc.name_prefix)
        }

    # Nodes are created Ready (with their status); each Lease follows its registration.
    wait_until(lambda: len(ours()) == COUNT, timeout=30, interval=0.5, what="every Lease")
    first = ours()

    def all_renewed() -> bool:
        now = ours()
        return all(now[name] != stamp for name, stamp in first.items())

    wait_until(all_renewed, timeout=10, interval=0.5, what="every lease renewed")
    # One watch for all their pods, one for all their Nodes.
    assert watchers(api, "pods") - before["pods"] == 1
    assert watchers(api, "nodes") - before["nodes"] == 1


def test_hollow_nodes_run_pods(
    api: httpx.Client, namespace: str, hollow: tuple[HollowNodesProcess, dict[str, float]]
) -> None:
    proc, _ = hollow
    wait_until(lambda: len(ready_nodes(api, proc.name_prefix)) == COUNT, timeout=60, interval=0.5)
    for i in range(5):
        body = pod_manifest(f"p{i}", f"{proc.name_prefix}{i * 3}", [{"name": "c", "image": "x:1"}])
        api.post(f"/api/v1/namespaces/{namespace}/pods", json=body).raise_for_status()
    for i in range(5):
        pod = wait_for_pod(api, namespace, f"p{i}", running, timeout=20)
        assert pod["status"]["containerStatuses"][0]["containerID"].startswith("fake://")
        assert pod["status"]["hostIP"] == f"10.64.0.{i * 3}"
    api.delete(f"/api/v1/namespaces/{namespace}/pods/p0").raise_for_status()
    wait_until(
        lambda: api.get(f"/api/v1/namespaces/{namespace}/pods/p0").status_code == 404,
        timeout=20, what="p0 deleted by its hollow kubelet",
    )  # fmt: skip
