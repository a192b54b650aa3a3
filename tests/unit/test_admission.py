"""The admission plugins' logic, each against a fake lookup: NamespaceLifecycle,
DefaultTolerationSeconds, LimitRanger, ResourceQuota (and ``apitypes.quota``) and
PodSecurity."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from apiserver import errors
from apiserver.admission import CREATE, DELETE, UPDATE, Attributes, Settings
from apiserver.admission.defaulttolerationseconds import DefaultTolerationSeconds
from apiserver.admission.limitranger import ANNOTATION, LimitRanger
from apiserver.admission.namespacelifecycle import NamespaceLifecycle
from apiserver.admission.podsecurity import PodSecurity, evaluate
from apiserver.admission.resourcequota import ResourceQuotaPlugin
from apiserver.user import UserInfo
from apitypes import quota, registry
from apitypes.apps import Deployment
from apitypes.core import Pod, PodSpec, ResourceQuotaSpec, Secret
from apitypes.quantity import Quantity

ALICE = UserInfo("alice", groups=("system:authenticated",))


class FakeLookup:
    """Objects by (plural, namespace, name); status writes recorded, conflicts injectable."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str | None, str], dict[str, Any]] = {}
        self.status_writes: list[dict[str, Any]] = []
        self.conflicts = 0

    def put(self, plural: str, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        self.objects[(plural, meta.get("namespace"), meta["name"])] = obj

    async def get(
        self, plural: str, namespace: str | None, name: str, group: str = ""
    ) -> dict[str, Any] | None:
        return self.objects.get((plural, namespace, name))

    def cached_list(
        self, plural: str, namespace: str | None = None, group: str = ""
    ) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(o)
            for (p, ns, _), o in self.objects.items()
            if p == plural and (namespace is None or ns == namespace)
        ]

    async def create(
        self, plural: str, namespace: str | None, body: dict[str, Any], group: str = ""
    ) -> dict[str, Any] | None:
        self.put(plural, body)
        return body

    def changes(self, plural: str, group: str = "") -> int:
        return 0

    async def update_status(
        self, plural: str, namespace: str | None, body: dict[str, Any], group: str = ""
    ) -> dict[str, Any]:
        if self.conflicts:
            self.conflicts -= 1
            # Another create charged the quota meanwhile.
            stored = self.objects[(plural, namespace, body["metadata"]["name"])]
            stored["status"]["used"]["pods"] = str(int(stored["status"]["used"]["pods"]) + 1)
            raise errors.ApiError(409, "Conflict", "the object has been modified")
        self.status_writes.append(body)
        self.put(plural, body)
        return body


def pod(name: str = "web", ns: str = "team", **spec: Any) -> Pod:
    body: dict[str, Any] = {"containers": [{"name": "c", "image": "nginx"}], **spec}
    return Pod.model_validate({"metadata": {"name": name, "namespace": ns}, "spec": body})


def attrs(obj: Any, operation: str = CREATE, plural: str = "pods", group: str = "", **kw: Any):
    return Attributes(
        operation=operation,
        resource=registry.resource(group, plural),
        namespace=kw.pop("namespace", "team"),
        name=kw.pop("name", obj.metadata.name if obj is not None else ""),
        user=ALICE,
        obj=obj,
        **kw,
    )


# --- NamespaceLifecycle -----------------------------------------------------------------


async def test_the_system_namespaces_may_not_be_deleted() -> None:
    plugin = NamespaceLifecycle(FakeLookup(), Settings())
    for name in ("default", "kube-system", "kube-public"):
        a = Attributes(DELETE, registry.resource("", "namespaces"), None, name, ALICE)
        with pytest.raises(errors.ApiError) as err:
            await plugin.validate(a)
        assert err.value.code == 403
        assert err.value.message == (
            f'namespaces "{name}" is forbidden: this namespace may not be deleted'
        )
    await plugin.validate(Attributes(DELETE, registry.resource("", "namespaces"), None, "t", ALICE))


# --- DefaultTolerationSeconds -----------------------------------------------------------


