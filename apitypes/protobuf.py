"""Kubernetes' protobuf wire form of the served kinds, described by the same models as JSON.

Kubernetes serves every built-in kind as ``application/vnd.kubernetes.protobuf`` too, and
its clients (kubectl, client-go) send it: the 4 bytes ``k8s\\x00``, then a
``runtime.Unknown`` envelope (``typeMeta`` with ``apiVersion`` and ``kind``, ``raw``,
``contentEncoding``, ``contentType``) whose ``raw`` is the kind's generated message. A
watch sends ``WatchEvent`` messages, each framed by its length (4 bytes, big-endian),
whose ``object.raw`` is an enveloped object.

This module converts between that form and the JSON form (plain dicts, exactly as the
rest of navarch handles objects). Nothing is written per kind: the messages are built
once, with ``descriptor_pb2`` and ``message_factory``, from

- the models (:mod:`apitypes.schema`): which fields exist and what their values are;
- ``protobuf_fields.json``, generated from Kubernetes' ``generated.proto`` files by
  ``hack/gen_protobuf_fields.py``: each model's message, each field's number and
  protobuf type, which fields are Go pointers, and which are JSON-inlined structs that
  protobuf nests (a Volume's ``VolumeSource``).

Building checks that the two agree (every model field has a number, with a protobuf
type that carries its value), so a model change that the table does not follow fails
at the first use and in the unit tests, naming the field.

How values travel (JSON <-> protobuf), as Kubernetes' Go types marshal them:

- strings, integers (int32 and int64 share their varint form), booleans: as such;
  ``Base64Text`` fields (a Secret's ``data``) are ``bytes``: the decoded bytes travel;
- ``Time``/``MicroTime``: ``{seconds, nanos}`` (``Time`` has whole seconds);
  ``IntOrString``: ``{type, intVal, strVal}``; ``Quantity``: ``{string}``;
- JSON kept as such (``dict[str, Any]``: a ControllerRevision's ``data``, managed
  fields' ``fieldsV1``): ``RawExtension``/``FieldsV1`` with the JSON text in ``raw``;
- maps are repeated ``{key, value}`` entries, sorted by key (deterministic output).

Presence: Kubernetes' messages are proto2, and Go writes every non-pointer field, zero
or not, while a Go reader cannot tell a zero there from unset. So decoding gives what
Go's JSON would say of the same object: a zero (``""``, ``0``, ``false``, an empty
struct) is dropped where Go's JSON has ``omitempty``, kept where the Go field is a
pointer (``replicas: 0`` is a value), where a scalar has no ``omitempty``
(``restartCount: 0``) and where the model requires the field. The ``apiVersion`` and
``kind`` of an object nested in another (an Eviction's ``deleteOptions``) have no
protobuf field, as in Go. Encoding writes what the JSON has.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any, Final

import orjson
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError
from pydantic import BaseModel

from apitypes import meta, registry
from apitypes.base import KubeObject, format_microtime, format_time
from apitypes.schema import FieldSchema, TypeInfo, fields_of

CONTENT_TYPE: Final = "application/vnd.kubernetes.protobuf"
WATCH_CONTENT_TYPE: Final = f"{CONTENT_TYPE};stream=watch"
MAGIC: Final = b"k8s\x00"

_META = "k8s.io.apimachinery.pkg.apis.meta.v1"
_RUNTIME = "k8s.io.apimachinery.pkg.runtime"
_TIME = f"{_META}.Time"
_MICRO_TIME = f"{_META}.MicroTime"
_INT_OR_STRING = "k8s.io.apimachinery.pkg.util.intstr.IntOrString"
_QUANTITY = "k8s.io.apimachinery.pkg.api.resource.Quantity"
_RAW_MESSAGES = frozenset({f"{_RUNTIME}.RawExtension", f"{_META}.FieldsV1"})
# A user's ``extra`` values: Go's ``ExtraValue []string``, a message of one repeated string.
_EXTRA_VALUES = frozenset(
    {
        "k8s.io.api.authentication.v1.ExtraValue",
        "k8s.io.api.authorization.v1.ExtraValue",
        "k8s.io.api.certificates.v1.ExtraValue",
    }
)
_PACKAGE = "navarch.k8s"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_SECOND = timedelta(seconds=1)
_GO_ZERO_TIME_SECONDS = -62135596800
"""``time.Time{}`` (year 1): Go writes it as an empty message, reads it back as zero."""

_FRAME_HEADER = struct.Struct(">I")


class ProtobufError(ValueError):
    """Bytes that are not a Kubernetes protobuf object, or an object it cannot carry."""


# --- the table --------------------------------------------------------------------------


@cache
def _table() -> dict[str, Any]:
    text = resources.files("apitypes").joinpath("protobuf_fields.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def _qualname(model: type[BaseModel]) -> str:
    return f"{model.__module__}.{model.__qualname__}"


def message_name(model: type[BaseModel]) -> str | None:
    """The Kubernetes message (``k8s.io.api.core.v1.Pod``) standing for ``model``."""
    name = _table()["models"].get(_qualname(model))
    return name if isinstance(name, str) else None


def _locate(messages: Mapping[str, Any], message: str, wire: str) -> list[str] | None:
    """The protobuf field names leading to JSON field ``wire`` of ``message``: ``[wire]``,
    or ``[inline, ..., wire]`` when JSON inlines the struct that has it."""
    facts = messages.get(message)
    if facts is None:
        return None
    if wire in facts["fields"] and wire not in facts["inline"]:
        return [wire]
    for name in facts["inline"]:
        inner = _locate(messages, _element(facts["types"][name]), wire)
        if inner is not None:
            return [name, *inner]
    return None


def field_numbers(model: type[BaseModel]) -> dict[str, tuple[int, ...]]:
    """The protobuf field numbers of ``model``'s fields by JSON name, as the table gives
    them (several numbers for a field in a nested inline message). A field without a
    number is absent; ``apiVersion``/``kind`` of a kind travel in the envelope instead."""
    name = message_name(model)
    if name is None:
        return {}
    messages = _table()["messages"]
    found: dict[str, tuple[int, ...]] = {}
    for wire in fields_of(model):
        path = _locate(messages, name, wire)
        if path is None:
            continue
        numbers, holder = [], name
        for step in path:
            numbers.append(messages[holder]["fields"][step])
            holder = _element(messages[holder]["types"][step])
        found[wire] = tuple(numbers)
    return found


# --- plans: what each model field is on the wire ------------------------------------------

_SCALAR_KINDS: dict[str, frozenset[str]] = {
    # kind -> the protobuf types of Kubernetes that carry it
    "string": frozenset({"string"}),
    "bytes": frozenset({"bytes"}),
    "int": frozenset({"int32", "int64"}),  # one varint form (negative int32s sign-extend)
    "bool": frozenset({"bool"}),
    "double": frozenset({"double", "float"}),
}
_SPECIAL_KINDS: dict[str, frozenset[str]] = {
    "time": frozenset({_TIME}),
    "microtime": frozenset({_MICRO_TIME}),
    "intstr": frozenset({_INT_OR_STRING}),
    "quantity": frozenset({_QUANTITY}),
    "raw": _RAW_MESSAGES,
    "strings": _EXTRA_VALUES,
}
_SPECIAL_OF: dict[str, str] = {
    "Time": "time",
    "MicroTime": "microtime",
    "IntOrString": "intstr",
    "Quantity": "quantity",
}


Writer = Callable[[Any, "_Field", Any], None]
"""Sets a field of a message (the first argument) from its JSON value."""
Reader = Callable[["_Field", Any], Any]
"""The JSON value of a field from its protobuf value, or ``_UNSET``."""


@dataclass(slots=True, eq=False)
class _Field:
    """One model field: its JSON name and where and how it travels in protobuf."""

    wire: str
    """The JSON name, which is the protobuf field's name too."""
    number: int
    kind: str
    """string, bytes, int, bool, double, message, time, microtime, intstr, quantity, raw."""
    label: str
    """single, repeated or map."""
    keeps_zero: bool
    """A zero read from the wire is kept: the Go field is a pointer (zero is a value),
    a scalar Go's JSON writes even when zero (no ``omitempty``), or one the model
    requires."""
    inline: tuple[str, ...] = ()
    """Names of the nested messages holding it on the wire (JSON inlines them)."""
    plan: _Plan | None = None
    """For ``message`` fields: the plan of the value's model."""
    write: Writer = field(init=False)
    read: Reader = field(init=False)
    put: Callable[[Any, Any], None] = field(init=False)
    """For the special kinds: fills the field's message from one JSON value."""
    get: Callable[[Any], Any] = field(init=False)
    """For the special kinds: one JSON value (None for zero) from the field's message."""
    plain: bool = False
    """A singular string, integer or boolean: set and read in place, without a call."""


