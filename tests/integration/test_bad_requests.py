"""Hostile and careless requests (issue 12): each is a clear 4xx, and nothing is written.

Every test sends the request, checks the status code, and then proves that nothing
changed: the object reads back with the same ``resourceVersion``, or etcd's revision
(the ``resourceVersion`` of a consistent list, which is etcd's current revision, and
every write moves it) is the same before and after.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration


def cm(name: str, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, **meta},
        "data": {"k": "v"},
    }


def pod(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "main", "image": "busybox"}], **spec},
    }


def revision(api: httpx.Client) -> int:
    """etcd's current revision: a consistent list is read from etcd at its head."""
    resp = api.get("/api/v1/namespaces", params={"limit": 1})
    assert resp.status_code == 200, resp.text
    return int(resp.json()["metadata"]["resourceVersion"])


class Unchanged:
    """``with Unchanged(api):`` fails if anything was written in etcd meanwhile."""

    def __init__(self, api: httpx.Client) -> None:
        self.api = api

    def __enter__(self) -> Unchanged:
        self.before = revision(self.api)
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            assert revision(self.api) == self.before, "something was written"


def refused(resp: httpx.Response, code: int, *words: str) -> dict[str, Any]:
    """``resp`` is a ``Status`` with ``code`` whose message has each of ``words``."""
    assert resp.status_code == code, resp.text
    status = resp.json()
    assert status["kind"] == "Status" and status["code"] == code, status
    for word in words:
        assert word in status["message"], status["message"]
    return status


@pytest.fixture
def configmaps(api: httpx.Client, namespace: str) -> Iterator[str]:
    """The namespace's ConfigMap collection, holding ``a`` and ``b``."""
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    for name in ("a", "b"):
        assert api.post(base, json=cm(name)).status_code == 201
    yield base


# --- wrong writes: dryRun ---------------------------------------------------------------

BAD_DRY_RUNS = ["all", "Bogus", "true", ""]


@pytest.mark.parametrize("value", BAD_DRY_RUNS)
def test_delete_with_a_bad_dry_run_deletes_nothing(
    api: httpx.Client, configmaps: str, value: str
) -> None:
    with Unchanged(api):
        params = {"dryRun": value} if value else [("dryRun", "All"), ("dryRun", "x")]
        refused(api.delete(f"{configmaps}/a", params=params), 400, "dryRun", "Unsupported")
    assert api.get(f"{configmaps}/a").status_code == 200


@pytest.mark.parametrize(
    "body",
    [{"dryRun": ["all"]}, {"dryRun": "All"}, {"dryRun": 5}, {"dryRun": [5]}],
    ids=["lowercase", "string", "number", "list-of-number"],
)
def test_delete_options_body_with_a_bad_dry_run_deletes_nothing(
    api: httpx.Client, configmaps: str, body: dict[str, Any]
) -> None:
    with Unchanged(api):
        refused(api.request("DELETE", f"{configmaps}/a", json=body), 400, "dryRun")


def test_a_bad_dry_run_writes_nothing_on_any_verb(
    api: httpx.Client, configmaps: str, namespace: str
) -> None:
    bogus = {"dryRun": "all"}
    merge = {"Content-Type": "application/merge-patch+json"}
    current = api.get(f"{configmaps}/a").json()
    api.post(f"/api/v1/namespaces/{namespace}/pods", json=pod("p"))
    with Unchanged(api):
        refused(api.post(configmaps, params=bogus, json=cm("new")), 400, "dryRun")
        refused(api.put(f"{configmaps}/a", params=bogus, json=current), 400, "dryRun")
        patch = api.patch(f"{configmaps}/a", params=bogus, json={"data": {}}, headers=merge)
        refused(patch, 400, "dryRun")
        refused(api.request("DELETE", configmaps, params=bogus), 400, "dryRun")
        pods = f"/api/v1/namespaces/{namespace}/pods"
        status = api.patch(f"{pods}/p/status", params=bogus, json={}, headers=merge)
        refused(status, 400, "dryRun")
        binding = {"target": {"name": "node-1"}}
        refused(api.post(f"{pods}/p/binding", params=bogus, json=binding), 400, "dryRun")
        eviction = {"metadata": {"name": "p"}}
        refused(api.post(f"{pods}/p/eviction", params=bogus, json=eviction), 400, "dryRun")
        body = {"metadata": {"name": "p"}, "deleteOptions": {"dryRun": ["all"]}}
        refused(api.post(f"{pods}/p/eviction", json=body), 400, "dryRun")
    assert api.get(f"{configmaps}/new").status_code == 404


