"""ReplicaSets and Deployments, driven by a real controller-manager process.

The test plays scheduler and kubelet (``FakeNodes``): pods are bound, reported Running
and Ready, and terminating pods are finished. Rollout bounds are checked on every event
of a pod watch: never more than ``replicas + maxSurge`` pods that are not terminating,
never fewer than ``replicas - maxUnavailable`` available.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit.fakenode import FakeNodes
from testkit.processes import ApiServerProcess, controller_manager, wait_until
from testkit.testca import kubectl_flags
from testkit.watching import RawWatch

pytestmark = pytest.mark.integration

APPS = "/apis/apps/v1"


@pytest.fixture(scope="module")
def cluster(apiserver: ApiServerProcess, session_dir: Path) -> Iterator[FakeNodes]:
    lease = f"kcm-{uuid.uuid4().hex[:8]}"
    manager = controller_manager(
        apiserver.url, session_dir, "--leader-elect-resource-name", lease, name="cm-deploy"
    )
    manager.start()
    nodes = FakeNodes(apiserver.url, ["dep-n1", "dep-n2", "dep-n3"]).start()
    try:
        yield nodes
    finally:
        nodes.stop()
        manager.stop()
        for name in ("dep-n1", "dep-n2", "dep-n3"):
            httpx.delete(f"{apiserver.url}/api/v1/nodes/{name}", verify=apiserver.verify)


def template(app: str, image: str = "web:1", grace: int | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "web", "image": image}]}
    if grace is not None:
        spec["terminationGracePeriodSeconds"] = grace
    return {"metadata": {"labels": {"app": app}}, "spec": spec}


def replica_set(name: str, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": template(name),
        },
    }


def deployment(name: str, replicas: int, **strategy: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": name}},
        "template": template(name),
    }
    if strategy:
        spec["strategy"] = strategy
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": spec}


def pods(api: httpx.Client, namespace: str, selector: str) -> list[dict[str, Any]]:
    resp = api.get(f"/api/v1/namespaces/{namespace}/pods", params={"labelSelector": selector})
    return list(resp.json()["items"])


def active(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        p
        for p in items
        if not p["metadata"].get("deletionTimestamp")
        and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    ]


def is_ready(pod: dict[str, Any]) -> bool:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond["type"] == "Ready":
            return bool(cond["status"] == "True")
    return False


def get(api: httpx.Client, path: str) -> dict[str, Any]:
    resp = api.get(path)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def rollout_complete(api: httpx.Client, namespace: str, name: str) -> bool:
    d = get(api, f"{APPS}/namespaces/{namespace}/deployments/{name}")
    status, replicas = d.get("status") or {}, d["spec"]["replicas"]
    return bool(
        status.get("observedGeneration", 0) >= d["metadata"]["generation"]
        and status.get("updatedReplicas", 0) == replicas
        and status.get("replicas", 0) == replicas
        and status.get("availableReplicas", 0) == replicas
    )


# --- ReplicaSet ---------------------------------------------------------------------------


def test_replicaset_creates_replaces_and_scales(
    cluster: FakeNodes, api: httpx.Client, namespace: str
):
    base = f"{APPS}/namespaces/{namespace}/replicasets"
    assert api.post(base, json=replica_set("web", 3)).status_code == 201

    def status(field: str) -> int:
        return int((get(api, f"{base}/web").get("status") or {}).get(field) or 0)

    wait_until(lambda: status("availableReplicas") == 3, 30, what="3 available")
    rs = get(api, f"{base}/web")
    assert rs["status"]["replicas"] == 3
    assert rs["status"]["readyReplicas"] == 3
    assert rs["status"]["fullyLabeledReplicas"] == 3
    assert rs["status"]["observedGeneration"] == rs["metadata"]["generation"]
    current = pods(api, namespace, "app=web")
    assert len(current) == 3
    for pod in current:
        ref = pod["metadata"]["ownerReferences"][0]
        assert (ref["kind"], ref["name"], ref["uid"], ref["controller"]) == (
            "ReplicaSet", "web", rs["metadata"]["uid"], True,
        )  # fmt: skip
        assert pod["metadata"]["name"].startswith("web-")

    # A pod deleted by hand is replaced.
    victim = current[0]["metadata"]["name"]
    api.delete(f"/api/v1/namespaces/{namespace}/pods/{victim}")
    wait_until(
        lambda: (
            len(active(pods(api, namespace, "app=web"))) == 3
            and victim not in {p["metadata"]["name"] for p in pods(api, namespace, "app=web")}
        ),
        30,
        what="replacement pod",
    )
    wait_until(lambda: status("availableReplicas") == 3, 30)

    # Scale up through the scale subresource, then down.
    resp = api.patch(
        f"{base}/web/scale",
        json={"spec": {"replicas": 5}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert resp.status_code == 200, resp.text
    wait_until(lambda: status("availableReplicas") == 5, 30, what="5 available")
    assert len(active(pods(api, namespace, "app=web"))) == 5
    api.patch(
        f"{base}/web/scale",
        json={"spec": {"replicas": 1}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    wait_until(lambda: len(pods(api, namespace, "app=web")) == 1, 30, what="scaled to 1")
    wait_until(lambda: status("replicas") == 1, 30)


def test_replicaset_scales_down_unready_pods_first(
    cluster: FakeNodes, api: httpx.Client, namespace: str
):
    base = f"{APPS}/namespaces/{namespace}/replicasets"
    assert api.post(base, json=replica_set("rank", 3)).status_code == 201
    wait_until(lambda: len([p for p in pods(api, namespace, "app=rank") if is_ready(p)]) == 3, 30)
    # An orphan pod with matching labels that never becomes ready (no node can run it).
    orphan = {
        "metadata": {"name": "rank-unscheduled", "labels": {"app": "rank"}},
        "spec": {"containers": [{"name": "web", "image": "web:1"}], "nodeSelector": {"none": "x"}},
    }
    assert api.post(f"/api/v1/namespaces/{namespace}/pods", json=orphan).status_code == 201
    # The ReplicaSet adopts it, finds 4 pods for 3 replicas, and removes the unscheduled one.
    wait_until(
        lambda: (
            "rank-unscheduled"
            not in {p["metadata"]["name"] for p in active(pods(api, namespace, "app=rank"))}
        ),
        30,
        what="unscheduled pod deleted",
    )
    assert len(active(pods(api, namespace, "app=rank"))) == 3


def test_replicaset_adopts_orphans_and_releases_strays(
    cluster: FakeNodes, api: httpx.Client, namespace: str
):
    # Pods exist first; the ReplicaSet adopts them instead of creating new ones.
    for i in range(2):
        body = {
            "metadata": {"name": f"adopt-{i}", "labels": {"app": "adopt"}},
            "spec": {"containers": [{"name": "web", "image": "web:1"}]},
        }
        assert api.post(f"/api/v1/namespaces/{namespace}/pods", json=body).status_code == 201
    base = f"{APPS}/namespaces/{namespace}/replicasets"
    assert api.post(base, json=replica_set("adopt", 2)).status_code == 201
    uid = get(api, f"{base}/adopt")["metadata"]["uid"]

    def owned() -> set[str]:
        return {
            p["metadata"]["name"]
            for p in pods(api, namespace, "app=adopt")
            if any(r["uid"] == uid for r in p["metadata"].get("ownerReferences") or [])
        }

    wait_until(lambda: owned() == {"adopt-0", "adopt-1"}, 30, what="orphans adopted")
    wait_until(
        lambda: (get(api, f"{base}/adopt").get("status") or {}).get("availableReplicas") == 2, 30
    )
    assert len(pods(api, namespace, "app=adopt")) == 2
    # Relabel one pod: the ReplicaSet releases it and makes a replacement.
    api.patch(
        f"/api/v1/namespaces/{namespace}/pods/adopt-0",
        json={"metadata": {"labels": {"app": "stray"}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    wait_until(
        lambda: (
            not get(api, f"/api/v1/namespaces/{namespace}/pods/adopt-0")["metadata"].get(
                "ownerReferences"
            )
        ),
        30,
        what="stray released",
    )
    wait_until(lambda: len(owned()) == 2 and "adopt-0" not in owned(), 30, what="replacement")


# --- Deployment ------------------------------------------------------------------------------


class Bounds:
    """Follows the pods of one app through a watch and records the extremes."""

    def __init__(self, api: httpx.Client, url: str, namespace: str, app: str) -> None:
        listed = api.get(
            f"/api/v1/namespaces/{namespace}/pods", params={"labelSelector": f"app={app}"}
        )
        body = listed.json()
        self.pods = {p["metadata"]["name"]: p for p in body["items"]}
        self.watch = RawWatch(
            url,
            f"/api/v1/namespaces/{namespace}/pods",
            labelSelector=f"app={app}",
            resourceVersion=body["metadata"]["resourceVersion"],
        )
        self.max_pods = 0
        self.min_available = 10**9
        self.images: set[str] = set()
        self.events = 0

    def drain(self, until: Any, timeout: float = 60.0) -> None:
        """Apply events (checking the extremes after each) until ``until()`` holds."""
        import queue
        import time

        deadline = time.monotonic() + timeout
        self._measure()
        while True:
            try:
                event = self.watch.events.get(timeout=0.2)
            except queue.Empty:
                if until():
                    return
                if time.monotonic() > deadline:
                    raise TimeoutError("rollout did not finish") from None
                continue
            self._apply(event)
            if time.monotonic() > deadline + 30:
                raise TimeoutError("events never stopped coming")

    def poll(self) -> None:
        """Apply the events that have arrived, without waiting for more."""
        import queue

        while True:
            try:
                event = self.watch.events.get_nowait()
            except queue.Empty:
                return
            self._apply(event)

    def _apply(self, event: dict[str, Any]) -> None:
        if event["type"] == "BOOKMARK":
            return
        obj = event["object"]
        name = obj["metadata"]["name"]
        if event["type"] == "DELETED":
            self.pods.pop(name, None)
        else:
            self.pods[name] = obj
        self.events += 1
        self._measure()

    def _measure(self) -> None:
        live = active(list(self.pods.values()))
        self.max_pods = max(self.max_pods, len(live))
        self.min_available = min(self.min_available, sum(1 for p in live if is_ready(p)))
        for pod in live:
            self.images.add(pod["spec"]["containers"][0]["image"])

    def close(self) -> None:
        self.watch.close()


@pytest.mark.parametrize(
    ("replicas", "surge", "unavailable", "max_pods", "min_available"),
    [(6, 2, 1, 8, 5), (6, "50%", "0%", 9, 6), (5, 0, "40%", 5, 3)],
)
def test_rolling_update_holds_surge_and_availability(
    cluster: FakeNodes, api: httpx.Client, apiserver: ApiServerProcess, namespace: str,
    replicas: int, surge: Any, unavailable: Any, max_pods: int, min_available: int,
):  # fmt: skip
    base = f"{APPS}/namespaces/{namespace}/deployments"
    body = deployment(
        "roll", replicas, type="RollingUpdate",
        rollingUpdate={"maxSurge": surge, "maxUnavailable": unavailable},
    )  # fmt: skip
    assert api.post(base, json=body).status_code == 201
    wait_until(lambda: rollout_complete(api, namespace, "roll"), 60, what="first rollout")
    d = get(api, f"{base}/roll")
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    first_rs = get(api, f"{APPS}/namespaces/{namespace}/replicasets")["items"]
    assert len(first_rs) == 1
    rs1 = first_rs[0]
    template_hash = rs1["metadata"]["labels"]["pod-template-hash"]
    assert rs1["metadata"]["name"] == f"roll-{template_hash}"
    assert rs1["spec"]["selector"]["matchLabels"]["pod-template-hash"] == template_hash
    assert rs1["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    assert rs1["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == str(
        replicas
    )

    bounds = Bounds(api, apiserver.url, namespace, "roll")
    try:
        resp = api.patch(
            f"{base}/roll",
            json={
                "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "web:2"}]}}}
            },
            headers={"Content-Type": "application/strategic-merge-patch+json"},
        )
        assert resp.status_code == 200, resp.text
        bounds.drain(lambda: rollout_complete(api, namespace, "roll"), 90)
    finally:
        bounds.close()
    assert bounds.max_pods <= max_pods, f"{bounds.max_pods} pods at once (limit {max_pods})"
    assert bounds.min_available >= min_available, (
        f"only {bounds.min_available} available (floor {min_available})"
    )
    assert bounds.images == {"web:1", "web:2"}
    live = active(pods(api, namespace, "app=roll"))
    assert {p["spec"]["containers"][0]["image"] for p in live} == {"web:2"}
    assert len(live) == replicas
    d = get(api, f"{base}/roll")
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    conditions = {c["type"]: c for c in d["status"]["conditions"]}
    assert conditions["Available"]["status"] == "True"
    assert conditions["Progressing"]["reason"] == "NewReplicaSetAvailable"
    assert d["status"]["unavailableReplicas"] == 0 if "unavailableReplicas" in d["status"] else True


def test_recreate_stops_old_pods_before_starting_new(
    cluster: FakeNodes, api: httpx.Client, apiserver: ApiServerProcess, namespace: str
):
    base = f"{APPS}/namespaces/{namespace}/deployments"
    assert api.post(base, json=deployment("rec", 3, type="Recreate")).status_code == 201
    wait_until(lambda: rollout_complete(api, namespace, "rec"), 60)
    bounds = Bounds(api, apiserver.url, namespace, "rec")
    mixed = []
    try:
        api.patch(
            f"{base}/rec",
            json={
                "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "web:2"}]}}}
            },
            headers={"Content-Type": "application/strategic-merge-patch+json"},
        )

        def done() -> bool:
            images = {p["spec"]["containers"][0]["image"] for p in bounds.pods.values()}
            if len(images) > 1:
                mixed.append(images)
            return rollout_complete(api, namespace, "rec")

        bounds.drain(done, 90)
    finally:
        bounds.close()
    assert not mixed, "old and new pods existed at the same time"
    assert bounds.min_available == 0
    assert bounds.max_pods <= 3


def test_scale_pause_resume_history_and_deadline(
    cluster: FakeNodes, api: httpx.Client, namespace: str
):
    base = f"{APPS}/namespaces/{namespace}/deployments"
    body = deployment("hist", 2)
    body["spec"]["revisionHistoryLimit"] = 1
    assert api.post(base, json=body).status_code == 201
    wait_until(lambda: rollout_complete(api, namespace, "hist"), 60)
    for image in ("web:2", "web:3", "web:4"):
        api.patch(
            f"{base}/hist",
            json={
                "spec": {"template": {"spec": {"containers": [{"name": "web", "image": image}]}}}
            },
            headers={"Content-Type": "application/strategic-merge-patch+json"},
        )
        wait_until(lambda: rollout_complete(api, namespace, "hist"), 60, what=image)
    # Only the current ReplicaSet and one old one are kept.
    wait_until(
        lambda: len(get(api, f"{APPS}/namespaces/{namespace}/replicasets")["items"]) == 2, 30
    )
    revisions = sorted(
        int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"])
        for rs in get(api, f"{APPS}/namespaces/{namespace}/replicasets")["items"]
    )
    assert revisions == [3, 4]

    # Scaling the Deployment scales its ReplicaSet.
    api.patch(f"{base}/hist/scale", json={"spec": {"replicas": 4}},
              headers={"Content-Type": "application/merge-patch+json"})  # fmt: skip
    wait_until(lambda: rollout_complete(api, namespace, "hist"), 60, what="scaled to 4")

    # Paused: a template change makes no new ReplicaSet; resumed: it rolls out.
    api.patch(f"{base}/hist", json={"spec": {"paused": True}},
              headers={"Content-Type": "application/merge-patch+json"})  # fmt: skip
    wait_until(
        lambda: any(
            c["reason"] == "DeploymentPaused"
            for c in (get(api, f"{base}/hist").get("status") or {}).get("conditions", [])
        ),
        30,
    )
    api.patch(
        f"{base}/hist",
        json={"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "web:5"}]}}}},
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    wait_until(
        lambda: (
            get(api, f"{base}/hist")["status"]["observedGeneration"]
            == get(api, f"{base}/hist")["metadata"]["generation"]
        ),
        30,
    )
    images = {
        rs["spec"]["template"]["spec"]["containers"][0]["image"]
        for rs in get(api, f"{APPS}/namespaces/{namespace}/replicasets")["items"]
    }
    assert "web:5" not in images
    api.patch(f"{base}/hist", json={"spec": {"paused": False}},
              headers={"Content-Type": "application/merge-patch+json"})  # fmt: skip
    wait_until(lambda: rollout_complete(api, namespace, "hist"), 60, what="resumed rollout")
    assert {
        p["spec"]["containers"][0]["image"] for p in active(pods(api, namespace, "app=hist"))
    } == {"web:5"}


def test_progress_deadline_exceeded(cluster: FakeNodes, api: httpx.Client, namespace: str):
    base = f"{APPS}/namespaces/{namespace}/deployments"
    body = deployment("stuck", 2)
    body["spec"]["progressDeadlineSeconds"] = 2
    # No node matches: the pods never run, so the rollout cannot progress.
    body["spec"]["template"]["spec"]["nodeSelector"] = {"nowhere": "true"}
    assert api.post(base, json=body).status_code == 201

    def reason() -> str | None:
        for cond in (get(api, f"{base}/stuck").get("status") or {}).get("conditions", []):
            if cond["type"] == "Progressing":
                return str(cond["reason"])
        return None

    wait_until(lambda: reason() == "ProgressDeadlineExceeded", 30, what="deadline exceeded")
    available = {c["type"]: c for c in get(api, f"{base}/stuck")["status"]["conditions"]}[
        "Available"
    ]
    assert available["status"] == "False"


# --- kubectl -------------------------------------------------------------------------------


def kubectl(
    server: str, namespace: str, *args: str, stdin: str | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """Run the real kubectl against ``server`` (no kubeconfig of the machine is read)."""
    env = {**os.environ, "KUBECONFIG": "/nonexistent/kubeconfig"}
    return subprocess.run(
        ["kubectl", "--server", server, *kubectl_flags(server), "--namespace", namespace, *args],
        input=stdin, capture_output=True, text=True, timeout=timeout, check=False, env=env,
    )  # fmt: skip


KWEB = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: kweb
spec:
  replicas: 4
  selector:
    matchLabels: {app: kweb}
  template:
    metadata:
      labels: {app: kweb}
    spec:
      containers:
      - name: web
        image: web:1
"""


