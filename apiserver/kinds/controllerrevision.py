"""ControllerRevision: ``data`` is required and immutable, ``revision`` is not negative."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apiserver.kinds.common import immutable, nonnegative
from apiserver.kinds.printers import AGE_COLUMN
from apiserver.registry.strategy import Column, Strategy, age
from apitypes import registry
from apitypes.apps import ControllerRevision
from apitypes.validation import FieldError


class ControllerRevisionStrategy(Strategy):
    """ControllerRevisions: ``data`` is required and immutable, ``revision`` is not
    negative."""

    resource = registry.resource("apps", "controllerrevisions")
    columns = (
        Column("Controller", description="Controller of the object"),
        Column("Revision", description="Revision indicates the revision of the state."),
        AGE_COLUMN,
    )

    def validate(self, obj: ControllerRevision) -> list[FieldError]:
        return self.validate_metadata(obj) + nonnegative(obj.revision, "revision")

    def validate_update(self, new: ControllerRevision, old: ControllerRevision) -> list[FieldError]:
        return immutable(new.data, old.data, "data")

    def row(self, obj: ControllerRevision) -> Sequence[Any]:
        ref = obj.metadata.controller_ref()
        controller = "<none>"
        if ref is not None:
            group = ref.api_version.split("/")[0] if ref.api_version.count("/") == 1 else ""
            kind = f"{ref.kind}.{group}" if group else ref.kind
            controller = f"{kind.lower()}/{ref.name}" if kind else ref.name
        return [controller, obj.revision or 0, age(obj.metadata.creation_timestamp)]
