"""The real kubectl against a real navarch apiserver (``kubectl`` marker: skipped where
kubectl is absent, failed under CI)."""

from __future__ import annotations

import base64
import json
import queue
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from testkit.kubectl import Kubectl
from testkit.processes import ApiServerProcess

pytestmark = [
    pytest.mark.integration,
    pytest.mark.kubectl,
]

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
      - name: side
        image: busybox:1
"""

SETTINGS = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
"""


def test_get_tables_and_yaml(kubectl: Kubectl) -> None:
    out = kubectl("get", "namespaces").stdout.splitlines()
    assert out[0].split() == ["NAME", "STATUS", "AGE"]
    assert any(line.split()[:2] == ["default", "Active"] for line in out[1:])
    kubectl("apply", "-f", "-", stdin=SETTINGS)
    listed = kubectl("get", "cm").stdout.splitlines()
    assert listed[0].split() == ["NAME", "DATA", "AGE"]
    assert listed[1].split()[:2] == ["settings", "1"]
    doc = yaml.safe_load(kubectl("get", "cm", "settings", "-o", "yaml").stdout)
    assert doc["kind"] == "ConfigMap" and doc["data"] == {"mode": "fast"}
    missing = kubectl("get", "cm", "nope", check=False)
    assert missing.returncode != 0
    assert 'configmaps "nope" not found' in missing.stderr


def test_apply_twice_then_changed_manifest_merges(
    kubectl: Kubectl, apiserver: ApiServerProcess, namespace: str
) -> None:
    first = kubectl("apply", "-f", "-", stdin=DEPLOYMENT)
    assert first.stdout.strip() == "deployment.apps/web created"
    second = kubectl("apply", "-f", "-", stdin=DEPLOYMENT)
    assert second.stdout.strip() == "deployment.apps/web unchanged"

    # Someone else adds an annotation and an env var to the sidecar; apply must keep them.
    patch = (
        '{"metadata":{"annotations":{"team":"blue"}},"spec":{"template":{"spec":'
        '{"containers":[{"name":"side","env":[{"name":"MODE","value":"x"}]}]}}}}'
    )
    kubectl("patch", "deployment", "web", "-p", patch)

    changed = DEPLOYMENT.replace("nginx:1.25", "nginx:1.26").replace("replicas: 2", "replicas: 3")
    third = kubectl("apply", "-f", "-", stdin=changed)
    assert third.stdout.strip() == "deployment.apps/web configured"
    live = httpx.get(
        f"{apiserver.url}/apis/apps/v1/namespaces/{namespace}/deployments/web",
        verify=apiserver.verify,
    ).json()
    containers = {c["name"]: c for c in live["spec"]["template"]["spec"]["containers"]}
    assert containers["web"]["image"] == "nginx:1.26"
    assert containers["web"]["ports"][0]["containerPort"] == 80
    assert containers["side"]["env"] == [{"name": "MODE", "value": "x"}]
    assert live["metadata"]["annotations"]["team"] == "blue"
    assert live["spec"]["replicas"] == 3

    # A container removed from the manifest is removed from the object.
    without_side = changed.split("      - name: side")[0]
    kubectl("apply", "-f", "-", stdin=without_side)
    live = httpx.get(
        f"{apiserver.url}/apis/apps/v1/namespaces/{namespace}/deployments/web",
        verify=apiserver.verify,
    ).json()
    assert [c["name"] for c in live["spec"]["template"]["spec"]["containers"]] == ["web"]


