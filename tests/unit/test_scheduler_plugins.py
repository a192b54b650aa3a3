"""Each scheduler plugin, on constructed nodes and pods: feasibility, reasons, scores.

The helpers at the top build API objects tersely; the other scheduler test modules
import them from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pytest

from apitypes.core import Node, Pod
from scheduler.cache import Cache
from scheduler.framework import (
    SKIP,
    Code,
    CycleState,
    FilterPlugin,
    Handle,
    Plugin,
    PreFilterPlugin,
    PreFilterResult,
    PreScorePlugin,
    ScorePlugin,
    Status,
)
from scheduler.nodeinfo import NodeInfo
from scheduler.plugins.balancedallocation import NodeResourcesBalancedAllocation
from scheduler.plugins.interpodaffinity import InterPodAffinity
from scheduler.plugins.nodeaffinity import NodeAffinity
from scheduler.plugins.nodename import NodeName
from scheduler.plugins.nodeports import NodePorts
from scheduler.plugins.noderesources import NodeResourcesFit
from scheduler.plugins.nodeunschedulable import NodeUnschedulable
from scheduler.plugins.podtopologyspread import PodTopologySpread
from scheduler.plugins.schedulinggates import SchedulingGates
from scheduler.plugins.tainttoleration import TaintToleration
from scheduler.podinfo import PodInfo, pod_info
from scheduler.resources import non_zero_requests, pod_requests

HOST = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"

# --- builders ---------------------------------------------------------------------------


def make_node(
    name: str,
    *,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: str = "110",
    zone: str | None = None,
    labels: dict[str, str] | None = None,
    taints: Sequence[dict[str, Any]] = (),
    unschedulable: bool = False,
    extra: dict[str, str] | None = None,
) -> Node:
    all_labels = {HOST: name, **({ZONE: zone} if zone else {}), **(labels or {})}
    allocatable = {"cpu": cpu, "memory": memory, "pods": pods, **(extra or {})}
    spec: dict[str, Any] = {"taints": list(taints)}
    if unschedulable:
        spec["unschedulable"] = True
    return Node.model_validate(
        {
            "metadata": {"name": name, "labels": all_labels},
            "spec": spec,
            "status": {"allocatable": allocatable, "capacity": allocatable},
        }
    )


def make_pod(
    name: str = "p",
    *,
    namespace: str = "default",
    cpu: str | None = None,
    memory: str | None = None,
    requests: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    node_name: str | None = None,
    node_selector: dict[str, str] | None = None,
    affinity: dict[str, Any] | None = None,
    tolerations: Sequence[dict[str, Any]] = (),
    host_ports: Sequence[int | tuple[int, str, str]] = (),
    spread: Sequence[dict[str, Any]] = (),
    owner: str | None = None,
    priority: int | None = None,
    created: str = "2024-01-01T00:00:00Z",
    init_containers: Sequence[dict[str, Any]] = (),
    overhead: dict[str, str] | None = None,
    gates: Sequence[str] = (),
    scheduler_name: str | None = None,
) -> Pod:
    reqs = dict(requests or {})
    if cpu:
        reqs["cpu"] = cpu
    if memory:
        reqs["memory"] = memory
    ports = []
    for p in host_ports:
        port, protocol, ip = (p, "TCP", "") if isinstance(p, int) else p
        entry: dict[str, Any] = {"containerPort": port, "hostPort": port, "protocol": protocol}
        if ip:
            entry["hostIP"] = ip
        ports.append(entry)
    container: dict[str, Any] = {"name": "main", "image": "x", "ports": ports}
    if reqs:
        container["resources"] = {"requests": reqs}
    spec: dict[str, Any] = {
        "containers": [container],
        "initContainers": list(init_containers),
        "tolerations": list(tolerations),
        "topologySpreadConstraints": list(spread),
        "nodeSelector": dict(node_selector or {}),
        "schedulingGates": [{"name": g} for g in gates],
    }
    for key, value in (
        ("nodeName", node_name),
        ("affinity", affinity),
        ("priority", priority),
        ("overhead", overhead),
        ("schedulerName", scheduler_name),
    ):
        if value is not None:
            spec[key] = value
    meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": f"uid-{namespace}-{name}",
        "labels": dict(labels or {}),
        "creationTimestamp": created,
    }
    if owner:
        meta["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": owner,
                "uid": owner,
                "controller": True,
            }
        ]
    return Pod.model_validate({"metadata": meta, "spec": spec})


def cluster(nodes: Iterable[Node], pods: Iterable[Pod] = ()) -> Handle:
    """A cache holding ``nodes`` and the (assigned) ``pods``, wrapped in a Handle."""
    cache = Cache()
    for n in nodes:
        cache.add_node(n)
    for p in pods:
        cache.add_pod(pod_info(p))
    return Handle(cache, {"default": {"kubernetes.io/metadata.name": "default"}})


def info(handle: Handle, name: str) -> NodeInfo:
    node = handle.cache.node(name)
    assert node is not None
    return node


def filter_all(
    plugin: Plugin, pod: Pod | PodInfo, handle: Handle
) -> tuple[list[str], dict[str, Status]]:
    """PreFilter + Filter over every node: (feasible names, sorted; rejections),
    checking that the batch and per-node paths agree."""
    p = pod if isinstance(pod, PodInfo) else pod_info(pod)
    state = CycleState()
    nodes = handle.cache.node_list()
    if isinstance(plugin, PreFilterPlugin):
        result = plugin.pre_filter(state, p)
        if result is SKIP or (isinstance(result, Status) and result.code == Code.SKIP):
            return sorted(n.name for n in nodes), {}
        if isinstance(result, Status):
            return [], {n.name: result for n in nodes}
        if isinstance(result, PreFilterResult):
            nodes = [n for n in nodes if n.name in result.node_names]
    assert isinstance(plugin, FilterPlugin)
    failed: dict[str, Status] = {}
    passed = plugin.filter_nodes(state, p, nodes, failed)
    one_by_one = {n.name: plugin.filter(state, p, n) for n in nodes}
    assert [n for n, s in one_by_one.items() if s is None] == [n.name for n in passed]
    assert {n: s.reasons for n, s in one_by_one.items() if s is not None} == {
        n: s.reasons for n, s in failed.items()
    }
    return sorted(n.name for n in passed), failed


def scores(plugin: Plugin, pod: Pod | PodInfo, handle: Handle) -> dict[str, int] | None:
    """PreScore + Score + NormalizeScore over every node; None if the plugin skips."""
    p = pod if isinstance(pod, PodInfo) else pod_info(pod)
    state = CycleState()
    nodes = handle.cache.node_list()
    if isinstance(plugin, PreFilterPlugin):
        plugin.pre_filter(state, p)
    if isinstance(plugin, PreScorePlugin):
        status = plugin.pre_score(state, p, nodes)
        assert isinstance(plugin, ScorePlugin)
        assert plugin.skips(state, p) <= (status is not None and status.code == Code.SKIP)
        if status is not None:
            return None
    assert isinstance(plugin, ScorePlugin)
    raw = plugin.score_nodes(state, p, nodes)
    assert raw == [plugin.score(state, p, n) for n in nodes]
    plugin.normalize(state, p, nodes, raw)
    return {n.name: s for n, s in zip(nodes, raw, strict=True)}


def reasons(failed: dict[str, Status]) -> dict[str, tuple[str, ...]]:
    return {name: status.reasons for name, status in failed.items()}


# --- resources ----------------------------------------------------------------------------


def test_requests_sum_containers_and_take_the_init_peak() -> None:
    pod = make_pod(cpu="500m", memory="1Gi", init_containers=[
        {"name": "i1", "image": "x", "resources": {"requests": {"cpu": "2", "memory": "100Mi"}}},
        {"name": "i2", "image": "x", "resources": {"requests": {"cpu": "100m", "memory": "3Gi"}}},
    ])  # fmt: skip
    req = pod_requests(pod.spec)
    assert (req.cpu, req.memory) == (2000, 3 * 1024**3)


def test_sidecars_add_to_regular_containers_and_to_later_init_containers() -> None:
    pod = make_pod(cpu="1", init_containers=[
        {"name": "side", "image": "x", "restartPolicy": "Always",
         "resources": {"requests": {"cpu": "500m"}}},
        {"name": "init", "image": "x", "resources": {"requests": {"cpu": "1200m"}}},
    ])  # fmt: skip
    # regular 1 + sidecar 0.5 = 1.5; init peak = 1.2 + 0.5 (sidecar running) = 1.7
    assert pod_requests(pod.spec).cpu == 1700


def test_overhead_is_added_and_limits_stand_in_for_missing_requests() -> None:
    pod = make_pod(cpu="250m", overhead={"cpu": "100m", "memory": "64Mi"})
    pod.spec.containers[0].resources.limits = {"memory": "1Gi"}  # type: ignore[union-attr]
    req = pod_requests(pod.spec)
    assert (req.cpu, req.memory) == (350, 1024**3 + 64 * 1024**2)


def test_non_zero_requests_default_missing_cpu_and_memory_per_container() -> None:
    pod = make_pod(cpu="300m")
    assert non_zero_requests(pod.spec) == (300, 200 * 1024 * 1024)


def test_malformed_quantity_is_reported_not_raised() -> None:
    pod = make_pod(cpu="lots")
    p = pod_info(pod)
    assert "container 'main'" in p.request_error and "lots" in p.request_error


# --- NodeUnschedulable, NodeName, SchedulingGates ------------------------------------------


def test_node_unschedulable_rejects_cordoned_nodes_unless_tolerated() -> None:
    handle = cluster([make_node("a"), make_node("b", unschedulable=True)])
    plugin = NodeUnschedulable({}, handle)
    passed, failed = filter_all(plugin, make_pod(), handle)
    assert passed == ["a"]
    assert reasons(failed) == {"b": ("node(s) were unschedulable",)}
    assert failed["b"].code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    tolerant = make_pod(
        tolerations=[{"key": "node.kubernetes.io/unschedulable", "operator": "Exists"}]
    )
    assert filter_all(plugin, tolerant, handle)[0] == ["a", "b"]


def test_node_name_fits_only_the_named_node() -> None:
    handle = cluster([make_node("a"), make_node("b")])
    plugin = NodeName({}, handle)
    passed, failed = filter_all(plugin, make_pod(node_name="b"), handle)
    assert passed == ["b"]
    assert reasons(failed) == {"a": ("node(s) didn't match the requested node name",)}
    assert plugin.pre_filter(CycleState(), pod_info(make_pod())) is SKIP


def test_scheduling_gates_hold_the_pod() -> None:
    plugin = SchedulingGates({}, cluster([]))
    status = plugin.pre_enqueue(pod_info(make_pod(gates=["a", "b"])))
    assert status is not None and status.reasons == ("waiting for scheduling gates: [a b]",)
    assert plugin.pre_enqueue(pod_info(make_pod())) is None


# --- TaintToleration ------------------------------------------------------------------------


def test_taints_filter_untolerated_no_schedule_and_no_execute() -> None:
    handle = cluster([
        make_node("clean"),
        make_node("gpu", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]),
        make_node("down", taints=[{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}]),
        make_node("soft", taints=[{"key": "spot", "value": "yes", "effect": "PreferNoSchedule"}]),
    ])  # fmt: skip
    plugin = TaintToleration({}, handle)
    passed, failed = filter_all(plugin, make_pod(), handle)
    assert passed == ["clean", "soft"]
    assert reasons(failed) == {
        "gpu": ("node(s) had untolerated taint {dedicated: gpu}",),
        "down": ("node(s) had untolerated taint {node.kubernetes.io/unreachable: }",),
    }
    equal = make_pod(tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu"}])
    assert filter_all(plugin, equal, handle)[0] == ["clean", "gpu", "soft"]
    wrong_value = make_pod(tolerations=[{"key": "dedicated", "value": "cpu"}])
    assert "gpu" not in filter_all(plugin, wrong_value, handle)[0]
    wrong_effect = make_pod(
        tolerations=[{"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}]
    )
    assert "gpu" not in filter_all(plugin, wrong_effect, handle)[0]
    everything = make_pod(tolerations=[{"operator": "Exists"}])
    assert len(filter_all(plugin, everything, handle)[0]) == 4


def test_prefer_no_schedule_taints_lower_the_score() -> None:
    soft = {"effect": "PreferNoSchedule"}
    handle = cluster([
        make_node("none"),
        make_node("one", taints=[{"key": "a", **soft}]),
        make_node("two", taints=[{"key": "a", **soft}, {"key": "b", **soft}]),
    ])  # fmt: skip
    plugin = TaintToleration({}, handle)
    assert scores(plugin, make_pod(), handle) == {"none": 100, "one": 50, "two": 0}
    tolerates_a = make_pod(tolerations=[{"key": "a", "operator": "Exists"}])
    assert scores(plugin, tolerates_a, handle) == {"none": 100, "one": 100, "two": 0}
    untainted = cluster([make_node("x")])
    assert scores(TaintToleration({}, untainted), make_pod(), untainted) is None


# --- NodeResourcesFit / BalancedAllocation -------------------------------------------------


def test_fit_reports_every_shortfall() -> None:
    handle = cluster(
        [make_node("small", cpu="1", memory="1Gi"), make_node("big", cpu="8", memory="16Gi"),
         make_node("full", pods="1")],
        [make_pod("existing", cpu="100m", node_name="full")],
    )  # fmt: skip
    plugin = NodeResourcesFit({}, handle)
    passed, failed = filter_all(plugin, make_pod(cpu="2", memory="2Gi"), handle)
    assert passed == ["big"]
    assert reasons(failed) == {
        "small": ("Insufficient cpu", "Insufficient memory"),
        "full": ("Too many pods",),
    }


def test_fit_counts_what_is_already_requested_on_the_node() -> None:
    handle = cluster([make_node("a", cpu="2")], [make_pod("x", cpu="1500m", node_name="a")])
    plugin = NodeResourcesFit({}, handle)
    assert filter_all(plugin, make_pod(cpu="500m"), handle)[0] == ["a"]
    assert reasons(filter_all(plugin, make_pod(cpu="501m"), handle)[1]) == {
        "a": ("Insufficient cpu",)
    }


def test_fit_checks_extended_resources_and_rejects_bad_quantities() -> None:
    handle = cluster([make_node("gpu", extra={"example.com/gpu": "2"}), make_node("plain")])
    plugin = NodeResourcesFit({}, handle)
    passed, failed = filter_all(plugin, make_pod(requests={"example.com/gpu": "2"}), handle)
    assert passed == ["gpu"]
    assert reasons(failed) == {"plain": ("Insufficient example.com/gpu",)}
    bad = pod_info(make_pod(cpu="1x1"))
    status = plugin.pre_filter(CycleState(), bad)
    assert isinstance(status, Status) and status.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    assert status.reasons[0].startswith("invalid resource requests: container 'main': cpu")


def test_least_and_most_allocated_scores() -> None:
    handle = cluster(
        [make_node("empty", cpu="4", memory="8Gi"), make_node("busy", cpu="4", memory="8Gi")],
        [make_pod("x", cpu="2", memory="4Gi", node_name="busy")],
    )
    pod = make_pod(cpu="1", memory="2Gi")
    # empty: cpu (4-1)/4 = 75, memory (8-2)/8 = 75; busy: (4-3)/4 = 25, (8-6)/8 = 25
    assert scores(NodeResourcesFit({}, handle), pod, handle) == {"empty": 75, "busy": 25}
    most = NodeResourcesFit({"scoringStrategy": {"type": "MostAllocated"}}, handle)
    assert scores(most, pod, handle) == {"empty": 25, "busy": 75}
    cpu_heavy = NodeResourcesFit(
        {
            "scoringStrategy": {
                "resources": [{"name": "cpu", "weight": 3}, {"name": "memory", "weight": 1}]
            }
        },
        handle,
    )
    assert scores(cpu_heavy, pod, handle) == {"empty": 75, "busy": 25}


def test_requested_to_capacity_ratio_follows_the_shape() -> None:
    handle = cluster([make_node("a", cpu="4", memory="8Gi")])
    shape = [{"utilization": 0, "score": 0}, {"utilization": 100, "score": 10}]
    plugin = NodeResourcesFit(
        {"scoringStrategy": {"type": "RequestedToCapacityRatio",
                             "requestedToCapacityRatio": {"shape": shape}}},
        handle,
    )  # fmt: skip
    assert scores(plugin, make_pod(cpu="1", memory="4Gi"), handle) == {"a": (25 + 50) // 2}


def test_scores_count_request_less_pods_as_non_zero() -> None:
    handle = cluster([make_node("a", cpu="1", memory="1000Mi")])
    # 100m of 1000m used -> 90; 200Mi of 1000Mi -> 80
    assert scores(NodeResourcesFit({}, handle), make_pod(), handle) == {"a": 85}


def test_fit_rejects_unknown_scoring_strategy() -> None:
    with pytest.raises(ValueError, match="Unsupported value"):
        NodeResourcesFit({"scoringStrategy": {"type": "Random"}}, cluster([]))


def test_balanced_allocation_prefers_even_use() -> None:
    handle = cluster(
        [make_node("even", cpu="4", memory="4Gi"), make_node("skewed", cpu="4", memory="16Gi")]
    )
    plugin = NodeResourcesBalancedAllocation({}, handle)
    # even: 1/4 cpu, 1Gi/4Gi memory -> 100; skewed: 0.25 vs 0.0625 -> 1 - 0.09375 -> 90
    assert scores(plugin, make_pod(cpu="1", memory="1Gi"), handle) == {"even": 100, "skewed": 90}
    assert scores(plugin, make_pod(), handle) is None  # requests nothing: skipped


# --- NodeAffinity ---------------------------------------------------------------------------


def _required(*terms: dict[str, Any]) -> dict[str, Any]:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": list(terms)}}}  # fmt: skip


def _expr(key: str, operator: str, *values: str) -> dict[str, Any]:
    return {"key": key, "operator": operator, "values": list(values)}


@pytest.fixture
def labelled() -> Handle:
    return cluster([
        make_node("a", labels={"disk": "ssd", "cores": "8"}),
        make_node("b", labels={"disk": "hdd", "cores": "2"}),
        make_node("c", labels={"cores": "32"}),
    ])  # fmt: skip


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (_expr("disk", "In", "ssd", "nvme"), ["a"]),
        (_expr("disk", "NotIn", "ssd"), ["b", "c"]),
        (_expr("disk", "Exists"), ["a", "b"]),
        (_expr("disk", "DoesNotExist"), ["c"]),
        (_expr("cores", "Gt", "4"), ["a", "c"]),
        (_expr("cores", "Lt", "8"), ["b"]),
        (_expr("cores", "Gt", "many"), []),  # invalid: matches nothing
        (_expr("disk", "Near", "ssd"), []),
    ],
)
def test_node_affinity_operators(
    labelled: Handle, expression: dict[str, Any], expected: list[str]
) -> None:
    pod = make_pod(affinity=_required({"matchExpressions": [expression]}))
    passed, failed = filter_all(NodeAffinity({}, labelled), pod, labelled)
    assert passed == expected
    assert all(s.reasons == ("node(s) didn't match Pod's node affinity/selector",)
               for s in failed.values())  # fmt: skip


def test_node_affinity_terms_are_ored_and_an_invalid_term_does_not_spoil_the_rest(
    labelled: Handle,
) -> None:
    pod = make_pod(
        affinity=_required(
            {"matchExpressions": [_expr("disk", "In")]},  # invalid: In without values
            {"matchExpressions": [_expr("cores", "Lt", "4")]},
            {},  # empty term: matches nothing
        )
    )
    assert filter_all(NodeAffinity({}, labelled), pod, labelled)[0] == ["b"]


def test_node_selector_and_required_affinity_both_apply(labelled: Handle) -> None:
    pod = make_pod(
        node_selector={"disk": "ssd"},
        affinity=_required({"matchExpressions": [_expr("cores", "Gt", "1")]}),
    )
    assert filter_all(NodeAffinity({}, labelled), pod, labelled)[0] == ["a"]
    skipped = NodeAffinity({}, labelled).pre_filter(CycleState(), pod_info(make_pod()))
    assert skipped is SKIP


def test_match_fields_pin_the_node_name(labelled: Handle) -> None:
    plugin = NodeAffinity({}, labelled)
    pod = make_pod(affinity=_required({"matchFields": [_expr("metadata.name", "In", "b")]}))
    result = plugin.pre_filter(CycleState(), pod_info(pod))
    assert result == PreFilterResult(frozenset({"b"}))
    assert filter_all(plugin, pod, labelled)[0] == ["b"]
    ghost = make_pod(affinity=_required({"matchFields": [_expr("metadata.name", "In", "ghost")]}))
    assert filter_all(plugin, ghost, labelled)[0] == []
    conflict = make_pod(affinity=_required({"matchFields": [
        _expr("metadata.name", "In", "a"), _expr("metadata.name", "In", "b")]}))  # fmt: skip
    status = plugin.pre_filter(CycleState(), pod_info(conflict))
    assert isinstance(status, Status) and status.reasons == ("pod affinity terms conflict",)
    not_in = make_pod(affinity=_required({"matchFields": [_expr("metadata.name", "NotIn", "a")]}))
    assert filter_all(plugin, not_in, labelled)[0] == ["b", "c"]


def test_preferred_node_affinity_scores_by_weight(labelled: Handle) -> None:
    pod = make_pod(affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 10, "preference": {"matchExpressions": [_expr("disk", "In", "ssd")]}},
        {"weight": 30, "preference": {"matchExpressions": [_expr("cores", "Gt", "4")]}},
    ]}})  # fmt: skip
    assert scores(NodeAffinity({}, labelled), pod, labelled) == {"a": 100, "b": 0, "c": 75}
    assert scores(NodeAffinity({}, labelled), make_pod(), labelled) is None


# --- NodePorts ------------------------------------------------------------------------------


def test_host_ports_conflict_by_protocol_and_address() -> None:
    handle = cluster(
        [make_node("any"), make_node("specific"), make_node("free")],
        [
            make_pod("w", host_ports=[8080], node_name="any"),
            make_pod("s", host_ports=[(8080, "TCP", "10.0.0.1")], node_name="specific"),
        ],
    )
    plugin = NodePorts({}, handle)
    passed, failed = filter_all(plugin, make_pod(host_ports=[8080]), handle)
    assert passed == ["free"]
    assert set(failed) == {"any", "specific"}
    assert failed["any"].reasons == ("node(s) didn't have free ports for the requested pod ports",)
    other_ip = make_pod(host_ports=[(8080, "TCP", "10.0.0.2")])
    assert filter_all(plugin, other_ip, handle)[0] == ["free", "specific"]
    udp = make_pod(host_ports=[(8080, "UDP", "")])
    assert filter_all(plugin, udp, handle)[0] == ["any", "free", "specific"]
    assert plugin.pre_filter(CycleState(), pod_info(make_pod())) is SKIP


# --- InterPodAffinity -----------------------------------------------------------------------


def _term(key: str, labels: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {"labelSelector": {"matchLabels": labels}, "topologyKey": key, **extra}


def _anti(*terms: dict[str, Any]) -> dict[str, Any]:
    return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": list(terms)}}


def _aff(*terms: dict[str, Any]) -> dict[str, Any]:
    return {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": list(terms)}}


@pytest.fixture
def zones() -> list[Node]:
    return [make_node("a1", zone="a"), make_node("a2", zone="a"), make_node("b1", zone="b")]


def test_anti_affinity_per_hostname_and_per_zone(zones: list[Node]) -> None:
    handle = cluster(zones, [make_pod("web-0", labels={"app": "web"}, node_name="a1")])
    plugin = InterPodAffinity({}, handle)
    per_host = make_pod(labels={"app": "web"}, affinity=_anti(_term(HOST, {"app": "web"})))
    passed, failed = filter_all(plugin, per_host, handle)
    assert passed == ["a2", "b1"]
    assert reasons(failed) == {"a1": ("node(s) didn't match pod anti-affinity rules",)}
    per_zone = make_pod(labels={"app": "web"}, affinity=_anti(_term(ZONE, {"app": "web"})))
    assert filter_all(plugin, per_zone, handle)[0] == ["b1"]


def test_existing_pods_anti_affinity_keeps_the_incoming_pod_away(zones: list[Node]) -> None:
    loner = make_pod("db", labels={"app": "db"}, node_name="a1",
                     affinity=_anti(_term(ZONE, {"app": "web"})))  # fmt: skip
    handle = cluster(zones, [loner])
    passed, failed = filter_all(
        InterPodAffinity({}, handle), make_pod(labels={"app": "web"}), handle
    )
    assert passed == ["b1"]
    assert failed["a2"].reasons == ("node(s) didn't satisfy existing pods anti-affinity rules",)
    unrelated = make_pod(labels={"app": "cache"})
    assert filter_all(InterPodAffinity({}, handle), unrelated, handle)[0] == ["a1", "a2", "b1"]


def test_affinity_needs_a_matching_pod_in_the_domain(zones: list[Node]) -> None:
    handle = cluster(zones, [make_pod("db", labels={"app": "db"}, node_name="b1")])
    plugin = InterPodAffinity({}, handle)
    near_db = make_pod(affinity=_aff(_term(ZONE, {"app": "db"})))
    passed, failed = filter_all(plugin, near_db, handle)
    assert passed == ["b1"]
    assert failed["a1"].reasons == ("node(s) didn't match pod affinity rules",)
    nowhere = make_pod(affinity=_aff(_term(ZONE, {"app": "queue"})))
    assert filter_all(plugin, nowhere, handle)[0] == []
    # The first pod of a group that selects itself may go anywhere.
    first = make_pod(labels={"app": "queue"}, affinity=_aff(_term(ZONE, {"app": "queue"})))
    assert filter_all(plugin, first, handle)[0] == ["a1", "a2", "b1"]


def test_affinity_terms_look_in_the_named_namespaces_only(zones: list[Node]) -> None:
    handle = cluster(
        zones, [make_pod("db", namespace="data", labels={"app": "db"}, node_name="b1")]
    )
    plugin = InterPodAffinity({}, handle)
    own_namespace = make_pod(affinity=_aff(_term(ZONE, {"app": "db"})))
    assert filter_all(plugin, own_namespace, handle)[0] == []
    named = make_pod(affinity=_aff(_term(ZONE, {"app": "db"}, namespaces=["data"])))
    assert filter_all(plugin, named, handle)[0] == ["b1"]
    handle.namespaces["data"] = {"team": "storage"}
    by_label = make_pod(
        affinity=_aff(
            _term(ZONE, {"app": "db"}, namespaceSelector={"matchLabels": {"team": "storage"}})
        )
    )
    assert filter_all(plugin, by_label, handle)[0] == ["b1"]


def test_preferred_pod_affinity_scores(zones: list[Node]) -> None:
    handle = cluster(zones, [make_pod("db", labels={"app": "db"}, node_name="b1")])
    pod = make_pod(affinity={"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 50, "podAffinityTerm": _term(ZONE, {"app": "db"})}]}})  # fmt: skip
    assert scores(InterPodAffinity({}, handle), pod, handle) == {"a1": 100, "a2": 100, "b1": 0}
    assert scores(InterPodAffinity({}, handle), make_pod(), handle) is None


def test_invalid_affinity_selector_is_unresolvable(zones: list[Node]) -> None:
    handle = cluster(zones)
    bad = make_pod(affinity=_anti({"labelSelector": {"matchExpressions": [
        {"key": "app", "operator": "Sideways", "values": ["x"]}]}, "topologyKey": HOST}))  # fmt: skip
    status = InterPodAffinity({}, handle).pre_filter(CycleState(), pod_info(bad))
    assert isinstance(status, Status)
    assert status.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    assert status.reasons[0].startswith("invalid pod affinity:")


# --- PodTopologySpread ----------------------------------------------------------------------


def _spread(key: str, skew: int = 1, when: str = "DoNotSchedule", **extra: Any) -> dict[str, Any]:
    return {"maxSkew": skew, "topologyKey": key, "whenUnsatisfiable": when,
            "labelSelector": {"matchLabels": {"app": "web"}}, **extra}  # fmt: skip


def test_spread_keeps_skew_within_max_skew(zones: list[Node]) -> None:
    handle = cluster(zones, [make_pod("w0", labels={"app": "web"}, node_name="a1")])
    plugin = PodTopologySpread({}, handle)
    pod = make_pod(labels={"app": "web"}, spread=[_spread(ZONE)])
    passed, failed = filter_all(plugin, pod, handle)
    assert passed == ["b1"]  # zone a has 1, zone b 0: another in a would make skew 2
    assert failed["a1"].reasons == ("node(s) didn't match pod topology spread constraints",)
    loose = make_pod(labels={"app": "web"}, spread=[_spread(ZONE, skew=2)])
    assert filter_all(plugin, loose, handle)[0] == ["a1", "a2", "b1"]


def test_spread_rejects_nodes_without_the_topology_label() -> None:
    handle = cluster([make_node("a1", zone="a"), make_node("bare")])
    pod = make_pod(labels={"app": "web"}, spread=[_spread(ZONE)])
    passed, failed = filter_all(PodTopologySpread({}, handle), pod, handle)
    assert passed == ["a1"]
    assert failed["bare"].reasons == (
        "node(s) didn't match pod topology spread constraints (missing required label)",
    )


def test_spread_min_domains_counts_missing_domains_as_empty(zones: list[Node]) -> None:
    pods = [make_pod("w0", labels={"app": "web"}, node_name="a1"),
            make_pod("w1", labels={"app": "web"}, node_name="b1")]  # fmt: skip
    handle = cluster(zones, pods)
    plugin = PodTopologySpread({}, handle)
    two_domains = make_pod(labels={"app": "web"}, spread=[_spread(ZONE)])
    assert filter_all(plugin, two_domains, handle)[0] == ["a1", "a2", "b1"]
    three = make_pod(labels={"app": "web"}, spread=[_spread(ZONE, minDomains=3)])
    assert filter_all(plugin, three, handle)[0] == []


def test_spread_honours_node_affinity_when_counting(zones: list[Node]) -> None:
    # Pods in zone b do not count when the pod can only go to zone a.
    pods = [make_pod("w0", labels={"app": "web"}, node_name="b1")]
    handle = cluster(zones, pods)
    pod = make_pod(labels={"app": "web"}, spread=[_spread(ZONE)], node_selector={ZONE: "a"})
    assert filter_all(PodTopologySpread({}, handle), pod, handle)[0] == ["a1", "a2", "b1"]


def test_schedule_anyway_scores_emptier_domains_higher(zones: list[Node]) -> None:
    pods = [make_pod("w0", labels={"app": "web"}, node_name="a1"),
            make_pod("w1", labels={"app": "web"}, node_name="a2")]  # fmt: skip
    handle = cluster(zones, pods)
    pod = make_pod(labels={"app": "web"}, spread=[_spread(ZONE, when="ScheduleAnyway")])
    got = scores(PodTopologySpread({}, handle), pod, handle)
    assert got is not None and got["b1"] == 100 and got["a1"] == got["a2"] < 100
    assert filter_all(PodTopologySpread({}, handle), pod, handle)[0] == ["a1", "a2", "b1"]


def test_default_spreading_counts_pods_of_the_same_owner() -> None:
    nodes = [make_node(f"n{i}") for i in range(3)]
    pods = [make_pod("r0", owner="rs-1", node_name="n0"), make_pod("r1", owner="rs-1", node_name="n0"),
            make_pod("other", owner="rs-2", node_name="n1")]  # fmt: skip
    handle = cluster(nodes, pods)
    got = scores(PodTopologySpread({}, handle), make_pod("r2", owner="rs-1"), handle)
    assert got is not None
    assert got["n1"] == got["n2"] == 100 and got["n0"] < 100
    assert scores(PodTopologySpread({}, handle), make_pod(), handle) is None  # no owner


def test_spread_counts_kept_per_node_follow_pods_coming_and_going(zones: list[Node]) -> None:
    # More matching pods than nodes: counted per node, each count kept until its node
    # changes. The same plugin must see pods leave and arrive.
    web = {"app": "web"}
    pods = [make_pod(f"w{i}", labels=web, node_name="a1") for i in range(6)]
    pods += [make_pod(f"v{i}", labels=web, node_name="b1") for i in range(2)]
    handle = cluster(zones, pods)
    plugin = PodTopologySpread({}, handle)
    pod = make_pod(labels=web, spread=[_spread(ZONE, skew=3)])
    assert filter_all(plugin, pod, handle)[0] == ["b1"]  # zone a 6, b 2
    for i in range(3):
        handle.cache.remove_pod(f"default/w{i}")
    assert filter_all(plugin, pod, handle)[0] == ["a1", "a2", "b1"]  # a 3, b 2
    for i in range(2, 6):
        handle.cache.add_pod(pod_info(make_pod(f"v{i}", labels=web, node_name="b1")))
    assert filter_all(plugin, pod, handle)[0] == ["a1", "a2"]  # a 3, b 6


def test_default_spreading_with_many_pods_scores_the_same_as_counting_each() -> None:
    nodes = [make_node(f"n{i}") for i in range(3)]
    pods = [make_pod(f"r{i}", owner="rs-1", node_name="n0") for i in range(4)]
    pods.append(make_pod("s0", owner="rs-1", node_name="n1"))
    handle = cluster(nodes, pods)
    plugin = PodTopologySpread({}, handle)
    got = scores(plugin, make_pod("new", owner="rs-1"), handle)
    assert got is not None and got["n2"] == 100 and got["n0"] < got["n1"] < 100
    # Pods leave n0 and arrive on n2: the kept counts must follow.
    for i in range(3):
        handle.cache.remove_pod(f"default/r{i}")
    handle.cache.add_pod(pod_info(make_pod("s1", owner="rs-1", node_name="n2")))
    handle.cache.add_pod(pod_info(make_pod("s2", owner="rs-1", node_name="n2")))
    got = scores(plugin, make_pod("new", owner="rs-1"), handle)
    assert got is not None and got["n0"] == got["n1"] > got["n2"]  # 1, 1, 2
