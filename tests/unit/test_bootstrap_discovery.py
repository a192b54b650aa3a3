"""``navarch join``'s discovery: cluster-info is trusted only with a valid JWS by the
token, a CA matching the pinned hash, and a server that proves the CA over TLS."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest

import pki
from cli.bootstrap import discovery
from pki import bootstraptoken as bt
from pki.certlist import ClusterPKIConfig

TOKEN = bt.parse("abcdef.0123456789abcdef")


@pytest.fixture(scope="module")
def ca_pem(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    root = tmp_path_factory.mktemp("pki")
    pki.ensure(root, ClusterPKIConfig())
    return (root / "ca.crt").read_bytes()


def _serve(monkeypatch: pytest.MonkeyPatch, insecure: dict[str, str] | None,
           verified: dict[str, str] | None = None) -> list[bool]:  # fmt: skip
    """Answer cluster-info with ``insecure`` (no verification) and ``verified`` (with
    the CA); records whether each fetch verified the server."""
    calls: list[bool] = []

    def fetch(endpoint: str, verify: ssl.SSLContext) -> dict[str, str] | None:
        checked = verify.verify_mode == ssl.CERT_REQUIRED
        calls.append(checked)
        return (verified if verified is not None else insecure) if checked else insecure

    monkeypatch.setattr(discovery, "_fetch", fetch)
    return calls


def _signed(ca_pem: bytes, token: bt.Token = TOKEN) -> dict[str, Any]:
    content = discovery.cluster_info_kubeconfig("https://10.0.1.10:6443", ca_pem)
    return {"kubeconfig": content, f"jws-kubeconfig-{token.id}": bt.sign_detached(content, token)}


def test_a_signed_cluster_info_with_the_pinned_ca_is_trusted(
    monkeypatch: pytest.MonkeyPatch, ca_pem: bytes
) -> None:
    calls = _serve(monkeypatch, _signed(ca_pem))
    found = discovery.discover(
        "10.0.1.10:6443", TOKEN, bt.ca_cert_hash(ca_pem), echo=lambda _: None
    )
    assert found.server == "https://10.0.1.10:6443"
    assert found.ca_pem == ca_pem
    assert calls == [False, True]  # then fetched again, verifying the server
    doc = discovery.bootstrap_kubeconfig(found, TOKEN)
    assert doc["users"][0]["user"] == {"token": str(TOKEN)}


def test_another_ca_is_refused(monkeypatch: pytest.MonkeyPatch, ca_pem: bytes) -> None:
    _serve(monkeypatch, _signed(ca_pem))
    pinned = "sha256:" + "0" * 64
    with pytest.raises(discovery.DiscoveryError, match="not the pinned one"):
        discovery.discover("h:6443", TOKEN, pinned, echo=lambda _: None)


def test_a_signature_by_another_token_is_refused(
    monkeypatch: pytest.MonkeyPatch, ca_pem: bytes
) -> None:
    forged = _signed(ca_pem, bt.parse("abcdef.ffffffffffffffff"))
    _serve(monkeypatch, forged)
    with pytest.raises(discovery.DiscoveryError, match="cannot be trusted"):
        discovery.discover("h:6443", TOKEN, bt.ca_cert_hash(ca_pem), echo=lambda _: None)


def test_no_signature_for_the_token_times_out_saying_so(
    monkeypatch: pytest.MonkeyPatch, ca_pem: bytes
) -> None:
    unsigned = {"kubeconfig": discovery.cluster_info_kubeconfig("https://h:6443", ca_pem)}
    _serve(monkeypatch, unsigned)
    with pytest.raises(discovery.DiscoveryError, match=r"no JWS signed token .* 'abcdef'"):
        discovery.discover("h:6443", TOKEN, bt.ca_cert_hash(ca_pem), timeout=0, echo=lambda _: None)


def test_a_server_that_cannot_prove_the_ca_is_refused(
    monkeypatch: pytest.MonkeyPatch, ca_pem: bytes
) -> None:
    _serve(monkeypatch, _signed(ca_pem), verified={})
    with pytest.raises(discovery.DiscoveryError, match="certificate of the discovered CA"):
        discovery.discover("h:6443", TOKEN, bt.ca_cert_hash(ca_pem), echo=lambda _: None)


def test_cluster_info_is_readable_anonymously_and_nodes_get_proxy_roles(tmp_path: Path) -> None:
    objects = {(path, obj["metadata"]["name"]): obj for path, obj in discovery.rbac_objects()}
    binding = objects[(f"{discovery.RBAC}/namespaces/kube-public/rolebindings",
                       "kubeadm:bootstrap-signer-clusterinfo")]  # fmt: skip
    assert binding["subjects"][0]["name"] == "system:anonymous"
    role = objects[(f"{discovery.RBAC}/namespaces/kube-public/roles",
                    "kubeadm:bootstrap-signer-clusterinfo")]  # fmt: skip
    assert role["rules"] == [{"apiGroups": [""], "resources": ["configmaps"],
                              "resourceNames": ["cluster-info"], "verbs": ["get"]}]  # fmt: skip
    proxier = objects[(f"{discovery.RBAC}/clusterrolebindings", "navarch:node-proxier")]
    assert proxier["roleRef"]["name"] == "system:node-proxier"
    assert proxier["subjects"][0]["name"] == "system:nodes"
