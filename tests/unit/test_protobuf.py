"""apitypes.protobuf: Kubernetes' protobuf form of every served kind.

Three kinds of evidence: the table covers every field of every model a served kind
reaches; Kubernetes' own round-trip fixtures (bytes written by Go) decode to their JSON
and encode back to the same bytes; realistic objects of every kind survive JSON ->
protobuf -> JSON, changed only where Go's reading of protobuf changes them.
"""

from __future__ import annotations

import copy
import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from pydantic import BaseModel

from apitypes import meta, registry, schema
from apitypes import protobuf as pb
from apitypes.base import KubeObject
from tests.unit import test_apitypes_core as core_fixtures
from tests.unit import test_apitypes_workloads as workload_fixtures

TESTDATA = Path(__file__).parent / "testdata" / "k8s-api"

KINDS: list[type[KubeObject]] = [
    *(r.model for r in registry.RESOURCES),
    *registry.SUBRESOURCE_KINDS.values(),
    meta.Status,
    meta.DeleteOptions,
    meta.PartialObjectMetadata,
]


def _reachable() -> list[type[BaseModel]]:
    """Every model a served kind reaches, through fields and ``WireShape`` s."""
    seen: dict[type[BaseModel], None] = {}
    pending: list[type[BaseModel]] = list(KINDS)
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen[model] = None
        for fs in schema.fields_of(model).values():
            node: schema.TypeInfo | None = fs.value_type
            while node is not None:
                for nested in (node.model, node.wire_model):
                    if nested is not None and nested not in seen:
                        pending.append(nested)
                node = node.item
    return list(seen)


# --- the table covers every model ----------------------------------------------------------


def test_every_served_kind_and_its_list_has_a_message() -> None:
    for model in KINDS:
        assert pb.message_name(model), model
        assert pb.can_encode(model.API_VERSION, model.KIND)
    for r in registry.RESOURCES:
        if r.create_only:  # answered, never listed: no list kind
            continue
        assert pb.can_encode(r.api_version, r.list_kind), r.list_kind
    assert not pb.can_encode("meta.k8s.io/v1", "Table")


def test_every_model_field_has_a_protobuf_number() -> None:
    missing = []
    for model in _reachable():
        numbers = pb.field_numbers(model)
        type_meta = {"apiVersion", "kind"} if issubclass(model, KubeObject) else set()
        for wire in schema.fields_of(model):
            if wire not in type_meta and wire not in numbers:
                missing.append(f"{model.__module__}.{model.__qualname__}.{wire}")
    assert missing == [], "run hack/gen_protobuf_fields.py"


def test_numbers_are_kubernetes_own() -> None:
    from apitypes import apps, core

    assert pb.field_numbers(core.Pod) == {"metadata": (1,), "spec": (2,), "status": (3,)}
    assert pb.field_numbers(apps.DeploymentSpec)["progressDeadlineSeconds"] == (9,)
    assert pb.field_numbers(meta.ObjectMeta)["managedFields"] == (17,)
    # JSON inlines a Volume's source and a Probe's handler; protobuf nests them.
    assert pb.field_numbers(core.Volume)["configMap"] == (2, 19)
    assert pb.field_numbers(core.Probe)["httpGet"] == (1, 2)
    assert pb.field_numbers(core.SecretKeySelector)["name"] == (1, 1)


def test_the_codec_builds() -> None:
    pb.prepare()


# --- golden vectors: bytes written by Kubernetes ---------------------------------------------


def _golden() -> Iterator[str]:
    for path in sorted(TESTDATA.glob("*.pb")):
        yield path.stem


def _known(model: type[BaseModel], data: dict[str, Any], *, top: bool = True) -> None:
    """Drop, in place, what navarch's models do not have (fixtures are from Kubernetes'
    newest release), descending into JSON kept verbatim too."""
    fields = schema.fields_of(model)
    for key in list(data):
        if top and key in ("apiVersion", "kind"):
            continue
        fs = fields.get(key)
        if fs is None or (key in ("apiVersion", "kind") and issubclass(model, KubeObject)):
            del data[key]
        else:
            _known_value(fs.value_type, data[key])


def _known_value(node: schema.TypeInfo, value: Any) -> None:
    nested = node.model or node.wire_model
    if nested is not None and isinstance(value, dict):
        _known(nested, value, top=False)
    elif node.item is not None and isinstance(value, list):
        for item in value:
            _known_value(node.item, item)
    elif node.item is not None and isinstance(value, dict):
        for item in value.values():
            _known_value(node.item, item)


