"""What a pod asks for: its effective requests, as the scheduler counts them.

A pod's requests are not simply the sum over its containers. As in Kubernetes:

- regular containers run together, so their requests add up;
- init containers run one at a time before them, so the pod needs at least the largest
  of them (each plus the sidecars started before it);
- sidecars (init containers with ``restartPolicy: Always``) keep running, so they add
  to the regular containers as well;
- ``spec.overhead`` (the runtime's own cost) is added on top;
- a container with a limit but no request requests its limit (API defaulting does
  this; the scheduler repeats it so that undefaulted objects count the same).

Amounts are integers: CPU in millicores, everything else in whole units (bytes for
memory and ephemeral storage). For scoring, containers that do not say what CPU or
memory they need count as 100m and 200Mi ("non-zero" requests), so that a node full of
request-less pods does not look empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from apitypes.core import Container, PodSpec
from apitypes.quantity import QuantityError, parse_quantity

CPU = "cpu"
MEMORY = "memory"
EPHEMERAL_STORAGE = "ephemeral-storage"
PODS = "pods"

DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024

_amount_cache: dict[tuple[str, str], int] = {}


class RequestError(ValueError):
    """A request (or allocatable amount) that is not a quantity."""


def amount(resource: str, text: str | int | float) -> int:
    """``text`` as an integer amount of ``resource`` (millicores for CPU), rounded up.

    Raises :class:`RequestError` for text that is not a quantity. Parsed values are
    memoised: the same few strings ("100m", "1Gi") recur across thousands of pods.
    """
    key = (resource, str(text))
    cached = _amount_cache.get(key)
    if cached is not None:
        return cached
    try:
        quantity = parse_quantity(text)
    except (QuantityError, ValueError) as err:
        raise RequestError(f"{resource}: {text!r} is not a quantity ({err})") from None
    value = quantity.milli_value() if resource == CPU else quantity.value()
    if len(_amount_cache) < 65536:
        _amount_cache[key] = value
    return value


@dataclass(slots=True)
class Requests:
    """Amounts by resource: ``cpu`` and ``memory`` as attributes (they are on every hot
    path), everything else (``ephemeral-storage``, extended resources) in ``other``."""

    cpu: int = 0
    memory: int = 0
    other: dict[str, int] = field(default_factory=dict)

    def get(self, resource: str) -> int:
        if resource == CPU:
            return self.cpu
        if resource == MEMORY:
            return self.memory
        return self.other.get(resource, 0)

    def is_zero(self) -> bool:
        return not self.cpu and not self.memory and not any(self.other.values())

    def add(self, other: Requests, sign: int = 1) -> None:
        self.cpu += sign * other.cpu
        self.memory += sign * other.memory
        for name, value in other.other.items():
            self.other[name] = self.other.get(name, 0) + sign * value

    def copy(self) -> Requests:
        return Requests(self.cpu, self.memory, dict(self.other))


def resource_list(values: Mapping[str, str], *, strict: bool = True) -> Requests:
    """A ``ResourceList`` as :class:`Requests`; unparsable entries raise, or count as 0
    when ``strict`` is false."""
    result = Requests()
    for name, text in values.items():
        try:
            value = amount(name, text)
        except RequestError:
            if strict:
                raise
            continue
        if name == CPU:
            result.cpu = value
        elif name == MEMORY:
            result.memory = value
        else:
            result.other[name] = value
    return result


def _container_requests(container: Container) -> dict[str, str]:
    resources = container.resources
    if resources is None:
        return {}
    if not resources.limits:
        return resources.requests
    merged = dict(resources.limits)
    merged.update(resources.requests)
    return merged


def _accumulate(total: dict[str, int], values: Mapping[str, int]) -> None:
    for name, value in values.items():
        total[name] = total.get(name, 0) + value


def _maximise(total: dict[str, int], values: Mapping[str, int]) -> None:
    for name, value in values.items():
        if value > total.get(name, 0):
            total[name] = value


def _parsed(container: Container, defaults: Mapping[str, int] | None) -> dict[str, int]:
    out: dict[str, int] = {}
    for name, text in _container_requests(container).items():
        try:
            out[name] = amount(name, text)
        except RequestError as err:
            raise RequestError(f"container {container.name!r}: {err}") from None
    if defaults:
        for name, value in defaults.items():
            if name not in out:
                out[name] = value
    return out


def _pod_totals(spec: PodSpec, defaults: Mapping[str, int] | None) -> dict[str, int]:
    total: dict[str, int] = {}
    for container in spec.containers:
        _accumulate(total, _parsed(container, defaults))
    sidecars: dict[str, int] = {}
    init_peak: dict[str, int] = {}
    for container in spec.init_containers:
        own = _parsed(container, defaults)
        if container.restart_policy == "Always":
            # A sidecar runs alongside everything after it, regular containers included.
            _accumulate(total, own)
            _accumulate(sidecars, own)
            _maximise(init_peak, sidecars)
        else:
            running = dict(sidecars)
            _accumulate(running, own)
            _maximise(init_peak, running)
    _maximise(total, init_peak)
    for name, text in spec.overhead.items():
        try:
            value = amount(name, text)
        except RequestError as err:
            raise RequestError(f"overhead: {err}") from None
        total[name] = total.get(name, 0) + value
    return total


def pod_requests(spec: PodSpec | None) -> Requests:
    """The pod's effective requests; raises :class:`RequestError` on a bad quantity."""
    if spec is None:
        return Requests()
    total = _pod_totals(spec, None)
    cpu = total.pop(CPU, 0)
    memory = total.pop(MEMORY, 0)
    return Requests(cpu, memory, {k: v for k, v in total.items() if v})


_NON_ZERO_DEFAULTS = {CPU: DEFAULT_MILLI_CPU_REQUEST, MEMORY: DEFAULT_MEMORY_REQUEST}


def non_zero_requests(spec: PodSpec | None) -> tuple[int, int]:
    """(millicores, bytes) for scoring: missing CPU/memory requests count as defaults.

    A pod with no containers at all (which the apiserver refuses) counts as nothing.
    """
    if spec is None or not (spec.containers or spec.init_containers):
        return 0, 0
    total = _pod_totals(spec, _NON_ZERO_DEFAULTS)
    return total.get(CPU, 0), total.get(MEMORY, 0)


def names(values: Iterable[str]) -> list[str]:
    """Resource names in Kubernetes' reporting order: cpu, memory, then the rest sorted."""
    ordered = [n for n in (CPU, MEMORY, EPHEMERAL_STORAGE) if n in values]
    return ordered + sorted(n for n in set(values) if n not in (CPU, MEMORY, EPHEMERAL_STORAGE))
