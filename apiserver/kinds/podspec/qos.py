"""The pod's QoS class (``Guaranteed``, ``Burstable``, ``BestEffort``)."""

from __future__ import annotations

from apitypes.core import PodSpec, ResourceRequirements
from apitypes.quantity import Quantity, QuantityError

QOS_RESOURCES = ("cpu", "memory")


def _positive(text: str) -> Quantity | None:
    try:
        quantity = Quantity.parse(text)
    except QuantityError:
        return None
    return quantity if quantity.sign() > 0 else None


def pod_qos_class(spec: PodSpec | None) -> str:
    """``Guaranteed``, ``Burstable`` or ``BestEffort``, as Kubernetes classifies the pod.

    Only cpu and memory count, over regular and init containers: no positive request or
    limit at all is BestEffort; every container limiting both, with requests (summed
    per resource) equal to limits, is Guaranteed; anything else is Burstable.
    """
    if spec is None:
        return "BestEffort"
    requests: dict[str, Quantity] = {}
    limits: dict[str, Quantity] = {}
    guaranteed = True
    for container in (*spec.containers, *spec.init_containers):
        resources = container.resources or ResourceRequirements()
        for name, text in resources.requests.items():
            quantity = _positive(text) if name in QOS_RESOURCES else None
            if quantity is not None:
                requests[name] = requests.get(name, Quantity.zero()) + quantity
        found: set[str] = set()
        for name, text in resources.limits.items():
            quantity = _positive(text) if name in QOS_RESOURCES else None
            if quantity is not None:
                found.add(name)
                limits[name] = limits.get(name, Quantity.zero()) + quantity
        if not found.issuperset(QOS_RESOURCES):
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if guaranteed:
        for name, request in requests.items():
            limit = limits.get(name)
            if limit is None or limit != request:
                guaranteed = False
                break
    if guaranteed and len(requests) == len(limits):
        return "Guaranteed"
    return "Burstable"
