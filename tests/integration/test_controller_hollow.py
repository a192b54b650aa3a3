"""The controllers with the real scheduler and real kubelets (fake runtime): a node lost
when its kubelet dies, a Deployment driven by the real kubectl, a DaemonSet bound by the
scheduler. Stage two of the controller tests: nothing here plays a component."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit.kubelets import KubeletProcess
from testkit.processes import ApiServerProcess, DaemonProcess, controller_manager, wait_until
from tests.integration.test_controller_deployment import (
    APPS,
    Bounds,
    active,
    get,
    kubectl,
    pods,
    rollout_complete,
)

pytestmark = pytest.mark.integration

SUITE = f"hl-{uuid.uuid4().hex[:6]}"


class Cluster:
    def __init__(self, apiserver: ApiServerProcess, session_dir: Path) -> None:
        self.url = apiserver.url
        self.verify = apiserver.verify
        self.dir = session_dir
        self.kubelets = {
            name: KubeletProcess.create(
                apiserver.url, name, session_dir, "--node-labels", f"suite={SUITE}", runtime="fake"
            )
            for name in (f"{SUITE}-a", f"{SUITE}-b")
        }
        self.scheduler = DaemonProcess(
            ["scheduler", *apiserver.daemon_flags("--master"), "--no-leader-elect"],
            session_dir / f"scheduler-{SUITE}.log",
        )
        self.manager = controller_manager(
            apiserver.url, session_dir,
            "--leader-elect-resource-name", f"kcm-{SUITE}",
            "--node-monitor-period", "0.5s",
            "--node-monitor-grace-period", "4s",
            "--default-unreachable-toleration-seconds", "2",
            "--default-not-ready-toleration-seconds", "2",
            name=f"cm-{SUITE}",
        )  # fmt: skip

    def start(self) -> None:
        self.scheduler.start()
        self.manager.start()
        for kubelet in self.kubelets.values():
            kubelet.start()

    def stop(self) -> None:
        for proc in (*self.kubelets.values(), self.scheduler, self.manager):
            proc.stop()
        for name in self.kubelets:
            httpx.delete(f"{self.url}/api/v1/nodes/{name}", timeout=10, verify=self.verify)


@pytest.fixture(scope="module")
def cluster(apiserver: ApiServerProcess, session_dir: Path) -> Iterator[Cluster]:
    handle = Cluster(apiserver, session_dir)
    try:
        handle.start()
        yield handle
    finally:
        handle.stop()


def deployment(name: str, replicas: int) -> dict[str, Any]:
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
                    "terminationGracePeriodSeconds": 1,
                    "containers": [{"name": "web", "image": "web:1"}],
                },
            },
        },
    }


def node_ready(api: httpx.Client, node: str) -> str:
    for cond in get(api, f"/api/v1/nodes/{node}")["status"]["conditions"]:
        if cond["type"] == "Ready":
            return str(cond["status"])
    return ""


def test_node_lost_with_its_kubelet_pods_replaced_elsewhere(
    cluster: Cluster, api: httpx.Client, namespace: str
):
    base = f"{APPS}/namespaces/{namespace}/deployments"
    assert api.post(base, json=deployment("web", 4)).status_code == 201
    wait_until(lambda: rollout_complete(api, namespace, "web"), 60, what="deployment available")
    placed = {p["metadata"]["name"]: p["spec"]["nodeName"] for p in pods(api, namespace, "app=web")}
    # The node that is lost is one the scheduler put pods on (whichever spread it chose).
    lost = max(cluster.kubelets, key=lambda node: list(placed.values()).count(node))
    kept = next(node for node in cluster.kubelets if node != lost)
    on_lost = {name for name, node in placed.items() if node == lost}
    assert on_lost, f"no pod on either suite node: {placed}"
    cluster.kubelets[lost].kill()
    wait_until(lambda: node_ready(api, lost) == "Unknown", 30, what="node Unknown")
    wait_until(
        lambda: "node.kubernetes.io/unreachable" in {t["key"] for t in get(api, f"/api/v1/nodes/{lost}")["spec"].get("taints") or []},
        30, what="node tainted",
    )  # fmt: skip
    wait_until(
        lambda: rollout_complete(api, namespace, "web")
        and all(p["spec"]["nodeName"] == kept for p in active(pods(api, namespace, "app=web"))),
        60, what="pods replaced on the healthy node",
    )  # fmt: skip
    # The kubelet comes back: the node is Ready and untainted, the evicted pods finish.
    cluster.kubelets[lost].start()
    wait_until(lambda: node_ready(api, lost) == "True", 30)
    wait_until(
        lambda: not [t for t in get(api, f"/api/v1/nodes/{lost}")["spec"].get("taints") or []
                     if t["key"].startswith("node.kubernetes.io/unreachable")],
        30, what="node untainted",
    )  # fmt: skip
    wait_until(
        lambda: not on_lost & {p["metadata"]["name"] for p in pods(api, namespace, "app=web")}, 60
    )


KWEB = f"""
apiVersion: apps/v1
kind: Deployment
metadata:
  name: kweb
