"""A container's environment: envFrom, env, valueFrom, and $(VAR) expansion."""

from __future__ import annotations

import base64

import pytest

from apitypes.core import ConfigMap, Container, Pod, ResourceFieldSelector, Secret, Service
from kubelet.envvars import (
    ConfigError,
    PodContext,
    container_env,
    expand,
    field_value,
    referenced_objects,
    resource_value,
)


def _pod(container: dict, **extra) -> Pod:
    return Pod.model_validate(
        {
            "metadata": {
                "name": "web",
                "namespace": "shop",
                "uid": "u-1",
                "labels": {"app": "web", "tier": "front"},
                "annotations": {"note": 'say "hi"'},
            },
            "spec": {"nodeName": "n1", "containers": [container], **extra},
        }
    )


def _ctx(**kw) -> PodContext:
    cm = ConfigMap.model_validate(
        {"metadata": {"name": "settings"}, "data": {"mode": "fast", "LEVEL": "3", "bad key": "x"}}
    )
    secret = Secret.model_validate(
        {"metadata": {"name": "creds"}, "data": {"password": base64.b64encode(b"s3cr3t").decode()}}
    )
    defaults = {
        "node_name": "n1",
        "pod_ip": "10.244.0.7",
        "host_ip": "192.0.2.2",
        "config_maps": {"settings": cm},
        "secrets": {"creds": secret},
        "node_allocatable": {"cpu": "2", "memory": "4Gi"},
    }
    defaults.update(kw)
    return PodContext(**defaults)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$(A)-$(B)", "1-two"),
        ("$(MISSING)", "$(MISSING)"),
        ("$$(A)", "$(A)"),
        ("cost: $5", "cost: $5"),
        ("unterminated $(A", "unterminated $(A"),
        ("$", "$"),
    ],
)
def test_expand(text: str, expected: str) -> None:
    assert expand(text, {"A": "1", "B": "two"}) == expected


def test_env_sources_in_order_with_expansion() -> None:
    container = {
        "name": "c",
        "envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "CFG_"}],
        "env": [
            {"name": "GREETING", "value": "mode=$(CFG_mode)"},
            {"name": "PASS", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
            {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            {"name": "TIER", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['tier']"}}},
            {"name": "CFG_LEVEL", "value": "override"},
        ],
    }
    pod = _pod(container)
    env = container_env(pod, pod.spec.containers[0], _ctx())
    assert env == {
        "CFG_mode": "fast",
        "CFG_LEVEL": "override",
        "GREETING": "mode=fast",
        "PASS": "s3cr3t",
        "MODE": "fast",
        "POD": "web",
        "IP": "10.244.0.7",
        "NODE": "n1",
        "TIER": "front",
    }
    # A key that is not a valid variable name is skipped, as Kubernetes does.
    assert "CFG_bad key" not in env


def test_missing_references_fail_unless_optional() -> None:
    missing_cm = {
        "name": "c",
        "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k"}}}],
    }
    pod = _pod(missing_cm)
    with pytest.raises(ConfigError, match='configmap "nope" not found'):
        container_env(pod, pod.spec.containers[0], _ctx())
    missing_key = {
        "name": "c",
        "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "nokey"}}}],
    }
    pod = _pod(missing_key)
    with pytest.raises(ConfigError, match="couldn't find key nokey in Secret shop/creds"):
        container_env(pod, pod.spec.containers[0], _ctx())
    optional = {
        "name": "c",
        "env": [
            {
                "name": "X",
                "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k", "optional": True}},
            }
        ],
        "envFrom": [{"secretRef": {"name": "absent", "optional": True}}],
    }
    pod = _pod(optional)
    assert container_env(pod, pod.spec.containers[0], _ctx()) == {}


def test_field_values_for_downward_api_files() -> None:
    pod = _pod({"name": "c"})
    assert field_value(pod, "metadata.labels", _ctx()) == 'app="web"\ntier="front"'
    assert field_value(pod, "metadata.annotations", _ctx()) == 'note="say \\"hi\\""'
    assert field_value(pod, "metadata.namespace", _ctx()) == "shop"
    assert field_value(pod, "status.hostIP", _ctx()) == "192.0.2.2"
    with pytest.raises(ConfigError):
        field_value(pod, "spec.unknown", _ctx())


