"""A real kubelet process (fake runtime) against the real apiserver: Node registration,
Lease heartbeats, pod lifecycle, static and mirror pods, logs/exec plumbing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from testkit.kubelets import (
    KubeletProcess,
    condition,
    container_status,
    get_pod,
    pod_manifest,
    running,
    wait_for_pod,
    wait_pod_gone,
)
from testkit.processes import ApiServerProcess, wait_until

pytestmark = pytest.mark.integration

STATIC = """\
apiVersion: v1
kind: Pod
metadata:
  name: static-web
  namespace: default
spec:
  containers:
  - name: c
    image: busybox:1
"""


@pytest.fixture(scope="module")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("manifests")
    (path / "web.yaml").write_text(STATIC)
    return path


@pytest.fixture(scope="module")
def kubelet(
    apiserver: ApiServerProcess, session_dir: Path, manifests: Path
) -> Iterator[KubeletProcess]:
    name = f"fake-{uuid.uuid4().hex[:6]}"
    proc = KubeletProcess.create(
        apiserver.url, name, session_dir,
        "--node-labels", "zone=z1,disk=ssd",
        "--register-with-taints", "dedicated=test:PreferNoSchedule",
        "--system-reserved", "cpu=500m,memory=256Mi",
        "--max-pods", "42",
        "--node-ip", "127.0.0.9",
        "--address", "127.0.0.9",
        "--pod-manifest-path", str(manifests),
        runtime="fake",
    )  # fmt: skip
    proc.start()
    yield proc
    proc.stop()
    httpx.delete(f"{apiserver.url}/api/v1/nodes/{name}", verify=apiserver.verify)


def test_node_registers_with_labels_taints_capacity(
    api: httpx.Client, kubelet: KubeletProcess
) -> None:
    node = api.get(f"/api/v1/nodes/{kubelet.node_name}").json()
    labels = node["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == kubelet.node_name
    assert labels["kubernetes.io/os"] == "linux"
    assert labels["kubernetes.io/arch"] in ("amd64", "arm64")
    assert labels["zone"] == "z1" and labels["disk"] == "ssd"
    assert node["spec"]["taints"] == [
        {"key": "dedicated", "value": "test", "effect": "PreferNoSchedule"}
    ]
    status = node["status"]
    assert status["capacity"]["pods"] == "42"
    cpu_capacity = int(status["capacity"]["cpu"])
    assert status["allocatable"]["cpu"] == f"{cpu_capacity * 1000 - 500}m"
    assert {a["type"]: a["address"] for a in status["addresses"]}["InternalIP"] == "127.0.0.9"
    assert status["daemonEndpoints"]["kubeletEndpoint"]["Port"] == kubelet.port
    assert status["nodeInfo"]["kubeletVersion"].startswith("v1.32")
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions == {
        "MemoryPressure": "False",
        "DiskPressure": "False",
        "PIDPressure": "False",
        "Ready": "True",
    }


def test_lease_is_renewed(api: httpx.Client, kubelet: KubeletProcess) -> None:
    path = f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{kubelet.node_name}"
    # The kubelet's lease loop runs beside its status loop: the Node may be Ready first.
    wait_until(lambda: api.get(path).status_code == 200, 10, what="the node's Lease")
    first = api.get(path).json()
    assert first["spec"]["holderIdentity"] == kubelet.node_name
    assert first["spec"]["leaseDurationSeconds"] == 4
    assert first["metadata"]["ownerReferences"][0]["kind"] == "Node"
    renewed = wait_until(
        lambda: api.get(path).json()["spec"]["renewTime"] != first["spec"]["renewTime"],
        timeout=5,
        what="lease renewal",
    )
    assert renewed


def test_pod_runs_and_is_deleted_gracefully(
    api: httpx.Client, kubelet: KubeletProcess, namespace: str
) -> None:
    body = pod_manifest("web", kubelet.node_name, [{"name": "c", "image": "busybox:1"}])
    assert api.post(f"/api/v1/namespaces/{namespace}/pods", json=body).status_code == 201
    pod = wait_for_pod(api, namespace, "web", running)
    assert pod["status"]["podIP"].startswith("10.")
    assert pod["status"]["hostIP"] == "127.0.0.9"
    assert condition(pod, "Ready") == "True"
    assert container_status(pod, "c")["containerID"].startswith("fake://")
    resp = api.delete(f"/api/v1/namespaces/{namespace}/pods/web")
    assert resp.status_code == 200
    assert resp.json()["metadata"].get("deletionTimestamp")
    wait_pod_gone(api, namespace, "web", timeout=20)


def test_a_ready_condition_another_writer_changes_is_written_back(
    api: httpx.Client, kubelet: KubeletProcess, namespace: str
) -> None:
    body = pod_manifest("drift", kubelet.node_name, [{"name": "c", "image": "busybox:1"}])
    assert api.post(f"/api/v1/namespaces/{namespace}/pods", json=body).status_code == 201
    pod = wait_for_pod(api, namespace, "drift", lambda p: condition(p, "Ready") == "True")
    # Another writer (as the node lifecycle controller does) marks the pod not Ready.
    patch = {"status": {"conditions": [{"type": "Ready", "status": "False", "reason": "Other"}]}}
    resp = api.patch(
        f"/api/v1/namespaces/{namespace}/pods/drift/status",
        json=patch,
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert resp.status_code == 200 and condition(resp.json(), "Ready") == "False"
    written = int(resp.json()["metadata"]["resourceVersion"])
    # The kubelet's containers are still ready: it writes Ready=True back, in 15 s.
    back = wait_for_pod(
        api, namespace, "drift", lambda p: condition(p, "Ready") == "True", timeout=15
    )
    assert int(back["metadata"]["resourceVersion"]) > written
    assert container_status(back, "c")["ready"] is True
    assert pod["metadata"]["uid"] == back["metadata"]["uid"]


def test_pod_on_another_node_is_ignored(
    api: httpx.Client, kubelet: KubeletProcess, namespace: str
) -> None:
    body = pod_manifest("elsewhere", "no-such-node", [{"name": "c", "image": "busybox:1"}])
    api.post(f"/api/v1/namespaces/{namespace}/pods", json=body).raise_for_status()
    # A pod bound to this node afterwards runs: the kubelet has seen the pod events past
    # "elsewhere", and has had its chance to (wrongly) touch it.
    mine = pod_manifest("mine", kubelet.node_name, [{"name": "c", "image": "busybox:1"}])
    api.post(f"/api/v1/namespaces/{namespace}/pods", json=mine).raise_for_status()
    wait_for_pod(api, namespace, "mine", running, timeout=20)
    pod = get_pod(api, namespace, "elsewhere")
    assert pod is not None and pod["status"]["phase"] == "Pending"
    assert not pod["status"].get("containerStatuses")


def test_static_pod_is_mirrored(
    api: httpx.Client, kubelet: KubeletProcess, manifests: Path
) -> None:
    name = f"static-web-{kubelet.node_name}"
    mirror = wait_for_pod(api, "default", name, running, timeout=20)
    annotations = mirror["metadata"]["annotations"]
    assert annotations["kubernetes.io/config.mirror"] == annotations["kubernetes.io/config.hash"]
    assert mirror["metadata"]["ownerReferences"][0]["kind"] == "Node"
    first_uid = mirror["metadata"]["uid"]
    # Deleting the mirror does not stop the static pod: the kubelet mirrors it again.
    api.delete(f"/api/v1/namespaces/default/pods/{name}").raise_for_status()
    again = wait_for_pod(
        api, "default", name, lambda p: p["metadata"]["uid"] != first_uid and running(p),
        timeout=20,
    )  # fmt: skip
    assert (
        again["status"]["containerStatuses"][0]["containerID"]
        == (mirror["status"]["containerStatuses"][0]["containerID"])
    )
    # Removing the manifest stops the pod and removes its mirror.
    (manifests / "web.yaml").unlink()
    wait_pod_gone(api, "default", name, timeout=20)


def test_logs_and_exec_reach_the_kubelet(
    api: httpx.Client, kubelet: KubeletProcess, namespace: str
) -> None:
    body = pod_manifest(
        "two", kubelet.node_name,
        [{"name": "a", "image": "busybox:1"}, {"name": "b", "image": "busybox:1"}],
    )  # fmt: skip
    api.post(f"/api/v1/namespaces/{namespace}/pods", json=body).raise_for_status()
    wait_for_pod(api, namespace, "two", running)
    base = f"/api/v1/namespaces/{namespace}/pods/two"
    resp = api.get(f"{base}/log", params={"container": "a"})
    assert resp.status_code == 200 and resp.text == ""  # the fake runtime logs nothing
    resp = api.get(f"{base}/log")
    assert resp.status_code == 400
    assert (
        "a container name must be specified for pod two, choose one of: [a b]"
        in resp.json()["message"]
    )
    resp = api.get(f"{base}/log", params={"container": "zz"})
    assert resp.json()["message"] == "container zz is not valid for pod two"
    resp = api.post(f"{base}/exec", params={"container": "a", "command": "true"})
    assert resp.status_code == 400 and resp.json()["message"] == "Upgrade request required"
    resources = api.get("/api/v1").json()["resources"]
    verbs = {r["name"]: r["verbs"] for r in resources}
    assert verbs["pods/log"] == ["get"] and verbs["pods/exec"] == ["get", "create"]


def test_node_recreated_after_deletion(api: httpx.Client, kubelet: KubeletProcess) -> None:
    path = f"/api/v1/nodes/{kubelet.node_name}"
    old_uid = api.get(path).json()["metadata"]["uid"]
    api.delete(path).raise_for_status()
    node = wait_until(
        lambda: (r := api.get(path)).status_code == 200 and r.json()["metadata"]["uid"] != old_uid,
        timeout=15,
        what="node registered again",
    )
    assert node
