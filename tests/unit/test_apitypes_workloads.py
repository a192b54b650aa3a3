"""Workload API types: apps/v1, batch/v1, coordination/v1, autoscaling/v1, policy/v1.

Realistic manifests must survive dict -> model -> dict unchanged, wire names must be
Kubernetes' own (checked against the official Python client's models, which are
generated from Kubernetes' OpenAPI document), and patch metadata must say what the
Go struct tags say.
"""

from __future__ import annotations

import copy
import inspect
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest
from kubernetes.client import models as client_models
from pydantic import BaseModel, ValidationError

from apitypes import apps, autoscaling, batch, coordination, policy
from apitypes.apps import (
    ControllerRevision,
    DaemonSet,
    DaemonSetStatus,
    DaemonSetUpdateStrategy,
    Deployment,
    DeploymentSpec,
    DeploymentStatus,
    ReplicaSet,
    ReplicaSetStatus,
    RollingUpdateDeployment,
    StatefulSet,
    StatefulSetSpec,
    StatefulSetStatus,
)
from apitypes.autoscaling import Scale
from apitypes.base import (
    LIST_MAP_KEYS,
    LIST_TYPE,
    PATCH_MERGE_KEY,
    PATCH_STRATEGY,
    KubeObject,
)
from apitypes.batch import (
    CronJob,
    CronJobStatus,
    Job,
    JobStatus,
    PodFailurePolicyOnExitCodesRequirement,
    UncountedTerminatedPods,
)
from apitypes.coordination import Lease
from apitypes.policy import Eviction, PodDisruptionBudget, PodDisruptionBudgetSpec

MODULES: tuple[ModuleType, ...] = (apps, autoscaling, batch, coordination, policy)


def _template(app: str) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": app}},
        "spec": {
            "containers": [
                {
                    "name": app,
                    "image": f"registry.local/{app}:1.25",
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                }
            ],
            "terminationGracePeriodSeconds": 30,
        },
    }


DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "web",
        "namespace": "default",
        "uid": "2b6b6c54-9f4e-4a55-8d63-0d2b3f1c1a10",
        "resourceVersion": "1842",
        "generation": 3,
        "creationTimestamp": "2024-05-01T09:58:12Z",
        "labels": {"app": "web"},
        "annotations": {"deployment.kubernetes.io/revision": "2"},
    },
    "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "web"}},
        "template": _template("web"),
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"},
        },
        "minReadySeconds": 5,
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
    },
    "status": {
        "observedGeneration": 3,
        "replicas": 3,
        "updatedReplicas": 3,
        "readyReplicas": 2,
        "availableReplicas": 2,
        "unavailableReplicas": 1,
        "terminatingReplicas": 0,
        "conditions": [
            {
                "type": "Available",
                "status": "True",
                "lastUpdateTime": "2024-05-01T10:00:03Z",
                "lastTransitionTime": "2024-05-01T10:00:03Z",
                "reason": "MinimumReplicasAvailable",
                "message": "Deployment has minimum availability.",
            },
            {
                "type": "Progressing",
                "status": "True",
                "lastUpdateTime": "2024-05-01T10:01:40Z",
                "lastTransitionTime": "2024-05-01T09:58:12Z",
                "reason": "NewReplicaSetAvailable",
                "message": 'ReplicaSet "web-5d78c9b8f7" has successfully progressed.',
            },
        ],
    },
}

REPLICASET: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "ReplicaSet",
    "metadata": {
        "name": "web-5d78c9b8f7",
        "namespace": "default",
        "labels": {"app": "web", "pod-template-hash": "5d78c9b8f7"},
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": "web",
                "uid": "2b6b6c54-9f4e-4a55-8d63-0d2b3f1c1a10",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
    },
    "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "web", "pod-template-hash": "5d78c9b8f7"}},
        "template": _template("web"),
    },
    "status": {
        "replicas": 3,
        "fullyLabeledReplicas": 3,
        "readyReplicas": 3,
        "availableReplicas": 3,
        "observedGeneration": 1,
        "conditions": [
            {
                "type": "ReplicaFailure",
                "status": "False",
                "lastTransitionTime": "2024-05-01T10:00:00Z",
            }
        ],
    },
}

