"""A pod's effective requests, limits and QoS class: the cases where the copies disagreed.

``navctl describe`` had its own QoS class and request sums; the scheduler and the
apiserver had theirs. Each case here is one ``navctl describe`` got wrong.
"""

from __future__ import annotations

from typing import Any

import pytest

from apitypes.core import PodSpec
from apitypes.quantity import Quantity
from apitypes.resources import (
    ResourceError,
    as_quantity,
    pod_limits,
    pod_qos_class,
    pod_requests,
)

BOTH = {"cpu": "1", "memory": "1Gi"}


def spec(
    *containers: dict[str, Any], init: tuple[dict[str, Any], ...] = (), **fields: Any
) -> PodSpec:
    def named(prefix: str, items: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
        return [{"name": f"{prefix}{i}", "image": "x", **c} for i, c in enumerate(items)]

    return PodSpec.model_validate(
        {"containers": named("c", containers), "initContainers": named("i", init), **fields}
    )


def quantities(values: dict[str, str]) -> dict[str, Quantity]:
    return {name: Quantity.parse(text) for name, text in values.items()}


@pytest.mark.parametrize(
    ("pod", "qos"),
    [
        # init containers count: one without limits makes the pod Burstable
        (spec({"resources": {"limits": BOTH}}, init=({},)), "Burstable"),
        # zero amounts are no request at all
        (spec({"resources": {"requests": {"cpu": "0"}}}), "BestEffort"),
        # only cpu and memory count
        (spec({"resources": {"limits": {"example.com/gpu": "1"}}}), "BestEffort"),
        # amounts compare as quantities, not as text
        (
            spec({"resources": {"limits": BOTH, "requests": {"cpu": "1000m", "memory": "1024Mi"}}}),
            "Guaranteed",
        ),
    ],
)
def test_qos_class_as_kubernetes_computes_it(pod: PodSpec, qos: str) -> None:
    assert pod_qos_class(pod) == qos


def test_limits_stand_in_for_missing_requests_defaulted_or_not() -> None:
    assert pod_qos_class(spec({"resources": {"limits": BOTH}})) == "Guaranteed"


def test_sidecars_add_to_requests_and_limits() -> None:
    side = {"restartPolicy": "Always", "resources": {"requests": {"cpu": "500m"}, "limits": {"cpu": "1"}}}  # fmt: skip
    init = {"resources": {"requests": {"cpu": "1200m"}, "limits": {"cpu": "3"}}}
    pod = spec({"resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "1"}}}, init=(side, init))
    # regular 1 + sidecar 0.5 = 1.5 < init peak 1.2 + 0.5 = 1.7; limits: 1 + 1 < 3 + 1
    assert pod_requests(pod, as_quantity) == quantities({"cpu": "1700m"})
    assert pod_limits(pod, as_quantity) == quantities({"cpu": "4"})


def test_overhead_adds_to_requests_and_to_the_limits_that_are_set() -> None:
    pod = spec(
        {"resources": {"requests": {"cpu": "250m"}, "limits": {"memory": "1Gi"}}},
        overhead={"cpu": "100m", "memory": "64Mi"},
    )
    assert pod_requests(pod, as_quantity) == quantities({"cpu": "350m", "memory": "1088Mi"})
    assert pod_limits(pod, as_quantity) == quantities({"memory": "1088Mi"})


def test_a_bad_amount_names_its_container() -> None:
    with pytest.raises(ResourceError, match="container 'c0'"):
        pod_requests(spec({"resources": {"requests": {"cpu": "lots"}}}), as_quantity)