def test_dry_run_all_is_still_a_dry_run(api: httpx.Client, configmaps: str) -> None:
    with Unchanged(api):
        assert api.delete(f"{configmaps}/a", params={"dryRun": "All"}).status_code == 200
        body = {"dryRun": ["All"]}
        assert api.request("DELETE", f"{configmaps}/b", json=body).status_code == 200
        deleted = api.request("DELETE", configmaps, params={"dryRun": "All"})
        assert deleted.status_code == 200 and len(deleted.json()["items"]) == 2


# --- wrong writes: namespaces ------------------------------------------------------------


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("POST", "/api/v1/secrets", {"kind": "Secret", "apiVersion": "v1"}),
        ("POST", "/api/v1/configmaps", {"kind": "ConfigMap", "apiVersion": "v1"}),
        ("POST", "/apis/apps/v1/deployments", {"kind": "Deployment", "apiVersion": "apps/v1"}),
        ("DELETE", "/api/v1/configmaps", None),
        ("PUT", "/api/v1/configmaps", {"kind": "ConfigMap", "apiVersion": "v1"}),
    ],
    ids=["post-secrets", "post-configmaps", "post-deployments", "deletecollection", "put"],
)
def test_the_all_namespaces_collection_is_read_only(
    api: httpx.Client, namespace: str, method: str, path: str, body: dict[str, Any] | None
) -> None:
    payload = None
    if body is not None:
        payload = {**body, "metadata": {"name": "x", "namespace": namespace}}
    with Unchanged(api):
        resp = api.request(method, path, json=payload)
        refused(resp, 405, "does not allow this method")
    # Reading it stays allowed.
    assert api.get(path).status_code == 200