spec:
  replicas: 6
  strategy:
    rollingUpdate: {{maxSurge: 2, maxUnavailable: 1}}
  selector:
    matchLabels: {{app: kweb}}
  template:
    metadata:
      labels: {{app: kweb}}
    spec:
      nodeSelector: {{suite: {SUITE}}}
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: web:1
"""


@pytest.mark.kubectl
def test_kubectl_rollout_on_real_scheduler_and_kubelets(
    cluster: Cluster, api: httpx.Client, apiserver: ApiServerProcess, namespace: str
):
    server = apiserver.url
    assert kubectl(server, namespace, "apply", "-f", "-", stdin=KWEB).returncode == 0
    status = kubectl(server, namespace, "rollout", "status", "deployment/kweb", "--timeout=90s")
    assert status.returncode == 0, status.stderr + status.stdout
    bounds = Bounds(api, server, namespace, "kweb")
    try:
        changed = kubectl(server, namespace, "set", "image", "deployment/kweb", "web=web:2")
        assert changed.returncode == 0, changed.stderr
        status = kubectl(server, namespace, "rollout", "status", "deployment/kweb", "--timeout=90s")
        assert status.returncode == 0, status.stderr + status.stdout
        assert "successfully rolled out" in status.stdout
        bounds.drain(lambda: rollout_complete(api, namespace, "kweb"), 30)
        undo = kubectl(server, namespace, "rollout", "undo", "deployment/kweb")
        assert undo.returncode == 0, undo.stderr
        status = kubectl(server, namespace, "rollout", "status", "deployment/kweb", "--timeout=90s")
        assert status.returncode == 0, status.stderr + status.stdout
        bounds.drain(lambda: rollout_complete(api, namespace, "kweb"), 30)
    finally:
        bounds.close()
    assert bounds.max_pods <= 8, f"{bounds.max_pods} pods at once"
    assert bounds.min_available >= 5, f"only {bounds.min_available} available"
    live = active(pods(api, namespace, "app=kweb"))
    assert {p["spec"]["containers"][0]["image"] for p in live} == {"web:1"}
    assert all(p["spec"]["nodeName"] in cluster.kubelets for p in live)
    d = get(api, f"{APPS}/namespaces/{namespace}/deployments/kweb")
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"


def test_daemonset_pods_are_bound_by_the_scheduler(
    cluster: Cluster, api: httpx.Client, namespace: str
):
    body = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {
                    "nodeSelector": {"suite": SUITE},
                    "containers": [{"name": "a", "image": "agent:1"}],
                },
            },
        },
    }
    assert api.post(f"{APPS}/namespaces/{namespace}/daemonsets", json=body).status_code == 201
    wait_until(
        lambda: (get(api, f"{APPS}/namespaces/{namespace}/daemonsets/agent").get("status") or {}).get("numberAvailable") == 2,
        60, what="a daemon pod Running and Ready on each node",
    )  # fmt: skip
    assert {p["spec"]["nodeName"] for p in pods(api, namespace, "app=agent")} == set(
        cluster.kubelets
    )
