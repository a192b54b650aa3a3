"""Server-side apply against a real apiserver, with the real kubectl (``kubectl apply
--server-side``) and the official Python client (``DynamicClient.server_side_apply``,
``patch`` with ``application/apply-patch+yaml``): create, idempotent re-apply,
conflict, force, field removal, for a Deployment and a ConfigMap."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import yaml
from kubernetes import client, dynamic
from kubernetes.client.rest import ApiException

from testkit.kubectl import Kubectl
from testkit.processes import ApiServerProcess
from tests.integration.test_kubectl import DEPLOYMENT

pytestmark = pytest.mark.integration

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast, level: "1"}
"""


def live(apiserver: ApiServerProcess, namespace: str, path: str) -> dict[str, Any]:
    resp = httpx.get(f"{apiserver.url}{path.format(ns=namespace)}", verify=apiserver.verify)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


DEPLOY_PATH = "/apis/apps/v1/namespaces/{ns}/deployments/web"
CM_PATH = "/api/v1/namespaces/{ns}/configmaps/settings"


def owners(obj: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(manager, operation) -> its fieldsV1."""
    return {(e["manager"], e["operation"]): e["fieldsV1"] for e in obj["metadata"]["managedFields"]}


def edited(manifest: str, **changes: Any) -> str:
    doc = yaml.safe_load(manifest)
    for path, value in changes.items():
        target = doc
        *parents, last = path.split("__")
        for part in parents:
            target = target[part]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return yaml.safe_dump(doc)


# --- kubectl -------------------------------------------------------------------------------


@pytest.mark.kubectl
def test_kubectl_server_side_apply_deployment(
    kubectl: Kubectl,
    apiserver: ApiServerProcess,
    namespace: str,
) -> None:
    first = kubectl("apply", "--server-side", "-f", "-", stdin=DEPLOYMENT)
    assert first.stdout.strip() == "deployment.apps/web serverside-applied"
    created = live(apiserver, namespace, DEPLOY_PATH)
    applied = owners(created)[("kubectl", "Apply")]
    assert applied["f:spec"]["f:replicas"] == {}
    assert applied["f:spec"]["f:selector"] == {}  # a LabelSelector is atomic
    containers = applied["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert set(containers) == {'k:{"name":"web"}', 'k:{"name":"side"}'}
    assert containers['k:{"name":"web"}']["f:ports"] == {
        'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}
    }

    # Re-applying the same manifest writes nothing.
    kubectl("apply", "--server-side", "-f", "-", stdin=DEPLOYMENT)
    again = live(apiserver, namespace, DEPLOY_PATH)
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]

    # Another manager changing kubectl's field is a conflict that names field and owner.
    three = edited(DEPLOYMENT, spec__replicas=3)
    refused = kubectl(
        "apply", "--server-side", "--field-manager=ops", "-f", "-", stdin=three, check=False
    )
    assert refused.returncode != 0
    assert 'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas' in (
        refused.stderr
    )
    assert live(apiserver, namespace, DEPLOY_PATH)["spec"]["replicas"] == 2

    # Forcing takes the field over.
    kubectl(
        "apply", "--server-side", "--field-manager=ops", "--force-conflicts",
        "-f", "-", stdin=three,
    )  # fmt: skip
    forced = live(apiserver, namespace, DEPLOY_PATH)
    assert forced["spec"]["replicas"] == 3
    assert "f:replicas" not in owners(forced)[("kubectl", "Apply")]["f:spec"]
    assert "f:replicas" in owners(forced)[("ops", "Apply")]["f:spec"]

    # kubectl stops applying the sidecar (and replicas, ops' now): ops still applies the
    # sidecar, so it stays; once ops stops applying it too, it goes.
    def containers() -> list[str]:
        spec = live(apiserver, namespace, DEPLOY_PATH)["spec"]["template"]["spec"]
        return [c["name"] for c in spec["containers"]]

    alone = yaml.safe_load(edited(DEPLOYMENT, spec__replicas=None))
    alone["spec"]["template"]["spec"]["containers"].pop()
    kubectl("apply", "--server-side", "-f", "-", stdin=yaml.safe_dump(alone))
    assert containers() == ["web", "side"]
    alone["spec"]["replicas"] = 3
    ops = yaml.safe_dump(alone)
    kubectl("apply", "--server-side", "--field-manager=ops", "-f", "-", stdin=ops)
    assert containers() == ["web"]
    assert live(apiserver, namespace, DEPLOY_PATH)["spec"]["replicas"] == 3


@pytest.mark.kubectl
def test_kubectl_server_side_apply_configmap_and_client_side_apply_after(
    kubectl: Kubectl,
    apiserver: ApiServerProcess,
    namespace: str,
) -> None:
    # Client-side first: kubectl's three-way merge and its annotation.
    assert "created" in kubectl("apply", "-f", "-", stdin=CONFIGMAP).stdout
    csa = live(apiserver, namespace, CM_PATH)
    assert ("kubectl-client-side-apply", "Update") in owners(csa)

    # Then server-side: kubectl takes over its client-side fields without a conflict.
    changed = edited(CONFIGMAP, data__mode="slow")
    kubectl("apply", "--server-side", "-f", "-", stdin=changed)
    ssa = live(apiserver, namespace, CM_PATH)
    assert ssa["data"] == {"mode": "slow", "level": "1"}
    assert set(owners(ssa)[("kubectl", "Apply")]["f:data"]) == {"f:mode", "f:level"}
    annotation = ssa["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    assert json.loads(annotation)["data"] == {"mode": "slow", "level": "1"}

    # A dry run changes nothing.
    dry = edited(changed, data__mode="dry")
    kubectl("apply", "--server-side", "--dry-run=server", "-f", "-", stdin=dry)
    assert live(apiserver, namespace, CM_PATH)["data"]["mode"] == "slow"

    # Server-side apply removes what kubectl no longer applies.
    kubectl("apply", "--server-side", "-f", "-", stdin=edited(changed, data__level=None))
    assert live(apiserver, namespace, CM_PATH)["data"] == {"mode": "slow"}

    # And client-side apply still works after it.
    kubectl("apply", "-f", "-", stdin=edited(CONFIGMAP, data__level="2"))
    assert live(apiserver, namespace, CM_PATH)["data"] == {"mode": "fast", "level": "2"}


# --- the official Python client --------------------------------------------------------------


def _conflict(err: ApiException) -> tuple[str, list[dict[str, str]]]:
    body = json.loads(err.body)
    return body["message"], body["details"]["causes"]


def test_dynamic_client_server_side_apply(
    k8s: client.ApiClient,
    namespace: str,
) -> None:
    configmaps = dynamic.DynamicClient(k8s).resources.get(api_version="v1", kind="ConfigMap")
    body = yaml.safe_load(CONFIGMAP)

    created = configmaps.server_side_apply(body=body, namespace=namespace, field_manager="app")
    assert created.data.to_dict() == {"mode": "fast", "level": "1"}
    again = configmaps.server_side_apply(body=body, namespace=namespace, field_manager="app")
    assert again.metadata.resourceVersion == created.metadata.resourceVersion

    other = {**body, "data": {"mode": "slow"}}
    with pytest.raises(ApiException) as caught:
        configmaps.server_side_apply(body=other, namespace=namespace, field_manager="ops")
    assert caught.value.status == 409
    message, causes = _conflict(caught.value)
    assert message == 'Apply failed with 1 conflict: conflict with "app": .data.mode'
    assert causes == [
        {"reason": "FieldManagerConflict", "message": 'conflict with "app"', "field": ".data.mode"}
    ]

    forced = configmaps.server_side_apply(
        body=other, namespace=namespace, field_manager="ops", force_conflicts=True
    )
    assert forced.data.to_dict() == {"mode": "slow", "level": "1"}

    # app applies without level (its own alone): gone. mode is ops' too: it stays.
    dropped = configmaps.patch(
        body={**body, "data": {"mode": "slow"}},
        name="settings",
        namespace=namespace,
        content_type="application/apply-patch+yaml",
        field_manager="app",
    )
    assert dropped.data.to_dict() == {"mode": "slow"}
    managers = {(e.manager, e.operation) for e in dropped.metadata.managedFields}
    assert managers == {("app", "Apply"), ("ops", "Apply")}


def test_typed_client_applies_a_deployment(
    k8s: client.ApiClient,
    namespace: str,
) -> None:
    apps = client.AppsV1Api(k8s)
    body = yaml.safe_load(DEPLOYMENT)
    apply = "application/apply-patch+yaml"

    created = apps.patch_namespaced_deployment(
        "web", namespace, body, field_manager="app", _content_type=apply
    )
    assert created.spec.replicas == 2
    assert created.metadata.managed_fields[0].operation == "Apply"
    same = apps.patch_namespaced_deployment(
        "web", namespace, body, field_manager="app", _content_type=apply
    )
    assert same.metadata.resource_version == created.metadata.resource_version

    scaled = {**body, "spec": {**body["spec"], "replicas": 4}}
    with pytest.raises(ApiException) as caught:
        apps.patch_namespaced_deployment(
            "web", namespace, scaled, field_manager="hpa", _content_type=apply
        )
    assert caught.value.status == 409
    assert _conflict(caught.value)[1][0]["field"] == ".spec.replicas"
    forced = apps.patch_namespaced_deployment(
        "web", namespace, scaled, field_manager="hpa", force=True, _content_type=apply
    )
    assert forced.spec.replicas == 4

    # A missing fieldManager is refused as Kubernetes refuses it.
    with pytest.raises(ApiException) as caught:
        apps.patch_namespaced_deployment("web", namespace, body, _content_type=apply)
    assert caught.value.status == 422
    assert "fieldManager: Required value" in json.loads(caught.value.body)["message"]