async def test_default_toleration_seconds_added_unless_the_pod_has_its_own() -> None:
    plugin = DefaultTolerationSeconds(
        FakeLookup(),
        Settings(
            default_not_ready_toleration_seconds=60, default_unreachable_toleration_seconds=90
        ),
    )
    plain = pod()
    await plugin.admit(attrs(plain))
    assert {
        (t.key, t.operator, t.effect, t.toleration_seconds) for t in plain.spec.tolerations
    } == {
        ("node.kubernetes.io/not-ready", "Exists", "NoExecute", 60),
        ("node.kubernetes.io/unreachable", "Exists", "NoExecute", 90),
    }
    own = pod(tolerations=[{"key": "node.kubernetes.io/unreachable", "operator": "Exists"}])
    await plugin.admit(attrs(own))
    assert [t.key for t in own.spec.tolerations] == [
        "node.kubernetes.io/unreachable",
        "node.kubernetes.io/not-ready",
    ]
    assert own.spec.tolerations[0].toleration_seconds is None
    # An empty key (any operator) with no effect tolerates both already.
    everything = pod(tolerations=[{"operator": "Exists"}])
    await plugin.admit(attrs(everything))
    assert len(everything.spec.tolerations) == 1
    # Updates are left alone.
    updated = pod()
    await plugin.admit(attrs(updated, UPDATE))
    assert updated.spec.tolerations == []


# --- LimitRanger --------------------------------------------------------------------------


def limit_range(*items: dict[str, Any], ns: str = "team") -> dict[str, Any]:
    return {"metadata": {"name": "lr", "namespace": ns}, "spec": {"limits": list(items)}}


async def test_limit_ranger_defaults_requests_and_limits() -> None:
    lookup = FakeLookup()
    lookup.put(
        "limitranges",
        limit_range(
            {"type": "Container", "default": {"cpu": "500m"}, "defaultRequest": {"cpu": "100m"}}
        ),
    )
    plugin = LimitRanger(lookup, Settings())
    p = pod(
        containers=[
            {"name": "a", "image": "x"},
            {"name": "b", "image": "x", "resources": {"limits": {"cpu": "1"}}},
        ]
    )
    await plugin.admit(attrs(p))
    a, b = p.spec.containers
    assert a.resources is not None and b.resources is not None
    assert (a.resources.limits, a.resources.requests) == ({"cpu": "500m"}, {"cpu": "100m"})
    assert (b.resources.limits, b.resources.requests) == ({"cpu": "1"}, {"cpu": "100m"})
    assert p.metadata.annotations[ANNOTATION] == (
        "LimitRanger plugin set: cpu request for container a; cpu limit for container a; "
        "cpu request for container b"
    )
    # Another namespace's ranges do not apply.
    other = pod(ns="elsewhere")
    await plugin.admit(attrs(other, namespace="elsewhere"))
    assert other.spec.containers[0].resources is None


async def test_limit_ranger_refuses_what_is_out_of_range_naming_every_violation() -> None:
    lookup = FakeLookup()
    lookup.put(
        "limitranges",
        limit_range(
            {"type": "Container", "max": {"cpu": "500m"}, "min": {"memory": "64Mi"}},
            {"type": "Pod", "max": {"cpu": "800m"}},
        ),
    )
    plugin = LimitRanger(lookup, Settings())
    big = pod(
        containers=[
            {"name": "a", "image": "x", "resources": {"limits": {"cpu": "1"}}},
            {"name": "b", "image": "x", "resources": {"requests": {"memory": "128Mi"}}},
        ]
    )
    with pytest.raises(errors.ApiError) as err:
        await plugin.validate(attrs(big))
    assert err.value.code == 403
    assert err.value.message.startswith('pods "web" is forbidden: [')
    assert "maximum cpu usage per Container is 500m, but limit is 1" in err.value.message
    assert "minimum memory usage per Container is 64Mi.  No request is specified" in (
        err.value.message
    )
    assert "maximum cpu usage per Pod is 800m, but limit is 1]" in err.value.message
    fits = pod(
        containers=[
            {
                "name": "a",
                "image": "x",
                "resources": {"limits": {"cpu": "400m", "memory": "100Mi"}},
            }
        ]
    )
    await plugin.validate(attrs(fits))


