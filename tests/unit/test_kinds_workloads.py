"""Strategies of the workload kinds: apps/v1, batch/v1, coordination/v1, policy/v1.

Each rule is exercised through the Strategy hooks in the order the generic store calls
them (prepare, default, validate), and error messages are compared with the text
Kubernetes 1.30 produces for the same input.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from apiserver.kinds.controllerrevision import ControllerRevisionStrategy
from apiserver.kinds.cronjob import CronJobStrategy, cron_schedule_error
from apiserver.kinds.daemonset import DaemonSetStrategy
from apiserver.kinds.deployment import DeploymentStrategy
from apiserver.kinds.job import JobStrategy
from apiserver.kinds.lease import LeaseStrategy
from apiserver.kinds.poddisruptionbudget import PodDisruptionBudgetStrategy
from apiserver.kinds.replicaset import ReplicaSetStrategy
from apiserver.kinds.statefulset import StatefulSetStrategy
from apiserver.registry.strategy import Strategy
from apiserver.tables import table
from apitypes.base import now
from apitypes.batch import CONTROLLER_UID_LABEL, JOB_NAME_LABEL
from apitypes.validation import FieldError

UID = "6b1f1b9e-3f1a-4c7e-9a34-0d8f2b1c5e77"


# --- helpers -------------------------------------------------------------------------------


def messages(errors: list[FieldError]) -> list[str]:
    return [e.message() for e in errors]


def fields(errors: list[FieldError]) -> list[str]:
    return [e.field for e in errors]


def parse(strategy: Strategy, wire: dict[str, Any]) -> Any:
    """The kind's model of a wire-form object (typed loosely, as the hooks take it)."""
    return strategy.model().model_validate(wire)


def create(strategy: Strategy, body: dict[str, Any]) -> tuple[Any, list[FieldError]]:
    """What the store does on create: system metadata, prepare, default, validate."""
    obj = parse(strategy, copy.deepcopy(body))
    meta = obj.metadata
    meta.uid = UID
    # Relative to now at the call, not at import: the suite may run for many minutes.
    meta.creation_timestamp = now() - timedelta(minutes=10, seconds=5)
    if strategy.resource.namespaced:
        meta.namespace = meta.namespace or "default"
    meta.generation = 1 if strategy.generation else None
    strategy.prepare_for_create(obj)
    strategy.default(obj)
    return obj, strategy.validate(obj)


def created(strategy: Strategy, body: dict[str, Any]) -> Any:
    obj, errors = create(strategy, body)
    assert errors == [], messages(errors)
    return obj


def update(
    strategy: Strategy, old: Any, change: Callable[[dict[str, Any]], None]
) -> tuple[Any, list[FieldError]]:
    """What the store does on update of the main resource."""
    wire = old.to_dict()
    change(wire)
    new = parse(strategy, wire)
    strategy.prepare_for_update(new, old)
    strategy.default(new)
    return new, strategy.validate(new) + strategy.validate_update(new, old)


def status_update(
    strategy: Strategy, old: Any, status: dict[str, Any]
) -> tuple[Any, list[FieldError]]:
    wire = old.to_dict()
    wire["status"] = status
    new = parse(strategy, wire)
    strategy.prepare_for_subresource_update("status", new, old)
    strategy.default(new)
    return new, strategy.validate(new) + strategy.validate_status_update(new, old)


def pod_template(
    labels: dict[str, str] | None = None, restart: str | None = None, **spec: Any
) -> dict[str, Any]:
    pod: dict[str, Any] = {"containers": [{"name": "web", "image": "nginx:1.25"}], **spec}
    if restart:
        pod["restartPolicy"] = restart
    return {"metadata": {"labels": labels or {"app": "web"}}, "spec": pod}


def deployment(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": pod_template()},
    }
    body["spec"].update(spec)
    return body


def replica_set(**spec: Any) -> dict[str, Any]:
    body = deployment(**spec)
    body["kind"] = "ReplicaSet"
    return body


def daemon_set(**spec: Any) -> dict[str, Any]:
    body = deployment(**spec)
    body["kind"] = "DaemonSet"
    return body


def stateful_set(**spec: Any) -> dict[str, Any]:
    body = deployment(**{"serviceName": "web", **spec})
    body["kind"] = "StatefulSet"
    return body


def job(name: str = "pi", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {"template": pod_template(labels={"app": "pi"}, restart="Never")},
    }
    body["spec"].update(spec)
    return body


def cron_job(name: str = "nightly", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name},
        "spec": {
            "schedule": "*/5 * * * *",
            "jobTemplate": {"spec": {"template": pod_template(restart="OnFailure")}},
        },
    }
    body["spec"].update(spec)
    return body


PERCENT_MESSAGE = (
    "a valid percent string must be a numeric string followed by an ending '%' "
    "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
)


# --- Deployment ----------------------------------------------------------------------------