STATEFULSET: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "StatefulSet",
    "metadata": {"name": "db", "namespace": "data", "generation": 2},
    "spec": {
        "replicas": 3,
        "selector": {
            "matchLabels": {"app": "db"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["backend"]}],
        },
        "template": _template("db"),
        "volumeClaimTemplates": [
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "data", "labels": {"app": "db"}},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": "hostpath",
                    "resources": {"requests": {"storage": "1Gi"}},
                    "volumeMode": "Filesystem",
                },
            }
        ],
        "serviceName": "db",
        "podManagementPolicy": "Parallel",
        "updateStrategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"partition": 1, "maxUnavailable": "50%"},
        },
        "revisionHistoryLimit": 5,
        "minReadySeconds": 10,
        "persistentVolumeClaimRetentionPolicy": {
            "whenDeleted": "Delete",
            "whenScaled": "Retain",
        },
        # Kubernetes always writes start, even when it is 0.
        "ordinals": {"start": 0},
    },
    "status": {
        "observedGeneration": 2,
        "replicas": 3,
        "readyReplicas": 3,
        "currentReplicas": 2,
        "updatedReplicas": 1,
        "currentRevision": "db-6c9f8d7b5",
        "updateRevision": "db-7f6d5c4b3",
        "collisionCount": 0,
        "availableReplicas": 3,
    },
}

DAEMONSET: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "node-agent", "namespace": "kube-system"},
    "spec": {
        "selector": {"matchLabels": {"app": "node-agent"}},
        "template": _template("node-agent"),
        "updateStrategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
        },
        "revisionHistoryLimit": 10,
    },
    "status": {
        # The four scheduling counters are always written, zeros included.
        "currentNumberScheduled": 3,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 3,
        "numberReady": 0,
        "observedGeneration": 1,
        "updatedNumberScheduled": 3,
        "numberUnavailable": 3,
    },
}

CONTROLLER_REVISION: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "ControllerRevision",
    "metadata": {
        "name": "node-agent-6f7b9c5d4",
        "namespace": "kube-system",
        "labels": {"controller-revision-hash": "6f7b9c5d4"},
    },
    "data": {"spec": {"template": {"$patch": "replace", **_template("node-agent")}}},
    "revision": 1,
}

JOB: dict[str, Any] = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "pi", "namespace": "default", "labels": {"app": "pi"}},
    "spec": {
        "parallelism": 2,
        "completions": 4,
        "activeDeadlineSeconds": 600,
        "podFailurePolicy": {
            "rules": [
                {
                    "action": "FailJob",
                    "onExitCodes": {"containerName": "pi", "operator": "In", "values": [42]},
                },
                {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
            ]
        },
        "successPolicy": {"rules": [{"succeededIndexes": "0-2", "succeededCount": 2}]},
        "backoffLimit": 6,
        "backoffLimitPerIndex": 1,
        "maxFailedIndexes": 2,
        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "a1b2"}},
        "manualSelector": False,
        "template": {
            "metadata": {"labels": {"batch.kubernetes.io/controller-uid": "a1b2"}},
            "spec": {
                "containers": [{"name": "pi", "image": "perl:5.34", "command": ["perl", "-e"]}],
                "restartPolicy": "Never",
            },
        },
        "ttlSecondsAfterFinished": 100,
        "completionMode": "Indexed",
        "suspend": False,
        "podReplacementPolicy": "Failed",
        "managedBy": "kubernetes.io/job-controller",
    },
    "status": {
        "conditions": [
            {
                "type": "Complete",
                "status": "True",
                "lastProbeTime": "2024-05-01T10:05:00Z",
                "lastTransitionTime": "2024-05-01T10:05:00Z",
                "reason": "CompletionsReached",
                "message": "Reached expected number of succeeded pods",
            }
        ],
        "startTime": "2024-05-01T10:00:00Z",
        "completionTime": "2024-05-01T10:05:00Z",
        "active": 0,
        "succeeded": 4,
        "failed": 1,
        "terminating": 0,
        "ready": 0,
        "completedIndexes": "0-3",
        "failedIndexes": "",
        "uncountedTerminatedPods": {"succeeded": ["uid-1", "uid-2"], "failed": ["uid-3"]},
    },
}

