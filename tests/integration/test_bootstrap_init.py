"""``navarch init`` and ``navarch join`` for real on this machine (supervisor mode:
systemd is not PID 1 here), under temporary roots with free ports, without kube-proxy
or the network agent (they would rewrite this shared host's rules): the token Secret,
cluster-info signed by the controller-manager's bootstrap signer, join's discovery and
TLS bootstrap in-process (a kubelet client certificate the cluster signed), then
``navarch join`` starting a real kubelet that becomes a Ready Node with its client and
serving certificates from approved CSRs. ``navarch reset`` then stops every process."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from apiserver.etcd_server import etcd_binary, free_port
from cli.bootstrap.host import JoinOptions, prepare_join
from cli.bootstrap.layout import Layout
from cli.localcluster import _alive
from kubelet.certificate import bootstrap
from pki import bootstraptoken as bt
from pki.x509 import signed_by

NAVARCH = [sys.executable, "-m", "cli.navarch"]


def _etcd_missing() -> bool:
    try:
        etcd_binary()
    except FileNotFoundError:
        return True
    return False


pytestmark = pytest.mark.skipif(_etcd_missing(), reason="no usable etcd")


def _pids(layout: Layout) -> list[int]:
    found = []
    for path in layout.run.glob("*.pid"):
        with contextlib.suppress(OSError, ValueError):
            found.append(int(path.read_text().strip()))
    return found


def _logs(layout: Layout) -> str:
    return "\n".join(
        f"== {p.name}\n" + "\n".join(p.read_text(errors="replace").splitlines()[-15:])
        for p in sorted(layout.logs.glob("*.log"))
    )


POD_CIDR = "10.251.0.0/16"
"""Not navarch up's 10.244.0.0/16: the joined kubelet makes a Docker network of it."""


@dataclass
class Plane:
    layout: Layout
    port: int
    token: bt.Token
    env: dict[str, str]
    ca_hash: str

    def admin(self) -> httpx.Client:
        pki_dir = self.layout.pki
        ctx = ssl.create_default_context(cafile=pki_dir / "ca.crt")
        ctx.load_cert_chain(pki_dir / "users/admin.crt", pki_dir / "users/admin.key")
        return httpx.Client(base_url=f"https://127.0.0.1:{self.port}", verify=ctx, timeout=10)


