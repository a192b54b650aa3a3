"""Tests for apiserver.kinds.podspec: pod spec defaults, validation, updates and QoS."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.kinds.podspec import (
    default_pod_spec,
    default_pod_template_spec,
    default_resource_list,
    image_pull_policy_for,
    validate_pod_spec,
    validate_pod_spec_update,
    validate_pod_template_spec,
    validate_tolerations,
)
from apitypes.core import PodSpec, PodTemplateSpec, Toleration
from apitypes.resources import pod_qos_class
from apitypes.validation import FieldPath

SPEC = FieldPath("spec")


def spec_of(body: dict[str, Any], *, pod: bool = True) -> PodSpec:
    spec = PodSpec.model_validate(body)
    default_pod_spec(spec, pod=pod)
    return spec


def one_container(**extra: Any) -> dict[str, Any]:
    return {"containers": [{"name": "app", "image": "nginx:1.25", **extra}]}


def messages(spec: PodSpec, *, is_template: bool = False) -> list[str]:
    return [err.message() for err in validate_pod_spec(spec, SPEC, is_template=is_template)]


# --- defaults ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.25", "IfNotPresent"),
        ("registry.local:5000/team/app", "Always"),
        ("registry.local:5000/team/app:v2", "IfNotPresent"),
        ("app@sha256:" + "a" * 64, "IfNotPresent"),
        ("app:latest@sha256:" + "a" * 64, "Always"),
        ("Not/A/Valid:Image", "IfNotPresent"),
        ("", "IfNotPresent"),
    ],
)
def test_image_pull_policy_follows_the_tag(image: str, policy: str) -> None:
    assert image_pull_policy_for(image) == policy


def test_pod_spec_defaults_for_every_pod_spec() -> None:
    spec = spec_of(
        {
            "containers": [
                {
                    "name": "app",
                    "image": "nginx",
                    "ports": [{"containerPort": 80}],
                    "readinessProbe": {"httpGet": {"port": 8080}},
                    "livenessProbe": {"grpc": {"port": 9000}},
                    "env": [
                        {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                        {
                            "name": "CPU",
                            "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}},
                        },
                    ],
                }
            ],
            "volumes": [
                {"name": "cfg", "configMap": {"name": "cm"}},
                {"name": "sec", "secret": {"secretName": "s"}},
                {"name": "host", "hostPath": {"path": "/var/log"}},
                {
                    "name": "info",
                    "downwardAPI": {
                        "items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]
                    },
                },
                {
                    "name": "token",
                    "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]},
                },
                {"name": "scratch"},
            ],
        },
        pod=False,
    )
    wire = spec.to_dict()
    assert wire["restartPolicy"] == "Always"
    assert wire["dnsPolicy"] == "ClusterFirst"
    assert wire["schedulerName"] == "default-scheduler"
    assert wire["terminationGracePeriodSeconds"] == 30
    assert wire["securityContext"] == {}
    container = wire["containers"][0]
    assert container["imagePullPolicy"] == "Always"
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["terminationMessagePolicy"] == "File"
    assert container["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert container["resources"] == {}
    assert container["readinessProbe"] == {
        "httpGet": {"path": "/", "port": 8080, "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert container["livenessProbe"]["grpc"] == {"port": 9000, "service": ""}
    assert container["env"][0]["valueFrom"]["fieldRef"]["apiVersion"] == "v1"
    assert container["env"][1]["valueFrom"]["resourceFieldRef"]["divisor"] == "0"
    volumes = {volume["name"]: volume for volume in wire["volumes"]}
    assert volumes["cfg"]["configMap"]["defaultMode"] == 420
    assert volumes["sec"]["secret"]["defaultMode"] == 420
    assert volumes["host"]["hostPath"] == {"path": "/var/log", "type": ""}
    assert volumes["info"]["downwardAPI"]["defaultMode"] == 420
    assert volumes["info"]["downwardAPI"]["items"][0]["fieldRef"]["apiVersion"] == "v1"
    assert volumes["token"]["projected"]["defaultMode"] == 420
    assert (
        volumes["token"]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"]
        == 3600
    )
    assert volumes["scratch"]["emptyDir"] == {}
    # Template-level defaults leave the pod-only ones out.
    assert "enableServiceLinks" not in wire
    assert "serviceAccountName" not in wire


def test_pod_only_defaults() -> None:
    spec = spec_of(
        {
            "hostNetwork": True,
            "containers": [
                {
                    "name": "app",
                    "image": "nginx",
                    "ports": [{"containerPort": 8080}],
                    "resources": {
                        "limits": {"cpu": "1", "memory": "1Gi"},
                        "requests": {"cpu": "500m"},
                    },
                }
            ],
        }
    )
    container = spec.containers[0]
    assert container.resources is not None
    assert container.resources.requests == {"cpu": "500m", "memory": "1Gi"}
    assert container.ports[0].host_port == 8080
    assert spec.enable_service_links is True
    assert spec.service_account_name == "default"
    assert spec.service_account == "default"


def test_deprecated_service_account_fills_the_name() -> None:
    spec = spec_of({"serviceAccount": "builder", **one_container()})
    assert spec.service_account_name == "builder"


def test_resource_lists_round_up_to_millis_and_print_canonically() -> None:
    resources = {"cpu": "0.1m", "memory": "1024Mi", "other": "1000m", "bad": "lots"}
    default_resource_list(resources)
    assert resources == {"cpu": "1m", "memory": "1Gi", "other": "1", "bad": "lots"}


def test_template_defaults_make_a_spec() -> None:
    template = PodTemplateSpec.model_validate({"metadata": {"labels": {"a": "b"}}})
    default_pod_template_spec(template)
    assert template.spec is not None
    assert template.spec.restart_policy == "Always"


def test_defaults_are_idempotent() -> None:
    spec = spec_of(one_container(resources={"limits": {"cpu": "250m"}}))
    before = spec.to_dict()
    default_pod_spec(spec, pod=True)
    assert spec.to_dict() == before


# --- validation -------------------------------------------------------------------------


def test_a_valid_spec_has_no_errors() -> None:
    assert messages(spec_of(one_container(ports=[{"containerPort": 80, "name": "http"}]))) == []


def test_containers_are_required() -> None:
    assert messages(spec_of({})) == ["spec.containers: Required value"]


def test_container_names_and_images() -> None:
    spec = spec_of(
        {
            "initContainers": [{"name": "app", "image": "busybox"}],
            "containers": [{"name": "app", "image": "nginx"}, {"name": "Bad_Name", "image": ""}],
        }
    )
    errs = messages(spec)
    assert "spec.containers[1].image: Required value" in errs
    assert any(
        e.startswith(
            'spec.containers[1].name: Invalid value: "Bad_Name": a lowercase RFC 1123 label'
        )
        for e in errs
    )
    assert 'spec.initContainers[0].name: Duplicate value: "app"' in errs


def test_image_is_required_in_templates_too_but_whitespace_only_in_pods() -> None:
    spec = spec_of({"containers": [{"name": "a", "image": " nginx "}, {"name": "b"}]}, pod=False)
    template_errs = messages(spec, is_template=True)
    assert template_errs == ["spec.containers[1].image: Required value"]
    pod_errs = messages(spec)
    assert (
        'spec.containers[0].image: Invalid value: " nginx ": must not have leading or trailing whitespace'
        in pod_errs
    )


def test_ports() -> None:
    spec = spec_of(
        one_container(
            ports=[
                {"containerPort": 0, "name": "web"},
                {"containerPort": 70000, "name": "web", "protocol": "HTTP", "hostPort": 99999},
                {"containerPort": 80, "name": "Not_Valid"},
            ]
        )
    )
    errs = messages(spec)
    assert "spec.containers[0].ports[0].containerPort: Required value" in errs
    assert 'spec.containers[0].ports[1].name: Duplicate value: "web"' in errs
    assert (
        "spec.containers[0].ports[1].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"
        in errs
    )
    assert (
        "spec.containers[0].ports[1].hostPort: Invalid value: 99999: must be between 1 and 65535, inclusive"
        in errs
    )
    assert (
        'spec.containers[0].ports[1].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"'
        in errs
    )
    assert (
        'spec.containers[0].ports[2].name: Invalid value: "Not_Valid": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'
        in errs
    )


def test_host_port_conflicts() -> None:
    spec = spec_of(
        {
            "containers": [
                {"name": "a", "image": "x", "ports": [{"containerPort": 80, "hostPort": 8080}]},
                {"name": "b", "image": "x", "ports": [{"containerPort": 81, "hostPort": 8080}]},
            ]
        }
    )
    assert messages(spec) == ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"']


def test_env_and_env_from() -> None:
    spec = spec_of(
        one_container(
            env=[
                {"name": "1BAD"},
                {"name": "NONE", "valueFrom": {}},
                {
                    "name": "BOTH",
                    "value": "x",
                    "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}},
                },
                {"name": "FIELD", "valueFrom": {"fieldRef": {"fieldPath": "status.phase"}}},
                {
                    "name": "LABEL",
                    "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}},
                },
            ],
            envFrom=[{"prefix": "OK_"}],
        )
    )
    errs = messages(spec)
    assert any(
        e.startswith(
            'spec.containers[0].env[0].name: Invalid value: "1BAD": a valid environment variable name'
        )
        for e in errs
    )
    assert (
        'spec.containers[0].env[1].valueFrom: Invalid value: "": must specify one of: `fieldRef`, '
        "`resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`" in errs
    )
    assert (
        'spec.containers[0].env[2].valueFrom: Invalid value: "": may not be specified when `value` is not empty'
        in errs
    )
    assert any(
        e.startswith(
            'spec.containers[0].env[3].valueFrom.fieldRef.fieldPath: Unsupported value: "status.phase"'
        )
        for e in errs
    )
    assert (
        'spec.containers[0].envFrom: Invalid value: "": must specify one of: `configMapRef` or `secretRef`'
        in errs
    )
    assert not any("env[4]" in e for e in errs)


def test_volumes_and_mounts() -> None:
    spec = spec_of(
        {
            "volumes": [
                {"name": "data", "emptyDir": {}},
                {"name": "data", "emptyDir": {}},
                {"name": "two", "emptyDir": {}, "hostPath": {"path": "/x"}},
                {"name": "modes", "secret": {"secretName": "s", "defaultMode": 1024}},
                {"name": "nopath", "hostPath": {"path": "/a/../b", "type": "Weird"}},
            ],
            "containers": [
                {
                    "name": "app",
                    "image": "x",
                    "volumeMounts": [
                        {"name": "data", "mountPath": "/data"},
                        {"name": "data", "mountPath": "/data"},
                        {"name": "missing", "mountPath": "/m"},
                    ],
                }
            ],
        }
    )
    errs = messages(spec)
    assert 'spec.volumes[1].name: Duplicate value: "data"' in errs
    assert "spec.volumes[2].hostPath: Forbidden: may not specify more than 1 volume type" in errs
    assert (
        "spec.volumes[3].secret.defaultMode: Invalid value: 1024: must be a number between 0 and 0777 (octal), both inclusive"
        in errs
    )
    assert (
        "spec.volumes[4].hostPath.path: Invalid value: \"/a/../b\": must not contain '..'" in errs
    )
    assert any(
        e.startswith('spec.volumes[4].hostPath.type: Unsupported value: "Weird"') for e in errs
    )
    assert (
        'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/data": must be unique'
        in errs
    )
    assert 'spec.containers[0].volumeMounts[2].name: Not found: "missing"' in errs


def test_resources() -> None:
    spec = spec_of(
        one_container(
            resources={
                "limits": {"cpu": "1", "memory": "-1", "gpu": "1", "example.com/dongle": "1"},
                "requests": {"cpu": "2", "memory": "lots", "example.com/dongle": "2"},
            }
        )
    )
    errs = messages(spec)
    res = "spec.containers[0].resources"
    assert (
        f'{res}.requests: Invalid value: "2": must be less than or equal to cpu limit of 1' in errs
    )
    assert f'{res}.limits[memory]: Invalid value: "-1": must be greater than or equal to 0' in errs
    assert (
        f'{res}.limits[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified'
        in errs
    )
    assert (
        f'{res}.limits[gpu]: Invalid value: "gpu": must be a standard resource for containers'
        in errs
    )
    assert any(
        e.startswith(f'{res}.requests[memory]: Invalid value: "lots": quantities must match')
        for e in errs
    )
    assert (
        f'{res}.requests: Invalid value: "2": must be equal to example.com/dongle limit of 1'
        in errs
    )


def test_pod_level_enums_and_ranges() -> None:
    spec = spec_of(
        one_container(imagePullPolicy="Sometimes")
        | {
            "restartPolicy": "Maybe",
            "dnsPolicy": "Google",
            "activeDeadlineSeconds": 0,
            "nodeSelector": {"disk": "not valid!"},
            "hostname": "Bad.Host",
            "preemptionPolicy": "Always",
        }
    )
    errs = messages(spec)
    assert (
        'spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"'
        in errs
    )
    assert (
        'spec.restartPolicy: Unsupported value: "Maybe": supported values: "Always", "OnFailure", "Never"'
        in errs
    )
    assert (
        'spec.dnsPolicy: Unsupported value: "Google": supported values: "ClusterFirstWithHostNet", '
        '"ClusterFirst", "Default", "None"' in errs
    )
    assert (
        "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"
        in errs
    )
    assert any(
        e.startswith('spec.nodeSelector: Invalid value: "not valid!": a valid label must be')
        for e in errs
    )
    assert any(e.startswith('spec.hostname: Invalid value: "Bad.Host"') for e in errs)
    assert any(e.startswith('spec.preemptionPolicy: Unsupported value: "Always"') for e in errs)


def test_dns_none_needs_config() -> None:
    spec = spec_of(one_container() | {"dnsPolicy": "None"})
    assert messages(spec) == [
        "spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"
    ]


def test_tolerations() -> None:
    errs = [
        e.message()
        for e in validate_tolerations(
            [
                Toleration(key="a", operator="Exists", value="b"),
                Toleration(operator="Equal", value="x"),
                Toleration(key="c", operator="Sometimes"),
                Toleration(key="d", effect="NoRun"),
                Toleration(key="e", effect="NoSchedule", toleration_seconds=5),
                Toleration(operator="Exists"),
            ],
            SPEC.child("tolerations"),
        )
    ]
    assert errs == [
        "spec.tolerations[0].operator: Invalid value: \"b\": value must be empty when `operator` is 'Exists'",
        'spec.tolerations[1].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"',
        'spec.tolerations[2].operator: Unsupported value: "Sometimes": supported values: "Equal", "Exists"',
        'spec.tolerations[3].effect: Unsupported value: "NoRun": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
        "spec.tolerations[4].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
    ]


def test_affinity() -> None:
    spec = spec_of(
        one_container()
        | {
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {"matchExpressions": [{"key": "zone", "operator": "Near"}]}
                        ]
                    },
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "weight": 0,
                            "preference": {"matchExpressions": [{"key": "a", "operator": "In"}]},
                        }
                    ],
                },
                "podAntiAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": ""}]
                },
            }
        }
    )
    errs = messages(spec)
    aff = "spec.affinity"
    node = f"{aff}.nodeAffinity"
    assert (
        f'{node}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator: Invalid value: "Near": not a valid selector operator'
        in errs
    )
    assert (
        f"{node}.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 0: must be in the range 1-100"
        in errs
    )
    assert (
        f"{node}.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0].values: "
        "Required value: must be specified when `operator` is 'In' or 'NotIn'" in errs
    )
    assert (
        f"{aff}.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value: can not be empty"
        in errs
    )


def test_probes_and_lifecycle() -> None:
    spec = spec_of(
        one_container(
            livenessProbe={"successThreshold": 2},
            readinessProbe={
                "exec": {"command": ["true"]},
                "tcpSocket": {"port": 80},
                "terminationGracePeriodSeconds": 5,
            },
            startupProbe={"httpGet": {"port": "Bad_Port"}, "failureThreshold": -1},
            lifecycle={"preStop": {"sleep": {"seconds": 60}}},
        )
    )
    errs = messages(spec)
    c = "spec.containers[0]"
    assert f"{c}.livenessProbe: Required value: must specify a handler type" in errs
    assert f"{c}.livenessProbe.successThreshold: Invalid value: 2: must be 1" in errs
    assert (
        f"{c}.readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type" in errs
    )
    assert (
        f"{c}.readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: must not be set for readinessProbes"
        in errs
    )
    assert (
        f"{c}.startupProbe.failureThreshold: Invalid value: -1: must be greater than or equal to 0"
        in errs
    )
    assert any(
        e.startswith(f'{c}.startupProbe.httpGet.port: Invalid value: "Bad_Port"') for e in errs
    )
    assert (
        f"{c}.lifecycle.preStop.sleep: Invalid value: 60: must be greater than 0 and less than terminationGracePeriodSeconds (30)"
        in errs
    )


def test_init_containers_may_not_have_probes_unless_sidecars() -> None:
    spec = spec_of(
        {
            "initContainers": [
                {"name": "init", "image": "x", "readinessProbe": {"exec": {"command": ["true"]}}},
                {
                    "name": "side",
                    "image": "x",
                    "restartPolicy": "Always",
                    "readinessProbe": {"exec": {"command": ["true"]}},
                },
                {"name": "odd", "image": "x", "restartPolicy": "Never"},
            ],
            **one_container(restartPolicy="Always"),
        }
    )
    assert messages(spec) == [
        "spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers",
        "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
        'spec.initContainers[2].restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]


def test_host_network_ports_must_match_in_pods_only() -> None:
    spec = PodSpec.model_validate(
        {
            "hostNetwork": True,
            "containers": [
                {
                    "name": "a",
                    "image": "x",
                    "ports": [{"containerPort": 80, "hostPort": 81}, {"containerPort": 90}],
                }
            ],
        }
    )
    default_pod_spec(spec)  # template: no host port defaulting
    template_errs = messages(spec, is_template=True)
    assert template_errs == [
        "spec.containers[0].ports[0].hostPort: Invalid value: 81: must match `containerPort` when `hostNetwork` is true"
    ]
    pod_errs = messages(spec)
    assert (
        "spec.containers[0].ports[1].hostPort: Invalid value: 0: must match `containerPort` when `hostNetwork` is true"
        in pod_errs
    )


def test_template_labels_are_reported_below_the_template() -> None:
    template = PodTemplateSpec.model_validate(
        {"metadata": {"labels": {"app": "bad value"}}, "spec": one_container()}
    )
    default_pod_template_spec(template)
    errs = [
        e.message() for e in validate_pod_template_spec(template, FieldPath("spec", "template"))
    ]
    assert len(errs) == 1
    assert errs[0].startswith('spec.template.labels: Invalid value: "bad value"')


# --- updates ------------------------------------------------------------------------------


def update_errors(old_body: dict[str, Any], new_body: dict[str, Any]) -> list[str]:
    old, new = spec_of(old_body), spec_of(new_body)
    return [e.message() for e in validate_pod_spec_update(new, old, SPEC)]


def test_image_and_deadline_updates_are_allowed() -> None:
    old = one_container() | {"activeDeadlineSeconds": 100}
    new = {"containers": [{"name": "app", "image": "nginx:1.26"}], "activeDeadlineSeconds": 50}
    assert update_errors(old, new) == []


def test_other_spec_changes_are_forbidden() -> None:
    errs = update_errors(one_container(), one_container() | {"nodeSelector": {"a": "b"}})
    assert len(errs) == 1
    assert errs[0].startswith(
        "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions "
        "to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it "
        "was previously negative)\n"
    )
    assert "nodeSelector" in errs[0]


def test_deadline_may_only_decrease() -> None:
    errs = update_errors(
        one_container() | {"activeDeadlineSeconds": 10},
        one_container() | {"activeDeadlineSeconds": 20},
    )
    assert errs == [
        "spec.activeDeadlineSeconds: Invalid value: 20: must be less than or equal to previous value"
    ]
    errs = update_errors(one_container() | {"activeDeadlineSeconds": 10}, one_container())
    assert errs == [
        "spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value"
    ]


def test_containers_may_not_be_added() -> None:
    new = {"containers": [{"name": "app", "image": "nginx"}, {"name": "b", "image": "x"}]}
    assert update_errors(one_container(), new) == [
        "spec.containers: Forbidden: pod updates may not add or remove containers"
    ]


def test_tolerations_may_only_be_added() -> None:
    old = one_container() | {
        "tolerations": [
            {"key": "a", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}
        ]
    }
    added = one_container() | {
        "tolerations": [
            {"key": "a", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 1},
            {"key": "b", "operator": "Exists"},
        ]
    }
    assert update_errors(old, added) == []
    changed = one_container() | {"tolerations": [{"key": "a", "operator": "Exists"}]}
    errs = update_errors(old, changed)
    assert (
        errs[0]
        == "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"
    )


def test_scheduling_gates_may_only_be_removed() -> None:
    old = one_container() | {"schedulingGates": [{"name": "a"}, {"name": "b"}]}
    assert update_errors(old, one_container() | {"schedulingGates": [{"name": "b"}]}) == []
    errs = update_errors(old, one_container() | {"schedulingGates": [{"name": "c"}]})
    assert errs == [
        "spec.schedulingGates[0].name: Forbidden: only deletion is allowed, but found new scheduling gate 'c'"
    ]


def test_gated_pods_may_gain_node_selector_entries() -> None:
    old = one_container() | {"schedulingGates": [{"name": "a"}], "nodeSelector": {"zone": "a"}}
    assert update_errors(old, old | {"nodeSelector": {"zone": "a", "disk": "ssd"}}) == []
    errs = update_errors(old, old | {"nodeSelector": {"zone": "b"}})
    assert errs == [
        'spec.nodeSelector: Invalid value: {"zone":"b"}: only additions to spec.nodeSelector are allowed (no mutations or deletions)'
    ]


def test_negative_grace_period_may_become_one() -> None:
    old = one_container() | {"terminationGracePeriodSeconds": -5}
    assert update_errors(old, one_container() | {"terminationGracePeriodSeconds": 1}) == []
    errs = update_errors(old, one_container() | {"terminationGracePeriodSeconds": 2})
    assert len(errs) == 1 and errs[0].startswith(
        "spec: Forbidden: pod updates may not change fields"
    )


# --- QoS -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resources", "qos"),
    [
        ([{}], "BestEffort"),
        ([{"requests": {"cpu": "0"}}], "BestEffort"),
        ([{"requests": {"cpu": "100m"}}], "Burstable"),
        ([{"limits": {"cpu": "1", "memory": "1Gi"}}], "Guaranteed"),
        ([{"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}}], "Burstable"),
        ([{"limits": {"cpu": "1"}}], "Burstable"),
        ([{"limits": {"cpu": "1", "memory": "1Gi"}}, {}], "Burstable"),
        ([{"limits": {"example.com/gpu": "1"}}], "BestEffort"),
    ],
)
def test_qos_class(resources: list[dict[str, Any]], qos: str) -> None:
    containers = [{"name": f"c{i}", "image": "x", "resources": r} for i, r in enumerate(resources)]
    assert pod_qos_class(spec_of({"containers": containers})) == qos


def test_qos_counts_init_containers() -> None:
    spec = spec_of(
        {
            "initContainers": [{"name": "i", "image": "x"}],
            "containers": [
                {"name": "c", "image": "x", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}
            ],
        }
    )
    assert pod_qos_class(spec) == "Burstable"
