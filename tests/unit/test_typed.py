"""apitypes.typed: field sets, comparisons, merges and removals guided by the models'
list types, map keys and atomic markers."""

from __future__ import annotations

from typing import Any

import pytest

from apitypes import fieldpath as fp
from apitypes import typed
from apitypes.apps import Deployment
from apitypes.core import Pod, Service
from apitypes.typed import TypedError

DEPLOYMENT = typed.of_model(Deployment)
POD = typed.of_model(Pod)
SERVICE = typed.of_model(Service)


def texts(paths: frozenset[tuple[str, ...]]) -> list[str]:
    return sorted(fp.iter_paths(paths))


def deployment(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            },
            **spec,
        },
    }


# --- field sets -----------------------------------------------------------------------------


def test_field_set_follows_the_models() -> None:
    obj = deployment(replicas=2)
    obj["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": 80}]
    obj["spec"]["template"]["spec"]["nodeSelector"] = {"disk": "ssd"}
    obj["metadata"]["finalizers"] = ["a", "b"]
    container = '.spec.template.spec.containers[name="web"]'
    assert texts(typed.to_field_set(obj, DEPLOYMENT)) == sorted(
        [
            ".apiVersion",
            ".kind",
            ".metadata.name",
            ".metadata.labels.app",
            '.metadata.finalizers[="a"]',
            '.metadata.finalizers[="b"]',
            ".spec.replicas",
            # A LabelSelector is atomic (+structType=atomic), so is a nodeSelector map.
            ".spec.selector",
            ".spec.template.metadata.labels.app",
            ".spec.template.spec.nodeSelector",
            container,
            f"{container}.name",
            f"{container}.image",
            # A port's protocol is a key with a default (TCP).
            f'{container}.ports[containerPort=80,protocol="TCP"]',
            f'{container}.ports[containerPort=80,protocol="TCP"].containerPort',
        ]
    )


def test_null_and_empty_values_are_owned_fields() -> None:
    obj = {"metadata": {"labels": {"a": None}}, "spec": {"securityContext": {}}}
    assert texts(typed.to_field_set(obj, POD)) == [".metadata.labels.a", ".spec.securityContext"]


