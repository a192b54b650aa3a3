"""Two controller-managers on one Lease: one acts; killing it mid-rollout hands over to the
other, and the rollout completes within its bounds."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from testkit.fakenode import FakeNodes
from testkit.processes import ApiServerProcess, controller_manager, wait_until
from tests.integration.test_controller_deployment import (
    APPS,
    Bounds,
    active,
    deployment,
    get,
    pods,
    rollout_complete,
)

pytestmark = pytest.mark.integration


def holder(api: httpx.Client, lease: str) -> str:
    resp = api.get(f"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/{lease}")
    if resp.status_code != 200:
        return ""
    return str((resp.json().get("spec") or {}).get("holderIdentity") or "")


def test_leader_killed_mid_rollout_standby_completes_it(
    apiserver: ApiServerProcess, session_dir: Path, api: httpx.Client, namespace: str
):
    lease = f"kcm-{uuid.uuid4().hex[:8]}"
    first = controller_manager(
        apiserver.url, session_dir, "--leader-elect-resource-name", lease, name="cm-first"
    )
    second = controller_manager(
        apiserver.url, session_dir, "--leader-elect-resource-name", lease, name="cm-second"
    )
    suite = f"ld-{uuid.uuid4().hex[:6]}"
    nodes = FakeNodes(apiserver.url, [f"{suite}-a", f"{suite}-b"], ready_delay=0.4)
    first.start()
    try:
        wait_until(lambda: holder(api, lease), 30, what="first manager leads")
        leader = holder(api, lease)
        second.start()
        nodes.start()
        base = f"{APPS}/namespaces/{namespace}/deployments"
        body = deployment(
            "ha", 10, type="RollingUpdate", rollingUpdate={"maxSurge": 2, "maxUnavailable": 1}
        )
        assert api.post(base, json=body).status_code == 201
        wait_until(lambda: rollout_complete(api, namespace, "ha"), 60, what="initial rollout")
        assert holder(api, lease) == leader, "the standby did not take over while the leader lived"

        bounds = Bounds(api, apiserver.url, namespace, "ha")
        try:
            resp = api.patch(
                f"{base}/ha",
                json={
                    "spec": {
                        "template": {"spec": {"containers": [{"name": "web", "image": "web:2"}]}}
                    }
                },
                headers={"Content-Type": "application/strategic-merge-patch+json"},
            )
            assert resp.status_code == 200, resp.text

            def midway() -> bool:
                bounds.poll()
                images = [
                    p["spec"]["containers"][0]["image"] for p in active(list(bounds.pods.values()))
                ]
                return images.count("web:2") >= 2

            wait_until(midway, 30, what="rollout under way")
            first.kill()
            bounds.drain(lambda: rollout_complete(api, namespace, "ha"), 90)
        finally:
            bounds.close()
        new_leader = holder(api, lease)
        assert new_leader and new_leader != leader
        assert "became leader" in second.log_path.read_text()
        assert bounds.max_pods <= 12, f"{bounds.max_pods} pods at once"
        assert bounds.min_available >= 9, f"only {bounds.min_available} available"
        live = active(pods(api, namespace, "app=ha"))
        assert len(live) == 10
        assert {p["spec"]["containers"][0]["image"] for p in live} == {"web:2"}
        assert (
            get(api, f"{base}/ha")["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
            == "2"
        )
    finally:
        nodes.stop()
        first.stop()
        second.stop()
