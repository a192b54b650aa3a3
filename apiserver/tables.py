"""Server-side printing: the Tables ``kubectl get`` asks for.

The columns and cells of each kind come from its strategy; this module shapes them
into ``meta.k8s.io`` Tables, and objects into PartialObjectMetadata.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apiserver.registry.strategy import Strategy

_NAME_COLUMN = {
    "name": "Name",
    "type": "string",
    "format": "name",
    "description": "Name must be unique within a namespace. It is required when creating "
    "resources, although some resources may allow a client to request the generation of "
    "an appropriate name automatically.",
    "priority": 0,
}


def column_definitions(strategy: Strategy) -> list[dict[str, Any]]:
    # Events print their name last (as a wide column), so their strategy leaves it out.
    cols = [_NAME_COLUMN] if strategy.name_column else []
    for c in strategy.columns:
        cols.append(
            {
                "name": c.name,
                "type": c.type,
                "format": c.format,
                "description": c.description,
                "priority": c.priority,
            }
        )
    return cols


def partial_metadata(obj: dict[str, Any], version: str = "v1") -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": f"meta.k8s.io/{version}",
        "metadata": obj.get("metadata", {}),
    }


def table(
    strategy: Strategy,
    objects: Iterable[dict[str, Any]],
    *,
    version: str = "v1",
    include_object: str = "Metadata",
    list_meta: dict[str, Any] | None = None,
    with_columns: bool = True,
) -> dict[str, Any]:
    model = strategy.resource.model
    rows = []
    for obj in objects:
        typed = model.model_validate(obj)
        name = [obj.get("metadata", {}).get("name", "")] if strategy.name_column else []
        row: dict[str, Any] = {"cells": [*name, *strategy.row(typed)]}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = partial_metadata(obj, version)
        rows.append(row)
    out: dict[str, Any] = {
        "kind": "Table",
        "apiVersion": f"meta.k8s.io/{version}",
        "metadata": list_meta or {},
        "columnDefinitions": column_definitions(strategy) if with_columns else [],
        "rows": rows,
    }
    return out
