"""Protobuf and content negotiation against a real apiserver, read with apitypes.protobuf.

The official Python client speaks JSON only; these requests are what client-go sends
(kubectl's own are in test_kubectl.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml

from apitypes import protobuf as pb
from testkit.processes import ApiServerProcess

pytestmark = pytest.mark.integration

PROTOBUF = "application/vnd.kubernetes.protobuf"
CLIENT_GO = f"{PROTOBUF}, application/json"


def configmap(name: str, namespace: str, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": "pb"}},
        "data": data,
    }


def test_create_and_read_in_protobuf(api: httpx.Client, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/secrets"
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "raw", "namespace": namespace},
        "data": {"blob": "AAEC/w=="},
    }
    created = api.post(
        base, content=pb.encode(secret), headers={"Content-Type": PROTOBUF, "Accept": CLIENT_GO}
    )
    assert created.status_code == 201, created.text
    assert created.headers["content-type"] == PROTOBUF
    obj = pb.decode(created.content)
    assert obj["data"] == {"blob": "AAEC/w=="} and obj["type"] == "Opaque"
    assert obj["metadata"]["uid"] and obj["metadata"]["creationTimestamp"]
    # The same object, read as JSON.
    assert api.get(f"{base}/raw").json()["metadata"]["uid"] == obj["metadata"]["uid"]


def test_list_in_protobuf(api: httpx.Client, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    for name in ("one", "two"):
        assert api.post(base, json=configmap(name, namespace, key=name)).status_code == 201
    resp = api.get(base, params={"labelSelector": "app=pb"}, headers={"Accept": CLIENT_GO})
    assert resp.status_code == 200
    assert resp.headers["content-type"] == PROTOBUF
    listed = pb.decode(resp.content)
    assert (listed["apiVersion"], listed["kind"]) == ("v1", "ConfigMapList")
    assert listed["metadata"]["resourceVersion"]
    assert [(i["metadata"]["name"], i["data"]) for i in listed["items"]] == [
        ("one", {"key": "one"}),
        ("two", {"key": "two"}),
    ]
    # Paged, as client-go's pager asks.
    page = pb.decode(api.get(base, params={"limit": 1}, headers={"Accept": CLIENT_GO}).content)
    assert len(page["items"]) == 1 and page["metadata"]["continue"]
    # Metadata only, as client-go's metadata informers ask.
    meta = api.get(
        base,
        headers={
            "Accept": f"{PROTOBUF};as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,"
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
        },
    )
    assert meta.headers["content-type"] == PROTOBUF
    partial = pb.decode(meta.content)
    assert partial["kind"] == "PartialObjectMetadataList"
    assert {i["metadata"]["name"] for i in partial["items"]} == {"one", "two"}
    assert all("data" not in i for i in partial["items"])


def _frames(resp: httpx.Response) -> Iterator[dict[str, Any]]:
    reader = pb.FrameReader()
    for chunk in resp.iter_bytes():
        for frame in reader.feed(chunk):
            yield pb.decode_watch_event(frame)


def test_watch_in_protobuf(api: httpx.Client, apiserver: ApiServerProcess, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    first = api.post(base, json=configmap("before", namespace, n="1")).json()
    rv = first["metadata"]["resourceVersion"]
    params = {"watch": "true", "resourceVersion": rv, "allowWatchBookmarks": "true"}
    with (
        apiserver.client(timeout=30) as watcher,
        watcher.stream("GET", base, params=params, headers={"Accept": CLIENT_GO}) as resp,
    ):
        assert resp.status_code == 200
        assert resp.headers["content-type"] == f"{PROTOBUF};stream=watch"
        api.post(base, json=configmap("after", namespace, n="2"))
        api.patch(
            f"{base}/after",
            json={"data": {"n": "3"}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        api.delete(f"{base}/after")
        seen: list[tuple[str, str, dict[str, str]]] = []
        deadline = time.monotonic() + 30
        for event in _frames(resp):
            obj = event["object"]
            assert (obj["apiVersion"], obj["kind"]) == ("v1", "ConfigMap")
            if event["type"] != "BOOKMARK":
                seen.append((event["type"], obj["metadata"]["name"], obj.get("data", {})))
            if len(seen) == 3 or time.monotonic() > deadline:
                break
    assert seen == [
        ("ADDED", "after", {"n": "2"}),
        ("MODIFIED", "after", {"n": "3"}),
        ("DELETED", "after", {"n": "3"}),
    ]


def test_errors_are_answered_in_the_negotiated_form(api: httpx.Client, namespace: str) -> None:
    missing = api.get(
        f"/api/v1/namespaces/{namespace}/configmaps/nope", headers={"Accept": CLIENT_GO}
    )
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROTOBUF
    status = pb.decode(missing.content)
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "NotFound", 404)
    assert status["details"] == {"name": "nope", "kind": "configmaps"}


def test_accept_lists_fall_back_and_weigh(api: httpx.Client, namespace: str) -> None:
    url = f"/api/v1/namespaces/{namespace}"
    cases = {
        "text/html, application/json": "application/json",
        "text/html, */*;q=0.8": "application/json",
        "application/*": "application/json",
        "application/json;q=0.5, application/yaml": "application/yaml",
        f"{PROTOBUF};q=0.1, application/json;q=0.9": "application/json",
        f"{PROTOBUF};as=Table;g=meta.k8s.io;v=v1, application/yaml": "application/yaml",
        f"application/json;q=0, {PROTOBUF}": PROTOBUF,
    }
    for accept, answered in cases.items():
        resp = api.get(url, headers={"Accept": accept})
        assert resp.status_code == 200, (accept, resp.text)
        assert resp.headers["content-type"] == answered, accept
    doc = yaml.safe_load(api.get(url, headers={"Accept": "application/yaml"}).text)
    assert (doc["kind"], doc["metadata"]["name"]) == ("Namespace", namespace)
    table = api.get(
        "/api/v1/namespaces",
        headers={"Accept": "application/json;as=Table;g=meta.k8s.io;v=v1, application/json"},
    ).json()
    assert table["kind"] == "Table"


def test_nothing_acceptable_is_406(api: httpx.Client, namespace: str) -> None:
    for accept in ("text/html", f"{PROTOBUF};as=Table;g=meta.k8s.io;v=v1", "application/json;q=0"):
        resp = api.get(f"/api/v1/namespaces/{namespace}/pods", headers={"Accept": accept})
        assert resp.status_code == 406, accept
        assert resp.headers["content-type"] == "application/json"
        status = resp.json()
        assert (status["kind"], status["reason"], status["code"]) == (
            "Status",
            "NotAcceptable",
            406,
        )
        assert PROTOBUF in status["message"]
    # A watch has no YAML form.
    watch = api.get(
        f"/api/v1/namespaces/{namespace}/pods",
        params={"watch": "true", "timeoutSeconds": "1"},
        headers={"Accept": "application/yaml"},
    )
    assert watch.status_code == 406


def test_an_unknown_body_format_is_415(api: httpx.Client, namespace: str) -> None:
    resp = api.post(
        f"/api/v1/namespaces/{namespace}/configmaps",
        content=b"name=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status_code == 415
    status = resp.json()
    assert (status["reason"], status["code"]) == ("UnsupportedMediaType", 415)
    for served in ("application/json", "application/yaml", PROTOBUF):
        assert served in status["message"]
    garbage = api.post(
        f"/api/v1/namespaces/{namespace}/configmaps",
        content=b"k8s\x00\xff\xff\xff",
        headers={"Content-Type": PROTOBUF},
    )
    assert garbage.status_code == 400


def test_subresources_in_protobuf(api: httpx.Client, namespace: str) -> None:
    # What client-go's typed clients send: kubectl scale's Scale, kubectl drain's Eviction.
    apps = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "busybox:1"}]},
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": template},
    }
    assert api.post(apps, json=deployment).status_code == 201
    read = api.get(f"{apps}/web/scale", headers={"Accept": CLIENT_GO})
    scale = pb.decode(read.content)
    assert (scale["kind"], scale["spec"], scale["status"]["selector"]) == (
        "Scale",
        {"replicas": 1},
        "app=web",
    )
    # Go's ScaleSpec.replicas is no pointer: a zero travels as "unset", meaning 0.
    scale["spec"]["replicas"] = 0
    written = api.put(
        f"{apps}/web/scale",
        content=pb.encode(scale),
        headers={"Content-Type": PROTOBUF, "Accept": CLIENT_GO},
    )
    assert written.status_code == 200, written.text
    assert pb.decode(written.content).get("spec", {}).get("replicas", 0) == 0
    assert api.get(f"{apps}/web").json()["spec"]["replicas"] == 0

    pods = f"/api/v1/namespaces/{namespace}/pods"
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": template["spec"]}
    assert api.post(pods, json=pod).status_code == 201
    eviction = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": "p", "namespace": namespace},
        "deleteOptions": {"gracePeriodSeconds": 0},
    }
    evicted = api.post(
        f"{pods}/p/eviction",
        content=pb.encode(eviction),
        headers={"Content-Type": PROTOBUF, "Accept": CLIENT_GO},
    )
    assert evicted.status_code == 201, evicted.text
    assert pb.decode(evicted.content)["status"] == "Success"
    assert api.get(f"{pods}/p").status_code == 404
