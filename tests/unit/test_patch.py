"""Tests for apitypes.patch: JSON merge patch, JSON patch, strategic merge patch."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import Field

from apitypes import apps
from apitypes.base import KubeModel, KubeObject, items, mapping, merge_list, retain_keys
from apitypes.meta import ObjectMeta
from apitypes.patch import (
    PatchError,
    apply_json_patch,
    apply_merge_patch,
    apply_strategic_merge_patch,
    create_merge_patch,
    create_three_way_merge_patch,
    create_two_way_merge_patch,
)

# --- test models: a trimmed Pod and Deployment -------------------------------------------


class EnvVar(KubeModel):
    name: str
    value: str | None = None


class ContainerPort(KubeModel):
    name: str | None = None
    container_port: int
    protocol: str | None = None


class Container(KubeModel):
    name: str
    image: str | None = None
    image_pull_policy: str | None = None
    args: list[str] = items()
    env: list[EnvVar] = merge_list("name")
    ports: list[ContainerPort] = merge_list("containerPort")


class Volume(KubeModel):
    name: str
    empty_dir: dict[str, Any] | None = None
    host_path: dict[str, Any] | None = None
    config_map: dict[str, Any] | None = None


class PodSpec(KubeModel):
    containers: list[Container] = merge_list("name")
    volumes: list[Volume] = merge_list("name", retain_keys=True)
    node_selector: dict[str, str] = mapping()
    tolerations: list[dict[str, Any]] = items()
    restart_policy: str | None = None
    node_name: str | None = None
    extra: dict[str, Any] | None = None


class Pod(KubeObject):
    API_VERSION = "v1"
    KIND = "Pod"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: PodSpec | None = None
    status: dict[str, Any] | None = None


class RollingUpdate(KubeModel):
    max_surge: int | str | None = None
    max_unavailable: int | str | None = None


class DeploymentStrategy(KubeModel):
    type: str | None = None
    rolling_update: RollingUpdate | None = None


class DeploymentSpec(KubeModel):
    replicas: int | None = None
    strategy: DeploymentStrategy | None = retain_keys()
    template: PodTemplate | None = None


class PodTemplate(KubeModel):
    metadata: ObjectMeta | None = None
    spec: PodSpec | None = None


class Deployment(KubeObject):
    API_VERSION = "apps/v1"
    KIND = "Deployment"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: DeploymentSpec | None = None


def pod(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web"},
        "spec": {"containers": list(containers), **spec},
    }


# --- JSON merge patch ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "patch", "expected"),
    [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch_rfc7386_examples(doc: Any, patch: Any, expected: Any) -> None:
    assert apply_merge_patch(doc, patch) == expected


def test_merge_patch_does_not_mutate_or_share() -> None:
    doc = {"a": {"b": [1, 2]}, "keep": {"x": 1}}
    patch = {"a": {"c": {"d": 1}}}
    doc_before, patch_before = copy.deepcopy(doc), copy.deepcopy(patch)
    result = apply_merge_patch(doc, patch)
    assert result == {"a": {"b": [1, 2], "c": {"d": 1}}, "keep": {"x": 1}}
    assert doc == doc_before and patch == patch_before
    result["keep"]["x"] = 2
    result["a"]["c"]["d"] = 2
    assert doc == doc_before and patch == patch_before


def test_create_merge_patch() -> None:
    original = {"a": 1, "b": {"c": 2, "d": 3}, "e": [1], "gone": "x"}
    modified = {"a": 1, "b": {"c": 2, "d": 4}, "e": [1, 2], "new": {"z": 1}}
    patch = create_merge_patch(original, modified)
    assert patch == {"b": {"d": 4}, "e": [1, 2], "new": {"z": 1}, "gone": None}
    assert create_merge_patch(original, copy.deepcopy(original)) == {}
    # ``true`` and ``1`` are different JSON values.
    assert create_merge_patch({"a": 1}, {"a": True}) == {"a": True}


json_scalars = st.one_of(
    st.booleans(), st.integers(-5, 5), st.text(max_size=3), st.floats(allow_nan=False)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.text(max_size=3), children, max_size=4),
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=3), json_values, max_size=5)


@given(json_objects, json_objects)
@settings(max_examples=300)
def test_merge_patch_round_trip(a: dict[str, Any], b: dict[str, Any]) -> None:
    patch = create_merge_patch(a, b)
    assert apply_merge_patch(a, patch) == b
    assert create_merge_patch(b, b) == {}


# --- JSON patch ------------------------------------------------------------------------


def test_json_patch_operations() -> None:
    doc = {"metadata": {"labels": {"a": "1"}}, "spec": {"containers": [{"name": "a"}]}}
    ops = [
        {"op": "add", "path": "/metadata/labels/b", "value": "2"},
        {"op": "replace", "path": "/metadata/labels/a", "value": "one"},
        {"op": "add", "path": "/spec/containers/-", "value": {"name": "b"}},
        {"op": "copy", "from": "/spec/containers/0", "path": "/spec/first"},
        {"op": "move", "from": "/metadata/labels/b", "path": "/metadata/labels/c"},
        {"op": "test", "path": "/metadata/labels/c", "value": "2"},
        {"op": "remove", "path": "/spec/containers/0"},
    ]
    before = copy.deepcopy(doc)
    assert apply_json_patch(doc, ops) == {
        "metadata": {"labels": {"a": "one", "c": "2"}},
        "spec": {"containers": [{"name": "b"}], "first": {"name": "a"}},
    }
    assert doc == before


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        ({"op": "add"}, "must be a list"),
        (["add"], "operation 0 is not an object"),
        ([{"path": "/a"}], "operation 0 has no 'op'"),
        ([{"op": "add", "value": 1}], "has no 'path'"),
        ([{"op": "frobnicate", "path": "/a"}], "operation 0 (frobnicate '/a') is invalid"),
        ([{"op": "replace", "path": "/a/b"}], "is invalid"),
        (
            [
                {"op": "add", "path": "/x", "value": 1},
                {"op": "replace", "path": "/nope", "value": 1},
            ],
            "operation 1 (replace '/nope') does not apply",
        ),
        ([{"op": "remove", "path": "/list/5"}], "does not apply"),
        ([{"op": "test", "path": "/a", "value": 2}], "test failed"),
        ([{"op": "add", "path": "no-slash", "value": 1}], "does not apply"),
        ([{"op": "copy", "from": "/missing", "path": "/b"}], "does not apply"),
    ],
)
def test_json_patch_errors(ops: Any, message: str) -> None:
    doc = {"a": 1, "list": [1]}
    with pytest.raises(PatchError) as caught:
        apply_json_patch(doc, ops)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert doc == {"a": 1, "list": [1]}


# --- strategic merge patch: applying ---------------------------------------------------


def test_containers_merge_by_name() -> None:
    doc = pod({"name": "app", "image": "app:1"}, {"name": "sidecar", "image": "proxy:1"})
    patch = {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}
    result = apply_strategic_merge_patch(doc, patch, Pod)
    assert result["spec"]["containers"] == [
        {"name": "app", "image": "app:2"},
        {"name": "sidecar", "image": "proxy:1"},
    ]
    assert result["metadata"] == {"name": "web"}


def test_new_container_is_added_and_env_merged_by_name() -> None:
    doc = pod(
        {
            "name": "app",
            "image": "app:1",
            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        }
    )
    patch = {
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "env": [{"name": "B", "value": "two"}, {"name": "C", "value": "3"}],
                },
                {"name": "log", "image": "busybox"},
            ]
        }
    }
    result = apply_strategic_merge_patch(doc, patch, Pod)
    app, log = result["spec"]["containers"]
    assert app["image"] == "app:1"
    assert app["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "two"},
        {"name": "C", "value": "3"},
    ]
    assert log == {"name": "log", "image": "busybox"}


def test_patch_delete_directive_removes_container() -> None:
    doc = pod({"name": "a"}, {"name": "b"}, {"name": "c"})
    patch = {"spec": {"containers": [{"name": "b", "$patch": "delete"}]}}
    result = apply_strategic_merge_patch(doc, patch, Pod)
    assert [c["name"] for c in result["spec"]["containers"]] == ["a", "c"]


def test_patch_delete_needs_merge_key() -> None:
    with pytest.raises(PatchError, match="merge key"):
        apply_strategic_merge_patch(
            pod({"name": "a"}), {"spec": {"containers": [{"$patch": "delete"}]}}, Pod
        )


def test_patch_replace_directive_in_list_replaces_list() -> None:
    doc = pod({"name": "a", "image": "x"}, {"name": "b"})
    patch = {"spec": {"containers": [{"$patch": "replace"}, {"name": "z", "image": "y"}]}}
    result = apply_strategic_merge_patch(doc, patch, Pod)
    assert result["spec"]["containers"] == [{"name": "z", "image": "y"}]


def test_patch_replace_and_delete_directives_in_maps() -> None:
    doc = pod({"name": "a"}, nodeSelector={"disk": "ssd", "zone": "a"})
    replaced = apply_strategic_merge_patch(
        doc, {"spec": {"nodeSelector": {"$patch": "replace", "gpu": "yes"}}}, Pod
    )
    assert replaced["spec"]["nodeSelector"] == {"gpu": "yes"}
    emptied = apply_strategic_merge_patch(
        doc, {"spec": {"nodeSelector": {"$patch": "delete"}}}, Pod
    )
    # Kubernetes leaves an empty map behind (which serialises away as omitempty).
    assert emptied["spec"]["nodeSelector"] == {}
    absent = apply_strategic_merge_patch(
        pod({"name": "a"}), {"spec": {"nodeSelector": {"$patch": "delete"}}}, Pod
    )
    assert "nodeSelector" not in absent["spec"]
    merged = apply_strategic_merge_patch(
        doc, {"spec": {"nodeSelector": {"$patch": "merge", "gpu": "yes"}}}, Pod
    )
    assert merged["spec"]["nodeSelector"] == {"disk": "ssd", "zone": "a", "gpu": "yes"}
    assert apply_strategic_merge_patch(doc, {"$patch": "delete"}, Pod) == {}


def test_unknown_patch_directive_is_rejected() -> None:
    with pytest.raises(PatchError, match="unknown patch type"):
        apply_strategic_merge_patch(pod(), {"spec": {"$patch": "explode"}}, Pod)
    with pytest.raises(PatchError, match="unknown patch type"):
        apply_strategic_merge_patch(
            pod({"name": "a"}), {"spec": {"containers": [{"name": "a", "$patch": "x"}]}}, Pod
        )


def test_null_deletes_and_unmatched_null_is_dropped() -> None:
    doc = pod({"name": "a", "image": "x"}, restartPolicy="Always")
    patch = {"spec": {"restartPolicy": None, "nodeName": None}, "metadata": {"labels": None}}
    result = apply_strategic_merge_patch(doc, patch, Pod)
    assert result["spec"] == {"containers": [{"name": "a", "image": "x"}]}
    assert result["metadata"] == {"name": "web"}
    nested_new = apply_strategic_merge_patch(pod(), {"spec": {"extra": {"a": 1, "b": None}}}, Pod)
    assert nested_new["spec"]["extra"] == {"a": 1}


def test_lists_without_strategy_are_replaced() -> None:
    doc = pod({"name": "a", "args": ["x", "y"]}, tolerations=[{"key": "a"}, {"key": "b"}])
    patch = {"spec": {"containers": [{"name": "a", "args": ["z"]}], "tolerations": [{"key": "c"}]}}
    result = apply_strategic_merge_patch(doc, patch, Pod)
    assert result["spec"]["containers"][0]["args"] == ["z"]
    assert result["spec"]["tolerations"] == [{"key": "c"}]


def test_finalizers_merge_as_a_set() -> None:
    doc = {"metadata": {"name": "x", "finalizers": ["a", "b"]}}
    result = apply_strategic_merge_patch(doc, {"metadata": {"finalizers": ["b", "c"]}}, Pod)
    assert result["metadata"]["finalizers"] == ["a", "b", "c"]
    # An element the patch mentions alone lands before the server's, as in Kubernetes.
    result = apply_strategic_merge_patch(doc, {"metadata": {"finalizers": ["c"]}}, Pod)
    assert result["metadata"]["finalizers"] == ["c", "a", "b"]
    same = apply_strategic_merge_patch(doc, {"metadata": {"finalizers": ["a", "a"]}}, Pod)
    assert same["metadata"]["finalizers"] == ["a", "b"]


def test_delete_from_primitive_list() -> None:
    doc = {"metadata": {"finalizers": ["a", "b", "c"]}}
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "zz"]}}
    assert apply_strategic_merge_patch(doc, patch, Pod)["metadata"]["finalizers"] == ["a", "c"]
    # Deleting from a list that is not there does not create it.
    result = apply_strategic_merge_patch({"metadata": {}}, patch, Pod)
    assert result == {"metadata": {}}
    with pytest.raises(PatchError, match="malformed directive"):
        apply_strategic_merge_patch(doc, {"metadata": {"$deleteFromPrimitiveList": ["a"]}}, Pod)


def test_set_element_order_reorders_merged_list() -> None:
    doc = pod({"name": "a"}, {"name": "b"}, {"name": "c"})
    patch = {
        "spec": {
            "$setElementOrder/containers": [{"name": "c"}, {"name": "a"}, {"name": "b"}],
            "containers": [{"name": "a", "image": "new"}],
        }
    }
    result = apply_strategic_merge_patch(doc, patch, Pod)
    assert result["spec"]["containers"] == [
        {"name": "c"},
        {"name": "a", "image": "new"},
        {"name": "b"},
    ]
    assert "$setElementOrder/containers" not in result["spec"]


def test_set_element_order_keeps_server_only_elements_in_place() -> None:
    # "injected" was added by the server; the patch orders only what it knows. A
    # server-only element stays before the patch elements it preceded in the live list.
    doc = pod({"name": "a"}, {"name": "injected"}, {"name": "b"})
    patch = {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}}
    result = apply_strategic_merge_patch(doc, patch, Pod)
    assert [c["name"] for c in result["spec"]["containers"]] == ["injected", "b", "a"]
    doc = pod({"name": "a"}, {"name": "b"}, {"name": "injected"})
    result = apply_strategic_merge_patch(doc, patch, Pod)
    assert [c["name"] for c in result["spec"]["containers"]] == ["b", "a", "injected"]


def test_set_element_order_for_scalars_and_mismatch_error() -> None:
    doc = {"metadata": {"finalizers": ["a", "b"]}}
    patch = {"metadata": {"$setElementOrder/finalizers": ["c", "b", "a"], "finalizers": ["c"]}}
    result = apply_strategic_merge_patch(doc, patch, Pod)
    assert result["metadata"]["finalizers"] == ["c", "b", "a"]
    bad = {
        "spec": {
            "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
            "containers": [{"name": "b", "image": "x"}, {"name": "a", "image": "y"}],
        }
    }
    with pytest.raises(PatchError, match="doesn't match"):
        apply_strategic_merge_patch(pod({"name": "a"}, {"name": "b"}), bad, Pod)


def test_retain_keys_switches_deployment_strategy() -> None:
    doc = {
        "spec": {
            "replicas": 2,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}},
        }
    }
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    result = apply_strategic_merge_patch(doc, patch, Deployment)
    assert result["spec"] == {"replicas": 2, "strategy": {"type": "Recreate"}}
    # Without the directive the old member survives (plain merge).
    merged = apply_strategic_merge_patch(
        doc, {"spec": {"strategy": {"type": "Recreate"}}}, Deployment
    )
    assert merged["spec"]["strategy"] == {"type": "Recreate", "rollingUpdate": {"maxSurge": "25%"}}
    with pytest.raises(PatchError, match="retainKeys"):
        apply_strategic_merge_patch(
            doc, {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}}, Deployment
        )


def test_retain_keys_on_volume_list_elements() -> None:
    doc = pod({"name": "a"}, volumes=[{"name": "data", "emptyDir": {}}, {"name": "cfg"}])
    patch = {
        "spec": {
            "volumes": [
                {"name": "data", "$retainKeys": ["hostPath", "name"], "hostPath": {"path": "/d"}}
            ]
        }
    }
    result = apply_strategic_merge_patch(doc, patch, Pod)
    assert result["spec"]["volumes"] == [
        {"name": "data", "hostPath": {"path": "/d"}},
        {"name": "cfg"},
    ]


def test_unknown_fields_fall_back_to_merge_patch_semantics() -> None:
    doc = pod({"name": "a"}, extra={"a": {"b": 1, "c": 2}, "list": [{"name": "x", "v": 1}]})
    patch = {
        "spec": {
            "extra": {"a": {"c": None, "d": 4}, "list": [{"name": "x", "v": 2}]},
            "undeclared": {"x": [1]},
        },
        "status": {"phase": "Running"},
    }
    result = apply_strategic_merge_patch(doc, patch, Pod)
    assert result["spec"]["extra"] == {"a": {"b": 1, "d": 4}, "list": [{"name": "x", "v": 2}]}
    assert result["spec"]["undeclared"] == {"x": [1]}
    assert result["status"] == {"phase": "Running"}


def test_without_a_model_maps_merge_and_lists_replace() -> None:
    doc = {"a": {"b": 1}, "items": [{"name": "x"}], "tags": ["a"]}
    patch = {"a": {"c": 2}, "items": [{"name": "y"}], "tags": ["b"]}
    assert apply_strategic_merge_patch(doc, patch, None) == {
        "a": {"b": 1, "c": 2},
        "items": [{"name": "y"}],
        "tags": ["b"],
    }


def test_new_values_are_cleaned_of_directives_and_nulls() -> None:
    patch = {
        "spec": {
            "containers": [
                {
                    "name": "a",
                    "env": [{"name": "X", "value": None}, {"name": "Y", "$patch": "delete"}],
                }
            ]
        }
    }
    result = apply_strategic_merge_patch(pod(), patch, Pod)
    assert result["spec"]["containers"] == [{"name": "a", "env": [{"name": "X"}]}]


def test_type_change_replaces_value() -> None:
    doc = pod({"name": "a"}, extra={"v": [1, 2]})
    result = apply_strategic_merge_patch(doc, {"spec": {"extra": {"v": {"k": 1}}}}, Pod)
    assert result["spec"]["extra"] == {"v": {"k": 1}}


def test_malformed_inputs_raise() -> None:
    with pytest.raises(PatchError):
        apply_strategic_merge_patch(pod(), [], Pod)  # type: ignore[arg-type]
    with pytest.raises(PatchError):
        apply_strategic_merge_patch([], {}, Pod)  # type: ignore[arg-type]
    with pytest.raises(PatchError, match="merge key"):
        apply_strategic_merge_patch(
            pod({"name": "a"}), {"spec": {"containers": [{"image": "x"}]}}, Pod
        )
    with pytest.raises(PatchError, match="one type"):
        apply_strategic_merge_patch(pod({"name": "a"}), {"spec": {"containers": ["oops"]}}, Pod)


def test_apply_does_not_mutate_inputs() -> None:
    doc = pod({"name": "a", "env": [{"name": "A", "value": "1"}]}, {"name": "b"})
    patch = {
        "spec": {
            "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
            "containers": [{"name": "a", "env": [{"name": "A", "value": "2"}]}],
        },
        "metadata": {"labels": {"x": "y"}},
    }
    doc_before, patch_before = copy.deepcopy(doc), copy.deepcopy(patch)
    result = apply_strategic_merge_patch(doc, patch, Pod)
    assert doc == doc_before and patch == patch_before
    result["spec"]["containers"][1]["env"][0]["value"] = "changed"
    assert doc == doc_before and patch == patch_before


# --- strategic merge patch: two-way --------------------------------------------------------


def test_two_way_patch_changes_one_container() -> None:
    original = pod({"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"})
    modified = pod({"name": "a", "image": "a:2"}, {"name": "b", "image": "b:1"})
    patch = create_two_way_merge_patch(original, modified, Pod)
    assert patch == {
        "spec": {
            "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
            "containers": [{"name": "a", "image": "a:2"}],
        }
    }
    assert apply_strategic_merge_patch(original, patch, Pod) == modified


def test_two_way_patch_deletions() -> None:
    original = pod(
        {"name": "a"},
        {"name": "b"},
        restartPolicy="Always",
        nodeSelector={"disk": "ssd", "zone": "a"},
    )
    original["metadata"]["finalizers"] = ["x", "y"]
    modified = pod({"name": "a"}, nodeSelector={"disk": "ssd"})
    modified["metadata"]["finalizers"] = ["y"]
    patch = create_two_way_merge_patch(original, modified, Pod)
    assert patch == {
        "metadata": {
            "$deleteFromPrimitiveList/finalizers": ["x"],
            "$setElementOrder/finalizers": ["y"],
        },
        "spec": {
            "$setElementOrder/containers": [{"name": "a"}],
            "containers": [{"name": "b", "$patch": "delete"}],
            "nodeSelector": {"zone": None},
            "restartPolicy": None,
        },
    }
    assert apply_strategic_merge_patch(original, patch, Pod) == modified


def test_two_way_patch_of_equal_documents_is_empty() -> None:
    doc = pod({"name": "a", "env": [{"name": "A"}]}, volumes=[{"name": "v", "emptyDir": {}}])
    assert create_two_way_merge_patch(doc, copy.deepcopy(doc), Pod) == {}


def test_two_way_patch_reorder_only() -> None:
    original = pod({"name": "a"}, {"name": "b"})
    modified = pod({"name": "b"}, {"name": "a"})
    patch = create_two_way_merge_patch(original, modified, Pod)
    assert patch == {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}}
    assert apply_strategic_merge_patch(original, patch, Pod) == modified


def test_two_way_patch_retain_keys() -> None:
    original = {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}
    modified = {"spec": {"strategy": {"type": "Recreate"}}}
    patch = create_two_way_merge_patch(original, modified, Deployment)
    assert patch == {
        "spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": None}}
    }
    assert apply_strategic_merge_patch(original, patch, Deployment) == modified


def test_two_way_patch_does_not_mutate_inputs() -> None:
    original = pod({"name": "a", "image": "1"})
    modified = pod({"name": "a", "image": "2"}, {"name": "b"})
    before = copy.deepcopy((original, modified))
    patch = create_two_way_merge_patch(original, modified, Pod)
    patch["spec"]["containers"][0]["name"] = "mutated"
    assert (original, modified) == before


# --- strategic merge patch: three-way (kubectl apply) -------------------------------------


def live(manifest: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` as the server stores it: defaults and server-set fields added."""
    current = copy.deepcopy(manifest)
    current["metadata"].update(
        uid="0d1f", resourceVersion="42", creationTimestamp="2024-01-01T00:00:00Z"
    )
    for container in current["spec"]["containers"]:
        container.setdefault("imagePullPolicy", "IfNotPresent")
    current["spec"].setdefault("restartPolicy", "Always")
    current["spec"]["nodeName"] = "node-1"
    current["status"] = {"phase": "Running"}
    return current