@dataclass(slots=True, eq=False)
class _Node:
    """One protobuf message as read: fields by number, and the nested messages whose
    fields JSON inlines (a Volume's ``volumeSource``) as nodes of their own."""

    name: str
    fields: dict[int, _Field] = field(default_factory=dict)
    inlines: dict[int, _Node] = field(default_factory=dict)
    cls: Any = None


@dataclass(slots=True, eq=False)
class _Plan:
    """A model's message: its fields by JSON name (to write) and its node (to read)."""

    model: type[BaseModel]
    message: str
    by_wire: dict[str, _Field]
    root: _Node


class _Builder:
    """Builds every plan, then one descriptor file for all of them."""

    def __init__(self) -> None:
        table = _table()
        self.models: dict[str, str] = table["models"]
        self.messages: dict[str, dict[str, Any]] = table["messages"]
        self.plans: dict[type[BaseModel], _Plan] = {}
        self.file = descriptor_pb2.FileDescriptorProto(
            name="navarch/k8s.proto", package=_PACKAGE, syntax="proto2"
        )
        self.nodes: list[_Node] = []

    # -- plans

    def plan(self, model: type[BaseModel]) -> _Plan:
        found = self.plans.get(model)
        if found is not None:
            return found
        message = self.models.get(_qualname(model))
        if message is None:
            raise ProtobufError(
                f"{_qualname(model)} has no protobuf message: run hack/gen_protobuf_fields.py"
            )
        root = _Node(_descriptor_name(_qualname(model)))
        plan = _Plan(model, message, {}, root)
        self.plans[model] = plan
        self.nodes.append(root)
        skip = {"apiVersion", "kind"} if issubclass(model, KubeObject) else set()
        for wire, fs in fields_of(model).items():
            if wire in skip:
                continue
            plan.by_wire[wire] = self._field(model, message, root, fs)
        return plan

    def _field(self, model: type[BaseModel], message: str, root: _Node, fs: FieldSchema) -> _Field:
        wire = fs.wire_name
        where = f"{_qualname(model)}.{wire}"
        path = _locate(self.messages, message, wire)
        if path is None:
            raise ProtobufError(f"{where}: no protobuf field in {message}")
        holder, node = message, root
        for name in path[:-1]:
            facts = self.messages[holder]
            number = facts["fields"][name]
            child = node.inlines.get(number)
            if child is None:
                child = node.inlines[number] = _Node(f"{node.name}__{name}")
                self.nodes.append(child)
            holder, node = _element(facts["types"][name]), child
        inline = tuple(path[:-1])
        facts = self.messages[holder]
        proto_type: str = facts["types"][wire]
        label, element = _label(proto_type)
        kind, item = self._kind(fs.value_type, label, where)
        f = _Field(
            wire=wire,
            number=facts["fields"][wire],
            kind=kind,
            label=label,
            keeps_zero=(
                fs.required
                or wire in facts["nullable"]
                or (label == "single" and kind in _SCALAR_KINDS and wire in facts["emitted"])
            ),
            inline=inline,
        )
        if kind == "message":
            nested = item.model or item.wire_model
            assert nested is not None
            f.plan = self.plan(nested)
            accepted = frozenset({f.plan.message})
        elif kind in _SCALAR_KINDS:
            accepted = _SCALAR_KINDS[kind]
        else:
            accepted = _SPECIAL_KINDS[kind]
        if element not in accepted:
            raise ProtobufError(f"{where}: the model's value does not fit protobuf {proto_type}")
        _bind(f)
        node.fields[f.number] = f
        return f

    @staticmethod
    def _kind(value: TypeInfo, label: str, where: str) -> tuple[str, TypeInfo]:
        """The kind of the field's element (the list item or map value) and its type."""
        item = value
        if label == "repeated":
            if value.shape != "list" or value.item is None:
                raise ProtobufError(f"{where}: a repeated protobuf field, not a list")
            item = value.item
        elif label == "map":
            if value.shape != "map" or value.item is None or value.wire_model is not None:
                raise ProtobufError(f"{where}: a protobuf map, not a map")
            item = value.item
        if item.wire_model is not None or (item.shape == "object" and item.model is not None):
            return "message", item
        if (
            label == "map"
            and item.shape == "list"
            and item.item is not None
            and item.item.shape == "scalar"
            and set(item.item.json_types) == {"string"}
        ):
            return "strings", item
        if item.special is not None:
            return _SPECIAL_OF[item.special], item
        if item.shape in ("any", "map") and (item.item is None or item.item.shape == "any"):
            return "raw", item
        if item.shape == "scalar":
            if item.format == "byte":
                return "bytes", item
            kinds = set(item.json_types)
            for json_type, kind in (
                ("string", "string"),
                ("integer", "int"),
                ("boolean", "bool"),
                ("number", "double"),
            ):
                if kinds == {json_type}:
                    return kind, item
        raise ProtobufError(f"{where}: no protobuf form for this value")

    # -- descriptors

    def build(self) -> descriptor_pool.DescriptorPool:
        """One descriptor file: every planned message, the special messages Kubernetes
        marshals by hand, the envelopes; then a class for every node."""
        for node in self.nodes:
            self.file.message_type.append(self._describe(node))
        unknown, event = f"{_RUNTIME}.Unknown", f"{_META}.WatchEvent"
        specials: dict[str, list[tuple[str, str, str]]] = {
            "Time": [("seconds", _TIME, "int64"), ("nanos", _TIME, "int32")],
            "MicroTime": [("seconds", _MICRO_TIME, "int64"), ("nanos", _MICRO_TIME, "int32")],
            "IntOrString": [
                ("type", _INT_OR_STRING, "int64"),
                ("intVal", _INT_OR_STRING, "int32"),
                ("strVal", _INT_OR_STRING, "string"),
            ],
            "Quantity": [("string", _QUANTITY, "string")],
            "Raw": [("raw", f"{_RUNTIME}.RawExtension", "bytes")],
            "TypeMeta": [
                ("apiVersion", f"{_RUNTIME}.TypeMeta", "string"),
                ("kind", f"{_RUNTIME}.TypeMeta", "string"),
            ],
            "Unknown": [
                ("typeMeta", unknown, ".TypeMeta"),
                ("raw", unknown, "bytes"),
                ("contentEncoding", unknown, "string"),
                ("contentType", unknown, "string"),
            ],
            "WatchEvent": [("type", event, "string"), ("object", event, ".Raw")],
        }
        if {tuple(self.messages[m]["fields"].values()) for m in _RAW_MESSAGES} != {(1,)}:
            raise ProtobufError("RawExtension and FieldsV1 no longer hold one bytes field 1")
        strings = self.file.message_type.add(name="Strings")
        _add_field(strings, "items", 1, "string", repeated=True)
        for name, fields in specials.items():
            desc = self.file.message_type.add(name=name)
            for field_name, message, kind in fields:
                _add_field(desc, field_name, self.messages[message]["fields"][field_name], kind)
        list_meta = self.plans[meta.ListMeta].root.name
        for meta_number, items_number in self.list_numbers():
            desc = self.file.message_type.add(name=f"List_{meta_number}_{items_number}")
            _add_field(desc, "metadata", meta_number, "." + list_meta)
            _add_field(desc, "items", items_number, "bytes", repeated=True)
        pool = descriptor_pool.DescriptorPool()
        pool.Add(self.file)
        for node in self.nodes:
            node.cls = _class(pool, node.name)
        return pool

    def list_numbers(self) -> list[tuple[int, int]]:
        """The distinct (metadata, items) numbers of the list messages."""
        found = set()
        for name in _table()["lists"].values():
            numbers = self.messages[name]["fields"]
            found.add((numbers["metadata"], numbers["items"]))
        return sorted(found)

    def _describe(self, node: _Node) -> descriptor_pb2.DescriptorProto:
        desc = descriptor_pb2.DescriptorProto(name=node.name)
        for number, inline in node.inlines.items():
            _add_field(desc, inline.name.rsplit("__", 1)[1], number, "." + inline.name)
        for number, f in sorted(node.fields.items()):
            kind = _descriptor_kind(f)
            if f.label == "map":
                entry = desc.nested_type.add(name=f"{f.wire[:1].upper()}{f.wire[1:]}Entry")
                entry.options.map_entry = True
                _add_field(entry, "key", 1, "string")
                _add_field(entry, "value", 2, kind)
                entry_type = f".{_PACKAGE}.{node.name}.{entry.name}"
                _add_field(desc, f.wire, number, entry_type, repeated=True)
            else:
                _add_field(desc, f.wire, number, kind, repeated=f.label == "repeated")
        return desc


