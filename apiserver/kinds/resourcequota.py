"""ResourceQuota: the total a namespace may use. ``spec.hard`` names standard or
qualified resources with valid, non-negative quantities and known scopes; ``status``
(``hard`` and ``used``) is the resource quota controller's, written through ``/status``.
The table shows what is used of each limit, as ``kubectl get quota`` prints it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apiserver.kinds.common import CoreStrategy
from apiserver.kinds.limitrange import quantities
from apiserver.kinds.printers import AGE_COLUMN
from apiserver.registry.strategy import Column, age
from apiserver.subresources.status import Status
from apitypes import registry
from apitypes.core import ResourceQuota
from apitypes.validation import FieldError, FieldPath, not_supported

SCOPES = (
    "Terminating",
    "NotTerminating",
    "BestEffort",
    "NotBestEffort",
    "PriorityClass",
    "CrossNamespacePodAffinity",
    "VolumeAttributesClass",
)


class ResourceQuotaStrategy(CoreStrategy):
    resource = registry.resource("", "resourcequotas")
    subresources = (Status(),)
    columns = (
        AGE_COLUMN,
        Column("Request", description="Used of each hard limit that is not limits.*."),
        Column("Limit", description="Used of each limits.* hard limit."),
    )

    def validate(self, obj: ResourceQuota) -> list[FieldError]:
        errs = self.validate_metadata(obj)
        spec = obj.spec
        if spec is not None:
            quantities(spec.hard, FieldPath("spec", "hard"), errs)
            for i, scope in enumerate(spec.scopes):
                if scope not in SCOPES:
                    errs.append(not_supported(FieldPath("spec", "scopes").index(i), scope, SCOPES))
            if spec.scope_selector is not None:
                for i, req in enumerate(spec.scope_selector.match_expressions):
                    if req.scope_name not in SCOPES:
                        path = FieldPath("spec", "scopeSelector", "matchExpressions").index(i)
                        errs.append(not_supported(path.child("scopeName"), req.scope_name, SCOPES))
        return errs

    def validate_status_update(self, new: ResourceQuota, old: ResourceQuota) -> list[FieldError]:
        errs: list[FieldError] = []
        if new.status is not None:
            quantities(new.status.hard, FieldPath("status", "hard"), errs)
            quantities(new.status.used, FieldPath("status", "used"), errs)
        return errs

    def row(self, obj: ResourceQuota) -> Sequence[Any]:
        hard = (
            obj.status.hard
            if obj.status and obj.status.hard
            else (obj.spec.hard if obj.spec else {})
        )
        used = obj.status.used if obj.status else {}
        requests: list[str] = []
        limits: list[str] = []
        for name in sorted(hard):
            cell = f"{name}: {used.get(name, '0')}/{hard[name]}"
            (limits if name.startswith("limits.") else requests).append(cell)
        return [age(obj.metadata.creation_timestamp), ", ".join(requests), ", ".join(limits)]
