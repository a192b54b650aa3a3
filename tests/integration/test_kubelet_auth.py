"""A real kubelet (fake runtime) serving HTTPS with ``--anonymous-auth false
--authentication-token-webhook --authorization-mode Webhook --client-ca-file``, against a
secure apiserver with ``--authorization-mode Node,RBAC``:

- without credentials every endpoint is 401;
- a service-account token without a grant on ``nodes/proxy`` is 403, and the same token
  once RBAC grants it gets through; a client certificate is asked about the same way;
- a WebSocket upgrade from another Origin is refused;
- the apiserver itself (its kubelet client certificate) still reaches the pod's log.
"""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from testkit.processes import DaemonProcess, free_port, wait_until
from testkit.secure import SecureControlPlane, user

pytestmark = pytest.mark.integration

NODE = "node-a"
EVE = user("eve")
RBAC = "/apis/rbac.authorization.k8s.io/v1"


class World:
    def __init__(self, plane: SecureControlPlane, kubelet: DaemonProcess, port: int) -> None:
        self.plane = plane
        self.kubelet = kubelet
        self.url = f"https://127.0.0.1:{port}"

    def get(
        self, path: str, who: str | None = None, token: str = "", **headers: str
    ) -> httpx.Response:
        if token:
            headers["Authorization"] = f"Bearer {token}"
        ctx = ssl.create_default_context(cafile=self.plane.pki_dir / "ca.crt")
        if who is not None:
            base = self.plane.pki_dir / "users" / who
            ctx.load_cert_chain(f"{base}.crt", f"{base}.key")
        return httpx.get(f"{self.url}{path}", verify=ctx, headers=headers, timeout=10)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("kubelet-auth")
    plane = SecureControlPlane.start(
        root, "--authorization-mode", "Node,RBAC", nodes=(NODE,), extra_users=(EVE,)
    )
    port = free_port()
    pki_dir = plane.pki_dir
    kubelet = DaemonProcess(
        [
            "kubelet",
            "--node-name", NODE,
            "--kubeconfig", str(plane.kubeconfig(f"node-{NODE}")),
            "--runtime", "fake",
            "--root-dir", str(root / "kubelet"),
            "--port", str(port),
            "--tls-cert-file", str(pki_dir / "kubelet" / f"{NODE}.crt"),
            "--tls-private-key-file", str(pki_dir / "kubelet" / f"{NODE}.key"),
            "--client-ca-file", str(pki_dir / "ca.crt"),
            "--anonymous-auth", "false",
            "--authentication-token-webhook",
            "--authorization-mode", "Webhook",
            # Refusals are not remembered, so a grant shows at once.
            "--authorization-webhook-cache-unauthorized-ttl", "0s",
            "--node-status-update-frequency", "1s",
        ],
        root / "kubelet.log",
    )  # fmt: skip
    kubelet.start()
    w = World(plane, kubelet, port)

    def answers() -> bool:
        try:
            return w.get("/healthz").status_code == 401
        except httpx.HTTPError:
            return False

    try:
        kubelet.wait_for(answers, 60, what="the kubelet's server")
        yield w
    finally:
        kubelet.stop()
        plane.stop()


def _token(api: httpx.Client, account: str) -> str:
    resp = api.post(
        "/api/v1/namespaces/default/serviceaccounts", json={"metadata": {"name": account}}
    )
    assert resp.status_code == 201, resp.text
    resp = api.post(
        f"/api/v1/namespaces/default/serviceaccounts/{account}/token",
        json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}},
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["status"]["token"])


def _grant(api: httpx.Client, name: str, subject: dict[str, str], subresource: str) -> None:
    role = {
        "metadata": {"name": name},
        "rules": [{"apiGroups": [""], "resources": [f"nodes/{subresource}"], "verbs": ["*"]}],
    }
    assert api.post(f"{RBAC}/clusterroles", json=role).status_code == 201
    binding: dict[str, Any] = {
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [subject],
    }
    assert api.post(f"{RBAC}/clusterrolebindings", json=binding).status_code == 201


def test_no_credentials_is_401_everywhere(world: World) -> None:
    for path in ("/healthz", "/pods", "/containerLogs/default/p/c", "/exec/default/p/c"):
        resp = world.get(path)
        assert resp.status_code == 401, (path, resp.text)
        assert resp.text == "Unauthorized"
    assert world.get("/pods", token="not-a-token").status_code == 401


def test_a_token_without_the_grant_is_403_and_with_it_200(world: World) -> None:
    account = f"reader-{uuid.uuid4().hex[:6]}"
    with world.plane.client("admin") as api:
        token = _token(api, account)
        resp = world.get("/pods", token=token)
        assert resp.status_code == 403, resp.text
        assert resp.text == (
            f"Forbidden (user=system:serviceaccount:default:{account}, verb=get, "
            "resource=nodes, subresource=proxy)"
        )
        # A grant on another subresource is not enough.
        subject = {"kind": "ServiceAccount", "name": account, "namespace": "default"}
        _grant(api, f"{account}-stats", subject, "stats")
        assert world.get("/pods", token=token).status_code == 403
        _grant(api, f"{account}-proxy", subject, "proxy")
    wait_until(
        lambda: world.get("/pods", token=token).status_code == 200,
        30,
        interval=0.5,
        what="the grant to show",
    )
    assert world.get("/pods", token=token).json()["kind"] == "PodList"


def test_client_certificates_are_authorized_too(world: World) -> None:
    resp = world.get("/pods", who=EVE.file)
    assert resp.status_code == 403, resp.text
    assert "user=eve," in resp.text
    assert world.get("/pods", who="admin").status_code == 200  # system:masters


def test_a_websocket_upgrade_from_another_origin_is_refused(world: World) -> None:
    headers = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Protocol": "v5.channel.k8s.io",
        "Origin": "https://evil.example",
    }
    resp = world.get("/exec/default/p/c?command=id&stdout=1", who="admin", **headers)
    assert resp.status_code == 403 and "origin" in resp.text


def test_the_apiserver_still_reaches_the_kubelet(world: World) -> None:
    name = f"p-{uuid.uuid4().hex[:6]}"
    pod = {
        "metadata": {"name": name},
        "spec": {"nodeName": NODE, "containers": [{"name": "c", "image": "busybox"}]},
    }
    with world.plane.client("admin") as api:
        assert api.post("/api/v1/namespaces/default/pods", json=pod).status_code == 201
        path = f"/api/v1/namespaces/default/pods/{name}"

        def running() -> bool:
            status = api.get(path).json().get("status") or {}
            return status.get("phase") == "Running"

        wait_until(running, 60, what="the pod running")
        resp = api.get(f"{path}/log")
        assert resp.status_code == 200, resp.text