def _model_of(obj: dict[str, Any]) -> type[BaseModel]:
    for model in KINDS:
        if (obj["apiVersion"], obj["kind"]) == (model.API_VERSION, model.KIND):
            return model
    raise AssertionError(f"no model for {obj['kind']}")


# Kinds Kubernetes publishes no round-trip fixture for (kubernetes/api's testdata covers
# only its own groups), and the test that checks their bytes instead.
WITHOUT_GOLDEN_VECTOR = {
    "apiregistration.k8s.io.v1.APIService": "test_an_api_service_matches_its_message",
}


def test_golden_vectors_cover_every_served_kind() -> None:
    files = set(_golden())
    for r in registry.RESOURCES:
        name = f"{r.group or 'core'}.{r.version}.{r.kind}"
        assert name in files or WITHOUT_GOLDEN_VECTOR.get(name) in globals()


@pytest.mark.parametrize("name", list(_golden()))
def test_golden_vector_decodes_to_its_json(name: str) -> None:
    data = (TESTDATA / f"{name}.pb").read_bytes()
    want = json.loads((TESTDATA / f"{name}.json").read_text())
    _known(_model_of(want), want)
    assert pb.decode(data) == want


@pytest.mark.parametrize("name", list(_golden()))
def test_golden_vector_encodes_to_its_bytes(name: str) -> None:
    data = (TESTDATA / f"{name}.pb").read_bytes()
    decoded = pb.decode(data)
    # What Go wrote, less the fields navarch does not model: the protobuf library's own
    # parser keeps them as unknown fields, and drops them before writing it out again.
    codec = pb._codec()
    envelope = codec.unknown.FromString(data[len(pb.MAGIC) :])
    message = codec.plans[_model_of(decoded)].root.cls.FromString(envelope.raw)
    message.DiscardUnknownFields()
    envelope.raw = message.SerializeToString(deterministic=True)
    assert pb.encode(decoded) == pb.MAGIC + envelope.SerializeToString()


def test_encoding_matches_an_independently_described_message() -> None:
    # A ConfigMap described by hand from Kubernetes' generated.proto, with the protobuf
    # library doing all the encoding: the codec must write the same bytes.
    file = descriptor_pb2.FileDescriptorProto(name="cm.proto", package="t", syntax="proto2")
    optional = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
    repeated = descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
    string = descriptor_pb2.FieldDescriptorProto.TYPE_STRING
    bytes_ = descriptor_pb2.FieldDescriptorProto.TYPE_BYTES
    message = descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
    boolean = descriptor_pb2.FieldDescriptorProto.TYPE_BOOL
    int64 = descriptor_pb2.FieldDescriptorProto.TYPE_INT64

    def add(
        msg: Any, name: str, number: int, kind: int, label: int = optional, ref: str = ""
    ) -> None:
        f = msg.field.add(name=name, number=number, type=kind, label=label)
        if ref:
            f.type_name = ref

    def map_entry(msg: Any, name: str, value_kind: int) -> str:
        entry = msg.nested_type.add(name=name)
        entry.options.map_entry = True
        add(entry, "key", 1, string)
        add(entry, "value", 2, value_kind)
        return f".t.{msg.name}.{name}"

    time = file.message_type.add(name="Time")
    add(time, "seconds", 1, int64)
    add(time, "nanos", 2, descriptor_pb2.FieldDescriptorProto.TYPE_INT32)
    object_meta = file.message_type.add(name="ObjectMeta")
    add(object_meta, "name", 1, string)
    add(object_meta, "namespace", 3, string)
    add(object_meta, "resourceVersion", 6, string)
    add(object_meta, "creationTimestamp", 8, message, ref=".t.Time")
    labels = map_entry(object_meta, "LabelsEntry", string)
    add(object_meta, "labels", 11, message, repeated, labels)
    add(object_meta, "finalizers", 14, string, repeated)
    config_map = file.message_type.add(name="ConfigMap")
    add(config_map, "metadata", 1, message, ref=".t.ObjectMeta")
    data = map_entry(config_map, "DataEntry", string)
    add(config_map, "data", 2, message, repeated, data)
    binary = map_entry(config_map, "BinaryDataEntry", bytes_)
    add(config_map, "binaryData", 3, message, repeated, binary)
    add(config_map, "immutable", 4, boolean)
    type_meta = file.message_type.add(name="TypeMeta")
    add(type_meta, "apiVersion", 1, string)
    add(type_meta, "kind", 2, string)
    unknown = file.message_type.add(name="Unknown")
    add(unknown, "typeMeta", 1, message, ref=".t.TypeMeta")
    add(unknown, "raw", 2, bytes_)
    add(unknown, "contentEncoding", 3, string)
    add(unknown, "contentType", 4, string)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    cm_cls = message_factory.GetMessageClass(pool.FindMessageTypeByName("t.ConfigMap"))
    unknown_cls = message_factory.GetMessageClass(pool.FindMessageTypeByName("t.Unknown"))

    cm = cm_cls()
    cm.metadata.name = "settings"
    cm.metadata.namespace = "default"
    cm.metadata.resourceVersion = "42"
    cm.metadata.creationTimestamp.seconds = 1714557600  # 2024-05-01T10:00:00Z
    cm.metadata.creationTimestamp.nanos = 0
    cm.metadata.labels.update({"b": "2", "a": "1"})
    cm.metadata.finalizers.append("example.com/keep")
    cm.data.update({"mode": "fast", "empty": ""})
    cm.binaryData["blob"] = b"\x00\xff\x10"
    cm.immutable = False
    envelope = unknown_cls()
    envelope.typeMeta.apiVersion = "v1"
    envelope.typeMeta.kind = "ConfigMap"
    envelope.raw = cm.SerializeToString(deterministic=True)
    envelope.contentEncoding = ""
    envelope.contentType = ""
    expected = b"k8s\x00" + envelope.SerializeToString()

    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "settings",
            "namespace": "default",
            "resourceVersion": "42",
            "creationTimestamp": "2024-05-01T10:00:00Z",
            "labels": {"a": "1", "b": "2"},
            "finalizers": ["example.com/keep"],
        },
        "data": {"mode": "fast", "empty": ""},
        "binaryData": {"blob": "AP8Q"},
        "immutable": False,
    }
    assert pb.encode(obj) == expected
    assert pb.decode(expected) == obj


