"""What a pod asks for, as Kubernetes counts it: effective requests and limits, QoS class.

One implementation for everyone who counts a pod's resources: the scheduler (fit and
scores, in integer amounts), ``navctl describe node`` (per-pod requests and limits, in
quantities) and the pod's QoS class (the apiserver sets it; ``navctl describe pod``
falls back on it). As Kubernetes' ``component-helpers/resource`` and
``pkg/apis/core/v1/helper/qos``:

- regular containers run together, so their amounts add up;
- init containers run one at a time before them, so the pod needs at least the largest
  of them, each plus the sidecars started before it;
- sidecars (init containers with ``restartPolicy: Always``) keep running, so they add
  to the regular containers as well;
- ``spec.overhead`` (the runtime's own cost) is added to every request, and to the
  limits that are set;
- a container with a limit but no request requests its limit (API defaulting does
  this; repeating it here makes undefaulted objects count the same).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final, TypeVar

from apitypes.core import Container, PodSpec
from apitypes.quantity import Quantity, QuantityError

Amount = TypeVar("Amount", int, Quantity)
"""What the caller counts in: integers (millicores, bytes) or exact quantities."""

RESTART_ALWAYS: Final = "Always"

GUARANTEED: Final = "Guaranteed"
BURSTABLE: Final = "Burstable"
BEST_EFFORT: Final = "BestEffort"
_QOS_RESOURCES = ("cpu", "memory")


class ResourceError(ValueError):
    """An amount that is not a quantity; the message says whose (container or overhead)."""


def as_quantity(resource: str, text: str) -> Quantity:
    """An ``amount`` for :func:`pod_requests` and :func:`pod_limits` that counts exactly."""
    return Quantity.parse(text)


def container_requests(container: Container) -> Mapping[str, str]:
    """The container's requests, with its limits standing in for missing ones."""
    resources = container.resources
    if resources is None:
        return {}
    if not resources.limits:
        return resources.requests
    merged = dict(resources.limits)
    merged.update(resources.requests)
    return merged


def container_limits(container: Container) -> Mapping[str, str]:
    return container.resources.limits if container.resources else {}


def _amounts(
    values: Mapping[str, str],
    amount: Callable[[str, str], Amount],
    where: str,
    defaults: Mapping[str, Amount] | None = None,
) -> dict[str, Amount]:
    try:
        out = {name: amount(name, text) for name, text in values.items()}
    except ValueError as err:
        raise ResourceError(f"{where}: {err}") from None
    if defaults:
        for name, value in defaults.items():
            out.setdefault(name, value)
    return out


def _add(total: dict[str, Amount], values: Mapping[str, Amount]) -> None:
    for name, value in values.items():
        have = total.get(name)
        total[name] = value if have is None else have + value


def _maximise(total: dict[str, Amount], values: Mapping[str, Amount]) -> None:
    for name, value in values.items():
        have = total.get(name)
        if have is None or value > have:
            total[name] = value


def _pod_total(
    spec: PodSpec,
    per_container: Callable[[Container], Mapping[str, str]],
    amount: Callable[[str, str], Amount],
    defaults: Mapping[str, Amount] | None,
) -> dict[str, Amount]:
    total: dict[str, Amount] = {}
    for container in spec.containers:
        where = f"container {container.name!r}"
        _add(total, _amounts(per_container(container), amount, where, defaults))
    sidecars: dict[str, Amount] = {}
    init_peak: dict[str, Amount] = {}
    for container in spec.init_containers:
        where = f"container {container.name!r}"
        own = _amounts(per_container(container), amount, where, defaults)
        if container.restart_policy == RESTART_ALWAYS:
            # A sidecar runs alongside everything after it, regular containers included.
            _add(total, own)
            _add(sidecars, own)
            _maximise(init_peak, sidecars)
        else:
            running = dict(sidecars)
            _add(running, own)
            _maximise(init_peak, running)
    _maximise(total, init_peak)
    return total


def pod_requests(
    spec: PodSpec,
    amount: Callable[[str, str], Amount],
    *,
    defaults: Mapping[str, Amount] | None = None,
) -> dict[str, Amount]:
    """The pod's effective requests by resource, each counted by ``amount(name, text)``.

    ``defaults`` stand in for what a container does not request (the scheduler's
    "non-zero" requests). Raises :class:`ResourceError` when ``amount`` refuses a value.
    """
    total = _pod_total(spec, container_requests, amount, defaults)
    _add(total, _amounts(spec.overhead, amount, "overhead"))
    return total


def pod_limits(spec: PodSpec, amount: Callable[[str, str], Amount]) -> dict[str, Amount]:
    """The pod's effective limits by resource (only those some container sets, plus the
    overhead on those); raises :class:`ResourceError` when ``amount`` refuses a value."""
    total = _pod_total(spec, container_limits, amount, None)
    for name, value in _amounts(spec.overhead, amount, "overhead").items():
        if name in total:
            total[name] = total[name] + value
    return total


# --- QoS ---------------------------------------------------------------------------------


def _positive(text: str) -> Quantity | None:
    try:
        quantity = Quantity.parse(text)
    except QuantityError:
        return None
    return quantity if quantity.sign() > 0 else None


def pod_qos_class(spec: PodSpec | None) -> str:
    """``Guaranteed``, ``Burstable`` or ``BestEffort``, as Kubernetes' ``ComputePodQOS``.

    Only positive cpu and memory amounts count, over regular and init containers: none
    at all is BestEffort; every container limiting both, with the requests (summed per
    resource) equal to the limits, is Guaranteed; anything else is Burstable.
    """
    if spec is None:
        return BEST_EFFORT
    requests: dict[str, Quantity] = {}
    limits: dict[str, Quantity] = {}
    guaranteed = True
    for container in (*spec.containers, *spec.init_containers):
        for name, text in container_requests(container).items():
            quantity = _positive(text) if name in _QOS_RESOURCES else None
            if quantity is not None:
                _add(requests, {name: quantity})
        found: set[str] = set()
        for name, text in container_limits(container).items():
            quantity = _positive(text) if name in _QOS_RESOURCES else None
            if quantity is not None:
                found.add(name)
                _add(limits, {name: quantity})
        guaranteed = guaranteed and found.issuperset(_QOS_RESOURCES)
    if not requests and not limits:
        return BEST_EFFORT
    equal = requests.keys() == limits.keys() and all(
        limits[name] == request for name, request in requests.items()
    )
    return GUARANTEED if guaranteed and equal else BURSTABLE


__all__ = [
    "BEST_EFFORT",
    "BURSTABLE",
    "GUARANTEED",
    "Amount",
    "ResourceError",
    "as_quantity",
    "container_limits",
    "container_requests",
    "pod_limits",
    "pod_qos_class",
    "pod_requests",
]
