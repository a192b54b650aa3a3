"""The patch ``navctl apply`` computes, and the annotation it records, as kubectl's."""

from __future__ import annotations

import copy
import json

import pytest

from apitypes.patch import apply_strategic_merge_patch
from apitypes.registry import lookup
from cli.navctl.commands.apply import apply_patch
from cli.navctl.commands.edit import edit_patch, strip_comments
from cli.navctl.errors import CliError
from cli.navctl.lastapplied import LAST_APPLIED, last_applied_value, original_of, with_last_applied
from cli.navctl.manifests import Manifest, set_namespace

DEPLOYMENTS = lookup("deployments")
CONFIGMAPS = lookup("cm")
assert DEPLOYMENTS is not None and CONFIGMAPS is not None

MANIFEST = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}]},
                    {"name": "side", "image": "busybox:1"},
                ]
            },
        },
    },
}


def live_from(manifest: dict) -> dict:
    """What the apiserver stores after a create: the annotated manifest plus defaults."""
    live = with_last_applied(manifest)
    live["metadata"].update({"uid": "u1", "resourceVersion": "7", "generation": 1})
    live["spec"]["strategy"] = {"type": "RollingUpdate"}
    for container in live["spec"]["template"]["spec"]["containers"]:
        container["imagePullPolicy"] = "IfNotPresent"
    live["status"] = {"replicas": 2}
    return live


def test_annotation_value_is_kubectls_byte_for_byte():
    value = last_applied_value(
        {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "a"}, "data": {"x": "<&>"}}
    )
    assert value == (
        '{"apiVersion":"v1","data":{"x":"\\u003c\\u0026\\u003e"},"kind":"ConfigMap",'
        '"metadata":{"annotations":{},"name":"a"}}\n'
    )


def test_a_previous_annotation_is_not_recorded_inside_itself():
    annotated = with_last_applied(MANIFEST)
    again = with_last_applied(annotated)
    assert again == annotated
    recorded = json.loads(annotated["metadata"]["annotations"][LAST_APPLIED])
    assert recorded["metadata"]["annotations"] == {}
    assert original_of(annotated) == recorded


def test_applying_the_same_manifest_is_unchanged():
    patch, kind = apply_patch(DEPLOYMENTS, MANIFEST, live_from(MANIFEST))
    assert (patch, kind) == ({}, "strategic")


def test_a_changed_field_is_patched_with_element_order():
    changed = copy.deepcopy(MANIFEST)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.26"
    patch, _ = apply_patch(DEPLOYMENTS, changed, live_from(MANIFEST))
    spec = patch["spec"]["template"]["spec"]
    assert spec["containers"] == [{"image": "nginx:1.26", "name": "web"}]
    assert spec["$setElementOrder/containers"] == [{"name": "web"}, {"name": "side"}]
    assert LAST_APPLIED in patch["metadata"]["annotations"]


def test_removed_items_are_deleted_and_others_fields_are_kept():
    live = live_from(MANIFEST)
    # Someone else set an env var and an annotation since the last apply.
    live["spec"]["template"]["spec"]["containers"][1]["env"] = [{"name": "MODE", "value": "x"}]
    live["metadata"]["annotations"]["team"] = "blue"
    without_side = copy.deepcopy(MANIFEST)
    del without_side["spec"]["template"]["spec"]["containers"][1]
    del without_side["spec"]["replicas"]
    patch, _ = apply_patch(DEPLOYMENTS, without_side, live)
    assert {"$patch": "delete", "name": "side"} in patch["spec"]["template"]["spec"]["containers"]
    assert patch["spec"]["replicas"] is None
    merged = apply_strategic_merge_patch(live, patch, DEPLOYMENTS.model)
    assert [c["name"] for c in merged["spec"]["template"]["spec"]["containers"]] == ["web"]
    assert merged["metadata"]["annotations"]["team"] == "blue"
    assert "replicas" not in merged["spec"]
    assert merged["spec"]["strategy"] == {"type": "RollingUpdate"}


def test_kinds_without_a_known_schema_get_a_json_merge_patch():
    from dataclasses import replace

    from apitypes.base import KubeObject

    unknown = replace(CONFIGMAPS, model=KubeObject, kind="Widget")
    manifest = {"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "w"}, "items": [1, 2]}
    live = with_last_applied(manifest)
    changed = {**manifest, "items": [3]}
    patch, kind = apply_patch(unknown, changed, live)
    assert kind == "merge"
    assert patch["items"] == [3]


def test_namespace_rules():
    manifest = Manifest(
        "x.yaml", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}
    )
    assert set_namespace(manifest, CONFIGMAPS, "dev", False)["metadata"]["namespace"] == "dev"
    own = Manifest("x.yaml", {"kind": "ConfigMap", "metadata": {"name": "a", "namespace": "prod"}})
    assert set_namespace(own, CONFIGMAPS, "dev", False)["metadata"]["namespace"] == "prod"
    with pytest.raises(CliError, match="does not match the namespace"):
        set_namespace(own, CONFIGMAPS, "dev", True)
    nodes = lookup("nodes")
    assert nodes is not None
    node = Manifest("n.yaml", {"kind": "Node", "metadata": {"name": "n1"}})
    assert "namespace" not in set_namespace(node, nodes, "dev", True)["metadata"]


def test_edit_patch_is_two_way_and_refuses_renames():
    live = live_from(MANIFEST)
    edited = copy.deepcopy(live)
    edited["spec"]["replicas"] = 5
    patch, kind = edit_patch(DEPLOYMENTS, live, edited)
    assert (patch, kind) == ({"spec": {"replicas": 5}}, "strategic")
    renamed = copy.deepcopy(live)
    renamed["metadata"]["name"] = "other"
    with pytest.raises(CliError, match=r"metadata\.name may not be changed"):
        edit_patch(DEPLOYMENTS, live, renamed)


def test_comment_lines_are_dropped_from_edits():
    assert strip_comments("# head\n#\na: 1\n  # indented\nb: 2\n") == "a: 1\nb: 2\n"
