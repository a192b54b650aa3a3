"""Tests for apiserver.kinds.core: the core/v1 strategies, through their hooks and
through the generic store over an in-memory storage."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from apiserver.errors import ApiError
from apiserver.kinds.configmap import ConfigMapStrategy
from apiserver.kinds.endpoints import EndpointsStrategy, format_endpoints
from apiserver.kinds.event import EventStrategy
from apiserver.kinds.namespace import NamespaceStrategy
from apiserver.kinds.node import NodeStrategy
from apiserver.kinds.pod import PodStrategy
from apiserver.kinds.secret import SecretStrategy
from apiserver.kinds.service import ServiceStrategy
from apiserver.kinds.serviceaccount import ServiceAccountStrategy
from apiserver.registry.store import DeleteOptions, ResourceStore, WriteOptions
from apiserver.registry.strategy import KindSettings, Strategy
from apiserver.storage.interface import (
    NO_COMPANIONS,
    Companions,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    ListResult,
    RevisionConflictError,
)
from apitypes.base import KubeObject, now
from apitypes.validation import FieldError

# --- helpers ------------------------------------------------------------------------------


class MemoryStorage:
    """The parts of the Storage protocol the store's writes use, over a dict."""

    def __init__(self) -> None:
        self.data: dict[str, KeyValue] = {}
        self.revision = 0
        self.creates = 0
        self.hidden_once: set[str] = set()
        """Keys the next ``list_prefix`` leaves out (another apiserver's fresh writes)."""
        self.phantom_once: set[str] = set()
        """Keys the next ``list_prefix`` still shows (another apiserver's fresh deletes)."""

    def _put(self, key: str, value: bytes) -> int:
        self.revision += 1
        old = self.data.get(key)
        created = old.create_revision if old else self.revision
        self.data[key] = KeyValue(key, value, self.revision, created)
        return self.revision

    async def get(self, key: str) -> KeyValue | None:
        return self.data.get(key)

    def _apply(self, companions: Companions) -> None:
        for key in companions.create:
            if key in self.data:
                raise KeyExistsError(key)
        for key, value in companions.create.items():
            self._put(key, value)
        for key in companions.delete:
            self.data.pop(key, None)

    async def create(self, key: str, value: bytes, companions: Companions = NO_COMPANIONS) -> int:
        self.creates += 1
        if key in self.data:
            raise KeyExistsError(key)
        self._apply(companions)
        return self._put(key, value)

    async def update(
        self, key: str, value: bytes, expected_revision: int, companions: Companions = NO_COMPANIONS
    ) -> int:
        current = self.data.get(key)
        if current is None:
            raise KeyNotFoundError(key)
        if current.mod_revision != expected_revision:
            raise RevisionConflictError(key, current)
        self._apply(companions)
        return self._put(key, value)

    async def delete(
        self, key: str, expected_revision: int, companions: Companions = NO_COMPANIONS
    ) -> int:
        current = self.data.get(key)
        if current is None:
            raise KeyNotFoundError(key)
        if current.mod_revision != expected_revision:
            raise RevisionConflictError(key, current)
        self._apply(companions)
        del self.data[key]
        self.revision += 1
        return self.revision

    async def list_prefix(
        self, prefix: str, *, start: str | None = None, limit: int = 0, revision: int = 0
    ) -> ListResult:
        keys = sorted(k for k in self.data if k.startswith(prefix) and k not in self.hidden_once)
        phantoms = sorted(k for k in self.phantom_once if k.startswith(prefix))
        self.hidden_once, self.phantom_once = set(), set()
        items = [self.data[k] for k in keys] + [KeyValue(k, b"{}", 1, 1) for k in phantoms]
        return ListResult(items=items, revision=self.revision, more=False, count=len(items))

    async def current_revision(self) -> int:
        return self.revision


def parse(strategy: Strategy, body: Mapping[str, Any]) -> Any:
    """A wire-form object as its kind's model (typed loosely for the tests)."""
    return strategy.model().model_validate(dict(body))


def build(strategy: Strategy, body: Mapping[str, Any]) -> Any:
    """A new object as the store makes it before validation."""
    obj = parse(strategy, body)
    obj.metadata.creation_timestamp = now()
    strategy.prepare_for_create(obj)
    strategy.default(obj)
    return obj


def msgs(errs: list[FieldError]) -> list[str]:
    return [e.message() for e in errs]


def wire(obj: KubeObject) -> dict[str, Any]:
    return obj.to_dict()


def ns_body(name: str = "default") -> dict[str, Any]:
    return {"metadata": {"name": "thing", "namespace": name}}


# --- Namespace ------------------------------------------------------------------------------


def test_namespace_create_defaults() -> None:
    strategy = NamespaceStrategy()
    ns = build(strategy, {"metadata": {"name": "team-a"}, "status": {"phase": "Terminating"}})
    assert ns.status.phase == "Active"
    assert ns.spec.finalizers == ["kubernetes"]
    assert ns.metadata.labels["kubernetes.io/metadata.name"] == "team-a"
    assert strategy.validate(ns) == []
    assert strategy.row(ns)[0] == "Active"


def test_namespace_names_are_dns_labels() -> None:
    strategy = NamespaceStrategy()
    ns = build(strategy, {"metadata": {"name": "team.a"}})
    assert msgs(strategy.validate(ns)) == [
        'metadata.name: Invalid value: "team.a": must not contain dots'
    ]


