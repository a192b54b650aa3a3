"""apiserver.fieldmanager through the generic store and the REST handler: managedFields
kept on every write, and server-side apply, as Kubernetes keeps and does them."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from starlette.requests import Request

from apiserver import fieldmanager
from apiserver.errors import ApiError
from apiserver.fieldmanager import manager_from_user_agent, validate_manager
from apiserver.handlers import ResourceHandler
from apiserver.kinds.configmap import ConfigMapStrategy
from apiserver.kinds.deployment import DeploymentStrategy
from apiserver.registry.store import ResourceStore, WriteOptions
from apitypes import fieldpath as fp
from tests.unit.test_kinds_core import MemoryStorage
from tests.unit.test_subresources import make_request

NS = "default"
APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"


def deployment(replicas: int | None = 2, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]},
        },
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": spec | extra,
    }


def configmap(**data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data}


def as_(manager: str, **more: Any) -> WriteOptions:
    return WriteOptions(field_manager=manager, **more)


def entries(obj: dict[str, Any]) -> dict[tuple[str, str, str], list[str]]:
    """(manager, operation, subresource) -> the owned paths, as text."""
    out = {}
    for entry in obj["metadata"].get("managedFields", []):
        key = (entry["manager"], entry["operation"], entry.get("subresource", ""))
        out[key] = sorted(fp.iter_paths(fp.from_fields_v1(entry["fieldsV1"])))
    return out


@pytest.fixture
def deployments() -> ResourceStore:
    return ResourceStore(DeploymentStrategy(), MemoryStorage())  # type: ignore[arg-type]


@pytest.fixture
def configmaps() -> ResourceStore:
    return ResourceStore(ConfigMapStrategy(), MemoryStorage())  # type: ignore[arg-type]


# --- managers ------------------------------------------------------------------------------


def test_a_manager_defaults_to_the_user_agent_s_first_word() -> None:
    assert manager_from_user_agent("kubectl/v1.32.4 (linux/amd64) kubernetes/abc") == "kubectl"
    assert manager_from_user_agent("OpenAPI-Generator/31.0.0/python") == "OpenAPI-Generator"
    assert manager_from_user_agent("a\x01b/1") == "ab"
    assert manager_from_user_agent("x" * 200) == "x" * 128


def test_a_manager_is_short_and_printable() -> None:
    assert validate_manager("kubectl-client-side-apply") == []
    assert [e.message() for e in validate_manager("x" * 129)] == [
        "fieldManager: Too long: must have at most 128 bytes"
    ]
    assert [e.message() for e in validate_manager("a\tb")] == [
        'fieldManager: Invalid value: "a\\tb": invalid character U+0009 (at position 1)'
    ]


# --- every write records its manager ----------------------------------------------------------


async def test_a_create_records_its_writer_and_every_field_it_set(
    configmaps: ResourceStore,
) -> None:
    created = (await configmaps.create(NS, configmap(a="1"), as_("maker"))).obj
    (entry,) = created["metadata"]["managedFields"]
    assert entry["manager"] == "maker"
    assert entry["operation"] == "Update"
    assert entry["apiVersion"] == "v1"
    assert entry["fieldsType"] == "FieldsV1"
    assert entry["time"].endswith("Z")
    # data was added whole; the identity fields (name, namespace, uid...) are nobody's.
    assert entry["fieldsV1"] == {"f:data": {".": {}, "f:a": {}}}


async def test_an_update_takes_what_it_changes_from_whoever_owned_it(
    deployments: ResourceStore,
) -> None:
    await deployments.create(NS, deployment(), as_("maker"))

    def scale(obj: dict[str, Any]) -> dict[str, Any]:
        obj["spec"]["replicas"] = 5
        return obj

    scaled = (await deployments.patch(NS, "web", scale, as_("scaler"))).obj
    owned = entries(scaled)
    assert owned[("scaler", "Update", "")] == [".spec.replicas"]
    assert ".spec.replicas" not in owned[("maker", "Update", "")]
    assert '.spec.template.spec.containers[name="web"].image' in owned[("maker", "Update", "")]


async def test_a_write_that_changes_nothing_is_still_skipped(deployments: ResourceStore) -> None:
    created = (await deployments.create(NS, deployment(), as_("maker"))).obj
    again = (await deployments.patch(NS, "web", lambda obj: obj, as_("other"))).obj
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert again["metadata"]["managedFields"] == created["metadata"]["managedFields"]


async def test_status_writes_record_the_subresource_and_own_only_status(
    deployments: ResourceStore,
) -> None:
    await deployments.create(NS, deployment(), as_("maker"))

    def report(obj: dict[str, Any]) -> dict[str, Any]:
        obj["status"] = {"replicas": 2, "readyReplicas": 1}
        obj["spec"]["replicas"] = 7  # not a status write's to change
        return obj

    reported = (await deployments.patch(NS, "web", report, as_("ctl"), subresource="status")).obj
    assert reported["spec"]["replicas"] == 2
    assert entries(reported)[("ctl", "Update", "status")] == [
        ".status.readyReplicas",
        ".status.replicas",
    ]
    # Through the main resource, status is not the writer's to take.
    through_main = (await deployments.patch(NS, "web", report, as_("main"))).obj
    assert ("main", "Update", "") in entries(through_main)
    assert ".status.replicas" not in entries(through_main)[("main", "Update", "")]


async def test_update_entries_are_capped_at_ten(configmaps: ResourceStore) -> None:
    await configmaps.create(NS, configmap(k0="v"), as_("m0"))
    for i in range(1, 13):

        def add(obj: dict[str, Any], i: int = i) -> dict[str, Any]:
            obj["data"][f"k{i}"] = "v"
            return obj

        stored = (await configmaps.patch(NS, "c", add, as_(f"m{i}"))).obj
    managers = [e["manager"] for e in stored["metadata"]["managedFields"]]
    assert len(managers) == 10
    assert "ancient-changes" in managers
    owned = entries(stored)
    # What the merged managers owned is kept, under the bucket.
    assert len(owned[("ancient-changes", "Update", "")]) >= 3


# --- managedFields sent by a client ------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [
        [{"manager": "liar", "operation": "Steal"}],
        [{"manager": {"x": 1}, "operation": "Update", "apiVersion": "v1", "fieldsType": "X"}],
        [{"manager": "m", "operation": "Update", "apiVersion": "v1", "fieldsType": "FieldsV1",
          "fieldsV1": {"k:not json": {}}}],
        ["not an entry"],
        "not a list",
    ],
)  # fmt: skip
async def test_garbage_managed_fields_in_a_write_are_ignored(
    configmaps: ResourceStore, garbage: Any
) -> None:
    created = (await configmaps.create(NS, configmap(a="1"), as_("maker"))).obj
    body = copy.deepcopy(created)
    body["data"]["b"] = "2"
    body["metadata"]["managedFields"] = garbage
    updated = (await configmaps.update(NS, "c", body, as_("editor"))).obj
    assert {m for m, _, _ in entries(updated)} == {"maker", "editor"}


async def test_valid_managed_fields_in_a_write_replace_the_stored_ones(
    configmaps: ResourceStore,
) -> None:
    created = (await configmaps.create(NS, configmap(a="1"), as_("maker"))).obj
    body = copy.deepcopy(created)
    (entry,) = body["metadata"]["managedFields"]
    entry["manager"] = "renamed"
    updated = (await configmaps.update(NS, "c", body, as_("editor"))).obj
    assert list(entries(updated)) == [("renamed", "Update", "")]


async def test_a_reset_clears_them_until_an_apply_tracks_the_object_again(
    configmaps: ResourceStore,
) -> None:
    created = (await configmaps.create(NS, configmap(a="1"), as_("maker"))).obj
    body = copy.deepcopy(created)
    body["metadata"]["managedFields"] = [{}]
    cleared = (await configmaps.update(NS, "c", body, as_("editor"))).obj
    assert "managedFields" not in cleared["metadata"]

    def add(obj: dict[str, Any]) -> dict[str, Any]:
        obj["data"]["b"] = "2"
        return obj

    untracked = (await configmaps.patch(NS, "c", add, as_("editor"))).obj
    assert "managedFields" not in untracked["metadata"]
    # An apply first gives what is there to before-first-apply, then conflicts with it.
    with pytest.raises(ApiError) as caught:
        await configmaps.apply(NS, "c", configmap(a="9"), as_("applier"))
    assert caught.value.message == (
        'Apply failed with 1 conflict: conflict with "before-first-apply" using v1: .data.a'
    )
    applied = (await configmaps.apply(NS, "c", configmap(a="9"), as_("applier"), force=True)).obj
    assert entries(applied) == {
        ("applier", "Apply", ""): [".data.a"],
        ("before-first-apply", "Update", ""): [".data", ".data.b"],
    }


async def test_a_subresource_write_keeps_the_stored_managed_fields(
    deployments: ResourceStore,
) -> None:
    created = (await deployments.create(NS, deployment(), as_("maker"))).obj

    def report(obj: dict[str, Any]) -> dict[str, Any]:
        obj["status"] = {"replicas": 1}
        obj["metadata"]["managedFields"] = []
        return obj

    reported = (await deployments.patch(NS, "web", report, as_("ctl"), subresource="status")).obj
    assert ("maker", "Update", "") in entries(reported)
    assert entries(reported)[("maker", "Update", "")] == entries(created)[("maker", "Update", "")]


# --- apply -------------------------------------------------------------------------------------


async def test_apply_creates_then_reapplying_is_a_no_op(deployments: ResourceStore) -> None:
    result = await deployments.apply(NS, "web", deployment(), as_("kubectl"))
    assert result.created
    created = result.obj
    assert created["spec"]["strategy"]["type"] == "RollingUpdate"  # defaults still apply
    owned = entries(created)[("kubectl", "Apply", "")]
    assert ".spec.selector" in owned and ".spec.strategy.type" not in owned
    again = await deployments.apply(NS, "web", deployment(), as_("kubectl"))
    assert not again.created
    assert again.obj["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


async def test_a_conflicting_apply_is_409_naming_each_field_and_owner(
    deployments: ResourceStore,
) -> None:
    await deployments.apply(NS, "web", deployment(), as_("alice"))
    changed = deployment(replicas=3)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    with pytest.raises(ApiError) as caught:
        await deployments.apply(NS, "web", changed, as_("bob"))
    err = caught.value
    assert err.code == 409 and err.reason == "Conflict"
    assert err.message == (
        'Apply failed with 2 conflicts: conflicts with "alice":\n'
        "- .spec.replicas\n"
        '- .spec.template.spec.containers[name="web"].image'
    )
    assert err.details == {
        "causes": [
            {
                "reason": "FieldManagerConflict",
                "message": 'conflict with "alice"',
                "field": ".spec.replicas",
            },
            {
                "reason": "FieldManagerConflict",
                "message": 'conflict with "alice"',
                "field": '.spec.template.spec.containers[name="web"].image',
            },
        ]
    }
    forced = (await deployments.apply(NS, "web", changed, as_("bob"), force=True)).obj
    assert forced["spec"]["replicas"] == 3
    owned = entries(forced)
    assert ".spec.replicas" in owned[("bob", "Apply", "")]
    assert ".spec.replicas" not in owned[("alice", "Apply", "")]


async def test_a_conflict_with_an_updater_names_its_api_version(
    configmaps: ResourceStore,
) -> None:
    await configmaps.create(NS, configmap(a="1"), as_("kubectl-create"))
    with pytest.raises(ApiError) as caught:
        await configmaps.apply(NS, "c", configmap(a="2"), as_("ssa"))
    assert caught.value.message == (
        'Apply failed with 1 conflict: conflict with "kubectl-create" using v1: .data.a'
    )


async def test_fields_an_applier_drops_go_unless_someone_else_owns_them(
    deployments: ResourceStore,
) -> None:
    two = deployment()
    two["spec"]["template"]["spec"]["containers"].append({"name": "side", "image": "busybox"})
    await deployments.apply(NS, "web", two, as_("alice"))
    await deployments.apply(NS, "web", deployment(replicas=2), as_("bob"))
    dropped = deployment(replicas=None)
    dropped["metadata"]["labels"] = {}
    result = (await deployments.apply(NS, "web", dropped, as_("alice"))).obj
    containers = [c["name"] for c in result["spec"]["template"]["spec"]["containers"]]
    assert containers == ["web"]  # side was alice's alone
    assert result["spec"]["replicas"] == 2  # bob applies it too
    assert result["metadata"]["labels"] == {"app": "web"}  # bob applies it too


async def test_apply_through_status_owns_status_only(deployments: ResourceStore) -> None:
    await deployments.apply(NS, "web", deployment(), as_("kubectl"))
    status = {**deployment(replicas=9), "status": {"replicas": 2}}
    result = (await deployments.apply(NS, "web", status, as_("ctl"), subresource="status")).obj
    assert result["spec"]["replicas"] == 2
    assert result["status"] == {"replicas": 2}
    # Status and metadata are a status write's to change (here, as in Kubernetes).
    assert entries(result)[("ctl", "Apply", "status")] == [
        ".metadata.labels.app",
        ".status.replicas",
    ]
    elsewhere = {**status, "metadata": {"name": "nope"}}
    with pytest.raises(ApiError) as caught:
        await deployments.apply(NS, "nope", elsewhere, as_("ctl"), subresource="status")
    assert caught.value.code == 404


async def test_a_dry_run_apply_writes_nothing(configmaps: ResourceStore) -> None:
    dry = as_("ssa", dry_run=True)
    assert (await configmaps.apply(NS, "c", configmap(a="1"), dry)).created
    with pytest.raises(ApiError):
        await configmaps.get(NS, "c")
    stored = (await configmaps.apply(NS, "c", configmap(a="1"), as_("ssa"))).obj
    preview = (await configmaps.apply(NS, "c", configmap(a="2"), dry)).obj
    assert preview["data"] == {"a": "2"}
    assert (await configmaps.get(NS, "c")) == stored


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({**configmap(), "kind": "Secret"}, "invalid object type: /v1, Kind=Secret"),
        (
            {**configmap(), "metadata": {"name": "c", "managedFields": []}},
            "metadata.managedFields must be nil",
        ),
        (
            {**configmap(), "data": {"a": 1}},
            "failed to create typed patch object (/c; /v1, Kind=ConfigMap): "
            ".data.a: expected string, got number",
        ),
        (
            {**configmap(), "metadata": {"name": "other"}},
            "the name of the object (other) does not match the name on the URL (c)",
        ),
    ],
)
async def test_a_bad_configuration_is_400(
    configmaps: ResourceStore, config: dict[str, Any], message: str
) -> None:
    with pytest.raises(ApiError) as caught:
        await configmaps.apply(NS, "c", config, as_("ssa"))
    assert (caught.value.code, caught.value.message) == (400, message)


async def test_kubectl_keeps_the_client_side_annotation_in_step(
    configmaps: ResourceStore,
) -> None:
    annotated = configmap(a="1")
    last = orjson.dumps(annotated).decode()
    annotated["metadata"]["annotations"] = {fieldmanager.LAST_APPLIED: last}
    await configmaps.create(NS, annotated, as_("kubectl-client-side-apply"))
    # kubectl may take over what its client-side apply set, without a conflict...
    result = (await configmaps.apply(NS, "c", configmap(a="2"), as_("kubectl"))).obj
    assert result["data"] == {"a": "2"}
    synced = orjson.loads(result["metadata"]["annotations"][fieldmanager.LAST_APPLIED])
    assert synced["data"] == {"a": "2"}
    # ... another manager may not.
    with pytest.raises(ApiError):
        await configmaps.apply(NS, "c", configmap(a="3"), as_("someone"))


# --- through HTTP ------------------------------------------------------------------------------


async def test_the_handler_serves_apply_and_checks_its_options(
    configmaps: ResourceStore,
) -> None:
    handler = ResourceHandler({("", "configmaps"): configmaps})
    path = f"/api/v1/namespaces/{NS}/configmaps/c"
    yaml_body = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '1'}\n"

    def apply(query: str = "") -> Request:
        return make_request("PATCH", path, yaml_body, content_type=APPLY, query=query)

    def merge(query: str = "") -> Request:
        body = {"data": {"b": "2"}}
        return make_request(
            "PATCH", path, body, content_type=MERGE, query=query, user_agent="test-agent/1.0"
        )

    missing = await handler(apply())
    assert missing.status_code == 422
    assert orjson.loads(missing.body)["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required '
        "for apply patch"
    )
    created = await handler(apply("fieldManager=me"))
    assert created.status_code == 201
    assert orjson.loads(created.body)["metadata"]["managedFields"][0]["manager"] == "me"

    forced = await handler(merge("force=true"))
    assert forced.status_code == 422
    assert (
        "force: Forbidden: may not be specified for non-apply patch"
        in (orjson.loads(forced.body)["message"])
    )
    by_agent = await handler(merge())
    assert by_agent.status_code == 200
    managers = [e["manager"] for e in orjson.loads(by_agent.body)["metadata"]["managedFields"]]
    assert managers == ["me", "test-agent"]

    unknown = await handler(make_request("PATCH", path, b"{}", content_type="application/x-foo"))
    assert unknown.status_code == 415
    assert "application/apply-patch+yaml" in orjson.loads(unknown.body)["message"]
