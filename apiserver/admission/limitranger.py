"""LimitRanger: the LimitRanges of a namespace applied to its new pods (Kubernetes' plugin).

Mutating: a container without a limit (request) for a resource a ``Container`` item has
a ``default`` (``defaultRequest``) for gets it, and the pod the annotation
``kubernetes.io/limit-ranger`` saying so (``LimitRanger plugin set: cpu request for
container c; memory limit for container c``). Validating: every container within the
item's ``min``/``max`` and ``maxLimitRequestRatio``, the pod's sums within a ``Pod``
item's; a refusal is a 403 listing every violation in Kubernetes' words
(``maximum cpu usage per Container is 500m, but limit is 1``).
"""

from __future__ import annotations

from typing import Any

from apiserver import errors
from apiserver.admission import CREATE, Attributes, Plugin
from apitypes.core import Container, LimitRange, ResourceRequirements
from apitypes.quantity import Quantity
from apitypes.quota import add, parse_list

ANNOTATION = "kubernetes.io/limit-ranger"


class LimitRanger(Plugin):
    name = "LimitRanger"

    def _ranges(self, namespace: str) -> list[LimitRange]:
        return [
            LimitRange.model_validate(r) for r in self.lookup.cached_list("limitranges", namespace)
        ]

    async def admit(self, attrs: Attributes) -> None:
        if attrs.operation != CREATE or not attrs.is_("", "pods") or attrs.obj.spec is None:
            return
        ranges = self._ranges(attrs.namespace or "")
        if not ranges:
            return
        pod = attrs.obj
        notes: list[str] = []
        for item in (i for r in ranges for i in (r.spec.limits if r.spec else [])):
            if item.type != "Container":
                continue
            for container in (*pod.spec.init_containers, *pod.spec.containers):
                notes += _apply_defaults(container, item.default, item.default_request)
        if notes:
            pod.metadata.annotations[ANNOTATION] = "LimitRanger plugin set: " + "; ".join(notes)

    async def validate(self, attrs: Attributes) -> None:
        if attrs.operation != CREATE or not attrs.is_("", "pods") or attrs.obj.spec is None:
            return
        problems: list[str] = []
        pod = attrs.obj
        for item in (
            i
            for r in self._ranges(attrs.namespace or "")
            for i in (r.spec.limits if r.spec else [])
        ):
            if item.type == "Container":
                for container in (*pod.spec.init_containers, *pod.spec.containers):
                    problems += _check(item, "Container", *_amounts([container]))
            elif item.type == "Pod":
                problems += _check(item, "Pod", *_amounts(pod.spec.containers))
        if problems:
            raise errors.forbidden("pods", pod.metadata.name or "", "[" + ", ".join(problems) + "]")


def _amounts(containers: list[Container]) -> tuple[dict[str, Quantity], dict[str, Quantity]]:
    """(requests, limits) of ``containers`` summed; a limit stands in for a missing request."""
    requests: dict[str, Quantity] = {}
    limits: dict[str, Quantity] = {}
    for container in containers:
        resources = container.resources or ResourceRequirements()
        add(requests, parse_list({**resources.limits, **resources.requests}))
        add(limits, parse_list(resources.limits))
    return requests, limits


def _apply_defaults(
    container: Container, default: dict[str, str], default_request: dict[str, str]
) -> list[str]:
    """Set the missing limits and requests; the notes say what, as Kubernetes words them
    (``cpu, memory request for container c``, then the limits)."""
    if container.resources is None:
        container.resources = ResourceRequirements()
    resources = container.resources
    requests = sorted(n for n in default_request if n not in resources.requests)
    limits = sorted(n for n in default if n not in resources.limits)
    for name in requests:
        resources.requests[name] = default_request[name]
    for name in limits:
        resources.limits[name] = default[name]
    notes = []
    for names, what in ((requests, "request"), (limits, "limit")):
        if names:
            notes.append(f"{', '.join(names)} {what} for container {container.name}")
    return notes


def _check(
    item: Any, kind: str, requests: dict[str, Quantity], limits: dict[str, Quantity]
) -> list[str]:
    problems = []
    for name, text in sorted(item.min.items()):
        low = Quantity.parse(text)
        request = requests.get(name)
        if request is None:
            problems.append(f"minimum {name} usage per {kind} is {text}.  No request is specified")
        elif request < low:
            problems.append(f"minimum {name} usage per {kind} is {text}, but request is {request}")
        elif (limit := limits.get(name)) is not None and limit < low:
            problems.append(f"minimum {name} usage per {kind} is {text}, but limit is {limit}")
    for name, text in sorted(item.max.items()):
        high = Quantity.parse(text)
        limit = limits.get(name)
        if limit is None:
            problems.append(f"maximum {name} usage per {kind} is {text}.  No limit is specified")
        elif limit > high:
            problems.append(f"maximum {name} usage per {kind} is {text}, but limit is {limit}")
        elif (request := requests.get(name)) is not None and request > high:
            problems.append(f"maximum {name} usage per {kind} is {text}, but request is {request}")
    for name, text in sorted(item.max_limit_request_ratio.items()):
        limit, request = limits.get(name), requests.get(name)
        if limit is None or request is None or request.is_zero():
            continue
        ratio = limit.as_approximate_float() / request.as_approximate_float()
        if ratio > Quantity.parse(text).as_approximate_float():
            problems.append(
                f"{name} max limit to request ratio per {kind} is {text}, but provided ratio is "
                f"{ratio:f}"
            )
    return problems
