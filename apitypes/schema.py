"""Introspection of API model classes by wire name, and their OpenAPI v2 definitions.

Everything that needs to know the *shape* of a kind without an instance of it reads it
from here: the apiserver pruning unknown fields (and warning about them the way
Kubernetes does), the strategic merge patch engine looking up
``x-kubernetes-patch-strategy`` / ``x-kubernetes-patch-merge-key``, and the OpenAPI
document that kubectl reads patch metadata and GVKs from.

The description of a class is computed once, on first use, from the resolved types
pydantic keeps in ``model_fields`` (so ``from __future__ import annotations`` is fine)
and cached per class: lookups on the request path are one dict access.

Vocabulary:

- :class:`TypeInfo` describes a value: its *shape* (``scalar``, ``object`` for a model,
  ``list``, ``map``, or ``any`` for unchecked JSON), the JSON types it accepts, the model
  class (for ``object``) and the element type (for ``list`` and ``map``).
- :class:`FieldSchema` describes one field of a model: wire and Python names, its
  :class:`TypeInfo`, whether it is required, and its patch metadata.
"""

from __future__ import annotations

import ast
import enum
import inspect
import itertools
import re
import sys
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from apitypes.base import (
    LIST_TYPE,
    MAP_TYPE,
    PATCH_MERGE_KEY,
    PATCH_STRATEGY,
    Base64Text,
    IntOrString,
    MicroTime,
    QuantityStr,
    Time,
    WireShape,
)

Shape = Literal["scalar", "object", "list", "map", "any"]

# Names Kubernetes gives the definitions of its special scalar types; kubectl and
# client generators recognise them by these names, so they are fixed, not chosen by the
# caller's ``definition_name``.
INT_OR_STRING_DEFINITION = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY_DEFINITION = "io.k8s.apimachinery.pkg.api.resource.Quantity"
TIME_DEFINITION = "io.k8s.apimachinery.pkg.apis.meta.v1.Time"
MICRO_TIME_DEFINITION = "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"

# Integer fields Kubernetes declares as int64; every other integer is an int32 unless
# the field says otherwise with ``json_schema_extra={"format": ...}``.
_INT64_FIELDS = frozenset(
    {
        "generation",
        "observedGeneration",
        "deletionGracePeriodSeconds",
        "gracePeriodSeconds",
        "terminationGracePeriodSeconds",
        "activeDeadlineSeconds",
        "runAsUser",
        "runAsGroup",
        "fsGroup",
        "supplementalGroups",
        "expirationSeconds",
        "remainingItemCount",
        "startingDeadlineSeconds",
    }
)


