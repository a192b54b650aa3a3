"""The OpenAPI v2 document in the protobuf form kubectl asks for.

kubectl (1.27 and later, for validation and for patch metadata when it has no v3)
requests ``/openapi/v2`` as ``application/com.github.proto-openapi.spec.v2@v1.0+protobuf``
only: the ``openapi.v2.Document`` message of gnostic's ``OpenAPIv2.proto``. This module
writes that message from the JSON document with a small protobuf wire encoder; only
the parts of the schema a Kubernetes document uses are covered (field numbers are
gnostic's). Vendor extensions travel as YAML text in ``Any.yaml``, as in Kubernetes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

MEDIA_TYPE = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"

_VARINT = 0
_BYTES = 2


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint((field << 3) | wire_type)


def _bytes_field(field: int, payload: bytes) -> bytes:
    return _key(field, _BYTES) + _varint(len(payload)) + payload


def _str(field: int, value: str | None) -> bytes:
    if not value:
        return b""
    return _bytes_field(field, value.encode())


def _bool(field: int, value: bool | None) -> bytes:
    return _key(field, _VARINT) + b"\x01" if value else b""


def _msg(field: int, payload: bytes, *, always: bool = False) -> bytes:
    if not payload and not always:
        return b""
    return _bytes_field(field, payload)


def _any(value: Any) -> bytes:
    """``openapi.v2.Any`` carrying ``value`` as YAML (field 2)."""
    text = yaml.safe_dump(value, default_flow_style=False, sort_keys=False)
    return _str(2, text)


def _extensions(field: int, obj: Mapping[str, Any]) -> bytes:
    out = b""
    for name, value in obj.items():
        if name.startswith("x-"):
            out += _msg(field, _str(1, name) + _msg(2, _any(value), always=True), always=True)
    return out


def _schema(s: Mapping[str, Any]) -> bytes:
    out = _str(1, s.get("$ref")) + _str(2, s.get("format")) + _str(3, s.get("title"))
    out += _str(4, s.get("description"))
    if "default" in s:
        out += _msg(5, _any(s["default"]), always=True)
    for name in s.get("required", ()):
        out += _str(19, name)
    for value in s.get("enum", ()):
        out += _msg(20, _any(value), always=True)
    extra = s.get("additionalProperties")
    if isinstance(extra, Mapping):
        out += _msg(21, _msg(1, _schema(extra), always=True), always=True)
    elif isinstance(extra, bool):
        out += _msg(21, _bool(2, extra) or _key(2, _VARINT) + b"\x00", always=True)
    if "type" in s:
        types = s["type"] if isinstance(s["type"], list) else [s["type"]]
        out += _msg(22, b"".join(_str(1, t) for t in types), always=True)
    if "items" in s:
        out += _msg(23, _msg(1, _schema(s["items"]), always=True), always=True)
    for sub in s.get("allOf", ()):
        out += _msg(24, _schema(sub), always=True)
    if "properties" in s:
        props = b"".join(
            _msg(1, _str(1, name) + _msg(2, _schema(prop), always=True), always=True)
            for name, prop in s["properties"].items()
        )
        out += _msg(25, props, always=True)
    return out + _extensions(31, s)


def _parameter(p: Mapping[str, Any]) -> bytes:
    where = p.get("in")
    if where == "body":
        body = _str(1, p.get("description")) + _str(2, p.get("name")) + _str(3, "body")
        body += _bool(4, p.get("required")) + _msg(5, _schema(p.get("schema") or {}), always=True)
        return _msg(1, _msg(1, body, always=True), always=True)
    # Query and path sub-schemas share the first fields' numbers up to "name" (4);
    # after it, query has allow_empty_value (5) and shifts type/format by one.
    sub = _bool(1, p.get("required")) + _str(2, where) + _str(3, p.get("description"))
    sub += _str(4, p.get("name"))
    if where == "path":
        sub += _str(5, p.get("type")) + _str(6, p.get("format")) + _bool(19, p.get("uniqueItems"))
        non_body = _msg(4, sub, always=True)
    else:
        sub += _str(6, p.get("type")) + _str(7, p.get("format")) + _bool(20, p.get("uniqueItems"))
        non_body = _msg(3, sub, always=True)
    return _msg(1, _msg(2, non_body, always=True), always=True)


def _parameters(field: int, params: Iterable[Mapping[str, Any]]) -> bytes:
    return b"".join(_msg(field, _parameter(p), always=True) for p in params)


def _responses(responses: Mapping[str, Any]) -> bytes:
    out = b""
    for code, resp in responses.items():
        body = _str(1, resp.get("description"))
        if "schema" in resp:
            body += _msg(2, _msg(1, _schema(resp["schema"]), always=True), always=True)
        value = _msg(1, body, always=True)
        out += _msg(1, _str(1, code) + _msg(2, value, always=True), always=True)
    return out


def _operation(op: Mapping[str, Any]) -> bytes:
    out = b"".join(_str(1, t) for t in op.get("tags", ()))
    out += _str(3, op.get("description")) + _str(5, op.get("operationId"))
    out += b"".join(_str(6, m) for m in op.get("produces", ()))
    out += b"".join(_str(7, m) for m in op.get("consumes", ()))
    out += _parameters(8, op.get("parameters", ()))
    out += _msg(9, _responses(op.get("responses", {})), always=True)
    out += b"".join(_str(10, s) for s in op.get("schemes", ()))
    return out + _extensions(13, op)


_METHODS = {"get": 2, "put": 3, "post": 4, "delete": 5, "options": 6, "head": 7, "patch": 8}


def _path_item(item: Mapping[str, Any]) -> bytes:
    out = b""
    for method, number in _METHODS.items():
        if method in item:
            out += _msg(number, _operation(item[method]), always=True)
    out += _parameters(9, item.get("parameters", ()))
    return out + _extensions(10, item)


def encode_document(doc: Mapping[str, Any]) -> bytes:
    """``openapi.v2.Document`` bytes for a Swagger 2.0 JSON document."""
    info = doc.get("info", {})
    out = _str(1, doc.get("swagger"))
    out += _msg(2, _str(1, info.get("title")) + _str(2, info.get("version")), always=True)
    paths = b"".join(
        _msg(2, _str(1, path) + _msg(2, _path_item(item), always=True), always=True)
        for path, item in doc.get("paths", {}).items()
    )
    out += _msg(8, paths, always=True)
    definitions = b"".join(
        _msg(1, _str(1, name) + _msg(2, _schema(schema), always=True), always=True)
        for name, schema in doc.get("definitions", {}).items()
    )
    out += _msg(9, definitions, always=True)
    return out
