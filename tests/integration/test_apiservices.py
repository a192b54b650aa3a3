"""APIServices (apiregistration.k8s.io/v1) against a real apiserver: the local ones it
registers and keeps Available, Service-backed ones checked as kube-aggregator checks
them, and discovery that stays complete for the real kubectl and the official client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from testkit.kubectl import Kubectl
from testkit.processes import wait_until

pytestmark = pytest.mark.integration

METRICS = "v1beta1.metrics.k8s.io"
LOCAL = ["v1.", "v1.apps", "v1.batch", "v1.coordination.k8s.io", "v1.discovery.k8s.io",
         "v1.policy", "v1.apiregistration.k8s.io"]  # fmt: skip


def _available(api: client.ApiregistrationV1Api, name: str) -> tuple[str, str] | None:
    try:
        obj = api.read_api_service(name)
    except ApiException as err:
        if err.status == 404:
            return None
        raise
    for cond in (obj.status.conditions if obj.status else None) or []:
        if cond.type == "Available":
            return cond.status, cond.reason or ""
    return None


def _wait_available(api: client.ApiregistrationV1Api, name: str, status: str, reason: str) -> None:
    wait_until(
        lambda: _available(api, name) == (status, reason),
        timeout=15,
        what=f"{name} Available={status} ({reason}), last {_available(api, name)}",
    )


def _merge_patch(api: httpx.Client, path: str, patch: dict[str, Any]) -> None:
    headers = {"Content-Type": "application/merge-patch+json"}
    resp = api.patch(path, content=json.dumps(patch), headers=headers)
    assert resp.status_code == 200, resp.text


@pytest.fixture
def registration(k8s: client.ApiClient) -> client.ApiregistrationV1Api:
    return client.ApiregistrationV1Api(k8s)


@pytest.fixture
def metrics(registration: client.ApiregistrationV1Api, namespace: str) -> Iterator[str]:
    """A Service-backed APIService for metrics.k8s.io, naming ``namespace``/metrics."""
    body = client.V1APIService(
        metadata=client.V1ObjectMeta(name=METRICS),
        spec=client.V1APIServiceSpec(
            group="metrics.k8s.io",
            version="v1beta1",
            group_priority_minimum=100,
            version_priority=100,
            insecure_skip_tls_verify=True,
            service=client.ApiregistrationV1ServiceReference(namespace=namespace, name="metrics"),
        ),
    )
    created = registration.create_api_service(body)
    assert created.spec.service.port == 443
    yield METRICS
    registration.delete_api_service(METRICS)
    wait_until(lambda: _available(registration, METRICS) is None, 10, what="deleted")


def test_every_served_group_version_has_a_local_available_api_service(
    registration: client.ApiregistrationV1Api, kubectl: Kubectl
) -> None:
    for name in LOCAL:
        _wait_available(registration, name, "True", "Local")
    core = registration.read_api_service("v1.")
    assert core.spec.group is None and core.spec.version == "v1"
    assert (core.spec.group_priority_minimum, core.spec.version_priority) == (18000, 1)
    assert core.metadata.labels == {"kube-aggregator.kubernetes.io/automanaged": "onstart"}
    apps = registration.read_api_service("v1.apps")
    assert (apps.spec.group_priority_minimum, apps.spec.version_priority) == (17800, 15)
    table = kubectl("get", "apiservices").stdout.splitlines()
    assert table[0].split() == ["NAME", "SERVICE", "AVAILABLE", "AGE"]
    rows = {line.split()[0]: line.split()[1:3] for line in table[1:]}
    assert rows["v1.apps"] == ["Local", "True"]
    assert rows["v1."] == ["Local", "True"]


def test_a_local_api_service_is_kept_available(
    registration: client.ApiregistrationV1Api,
) -> None:
    _wait_available(registration, "v1.batch", "True", "Local")
    current = registration.read_api_service("v1.batch")
    current.status.conditions[0].status = "False"
    current.status.conditions[0].reason = "SomeoneElse"
    registration.replace_api_service_status("v1.batch", current)
    _wait_available(registration, "v1.batch", "True", "Local")


def test_a_service_backed_api_service_without_its_backend_is_unavailable_and_discovery_complete(
    registration: client.ApiregistrationV1Api,
    k8s: client.ApiClient,
    kubectl: Kubectl,
    api: httpx.Client,
    metrics: str,
    namespace: str,
) -> None:
    _wait_available(registration, metrics, "False", "ServiceNotFound")
    got = registration.read_api_service(metrics)
    message = got.status.conditions[0].message
    assert message == f'service/metrics in "{namespace}" is not present'
    row = [r for r in kubectl("get", "apiservices").stdout.splitlines() if r.startswith(metrics)]
    assert row[0].split()[1:3] == [f"{namespace}/metrics", "False"]
    assert "(ServiceNotFound)" in row[0]

    # Discovery lists what is served, and every group it lists answers.
    resources = kubectl("api-resources", "-o", "name").stdout.split()
    assert {"pods", "deployments.apps", "apiservices.apiregistration.k8s.io"} <= set(resources)
    assert "replicationcontrollers" in resources
    groups = {g.name for g in client.ApisApi(k8s).get_api_versions().groups}
    assert "apiregistration.k8s.io" in groups and "metrics.k8s.io" not in groups
    for group in client.ApisApi(k8s).get_api_versions().groups:
        path = f"/apis/{group.preferred_version.group_version}"
        assert api.get(path).status_code == 200, path
    core = client.CoreV1Api(k8s).get_api_resources()
    assert "pods" in {r.name for r in core.resources}


def test_the_checks_kube_aggregator_makes_in_order(
    registration: client.ApiregistrationV1Api, api: httpx.Client, metrics: str, namespace: str
) -> None:
    service: dict[str, Any] = {
        "metadata": {"name": "metrics"},
        "spec": {"ports": [{"name": "https", "port": 8443, "targetPort": 8443}]},
    }
    resp = api.post(f"/api/v1/namespaces/{namespace}/services", json=service)
    assert resp.status_code == 201, resp.text
    _wait_available(registration, metrics, "False", "ServicePortError")
    patch = {"spec": {"ports": [{"name": "https", "port": 443, "targetPort": 8443}]}}
    _merge_patch(api, f"/api/v1/namespaces/{namespace}/services/metrics", patch)
    _wait_available(registration, metrics, "False", "EndpointsNotFound")
    endpoint_slice: dict[str, Any] = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "metrics-1", "labels": {"kubernetes.io/service-name": "metrics"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.244.9.9"], "conditions": {"ready": False}}],
        "ports": [{"name": "https", "port": 8443, "protocol": "TCP"}],
    }
    slices = f"/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices"
    assert api.post(slices, json=endpoint_slice).status_code == 201
    _wait_available(registration, metrics, "False", "MissingEndpoints")
    ready = {"endpoints": [{"addresses": ["10.244.9.9"], "conditions": {"ready": True}}]}
    _merge_patch(api, f"{slices}/metrics-1", ready)
    _wait_available(registration, metrics, "False", "ProxyUnsupported")


def test_invalid_api_services_are_refused(registration: client.ApiregistrationV1Api) -> None:
    body = client.V1APIService(
        metadata=client.V1ObjectMeta(name="v1.wrong.example.com"),
        spec=client.V1APIServiceSpec(
            group="example.com", version="v1", group_priority_minimum=0, version_priority=10
        ),
    )
    with pytest.raises(ApiException) as err:
        registration.create_api_service(body)
    assert err.value.status == 422
    message = json.loads(err.value.body)["message"]
    assert (
        'metadata.name: Invalid value: "v1.wrong.example.com": '
        'must be `spec.version+"."+spec.group`: "v1.example.com"'
    ) in message
    assert "spec.groupPriorityMinimum: Invalid value: 0: must be positive and less than 20000" in (
        message
    )