@pytest.mark.kubectl
def test_kubectl_set_image_rollout_status_and_undo(
    cluster: FakeNodes, api: httpx.Client, apiserver: ApiServerProcess, namespace: str
):
    server = apiserver.url
    created = kubectl(server, namespace, "apply", "-f", "-", stdin=KWEB)
    assert created.returncode == 0, created.stderr
    status = kubectl(server, namespace, "rollout", "status", "deployment/kweb", "--timeout=60s")
    assert status.returncode == 0, status.stderr
    assert 'deployment "kweb" successfully rolled out' in status.stdout

    bounds = Bounds(api, server, namespace, "kweb")
    try:
        changed = kubectl(server, namespace, "set", "image", "deployment/kweb", "web=web:2")
        assert changed.returncode == 0, changed.stderr
        status = kubectl(server, namespace, "rollout", "status", "deployment/kweb", "--timeout=60s")
        assert status.returncode == 0, status.stderr + status.stdout
        assert "successfully rolled out" in status.stdout
        bounds.drain(lambda: rollout_complete(api, namespace, "kweb"), 30)
    finally:
        bounds.close()
    # The 25%/25% defaults: 4 replicas -> surge 1, unavailable 1.
    assert bounds.max_pods <= 5
    assert bounds.min_available >= 3
    live = active(pods(api, namespace, "app=kweb"))
    assert {p["spec"]["containers"][0]["image"] for p in live} == {"web:2"}

    history = kubectl(server, namespace, "rollout", "history", "deployment/kweb")
    assert history.returncode == 0, history.stderr
    assert "1" in history.stdout and "2" in history.stdout

    undo = kubectl(server, namespace, "rollout", "undo", "deployment/kweb")
    assert undo.returncode == 0, undo.stderr
    status = kubectl(server, namespace, "rollout", "status", "deployment/kweb", "--timeout=60s")
    assert status.returncode == 0, status.stderr + status.stdout
    wait_until(lambda: rollout_complete(api, namespace, "kweb"), 30)
    live = active(pods(api, namespace, "app=kweb"))
    assert {p["spec"]["containers"][0]["image"] for p in live} == {"web:1"}
    # The old ReplicaSet came back as revision 3; no third ReplicaSet was made.
    sets = get(api, f"{APPS}/namespaces/{namespace}/replicasets")["items"]
    assert len(sets) == 2
    by_image = {
        rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs["metadata"]["annotations"]
        for rs in sets
    }
    assert by_image["web:1"]["deployment.kubernetes.io/revision"] == "3"
    assert by_image["web:1"]["deployment.kubernetes.io/revision-history"] == "1"
    d = get(api, f"{APPS}/namespaces/{namespace}/deployments/kweb")
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"

    # Pause and resume through kubectl too.
    assert kubectl(server, namespace, "rollout", "pause", "deployment/kweb").returncode == 0
    assert get(api, f"{APPS}/namespaces/{namespace}/deployments/kweb")["spec"]["paused"] is True
    assert kubectl(server, namespace, "rollout", "resume", "deployment/kweb").returncode == 0
    restarted = kubectl(server, namespace, "rollout", "restart", "deployment/kweb")
    assert restarted.returncode == 0, restarted.stderr
    status = kubectl(server, namespace, "rollout", "status", "deployment/kweb", "--timeout=60s")
    assert status.returncode == 0, status.stderr + status.stdout