def test_a_body_namespace_other_than_the_path_is_refused(api: httpx.Client, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    with Unchanged(api):
        resp = api.post(base, json=cm("x", namespace="default"))
        refused(resp, 400, "does not match the namespace sent on the request")


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_put_and_patch_on_a_collection_are_405(
    api: httpx.Client, configmaps: str, method: str
) -> None:
    headers = {"Content-Type": "application/merge-patch+json"}
    with Unchanged(api):
        resp = api.request(method, configmaps, json=cm("a"), headers=headers)
        refused(resp, 405, method)


# --- wrong writes: names -----------------------------------------------------------------


@pytest.mark.parametrize("node", ["../x", "a/b", "UPPER", "x" * 254, "a\x01b", " "])
def test_binding_targets_must_be_node_names(api: httpx.Client, namespace: str, node: str) -> None:
    pods = f"/api/v1/namespaces/{namespace}/pods"
    assert api.post(pods, json=pod("p")).status_code == 201
    before = api.get(f"{pods}/p").json()["metadata"]["resourceVersion"]
    resp = api.post(f"{pods}/p/binding", json={"target": {"kind": "Node", "name": node}})
    status = refused(resp, 422, "target.name")
    assert status["details"]["causes"][0]["field"] == "target.name"
    after = api.get(f"{pods}/p").json()
    assert after["metadata"]["resourceVersion"] == before
    assert "nodeName" not in after["spec"]


@pytest.mark.parametrize(
    "body",
    [
        {"metadata": "x", "target": {"name": "n"}},
        {"metadata": {"annotations": ["a"]}, "target": {"name": "n"}},
        {"metadata": {"annotations": {"a": 1}}, "target": {"name": "n"}},
        {"metadata": {"name": 5}, "target": {"name": "n"}},
        {"target": "n"},
        {"target": {"name": ["n"]}},
    ],
    ids=[
        "metadata-string",
        "annotations-list",
        "annotation-number",
        "name-number",
        "target-string",
        "target-name-list",
    ],
)
def test_malformed_binding_metadata_is_400(
    api: httpx.Client, namespace: str, body: dict[str, Any]
) -> None:
    pods = f"/api/v1/namespaces/{namespace}/pods"
    assert api.post(pods, json=pod("p")).status_code == 201
    with Unchanged(api):
        refused(api.post(f"{pods}/p/binding", json=body), 400, "Binding")


NAMES = ["../x", "Bad_Name", "a\x01b", "x" * 254, "-x", ""]


@pytest.mark.parametrize(
    "path,kind",
    [
        ("/api/v1/namespaces/{ns}/configmaps", ("v1", "ConfigMap")),
        ("/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets", ("policy/v1", "PodDisruptionBudget")),
        ("/api/v1/nodes", ("v1", "Node")),
    ],
    ids=["configmap", "pdb", "node"],
)  # fmt: skip
@pytest.mark.parametrize(
    "name", NAMES, ids=["dots", "underscore", "control", "long", "dash", "empty"]
)
def test_object_names_are_dns_subdomains(
    api: httpx.Client, namespace: str, path: str, kind: tuple[str, str], name: str
) -> None:
    body: dict[str, Any] = {"apiVersion": kind[0], "kind": kind[1], "metadata": {"name": name}}
    if kind[1] == "PodDisruptionBudget":
        body["spec"] = {"minAvailable": 1, "selector": {"matchLabels": {"a": "b"}}}
    with Unchanged(api):
        refused(api.post(path.format(ns=namespace), json=body), 422, "metadata.name")


@pytest.mark.parametrize(
    "meta,field",
    [
        ({"labels": {"a b": "c"}}, "metadata.labels"),
        ({"labels": {"a": "x\x01"}}, "metadata.labels"),
        ({"labels": {"a": "x" * 64}}, "metadata.labels"),
        ({"labels": {"p" * 254 + "/a": "b"}}, "metadata.labels"),
        ({"annotations": {"a": "x" * 256 * 1024}}, "metadata.annotations"),
        ({"annotations": {f"k{i}": "x" * 1024 for i in range(257)}}, "metadata.annotations"),
        ({"annotations": {"a\x01": "x"}}, "metadata.annotations"),
    ],
    ids=[
        "label-key-space",
        "label-value-control",
        "label-value-long",
        "label-prefix-long",
        "annotation-256k",
        "annotations-total-257k",
        "annotation-key-control",
    ],
)
def test_labels_and_annotations_are_validated(
    api: httpx.Client, namespace: str, meta: dict[str, Any], field: str
) -> None:
    with Unchanged(api):
        resp = api.post(f"/api/v1/namespaces/{namespace}/configmaps", json=cm("x", **meta))
        refused(resp, 422, field)


# --- list options ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params,words",
    [
        ({"resourceVersionMatch": "Garbage", "resourceVersion": "1"}, "Unsupported value"),
        ({"resourceVersionMatch": "Exact"}, "unless resourceVersion is provided"),
        ({"resourceVersionMatch": "Exact", "resourceVersion": "0"}, "forbidden"),
        ({"resourceVersionMatch": "Exact", "resourceVersion": "abc"}, "invalid resource version"),
        ({"resourceVersionMatch": "NotOlderThan", "resourceVersion": "-1"}, "invalid resource"),
        ({"resourceVersionMatch": "Exact", "resourceVersion": "1", "continue": "x"}, "continue"),
        ({"resourceVersion": str(2**63)}, "invalid resource version"),
        ({"limit": "-1"}, "limit"),
        ({"limit": str(10**30)}, "limit"),
        ({"limit": "1e3"}, "limit"),
    ],
    ids=[
        "rvm-garbage",
        "rvm-without-rv",
        "exact-0",
        "exact-malformed",
        "rv-negative",
        "rvm-with-continue",
        "rv-2^63",
        "limit-negative",
        "limit-huge",
        "limit-float",
    ],
)
def test_bad_list_options_are_400(
    api: httpx.Client, configmaps: str, params: dict[str, str], words: str
) -> None:
    refused(api.get(configmaps, params=params), 400, words)


