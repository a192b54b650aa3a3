"""Resource names and quantities: container requests and limits, pod overhead."""

from __future__ import annotations

from apiserver.kinds.podspec.checks import qualified_name
from apiserver.kinds.podspec.qos import QOS_RESOURCES
from apitypes.core import ResourceRequirements
from apitypes.quantity import Quantity, QuantityError
from apitypes.validation import (
    IS_NEGATIVE,
    ErrorType,
    FieldError,
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    is_qualified_name,
    required,
)

# Resource names Kubernetes calls standard (``helper.IsStandardResourceName``).
_STANDARD_RESOURCES = frozenset(
    {
        "cpu",
        "memory",
        "ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
        "pods",
        "services",
        "replicationcontrollers",
        "resourcequotas",
        "secrets",
        "persistentvolumeclaims",
        "storage",
        "requests.storage",
        "services.nodeports",
        "services.loadbalancers",
        "configmaps",
    }
)


_STANDARD_CONTAINER_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})


def _is_native_resource(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def is_hugepages(name: str) -> bool:
    return name.startswith("hugepages-")


def _is_extended_resource(name: str) -> bool:
    if _is_native_resource(name) or name.startswith("requests."):
        return False
    return not is_qualified_name("requests." + name)


def _overcommit_allowed(name: str) -> bool:
    return _is_native_resource(name) and not is_hugepages(name)


def parse_quantity_field(text: str, path: FieldPath) -> tuple[Quantity | None, list[FieldError]]:
    """A quantity, or the error Kubernetes' decoder gives for its text."""
    try:
        return Quantity.parse(text), []
    except QuantityError as err:
        return None, [invalid(path, text, str(err))]


def resource_name_errors(name: str, path: FieldPath) -> list[FieldError]:
    errs = qualified_name(name, path)
    if errs:
        return errs
    if "/" not in name and name not in _STANDARD_RESOURCES and not is_hugepages(name):
        return [invalid(path, name, "must be a standard resource type or fully qualified")]
    return []


def _container_resource_name(name: str, path: FieldPath) -> list[FieldError]:
    errs = resource_name_errors(name, path)
    if "/" not in name:
        if name not in _STANDARD_CONTAINER_RESOURCES and not is_hugepages(name):
            errs.append(invalid(path, name, "must be a standard resource for containers"))
    elif not _is_native_resource(name) and not _is_extended_resource(name):
        errs.append(invalid(path, name, "doesn't follow extended resource name standard"))
    return errs


def validate_quantity_value(name: str, quantity: Quantity, path: FieldPath) -> list[FieldError]:
    """Non-negative, and whole for resources counted in units (``ValidateResourceQuantityValue``)."""
    errs: list[FieldError] = []
    if quantity.sign() < 0:
        errs.append(invalid(path, str(quantity), IS_NEGATIVE))
    if _is_extended_resource(name) and quantity.milli_value() % 1000:
        errs.append(invalid(path, str(quantity), "must be an integer"))
    return errs


def validate_resource_requirements(
    resources: ResourceRequirements | None,
    path: FieldPath,
    *,
    claim_names: frozenset[str] = frozenset(),
) -> list[FieldError]:
    """Names, quantities and ``requests <= limits`` of a container's resources."""
    if resources is None:
        return []
    errs: list[FieldError] = []
    lim_path = path.child("limits")
    req_path = path.child("requests")
    has_cpu_memory = False
    has_hugepages = False
    limits: dict[str, Quantity] = {}
    for name in sorted(resources.limits):
        entry = lim_path.key(name)
        errs.extend(_container_resource_name(name, entry))
        quantity, qerrs = parse_quantity_field(resources.limits[name], entry)
        errs.extend(qerrs)
        if quantity is not None:
            limits[name] = quantity
            errs.extend(validate_quantity_value(name, quantity, entry))
        has_cpu_memory |= name in QOS_RESOURCES
        has_hugepages |= is_hugepages(name)
    for name in sorted(resources.requests):
        entry = req_path.key(name)
        errs.extend(_container_resource_name(name, entry))
        quantity, qerrs = parse_quantity_field(resources.requests[name], entry)
        errs.extend(qerrs)
        if quantity is not None:
            errs.extend(validate_quantity_value(name, quantity, entry))
        if name in resources.limits:
            limit = limits.get(name)
            if quantity is not None and limit is not None:
                if quantity != limit and not _overcommit_allowed(name):
                    errs.append(
                        invalid(
                            req_path,
                            str(quantity),
                            f"must be equal to {name} limit of {limit}",
                        )
                    )
                elif quantity > limit:
                    errs.append(
                        invalid(
                            req_path,
                            str(quantity),
                            f"must be less than or equal to {name} limit of {limit}",
                        )
                    )
        elif not _overcommit_allowed(name):
            errs.append(required(lim_path, "Limit must be set for non overcommitable resources"))
        has_cpu_memory |= name in QOS_RESOURCES
        has_hugepages |= is_hugepages(name)
    if has_hugepages and not has_cpu_memory:
        errs.append(forbidden(path, "HugePages require cpu or memory"))
    seen: set[str] = set()
    for i, claim in enumerate(resources.claims):
        claim_path = path.child("claims").index(i)
        if not claim.name:
            errs.append(required(claim_path))
            continue
        if claim.name in seen:
            errs.append(duplicate(claim_path, claim.name))
        seen.add(claim.name)
        if claim.name not in claim_names:
            detail = "must be one of the names in pod.spec.resourceClaims"
            detail += (": " + ", ".join(sorted(claim_names))) if claim_names else " which is empty"
            errs.append(FieldError(ErrorType.NOT_FOUND, str(claim_path), claim.name, detail))
    return errs