def test_three_way_patch_is_empty_when_only_server_fields_differ() -> None:
    manifest = pod({"name": "a", "image": "a:1", "env": [{"name": "A", "value": "1"}]})
    assert create_three_way_merge_patch(manifest, manifest, live(manifest), Pod) == {}


def test_three_way_patch_sets_changes_relative_to_live_object() -> None:
    manifest = pod({"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"})
    current = live(manifest)
    current["spec"]["containers"][0]["image"] = "a:hotfix"  # changed by someone else
    patch = create_three_way_merge_patch(manifest, manifest, current, Pod)
    assert patch == {
        "spec": {
            "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
            "containers": [{"name": "a", "image": "a:1"}],
        }
    }


def test_three_way_patch_deletes_fields_removed_from_manifest() -> None:
    original = pod({"name": "a", "image": "a:1"}, restartPolicy="Never")
    original["metadata"]["labels"] = {"app": "web", "tier": "front"}
    modified = pod({"name": "a", "image": "a:1"})
    modified["metadata"]["labels"] = {"app": "web"}
    current = live(original)
    current["metadata"]["labels"]["added-by-controller"] = "yes"
    patch = create_three_way_merge_patch(original, modified, current, Pod)
    assert patch == {"metadata": {"labels": {"tier": None}}, "spec": {"restartPolicy": None}}
    result = apply_strategic_merge_patch(current, patch, Pod)
    assert result["metadata"]["labels"] == {"app": "web", "added-by-controller": "yes"}
    assert "restartPolicy" not in result["spec"]
    assert result["spec"]["nodeName"] == "node-1"
    assert result["status"] == {"phase": "Running"}


