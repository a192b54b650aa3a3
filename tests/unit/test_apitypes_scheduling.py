"""Node selectors, required node affinity and tolerations: where the copies disagreed.

The DaemonSet controller had its own node-affinity matcher and the scheduler its own;
each case names the one that disagreed with Kubernetes' ``nodeaffinity`` package.
"""

from __future__ import annotations

from typing import Any

import pytest

from apitypes.core import Node, PodSpec, Taint, Toleration
from apitypes.scheduling import (
    find_untolerated_taint,
    matching_tolerations,
    required_node_affinity,
)

NODE = Node.model_validate({"metadata": {"name": "n1", "labels": {"zone": "a", "gpus": "1_0"}}})


def affinity(*terms: dict[str, Any]) -> PodSpec:
    return PodSpec.model_validate({
        "containers": [{"name": "c", "image": "x"}],
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": list(terms)}}},
    })  # fmt: skip


def expr(key: str, operator: str, *values: str) -> dict[str, Any]:
    return {"key": key, "operator": operator, "values": list(values)}


@pytest.mark.parametrize(
    "term",
    [
        # The DaemonSet controller's copy admitted the node in each of these.
        {"matchExpressions": [expr("other", "NotIn")]},  # NotIn needs values
        {"matchExpressions": [expr("zone", "Exists", "a")]},  # Exists takes none
        {"matchExpressions": [expr("bad key!", "DoesNotExist")]},  # not a label key
        {"matchExpressions": [expr("gpus", "Gt", "3")]},  # "1_0" is no integer to Go
        {"matchFields": [expr("metadata.name", "Exists")]},  # fields take In/NotIn only
        {"matchFields": [expr("metadata.name", "In", "n1", "n2")]},  # exactly one value
    ],
)
def test_unparsable_terms_match_no_node(term: dict[str, Any]) -> None:
    assert not required_node_affinity(affinity(term)).matches_node(NODE)
    # ... without stopping another term from matching.
    good = {"matchExpressions": [expr("zone", "In", "a")]}
    assert required_node_affinity(affinity(term, good)).matches_node(NODE)


def test_match_fields_on_another_key_compare_with_the_empty_string() -> None:
    # The scheduler's copy refused any key but metadata.name.
    not_in = {"matchFields": [expr("spec.unschedulable", "NotIn", "true")]}
    assert required_node_affinity(affinity(not_in)).matches_node(NODE)
    is_in = {"matchFields": [expr("spec.unschedulable", "In", "true")]}
    assert not required_node_affinity(affinity(is_in)).matches_node(NODE)


def test_first_matching_toleration_per_taint() -> None:
    taints = [Taint(key="a", effect="NoExecute"), Taint(key="b", effect="NoExecute")]
    first = Toleration(key="a", operator="Exists", toleration_seconds=60)
    second = Toleration(operator="Exists")
    assert matching_tolerations(taints, [first, second]) == [first, second]
    assert matching_tolerations(taints, [first]) is None
    assert matching_tolerations([], []) == []


def test_untolerated_taint_with_a_filter() -> None:
    taints = [Taint(key="a", effect="PreferNoSchedule"), Taint(key="b", effect="NoSchedule")]
    assert find_untolerated_taint(taints, []) == taints[0]
    assert find_untolerated_taint(taints, [], lambda t: t.effect == "NoSchedule") == taints[1]
    everything = [Toleration(operator="Exists")]
    assert find_untolerated_taint(taints, everything) is None