CRONJOB: dict[str, Any] = {
    "apiVersion": "batch/v1",
    "kind": "CronJob",
    "metadata": {"name": "report", "namespace": "default"},
    "spec": {
        "schedule": "30 2 * * *",
        "timeZone": "Europe/Paris",
        "startingDeadlineSeconds": 200,
        "concurrencyPolicy": "Forbid",
        "suspend": False,
        "jobTemplate": {
            "metadata": {"labels": {"app": "report"}},
            "spec": {
                "backoffLimit": 2,
                "template": {
                    "spec": {
                        "containers": [{"name": "report", "image": "busybox:1.36"}],
                        "restartPolicy": "OnFailure",
                    }
                },
            },
        },
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 1,
    },
    "status": {
        "active": [
            {
                "kind": "Job",
                "namespace": "default",
                "name": "report-28573590",
                "uid": "5c0a4b0e-1c1e-4f0d-9a57-3b1f1e7d2c11",
                "apiVersion": "batch/v1",
                "resourceVersion": "9911",
            }
        ],
        "lastScheduleTime": "2024-05-01T02:30:00Z",
        "lastSuccessfulTime": "2024-04-30T02:30:41Z",
    },
}

LEASE: dict[str, Any] = {
    "apiVersion": "coordination.k8s.io/v1",
    "kind": "Lease",
    "metadata": {"name": "node-1", "namespace": "kube-node-lease"},
    "spec": {
        "holderIdentity": "node-1",
        "leaseDurationSeconds": 40,
        "acquireTime": "2024-05-01T10:00:00.123456Z",
        "renewTime": "2024-05-01T10:00:30.000001Z",
        "leaseTransitions": 0,
        "strategy": "OldestEmulationVersion",
        "preferredHolder": "node-2",
    },
}

SCALE: dict[str, Any] = {
    "apiVersion": "autoscaling/v1",
    "kind": "Scale",
    "metadata": {"name": "web", "namespace": "default", "resourceVersion": "1842"},
    "spec": {"replicas": 5},
    "status": {"replicas": 3, "selector": "app=web,tier in (frontend)"},
}

EVICTION: dict[str, Any] = {
    "apiVersion": "policy/v1",
    "kind": "Eviction",
    "metadata": {"name": "web-5d78c9b8f7-x2x9k", "namespace": "default"},
    "deleteOptions": {
        "apiVersion": "v1",
        "kind": "DeleteOptions",
        "gracePeriodSeconds": 30,
        "preconditions": {"uid": "8d3c2b1a-0000-4000-8000-000000000001"},
        "dryRun": ["All"],
    },
}

PDB: dict[str, Any] = {
    "apiVersion": "policy/v1",
    "kind": "PodDisruptionBudget",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {
        "minAvailable": "50%",
        "selector": {"matchLabels": {"app": "web"}},
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    },
    "status": {
        "observedGeneration": 1,
        "disruptedPods": {"web-5d78c9b8f7-x2x9k": "2024-05-01T10:02:00Z"},
        "disruptionsAllowed": 0,
        "currentHealthy": 2,
        "desiredHealthy": 2,
        "expectedPods": 3,
        "conditions": [
            {
                "type": "DisruptionAllowed",
                "status": "False",
                "observedGeneration": 1,
                "lastTransitionTime": "2024-05-01T10:02:00Z",
                "reason": "InsufficientPods",
                "message": "",
            }
        ],
    },
}

ROUND_TRIPS: list[tuple[type[KubeObject], dict[str, Any]]] = [
    (Deployment, DEPLOYMENT),
    (ReplicaSet, REPLICASET),
    (StatefulSet, STATEFULSET),
    (DaemonSet, DAEMONSET),
    (ControllerRevision, CONTROLLER_REVISION),
    (Job, JOB),
    (CronJob, CRONJOB),
    (Lease, LEASE),
    (Scale, SCALE),
    (Eviction, EVICTION),
    (PodDisruptionBudget, PDB),
]


@pytest.mark.parametrize(("model", "manifest"), ROUND_TRIPS, ids=lambda v: getattr(v, "KIND", ""))
def test_manifest_round_trips_unchanged(model: type[KubeObject], manifest: dict[str, Any]) -> None:
    original = copy.deepcopy(manifest)
    obj = model.from_dict(manifest)
    assert obj.to_dict() == original
    # Parsing twice is stable too (what the server does on every read-modify-write).
    assert model.from_dict(obj.to_dict()).to_dict() == original


