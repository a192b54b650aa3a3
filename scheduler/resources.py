"""What a pod asks for, in the scheduler's integer amounts.

The rules (init containers, sidecars, overhead, limits standing in for missing
requests) live in :mod:`apitypes.resources`; this module counts with them in integers,
for the hot paths. Amounts are integers: CPU in millicores, everything else in whole units (bytes for
memory and ephemeral storage). For scoring, containers that do not say what CPU or
memory they need count as 100m and 200Mi ("non-zero" requests), so that a node full of
request-less pods does not look empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from apitypes.core import PodSpec
from apitypes.quantity import QuantityError, parse_quantity
from apitypes.resources import ResourceError
from apitypes.resources import pod_requests as effective_requests

CPU = "cpu"
MEMORY = "memory"
EPHEMERAL_STORAGE = "ephemeral-storage"
PODS = "pods"

DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024

_amount_cache: dict[tuple[str, str], int] = {}


def amount(resource: str, text: str | int | float) -> int:
    """``text`` as an integer amount of ``resource`` (millicores for CPU), rounded up.

    Raises :class:`ResourceError` for text that is not a quantity. Parsed values are
    memoised: the same few strings ("100m", "1Gi") recur across thousands of pods.
    """
    key = (resource, str(text))
    cached = _amount_cache.get(key)
    if cached is not None:
        return cached
    try:
        quantity = parse_quantity(text)
    except (QuantityError, ValueError) as err:
        raise ResourceError(f"{resource}: {text!r} is not a quantity ({err})") from None
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
        except ResourceError:
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


def pod_requests(spec: PodSpec | None) -> Requests:
    """The pod's effective requests; raises :class:`ResourceError` on a bad quantity."""
    if spec is None:
        return Requests()
    total = effective_requests(spec, amount)
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
    total = effective_requests(spec, amount, defaults=_NON_ZERO_DEFAULTS)
    return total.get(CPU, 0), total.get(MEMORY, 0)


def names(values: Iterable[str]) -> list[str]:
    """Resource names in Kubernetes' reporting order: cpu, memory, then the rest sorted."""
    ordered = [n for n in (CPU, MEMORY, EPHEMERAL_STORAGE) if n in values]
    return ordered + sorted(n for n in set(values) if n not in (CPU, MEMORY, EPHEMERAL_STORAGE))
