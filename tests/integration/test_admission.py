"""The admission plugins in a real apiserver (the session's, default plugins on) and, for
quotas, a real controller-manager running the resource quota controller:

- PodSecurity: a privileged pod in a ``baseline`` namespace is refused, naming the fields;
- ResourceQuota: the create past a quota is a 403 in Kubernetes' words (also as the
  official client sees it), and the controller gives the unit back after a delete;
- LimitRanger: a LimitRange's defaults land in a new pod;
- NamespaceLifecycle: nothing is created in a missing or terminating namespace.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from testkit.processes import ApiServerProcess, DaemonProcess, controllers, wait_until

pytestmark = pytest.mark.integration


def _pod(name: str, **container: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "nginx", **container}]},
    }


def _created(resp: httpx.Response) -> dict[str, Any]:
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


@pytest.fixture(scope="module")
def quota_controller(apiserver: ApiServerProcess, session_dir: Path) -> Iterator[DaemonProcess]:
    with controllers(apiserver.url, session_dir, "quota", "resourcequota") as proc:
        yield proc


def test_baseline_namespace_refuses_a_privileged_pod_naming_the_field(
    api: httpx.Client, namespace: str
) -> None:
    label = {"pod-security.kubernetes.io/enforce": "baseline"}
    resp = api.patch(
        f"/api/v1/namespaces/{namespace}",
        json={"metadata": {"labels": label}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert resp.status_code == 200, resp.text
    pods = f"/api/v1/namespaces/{namespace}/pods"
    resp = api.post(pods, json=_pod("root", securityContext={"privileged": True}))
    assert resp.status_code == 403, resp.text
    status = resp.json()
    assert status["reason"] == "Forbidden"
    assert status["message"] == (
        'pods "root" is forbidden: violates PodSecurity "baseline:latest": privileged '
        '(container "c" must not set securityContext.privileged=true)'
    )
    assert [c["field"] for c in status["details"]["causes"]] == [
        "spec.containers[0].securityContext.privileged"
    ]
    host = _pod("host")
    host["spec"]["hostPID"] = True
    resp = api.post(pods, json=host)
    assert resp.status_code == 403 and "host namespaces (hostPID=true)" in resp.json()["message"]
    # A plain pod is admitted; the namespace's label is what decides. Under a `warn`
    # label for restricted, it comes with Kubernetes' Warning header.
    resp = api.patch(
        f"/api/v1/namespaces/{namespace}",
        json={"metadata": {"labels": {"pod-security.kubernetes.io/warn": "restricted"}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert resp.status_code == 200, resp.text
    resp = api.post(pods, json=_pod("plain"))
    _created(resp)
    warning = resp.headers.get("warning", "")
    assert warning.startswith('299 - "would violate PodSecurity \\"restricted:latest\\": '), warning
    assert "allowPrivilegeEscalation != false" in warning


def test_quota_exceeded_is_forbidden_and_freed_after_a_delete(
    quota_controller: DaemonProcess, api: httpx.Client, k8s: client.ApiClient, namespace: str
) -> None:
    base = f"/api/v1/namespaces/{namespace}"
    quota = {"metadata": {"name": "q"}, "spec": {"hard": {"pods": "1", "count/configmaps": "5"}}}
    _created(api.post(f"{base}/resourcequotas", json=quota))

    def status() -> dict[str, Any]:
        body: dict[str, Any] = api.get(f"{base}/resourcequotas/q").json().get("status") or {}
        return body

    wait_until(lambda: status().get("hard"), 30, what="the quota's status")
    _created(api.post(f"{base}/pods", json=_pod("one")))
    assert status()["used"]["pods"] == "1"  # charged by admission at once
    resp = api.post(f"{base}/pods", json=_pod("two"))
    assert resp.status_code == 403, resp.text
    assert resp.json()["reason"] == "Forbidden"
    expected = (
        'pods "two" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, '
        "limited: pods=1"
    )
    assert resp.json()["message"] == expected
    core = client.CoreV1Api(k8s)
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod(namespace, _pod("three"))
    assert err.value.status == 403
    assert json.loads(err.value.body)["message"] == expected.replace('"two"', '"three"')
    assert api.delete(f"{base}/pods/one", params={"gracePeriodSeconds": 0}).status_code == 200
    wait_until(lambda: api.get(f"{base}/pods/one").status_code == 404, 30, what="pod gone")
    wait_until(lambda: status()["used"]["pods"] == "0", 30, what="the controller recounting")
    _created(api.post(f"{base}/pods", json=_pod("two")))


def test_an_update_is_charged_what_it_adds(
    quota_controller: DaemonProcess, api: httpx.Client, namespace: str
) -> None:
    base = f"/api/v1/namespaces/{namespace}"
    hard = {"services.loadbalancers": "1", "services.nodeports": "2"}
    _created(
        api.post(
            f"{base}/resourcequotas", json={"metadata": {"name": "lb"}, "spec": {"hard": hard}}
        )
    )

    def used() -> dict[str, Any]:
        body: dict[str, Any] = api.get(f"{base}/resourcequotas/lb").json().get("status") or {}
        return body.get("used") or {}

    wait_until(used, 30, what="the quota's status")

    def svc(name: str, kind: str) -> dict[str, Any]:
        return {"metadata": {"name": name}, "spec": {"type": kind, "ports": [{"port": 80}]}}

    _created(api.post(f"{base}/services", json=svc("front", "LoadBalancer")))
    _created(api.post(f"{base}/services", json=svc("back", "ClusterIP")))
    assert used()["services.loadbalancers"] == "1"
    # A label changes no usage: the update is not charged.
    merge = {"Content-Type": "application/merge-patch+json"}
    relabel = {"metadata": {"labels": {"tier": "back"}}}
    assert api.patch(f"{base}/services/back", json=relabel, headers=merge).status_code == 200
    # Turning `back` into a LoadBalancer would take a second one: refused, nothing written.
    before = api.get(f"{base}/services/back").json()["metadata"]["resourceVersion"]
    turned = api.patch(
        f"{base}/services/back", json={"spec": {"type": "LoadBalancer"}}, headers=merge
    )
    assert turned.status_code == 403, turned.text
    assert "exceeded quota: lb, requested: services.loadbalancers=1" in turned.json()["message"]
    after = api.get(f"{base}/services/back").json()
    assert after["spec"]["type"] == "ClusterIP"
    assert after["metadata"]["resourceVersion"] == before
    # A NodePort fits (the LoadBalancer holds one of the two node ports).
    as_node_port = {"spec": {"type": "NodePort"}}
    assert api.patch(f"{base}/services/back", json=as_node_port, headers=merge).status_code == 200
    assert used()["services.nodeports"] == "2"


def test_limit_range_defaults_are_applied(api: httpx.Client, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}"
    limits = {
        "metadata": {"name": "lr"},
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "max": {"cpu": "1"},
                    "default": {"memory": "256Mi"},
                    "defaultRequest": {"cpu": "100m"},
                }
            ]
        },
    }
    stored = _created(api.post(f"{base}/limitranges", json=limits))
    # Defaulted as Kubernetes: default from max, defaultRequest from default.
    assert stored["spec"]["limits"][0]["default"] == {"cpu": "1", "memory": "256Mi"}
    pod = _created(api.post(f"{base}/pods", json=_pod("p")))
    resources = pod["spec"]["containers"][0]["resources"]
    assert resources == {
        "limits": {"cpu": "1", "memory": "256Mi"},
        "requests": {"cpu": "100m", "memory": "256Mi"},
    }
    assert pod["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: cpu, memory request for container c; "
        "cpu, memory limit for container c"
    )
    resp = api.post(f"{base}/pods", json=_pod("big", resources={"limits": {"cpu": "2"}}))
    assert resp.status_code == 403, resp.text
    assert resp.json()["message"] == (
        'pods "big" is forbidden: [maximum cpu usage per Container is 1, but limit is 2]'
    )


def test_nothing_is_created_in_a_missing_or_terminating_namespace(api: httpx.Client) -> None:
    missing = f"gone-{uuid.uuid4().hex[:8]}"
    resp = api.post(f"/api/v1/namespaces/{missing}/configmaps", json={"metadata": {"name": "c"}})
    assert resp.status_code == 404, resp.text
    assert resp.json()["message"] == f'namespaces "{missing}" not found'
    name = f"ending-{uuid.uuid4().hex[:8]}"
    ns = {"metadata": {"name": name}, "spec": {"finalizers": ["kubernetes"]}}
    _created(api.post("/api/v1/namespaces", json=ns))
    # No namespace controller runs here: the namespace stays Terminating.
    assert api.delete(f"/api/v1/namespaces/{name}").status_code == 200
    phase = api.get(f"/api/v1/namespaces/{name}").json()["status"]["phase"]
    assert phase == "Terminating"
    resp = api.post(f"/api/v1/namespaces/{name}/configmaps", json={"metadata": {"name": "c"}})
    assert resp.status_code == 403, resp.text
    assert resp.json()["message"] == (
        f"configmaps is forbidden: unable to create new content in namespace {name} because "
        "it is being terminated"
    )
    resp = api.delete("/api/v1/namespaces/kube-system")
    assert resp.status_code == 403, resp.text
    assert resp.json()["message"] == (
        'namespaces "kube-system" is forbidden: this namespace may not be deleted'
    )
