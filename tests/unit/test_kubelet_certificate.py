"""The kubelet's client certificate: rotation deadline, storage, kubeconfig, the
request loop against a fake apiserver, and a rotated certificate reaching the client."""

from __future__ import annotations

import base64
import datetime
import ssl
from pathlib import Path
from typing import Any

import pytest

from apiclient import ClientConfig, errors, load_config
from kubelet import certificate as kc
from pki import csr as pkicsr
from pki import x509 as pkix

NOW = pkix.utcnow().replace(microsecond=0)  # certificates keep whole seconds
CA = pkix.make_ca(pkix.CASpec("ca", "kubernetes"), now=NOW)


def _cert(key: pkix.PrivateKey, *, start: datetime.datetime, hours: float) -> bytes:
    request = pkicsr.parse_request(pkicsr.make_request(key, "system:node:n1", ("system:nodes",)))
    return pkicsr.sign_request(
        request, CA, ["digital signature", "client auth"],
        now=start + pkix.BACKDATE, duration=datetime.timedelta(hours=hours),
    )  # fmt: skip


def test_rotation_is_due_between_70_and_90_percent_of_the_life() -> None:
    cert = pkix.x509.load_pem_x509_certificate(_cert(pkix.new_key(), start=NOW, hours=1))
    assert kc.rotation_deadline(cert, lambda: 0.0) == NOW + datetime.timedelta(minutes=42)
    assert kc.rotation_deadline(cert, lambda: 1.0) == NOW + datetime.timedelta(minutes=54)


def test_the_request_name_follows_the_key_and_node() -> None:
    key = pkix.new_key()
    assert kc.request_name(key, "n1") == kc.request_name(key, "n1")
    assert kc.request_name(key, "n1") != kc.request_name(key, "n2")
    assert kc.request_name(key, "n1") != kc.request_name(pkix.new_key(), "n1")
    assert kc.request_name(key, "n1").startswith("node-csr-")


def test_store_links_the_newest_and_the_kubeconfig_uses_it(tmp_path: Path) -> None:
    key = pkix.new_key()
    first = kc.store(tmp_path / "pki", _cert(key, start=NOW, hours=1), key)
    target = first.resolve()
    second = kc.store(tmp_path / "pki", _cert(key, start=NOW, hours=2), key)
    assert first == second and second.resolve() != target
    assert (second.resolve().stat().st_mode & 0o777) == 0o600
    assert kc.read_pair(second) is not None
    (tmp_path / "ca.crt").write_bytes(CA.cert_pem)
    boot = ClientConfig(server="https://127.0.0.1:6443", ca_file=str(tmp_path / "ca.crt"))
    conf = tmp_path / "kubelet.conf"
    kc.write_node_kubeconfig(conf, boot, second)
    loaded = load_config(conf)
    assert loaded.server == boot.server and loaded.client_cert_file == str(second)
    assert kc.kubeconfig_usable(conf)
    assert not kc.kubeconfig_usable(tmp_path / "missing.conf")


def test_an_expired_certificate_makes_the_kubeconfig_unusable(tmp_path: Path) -> None:
    key = pkix.new_key()
    link = kc.store(tmp_path, _cert(key, start=NOW - datetime.timedelta(hours=3), hours=1), key)
    conf = tmp_path / "kubelet.conf"
    kc.write_node_kubeconfig(conf, ClientConfig(server="https://127.0.0.1:6443"), link)
    assert not kc.kubeconfig_usable(conf)


def test_a_rotated_certificate_reaches_every_context(tmp_path: Path) -> None:
    key = pkix.new_key()
    old = kc.store(tmp_path / "a", _cert(key, start=NOW, hours=1), key)
    config = ClientConfig(server="https://127.0.0.1:6443", client_cert_file=str(old),
                          client_key_file=str(old))  # fmt: skip
    ctx = config.ssl_context()
    assert isinstance(ctx, ssl.SSLContext)
    new = kc.store(tmp_path / "b", _cert(key, start=NOW, hours=2), key)
    config.use_client_certificate(str(new), str(new))
    assert config.client_cert_file == str(new)
    (tmp_path / "b" / kc.CURRENT).unlink()
    with pytest.raises(FileNotFoundError):  # it reads the files it is given
        config.use_client_certificate(str(new), str(new))


