"""The audit policy (``apiserver.audit``): which rule decides a request's level, the
cap on secret-bearing resources, policy errors, and the event's shape."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from apiserver.audit import (
    COMPLETE,
    METADATA,
    NONE,
    RECEIVED,
    REQUEST,
    REQUEST_RESPONSE,
    Auditor,
    AuditPolicyError,
    parse_policy,
)
from apiserver.requestinfo import request_info
from apiserver.user import UserInfo

ALICE = UserInfo("alice", "u1", ("devs", "system:authenticated"))
NODE = UserInfo("system:node:n1", "", ("system:nodes", "system:authenticated"))


def policy(*rules: dict[str, Any], **top: Any) -> Any:
    return parse_policy(
        {"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": list(rules), **top}
    )


def level(p: Any, user: UserInfo | None, method: str, path: str) -> str:
    return str(p.decide(user, request_info(method, path))[0])


def test_the_first_matching_rule_decides() -> None:
    p = policy(
        {"level": "None", "users": ["system:node:n1"], "verbs": ["get", "watch", "list"]},
        {"level": "None", "nonResourceURLs": ["/healthz*", "/version"]},
        {"level": "RequestResponse", "resources": [{"group": "", "resources": ["pods/log", "*/status"]}]},
        {"level": "Request", "userGroups": ["devs"], "resources": [{"group": "apps"}], "namespaces": ["team"]},
        {"level": "Metadata", "resources": [{"group": "", "resources": ["configmaps"], "resourceNames": ["cfg"]}]},
        {"level": "Metadata", "omitStages": ["RequestReceived"]},
    )  # fmt: skip
    assert level(p, NODE, "GET", "/api/v1/namespaces/a/pods") == NONE
    assert level(p, NODE, "POST", "/api/v1/namespaces/a/pods") == METADATA
    assert level(p, ALICE, "GET", "/healthz/ready") == NONE
    assert level(p, ALICE, "GET", "/version") == NONE
    assert level(p, ALICE, "GET", "/api/v1/namespaces/a/pods/p/log") == REQUEST_RESPONSE
    assert level(p, ALICE, "PUT", "/api/v1/nodes/n1/status") == REQUEST_RESPONSE
    assert level(p, ALICE, "POST", "/apis/apps/v1/namespaces/team/deployments") == REQUEST
    assert level(p, ALICE, "POST", "/apis/apps/v1/namespaces/other/deployments") == METADATA
    assert level(p, None, "GET", "/api/v1/namespaces/a/configmaps/cfg") == METADATA
    _, omit = p.decide(ALICE, request_info("GET", "/api/v1/namespaces"))
    assert omit == {"RequestReceived"}
    assert level(policy(), ALICE, "GET", "/api/v1/pods") == NONE  # no rule, no record


def test_secret_bearing_requests_are_never_logged_with_bodies() -> None:
    p = policy({"level": "RequestResponse"})
    assert level(p, ALICE, "POST", "/api/v1/namespaces/a/secrets") == METADATA
    assert level(p, ALICE, "POST", "/apis/authentication.k8s.io/v1/tokenreviews") == METADATA
    assert level(p, ALICE, "POST", "/api/v1/namespaces/a/serviceaccounts/d/token") == METADATA
    assert level(p, ALICE, "POST", "/api/v1/namespaces/a/serviceaccounts") == REQUEST_RESPONSE


@pytest.mark.parametrize(
    "doc",
    [
        {"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": [{"level": "Everything"}]},
        {"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": [{"level": "None", "verbs": "get"}]},
        {"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "omitStages": ["Later"]},
        {"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": [
            {"level": "None", "nonResourceURLs": ["/x"], "namespaces": ["a"]}]},
        {"apiVersion": "v1", "kind": "Policy"},
    ],
)  # fmt: skip
def test_bad_policies_are_refused(doc: dict[str, Any]) -> None:
    with pytest.raises(AuditPolicyError):
        parse_policy(doc)


def test_events_have_the_kubernetes_shape(tmp_path: Any) -> None:
    path = tmp_path / "audit.log"
    auditor = Auditor(policy({"level": "Request"}), str(path))
    scope = {
        "path": "/api/v1/namespaces/a/configmaps",
        "query_string": b"dryRun=All",
        "headers": [(b"user-agent", b"kubectl/v1.30")],
        "client": ("10.0.0.9", 5555),
    }
    event = auditor.event(scope, request_info("POST", scope["path"]), ALICE)
    assert event is not None
    auditor.write(event, RECEIVED)
    event.request_body += b'{"metadata":{"name":"c"}}'
    event.code = 201
    event.annotations["authorization.k8s.io/decision"] = "allow"
    auditor.write(event, COMPLETE)
    received, complete = (orjson.loads(line) for line in path.read_bytes().splitlines())
    assert received["stage"] == "RequestReceived" and "responseStatus" not in received
    assert complete["auditID"] == received["auditID"]
    for key in ("requestReceivedTimestamp", "stageTimestamp"):
        assert complete[key].endswith("Z")
    del complete["requestReceivedTimestamp"], complete["stageTimestamp"], complete["auditID"]
    assert complete == {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Request",
        "stage": "ResponseComplete",
        "requestURI": "/api/v1/namespaces/a/configmaps?dryRun=All",
        "verb": "create",
        "user": {"username": "alice", "uid": "u1", "groups": ["devs", "system:authenticated"]},
        "sourceIPs": ["10.0.0.9"],
        "userAgent": "kubectl/v1.30",
        "objectRef": {"resource": "configmaps", "namespace": "a", "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "code": 201},
        "requestObject": {"metadata": {"name": "c"}},
        "annotations": {"authorization.k8s.io/decision": "allow"},
    }
    assert path.stat().st_mode & 0o777 == 0o600


def test_navarch_up_audits_people_not_the_components_routine_reads() -> None:
    from cli.localcluster import AUDIT_POLICY

    p = parse_policy(AUDIT_POLICY)
    kcm = UserInfo("system:serviceaccount:kube-system:replicaset-controller", "", (
        "system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"))  # fmt: skip
    assert (
        level(p, NODE, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1")
        == NONE
    )
    assert level(p, NODE, "GET", "/api/v1/pods") == NONE
    assert level(p, kcm, "GET", "/apis/apps/v1/replicasets") == NONE
    assert level(p, kcm, "POST", "/api/v1/namespaces/a/pods") == METADATA
    assert level(p, ALICE, "GET", "/api/v1/namespaces/a/secrets") == METADATA
    assert level(p, ALICE, "GET", "/readyz") == NONE