def test_patch_scale_delete(kubectl: Kubectl, apiserver: ApiServerProcess, namespace: str) -> None:
    kubectl("apply", "-f", "-", stdin=DEPLOYMENT)
    assert "scaled" in kubectl("scale", "deployment", "web", "--replicas=5").stdout
    url = f"{apiserver.url}/apis/apps/v1/namespaces/{namespace}/deployments/web"
    assert httpx.get(url, verify=apiserver.verify).json()["spec"]["replicas"] == 5
    kubectl("patch", "deployment", "web", "--type=merge", "-p", '{"spec":{"paused":true}}')
    assert httpx.get(url, verify=apiserver.verify).json()["spec"]["paused"] is True
    kubectl(
        "patch", "deployment", "web", "--type=json",
        "-p", '[{"op":"replace","path":"/spec/replicas","value":1}]',
    )  # fmt: skip
    assert httpx.get(url, verify=apiserver.verify).json()["spec"]["replicas"] == 1
    out = kubectl("get", "deployment", "web").stdout.splitlines()
    assert out[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert "deleted" in kubectl("delete", "deployment", "web").stdout
    assert httpx.get(url, verify=apiserver.verify).status_code == 404


def test_get_watch_prints_new_objects(
    kubectl: Kubectl, apiserver: ApiServerProcess, namespace: str
) -> None:
    url = f"{apiserver.url}/api/v1/namespaces/{namespace}/configmaps"
    httpx.post(url, json={"metadata": {"name": "listed"}}, verify=apiserver.verify)
    proc = subprocess.Popen(
        [*kubectl.base, "get", "configmaps", "-w"],  # type: ignore[attr-defined]
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=kubectl.env,  # type: ignore[attr-defined]
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        # The list part: a header, then the existing object.
        assert lines.get(timeout=30).split() == ["NAME", "DATA", "AGE"]
        assert lines.get(timeout=30).split()[0] == "listed"
        # The watch part: an object created afterwards shows up.
        httpx.post(
            url, json={"metadata": {"name": "watched"}, "data": {"a": "1"}}, verify=apiserver.verify
        )
        line = lines.get(timeout=30)
        assert line.split()[:2] == ["watched", "1"]
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def tmp_manifest(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "deploy.yaml"
    path.write_text(DEPLOYMENT)
    yield path


def test_apply_from_file_and_delete_by_file(kubectl: Kubectl, tmp_manifest: Path) -> None:
    assert "created" in kubectl("apply", "-f", str(tmp_manifest)).stdout
    assert "deleted" in kubectl("delete", "-f", str(tmp_manifest)).stdout


# --- imperative creates: kubectl sends these as protobuf ------------------------------------


def test_create_generators_send_protobuf_and_read_the_answer(
    kubectl: Kubectl, apiserver: ApiServerProcess, namespace: str
) -> None:
    # kubectl 1.32 writes these with Content-Type application/vnd.kubernetes.protobuf and
    # decodes the protobuf answer into the object it prints.
    suffix = namespace[-6:]
    created = {
        f"namespace/ns-{suffix}": ["create", "namespace", f"ns-{suffix}"],
        "configmap/settings": ["create", "configmap", "settings", "--from-literal=mode=fast"],
        "secret/token": ["create", "secret", "generic", "token", "--from-literal=key=s3cr3t"],
        "deployment.apps/web": [
            "create", "deployment", "web", "--image=busybox:1", "--replicas=2", "--port=8080",
        ],
        "service/web": ["create", "service", "clusterip", "web", "--tcp=80:8080"],
        "job.batch/once": ["create", "job", "once", "--image=busybox:1", "--", "echo", "hi"],
        "cronjob.batch/tick": [
            "create", "cronjob", "tick", "--image=busybox:1", "--schedule=*/5 * * * *",
            "--", "echo", "tick",
        ],
        "serviceaccount/robot": ["create", "serviceaccount", "robot"],
    }  # fmt: skip
    try:
        for name, args in created.items():
            assert kubectl(*args).stdout.strip() == f"{name} created"

        def live(path: str) -> dict[str, Any]:
            resp = httpx.get(f"{apiserver.url}{path}", verify=apiserver.verify)
            assert resp.status_code == 200, resp.text
            body: dict[str, Any] = resp.json()
            return body

        ns = f"/api/v1/namespaces/{namespace}"
        assert live(f"/api/v1/namespaces/ns-{suffix}")["status"]["phase"] == "Active"
        assert live(f"{ns}/configmaps/settings")["data"] == {"mode": "fast"}
        secret = live(f"{ns}/secrets/token")
        assert secret["data"] == {"key": base64.b64encode(b"s3cr3t").decode()}
        assert secret["type"] == "Opaque"
        deployment = live(f"/apis/apps/v1/namespaces/{namespace}/deployments/web")
        assert deployment["spec"]["replicas"] == 2
        assert deployment["spec"]["selector"] == {"matchLabels": {"app": "web"}}
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert (container["image"], container["ports"]) == (
            "busybox:1",
            [{"containerPort": 8080, "protocol": "TCP"}],
        )
        service = live(f"{ns}/services/web")
        [port] = service["spec"]["ports"]
        assert (port["port"], port["targetPort"], port["name"]) == (80, 8080, "80-8080")
        assert service["spec"]["clusterIP"]
        job = live(f"/apis/batch/v1/namespaces/{namespace}/jobs/once")
        assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["echo", "hi"]
        cron = live(f"/apis/batch/v1/namespaces/{namespace}/cronjobs/tick")
        assert cron["spec"]["schedule"] == "*/5 * * * *"
        assert live(f"{ns}/serviceaccounts/robot")["metadata"]["name"] == "robot"

        # The object kubectl prints is the server's protobuf answer, decoded by Go.
        printed = json.loads(
            kubectl("create", "configmap", "printed", "--from-literal=a=1", "-o", "json").stdout
        )
        stored = live(f"{ns}/configmaps/printed")
        assert printed["data"] == {"a": "1"}
        for key in ("uid", "resourceVersion", "creationTimestamp"):
            assert printed["metadata"][key] == stored["metadata"][key]
        # An error answer in protobuf is read as one too.
        again = kubectl("create", "configmap", "printed", check=False)
        assert again.returncode != 0
        assert 'configmaps "printed" already exists' in again.stderr
        # Reading stays JSON and Tables.
        doc = yaml.safe_load(kubectl("get", "deployment", "web", "-o", "yaml").stdout)
        assert doc["spec"]["replicas"] == 2
        table = kubectl("get", "secrets").stdout.splitlines()
        assert table[0].split() == ["NAME", "TYPE", "DATA", "AGE"]
    finally:
        httpx.delete(f"{apiserver.url}/api/v1/namespaces/ns-{suffix}", verify=apiserver.verify)