def test_an_api_service_matches_its_message() -> None:
    # kube-aggregator's apiregistration/v1 generated.proto, described by hand (with the
    # few ObjectMeta fields used), the protobuf library doing the encoding.
    f = descriptor_pb2.FieldDescriptorProto
    described = {
        "Time": [("seconds", 1, f.TYPE_INT64, ""), ("nanos", 2, f.TYPE_INT32, "")],
        "ObjectMeta": [("name", 1, f.TYPE_STRING, ""), ("creationTimestamp", 8, 0, "Time")],
        "ServiceReference": [
            ("namespace", 1, f.TYPE_STRING, ""), ("name", 2, f.TYPE_STRING, ""),
            ("port", 3, f.TYPE_INT32, ""),
        ],
        "APIServiceSpec": [
            ("service", 1, 0, "ServiceReference"), ("group", 2, f.TYPE_STRING, ""),
            ("version", 3, f.TYPE_STRING, ""), ("insecureSkipTLSVerify", 4, f.TYPE_BOOL, ""),
            ("caBundle", 5, f.TYPE_BYTES, ""), ("groupPriorityMinimum", 7, f.TYPE_INT32, ""),
            ("versionPriority", 8, f.TYPE_INT32, ""),
        ],
        "APIServiceCondition": [
            ("type", 1, f.TYPE_STRING, ""), ("status", 2, f.TYPE_STRING, ""),
            ("lastTransitionTime", 3, 0, "Time"), ("reason", 4, f.TYPE_STRING, ""),
            ("message", 5, f.TYPE_STRING, ""),
        ],
        "APIServiceStatus": [("conditions", 1, 0, "APIServiceCondition*")],
        "APIService": [
            ("metadata", 1, 0, "ObjectMeta"), ("spec", 2, 0, "APIServiceSpec"),
            ("status", 3, 0, "APIServiceStatus"),
        ],
        "TypeMeta": [("apiVersion", 1, f.TYPE_STRING, ""), ("kind", 2, f.TYPE_STRING, "")],
        "Unknown": [
            ("typeMeta", 1, 0, "TypeMeta"), ("raw", 2, f.TYPE_BYTES, ""),
            ("contentEncoding", 3, f.TYPE_STRING, ""), ("contentType", 4, f.TYPE_STRING, ""),
        ],
    }  # fmt: skip
    file = descriptor_pb2.FileDescriptorProto(name="as.proto", package="a", syntax="proto2")
    for name, fields in described.items():
        msg = file.message_type.add(name=name)
        for field, number, kind, ref in fields:
            label = f.LABEL_REPEATED if ref.endswith("*") else f.LABEL_OPTIONAL
            entry = msg.field.add(name=field, number=number, label=label)
            if ref:
                entry.type, entry.type_name = f.TYPE_MESSAGE, ".a." + ref.rstrip("*")
            else:
                entry.type = kind  # type: ignore[assignment]
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)

    def cls(name: str) -> Any:
        return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"a.{name}"))

    api_service = cls("APIService")()
    api_service.metadata.name = "v1beta1.metrics.k8s.io"
    api_service.metadata.creationTimestamp.seconds = 1714557600  # 2024-05-01T10:00:00Z
    api_service.metadata.creationTimestamp.nanos = 0
    spec = api_service.spec
    spec.service.namespace, spec.service.name, spec.service.port = "kube-system", "metrics", 443
    spec.group, spec.version = "metrics.k8s.io", "v1beta1"
    spec.insecureSkipTLSVerify = True
    spec.groupPriorityMinimum, spec.versionPriority = 100, 100
    cond = api_service.status.conditions.add()
    cond.type, cond.status, cond.reason = "Available", "False", "ServiceNotFound"
    cond.message = 'service/metrics in "kube-system" is not present'
    cond.lastTransitionTime.seconds, cond.lastTransitionTime.nanos = 1714557600, 0
    envelope = cls("Unknown")()
    envelope.typeMeta.apiVersion = "apiregistration.k8s.io/v1"
    envelope.typeMeta.kind = "APIService"
    envelope.raw = api_service.SerializeToString(deterministic=True)
    envelope.contentEncoding = envelope.contentType = ""
    expected = b"k8s\x00" + envelope.SerializeToString()

    obj = {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": "v1beta1.metrics.k8s.io", "creationTimestamp": "2024-05-01T10:00:00Z"},
        "spec": {
            "service": {"namespace": "kube-system", "name": "metrics", "port": 443},
            "group": "metrics.k8s.io",
            "version": "v1beta1",
            "insecureSkipTLSVerify": True,
            "groupPriorityMinimum": 100,
            "versionPriority": 100,
        },
        "status": {
            "conditions": [
                {
                    "type": "Available",
                    "status": "False",
                    "lastTransitionTime": "2024-05-01T10:00:00Z",
                    "reason": "ServiceNotFound",
                    "message": 'service/metrics in "kube-system" is not present',
                },
            ],
        },
    }
    assert pb.encode(obj) == expected
    assert pb.decode(expected) == obj


