"""Pod volumes on the host: atomic ConfigMap/Secret writes, downward API, mounts."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from apitypes.core import ConfigMap, Pod, Secret
from kubelet.envvars import PodContext
from kubelet.volumes import DATA_DIR, AtomicWriter, FileEntry, VolumeError, VolumeManager


def _pod(volumes: list[dict], mounts: list[dict]) -> Pod:
    return Pod.model_validate(
        {
            "metadata": {"name": "p", "namespace": "ns", "uid": "uid-9", "labels": {"a": "1"}},
            "spec": {
                "nodeName": "n1",
                "volumes": volumes,
                "containers": [{"name": "c", "image": "i:1", "volumeMounts": mounts}],
            },
        }
    )


def _ctx(data: dict[str, str] | None = None) -> PodContext:
    cm = ConfigMap.model_validate(
        {"metadata": {"name": "cm"}, "data": data or {"a.conf": "A=1", "b.conf": "B=2"}}
    )
    secret = Secret.model_validate(
        {"metadata": {"name": "sec"}, "data": {"token": base64.b64encode(b"t0k").decode()}}
    )
    return PodContext(node_name="n1", config_maps={"cm": cm}, secrets={"sec": secret})


def test_atomic_writer_swaps_whole_payloads(tmp_path: Path) -> None:
    target = tmp_path / "vol"
    writer = AtomicWriter(target)
    assert writer.write({"x": FileEntry(b"1", 0o644), "dir/y": FileEntry(b"2", 0o600)})
    assert (target / "x").read_bytes() == b"1"
    assert (target / "dir" / "y").read_bytes() == b"2"
    assert (target / "x").is_symlink() and os.readlink(target / "x") == f"{DATA_DIR}/x"
    assert os.stat(target / "dir" / "y").st_mode & 0o777 == 0o600
    first = (target / DATA_DIR).resolve()
    assert not writer.write({"x": FileEntry(b"1", 0o644), "dir/y": FileEntry(b"2", 0o600)})
    assert (target / DATA_DIR).resolve() == first
    assert writer.write({"x": FileEntry(b"changed", 0o644)})
    assert (target / "x").read_bytes() == b"changed"
    assert not (target / "dir").exists()
    assert not first.exists()
    with pytest.raises(VolumeError):
        writer.write({"../escape": FileEntry(b"", 0o644)})


def test_config_map_secret_and_downward_volumes(tmp_path: Path) -> None:
    pod = _pod(
        [
            {
                "name": "conf",
                "configMap": {
                    "name": "cm",
                    "items": [{"key": "a.conf", "path": "app/a.conf", "mode": 0o400}],
                },
            },
            {"name": "creds", "secret": {"secretName": "sec", "defaultMode": 0o440}},
            {
                "name": "info",
                "downwardAPI": {
                    "items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]
                },
            },
            {"name": "scratch", "emptyDir": {}},
        ],
        [
            {"name": "conf", "mountPath": "/etc/app"},
            {"name": "creds", "mountPath": "/creds"},
            {"name": "info", "mountPath": "/info"},
            {"name": "scratch", "mountPath": "/scratch"},
            {"name": "conf", "mountPath": "/etc/a.conf", "subPath": "app/a.conf"},
        ],
    )
    manager = VolumeManager(tmp_path)
    paths = manager.setup(pod, _ctx())
    conf = Path(paths["conf"])
    assert (conf / "app" / "a.conf").read_text() == "A=1"
    assert not (conf / "b.conf").exists()
    assert os.stat(conf / "app" / "a.conf").st_mode & 0o777 == 0o400
    creds = Path(paths["creds"])
    assert (creds / "token").read_bytes() == b"t0k"
    assert os.stat(creds / "token").st_mode & 0o777 == 0o440
    assert (Path(paths["info"]) / "labels").read_text() == 'a="1"'
    assert Path(paths["scratch"]).is_dir()
    mounts = manager.mounts(pod, pod.spec.containers[0], paths, {})
    by_path = {m.container_path: m for m in mounts}
    assert by_path["/etc/app"].read_only and by_path["/creds"].read_only
    assert not by_path["/scratch"].read_only
    # A subPath of an atomically written volume points at the real file.
    assert by_path["/etc/a.conf"].host_path == os.path.realpath(conf / "app" / "a.conf")
    # An update of the ConfigMap shows in the same directory.
    manager.setup(pod, _ctx({"a.conf": "A=2"}))
    assert (conf / "app" / "a.conf").read_text() == "A=2"
    manager.cleanup("uid-9")
    assert not manager.pod_dir("uid-9").exists()


def test_missing_objects_and_keys(tmp_path: Path) -> None:
    manager = VolumeManager(tmp_path)
    missing = _pod([{"name": "v", "configMap": {"name": "absent"}}], [])
    with pytest.raises(VolumeError, match='configmap "absent" not found'):
        manager.setup(missing, _ctx())
    optional = _pod([{"name": "v", "configMap": {"name": "absent", "optional": True}}], [])
    assert Path(manager.setup(optional, _ctx())["v"]).is_dir()
    bad_key = _pod(
        [{"name": "v", "configMap": {"name": "cm", "items": [{"key": "zz", "path": "z"}]}}], []
    )
    with pytest.raises(VolumeError, match="non-existent key: zz"):
        manager.setup(bad_key, _ctx())
    unsupported = _pod([{"name": "v", "nfs": {"server": "s", "path": "/x"}}], [])
    with pytest.raises(VolumeError, match="not supported"):
        manager.setup(unsupported, _ctx())


def test_host_path_types(tmp_path: Path) -> None:
    manager = VolumeManager(tmp_path)
    new_dir = tmp_path / "made" / "here"
    pod = _pod([{"name": "h", "hostPath": {"path": str(new_dir), "type": "DirectoryOrCreate"}}], [])
    assert manager.setup(pod, _ctx())["h"] == str(new_dir)
    assert new_dir.is_dir()
    pod = _pod(
        [{"name": "h", "hostPath": {"path": str(tmp_path / "nope"), "type": "Directory"}}], []
    )
    with pytest.raises(VolumeError, match="not a Directory"):
        manager.setup(pod, _ctx())


def test_secret_files_are_never_world_readable(tmp_path: Path) -> None:
    pod = _pod(
        [
            {"name": "plain", "secret": {"secretName": "sec"}},
            {"name": "loose", "secret": {"secretName": "sec", "defaultMode": 0o644}},
            {
                "name": "item",
                "secret": {
                    "secretName": "sec",
                    "items": [{"key": "token", "path": "t", "mode": 0o666}],
                },
            },
            {"name": "proj", "projected": {"sources": [{"secret": {"name": "sec"}}]}},
            {"name": "conf", "configMap": {"name": "cm"}},
        ],
        [],
    )
    paths = VolumeManager(tmp_path).setup(pod, _ctx())

    def mode(volume: str, name: str) -> int:
        return os.stat(Path(paths[volume]) / name).st_mode & 0o777

    assert mode("plain", "token") == 0o400
    assert mode("loose", "token") == 0o640
    assert mode("item", "t") == 0o660
    assert mode("proj", "token") == 0o400
    assert mode("conf", "a.conf") == 0o644  # ConfigMaps keep Kubernetes' 0644


def test_a_sub_path_resolving_outside_its_volume_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "host-secrets"
    outside.mkdir()
    (outside / "shadow").write_text("root:x")
    pod = _pod(
        [{"name": "scratch", "emptyDir": {}}],
        [
            {"name": "scratch", "mountPath": "/a", "subPath": "escape/shadow"},
            {"name": "scratch", "mountPath": "/b", "subPath": "escape/new/dir"},
            {"name": "scratch", "mountPath": "/c", "subPath": "inner"},
        ],
    )
    manager = VolumeManager(tmp_path / "kubelet")
    paths = manager.setup(pod, _ctx())
    # What a container could leave in its emptyDir: a symlink to the host.
    (Path(paths["scratch"]) / "escape").symlink_to(outside)
    container = pod.spec.containers[0]  # type: ignore[union-attr]
    for mount in container.volume_mounts[:2]:
        one = container.model_copy(update={"volume_mounts": [mount]})
        with pytest.raises(VolumeError, match="resolves outside its volume"):
            manager.mounts(pod, one, paths, {})
    assert not (outside / "new").exists()  # nothing was made out there
    inner = container.model_copy(update={"volume_mounts": container.volume_mounts[2:]})
    (mount,) = manager.mounts(pod, inner, paths, {})
    assert mount.host_path == os.path.realpath(Path(paths["scratch"]) / "inner")
