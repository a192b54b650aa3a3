"""Secret: ``stringData`` folded into ``data`` on every write, type Opaque by default and
immutable, the keys each type requires, ``immutable`` like ConfigMaps.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from apiserver.kinds.common import (
    MAX_SECRET_SIZE,
    METADATA,
    CoreStrategy,
    canonical_base64,
    config_key_errors,
    decode_base64_field,
    immutable_data,
)
from apiserver.kinds.printers import AGE_COLUMN
from apiserver.registry.strategy import Column, age
from apitypes import registry
from apitypes.core import Secret
from apitypes.validation import FIELD_IMMUTABLE, FieldError, FieldPath, invalid, required, too_long

_SECRET_REQUIRED_KEYS: Mapping[str, tuple[str, ...]] = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
}
_SECRET_JSON_KEYS: Mapping[str, str] = {
    "kubernetes.io/dockercfg": ".dockercfg",
    "kubernetes.io/dockerconfigjson": ".dockerconfigjson",
}


def _go_json_object_error(raw: bytes) -> str | None:
    """Go's error for decoding ``raw`` into a JSON object, None if it decodes."""
    if not raw.strip():
        return "unexpected end of JSON input"
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        position = getattr(err, "pos", 0) or 0
        char = raw[position : position + 1].decode(errors="replace") or " "
        return f"invalid character {char!r} looking for beginning of value"
    if isinstance(value, dict):
        return None
    kinds = {list: "array", str: "string", bool: "bool", int: "number", float: "number"}
    shown = kinds.get(type(value), "null")
    if value is None:
        return None
    return f"json: cannot unmarshal {shown} into Go value of type map[string]interface {{}}"


class SecretStrategy(CoreStrategy):
    """Secrets: ``stringData`` folded into ``data`` on every write, type Opaque by
    default and immutable, the keys each type requires, ``immutable`` like ConfigMaps."""

    resource = registry.resource("", "secrets")
    selectable_fields = ("type",)
    columns = (
        Column("Type", description="Used to facilitate programmatic handling of secret data."),
        Column("Data", description="Contains the secret data."),
        AGE_COLUMN,
    )

    def fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        return {"type": obj.get("type") or ""}

    def default(self, obj: Secret) -> None:
        if not obj.type:
            obj.type = "Opaque"
        canonical_base64(obj.data, "Secret")
        # ``stringData`` is write-only: it overwrites ``data`` and is never stored.
        for key, value in obj.string_data.items():
            obj.data[key] = base64.b64encode(value.encode()).decode()
        obj.string_data = {}

    def validate(self, obj: Secret) -> list[FieldError]:
        errs = self.validate_metadata(obj)
        data_path = FieldPath("data")
        decoded = {key: decode_base64_field(value) or b"" for key, value in obj.data.items()}
        for key in sorted(obj.data):
            errs.extend(config_key_errors(key, data_path.key(key)))
        if sum(len(value) for value in decoded.values()) > MAX_SECRET_SIZE:
            errs.append(too_long(data_path, "", MAX_SECRET_SIZE))
        secret_type = obj.type or ""
        if secret_type == "kubernetes.io/service-account-token":
            if not obj.metadata.annotations.get("kubernetes.io/service-account.name"):
                errs.append(
                    required(
                        METADATA.child("annotations").key("kubernetes.io/service-account.name")
                    )
                )
        elif secret_type in _SECRET_JSON_KEYS:
            key = _SECRET_JSON_KEYS[secret_type]
            if key not in decoded:
                errs.append(required(data_path.key(key)))
            else:
                problem = _go_json_object_error(decoded[key])
                if problem:
                    errs.append(invalid(data_path.key(key), "<secret contents redacted>", problem))
        elif secret_type == "kubernetes.io/basic-auth":
            if "username" not in decoded and "password" not in decoded:
                errs.append(required(data_path.key("username")))
                errs.append(required(data_path.key("password")))
        elif secret_type == "kubernetes.io/ssh-auth" and not decoded.get("ssh-privatekey"):
            errs.append(required(data_path.key("ssh-privatekey")))
        for key in _SECRET_REQUIRED_KEYS.get(secret_type, ()):
            if key not in decoded:
                errs.append(required(data_path.key(key)))
        return errs

    def validate_update(self, new: Secret, old: Secret) -> list[FieldError]:
        errs: list[FieldError] = []
        if (new.type or "") != (old.type or ""):
            errs.append(invalid(FieldPath("type"), new.type or "", FIELD_IMMUTABLE))
        errs.extend(immutable_data(new, old, (("data", "data"),)))
        return errs

    def row(self, obj: Secret) -> Sequence[Any]:
        return [obj.type or "", len(obj.data), age(obj.metadata.creation_timestamp)]
