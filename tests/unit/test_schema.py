"""Tests for apitypes.schema: field introspection, pruning, OpenAPI definitions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

import pytest
from pydantic import ConfigDict, Field

from apitypes import apps, core, schema
from apitypes.base import (
    IntOrString,
    KubeModel,
    KubeObject,
    MicroTime,
    QuantityStr,
    Time,
    items,
    mapping,
    merge_list,
    retain_keys,
)
from apitypes.meta import ObjectMeta

# --- test models (module level so that postponed annotations resolve) ----------------


class Protocol(enum.StrEnum):
    TCP = "TCP"
    UDP = "UDP"


class Port(KubeModel):
    name: str | None = None
    container_port: int
    protocol: Protocol | None = None


class EnvVar(KubeModel):
    name: str
    value: str | None = None


class Widget(KubeModel):
    """A container-like thing."""

    name: str
    image: str | None = None
    ports: list[Port] = merge_list("containerPort")
    env: list[EnvVar] = merge_list("name")
    args: list[str] = items()
    limits: dict[str, QuantityStr] = mapping()
    target_port: IntOrString | None = None
    required_port: IntOrString
    started_at: Time | None = None
    renewed_at: MicroTime | None = None
    finished: datetime | None = None
    ratio: float | None = None
    enabled: bool | None = None
    mode: Literal["fast", "slow"] | None = None
    pod_ip: str | None = None
    host_ips: list[str] = items()
    scale_io: str | None = Field(default=None, alias="scaleIO")
    weight: Annotated[int, Field(ge=0)] = 1
    raw: dict[str, Any] | None = None
    anything: Any = None
    cells: list[Any] = items()
    notes: str | None = Field(default=None, description="Free text.")


class Strategy(KubeModel):
    type: str | None = None
    rolling_update: dict[str, Any] | None = None


class GadgetSpec(KubeModel):
    # Refers to a class defined further down: resolved through model_fields.
    widgets: list[Widget] = merge_list("name")
    volumes: list[Volume] = merge_list("name", retain_keys=True)
    strategy: Strategy | None = retain_keys()
    by_name: dict[str, Widget] = mapping()
    nested: list[list[str]] = items()
    finalizers: list[str] = merge_list()


class Volume(KubeModel):
    name: str
    empty_dir: dict[str, Any] | None = None
    host_path: str | None = None


class Gadget(KubeObject):
    API_VERSION = "example.io/v1"
    KIND = "Gadget"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: GadgetSpec | None = None


class Loose(KubeModel):
    model_config = ConfigDict(extra="allow")

    name: str | None = None


class Tree(KubeModel):
    label: str | None = None
    children: list[Tree] = items()


class NotAKind(KubeModel):
    name: str | None = None


class Grouped(KubeObject):
    API_VERSION = "v1"
    KIND = "Grouped"
    EXTRA: ClassVar[int] = 3


# --- fields_of ---------------------------------------------------------------------------


def test_fields_are_keyed_by_wire_name_in_declaration_order() -> None:
    fields = schema.fields_of(Widget)
    names = list(fields)
    assert names[:4] == ["name", "image", "ports", "env"]
    assert "podIP" in fields
    assert fields["podIP"].python_name == "pod_ip"
    assert fields["hostIPs"].python_name == "host_ips"
    assert fields["scaleIO"].python_name == "scale_io"
    assert "targetPort" in fields and "target_port" not in fields


def test_fields_of_is_cached_per_class() -> None:
    assert schema.fields_of(Widget) is schema.fields_of(Widget)
    assert schema.model_schema(Widget) is schema.model_schema(Widget)
    assert schema.fields_of(Widget) is not schema.fields_of(Port)


def test_fields_of_is_read_only() -> None:
    fields = schema.fields_of(Widget)
    with pytest.raises(TypeError):
        fields["x"] = fields["name"]  # type: ignore[index]


def test_scalar_json_types() -> None:
    fields = schema.fields_of(Widget)
    assert fields["name"].json_types == ("string",)
    assert fields["name"].is_scalar
    assert fields["ratio"].json_types == ("number",)
    assert fields["enabled"].json_types == ("boolean",)
    assert fields["weight"].json_types == ("integer",)
    assert fields["finished"].json_types == ("string",)
    assert fields["finished"].value_type.format == "date-time"
    assert fields["mode"].json_types == ("string",)
    assert fields["mode"].value_type.enum == ("fast", "slow")


def test_special_scalars_are_recognised() -> None:
    fields = schema.fields_of(Widget)
    target = fields["targetPort"].value_type
    assert target.special == "IntOrString"
    assert set(target.json_types) == {"integer", "string"}
    # A required IntOrString reaches pydantic as int | str plus metadata, not Annotated.
    assert fields["requiredPort"].value_type.special == "IntOrString"
    assert fields["startedAt"].value_type.special == "Time"
    assert fields["renewedAt"].value_type.special == "MicroTime"
    limits = fields["limits"]
    assert limits.is_map
    assert limits.value_type.item is not None
    assert limits.value_type.item.special == "Quantity"
    assert set(limits.value_type.item.json_types) == {"string", "number"}


def test_enum_field_lists_values() -> None:
    protocol = schema.fields_of(Port)["protocol"]
    assert protocol.json_types == ("string",)
    assert protocol.value_type.enum == (Protocol.TCP, Protocol.UDP)


def test_collections_and_models() -> None:
    fields = schema.fields_of(Widget)
    assert fields["ports"].is_list
    assert fields["ports"].model is Port
    assert fields["args"].is_list
    assert fields["args"].model is None
    assert fields["args"].value_type.item is not None
    assert fields["args"].value_type.item.json_types == ("string",)
    spec = schema.fields_of(GadgetSpec)
    assert spec["byName"].is_map
    assert spec["byName"].model is Widget
    assert spec["strategy"].shape == "object"
    assert spec["strategy"].model is Strategy
    nested = spec["nested"].value_type
    assert nested.item is not None and nested.item.shape == "list"


def test_any_fields() -> None:
    fields = schema.fields_of(Widget)
    assert fields["anything"].shape == "any"
    assert fields["anything"].json_types == ()
    raw = fields["raw"]
    assert raw.is_map
    assert raw.value_type.item is not None
    assert raw.value_type.item.shape == "any"
    assert not raw.value_type.has_model
    assert fields["cells"].value_type.item is schema.ANY


def test_forward_reference_resolved() -> None:
    volumes = schema.fields_of(GadgetSpec)["volumes"]
    assert volumes.model is Volume
    assert schema.fields_of(Tree)["children"].model is Tree


def test_patch_metadata() -> None:
    spec = schema.fields_of(GadgetSpec)
    widgets = spec["widgets"]
    assert widgets.patch_strategy == "merge"
    assert widgets.merge_key == "name"
    assert widgets.merges and not widgets.retains_keys
    assert widgets.list_type == "map"
    volumes = spec["volumes"]
    assert volumes.patch_strategy == "merge,retainKeys"
    assert volumes.merges and volumes.retains_keys
    strategy = spec["strategy"]
    assert strategy.patch_strategy == "retainKeys"
    assert strategy.retains_keys and not strategy.merges
    finalizers = spec["finalizers"]
    assert finalizers.merges and finalizers.merge_key is None
    assert finalizers.list_type == "set"
    plain = schema.fields_of(Widget)["args"]
    assert plain.patch_strategy is None and not plain.merges


def test_required_fields() -> None:
    fields = schema.fields_of(Widget)
    assert fields["name"].required
    assert fields["requiredPort"].required
    assert not fields["image"].required
    assert not fields["ports"].required
    assert not fields["weight"].required
    # apiVersion and kind of a kind default to its class variables.
    assert not schema.fields_of(Gadget)["apiVersion"].required


def test_accepts_checks_json_types() -> None:
    fields = schema.fields_of(Widget)
    int_or_string = fields["targetPort"].value_type
    assert int_or_string.accepts(8080)
    assert int_or_string.accepts("http")
    assert not int_or_string.accepts(True)
    assert not int_or_string.accepts(1.5)
    assert int_or_string.describe() == "integer or string"
    quantity = fields["limits"].value_type.item
    assert quantity is not None
    assert quantity.accepts("500m") and quantity.accepts(0.5) and quantity.accepts(2)
    assert not quantity.accepts(False)
    weight = fields["weight"].value_type
    assert weight.accepts(3) and not weight.accepts("3") and not weight.accepts(True)
    assert fields["ratio"].value_type.accepts(1)
    assert fields["ports"].value_type.accepts([]) and not fields["ports"].value_type.accepts({})
    assert fields["limits"].value_type.accepts({}) and not fields["limits"].value_type.accepts([])
    assert fields["anything"].value_type.accepts(object())
    assert fields["name"].value_type.accepts(None)


# --- paths ---------------------------------------------------------------------------------


def test_parse_path() -> None:
    assert schema.parse_path("spec.widgets[0].env[12].name") == [
        "spec",
        "widgets",
        0,
        "env",
        12,
        "name",
    ]
    assert schema.parse_path("spec.byName[a.b].image") == ["spec", "byName", "a.b", "image"]


def test_field_at_walks_models_lists_and_maps() -> None:
    env = schema.field_at(Gadget, "spec.widgets[0].env")
    assert env is not None and env.python_name == "env" and env.merge_key == "name"
    assert schema.field_at(Gadget, ["spec", "widgets", 3, "env"]) == env
    # A string segment after a list steps into its items.
    assert schema.field_at(Gadget, "spec.widgets.env") == env
    widgets = schema.field_at(Gadget, "spec.widgets[2]")
    assert widgets is not None and widgets.wire_name == "widgets"
    image = schema.field_at(Gadget, "spec.byName.first.image")
    assert image is not None and image.python_name == "image"
    assert schema.field_at(Gadget, "metadata.finalizers") is not None
    assert schema.field_at(Gadget, "spec.nope") is None
    assert schema.field_at(Gadget, "spec.widgets[0].raw.deep") is None
    assert schema.field_at(Gadget, "") is None


def test_type_at() -> None:
    cpu = schema.type_at(Gadget, "spec.widgets[0].limits.cpu")
    assert cpu is not None and cpu.special == "Quantity"
    assert schema.type_at(Gadget, "") is schema.type_of(Gadget)
    item = schema.type_at(Gadget, "spec.widgets[1]")
    assert item is not None and item.model is Widget
    assert schema.type_at(Gadget, "spec.strategy.rollingUpdate.maxSurge") is schema.ANY
    assert schema.type_at(Gadget, "spec[0]") is None
    assert schema.type_at(Gadget, "spec.widgets[0].name.more") is None


# --- prune_unknown -----------------------------------------------------------------------


def test_prune_removes_unknown_fields_everywhere_and_reports_paths() -> None:
    data: dict[str, Any] = {
        "apiVersion": "example.io/v1",
        "kind": "Gadget",
        "bogus": 1,
        "metadata": {"name": "g", "nmae": "typo"},
        "spec": {
            "widgets": [
                {"name": "a", "image": "x"},
                {"name": "b", "foo": {"deep": 1}, "ports": [{"containerPort": 1, "hostPot": 2}]},
            ],
            "byName": {"first": {"name": "f", "colour": "red"}},
            "strategy": {"type": "Recreate", "rollingUpdate": {"anything": "goes"}},
        },
    }
    dropped = schema.prune_unknown(Gadget, data)
    assert dropped == [
        "bogus",
        "metadata.nmae",
        "spec.widgets[1].foo",
        "spec.widgets[1].ports[0].hostPot",
        "spec.byName.first.colour",
    ]
    assert data == {
        "apiVersion": "example.io/v1",
        "kind": "Gadget",
        "metadata": {"name": "g"},
        "spec": {
            "widgets": [
                {"name": "a", "image": "x"},
                {"name": "b", "ports": [{"containerPort": 1}]},
            ],
            "byName": {"first": {"name": "f"}},
            "strategy": {"type": "Recreate", "rollingUpdate": {"anything": "goes"}},
        },
    }


def test_prune_clean_object_is_untouched() -> None:
    data = {"apiVersion": "example.io/v1", "kind": "Gadget", "spec": {"finalizers": ["a"]}}
    before = {"apiVersion": "example.io/v1", "kind": "Gadget", "spec": {"finalizers": ["a"]}}
    assert schema.prune_unknown(Gadget, data) == []
    assert data == before


def test_prune_keeps_api_version_and_kind_only_at_top() -> None:
    data: dict[str, Any] = {"apiVersion": "v1", "kind": "X", "name": "n", "spec": {}}
    assert schema.prune_unknown(NotAKind, data) == ["spec"]
    assert data == {"apiVersion": "v1", "kind": "X", "name": "n"}
    nested: dict[str, Any] = {"spec": {"strategy": {"kind": "x", "type": "Recreate"}}}
    assert schema.prune_unknown(Gadget, nested) == ["spec.strategy.kind"]


def test_prune_treats_python_names_as_unknown() -> None:
    data: dict[str, Any] = {"name": "w", "pod_ip": "1.2.3.4", "podIP": "1.2.3.4"}
    assert schema.prune_unknown(Widget, data) == ["pod_ip"]
    assert data == {"name": "w", "podIP": "1.2.3.4"}


def test_prune_skips_nulls_any_values_and_wrong_types() -> None:
    data: dict[str, Any] = {
        "name": "w",
        "raw": {"free": {"form": 1}},
        "anything": {"x": 1},
        "ports": "not-a-list",
        "env": [None, "junk", {"name": "A", "extra": 1}],
        "started_at": None,
    }
    assert schema.prune_unknown(Widget, data) == ["env[2].extra", "started_at"]
    assert data["raw"] == {"free": {"form": 1}}
    assert data["ports"] == "not-a-list"
    spec: dict[str, Any] = {"spec": None}
    assert schema.prune_unknown(Gadget, spec) == []


def test_prune_respects_extra_allow() -> None:
    data: dict[str, Any] = {"name": "n", "whatever": 1}
    assert schema.prune_unknown(Loose, data) == []
    assert data == {"name": "n", "whatever": 1}


def test_prune_recursive_model() -> None:
    data: dict[str, Any] = {"label": "root", "children": [{"children": [{"oops": 1}]}]}
    assert schema.prune_unknown(Tree, data) == ["children[0].children[0].oops"]


# --- OpenAPI -------------------------------------------------------------------------------


def _name(cls: type[Any]) -> str:
    return f"io.example.{cls.__name__}"


def test_openapi_schema_properties() -> None:
    definition = schema.openapi_schema(Widget, _name)
    assert definition["type"] == "object"
    assert definition["description"] == "A container-like thing."
    props = definition["properties"]
    assert props["name"] == {"type": "string"}
    assert props["ratio"] == {"type": "number", "format": "double"}
    assert props["enabled"] == {"type": "boolean"}
    assert props["weight"] == {"type": "integer", "format": "int32"}
    assert props["finished"] == {"type": "string", "format": "date-time"}
    assert props["mode"] == {"type": "string", "enum": ["fast", "slow"]}
    assert props["notes"] == {"type": "string", "description": "Free text."}
    assert props["targetPort"] == {
        "$ref": "#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString"
    }
    assert props["startedAt"] == {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Time"}
    assert props["renewedAt"] == {
        "$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"
    }
    assert props["limits"] == {
        "type": "object",
        "additionalProperties": {
            "$ref": "#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity"
        },
    }
    assert props["args"] == {"type": "array", "items": {"type": "string"}}
    assert props["raw"] == {"type": "object"}
    assert props["anything"] == {}
    assert props["cells"] == {"type": "array", "items": {}}
    assert props["ports"] == {
        "type": "array",
        "items": {"$ref": "#/definitions/io.example.Port"},
        "x-kubernetes-patch-strategy": "merge",
        "x-kubernetes-patch-merge-key": "containerPort",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["containerPort"],
    }
    assert definition["required"] == ["name", "requiredPort"]


def test_openapi_int64_names_and_format_override() -> None:
    props = schema.openapi_schema(ObjectMeta, _name)["properties"]
    generation = dict(props["generation"])
    # Its description is the field's docstring (ObjectMeta's own documentation).
    assert generation.pop("description").startswith("A sequence number")
    assert generation == {"type": "integer", "format": "int64"}
    assert props["finalizers"]["x-kubernetes-patch-strategy"] == "merge"
    assert props["finalizers"]["x-kubernetes-list-type"] == "set"


def test_openapi_ref_with_patch_strategy_and_allof() -> None:
    v2 = schema.openapi_schema(GadgetSpec, _name)["properties"]["strategy"]
    assert v2 == {
        "$ref": "#/definitions/io.example.Strategy",
        "x-kubernetes-patch-strategy": "retainKeys",
    }
    v3 = schema.openapi_schema(
        GadgetSpec, _name, ref_prefix="#/components/schemas/", allof_refs=True
    )["properties"]["strategy"]
    assert v3 == {
        "allOf": [{"$ref": "#/components/schemas/io.example.Strategy"}],
        "x-kubernetes-patch-strategy": "retainKeys",
    }


def test_openapi_extra_hook_and_gvk() -> None:
    assert schema.group_version_kind(Gadget) == {
        "group": "example.io",
        "kind": "Gadget",
        "version": "v1",
    }
    assert schema.group_version_kind(Grouped) == {"group": "", "kind": "Grouped", "version": "v1"}
    assert schema.group_version_kind(Widget) is None
    definition = schema.openapi_schema(Gadget, _name, extra=schema.gvk_extension)
    assert definition["x-kubernetes-group-version-kind"] == [
        {"group": "example.io", "kind": "Gadget", "version": "v1"}
    ]
    assert "x-kubernetes-group-version-kind" not in schema.openapi_schema(
        Widget, _name, extra=schema.gvk_extension
    )


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["$ref"]] if "$ref" in value else []
        for item in value.values():
            found.extend(_refs(item))
        return found
    if isinstance(value, list):
        return [ref for item in value for ref in _refs(item)]
    return []


def _types(value: Any) -> list[Any]:
    if isinstance(value, dict):
        found = [value["type"]] if isinstance(value.get("type"), str | list) else []
        for key, item in value.items():
            if key != "properties" or not isinstance(item, dict):
                found.extend(_types(item))
            else:
                for prop in item.values():
                    found.extend(_types(prop))
        return found
    if isinstance(value, list):
        return [t for item in value for t in _types(item)]
    return []


def test_collect_definitions_walks_everything_reachable() -> None:
    definitions = schema.collect_definitions([Gadget], _name, extra=schema.gvk_extension)
    assert set(definitions) == {
        "io.example.Gadget",
        "io.example.GadgetSpec",
        "io.example.Widget",
        "io.example.Port",
        "io.example.EnvVar",
        "io.example.Volume",
        "io.example.Strategy",
        "io.example.ObjectMeta",
        "io.example.OwnerReference",
        "io.example.ManagedFieldsEntry",
        schema.INT_OR_STRING_DEFINITION,
        schema.QUANTITY_DEFINITION,
        schema.TIME_DEFINITION,
        schema.MICRO_TIME_DEFINITION,
    }
    assert list(definitions) == sorted(definitions)
    assert definitions[schema.INT_OR_STRING_DEFINITION] == {
        "description": definitions[schema.INT_OR_STRING_DEFINITION]["description"],
        "type": "string",
        "format": "int-or-string",
    }
    assert definitions[schema.QUANTITY_DEFINITION]["type"] == "string"
    for ref in _refs(definitions):
        assert ref.removeprefix("#/definitions/") in definitions
    # kubectl's OpenAPI parser rejects schemas with several types.
    assert all(isinstance(t, str) for t in _types(definitions))


def test_collect_definitions_handles_recursion() -> None:
    definitions = schema.collect_definitions([Tree], _name)
    assert set(definitions) == {"io.example.Tree"}
    assert definitions["io.example.Tree"]["properties"]["children"]["items"] == {
        "$ref": "#/definitions/io.example.Tree"
    }


def test_collect_definitions_rejects_name_collisions() -> None:
    with pytest.raises(ValueError, match="given to both"):
        schema.collect_definitions([Widget], lambda cls: "same")


# --- the real kinds ------------------------------------------------------------------------


def test_real_pod_and_deployment() -> None:
    containers = schema.field_at(core.Pod, "spec.containers")
    assert containers is not None
    assert containers.merge_key == "name" and containers.merges
    env = schema.field_at(core.Pod, "spec.containers[0].env")
    assert env is not None and env.merge_key == "name"
    strategy = schema.field_at(apps.Deployment, "spec.strategy")
    assert strategy is not None and strategy.retains_keys
    data: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "nginx", "foo": 1}], "bar": 2},
    }
    assert schema.prune_unknown(core.Pod, data) == ["spec.containers[0].foo", "spec.bar"]

    def name(cls: type[Any]) -> str:
        return f"{cls.__module__}.{cls.__name__}"

    definitions = schema.collect_definitions([core.Pod, apps.Deployment], name)
    for ref in _refs(definitions):
        assert ref.removeprefix("#/definitions/") in definitions
    assert all(isinstance(t, str) for t in _types(definitions))
    pod_spec = definitions[name(core.PodSpec)]
    assert pod_spec["properties"]["containers"]["x-kubernetes-patch-merge-key"] == "name"


# --- documentation ---------------------------------------------------------------------


def test_a_fields_docstring_is_its_description_inherited_and_unwrapped() -> None:
    docs = schema.attribute_docs(core.EphemeralContainer)
    assert docs["name"] == schema.attribute_docs(core.Container)["name"]
    assert docs["target_container_name"].startswith("The container whose namespaces")
    assert schema.prose("One line\n    and the next.\n\n    Another paragraph.") == (
        "One line and the next.\n\nAnother paragraph."
    )


def test_every_published_field_and_definition_has_a_description() -> None:
    # A field added to apitypes without a docstring under it fails here (and would
    # show as "<no description>" in kubectl explain).
    from apiserver.kinds import all_strategies
    from apiserver.openapi import OpenAPI

    definitions = OpenAPI(all_strategies()).v2_document["definitions"]
    undescribed = [
        f"{name}.{prop}"
        for name, definition in definitions.items()
        for prop, value in definition.get("properties", {}).items()
        if not value.get("description")
    ]
    assert undescribed == []
    assert [name for name, d in definitions.items() if not d.get("description")] == []