# --- realistic objects of every kind ----------------------------------------------------------

_RULE = {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list"]}
_USER = {"username": "system:serviceaccount:default:web", "uid": "u-1",
         "groups": ["system:serviceaccounts", "system:authenticated"],
         "extra": {"authentication.kubernetes.io/pod-name": ["web-1"]}}  # fmt: skip
SECURITY_OBJECTS: list[dict[str, Any]] = [
    {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "lr", "namespace": "team"},
     "spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}, "min": {"cpu": "10m"},
                          "default": {"memory": "256Mi"}, "defaultRequest": {"cpu": "100m"},
                          "maxLimitRequestRatio": {"cpu": "4"}}]}},
    {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q", "namespace": "team"},
     "spec": {"hard": {"pods": "10", "requests.cpu": "4"}, "scopes": ["NotTerminating"],
              "scopeSelector": {"matchExpressions": [
                  {"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}]}},
     "status": {"hard": {"pods": "10"}, "used": {"pods": "3"}}},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
     "metadata": {"name": "view", "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
     "rules": [_RULE, {"nonResourceURLs": ["/healthz"], "verbs": ["get"]}],
     "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"a": "true"}}]}},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
     "metadata": {"name": "reader", "namespace": "team"}, "rules": [_RULE]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
     "metadata": {"name": "admins"},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
     "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "ops"}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
     "metadata": {"name": "read", "namespace": "team"},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
     "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": "team"}]},
    {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "metadata": {},
     "spec": {"token": "abc", "audiences": ["api"]},
     "status": {"authenticated": True, "user": _USER, "audiences": ["api"]}},
    {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview", "metadata": {},
     "status": {"userInfo": _USER}},
    {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "metadata": {},
     "spec": {"user": "jane", "groups": ["dev"], "extra": {"k": ["v1", "v2"]},
              "resourceAttributes": {"namespace": "team", "verb": "get", "resource": "pods"}},
     "status": {"allowed": True, "reason": "RBAC: allowed"}},
    {"apiVersion": "authorization.k8s.io/v1", "kind": "LocalSubjectAccessReview",
     "metadata": {"namespace": "team"},
     "spec": {"user": "jane", "nonResourceAttributes": {"path": "/healthz", "verb": "get"}},
     "status": {"allowed": False, "denied": True}},
    {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "metadata": {},
     "spec": {"resourceAttributes": {"verb": "list", "group": "apps", "resource": "deployments"}},
     "status": {"allowed": True}},
    {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "metadata": {},
     "spec": {"namespace": "team"},
     "status": {"resourceRules": [_RULE], "incomplete": False,
                "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["/api"]}]}},
    {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
     "metadata": {"name": "node-csr-abc", "resourceVersion": "7"},
     "spec": {"request": "LS0tLS1CRUdJTg==", "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
              "expirationSeconds": 86400, "usages": ["digital signature", "client auth"],
              "username": "system:bootstrap:abcdef", "groups": ["system:bootstrappers"],
              "extra": {"k": ["v"]}},
     "status": {"conditions": [{"type": "Approved", "status": "True", "reason": "AutoApproved",
                                "lastUpdateTime": "2026-01-01T00:00:00Z"}],
                "certificate": "LS0tLS1CRUdJTg=="}},
]  # fmt: skip

REALISTIC: list[dict[str, Any]] = [
    core_fixtures.POD,
    core_fixtures.NODE,
    core_fixtures.SERVICE,
    core_fixtures.EVENT,
    core_fixtures.SECRET,
    core_fixtures.CONFIG_MAP,
    core_fixtures.NAMESPACE,
    core_fixtures.ENDPOINTS,
    core_fixtures.SERVICE_ACCOUNT,
    core_fixtures.BINDING,
    *(manifest for _, manifest in workload_fixtures.ROUND_TRIPS),
    {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": "web-x7k2p",
            "namespace": "default",
            "labels": {"kubernetes.io/service-name": "web"},
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "name": "web",
                    "uid": "u-1",
                    "controller": True,
                    "blockOwnerDeletion": True,
                },
            ],
        },
        "addressType": "IPv4",
        "endpoints": [
            {
                "addresses": ["10.244.1.5"],
                "conditions": {"ready": True, "serving": True, "terminating": False},
                "nodeName": "navarch-node-1",
                "targetRef": {"kind": "Pod", "namespace": "default", "name": "web-1", "uid": "p"},
                "hints": {"forZones": [{"name": "a"}]},
            },
        ],
        "ports": [{"name": "http", "protocol": "TCP", "port": 8080, "appProtocol": "http"}],
    },
    {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": "v1beta1.metrics.k8s.io"},
        "spec": {
            "service": {"namespace": "kube-system", "name": "metrics-server", "port": 443},
            "group": "metrics.k8s.io",
            "version": "v1beta1",
            "caBundle": "LS0tLS1CRUdJTg==",
            "groupPriorityMinimum": 100,
            "versionPriority": 100,
        },
        "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Passed"}]},
    },
    {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": 3,
            "minReadySeconds": 5,
            "selector": {"app": "web"},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "web:1"}]},
            },
        },
        "status": {
            "replicas": 3,
            "fullyLabeledReplicas": 3,
            "readyReplicas": 2,
            "availableReplicas": 2,
            "observedGeneration": 4,
            "conditions": [
                {
                    "type": "ReplicaFailure",
                    "status": "True",
                    "lastTransitionTime": "2024-05-01T10:00:00Z",
                    "reason": "FailedCreate",
                    "message": "quota",
                },
            ],
        },
    },
    *SECURITY_OBJECTS,
]


