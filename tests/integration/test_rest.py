"""The apiserver's REST surface, against a real etcd and a real apiserver process."""

from __future__ import annotations

import httpx
import pytest

from testkit.processes import ApiServerProcess

pytestmark = pytest.mark.integration


def cm(name: str, **data: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def deployment(name: str, replicas: int = 1, image: str = "busybox") -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": image}]},
            },
        },
    }


def pod(name: str, labels: dict | None = None, node: str | None = None) -> dict:
    spec: dict = {"containers": [{"name": "main", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": spec,
    }


# --- discovery and health -------------------------------------------------------------


def test_discovery_documents(api: httpx.Client) -> None:
    assert api.get("/api").json()["versions"] == ["v1"]
    groups = {g["name"] for g in api.get("/apis").json()["groups"]}
    assert {"apps", "batch", "coordination.k8s.io"} <= groups
    core = {r["name"]: r for r in api.get("/api/v1").json()["resources"]}
    assert core["pods"]["namespaced"] is True
    assert core["nodes"]["namespaced"] is False
    assert core["pods"]["shortNames"] == ["po"]
    assert "watch" in core["pods"]["verbs"]
    assert core["pods/status"]["verbs"] == ["get", "patch", "update"]
    assert core["pods/binding"]["verbs"] == ["create"]
    apps = {r["name"]: r for r in api.get("/apis/apps/v1").json()["resources"]}
    assert apps["deployments/scale"]["kind"] == "Scale"
    assert apps["deployments/scale"]["group"] == "autoscaling"
    assert api.get("/apis/apps").json()["preferredVersion"]["groupVersion"] == "apps/v1"
    assert api.get("/apis/nope/v1").status_code == 404


def test_version_health_and_metrics(api: httpx.Client) -> None:
    version = api.get("/version").json()
    assert version["major"] == "1" and version["gitVersion"].startswith("v1.")
    for path in ("/healthz", "/livez", "/readyz"):
        assert api.get(path).text == "ok"
    api.get("/api/v1/namespaces/default/configmaps")
    metrics = api.get("/metrics").text
    assert 'apiserver_request_total{code="200",group="",resource="configmaps"' in metrics
    assert "apiserver_request_duration_seconds_bucket" in metrics


def test_default_namespaces_exist(api: httpx.Client) -> None:
    names = {n["metadata"]["name"] for n in api.get("/api/v1/namespaces").json()["items"]}
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names


# --- create / read / update / delete ------------------------------------------------------


def test_crud_and_resource_version_is_etcd_revision(api: httpx.Client, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    created = api.post(base, json=cm("a", k="v"))
    assert created.status_code == 201, created.text
    obj = created.json()
    meta = obj["metadata"]
    assert meta["namespace"] == namespace
    assert meta["uid"] and meta["creationTimestamp"].endswith("Z")
    rv = int(meta["resourceVersion"])
    got = api.get(f"{base}/a").json()
    assert got["metadata"]["resourceVersion"] == str(rv)
    assert got["data"] == {"k": "v"}

    obj["data"] = {"k": "w"}
    updated = api.put(f"{base}/a", json=obj)
    assert updated.status_code == 200, updated.text
    assert int(updated.json()["metadata"]["resourceVersion"]) > rv
    assert updated.json()["metadata"]["uid"] == meta["uid"]

    stale = api.put(f"{base}/a", json=obj)  # still carries the old resourceVersion
    assert stale.status_code == 409
    assert stale.json()["reason"] == "Conflict"
    assert api.get(f"{base}/a").json()["data"] == {"k": "w"}

    again = api.post(base, json=cm("a"))
    assert again.status_code == 409 and again.json()["reason"] == "AlreadyExists"
    assert again.json()["message"] == 'configmaps "a" already exists'

    deleted = api.delete(f"{base}/a")
    assert deleted.status_code == 200
    assert deleted.json()["status"] == "Success"
    missing = api.get(f"{base}/a")
    assert missing.status_code == 404
    assert missing.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'configmaps "a" not found',
        "reason": "NotFound",
        "details": {"name": "a", "kind": "configmaps"},
        "code": 404,
    }


def test_unconditional_update_without_resource_version(api: httpx.Client, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    api.post(base, json=cm("u", k="1"))
    resp = api.put(f"{base}/u", json=cm("u", k="2"))
    assert resp.status_code == 200, resp.text
    assert api.get(f"{base}/u").json()["data"] == {"k": "2"}


def test_generate_name(api: httpx.Client, namespace: str) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "gen-"}}
    names = set()
    for _ in range(3):
        resp = api.post(f"/api/v1/namespaces/{namespace}/configmaps", json=body)
        assert resp.status_code == 201, resp.text
        name = resp.json()["metadata"]["name"]
        assert name.startswith("gen-") and len(name) == len("gen-") + 5
        names.add(name)
    assert len(names) == 3


def test_missing_namespace_is_refused(api: httpx.Client) -> None:
    resp = api.post("/api/v1/namespaces/no-such-ns/configmaps", json=cm("x"))
    assert resp.status_code == 404
    assert resp.json()["message"] == 'namespaces "no-such-ns" not found'


def test_cluster_scoped_and_yaml_body(api: httpx.Client) -> None:
    body = b"apiVersion: v1\nkind: Node\nmetadata:\n  name: yaml-node\n  labels: {zone: a}\n"
    resp = api.post("/api/v1/nodes", content=body, headers={"Content-Type": "application/yaml"})
    assert resp.status_code == 201, resp.text
    assert "namespace" not in resp.json()["metadata"]
    assert api.get("/api/v1/nodes/yaml-node").json()["metadata"]["labels"] == {"zone": "a"}
    assert api.delete("/api/v1/nodes/yaml-node").status_code == 200


# --- refusals: nothing is written -------------------------------------------------------


def _count(api: httpx.Client, path: str) -> int:
    return len(api.get(path).json()["items"])


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        (cm("Bad_Name"), 422, "metadata.name"),
        ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "t"}, "data": {"k": 1}},
         422, "data.k"),
        ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}, 422, "metadata.name"),
    ],
)  # fmt: skip
def test_invalid_objects_name_the_field(
    api: httpx.Client, namespace: str, body: dict, code: int, field: str
) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    before = _count(api, path)
    resp = api.post(path, json=body)
    assert resp.status_code == code, resp.text
    status = resp.json()
    assert status["kind"] == "Status" and status["reason"] == "Invalid"
    assert field in [c["field"] for c in status["details"]["causes"]]
    assert _count(api, path) == before


