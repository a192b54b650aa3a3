"""Deployment: replicas 1, a RollingUpdate strategy of 25%/25%, ten old ReplicaSets kept,
600 s to make progress; the selector cannot change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apiserver.kinds.common import GoValue, go_int_or_string, nonnegative
from apiserver.kinds.printers import AGE_COLUMN
from apiserver.kinds.workload import (
    CONTAINERS,
    IMAGES,
    collision_count_errors,
    container_cells,
    default_template,
    int_or_percent_value,
    not_above,
    not_more_than_100_percent,
    selector_column,
    selector_string,
    selector_unchanged,
    validate_int_or_percent,
    validate_replicated_pods,
)
from apiserver.registry.strategy import Column, Strategy, age
from apiserver.subresources.scale import Scale
from apiserver.subresources.status import Status
from apitypes import registry
from apitypes.apps import Deployment, DeploymentSpec, DeploymentStatus, RollingUpdateDeployment
from apitypes.apps import DeploymentStrategy as DeploymentStrategySpec
from apitypes.validation import (
    FieldError,
    FieldPath,
    forbidden,
    go_quote,
    invalid,
    not_supported,
    required,
)


def _validate_deployment_strategy(
    strategy: DeploymentStrategySpec | None, path: FieldPath
) -> list[FieldError]:
    strategy = strategy or DeploymentStrategySpec()
    if strategy.type == "Recreate":
        if strategy.rolling_update is not None:
            return [
                forbidden(
                    path.child("rollingUpdate"),
                    "may not be specified when strategy `type` is 'Recreate'",
                )
            ]
        return []
    if strategy.type == "RollingUpdate":
        rolling = strategy.rolling_update
        if rolling is None:
            return [
                required(path.child("rollingUpdate"), "this should be defaulted and never be nil")
            ]
        return _validate_rolling_update_deployment(rolling, path.child("rollingUpdate"))
    shown = (
        GoValue(
            f"apps.DeploymentStrategy{{Type:{go_quote(strategy.type or '')}, "
            "RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}"
        )
        if strategy.rolling_update is None
        else strategy
    )
    return [not_supported(path, shown, ["Recreate", "RollingUpdate"])]


def _validate_rolling_update_deployment(
    rolling: RollingUpdateDeployment, path: FieldPath
) -> list[FieldError]:
    # Defaulting sets both; an unset one behaves as Kubernetes' zero value.
    max_unavailable = rolling.max_unavailable if rolling.max_unavailable is not None else 0
    max_surge = rolling.max_surge if rolling.max_surge is not None else 0
    errors = validate_int_or_percent(max_unavailable, path.child("maxUnavailable"))
    errors += validate_int_or_percent(max_surge, path.child("maxSurge"))
    if int_or_percent_value(max_unavailable) == 0 and int_or_percent_value(max_surge) == 0:
        errors.append(
            invalid(
                path.child("maxUnavailable"),
                go_int_or_string(max_unavailable),
                "may not be 0 when `maxSurge` is 0",
            )
        )
    errors += not_more_than_100_percent(max_unavailable, path.child("maxUnavailable"))
    return errors


def _validate_deployment_spec(spec: DeploymentSpec | None) -> list[FieldError]:
    path = FieldPath("spec")
    errors = nonnegative(spec.replicas if spec else None, path.child("replicas"))
    errors += validate_replicated_pods(
        spec.selector if spec else None, spec.template if spec else None, path
    )
    errors += _validate_deployment_strategy(spec.strategy if spec else None, path.child("strategy"))
    min_ready = (spec.min_ready_seconds if spec else None) or 0
    errors += nonnegative(min_ready, path.child("minReadySeconds"))
    if spec is not None:
        errors += nonnegative(spec.revision_history_limit, path.child("revisionHistoryLimit"))
        deadline = spec.progress_deadline_seconds
        if deadline is not None:
            errors += nonnegative(deadline, path.child("progressDeadlineSeconds"))
            if deadline <= min_ready:
                errors.append(
                    invalid(
                        path.child("progressDeadlineSeconds"),
                        deadline,
                        "must be greater than minReadySeconds",
                    )
                )
    return errors


class DeploymentStrategy(Strategy):
    """Deployments: replicas 1, a RollingUpdate strategy of 25%/25%, ten old
    ReplicaSets kept, 600 s to make progress. Annotation changes count as a new
    generation (they are copied to the ReplicaSets), and ``/status`` may change
    annotations (the deployment controller records the revision there)."""

    resource = registry.resource("apps", "deployments")
    subresources = (Status(), Scale())
    generation = True
    columns = (
        Column("Ready", description="Number of the pod with ready state"),
        Column("Up-to-date", description="Total number of pods with the desired template."),
        Column("Available", description="Total number of available pods."),
        AGE_COLUMN,
        CONTAINERS,
        IMAGES,
        selector_column("Label selector for pods."),
    )

    def default(self, obj: Deployment) -> None:
        spec = obj.spec
        if spec is None:
            return
        if spec.replicas is None:
            spec.replicas = 1
        if spec.strategy is None:
            spec.strategy = DeploymentStrategySpec()
        strategy = spec.strategy
        if not strategy.type:
            strategy.type = "RollingUpdate"
        if strategy.type == "RollingUpdate":
            if strategy.rolling_update is None:
                strategy.rolling_update = RollingUpdateDeployment()
            if strategy.rolling_update.max_unavailable is None:
                strategy.rolling_update.max_unavailable = "25%"
            if strategy.rolling_update.max_surge is None:
                strategy.rolling_update.max_surge = "25%"
        if spec.revision_history_limit is None:
            spec.revision_history_limit = 10
        if spec.progress_deadline_seconds is None:
            spec.progress_deadline_seconds = 600
        default_template(spec.template)

    def prepare_for_update(self, new: Deployment, old: Deployment) -> None:
        super().prepare_for_update(new, old)
        # The store counts spec changes; Kubernetes counts annotation changes too.
        if new.metadata.annotations != old.metadata.annotations:
            new.metadata.generation = (old.metadata.generation or 0) + 1

    def prepare_for_status_update(self, new: Deployment, old: Deployment) -> None:
        annotations = dict(new.metadata.annotations)
        super().prepare_for_status_update(new, old)
        new.metadata.annotations = annotations

    def validate(self, obj: Deployment) -> list[FieldError]:
        return self.validate_metadata(obj) + _validate_deployment_spec(obj.spec)

    def validate_update(self, new: Deployment, old: Deployment) -> list[FieldError]:
        return selector_unchanged(new.spec, old.spec)

    def validate_status_update(self, new: Deployment, old: Deployment) -> list[FieldError]:
        status = new.status or DeploymentStatus()
        p = "status."
        errors = nonnegative(status.observed_generation, p + "observedGeneration")
        errors += nonnegative(status.replicas, p + "replicas")
        errors += nonnegative(status.updated_replicas, p + "updatedReplicas")
        errors += nonnegative(status.ready_replicas, p + "readyReplicas")
        errors += nonnegative(status.available_replicas, p + "availableReplicas")
        errors += nonnegative(status.unavailable_replicas, p + "unavailableReplicas")
        errors += nonnegative(status.collision_count, p + "collisionCount")
        msg = "cannot be greater than status.replicas"
        errors += not_above(status.updated_replicas, status.replicas, p + "updatedReplicas", msg)
        errors += not_above(status.ready_replicas, status.replicas, p + "readyReplicas", msg)
        errors += not_above(
            status.available_replicas, status.replicas, p + "availableReplicas", msg
        )
        errors += not_above(
            status.available_replicas,
            status.ready_replicas,
            p + "availableReplicas",
            "cannot be greater than readyReplicas",
        )
        old_count = old.status.collision_count if old.status else None
        errors += collision_count_errors(status.collision_count, old_count)
        return errors

    def row(self, obj: Deployment) -> Sequence[Any]:
        spec, status = obj.spec, obj.status or DeploymentStatus()
        desired = (spec.replicas or 0) if spec else 0
        cells: list[Any] = [
            f"{status.ready_replicas or 0}/{desired}",
            status.updated_replicas or 0,
            status.available_replicas or 0,
            age(obj.metadata.creation_timestamp),
        ]
        names, images = container_cells(spec.template if spec else None)
        return [*cells, names, images, selector_string(spec.selector if spec else None)]
