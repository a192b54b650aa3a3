"""Pure authorization logic: request info from paths, RBAC rule matching and coverage
(escalation), the Node authorizer's graph of what pods use, ClusterRole aggregation,
and the default policy's shape."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.authz import Attributes
from apiserver.authz.bootstrappolicy import CONTROLLER_ROLES, cluster_role_bindings, cluster_roles
from apiserver.authz.node import pod_references
from apiserver.authz.rules import Rule, allows, uncovered
from apiserver.requestinfo import request_info
from apiserver.user import UserInfo, node_name, split_service_account
from apitypes.rbac import ClusterRole
from controllers.base import Controller
from controllers.clusterroleaggregation import aggregate
from controllers.manager import CONTROLLERS

JANE = UserInfo("jane", groups=("dev",))


@pytest.mark.parametrize(
    ("method", "path", "query", "want"),
    [
        ("GET", "/api/v1/namespaces/a/pods", "", ("list", "", "pods", "", "a", "")),
        ("GET", "/api/v1/namespaces/a/pods", "watch=true", ("watch", "", "pods", "", "a", "")),
        ("GET", "/api/v1/watch/namespaces/a/pods", "", ("watch", "", "pods", "", "a", "")),
        ("GET", "/api/v1/namespaces/a/pods/p/log", "", ("get", "", "pods", "log", "a", "p")),
        ("POST", "/apis/apps/v1/namespaces/a/deployments", "", ("create", "apps", "deployments", "", "a", "")),
        ("DELETE", "/api/v1/namespaces/a/pods", "", ("deletecollection", "", "pods", "", "a", "")),
        ("PATCH", "/api/v1/nodes/n1/status", "", ("patch", "", "nodes", "status", "", "n1")),
        ("GET", "/api/v1/namespaces/a", "", ("get", "", "namespaces", "", "a", "a")),
        ("PUT", "/api/v1/namespaces/a/finalize", "", ("update", "", "namespaces", "finalize", "a", "a")),
        ("GET", "/api/v1/namespaces/a/secrets", "fieldSelector=metadata.name%3Ds1",
         ("list", "", "secrets", "", "a", "s1")),
    ],
)  # fmt: skip
def test_request_info_of_resource_paths(
    method: str, path: str, query: str, want: tuple[str, ...]
) -> None:
    info = request_info(method, path, query)
    assert info.is_resource_request
    got = (info.verb, info.api_group, info.resource, info.subresource, info.namespace, info.name)
    assert got == want


def test_request_info_of_other_paths_and_websockets() -> None:
    for path in ("/api", "/apis", "/api/v1", "/apis/apps/v1", "/healthz", "/version"):
        info = request_info("GET", path)
        assert not info.is_resource_request and info.verb == "get" and info.path == path
    # A WebSocket exec is a create, not a get.
    info = request_info("GET", "/api/v1/namespaces/a/pods/p/exec", websocket=True)
    assert info.verb == "create" and info.subresource == "exec"


def _attrs(verb: str, resource: str, *, group: str = "", sub: str = "", name: str = "",
           namespace: str = "a", path: str = "") -> Attributes:  # fmt: skip
    if path:
        return Attributes(JANE, verb, False, path=path)
    return Attributes(JANE, verb, True, namespace, group, "v1", resource, sub, name)


def test_rules_match_as_kubernetes_matches_them() -> None:
    pods = Rule.of({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]})
    assert pods.allows(_attrs("get", "pods"))
    assert not pods.allows(_attrs("list", "pods"))
    assert not pods.allows(_attrs("get", "pods", sub="log"))
    assert not pods.allows(_attrs("get", "pods", group="apps"))
    logs = Rule.of({"verbs": ["get"], "apiGroups": [""], "resources": ["*/log"]})
    assert logs.allows(_attrs("get", "pods", sub="log")) and not logs.allows(_attrs("get", "pods"))
    named = Rule.of({"verbs": ["get", "list"], "apiGroups": ["*"], "resources": ["secrets"],
                     "resourceNames": ["s1"]})  # fmt: skip
    assert named.allows(_attrs("get", "secrets", name="s1"))
    assert not named.allows(_attrs("get", "secrets", name="s2"))
    assert not named.allows(_attrs("list", "secrets"))  # a list names no object
    urls = Rule.of({"verbs": ["get"], "nonResourceURLs": ["/healthz", "/api/*"]})
    assert urls.allows(_attrs("get", "", path="/healthz"))
    assert urls.allows(_attrs("get", "", path="/api/v1"))
    assert not urls.allows(_attrs("get", "", path="/apis"))
    assert not urls.allows(_attrs("get", "pods"))
    everything = Rule.of({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})
    assert allows([pods, everything], _attrs("delete", "deployments", group="apps"))


def test_coverage_splits_rules_and_only_a_star_covers_a_star() -> None:
    owner = [
        Rule.of({"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods", "secrets"]}),
        Rule.of({"verbs": ["get"], "nonResourceURLs": ["/logs/*"]}),
    ]
    fine = Rule.of({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"],
                    "resourceNames": ["x"]})  # fmt: skip
    assert uncovered(owner, [fine]) == []
    more = Rule.of({"verbs": ["get", "delete"], "apiGroups": [""], "resources": ["pods"]})
    missing = uncovered(owner, [more])
    assert [(sorted(r.verbs), sorted(r.resources)) for r in missing] == [(["delete"], ["pods"])]
    star = Rule.of({"verbs": ["get"], "apiGroups": [""], "resources": ["*"]})
    assert uncovered(owner, [star])  # a wildcard is more than pods and secrets
    assert uncovered(owner, [Rule.of({"verbs": ["get"], "nonResourceURLs": ["/logs/a"]})]) == []
    assert uncovered(owner, [Rule.of({"verbs": ["get"], "nonResourceURLs": ["/metrics"]})])


def test_users_of_nodes_and_service_accounts() -> None:
    assert node_name(UserInfo("system:node:n1", groups=("system:nodes",))) == "n1"
    assert node_name(UserInfo("system:node:n1")) is None  # not in system:nodes
    assert split_service_account("system:serviceaccount:ns:ci") == ("ns", "ci")
    assert split_service_account("system:serviceaccount:ns") is None


def test_what_a_pod_uses() -> None:
    pod: dict[str, Any] = {
        "spec": {
            "serviceAccountName": "robot",
            "imagePullSecrets": [{"name": "pull"}],
            "volumes": [
                {"name": "a", "secret": {"secretName": "vol-secret"}},
                {"name": "b", "configMap": {"name": "vol-cm"}},
                {"name": "c", "persistentVolumeClaim": {"claimName": "claim"}},
                {"name": "d", "projected": {"sources": [{"secret": {"name": "proj"}},
                                                        {"configMap": {"name": "proj-cm"}}]}},
            ],
            "initContainers": [{"envFrom": [{"secretRef": {"name": "init-env"}}]}],
            "containers": [{"env": [{"name": "X", "valueFrom": {
                "configMapKeyRef": {"name": "env-cm", "key": "k"}}}]}],
        }
    }  # fmt: skip
    assert pod_references(pod) == {
        ("serviceaccounts", "robot"), ("secrets", "pull"), ("secrets", "vol-secret"),
        ("configmaps", "vol-cm"), ("persistentvolumeclaims", "claim"), ("secrets", "proj"),
        ("configmaps", "proj-cm"), ("secrets", "init-env"), ("configmaps", "env-cm"),
    }  # fmt: skip


def test_aggregation_collects_matching_roles_rules_once() -> None:
    def role(name: str, labels: dict[str, str], resources: list[str]) -> ClusterRole:
        return ClusterRole.model_validate(
            {"metadata": {"name": name, "labels": labels},
             "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": resources}]}
        )  # fmt: skip

    view = ClusterRole.model_validate(
        {"metadata": {"name": "view"},
         "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"agg": "view"}}]}}
    )  # fmt: skip
    parts = [
        role("b-part", {"agg": "view"}, ["pods"]),
        role("a-part", {"agg": "view"}, ["configmaps"]),
        role("dup", {"agg": "view"}, ["pods"]),
        role("other", {"agg": "edit"}, ["secrets"]),
    ]
    rules = aggregate(view, [view, *parts])
    assert [r["resources"] for r in rules] == [["configmaps"], ["pods"]]


def test_default_policy_binds_every_controller_role_to_its_account() -> None:
    roles = {r["metadata"]["name"]: r for r in cluster_roles()}
    bindings = {b["metadata"]["name"]: b for b in cluster_role_bindings()}
    accounts = {cls.service_account for cls in CONTROLLERS if cls.service_account}
    assert accounts <= set(CONTROLLER_ROLES), accounts - set(CONTROLLER_ROLES)
    for account in CONTROLLER_ROLES:
        binding = bindings[f"system:controller:{account}"]
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": account, "namespace": "kube-system"}
        ]
        assert binding["roleRef"]["name"] in roles
    for binding in bindings.values():
        assert binding["roleRef"]["name"] in roles, binding["metadata"]["name"]
    assert bindings["cluster-admin"]["subjects"][0]["name"] == "system:masters"
    assert {s["name"] for s in bindings["system:public-info-viewer"]["subjects"]} == {
        "system:authenticated",
        "system:unauthenticated",
    }
    assert issubclass(CONTROLLERS[0], Controller)