@pytest.mark.parametrize(("model", "manifest"), ROUND_TRIPS, ids=lambda v: getattr(v, "KIND", ""))
def test_top_level_kinds_declare_group_version_and_kind(
    model: type[KubeObject], manifest: dict[str, Any]
) -> None:
    assert (manifest["apiVersion"], manifest["kind"]) == (model.API_VERSION, model.KIND)
    # A body that arrives without type metadata is written out with it.
    bare = {k: v for k, v in copy.deepcopy(manifest).items() if k not in ("apiVersion", "kind")}
    body = model.from_dict(bare).to_dict()
    assert (body["apiVersion"], body["kind"]) == (manifest["apiVersion"], manifest["kind"])


def test_empty_objects_carry_only_type_meta() -> None:
    assert Deployment().to_dict() == {"apiVersion": "apps/v1", "kind": "Deployment"}
    assert Lease().to_dict() == {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease"}


# --- IntOrString -------------------------------------------------------------------------


def test_rolling_update_keeps_percentages_as_strings_and_counts_as_ints() -> None:
    deployment = Deployment.from_dict(copy.deepcopy(DEPLOYMENT))
    assert deployment.spec is not None and deployment.spec.strategy is not None
    rolling = deployment.spec.strategy.rolling_update
    assert rolling is not None
    assert rolling.max_surge == "25%" and isinstance(rolling.max_surge, str)
    assert rolling.max_unavailable == 1 and isinstance(rolling.max_unavailable, int)
    wire = deployment.to_dict()["spec"]["strategy"]["rollingUpdate"]
    assert type(wire["maxSurge"]) is str
    assert type(wire["maxUnavailable"]) is int


@pytest.mark.parametrize("value", [0, 1, 7, "0%", "25%", "100%", "1"])
def test_int_or_string_values_keep_their_type(value: int | str) -> None:
    rolling = RollingUpdateDeployment.from_dict({"maxSurge": value})
    assert rolling.max_surge == value
    assert type(rolling.max_surge) is type(value)
    assert rolling.to_dict() == {"maxSurge": value}


def test_int_or_string_rejects_booleans() -> None:
    with pytest.raises(ValidationError):
        PodDisruptionBudgetSpec.from_dict({"minAvailable": True})


def test_zero_int_or_string_is_kept_not_dropped_as_unset() -> None:
    strategy = DaemonSetUpdateStrategy.from_dict({"rollingUpdate": {"maxSurge": 0}})
    assert strategy.to_dict() == {"rollingUpdate": {"maxSurge": 0}}


# --- time ---------------------------------------------------------------------------------


def test_lease_times_are_microsecond_precise() -> None:
    lease = Lease.from_dict(copy.deepcopy(LEASE))
    assert lease.spec is not None
    assert lease.spec.acquire_time == datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert lease.spec.renew_time is not None
    assert lease.spec.renew_time - lease.spec.acquire_time == (
        datetime(2024, 5, 1, 10, 0, 30, 1, tzinfo=UTC)
        - datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
    )


def test_lease_renew_time_written_from_python_has_six_fraction_digits() -> None:
    lease = Lease.model_validate(
        {"spec": {"renewTime": datetime(2024, 5, 1, 10, 0, 30, 500000, tzinfo=UTC)}}
    )
    assert lease.to_dict()["spec"]["renewTime"] == "2024-05-01T10:00:30.500000Z"


def test_job_times_are_second_precise() -> None:
    status = JobStatus.from_dict({"startTime": "2024-05-01T10:00:00.987654Z"})
    assert status.to_dict() == {"startTime": "2024-05-01T10:00:00Z"}


def test_disrupted_pods_map_values_are_times() -> None:
    pdb = PodDisruptionBudget.from_dict(copy.deepcopy(PDB))
    assert pdb.status is not None
    assert pdb.status.disrupted_pods["web-5d78c9b8f7-x2x9k"] == datetime(
        2024, 5, 1, 10, 2, tzinfo=UTC
    )


# --- shapes -------------------------------------------------------------------------------


def test_statefulset_volume_claim_templates_are_kept_verbatim() -> None:
    sts = StatefulSet.from_dict(copy.deepcopy(STATEFULSET))
    assert sts.spec is not None
    [claim] = sts.spec.volume_claim_templates
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["resources"]["requests"]["storage"] == "1Gi"
    assert sts.spec.ordinals is not None and sts.spec.ordinals.start == 0
    assert sts.spec.update_strategy is not None
    rolling = sts.spec.update_strategy.rolling_update
    assert rolling is not None
    assert (rolling.partition, rolling.max_unavailable) == (1, "50%")


def test_cronjob_parses_nested_job_template_and_active_references() -> None:
    cron = CronJob.from_dict(copy.deepcopy(CRONJOB))
    assert cron.spec is not None and cron.status is not None
    assert cron.spec.time_zone == "Europe/Paris"
    assert cron.spec.job_template.metadata.labels == {"app": "report"}
    assert cron.spec.job_template.spec is not None
    assert cron.spec.job_template.spec.backoff_limit == 2
    [ref] = cron.status.active
    assert (ref.kind, ref.name, ref.api_version) == ("Job", "report-28573590", "batch/v1")


def test_job_failure_policy_and_uncounted_pods() -> None:
    job = Job.from_dict(copy.deepcopy(JOB))
    assert job.spec is not None and job.status is not None
    assert job.spec.pod_failure_policy is not None
    first, second = job.spec.pod_failure_policy.rules
    assert first.on_exit_codes is not None and first.on_exit_codes.values == [42]
    assert second.on_pod_conditions[0].type == "DisruptionTarget"
    assert second.on_pod_conditions[0].status is None
    assert job.status.uncounted_terminated_pods == UncountedTerminatedPods(
        succeeded=["uid-1", "uid-2"], failed=["uid-3"]
    )
    # An empty failedIndexes string is a value (no index failed), not "unset".
    assert job.status.failed_indexes == ""
    assert job.to_dict()["status"]["failedIndexes"] == ""


def test_scale_selector_is_a_string() -> None:
    scale = Scale.from_dict(copy.deepcopy(SCALE))
    assert scale.status is not None
    assert scale.status.selector == "app=web,tier in (frontend)"
    with pytest.raises(ValidationError):
        Scale.from_dict({"status": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}}}})


