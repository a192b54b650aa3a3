"""ReplicationControllers: the kind (v1, with ``status`` and ``scale``), driven by a real
controller-manager, scaled by the real kubectl and the official client.

``FakeNodes`` plays scheduler and kubelet: pods are bound and reported Running and
Ready, terminating pods are finished.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from testkit.fakenode import FakeNodes
from testkit.kubectl import Kubectl
from testkit.processes import ApiServerProcess, controllers, wait_until

pytestmark = pytest.mark.integration

NODES = ["rc-n1", "rc-n2"]


@pytest.fixture(scope="module")
def cluster(apiserver: ApiServerProcess, session_dir: Path) -> Iterator[FakeNodes]:
    with (
        controllers(apiserver.url, session_dir, "replication", "replicationcontroller"),
        FakeNodes(apiserver.url, NODES) as nodes,
    ):
        yield nodes


def _rc(name: str, replicas: int) -> client.V1ReplicationController:
    labels = {"app": name}
    return client.V1ReplicationController(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1ReplicationControllerSpec(
            replicas=replicas,
            # No selector: it defaults to the template's labels.
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="web:1")]),
            ),
        ),
    )


def _active_pods(core: client.CoreV1Api, namespace: str, selector: str) -> list[Any]:
    items = core.list_namespaced_pod(namespace, label_selector=selector).items
    return [p for p in items if p.metadata.deletion_timestamp is None]


def _ready(core: client.CoreV1Api, namespace: str, name: str, count: int) -> bool:
    rc = core.read_namespaced_replication_controller(name, namespace)
    status = rc.status
    return bool(
        status is not None
        and status.replicas == count
        and (status.ready_replicas or 0) == count
        and (status.available_replicas or 0) == count
        and len(_active_pods(core, namespace, f"app={name}")) == count
    )


def test_a_replication_controller_runs_its_pods_and_scales(
    cluster: FakeNodes, k8s: client.ApiClient, kubectl: Kubectl, namespace: str
) -> None:
    core = client.CoreV1Api(k8s)
    created = core.create_namespaced_replication_controller(namespace, _rc("web", 3))
    assert created.spec.selector == {"app": "web"}
    assert created.metadata.labels == {"app": "web"}
    wait_until(lambda: _ready(core, namespace, "web", 3), 30, what="3 ready pods")
    for pod in _active_pods(core, namespace, "app=web"):
        ref = pod.metadata.owner_references[0]
        assert (ref.kind, ref.name, ref.controller) == ("ReplicationController", "web", True)
        assert ref.api_version == "v1" and ref.uid == created.metadata.uid

    # kubectl scale rc: up, then down.
    out = kubectl("scale", "rc", "web", "--replicas=5").stdout
    assert out.strip() == "replicationcontroller/web scaled"
    wait_until(lambda: _ready(core, namespace, "web", 5), 30, what="scaled up to 5")
    kubectl("scale", "rc/web", "--replicas=1")
    wait_until(lambda: _ready(core, namespace, "web", 1), 30, what="scaled down to 1")

    # The official client's scale subresource.
    scale = core.read_namespaced_replication_controller_scale("web", namespace)
    assert (scale.spec.replicas, scale.status.replicas, scale.status.selector) == (1, 1, "app=web")
    core.patch_namespaced_replication_controller_scale("web", namespace, {"spec": {"replicas": 2}})
    wait_until(lambda: _ready(core, namespace, "web", 2), 30, what="scaled to 2")

    # kubectl get rc prints Kubernetes' columns.
    table = kubectl("get", "rc").stdout.splitlines()
    assert table[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    assert table[1].split()[:4] == ["web", "2", "2", "2"]
    wide = kubectl("get", "rc", "-o", "wide").stdout.splitlines()
    assert wide[0].split() == [
        "NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR",
    ]  # fmt: skip
    assert wide[1].split()[-3:] == ["c", "web:1", "app=web"]


def test_a_replaced_pod_and_an_orphan_are_counted(
    cluster: FakeNodes, k8s: client.ApiClient, namespace: str
) -> None:
    core = client.CoreV1Api(k8s)
    core.create_namespaced_replication_controller(namespace, _rc("db", 2))
    wait_until(lambda: _ready(core, namespace, "db", 2), 30, what="2 ready pods")
    victim = _active_pods(core, namespace, "app=db")[0].metadata.name
    core.delete_namespaced_pod(victim, namespace)

    def replaced() -> bool:
        names = {p.metadata.name for p in _active_pods(core, namespace, "app=db")}
        return victim not in names and _ready(core, namespace, "db", 2)

    wait_until(replaced, 30, what="a replacement pod")
    # A matching pod of nobody's is adopted, and a surplus pod deleted.
    orphan = client.V1Pod(
        metadata=client.V1ObjectMeta(name="db-orphan", labels={"app": "db"}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="web:1")]),
    )
    core.create_namespaced_pod(namespace, orphan)
    wait_until(lambda: _ready(core, namespace, "db", 2), 30, what="back to 2 pods")
    pods = core.list_namespaced_pod(namespace, label_selector="app=db").items
    assert all(
        p.metadata.owner_references and p.metadata.owner_references[0].name == "db"
        for p in pods
        if p.metadata.deletion_timestamp is None
    )


def test_invalid_replication_controllers_are_refused(k8s: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(k8s)
    body = _rc("bad", 1)
    body.spec.template.metadata.labels = {}
    with pytest.raises(ApiException) as err:
        core.create_namespaced_replication_controller(namespace, body)
    assert err.value.status == 422
    assert "spec.selector: Required value" in err.value.body
    body = _rc("bad", 1)
    body.spec.selector = {"app": "other"}
    with pytest.raises(ApiException) as err:
        core.create_namespaced_replication_controller(namespace, body)
    assert "spec.template.metadata.labels: Invalid value" in err.value.body
    assert "`selector` does not match template `labels`" in err.value.body
