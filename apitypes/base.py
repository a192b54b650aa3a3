"""Conventions every API type follows.

Field names are snake_case in Python and camelCase on the wire, exactly as Kubernetes
spells them (``pod_ip`` <-> ``podIP``). Serialisation follows Go's ``omitempty``: a
field that was never set (``None``, an empty list or map) is left out, so an object
read, changed and written back carries only what it carried before plus the change.

Collections default to empty (so daemons can iterate without ``or []``); scalars and
nested objects default to ``None``. The server applies Kubernetes' defaults
explicitly in its strategies, never through model defaults, so a model's defaults
always mean "not set".

Lists that strategic merge patch merges by key are declared with :func:`merge_list`;
the same metadata feeds the patch engine and the OpenAPI document, so there is one
source of truth for ``x-kubernetes-patch-merge-key``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Self

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

# Word -> wire spelling when the word is not the first of a name (``pod_ip`` ->
# ``podIP``); Kubernetes capitalises these initialisms in its JSON names.
_INITIALISMS = {
    "ip": "IP",
    "ips": "IPs",
    "cidr": "CIDR",
    "cidrs": "CIDRs",
    "ipc": "IPC",
    "pid": "PID",
    "id": "ID",
    "uid": "UID",
    "uuid": "UUID",
    "url": "URL",
    "api": "API",
}


def wire_name(field_name: str) -> str:
    """The Kubernetes JSON name of a snake_case Python field name."""
    head, *rest = field_name.rstrip("_").split("_")
    return head + "".join(_INITIALISMS.get(word, word[:1].upper() + word[1:]) for word in rest)


class KubeModel(BaseModel):
    """Base of every API structure (not only top-level objects)."""

    STRUCT_TYPE: ClassVar[str] = "granular"
    """``atomic`` for the structs Kubernetes marks ``+structType=atomic`` (a
    LabelSelector, an ObjectReference): server-side apply owns and replaces them whole."""

    model_config = ConfigDict(
        alias_generator=wire_name,
        populate_by_name=True,
        extra="ignore",
        # Strict, as Kubernetes' decoder is: "3" is not an integer, 1 is not a string,
        # "true" is not a boolean. A manifest with the wrong type is refused, naming
        # the field, rather than silently coerced.
        strict=True,
        # Validators are built on a model's first use, not at import: a daemon uses a
        # few dozen of the several hundred models, and building them all cost each
        # process ~0.2 s of CPU at start (15 Python daemons start at once in compose).
        defer_build=True,
    )

    def to_dict(self) -> dict[str, Any]:
        """The wire form: camelCase keys, unset fields omitted, JSON-ready values."""
        return self.model_dump(by_alias=True, exclude_defaults=True, mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Build from the wire form; unknown fields are ignored."""
        return cls.model_validate(data)

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())


class KubeObject(KubeModel):
    """A top-level API object: ``apiVersion``, ``kind``, ``metadata``, and per-kind data.

    Subclasses set the class variables ``API_VERSION`` and ``KIND``; ``to_dict`` always
    writes them (as given, else the class's). Nested uses of an object type (the
    DeleteOptions inside an Eviction) carry them only when they were given.
    """

    API_VERSION: ClassVar[str] = ""
    KIND: ClassVar[str] = ""

    api_version: str | None = None
    """The versioned schema of this representation of the object, as group/version (v1,
    apps/v1). Servers convert recognised schemas to the latest internal value and may reject
    unrecognised ones."""
    kind: str | None = None
    """The REST resource this object represents, in CamelCase (Pod, Deployment). Servers may
    infer it from the endpoint the client submits to; it cannot be updated."""

    def to_dict(self) -> dict[str, Any]:
        body = self.model_dump(by_alias=True, exclude_defaults=True, mode="json")
        body["apiVersion"] = self.api_version or self.API_VERSION
        body["kind"] = self.kind or self.KIND
        return body


# --- patch metadata ---------------------------------------------------------------

PATCH_STRATEGY = "x-kubernetes-patch-strategy"
PATCH_MERGE_KEY = "x-kubernetes-patch-merge-key"
LIST_TYPE = "x-kubernetes-list-type"
LIST_MAP_KEYS = "x-kubernetes-list-map-keys"
MAP_TYPE = "x-kubernetes-map-type"
"""``atomic`` on a map field (or a struct's ``STRUCT_TYPE``): server-side apply treats the
value as one, never merging it key by key."""


