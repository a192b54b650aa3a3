"""Node lifecycle (heartbeats, taints, eviction), Endpoints, PodDisruptionBudget status
and pod garbage collection, with a real controller-manager process on short periods."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from apitypes.core import Pod
from testkit.fakenode import FakeNodes
from testkit.processes import ApiServerProcess, controller_manager, wait_until

pytestmark = pytest.mark.integration

APPS = "/apis/apps/v1"
SUITE = f"nl-{uuid.uuid4().hex[:6]}"
NODES = [f"{SUITE}-a", f"{SUITE}-b"]


def outcome(pod: Pod) -> tuple[str, int] | None:
    return ("Succeeded", 0) if pod.metadata.annotations.get("test/outcome") == "succeed" else None


@pytest.fixture(scope="module")
def cluster(apiserver: ApiServerProcess, session_dir: Path) -> Iterator[FakeNodes]:
    manager = controller_manager(
        apiserver.url, session_dir,
        "--leader-elect-resource-name", f"kcm-{SUITE}",
        "--node-monitor-period", "0.5s",
        "--node-monitor-grace-period", "3s",
        "--default-unreachable-toleration-seconds", "2",
        "--default-not-ready-toleration-seconds", "2",
        "--terminated-pod-gc-threshold", "2",
        "--pod-gc-period", "1s", "--pod-gc-orphan-quarantine", "1s",
        name="cm-nodes",
    )  # fmt: skip
    manager.start()
    labels = {name: {"suite": SUITE} for name in NODES}
    nodes = FakeNodes(
        apiserver.url, NODES, labels=labels, lease_period=0.5, outcome=outcome
    ).start()
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


def pods(api: httpx.Client, namespace: str, selector: str) -> list[dict[str, Any]]:
    return list(get(api, f"/api/v1/namespaces/{namespace}/pods?labelSelector={selector}")["items"])


def live(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def deployment(name: str, replicas: int, **pod_spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "nodeSelector": {"suite": SUITE},
                    "containers": [
                        {
                            "name": "web",
                            "image": "web:1",
                            "ports": [{"name": "http", "containerPort": 8080}],
                        }
                    ],
                    **pod_spec,
                },
            },
        },
    }


def available(api: httpx.Client, namespace: str, name: str) -> int:
    d = get(api, f"{APPS}/namespaces/{namespace}/deployments/{name}")
    return int((d.get("status") or {}).get("availableReplicas") or 0)


def node_condition(api: httpx.Client, node: str) -> str:
    for cond in get(api, f"/api/v1/nodes/{node}")["status"]["conditions"]:
        if cond["type"] == "Ready":
            return str(cond["status"])
    return ""


def taints(api: httpx.Client, node: str) -> set[tuple[str, str]]:
    return {
        (t["key"], t["effect"])
        for t in get(api, f"/api/v1/nodes/{node}")["spec"].get("taints") or []
    }


def test_lost_node_is_tainted_its_pods_replaced_and_it_recovers(
    cluster: FakeNodes, api: httpx.Client, namespace: str
):
    base = f"{APPS}/namespaces/{namespace}/deployments"
    assert api.post(base, json=deployment("web", 4)).status_code == 201
    # A pod that tolerates unreachability for good is never evicted.
    stay = deployment(
        "stay", 2,
        tolerations=[{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}],
    )  # fmt: skip
    assert api.post(base, json=stay).status_code == 201
    wait_until(
        lambda: available(api, namespace, "web") == 4 and available(api, namespace, "stay") == 2, 60
    )
    lost = NODES[0]
    on_lost = {
        p["metadata"]["name"]
        for p in pods(api, namespace, "app=web")
        if p["spec"]["nodeName"] == lost
    }
    assert on_lost, "round robin put pods on both nodes"
    stay_on_lost = [
        p["metadata"]["name"]
        for p in pods(api, namespace, "app=stay")
        if p["spec"]["nodeName"] == lost
    ]

    cluster.stop_node(lost)
    wait_until(lambda: node_condition(api, lost) == "Unknown", 30, what="node Unknown")
    ready = next(
        c for c in get(api, f"/api/v1/nodes/{lost}")["status"]["conditions"] if c["type"] == "Ready"
    )
    assert ready["reason"] == "NodeStatusUnknown"
    wait_until(
        lambda: {("node.kubernetes.io/unreachable", "NoExecute"), ("node.kubernetes.io/unreachable", "NoSchedule")} <= taints(api, lost),
        30, what="unreachable taints",
    )  # fmt: skip
    # After the (default) toleration of 2 s the pods are evicted and replaced elsewhere.
    wait_until(
        lambda: all(p["metadata"].get("deletionTimestamp") for p in pods(api, namespace, "app=web") if p["metadata"]["name"] in on_lost),
        30, what="pods on the lost node evicted",
    )  # fmt: skip
    wait_until(lambda: available(api, namespace, "web") == 4, 60, what="replacements available")
    assert all(p["spec"]["nodeName"] == NODES[1] for p in live(pods(api, namespace, "app=web")))
    for name in stay_on_lost:
        pod = get(api, f"/api/v1/namespaces/{namespace}/pods/{name}")
        assert not pod["metadata"].get("deletionTimestamp"), "a pod tolerating the taint stays"

    cluster.start_node(lost)
    wait_until(lambda: node_condition(api, lost) == "True", 30, what="node Ready again")
    wait_until(
        lambda: not {k for k, _ in taints(api, lost)} & {"node.kubernetes.io/unreachable"},
        30,
        what="untainted",
    )
    # The returning kubelet finishes the evicted pods.
    wait_until(
        lambda: (
            not [p for p in pods(api, namespace, "app=web") if p["metadata"]["name"] in on_lost]
        ),
        30,
    )


def test_endpoints_follow_ready_pods(cluster: FakeNodes, api: httpx.Client, namespace: str):
    assert (
        api.post(f"{APPS}/namespaces/{namespace}/deployments", json=deployment("ep", 3)).status_code
        == 201
    )
    service = {
        "metadata": {"name": "ep", "labels": {"team": "a"}},
        "spec": {
            "selector": {"app": "ep"},
            "ports": [
                {"name": "web", "port": 80, "targetPort": "http"},
                {"name": "raw", "port": 81, "targetPort": 9090},
            ],
        },
    }
    assert api.post(f"/api/v1/namespaces/{namespace}/services", json=service).status_code == 201
    wait_until(lambda: available(api, namespace, "ep") == 3, 60)

    def addresses() -> tuple[set[str], set[str]]:
        resp = api.get(f"/api/v1/namespaces/{namespace}/endpoints/ep")
        if resp.status_code != 200:
            return set(), set()
        ready, not_ready = set(), set()
        for subset in resp.json().get("subsets") or []:
            ready |= {a["ip"] for a in subset.get("addresses") or []}
            not_ready |= {a["ip"] for a in subset.get("notReadyAddresses") or []}
        return ready, not_ready

    ips = {p["status"]["podIP"] for p in pods(api, namespace, "app=ep")}
    wait_until(lambda: addresses() == (ips, set()), 30, what="endpoints list every ready pod")
    endpoints = get(api, f"/api/v1/namespaces/{namespace}/endpoints/ep")
    assert endpoints["metadata"]["labels"] == {"team": "a"}
    subset = endpoints["subsets"][0]
    assert sorted((p["name"], p["port"]) for p in subset["ports"]) == [("raw", 9090), ("web", 8080)]
    target = subset["addresses"][0]["targetRef"]
    assert target["kind"] == "Pod" and target["namespace"] == namespace
    assert subset["addresses"][0]["nodeName"] in NODES

    # A pod that stops being ready moves to notReadyAddresses.
    victim = pods(api, namespace, "app=ep")[0]
    # Its node stops first: a live (fake) kubelet would report the pod Ready again.
    cluster.stop_node(victim["spec"]["nodeName"])
    api.patch(
        f"/api/v1/namespaces/{namespace}/pods/{victim['metadata']['name']}/status",
        json={"status": {"conditions": [{"type": "Ready", "status": "False"}]}},
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    try:
        wait_until(
            lambda: victim["status"]["podIP"] in addresses()[1], 30, what="not ready address"
        )
    finally:
        cluster.start_node(victim["spec"]["nodeName"])
    api.delete(f"/api/v1/namespaces/{namespace}/services/ep")
    wait_until(
        lambda: api.get(f"/api/v1/namespaces/{namespace}/endpoints/ep").status_code == 404, 30
    )


def test_disruption_budget_status_and_eviction(
    cluster: FakeNodes, api: httpx.Client, namespace: str
):
    assert (
        api.post(
            f"{APPS}/namespaces/{namespace}/deployments", json=deployment("pdb", 3)
        ).status_code
        == 201
    )
    wait_until(lambda: available(api, namespace, "pdb") == 3, 60)
    budgets = f"/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets"
    for name, spec in (("min", {"minAvailable": 2}), ("pct", {"maxUnavailable": "50%"})):
        body = {
            "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": "pdb"}}, **spec},
        }
        assert api.post(budgets, json=body).status_code == 201

    def status(name: str) -> dict[str, Any]:
        return dict(get(api, f"{budgets}/{name}").get("status") or {})

    wait_until(lambda: status("min").get("currentHealthy") == 3, 30, what="pdb status")
    assert {k: status("min")[k] for k in ("desiredHealthy", "expectedPods", "disruptionsAllowed")} == {
        "desiredHealthy": 2, "expectedPods": 3, "disruptionsAllowed": 1,
    }  # fmt: skip
    assert status("min")["observedGeneration"] == 1
    allowed = {c["type"]: c for c in status("min")["conditions"]}["DisruptionAllowed"]
    assert (allowed["status"], allowed["reason"]) == ("True", "SufficientPods")
    # maxUnavailable 50% of the Deployment's 3 replicas: 2 may go (rounded up), 1 must stay.
    wait_until(lambda: status("pct").get("expectedPods") == 3, 30)
    assert (status("pct")["desiredHealthy"], status("pct")["disruptionsAllowed"]) == (1, 2)

    # Two budgets match these pods, so the eviction subresource refuses; drop one.
    api.delete(f"{budgets}/pct")
    victim = pods(api, namespace, "app=pdb")[0]["metadata"]["name"]
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": victim}}
    resp = api.post(f"/api/v1/namespaces/{namespace}/pods/{victim}/eviction", json=eviction)
    assert resp.status_code == 201, resp.text
    # The controller clears the disruptedPods entry once the pod is gone, and counts the
    # replacement.
    wait_until(
        lambda: not status("min").get("disruptedPods") and status("min").get("currentHealthy") == 3,
        30, what="budget recovered",
    )  # fmt: skip


def test_pod_gc_removes_old_finished_and_orphaned_pods(
    cluster: FakeNodes, api: httpx.Client, namespace: str
):
    base = f"/api/v1/namespaces/{namespace}/pods"
    for i in range(4):
        body = {
            "metadata": {"name": f"done-{i}", "labels": {"app": "done"}, "annotations": {"test/outcome": "succeed"}},
            "spec": {"restartPolicy": "Never", "nodeSelector": {"suite": SUITE},
                     "containers": [{"name": "c", "image": "x"}]},
        }  # fmt: skip
        assert api.post(base, json=body).status_code == 201

        def succeeded(name: str = f"done-{i}") -> bool:
            return bool(get(api, f"{base}/{name}").get("status", {}).get("phase") == "Succeeded")

        wait_until(succeeded, 30)
    # Threshold 2: the two oldest finished pods go (other finished pods of the cluster
    # may count too, so only "at most two of ours are left" is certain).
    wait_until(
        lambda: len(pods(api, namespace, "app=done")) <= 2, 30, what="finished pods collected"
    )
    names = {p["metadata"]["name"] for p in pods(api, namespace, "app=done")}
    assert "done-0" not in names and "done-1" not in names

    # A pod bound to a node that does not exist is deleted.
    orphan = {
        "metadata": {"name": "orphan"},
        "spec": {"nodeName": f"{SUITE}-ghost", "containers": [{"name": "c", "image": "x"}]},
    }
    assert api.post(base, json=orphan).status_code == 201
    wait_until(lambda: api.get(f"{base}/orphan").status_code == 404, 30, what="orphan collected")
