"""TLS bootstrap, for real: a secure apiserver (``Node,RBAC``, bootstrap tokens, as
``navarch up`` runs it) and a controller-manager running the certificate controllers
with the cluster CA.

- a bootstrap token submits a kubelet client CSR; it is auto-approved and signed, and
  the certificate authenticates as ``system:node:<name>`` in ``system:nodes``;
- a node renewing its own certificate is approved (``selfnodeclient``); a node asking
  for another node's name is not;
- ``kubectl certificate approve`` approves a request the controller leaves alone, and
  the signer signs it;
- a kubelet started with ``--bootstrap-kubeconfig`` (a bootstrap token) and no
  kubeconfig gets its certificate that way, writes its kubeconfig and registers its
  Node; a kubelet whose certificate is near its end (``--rotate-certificates``) renews
  it through a CSR of its own and carries on with the new one; a kubelet with
  ``--rotate-server-certificates`` serves HTTPS once its kubelet-serving request is
  approved by a person and signed, or, with the controller-manager's
  ``--approve-kubelet-serving-certificates``, by the approver when it names only the
  node's own addresses.
"""

from __future__ import annotations

import base64
import datetime
import ssl
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from apiserver.etcd_server import free_port
from pki import csr as pkicsr
from pki import x509 as pkix
from testkit.processes import DaemonProcess, wait_until
from testkit.secure import SecureControlPlane, bootstrap_token_secret, user

pytestmark = pytest.mark.integration

CSRS = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
KUBELET_CLIENT = "kubernetes.io/kube-apiserver-client-kubelet"
API_CLIENT = "kubernetes.io/kube-apiserver-client"
APPROVER = user("approver")
RBAC = "/apis/rbac.authorization.k8s.io/v1"


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureControlPlane]:
    root = tmp_path_factory.mktemp("csr")
    plane = SecureControlPlane.start(
        root,
        "--authorization-mode", "Node,RBAC",
        "--enable-bootstrap-token-auth",
        "--enable-admission-plugins", "NodeRestriction",
        nodes=("node-a",),
        extra_users=(APPROVER,),
    )  # fmt: skip
    manager = DaemonProcess(
        [
            "controller-manager",
            "--kubeconfig", str(plane.kubeconfig("controller-manager")),
            "--no-leader-elect",
            "--controllers", "csrapproving,csrsigning,csrcleaner",
            "--use-service-account-credentials",
            "--cluster-signing-cert-file", str(plane.pki_dir / "ca.crt"),
            "--cluster-signing-key-file", str(plane.pki_dir / "ca.key"),
            "--cluster-signing-duration", "2h",
            "--log-level", "info",
        ],
        root / "controller-manager.log",
    )  # fmt: skip
    manager.start()
    try:
        yield plane
    finally:
        manager.stop()
        plane.stop()


def _bootstrap_token(plane: SecureControlPlane) -> str:
    token_id = uuid.uuid4().hex[:6]
    secret = uuid.uuid4().hex[:16]
    with plane.client("admin") as admin:
        resp = admin.post(
            "/api/v1/namespaces/kube-system/secrets", json=bootstrap_token_secret(token_id, secret)
        )
        assert resp.status_code == 201, resp.text
    return f"{token_id}.{secret}"


def _submit(
    api: httpx.Client,
    key: pkix.PrivateKey,
    cn: str,
    orgs: tuple[str, ...] = ("system:nodes",),
    *,
    signer: str = KUBELET_CLIENT,
    usages: tuple[str, ...] = ("digital signature", "client auth"),
) -> str:
    pem = pkicsr.make_request(key, cn, orgs)
    name = f"csr-{uuid.uuid4().hex[:8]}"
    body = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name},
        "spec": {
            "request": base64.b64encode(pem).decode(),
            "signerName": signer,
            "usages": list(usages),
            "expirationSeconds": 3600,
        },
    }
    resp = api.post(CSRS, json=body)
    assert resp.status_code == 201, resp.text
    return name


def _csr(plane: SecureControlPlane, name: str) -> dict[str, Any]:
    with plane.client("admin") as admin:
        resp = admin.get(f"{CSRS}/{name}")
        assert resp.status_code == 200, resp.text
        found: dict[str, Any] = resp.json()
        return found


def _certificate(plane: SecureControlPlane, name: str) -> bytes:
    def issued() -> bytes:
        cert = (_csr(plane, name).get("status") or {}).get("certificate", "")
        return base64.b64decode(cert) if cert else b""

    found = wait_until(issued, timeout=60, what=f"certificate of {name}")
    assert isinstance(found, bytes)
    return found