def test_strict_field_sets_refuse_what_the_schema_does_not_allow() -> None:
    def error(obj: dict[str, Any]) -> str:
        with pytest.raises(TypedError) as caught:
            typed.to_field_set(obj, DEPLOYMENT, strict=True)
        return str(caught.value)

    assert error({"spec": {"bogus": 1}}) == ".spec.bogus: field not declared in schema"
    assert error({"spec": {"replicas": "2"}}) == ".spec.replicas: expected integer, got string"
    assert error({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}) == (
        ".spec.template.spec.containers: element 0: associative list with keys has an "
        'element that omits all key fields ["name"] (and doesn\'t have default values for any '
        "key fields)"
    )
    twice = {"spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "a"}]}}}}
    assert error(twice) == ('.spec.template.spec.containers: duplicate entries for key [name="a"]')
    assert error({"spec": {"selector": []}}) == ".spec.selector: expected map, got list"


# --- compare ---------------------------------------------------------------------------------


def test_compare_reports_leaves_and_whole_new_items() -> None:
    old = deployment(replicas=1)
    new = deployment(replicas=3)
    new["spec"]["template"]["spec"]["containers"].append({"name": "side", "image": "busybox"})
    del new["metadata"]["labels"]
    found = typed.compare(old, new, DEPLOYMENT)
    side = '.spec.template.spec.containers[name="side"]'
    assert texts(found.modified) == [".spec.replicas"]
    assert texts(found.added) == [side, f"{side}.image", f"{side}.name"]
    assert texts(found.removed) == [".metadata.labels", ".metadata.labels.app"]
    assert typed.compare(old, old, DEPLOYMENT).is_same()


def test_compare_treats_duplicated_items_as_one_value() -> None:
    service = {"spec": {"ports": [{"port": 80}, {"port": 80, "name": "x"}]}}
    renamed = {"spec": {"ports": [{"port": 80}, {"port": 80, "name": "y"}]}}
    found = typed.compare(service, renamed, SERVICE)
    assert texts(found.modified) == ['.spec.ports[port=80,protocol="TCP"]']


def test_objects_never_add_their_value_structs() -> None:
    found = typed.compare_objects(None, deployment(), DEPLOYMENT)
    added = texts(found.added)
    # metadata, spec, spec.template and its metadata/spec exist in Go's empty object.
    for struct in (".metadata", ".spec", ".spec.template", ".spec.template.spec"):
        assert struct not in added
    assert ".metadata.labels" in added  # a map that was not there
    assert '.spec.template.spec.containers[name="web"]' in added
    assert ".spec.template.spec.containers" not in added  # Go writes it as null
    with_status = {**deployment(), "status": {"replicas": 1}}
    assert texts(typed.compare_objects(deployment(), with_status, DEPLOYMENT).added) == [
        ".status.replicas"
    ]


# --- merge -----------------------------------------------------------------------------------


def names(obj: dict[str, Any]) -> list[str]:
    return [c["name"] for c in obj["spec"]["template"]["spec"]["containers"]]


def with_containers(*items: str | dict[str, Any]) -> dict[str, Any]:
    obj = deployment()
    containers = [{"name": i} if isinstance(i, str) else i for i in items]
    obj["spec"]["template"]["spec"]["containers"] = containers
    return obj


@pytest.mark.parametrize(
    ("live", "config", "merged"),
    [
        # Live-only items keep their place; the configuration's come in its order.
        (["a", "b", "c"], ["b", "d"], ["a", "b", "c", "d"]),
        (["a", "b", "c"], ["c", "a"], ["b", "c", "a"]),
        (["a", "b"], ["x", "b"], ["a", "x", "b"]),
        ([], ["a"], ["a"]),
    ],
)
def test_keyed_lists_merge_item_by_item(
    live: list[str], config: list[str], merged: list[str]
) -> None:
    assert names(typed.merge(with_containers(*live), with_containers(*config), DEPLOYMENT)) == (
        merged
    )


def test_merge_takes_the_configuration_for_leaves_and_atomic_values() -> None:
    live = deployment(replicas=1)
    live["spec"]["selector"] = {"matchLabels": {"app": "web", "tier": "x"}}
    config = {"spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}}}
    merged = typed.merge(live, config, DEPLOYMENT)
    assert merged["spec"]["replicas"] == 2
    assert merged["spec"]["selector"] == {"matchLabels": {"app": "web"}}  # not merged
    assert merged["metadata"] == live["metadata"]
    item = with_containers({"name": "web", "image": "a", "args": ["x"]})
    merged = typed.merge(item, with_containers({"name": "web", "args": ["y"]}), DEPLOYMENT)
    assert merged["spec"]["template"]["spec"]["containers"] == [
        {"name": "web", "image": "a", "args": ["y"]}
    ]


def test_merge_keeps_nulls_for_the_caller_to_drop() -> None:
    live = {"metadata": {"labels": {"a": "1", "b": "2"}}}
    merged = typed.merge(live, {"metadata": {"labels": {"a": None}}}, POD)
    assert merged == {"metadata": {"labels": {"a": None, "b": "2"}}}
    assert typed.without_nulls(merged) == {"metadata": {"labels": {"b": "2"}}}
    # A null granular map changes nothing.
    assert typed.merge(live, {"metadata": {"labels": None}}, POD) == live


def test_merge_refuses_duplicates_in_the_configuration() -> None:
    with pytest.raises(TypedError):
        typed.merge(with_containers("a"), with_containers("b", "b"), DEPLOYMENT)


# --- removal and named fields ------------------------------------------------------------------


def test_remove_items_takes_out_fields_items_and_what_is_below() -> None:
    obj = with_containers({"name": "a", "image": "x"}, {"name": "b", "image": "y"})
    paths = frozenset(
        {
            fp.path_of("spec", "template", "spec", "containers", {"name": "a"}),
            fp.path_of("spec", "template", "spec", "containers", {"name": "b"}, "image"),
            fp.path_of("metadata", "labels", "app"),
        }
    )
    removed = typed.remove_items(obj, paths, DEPLOYMENT)
    assert removed["spec"]["template"]["spec"]["containers"] == [{"name": "b"}]
    # A map left empty is null (structured-merge-diff's shape), dropped when stored.
    assert removed["metadata"] == {"name": "web", "labels": None}
    assert obj["metadata"]["labels"] == {"app": "web"}  # the argument is left alone


def test_named_fields_become_members_but_map_keys_do_not() -> None:
    paths = frozenset({fp.path_of("metadata", "labels", "app"), fp.path_of("spec", "replicas")})
    assert texts(typed.ensure_named_fields_are_members(paths, DEPLOYMENT)) == [
        ".metadata",
        ".metadata.labels",
        ".metadata.labels.app",
        ".spec",
        ".spec.replicas",
    ]


def test_the_openapi_documents_carry_the_atomic_markers() -> None:
    from apitypes.core import ServiceSpec
    from apitypes.meta import LabelSelector
    from apitypes.schema import openapi_schema

    def named(cls: type) -> str:
        return cls.__name__

    assert openapi_schema(LabelSelector, named)["x-kubernetes-map-type"] == "atomic"
    selector = openapi_schema(ServiceSpec, named)["properties"]["selector"]
    assert selector["x-kubernetes-map-type"] == "atomic"


def test_compare_survives_values_that_change_shape() -> None:
    # A pod's volumes keep plugin sources as plain JSON: their values are deduced.
    old = {"spec": {"volumes": [{"name": "v", "flexVolume": {"options": {}}}]}}
    new = {"spec": {"volumes": [{"name": "v", "flexVolume": {"options": ["a"]}}]}}
    found = typed.compare(old, new, POD)
    assert texts(found.modified) == ['.spec.volumes[name="v"].flexVolume.options']
    assert not found.added and not found.removed