def _descriptor_kind(f: _Field) -> str:
    if f.kind == "message":
        assert f.plan is not None
        return "." + f.plan.root.name
    return {
        "string": "string",
        "bytes": "bytes",
        "int": "int64",
        "bool": "bool",
        "double": "double",
        "time": ".Time",
        "microtime": ".MicroTime",
        "intstr": ".IntOrString",
        "quantity": ".Quantity",
        "raw": ".Raw",
        "strings": ".Strings",
    }[f.kind]


_TYPES = {
    "string": descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
    "bytes": descriptor_pb2.FieldDescriptorProto.TYPE_BYTES,
    "int64": descriptor_pb2.FieldDescriptorProto.TYPE_INT64,
    "int32": descriptor_pb2.FieldDescriptorProto.TYPE_INT32,
    "bool": descriptor_pb2.FieldDescriptorProto.TYPE_BOOL,
    "double": descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE,
}


def _add_field(
    desc: descriptor_pb2.DescriptorProto,
    name: str,
    number: int,
    kind: str,
    *,
    repeated: bool = False,
) -> None:
    label = (
        descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
        if repeated
        else descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
    )
    fd = desc.field.add(name=name, number=number, label=label)
    if kind.startswith("."):
        fd.type = descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
        fd.type_name = kind if kind.startswith(f".{_PACKAGE}.") else f".{_PACKAGE}{kind}"
    else:
        fd.type = _TYPES[kind]


