"""Namespace: the ``kubernetes`` finalizer and the Active phase on create; deletion marks a
namespace Terminating until the namespace controller empties ``spec.finalizers``
through ``/finalize``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from apiserver.kinds.common import SPEC, STATUS, CoreStrategy, kube_finalizer_errors
from apiserver.kinds.printers import AGE_COLUMN
from apiserver.registry.strategy import Column, age, get_path
from apiserver.subresources.finalize import Finalize
from apiserver.subresources.status import Status
from apitypes import registry
from apitypes.core import Namespace, NamespaceSpec, NamespaceStatus
from apitypes.validation import FieldError, invalid, is_dns1123_label, is_qualified_name


class NamespaceStrategy(CoreStrategy):
    """Namespaces: ``kubernetes`` finalizer and Active phase on create; deletion marks
    them Terminating until the namespace controller empties ``spec.finalizers`` through
    ``/finalize``."""

    resource = registry.resource("", "namespaces")
    subresources = (Status(), Finalize())
    selectable_fields = ("status.phase",)
    columns = (
        Column("Status", description="The status of the namespace"),
        AGE_COLUMN,
    )

    def fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        return {"status.phase": get_path(obj, "status", "phase")}

    def name_errors(self, name: str) -> list[str]:
        return is_dns1123_label(name)

    def prepare_for_create(self, obj: Namespace) -> None:
        obj.status = NamespaceStatus(phase="Active")
        if obj.spec is None:
            obj.spec = NamespaceSpec()
        # Required on create only: the namespace controller removes it later.
        if "kubernetes" not in obj.spec.finalizers:
            obj.spec.finalizers.append("kubernetes")

    def prepare_for_update(self, new: Namespace, old: Namespace) -> None:
        new.status = old.status
        finalizers = list(old.spec.finalizers) if old.spec else []
        new.spec = NamespaceSpec(finalizers=finalizers) if old.spec or new.spec else None

    def default(self, obj: Namespace) -> None:
        if obj.status is None:
            obj.status = NamespaceStatus()
        if not obj.status.phase:
            obj.status.phase = "Active"
        if obj.metadata.name:
            obj.metadata.labels["kubernetes.io/metadata.name"] = obj.metadata.name

    def canonicalize(self, obj: Namespace) -> None:
        # A generated name is only known after defaulting; the label follows it.
        obj.metadata.labels["kubernetes.io/metadata.name"] = obj.metadata.name or ""

    def validate(self, obj: Namespace) -> list[FieldError]:
        errs = self.validate_metadata(obj)
        path = SPEC.child("finalizers")
        for name in obj.spec.finalizers if obj.spec else []:
            errs.extend(invalid(path, name, msg) for msg in is_qualified_name(name))
            errs.extend(kube_finalizer_errors([name], path, indexed=False))
        return errs

    def validate_status_update(self, new: Namespace, old: Namespace) -> list[FieldError]:
        phase = new.status.phase if new.status else ""
        path = STATUS.child("Phase")
        if new.metadata.deletion_timestamp is None:
            if phase != "Active":
                return [
                    invalid(path, phase, "may only be 'Active' if `deletionTimestamp` is empty")
                ]
        elif phase != "Terminating":
            return [
                invalid(
                    path, phase, "may only be 'Terminating' if `deletionTimestamp` is not empty"
                )
            ]
        return []

    def deletion_blocked(self, obj: Namespace) -> bool:
        return bool(obj.spec and obj.spec.finalizers)

    def prepare_for_delete(self, obj: Namespace) -> None:
        if obj.status is None:
            obj.status = NamespaceStatus()
        obj.status.phase = "Terminating"

    def row(self, obj: Namespace) -> Sequence[Any]:
        phase = obj.status.phase if obj.status else ""
        return [phase or "", age(obj.metadata.creation_timestamp)]