async def test_limit_ranger_ratio() -> None:
    lookup = FakeLookup()
    lookup.put(
        "limitranges", limit_range({"type": "Container", "maxLimitRequestRatio": {"cpu": "2"}})
    )
    plugin = LimitRanger(lookup, Settings())
    spiky = pod(
        containers=[
            {
                "name": "a",
                "image": "x",
                "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "300m"}},
            }
        ]
    )
    with pytest.raises(errors.ApiError) as err:
        await plugin.validate(attrs(spiky))
    assert "cpu max limit to request ratio per Container is 2, but provided ratio is 3.0" in (
        err.value.message
    )


# --- ResourceQuota ------------------------------------------------------------------------


def resource_quota(hard: dict[str, str], used: dict[str, str] | None, **spec: Any):
    body: dict[str, Any] = {
        "metadata": {"name": "q", "namespace": "team", "resourceVersion": "7"},
        "spec": {"hard": hard, **spec},
    }
    if used is not None:
        body["status"] = {"hard": hard, "used": used}
    return body


def sized(cpu: str, memory: str = "64Mi", **spec: Any) -> Pod:
    resources = {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu}}
    return pod(containers=[{"name": "c", "image": "x", "resources": resources}], **spec)


async def test_quota_charges_a_create_that_fits() -> None:
    lookup = FakeLookup()
    lookup.put(
        "resourcequotas",
        resource_quota({"pods": "2", "requests.cpu": "1"}, {"pods": "1", "requests.cpu": "200m"}),
    )
    await ResourceQuotaPlugin(lookup, Settings()).validate(attrs(sized("300m")))
    (written,) = lookup.status_writes
    assert written["status"]["used"] == {"pods": "2", "requests.cpu": "500m"}
    assert written["metadata"]["resourceVersion"] == "7"  # the compare-and-swap precondition


async def test_quota_exceeded_is_forbidden_in_kubernetes_words() -> None:
    lookup = FakeLookup()
    lookup.put(
        "resourcequotas",
        resource_quota({"pods": "2", "requests.cpu": "1"}, {"pods": "2", "requests.cpu": "900m"}),
    )
    with pytest.raises(errors.ApiError) as err:
        await ResourceQuotaPlugin(lookup, Settings()).validate(attrs(sized("300m")))
    assert err.value.code == 403 and err.value.reason == "Forbidden"
    assert err.value.message == (
        'pods "web" is forbidden: exceeded quota: q, requested: pods=1,requests.cpu=300m, '
        "used: pods=2,requests.cpu=900m, limited: pods=2,requests.cpu=1"
    )
    assert lookup.status_writes == []


async def test_quota_refuses_pods_without_the_limited_resources_and_unknown_status() -> None:
    lookup = FakeLookup()
    lookup.put("resourcequotas", resource_quota({"limits.memory": "1Gi"}, {"limits.memory": "0"}))
    plugin = ResourceQuotaPlugin(lookup, Settings())
    with pytest.raises(errors.ApiError) as err:
        await plugin.validate(attrs(sized("100m")))
    assert err.value.message.endswith("failed quota: q: must specify limits.memory for: c")
    lookup.put("resourcequotas", resource_quota({"pods": "5"}, None))
    with pytest.raises(errors.ApiError) as err:
        await plugin.validate(attrs(pod()))
    assert err.value.message.endswith("status unknown for quota: q, resources: pods")


