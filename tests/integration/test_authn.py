"""Authentication, for real: client certificates, static tokens, bootstrap tokens and
bound service-account JWTs (TokenRequest), anonymous requests on and off, TokenReview
and SelfSubjectReview (``kubectl auth whoami``), and the ServiceAccount admission
plugin giving pods their token volume."""

from __future__ import annotations

import base64
import json
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from pki.bootstraptoken import ca_cert_hash
from testkit.processes import NAVARCH, wait_until
from testkit.secure import SecureControlPlane, bootstrap_token_secret, user

pytestmark = pytest.mark.integration

STATIC_TOKEN = "static-token-of-jane"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureControlPlane]:
    root = tmp_path_factory.mktemp("authn")
    tokens = root / "tokens.csv"
    tokens.write_text(f'{STATIC_TOKEN},jane,uid-jane,"dev,ops"\n')
    plane = SecureControlPlane.start(
        root,
        "--anonymous-auth=false",
        "--token-auth-file", str(tokens),
        "--enable-bootstrap-token-auth",
        extra_users=(user("alice", "team-a"),),
    )  # fmt: skip
    yield plane
    plane.stop()


def _whoami(api: httpx.Client) -> httpx.Response:
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    return api.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", json=body)


def _user(api: httpx.Client) -> dict[str, object]:
    resp = _whoami(api)
    assert resp.status_code == 201, resp.text
    found: dict[str, object] = resp.json()["status"]["userInfo"]
    return found


def _namespace(api: httpx.Client) -> str:
    name = f"authn-{uuid.uuid4().hex[:6]}"
    assert api.post("/api/v1/namespaces", json={"metadata": {"name": name}}).status_code == 201
    return name


def test_client_certificates_name_the_user_and_groups(cluster: SecureControlPlane) -> None:
    with cluster.client("admin") as api:
        assert _user(api) == {
            "username": "kubernetes-admin",
            "groups": ["system:masters", "system:authenticated"],
        }
    with cluster.client("node-node-a") as api:
        found = _user(api)
        assert found["username"] == "system:node:node-a"
        assert found["groups"] == ["system:nodes", "system:authenticated"]
    with cluster.client("u-alice") as api:
        assert _user(api)["groups"] == ["team-a", "system:authenticated"]


def test_without_credentials_everything_is_401(cluster: SecureControlPlane) -> None:
    with cluster.client(None) as api:
        for path in ("/api/v1/namespaces", "/api", "/version", "/healthz"):
            resp = api.get(path)
            assert resp.status_code == 401, path
            assert resp.json()["reason"] == "Unauthorized"
    with cluster.client(None, token="no-such-token") as api:
        assert api.get("/api/v1/namespaces").status_code == 401


def test_static_tokens(cluster: SecureControlPlane) -> None:
    with cluster.client(None, token=STATIC_TOKEN) as api:
        assert _user(api) == {
            "username": "jane",
            "uid": "uid-jane",
            "groups": ["dev", "ops", "system:authenticated"],
        }


def test_bootstrap_tokens(cluster: SecureControlPlane) -> None:
    token_id = uuid.uuid4().hex[:6]
    secret = "0123456789abcdef"

    def record(**data: str) -> dict[str, object]:
        extra = "system:bootstrappers:kubeadm:default-node-token"
        return bootstrap_token_secret(token_id, secret, **{"auth-extra-groups": extra, **data})

    with cluster.client("admin") as admin:
        resp = admin.post("/api/v1/namespaces/kube-system/secrets", json=record())
        assert resp.status_code == 201, resp.text
        with cluster.client(None, token=f"{token_id}.{secret}") as api:
            assert _user(api) == {
                "username": f"system:bootstrap:{token_id}",
                "groups": [
                    "system:bootstrappers",
                    "system:bootstrappers:kubeadm:default-node-token",
                    "system:authenticated",
                ],
            }
        with cluster.client(None, token=f"{token_id}.{'f' * 16}") as api:
            assert _whoami(api).status_code == 401
        past = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        path = f"/api/v1/namespaces/kube-system/secrets/bootstrap-token-{token_id}"
        assert admin.put(path, json=record(expiration=past)).status_code == 200
        with cluster.client(None, token=f"{token_id}.{secret}") as api:
            wait_until(lambda: _whoami(api).status_code == 401, 10, what="expired token refused")


