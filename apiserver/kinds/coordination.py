"""coordination.k8s.io/v1: Lease."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apiserver.registry.strategy import Column, Strategy, age
from apitypes import registry


class LeaseStrategy(Strategy):
    resource = registry.resource("coordination.k8s.io", "leases")
    status_subresource = False
    columns = (Column("Holder", description="The holder of the lease"), Column("Age"))

    def row(self, obj: Any) -> Sequence[Any]:
        holder = obj.spec.holder_identity if obj.spec else None
        return [holder or "", age(obj.metadata.creation_timestamp)]


STRATEGIES: tuple[type[Strategy], ...] = (LeaseStrategy,)