def _class(pool: descriptor_pool.DescriptorPool, name: str) -> Any:
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.{name}"))


def _descriptor_name(qualname: str) -> str:
    return qualname.replace(".", "_")


def _label(proto_type: str) -> tuple[str, str]:
    if proto_type.startswith("repeated "):
        return "repeated", proto_type[len("repeated ") :]
    if proto_type.startswith("map<"):
        return "map", proto_type[4:-1].split(", ", 1)[1]
    return "single", proto_type


def _element(proto_type: str) -> str:
    return _label(proto_type)[1]


# --- the codec ------------------------------------------------------------------------------


def _root_models() -> list[type[BaseModel]]:
    models: list[type[BaseModel]] = [r.model for r in registry.RESOURCES]
    models += registry.SUBRESOURCE_KINDS.values()
    models += [meta.Status, meta.DeleteOptions, meta.PartialObjectMetadata, meta.ListMeta]
    return models


_META_KINDS: dict[str, type[KubeObject]] = {
    "Status": meta.Status,
    "DeleteOptions": meta.DeleteOptions,
    "PartialObjectMetadata": meta.PartialObjectMetadata,
}
"""Kinds every group version carries: known by their kind whatever the apiVersion."""


class _Codec:
    """Every plan, their message classes, and the envelopes."""

    def __init__(self) -> None:
        builder = _Builder()
        for model in _root_models():
            builder.plan(model)
        pool = builder.build()
        self.plans = builder.plans
        self.unknown = _class(pool, "Unknown")
        self.watch_event = _class(pool, "WatchEvent")
        self.list_classes = {
            numbers: _class(pool, f"List_{numbers[0]}_{numbers[1]}")
            for numbers in builder.list_numbers()
        }
        self.list_meta = self.plans[meta.ListMeta]
        self.kinds: dict[tuple[str, str], type[BaseModel]] = {}
        self.lists: dict[tuple[str, str], tuple[type[BaseModel], Any]] = {}
        table_lists: dict[str, str] = _table()["lists"]
        messages = builder.messages
        for model in _root_models():
            if not issubclass(model, KubeObject):
                continue
            self.kinds[(model.API_VERSION, model.KIND)] = model
            list_message = table_lists.get(_qualname(model))
            if list_message is not None:
                numbers = messages[list_message]["fields"]
                cls = self.list_classes[(numbers["metadata"], numbers["items"])]
                self.lists[(model.API_VERSION, f"{model.KIND}List")] = (model, cls)

    def model(self, api_version: str, kind: str) -> type[BaseModel] | None:
        found = self.kinds.get((api_version, kind))
        if found is None and (not api_version or api_version.endswith("/v1")):
            # Status and DeleteOptions are registered in every group version.
            found = _META_KINDS.get(kind)
        if found is None and kind.startswith("PartialObjectMetadata"):
            found = _META_KINDS.get(kind) if api_version.startswith("meta.k8s.io/") else None
        return found

    def list_of(self, api_version: str, kind: str) -> tuple[type[BaseModel], Any] | None:
        found = self.lists.get((api_version, kind))
        if (
            found is None
            and kind == "PartialObjectMetadataList"
            and api_version.startswith("meta.k8s.io/")
        ):
            found = self.lists.get(("meta.k8s.io/v1", kind))
        return found