class TestDeployment:
    strategy = DeploymentStrategy()

    def test_defaults(self) -> None:
        obj = created(self.strategy, deployment())
        spec = obj.spec
        assert spec.replicas == 1
        assert spec.strategy.type == "RollingUpdate"
        assert spec.strategy.rolling_update.max_surge == "25%"
        assert spec.strategy.rolling_update.max_unavailable == "25%"
        assert spec.revision_history_limit == 10
        assert spec.progress_deadline_seconds == 600
        assert spec.template.spec.restart_policy == "Always"
        assert obj.status is None

    def test_recreate_gets_no_rolling_update(self) -> None:
        obj = created(self.strategy, deployment(strategy={"type": "Recreate"}))
        assert obj.spec.strategy.rolling_update is None

    def test_explicit_values_are_kept(self) -> None:
        obj = created(
            self.strategy,
            deployment(
                replicas=0, revisionHistoryLimit=0, strategy={"rollingUpdate": {"maxSurge": 2}}
            ),
        )
        assert obj.spec.replicas == 0
        assert obj.spec.revision_history_limit == 0
        assert obj.spec.strategy.rolling_update.max_surge == 2
        assert obj.spec.strategy.rolling_update.max_unavailable == "25%"

    def test_template_labels_must_match_selector(self) -> None:
        body = deployment(template=pod_template(labels={"app": "other"}))
        _, errors = create(self.strategy, body)
        assert messages(errors) == [
            'spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: '
            "`selector` does not match template `labels`"
        ]

    def test_empty_selector(self) -> None:
        _, errors = create(self.strategy, deployment(selector={}))
        assert messages(errors) == [
            "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
            "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: "
            "empty selector is invalid for deployment"
        ]

    def test_malformed_selector(self) -> None:
        selector = {"matchExpressions": [{"key": "app", "operator": "Near", "values": ["x"]}]}
        _, errors = create(self.strategy, deployment(selector=selector))
        assert messages(errors) == [
            'spec.selector.matchExpressions[0].operator: Invalid value: "Near": '
            "not a valid selector operator",
            "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
            "MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement"
            '{Key:"app", Operator:"Near", Values:[]string{"x"}}}}: invalid label selector',
        ]

    def test_negative_replicas_and_min_ready(self) -> None:
        _, errors = create(self.strategy, deployment(replicas=-1, minReadySeconds=-5))
        assert messages(errors) == [
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            "spec.minReadySeconds: Invalid value: -5: must be greater than or equal to 0",
        ]

    def test_surge_and_unavailable_both_zero(self) -> None:
        rolling = {"maxSurge": 0, "maxUnavailable": "0%"}
        _, errors = create(self.strategy, deployment(strategy={"rollingUpdate": rolling}))
        assert messages(errors) == [
            "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "
            'intstr.IntOrString{Type:1, IntVal:0, StrVal:"0%"}: may not be 0 when `maxSurge` is 0'
        ]

    def test_bad_int_or_percent(self) -> None:
        rolling = {"maxSurge": "abc", "maxUnavailable": "110%"}
        _, errors = create(self.strategy, deployment(strategy={"rollingUpdate": rolling}))
        assert messages(errors) == [
            "spec.strategy.rollingUpdate.maxSurge: Invalid value: "
            f'intstr.IntOrString{{Type:1, IntVal:0, StrVal:"abc"}}: {PERCENT_MESSAGE}',
            "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "
            'intstr.IntOrString{Type:1, IntVal:0, StrVal:"110%"}: must not be greater than 100%',
        ]

    def test_negative_int_bound(self) -> None:
        rolling = {"maxSurge": -1}
        _, errors = create(self.strategy, deployment(strategy={"rollingUpdate": rolling}))
        assert messages(errors) == [
            "spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: "
            "must be greater than or equal to 0"
        ]

    def test_recreate_forbids_rolling_update(self) -> None:
        strategy = {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}
        _, errors = create(self.strategy, deployment(strategy=strategy))
        assert messages(errors) == [
            "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy "
            "`type` is 'Recreate'"
        ]

    def test_unknown_strategy_type(self) -> None:
        _, errors = create(self.strategy, deployment(strategy={"type": "BlueGreen"}))
        assert messages(errors) == [
            'spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:"BlueGreen", '
            "RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: "
            'supported values: "Recreate", "RollingUpdate"'
        ]

    def test_restart_policy_must_be_always(self) -> None:
        body = deployment(template=pod_template(restart="Never", activeDeadlineSeconds=5))
        _, errors = create(self.strategy, body)
        assert messages(errors)[-2:] == [
            'spec.template.spec.restartPolicy: Unsupported value: "Never": '
            'supported values: "Always"',
            "spec.template.spec.activeDeadlineSeconds: Forbidden: "
            "activeDeadlineSeconds in ReplicaSet is not Supported",
        ]

    def test_progress_deadline_beyond_min_ready(self) -> None:
        _, errors = create(self.strategy, deployment(minReadySeconds=600))
        assert messages(errors) == [
            "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds"
        ]

    def test_selector_is_immutable(self) -> None:
        old = created(self.strategy, deployment())

        def change(wire: dict[str, Any]) -> None:
            wire["spec"]["selector"] = {"matchLabels": {"app": "web", "tier": "fe"}}
            wire["spec"]["template"]["metadata"]["labels"]["tier"] = "fe"

        _, errors = update(self.strategy, old, change)
        assert messages(errors) == [
            "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string"
            '{"app":"web", "tier":"fe"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: '
            "field is immutable"
        ]

    def test_scaling_is_allowed(self) -> None:
        old = created(self.strategy, deployment())
        new, errors = update(self.strategy, old, lambda w: w["spec"].update(replicas=5))
        assert errors == []
        assert new.spec.replicas == 5

    def test_annotation_change_is_a_new_generation(self) -> None:
        old = created(self.strategy, deployment())
        new, _ = update(
            self.strategy, old, lambda w: w["metadata"].setdefault("annotations", {"a": "b"})
        )
        assert new.metadata.generation == 2
        same, _ = update(self.strategy, old, lambda w: None)
        assert same.metadata.generation == 1

    def test_status_is_kept_by_update_and_cleared_by_create(self) -> None:
        body = deployment()
        body["status"] = {"replicas": 3}
        obj = created(self.strategy, body)
        assert obj.status is None
        obj.status = parse(
            self.strategy, {"metadata": {}, "spec": body["spec"], "status": {"replicas": 2}}
        ).status
        new, _ = update(self.strategy, obj, lambda w: w.update(status={"replicas": 9}))
        assert new.status.replicas == 2

    def test_status_update_keeps_spec_but_takes_annotations(self) -> None:
        old = created(self.strategy, deployment())
        wire = old.to_dict()
        wire["spec"]["replicas"] = 7
        wire["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "1"}
        wire["status"] = {"replicas": 1}
        new = parse(self.strategy, wire)
        self.strategy.prepare_for_subresource_update("status", new, old)
        assert new.spec.replicas == 1
        assert new.metadata.annotations == {"deployment.kubernetes.io/revision": "1"}
        assert new.status.replicas == 1

    def test_status_counters(self) -> None:
        old = created(self.strategy, deployment())
        old.status = parse(self.strategy, {"status": {"collisionCount": 2}}).status
        status = {
            "replicas": 1,
            "readyReplicas": 2,
            "availableReplicas": 3,
            "unavailableReplicas": -1,
            "collisionCount": 1,
        }
        _, errors = status_update(self.strategy, old, status)
        assert messages(errors) == [
            "status.unavailableReplicas: Invalid value: -1: must be greater than or equal to 0",
            "status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas",
            "status.availableReplicas: Invalid value: 3: cannot be greater than status.replicas",
            "status.availableReplicas: Invalid value: 3: cannot be greater than readyReplicas",
            "status.collisionCount: Invalid value: 1: cannot be decremented",
        ]

    def test_row(self) -> None:
        obj = created(self.strategy, deployment(replicas=3))
        obj.status = parse(
            self.strategy,
            {"status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}},
        ).status
        assert self.strategy.row(obj) == ["2/3", 3, 2, "10m", "web", "nginx:1.25", "app=web"]


# --- ReplicaSet ----------------------------------------------------------------------------


class TestReplicaSet:
    strategy = ReplicaSetStrategy()

    def test_defaults(self) -> None:
        obj = created(self.strategy, replica_set())
        assert obj.spec.replicas == 1
        assert obj.spec.template.spec.restart_policy == "Always"

    def test_missing_template_is_refused(self) -> None:
        body = replica_set()
        del body["spec"]["template"]
        _, errors = create(self.strategy, body)
        assert (
            "spec.template.metadata.labels: Invalid value: map[string]string(nil): "
            "`selector` does not match template `labels`"
        ) in messages(errors)
        assert "spec.template.spec.containers" in [f.split("[")[0] for f in fields(errors)]

    def test_empty_selector_wording(self) -> None:
        _, errors = create(self.strategy, replica_set(selector={"matchLabels": {}}))
        # Kubernetes names deployments in this message for ReplicaSets as well.
        assert messages(errors)[0].endswith("empty selector is invalid for deployment")

    def test_selector_is_immutable(self) -> None:
        old = created(self.strategy, replica_set())
        _, errors = update(
            self.strategy, old, lambda w: w["spec"].update(selector={"matchLabels": {"x": "y"}})
        )
        assert "spec.selector" in fields(errors)
        assert messages(errors)[-1].endswith("field is immutable")

    def test_status_counters(self) -> None:
        old = created(self.strategy, replica_set())
        status = {"replicas": 1, "fullyLabeledReplicas": 2, "observedGeneration": -1}
        _, errors = status_update(self.strategy, old, status)
        assert messages(errors) == [
            "status.observedGeneration: Invalid value: -1: must be greater than or equal to 0",
            "status.fullyLabeledReplicas: Invalid value: 2: cannot be greater than status.replicas",
        ]

    def test_field_selector_and_row(self) -> None:
        obj = created(self.strategy, replica_set(replicas=2))
        wire = obj.to_dict()
        wire["status"] = {"replicas": 2, "readyReplicas": 1}
        assert self.strategy.field_set(wire)["status.replicas"] == "2"
        typed = parse(self.strategy, wire)
        assert self.strategy.row(typed) == [2, 2, 1, "10m", "web", "nginx:1.25", "app=web"]
        assert self.strategy.field_set(obj.to_dict())["status.replicas"] == "0"


# --- DaemonSet -----------------------------------------------------------------------------


class TestDaemonSet:
    strategy = DaemonSetStrategy()

    def test_defaults(self) -> None:
        obj = created(self.strategy, daemon_set())
        update_strategy = obj.spec.update_strategy
        assert update_strategy.type == "RollingUpdate"
        assert update_strategy.rolling_update.max_unavailable == 1
        assert update_strategy.rolling_update.max_surge == 0
        assert obj.spec.revision_history_limit == 10

    def test_on_delete_gets_no_rolling_update(self) -> None:
        obj = created(self.strategy, daemon_set(updateStrategy={"type": "OnDelete"}))
        assert obj.spec.update_strategy.rolling_update is None

    def test_surge_needs_zero_unavailable(self) -> None:
        body = daemon_set(updateStrategy={"rollingUpdate": {"maxSurge": "10%"}})
        _, errors = create(self.strategy, body)
        assert messages(errors) == [
            "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "
            'intstr.IntOrString{Type:1, IntVal:0, StrVal:"10%"}: '
            "may not be set when maxUnavailable is non-zero"
        ]
        ok = daemon_set(updateStrategy={"rollingUpdate": {"maxSurge": "10%", "maxUnavailable": 0}})
        assert create(self.strategy, ok)[1] == []

    def test_both_zero(self) -> None:
        body = daemon_set(updateStrategy={"rollingUpdate": {"maxUnavailable": 0}})
        _, errors = create(self.strategy, body)
        assert messages(errors) == [
            "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: "
            "cannot be 0 when maxSurge is 0"
        ]

    def test_unknown_update_strategy(self) -> None:
        _, errors = create(self.strategy, daemon_set(updateStrategy={"type": "Sometimes"}))
        assert messages(errors) == [
            'spec.updateStrategy: Unsupported value: apps.DaemonSetUpdateStrategy{Type:"Sometimes", '
            "RollingUpdate:(*apps.RollingUpdateDaemonSet)(nil)}: "
            'supported values: "RollingUpdate", "OnDelete"'
        ]

    def test_selector_must_match_and_not_be_empty(self) -> None:
        _, errors = create(self.strategy, daemon_set(template=pod_template(labels={"a": "b"})))
        assert messages(errors) == [
            'spec.template.metadata.labels: Invalid value: map[string]string{"a":"b"}: '
            "`selector` does not match template `labels`"
        ]
        _, errors = create(self.strategy, daemon_set(selector={}))
        assert messages(errors)[-1].endswith("empty selector is invalid for daemonset")

    def test_restart_policy(self) -> None:
        _, errors = create(self.strategy, daemon_set(template=pod_template(restart="OnFailure")))
        assert messages(errors) == [
            'spec.template.spec.restartPolicy: Unsupported value: "OnFailure": '
            'supported values: "Always"'
        ]

    def test_selector_is_immutable(self) -> None:
        old = created(self.strategy, daemon_set())
        _, errors = update(
            self.strategy, old, lambda w: w["spec"]["selector"].update(matchLabels={"x": "y"})
        )
        assert "spec.selector" in fields(errors)

    def test_status_counters(self) -> None:
        old = created(self.strategy, daemon_set())
        status = {
            "currentNumberScheduled": -1,
            "numberMisscheduled": 0,
            "desiredNumberScheduled": 1,
            "numberReady": 0,
            "numberUnavailable": -2,
        }
        _, errors = status_update(self.strategy, old, status)
        assert messages(errors) == [
            "status.currentNumberScheduled: Invalid value: -1: must be greater than or equal to 0",
            "status.numberUnavailable: Invalid value: -2: must be greater than or equal to 0",
        ]

    def test_row(self) -> None:
        body = daemon_set(template=pod_template(nodeSelector={"zone": "a", "disk": "ssd"}))
        obj = created(self.strategy, body)
        assert self.strategy.row(obj) == [
            0,
            0,
            0,
            0,
            0,
            "disk=ssd,zone=a",
            "10m",
            "web",
            "nginx:1.25",
            "app=web",
        ]


# --- StatefulSet ---------------------------------------------------------------------------


CLAIM = {
    "metadata": {"name": "data"},
    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
}


class TestStatefulSet:
    strategy = StatefulSetStrategy()

    def test_defaults(self) -> None:
        obj = created(self.strategy, stateful_set(volumeClaimTemplates=[CLAIM]))
        spec = obj.spec
        assert spec.replicas == 1
        assert spec.pod_management_policy == "OrderedReady"
        assert spec.update_strategy.type == "RollingUpdate"
        assert spec.update_strategy.rolling_update.partition == 0
        assert spec.revision_history_limit == 10
        retention = spec.persistent_volume_claim_retention_policy
        assert (retention.when_deleted, retention.when_scaled) == ("Retain", "Retain")
        assert spec.volume_claim_templates[0]["spec"]["volumeMode"] == "Filesystem"
        assert spec.volume_claim_templates[0]["status"] == {"phase": "Pending"}

    def test_on_delete_gets_no_partition(self) -> None:
        obj = created(self.strategy, stateful_set(updateStrategy={"type": "OnDelete"}))
        assert obj.spec.update_strategy.rolling_update is None

    def test_name_is_a_dns_label(self) -> None:
        body = stateful_set()
        body["metadata"]["name"] = "web.v2"
        _, errors = create(self.strategy, body)
        assert messages(errors) == ['metadata.name: Invalid value: "web.v2": must not contain dots']

    def test_template_volume_mounts_may_name_claim_templates(self) -> None:
        template = pod_template()
        template["spec"]["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/d"}]
        obj, errors = create(
            self.strategy, stateful_set(template=template, volumeClaimTemplates=[CLAIM])
        )
        assert errors == [], messages(errors)
        # The check uses a copy: the stored template gets no extra volume.
        assert obj.spec.template.spec.volumes == []

    def test_claim_templates_need_distinct_names(self) -> None:
        claims = [CLAIM, CLAIM, {"spec": {}}]
        _, errors = create(self.strategy, stateful_set(volumeClaimTemplates=claims))
        assert messages(errors) == [
            'spec.volumeClaimTemplates[1].metadata.name: Invalid value: "data": must be unique',
            "spec.volumeClaimTemplates[2].metadata.name: Required value",
        ]

    def test_spec_rules(self) -> None:
        body = stateful_set(
            podManagementPolicy="Random",
            updateStrategy={"type": "OnDelete", "rollingUpdate": {"partition": 1}},
            persistentVolumeClaimRetentionPolicy={"whenDeleted": "Keep"},
            ordinals={"start": -1},
            serviceName="Web_Service",
        )
        _, errors = create(self.strategy, body)
        assert messages(errors)[:5] == [
            "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or "
            "'Parallel'",
            "spec.updateStrategy.rollingUpdate: Invalid value: "
            "apps.RollingUpdateStatefulSetStrategy{Partition:1, "
            "MaxUnavailable:(*intstr.IntOrString)(nil)}: only allowed for updateStrategy "
            "'RollingUpdate'",
            'spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": '
            'supported values: "Retain", "Delete"',
            "spec.ordinals.start: Invalid value: -1: must be greater than or equal to 0",
            'spec.serviceName: Invalid value: "Web_Service": a lowercase RFC 1123 label must '
            "consist of lower case alphanumeric characters or '-', and must start and end with "
            "an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
            "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        ]

    def test_max_unavailable_is_dropped(self) -> None:
        body = stateful_set(updateStrategy={"rollingUpdate": {"maxUnavailable": 2}})
        obj = created(self.strategy, body)
        assert obj.spec.update_strategy.rolling_update.max_unavailable is None

    def test_only_some_fields_may_change(self) -> None:
        old = created(self.strategy, stateful_set(volumeClaimTemplates=[CLAIM]))

        def scale_and_retemplate(wire: dict[str, Any]) -> None:
            wire["spec"]["replicas"] = 4
            wire["spec"]["minReadySeconds"] = 3
            wire["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.26"
            wire["spec"]["updateStrategy"] = {"type": "OnDelete"}

        _, errors = update(self.strategy, old, scale_and_retemplate)
        assert errors == [], messages(errors)
        for change in (
            lambda w: w["spec"].update(serviceName="other"),
            lambda w: w["spec"].update(podManagementPolicy="Parallel"),
            lambda w: w["spec"].update(revisionHistoryLimit=3),
            lambda w: w["spec"]["volumeClaimTemplates"][0]["metadata"].update(name="logs"),
        ):
            _, errors = update(self.strategy, old, change)
            assert messages(errors) == [
                "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', "
                "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' "
                "and 'minReadySeconds' are forbidden"
            ]

    def test_update_compares_with_defaulted_old(self) -> None:
        # An object stored before a default existed reads back defaulted, as in Kubernetes.
        old = created(self.strategy, stateful_set())
        old.spec.revision_history_limit = None
        old.spec.template.spec.dns_policy = None
        _, errors = update(self.strategy, old, lambda w: w["spec"].update(replicas=2))
        assert errors == [], messages(errors)

    def test_status_counters(self) -> None:
        old = created(self.strategy, stateful_set())
        status = {"replicas": 1, "readyReplicas": 1, "availableReplicas": 2, "currentReplicas": -1}
        _, errors = status_update(self.strategy, old, status)
        assert messages(errors) == [
            "status.currentReplicas: Invalid value: -1: must be greater than or equal to 0",
            "status.availableReplicas: Invalid value: 2: cannot be greater than status.replicas",
            "status.availableReplicas: Invalid value: 2: "
            "cannot be greater than status.readyReplicas",
        ]

    def test_row(self) -> None:
        obj = created(self.strategy, stateful_set(replicas=3))
        obj.status = parse(self.strategy, {"status": {"replicas": 3, "readyReplicas": 1}}).status
        assert self.strategy.row(obj) == ["1/3", "10m", "web", "nginx:1.25"]


# --- ControllerRevision --------------------------------------------------------------------


class TestControllerRevision:
    strategy = ControllerRevisionStrategy()

    def body(self, **extra: Any) -> dict[str, Any]:
        return {"metadata": {"name": "web-5d8f"}, "data": {"spec": {}}, "revision": 1, **extra}

    def test_revision_not_negative(self) -> None:
        _, errors = create(self.strategy, self.body(revision=-1))
        assert messages(errors) == [
            "revision: Invalid value: -1: must be greater than or equal to 0"
        ]

    def test_data_is_immutable_revision_is_not(self) -> None:
        old = created(self.strategy, self.body())
        _, errors = update(self.strategy, old, lambda w: w.update(revision=2))
        assert errors == []
        _, errors = update(self.strategy, old, lambda w: w.update(data={"spec": {"x": 1}}))
        assert messages(errors) == ['data: Invalid value: {"spec":{"x":1}}: field is immutable']

    def test_row(self) -> None:
        owner = {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "name": "web",
            "uid": "u",
            "controller": True,
        }
        body = self.body()
        body["metadata"]["ownerReferences"] = [owner]
        assert self.strategy.row(created(self.strategy, body)) == ["statefulset.apps/web", 1, "10m"]
        assert self.strategy.row(created(self.strategy, self.body())) == ["<none>", 1, "10m"]


# --- Job -----------------------------------------------------------------------------------


class TestJob:
    strategy = JobStrategy()

    def test_defaults(self) -> None:
        obj = created(self.strategy, job())
        spec = obj.spec
        assert (spec.completions, spec.parallelism) == (1, 1)
        assert spec.backoff_limit == 6
        assert spec.completion_mode == "NonIndexed"
        assert spec.suspend is False
        assert spec.manual_selector is False
        assert spec.pod_replacement_policy == "TerminatingOrFailed"

    def test_parallelism_alone(self) -> None:
        obj = created(self.strategy, job(parallelism=3))
        assert (obj.spec.completions, obj.spec.parallelism) == (None, 3)
        obj = created(self.strategy, job(completions=4))
        assert (obj.spec.completions, obj.spec.parallelism) == (4, 1)

    def test_backoff_limit_per_index(self) -> None:
        obj = created(
            self.strategy, job(completionMode="Indexed", completions=2, backoffLimitPerIndex=1)
        )
        assert obj.spec.backoff_limit == 2**31 - 1

    def test_generated_selector_and_labels(self) -> None:
        obj = created(self.strategy, job())
        expected = {
            "app": "pi",
            "batch.kubernetes.io/controller-uid": UID,
            "batch.kubernetes.io/job-name": "pi",
            "controller-uid": UID,
            "job-name": "pi",
        }
        assert obj.spec.template.metadata.labels == expected
        assert obj.spec.selector.match_labels == {CONTROLLER_UID_LABEL: UID}
        assert obj.metadata.labels == expected  # Jobs without labels take the template's

    def test_own_labels_are_kept(self) -> None:
        body = job()
        body["metadata"]["labels"] = {"team": "ml"}
        assert created(self.strategy, body).metadata.labels == {"team": "ml"}

    def test_restart_policy_required(self) -> None:
        body = job()
        del body["spec"]["template"]["spec"]["restartPolicy"]
        _, errors = create(self.strategy, body)
        assert messages(errors) == [
            'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'
        ]

    def test_selector_without_manual_selector(self) -> None:
        _, errors = create(self.strategy, job(selector={"matchLabels": {"app": "pi"}}))
        assert messages(errors) == [
            "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string"
            '{"app":"pi", "batch.kubernetes.io/controller-uid":"' + UID + '"}, '
            "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` not auto-generated"
        ]

    def test_conflicting_generated_label(self) -> None:
        body = job()
        body["spec"]["template"]["metadata"]["labels"]["job-name"] = "other"
        _, errors = create(self.strategy, body)
        # The generated selector picks the uid only, so it still selects the template.
        assert messages(errors) == [
            "spec.template.metadata.labels[job-name]: Invalid value: map[string]string"
            f'{{"app":"pi", "batch.kubernetes.io/controller-uid":"{UID}", '
            f'"batch.kubernetes.io/job-name":"pi", "controller-uid":"{UID}", '
            '"job-name":"other"}: must be \'pi\''
        ]

    def test_manual_selector(self) -> None:
        body = job(manualSelector=True, selector={"matchLabels": {"app": "pi"}})
        obj = created(self.strategy, body)
        assert obj.spec.template.metadata.labels == {"app": "pi"}
        _, errors = create(self.strategy, job(manualSelector=True))
        assert messages(errors) == [
            "spec.selector: Required value",
            "spec.template.metadata.labels: Invalid value: "
            'map[string]string{"app":"pi"}: `selector` does not match template `labels`',
        ]

    def test_indexed_rules(self) -> None:
        body = job(completionMode="Indexed", parallelism=2, maxFailedIndexes=1)
        _, errors = create(self.strategy, body)
        assert messages(errors) == [
            "spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified",
            "spec.completions: Required value: when completion mode is Indexed",
        ]
        _, errors = create(self.strategy, job(backoffLimitPerIndex=1))
        assert messages(errors) == [
            "spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode"
        ]
        _, errors = create(self.strategy, job(completionMode="Sometimes"))
        assert messages(errors) == [
            'spec.completionMode: Unsupported value: "Sometimes": '
            'supported values: "NonIndexed", "Indexed"'
        ]

    def test_indexed_pod_host_names(self) -> None:
        _, errors = create(
            self.strategy, job(name="a" * 62, completionMode="Indexed", completions=10)
        )
        assert messages(errors) == [
            f'metadata.name: Invalid value: "{"a" * 62}": will not able to create pod with '
            f"invalid DNS label: {'a' * 62}-9"
        ]

    def test_pod_failure_policy(self) -> None:
        policy = {
            "rules": [
                {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [3, 0, 3]}},
                {"action": "FailIndex", "onPodConditions": [{"type": "DisruptionTarget"}]},
                {"action": "Ignore"},
            ]
        }
        obj, errors = create(self.strategy, job(podFailurePolicy=policy))
        assert obj.spec.pod_failure_policy.rules[1].on_pod_conditions[0].status == "True"
        assert obj.spec.pod_replacement_policy == "Failed"
        assert messages(errors) == [
            "spec.podFailurePolicy.rules[0].onExitCodes.values[1]: Invalid value: 0: "
            "must not be 0 for the In operator",
            "spec.podFailurePolicy.rules[0].onExitCodes.values[2]: Duplicate value: 3",
            "spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: "
            "[]int32{3, 0, 3}: must be ordered",
            'spec.podFailurePolicy.rules[1].action: Invalid value: "FailIndex": '
            "requires the backoffLimitPerIndex to be set",
            "spec.podFailurePolicy.rules[2]: Invalid value: "
            "specifying one of OnExitCodes and OnPodConditions is required",
        ]

    def test_pod_failure_policy_needs_never(self) -> None:
        policy = {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "Ready"}]}]}
        body = job(podFailurePolicy=policy, podReplacementPolicy="TerminatingOrFailed")
        body["spec"]["template"]["spec"]["restartPolicy"] = "OnFailure"
        _, errors = create(self.strategy, body)
        assert messages(errors) == [
            'spec.podReplacementPolicy: Unsupported value: "TerminatingOrFailed": '
            'supported values: "Failed"',
            'spec.template.spec.restartPolicy: Invalid value: "OnFailure": '
            'only "Never" is supported when podFailurePolicy is specified',
        ]

    def test_disabled_fields_are_dropped(self) -> None:
        body = job(managedBy="example.com/mine", successPolicy={"rules": [{"succeededCount": 1}]})
        obj = created(self.strategy, body)
        assert obj.spec.managed_by is None
        assert obj.spec.success_policy is None

    def test_template_is_immutable(self) -> None:
        old = created(self.strategy, job())

        def new_image(wire: dict[str, Any]) -> None:
            wire["spec"]["template"]["spec"]["containers"][0]["image"] = "perl:5"

        _, errors = update(self.strategy, old, new_image)
        assert fields(errors) == ["spec.template"]
        assert messages(errors)[0].endswith("field is immutable")

    def test_suspended_job_may_change_scheduling_directives(self) -> None:
        old = created(self.strategy, job(suspend=True))

        def reschedule(wire: dict[str, Any]) -> None:
            pod = wire["spec"]["template"]["spec"]
            pod["nodeSelector"] = {"zone": "b"}
            pod["tolerations"] = [{"key": "gpu", "operator": "Exists"}]
            wire["spec"]["template"]["metadata"]["annotations"] = {"note": "moved"}

        _, errors = update(self.strategy, old, reschedule)
        assert errors == [], messages(errors)
        started = old.model_copy(deep=True)
        started.status = parse(
            self.strategy, {"status": {"startTime": "2024-05-01T10:00:00Z"}}
        ).status
        _, errors = update(self.strategy, started, reschedule)
        assert fields(errors) == ["spec.template"]

    def test_template_compared_with_defaulted_old(self) -> None:
        old = created(self.strategy, job())
        old.spec.template.spec.scheduler_name = None
        old.spec.template.spec.containers[0].image_pull_policy = None
        _, errors = update(self.strategy, old, lambda w: w["metadata"].update(labels={"a": "b"}))
        assert errors == [], messages(errors)

    def test_other_immutable_fields(self) -> None:
        old = created(self.strategy, job(completions=2))
        _, errors = update(self.strategy, old, lambda w: w["spec"].update(completions=3))
        assert messages(errors) == ["spec.completions: Invalid value: 3: field is immutable"]
        _, errors = update(self.strategy, old, lambda w: w["spec"].update(completionMode="Indexed"))
        assert 'spec.completionMode: Invalid value: "Indexed": field is immutable' in messages(
            errors
        )
        _, errors = update(self.strategy, old, lambda w: w["spec"].update(parallelism=5))
        assert errors == []

    def test_indexed_job_scales_in_tandem(self) -> None:
        old = created(self.strategy, job(completionMode="Indexed", completions=2, parallelism=2))
        _, errors = update(
            self.strategy, old, lambda w: w["spec"].update(completions=4, parallelism=4)
        )
        assert errors == []
        _, errors = update(self.strategy, old, lambda w: w["spec"].update(completions=4))
        assert messages(errors) == [
            "spec.completions: Invalid value: 4: can only be modified in tandem with "
            "spec.parallelism"
        ]

    def test_selector_is_immutable(self) -> None:
        old = created(self.strategy, job())
        _, errors = update(
            self.strategy,
            old,
            lambda w: w["spec"]["selector"]["matchLabels"].update({JOB_NAME_LABEL: "pi"}),
        )
        assert fields(errors) == ["spec.selector"]

    def test_status_counters(self) -> None:
        old = created(self.strategy, job())
        status = {
            "active": -1,
            "uncountedTerminatedPods": {"succeeded": ["a", ""], "failed": ["a"]},
        }
        _, errors = status_update(self.strategy, old, status)
        assert messages(errors) == [
            "status.active: Invalid value: -1: must be greater than or equal to 0",
            'status.uncountedTerminatedPods.succeeded[1]: Invalid value: "": must not be empty',
            'status.uncountedTerminatedPods.failed[0]: Duplicate value: "a"',
        ]

    def test_field_selector(self) -> None:
        wire = created(self.strategy, job()).to_dict()
        assert self.strategy.field_set(wire)["status.successful"] == "0"
        wire["status"] = {"succeeded": 1}
        assert self.strategy.field_set(wire)["status.successful"] == "1"

    def test_rows(self) -> None:
        obj = created(self.strategy, job())
        selector = f"{CONTROLLER_UID_LABEL}={UID}"
        assert self.strategy.row(obj) == [
            "Running",
            "0/1",
            "",
            "10m",
            "web",
            "nginx:1.25",
            selector,
        ]
        obj.status = parse(
            self.strategy,
            {
                "status": {
                    "succeeded": 1,
                    "startTime": "2024-05-01T10:00:00Z",
                    "completionTime": "2024-05-01T10:03:20Z",
                    "conditions": [{"type": "Complete", "status": "True"}],
                }
            },
        ).status
        assert self.strategy.row(obj)[:3] == ["Complete", "1/1", "3m20s"]
        many = created(self.strategy, job(parallelism=3))
        assert self.strategy.row(many)[1] == "0/1 of 3"
        suspended = created(self.strategy, job())
        suspended.status = parse(
            self.strategy, {"status": {"conditions": [{"type": "Suspended", "status": "True"}]}}
        ).status
        assert self.strategy.row(suspended)[0] == "Suspended"