def _token_cmd(cluster: SecureControlPlane, *args: str) -> subprocess.CompletedProcess[str]:
    kubeconfig = str(cluster.kubeconfig("admin"))
    return subprocess.run([*NAVARCH, "token", *args, "--kubeconfig", kubeconfig],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


def test_navarch_token_create_list_delete(cluster: SecureControlPlane) -> None:
    """``navarch token`` (kubeadm token): a token it creates authenticates at once, its
    join command names this server and CA, bad settings write nothing, and a deleted
    token no longer authenticates."""
    made = _token_cmd(cluster, "create", "--ttl", "2h", "--description", "for node-d",
                      "--print-join-command")  # fmt: skip
    assert made.returncode == 0, made.stderr
    words = made.stdout.split()
    assert words[:3] == ["navarch", "join", cluster.url.removeprefix("https://")]
    token = words[words.index("--token") + 1]
    ca_hash = words[words.index("--discovery-token-ca-cert-hash") + 1]
    assert ca_hash == ca_cert_hash((cluster.pki_dir / "ca.crt").read_bytes())
    token_id = token.split(".")[0]
    with cluster.client(None, token=token) as api:
        assert _user(api)["username"] == f"system:bootstrap:{token_id}"

    listed = _token_cmd(cluster, "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split()[:3] == ["TOKEN", "TTL", "EXPIRES"]
    mine = [line for line in listed.stdout.splitlines() if line.startswith(token)]
    assert len(mine) == 1
    assert mine[0].split()[1] in ("119m", "120m")
    assert "authentication,signing" in mine[0] or "signing,authentication" in mine[0]
    assert "for node-d" in mine[0]

    before = listed.stdout.count("\n")
    for bad in (["--groups", "system:masters"], ["--usages", "everything"], ["--ttl", "soon"]):
        refused = _token_cmd(cluster, "create", *bad)
        assert refused.returncode == 1, bad
        assert refused.stderr.startswith("error: ") and refused.stderr.count("\n") == 1, bad
    assert _token_cmd(cluster, "list").stdout.count("\n") == before, "nothing written"

    gone = _token_cmd(cluster, "delete", token_id)
    assert gone.returncode == 0, gone.stderr
    with cluster.client(None, token=token) as api:
        wait_until(lambda: _whoami(api).status_code == 401, 10, what="deleted token refused")
    again = _token_cmd(cluster, "delete", token)
    assert again.returncode == 1
    assert "not found" in again.stderr


def _request_token(
    api: httpx.Client, namespace: str, account: str, **spec: object
) -> httpx.Response:
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}
    return api.post(f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}/token", json=body)


def test_service_account_tokens_are_bound_and_checked(cluster: SecureControlPlane) -> None:
    with cluster.client("admin") as admin:
        ns = _namespace(admin)
        sa = admin.post(
            f"/api/v1/namespaces/{ns}/serviceaccounts", json={"metadata": {"name": "robot"}}
        ).json()
        resp = _request_token(admin, ns, "robot", expirationSeconds=60)
        assert resp.status_code == 422
        assert resp.json()["details"]["causes"][0]["field"] == "spec.expirationSeconds"
        # Unbound, default lifetime (an hour) and audience (the API's).
        resp = _request_token(admin, ns, "robot")
        assert resp.status_code == 201, resp.text
        issued = resp.json()
        assert issued["spec"]["expirationSeconds"] == 3600
        token = issued["status"]["token"]
        claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        assert claims["sub"] == f"system:serviceaccount:{ns}:robot"
        assert claims["kubernetes.io"]["serviceaccount"]["uid"] == sa["metadata"]["uid"]
        assert claims["exp"] - claims["iat"] == 3600
        with cluster.client(None, token=token) as api:
            found = _user(api)
        assert found["username"] == f"system:serviceaccount:{ns}:robot"
        assert found["groups"] == [
            "system:serviceaccounts",
            f"system:serviceaccounts:{ns}",
            "system:authenticated",
        ]
        # TokenReview says the same; a token for another audience is not the API's.
        review = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                  "spec": {"token": token}}  # fmt: skip
        answer = admin.post("/apis/authentication.k8s.io/v1/tokenreviews", json=review).json()
        assert answer["status"]["authenticated"] is True
        assert answer["status"]["user"]["username"] == found["username"]
        other = _request_token(admin, ns, "robot", audiences=["vault"]).json()["status"]["token"]
        with cluster.client(None, token=other) as api:
            assert _whoami(api).status_code == 401
        review["spec"] = {"token": other, "audiences": ["vault"]}
        answer = admin.post("/apis/authentication.k8s.io/v1/tokenreviews", json=review).json()
        assert answer["status"]["authenticated"] is True
        assert answer["status"]["audiences"] == ["vault"]
        # A forged signature is refused.
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        with cluster.client(None, token=forged) as api:
            assert _whoami(api).status_code == 401
        # Deleting the account ends its tokens.
        admin.delete(f"/api/v1/namespaces/{ns}/serviceaccounts/robot")
        with cluster.client(None, token=token) as api:
            wait_until(lambda: _whoami(api).status_code == 401, 10, what="token of a gone SA")


