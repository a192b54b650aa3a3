"""Lease (coordination.k8s.io/v1).

Leases have no status and no generation; Kubernetes validates only the spec's numbers
and, for coordinated leader election, the strategy (``ValidateLeaseSpec``).
"""

from __future__ import annotations

from collections.abc import Sequence

from apiserver.kinds.printers import AGE_COLUMN
from apiserver.registry.strategy import Column, Strategy, age
from apitypes import registry
from apitypes.coordination import OLDEST_EMULATION_VERSION, Lease, LeaseSpec
from apitypes.validation import (
    FieldError,
    FieldPath,
    forbidden,
    invalid,
    is_qualified_name,
    not_supported,
)


def _validate_strategy(strategy: str, path: FieldPath) -> list[FieldError]:
    """A Kubernetes-defined strategy name, or a qualified ``domain/name`` of one's own.

    Kubernetes reports the error one level too deep (``spec.strategy.strategy``); the
    path is kept as it is so clients see the same field.
    """
    if "/" not in strategy:
        if strategy != OLDEST_EMULATION_VERSION:
            return [not_supported(path.child("strategy"), strategy, [OLDEST_EMULATION_VERSION])]
        return []
    return [invalid(path.child("strategy"), strategy, msg) for msg in is_qualified_name(strategy)]


def validate_lease_spec(spec: LeaseSpec, path: FieldPath) -> list[FieldError]:
    errors: list[FieldError] = []
    if spec.lease_duration_seconds is not None and spec.lease_duration_seconds <= 0:
        errors.append(
            invalid(
                path.child("leaseDurationSeconds"),
                spec.lease_duration_seconds,
                "must be greater than 0",
            )
        )
    if spec.lease_transitions is not None and spec.lease_transitions < 0:
        errors.append(
            invalid(
                path.child("leaseTransitions"),
                spec.lease_transitions,
                "must be greater than or equal to 0",
            )
        )
    if spec.strategy is not None:
        errors += _validate_strategy(spec.strategy, path.child("strategy"))
    if spec.preferred_holder and not spec.strategy:
        errors.append(
            forbidden(
                path.child("preferredHolder"), "may only be specified if `strategy` is defined"
            )
        )
    return errors


class LeaseStrategy(Strategy):
    """Leases: a positive duration, non-negative transitions; HOLDER in tables."""

    resource = registry.resource("coordination.k8s.io", "leases")
    columns = (Column("Holder", description="The holder of the lease"), AGE_COLUMN)

    def validate(self, obj: Lease) -> list[FieldError]:
        errors = self.validate_metadata(obj)
        if obj.spec is not None:
            errors += validate_lease_spec(obj.spec, FieldPath("spec"))
        return errors

    def row(self, obj: Lease) -> Sequence[str]:
        holder = obj.spec.holder_identity if obj.spec else None
        return [holder or "", age(obj.metadata.creation_timestamp)]
