"""The scheduler cache: assume, forget, confirm, expire; nodes and their indexes."""

from __future__ import annotations

from scheduler.cache import Cache
from scheduler.clusterevents import ClusterEvent
from scheduler.podinfo import pod_info
from tests.unit.test_scheduler_plugins import make_node, make_pod


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_assume_counts_the_pod_at_once_and_forget_undoes_it() -> None:
    cache = Cache()
    cache.add_node(make_node("n", cpu="2"))
    pod = pod_info(make_pod("p", cpu="1500m", host_ports=[80]))
    before = cache.nodes["n"].generation
    assumed = cache.assume(pod, "n")
    node = cache.nodes["n"]
    assert assumed.node_name == "n" and cache.is_assumed("default/p")
    assert (node.req_cpu, len(node.pods)) == (1500, 1)
    assert node.port_conflict("0.0.0.0", "TCP", 80)
    assert node.generation != before
    assert cache.forget("default/p") is not None
    assert (node.req_cpu, len(node.pods), node.used_ports) == (0, 0, {})
    assert not cache.is_assumed("default/p")


def test_informer_confirms_the_assumption() -> None:
    cache = Cache()
    cache.add_node(make_node("n"))
    cache.assume(pod_info(make_pod("p", cpu="1")), "n")
    cache.finish_binding("default/p")
    cache.add_pod(pod_info(make_pod("p", cpu="1", node_name="n")))
    assert not cache.is_assumed("default/p")
    assert cache.forget("default/p") is None  # confirmed: nothing to forget
    assert cache.nodes["n"].req_cpu == 1000 and len(cache.nodes["n"].pods) == 1


def test_confirmation_on_another_node_moves_the_pod() -> None:
    cache = Cache()
    cache.add_node(make_node("a"))
    cache.add_node(make_node("b"))
    cache.assume(pod_info(make_pod("p", cpu="1")), "a")
    cache.add_pod(pod_info(make_pod("p", cpu="1", node_name="b")))
    assert (cache.nodes["a"].req_cpu, cache.nodes["b"].req_cpu) == (0, 1000)


def test_unconfirmed_assumptions_expire_after_their_deadline() -> None:
    clock = Clock()
    cache = Cache(clock=clock, assumed_ttl=30)
    cache.add_node(make_node("n"))
    cache.assume(pod_info(make_pod("binding", cpu="1")), "n")
    cache.assume(pod_info(make_pod("bound", cpu="1")), "n")
    cache.finish_binding("default/bound")
    clock.now = 29
    assert cache.expire() == []
    clock.now = 31
    assert [p.key for p in cache.expire()] == ["default/bound"]
    # A bind still in flight never expires: its outcome will come.
    assert cache.is_assumed("default/binding")
    assert cache.nodes["n"].req_cpu == 1000


def test_deleting_a_node_keeps_its_pods_until_they_go() -> None:
    cache = Cache()
    cache.add_node(make_node("n", zone="z"))
    cache.add_pod(pod_info(make_pod("p", cpu="1", node_name="n")))
    assert cache.remove_node("n") == ClusterEvent.NODE_DELETE
    assert cache.node("n") is None and cache.node_list() == []
    assert cache.nodes["n"].req_cpu == 1000
    assert "topology.kubernetes.io/zone" not in cache.label_values
    cache.remove_pod("default/p")
    assert "n" not in cache.nodes


def test_pod_on_an_unknown_node_is_kept_until_the_node_appears() -> None:
    cache = Cache()
    cache.add_pod(pod_info(make_pod("p", cpu="1", node_name="later")))
    assert cache.node_list() == []
    assert cache.add_node(make_node("later")) == ClusterEvent.NODE_ADD
    node = cache.node("later")
    assert node is not None and node.req_cpu == 1000


def test_node_updates_report_what_changed() -> None:
    cache = Cache()
    cache.add_node(make_node("n"))
    assert cache.update_node(make_node("n")) == ClusterEvent(0)
    assert cache.update_node(make_node("n", labels={"disk": "ssd"})) == ClusterEvent.NODE_LABEL
    tainted = make_node("n", labels={"disk": "ssd"}, taints=[{"key": "k", "effect": "NoSchedule"}])
    assert cache.update_node(tainted) == ClusterEvent.NODE_TAINT
    bigger = make_node("n", cpu="64", labels={"disk": "ssd"},
                       taints=[{"key": "k", "effect": "NoSchedule"}])  # fmt: skip
    assert cache.update_node(bigger) == ClusterEvent.NODE_ALLOCATABLE
    assert cache.label_values["disk"] == {"ssd": 1}


def test_node_list_interleaves_zones_and_tracks_generations() -> None:
    cache = Cache()
    for name, zone in [("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b"), ("c1", "c")]:
        cache.add_node(make_node(name, zone=zone))
    assert [n.name for n in cache.node_list()] == ["a1", "b1", "c1", "a2", "a3"]
    generations = list(cache.node_generations())
    assert generations == [n.generation for n in cache.node_list()]
    cache.add_pod(pod_info(make_pod("p", node_name="c1")))
    assert cache.node_generations()[2] == cache.nodes["c1"].generation != generations[2]


def test_indexes_follow_pods() -> None:
    cache = Cache()
    cache.add_node(make_node("n"))
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"a": "b"}}, "topologyKey": "kubernetes.io/hostname"}]}}  # fmt: skip
    cache.add_pod(pod_info(make_pod("x", node_name="n", owner="rs", affinity=anti)))
    assert set(cache.by_namespace["default"]) == {"default/x"}
    assert set(cache.by_controller["rs"]) == {"default/x"}
    assert set(cache.with_anti_affinity) == set(cache.with_affinity) == {"default/x"}
    assert cache.nodes["n"].anti_affinity_pods == 1
    cache.remove_pod("default/x")
    assert not cache.by_namespace and not cache.by_controller and not cache.with_affinity
    assert cache.nodes["n"].anti_affinity_pods == 0