def test_a_huge_limit_is_capped_not_unlimited(api: httpx.Client, configmaps: str) -> None:
    # Kubernetes' own page cap is 10,000; a limit of 2^62 is a page of at most that.
    resp = api.get(configmaps, params={"limit": str(2**62)})
    assert resp.status_code == 200, resp.text
    assert [i["metadata"]["name"] for i in resp.json()["items"]] == ["a", "b"]


def _token(revision: int, start: str) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": revision, "start": start}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "token,code",
    [
        (_token(2**63, "a\x00"), 400),
        (_token(2**64 + 5, "a\x00"), 400),
        (_token(0, "a\x00"), 400),
        (_token(-3, "a\x00"), 400),
        (_token(5, "../secrets/x\x00"), 400),
        (_token(5, "/x\x00"), 400),
        (_token(5, "a//b"), 400),
        ("not-base64!!", 400),
        (base64.urlsafe_b64encode(b"[1,2]").decode(), 400),
        (_token(1, "a\x00"), 410),
    ],
    ids=[
        "rv-2^63",
        "rv-2^64",
        "rv-0",
        "rv-negative",
        "traversal",
        "absolute",
        "double-slash",
        "not-base64",
        "not-an-object",
        "compacted",
    ],
)
def test_forged_continue_tokens(
    api: httpx.Client, configmaps: str, etcd: str, token: str, code: int
) -> None:
    if code == 410:
        # Revision 1 is gone once etcd compacted past it.
        from tests.integration.test_watch import compact

        compact(etcd, revision(api))
    refused(api.get(configmaps, params={"limit": 1, "continue": token}), code)


@pytest.mark.parametrize("value", ["1e400", str(2**63), "-" + str(2**64), "abc", "1.5"])
def test_watch_timeout_out_of_range_is_400(api: httpx.Client, configmaps: str, value: str) -> None:
    params = {"watch": "1", "timeoutSeconds": value}
    refused(api.get(configmaps, params=params), 400, "timeoutSeconds")


def test_a_long_but_valid_watch_timeout_is_served(api: httpx.Client, configmaps: str) -> None:
    params = {"watch": "1", "timeoutSeconds": str(2**62)}
    with api.stream("GET", configmaps, params=params) as resp:
        assert resp.status_code == 200
        first = json.loads(next(resp.iter_lines()))
        assert first["type"] == "ADDED"


# --- malformed bodies ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body,field",
    [
        ({"preconditions": "x"}, "preconditions"),
        ({"preconditions": {"uid": 5}}, "preconditions.uid"),
        ({"gracePeriodSeconds": "5"}, "gracePeriodSeconds"),
        ({"gracePeriodSeconds": 2**63}, "gracePeriodSeconds"),
        ({"propagationPolicy": "Sideways"}, "propagationPolicy"),
        ({"orphanDependents": "yes"}, "orphanDependents"),
        ([1, 2], "DeleteOptions"),
    ],
    ids=[
        "preconditions-string",
        "uid-number",
        "grace-string",
        "grace-2^63",
        "policy",
        "orphan-string",
        "list",
    ],
)
def test_malformed_delete_bodies_are_400(
    api: httpx.Client, configmaps: str, body: Any, field: str
) -> None:
    with Unchanged(api):
        refused(api.request("DELETE", f"{configmaps}/a", json=body), 400, field)
        refused(api.request("DELETE", configmaps, json=body), 400, field)