@cache
def _codec() -> _Codec:
    return _Codec()


def prepare() -> None:
    """Build every message now (a fraction of a second) rather than on first use."""
    _codec()


# --- JSON -> protobuf ---------------------------------------------------------------------
# Each field has a writer and a reader chosen once (``_bind``) for its kind and label, so
# the loops below do one dict lookup and one call per field.


def _write(msg: Any, plan: _Plan, value: Mapping[str, Any]) -> None:
    by_wire = plan.by_wire
    for key, item in value.items():
        f = by_wire.get(key)
        if f is None or item is None:
            continue
        target = msg
        if f.inline:
            for name in f.inline:
                target = getattr(target, name)
        try:
            if f.plain:
                setattr(target, f.wire, item)
            else:
                f.write(target, f, item)
        except ProtobufError as err:
            raise ProtobufError(f"{key}.{err}") from None
        except (TypeError, ValueError, AttributeError, OverflowError, binascii.Error) as err:
            raise ProtobufError(f"{key}: {err}") from None


def _w_set(target: Any, f: _Field, item: Any) -> None:
    setattr(target, f.wire, item)


def _w_bytes(target: Any, f: _Field, item: Any) -> None:
    setattr(target, f.wire, _unbase64(item))


def _w_double(target: Any, f: _Field, item: Any) -> None:
    setattr(target, f.wire, float(item))


def _w_message(target: Any, f: _Field, item: Any) -> None:
    sub = getattr(target, f.wire)
    sub.SetInParent()
    _write(sub, f.plan, item)  # type: ignore[arg-type]


def _w_special(target: Any, f: _Field, item: Any) -> None:
    sub = getattr(target, f.wire)
    sub.SetInParent()
    f.put(sub, item)


def _w_extend(target: Any, f: _Field, item: Any) -> None:
    getattr(target, f.wire).extend(item)


def _w_extend_bytes(target: Any, f: _Field, item: Any) -> None:
    getattr(target, f.wire).extend([_unbase64(element) for element in item])


def _w_extend_double(target: Any, f: _Field, item: Any) -> None:
    getattr(target, f.wire).extend([float(element) for element in item])


def _w_repeated_message(target: Any, f: _Field, item: Any) -> None:
    container, plan = getattr(target, f.wire), f.plan
    for element in item:
        _write(container.add(), plan, element)  # type: ignore[arg-type]