def test_namespace_finalizer_names() -> None:
    strategy = NamespaceStrategy()
    ns = build(strategy, {"metadata": {"name": "a"}, "spec": {"finalizers": ["custom"]}})
    assert msgs(strategy.validate(ns)) == [
        'spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified'
    ]


def test_namespace_label_follows_name_on_every_write() -> None:
    strategy = NamespaceStrategy()
    old = build(strategy, {"metadata": {"name": "a"}})
    new = parse(
        strategy,
        {
            "metadata": {"name": "a", "labels": {"kubernetes.io/metadata.name": "lie"}},
            "spec": {"finalizers": []},
        },
    )
    strategy.prepare_for_update(new, old)
    strategy.default(new)
    assert new.metadata.labels["kubernetes.io/metadata.name"] == "a"
    # The main resource cannot drop the spec finalizers; only /finalize can.
    assert new.spec.finalizers == ["kubernetes"]


def test_namespace_finalize_changes_only_spec_finalizers() -> None:
    strategy = NamespaceStrategy()
    old = build(strategy, {"metadata": {"name": "a", "labels": {"x": "y"}}})
    new = parse(
        strategy,
        {
            "metadata": {"name": "a", "labels": {"x": "z"}},
            "spec": {"finalizers": []},
            "status": {"phase": "Gone"},
        },
    )
    strategy.prepare_for_subresource_update("finalize", new, old)
    assert new.spec.finalizers == []
    assert new.metadata.labels["x"] == "y"
    assert new.status.phase == "Active"


def test_namespace_status_phase_rules() -> None:
    strategy = NamespaceStrategy()
    ns = build(strategy, {"metadata": {"name": "a"}})
    ns.status.phase = "Terminating"
    assert msgs(strategy.validate_status_update(ns, ns)) == [
        "status.Phase: Invalid value: \"Terminating\": may only be 'Active' if `deletionTimestamp` is empty"
    ]


async def test_namespace_deletion_waits_for_finalize() -> None:
    storage = MemoryStorage()
    store = ResourceStore(NamespaceStrategy(), storage)  # type: ignore[arg-type]
    created = await store.create(None, {"metadata": {"generateName": "tmp-"}}, WriteOptions())
    name = created.obj["metadata"]["name"]
    assert name.startswith("tmp-") and len(name) == 9
    assert created.obj["metadata"]["labels"]["kubernetes.io/metadata.name"] == name
    deleted = await store.delete(None, name, DeleteOptions())
    assert not deleted.deleted
    assert deleted.obj["status"]["phase"] == "Terminating"
    body = dict(deleted.obj)
    body["spec"] = {"finalizers": []}
    await store.update(None, name, body, WriteOptions(), subresource="finalize")
    assert f"/registry/namespaces/{name}" not in storage.data


# --- Pod -------------------------------------------------------------------------------------


def pod_body(**spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"containers": [{"name": "app", "image": "nginx"}], **spec},
    }


