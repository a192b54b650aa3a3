"""ReplicationController (core/v1): a ReplicaSet with an equality-based selector.

Defaults as ``SetDefaults_ReplicationController``: an empty selector, and empty
labels, are the template's labels; replicas default to 1. Validation as
``ValidateReplicationController``: a non-empty selector that selects the template, a
valid template that restarts ``Always``. Unlike a ReplicaSet's, the selector may
change. Status counters are checked as a ReplicaSet's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apiserver.kinds.common import CoreStrategy, nonnegative
from apiserver.kinds.replicaset import ReplicaSetStrategy, validate_replica_counts
from apiserver.kinds.workload import (
    container_cells,
    default_template,
    validate_replica_template,
)
from apiserver.registry.strategy import age
from apiserver.subresources.scale import Scale
from apiserver.subresources.status import Status
from apitypes import registry
from apitypes.core import ReplicationController, ReplicationControllerStatus
from apitypes.selectors import selector_from_set
from apitypes.validation import FieldError, FieldPath, required


class ReplicationControllerStrategy(CoreStrategy):
    resource = registry.resource("", "replicationcontrollers")
    subresources = (Status(), Scale(equality_selector=True))
    generation = True
    selectable_fields = ("status.replicas",)
    # ``kubectl get rc`` prints a ReplicaSet's columns: DESIRED, CURRENT, READY, AGE,
    # and wide CONTAINERS, IMAGES, SELECTOR.
    columns = ReplicaSetStrategy.columns
    fields = ReplicaSetStrategy.fields

    def default(self, obj: ReplicationController) -> None:
        spec = obj.spec
        if spec is None:
            return
        labels = spec.template.metadata.labels if spec.template is not None else {}
        if labels:
            if not spec.selector:
                spec.selector = dict(labels)
            if not obj.metadata.labels:
                obj.metadata.labels = dict(labels)
        if spec.replicas is None:
            spec.replicas = 1
        default_template(spec.template)

    def validate(self, obj: ReplicationController) -> list[FieldError]:
        errors = self.validate_metadata(obj)
        spec = obj.spec
        path = FieldPath("spec")
        errors += nonnegative(
            spec.min_ready_seconds if spec else None, path.child("minReadySeconds")
        )
        if not (spec and spec.selector):
            errors.append(required(path.child("selector")))
        errors += nonnegative(spec.replicas if spec else None, path.child("replicas"))
        if spec is None or spec.template is None:
            errors.append(required(path.child("template")))
        else:
            selector = selector_from_set(spec.selector)
            errors += validate_replica_template(
                spec.template, selector, path.child("template"), kind="ReplicationController"
            )
        return errors

    def validate_status_update(
        self, new: ReplicationController, old: ReplicationController
    ) -> list[FieldError]:
        return validate_replica_counts(new.status or ReplicationControllerStatus(replicas=0))

    def row(self, obj: ReplicationController) -> Sequence[Any]:
        spec, status = obj.spec, obj.status
        names, images = container_cells(spec.template if spec else None)
        return [
            (spec.replicas or 0) if spec else 0,
            status.replicas if status else 0,
            (status.ready_replicas or 0) if status else 0,
            age(obj.metadata.creation_timestamp),
            names,
            images,
            str(selector_from_set(spec.selector if spec else {})) or "<none>",
        ]
