"""Authorization, for real, with ``--authorization-mode Node,RBAC`` and NodeRestriction:

- a matrix of users, groups and a service account x verbs x resources x namespaces,
  asked of the real ``kubectl auth can-i`` and tried for real with the official Python
  client (the answer and the request agree);
- escalation: a user who may write roles and bindings cannot grant what it lacks,
  unless it holds ``escalate``/``bind``;
- anonymous requests reach the health endpoints and ``/version`` only;
- the Node authorizer: a kubelet reads its own pods and the Secrets they use, never
  another node's, and NodeRestriction keeps its writes to its own objects;
- the default roles are there and ``kubectl auth can-i --list`` lists what one may do.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from pki.phases import kubeconfig as kubeconfig_phase
from testkit.processes import wait_until
from testkit.secure import SecureControlPlane, user

pytestmark = pytest.mark.integration

ALICE = user("alice", "team-a")
BOB = user("bob")
CAROL = user("carol", "auditors")
DAVE = user("dave")


class World:
    def __init__(self, plane: SecureControlPlane) -> None:
        self.plane = plane
        suffix = uuid.uuid4().hex[:5]
        self.ns_a = f"rbac-a-{suffix}"
        self.ns_b = f"rbac-b-{suffix}"
        self.kubeconfigs: dict[str, Path] = {}

    def kubeconfig(self, who: str) -> Path:
        return self.kubeconfigs.get(who) or self.plane.kubeconfig(who)


def _post(api: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = api.post(path, json=body)
    assert resp.status_code == 201, resp.text
    result: dict[str, Any] = resp.json()
    return result


def _binding(
    kind: str, name: str, role_kind: str, role: str, *subjects: dict[str, str]
) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        "subjects": list(subjects),
    }


def _subject(kind: str, name: str, namespace: str = "") -> dict[str, str]:
    if kind == "ServiceAccount":
        return {"kind": kind, "name": name, "namespace": namespace}
    return {"kind": kind, "apiGroup": "rbac.authorization.k8s.io", "name": name}


RBAC = "/apis/rbac.authorization.k8s.io/v1"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    plane = SecureControlPlane.start(
        tmp_path_factory.mktemp("rbac"),
        "--authorization-mode", "Node,RBAC",
        "--enable-admission-plugins", "NodeRestriction",
        nodes=("node-a", "node-b"),
        extra_users=(ALICE, BOB, CAROL, DAVE),
    )  # fmt: skip
    w = World(plane)
    with plane.client("admin") as admin:
        for ns in (w.ns_a, w.ns_b):
            _post(admin, "/api/v1/namespaces", {"metadata": {"name": ns}})
            _post(
                admin, f"/api/v1/namespaces/{ns}/serviceaccounts", {"metadata": {"name": "default"}}
            )
        # alice (through her group) edits ns-a; the auditors view everything.
        _post(
            admin,
            f"{RBAC}/namespaces/{w.ns_a}/rolebindings",
            _binding(
                "RoleBinding", "team-a-edit", "ClusterRole", "edit", _subject("Group", "team-a")
            ),
        )
        _post(
            admin,
            f"{RBAC}/clusterrolebindings",
            _binding(
                "ClusterRoleBinding",
                f"auditors-{w.ns_a}",
                "ClusterRole",
                "view",
                _subject("Group", "auditors"),
            ),
        )
        # The ci service account deploys in ns-a only.
        _post(admin, f"/api/v1/namespaces/{w.ns_a}/serviceaccounts", {"metadata": {"name": "ci"}})
        _post(
            admin,
            f"{RBAC}/namespaces/{w.ns_a}/roles",
            {
                "metadata": {"name": "deployer"},
                "rules": [
                    {
                        "apiGroups": ["apps"],
                        "resources": ["deployments"],
                        "verbs": ["get", "list", "create"],
                    }
                ],
            },
        )
        _post(
            admin,
            f"{RBAC}/namespaces/{w.ns_a}/rolebindings",
            _binding(
                "RoleBinding",
                "ci-deployer",
                "Role",
                "deployer",
                _subject("ServiceAccount", "ci", w.ns_a),
            ),
        )
        # dave manages RBAC objects in ns-b, and holds nothing else.
        _post(
            admin,
            f"{RBAC}/namespaces/{w.ns_b}/roles",
            {
                "metadata": {"name": "rbac-manager"},
                "rules": [
                    {
                        "apiGroups": ["rbac.authorization.k8s.io"],
                        "resources": ["roles", "rolebindings"],
                        "verbs": ["create", "get", "list", "update", "delete"],
                    }
                ],
            },
        )
        _post(
            admin,
            f"{RBAC}/namespaces/{w.ns_b}/rolebindings",
            _binding("RoleBinding", "dave-rbac", "Role", "rbac-manager", _subject("User", "dave")),
        )
        token = admin.post(
            f"/api/v1/namespaces/{w.ns_a}/serviceaccounts/ci/token",
            json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}},
        ).json()["status"]["token"]
    ca = (plane.pki_dir / "ca.crt").read_bytes()
    doc = kubeconfig_phase.document(
        cluster="t", server=plane.url, ca_pem=ca, user="ci", token=token
    )
    path = plane.root / "ci.conf"
    path.write_text(yaml.safe_dump(doc))
    w.kubeconfigs["ci"] = path
    yield w
    plane.stop()


def _can_i(w: World, who: str, verb: str, resource: str, namespace: str | None) -> bool:
    args = ["kubectl", "--kubeconfig", str(w.kubeconfig(who)), "auth", "can-i", verb, resource]
    args += ["-n", namespace] if namespace else ["--all-namespaces"]
    run = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert run.stdout.strip() in ("yes", "no"), run.stdout + run.stderr
    return run.stdout.strip() == "yes"


def _official(w: World, who: str, verb: str, resource: str, namespace: str) -> bool:
    """Try it for real with the official client: True if allowed, False on a 403."""
    from kubernetes import client, config
    from kubernetes.client.rest import ApiException

    api_client = config.new_client_from_config(config_file=str(w.kubeconfig(who)))
    try:
        core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
        name = f"m-{uuid.uuid4().hex[:6]}"
        calls = {
            ("list", "pods"): lambda: core.list_namespaced_pod(namespace),
            ("list", "secrets"): lambda: core.list_namespaced_secret(namespace),
            ("create", "configmaps"): lambda: core.create_namespaced_config_map(
                namespace, {"metadata": {"name": name}, "data": {"k": "v"}}
            ),
            ("list", "deployments"): lambda: apps.list_namespaced_deployment(namespace),
            ("delete", "deployments"): lambda: apps.delete_collection_namespaced_deployment(
                namespace
            ),
            ("create", "rolebindings"): lambda: client.RbacAuthorizationV1Api(
                api_client
            ).create_namespaced_role_binding(
                namespace,
                _binding("RoleBinding", name, "ClusterRole", "view", _subject("User", "x")),
            ),
        }
        try:
            calls[(verb, resource)]()
        except ApiException as err:
            assert err.status == 403, err
            return False
        return True
    finally:
        api_client.close()


MATRIX = [
    # who, verb, resource, namespace ("A"/"B"; None: all), expected
    ("u-alice", "list", "pods", "A", True),
    ("u-alice", "create", "configmaps", "A", True),
    ("u-alice", "list", "secrets", "A", True),
    ("u-alice", "list", "pods", "B", False),
    ("u-alice", "create", "configmaps", "B", False),
    ("u-alice", "create", "rolebindings", "A", False),
    ("u-alice", "list", "pods", None, False),
    ("u-bob", "list", "pods", "A", False),
    ("u-bob", "create", "configmaps", "A", False),
    ("u-carol", "list", "pods", "A", True),
    ("u-carol", "list", "pods", "B", True),
    ("u-carol", "list", "pods", None, True),
    ("u-carol", "list", "secrets", "A", False),
    ("u-carol", "create", "configmaps", "B", False),
    ("ci", "list", "deployments", "A", True),
    ("ci", "delete", "deployments", "A", False),
    ("ci", "list", "deployments", "B", False),
    ("ci", "list", "pods", "A", False),
    ("u-dave", "list", "pods", "B", False),
    ("admin", "delete", "deployments", "B", True),
]


@pytest.mark.kubectl
@pytest.mark.parametrize(("who", "verb", "resource", "where", "expected"), MATRIX)
def test_the_matrix_with_kubectl_and_the_official_client(
    world: World, who: str, verb: str, resource: str, where: str | None, expected: bool
) -> None:
    namespace = {"A": world.ns_a, "B": world.ns_b, None: None}[where]
    assert _can_i(world, who, verb, resource, namespace) is expected
    if namespace is not None:
        assert _official(world, who, verb, resource, namespace) is expected


def test_escalation_needs_escalate_or_bind(world: World) -> None:
    ns = world.ns_b
    with world.plane.client("u-dave") as dave, world.plane.client("admin") as admin:
        # A role with permissions dave lacks: refused, naming what he lacks.
        role = {"metadata": {"name": "pod-reader"},
                "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}  # fmt: skip
        resp = dave.post(f"{RBAC}/namespaces/{ns}/roles", json=role)
        assert resp.status_code == 403, resp.text
        assert "attempting to grant RBAC permissions not currently held" in resp.json()["message"]
        assert "pods" in resp.json()["message"]
        # A role with only what he holds: fine.
        own = {"metadata": {"name": "rbac-reader"},
               "rules": [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"],
                          "verbs": ["get", "list"]}]}  # fmt: skip
        assert dave.post(f"{RBAC}/namespaces/{ns}/roles", json=own).status_code == 201
        # Binding himself to admin: refused (no bind, does not hold it).
        to_admin = _binding("RoleBinding", "dave-admin", "ClusterRole", "admin",
                            _subject("User", "dave"))  # fmt: skip
        resp = dave.post(f"{RBAC}/namespaces/{ns}/rolebindings", json=to_admin)
        assert resp.status_code == 403, resp.text
        # With "bind" on the view role (only), binding view works, edit still not.
        _post(admin, f"{RBAC}/namespaces/{ns}/roles", {
            "metadata": {"name": "may-bind-view"},
            "rules": [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"],
                       "verbs": ["bind"], "resourceNames": ["view"]},
                      {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"],
                       "verbs": ["escalate"]}],
        })  # fmt: skip
        _post(admin, f"{RBAC}/namespaces/{ns}/rolebindings",
              _binding("RoleBinding", "dave-may-bind", "Role", "may-bind-view",
                       _subject("User", "dave")))  # fmt: skip
        to_view = _binding(
            "RoleBinding", "bob-view", "ClusterRole", "view", _subject("User", "bob")
        )
        wait_until(
            lambda: (
                dave.post(f"{RBAC}/namespaces/{ns}/rolebindings", json=to_view).status_code == 201
            ),
            10,
            what="bind on view allowed",
        )
        to_edit = _binding(
            "RoleBinding", "bob-edit", "ClusterRole", "edit", _subject("User", "bob")
        )
        assert dave.post(f"{RBAC}/namespaces/{ns}/rolebindings", json=to_edit).status_code == 403
        # And with escalate on roles, the pod reader role is his to make.
        assert dave.post(f"{RBAC}/namespaces/{ns}/roles", json=role).status_code == 201
    with world.plane.client("u-bob") as bob:
        assert bob.get(f"/api/v1/namespaces/{ns}/pods").status_code == 200
        assert bob.get(f"/api/v1/namespaces/{world.ns_a}/pods").status_code == 403


def test_anonymous_reaches_health_and_version_only(world: World) -> None:
    with world.plane.client(None) as anon:
        for path in ("/healthz", "/livez", "/readyz", "/version"):
            assert anon.get(path).status_code == 200, path
        for path in ("/api", "/apis", "/api/v1/namespaces", "/metrics", "/openapi/v2",
                     f"/api/v1/namespaces/{world.ns_a}/pods"):  # fmt: skip
            resp = anon.get(path)
            assert resp.status_code == 403, path
            assert 'User "system:anonymous"' in resp.json()["message"]


def _pod(name: str, node: str, secret: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "nodeName": node,
            "containers": [
                {
                    "name": "c",
                    "image": "busybox",
                    "env": [
                        {"name": "S", "valueFrom": {"secretKeyRef": {"name": secret, "key": "k"}}}
                    ],
                }
            ],
        },
    }


def test_a_kubelet_reads_only_what_its_pods_use(world: World) -> None:
    ns = world.ns_a
    with world.plane.client("admin") as admin:
        for name in ("secret-a", "secret-b", "unused"):
            _post(admin, f"/api/v1/namespaces/{ns}/secrets",
                  {"metadata": {"name": name}, "stringData": {"k": "v"}})  # fmt: skip
        pod_a = _post(admin, f"/api/v1/namespaces/{ns}/pods", _pod("on-a", "node-a", "secret-a"))
        _post(admin, f"/api/v1/namespaces/{ns}/pods", _pod("on-b", "node-b", "secret-b"))
    with world.plane.client("node-node-a") as node:
        wait_until(
            lambda: node.get(f"/api/v1/namespaces/{ns}/secrets/secret-a").status_code == 200,
            10,
            what="node-a reads the secret its pod uses",
        )
        assert node.get(f"/api/v1/namespaces/{ns}/secrets/secret-b").status_code == 403
        assert node.get(f"/api/v1/namespaces/{ns}/secrets/unused").status_code == 403
        assert node.get(f"/api/v1/namespaces/{ns}/secrets").status_code == 403
        assert node.get(f"/api/v1/namespaces/{ns}/pods/on-a").status_code == 200
        assert node.get(f"/api/v1/namespaces/{ns}/pods/on-b").status_code == 403
        assert node.get("/api/v1/pods").status_code == 403
        own = node.get("/api/v1/pods", params={"fieldSelector": "spec.nodeName=node-a"})
        assert own.status_code == 200
        assert [p["metadata"]["name"] for p in own.json()["items"]] == ["on-a"]
        assert (
            node.get("/api/v1/pods", params={"fieldSelector": "spec.nodeName=node-b"}).status_code
            == 403
        )
        # NodeRestriction: no ordinary pods, nothing of another node's.
        plain = {"metadata": {"name": "sneaky"},
                 "spec": {"nodeName": "node-a", "containers": [{"name": "c", "image": "x"}]}}  # fmt: skip
        resp = node.post(f"/api/v1/namespaces/{ns}/pods", json=plain)
        assert resp.status_code == 403 and "mirror pods" in resp.json()["message"]
        assert node.delete(f"/api/v1/namespaces/{ns}/pods/on-b").status_code == 403
        status = {"status": {"phase": "Running"}}
        patch = {"Content-Type": "application/merge-patch+json"}
        assert node.patch(f"/api/v1/namespaces/{ns}/pods/on-b/status", json=status,
                          headers=patch).status_code == 403  # fmt: skip
        assert node.patch(f"/api/v1/namespaces/{ns}/pods/on-a/status", json=status,
                          headers=patch).status_code == 200  # fmt: skip
        other_node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-b"}}
        assert node.post("/api/v1/nodes", json=other_node).status_code == 403
        mine = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-a"}}
        assert node.post("/api/v1/nodes", json=mine).status_code == 201
        # Tokens only for its own pods' accounts, bound to its own pods.
        ref = {"kind": "Pod", "apiVersion": "v1", "name": "on-a", "uid": pod_a["metadata"]["uid"]}
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                "spec": {"boundObjectRef": ref}}  # fmt: skip
        path = f"/api/v1/namespaces/{ns}/serviceaccounts/default/token"
        assert node.post(path, json=body).status_code == 201
        unbound = {**body, "spec": {}}
        assert node.post(path, json=unbound).status_code == 403


@pytest.mark.kubectl
def test_default_roles_and_can_i_list(world: World) -> None:
    admin = str(world.plane.kubeconfig("admin"))
    got = subprocess.run(
        ["kubectl", "--kubeconfig", admin, "get", "clusterroles", "-o", "name"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout.split()  # fmt: skip
    for role in ("cluster-admin", "admin", "edit", "view", "system:node",
                 "system:node-proxier", "system:kube-scheduler",
                 "system:kube-controller-manager", "system:kube-dns", "system:basic-user",
                 "system:discovery", "system:public-info-viewer", "system:node-bootstrapper",
                 "system:auth-delegator", "system:controller:replicaset-controller",
                 "system:certificates.k8s.io:certificatesigningrequests:nodeclient"):  # fmt: skip
        assert f"clusterrole.rbac.authorization.k8s.io/{role}" in got, role
    listed = subprocess.run(
        ["kubectl", "--kubeconfig", str(world.kubeconfig("ci")), "auth", "can-i", "--list",
         "-n", world.ns_a],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert "deployments.apps" in listed and "selfsubjectaccessreviews" in listed


def _kubectl(w: World, who: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", "--kubeconfig", str(w.kubeconfig(who)), *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_impersonation_acts_as_the_user_only_for_who_may(world: World) -> None:
    w = world
    # The admin (system:masters) may impersonate anyone; the answer is the other user's.
    as_alice = ["--as", "alice", "--as-group", "team-a"]
    yes = _kubectl(w, "admin", "auth", "can-i", "create", "deployments", "-n", w.ns_a, *as_alice)
    assert yes.stdout.strip() == "yes", yes.stdout + yes.stderr
    no = _kubectl(w, "admin", "auth", "can-i", "create", "deployments", "-n", w.ns_a, "--as", "bob")
    assert no.stdout.strip() == "no", no.stdout + no.stderr
    who = _kubectl(w, "admin", "auth", "whoami", "-o", "json", *as_alice)
    assert who.returncode == 0, who.stderr
    info = yaml.safe_load(who.stdout)["status"]["userInfo"]
    assert info["username"] == "alice"
    assert set(info["groups"]) == {"team-a", "system:authenticated"}
    # A service account: its own groups, its own grants.
    sa = ["--as", f"system:serviceaccount:{w.ns_a}:ci"]
    ok = _kubectl(w, "admin", "auth", "can-i", "create", "deployments", "-n", w.ns_a, *sa)
    assert ok.stdout.strip() == "yes", ok.stdout + ok.stderr
    secrets = _kubectl(w, "admin", "auth", "can-i", "get", "secrets", "-n", w.ns_a, *sa)
    assert secrets.stdout.strip() == "no", secrets.stdout + secrets.stderr
    # dave may not impersonate: 403 naming what he asked for, and nothing is done.
    refused = _kubectl(w, "u-dave", "get", "pods", "-n", w.ns_a, "--as", "alice")
    assert refused.returncode != 0
    assert 'cannot impersonate resource "users"' in refused.stderr, refused.stderr
    # Groups without a user are a bad request.
    with w.plane.client("admin") as admin:
        resp = admin.get("/api/v1/namespaces", headers={"Impersonate-Group": "team-a"})
        assert resp.status_code == 400, resp.text
        # A group alice is not allowed to act in is refused even for a user she may be.
        mine = admin.get(
            f"/api/v1/namespaces/{w.ns_a}/pods",
            headers={"Impersonate-User": "alice", "Impersonate-Group": "team-a"},
        )
        assert mine.status_code == 200, mine.text
        other = admin.get(
            f"/api/v1/namespaces/{w.ns_b}/pods",
            headers={"Impersonate-User": "alice", "Impersonate-Group": "team-a"},
        )
        assert other.status_code == 403, other.text
        assert 'User "alice"' in other.json()["message"]