# --- type descriptions ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class TypeInfo:
    """The shape of a JSON value a model accepts.

    ``json_types`` lists the JSON types accepted (``string``, ``integer``, ``number``,
    ``boolean``, ``object``, ``array``); it is empty for ``any``. ``special`` names a
    Kubernetes special scalar (``IntOrString``, ``Quantity``, ``Time``, ``MicroTime``).
    """

    shape: Shape
    json_types: tuple[str, ...] = ()
    model: type[BaseModel] | None = None
    item: TypeInfo | None = None
    format: str | None = None
    special: str | None = None
    enum: tuple[Any, ...] | None = None
    has_model: bool = False
    """Whether a model appears anywhere inside (so pruning must descend into it)."""
    wire_model: type[BaseModel] | None = None
    """For JSON kept verbatim (``dict[str, Any]`` marked with :class:`WireShape`): the
    model describing its structure on the wire. Pruning and patching do not descend."""

    @property
    def value_model(self) -> type[BaseModel] | None:
        """The model of the value, of its list items or of its map values, if any."""
        node: TypeInfo | None = self
        while node is not None:
            if node.model is not None:
                return node.model
            node = node.item
        return None

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` has an acceptable JSON type (shallowly; ``None`` is unset)."""
        if value is None or self.shape == "any":
            return True
        if self.shape in ("object", "map"):
            return isinstance(value, dict)
        if self.shape == "list":
            return isinstance(value, list)
        return any(_JSON_TYPE_CHECKS[t](value) for t in self.json_types)

    def describe(self) -> str:
        """A human phrase for the expected type (``"integer or string"``)."""
        if self.shape == "any":
            return "any value"
        return " or ".join(self.json_types)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_JSON_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": _is_int,
    "number": _is_number,
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}

ANY = TypeInfo("any")
_STRING = TypeInfo("scalar", ("string",))
_INTEGER = TypeInfo("scalar", ("integer",))
_NUMBER = TypeInfo("scalar", ("number",), format="double")
_BOOLEAN = TypeInfo("scalar", ("boolean",))
_DATETIME = TypeInfo("scalar", ("string",), format="date-time")
_DATE = TypeInfo("scalar", ("string",), format="date")
_BYTES = TypeInfo("scalar", ("string",), format="byte")

_SPECIALS: tuple[tuple[Any, tuple[Any, ...], TypeInfo], ...] = tuple(
    (get_args(alias)[0], tuple(get_args(alias)[1:]), info)
    for alias, info in (
        (
            IntOrString,
            TypeInfo(
                "scalar", ("integer", "string"), format="int-or-string", special="IntOrString"
            ),
        ),
        (QuantityStr, TypeInfo("scalar", ("string", "number"), special="Quantity")),
        (MicroTime, TypeInfo("scalar", ("string",), format="date-time", special="MicroTime")),
        (Time, TypeInfo("scalar", ("string",), format="date-time", special="Time")),
        (Base64Text, TypeInfo("scalar", ("string",), format="byte")),
    )
)

_UNION_ORIGINS: tuple[Any, ...] = (Union, types.UnionType)
_LIST_ORIGINS: tuple[Any, ...] = (list, tuple, set, frozenset, Sequence)
_MAP_ORIGINS: tuple[Any, ...] = (dict, Mapping)


def type_of(model_cls: type[BaseModel]) -> TypeInfo:
    """The :class:`TypeInfo` of a value of ``model_cls`` (the root of a walk)."""
    info = _MODEL_TYPES.get(model_cls)
    if info is None:
        info = TypeInfo("object", ("object",), model=model_cls, has_model=True)
        _MODEL_TYPES[model_cls] = info
    return info


_MODEL_TYPES: dict[type[BaseModel], TypeInfo] = {}


def type_info(annotation: Any, metadata: Iterable[Any] = ()) -> TypeInfo:
    """Describe a (resolved) annotation; ``metadata`` is pydantic's ``FieldInfo.metadata``.

    Handles ``X | None``, ``list[X]``, ``dict[str, X]``, ``Annotated[...]``, ``Any``,
    ``Literal``, enums, the special scalars of :mod:`apitypes.base`, and JSON kept
    verbatim with a :class:`~apitypes.base.WireShape`.
    """
    meta = tuple(metadata)
    while get_origin(annotation) is Annotated:
        base, *extra = get_args(annotation)
        annotation, meta = base, (*meta, *extra)
    for base, markers, info in _SPECIALS:
        if annotation == base and all(m in meta for m in markers):
            return info
    for marker in meta:
        if isinstance(marker, WireShape):
            return TypeInfo("map", ("object",), item=ANY, wire_model=marker.model)
    if annotation is Any or annotation is object:
        return ANY
    origin = get_origin(annotation)
    if origin in _UNION_ORIGINS:
        return _union_info([a for a in get_args(annotation) if a is not type(None)], meta)
    if origin is Literal:
        values = get_args(annotation)
        kinds = {_literal_type(v) for v in values}
        return TypeInfo("scalar", tuple(sorted(kinds)), enum=values)
    if origin in _LIST_ORIGINS or annotation in _LIST_ORIGINS:
        args = get_args(annotation)
        item = type_info(args[0]) if args and args[0] is not Ellipsis else ANY
        return TypeInfo("list", ("array",), item=item, has_model=item.has_model)
    if origin in _MAP_ORIGINS or annotation in _MAP_ORIGINS:
        args = get_args(annotation)
        item = type_info(args[1]) if len(args) == 2 else ANY
        return TypeInfo("map", ("object",), item=item, has_model=item.has_model)
    if isinstance(annotation, type):
        return _class_info(annotation)
    return ANY


def _union_info(members: list[Any], meta: tuple[Any, ...]) -> TypeInfo:
    if not members:
        return ANY
    if len(members) == 1:
        return type_info(members[0], meta)
    infos = [type_info(m) for m in members]
    if all(i.shape == "scalar" for i in infos):
        kinds: list[str] = []
        for info in infos:
            kinds.extend(t for t in info.json_types if t not in kinds)
        return TypeInfo("scalar", tuple(kinds))
    return ANY


def _literal_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def _class_info(cls: type) -> TypeInfo:
    if issubclass(cls, BaseModel):
        return type_of(cls)
    if issubclass(cls, enum.Enum):
        values = tuple(member.value for member in cls)
        kinds = tuple(sorted({_literal_type(v) for v in values}))
        return TypeInfo("scalar", kinds, enum=values)
    if issubclass(cls, bool):
        return _BOOLEAN
    if issubclass(cls, int):
        return _INTEGER
    if issubclass(cls, float):
        return _NUMBER
    if issubclass(cls, str):
        return _STRING
    if issubclass(cls, datetime):
        return _DATETIME
    if issubclass(cls, date):
        return _DATE
    if issubclass(cls, bytes | bytearray):
        return _BYTES
    return ANY


# --- fields ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldSchema:
    """One field of a model as it appears on the wire."""

    wire_name: str
    python_name: str
    value_type: TypeInfo
    """The type of the field's value."""
    required: bool
    patch_strategy: str | None = None
    """``x-kubernetes-patch-strategy``: ``merge``, ``retainKeys``, ``merge,retainKeys``."""
    merge_key: str | None = None
    """``x-kubernetes-patch-merge-key``: the item field identifying a list element."""
    description: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    """The field's ``json_schema_extra`` (the ``x-kubernetes-*`` extensions and more)."""
    merges: bool = False
    """Strategic merge patch merges this list (by ``merge_key``, or as a set)."""
    retains_keys: bool = False
    """Strategic merge patch sends ``$retainKeys`` for this struct (or its list items)."""
    replaces: bool = False
    """Strategic merge patch replaces this value whole (``patchStrategy: replace``)."""

    @property
    def shape(self) -> Shape:
        return self.value_type.shape

    @property
    def is_list(self) -> bool:
        return self.value_type.shape == "list"

    @property
    def is_map(self) -> bool:
        return self.value_type.shape == "map"

    @property
    def is_scalar(self) -> bool:
        return self.value_type.shape == "scalar"

    @property
    def model(self) -> type[BaseModel] | None:
        """The model class of the value, of its list items or of its map values."""
        return self.value_type.value_model

    @property
    def json_types(self) -> tuple[str, ...]:
        return self.value_type.json_types

    @property
    def list_type(self) -> str | None:
        value = self.extra.get(LIST_TYPE)
        return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class ModelSchema:
    """Everything precomputed about one model class."""

    model: type[BaseModel]
    fields: Mapping[str, FieldSchema]
    """By wire name, in declaration order."""
    by_python_name: Mapping[str, FieldSchema]
    allows_extra: bool
    """The model keeps undeclared keys (``extra="allow"``), so nothing is unknown."""


_SCHEMAS: dict[type[BaseModel], ModelSchema] = {}


def model_schema(model_cls: type[BaseModel]) -> ModelSchema:
    """The cached :class:`ModelSchema` of ``model_cls``."""
    schema = _SCHEMAS.get(model_cls)
    if schema is None:
        schema = _build_schema(model_cls)
        _SCHEMAS[model_cls] = schema
    return schema


def fields_of(model_cls: type[BaseModel]) -> Mapping[str, FieldSchema]:
    """The fields of ``model_cls`` by wire name, in declaration order (cached)."""
    schema = _SCHEMAS.get(model_cls)
    if schema is None:
        schema = model_schema(model_cls)
    return schema.fields


def field_of(model_cls: type[BaseModel], wire_name: str) -> FieldSchema | None:
    """The field of ``model_cls`` called ``wire_name`` on the wire, if declared."""
    return fields_of(model_cls).get(wire_name)


def _build_schema(model_cls: type[BaseModel]) -> ModelSchema:
    if not model_cls.__pydantic_complete__:
        # Forward references still unresolved at class creation (mutually recursive
        # classes); resolving now fails loudly if a name is truly missing.
        model_cls.model_rebuild(raise_errors=True)
    by_wire: dict[str, FieldSchema] = {}
    for name, info in model_cls.model_fields.items():
        schema = _field_schema(name, info)
        by_wire[schema.wire_name] = schema
    by_python = {f.python_name: f for f in by_wire.values()}
    return ModelSchema(
        model=model_cls,
        fields=types.MappingProxyType(by_wire),
        by_python_name=types.MappingProxyType(by_python),
        allows_extra=model_cls.model_config.get("extra") == "allow",
    )


def _field_schema(name: str, info: FieldInfo) -> FieldSchema:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    strategy = extra.get(PATCH_STRATEGY)
    merge_key = extra.get(PATCH_MERGE_KEY)
    parts = set(strategy.split(",")) if isinstance(strategy, str) else set()
    return FieldSchema(
        wire_name=info.serialization_alias or info.alias or name,
        python_name=name,
        value_type=type_info(info.annotation, info.metadata),
        required=info.is_required(),
        patch_strategy=strategy if isinstance(strategy, str) else None,
        merge_key=merge_key if isinstance(merge_key, str) else None,
        description=info.description,
        extra=types.MappingProxyType(dict(extra)),
        merges="merge" in parts,
        retains_keys="retainKeys" in parts,
        replaces="replace" in parts,
    )


# --- paths ----------------------------------------------------------------------------

_PATH_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]|\[([^\]]*)\]")


def parse_path(path: str) -> list[str | int]:
    """Split ``spec.containers[0].image`` into ``["spec", "containers", 0, "image"]``.

    ``[key]`` with a non-numeric key is a map key (``data[app.conf]``).
    """
    segments: list[str | int] = []
    for name, index, key in _PATH_TOKEN.findall(path):
        if name:
            segments.append(name)
        elif index:
            segments.append(int(index))
        else:
            segments.append(key)
    return segments


def type_at(model_cls: type[BaseModel], path: str | Sequence[str | int]) -> TypeInfo | None:
    """The type of the value at ``path`` inside a ``model_cls`` value, or None if unknown.

    Integer segments index lists; a string segment after a list field steps into its
    items implicitly (``spec.containers.image``); after a map field a string segment
    is a key. ``None`` when a segment names no declared field or ``any`` is reached.
    """
    segments = parse_path(path) if isinstance(path, str) else path
    node: TypeInfo = type_of(model_cls)
    for segment in segments:
        if node.shape == "list" and node.item is not None:
            node = node.item
            if isinstance(segment, int):
                continue
        if isinstance(segment, int):
            return None
        if node.shape == "map" and node.item is not None:
            node = node.item
        elif node.shape == "object" and node.model is not None:
            found = fields_of(node.model).get(segment)
            if found is None:
                return None
            node = found.value_type
        else:
            return None
    return node


def field_at(model_cls: type[BaseModel], path: str | Sequence[str | int]) -> FieldSchema | None:
    """The :class:`FieldSchema` named by the last field segment of ``path``.

    ``field_at(Pod, "spec.containers[0].env")`` is the ``env`` field of Container;
    ``field_at(Pod, "spec.containers")`` is PodSpec's ``containers``. Trailing list
    indexes are allowed (``spec.containers[0]`` is still ``containers``). ``None`` when
    the path leaves the declared fields or ends inside a map.
    """
    segments = list(parse_path(path) if isinstance(path, str) else path)
    while segments and isinstance(segments[-1], int):
        segments.pop()
    if not segments:
        return None
    last = segments[-1]
    if not isinstance(last, str):
        return None
    parent = type_at(model_cls, segments[:-1])
    while parent is not None and parent.shape == "list":
        parent = parent.item
    if parent is None or parent.shape != "object" or parent.model is None:
        return None
    return fields_of(parent.model).get(last)


# --- pruning --------------------------------------------------------------------------

_ALWAYS_KNOWN_AT_TOP = frozenset({"apiVersion", "kind"})


def prune_unknown(model_cls: type[BaseModel], data: dict[str, Any]) -> list[str]:
    """Remove, in place, every key ``model_cls`` does not declare; return their paths.

    Descends through nested models, lists of models and maps of models (not into
    ``Any`` values). Paths are spelled as Kubernetes' strict decoding reports them in
    ``unknown field "..."``: fields and map keys joined by ``.``, list indexes as
    ``[i]`` (``spec.containers[0].foo``, ``spec.selector.matchLabels`` is a map so its
    keys are never unknown). ``apiVersion`` and ``kind`` are always known at the top.
    Paths come in document order, depth first.
    """
    dropped: list[str] = []
    _prune_model(model_cls, data, "", dropped, top=True)
    return dropped


def _prune_model(
    model_cls: type[BaseModel], data: dict[str, Any], prefix: str, dropped: list[str], *, top: bool
) -> None:
    schema = _SCHEMAS.get(model_cls) or model_schema(model_cls)
    fields = schema.fields
    for key in list(data):
        found = fields.get(key)
        if found is None:
            if schema.allows_extra or (top and key in _ALWAYS_KNOWN_AT_TOP):
                continue
            del data[key]
            dropped.append(f"{prefix}.{key}" if prefix else key)
            continue
        if found.value_type.has_model:
            value = data[key]
            if value is not None:
                _prune_value(found.value_type, value, f"{prefix}.{key}" if prefix else key, dropped)


def _prune_value(node: TypeInfo, value: Any, path: str, dropped: list[str]) -> None:
    if node.shape == "object" and node.model is not None:
        if isinstance(value, dict):
            _prune_model(node.model, value, path, dropped, top=False)
    elif node.shape == "list" and node.item is not None:
        if isinstance(value, list):
            for index, item in enumerate(value):
                if item is not None:
                    _prune_value(node.item, item, f"{path}[{index}]", dropped)
    elif node.shape == "map" and node.item is not None and isinstance(value, dict):
        for key, item in value.items():
            if item is not None:
                _prune_value(node.item, item, f"{path}.{key}", dropped)


# --- field documentation --------------------------------------------------------------

_MODULE_DOCS: dict[str, dict[str, dict[str, str]]] = {}


def prose(doc: str) -> str:
    """A docstring as one published description: lines of a paragraph joined (clients
    wrap text themselves), paragraphs kept apart by a blank line."""
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


def _module_attribute_docs(module_name: str) -> dict[str, dict[str, str]]:
    """``{class name: {attribute: docstring}}`` of a module's top-level classes: the
    string literal right after each annotated attribute (read from the source once)."""
    docs = _MODULE_DOCS.get(module_name)
    if docs is not None:
        return docs
    docs = {}
    module = sys.modules.get(module_name)
    try:
        source = inspect.getsource(module) if module is not None else ""
    except (OSError, TypeError):
        source = ""
    for node in ast.parse(source).body if source else ():
        if not isinstance(node, ast.ClassDef):
            continue
        found: dict[str, str] = {}
        for statement, following in itertools.pairwise(node.body):
            if (
                isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                found[statement.target.id] = prose(following.value.value)
        docs[node.name] = found
    _MODULE_DOCS[module_name] = docs
    return docs


def attribute_docs(model_cls: type[BaseModel]) -> dict[str, str]:
    """The documentation of ``model_cls``'s fields by Python name: the docstring written
    under each field in the source (of the class, or of the base class declaring it).

    Read only where documentation is published (the OpenAPI documents), never on the
    request path: pydantic's own ``use_attribute_docstrings`` would parse every class's
    source at import time, in every process.
    """
    docs: dict[str, str] = {}
    for cls in reversed(model_cls.__mro__):
        if cls is BaseModel or not issubclass(cls, BaseModel):
            continue
        docs.update(_module_attribute_docs(cls.__module__).get(cls.__name__, {}))
    return docs


# --- OpenAPI v2 -----------------------------------------------------------------------

DefinitionName = Callable[[type[BaseModel]], str]
ExtraExtensions = Callable[[type[BaseModel]], Mapping[str, Any] | None]

_SPECIAL_DEFINITIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "IntOrString": (
        INT_OR_STRING_DEFINITION,
        {
            "description": "An integer or a string: a port number or name, a count or a "
            "percentage. Written as a JSON number or a JSON string.",
            "type": "string",
            "format": "int-or-string",
        },
    ),
    "Quantity": (
        QUANTITY_DEFINITION,
        {
            "description": "A fixed-point amount with an optional SI or binary suffix "
            '("500m", "1Gi", "2"). Written as a JSON string (a number is accepted).',
            "type": "string",
        },
    ),
    "Time": (
        TIME_DEFINITION,
        {
            "description": "An RFC 3339 timestamp at one-second precision, in UTC.",
            "type": "string",
            "format": "date-time",
        },
    ),
    "MicroTime": (
        MICRO_TIME_DEFINITION,
        {
            "description": "An RFC 3339 timestamp with microseconds, in UTC.",
            "type": "string",
            "format": "date-time",
        },
    ),
}


def group_version_kind(model_cls: type[BaseModel]) -> dict[str, str] | None:
    """``{"group", "version", "kind"}`` of a top-level kind (its ``API_VERSION``/``KIND``)."""
    api_version = getattr(model_cls, "API_VERSION", "")
    kind = getattr(model_cls, "KIND", "")
    if not api_version or not kind:
        return None
    group, _, version = api_version.rpartition("/")
    return {"group": group, "kind": kind, "version": version}


def gvk_extension(model_cls: type[BaseModel]) -> dict[str, Any] | None:
    """An ``extra`` hook adding ``x-kubernetes-group-version-kind`` to top-level kinds."""
    gvk = group_version_kind(model_cls)
    if gvk is None:
        return None
    return {"x-kubernetes-group-version-kind": [gvk]}


def openapi_schema(
    model_cls: type[BaseModel],
    definition_name: DefinitionName,
    *,
    ref_prefix: str = "#/definitions/",
    allof_refs: bool = False,
    extra: ExtraExtensions | None = None,
) -> dict[str, Any]:
    """The OpenAPI definition of ``model_cls``, shaped like Kubernetes' ``swagger.json``.

    Nested models are ``$ref`` s to ``ref_prefix + definition_name(cls)``; the special
    scalars refer to Kubernetes' own definitions (IntOrString, Quantity, Time,
    MicroTime; see :func:`collect_definitions`). Patch and list metadata of a field are
    copied onto its property. ``required`` lists the fields without a default.
    ``allof_refs`` wraps a ``$ref`` that has siblings in ``allOf`` (OpenAPI v3 style).
    ``extra(cls)`` may return more top-level keys, e.g. :func:`gvk_extension`.
    """
    properties: dict[str, Any] = {}
    required: list[str] = []
    docs = attribute_docs(model_cls)
    for fs in fields_of(model_cls).values():
        prop = _value_schema(fs.value_type, definition_name, ref_prefix, fs.wire_name, fs.extra)
        siblings: dict[str, Any] = {}
        description = fs.description or docs.get(fs.python_name)
        if description:
            siblings["description"] = description
        siblings.update(
            (key, value) for key, value in fs.extra.items() if key.startswith("x-kubernetes-")
        )
        if "$ref" in prop and siblings and allof_refs:
            prop = {"allOf": [prop]}
        prop.update(siblings)
        properties[fs.wire_name] = prop
        if fs.required:
            required.append(fs.wire_name)
    schema: dict[str, Any] = {}
    doc = model_cls.__dict__.get("__doc__")
    if isinstance(doc, str) and doc.strip():
        schema["description"] = prose(doc)
    schema["type"] = "object"
    schema["properties"] = properties
    if required:
        schema["required"] = required
    if getattr(model_cls, "STRUCT_TYPE", "granular") == "atomic":
        schema[MAP_TYPE] = "atomic"
    if extra is not None:
        more = extra(model_cls)
        if more:
            schema.update(more)
    return schema


def _value_schema(
    node: TypeInfo,
    definition_name: DefinitionName,
    ref_prefix: str,
    wire_name: str = "",
    field_extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    if node.special is not None:
        return {"$ref": ref_prefix + _SPECIAL_DEFINITIONS[node.special][0]}
    if node.shape == "object" and node.model is not None:
        return {"$ref": ref_prefix + definition_name(node.model)}
    if node.shape == "list":
        item = node.item or ANY
        items = _value_schema(item, definition_name, ref_prefix, wire_name, field_extra)
        return {"type": "array", "items": items}
    if node.shape == "map":
        item = node.item or ANY
        if item.shape == "any":
            return {"type": "object"}
        return {
            "type": "object",
            "additionalProperties": _value_schema(item, definition_name, ref_prefix),
        }
    if node.shape == "any" or not node.json_types:
        return {}
    schema: dict[str, Any] = {"type": node.json_types[0]}
    fmt = node.format
    if node.json_types[0] == "integer":
        override = (field_extra or {}).get("format")
        if isinstance(override, str):
            fmt = override
        else:
            fmt = "int64" if wire_name in _INT64_FIELDS else "int32"
    if fmt:
        schema["format"] = fmt
    if node.enum is not None:
        schema["enum"] = [v.value if isinstance(v, enum.Enum) else v for v in node.enum]
    return schema


def _referenced(node: TypeInfo) -> Iterable[TypeInfo]:
    """The model and special-scalar types reachable from ``node`` without a model hop."""
    if node.special is not None or (node.shape == "object" and node.model is not None):
        yield node
    elif node.item is not None:
        yield from _referenced(node.item)


def collect_definitions(
    root_classes: Iterable[type[BaseModel]],
    definition_name: DefinitionName,
    *,
    ref_prefix: str = "#/definitions/",
    allof_refs: bool = False,
    extra: ExtraExtensions | None = None,
) -> dict[str, dict[str, Any]]:
    """Definitions for ``root_classes`` and every model and special scalar they reach.

    Keys are definition names (sorted); values are :func:`openapi_schema` results.
    Raises ``ValueError`` if two different classes get the same name.
    """
    definitions: dict[str, dict[str, Any]] = {}
    owners: dict[str, type[BaseModel]] = {}
    pending = list(root_classes)
    seen: set[type[BaseModel]] = set()
    while pending:
        cls = pending.pop()
        if cls in seen:
            continue
        seen.add(cls)
        name = definition_name(cls)
        if name in owners and owners[name] is not cls:
            raise ValueError(
                f"definition name {name!r} given to both {owners[name].__qualname__} "
                f"and {cls.__qualname__}"
            )
        owners[name] = cls
        definitions[name] = openapi_schema(
            cls, definition_name, ref_prefix=ref_prefix, allof_refs=allof_refs, extra=extra
        )
        for fs in fields_of(cls).values():
            for node in _referenced(fs.value_type):
                if node.special is not None:
                    special_name, special_schema = _SPECIAL_DEFINITIONS[node.special]
                    definitions[special_name] = dict(special_schema)
                elif node.model is not None and node.model not in seen:
                    pending.append(node.model)
    return dict(sorted(definitions.items()))


__all__ = [
    "ANY",
    "INT_OR_STRING_DEFINITION",
    "MICRO_TIME_DEFINITION",
    "QUANTITY_DEFINITION",
    "TIME_DEFINITION",
    "FieldSchema",
    "ModelSchema",
    "TypeInfo",
    "attribute_docs",
    "collect_definitions",
    "field_at",
    "field_of",
    "fields_of",
    "group_version_kind",
    "gvk_extension",
    "model_schema",
    "openapi_schema",
    "parse_path",
    "prune_unknown",
    "type_at",
    "type_info",
    "type_of",
]