class FakeCSRs:
    def __init__(self, answers: list[dict[str, Any]]) -> None:
        self.answers = answers
        self.created: list[dict[str, Any]] = []

    async def create_raw(self, resource: Any, body: dict[str, Any]) -> dict[str, Any]:
        if self.created:
            raise errors.AlreadyExistsError({"code": 409, "message": "exists"})
        self.created.append(body)
        return body

    async def get_raw(self, resource: Any, name: str) -> dict[str, Any]:
        status = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return self.created[0] | {"status": status}


async def test_request_certificate_waits_for_the_certificate() -> None:
    key = pkix.new_key()
    cert = _cert(key, start=NOW, hours=1)
    api = FakeCSRs([{}, {"conditions": [{"type": "Approved", "status": "True"}]},
                    {"certificate": base64.b64encode(cert).decode()}])  # fmt: skip
    got = await kc.request_certificate(api, "n1", key, poll=0)  # type: ignore[arg-type]
    assert got == cert
    (body,) = api.created
    assert body["spec"]["signerName"] == "kubernetes.io/kube-apiserver-client-kubelet"
    assert body["spec"]["usages"] == ["digital signature", "client auth"]
    subject = pkicsr.subject(pkicsr.parse_request(base64.b64decode(body["spec"]["request"])))
    assert subject == ("system:node:n1", ["system:nodes"])
    # Asking again with the same key finds the same request.
    again = await kc.request_certificate(api, "n1", key, poll=0)  # type: ignore[arg-type]
    assert again == cert and len(api.created) == 1


async def test_a_denied_request_is_an_error() -> None:
    api = FakeCSRs([{"conditions": [{"type": "Denied", "status": "True", "reason": "No"}]}])
    with pytest.raises(kc.CertificateRequestError, match="denied: No"):
        await kc.request_certificate(api, "n1", pkix.new_key(), poll=0)  # type: ignore[arg-type]
    slow = FakeCSRs([{}])
    with pytest.raises(kc.CertificateRequestError, match="no certificate"):
        await kc.request_certificate(slow, "n1", pkix.new_key(), timeout=0, poll=0)  # type: ignore[arg-type]


def test_a_restarted_kubelet_prefers_its_rotated_certificate(tmp_path: Path) -> None:
    key = pkix.new_key()
    old = kc.store(tmp_path / "old", _cert(key, start=NOW, hours=1), key)
    config = ClientConfig(server="https://x", client_cert_file=str(old), client_key_file=str(old))
    kc.prefer_rotated(config, tmp_path / "pki")  # nothing rotated yet
    assert config.client_cert_file == str(old)
    rotated = kc.store(tmp_path / "pki", _cert(key, start=NOW, hours=2), key)
    kc.prefer_rotated(config, tmp_path / "pki")
    assert config.client_cert_file == config.client_key_file == str(rotated)


async def test_a_serving_request_names_the_host_and_its_signer() -> None:
    key = pkix.new_key()
    cert = _cert(key, start=NOW, hours=1)
    api = FakeCSRs([{"certificate": base64.b64encode(cert).decode()}])
    kind = kc.serving_kind(("n1",), ("10.0.0.1",))
    await kc.request_certificate(api, "n1", key, poll=0, kind=kind)  # type: ignore[arg-type]
    (body,) = api.created
    assert body["spec"]["signerName"] == "kubernetes.io/kubelet-serving"
    assert body["spec"]["usages"] == ["digital signature", "server auth"]
    request = pkicsr.parse_request(base64.b64decode(body["spec"]["request"]))
    assert pkicsr.alt_names(request)[:2] == (["n1"], ["10.0.0.1"])
    assert kc.request_name(key, "n1", kind) != kc.request_name(key, "n1")