def test_eviction_carries_delete_options() -> None:
    eviction = Eviction.from_dict(copy.deepcopy(EVICTION))
    assert eviction.metadata.name == "web-5d78c9b8f7-x2x9k"
    assert eviction.delete_options is not None
    assert eviction.delete_options.grace_period_seconds == 30
    assert eviction.delete_options.preconditions is not None
    assert eviction.delete_options.preconditions.uid == "8d3c2b1a-0000-4000-8000-000000000001"


def test_eviction_from_kubectl_drain_round_trips() -> None:
    # kubectl drain and the Python client send deleteOptions without apiVersion/kind.
    body = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": "web-0", "namespace": "default"},
        "deleteOptions": {"gracePeriodSeconds": 0},
    }
    assert Eviction.from_dict(copy.deepcopy(body)).to_dict() == body


def test_controller_revision_keeps_raw_data() -> None:
    revision = ControllerRevision.from_dict(copy.deepcopy(CONTROLLER_REVISION))
    assert revision.data["spec"]["template"]["$patch"] == "replace"
    assert revision.revision == 1


def test_models_build_from_python_names() -> None:
    deployment = Deployment.model_validate(
        {
            "metadata": {"name": "web"},
            "spec": DeploymentSpec.model_validate(
                {
                    "replicas": 2,
                    "selector": {"match_labels": {"app": "web"}},
                    "template": _template("web"),
                    "progress_deadline_seconds": 60,
                }
            ),
        }
    )
    spec = deployment.to_dict()["spec"]
    assert spec["progressDeadlineSeconds"] == 60
    assert spec["selector"] == {"matchLabels": {"app": "web"}}