def _reset(layout: Layout) -> list[int]:
    """``navarch reset``; the pids that ran."""
    pids = _pids(layout)
    subprocess.run([*NAVARCH, "reset", "--root", str(layout.root)], capture_output=True,
                   timeout=120, check=False)  # fmt: skip
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return pids


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plane]:
    layout = Layout(tmp_path_factory.mktemp("init") / "cp")
    port = free_port()
    token = bt.generate()
    env = {**os.environ, "NAVARCH_BOOTSTRAP_TOKEN": str(token)}
    init = [
        *NAVARCH, "init", "--root", str(layout.root),
        "--apiserver-advertise-address", "127.0.0.1", "--apiserver-bind-port", str(port),
        "--etcd-client-port", str(free_port()), "--etcd-peer-port", str(free_port()),
        "--service-node-port-range", "31000-31999", "--pod-network-cidr", POD_CIDR,
        "--skip-phases", "node", "--init-system", "supervisor", "--node-name", "boot-cp",
        "--timeout", "150",
    ]  # fmt: skip
    try:
        done = subprocess.run(
            init, env=env, capture_output=True, text=True, timeout=240, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr + _logs(layout)
        ca_hash = bt.ca_cert_hash((layout.pki / "ca.crt").read_bytes())
        assert done.stdout.strip().splitlines()[-1] == (
            f"navarch join 127.0.0.1:{port} --token {token} --discovery-token-ca-cert-hash {ca_hash}"
        )
        yield Plane(layout, port, token, env, ca_hash)
    finally:
        pids = _reset(layout)
    assert pids and not [pid for pid in pids if _alive(pid)]
    assert not layout.etc.exists()


def test_init_publishes_a_signed_cluster_info_and_join_gets_a_signed_certificate(
    plane: Plane, tmp_path: Path
) -> None:
    layout, port, token, env = plane.layout, plane.port, plane.token, plane.env
    ca_pem = (layout.pki / "ca.crt").read_bytes()
    ca_hash = plane.ca_hash
    assert layout.admin_conf.stat().st_mode & 0o077 == 0

    # The token's Secret, as kubeadm writes it.
    with plane.admin() as admin:
        secret = admin.get(f"/api/v1/namespaces/kube-system/secrets/{token.secret_name}").json()
    assert secret["type"] == "bootstrap.kubernetes.io/token"
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert data["auth-extra-groups"] == "system:bootstrappers:kubeadm:default-node-token"
    assert data["usage-bootstrap-signing"] == data["usage-bootstrap-authentication"] == "true"
    expires = bt.expiration({"expiration": data["expiration"].encode()})
    left = expires - datetime.datetime.now(datetime.UTC) if expires else None
    assert left is not None and datetime.timedelta(hours=23) < left <= datetime.timedelta(hours=24)

    # cluster-info: anonymous, and signed with the token by the bootstrap signer.
    url = f"https://127.0.0.1:{port}/api/v1/namespaces/kube-public/configmaps/cluster-info"
    anonymous = ssl.create_default_context(cafile=layout.pki / "ca.crt")
    deadline = time.monotonic() + 60
    info: dict[str, str] = {}
    while f"jws-kubeconfig-{token.id}" not in info:
        assert time.monotonic() < deadline, f"cluster-info never signed: {info}\n{_logs(layout)}"
        resp = httpx.get(url, verify=anonymous, timeout=5)
        assert resp.status_code == 200, resp.text
        info = resp.json()["data"]
        time.sleep(0.5)
    assert bt.verify_detached(info[f"jws-kubeconfig-{token.id}"], info["kubeconfig"], token)

    # join with another CA hash: refused before anything is written.
    other = tmp_path / "other"
    wrong = subprocess.run(
        [*NAVARCH, "join", f"127.0.0.1:{port}", "--discovery-token-ca-cert-hash",
         "sha256:" + "ab" * 32, "--root", str(other), "--init-system", "supervisor",
         "--timeout", "20"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert wrong.returncode == 1
    assert "not the pinned one" in wrong.stderr
    assert not (other / "etc/navarch").exists()

    # join's discovery and the kubelet's TLS bootstrap, in-process.
    joined = Layout(tmp_path / "node")
    opts = JoinOptions(f"127.0.0.1:{port}", token, ca_hash, node_name="boot-n1",
                       node_ip="127.0.0.1", timeout=30)  # fmt: skip
    node, configs = prepare_join(joined, opts, echo=lambda _: None)
    assert configs["proxy"]["kubeconfig"] == str(joined.kubelet_conf)
    assert configs["proxy"]["cluster-cidr"] == POD_CIDR  # from kube-system/navarch-config
    kubelet = configs["kubelet"]
    asyncio.run(bootstrap(Path(kubelet["kubeconfig"]), Path(kubelet["bootstrap-kubeconfig"]),
                          Path(kubelet["cert-dir"]), node, timeout=60))  # fmt: skip
    current = Path(kubelet["cert-dir"]) / "kubelet-client-current.pem"
    cert = x509.load_pem_x509_certificate(current.read_bytes())
    assert (
        cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:node:boot-n1"
    )
    assert signed_by(cert, x509.load_pem_x509_certificate(ca_pem))

    # As the node, kube-proxy's reads are allowed (init bound system:node-proxier).
    as_node = ssl.create_default_context(cafile=joined.pki / "ca.crt")
    as_node.load_cert_chain(current, current)
    resp = httpx.get(f"https://127.0.0.1:{port}/api/v1/services", verify=as_node, timeout=10)
    assert resp.status_code == 200, resp.text


def test_join_starts_a_kubelet_that_becomes_a_ready_node(plane: Plane, tmp_path: Path) -> None:
    joined = Layout(tmp_path / "node")
    name = f"boot-join-{os.getpid()}"
    join = [
        *NAVARCH, "join", f"127.0.0.1:{plane.port}", "--discovery-token-ca-cert-hash",
        plane.ca_hash, "--root", str(joined.root), "--init-system", "supervisor",
        "--node-name", name, "--node-ip", "127.0.0.1", "--skip-phases", "network",
        "--kubelet-port", str(free_port()), "--timeout", "90",
    ]  # fmt: skip
    pids: list[int] = []
    try:
        done = subprocess.run(join, env=plane.env, capture_output=True, text=True, timeout=180,
                              check=False)  # fmt: skip
        pids = _pids(joined)
        assert done.returncode == 0, done.stdout + done.stderr + _logs(joined)
        assert f"joined the cluster as node {name}" in done.stdout
        with plane.admin() as admin:
            deadline = time.monotonic() + 90
            while True:
                resp = admin.get(f"/api/v1/nodes/{name}")
                conditions = (resp.json().get("status") or {}).get("conditions") or [] \
                    if resp.status_code == 200 else []  # fmt: skip
                if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
                    break
                assert time.monotonic() < deadline, f"{name} not Ready\n{_logs(joined)}"
                time.sleep(0.5)
            csrs = admin.get("/apis/certificates.k8s.io/v1/certificatesigningrequests").json()
        mine = {c["spec"]["signerName"]: c for c in csrs["items"]
                if c["spec"]["username"] in (f"system:bootstrap:{plane.token.id}", f"system:node:{name}")
                and c["status"].get("certificate")}  # fmt: skip
        assert {
            "kubernetes.io/kube-apiserver-client-kubelet",
            "kubernetes.io/kubelet-serving",
        } <= set(mine)
        ca = x509.load_pem_x509_certificate((plane.layout.pki / "ca.crt").read_bytes())
        cert_dir = joined.var / "kubelet" / "pki"
        deadline = time.monotonic() + 60
        while not (cert_dir / "kubelet-server-current.pem").exists():
            assert time.monotonic() < deadline, _logs(joined)
            time.sleep(0.5)
        for pem in ("kubelet-client-current.pem", "kubelet-server-current.pem"):
            cert = x509.load_pem_x509_certificate((cert_dir / pem).read_bytes())
            assert signed_by(cert, ca), pem
        assert joined.kubelet_conf.exists()
        assert not joined.bootstrap_conf.exists()  # the token's copy is gone
    finally:
        pids = pids or _pids(joined)
        _reset(joined)
        with plane.admin() as admin:
            admin.delete(f"/api/v1/nodes/{name}")
    assert pids and not [pid for pid in pids if _alive(pid)]
    networks = subprocess.run(["docker", "network", "ls", "-q", "--filter", f"name=navarch-{name}"],
                              capture_output=True, text=True, check=False)  # fmt: skip
    assert networks.stdout.strip() == ""