def _conditions(plane: SecureControlPlane, name: str) -> list[str]:
    return [c["type"] for c in (_csr(plane, name).get("status") or {}).get("conditions", [])]


def _whoami(plane: SecureControlPlane, tmp_path: Path, cert: bytes, key: pkix.PrivateKey) -> dict[str, Any]:  # fmt: skip
    pair = pkix.KeyPair(pkix.x509.load_pem_x509_certificate(cert), key)
    (tmp_path / "c.crt").write_bytes(pair.cert_pem)
    (tmp_path / "c.key").write_bytes(pair.key_pem)
    ctx = ssl.create_default_context(cafile=plane.pki_dir / "ca.crt")
    ctx.load_cert_chain(tmp_path / "c.crt", tmp_path / "c.key")
    with httpx.Client(base_url=plane.url, verify=ctx) as api:
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        resp = api.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", json=body)
        assert resp.status_code == 201, resp.text
        found: dict[str, Any] = resp.json()["status"]["userInfo"]
        return found


def test_a_bootstrap_token_gets_a_node_client_certificate(
    plane: SecureControlPlane, tmp_path: Path
) -> None:
    token = _bootstrap_token(plane)
    key = pkix.new_key()
    with plane.client(None, token=token) as joiner:
        name = _submit(joiner, key, "system:node:node-new")
        # The joiner may read its own request (system:node-bootstrapper).
        assert joiner.get(f"{CSRS}/{name}").status_code == 200
    cert = _certificate(plane, name)
    csr = _csr(plane, name)
    assert csr["spec"]["username"].startswith("system:bootstrap:")
    assert "system:bootstrappers" in csr["spec"]["groups"]
    assert _conditions(plane, name) == ["Approved"]
    assert csr["status"]["conditions"][0]["reason"] == "AutoApproved"
    me = _whoami(plane, tmp_path, cert, key)
    assert me["username"] == "system:node:node-new"
    assert "system:nodes" in me["groups"]
    # The signer honours the shorter requested life.
    issued = pkix.x509.load_pem_x509_certificate(cert)
    assert (issued.not_valid_after_utc - issued.not_valid_before_utc).total_seconds() <= 3600 + 600


def test_a_node_renews_its_own_certificate_but_never_another_nodes(
    plane: SecureControlPlane, tmp_path: Path
) -> None:
    key = pkix.new_key()
    with plane.client("node-node-a") as node:
        other = _submit(node, key, "system:node:node-b")
        own = _submit(node, key, "system:node:node-a")
    # One worker takes requests in order: once the later one is signed, the earlier one
    # has been looked at and left pending.
    cert = _certificate(plane, own)
    assert _whoami(plane, tmp_path, cert, key)["username"] == "system:node:node-a"
    assert _conditions(plane, other) == []
    assert "certificate" not in (_csr(plane, other).get("status") or {})


def _kubectl(
    plane: SecureControlPlane, *args: str, who: str = "admin"
) -> subprocess.CompletedProcess[str]:
    argv = ["kubectl", "--kubeconfig", str(plane.kubeconfig(who)), *args]
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def test_kubectl_certificate_approve(plane: SecureControlPlane, tmp_path: Path) -> None:
    key = pkix.new_key()
    with plane.client("admin") as admin:
        name = _submit(
            admin,
            key,
            "jane",
            ("dev",),
            signer="kubernetes.io/kube-apiserver-client",
            usages=("digital signature", "key encipherment", "client auth"),
        )
    out = _kubectl(plane, "get", "csr", name)
    assert out.returncode == 0, out.stderr
    header, row = out.stdout.splitlines()
    assert header.split() == [
        "NAME", "AGE", "SIGNERNAME", "REQUESTOR", "REQUESTEDDURATION", "CONDITION",
    ]  # fmt: skip
    assert row.split()[2:] == [
        "kubernetes.io/kube-apiserver-client", "kubernetes-admin", "60m", "Pending",
    ]  # fmt: skip
    done = _kubectl(plane, "certificate", "approve", name)
    assert done.returncode == 0, done.stderr
    assert "approved" in done.stdout
    cert = _certificate(plane, name)
    assert _conditions(plane, name) == ["Approved"]
    me = _whoami(plane, tmp_path, cert, key)
    assert me["username"] == "jane" and "dev" in me["groups"]
    out = _kubectl(plane, "get", "csr", name)
    assert out.stdout.splitlines()[1].split()[-1] == "Approved,Issued"
    denied = _kubectl(plane, "certificate", "deny", name)
    assert denied.returncode != 0 and "already Approved" in denied.stderr