# --- CronJob -------------------------------------------------------------------------------


class TestCronSchedules:
    @pytest.mark.parametrize(
        "schedule",
        [
            "*/5 * * * *",
            "0 0 * * *",
            "@hourly",
            "@daily",
            "0 9-17/2 * JAN-mar mon-FRI",
            "0 0 1,15 * ?",
            "5/15 * * * *",
            "0 0 31 2 *",
            "TZ=UTC 0 0 * * *",
            "@every 1h30m",
        ],
    )
    def test_kubernetes_accepts(self, schedule: str) -> None:
        assert cron_schedule_error(schedule) is None

    @pytest.mark.parametrize(
        ("schedule", "error"),
        [
            ("foo", "expected exactly 5 fields, found 1: [foo]"),
            ("* * * * * *", "expected exactly 5 fields, found 6: [* * * * * *]"),
            ("60 * * * *", "end of range (60) above maximum (59): 60"),
            ("0 0 0 * *", "beginning of range (0) below minimum (1): 0"),
            ("0 0 * * 7", "end of range (7) above maximum (6): 7"),
            ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
            ("*/0 * * * *", "step of range should be a positive number: */0"),
            ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
            ("*/2/3 * * * *", "too many slashes: */2/3"),
            (
                "x * * * *",
                'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax',
            ),
            (
                "0 0 * foo *",
                'failed to parse int from foo: strconv.Atoi: parsing "foo": invalid syntax',
            ),
            ("@fortnightly", "unrecognized descriptor: @fortnightly"),
            (
                "@every 5x",
                'failed to parse duration @every 5x: time: unknown unit "x" in duration "5x"',
            ),
            ("@every 5", 'failed to parse duration @every 5: time: missing unit in duration "5"'),
            (
                "TZ=Mars/Base 0 0 * * *",
                "provided bad location Mars/Base: unknown time zone Mars/Base",
            ),
        ],
    )
    def test_kubernetes_refuses(self, schedule: str, error: str) -> None:
        assert cron_schedule_error(schedule) == error


