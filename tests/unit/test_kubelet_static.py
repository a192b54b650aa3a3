"""Static pods from a manifest directory, and their mirror pods."""

from __future__ import annotations

from pathlib import Path

from kubelet.static import (
    CONFIG_HASH,
    CONFIG_MIRROR,
    CONFIG_SOURCE,
    default_pull_policy,
    is_mirror,
    mirror_pod,
    read_manifests,
)

MANIFEST = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: c
    image: busybox:1
"""


def test_manifests_become_static_pods(tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(MANIFEST)
    (tmp_path / "broken.yaml").write_text("kind: Pod\nmetadata: {}\n")
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / ".hidden.yaml").write_text(MANIFEST)
    pods = read_manifests(tmp_path, "node-1")
    assert len(pods) == 1
    pod = next(iter(pods.values()))
    assert pod.metadata.name == "web-node-1"
    assert pod.metadata.namespace == "default"
    assert pod.metadata.annotations[CONFIG_HASH] == pod.metadata.uid
    assert pod.metadata.annotations[CONFIG_SOURCE] == "file"
    assert pod.spec.node_name == "node-1"
    assert pod.spec.restart_policy == "Always"
    assert pod.spec.termination_grace_period_seconds == 30
    assert pod.spec.containers[0].image_pull_policy == "IfNotPresent"
    assert any(t.operator == "Exists" and t.effect == "NoExecute" for t in pod.spec.tolerations)
    # The same manifest gives the same uid; an edit gives a new one.
    assert set(read_manifests(tmp_path, "node-1")) == set(pods)
    (tmp_path / "web.yaml").write_text(MANIFEST.replace("busybox:1", "busybox:2"))
    assert set(read_manifests(tmp_path, "node-1")).isdisjoint(pods)
    assert set(read_manifests(tmp_path, "node-2")).isdisjoint(pods)


def test_mirror_pod_points_back_at_its_static_pod(tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(MANIFEST)
    static = next(iter(read_manifests(tmp_path, "node-1").values()))
    mirror = mirror_pod(static, "node-uid")
    assert is_mirror(mirror) and not is_mirror(static)
    assert mirror.metadata.annotations[CONFIG_MIRROR] == static.metadata.uid
    assert mirror.metadata.uid is None
    ref = mirror.metadata.owner_references[0]
    assert (ref.kind, ref.name, ref.uid, ref.controller) == ("Node", "node-1", "node-uid", False)


def test_default_pull_policy() -> None:
    assert default_pull_policy("busybox") == "Always"
    assert default_pull_policy("busybox:latest") == "Always"
    assert default_pull_policy("busybox:1.36") == "IfNotPresent"
    assert default_pull_policy("localhost:5000/busybox") == "Always"
    assert default_pull_policy("busybox@sha256:abc") == "IfNotPresent"
