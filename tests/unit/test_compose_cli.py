"""The host side of the compose cluster that needs no Docker: which images a pod would
still pull after ``navarch image load``, when a node's Lease counts as fresh, and the
PKI each service mounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from cli import composepki
from cli.compose import _after
from cli.imageload import pulls_by_default, warnings
from pki import bootstraptoken as bt


@pytest.mark.parametrize(
    ("image", "pulls"),
    [
        ("busybox", True),
        ("busybox:latest", True),
        ("registry.local:5000/team/app", True),
        ("registry.local:5000/team/app:latest", True),
        ("navarch/sample-web:1", False),
        ("registry.local:5000/team/app:2", False),
        ("busybox@sha256:" + "a" * 64, False),
    ],
)
def test_latest_or_untagged_images_are_pulled_by_default(image: str, pulls: bool) -> None:
    assert pulls_by_default(image) is pulls


def pod(name: str, image: str, policy: str | None, init: bool = False) -> dict:
    container = {"name": "c", "image": image} | ({"imagePullPolicy": policy} if policy else {})
    key = "initContainers" if init else "containers"
    return {"metadata": {"namespace": "ns", "name": name}, "spec": {key: [container]}}


def test_warnings_name_latest_images_and_pods_that_always_pull() -> None:
    pods = [
        pod("always", "docker.io/library/app:1", "Always"),
        pod("init-always", "app:1", "Always", init=True),
        pod("if-present", "app:1", "IfNotPresent"),
        pod("other-image", "other:1", "Always"),
    ]
    found = warnings(["app:1", "tool"], pods)
    assert len(found) == 3
    assert "tool is tagged ':latest'" in found[0]
    assert "pod ns/always container c has imagePullPolicy: Always" in found[1]
    assert "pod ns/init-always" in found[2]


def test_no_warning_for_a_tagged_image_no_pod_pulls() -> None:
    assert warnings(["app:1"], [pod("p", "app:1", None)]) == []


def test_a_lease_renewed_before_the_start_is_not_fresh() -> None:
    since = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert _after("2026-01-01T12:00:00.000001Z", since)
    assert _after("2026-01-01T12:00:00Z", since)
    assert not _after("2026-01-01T11:59:59.999999Z", since)
    assert not _after(None, since)
    assert not _after("yesterday", since)


def test_the_compose_pki_gives_each_service_only_its_own_files(tmp_path: Path) -> None:
    from cryptography import x509

    state = tmp_path / "state"
    lines: list[str] = []
    first, token = composepki.ensure(state, "10.120.7", 7443, lines.append)
    assert any(o.action == "created" for o in first) and lines[0].startswith("pki: ")
    mounts = state / "mounts"
    # A node gets only what `navarch join` takes: no key, no certificate of the host's.
    assert sorted(p.name for p in (mounts / "node-2").iterdir()) == ["ca-cert-hash", "token"]
    assert (mounts / "node-2" / "token").read_text() == f"{token.token}\n"
    ca_hash = bt.ca_cert_hash((state / "pki" / "ca.crt").read_bytes())
    assert (mounts / "node-2" / "ca-cert-hash").read_text() == f"{ca_hash}\n"
    for path in mounts.rglob("*"):
        if path.parent.name.startswith("node-"):
            assert b"PRIVATE KEY" not in path.read_bytes(), path
    assert sorted(p.name for p in (mounts / "haproxy").iterdir()) == ["ca.crt"]
    assert "sa.key" in {p.name for p in (mounts / "apiserver-1").iterdir()}
    assert not (mounts / "etcd-1" / "sa.key").exists()

    def sans(path: Path) -> list[str]:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        return [str(v) for v in ext.get_values_for_type(x509.IPAddress)] + list(
            ext.get_values_for_type(x509.DNSName)
        )

    api = sans(mounts / "apiserver-2" / "apiserver.crt")
    for name in ("10.120.7.2", "10.120.7.6", "10.120.7.7", "127.0.0.1", "10.96.0.1", "haproxy"):
        assert name in api
    assert "10.120.7.4" in sans(mounts / "etcd-2" / "peer.crt")
    scheduler = yaml.safe_load((mounts / "scheduler" / "scheduler.conf").read_text())
    assert scheduler["clusters"][0]["cluster"]["server"] == "https://10.120.7.2:6443"
    admin = yaml.safe_load(composepki.admin_kubeconfig(state).read_text())
    assert admin["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:7443"
    assert "client-certificate-data" in admin["users"][0]["user"]
    for path in [state, *state.rglob("*")]:
        assert path.stat().st_mode & 0o077 == 0, path
    # Kept across runs: nothing is made again.
    (mounts / "node-2" / "kubelet.key").write_text("left by an earlier version")
    again, same = composepki.ensure(state, "10.120.7", 7443, lines.append)
    assert {o.action for o in again} == {"kept"}
    assert same == token
    assert not (mounts / "node-2" / "kubelet.key").exists()


def test_the_bootstrap_token_is_kept_until_it_nears_its_expiry(tmp_path: Path) -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    first = composepki.ensure_token(tmp_path, now)
    assert first.expires == now + bt.DEFAULT_TTL and first.issued == now
    assert (tmp_path / composepki.TOKEN_FILE).stat().st_mode & 0o077 == 0
    later = now + bt.DEFAULT_TTL - composepki.TOKEN_RENEW - timedelta(seconds=1)
    assert composepki.ensure_token(tmp_path, later) == first
    renewed = composepki.ensure_token(tmp_path, later + timedelta(seconds=2))
    assert renewed.token != first.token
    assert renewed.expires == later + timedelta(seconds=2) + bt.DEFAULT_TTL
    (tmp_path / composepki.TOKEN_FILE).write_text("{not json")
    assert composepki.ensure_token(tmp_path, now).token not in (first.token, renewed.token)