def _kubelet(plane: SecureControlPlane, root: Path, node: str, *flags: str) -> DaemonProcess:
    port = [] if "--port" in flags else ["--port", "0"]
    return DaemonProcess(
        [
            "kubelet",
            "--node-name", node,
            "--runtime", "fake",
            *port,
            "--root-dir", str(root / "kubelet"),
            "--cert-dir", str(root / "pki"),
            "--node-status-update-frequency", "1s",
            *flags,
        ],
        root / "kubelet.log",
    )  # fmt: skip


def _node_exists(plane: SecureControlPlane, node: str) -> bool:
    with plane.client("admin") as admin:
        return admin.get(f"/api/v1/nodes/{node}").status_code == 200


def test_a_kubelet_bootstraps_its_client_certificate(
    plane: SecureControlPlane, tmp_path: Path
) -> None:
    token = _bootstrap_token(plane)
    ca = base64.b64encode((plane.pki_dir / "ca.crt").read_bytes()).decode()
    boot = tmp_path / "bootstrap.conf"
    boot.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "c",
                        "cluster": {"server": plane.url, "certificate-authority-data": ca},
                    }
                ],
                "users": [{"name": "boot", "user": {"token": token}}],
                "contexts": [{"name": "boot", "context": {"cluster": "c", "user": "boot"}}],
                "current-context": "boot",
            }
        )
    )
    kubeconfig = tmp_path / "kubelet.conf"
    kubelet = _kubelet(
        plane, tmp_path, "node-boot",
        "--bootstrap-kubeconfig", str(boot), "--kubeconfig", str(kubeconfig),
        "--rotate-certificates",
    )  # fmt: skip
    kubelet.start()
    try:
        wait_until(lambda: _node_exists(plane, "node-boot"), 60, what="node-boot registered")
        written = yaml.safe_load(kubeconfig.read_text())
        user = written["users"][0]["user"]
        assert user["client-certificate"] == str(tmp_path / "pki" / "kubelet-client-current.pem")
        pair = pkix.x509.load_pem_x509_certificate(Path(user["client-certificate"]).read_bytes())
        assert pkix.subject_of(pair.public_bytes(pkicsr.serialization.Encoding.PEM)) == (
            "system:node:node-boot",
            ["system:nodes"],
        )
        assert not (tmp_path / "pki" / "kubelet-client.key.tmp").exists()
    finally:
        kubelet.stop()


def test_a_kubelet_rotates_a_certificate_near_its_end(
    plane: SecureControlPlane, tmp_path: Path
) -> None:
    node = "node-rot"
    ca = pkix.load_pair(plane.pki_dir, "ca")
    assert ca is not None
    key = pkix.new_key()
    request = pkicsr.parse_request(
        pkicsr.make_request(key, f"system:node:{node}", ("system:nodes",))
    )
    now = pkix.utcnow()
    # Valid from ten minutes ago to a minute from now: past 70-90% of its life already.
    cert = pkicsr.sign_request(
        request, ca, ["digital signature", "client auth"],
        now=now - pkix.BACKDATE, duration=datetime.timedelta(minutes=11),
    )  # fmt: skip
    old = tmp_path / "old.pem"
    old.write_bytes(cert + pkix.KeyPair(pkix.x509.load_pem_x509_certificate(cert), key).key_pem)
    kubeconfig = tmp_path / "kubelet.conf"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "c",
                        "cluster": {
                            "server": plane.url,
                            "certificate-authority": str(plane.pki_dir / "ca.crt"),
                        },
                    }
                ],
                "users": [
                    {"name": "n", "user": {"client-certificate": str(old), "client-key": str(old)}}
                ],
                "contexts": [{"name": "n", "context": {"cluster": "c", "user": "n"}}],
                "current-context": "n",
            }
        )
    )
    kubelet = _kubelet(
        plane, tmp_path, node, "--kubeconfig", str(kubeconfig), "--rotate-certificates",
        "--node-lease-duration", "4",
    )  # fmt: skip
    kubelet.start()
    current = tmp_path / "pki" / "kubelet-client-current.pem"
    try:
        wait_until(current.exists, 60, what="a rotated certificate")
        rotated = pkix.x509.load_pem_x509_certificate(current.read_bytes())
        assert pkix.signed_by(rotated, ca.cert)
        assert rotated.not_valid_after_utc > now + datetime.timedelta(hours=1)
        with plane.client("admin") as admin:
            csrs = admin.get(CSRS).json()["items"]
        mine = [c for c in csrs if c["spec"].get("username") == f"system:node:{node}"]
        assert mine and mine[0]["status"]["conditions"][0]["message"].startswith(
            "Auto approving self kubelet client certificate"
        )
        # It carries on as the node, on new connections once the old ones are closed
        # (10 s after the rotation): its Lease is renewed well after that.
        rotated_at = pkix.utcnow()

        def renewed_since(seconds: float) -> bool:
            with plane.client("admin") as admin:
                resp = admin.get(
                    f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{node}"
                )
            if resp.status_code != 200:
                return False
            renew = datetime.datetime.fromisoformat(
                resp.json()["spec"]["renewTime"].replace("Z", "+00:00")
            )
            return renew > rotated_at + datetime.timedelta(seconds=seconds)

        wait_until(lambda: renewed_since(12), 40, what="lease renewals after the reconnect")
        assert kubelet.alive()
        assert "Traceback" not in (tmp_path / "kubelet.log").read_text()
    finally:
        kubelet.stop()