# --- required fields ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (DeploymentSpec, {"template": {}}),  # no selector
        (DeploymentSpec, {"selector": {}}),  # no template
        (StatefulSetSpec, {"selector": {}}),
        (ReplicaSetStatus, {"readyReplicas": 1}),
        (StatefulSetStatus, {"readyReplicas": 1}),
        (DaemonSetStatus, {"currentNumberScheduled": 1, "desiredNumberScheduled": 1}),
        (PodFailurePolicyOnExitCodesRequirement, {"operator": "In"}),
        (batch.CronJobSpec, {"schedule": "* * * * *"}),
        (batch.JobCondition, {"type": "Complete"}),
        (autoscaling.ScaleStatus, {"selector": "a=b"}),
        (ControllerRevision, {"revision": 1}),
    ],
)
def test_fields_kubernetes_requires_are_required(
    model: type[BaseModel], data: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(data)


def test_always_written_counters_serialise_zero() -> None:
    status = DaemonSetStatus(
        current_number_scheduled=0,
        number_misscheduled=0,
        desired_number_scheduled=0,
        number_ready=0,
    )
    assert status.to_dict() == {
        "currentNumberScheduled": 0,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 0,
        "numberReady": 0,
    }
    assert ReplicaSetStatus(replicas=0).to_dict() == {"replicas": 0}


def test_deployment_status_may_be_empty() -> None:
    assert DeploymentStatus.from_dict({}).to_dict() == {}


# --- wire names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "field", "wire"),
    [
        (batch.JobSpec, "ttl_seconds_after_finished", "ttlSecondsAfterFinished"),
        (batch.JobSpec, "backoff_limit_per_index", "backoffLimitPerIndex"),
        (batch.JobSpec, "pod_replacement_policy", "podReplacementPolicy"),
        (batch.JobStatus, "uncounted_terminated_pods", "uncountedTerminatedPods"),
        (batch.CronJobSpec, "time_zone", "timeZone"),
        (batch.CronJobSpec, "successful_jobs_history_limit", "successfulJobsHistoryLimit"),
        (batch.CronJobSpec, "job_template", "jobTemplate"),
        (DaemonSetStatus, "number_misscheduled", "numberMisscheduled"),
        (ReplicaSetStatus, "fully_labeled_replicas", "fullyLabeledReplicas"),
        (
            StatefulSetSpec,
            "persistent_volume_claim_retention_policy",
            "persistentVolumeClaimRetentionPolicy",
        ),
        (StatefulSetSpec, "volume_claim_templates", "volumeClaimTemplates"),
        (coordination.LeaseSpec, "lease_duration_seconds", "leaseDurationSeconds"),
        (coordination.LeaseSpec, "holder_identity", "holderIdentity"),
        (PodDisruptionBudgetSpec, "unhealthy_pod_eviction_policy", "unhealthyPodEvictionPolicy"),
        (Eviction, "delete_options", "deleteOptions"),
    ],
)
def test_tricky_wire_names(model: type[BaseModel], field: str, wire: str) -> None:
    assert model.model_fields[field].alias == wire


def _public_models() -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    for module in MODULES:
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
                and not name.startswith("_")
            ):
                found.append(value)
    return found


@pytest.mark.parametrize("model", _public_models(), ids=lambda m: m.__name__)
def test_wire_names_match_the_official_client(model: type[BaseModel]) -> None:
    # The official client's models are generated from Kubernetes' OpenAPI document:
    # the same set of JSON names means no field is misspelt, missing or invented.
    theirs = getattr(client_models, "V1" + model.__name__)
    ours = {field.alias for field in model.model_fields.values()}
    assert ours == set(theirs.attribute_map.values())


@pytest.mark.parametrize("model", _public_models(), ids=lambda m: m.__name__)
def test_required_fields_match_the_official_client(model: type[BaseModel]) -> None:
    # What the generated client refuses to build without is what Kubernetes always
    # writes; everything else must stay optional so partial bodies still parse. The one
    # deliberate difference: top-level ``spec`` stays optional, as every kind's does here.
    theirs = getattr(client_models, "V1" + model.__name__)
    their_required = {
        theirs.attribute_map[name]
        for name, field in theirs.model_fields.items()
        if field.is_required()
    }
    if issubclass(model, KubeObject):
        their_required.discard("spec")
    ours = {field.alias for field in model.model_fields.values() if field.is_required()}
    assert ours == their_required


# --- patch metadata -----------------------------------------------------------------------