def test_pod_bound_tokens_end_with_the_pod(cluster: SecureControlPlane) -> None:
    with cluster.client("admin") as admin:
        ns = _namespace(admin)
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        }
        # The ServiceAccount plugin: without the account (no controller-manager here
        # makes it), Kubernetes' 403; with it, the default account and its token volume
        # mounted in every container.
        refused = admin.post(f"/api/v1/namespaces/{ns}/pods", json=pod)
        assert refused.status_code == 403, refused.text
        assert "error looking up service account" in refused.json()["message"]
        account = {"metadata": {"name": "default"}}
        assert (
            admin.post(f"/api/v1/namespaces/{ns}/serviceaccounts", json=account).status_code == 201
        )
        made = admin.post(f"/api/v1/namespaces/{ns}/pods", json=pod)
        assert made.status_code == 201, made.text
        created = made.json()
        spec = created["spec"]
        assert spec["serviceAccountName"] == "default"
        volume = next(v for v in spec["volumes"] if v["name"].startswith("kube-api-access-"))
        sources = volume["projected"]["sources"]
        assert sources[0]["serviceAccountToken"] == {"expirationSeconds": 3607, "path": "token"}
        assert sources[1]["configMap"]["name"] == "kube-root-ca.crt"
        assert sources[2]["downwardAPI"]["items"][0]["path"] == "namespace"
        assert spec["containers"][0]["volumeMounts"] == [
            {
                "name": volume["name"],
                "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                "readOnly": True,
            }
        ]
        ref = {"kind": "Pod", "apiVersion": "v1", "name": "web", "uid": created["metadata"]["uid"]}
        resp = _request_token(admin, ns, "default", boundObjectRef=ref)
        assert resp.status_code == 201, resp.text
        token = resp.json()["status"]["token"]
        wrong = {**ref, "uid": "not-the-uid"}
        assert _request_token(admin, ns, "default", boundObjectRef=wrong).status_code == 409
        with cluster.client(None, token=token) as api:
            found = _user(api)
            assert found["extra"]["authentication.kubernetes.io/pod-name"] == ["web"]
            assert (
                admin.delete(
                    f"/api/v1/namespaces/{ns}/pods/web", params={"gracePeriodSeconds": "0"}
                ).status_code
                == 200
            )
            wait_until(lambda: _whoami(api).status_code == 401, 10, what="token of a gone pod")


@pytest.mark.kubectl
def test_kubectl_auth_whoami(cluster: SecureControlPlane, tmp_path: Path) -> None:
    run = subprocess.run(
        ["kubectl", "--kubeconfig", str(cluster.kubeconfig("admin")), "auth", "whoami",
         "-o", "json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["status"]["userInfo"]["username"] == "kubernetes-admin"