def test_approving_needs_approve_on_the_signer(plane: SecureControlPlane) -> None:
    """CertificateApproval: updating the approval subresource is not enough."""
    rules: list[dict[str, Any]] = [
        {"apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests"],
         "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["certificates.k8s.io"],
         "resources": ["certificatesigningrequests/approval"], "verbs": ["update"]},
    ]  # fmt: skip
    role = {"metadata": {"name": "csr-approver"}, "rules": rules}
    binding = {
        "metadata": {"name": "csr-approver"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "csr-approver"},
        "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io",
                      "name": APPROVER.common_name}],
    }  # fmt: skip
    with plane.client("admin") as admin:
        assert admin.post(f"{RBAC}/clusterroles", json=role).status_code == 201
        assert admin.post(f"{RBAC}/clusterrolebindings", json=binding).status_code == 201
        name = _submit(admin, pkix.new_key(), "jane", ("dev",), signer=API_CLIENT)
    refused = _kubectl(plane, "certificate", "approve", name, who=APPROVER.file)
    assert refused.returncode != 0
    assert (
        f'user not permitted to approve requests with signerName "{API_CLIENT}"' in refused.stderr
    )
    assert _conditions(plane, name) == []
    rules.append({"apiGroups": ["certificates.k8s.io"], "resources": ["signers"],
                  "resourceNames": [API_CLIENT], "verbs": ["approve"]})  # fmt: skip
    with plane.client("admin") as admin:
        current = admin.get(f"{RBAC}/clusterroles/csr-approver").json()
        current["rules"] = rules
        assert admin.put(f"{RBAC}/clusterroles/csr-approver", json=current).status_code == 200

    def approved() -> bool:
        return _kubectl(plane, "certificate", "approve", name, who=APPROVER.file).returncode == 0

    wait_until(approved, 10, what="approval once granted")
    assert _conditions(plane, name) == ["Approved"]


def test_no_apiserver_client_certificates_for_system_masters(plane: SecureControlPlane) -> None:
    pem = pkicsr.make_request(pkix.new_key(), "root", ("system:masters",))
    body = {
        "metadata": {"name": f"masters-{uuid.uuid4().hex[:6]}"},
        "spec": {"request": base64.b64encode(pem).decode(), "signerName": API_CLIENT,
                 "usages": ["client auth"]},
    }  # fmt: skip
    with plane.client("admin") as admin:
        resp = admin.post(CSRS, json=body)
    assert resp.status_code == 403
    assert "system:masters group is not allowed" in resp.json()["message"]


def _serving_kubelet(plane: SecureControlPlane, root: Path, port: int) -> DaemonProcess:
    """node-a's kubelet on ``port`` asking for its serving certificate by CSR."""
    return _kubelet(
        plane, root, "node-a",
        "--kubeconfig", str(plane.kubeconfig("node-node-a")),
        "--rotate-server-certificates", "--node-ip", "127.0.0.1", "--port", str(port),
    )  # fmt: skip


def _serves_https(plane: SecureControlPlane, port: int) -> Callable[[], bool]:
    """Whether the kubelet on ``port`` answers /healthz over HTTPS the cluster CA verifies."""
    verify = ssl.create_default_context(cafile=plane.pki_dir / "ca.crt")

    def healthz() -> bool:
        try:
            return httpx.get(f"https://127.0.0.1:{port}/healthz", verify=verify).is_success
        except httpx.HTTPError:
            return False

    return healthz


