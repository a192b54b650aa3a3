"""ReplicaSet: replicas default to 1; the selector must select the template and cannot change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from apiserver.kinds.common import nonnegative
from apiserver.kinds.printers import AGE_COLUMN
from apiserver.kinds.workload import (
    CONTAINERS,
    IMAGES,
    container_cells,
    default_template,
    not_above,
    selector_column,
    selector_unchanged,
    validate_replicated_pods,
)
from apiserver.registry.strategy import Column, Strategy, age
from apiserver.subresources.scale import Scale
from apiserver.subresources.status import Status
from apitypes import registry
from apitypes.apps import ReplicaSet, ReplicaSetSpec, ReplicaSetStatus
from apitypes.core import PodTemplateSpec, ReplicationControllerStatus
from apitypes.selectors import format_label_selector
from apitypes.validation import FieldError, FieldPath


def _validate_replica_set_spec(spec: ReplicaSetSpec | None) -> list[FieldError]:
    path = FieldPath("spec")
    replicas = spec.replicas if spec else None
    errors = nonnegative(replicas, path.child("replicas"))
    errors += nonnegative(spec.min_ready_seconds if spec else None, path.child("minReadySeconds"))
    errors += validate_replicated_pods(
        spec.selector if spec else None, spec.template if spec else None, path
    )
    return errors


class ReplicaSetStrategy(Strategy):
    """ReplicaSets: replicas default to 1; the selector must select the template and
    cannot change."""

    resource = registry.resource("apps", "replicasets")
    subresources = (Status(), Scale())
    generation = True
    selectable_fields = ("status.replicas",)
    columns = (
        Column("Desired", "integer", "Number of desired pods."),
        Column("Current", "integer", "The most recently observed number of replicas."),
        Column("Ready", "integer", "The number of pods targeted that have a Ready condition."),
        AGE_COLUMN,
        CONTAINERS,
        IMAGES,
        selector_column("Label query over pods that should match the replica count."),
    )

    def fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        status = obj.get("status") or {}
        return {"status.replicas": str(status.get("replicas") or 0)}

    def default(self, obj: ReplicaSet) -> None:
        spec = obj.spec
        if spec is None:
            return
        if spec.replicas is None:
            spec.replicas = 1
        # The template is optional on the wire but a value in Kubernetes' types: an
        # absent one is defaulted (and then fails validation for want of containers).
        if spec.template is None:
            spec.template = PodTemplateSpec()
        default_template(spec.template)

    def validate(self, obj: ReplicaSet) -> list[FieldError]:
        return self.validate_metadata(obj) + _validate_replica_set_spec(obj.spec)

    def validate_update(self, new: ReplicaSet, old: ReplicaSet) -> list[FieldError]:
        return selector_unchanged(new.spec, old.spec)

    def validate_status_update(self, new: ReplicaSet, old: ReplicaSet) -> list[FieldError]:
        return validate_replica_counts(new.status or ReplicaSetStatus(replicas=0))

    def row(self, obj: ReplicaSet) -> Sequence[Any]:
        spec, status = obj.spec, obj.status
        cells: list[Any] = [
            (spec.replicas or 0) if spec else 0,
            status.replicas if status else 0,
            (status.ready_replicas or 0) if status else 0,
            age(obj.metadata.creation_timestamp),
        ]
        names, images = container_cells(spec.template if spec else None)
        return [*cells, names, images, format_label_selector(spec.selector if spec else None)]


def validate_replica_counts(
    status: ReplicaSetStatus | ReplicationControllerStatus,
) -> list[FieldError]:
    """A ReplicaSet's or ReplicationController's status counters: none negative,
    none above ``replicas``, no more available than ready."""
    p = "status."
    errors = nonnegative(status.replicas, p + "replicas")
    errors += nonnegative(status.fully_labeled_replicas, p + "fullyLabeledReplicas")
    errors += nonnegative(status.ready_replicas, p + "readyReplicas")
    errors += nonnegative(status.available_replicas, p + "availableReplicas")
    errors += nonnegative(status.observed_generation, p + "observedGeneration")
    msg = "cannot be greater than status.replicas"
    replicas = status.replicas
    errors += not_above(status.fully_labeled_replicas, replicas, p + "fullyLabeledReplicas", msg)
    errors += not_above(status.ready_replicas, replicas, p + "readyReplicas", msg)
    errors += not_above(status.available_replicas, replicas, p + "availableReplicas", msg)
    errors += not_above(
        status.available_replicas,
        status.ready_replicas,
        p + "availableReplicas",
        "cannot be greater than readyReplicas",
    )
    return errors
