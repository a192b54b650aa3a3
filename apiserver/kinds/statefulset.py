"""StatefulSet: one replica, OrderedReady pod management, RollingUpdate from partition 0,
claims retained; only replicas, template, updateStrategy, minReadySeconds, ordinals
and the claim retention policy may change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apiserver.kinds.common import GoValue, go_int_or_string, go_label_selector, nonnegative
from apiserver.kinds.podspec import validate_pod_template_spec
from apiserver.kinds.printers import AGE_COLUMN
from apiserver.kinds.workload import (
    CONTAINERS,
    IMAGES,
    always_restart,
    collision_count_errors,
    container_cells,
    default_template,
    int_or_percent_value,
    not_above,
    not_more_than_100_percent,
    parse_selector,
    selector_matches_template,
    template_spec,
    validate_int_or_percent,
    validate_workload_selector,
)
from apiserver.registry.strategy import Column, Strategy, age
from apiserver.subresources.scale import Scale
from apiserver.subresources.status import Status
from apitypes import registry
from apitypes.apps import (
    RollingUpdateStatefulSetStrategy,
    StatefulSet,
    StatefulSetPersistentVolumeClaimRetentionPolicy,
    StatefulSetSpec,
    StatefulSetStatus,
    StatefulSetUpdateStrategy,
)
from apitypes.core import PersistentVolumeClaimVolumeSource, PodTemplateSpec, Volume
from apitypes.validation import (
    FieldError,
    FieldPath,
    forbidden,
    go_quote,
    invalid,
    is_dns1123_label,
    not_supported,
    required,
)

_STATEFUL_SET_MUTABLE = (
    "replicas",
    "template",
    "update_strategy",
    "min_ready_seconds",
    "ordinals",
    "persistent_volume_claim_retention_policy",
)
_STATEFUL_SET_UPDATE_FORBIDDEN = (
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
    "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "
    "forbidden"
)


def _validate_stateful_set_strategy(
    strategy: StatefulSetUpdateStrategy | None, path: FieldPath
) -> list[FieldError]:
    strategy = strategy or StatefulSetUpdateStrategy()
    rolling = strategy.rolling_update
    if not strategy.type:
        return [required(path)]
    if strategy.type == "OnDelete":
        if rolling is not None:
            return [
                invalid(
                    path.child("rollingUpdate"),
                    _go_rolling_stateful_set(rolling),
                    "only allowed for updateStrategy 'RollingUpdate'",
                )
            ]
        return []
    if strategy.type == "RollingUpdate":
        if rolling is None:
            return []
        errors = nonnegative(rolling.partition, path.child("rollingUpdate", "partition"))
        if rolling.max_unavailable is not None:
            max_path = path.child("rollingUpdate", "maxUnavailable")
            errors += validate_int_or_percent(rolling.max_unavailable, max_path)
            if int_or_percent_value(rolling.max_unavailable) == 0:
                errors.append(
                    invalid(max_path, go_int_or_string(rolling.max_unavailable), "cannot be 0")
                )
            errors += not_more_than_100_percent(rolling.max_unavailable, max_path)
        return errors
    shown = (
        GoValue(
            f"apps.StatefulSetUpdateStrategy{{Type:{go_quote(strategy.type)}, "
            "RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}"
        )
        if rolling is None
        else strategy
    )
    return [invalid(path, shown, "must be 'RollingUpdate' or 'OnDelete'")]


def _go_rolling_stateful_set(rolling: RollingUpdateStatefulSetStrategy) -> Any:
    if rolling.max_unavailable is not None:
        return rolling  # Go would print a pointer address; JSON says more
    return GoValue(
        f"apps.RollingUpdateStatefulSetStrategy{{Partition:{rolling.partition or 0}, "
        "MaxUnavailable:(*intstr.IntOrString)(nil)}"
    )


def _validate_retention_policy(
    policy: StatefulSetPersistentVolumeClaimRetentionPolicy | None, path: FieldPath
) -> list[FieldError]:
    if policy is None:
        return []
    errors: list[FieldError] = []
    for name, value in (("whenDeleted", policy.when_deleted), ("whenScaled", policy.when_scaled)):
        if value not in ("Retain", "Delete"):
            errors.append(not_supported(path.child(name), value or "", ["Retain", "Delete"]))
    return errors


def _validate_claim_templates(templates: list[dict[str, Any]], path: FieldPath) -> list[FieldError]:
    """Claim templates need distinct names usable in claim and volume names.

    Kubernetes 1.30 checks nothing here and lets the controller fail later; a claim
    named ``<template>-<set>-<ordinal>`` and a pod volume named ``<template>`` can only
    be made from a DNS-1123 name, so navarch refuses bad ones up front.
    """
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, claim in enumerate(templates):
        meta = claim.get("metadata") if isinstance(claim, dict) else None
        name = meta.get("name") if isinstance(meta, dict) else None
        name_path = path.index(i).child("metadata", "name")
        if not isinstance(name, str) or not name:
            errors.append(required(name_path))
            continue
        errors += [invalid(name_path, name, msg) for msg in is_dns1123_label(name)]
        if name in seen:
            errors.append(invalid(name_path, name, "must be unique"))
        seen.add(name)
    return errors


def _claim_names(templates: list[dict[str, Any]]) -> list[str]:
    names = []
    for claim in templates:
        meta = claim.get("metadata") if isinstance(claim, dict) else None
        name = meta.get("name") if isinstance(meta, dict) else None
        if isinstance(name, str) and name:
            names.append(name)
    return names


def _stateful_pod_template(spec: StatefulSetSpec, set_name: str) -> PodTemplateSpec:
    """The template as the controller turns it into a pod: each claim template becomes
    a volume of that name (replacing a template volume of the same name)."""
    template = spec.template.model_copy(deep=True)
    pod = template_spec(template)
    claims = list(dict.fromkeys(_claim_names(spec.volume_claim_templates)))  # dups reported
    pod.volumes = [v for v in pod.volumes if v.name not in claims]
    pod.volumes += [
        Volume(
            name=claim,
            persistent_volume_claim=PersistentVolumeClaimVolumeSource(
                claim_name=f"{claim}-{set_name}-0"
            ),
        )
        for claim in claims
    ]
    return template


def _validate_stateful_set_spec(spec: StatefulSetSpec | None, set_name: str) -> list[FieldError]:
    path = FieldPath("spec")
    if spec is None:
        return [
            required(path.child("podManagementPolicy")),
            required(path.child("updateStrategy")),
            required(path.child("selector")),
        ]
    errors: list[FieldError] = []
    policy = spec.pod_management_policy
    if not policy:
        errors.append(required(path.child("podManagementPolicy")))
    elif policy not in ("OrderedReady", "Parallel"):
        errors.append(
            invalid(
                path.child("podManagementPolicy"), policy, "must be 'OrderedReady' or 'Parallel'"
            )
        )
    errors += _validate_stateful_set_strategy(spec.update_strategy, path.child("updateStrategy"))
    errors += _validate_retention_policy(
        spec.persistent_volume_claim_retention_policy,
        path.child("persistentVolumeClaimRetentionPolicy"),
    )
    errors += nonnegative(spec.replicas, path.child("replicas"))
    errors += nonnegative(spec.min_ready_seconds, path.child("minReadySeconds"))
    if spec.ordinals is not None:
        errors += nonnegative(spec.ordinals.start, path.child("ordinals.start"))
    if spec.service_name:
        # Becomes each pod's spec.subdomain; Kubernetes 1.33 added this check.
        errors += [
            invalid(path.child("serviceName"), spec.service_name, msg)
            for msg in is_dns1123_label(spec.service_name)
        ]
    errors += _validate_claim_templates(
        spec.volume_claim_templates, path.child("volumeClaimTemplates")
    )
    errors += validate_workload_selector(spec.selector, path.child("selector"), "statefulset")
    parsed = parse_selector(spec.selector)
    template_path = path.child("template")
    if parsed is None:
        errors.append(invalid(path.child("selector"), go_label_selector(spec.selector), ""))
    elif not parsed.is_empty():
        errors += selector_matches_template(parsed, spec.template, template_path)
    # Kubernetes 1.30 checks only the template's labels and annotations and leaves the
    # pod spec to fail at pod creation; navarch checks the pod the controller will make.
    errors += validate_pod_template_spec(_stateful_pod_template(spec, set_name), template_path)
    errors += always_restart(spec.template, template_path, "StatefulSet")
    return errors


def _default_claim_template(claim: dict[str, Any]) -> None:
    """PersistentVolumeClaim defaults Kubernetes applies to claim templates."""
    spec = claim.setdefault("spec", {})
    if isinstance(spec, dict) and not spec.get("volumeMode"):
        spec["volumeMode"] = "Filesystem"
    status = claim.setdefault("status", {})
    if isinstance(status, dict) and not status.get("phase"):
        status["phase"] = "Pending"


def _drop_max_unavailable(new: StatefulSet, old: StatefulSet | None) -> None:
    """``maxUnavailable`` is alpha (off) in 1.30: dropped unless already in use."""
    old_rolling = (
        old.spec.update_strategy.rolling_update
        if old and old.spec and old.spec.update_strategy
        else None
    )
    if old_rolling is not None and old_rolling.max_unavailable is not None:
        return
    if new.spec and new.spec.update_strategy and new.spec.update_strategy.rolling_update:
        new.spec.update_strategy.rolling_update.max_unavailable = None


class StatefulSetStrategy(Strategy):
    """StatefulSets: one replica, OrderedReady pod management, RollingUpdate from
    partition 0, claims retained; names are DNS labels (they become host names), and
    only replicas, template, updateStrategy, minReadySeconds, ordinals and the claim
    retention policy may change."""

    resource = registry.resource("apps", "statefulsets")
    subresources = (Status(), Scale())
    generation = True
    columns = (
        Column("Ready", description="Number of the pod with ready state"),
        AGE_COLUMN,
        CONTAINERS,
        IMAGES,
    )

    def name_errors(self, name: str) -> list[str]:
        return is_dns1123_label(name)

    def prepare_for_create(self, obj: StatefulSet) -> None:
        super().prepare_for_create(obj)
        _drop_max_unavailable(obj, None)

    def prepare_for_update(self, new: StatefulSet, old: StatefulSet) -> None:
        super().prepare_for_update(new, old)
        _drop_max_unavailable(new, old)

    def default(self, obj: StatefulSet) -> None:
        spec = obj.spec
        if spec is None:
            return
        if not spec.pod_management_policy:
            spec.pod_management_policy = "OrderedReady"
        if spec.update_strategy is None:
            spec.update_strategy = StatefulSetUpdateStrategy()
        strategy = spec.update_strategy
        if not strategy.type:
            strategy.type = "RollingUpdate"
            if strategy.rolling_update is None:
                strategy.rolling_update = RollingUpdateStatefulSetStrategy()
        if (
            strategy.type == "RollingUpdate"
            and strategy.rolling_update is not None
            and strategy.rolling_update.partition is None
        ):
            strategy.rolling_update.partition = 0
        if spec.persistent_volume_claim_retention_policy is None:
            spec.persistent_volume_claim_retention_policy = (
                StatefulSetPersistentVolumeClaimRetentionPolicy()
            )
        retention = spec.persistent_volume_claim_retention_policy
        retention.when_deleted = retention.when_deleted or "Retain"
        retention.when_scaled = retention.when_scaled or "Retain"
        if spec.replicas is None:
            spec.replicas = 1
        if spec.revision_history_limit is None:
            spec.revision_history_limit = 10
        for claim in spec.volume_claim_templates:
            if isinstance(claim, dict):
                _default_claim_template(claim)
        default_template(spec.template)

    def validate(self, obj: StatefulSet) -> list[FieldError]:
        return self.validate_metadata(obj) + _validate_stateful_set_spec(
            obj.spec, obj.metadata.name or ""
        )

    def validate_update(self, new: StatefulSet, old: StatefulSet) -> list[FieldError]:
        # Kubernetes defaults what it reads from storage too: compare like with like.
        old = old.model_copy(deep=True)
        self.default(old)
        if new.spec is None or old.spec is None:
            return (
                [] if new.spec == old.spec else [forbidden("spec", _STATEFUL_SET_UPDATE_FORBIDDEN)]
            )
        keep = {name: getattr(old.spec, name) for name in _STATEFUL_SET_MUTABLE}
        if new.spec.model_copy(update=keep).to_dict() != old.spec.to_dict():
            return [forbidden("spec", _STATEFUL_SET_UPDATE_FORBIDDEN)]
        return []

    def validate_status_update(self, new: StatefulSet, old: StatefulSet) -> list[FieldError]:
        status = new.status or StatefulSetStatus(replicas=0)
        p = "status."
        errors = nonnegative(status.replicas, p + "replicas")
        errors += nonnegative(status.ready_replicas, p + "readyReplicas")
        errors += nonnegative(status.current_replicas, p + "currentReplicas")
        errors += nonnegative(status.updated_replicas, p + "updatedReplicas")
        errors += nonnegative(status.available_replicas, p + "availableReplicas")
        errors += nonnegative(status.observed_generation, p + "observedGeneration")
        errors += nonnegative(status.collision_count, p + "collisionCount")
        msg = "cannot be greater than status.replicas"
        replicas = status.replicas
        errors += not_above(status.ready_replicas, replicas, p + "readyReplicas", msg)
        errors += not_above(status.current_replicas, replicas, p + "currentReplicas", msg)
        errors += not_above(status.updated_replicas, replicas, p + "updatedReplicas", msg)
        errors += not_above(status.available_replicas, replicas, p + "availableReplicas", msg)
        errors += not_above(
            status.available_replicas,
            status.ready_replicas,
            p + "availableReplicas",
            "cannot be greater than status.readyReplicas",
        )
        old_count = old.status.collision_count if old.status else None
        errors += collision_count_errors(status.collision_count, old_count)
        return errors

    def row(self, obj: StatefulSet) -> Sequence[Any]:
        spec, status = obj.spec, obj.status
        desired = (spec.replicas or 0) if spec else 0
        ready = (status.ready_replicas or 0) if status else 0
        names, images = container_cells(spec.template if spec else None)
        return [f"{ready}/{desired}", age(obj.metadata.creation_timestamp), names, images]