def test_pod_image_required(api: httpx.Client, namespace: str) -> None:
    body = pod("p")
    del body["spec"]["containers"][0]["image"]
    resp = api.post(f"/api/v1/namespaces/{namespace}/pods", json=body)
    assert resp.status_code == 422, resp.text
    fields = [c["field"] for c in resp.json()["details"]["causes"]]
    assert "spec.containers[0].image" in fields


def test_bad_requests(api: httpx.Client, namespace: str) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    before = _count(api, path)
    wrong_kind = api.post(
        path, json={"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}
    )
    assert wrong_kind.status_code == 400
    malformed = api.post(
        path, content=b'{"metadata": ', headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400 and malformed.json()["reason"] == "BadRequest"
    bad_yaml = api.post(path, content=b"a: [", headers={"Content-Type": "application/yaml"})
    assert bad_yaml.status_code == 400
    huge = cm("huge", k="x" * (3 * 1024 * 1024 + 10))
    too_big = api.post(path, json=huge)
    assert too_big.status_code == 413
    api.post(path, json=cm("named"))
    mismatch = api.put(f"{path}/named", json=cm("other"))
    assert mismatch.status_code == 400
    assert "does not match the name on the URL" in mismatch.json()["message"]
    wrong_ns = api.post(path, json={**cm("y"), "metadata": {"name": "y", "namespace": "default"}})
    assert wrong_ns.status_code == 400
    assert _count(api, path) == before + 1


def test_unknown_fields_are_dropped_with_a_warning(api: httpx.Client, namespace: str) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    body = {**cm("w", a="b"), "bogus": 1, "metadata": {"name": "w", "extra": "x"}}
    resp = api.post(path, json=body)
    assert resp.status_code == 201, resp.text
    warnings = resp.headers.get_list("warning")
    assert '299 - "unknown field \\"bogus\\""' in warnings
    assert '299 - "unknown field \\"metadata.extra\\""' in warnings
    stored = api.get(f"{path}/w").json()
    assert "bogus" not in stored and "extra" not in stored["metadata"]
    strict = api.post(f"{path}?fieldValidation=Strict", json={**cm("s"), "bogus": 1})
    assert strict.status_code == 400
    assert 'unknown field "bogus"' in strict.json()["message"]
    assert api.get(f"{path}/s").status_code == 404


# --- subresources -----------------------------------------------------------------------


def test_status_and_spec_are_split(api: httpx.Client, namespace: str) -> None:
    base = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    created = api.post(base, json=deployment("split"))
    assert created.status_code == 201, created.text
    obj = created.json()
    assert obj["metadata"]["generation"] == 1
    assert "status" not in obj or not obj["status"].get("replicas")

    # The main resource ignores status.
    obj["status"] = {"replicas": 7}
    obj["metadata"]["labels"]["touched"] = "yes"
    after = api.put(f"{base}/split", json=obj).json()
    assert (after.get("status") or {}).get("replicas") is None
    assert after["metadata"]["generation"] == 1  # metadata only: no new generation

    # /status ignores spec.
    after["status"] = {"replicas": 3, "observedGeneration": 1}
    after["spec"]["replicas"] = 9
    status = api.put(f"{base}/split/status", json=after)
    assert status.status_code == 200, status.text
    current = api.get(f"{base}/split").json()
    assert current["status"]["replicas"] == 3
    assert current["spec"]["replicas"] == 1

    # A spec change bumps the generation.
    current["spec"]["replicas"] = 2
    assert api.put(f"{base}/split", json=current).json()["metadata"]["generation"] == 2


def test_scale_subresource(api: httpx.Client, namespace: str) -> None:
    base = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    api.post(base, json=deployment("sc", replicas=2))
    scale = api.get(f"{base}/sc/scale").json()
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"]["replicas"] == 2
    patched = api.patch(
        f"{base}/sc/scale",
        json={"spec": {"replicas": 5}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200, patched.text
    assert api.get(f"{base}/sc").json()["spec"]["replicas"] == 5
    scale = api.get(f"{base}/sc/scale").json()
    scale["spec"]["replicas"] = 4
    assert api.put(f"{base}/sc/scale", json=scale).status_code == 200
    assert api.get(f"{base}/sc").json()["spec"]["replicas"] == 4
    assert api.put(f"{base}/sc/scale", json=scale).status_code == 409  # stale version
    bad = api.patch(
        f"{base}/sc/scale",
        json={"spec": {"replicas": -1}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert bad.status_code == 422


def test_binding_assigns_a_node_once(api: httpx.Client, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/pods"
    api.post(base, json=pod("b"))
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "b"},
        "target": {"apiVersion": "v1", "kind": "Node", "name": "node-1"},
    }
    resp = api.post(f"{base}/b/binding", json=binding)
    assert resp.status_code == 201, resp.text
    bound = api.get(f"{base}/b").json()
    assert bound["spec"]["nodeName"] == "node-1"
    conds = {c["type"]: c["status"] for c in bound["status"]["conditions"]}
    assert conds["PodScheduled"] == "True"
    again = api.post(f"{base}/b/binding", json=binding)
    assert again.status_code == 409


def test_binding_refuses_a_gated_pod_and_writes_nothing(api: httpx.Client, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/pods"
    body = pod("g")
    body["spec"]["schedulingGates"] = [{"name": "example.com/wait"}]
    created = api.post(base, json=body).json()
    binding = {"metadata": {"name": "g"}, "target": {"kind": "Node", "name": "node-1"}}
    resp = api.post(f"{base}/g/binding", json=binding)
    assert resp.status_code == 409, resp.text
    assert "schedulingGates" in resp.json()["message"]
    after = api.get(f"{base}/g").json()
    assert after["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert "nodeName" not in after["spec"]


# --- deletion -----------------------------------------------------------------------------


def test_finalizers_keep_an_object_until_the_last_goes(api: httpx.Client, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    body = cm("fin")
    body["metadata"]["finalizers"] = ["example.com/a", "example.com/b"]
    api.post(base, json=body)
    resp = api.delete(f"{base}/fin")
    assert resp.status_code == 200
    marked = api.get(f"{base}/fin").json()
    assert marked["metadata"]["deletionTimestamp"]
    merge = {"Content-Type": "application/merge-patch+json"}
    api.patch(f"{base}/fin", json={"metadata": {"finalizers": ["example.com/b"]}}, headers=merge)
    assert api.get(f"{base}/fin").status_code == 200
    # A terminating object may lose finalizers but never gain them.
    api.patch(
        f"{base}/fin",
        json={"metadata": {"finalizers": ["example.com/b", "example.com/new"]}},
        headers=merge,
    )
    assert api.get(f"{base}/fin").json()["metadata"]["finalizers"] == ["example.com/b"]
    api.patch(f"{base}/fin", json={"metadata": {"finalizers": None}}, headers=merge)
    assert api.get(f"{base}/fin").status_code == 404


def test_delete_preconditions_and_propagation(api: httpx.Client, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    api.post(base, json=cm("pre"))
    wrong = api.request("DELETE", f"{base}/pre", json={"preconditions": {"uid": "not-the-uid"}})
    assert wrong.status_code == 409
    orphan = api.request("DELETE", f"{base}/pre", json={"propagationPolicy": "Orphan"})
    assert orphan.status_code == 200
    obj = api.get(f"{base}/pre").json()
    assert obj["metadata"]["finalizers"] == ["orphan"]
    bad = api.delete(f"{base}/other?propagationPolicy=Sometimes")
    assert bad.status_code == 400


def test_scheduled_pod_deletion_is_graceful(api: httpx.Client, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/pods"
    api.post(base, json=pod("g", node="node-1"))
    resp = api.delete(f"{base}/g")
    assert resp.status_code == 200
    obj = api.get(f"{base}/g").json()
    assert obj["metadata"]["deletionGracePeriodSeconds"] == 30
    assert obj["metadata"]["deletionTimestamp"]
    gone = api.delete(f"{base}/g?gracePeriodSeconds=0")
    assert gone.status_code == 200
    assert api.get(f"{base}/g").status_code == 404
    # An unscheduled pod goes at once.
    api.post(base, json=pod("u"))
    api.delete(f"{base}/u")
    assert api.get(f"{base}/u").status_code == 404


def test_delete_collection_by_label(api: httpx.Client, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    for i, tier in enumerate(["a", "a", "b"]):
        body = cm(f"dc{i}")
        body["metadata"]["labels"] = {"tier": tier}
        api.post(base, json=body)
    resp = api.delete(f"{base}?labelSelector=tier%3Da")
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["items"]) == 2
    left = [o["metadata"]["name"] for o in api.get(base).json()["items"]]
    assert left == ["dc2"]


# --- patches ----------------------------------------------------------------------------------


def test_patch_types(api: httpx.Client, namespace: str) -> None:
    base = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    body = deployment("p")
    body["spec"]["template"]["spec"]["containers"].append({"name": "side", "image": "side:1"})
    api.post(base, json=body)
    smp = {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "new:2"}]}}}}
    resp = api.patch(
        f"{base}/p", json=smp, headers={"Content-Type": "application/strategic-merge-patch+json"}
    )
    assert resp.status_code == 200, resp.text
    containers = resp.json()["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("main", "new:2"), ("side", "side:1")]

    merge = api.patch(
        f"{base}/p", json=smp, headers={"Content-Type": "application/merge-patch+json"}
    )
    assert [c["name"] for c in merge.json()["spec"]["template"]["spec"]["containers"]] == ["main"]

    ops = [{"op": "replace", "path": "/spec/replicas", "value": 3}]
    jp = api.patch(f"{base}/p", json=ops, headers={"Content-Type": "application/json-patch+json"})
    assert jp.json()["spec"]["replicas"] == 3
    bad = api.patch(
        f"{base}/p",
        json=[{"op": "remove", "path": "/spec/nope"}],
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert bad.status_code == 422
    unsupported = api.patch(f"{base}/p", json={}, headers={"Content-Type": "text/plain"})
    assert unsupported.status_code == 415


# --- list ---------------------------------------------------------------------------------


def test_label_and_field_selectors(api: httpx.Client, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/pods"
    api.post(base, json=pod("l1", {"app": "web", "tier": "front"}, node="n1"))
    api.post(base, json=pod("l2", {"app": "web", "tier": "back"}))
    api.post(base, json=pod("l3", {"app": "db"}, node="n1"))

    def names(query: str) -> list[str]:
        resp = api.get(f"{base}?{query}")
        assert resp.status_code == 200, resp.text
        return sorted(o["metadata"]["name"] for o in resp.json()["items"])

    assert names("labelSelector=app%3Dweb") == ["l1", "l2"]
    assert names("labelSelector=app!%3Dweb") == ["l3"]
    assert names("labelSelector=tier+in+(front,back)") == ["l1", "l2"]
    assert names("labelSelector=!tier") == ["l3"]
    assert names("labelSelector=app%3Dweb,tier+notin+(back)") == ["l1"]
    assert names("fieldSelector=spec.nodeName%3Dn1") == ["l1", "l3"]
    assert names("fieldSelector=spec.nodeName%3D") == ["l2"]
    assert names("fieldSelector=metadata.name%3Dl2") == ["l2"]
    assert names("fieldSelector=status.phase%3DPending") == ["l1", "l2", "l3"]
    assert names("fieldSelector=spec.schedulerName%3Ddefault-scheduler") == ["l1", "l2", "l3"]
    bad_field = api.get(f"{base}?fieldSelector=spec.bogus%3Dx")
    assert bad_field.status_code == 400
    assert "field label not supported: spec.bogus" in bad_field.json()["message"]
    bad_label = api.get(f"{base}?labelSelector=a%3D%3D%3Db")
    assert bad_label.status_code == 400
    # Across namespaces, with the namespace field.
    everywhere = api.get(f"/api/v1/pods?fieldSelector=metadata.namespace%3D{namespace}").json()
    assert len(everywhere["items"]) == 3


def test_limit_and_continue_are_one_consistent_snapshot(api: httpx.Client, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    for i in range(7):
        api.post(base, json=cm(f"c{i}"))
    first = api.get(f"{base}?limit=3").json()
    assert [o["metadata"]["name"] for o in first["items"]] == ["c0", "c1", "c2"]
    assert first["metadata"]["remainingItemCount"] == 4
    token = first["metadata"]["continue"]
    # Writes after the first page do not show in later pages.
    api.post(base, json=cm("c9"))
    api.delete(f"{base}/c5")
    rest: list[str] = []
    while token:
        page = api.get(f"{base}?limit=3&continue={token}").json()
        assert page["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
        rest += [o["metadata"]["name"] for o in page["items"]]
        token = page["metadata"].get("continue")
    assert rest == ["c3", "c4", "c5", "c6"]
    assert api.get(f"{base}?limit=2&continue=garbage").status_code == 400


def test_list_resource_version_and_tables(api: httpx.Client, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    created = api.post(base, json=cm("t1", a="1", b="2")).json()
    listed = api.get(base).json()
    assert int(listed["metadata"]["resourceVersion"]) >= int(created["metadata"]["resourceVersion"])
    cached = api.get(f"{base}?resourceVersion=0").json()
    assert [o["metadata"]["name"] for o in cached["items"]] == ["t1"]
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    table = api.get(base, headers={"Accept": accept}).json()
    assert table["kind"] == "Table"
    assert table["columnDefinitions"][0]["name"] == "Name"
    assert table["rows"][0]["cells"][0] == "t1"
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_eviction_honours_disruption_budgets(api: httpx.Client, namespace: str) -> None:
    pods = f"/api/v1/namespaces/{namespace}/pods"
    merge = {"Content-Type": "application/merge-patch+json"}
    for name in ("e1", "e2"):
        api.post(pods, json=pod(name, {"app": "guarded"}, node="n1"))
        api.patch(f"{pods}/{name}/status", json={"status": {"phase": "Running"}}, headers=merge)
    pdbs = f"/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets"
    budget = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "guard"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "guarded"}}},
    }
    assert api.post(pdbs, json=budget).status_code == 201
    api.patch(
        f"{pdbs}/guard/status",
        json={"status": {"disruptionsAllowed": 1, "currentHealthy": 2, "desiredHealthy": 1,
                         "expectedPods": 2, "observedGeneration": 1}},
        headers=merge,
    )  # fmt: skip

    def evict(name: str) -> httpx.Response:
        body = {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": name, "namespace": namespace},
            "deleteOptions": {"gracePeriodSeconds": 0},
        }
        return api.post(f"{pods}/{name}/eviction", json=body)

    first = evict("e1")
    assert first.status_code == 201, first.text
    assert api.get(f"{pods}/e1").status_code == 404
    status = api.get(f"{pdbs}/guard").json()["status"]
    assert status["disruptionsAllowed"] == 0 and "e1" in status["disruptedPods"]
    refused = evict("e2")
    assert refused.status_code == 429
    assert refused.json()["details"]["causes"][0]["reason"] == "DisruptionBudget"
    assert api.get(f"{pods}/e2").status_code == 200
    # A pod that is not running is evicted whatever the budget says.
    api.post(pods, json=pod("pending", {"app": "guarded"}))
    assert evict("pending").status_code == 201


def test_a_list_right_after_a_burst_of_writes_holds_every_write(
    apiserver: ApiServerProcess, namespace: str
) -> None:
    """A consistent list (no resourceVersion) reflects every write acknowledged before
    it, with or without a field selector, while etcd is still delivering the burst to
    the watch cache; and a version from the future is refused, not served stale."""
    from concurrent.futures import ThreadPoolExecutor

    base = f"/api/v1/namespaces/{namespace}/pods"
    count = 1500

    def create(chunk: range) -> None:
        with apiserver.client(timeout=30) as client:
            for i in chunk:
                resp = client.post(base, json=pod(f"burst-{i}", {"burst": "1"}))
                assert resp.status_code == 201, resp.text

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(create, [range(i, count, 16) for i in range(16)]))
    with apiserver.client(timeout=60) as client:
        selected = client.get(
            base, params={"fieldSelector": "status.phase!=Succeeded", "labelSelector": "burst=1"}
        ).json()
        assert len(selected["items"]) == count
        ahead = int(selected["metadata"]["resourceVersion"]) + 1_000_000
        resp = client.get(base, params={"resourceVersion": str(ahead)})
        assert resp.status_code == 504 and "Too large resource version" in resp.json()["message"]