def test_three_way_patch_deletes_removed_container_and_finalizer() -> None:
    original = pod({"name": "a"}, {"name": "b"})
    original["metadata"]["finalizers"] = ["mine", "old"]
    modified = pod({"name": "a"})
    modified["metadata"]["finalizers"] = ["mine"]
    current = live(original)
    current["metadata"]["finalizers"] = ["mine", "old", "controller"]
    patch = create_three_way_merge_patch(original, modified, current, Pod)
    assert patch == {
        "metadata": {
            "$deleteFromPrimitiveList/finalizers": ["old"],
            "$setElementOrder/finalizers": ["mine"],
        },
        "spec": {
            "$setElementOrder/containers": [{"name": "a"}],
            "containers": [{"name": "b", "$patch": "delete"}],
        },
    }
    result = apply_strategic_merge_patch(current, patch, Pod)
    assert result["metadata"]["finalizers"] == ["mine", "controller"]
    assert result["spec"]["containers"] == [{"name": "a", "imagePullPolicy": "IfNotPresent"}]


def test_three_way_patch_never_touches_fields_only_current_has() -> None:
    manifest = pod({"name": "a"})
    current = live(manifest)
    current["metadata"]["annotations"] = {"other-writer": "x"}
    current["spec"]["containers"].append({"name": "injected-sidecar"})
    patch = create_three_way_merge_patch(manifest, manifest, current, Pod)
    # Kubernetes still pins the order of the list it manages, nothing more.
    assert patch == {"spec": {"$setElementOrder/containers": [{"name": "a"}]}}
    result = apply_strategic_merge_patch(current, patch, Pod)
    assert result == current


