"""The framework and the scheduling cycle: configuration, plugin order and weights,
Kubernetes' failure messages, node sampling, and the memoised fast path."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from apitypes.core import Node, Pod
from scheduler.config import ConfigError, load_config, parse_config, parse_duration
from scheduler.framework import (
    ClusterEvent,
    CycleState,
    Diagnosis,
    Handle,
    Status,
    fit_error_message,
    unschedulable,
)
from scheduler.plugins import REGISTRY
from scheduler.podinfo import pod_info
from scheduler.runtime import Framework
from scheduler.scheduler import Scheduler, num_feasible_nodes_to_find
from tests.unit.test_scheduler_plugins import HOST, ZONE, make_node, make_pod

# --- configuration ------------------------------------------------------------------------


def test_defaults_match_kubernetes() -> None:
    profile = parse_config({}, REGISTRY).profiles[0]
    assert profile.scheduler_name == "default-scheduler"
    assert profile.plugins["filter"] == [
        "NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodePorts",
        "NodeResourcesFit", "PodTopologySpread", "InterPodAffinity",
    ]  # fmt: skip
    assert profile.weights == {
        "TaintToleration": 3, "NodeAffinity": 2, "NodeResourcesFit": 1, "PodTopologySpread": 2,
        "InterPodAffinity": 2, "NodeResourcesBalancedAllocation": 1,
    }  # fmt: skip
    assert profile.plugins["preEnqueue"] == ["SchedulingGates"]


def test_plugins_can_be_disabled_enabled_and_reweighted(tmp_path: Path) -> None:
    path = tmp_path / "sched.yaml"
    path.write_text(
        """
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 30
podMaxInUnschedulablePodsDuration: 2m
leaderElection: {leaderElect: false, leaseDuration: 4s}
profiles:
- schedulerName: packer
  plugins:
    score:
      disabled: [{name: NodeResourcesBalancedAllocation}]
      enabled: [{name: NodeResourcesFit, weight: 5}]
    filter:
      disabled: [{name: NodePorts}]
  pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated}}
- schedulerName: bare
  plugins:
    multiPoint:
      disabled: [{name: "*"}]
      enabled: [{name: NodeResourcesFit}, {name: ImageLocality}]