class TestCronJob:
    strategy = CronJobStrategy()

    def test_defaults(self) -> None:
        obj = created(self.strategy, cron_job())
        spec = obj.spec
        assert spec.concurrency_policy == "Allow"
        assert spec.suspend is False
        assert spec.successful_jobs_history_limit == 3
        assert spec.failed_jobs_history_limit == 1
        job_spec = spec.job_template.spec
        # Pod defaults apply to the template; Job defaults wait for the Job itself.
        assert job_spec.template.spec.restart_policy == "OnFailure"
        assert job_spec.backoff_limit is None
        assert job_spec.completions is None

    def test_schedule_errors(self) -> None:
        _, errors = create(self.strategy, cron_job(schedule="61 * * * *"))
        assert messages(errors) == [
            'spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61'
        ]
        _, errors = create(self.strategy, cron_job(schedule="TZ=UTC 0 0 * * *"))
        assert messages(errors) == [
            'spec.schedule: Invalid value: "TZ=UTC 0 0 * * *": cannot use TZ or CRON_TZ in '
            "schedule, use timeZone field instead"
        ]
        _, errors = create(self.strategy, cron_job(schedule=""))
        assert messages(errors) == ["spec.schedule: Required value"]

    def test_schedules_croniter_cannot_follow(self) -> None:
        _, errors = create(self.strategy, cron_job(schedule="@every 1h"))
        assert messages(errors) == [
            'spec.schedule: Invalid value: "@every 1h": this form of schedule is not supported'
        ]

    def test_time_zone(self) -> None:
        assert create(self.strategy, cron_job(timeZone="Europe/Paris"))[1] == []
        cases = {
            "Mars/Olympus_Mons": 'spec.timeZone: Invalid value: "Mars/Olympus_Mons": '
            "unknown time zone Mars/Olympus_Mons",
            "../etc/passwd": 'spec.timeZone: Invalid value: "../etc/passwd": '
            "unknown time zone ../etc/passwd",
            "": 'spec.timeZone: Invalid value: "": timeZone must be nil or non-empty string',
            "Local": 'spec.timeZone: Invalid value: "Local": timeZone must be an explicit time '
            "zone as defined in https://www.iana.org/time-zones",
        }
        for zone, message in cases.items():
            _, errors = create(self.strategy, cron_job(timeZone=zone))
            assert messages(errors) == [message]

    def test_spec_rules(self) -> None:
        body = cron_job(
            concurrencyPolicy="Sometimes",
            startingDeadlineSeconds=-1,
            failedJobsHistoryLimit=-1,
        )
        body["spec"]["jobTemplate"]["spec"]["selector"] = {"matchLabels": {"a": "b"}}
        body["spec"]["jobTemplate"]["spec"]["manualSelector"] = True
        del body["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"]
        _, errors = create(self.strategy, body)
        assert messages(errors) == [
            "spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0",
            'spec.concurrencyPolicy: Unsupported value: "Sometimes": '
            'supported values: "Allow", "Forbid", "Replace"',
            "spec.jobTemplate.spec.template.spec.restartPolicy: Required value: "
            'valid values: "OnFailure", "Never"',
            "spec.jobTemplate.spec.selector: Invalid value: v1.LabelSelector{MatchLabels:"
            'map[string]string{"a":"b"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: '
            "`selector` will be auto-generated",
            'spec.jobTemplate.spec.manualSelector: Unsupported value: true: supported values: "nil", "false"',
            "spec.failedJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0",
        ]

    def test_name_leaves_room_for_job_suffix(self) -> None:
        _, errors = create(self.strategy, cron_job(name="c" * 53))
        assert messages(errors) == [
            f'metadata.name: Invalid value: "{"c" * 53}": must be no more than 52 characters'
        ]
        assert create(self.strategy, cron_job(name="c" * 52))[1] == []

    def test_row(self) -> None:
        obj = created(self.strategy, cron_job())
        assert self.strategy.row(obj) == [
            "*/5 * * * *",
            "<none>",
            "False",
            0,
            "<none>",
            "10m",
            "web",
            "nginx:1.25",
            "<none>",
        ]
        obj.spec.time_zone = "Etc/UTC"
        obj.status = parse(
            self.strategy,
            {
                "status": {
                    "active": [{"name": "nightly-1"}],
                    "lastScheduleTime": (now() - timedelta(seconds=30)).isoformat(),
                }
            },
        ).status
        row = self.strategy.row(obj)
        assert row[1] == "Etc/UTC"
        assert row[3] == 1
        assert row[4] in ("30s", "31s")


