"""Status bodies byte for byte as Kubernetes writes them, read by the official client."""

from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

pytestmark = pytest.mark.integration

# What kube-apiserver 1.32 answers to a second create of ConfigMap "web" (and the
# official client's own e2e tests expect): Go's field order, no group for the core
# group, and the newline its JSON encoder ends every body with.
KUBERNETES_409 = (
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
    '"message":"configmaps \\"web\\" already exists","reason":"AlreadyExists",'
    '"details":{"name":"web","kind":"configmaps"},"code":409}\n'
)
KUBERNETES_409_APPS = (
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
    '"message":"deployments.apps \\"web\\" already exists","reason":"AlreadyExists",'
    '"details":{"name":"web","group":"apps","kind":"deployments"},"code":409}\n'
)


def test_a_409_body_is_kubernetes_own(k8s: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(k8s)
    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="web"), data={"a": "b"})
    core.create_namespaced_config_map(namespace, body)
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map(namespace, body)
    assert err.value.status == 409
    assert err.value.body == KUBERNETES_409


def test_a_409_body_names_the_group_before_the_kind(k8s: client.ApiClient, namespace: str) -> None:
    apps = client.AppsV1Api(k8s)
    labels = {"app": "web"}
    body = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="x")]),
            ),
        ),
    )
    apps.create_namespaced_deployment(namespace, body)
    with pytest.raises(ApiException) as err:
        apps.create_namespaced_deployment(namespace, body)
    assert err.value.body == KUBERNETES_409_APPS


def test_an_invalid_body_orders_details_and_causes(k8s: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(k8s)
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map(
            namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="Bad_Name"))
        )
    raw: str = err.value.body
    assert err.value.status == 422
    assert raw.endswith(',"code":422}\n')
    keys = ["kind", "apiVersion", "metadata", "status", "message", "reason", "details", "code"]
    positions = [raw.index(f'"{k}":') for k in keys]
    assert positions == sorted(positions)
    details = raw[raw.index('"details"') :]
    assert details.startswith('"details":{"name":"Bad_Name","kind":"ConfigMap","causes":[')


def test_a_delete_answers_a_success_status_in_kubernetes_order(
    k8s: client.ApiClient, namespace: str
) -> None:
    core = client.CoreV1Api(k8s)
    created = core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="gone"))
    )
    response = core.delete_namespaced_config_map("gone", namespace, _preload_content=False)
    assert response.data == (
        b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success",'
        b'"details":{"name":"gone","kind":"configmaps","uid":"'
        + created.metadata.uid.encode()
        + b'"}}\n'
    )
