"""Encryption at rest with a real apiserver and real etcd: with
``--encryption-provider-config``, what etcd holds for a Secret starts with
``k8s:enc:aescbc:v1:key1:`` and shows none of its data (ConfigMaps under ``secretbox``
alike), while the API reads it as written; after a key rotation (a new ``aesgcm`` key
first, the old one second, the apiserver restarted) old values still read and a rewrite
moves them to the new key. The raw values are read with the real ``etcdctl get``."""

from __future__ import annotations

import base64
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from testkit.processes import ApiServerProcess

pytestmark = pytest.mark.integration

KEY1 = base64.b64encode(b"k" * 32).decode()
KEY2 = base64.b64encode(b"n" * 32).decode()
BOX = base64.b64encode(b"b" * 32).decode()


def _config(path: Path, *secret_providers: dict[str, Any]) -> str:
    doc = {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "EncryptionConfiguration",
        "resources": [
            {"resources": ["secrets"], "providers": [*secret_providers, {"identity": {}}]},
            {
                "resources": ["configmaps"],
                "providers": [{"secretbox": {"keys": [{"name": "box", "secret": BOX}]}}],
            },
        ],
    }
    path.write_text(yaml.safe_dump(doc))
    path.chmod(0o600)
    return str(path)


def _aescbc(name: str, secret: str) -> dict[str, Any]:
    return {"aescbc": {"keys": [{"name": name, "secret": secret}]}}


def _aesgcm(name: str, secret: str) -> dict[str, Any]:
    return {"aesgcm": {"keys": [{"name": name, "secret": secret}]}}


def _raw(etcd: str, key: str) -> bytes:
    """What ``etcdctl get`` shows for ``key``: the bytes etcd holds."""
    shown = subprocess.run(
        ["etcdctl", "--endpoints", etcd, "get", key, "--print-value-only"],
        capture_output=True, timeout=30, check=True,
    )  # fmt: skip
    assert shown.stdout, key
    return shown.stdout.removesuffix(b"\n")


def _start(etcd: str, log_dir: Path, prefix: str, config: str) -> ApiServerProcess:
    proc = ApiServerProcess.create(
        etcd, log_dir, "--etcd-prefix", prefix, "--encryption-provider-config", config
    )
    proc.start()
    return proc


def test_secrets_are_stored_encrypted_and_keys_rotate(etcd: str, tmp_path: Path) -> None:
    prefix = f"/enc-{uuid.uuid4().hex[:8]}"
    config = _config(tmp_path / "enc.yaml", _aescbc("key1", KEY1))
    password = base64.b64encode(b"hunter2-very-secret").decode()
    proc = _start(etcd, tmp_path, prefix, config)
    try:
        with proc.client(timeout=30) as api:
            secret = {"metadata": {"name": "db"}, "data": {"password": password}}
            resp = api.post("/api/v1/namespaces/default/secrets", json=secret)
            assert resp.status_code == 201, resp.text
            cm = {"metadata": {"name": "settings"}, "data": {"mode": "plain-text-setting"}}
            resp = api.post("/api/v1/namespaces/default/configmaps", json=cm)
            assert resp.status_code == 201, resp.text
            got = api.get("/api/v1/namespaces/default/secrets/db").json()
            assert got["data"]["password"] == password
            listed = api.get("/api/v1/namespaces/default/secrets").json()["items"]
            assert [s["data"]["password"] for s in listed if s["metadata"]["name"] == "db"] == [
                password
            ]
    finally:
        proc.stop()
    raw = _raw(etcd, f"{prefix}/secrets/default/db")
    assert raw.startswith(b"k8s:enc:aescbc:v1:key1:")
    assert password.encode() not in raw and b"hunter2" not in raw and b'"db"' not in raw
    raw_cm = _raw(etcd, f"{prefix}/configmaps/default/settings")
    assert raw_cm.startswith(b"k8s:enc:secretbox:v1:box:")
    assert b"plain-text-setting" not in raw_cm

    # Rotation: the new key first, the old one still listed.
    config = _config(tmp_path / "enc.yaml", _aesgcm("key2", KEY2), _aescbc("key1", KEY1))
    proc = _start(etcd, tmp_path, prefix, config)
    try:
        with proc.client(timeout=30) as api:
            path = "/api/v1/namespaces/default/secrets/db"
            current = api.get(path).json()
            assert current["data"]["password"] == password
            # Rewriting (what `kubectl replace` of every Secret does) moves it to key2.
            current["metadata"]["labels"] = {"rotated": "yes"}
            assert api.put(path, json=current).status_code == 200
    finally:
        proc.stop()
    assert _raw(etcd, f"{prefix}/secrets/default/db").startswith(b"k8s:enc:aesgcm:v1:key2:")
