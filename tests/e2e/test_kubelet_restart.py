"""A restarted kubelet adopts the containers it finds (by label): running pods keep
running untouched, and containers of pods deleted meanwhile are removed."""

from __future__ import annotations

import time

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
from testkit.processes import wait_until

pytestmark = pytest.mark.e2e

SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]


def test_restart_adopts_running_pods_and_removes_orphans(
    api: httpx.Client, ns: str, node: KubeletProcess, test_images: dict[str, str]
) -> None:
    probe = {"exec": {"command": ["true"]}, "periodSeconds": 1}
    keep = pod_manifest("keep", node.node_name, [
        {"name": "c", "image": test_images["busybox"], "command": SLEEPER, "readinessProbe": probe},
    ])  # fmt: skip
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
    # Watched over several relists and resyncs (not waiting for anything: sampling),
    # the adopted pod stays exactly as it was.
    seen_ready = []
    for _ in range(16):
        pod = api.get(f"/api/v1/namespaces/{ns}/pods/keep").json()
        seen_ready.append(ready(pod))
        time.sleep(0.25)
    after = api.get(f"/api/v1/namespaces/{ns}/pods/keep").json()
    assert all(seen_ready), "an adopted pod stays Ready"
    assert (
        container_status(after, "c")["containerID"] == container_status(before, "c")["containerID"]
    )
    assert container_status(after, "c")["restartCount"] == 0
    assert after["status"]["podIP"] == before["status"]["podIP"]
    keep_ids = {c["Id"] for c in images.containers(keep_labels, running_only=True)}
    assert keep_ids and keep_ids <= running_before