async def test_quota_counts_again_after_a_concurrent_charge() -> None:
    lookup = FakeLookup()
    lookup.put("resourcequotas", resource_quota({"pods": "3"}, {"pods": "1"}))
    lookup.conflicts = 1
    await ResourceQuotaPlugin(lookup, Settings()).validate(attrs(pod()))
    # Charged once, on the count after the other create: 1 + 1 (theirs) + 1 (ours).
    assert [w["status"]["used"] for w in lookup.status_writes] == [{"pods": "3"}]
    lookup.put("resourcequotas", resource_quota({"pods": "3"}, {"pods": "2"}))
    lookup.conflicts = 1
    with pytest.raises(errors.ApiError) as err:  # the concurrent one took the last unit
        await ResourceQuotaPlugin(lookup, Settings()).validate(attrs(pod()))
    assert "exceeded quota: q, requested: pods=1, used: pods=3, limited: pods=3" in (
        err.value.message
    )


async def test_quota_dry_run_and_other_kinds() -> None:
    lookup = FakeLookup()
    lookup.put(
        "resourcequotas",
        resource_quota({"pods": "3", "count/secrets": "1"}, {"pods": "0", "count/secrets": "1"}),
    )
    plugin = ResourceQuotaPlugin(lookup, Settings())
    await plugin.validate(attrs(pod(), dry_run=True))
    assert lookup.status_writes == []
    secret = Secret.model_validate({"metadata": {"name": "s", "namespace": "team"}})
    with pytest.raises(errors.ApiError) as err:
        await plugin.validate(attrs(secret, plural="secrets"))
    assert err.value.message == (
        'secrets "s" is forbidden: exceeded quota: q, requested: count/secrets=1, '
        "used: count/secrets=1, limited: count/secrets=1"
    )


