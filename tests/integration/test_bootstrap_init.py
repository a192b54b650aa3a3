"""``navarch init`` for real on this machine (supervisor mode: systemd is not PID 1
here), under a temporary root with free ports, without the node phase (no kubelet,
kube-proxy or network agent touching the host): the token Secret, cluster-info signed
by the controller-manager's bootstrap signer, and ``join``'s discovery and TLS
bootstrap, run in-process, ending with a kubelet client certificate the cluster
signed. ``navarch reset`` then stops every process."""

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


def test_init_publishes_a_signed_cluster_info_and_join_gets_a_signed_certificate(
    tmp_path: Path,
) -> None:
    layout = Layout(tmp_path / "cp")
    port = free_port()
    token = bt.generate()
    env = {**os.environ, "NAVARCH_BOOTSTRAP_TOKEN": str(token)}
    init = [
        *NAVARCH, "init", "--root", str(layout.root),
        "--apiserver-advertise-address", "127.0.0.1", "--apiserver-bind-port", str(port),
        "--etcd-client-port", str(free_port()), "--etcd-peer-port", str(free_port()),
        "--service-node-port-range", "31000-31999",
        "--skip-phases", "node", "--init-system", "supervisor", "--node-name", "boot-cp",
        "--timeout", "150",
    ]  # fmt: skip
    pids: list[int] = []
    try:
        done = subprocess.run(
            init, env=env, capture_output=True, text=True, timeout=240, check=False
        )
        pids = _pids(layout)
        assert done.returncode == 0, done.stdout + done.stderr + _logs(layout)
        ca_pem = (layout.pki / "ca.crt").read_bytes()
        ca_hash = bt.ca_cert_hash(ca_pem)
        assert done.stdout.strip().splitlines()[-1] == (
            f"navarch join 127.0.0.1:{port} --token {token} --discovery-token-ca-cert-hash {ca_hash}"
        )
        assert layout.admin_conf.stat().st_mode & 0o077 == 0

        # The token's Secret, as kubeadm writes it.
        ctx = ssl.create_default_context(cafile=layout.pki / "ca.crt")
        ctx.load_cert_chain(layout.pki / "users/admin.crt", layout.pki / "users/admin.key")
        with httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=ctx, timeout=10) as admin:
            secret = admin.get(f"/api/v1/namespaces/kube-system/secrets/{token.secret_name}").json()
        assert secret["type"] == "bootstrap.kubernetes.io/token"
        data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
        assert data["auth-extra-groups"] == "system:bootstrappers:kubeadm:default-node-token"
        assert data["usage-bootstrap-signing"] == data["usage-bootstrap-authentication"] == "true"
        expires = bt.expiration({"expiration": data["expiration"].encode()})
        left = expires - datetime.datetime.now(datetime.UTC) if expires else None
        assert left is not None and datetime.timedelta(hours=23) < left <= datetime.timedelta(
            hours=24
        )

        # cluster-info: anonymous, and signed with the token by the bootstrap signer.
        url = f"https://127.0.0.1:{port}/api/v1/namespaces/kube-public/configmaps/cluster-info"
        anonymous = ssl.create_default_context(cafile=layout.pki / "ca.crt")
        deadline = time.monotonic() + 60
        info: dict[str, str] = {}
        while f"jws-kubeconfig-{token.id}" not in info:
            assert time.monotonic() < deadline, (
                f"cluster-info never signed: {info}\n{_logs(layout)}"
            )
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
        kubelet = configs["kubelet"]
        asyncio.run(bootstrap(Path(kubelet["kubeconfig"]), Path(kubelet["bootstrap-kubeconfig"]),
                              Path(kubelet["cert-dir"]), node, timeout=60))  # fmt: skip
        current = Path(kubelet["cert-dir"]) / "kubelet-client-current.pem"
        cert = x509.load_pem_x509_certificate(current.read_bytes())
        assert (
            cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
            == "system:node:boot-n1"
        )
        assert signed_by(cert, x509.load_pem_x509_certificate(ca_pem))

        # As the node, kube-proxy's reads are allowed (init bound system:node-proxier).
        as_node = ssl.create_default_context(cafile=joined.pki / "ca.crt")
        as_node.load_cert_chain(current, current)
        resp = httpx.get(f"https://127.0.0.1:{port}/api/v1/services", verify=as_node, timeout=10)
        assert resp.status_code == 200, resp.text
    finally:
        pids = _pids(layout)
        subprocess.run([*NAVARCH, "reset", "--root", str(layout.root)], capture_output=True,
                       timeout=120, check=False)  # fmt: skip
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pids and not [pid for pid in pids if _alive(pid)]
    assert not layout.etc.exists()