def _extra(model: type[BaseModel], field: str) -> dict[str, Any]:
    extra = model.model_fields[field].json_schema_extra
    assert extra is None or isinstance(extra, dict)
    return dict(extra or {})


MERGE_BY_TYPE = {
    PATCH_STRATEGY: "merge",
    PATCH_MERGE_KEY: "type",
    LIST_TYPE: "map",
    LIST_MAP_KEYS: ["type"],
}


@pytest.mark.parametrize(
    "model",
    [
        DeploymentStatus,
        ReplicaSetStatus,
        DaemonSetStatus,
        StatefulSetStatus,
        policy.PodDisruptionBudgetStatus,
    ],
    ids=lambda m: m.__name__,
)
def test_status_conditions_merge_by_type(model: type[BaseModel]) -> None:
    assert _extra(model, "conditions") == MERGE_BY_TYPE


def test_job_conditions_merge_by_type_but_are_atomic_for_apply() -> None:
    assert _extra(JobStatus, "conditions") == {
        PATCH_STRATEGY: "merge",
        PATCH_MERGE_KEY: "type",
        LIST_TYPE: "atomic",
    }


def test_deployment_strategy_is_patched_with_retain_keys() -> None:
    assert _extra(DeploymentSpec, "strategy") == {PATCH_STRATEGY: "retainKeys"}
    # Kubernetes gives the other workloads' update strategies no such tag.
    assert _extra(apps.DaemonSetSpec, "update_strategy") == {}
    assert _extra(StatefulSetSpec, "update_strategy") == {}


def test_pdb_selector_is_replaced_whole_by_a_patch() -> None:
    assert _extra(PodDisruptionBudgetSpec, "selector") == {PATCH_STRATEGY: "replace"}


@pytest.mark.parametrize(
    ("model", "field"),
    [
        (UncountedTerminatedPods, "succeeded"),
        (UncountedTerminatedPods, "failed"),
        (PodFailurePolicyOnExitCodesRequirement, "values"),
    ],
)
def test_set_lists_have_no_patch_strategy(model: type[BaseModel], field: str) -> None:
    assert _extra(model, field) == {LIST_TYPE: "set"}


@pytest.mark.parametrize(
    ("model", "field"),
    [
        (StatefulSetSpec, "volume_claim_templates"),
        (CronJobStatus, "active"),
        (batch.PodFailurePolicy, "rules"),
        (batch.PodFailurePolicyRule, "on_pod_conditions"),
        (batch.SuccessPolicy, "rules"),
        (DeploymentSpec, "selector"),
        (batch.JobSpec, "selector"),
    ],
)
def test_fields_without_patch_tags_carry_no_patch_metadata(
    model: type[BaseModel], field: str
) -> None:
    assert PATCH_STRATEGY not in _extra(model, field)


def test_every_patch_strategy_in_these_modules_is_accounted_for() -> None:
    # The complete list of patchStrategy tags in the Go sources of these five groups.
    expected = {
        ("DeploymentSpec", "strategy"): "retainKeys",
        ("DeploymentStatus", "conditions"): "merge",
        ("ReplicaSetStatus", "conditions"): "merge",
        ("DaemonSetStatus", "conditions"): "merge",
        ("StatefulSetStatus", "conditions"): "merge",
        ("JobStatus", "conditions"): "merge",
        ("PodDisruptionBudgetSpec", "selector"): "replace",
        ("PodDisruptionBudgetStatus", "conditions"): "merge",
    }
    found = {
        (model.__name__, name): extra[PATCH_STRATEGY]
        for model in _public_models()
        for name in model.model_fields
        if PATCH_STRATEGY in (extra := _extra(model, name))
    }
    assert found == expected


def test_status_condition_update_is_a_keyed_merge_in_practice() -> None:
    # The patch engine reads the merge key from the field metadata; make sure the key
    # names a field every condition item carries on the wire.
    status = StatefulSetStatus.from_dict(
        {"replicas": 1, "conditions": [{"type": "Progressing", "status": "True"}]}
    )
    key = _extra(StatefulSetStatus, "conditions")[PATCH_MERGE_KEY]
    assert [c[key] for c in status.to_dict()["conditions"]] == ["Progressing"]