def test_quota_usage_and_scopes() -> None:
    p = sized("250m", "128Mi", activeDeadlineSeconds=30).to_dict()
    usage = quota.object_usage("pods", "", p)
    assert {k: str(v) for k, v in usage.items()} == {
        "count/pods": "1", "pods": "1",
        "requests.cpu": "250m", "cpu": "250m",
        "requests.memory": "128Mi", "memory": "128Mi",
        "limits.cpu": "250m",
    }  # fmt: skip
    assert quota.object_usage("pods", "", {**p, "status": {"phase": "Succeeded"}}) == {}
    lb = {"spec": {"type": "LoadBalancer", "ports": [{"port": 80}, {"port": 443}]}}
    assert quota.object_usage("services", "", lb)["services.nodeports"] == Quantity.from_int(2)
    assert "count/deployments.apps" in quota.object_usage("deployments", "apps", {})
    spec = ResourceQuotaSpec.model_validate({"scopes": ["Terminating", "NotBestEffort"]})
    assert quota.matches_scopes(spec, "pods", "", p)
    assert not quota.matches_scopes(spec, "pods", "", pod().to_dict())  # best effort, no deadline
    assert not quota.matches_scopes(spec, "secrets", "", {})
    selector = ResourceQuotaSpec.model_validate(
        {"scopeSelector": {"matchExpressions": [
            {"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}]}}
    )  # fmt: skip
    assert quota.matches_scopes(selector, "pods", "", pod(priorityClassName="high").to_dict())
    assert not quota.matches_scopes(selector, "pods", "", pod(priorityClassName="low").to_dict())


# --- PodSecurity --------------------------------------------------------------------------


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "labels": {f"pod-security.kubernetes.io/{k}": v for k, v in labels.items()},
        }
    }


def privileged_pod() -> Pod:
    return pod(
        hostNetwork=True,
        containers=[
            {
                "name": "c",
                "image": "x",
                "securityContext": {"privileged": True, "capabilities": {"add": ["SYS_ADMIN"]}},
                "ports": [{"containerPort": 80, "hostPort": 8080}],
            }
        ],
        volumes=[{"name": "root", "hostPath": {"path": "/"}}],
    )


async def test_baseline_refuses_a_privileged_pod_naming_every_field() -> None:
    lookup = FakeLookup()
    lookup.put("namespaces", namespace("team", enforce="baseline"))
    with pytest.raises(errors.ApiError) as err:
        await PodSecurity(lookup, Settings()).validate(attrs(privileged_pod()))
    assert err.value.code == 403
    assert err.value.message == (
        'pods "web" is forbidden: violates PodSecurity "baseline:latest": '
        "host namespaces (hostNetwork=true), "
        'privileged (container "c" must not set securityContext.privileged=true), '
        'non-default capabilities (container "c" must not include "SYS_ADMIN" in '
        "securityContext.capabilities.add), "
        'hostPath volumes (volume "root"), hostPort (container "c" uses hostPort 8080)'
    )
    assert err.value.details is not None
    assert [c["field"] for c in err.value.details["causes"]] == [
        "spec.hostNetwork",
        "spec.containers[0].securityContext.privileged",
        "spec.containers[0].securityContext.capabilities.add",
        "spec.volumes[0].hostPath",
        "spec.containers[0].ports",
    ]


async def test_pod_security_levels_default_exemptions_and_warnings() -> None:
    lookup = FakeLookup()
    lookup.put("namespaces", namespace("team"))
    lookup.put("namespaces", namespace("open", enforce="privileged", warn="baseline"))
    lookup.put("namespaces", namespace("infra"))
    plugin = PodSecurity(lookup, Settings())
    await plugin.validate(attrs(privileged_pod()))  # unlabelled: the default, privileged
    strict = PodSecurity(
        lookup, Settings(pod_security_default="baseline", pod_security_exempt_namespaces=("infra",))
    )
    with pytest.raises(errors.ApiError):
        await strict.validate(attrs(privileged_pod()))
    await strict.validate(attrs(privileged_pod(), namespace="infra"))
    warned = attrs(privileged_pod(), namespace="open")
    await strict.validate(warned)
    assert len(warned.warnings) == 1
    assert warned.warnings[0].startswith('would violate PodSecurity "baseline:latest": host')
    # A workload's template is warned about, never refused.
    deployment = Deployment.model_validate(
        {
            "metadata": {"name": "d", "namespace": "team"},
            "spec": {
                "selector": {"matchLabels": {"a": "b"}},
                "template": {
                    "metadata": {"labels": {"a": "b"}},
                    "spec": privileged_pod().spec.to_dict(),  # type: ignore[union-attr]
                },
            },
        }
    )
    lookup.put("namespaces", namespace("team", enforce="baseline", warn="baseline"))
    workload = attrs(deployment, plural="deployments", group="apps")
    await strict.validate(workload)
    assert workload.warnings[0].startswith(
        'would violate PodSecurity "baseline:latest": Deployment template host namespaces'
    )
    # An update that leaves the spec as it was is not checked again.
    old = privileged_pod()
    await strict.validate(attrs(privileged_pod(), UPDATE, old=old))


def test_restricted_requires_the_hardened_settings() -> None:
    spec = pod(volumes=[{"name": "data", "nfs": {"server": "s", "path": "/"}}]).spec
    assert spec is not None
    checks = [v.check for v in evaluate("restricted", spec)]
    assert checks == [
        "restricted volume types",
        "allowPrivilegeEscalation != false",
        "runAsNonRoot != true",
        "seccompProfile",
        "unrestricted capabilities",
    ]
    assert evaluate("baseline", spec) == []
    hardened = PodSpec.model_validate(
        {
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": "c",
                    "image": "x",
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
                    },
                }
            ],
        }
    )
    assert evaluate("restricted", hardened) == []


async def test_limit_ranger_checks_requests_against_max_and_limits_against_min() -> None:
    lookup = FakeLookup()
    lookup.put(
        "limitranges",
        limit_range({"type": "Container", "min": {"cpu": "100m"}, "max": {"memory": "1Gi"}}),
    )
    plugin = LimitRanger(lookup, Settings())
    odd = pod(
        containers=[
            {
                "name": "a",
                "image": "x",
                "resources": {
                    "requests": {"cpu": "200m", "memory": "2Gi"},
                    "limits": {"cpu": "50m", "memory": "512Mi"},
                },
            }
        ]
    )
    with pytest.raises(errors.ApiError) as err:
        await plugin.validate(attrs(odd))
    assert err.value.message == (
        'pods "web" is forbidden: [minimum cpu usage per Container is 100m, but limit is 50m, '
        "maximum memory usage per Container is 1Gi, but request is 2Gi]"
    )
