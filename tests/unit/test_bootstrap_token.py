"""``pki.bootstraptoken``: token format, the Secret kubeadm writes, the CA cert hash and
the detached JWS of cluster-info, against Kubernetes' own test vector and openssl."""

from __future__ import annotations

import datetime
import shutil
import subprocess
from pathlib import Path

import pytest

import pki
from pki import bootstraptoken as bt
from pki.certlist import ClusterPKIConfig

# Kubernetes' test vector (cluster-bootstrap/token/jws/jws_test.go).
CONTENT = "Hello from the other side. I must have called a thousand times."
VECTOR = bt.Token("joshua", "my voice is my passcode")
SIGNATURE = "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8"


def test_generated_tokens_have_the_bootstrap_form_and_differ() -> None:
    a, b = bt.generate(), bt.generate()
    assert bt.TOKEN_RE.match(str(a)) and bt.TOKEN_RE.match(str(b))
    assert a != b
    assert bt.parse(str(a)) == a
    assert a.secret_name == f"bootstrap-token-{a.id}"


@pytest.mark.parametrize("text", ["abcdef.0123456789abcdeF", "abcde.0123456789abcdef", "", "x"])
def test_malformed_tokens_are_refused_without_echoing_them(text: str) -> None:
    with pytest.raises(bt.TokenError) as err:
        bt.parse(text)
    assert text not in str(err.value) or not text


def test_secret_is_kubeadms() -> None:
    token = bt.parse("abcdef.0123456789abcdef")
    now = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    secret = bt.secret_manifest(token, now=now)
    data = secret["stringData"]
    assert isinstance(data, dict)
    assert secret["type"] == "bootstrap.kubernetes.io/token"
    assert secret["metadata"] == {"name": "bootstrap-token-abcdef", "namespace": "kube-system"}
    assert data["expiration"] == "2026-01-03T03:04:05Z"
    assert data["usage-bootstrap-authentication"] == data["usage-bootstrap-signing"] == "true"
    assert data["auth-extra-groups"] == "system:bootstrappers:kubeadm:default-node-token"
    assert (data["token-id"], data["token-secret"]) == ("abcdef", "0123456789abcdef")
    parsed = bt.expiration({"expiration": data["expiration"].encode()})
    assert parsed == now + datetime.timedelta(hours=24)


def test_detached_jws_matches_kubernetes() -> None:
    assert bt.sign_detached(CONTENT, VECTOR) == SIGNATURE
    assert bt.verify_detached(SIGNATURE, CONTENT, VECTOR)
    assert not bt.verify_detached(SIGNATURE + "foo", CONTENT, VECTOR)
    assert not bt.verify_detached(SIGNATURE, CONTENT + " ", VECTOR)
    assert not bt.verify_detached(SIGNATURE, CONTENT, bt.Token("joshua", "another secret"))
    # Another token id in the header, or not detached: refused.
    assert not bt.verify_detached(SIGNATURE, CONTENT, bt.Token("joshub", VECTOR.secret))
    header, _, sig = SIGNATURE.partition("..")
    assert not bt.verify_detached(f"{header}.e30.{sig}", CONTENT, VECTOR)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl")
def test_ca_hash_is_what_the_openssl_pipeline_of_docs_aws_gives(tmp_path: Path) -> None:
    pki.ensure(tmp_path, ClusterPKIConfig())
    ca = tmp_path / "ca.crt"
    pub = subprocess.run(
        ["openssl", "x509", "-pubkey", "-noout", "-in", str(ca)], check=True, capture_output=True
    ).stdout
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "der"], input=pub, check=True, capture_output=True
    ).stdout
    import hashlib

    assert bt.ca_cert_hash(ca.read_bytes()) == "sha256:" + hashlib.sha256(der).hexdigest()
    assert bt.parse_ca_hash(bt.ca_cert_hash(ca.read_bytes()).upper().replace("SHA256", "sha256"))
    with pytest.raises(bt.TokenError, match="sha256:<64 hex digits>"):
        bt.parse_ca_hash("sha256:abc")
