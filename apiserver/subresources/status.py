"""``<kind>/<name>/status``: the object's status, written apart from its spec.

A status write keeps everything but status from the stored object (the kind's
``prepare_for_status_update``; some kinds take annotations too) and checks only what
it may change: the metadata and the kind's ``validate_status_update``. The rest was
validated when it was written.
"""

from __future__ import annotations

from typing import Any

from apiserver.registry.strategy import Strategy
from apiserver.subresources.object import ObjectSubresource
from apitypes.validation import FieldError


class Status(ObjectSubresource):
    name = "status"

    def prepare_for_update(self, strategy: Strategy, new: Any, old: Any) -> None:
        strategy.prepare_for_status_update(new, old)

    def validate_update(self, strategy: Strategy, new: Any, old: Any) -> list[FieldError]:
        return strategy.validate_metadata(new) + strategy.validate_status_update(new, old)