def _w_repeated_special(target: Any, f: _Field, item: Any) -> None:
    container, put = getattr(target, f.wire), f.put
    for element in item:
        put(container.add(), element)


def _w_map(target: Any, f: _Field, item: Any) -> None:
    container = getattr(target, f.wire)
    for key, value in item.items():
        container[key] = value


def _w_map_bytes(target: Any, f: _Field, item: Any) -> None:
    container = getattr(target, f.wire)
    for key, value in item.items():
        container[key] = _unbase64(value)


def _w_map_double(target: Any, f: _Field, item: Any) -> None:
    container = getattr(target, f.wire)
    for key, value in item.items():
        container[key] = float(value)


def _w_map_message(target: Any, f: _Field, item: Any) -> None:
    container, plan = getattr(target, f.wire), f.plan
    for key, value in item.items():
        _write(container[key], plan, value)  # type: ignore[arg-type]


def _w_map_special(target: Any, f: _Field, item: Any) -> None:
    container, put = getattr(target, f.wire), f.put
    for key, value in item.items():
        put(container[key], value)


def _put_time(sub: Any, item: Any) -> None:
    if item is not None:  # null (a zero time in a list or map): an empty message
        sub.seconds = _parse_time(item)[0]
        sub.nanos = 0  # Time has whole seconds; Go writes nanos all the same


def _put_microtime(sub: Any, item: Any) -> None:
    if item is not None:
        seconds, micros = _parse_time(item)
        sub.seconds = seconds
        sub.nanos = micros * 1000


def _put_intstr(sub: Any, item: Any) -> None:
    # Go writes all three fields, whichever is used.
    if isinstance(item, str):
        sub.type, sub.intVal, sub.strVal = 1, 0, item
    elif isinstance(item, int) and not isinstance(item, bool):
        sub.type, sub.intVal, sub.strVal = 0, item, ""
    elif item is not None:
        raise TypeError(f"{item!r} is neither an integer nor a string")


def _put_quantity(sub: Any, item: Any) -> None:
    if isinstance(item, str):
        sub.string = item
    elif isinstance(item, int | float) and not isinstance(item, bool):
        sub.string = str(item)
    elif item is not None:
        raise TypeError(f"{item!r} is not a quantity")


def _put_raw(sub: Any, item: Any) -> None:
    sub.raw = orjson.dumps(item)


def _put_strings(sub: Any, item: Any) -> None:
    if not isinstance(item, list) or not all(isinstance(i, str) for i in item):
        raise TypeError(f"{item!r} is not a list of strings")
    sub.items.extend(item)


def _get_strings(value: Any) -> Any:
    return list(value.items)


def _unbase64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise TypeError(f"{text!r} is not base64 text")
    return base64.b64decode(text, validate=True)


def _parse_time(text: Any) -> tuple[int, int]:
    if not isinstance(text, str):
        raise TypeError(f"{text!r} is not a time")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _ONE_SECOND, moment.microsecond


def _message(plan: _Plan, value: Any) -> Any:
    if not isinstance(value, Mapping):
        raise ProtobufError(f"a {plan.model.__name__} must be an object")
    msg = plan.root.cls()
    _write(msg, plan, value)
    return msg


# --- protobuf -> JSON ---------------------------------------------------------------------


class _Unset:
    """What a reader returns for a field Go reads as not set."""


_UNSET: Final = _Unset()


def _read(msg: Any, node: _Node, out: dict[str, Any]) -> None:
    fields = node.fields
    for fd, value in msg.ListFields():
        f = fields.get(fd.number)
        if f is None:
            _read(value, node.inlines[fd.number], out)
            continue
        if f.plain:
            if value or f.keeps_zero:
                out[f.wire] = value
            continue
        converted = f.read(f, value)
        if converted is not _UNSET:
            out[f.wire] = converted


def _object(msg: Any, node: _Node) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _read(msg, node, out)
    return out


def _r_zero_unset(f: _Field, value: Any) -> Any:
    return value if value else _UNSET


def _r_value(f: _Field, value: Any) -> Any:
    return value


def _r_bytes(f: _Field, value: Any) -> Any:
    return _base64(value) if value or f.keeps_zero else _UNSET


def _r_message(f: _Field, value: Any) -> Any:
    out = _object(value, f.plan.root)  # type: ignore[union-attr]
    return out if out or f.keeps_zero else _UNSET


def _r_special(f: _Field, value: Any) -> Any:
    converted = f.get(value)
    # A raw value may be a dict or a list: compare, do not hash.
    if converted is None or (not f.keeps_zero and converted in (0, "")):
        return _UNSET
    return converted


def _r_list(f: _Field, value: Any) -> Any:
    return list(value)


def _r_list_bytes(f: _Field, value: Any) -> Any:
    return [_base64(element) for element in value]


def _r_list_message(f: _Field, value: Any) -> Any:
    node = f.plan.root  # type: ignore[union-attr]
    return [_object(element, node) for element in value]