def test_three_way_patch_renaming_a_container_matches_kubectl() -> None:
    # kubectl sends a deletion plus an addition; Kubernetes puts the new container
    # after the server-only one that followed the deleted one.
    original = pod({"name": "old"}, {"name": "keep"})
    modified = pod({"name": "keep"}, {"name": "new", "image": "n"})
    current = pod({"name": "old"}, {"name": "keep"}, {"name": "server"})
    patch = create_three_way_merge_patch(original, modified, current, Pod)
    assert patch == {
        "spec": {
            "$setElementOrder/containers": [{"name": "keep"}, {"name": "new"}],
            "containers": [{"name": "new", "image": "n"}, {"name": "old", "$patch": "delete"}],
        }
    }
    result = apply_strategic_merge_patch(current, patch, Pod)
    assert [c["name"] for c in result["spec"]["containers"]] == ["keep", "server", "new"]


def test_three_way_patch_switches_strategy_with_retain_keys() -> None:
    original = {"spec": {"replicas": 1, "strategy": {"type": "RollingUpdate"}}}
    modified = {"spec": {"replicas": 1, "strategy": {"type": "Recreate"}}}
    current = {
        "spec": {
            "replicas": 1,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
        },
        "status": {"replicas": 1},
    }
    patch = create_three_way_merge_patch(original, modified, current, Deployment)
    assert patch == {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    result = apply_strategic_merge_patch(current, patch, Deployment)
    assert result == {
        "spec": {"replicas": 1, "strategy": {"type": "Recreate"}},
        "status": {"replicas": 1},
    }


def test_three_way_patch_clears_a_defaulted_union_member() -> None:
    # The manifest names the union member but the server defaulted its details: like
    # kubectl, send $retainKeys so that only what the manifest says survives.
    manifest = {"spec": {"strategy": {"type": "RollingUpdate"}}}
    current = {
        "spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}}}
    }
    patch = create_three_way_merge_patch(manifest, manifest, current, Deployment)
    assert patch == {"spec": {"strategy": {"$retainKeys": ["type"]}}}
    assert apply_strategic_merge_patch(current, patch, Deployment) == manifest


def test_three_way_patch_propagates_explicit_nulls() -> None:
    original = pod({"name": "a"}, restartPolicy="Always")
    modified = pod({"name": "a"}, restartPolicy=None)
    current = live(original)
    patch = create_three_way_merge_patch(original, modified, current, Pod)
    assert patch == {"spec": {"restartPolicy": None}}
    assert "restartPolicy" not in apply_strategic_merge_patch(current, patch, Pod)["spec"]


def test_three_way_patch_with_no_last_applied() -> None:
    modified = pod({"name": "a", "image": "x"})
    current = live(pod({"name": "a", "image": "y"}, restartPolicy="Never"))
    patch = create_three_way_merge_patch(None, modified, current, Pod)
    assert patch == {
        "spec": {
            "$setElementOrder/containers": [{"name": "a"}],
            "containers": [{"name": "a", "image": "x"}],
        }
    }
    result = apply_strategic_merge_patch(current, patch, Pod)
    assert result["spec"]["restartPolicy"] == "Never"


def test_three_way_patch_with_real_deployment() -> None:
    manifest: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {"name": "web", "image": "nginx:1", "ports": [{"containerPort": 80}]},
                        {"name": "log", "image": "busybox"},
                    ]
                },
            },
        },
    }
    current = copy.deepcopy(manifest)
    current["metadata"].update(uid="u", resourceVersion="7", generation=1)
    current["spec"]["strategy"] = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
    }
    for container in current["spec"]["template"]["spec"]["containers"]:
        container["terminationMessagePath"] = "/dev/termination-log"
    current["status"] = {"replicas": 2}
    assert create_three_way_merge_patch(manifest, manifest, current, apps.Deployment) == {}

    modified = copy.deepcopy(manifest)
    modified["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    modified["spec"]["strategy"] = {"type": "Recreate"}
    patch = create_three_way_merge_patch(manifest, modified, current, apps.Deployment)
    result = apply_strategic_merge_patch(current, patch, apps.Deployment)
    web, log = result["spec"]["template"]["spec"]["containers"]
    assert web["image"] == "nginx:2"
    assert web["terminationMessagePath"] == "/dev/termination-log"
    assert log == {
        "name": "log",
        "image": "busybox",
        "terminationMessagePath": "/dev/termination-log",
    }
    assert result["spec"]["strategy"] == {"type": "Recreate"}
    assert result["status"] == {"replicas": 2}


# --- property tests ------------------------------------------------------------------------


class HItem(KubeModel):
    name: str
    value: str | None = None
    flags: list[str] = merge_list()


class HSpec(KubeModel):
    entries: list[HItem] = merge_list("name")
    tags: list[str] = merge_list()
    labels: dict[str, str] = mapping()
    plain: list[str] = items()
    replicas: int | None = None


class HObject(KubeModel):
    note: str | None = None
    spec: HSpec | None = None


short_text = st.sampled_from(["a", "b", "c", "d", "e"])
unique_texts = st.lists(short_text, unique=True, max_size=4)


@st.composite
def h_items(draw: st.DrawFn) -> list[dict[str, Any]]:
    names = draw(unique_texts)
    result = []
    for name in names:
        element: dict[str, Any] = {"name": name}
        if draw(st.booleans()):
            element["value"] = draw(short_text)
        if draw(st.booleans()):
            element["flags"] = draw(unique_texts)
        result.append(element)
    return result


@st.composite
def h_objects(draw: st.DrawFn) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    if draw(st.booleans()):
        obj["note"] = draw(short_text)
    if draw(st.booleans()):
        spec: dict[str, Any] = {}
        if draw(st.booleans()):
            spec["entries"] = draw(h_items())
        if draw(st.booleans()):
            spec["tags"] = draw(unique_texts)
        if draw(st.booleans()):
            spec["labels"] = draw(st.dictionaries(short_text, short_text, max_size=3))
        if draw(st.booleans()):
            spec["plain"] = draw(st.lists(short_text, max_size=3))
        if draw(st.booleans()):
            spec["replicas"] = draw(st.integers(0, 3))
        obj["spec"] = spec
    return obj


def contains(result: Any, wanted: Any, merge_key: str | None = "name") -> bool:
    """Whether ``result`` has everything ``wanted`` has (merged lists by key or value)."""
    if isinstance(wanted, dict):
        return isinstance(result, dict) and all(
            key in result and contains(result[key], value, None if key == "plain" else "name")
            for key, value in wanted.items()
        )
    if isinstance(wanted, list):
        if not isinstance(result, list):
            return False
        if merge_key is None:
            return result == wanted
        for element in wanted:
            if isinstance(element, dict):
                matches = [
                    r for r in result if isinstance(r, dict) and r.get("name") == element["name"]
                ]
                if len(matches) != 1 or not contains(matches[0], element):
                    return False
            elif element not in result:
                return False
        return True
    return bool(result == wanted)


@given(h_objects(), h_objects(), h_objects())
@settings(max_examples=400, deadline=None)
def test_three_way_patch_applied_to_current_contains_modified(
    original: dict[str, Any], modified: dict[str, Any], current: dict[str, Any]
) -> None:
    patch = create_three_way_merge_patch(original, modified, current, HObject)
    result = apply_strategic_merge_patch(current, patch, HObject)
    assert contains(result, modified), (patch, result)


@given(h_objects(), h_objects())
@settings(max_examples=400, deadline=None)
def test_two_way_patch_applied_to_original_gives_modified(
    original: dict[str, Any], modified: dict[str, Any]
) -> None:
    patch = create_two_way_merge_patch(original, modified, HObject)
    assert apply_strategic_merge_patch(original, patch, HObject) == modified
    assert create_two_way_merge_patch(modified, modified, HObject) == {}


def test_strategic_patch_leaves_the_document_alone_unless_handed_over() -> None:
    doc = {"metadata": {"name": "p", "labels": {"a": "1"}}, "spec": {"containers": [
        {"name": "c", "image": "old"}]}}  # fmt: skip
    before = copy.deepcopy(doc)
    patch = {"metadata": {"labels": {"b": "2"}}, "spec": {"containers": [
        {"name": "c", "image": "new"}]}}  # fmt: skip
    merged = apply_strategic_merge_patch(doc, patch, Pod)
    assert doc == before and merged["metadata"]["labels"] == {"a": "1", "b": "2"}
    handed = apply_strategic_merge_patch(copy.deepcopy(doc), patch, Pod, in_place=True)
    assert handed == merged
    assert patch["spec"]["containers"][0]["image"] == "new"  # the patch is never changed
