"""The official ``kubernetes`` Python client against a real navarch apiserver."""

from __future__ import annotations

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

pytestmark = pytest.mark.integration


def _deployment(name: str, replicas: int = 2) -> client.V1Deployment:
    labels = {"app": name}
    container = client.V1Container(name="web", image="nginx:1.25")
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(
                    containers=[container, client.V1Container(name="side", image="busybox")]
                ),
            ),
        ),
    )


def test_create_get_list_patch_delete(k8s: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(k8s)
    for i, tier in enumerate(["front", "front", "back"]):
        body = client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=f"cm{i}", labels={"tier": tier}), data={"i": str(i)}
        )
        created = core.create_namespaced_config_map(namespace, body)
        assert created.metadata.uid
    got = core.read_namespaced_config_map("cm1", namespace)
    assert got.data == {"i": "1"}
    front = core.list_namespaced_config_map(namespace, label_selector="tier=front")
    assert sorted(i.metadata.name for i in front.items) == ["cm0", "cm1"]
    set_based = core.list_namespaced_config_map(namespace, label_selector="tier in (back)")
    assert [i.metadata.name for i in set_based.items] == ["cm2"]
    by_name = core.list_namespaced_config_map(namespace, field_selector="metadata.name=cm0")
    assert [i.metadata.name for i in by_name.items] == ["cm0"]

    patched = core.patch_namespaced_config_map("cm0", namespace, {"data": {"extra": "yes"}})
    assert patched.data == {"i": "0", "extra": "yes"}

    core.delete_namespaced_config_map("cm2", namespace)
    with pytest.raises(ApiException) as err:
        core.read_namespaced_config_map("cm2", namespace)
    assert err.value.status == 404


def test_strategic_merge_status_and_scale(k8s: client.ApiClient, namespace: str) -> None:
    apps = client.AppsV1Api(k8s)
    apps.create_namespaced_deployment(namespace, _deployment("web"))
    # The client sends a strategic merge patch for a dict body: containers merge by name.
    patch = {
        "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.26"}]}}}
    }
    patched = apps.patch_namespaced_deployment("web", namespace, patch)
    images = {c.name: c.image for c in patched.spec.template.spec.containers}
    assert images == {"web": "nginx:1.26", "side": "busybox"}
    assert patched.metadata.generation == 2

    status = apps.patch_namespaced_deployment_status(
        "web", namespace, {"status": {"replicas": 2, "readyReplicas": 1, "observedGeneration": 2}}
    )
    assert status.status.ready_replicas == 1

    scale = apps.read_namespaced_deployment_scale("web", namespace)
    assert scale.spec.replicas == 2
    scale.spec.replicas = 4
    apps.replace_namespaced_deployment_scale("web", namespace, scale)
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 4
    apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": 1}})
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 1

    apps.delete_namespaced_deployment("web", namespace)
    assert not apps.list_namespaced_deployment(namespace).items


def test_watch_from_a_resource_version(k8s: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(k8s)
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    for name in ("w1", "w2"):
        core.create_namespaced_config_map(
            namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name))
        )
    core.delete_namespaced_config_map("w1", namespace)
    seen = []
    w = watch.Watch()
    for event in w.stream(
        core.list_namespaced_config_map, namespace, resource_version=start, timeout_seconds=10
    ):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 3:
            w.stop()
    assert seen == [("ADDED", "w1"), ("ADDED", "w2"), ("DELETED", "w1")]


def test_invalid_object_is_a_422_naming_the_field(k8s: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(k8s)
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map(
            namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="Not_Valid"))
        )
    assert err.value.status == 422
    assert '"field":"metadata.name"' in err.value.body.replace(" ", "")
