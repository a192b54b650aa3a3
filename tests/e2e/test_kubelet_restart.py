"""A restarted kubelet adopts the containers it finds (by label): running pods keep
running untouched, and containers of pods deleted meanwhile are removed."""

from __future__ import annotations

import httpx
import pytest

from testkit import images
from testkit.kubelets import (
    KubeletProcess,
    container_status,
    pod_manifest,
    ready,
    running,
    wait_for_pod,
)
from testkit.processes import ApiServerProcess, wait_until
from tests.e2e.execws import ws_exec

pytestmark = pytest.mark.e2e

SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]


def test_restart_adopts_running_pods_and_removes_orphans(
    apiserver: ApiServerProcess, api: httpx.Client, ns: str, node: KubeletProcess,
    test_images: dict[str, str],
) -> None:  # fmt: skip
    probe = {"exec": {"command": ["true"]}, "periodSeconds": 1}
    # The pod's labels, as a downwardAPI volume: the file changes when the kubelet has
    # synced the pod after a label change, which shows that it went over the pod again.
    info = {
        "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}
    }
    keep = pod_manifest("keep", node.node_name, [
        {"name": "c", "image": test_images["busybox"], "command": SLEEPER, "readinessProbe": probe,
         "volumeMounts": [{"name": "info", "mountPath": "/etc/info"}]},
    ], volumes=[{"name": "info", **info}])  # fmt: skip
    drop = pod_manifest("drop", node.node_name, [
        {"name": "c", "image": test_images["busybox"], "command": SLEEPER},
    ])  # fmt: skip
    for body in (keep, drop):
        api.post(f"/api/v1/namespaces/{ns}/pods", json=body).raise_for_status()
    before = wait_for_pod(api, ns, "keep", lambda p: running(p) and ready(p))
    dropped = wait_for_pod(api, ns, "drop", running)
    labels = {"io.navarch.node": node.node_name}
    running_before = {c["Id"] for c in images.containers(labels, running_only=True)}

    node.stop()
    # The containers outlive the kubelet.
    assert {c["Id"] for c in images.containers(labels, running_only=True)} == running_before
    # While it is down, one pod is removed from the API for good.
    api.delete(
        f"/api/v1/namespaces/{ns}/pods/drop", params={"gracePeriodSeconds": "0"}
    ).raise_for_status()

    node.start()
    drop_labels = {**labels, "io.navarch.pod.uid": dropped["metadata"]["uid"]}
    wait_until(lambda: not images.containers(drop_labels), timeout=20, what="orphans removed")
    keep_labels = {**labels, "io.navarch.pod.uid": before["metadata"]["uid"]}
    # The restarted kubelet goes over the adopted pod again and again (once per label
    # change, seen in its volume) and leaves it exactly as it was, Ready throughout.
    seen_ready = []
    for tick in ("1", "2", "3"):
        api.patch(
            f"/api/v1/namespaces/{ns}/pods/keep",
            json={"metadata": {"labels": {"tick": tick}}},
            headers={"Content-Type": "application/merge-patch+json"},
        ).raise_for_status()

        def synced(tick: str = tick) -> bool:
            seen_ready.append(ready(api.get(f"/api/v1/namespaces/{ns}/pods/keep").json()))
            shown = ws_exec(apiserver.url, ns, "keep", ["cat", "/etc/info/labels"]).stdout
            return f'tick="{tick}"' in shown.decode()

        wait_until(synced, timeout=30, interval=0.2, what=f"label tick={tick} in the volume")
    after = api.get(f"/api/v1/namespaces/{ns}/pods/keep").json()
    assert all(seen_ready), "an adopted pod stays Ready"
    assert (
        container_status(after, "c")["containerID"] == container_status(before, "c")["containerID"]
    )
    assert container_status(after, "c")["restartCount"] == 0
    assert after["status"]["podIP"] == before["status"]["podIP"]
    keep_ids = {c["Id"] for c in images.containers(keep_labels, running_only=True)}
    assert keep_ids and keep_ids <= running_before
