"""DaemonSet: a RollingUpdate strategy replacing one pod at a time without surge, ten
revisions kept; the selector cannot change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apiserver.kinds.common import GoValue, go_int_or_string, go_label_selector, nonnegative
from apiserver.kinds.podspec import validate_pod_template_spec
from apiserver.kinds.printers import AGE_COLUMN, format_labels
from apiserver.kinds.workload import (
    CONTAINERS,
    IMAGES,
    always_restart,
    collision_count_errors,
    container_cells,
    default_template,
    empty_template,
    int_or_percent_value,
    not_more_than_100_percent,
    parse_selector,
    selector_column,
    selector_matches_template,
    selector_unchanged,
    validate_int_or_percent,
)
from apiserver.registry.strategy import Column, Strategy, age
from apiserver.subresources.status import Status
from apitypes import registry
from apitypes.apps import (
    DaemonSet,
    DaemonSetSpec,
    DaemonSetStatus,
    DaemonSetUpdateStrategy,
    RollingUpdateDaemonSet,
)
from apitypes.selectors import format_label_selector
from apitypes.validation import (
    FieldError,
    FieldPath,
    go_quote,
    invalid,
    not_supported,
    required,
    validate_label_selector,
)


def _validate_daemon_set_strategy(
    strategy: DaemonSetUpdateStrategy | None, path: FieldPath
) -> list[FieldError]:
    strategy = strategy or DaemonSetUpdateStrategy()
    if strategy.type == "OnDelete":
        return []
    if strategy.type == "RollingUpdate":
        rolling = strategy.rolling_update
        if rolling is None:
            return [required(path.child("rollingUpdate"))]
        return _validate_rolling_update_daemon_set(rolling, path.child("rollingUpdate"))
    shown = (
        GoValue(
            f"apps.DaemonSetUpdateStrategy{{Type:{go_quote(strategy.type or '')}, "
            "RollingUpdate:(*apps.RollingUpdateDaemonSet)(nil)}"
        )
        if strategy.rolling_update is None
        else strategy
    )
    return [not_supported(path, shown, ["RollingUpdate", "OnDelete"])]


def _validate_rolling_update_daemon_set(
    rolling: RollingUpdateDaemonSet, path: FieldPath
) -> list[FieldError]:
    max_unavailable = rolling.max_unavailable if rolling.max_unavailable is not None else 0
    max_surge = rolling.max_surge if rolling.max_surge is not None else 0
    errors = validate_int_or_percent(max_unavailable, path.child("maxUnavailable"))
    errors += validate_int_or_percent(max_surge, path.child("maxSurge"))
    errors += not_more_than_100_percent(max_unavailable, path.child("maxUnavailable"))
    errors += not_more_than_100_percent(max_surge, path.child("maxSurge"))
    has_unavailable = int_or_percent_value(max_unavailable) != 0
    has_surge = int_or_percent_value(max_surge) != 0
    if has_unavailable and has_surge:
        errors.append(
            invalid(
                path.child("maxSurge"),
                go_int_or_string(max_surge),
                "may not be set when maxUnavailable is non-zero",
            )
        )
    elif not has_unavailable and not has_surge:
        errors.append(required(path.child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
    return errors


def _validate_daemon_set_spec(spec: DaemonSetSpec | None) -> list[FieldError]:
    path = FieldPath("spec")
    selector = spec.selector if spec else None
    template = spec.template if spec else empty_template()
    errors = validate_label_selector(selector, path.child("selector"))
    parsed = parse_selector(selector)
    if parsed is not None:
        # No emptiness exemption here: a DaemonSet's selector must select the template.
        errors += selector_matches_template(parsed, template, path.child("template"))
    if selector is not None and not selector.match_labels and not selector.match_expressions:
        errors.append(
            invalid(
                path.child("selector"),
                go_label_selector(selector),
                "empty selector is invalid for daemonset",
            )
        )
    errors += validate_pod_template_spec(template, path.child("template"))
    errors += always_restart(template, path.child("template"), "DaemonSet")
    errors += nonnegative(spec.min_ready_seconds if spec else None, path.child("minReadySeconds"))
    errors += _validate_daemon_set_strategy(
        spec.update_strategy if spec else None, path.child("updateStrategy")
    )
    if spec is not None:
        errors += nonnegative(spec.revision_history_limit, path.child("revisionHistoryLimit"))
    return errors


class DaemonSetStrategy(Strategy):
    """DaemonSets: a RollingUpdate strategy replacing one pod at a time without surge,
    ten revisions kept; the selector cannot change."""

    resource = registry.resource("apps", "daemonsets")
    subresources = (Status(),)
    generation = True
    columns = (
        Column("Desired", "integer", "The total number of nodes that should run the pod."),
        Column("Current", "integer", "The number of nodes running at least one pod."),
        Column("Ready", "integer", "The number of nodes whose pod is ready."),
        Column("Up-to-date", "integer", "The number of nodes running the updated pod."),
        Column("Available", "integer", "The number of nodes whose pod is available."),
        Column("Node Selector", description="The node selector of the pod template."),
        AGE_COLUMN,
        CONTAINERS,
        IMAGES,
        selector_column("A label query over pods that are managed by the daemon set."),
    )

    def default(self, obj: DaemonSet) -> None:
        spec = obj.spec
        if spec is None:
            return
        if spec.update_strategy is None:
            spec.update_strategy = DaemonSetUpdateStrategy()
        strategy = spec.update_strategy
        if not strategy.type:
            strategy.type = "RollingUpdate"
        if strategy.type == "RollingUpdate":
            if strategy.rolling_update is None:
                strategy.rolling_update = RollingUpdateDaemonSet()
            if strategy.rolling_update.max_unavailable is None:
                strategy.rolling_update.max_unavailable = 1
            if strategy.rolling_update.max_surge is None:
                strategy.rolling_update.max_surge = 0
        if spec.revision_history_limit is None:
            spec.revision_history_limit = 10
        default_template(spec.template)

    def validate(self, obj: DaemonSet) -> list[FieldError]:
        return self.validate_metadata(obj) + _validate_daemon_set_spec(obj.spec)

    def validate_update(self, new: DaemonSet, old: DaemonSet) -> list[FieldError]:
        return selector_unchanged(new.spec, old.spec)

    def validate_status_update(self, new: DaemonSet, old: DaemonSet) -> list[FieldError]:
        status = new.status or DaemonSetStatus(
            current_number_scheduled=0,
            number_misscheduled=0,
            desired_number_scheduled=0,
            number_ready=0,
        )
        p = "status."
        errors = nonnegative(status.current_number_scheduled, p + "currentNumberScheduled")
        errors += nonnegative(status.number_misscheduled, p + "numberMisscheduled")
        errors += nonnegative(status.desired_number_scheduled, p + "desiredNumberScheduled")
        errors += nonnegative(status.number_ready, p + "numberReady")
        errors += nonnegative(status.observed_generation, p + "observedGeneration")
        errors += nonnegative(status.updated_number_scheduled, p + "updatedNumberScheduled")
        errors += nonnegative(status.number_available, p + "numberAvailable")
        errors += nonnegative(status.number_unavailable, p + "numberUnavailable")
        errors += nonnegative(status.collision_count, p + "collisionCount")
        old_count = old.status.collision_count if old.status else None
        errors += collision_count_errors(status.collision_count, old_count)
        return errors

    def row(self, obj: DaemonSet) -> Sequence[Any]:
        spec, status = obj.spec, obj.status
        template = spec.template if spec else None
        node_selector = template.spec.node_selector if template and template.spec else {}
        cells: list[Any] = [
            status.desired_number_scheduled if status else 0,
            status.current_number_scheduled if status else 0,
            status.number_ready if status else 0,
            (status.updated_number_scheduled or 0) if status else 0,
            (status.number_available or 0) if status else 0,
            format_labels(node_selector),
            age(obj.metadata.creation_timestamp),
        ]
        names, images = container_cells(template)
        return [*cells, names, images, format_label_selector(spec.selector if spec else None)]