def _as_stored(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as the server stores and serves it (through its model)."""
    return _model_of(obj).model_validate(copy.deepcopy(obj)).to_dict()  # type: ignore[attr-defined,no-any-return]


def _differences(want: Any, got: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """``(path, value)`` of what ``want`` has and ``got`` lacks; fails on anything else."""
    if isinstance(want, dict):
        assert isinstance(got, dict), path
        for key, value in want.items():
            if key not in got:
                yield f"{path}.{key}", value
            else:
                yield from _differences(value, got[key], f"{path}.{key}")
        assert not set(got) - set(want), f"{path}: {set(got) - set(want)} appeared"
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), path
        for index, (a, b) in enumerate(zip(want, got, strict=True)):
            yield from _differences(a, b, f"{path}[{index}]")
    else:
        assert want == got, f"{path}: {want!r} became {got!r}"


def test_every_served_kind_has_a_realistic_object() -> None:
    kinds = {(obj["apiVersion"], obj["kind"]) for obj in REALISTIC}
    for r in registry.RESOURCES:
        assert (r.api_version, r.kind) in kinds, r.kind


@pytest.mark.parametrize("obj", REALISTIC, ids=lambda o: o["kind"])
def test_realistic_object_round_trips(obj: dict[str, Any]) -> None:
    stored = _as_stored(obj)
    data = pb.encode(stored)
    assert data.startswith(b"k8s\x00")
    back = pb.decode(data)
    # What may be lost is what Go's reading of protobuf loses too: zero values of
    # non-pointer fields and the type of an object nested in another.
    for path, value in _differences(stored, back):
        leaf = path.rsplit(".", 1)[1]
        assert value in (0, "", False, {}, []) or leaf in ("apiVersion", "kind"), path
    # And what comes back is stable.
    assert pb.decode(pb.encode(back)) == back


POINTERS = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "default", "generation": 3},
    "spec": {
        "replicas": 0,
        "selector": {},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {
                        "name": "web",
                        "image": "busybox:1",
                        "ports": [{"containerPort": 8080}],
                        "readinessProbe": {"httpGet": {"port": "http"}},
                        "stdin": False,
                    }
                ],
                "automountServiceAccountToken": False,
                "volumes": [
                    {"name": "scratch", "emptyDir": {}},
                    {"name": "legacy", "gcePersistentDisk": {"pdName": "disk-1", "partition": 2}},
                ],
            },
        },
        "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
        "minReadySeconds": 0,
        "paused": False,
    },
    "status": {"replicas": 0, "observedGeneration": 3},
}


def test_zero_survives_where_go_has_a_pointer_and_not_elsewhere() -> None:
    back = pb.decode(pb.encode(POINTERS))
    spec = back["spec"]
    assert spec["replicas"] == 0  # *int32
    assert spec["selector"] == {}  # *LabelSelector: an empty selector is a value
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0  # *IntOrString
    pod = spec["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False  # *bool
    assert pod["volumes"][0] == {"name": "scratch", "emptyDir": {}}
    assert pod["volumes"][1]["gcePersistentDisk"] == {"pdName": "disk-1", "partition": 2}
    assert pod["containers"][0]["readinessProbe"] == {"httpGet": {"port": "http"}}
    # Non-pointer zeros read as unset, as Go's omitempty writes them.
    assert "minReadySeconds" not in spec and "paused" not in spec
    assert "stdin" not in pod["containers"][0]
    assert back["status"] == {"observedGeneration": 3}


def test_a_zero_go_json_always_writes_is_kept() -> None:
    # No omitempty on these Go fields: Kubernetes' JSON has the zeros, so ours does.
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {
            "containers": [{"name": "c", "stdin": False, "env": [{"name": "E", "value": ""}]}]
        },
        "status": {
            "containerStatuses": [
                {"name": "c", "image": "i", "imageID": "", "ready": False, "restartCount": 0}
            ]
        },
    }
    back = pb.decode(pb.encode(pod))
    assert back["status"] == pod["status"]
    assert back["spec"]["containers"] == [{"name": "c", "env": [{"name": "E"}]}]


def test_a_zero_the_model_requires_is_kept() -> None:
    status = {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0}
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "d"}}
    back = pb.decode(pb.encode({**ds, "status": {**status, "numberReady": 0}}))
    assert back["status"] == {**status, "numberReady": 0}


def test_secret_bytes_travel_raw() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"key": "AAEC/w=="},
        "type": "Opaque",
    }
    data = pb.encode(secret)
    assert b"\x00\x01\x02\xff" in data and b"AAEC/w==" not in data
    assert pb.decode(data) == secret
    with pytest.raises(pb.ProtobufError, match="data"):
        pb.encode({**secret, "data": {"key": "not base64!"}})


def test_times_keep_their_precision() -> None:
    lease = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "node-1", "creationTimestamp": "1969-07-20T20:17:40Z"},
        "spec": {
            "holderIdentity": "node-1",
            "renewTime": "2024-05-01T10:00:00.123456Z",
            "acquireTime": "2024-05-01T09:00:00.000001Z",
        },
    }
    assert pb.decode(pb.encode(lease)) == lease


def test_raw_json_travels_as_text() -> None:
    revision = {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": "web-1",
            "managedFields": [
                {"manager": "kubectl", "operation": "Apply", "fieldsV1": {"f:data": {}}}
            ],
        },
        "data": {"spec": {"template": {"$patch": "replace"}}},
        "revision": 1,
    }
    data = pb.encode(revision)
    assert b'{"spec":{"template":{"$patch":"replace"}}}' in data
    assert pb.decode(data) == revision


# --- lists, watch events, errors -------------------------------------------------------------


def test_lists_carry_their_items_and_metadata() -> None:
    items = [
        json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n}}).encode()
        for n in ("a", "b")
    ]
    data = pb.encode_list("v1", "ConfigMapList", {"resourceVersion": "7", "continue": "x"}, items)
    assert pb.decode(data) == {
        "apiVersion": "v1",
        "kind": "ConfigMapList",
        "metadata": {"resourceVersion": "7", "continue": "x"},
        "items": [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}},
        ],
    }
    assert pb.encode(pb.decode(data)) == data
    empty = pb.decode(pb.encode_list("apps/v1", "DeploymentList", {"resourceVersion": "1"}, []))
    assert empty["items"] == [] and empty["metadata"] == {"resourceVersion": "1"}


def test_partial_object_metadata_lists() -> None:
    item = {
        "apiVersion": "meta.k8s.io/v1",
        "kind": "PartialObjectMetadata",
        "metadata": {"name": "a", "labels": {"x": "y"}},
    }
    data = pb.encode_list("meta.k8s.io/v1", "PartialObjectMetadataList", {}, [item])
    assert pb.decode(data)["items"] == [item]


def test_watch_events_are_length_framed() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "resourceVersion": "9"}}
    status = {
        "apiVersion": "v1",
        "kind": "Status",
        "status": "Failure",
        "message": "too old resource version: 1 (5)",
        "reason": "Expired",
        "code": 410,
    }
    stream = pb.encode_watch_event("ADDED", pod) + pb.encode_watch_event("ERROR", status)
    (size,) = struct.unpack(">I", stream[:4])
    frames = pb.split_frames(stream)
    assert len(frames) == 2 and len(frames[0]) == size
    assert pb.decode_watch_event(frames[0]) == {"type": "ADDED", "object": pod}
    assert pb.decode_watch_event(frames[1]) == {"type": "ERROR", "object": status}
    # Frames arrive in any chunks.
    reader = pb.FrameReader()
    got = [frame for i in range(0, len(stream), 5) for frame in reader.feed(stream[i : i + 5])]
    assert got == list(frames)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"kind": "Pod"}', "k8s"),
        (b"k8s\x00\xff\xff", "malformed"),
        (pb.MAGIC + b"\n\x0e\n\x02v1\x12\x08Gadget\x12\x00", "Gadget"),
    ],
)
def test_what_is_not_a_kubernetes_object_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(pb.ProtobufError, match=message):
        pb.decode(data)


def test_the_envelope_may_leave_the_kind_to_the_endpoint() -> None:
    raw = pb.encode({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}})
    codec = pb._codec()
    envelope = codec.unknown.FromString(raw[4:])
    envelope.typeMeta.Clear()
    bare = pb.MAGIC + envelope.SerializeToString()
    assert pb.decode(bare, default=("v1", "Namespace"))["metadata"] == {"name": "n"}


def test_a_value_of_the_wrong_type_is_named() -> None:
    with pytest.raises(pb.ProtobufError, match=r"spec\.containers\.ports\.containerPort"):
        pb.encode(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "spec": {"containers": [{"name": "c", "ports": [{"containerPort": "80"}]}]},
            }
        )
    with pytest.raises(pb.ProtobufError, match="Table"):
        pb.encode({"apiVersion": "meta.k8s.io/v1", "kind": "Table"})