"""
    )
    config = load_config(path, REGISTRY)
    packer, bare = config.profiles
    assert config.percentage_of_nodes_to_score == 30
    assert config.pod_max_in_unschedulable_seconds == 120
    assert not config.leader_election.leader_elect
    assert config.leader_election.lease_duration == 4
    assert "NodeResourcesBalancedAllocation" not in packer.plugins["score"]
    assert (
        "NodePorts" not in packer.plugins["filter"] and "NodePorts" in packer.plugins["preFilter"]
    )
    assert packer.weights["NodeResourcesFit"] == 5
    assert packer.plugin_args["NodeResourcesFit"]["scoringStrategy"]["type"] == "MostAllocated"
    assert bare.plugins["filter"] == ["NodeResourcesFit"] and bare.plugins["score"] == [
        "NodeResourcesFit"
    ]
    handle = Handle(Scheduler(config, REGISTRY).cache)
    framework = Framework(packer, REGISTRY, handle)
    weights = {p.name: w for p, w in framework.score_plugins}
    assert weights["NodeResourcesFit"] == 5 and "NodeResourcesBalancedAllocation" not in weights


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"profiles": [{"plugins": {"filter": {"enabled": [{"name": "Magic"}]}}}]}, "unknown plugin"),
        ({"profiles": [{"plugins": {"score": {"enabled": [{"name": "NodeName"}]}}}]},
         "does not implement score"),
        ({"profiles": [{"plugins": {"score": {"enabled": [{"name": "NodeAffinity", "weight": 0}]}}}]},
         "weight"),
        ({"profiles": [{}, {}]}, "Duplicate value"),
        ({"percentageOfNodesToScore": 101}, "0..100"),
        ({"apiVersion": "kubescheduler.config.k8s.io/v9"}, "Unsupported value"),
        ({"profile": []}, 'unknown field "profile"'),
        ({"podMaxBackoffSeconds": 0.5}, "at least podInitialBackoffSeconds"),
    ],
)  # fmt: skip
def test_bad_configuration_is_refused_with_the_field(doc: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(doc, REGISTRY)


def test_go_durations() -> None:
    assert parse_duration("1m30s", "x") == 90
    assert parse_duration("250ms", "x") == 0.25
    assert parse_duration(3, "x") == 3
    with pytest.raises(ConfigError, match="invalid duration"):
        parse_duration("soon", "x")


# --- messages and sampling ----------------------------------------------------------------


def test_fit_error_message_is_kubernetes_wording_sorted_as_strings() -> None:
    diagnosis = Diagnosis(
        node_statuses={
            "a": unschedulable("Insufficient cpu"),
            "b": unschedulable("Insufficient cpu", "Insufficient memory"),
            "c": unschedulable("node(s) had untolerated taint {node.kubernetes.io/unreachable: }"),
        }
    )
    assert fit_error_message(3, diagnosis) == (
        "0/3 nodes are available: 1 Insufficient memory, "
        "1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 Insufficient cpu."
    )
    assert fit_error_message(0, Diagnosis()) == "no nodes available to schedule pods"
    assert fit_error_message(5, Diagnosis(pre_filter_message="pod affinity terms conflict")) == (
        "0/5 nodes are available: pod affinity terms conflict."
    )


@pytest.mark.parametrize(
    ("nodes", "expected"),
    [(50, 50), (100, 50), (1000, 420), (5000, 500), (6000, 300), (20000, 1000)],
)
def test_adaptive_percentage_of_nodes_to_score(nodes: int, expected: int) -> None:
    assert num_feasible_nodes_to_find(0, nodes) == max(expected, min(nodes, 100))


def test_fixed_percentage_still_finds_at_least_100() -> None:
    assert num_feasible_nodes_to_find(10, 500) == 100
    assert num_feasible_nodes_to_find(50, 5000) == 2500


# --- the scheduling cycle -----------------------------------------------------------------


def offline(nodes: list[Node], pods: list[Pod] = (), **config: object) -> Scheduler:  # type: ignore[assignment]
    scheduler = Scheduler(parse_config(config, REGISTRY), REGISTRY, rng=random.Random(7))
    for n in nodes:
        scheduler.on_node_add(n)
    for p in pods:
        scheduler.on_pod_add(p)
    return scheduler


def schedule(scheduler: Scheduler, pod: Pod) -> tuple[str | None, str]:
    scheduler.on_pod_add(pod)
    qp = scheduler.queue.pop()
    assert qp is not None
    decision = scheduler.schedule_one(qp)
    assert decision is not None
    return decision.node, decision.message


def test_big_pod_lands_on_the_big_node_and_nodes_fill_up() -> None:
    scheduler = offline([make_node("small-1", cpu="1"), make_node("small-2", cpu="1"),
                         make_node("big", cpu="4")])  # fmt: skip
    assert schedule(scheduler, make_pod("huge", cpu="3"))[0] == "big"
    placed = [schedule(scheduler, make_pod(f"p{i}", cpu="1"))[0] for i in range(3)]
    assert sorted(str(n) for n in placed) == ["big", "small-1", "small-2"]
    node, message = schedule(scheduler, make_pod("extra", cpu="1"))
    assert node is None
    assert message == "0/3 nodes are available: 3 Insufficient cpu."
    assert scheduler.queue.where("default/extra") == "unschedulable"


def test_failure_message_mixes_reasons_across_nodes() -> None:
    taint = [{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}]
    scheduler = offline([make_node("a", cpu="1"), make_node("b", cpu="1"),
                         make_node("c", cpu="8", taints=taint)])  # fmt: skip
    node, message = schedule(scheduler, make_pod(cpu="2"))
    assert node is None
    assert message == (
        "0/3 nodes are available: 1 node(s) had untolerated taint "
        "{node.kubernetes.io/unreachable: }, 2 Insufficient cpu."
    )


def test_pod_pinned_to_a_missing_node_stays_pending_with_a_clear_message() -> None:
    scheduler = offline([make_node("a"), make_node("b")])
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchFields": [
            {"key": "metadata.name", "operator": "In", "values": ["ghost"]}]}]}}}  # fmt: skip
    node, message = schedule(scheduler, make_pod(affinity=affinity))
    assert node is None
    assert message == "0/2 nodes are available: 2 node(s) didn't satisfy plugin(s) [NodeAffinity]."
    selector = make_pod("sel", node_selector={HOST: "ghost"})
    assert schedule(scheduler, selector) == (
        None, "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector."
    )  # fmt: skip


def test_no_nodes_at_all() -> None:
    scheduler = offline([])
    assert schedule(scheduler, make_pod()) == (None, "no nodes available to schedule pods")
    scheduler.on_node_add(make_node("late"))
    assert scheduler.queue.where("default/p") in ("active", "backoff")


def test_resources_freed_by_a_deleted_pod_retry_the_pending_pod() -> None:
    running = make_pod("running", cpu="1", node_name="n")
    scheduler = offline([make_node("n", cpu="1")], [running])
    assert schedule(scheduler, make_pod("wait", cpu="1"))[0] is None
    scheduler.on_pod_delete(running)
    assert scheduler.queue.where("default/wait") in ("active", "backoff")


def test_anti_affinity_replicas_spread_one_per_node() -> None:
    nodes = [make_node(f"n{i}") for i in range(3)]
    scheduler = offline(nodes)
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": HOST}]}}  # fmt: skip
    placed = [
        schedule(scheduler, make_pod(f"w{i}", labels={"app": "web"}, affinity=anti))[0]
        for i in range(4)
    ]
    assert sorted(str(n) for n in placed[:3]) == ["n0", "n1", "n2"] and placed[3] is None


def test_topology_spread_across_zones() -> None:
    nodes = [make_node(f"{z}{i}", zone=z) for z in "ab" for i in range(2)]
    scheduler = offline(nodes)
    spread = [{"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule",
               "labelSelector": {"matchLabels": {"app": "web"}}}]  # fmt: skip
    zones = [
        schedule(scheduler, make_pod(f"w{i}", labels={"app": "web"}, spread=spread))[0][0]  # type: ignore[index]
        for i in range(6)
    ]
    assert sorted(zones) == ["a", "a", "a", "b", "b", "b"]


def test_percentage_limits_the_nodes_examined_and_the_start_rotates() -> None:
    scheduler = offline([make_node(f"n{i:03}") for i in range(400)], percentageOfNodesToScore=30)
    pod = pod_info(make_pod(cpu="1"))
    framework = scheduler.frameworks["default-scheduler"]
    first = scheduler.decide(framework, CycleState(), pod)
    assert first.feasible == 120 and scheduler.next_start_index == 120
    scheduler.decide(framework, CycleState(), pod)
    assert scheduler.next_start_index == 240


def test_plugin_crash_is_an_error_status_not_an_exception() -> None:
    scheduler = offline([make_node("a"), make_node("b")])
    framework = scheduler.frameworks["default-scheduler"]
    plugin = framework.plugins["NodeResourcesFit"]

    def boom(*_: object) -> list[object]:
        raise RuntimeError("bug")

    setattr(plugin, "filter_nodes", boom)  # noqa: B010
    node, message = schedule(scheduler, make_pod(cpu="1"))
    assert node is None
    assert message == "running Filter plugin 'NodeResourcesFit': bug"
    assert scheduler.queue.where("default/p") == "backoff"


def test_bind_confirmation_moves_assumed_pod_to_bound() -> None:
    scheduler = offline([make_node("n", cpu="2")])
    pending = make_pod("p", cpu="1")
    assert schedule(scheduler, pending)[0] == "n"
    assert "default/p" in scheduler.cache.pods
    bound = make_pod("p", cpu="1", node_name="n")
    scheduler.on_pod_update(pending, bound)
    assert not scheduler.cache.is_assumed("default/p")
    assert scheduler.cache.nodes["n"].req_cpu == 1000
    assert "default/p" not in scheduler.queue


def test_pods_for_other_schedulers_are_ignored() -> None:
    scheduler = offline([make_node("n")])
    scheduler.on_pod_add(make_pod("mine"))
    scheduler.on_pod_add(make_pod("theirs", scheduler_name="other"))
    assert "default/mine" in scheduler.queue and "default/theirs" not in scheduler.queue


# --- the fast path means the same as the plain one ----------------------------------------


def _random_cluster(rng: random.Random) -> tuple[Scheduler, list[Pod]]:
    nodes = []
    for i in range(rng.randint(1, 150)):
        taints = [{"key": "t", "value": "x", "effect": rng.choice(["NoSchedule", "PreferNoSchedule"])}] if rng.random() < 0.2 else []  # fmt: skip
        nodes.append(make_node(
            f"n{i}", cpu=str(rng.randint(1, 8)), memory=f"{rng.randint(1, 16)}Gi",
            pods=str(rng.randint(1, 10)), zone=rng.choice("abc"), taints=taints,
            unschedulable=rng.random() < 0.05,
        ))  # fmt: skip
    pods = []
    for i in range(rng.randint(0, 200)):
        node = rng.choice(nodes).metadata.name
        pods.append(make_pod(f"e{i}", cpu=f"{rng.randint(1, 2000)}m", node_name=node))
    return offline(nodes, pods), pods


@pytest.mark.parametrize("seed", range(12))
def test_fast_path_agrees_with_the_plain_path(seed: int) -> None:
    rng = random.Random(seed)
    scheduler, _ = _random_cluster(rng)
    framework = scheduler.frameworks["default-scheduler"]
    nodes = scheduler.cache.node_list()
    for i in range(8):
        tolerations = [{"key": "t", "operator": "Exists"}] if rng.random() < 0.3 else []
        pod = pod_info(make_pod(f"q{i}", cpu=f"{rng.randint(1, 3000)}m",
                                memory=f"{rng.randint(1, 4000)}Mi", tolerations=tolerations))  # fmt: skip
        start = rng.randrange(len(nodes))
        to_find = num_feasible_nodes_to_find(0, len(nodes))
        state = CycleState()
        framework.run_pre_filter(state, pod)
        plan = framework.fast_plan(state, pod)
        if plan is None:  # PreferNoSchedule taints normalise: not memoisable
            assert scheduler.cache.prefer_no_schedule_nodes
            continue
        fast = framework.fast_find(
            state, pod, nodes, scheduler.cache.node_generations(), start, to_find, plan
        )
        assert not isinstance(fast, Status)
        plain_state = CycleState()
        framework.run_pre_filter(plain_state, pod)
        order = nodes[start:] + nodes[:start]
        failed: dict[str, Status] = {}
        passed = framework.run_filters(plain_state, pod, order, failed)
        assert not isinstance(passed, Status)
        feasible, scores, _, fast_failed = fast
        assert [n.name for n in feasible] == [n.name for n in passed[:to_find]]
        if feasible:
            plain_scores = framework.run_score(plain_state, pod, passed[:to_find])
            assert scores == plain_scores
        else:
            assert {k: v.reasons for k, v in fast_failed.items()} == {
                k: v.reasons for k, v in failed.items()
            }
        # Place the pod somewhere, as the scheduler would, so later rounds see changes.
        if feasible:
            scheduler.cache.assume(pod, feasible[0].name)


def test_events_map_to_the_plugins_that_registered_them() -> None:
    framework = offline([]).frameworks["default-scheduler"]
    assert "NodeResourcesFit" in framework.plugins_for(ClusterEvent.POD_DELETE)
    assert "TaintToleration" not in framework.plugins_for(ClusterEvent.POD_DELETE)
    assert "TaintToleration" in framework.plugins_for(ClusterEvent.NODE_TAINT)
    assert "InterPodAffinity" in framework.plugins_for(ClusterEvent.POD_ADD)


def test_bad_plugin_args_fail_at_load_time() -> None:
    doc = {"profiles": [{"pluginConfig": [
        {"name": "NodeResourcesFit", "args": {"scoringStrategy": {"type": "Random"}}}]}]}  # fmt: skip
    with pytest.raises(ConfigError, match=r"NodeResourcesFit\.scoringStrategy\.type"):
        parse_config(doc, REGISTRY)


class FakeClient:
    """Records binds and status patches; binds of pods named ``fail-*`` are refused."""

    def __init__(self) -> None:
        self.binds: list[tuple[str, str, str]] = []
        self.patches: list[tuple[str, dict[str, object]]] = []

    async def bind(self, namespace: str, pod: str, node: str) -> None:
        from apiclient import errors

        self.binds.append((namespace, pod, node))
        if pod.startswith("fail-"):
            raise errors.from_status({"code": 500, "message": "etcd is down"}, 500)

    async def patch_status(self, model: object, name: str, patch: dict[str, object],
                           namespace: str, *, patch_type: str) -> None:  # fmt: skip
        self.patches.append((name, patch))


async def _settle(scheduler: Scheduler) -> None:
    """Wait until the scheduler's background work (binds, status patches, and whatever
    they start in turn) is done."""
    import asyncio

    while scheduler._tasks:
        await asyncio.gather(*scheduler._tasks)


async def test_condition_is_written_once_per_distinct_message() -> None:
    client = FakeClient()
    scheduler = Scheduler(parse_config({}, REGISTRY), REGISTRY, client=client)  # type: ignore[arg-type]
    scheduler.on_node_add(make_node("n", cpu="1"))
    pending = make_pod("big", cpu="2")
    for _ in range(3):
        scheduler.on_pod_add(pending)
        qp = scheduler.queue.pop()
        assert qp is not None
        scheduler.schedule_one(qp)
        scheduler.queue.delete(qp.key)
        await _settle(scheduler)
    assert len(client.patches) == 1
    name, patch = client.patches[0]
    condition = patch["status"]["conditions"][0]  # type: ignore[index]
    assert name == "big"
    assert (condition["type"], condition["status"], condition["reason"]) == (  # type: ignore[index]
        "PodScheduled", "False", "Unschedulable"
    )  # fmt: skip
    assert condition["message"] == "0/1 nodes are available: 1 Insufficient cpu."  # type: ignore[index]


async def test_failed_bind_forgets_the_assumption_and_backs_off() -> None:
    client = FakeClient()
    scheduler = Scheduler(parse_config({}, REGISTRY), REGISTRY, client=client)  # type: ignore[arg-type]
    scheduler.on_node_add(make_node("n", cpu="1"))
    scheduler.on_pod_add(make_pod("fail-1", cpu="1"))
    qp = scheduler.queue.pop()
    assert qp is not None
    scheduler.schedule_one(qp)
    assert scheduler.cache.nodes["n"].req_cpu == 1000  # assumed at once
    await _settle(scheduler)
    assert client.binds == [("default", "fail-1", "n")]
    assert scheduler.cache.nodes["n"].req_cpu == 0
    assert scheduler.queue.where("default/fail-1") == "backoff"
    assert scheduler.stats.bind_failures == 1
    assert client.patches[0][1]["status"]["conditions"][0]["reason"] == "SchedulerError"  # type: ignore[index]