def _r_list_special(f: _Field, value: Any) -> Any:
    get = f.get
    return [get(element) for element in value]


def _r_map(f: _Field, value: Any) -> Any:
    return {key: value[key] for key in sorted(value)}


def _r_map_bytes(f: _Field, value: Any) -> Any:
    return {key: _base64(value[key]) for key in sorted(value)}


def _r_map_message(f: _Field, value: Any) -> Any:
    node = f.plan.root  # type: ignore[union-attr]
    return {key: _object(value[key], node) for key in sorted(value)}


def _r_map_special(f: _Field, value: Any) -> Any:
    get = f.get
    return {key: get(value[key]) for key in sorted(value)}


def _get_time(value: Any) -> Any:
    seconds = value.seconds
    if seconds == _GO_ZERO_TIME_SECONDS or not value.ListFields():
        return None  # Go's zero time, which it writes as an empty message: JSON null
    return format_time(_EPOCH + timedelta(seconds=seconds))


def _get_microtime(value: Any) -> Any:
    seconds = value.seconds
    if seconds == _GO_ZERO_TIME_SECONDS or not value.ListFields():
        return None
    return format_microtime(_EPOCH + timedelta(seconds=seconds, microseconds=value.nanos // 1000))


def _get_intstr(value: Any) -> Any:
    return value.strVal if value.type == 1 else value.intVal


def _get_quantity(value: Any) -> Any:
    return value.string or None


def _get_raw(value: Any) -> Any:
    raw: bytes = value.raw
    if not raw:
        return None
    if raw.startswith(MAGIC):
        return decode(raw)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise ProtobufError(f"embedded JSON: {err}") from None


def _base64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _parse(cls: Any, data: bytes) -> Any:
    try:
        return cls.FromString(data)
    except DecodeError as err:
        raise ProtobufError(f"malformed protobuf: {err}") from None


_SPECIAL_CODECS: dict[str, tuple[Callable[[Any, Any], None], Callable[[Any], Any]]] = {
    "time": (_put_time, _get_time),
    "microtime": (_put_microtime, _get_microtime),
    "intstr": (_put_intstr, _get_intstr),
    "quantity": (_put_quantity, _get_quantity),
    "raw": (_put_raw, _get_raw),
    "strings": (_put_strings, _get_strings),
}
_ACCESSORS: dict[tuple[str, str], tuple[Writer, Reader]] = {
    ("single", "string"): (_w_set, _r_zero_unset),
    ("single", "int"): (_w_set, _r_zero_unset),
    ("single", "bool"): (_w_set, _r_zero_unset),
    ("single", "double"): (_w_double, _r_zero_unset),
    ("single", "bytes"): (_w_bytes, _r_bytes),
    ("single", "message"): (_w_message, _r_message),
    ("single", "special"): (_w_special, _r_special),
    ("repeated", "scalar"): (_w_extend, _r_list),
    ("repeated", "double"): (_w_extend_double, _r_list),
    ("repeated", "bytes"): (_w_extend_bytes, _r_list_bytes),
    ("repeated", "message"): (_w_repeated_message, _r_list_message),
    ("repeated", "special"): (_w_repeated_special, _r_list_special),
    ("map", "scalar"): (_w_map, _r_map),
    ("map", "double"): (_w_map_double, _r_map),
    ("map", "bytes"): (_w_map_bytes, _r_map_bytes),
    ("map", "message"): (_w_map_message, _r_map_message),
    ("map", "special"): (_w_map_special, _r_map_special),
}


def _bind(f: _Field) -> None:
    """Choose the field's writer and reader (and special-message codec) once."""
    kind = f.kind
    if kind in _SPECIAL_CODECS:
        f.put, f.get = _SPECIAL_CODECS[kind]
        kind = "special"
    elif kind in ("string", "int", "bool") and f.label != "single":
        kind = "scalar"
    f.write, f.read = _ACCESSORS[(f.label, kind)]
    if f.read is _r_zero_unset and f.keeps_zero:
        f.read = _r_value
    f.plain = f.write is _w_set


# --- public surface ------------------------------------------------------------------------


def can_encode(api_version: str, kind: str) -> bool:
    """Whether objects (or lists) of this kind have a protobuf form here (a Table has none)."""
    codec = _codec()
    return (
        codec.model(api_version, kind) is not None or codec.list_of(api_version, kind) is not None
    )


def encode(obj: Mapping[str, Any]) -> bytes:
    """An object (or a list) as Kubernetes sends it: ``k8s\\x00`` + ``runtime.Unknown``.

    The kind comes from the object's ``apiVersion`` and ``kind``; ``ProtobufError`` if it
    has no protobuf form or a value does not fit.
    """
    api_version, kind = obj.get("apiVersion") or "", obj.get("kind") or ""
    codec = _codec()
    model = codec.model(api_version, kind)
    if model is None:
        listed = codec.list_of(api_version, kind)
        if listed is None:
            raise ProtobufError(f"no protobuf form for {kind or 'an object'} {api_version}")
        return encode_list(api_version, kind, obj.get("metadata") or {}, obj.get("items") or ())
    raw = _message(codec.plans[model], obj).SerializeToString(deterministic=True)
    return _envelope(api_version, kind, raw)


def encode_list(
    api_version: str,
    kind: str,
    list_meta: Mapping[str, Any],
    items: Iterable[bytes | Mapping[str, Any]],
) -> bytes:
    """A ``<Kind>List`` from its metadata and items (dicts, or their JSON text as stored)."""
    codec = _codec()
    listed = codec.list_of(api_version, kind)
    if listed is None:
        raise ProtobufError(f"no protobuf form for {kind} {api_version}")
    model, cls = listed
    plan = codec.plans[model]
    msg = cls()
    msg.metadata.SetInParent()
    _write(msg.metadata, codec.list_meta, list_meta)
    msg.items.extend(
        _message(plan, orjson.loads(item) if isinstance(item, bytes) else item).SerializeToString(
            deterministic=True
        )
        for item in items
    )
    return _envelope(api_version, kind, msg.SerializeToString(deterministic=True))


def _envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    unknown = _codec().unknown()
    unknown.typeMeta.apiVersion = api_version
    unknown.typeMeta.kind = kind
    unknown.raw = raw
    # Go writes every field of Unknown, empty or not; so do we, for identical bytes.
    unknown.contentEncoding = ""
    unknown.contentType = ""
    return MAGIC + unknown.SerializeToString()


def decode(data: bytes, default: tuple[str, str] | None = None) -> dict[str, Any]:
    """The JSON form of an enveloped object or list; ``default`` is the ``(apiVersion,
    kind)`` to assume when the envelope names none. ``ProtobufError`` if it is not one."""
    if not data.startswith(MAGIC):
        raise ProtobufError("not a protobuf object: it does not start with k8s\\x00")
    codec = _codec()
    unknown = _parse(codec.unknown, data[len(MAGIC) :])
    if unknown.contentEncoding:
        raise ProtobufError(f"unsupported content encoding {unknown.contentEncoding!r}")
    api_version, kind = unknown.typeMeta.apiVersion, unknown.typeMeta.kind
    if not kind and default is not None:
        api_version, kind = api_version or default[0], default[1]
    model = codec.model(api_version, kind)
    out: dict[str, Any] = {"apiVersion": api_version, "kind": kind}
    if model is not None:
        _read(_parse(codec.plans[model].root.cls, unknown.raw), codec.plans[model].root, out)
        return out
    listed = codec.list_of(api_version, kind)
    if listed is None:
        raise ProtobufError(f"no kind {kind!r} is known in version {api_version!r}")
    model, cls = listed
    msg = _parse(cls, unknown.raw)
    list_meta: dict[str, Any] = {}
    _read(msg.metadata, codec.list_meta.root, list_meta)
    out["metadata"] = list_meta
    plan = codec.plans[model]
    item_kind = getattr(model, "KIND", "")
    items = []
    for raw in msg.items:
        item: dict[str, Any] = {"apiVersion": api_version, "kind": item_kind}
        _read(_parse(plan.root.cls, raw), plan.root, item)
        items.append(item)
    out["items"] = items
    return out


def encode_watch_event(event_type: str, obj: Mapping[str, Any]) -> bytes:
    """One watch event as a protobuf watch stream frames it: length, then ``WatchEvent``."""
    event = _codec().watch_event()
    event.type = event_type
    event.object.raw = encode(obj)
    body = event.SerializeToString()
    return _FRAME_HEADER.pack(len(body)) + body


def decode_watch_event(frame: bytes) -> dict[str, Any]:
    """``{"type", "object"}`` of one ``WatchEvent`` message (a frame without its length)."""
    event = _parse(_codec().watch_event, frame)
    return {"type": event.type, "object": _get_raw(event.object)}


class FrameReader:
    """Splits a protobuf watch stream into frames, whatever the chunks it arrives in."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        """The frames completed by ``chunk``."""
        buffer = self._buffer
        buffer += chunk
        while len(buffer) >= 4:
            (size,) = _FRAME_HEADER.unpack_from(buffer)
            if len(buffer) < 4 + size:
                break
            frame = bytes(buffer[4 : 4 + size])
            del buffer[: 4 + size]
            yield frame


def split_frames(data: bytes) -> Sequence[bytes]:
    """Every frame of a complete protobuf watch stream."""
    return list(FrameReader().feed(data))


__all__ = [
    "CONTENT_TYPE",
    "MAGIC",
    "WATCH_CONTENT_TYPE",
    "FrameReader",
    "ProtobufError",
    "can_encode",
    "decode",
    "decode_watch_event",
    "encode",
    "encode_list",
    "encode_watch_event",
    "field_numbers",
    "message_name",
    "prepare",
    "split_frames",
]