def test_pod_create_sets_pending_status_and_qos() -> None:
    strategy = PodStrategy()
    body = pod_body()
    body["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "1", "memory": "64Mi"}}
    body["status"] = {"phase": "Running", "podIP": "10.0.0.9"}
    pod = build(strategy, body)
    assert wire(pod)["status"] == {"phase": "Pending", "qosClass": "Guaranteed"}
    assert pod.spec.service_account_name == "default"
    assert pod.metadata.generation is None
    assert strategy.validate(pod) == []


def test_pod_create_with_scheduling_gates_is_gated() -> None:
    pod = build(PodStrategy(), pod_body(schedulingGates=[{"name": "wait"}]))
    assert [c.model_dump(exclude_none=True) for c in pod.status.conditions] == [
        {
            "type": "PodScheduled",
            "status": "False",
            "reason": "SchedulingGated",
            "message": "Scheduling is blocked due to non-empty scheduling gates",
        }
    ]


def test_pod_validation_is_podspec_validation_at_spec() -> None:
    strategy = PodStrategy()
    pod = build(
        strategy,
        pod_body(nodeName="n1", schedulingGates=[{"name": "g"}], restartPolicy="Sometimes"),
    )
    assert msgs(strategy.validate(pod)) == [
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
        "spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared",
    ]


def test_pod_update_keeps_status_and_checks_spec() -> None:
    strategy = PodStrategy()
    old = build(strategy, pod_body())
    new = parse(strategy, pod_body(hostname="other"))
    new.status = None
    strategy.prepare_for_update(new, old)
    strategy.default(new)
    assert new.status == old.status
    errs = msgs(strategy.validate_update(new, old))
    assert len(errs) == 1 and errs[0].startswith(
        "spec: Forbidden: pod updates may not change fields other than"
    )


def test_pod_status_update_keeps_spec_and_qos() -> None:
    strategy = PodStrategy()
    old = build(strategy, pod_body())
    new = parse(strategy, pod_body(nodeName="elsewhere") | {"status": {"phase": "Running"}})
    strategy.prepare_for_status_update(new, old)
    strategy.default(new)
    assert new.spec.node_name is None
    assert new.status.qos_class == "BestEffort"
    assert strategy.validate_status_update(new, old) == []
    new.status.qos_class = "Guaranteed"
    assert msgs(strategy.validate_status_update(new, old)) == [
        'status.qosClass: Invalid value: "Guaranteed": field is immutable'
    ]


def test_pod_status_conditions_and_ips() -> None:
    strategy = PodStrategy()
    old = build(strategy, pod_body())
    status = wire(old)["status"] | {
        "conditions": [
            {"type": "Ready", "status": "True"},
            {"type": "bad type!", "status": "True"},
        ],
        "podIPs": [{"ip": "nope"}],
    }
    new = parse(strategy, wire(old) | {"status": status})
    errs = msgs(strategy.validate_status_update(new, old))
    assert any(e.startswith('status.conditions[1].Type: Invalid value: "bad type!"') for e in errs)
    assert (
        'status.podIPs[0]: Invalid value: "nope": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'
        in errs
    )


@pytest.mark.parametrize(
    ("node", "phase", "requested", "own", "expected"),
    [
        (None, "Running", 10, 30, 0),
        ("n1", "Running", None, 30, 30),
        ("n1", "Running", None, None, 30),
        ("n1", "Running", 5, 30, 5),
        ("n1", "Running", -3, 30, 1),
        ("n1", "Succeeded", 5, 30, 0),
        ("n1", "Failed", None, 30, 0),
        ("n1", "Running", 0, 30, 0),
    ],
)
def test_pod_grace_period(
    node: str | None, phase: str, requested: int | None, own: int | None, expected: int
) -> None:
    strategy = PodStrategy()
    extra: dict[str, Any] = {"nodeName": node} if node else {}
    if own is not None:
        extra["terminationGracePeriodSeconds"] = own
    pod = build(strategy, pod_body(**extra))
    pod.status.phase = phase
    assert strategy.delete_grace_seconds(pod, requested) == expected


def running(
    name: str, *, ready: bool = True, restarts: int = 0, last: Any = None
) -> dict[str, Any]:
    status: dict[str, Any] = {
        "name": name,
        "ready": ready,
        "restartCount": restarts,
        "image": "x",
        "imageID": "",
        "state": {"running": {"startedAt": "2024-01-01T00:00:00Z"}},
    }
    if last is not None:
        status["lastState"] = {"terminated": {"exitCode": 1, "finishedAt": last}}
    return status


def pod_with_status(status: dict[str, Any], **spec: Any) -> Any:
    strategy = PodStrategy()
    body = pod_body(**spec)
    body["spec"]["containers"].append({"name": "side", "image": "x"})
    pod = parse(strategy, body | {"status": status})
    pod.metadata.creation_timestamp = now() - timedelta(minutes=7)
    strategy.default(pod)
    return pod


def test_pod_row_running_with_restarts() -> None:
    last = (now() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    pod = pod_with_status(
        {
            "phase": "Running",
            "podIP": "10.1.0.5",
            "containerStatuses": [
                running("app", restarts=2, last=last),
                running("side", ready=False, restarts=1),
            ],
        },
        nodeName="n1",
    )
    assert PodStrategy().row(pod) == [
        "1/2",
        "Running",
        "3 (5m ago)",
        "7m",
        "10.1.0.5",
        "n1",
        "<none>",
        "<none>",
    ]


def test_pod_row_waiting_reason_wins() -> None:
    pod = pod_with_status(
        {
            "phase": "Running",
            "containerStatuses": [
                running("app"),
                {
                    "name": "side",
                    "ready": False,
                    "restartCount": 4,
                    "image": "x",
                    "imageID": "",
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                },
            ],
        }
    )
    assert PodStrategy().row(pod)[:3] == ["1/2", "CrashLoopBackOff", "4"]


def test_pod_row_init_containers() -> None:
    pod = pod_with_status(
        {
            "phase": "Pending",
            "initContainerStatuses": [
                {
                    "name": "init",
                    "ready": False,
                    "restartCount": 0,
                    "image": "x",
                    "imageID": "",
                    "state": {"running": {}},
                }
            ],
        },
        initContainers=[{"name": "init", "image": "x"}],
    )
    assert PodStrategy().row(pod)[:2] == ["0/2", "Init:0/1"]
    body = wire(pod)
    body["status"]["initContainerStatuses"][0]["state"] = {"terminated": {"exitCode": 2}}
    pod = parse(PodStrategy(), body)
    assert PodStrategy().row(pod)[1] == "Init:ExitCode:2"


def test_pod_row_completed_and_terminating() -> None:
    done = {
        "name": "app",
        "ready": False,
        "restartCount": 0,
        "image": "x",
        "imageID": "",
        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
    }
    pod = pod_with_status(
        {"phase": "Succeeded", "containerStatuses": [done, done | {"name": "side"}]}
    )
    assert PodStrategy().row(pod)[:2] == ["0/2", "Completed"]
    pod = pod_with_status(
        {"phase": "Running", "containerStatuses": [running("app"), running("side")]}
    )
    pod.metadata.deletion_timestamp = now()
    assert PodStrategy().row(pod)[:2] == ["2/2", "Terminating"]


def test_pod_row_readiness_gates_and_nomination() -> None:
    pod = pod_with_status(
        {
            "phase": "Pending",
            "nominatedNodeName": "n2",
            "conditions": [
                {"type": "example.com/a", "status": "True"},
                {"type": "example.com/b", "status": "False"},
            ],
        },
        readinessGates=[{"conditionType": "example.com/a"}, {"conditionType": "example.com/b"}],
    )
    assert PodStrategy().row(pod)[4:] == ["<none>", "<none>", "n2", "1/2"]


def test_pod_columns() -> None:
    names = [(c.name, c.priority) for c in PodStrategy.columns]
    assert names == [
        ("Ready", 0),
        ("Status", 0),
        ("Restarts", 0),
        ("Age", 0),
        ("IP", 1),
        ("Node", 1),
        ("Nominated Node", 1),
        ("Readiness Gates", 1),
    ]


# --- Node -------------------------------------------------------------------------------------


def node_body(**extra: Any) -> dict[str, Any]:
    return {"metadata": {"name": "n1"}} | extra


def test_node_create_keeps_status_and_defaults_allocatable() -> None:
    strategy = NodeStrategy()
    node = build(
        strategy,
        node_body(
            status={"capacity": {"cpu": "4", "memory": "8Gi"}}, spec={"podCIDR": "10.244.1.0/24"}
        ),
    )
    assert node.status.allocatable == {"cpu": "4", "memory": "8Gi"}
    assert node.spec.pod_cidrs == ["10.244.1.0/24"]
    assert strategy.validate(node) == []


def test_node_validation() -> None:
    strategy = NodeStrategy()
    node = build(
        strategy,
        node_body(
            spec={
                "podCIDRs": ["10.0.0.0/33"],
                "taints": [
                    {"key": "a", "effect": "NoRun"},
                    {"key": "b", "value": "x", "effect": "NoSchedule"},
                    {"key": "b", "value": "y", "effect": "NoSchedule"},
                ],
            },
            status={"capacity": {"cpu": "-1"}},
        ),
    )
    errs = msgs(strategy.validate(node))
    assert (
        'metadata.taints[0].effect: Unsupported value: "NoRun": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"'
        in errs
    )
    assert any(
        e.startswith("metadata.taints[2]: Duplicate value:")
        and e.endswith("taints must be unique by key and effect pair")
        for e in errs
    )
    assert (
        'spec.podCIDRs[0]: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'
        in errs
    )
    assert 'status.capacity.cpu: Invalid value: "-1": must be greater than or equal to 0' in errs


def test_node_updates() -> None:
    strategy = NodeStrategy()
    old = build(strategy, node_body(spec={"podCIDR": "10.0.1.0/24", "providerID": "p1"}))
    new = build(strategy, node_body(spec={"podCIDR": "10.0.2.0/24", "providerID": "p2"}))
    assert msgs(strategy.validate_update(new, old)) == [
        'spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid',
        'spec.providerID: Forbidden: node updates may not change providerID except from "" to valid',
    ]
    fresh = build(strategy, node_body())
    assert strategy.validate_update(old, fresh) == []


def test_node_rows() -> None:
    strategy = NodeStrategy()
    node = build(
        strategy,
        node_body(
            metadata={
                "name": "n1",
                "labels": {
                    "node-role.kubernetes.io/control-plane": "",
                    "kubernetes.io/role": "worker",
                    "node-role.kubernetes.io/": "",
                },
            },
            spec={"unschedulable": True},
            status={
                "conditions": [{"type": "Ready", "status": "True"}],
                "addresses": [{"type": "InternalIP", "address": "192.168.1.10"}],
                "nodeInfo": {
                    "machineID": "m",
                    "systemUUID": "s",
                    "bootID": "b",
                    "kernelVersion": "6.1",
                    "osImage": "Debian",
                    "containerRuntimeVersion": "docker://25",
                    "kubeletVersion": "v1.30.0",
                    "kubeProxyVersion": "",
                    "operatingSystem": "linux",
                    "architecture": "amd64",
                },
            },
        ),
    )
    row = strategy.row(node)
    assert row[:2] == ["Ready,SchedulingDisabled", "control-plane,worker"]
    assert row[3:] == ["v1.30.0", "192.168.1.10", "<none>", "Debian", "6.1", "docker://25"]
    plain = build(
        strategy, node_body(status={"conditions": [{"type": "Ready", "status": "Unknown"}]})
    )
    assert strategy.row(plain)[:2] == ["NotReady", "<none>"]
    empty = build(strategy, node_body())
    assert strategy.row(empty)[0] == "Unknown"
    assert strategy.row(empty)[-3:] == ["<unknown>", "<unknown>", "<unknown>"]


# --- Event ---------------------------------------------------------------------------------------


def event_body(**extra: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web.1", "namespace": "default"},
        "involvedObject": {
            "kind": "Pod",
            "name": "web",
            "namespace": "default",
            "fieldPath": "spec.containers{app}",
        },
        "reason": "Started",
        "message": "Started container app ",
        "type": "Normal",
        "source": {"component": "kubelet", "host": "n1"},
    } | extra


def test_event_namespace_must_match() -> None:
    strategy = EventStrategy()
    event = build(
        strategy, event_body(involvedObject={"kind": "Pod", "name": "web", "namespace": "other"})
    )
    assert msgs(strategy.validate(event)) == [
        'involvedObject.namespace: Invalid value: "other": does not match event.namespace'
    ]
    assert strategy.validate(build(strategy, event_body())) == []


def test_new_style_events_have_limits() -> None:
    strategy = EventStrategy()
    event = build(strategy, event_body(eventTime="2024-01-01T00:00:00.000000Z", reason="x" * 129))
    errs = msgs(strategy.validate(event))
    assert errs[0] == "reportingComponent: Required value"
    # Kubernetes also runs the qualified-name check on the empty value.
    assert errs[1] == 'reportingComponent: Invalid value: "": name part must be non-empty'
    assert errs[3:] == [
        "reportingInstance: Required value",
        "action: Required value",
        'reason: Invalid value: "": can have at most 128 characters',
    ]


def test_event_row() -> None:
    strategy = EventStrategy()
    event = build(
        strategy,
        event_body(lastTimestamp=(now() - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")),
    )
    assert strategy.row(event) == [
        "30s",
        "Normal",
        "Started",
        "pod/web",
        "spec.containers{app}",
        "kubelet, n1",
        "Started container app",
        "<unknown>",
        1,
        "web.1",
    ]
    assert EventStrategy.name_column is False
    assert [c.name for c in EventStrategy.columns if c.priority == 0] == [
        "Last Seen",
        "Type",
        "Reason",
        "Object",
        "Message",
    ]


# --- ConfigMap and Secret ------------------------------------------------------------------------


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_configmap_keys_and_duplicates() -> None:
    strategy = ConfigMapStrategy()
    cm = build(
        strategy, ns_body() | {"data": {"a b": "1", "dup": "2"}, "binaryData": {"dup": b64("x")}}
    )
    errs = msgs(strategy.validate(cm))
    assert errs[0].startswith(
        'data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters'
    )
    assert 'data[dup]: Invalid value: "dup": duplicate of key present in binaryData' in errs
    assert strategy.row(cm)[0] == 3


def test_configmap_size_limit() -> None:
    strategy = ConfigMapStrategy()
    cm = build(strategy, ns_body() | {"data": {"big": "x" * (1024 * 1024 + 1)}})
    assert msgs(strategy.validate(cm)) == [": Too long: must have at most 1048576 bytes"]


def test_configmap_binary_data_must_be_base64() -> None:
    with pytest.raises(ApiError) as info:
        build(ConfigMapStrategy(), ns_body() | {"binaryData": {"k": "ab$d"}})
    assert info.value.code == 400
    assert info.value.message == (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: illegal base64 data at input byte 2'
    )


def test_immutable_configmap() -> None:
    strategy = ConfigMapStrategy()
    old = build(strategy, ns_body() | {"immutable": True, "data": {"a": "1"}})
    new = build(strategy, ns_body() | {"data": {"a": "2"}})
    assert msgs(strategy.validate_update(new, old)) == [
        "immutable: Forbidden: field is immutable when `immutable` is set",
        "data: Forbidden: field is immutable when `immutable` is set",
    ]
    same = build(strategy, ns_body() | {"immutable": True, "data": {"a": "1"}})
    assert strategy.validate_update(same, old) == []


def test_secret_string_data_is_folded_in() -> None:
    strategy = SecretStrategy()
    secret = build(
        strategy,
        ns_body() | {"data": {"a": b64("old"), "b": b64("keep")}, "stringData": {"a": "new"}},
    )
    assert wire(secret)["data"] == {"a": b64("new"), "b": b64("keep")}
    assert "stringData" not in wire(secret)
    assert secret.type == "Opaque"
    assert strategy.row(secret)[:2] == ["Opaque", 2]


def test_secret_data_must_be_base64() -> None:
    with pytest.raises(ApiError) as info:
        build(SecretStrategy(), ns_body() | {"data": {"a": "abc"}})
    assert info.value.code == 400
    assert info.value.message.endswith("illegal base64 data at input byte 0")


def test_secret_types_require_keys() -> None:
    strategy = SecretStrategy()
    tls = build(strategy, ns_body() | {"type": "kubernetes.io/tls", "data": {"tls.crt": b64("c")}})
    assert msgs(strategy.validate(tls)) == ["data[tls.key]: Required value"]
    docker = build(
        strategy,
        ns_body()
        | {"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": b64("[]")}},
    )
    assert msgs(strategy.validate(docker)) == [
        'data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": json: cannot unmarshal array into Go value of type map[string]interface {}'
    ]
    token = build(strategy, ns_body() | {"type": "kubernetes.io/service-account-token"})
    assert msgs(strategy.validate(token)) == [
        "metadata.annotations[kubernetes.io/service-account.name]: Required value"
    ]


def test_secret_type_and_immutability() -> None:
    strategy = SecretStrategy()
    old = build(strategy, ns_body() | {"immutable": True, "data": {"a": b64("1")}})
    new = build(
        strategy,
        ns_body()
        | {"type": "kubernetes.io/basic-auth", "immutable": True, "stringData": {"a": "2"}},
    )
    assert msgs(strategy.validate_update(new, old)) == [
        'type: Invalid value: "kubernetes.io/basic-auth": field is immutable',
        "data: Forbidden: field is immutable when `immutable` is set",
    ]


# --- Service: defaults, validation, printing ----------------------------------------------------


def svc_body(**spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}], **spec},
    }


