"""Controllers end to end with real containers: the real scheduler, controller-manager and
a Docker kubelet. A Deployment rolls its containers with no loss of availability; Jobs
run containers to success, and to failure after their retries."""

from __future__ import annotations

import queue
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit import images
from testkit.kubelets import KubeletProcess
from testkit.processes import (
    ApiServerProcess,
    scheduler_and_controllers,
    wait_until,
)
from testkit.watching import RawWatch

pytestmark = pytest.mark.e2e

APPS = "/apis/apps/v1"
BATCH = "/apis/batch/v1"


@pytest.fixture(scope="module")
def control(apiserver: ApiServerProcess, session_dir: Path, node: KubeletProcess) -> Iterator[None]:
    suite = f"e2e-{uuid.uuid4().hex[:6]}"
    with scheduler_and_controllers(
        apiserver.url, session_dir, suite, "--job-pod-failure-backoff", "0.5s"
    ):
        yield


def get(api: httpx.Client, path: str) -> dict[str, Any]:
    resp = api.get(path)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def is_ready(pod: dict[str, Any]) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def test_deployment_rolls_real_containers_without_losing_availability(
    control: None, api: httpx.Client, apiserver: ApiServerProcess, ns: str,
    node: KubeletProcess, test_images: dict[str, str],
) -> None:  # fmt: skip
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 3,
            "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "nodeSelector": {"kubernetes.io/hostname": node.node_name},
                    "terminationGracePeriodSeconds": 2,
                    "containers": [{
                        "name": "web", "image": test_images["httpd"], "imagePullPolicy": "Never",
                        "env": [{"name": "VERSION", "value": "1"}],
                        "ports": [{"name": "http", "containerPort": 8080}],
                        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 1},
                    }],
                },
            },
        },
    }  # fmt: skip
    base = f"{APPS}/namespaces/{ns}/deployments"
    assert api.post(base, json=body).status_code == 201

    def complete() -> bool:
        d = get(api, f"{base}/web")
        s = d.get("status") or {}
        return bool(
            s.get("observedGeneration", 0) >= d["metadata"]["generation"]
            and s.get("updatedReplicas") == s.get("replicas") == s.get("availableReplicas") == 3
        )

    wait_until(complete, 120, what="three Ready containers")
    listed = get(api, f"/api/v1/namespaces/{ns}/pods?labelSelector=app=web")
    watch = RawWatch(apiserver.url, f"/api/v1/namespaces/{ns}/pods", labelSelector="app=web",
                     resourceVersion=listed["metadata"]["resourceVersion"])  # fmt: skip
    state = {p["metadata"]["name"]: p for p in listed["items"]}
    lowest = 3
    try:
        patch = {"spec": {"template": {"spec": {"containers": [
            {"name": "web", "env": [{"name": "VERSION", "value": "2"}]}]}}}}  # fmt: skip
        resp = api.patch(f"{base}/web", json=patch,
                         headers={"Content-Type": "application/strategic-merge-patch+json"})  # fmt: skip
        assert resp.status_code == 200, resp.text
        deadline = time.monotonic() + 180
        while not complete():
            assert time.monotonic() < deadline, "rollout did not finish"
            try:
                while True:
                    event = watch.events.get(timeout=0.2)
                    if event["type"] == "BOOKMARK":
                        continue
                    obj = event["object"]
                    if event["type"] == "DELETED":
                        state.pop(obj["metadata"]["name"], None)
                    else:
                        state[obj["metadata"]["name"]] = obj
                    live = [p for p in state.values() if not p["metadata"].get("deletionTimestamp")]
                    lowest = min(lowest, sum(1 for p in live if is_ready(p)))
            except queue.Empty:
                pass
    finally:
        watch.close()
    assert lowest >= 3, "maxUnavailable 0: never fewer than three Ready pods"
    live = [p for p in get(api, f"/api/v1/namespaces/{ns}/pods?labelSelector=app=web")["items"]
            if not p["metadata"].get("deletionTimestamp")]  # fmt: skip
    assert len(live) == 3
    assert {p["spec"]["containers"][0]["env"][0]["value"] for p in live} == {"2"}
    # Real containers: the old pods' containers are gone, the new ones run.
    uids = {p["metadata"]["uid"] for p in live}

    def containers_match() -> bool:
        running = images.containers(
            {"io.navarch.node": node.node_name, "io.navarch.pod.namespace": ns}, running_only=True
        )
        labels = [c.get("Labels") or {} for c in running]
        return {str(label.get("io.navarch.pod.uid")) for label in labels} == uids  # type: ignore[union-attr]

    wait_until(containers_match, 60, what="only the new pods' containers run")


def job(name: str, command: str, image: str, node: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "nodeSelector": {"kubernetes.io/hostname": node},
                    "containers": [
                        {
                            "name": "c",
                            "image": image,
                            "imagePullPolicy": "Never",
                            "command": ["sh", "-c", command],
                        }
                    ],
                }
            },
            **spec,
        },
    }


def conditions(obj: dict[str, Any]) -> dict[str, str]:
    return {
        c["type"]: c.get("reason", "")
        for c in (obj.get("status") or {}).get("conditions") or []
        if c["status"] == "True"
    }


def test_jobs_run_containers_to_success_and_to_failure(
    control: None, api: httpx.Client, ns: str, node: KubeletProcess, test_images: dict[str, str]
) -> None:
    base = f"{BATCH}/namespaces/{ns}/jobs"
    busybox = test_images["busybox"]
    ok = job("ok", "echo done; exit 0", busybox, node.node_name, completions=2, parallelism=2)
    bad = job("bad", "echo failing; exit 3", busybox, node.node_name, backoffLimit=1)
    assert api.post(base, json=ok).status_code == 201
    assert api.post(base, json=bad).status_code == 201
    wait_until(
        lambda: "Complete" in conditions(get(api, f"{base}/ok")), 120, what="job ok complete"
    )
    assert get(api, f"{base}/ok")["status"]["succeeded"] == 2
    wait_until(lambda: "Failed" in conditions(get(api, f"{base}/bad")), 120, what="job bad failed")
    failed = get(api, f"{base}/bad")
    assert conditions(failed)["Failed"] == "BackoffLimitExceeded"
    assert failed["status"]["failed"] == 2
    exits = [
        p["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"]
        for p in get(api, f"/api/v1/namespaces/{ns}/pods?labelSelector=job-name=bad")["items"]
    ]
    assert exits == [3, 3]
