"""Placement predicates of daemon pods, node taints from conditions, taint-based eviction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from apitypes.core import Node, Pod, PodSpec, Taint, Toleration
from apitypes.scheduling import required_node_affinity
from controllers import nodeutil
from controllers.nodelifecycle import (
    NOT_READY,
    UNREACHABLE,
    default_tolerations,
    desired_taints,
    eviction_delay,
    reconcile_taints,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def node(name: str = "n1", labels: dict[str, str] | None = None, taints: list[dict[str, Any]] | None = None,
         ready: str | None = "True", unschedulable: bool = False, **conditions: str) -> Node:  # fmt: skip
    conds = [{"type": "Ready", "status": ready}] if ready else []
    conds += [{"type": k, "status": v} for k, v in conditions.items()]
    return Node.model_validate({
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"taints": taints or [], "unschedulable": unschedulable},
        "status": {"conditions": conds},
    })  # fmt: skip


def spec(**fields: Any) -> PodSpec:
    return PodSpec.model_validate({"containers": [{"name": "c", "image": "x"}], **fields})


def admits(pod: PodSpec, n: Node) -> bool:
    return required_node_affinity(pod).matches_node(n)


def test_node_affinity_operators():
    n = node(labels={"zone": "a", "gpus": "4"})

    def req(op: str, *values: str, key: str = "zone") -> PodSpec:
        return spec(affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": key, "operator": op, "values": list(values)}]}]}}})  # fmt: skip

    assert admits(req("In", "a", "b"), n)
    assert not admits(req("NotIn", "a"), n)
    assert admits(req("Exists"), n)
    assert not admits(req("DoesNotExist"), n)
    assert admits(req("Gt", "3", key="gpus"), n)
    assert not admits(req("Lt", "3", key="gpus"), n)
    assert not admits(spec(nodeSelector={"zone": "b"}), n)
    assert admits(spec(nodeSelector={"zone": "a"}), n)


def test_pinning_replaces_match_fields_in_every_term_and_is_readable():
    s = spec(affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]},
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["other"]}]},
    ]}}})  # fmt: skip
    nodeutil.pin_to_node(s, "n1")
    assert nodeutil.pinned_node(s) == "n1"
    assert admits(s, node("n1", {"zone": "a"}))
    assert not admits(s, node("n2", {"zone": "a"}))
    empty = spec()
    nodeutil.pin_to_node(empty, "n9")
    assert nodeutil.pinned_node(empty) == "n9"


def test_daemon_pods_tolerate_sick_and_cordoned_nodes_but_not_other_taints():
    daemon = nodeutil.with_daemon_tolerations(spec())
    assert len(daemon.tolerations) == 6
    assert nodeutil.with_daemon_tolerations(daemon).tolerations == daemon.tolerations
    host = nodeutil.with_daemon_tolerations(spec(hostNetwork=True))
    assert any(t.key == "node.kubernetes.io/network-unavailable" for t in host.tolerations)
    unreachable = node(taints=[{"key": UNREACHABLE, "effect": "NoExecute"}], ready="Unknown")
    assert nodeutil.should_run(daemon, unreachable) == (True, True)
    cordoned = node(taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}])
    assert nodeutil.should_run(daemon, cordoned) == (True, True)
    dedicated = node(taints=[{"key": "dedicated", "value": "db", "effect": "NoSchedule"}])
    assert nodeutil.should_run(daemon, dedicated) == (False, True)
    evicting = node(taints=[{"key": "dedicated", "value": "db", "effect": "NoExecute"}])
    assert nodeutil.should_run(daemon, evicting) == (False, False)
    tolerant = nodeutil.with_daemon_tolerations(
        spec(tolerations=[{"key": "dedicated", "operator": "Exists"}])
    )
    assert nodeutil.should_run(tolerant, evicting) == (True, True)


def test_taints_follow_conditions():
    assert set(desired_taints(node(ready="Unknown"))) == {
        (UNREACHABLE, "NoExecute"),
        (UNREACHABLE, "NoSchedule"),
    }
    assert set(desired_taints(node(ready="False"))) == {
        (NOT_READY, "NoExecute"),
        (NOT_READY, "NoSchedule"),
    }
    assert desired_taints(node()) == []
    assert ("node.kubernetes.io/memory-pressure", "NoSchedule") in desired_taints(
        node(MemoryPressure="True")
    )
    assert ("node.kubernetes.io/unschedulable", "NoSchedule") in desired_taints(
        node(unschedulable=True)
    )


def test_reconcile_taints_adds_removes_and_keeps_foreign_ones():
    sick = node(ready="Unknown", taints=[{"key": "team", "value": "a", "effect": "NoSchedule"}])
    new = reconcile_taints(sick, T0)
    assert new is not None
    keys = {(t.key, t.effect): t for t in new}
    assert keys[(UNREACHABLE, "NoExecute")].time_added == T0
    assert ("team", "NoSchedule") in keys
    healed = node(ready="True", taints=[t.to_dict() for t in new])
    back = reconcile_taints(healed, T0)
    assert back is not None and [(t.key, t.effect) for t in back] == [("team", "NoSchedule")]
    assert reconcile_taints(node(ready="True"), T0) is None


def test_default_tolerations_are_added_only_when_missing():
    plain = Pod.model_validate({"spec": {"containers": [{"name": "c", "image": "x"}]}})
    tolerations = default_tolerations(plain, 300, 120)
    seconds = {t.key: t.toleration_seconds for t in tolerations}
    assert seconds == {NOT_READY: 300, UNREACHABLE: 120}
    own = Pod.model_validate({"spec": {"containers": [{"name": "c", "image": "x"}], "tolerations": [
        {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}]}})  # fmt: skip
    seconds = {t.key: t.toleration_seconds for t in default_tolerations(own, 300, 120)}
    assert seconds == {UNREACHABLE: 5, NOT_READY: 300}


def test_eviction_delay():
    taint = Taint(key=UNREACHABLE, effect="NoExecute", time_added=T0)
    now = T0 + timedelta(seconds=100)
    bounded = [
        Toleration(key=UNREACHABLE, operator="Exists", effect="NoExecute", toleration_seconds=300)
    ]
    assert eviction_delay([taint], bounded, now) == 200
    assert eviction_delay([taint], bounded, T0 + timedelta(seconds=400)) == 0
    forever = [Toleration(key=UNREACHABLE, operator="Exists", effect="NoExecute")]
    assert eviction_delay([taint], forever, now) is None
    assert eviction_delay([taint], [], now) == 0, "no toleration: evict at once"
    other = Taint(key="dedicated", effect="NoExecute", time_added=T0)
    assert eviction_delay([taint, other], bounded, now) == 0
    assert eviction_delay([Taint(key="x", effect="NoSchedule")], [], now) is None


def test_eviction_counts_the_first_matching_toleration_of_each_taint():
    # As Kubernetes' GetMatchingTolerations; this controller used to take every match.
    taint = Taint(key=UNREACHABLE, effect="NoExecute", time_added=T0)
    now = T0 + timedelta(seconds=10)

    def toleration(seconds: int | None) -> Toleration:
        return Toleration(key=UNREACHABLE, operator="Exists", toleration_seconds=seconds)

    assert eviction_delay([taint], [toleration(60), toleration(None)], now) == 50
    assert eviction_delay([taint], [toleration(None), toleration(60)], now) is None
    assert eviction_delay([taint], [toleration(300), toleration(30)], now) == 290


def test_default_tolerations_count_any_own_toleration_of_the_key_and_effect():
    # As the DefaultTolerationSeconds admission plugin: operator and value do not matter.
    own = Pod.model_validate({"spec": {"containers": [{"name": "c", "image": "x"}], "tolerations": [
        {"key": NOT_READY, "operator": "Equal", "value": "x", "effect": "NoExecute"}]}})  # fmt: skip
    keys = [t.key for t in default_tolerations(own, 300, 120)]
    assert keys == [NOT_READY, UNREACHABLE]