def test_service_defaults() -> None:
    svc = build(ServiceStrategy(), svc_body())
    assert wire(svc)["spec"] == {
        "ports": [{"protocol": "TCP", "port": 80, "targetPort": 80}],
        "selector": {"app": "web"},
        "type": "ClusterIP",
        "sessionAffinity": "None",
        "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
        "internalTrafficPolicy": "Cluster",
    }
    assert wire(svc)["status"] == {"loadBalancer": {}}
    lb = build(ServiceStrategy(), svc_body(type="LoadBalancer", sessionAffinity="ClientIP"))
    spec = wire(lb)["spec"]
    assert spec["externalTrafficPolicy"] == "Cluster"
    assert spec["allocateLoadBalancerNodePorts"] is True
    assert spec["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}


def test_headless_and_external_name_families() -> None:
    strategy = ServiceStrategy()
    selectorless = build(
        strategy, {"metadata": {"name": "h", "namespace": "default"}, "spec": {"clusterIP": "None"}}
    )
    assert selectorless.spec.ip_family_policy == "RequireDualStack"
    assert selectorless.spec.ip_families == ["IPv4", "IPv6"]
    assert strategy.validate(selectorless) == []
    external = build(
        strategy,
        {
            "metadata": {"name": "e", "namespace": "default"},
            "spec": {"type": "ExternalName", "externalName": "example.com."},
        },
    )
    assert external.spec.ip_families == []
    assert external.spec.internal_traffic_policy is None
    assert strategy.validate(external) == []


def test_service_validation() -> None:
    strategy = ServiceStrategy()
    svc = build(
        strategy,
        {
            "metadata": {"name": "1web", "namespace": "default"},
            "spec": {
                "type": "Magic",
                "ports": [{"port": 80}, {"port": 80, "name": "x", "protocol": "ICMP"}],
                "selector": {"app": "bad value"},
                "ipFamilyPolicy": "RequireDualStack",
            },
        },
    )
    errs = msgs(strategy.validate(svc))
    assert any(e.startswith('metadata.name: Invalid value: "1web": a DNS-1035 label') for e in errs)
    assert "spec.ports[0].name: Required value" in errs
    assert (
        'spec.ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"'
        in errs
    )
    assert any(e.startswith('spec.selector: Invalid value: "bad value"') for e in errs)
    assert (
        'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'
        in errs
    )
    assert (
        'spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services'
        in errs
    )


def test_service_duplicate_ports_and_node_ports_on_cluster_ip() -> None:
    strategy = ServiceStrategy()
    svc = build(
        strategy,
        svc_body(ports=[{"name": "a", "port": 80, "nodePort": 30001}, {"name": "b", "port": 80}]),
    )
    assert msgs(strategy.validate(svc)) == [
        "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
        'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
    ]


def test_service_requires_ports_unless_headless() -> None:
    strategy = ServiceStrategy()
    assert msgs(strategy.validate(build(strategy, svc_body(ports=[])))) == [
        "spec.ports: Required value"
    ]
    assert strategy.validate(build(strategy, svc_body(ports=[], clusterIP="None"))) == []


def test_service_cluster_ip_is_immutable() -> None:
    strategy = ServiceStrategy()
    old = build(strategy, svc_body(clusterIP="10.96.0.10"))
    new = parse(strategy, svc_body(clusterIP="10.96.0.11"))
    strategy.prepare_for_update(new, old)
    strategy.default(new)
    assert msgs(strategy.validate_update(new, old)) == [
        'spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set'
    ]
    # A client that leaves the allocated values out keeps them.
    omitted = parse(strategy, svc_body())
    strategy.prepare_for_update(omitted, old)
    assert omitted.spec.cluster_ips == ["10.96.0.10"]
    assert strategy.validate_update(omitted, old) == []


def test_service_rows() -> None:
    strategy = ServiceStrategy()
    svc = build(
        strategy,
        svc_body(
            clusterIP="10.96.0.10",
            ports=[
                {"name": "a", "port": 80, "protocol": "TCP"},
                {"name": "b", "port": 53, "protocol": "UDP"},
            ],
        ),
    )
    assert strategy.row(svc)[:4] == ["ClusterIP", "10.96.0.10", "<none>", "80/TCP,53/UDP"]
    assert strategy.row(svc)[5] == "app=web"
    node_port = build(strategy, svc_body(type="NodePort", ports=[{"port": 80, "nodePort": 30080}]))
    assert strategy.row(node_port)[:4] == ["NodePort", "<none>", "<none>", "80:30080/TCP"]
    lb = build(strategy, svc_body(type="LoadBalancer"))
    assert strategy.row(lb)[2] == "<pending>"
    body = wire(lb)
    body["status"]["loadBalancer"]["ingress"] = [{"hostname": "lb.example.com"}, {"ip": "1.2.3.4"}]
    lb = parse(strategy, body)
    assert strategy.row(lb)[2] == "1.2.3.4,lb.example.com"
    external = build(
        strategy,
        {
            "metadata": {"name": "e", "namespace": "default"},
            "spec": {"type": "ExternalName", "externalName": "db.example.com"},
        },
    )
    assert strategy.row(external)[:5][1:4] == ["<none>", "db.example.com", "<none>"]


# --- Service: allocations through the store --------------------------------------------------


def service_store(storage: MemoryStorage, ip_range: str = "10.96.0.0/12") -> ResourceStore:
    settings = KindSettings(
        service_cluster_ip_range=ip_range, service_node_port_range=(30000, 30010)
    )
    return ResourceStore(ServiceStrategy(settings), storage)  # type: ignore[arg-type]


def named(name: str, **spec: Any) -> dict[str, Any]:
    return svc_body(**spec) | {"metadata": {"name": name, "namespace": "default"}}


def ip_keys(storage: MemoryStorage) -> set[str]:
    prefix = "/registry/ranges/serviceips/"
    return {k[len(prefix) :] for k in storage.data if k.startswith(prefix)}


def port_keys(storage: MemoryStorage) -> set[int]:
    prefix = "/registry/ranges/servicenodeports/"
    return {int(k[len(prefix) :]) for k in storage.data if k.startswith(prefix)}


async def test_cluster_ips_are_allocated_with_companion_keys() -> None:
    storage = MemoryStorage()
    store = service_store(storage)
    first = await store.create("default", named("a"), WriteOptions())
    second = await store.create("default", named("b"), WriteOptions())
    ip_a = first.obj["spec"]["clusterIP"]
    ip_b = second.obj["spec"]["clusterIP"]
    assert ip_a != ip_b
    assert first.obj["spec"]["clusterIPs"] == [ip_a]
    assert ip_keys(storage) == {ip_a, ip_b}
    assert all(ip.startswith("10.") and ip != "10.96.0.1" for ip in (ip_a, ip_b))
    await store.delete("default", "a", DeleteOptions())
    assert ip_keys(storage) == {ip_b}


async def test_requested_cluster_ip_must_be_free_and_in_range() -> None:
    storage = MemoryStorage()
    store = service_store(storage)
    await store.create("default", named("a", clusterIP="10.96.0.10"), WriteOptions())
    with pytest.raises(ApiError) as taken:
        await store.create("default", named("b", clusterIP="10.96.0.10"), WriteOptions())
    assert taken.value.code == 422
    assert (
        'spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: failed to allocate IP 10.96.0.10: provided IP is already allocated'
        in taken.value.message
    )
    with pytest.raises(ApiError) as outside:
        await store.create("default", named("c", clusterIP="192.168.0.1"), WriteOptions())
    assert outside.value.code == 422
    assert (
        "the provided IP (192.168.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12"
        in outside.value.message
    )
    # The first address is kept for the kubernetes Service, which asks for it.
    kubernetes = await store.create(
        "default", named("kubernetes", clusterIP="10.96.0.1"), WriteOptions()
    )
    assert kubernetes.obj["spec"]["clusterIP"] == "10.96.0.1"
    assert ip_keys(storage) == {"10.96.0.10", "10.96.0.1"}


async def test_small_range_skips_reserved_and_fills_up() -> None:
    storage = MemoryStorage()
    store = service_store(storage, "10.0.0.0/29")
    made = [
        (await store.create("default", named(f"s{i}"), WriteOptions())).obj["spec"]["clusterIP"]
        for i in range(5)
    ]
    assert sorted(made) == [f"10.0.0.{n}" for n in range(2, 7)]
    with pytest.raises(ApiError) as full:
        await store.create("default", named("s6"), WriteOptions())
    assert full.value.code == 500
    assert "range is full" in full.value.message


async def test_taken_allocation_is_retried() -> None:
    storage = MemoryStorage()
    store = service_store(storage, "10.0.0.0/29")
    for n in (2, 3, 4, 6):
        key = f"/registry/ranges/serviceips/10.0.0.{n}"
        storage.data[key] = KeyValue(key, b"{}", 1, 1)
    # The first read is stale: another apiserver has just taken .6 and released .5.
    storage.hidden_once = {"/registry/ranges/serviceips/10.0.0.6"}
    storage.phantom_once = {"/registry/ranges/serviceips/10.0.0.5"}
    created = await store.create("default", named("a"), WriteOptions())
    assert created.obj["spec"]["clusterIP"] == "10.0.0.5"
    assert storage.creates == 2
    assert "/registry/services/default/a" in storage.data
    # With nothing left, the retry finds the range full instead of answering a conflict.
    storage.hidden_once = {"/registry/ranges/serviceips/10.0.0.5"}
    with pytest.raises(ApiError) as full:
        await store.create("default", named("b"), WriteOptions())
    assert full.value.code == 500
    assert storage.creates == 3


async def test_headless_and_external_name_take_no_ip() -> None:
    storage = MemoryStorage()
    store = service_store(storage)
    headless = await store.create("default", named("h", clusterIP="None"), WriteOptions())
    assert headless.obj["spec"]["clusterIPs"] == ["None"]
    external = await store.create(
        "default",
        {
            "metadata": {"name": "e", "namespace": "default"},
            "spec": {"type": "ExternalName", "externalName": "a.b"},
        },
        WriteOptions(),
    )
    assert "clusterIP" not in external.obj["spec"]
    assert ip_keys(storage) == set()


async def test_node_ports_are_allocated_and_released() -> None:
    storage = MemoryStorage()
    store = service_store(storage)
    created = await store.create(
        "default",
        named(
            "np",
            type="NodePort",
            ports=[
                {"name": "tcp", "port": 53, "protocol": "TCP"},
                {"name": "udp", "port": 53, "protocol": "UDP"},
                {"name": "web", "port": 80},
            ],
        ),
        WriteOptions(),
    )
    ports = created.obj["spec"]["ports"]
    assert ports[0]["nodePort"] == ports[1]["nodePort"]
    assert 30000 <= ports[0]["nodePort"] <= 30010
    assert port_keys(storage) == {ports[0]["nodePort"], ports[2]["nodePort"]}
    # Back to ClusterIP: the ports the client did not touch are dropped and released.
    body = dict(created.obj)
    body["spec"] = dict(body["spec"], type="ClusterIP")
    body["spec"].pop("externalTrafficPolicy")
    updated = await store.update("default", "np", body, WriteOptions())
    assert all("nodePort" not in p for p in updated.obj["spec"]["ports"])
    assert port_keys(storage) == set()
    ip = updated.obj["spec"]["clusterIP"]
    assert ip_keys(storage) == {ip}


async def test_node_port_range_fills_without_collision_and_frees_on_delete() -> None:
    storage = MemoryStorage()
    store = service_store(storage)
    lb_without_ports = named("lb", type="LoadBalancer", allocateLoadBalancerNodePorts=False)
    await store.create("default", lb_without_ports, WriteOptions())
    assert port_keys(storage) == set()
    made = []
    for i in range(11):
        kind = "LoadBalancer" if i % 2 else "NodePort"
        created = await store.create("default", named(f"s{i}", type=kind), WriteOptions())
        made.append(created.obj["spec"]["ports"][0]["nodePort"])
    assert sorted(made) == list(range(30000, 30011))
    with pytest.raises(ApiError) as full:
        await store.create("default", named("s11", type="NodePort"), WriteOptions())
    assert "failed to allocate a nodePort: range is full" in full.value.message
    await store.delete("default", "s4", DeleteOptions())
    again = await store.create("default", named("s12", type="NodePort"), WriteOptions())
    assert again.obj["spec"]["ports"][0]["nodePort"] == made[4]


async def test_requested_node_ports_are_checked() -> None:
    storage = MemoryStorage()
    store = service_store(storage)
    await store.create(
        "default",
        named("a", type="NodePort", ports=[{"port": 80, "nodePort": 30005}]),
        WriteOptions(),
    )
    with pytest.raises(ApiError) as taken:
        await store.create(
            "default",
            named("b", type="NodePort", ports=[{"port": 80, "nodePort": 30005}]),
            WriteOptions(),
        )
    assert (
        "spec.ports[0].nodePort: Invalid value: 30005: provided port is already allocated"
        in taken.value.message
    )
    with pytest.raises(ApiError) as outside:
        await store.create(
            "default",
            named("c", type="NodePort", ports=[{"port": 80, "nodePort": 31000}]),
            WriteOptions(),
        )
    assert (
        "spec.ports[0].nodePort: Invalid value: 31000: provided port is not in the valid range. "
        "The range of valid ports is 30000-30010" in outside.value.message
    )


async def test_update_to_external_name_releases_the_ip() -> None:
    storage = MemoryStorage()
    store = service_store(storage)
    created = await store.create("default", named("a"), WriteOptions())
    body = dict(created.obj)
    body["spec"] = dict(body["spec"], type="ExternalName", externalName="example.com")
    updated = await store.update("default", "a", body, WriteOptions())
    assert "clusterIP" not in updated.obj["spec"]
    assert "ipFamilies" not in updated.obj["spec"]
    assert ip_keys(storage) == set()


# --- Endpoints and ServiceAccount ------------------------------------------------------------


def endpoints(subsets: list[dict[str, Any]]) -> Any:
    return build(EndpointsStrategy(), ns_body() | {"subsets": subsets})


def test_endpoints_validation() -> None:
    strategy = EndpointsStrategy()
    ep = endpoints(
        [
            {"ports": [{"port": 80}]},
            {
                "addresses": [{"ip": "127.0.0.1"}, {"ip": "x"}],
                "ports": [{"port": 80}, {"port": 0, "name": "b"}],
            },
        ]
    )
    errs = msgs(strategy.validate(ep))
    assert "subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`" in errs
    assert (
        'subsets[1].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)'
        in errs
    )
    assert (
        'subsets[1].addresses[1].ip: Invalid value: "x": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'
        in errs
    )
    assert "subsets[1].ports[0].name: Required value" in errs
    assert (
        "subsets[1].ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive" in errs
    )
    assert ep.subsets[0].ports[0].protocol == "TCP"


def test_endpoints_row() -> None:
    ep = endpoints(
        [{"addresses": [{"ip": f"10.0.0.{n}"} for n in range(1, 5)], "ports": [{"port": 80}]}]
    )
    assert format_endpoints(ep) == "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more..."
    assert (
        format_endpoints(endpoints([{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 53}]}]))
        == "[fd00::1]:53"
    )
    assert format_endpoints(endpoints([])) == "<none>"
    assert EndpointsStrategy().row(endpoints([]))[0] == "<none>"


def test_service_account_row() -> None:
    strategy = ServiceAccountStrategy()
    sa = build(strategy, ns_body() | {"secrets": [{"name": "a"}, {"name": "b"}]})
    assert strategy.row(sa)[0] == 2


def test_core_objects_refuse_unqualified_finalizers() -> None:
    strategy = ServiceAccountStrategy()
    sa = build(
        strategy,
        {
            "metadata": {
                "name": "a",
                "namespace": "default",
                "finalizers": ["mine", "example.com/ok"],
            }
        },
    )
    assert msgs(strategy.validate(sa)) == [
        'metadata.finalizers[0]: Invalid value: "mine": name is neither a standard finalizer name nor is it fully qualified'
    ]


def test_selectable_fields_stay() -> None:
    assert PodStrategy.selectable_fields[0] == "spec.nodeName"
    assert SecretStrategy().fields({"type": "Opaque"}) == {"type": "Opaque"}
    assert NodeStrategy().fields({"spec": {"unschedulable": True}}) == {
        "spec.unschedulable": "true"
    }
    assert NamespaceStrategy().fields({"status": {"phase": "Active"}}) == {"status.phase": "Active"}
