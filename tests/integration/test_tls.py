"""TLS on every hop, for real: etcd with mutual TLS (a client without a certificate of
etcd's CA gets nothing), the apiserver over HTTPS with the cluster's certificates, used
unchanged by the real kubectl, navctl and the official Python client through the
kubeconfigs the PKI writes; the apiserver reaches kubelets only at addresses it may dial,
over HTTPS, and only a kubelet whose certificate names that node."""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from apiserver.storage.etcd import EtcdConfig, EtcdStorage
from apiserver.storage.interface import StorageError
from testkit.secure import SecureControlPlane

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureControlPlane]:
    plane = SecureControlPlane.start(tmp_path_factory.mktemp("tls"))
    yield plane
    plane.stop()


def test_etcd_refuses_clients_without_its_certificates(cluster: SecureControlPlane) -> None:
    pki = cluster.pki_dir

    async def read(config: EtcdConfig) -> int:
        storage = EtcdStorage(config)
        try:
            return await storage.current_revision()
        finally:
            await storage.close()

    with_cert = EtcdConfig(
        servers=[cluster.etcd.url],
        ca_file=str(pki / "etcd/ca.crt"),
        cert_file=str(pki / "apiserver-etcd-client.crt"),
        key_file=str(pki / "apiserver-etcd-client.key"),
        request_timeout=5,
    )
    assert asyncio.run(read(with_cert)) > 0
    # A client certificate of the cluster CA (not etcd's) is refused.
    wrong_ca = EtcdConfig(
        servers=[cluster.etcd.url],
        ca_file=str(pki / "etcd/ca.crt"),
        cert_file=str(pki / "users/admin.crt"),
        key_file=str(pki / "users/admin.key"),
        request_timeout=5,
    )
    with pytest.raises(StorageError):
        asyncio.run(read(wrong_ca))
    with pytest.raises(httpx.HTTPError):
        httpx.get(cluster.etcd.url.replace("https", "http") + "/health", timeout=3)


def test_apiserver_serves_https_for_its_names(cluster: SecureControlPlane) -> None:
    for host in ("127.0.0.1", "localhost"):
        url = cluster.url.replace("127.0.0.1", host)
        resp = httpx.get(f"{url}/version", verify=cluster.tls("admin"), timeout=10)
        assert resp.status_code == 200 and resp.json()["major"] == "1"
    with pytest.raises(httpx.ConnectError):  # the system's CAs do not know ours
        httpx.get(f"{cluster.url}/version", timeout=10)


@pytest.mark.kubectl
def test_kubectl_with_the_written_kubeconfig(cluster: SecureControlPlane) -> None:
    name = f"tls-{uuid.uuid4().hex[:6]}"
    kubeconfig = str(cluster.kubeconfig("admin"))
    manifest = json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    run = subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, "create", "-f", "-"],
        input=manifest, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    got = subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, "get", "namespace", name, "-o", "json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["metadata"]["name"] == name


def test_navctl_and_the_official_client_with_the_written_kubeconfig(
    cluster: SecureControlPlane,
) -> None:
    from kubernetes import client, config

    kubeconfig = cluster.kubeconfig("admin")
    name = f"tls-{uuid.uuid4().hex[:6]}"
    navctl = Path(sys.executable).with_name("navctl")
    made = subprocess.run(
        [str(navctl), "--kubeconfig", str(kubeconfig), "create", "namespace", name],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    api = config.new_client_from_config(config_file=str(kubeconfig))
    try:
        names = [ns.metadata.name for ns in client.CoreV1Api(api).list_namespace().items]
    finally:
        api.close()
    assert name in names


def test_a_client_certificate_of_another_ca_is_refused(
    cluster: SecureControlPlane, tmp_path: Path
) -> None:
    import pki
    from pki.certlist import ClusterPKIConfig

    pki.ensure(tmp_path / "other", ClusterPKIConfig())
    ctx = ssl.create_default_context(cafile=cluster.pki_dir / "ca.crt")
    ctx.load_cert_chain(tmp_path / "other/users/admin.crt", tmp_path / "other/users/admin.key")
    with pytest.raises((httpx.HTTPError, ssl.SSLError)):
        httpx.get(f"{cluster.url}/api/v1/namespaces", verify=ctx, timeout=10)


def _fake_node(api: httpx.Client, name: str, address: str, port: int) -> None:
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
    }
    assert api.post("/api/v1/nodes", json=node).status_code == 201
    status = {
        "status": {
            "addresses": [{"type": "InternalIP", "address": address}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
        }
    }
    resp = api.patch(
        f"/api/v1/nodes/{name}/status",
        content=json.dumps(status),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert resp.status_code == 200, resp.text


def _bound_pod(api: httpx.Client, node: str) -> str:
    name = f"p-{uuid.uuid4().hex[:6]}"
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]},
    }
    resp = api.post("/api/v1/namespaces/default/pods", json=pod)
    assert resp.status_code == 201, resp.text
    return name


def test_the_apiserver_does_not_dial_what_a_node_status_names(
    cluster: SecureControlPlane,
) -> None:
    etcd_port = cluster.etcd.client_port
    with cluster.client("admin") as api:
        # A Node claiming etcd's port on loopback (allowed here, as for a local cluster):
        # the TLS handshake finds a certificate of etcd's CA, not a kubelet's.
        node = f"evil-{uuid.uuid4().hex[:6]}"
        _fake_node(api, node, "127.0.0.1", etcd_port)
        pod = _bound_pod(api, node)
        resp = api.get(f"/api/v1/namespaces/default/pods/{pod}/log")
        assert resp.status_code >= 400
        assert "certificate" in resp.text.lower() or "error dialing backend" in resp.text
        # Link-local addresses (cloud metadata services) are never dialled.
        node = f"meta-{uuid.uuid4().hex[:6]}"
        _fake_node(api, node, "169.254.169.254", 80)
        pod = _bound_pod(api, node)
        resp = api.get(f"/api/v1/namespaces/default/pods/{pod}/log")
        assert resp.status_code == 400
        assert "does not dial" in resp.json()["message"]
