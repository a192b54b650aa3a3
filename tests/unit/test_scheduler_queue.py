"""The scheduling queue: ordering, backoff, unschedulable pods moved by events, gates."""

from __future__ import annotations

import pytest

from scheduler.clusterevents import ClusterEvent
from scheduler.podinfo import PodInfo, pod_info
from scheduler.queue import QueuedPod, SchedulingQueue
from tests.unit.test_scheduler_plugins import make_pod


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(clock: Clock) -> SchedulingQueue:
    return SchedulingQueue(clock=clock, pre_enqueue=lambda p: not p.gated, max_unschedulable=60.0)


def p(name: str, **kw: object) -> PodInfo:
    return pod_info(make_pod(name, **kw))  # type: ignore[arg-type]


def drain(queue: SchedulingQueue) -> list[str]:
    out = []
    while (qp := queue.pop()) is not None:
        out.append(qp.info.name)
    return out


def fail(queue: SchedulingQueue, name: str, plugins: set[str]) -> QueuedPod:
    """Pop ``name`` (it must be next) and hand it back as unschedulable."""
    qp = queue.pop()
    assert qp is not None and qp.info.name == name
    assert queue.add_unschedulable(qp, frozenset(plugins))
    return qp


def test_priority_first_then_creation_time_then_arrival(queue: SchedulingQueue) -> None:
    queue.add(p("old-low", created="2024-01-01T00:00:00Z"))
    queue.add(p("new-high", priority=100, created="2024-01-03T00:00:00Z"))
    queue.add(p("new-low", created="2024-01-02T00:00:00Z"))
    queue.add(p("old-high", priority=100, created="2024-01-01T00:00:00Z"))
    queue.add(p("old-low-2", created="2024-01-01T00:00:00Z"))
    assert drain(queue) == ["old-high", "new-high", "old-low", "old-low-2", "new-low"]


def test_backoff_doubles_from_one_second_to_ten(queue: SchedulingQueue) -> None:
    assert [queue.backoff_duration(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


def test_errored_pod_waits_out_its_backoff(queue: SchedulingQueue, clock: Clock) -> None:
    queue.add(p("a"))
    qp = queue.pop()
    assert qp is not None
    assert queue.add_backoff(qp)
    assert queue.where("default/a") == "backoff"
    assert queue.pop() is None
    assert queue.next_wakeup() == clock.now + 1
    clock.now += 1
    again = queue.pop()
    assert again is qp and again.attempts == 2
    queue.add_backoff(again)
    clock.now += 1.5
    assert queue.pop() is None  # second attempt backs off 2 s
    clock.now += 0.5
    assert queue.pop() is qp


def test_event_moves_only_pods_a_registered_plugin_rejected(
    queue: SchedulingQueue, clock: Clock
) -> None:
    queue.add(p("cpu"))
    queue.add(p("taint"))
    fail(queue, "cpu", {"NodeResourcesFit"})
    fail(queue, "taint", {"TaintToleration"})
    clock.now += 30
    assert queue.move(ClusterEvent.POD_DELETE, frozenset({"NodeResourcesFit"})) == 1
    assert queue.where("default/cpu") == "active"
    assert queue.where("default/taint") == "unschedulable"
    assert drain(queue) == ["cpu"]


def test_moved_pod_still_backing_off_goes_to_backoff(queue: SchedulingQueue, clock: Clock) -> None:
    queue.add(p("a"))
    fail(queue, "a", {"NodeAffinity"})
    clock.now += 0.5
    queue.move(ClusterEvent.NODE_ADD, frozenset({"NodeAffinity"}))
    assert queue.where("default/a") == "backoff"
    clock.now += 0.5
    assert drain(queue) == ["a"]


def test_pods_no_plugin_rejected_wait_for_node_events(queue: SchedulingQueue, clock: Clock) -> None:
    queue.add(p("a"))
    fail(queue, "a", set())
    clock.now += 5
    assert queue.move(ClusterEvent.POD_DELETE, frozenset({"NodeResourcesFit"})) == 0
    assert queue.move(ClusterEvent.NODE_ADD, frozenset()) == 1


def test_unschedulable_pods_are_retried_after_the_limit(
    queue: SchedulingQueue, clock: Clock
) -> None:
    queue.add(p("a"))
    fail(queue, "a", {"NodeResourcesFit"})
    clock.now += 59
    assert queue.flush_unschedulable() == 0
    clock.now += 2
    assert queue.flush_unschedulable() == 1
    assert drain(queue) == ["a"]


def test_spec_change_retries_an_unschedulable_pod_but_status_change_does_not(
    queue: SchedulingQueue, clock: Clock
) -> None:
    queue.add(p("a"))
    fail(queue, "a", {"TaintToleration"})
    clock.now += 20
    queue.update(p("a"), changed=False)
    assert queue.where("default/a") == "unschedulable"
    queue.update(p("a", tolerations=[{"operator": "Exists"}]), changed=True)
    qp = queue.pop()
    assert qp is not None and qp.info.tolerations  # the new version is scheduled


def test_deleted_pod_is_not_handed_back(queue: SchedulingQueue) -> None:
    queue.add(p("a"))
    qp = queue.pop()
    assert qp is not None
    queue.delete("default/a")
    assert not queue.add_unschedulable(qp, frozenset({"NodeResourcesFit"}))
    assert not queue.add_backoff(qp)
    assert len(queue) == 0 and "default/a" not in queue


def test_update_while_in_flight_keeps_the_newest_version(queue: SchedulingQueue) -> None:
    queue.add(p("a"))
    qp = queue.pop()
    assert qp is not None
    queue.update(p("a", labels={"v": "2"}), changed=True)
    assert qp.info.labels == {"v": "2"}
    assert queue.where("default/a") == "in_flight"


def test_gated_pods_wait_until_their_gates_are_removed(queue: SchedulingQueue) -> None:
    queue.add(p("g", gates=["wait"]))
    assert queue.where("default/g") == "gated"
    assert queue.pop() is None
    queue.update(p("g"), changed=True)
    assert drain(queue) == ["g"]


def test_notify_fires_when_a_pod_becomes_ready(clock: Clock) -> None:
    calls = []
    queue = SchedulingQueue(clock=clock, notify=lambda: calls.append(1))
    queue.add(p("a"))
    assert calls == [1]