def test_a_kubelet_serves_with_a_certificate_from_the_kubelet_serving_signer(
    plane: SecureControlPlane, tmp_path: Path
) -> None:
    """--rotate-server-certificates: the request waits for a person (as in Kubernetes),
    then the kubelet serves HTTPS with the signed certificate."""
    port = free_port()
    kubelet = _serving_kubelet(plane, tmp_path, port)
    kubelet.start()
    try:

        def serving_request() -> str:
            with plane.client("admin") as admin:
                items = admin.get(CSRS).json()["items"]
            return next(
                (c["metadata"]["name"] for c in items
                 if c["spec"]["signerName"] == "kubernetes.io/kubelet-serving"
                 and c["spec"]["username"] == "system:node:node-a"),
                "",
            )  # fmt: skip

        name = wait_until(serving_request, 60, what="a kubelet-serving request")
        assert isinstance(name, str)
        assert _conditions(plane, name) == []  # nobody approves serving requests for us
        assert _kubectl(plane, "certificate", "approve", name).returncode == 0
        cert = pkix.x509.load_pem_x509_certificate(_certificate(plane, name))
        sans = cert.extensions.get_extension_for_class(pkix.x509.SubjectAlternativeName).value
        assert sans.get_values_for_type(pkix.x509.DNSName) == ["node-a"]
        wait_until(
            _serves_https(plane, port),
            30,
            what="the kubelet serving HTTPS with its signed certificate",
        )
        assert (tmp_path / "pki" / "kubelet-server-current.pem").exists()
    finally:
        kubelet.stop()


def test_with_approve_kubelet_serving_certificates_a_node_gets_its_serving_certificate(
    plane: SecureControlPlane, tmp_path: Path
) -> None:
    """--approve-kubelet-serving-certificates: a second approver with it approves the
    kubelet's own serving request (its node name and node IP, both the Node's), and the
    kubelet serves HTTPS that verifies with the cluster CA, with nobody's hand."""
    approver = DaemonProcess(
        [
            "controller-manager",
            "--kubeconfig", str(plane.kubeconfig("controller-manager")),
            "--no-leader-elect", "--controllers", "csrapproving",
            "--use-service-account-credentials", "--approve-kubelet-serving-certificates",
        ],
        tmp_path / "approver.log",
    )  # fmt: skip
    port = free_port()
    kubelet = _serving_kubelet(plane, tmp_path, port)
    approver.start()
    kubelet.start()
    try:
        wait_until(
            _serves_https(plane, port),
            60,
            what="the kubelet serving HTTPS with an auto-approved certificate",
        )
        with plane.client("admin") as admin:
            items = admin.get(CSRS).json()["items"]
        mine = [c for c in items if c["spec"]["signerName"] == "kubernetes.io/kubelet-serving"
                and c["spec"]["username"] == "system:node:node-a"]  # fmt: skip
        approvals = [
            c["message"] for csr in mine for c in csr["status"].get("conditions") or []
            if c["type"] == "Approved"
        ]  # fmt: skip
        assert any("names only the node's addresses" in m for m in approvals), approvals
    finally:
        kubelet.stop()
        approver.stop()


def test_navctl_certificate_deny_and_approve(plane: SecureControlPlane) -> None:
    with plane.client("admin") as admin:
        denied = _submit(admin, pkix.new_key(), "jane", ("dev",), signer=API_CLIENT)
        approved = _submit(admin, pkix.new_key(), "jane", ("dev",), signer=API_CLIENT)

    def navctl(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "cli.navctl", "--kubeconfig", str(plane.kubeconfig("admin"))]
        return subprocess.run([*argv, *args], capture_output=True, text=True, check=False)

    done = navctl("certificate", "deny", denied)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"certificatesigningrequest.certificates.k8s.io/{denied} denied\n"
    assert _conditions(plane, denied) == ["Denied"]
    again = navctl("certificate", "approve", denied)
    assert again.returncode == 1 and f'"{denied}" is already Denied' in again.stderr
    forced = navctl("certificate", "approve", "--force", denied)
    assert forced.returncode == 1 and "mutually exclusive" in forced.stderr
    assert _conditions(plane, denied) == ["Denied"]
    assert navctl("certificate", "approve", approved).returncode == 0
    assert _certificate(plane, approved)  # the signer signs what navctl approved
