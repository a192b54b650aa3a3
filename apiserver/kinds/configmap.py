"""ConfigMap: valid keys, no key in both maps, 1 MiB at most, and no changes at all
once ``immutable``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apiserver.kinds.common import (
    MAX_SECRET_SIZE,
    CoreStrategy,
    canonical_base64,
    config_key_errors,
    decode_base64_field,
    immutable_data,
)
from apiserver.kinds.printers import AGE_COLUMN
from apiserver.registry.strategy import Column, age
from apitypes import registry
from apitypes.core import ConfigMap
from apitypes.validation import FieldError, FieldPath, invalid, too_long


class ConfigMapStrategy(CoreStrategy):
    """ConfigMaps: valid keys, no key in both maps, 1 MiB at most, and no changes at all
    once ``immutable``."""

    resource = registry.resource("", "configmaps")
    columns = (
        Column("Data", description="Data contains the configuration data."),
        AGE_COLUMN,
    )

    def default(self, obj: ConfigMap) -> None:
        canonical_base64(obj.binary_data, "ConfigMap")

    def validate(self, obj: ConfigMap) -> list[FieldError]:
        errs = self.validate_metadata(obj)
        total = 0
        for key in sorted(obj.data):
            path = FieldPath("data").key(key)
            errs.extend(config_key_errors(key, path))
            if key in obj.binary_data:
                errs.append(invalid(path, key, "duplicate of key present in binaryData"))
            total += len(obj.data[key].encode())
        for key in sorted(obj.binary_data):
            errs.extend(config_key_errors(key, FieldPath("binaryData").key(key)))
            total += len(decode_base64_field(obj.binary_data[key]) or b"")
        if total > MAX_SECRET_SIZE:
            errs.append(too_long("", "", MAX_SECRET_SIZE))
        return errs

    def validate_update(self, new: ConfigMap, old: ConfigMap) -> list[FieldError]:
        return immutable_data(new, old, (("data", "data"), ("binary_data", "binaryData")))

    def row(self, obj: ConfigMap) -> Sequence[Any]:
        return [len(obj.data) + len(obj.binary_data), age(obj.metadata.creation_timestamp)]