def test_a_huge_grace_period_is_not_a_500(api: httpx.Client, namespace: str) -> None:
    pods = f"/api/v1/namespaces/{namespace}/pods"
    assert api.post(pods, json=pod("g", nodeName="node-1")).status_code == 201
    resp = api.delete(f"{pods}/g", params={"gracePeriodSeconds": str(2**62)})
    assert resp.status_code == 200, resp.text
    assert resp.json()["metadata"]["deletionTimestamp"].startswith("9999-")


# --- bodies: depth, aliases, size ------------------------------------------------------------


def nested(depth: int, key: str = "f:a") -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {key: value}
    return value


def test_deeply_nested_managed_fields_are_400(api: httpx.Client, namespace: str) -> None:
    fields = [{"manager": "x", "operation": "Update", "fieldsV1": nested(300)}]
    with Unchanged(api):
        resp = api.post(
            f"/api/v1/namespaces/{namespace}/configmaps", json=cm("deep", managedFields=fields)
        )
        refused(resp, 400, "nested more than 100 levels")


def test_deeply_nested_patches_are_refused(api: httpx.Client, configmaps: str) -> None:
    before = api.get(f"{configmaps}/a").json()["metadata"]["resourceVersion"]
    smp = {"Content-Type": "application/strategic-merge-patch+json"}
    refused(api.patch(f"{configmaps}/a", json={"data": nested(900)}, headers=smp), 400, "nested")
    # A JSON patch within the budget whose value lands deep inside the object.
    fields = [
        {
            "manager": "x",
            "operation": "Update",
            "apiVersion": "v1",
            "fieldsType": "FieldsV1",
            "fieldsV1": nested(60),
        }
    ]
    merge = {"Content-Type": "application/merge-patch+json"}
    resp = api.patch(f"{configmaps}/a", json={"metadata": {"managedFields": fields}}, headers=merge)
    assert resp.status_code == 200, resp.text
    before = resp.json()["metadata"]["resourceVersion"]
    # The server records its own manager's entry beside the one sent: find ours.
    managers = [entry["manager"] for entry in resp.json()["metadata"]["managedFields"]]
    assert "x" in managers, managers
    path = f"/metadata/managedFields/{managers.index('x')}/fieldsV1" + "/f:a" * 55
    ops = [{"op": "add", "path": path + "/f:b", "value": nested(60)}]
    json_patch = {"Content-Type": "application/json-patch+json"}
    refused(api.patch(f"{configmaps}/a", json=ops, headers=json_patch), 422, "nested")
    assert api.get(f"{configmaps}/a").json()["metadata"]["resourceVersion"] == before


def test_a_yaml_billion_laughs_is_refused_at_once(api: httpx.Client, namespace: str) -> None:
    from tests.unit.test_safedecode import billion_laughs

    body = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\n" + billion_laughs()
    body += b"data: {k: *a8}\n"
    with Unchanged(api):
        started = time.perf_counter()
        resp = api.post(
            f"/api/v1/namespaces/{namespace}/configmaps",
            content=body,
            headers={"Content-Type": "application/yaml"},
        )
        elapsed = time.perf_counter() - started
        refused(resp, 400, "aliases expand")
    assert elapsed < 2.0  # the expansion alone is 387 million strings


def test_an_object_larger_than_etcd_takes_is_413(api: httpx.Client, namespace: str) -> None:
    big = pod("big")
    big["spec"]["containers"] = [{"name": f"c{i}", "image": "busybox"} for i in range(10_000)]
    with Unchanged(api):
        resp = api.post(f"/api/v1/namespaces/{namespace}/pods", json=big)
        status = refused(resp, 413, 'pods "big"', "more than etcd accepts")
        assert status["reason"] == "RequestEntityTooLarge"


def test_a_body_over_3_mib_is_413_even_without_a_length(api: httpx.Client, namespace: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"k":"'
        for _ in range(4):
            yield b"x" * (1024 * 1024)
        yield b'"}}'

    with Unchanged(api):
        resp = api.post(
            f"/api/v1/namespaces/{namespace}/configmaps",
            content=chunks(),
            headers={"Content-Type": "application/json"},
        )
        refused(resp, 413, "limit is 3145728")