# --- Lease ---------------------------------------------------------------------------------


class TestLease:
    strategy = LeaseStrategy()

    def lease(self, **spec: Any) -> dict[str, Any]:
        return {"metadata": {"name": "node-1", "namespace": "kube-node-lease"}, "spec": spec}

    def test_valid(self) -> None:
        assert (
            create(self.strategy, self.lease(holderIdentity="n1", leaseDurationSeconds=40))[1] == []
        )

    def test_rules(self) -> None:
        _, errors = create(
            self.strategy,
            self.lease(leaseDurationSeconds=0, leaseTransitions=-1, preferredHolder="n2"),
        )
        assert messages(errors) == [
            "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
            "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
            "spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined",
        ]
        _, errors = create(self.strategy, self.lease(strategy="Newest"))
        assert messages(errors) == [
            'spec.strategy.strategy: Unsupported value: "Newest": '
            'supported values: "OldestEmulationVersion"'
        ]
        assert create(self.strategy, self.lease(strategy="example.com/mine"))[1] == []

    def test_update_is_validated_too(self) -> None:
        old = created(self.strategy, self.lease(leaseDurationSeconds=10))
        _, errors = update(self.strategy, old, lambda w: w["spec"].update(leaseDurationSeconds=-3))
        assert fields(errors) == ["spec.leaseDurationSeconds"]

    def test_row(self) -> None:
        assert self.strategy.row(created(self.strategy, self.lease(holderIdentity="n1"))) == [
            "n1",
            "10m",
        ]
        assert self.strategy.row(created(self.strategy, self.lease())) == ["", "10m"]