def merge_list(key: str | None = None, *, retain_keys: bool = False) -> Any:
    """A list field that strategic merge patch merges (by ``key``, or as a set).

    ``key`` is the item field that identifies an element (``name`` for containers,
    ``containerPort`` for ports); without it the list holds scalars merged as a set
    (``finalizers``).
    """
    strategy = "merge,retainKeys" if retain_keys else "merge"
    extra: dict[str, Any] = {PATCH_STRATEGY: strategy}
    if key is not None:
        extra[PATCH_MERGE_KEY] = key
        extra[LIST_TYPE] = "map"
        extra[LIST_MAP_KEYS] = [key]
    else:
        extra[LIST_TYPE] = "set"
    return Field(default_factory=list, json_schema_extra=extra)


def retain_keys() -> Any:
    """An optional struct that strategic merge patch replaces by ``$retainKeys``.

    Kubernetes marks union types (a Deployment's ``strategy``, a volume's source) so
    that switching the member of the union drops the old one.
    """
    return Field(default=None, json_schema_extra={PATCH_STRATEGY: "retainKeys"})


def items() -> Any:
    """An ordinary list field (replaced whole by a patch), empty by default."""
    return Field(default_factory=list)


def mapping() -> Any:
    """An ordinary map field, empty by default."""
    return Field(default_factory=dict)


def atomic_mapping() -> Any:
    """A map field that server-side apply treats as one value (``+mapType=atomic``: a
    pod's ``nodeSelector``, a Service's ``selector``), empty by default."""
    return Field(default_factory=dict, json_schema_extra={MAP_TYPE: "atomic"})


# --- scalar types -----------------------------------------------------------------

_TIME_FMT = "%Y-%m-%dT%H:%M:%SZ"
_MICROTIME_FMT = "%Y-%m-%dT%H:%M:%S.%fZ"


def _aware(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as err:
            raise ValueError(f"cannot parse {value!r} as an RFC 3339 time") from err
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def format_time(value: datetime) -> str:
    """RFC 3339 at one-second precision, in UTC (``metav1.Time``)."""
    return value.astimezone(UTC).strftime(_TIME_FMT)


def format_microtime(value: datetime) -> str:
    """RFC 3339 with microseconds, in UTC (``metav1.MicroTime``)."""
    return value.astimezone(UTC).strftime(_MICROTIME_FMT)


def now() -> datetime:
    return datetime.now(UTC)


Time = Annotated[datetime, BeforeValidator(_aware), PlainSerializer(format_time, return_type=str)]
MicroTime = Annotated[
    datetime, BeforeValidator(_aware), PlainSerializer(format_microtime, return_type=str)
]


def _int_or_string(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be an integer or a string")
    return value


IntOrString = Annotated[int | str, BeforeValidator(_int_or_string)]
"""``intstr.IntOrString``: a port number or name, a count or a percentage."""


def _quantity_text(value: Any) -> Any:
    # Manifests often say ``cpu: 1`` or ``cpu: 0.5``: YAML numbers are accepted and kept
    # as their decimal text, as Kubernetes' Quantity unmarshalling does.
    if isinstance(value, bool):
        raise ValueError("quantities must be a number or a string")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return value


QuantityStr = Annotated[str, BeforeValidator(_quantity_text)]
"""``resource.Quantity`` as its canonical text; see :mod:`apitypes.quantity` for maths."""


class _Base64Marker:
    """Marks a string field that holds base64 text of bytes (Go ``[]byte``)."""

    def __repr__(self) -> str:
        return "BASE64"


BASE64 = _Base64Marker()

Base64Text = Annotated[str, BASE64]
"""Bytes as their base64 text, as JSON carries a Go ``[]byte`` (a Secret's ``data``).

Python sees the text, unchanged; the marker tells the schema (OpenAPI ``format: byte``)
and the protobuf codec (a ``bytes`` field: the decoded bytes travel) what it is.
"""


@dataclass(frozen=True, slots=True)
class WireShape:
    """Annotates a field kept as plain JSON (``dict[str, Any]``) with its Kubernetes type.

    Some structures are kept verbatim rather than modelled for use (the in-tree volume
    plugins navarch does not run, a StatefulSet's claim templates): Python code reads
    them as dicts and nothing validates or prunes inside them. Their wire form is still
    a structure, which the protobuf codec must know field by field: ``model`` is the
    model that describes it. Use as ``Annotated[dict[str, Any], WireShape(Model)]``.
    """

    model: type[BaseModel]