def test_resource_field_ref_rounds_up_and_falls_back_to_allocatable() -> None:
    pod = _pod(
        {
            "name": "c",
            "resources": {"limits": {"memory": "100Mi"}, "requests": {"cpu": "250m"}},
        }
    )
    container = pod.spec.containers[0]
    ctx = _ctx()
    mem = ResourceFieldSelector(resource="limits.memory", divisor="1Mi")
    assert resource_value(pod, container, mem, ctx) == "100"
    cpu = ResourceFieldSelector(resource="requests.cpu", divisor="1")
    assert resource_value(pod, container, cpu, ctx) == "1"  # 250m rounds up to 1 core
    cpu_m = ResourceFieldSelector(resource="requests.cpu", divisor="1m")
    assert resource_value(pod, container, cpu_m, ctx) == "250"
    # No CPU limit: the node's allocatable CPU, as Kubernetes reports it.
    limit_cpu = ResourceFieldSelector(resource="limits.cpu")
    assert resource_value(pod, container, limit_cpu, ctx) == "2"


def test_referenced_objects() -> None:
    pod = _pod(
        {
            "name": "c",
            "envFrom": [{"secretRef": {"name": "s1"}}],
            "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "c1", "key": "k"}}}],
        },
        volumes=[
            {"name": "v1", "configMap": {"name": "c2"}},
            {"name": "v2", "secret": {"secretName": "s2"}},
            {
                "name": "v3",
                "projected": {
                    "sources": [{"configMap": {"name": "c3"}}, {"secret": {"name": "s3"}}]
                },
            },
        ],
    )
    config_maps, secrets = referenced_objects(pod)
    assert config_maps == {"c1", "c2", "c3"}
    assert secrets == {"s1", "s2", "s3"}


def test_container_model_round_trip_unchanged() -> None:
    # The env resolution must not mutate the pod's spec.
    pod = _pod({"name": "c", "env": [{"name": "A", "value": "$(B)"}]})
    before = pod.to_dict()
    container_env(pod, pod.spec.containers[0], _ctx())
    assert pod.to_dict() == before
    assert isinstance(pod.spec.containers[0], Container)


def _service(namespace: str, name: str, ip: str | None, ports: list[dict]) -> Service:
    return Service.model_validate(
        {
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"clusterIP": ip, "ports": ports},
        }
    )


SERVICES = [
    _service("default", "kubernetes", "10.96.0.1", [{"name": "https", "port": 443}]),
    _service("default", "other", "10.96.0.9", [{"port": 80}]),
    _service(
        "shop",
        "cart-api",
        "10.96.3.4",
        [{"name": "http", "port": 8080}, {"name": "dns", "port": 53, "protocol": "UDP"}],
    ),
    _service("shop", "headless", "None", [{"port": 80}]),
]


def test_services_give_the_variables_kubernetes_gives() -> None:
    env = container_env(
        _pod({"name": "c", "image": "i"}), Container(name="c"), _ctx(services=SERVICES)
    )
    assert env["KUBERNETES_SERVICE_HOST"] == "10.96.0.1"
    assert env["KUBERNETES_SERVICE_PORT"] == "443"
    assert env["KUBERNETES_SERVICE_PORT_HTTPS"] == "443"
    assert env["KUBERNETES_PORT"] == "tcp://10.96.0.1:443"
    assert env["CART_API_SERVICE_HOST"] == "10.96.3.4"
    assert env["CART_API_SERVICE_PORT"] == "8080"
    assert env["CART_API_SERVICE_PORT_DNS"] == "53"
    assert env["CART_API_PORT_53_UDP"] == "udp://10.96.3.4:53"
    assert env["CART_API_PORT_53_UDP_PROTO"] == "udp"
    assert env["CART_API_PORT_53_UDP_PORT"] == "53"
    assert env["CART_API_PORT_53_UDP_ADDR"] == "10.96.3.4"
    # Another namespace's Services and headless ones give nothing.
    assert not any(k.startswith(("OTHER_", "HEADLESS_")) for k in env)


def test_service_links_off_keeps_only_the_kubernetes_service() -> None:
    pod = _pod({"name": "c", "image": "i"}, enableServiceLinks=False)
    env = container_env(pod, Container(name="c"), _ctx(services=SERVICES))
    assert env["KUBERNETES_SERVICE_HOST"] == "10.96.0.1"
    assert not any(k.startswith("CART_API_") for k in env)


def test_the_container_wins_over_a_service_variable_and_may_refer_to_one() -> None:
    container = Container.model_validate(
        {
            "name": "c",
            "env": [
                {"name": "CART_API_SERVICE_PORT", "value": "1"},
                {"name": "URL", "value": "http://$(CART_API_SERVICE_HOST):8080"},
            ],
        }
    )
    env = container_env(_pod({"name": "c", "image": "i"}), container, _ctx(services=SERVICES))
    assert env["CART_API_SERVICE_PORT"] == "1"
    assert env["URL"] == "http://10.96.3.4:8080"