# --- PodDisruptionBudget -------------------------------------------------------------------


class TestPodDisruptionBudget:
    strategy = PodDisruptionBudgetStrategy()

    def pdb(self, name: str = "web", **spec: Any) -> dict[str, Any]:
        return {
            "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec},
        }

    def test_valid_and_no_defaults(self) -> None:
        obj = created(self.strategy, self.pdb(minAvailable="50%"))
        assert obj.spec.max_unavailable is None
        assert obj.spec.unhealthy_pod_eviction_policy is None
        assert created(self.strategy, self.pdb()).spec.min_available is None

    def test_not_both(self) -> None:
        _, errors = create(self.strategy, self.pdb(minAvailable=1, maxUnavailable=1))
        assert fields(errors) == ["spec"]
        assert messages(errors)[0].endswith(": minAvailable and maxUnavailable cannot be both set")

    def test_counts_and_percentages(self) -> None:
        _, errors = create(self.strategy, self.pdb(minAvailable=-1))
        assert messages(errors) == [
            "spec.minAvailable: Invalid value: -1: must be greater than or equal to 0"
        ]
        _, errors = create(self.strategy, self.pdb(maxUnavailable="150%"))
        assert messages(errors) == [
            "spec.maxUnavailable: Invalid value: "
            'intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: must not be greater than 100%'
        ]

    def test_selector_and_policy(self) -> None:
        body = self.pdb(unhealthyPodEvictionPolicy="Never")
        body["spec"]["selector"] = {"matchExpressions": [{"key": "app", "operator": "In"}]}
        _, errors = create(self.strategy, body)
        assert messages(errors) == [
            "spec.selector.matchExpressions[0].values: Required value: "
            "must be specified when `operator` is 'In' or 'NotIn'",
            'spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": '
            'supported values: "AlwaysAllow", "IfHealthyBudget"',
        ]

    def test_selector_may_change(self) -> None:
        old = created(self.strategy, self.pdb(minAvailable=1))
        new, errors = update(
            self.strategy, old, lambda w: w["spec"].update(selector={"matchLabels": {"x": "y"}})
        )
        assert errors == []
        assert new.spec.selector.match_labels == {"x": "y"}

    def test_names_are_dns_subdomains(self) -> None:
        # Issue 12: as every other kind's, no longer only path segments ("Web_PDB").
        assert create(self.strategy, self.pdb(name="web-pdb.v1"))[1] == []
        for bad in ("Web_PDB", "a/b", "a\x01b", "x" * 254):
            _, errors = create(self.strategy, self.pdb(name=bad))
            assert [e.field for e in errors] == ["metadata.name"], bad

    def test_status(self) -> None:
        old = created(self.strategy, self.pdb(minAvailable=1))
        status = {
            "disruptionsAllowed": -1,
            "conditions": [
                {"type": "DisruptionAllowed", "status": "Maybe", "reason": "bad reason"},
            ],
        }
        _, errors = status_update(self.strategy, old, status)
        assert messages(errors) == [
            'status.conditions[0].status: Unsupported value: "Maybe": '
            'supported values: "False", "True", "Unknown"',
            "status.conditions[0].lastTransitionTime: Required value: must be set",
            'status.conditions[0].reason: Invalid value: "bad reason": a condition reason must '
            "start with alphabetic character, optionally followed by a string of alphanumeric "
            "characters or '_,:', and must end with an alphanumeric character or '_' "
            "(e.g. 'my_name',  or 'MY_NAME',  or 'MyName',  or 'ReasonA,ReasonB',  or "
            "'ReasonA:ReasonB', regex used for validation is "
            "'[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?')",
            "status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0",
        ]

    def test_row(self) -> None:
        obj = created(self.strategy, self.pdb(minAvailable="50%"))
        assert self.strategy.row(obj) == ["50%", "N/A", 0, "10m"]
        obj.status = parse(self.strategy, {"status": {"disruptionsAllowed": 2}}).status
        obj.spec.min_available, obj.spec.max_unavailable = None, 1
        assert self.strategy.row(obj) == ["N/A", "1", 2, "10m"]


# --- tables ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("strategy", "body"),
    [
        (DeploymentStrategy(), deployment()),
        (ReplicaSetStrategy(), replica_set()),
        (DaemonSetStrategy(), daemon_set()),
        (StatefulSetStrategy(), stateful_set()),
        (ControllerRevisionStrategy(), {"metadata": {"name": "r"}, "data": {}, "revision": 1}),
        (JobStrategy(), job()),
        (CronJobStrategy(), cron_job()),
        (LeaseStrategy(), {"metadata": {"name": "l"}, "spec": {}}),
        (PodDisruptionBudgetStrategy(), {"metadata": {"name": "p"}, "spec": {}}),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Strategy) else "",
)
def test_table_rows_fit_their_columns(strategy: Strategy, body: dict[str, Any]) -> None:
    obj = created(strategy, body)
    result = table(strategy, [obj.to_dict()])
    width = len(result["columnDefinitions"])
    assert width == len(strategy.columns) + 1
    assert [len(row["cells"]) for row in result["rows"]] == [width]
    names = [c["name"] for c in result["columnDefinitions"]]
    assert "Age" in names
    wide = [c["name"] for c in result["columnDefinitions"] if c["priority"] == 1]
    assert wide == [c.name for c in strategy.columns if c.priority == 1]
