"""What an object counts against a ResourceQuota (Kubernetes' quota evaluators), shared by
the ResourceQuota admission plugin (the apiserver: does a new object fit?) and the
resource quota controller (the controller-manager: what does a namespace use?).

- every object: ``count/<resource>[.<group>]`` = 1; core kinds also under their legacy
  names (``pods``, ``services``, ``secrets``, ``configmaps``, ``replicationcontrollers``,
  ``resourcequotas``, ``persistentvolumeclaims``);
- a pod that has not finished: its effective requests (``requests.cpu`` and ``cpu``,
  ``requests.memory`` and ``memory``, ``requests.ephemeral-storage``, extended
  resources as ``requests.<name>``) and limits (``limits.*``); a finished pod counts
  nothing;
- a Service: ``services.nodeports`` (its node ports) and ``services.loadbalancers``.

A quota with ``scopes`` (or a ``scopeSelector``) counts only pods in all its scopes:
``Terminating`` (``activeDeadlineSeconds`` set), ``NotTerminating``, ``BestEffort``,
``NotBestEffort``, ``PriorityClass`` (by ``priorityClassName``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apitypes.core import Pod, PodSpec, ResourceQuotaSpec
from apitypes.quantity import Quantity, QuantityError
from apitypes.resources import (
    BEST_EFFORT,
    ResourceError,
    as_quantity,
    pod_limits,
    pod_qos_class,
    pod_requests,
)

Usage = dict[str, Quantity]

LEGACY_COUNTS = {
    "pods",
    "services",
    "secrets",
    "configmaps",
    "replicationcontrollers",
    "resourcequotas",
    "persistentvolumeclaims",
}
COMPUTE = ("cpu", "memory", "ephemeral-storage")
"""Resources counted as both ``<name>`` and ``requests.<name>``."""


def count_name(plural: str, group: str) -> str:
    return f"count/{plural}.{group}" if group else f"count/{plural}"


def one() -> Quantity:
    return Quantity.from_int(1)


def object_usage(plural: str, group: str, obj: Mapping[str, Any]) -> Usage:
    """What one object (wire form) counts."""
    if group == "" and plural == "pods" and _finished(obj):
        return {}
    usage: Usage = {count_name(plural, group): one()}
    if group == "" and plural in LEGACY_COUNTS:
        usage[plural] = one()
    if group == "" and plural == "pods":
        usage.update(_pod_compute(obj))
    if group == "" and plural == "services":
        spec = obj.get("spec") or {}
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            usage["services.nodeports"] = Quantity.from_int(len(spec.get("ports") or []))
        if spec.get("type") == "LoadBalancer":
            usage["services.loadbalancers"] = one()
    return usage


def _finished(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def _pod_compute(obj: Mapping[str, Any]) -> Usage:
    spec = PodSpec.model_validate(obj.get("spec") or {"containers": []})
    try:
        requests = pod_requests(spec, as_quantity)
        limits = pod_limits(spec, as_quantity)
    except (ResourceError, QuantityError):
        return {}
    usage: Usage = {}
    for name, amount in requests.items():
        usage[f"requests.{name}"] = amount
        if name in COMPUTE:
            usage[name] = amount
    for name, amount in limits.items():
        usage[f"limits.{name}"] = amount
    return usage


def add(total: Usage, more: Mapping[str, Quantity]) -> None:
    for name, amount in more.items():
        total[name] = total[name] + amount if name in total else amount


def matches_scopes(
    spec: ResourceQuotaSpec | None, plural: str, group: str, obj: Mapping[str, Any]
) -> bool:
    """Whether a quota with ``spec`` counts the object at all."""
    if spec is None:
        return True
    scopes: list[tuple[str, str, list[str]]] = [(s, "Exists", []) for s in spec.scopes]
    if spec.scope_selector is not None:
        scopes += [
            (r.scope_name, r.operator, list(r.values))
            for r in spec.scope_selector.match_expressions
        ]
    if not scopes:
        return True
    if plural != "pods" or group != "":
        return False
    pod = Pod.model_validate(obj)
    return all(_scope_matches(pod, *scope) for scope in scopes)


def _scope_matches(pod: Pod, scope: str, operator: str, values: list[str]) -> bool:
    spec = pod.spec or PodSpec(containers=[])
    if scope == "Terminating":
        return spec.active_deadline_seconds is not None
    if scope == "NotTerminating":
        return spec.active_deadline_seconds is None
    if scope == "BestEffort":
        return pod_qos_class(spec) == BEST_EFFORT
    if scope == "NotBestEffort":
        return pod_qos_class(spec) != BEST_EFFORT
    if scope == "PriorityClass":
        name = spec.priority_class_name or ""
        if operator == "Exists":
            return bool(name)
        if operator == "DoesNotExist":
            return not name
        if operator == "In":
            return name in values
        if operator == "NotIn":
            return name not in values
    return False


def missing_specs(hard: Mapping[str, str], pod: Pod) -> list[str]:
    """``requests.cpu for: c1,c2`` for each compute resource a quota limits that some
    container does not specify (Kubernetes refuses such a pod)."""
    spec = pod.spec
    if spec is None:
        return []
    found = []
    for key in sorted(hard):
        kind, _, resource = key.partition(".")
        if kind not in ("requests", "limits") or resource not in COMPUTE:
            if key in COMPUTE:
                kind, resource = "requests", key
            else:
                continue
        lacking = []
        for container in (*spec.init_containers, *spec.containers):
            values = container.resources.limits if container.resources else {}
            if kind == "requests" and container.resources:
                values = {**container.resources.limits, **container.resources.requests}
            if resource not in values:
                lacking.append(container.name)
        if lacking:
            found.append(f"{kind}.{resource} for: {','.join(lacking)}")
    return found


def parse_list(values: Mapping[str, str]) -> Usage:
    out: Usage = {}
    for name, text in values.items():
        try:
            out[name] = Quantity.parse(text)
        except QuantityError:
            continue
    return out


def format_list(values: Mapping[str, Quantity]) -> dict[str, str]:
    return {name: str(values[name]) for name in sorted(values)}
