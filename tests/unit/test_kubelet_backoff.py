"""The kubelet's restart back-off: 10 s doubling to 5 min, forgiven after long runs."""

from __future__ import annotations

from kubelet.backoff import Backoff


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_first_failure_restarts_at_once_then_waits_the_base() -> None:
    clock = Clock()
    backoff = Backoff(10, 300, clock)
    assert backoff.remaining("c", clock.t) == 0
    backoff.next("c", clock.t)
    assert backoff.delay("c") == 10
    clock.t += 1  # crashed again one second after the restart
    assert backoff.remaining("c", clock.t) == 10
    clock.t += 4
    assert backoff.remaining("c", clock.t - 4) == 6


def test_delay_doubles_up_to_the_cap() -> None:
    clock = Clock()
    backoff = Backoff(10, 300, clock)
    delays = []
    for _ in range(8):
        backoff.next("c", clock.t)
        delays.append(backoff.delay("c"))
        clock.t += 1
    assert delays == [10, 20, 40, 80, 160, 300, 300, 300]


def test_a_long_run_is_forgiven() -> None:
    clock = Clock()
    backoff = Backoff(10, 300, clock)
    for _ in range(4):
        backoff.next("c", clock.t)
    assert backoff.delay("c") == 80
    clock.t += 601  # ran for more than 2 * cap since the last restart
    assert backoff.remaining("c", clock.t) == 0
    backoff.next("c", clock.t)
    assert backoff.delay("c") == 10


def test_keys_are_independent_and_forgotten_by_prefix() -> None:
    clock = Clock()
    backoff = Backoff(1, 8, clock)
    backoff.next("pod-a/x/h", clock.t)
    backoff.next("pod-b/x/h", clock.t)
    backoff.forget_prefix("pod-a/")
    assert backoff.delay("pod-a/x/h") == 0
    assert backoff.delay("pod-b/x/h") == 1
    clock.t += 100
    backoff.gc()
    assert backoff.delay("pod-b/x/h") == 0
