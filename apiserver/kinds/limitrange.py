"""LimitRange: per-namespace limits and defaults for containers, pods and claims, which
the LimitRanger admission plugin applies. Each item names its type; its quantities are
valid and consistent (``min <= defaultRequest <= default <= max``, ratios at least 1);
a Pod item has no defaults."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from apiserver.kinds.common import CoreStrategy
from apiserver.kinds.podspec.resources import (
    parse_quantity_field,
    resource_name_errors,
    validate_quantity_value,
)
from apiserver.registry.strategy import Column
from apitypes import registry
from apitypes.base import format_time
from apitypes.core import LimitRange
from apitypes.quantity import Quantity
from apitypes.validation import FieldError, FieldPath, forbidden, invalid, not_supported

TYPES = ("Container", "Pod", "PersistentVolumeClaim")


def quantities(
    values: dict[str, str], path: FieldPath, errs: list[FieldError]
) -> dict[str, Quantity]:
    """The valid quantities of a resource list; errors for the rest go to ``errs``."""
    found: dict[str, Quantity] = {}
    for name in sorted(values):
        at = path.key(name)
        errs.extend(resource_name_errors(name, at))
        quantity, qerrs = parse_quantity_field(values[name], at)
        errs.extend(qerrs)
        if quantity is not None:
            errs.extend(validate_quantity_value(name, quantity, at))
            found[name] = quantity
    return found


class LimitRangeStrategy(CoreStrategy):
    resource = registry.resource("", "limitranges")
    columns = (Column("Created At", "date", "When the object was created."),)

    def default(self, obj: LimitRange) -> None:
        """Kubernetes' defaults of a Container item: ``default`` from ``max``,
        ``defaultRequest`` from ``default``, then from ``min``."""
        for item in obj.spec.limits if obj.spec else []:
            if item.type != "Container":
                continue
            for name, value in item.max.items():
                item.default.setdefault(name, value)
            for name, value in item.default.items():
                item.default_request.setdefault(name, value)
            for name, value in item.min.items():
                item.default_request.setdefault(name, value)

    def validate(self, obj: LimitRange) -> list[FieldError]:
        errs = self.validate_metadata(obj)
        for i, item in enumerate(obj.spec.limits if obj.spec else []):
            at = FieldPath("spec", "limits").index(i)
            if item.type not in TYPES:
                errs.append(not_supported(at.child("type"), item.type, list(TYPES)))
            low = quantities(item.min, at.child("min"), errs)
            high = quantities(item.max, at.child("max"), errs)
            default = quantities(item.default, at.child("default"), errs)
            request = quantities(item.default_request, at.child("defaultRequest"), errs)
            ratio = quantities(item.max_limit_request_ratio, at.child("maxLimitRequestRatio"), errs)
            if item.type == "Pod" and (item.default or item.default_request):
                field = "default" if item.default else "defaultRequest"
                errs.append(forbidden(at.child(field), "may not be specified when `type` is 'Pod'"))
            for name in sorted(set(low) | set(high) | set(default) | set(request)):
                chain = [
                    ("min", low.get(name)),
                    ("defaultRequest", request.get(name)),
                    ("default", default.get(name)),
                    ("max", high.get(name)),
                ]
                present = [(k, q) for k, q in chain if q is not None]
                for (lower_name, lower), (upper_name, upper) in itertools.pairwise(present):
                    if lower > upper:
                        errs.append(
                            invalid(
                                at.child(upper_name).key(name),
                                str(upper),
                                f"{lower_name} value {lower} is greater than {upper_name} value {upper}",
                            )
                        )
            for name, value in ratio.items():
                if value < Quantity.from_int(1):
                    errs.append(
                        invalid(
                            at.child("maxLimitRequestRatio").key(name),
                            str(value),
                            "ratio must be greater than or equal to 1",
                        )
                    )
        return errs

    def row(self, obj: Any) -> Sequence[Any]:
        return [format_time(obj.metadata.creation_timestamp)]
