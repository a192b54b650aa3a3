"""The scheduling queue: which pending pod to try next, and when to retry a failure.

Pods live in exactly one of these places:

- **active**: ready to be tried, ordered by ``spec.priority`` (highest first), then by
  creation time (oldest first), then by arrival;
- **backoff**: failed recently; each pod waits 1 s after its first attempt, doubling
  per attempt up to 10 s, then moves to active;
- **unschedulable**: no node fits and nothing has changed since. A cluster event that
  one of the plugins that rejected the pod registered for (a node added, a pod
  deleted...) moves it to active, or to backoff if its backoff has not run out; pods
  left here longer than ``max_unschedulable`` are moved anyway, as a safety net;
- **gated**: a PreEnqueue check (scheduling gates) says not yet;
- **in flight**: popped and being scheduled or bound; the scheduler hands it back
  with ``add_unschedulable``/``add_backoff`` on failure or ``done`` on success. A pod
  deleted meanwhile is not handed back.

The queue is plain synchronous logic over an injected clock; the scheduler awaits
``notify`` and ``next_wakeup()`` for the asynchronous side.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass

from scheduler.clusterevents import ClusterEvent
from scheduler.podinfo import PodInfo


@dataclass(slots=True, eq=False)
class QueuedPod:
    """A pending pod and its scheduling history."""

    info: PodInfo
    attempts: int = 0
    timestamp: float = 0.0  # when it was last (re)queued; backoff counts from here
    initial_attempt: float | None = None
    unschedulable_plugins: frozenset[str] = frozenset()
    seq: int = 0

    @property
    def key(self) -> str:
        return self.info.key


class SchedulingQueue:
    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        initial_backoff: float = 1.0,
        max_backoff: float = 10.0,
        max_unschedulable: float = 60.0,
        pre_enqueue: Callable[[PodInfo], bool] | None = None,
        notify: Callable[[], None] | None = None,
    ) -> None:
        self.clock = clock
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.max_unschedulable = max_unschedulable
        self._pre_enqueue = pre_enqueue or (lambda _pod: True)
        self._notify = notify or (lambda: None)
        self._seq = itertools.count()
        self._active: list[tuple[int, float, int, str]] = []
        self._active_pods: dict[str, QueuedPod] = {}
        self._backoff: list[tuple[float, int, str]] = []
        self._backoff_pods: dict[str, QueuedPod] = {}
        self._unschedulable: dict[str, QueuedPod] = {}
        self._by_plugin: dict[str, set[str]] = {}
        self._no_plugin: set[str] = set()
        self._gated: dict[str, QueuedPod] = {}
        self._in_flight: dict[str, QueuedPod] = {}

    # --- sizes ---------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        return {
            "active": len(self._active_pods),
            "backoff": len(self._backoff_pods),
            "unschedulable": len(self._unschedulable),
            "gated": len(self._gated),
            "in_flight": len(self._in_flight),
        }

    def __len__(self) -> int:
        return (
            len(self._active_pods)
            + len(self._backoff_pods)
            + len(self._unschedulable)
            + len(self._gated)
        )

    def __contains__(self, key: object) -> bool:
        return (
            key in self._active_pods
            or key in self._backoff_pods
            or key in self._unschedulable
            or key in self._gated
            or key in self._in_flight
        )

    def where(self, key: str) -> str | None:
        """Which part of the queue holds ``key`` (for tests and debugging)."""
        for name, place in (
            ("active", self._active_pods),
            ("backoff", self._backoff_pods),
            ("unschedulable", self._unschedulable),
            ("gated", self._gated),
            ("in_flight", self._in_flight),
        ):
            if key in place:
                return name
        return None

    # --- placing pods --------------------------------------------------------------------

    def backoff_duration(self, attempts: int) -> float:
        duration = self.initial_backoff
        for _ in range(1, attempts):
            duration *= 2
            if duration >= self.max_backoff:
                return self.max_backoff
        return min(duration, self.max_backoff)

    def _backoff_expiry(self, qp: QueuedPod) -> float:
        return qp.timestamp + self.backoff_duration(qp.attempts)

    def _push_active(self, qp: QueuedPod) -> None:
        if not self._pre_enqueue(qp.info):
            self._gated[qp.key] = qp
            return
        qp.seq = next(self._seq)
        info = qp.info
        heapq.heappush(self._active, (-info.priority, info.created, qp.seq, qp.key))
        self._active_pods[qp.key] = qp
        self._notify()

    def _push_backoff(self, qp: QueuedPod) -> None:
        qp.seq = next(self._seq)
        heapq.heappush(self._backoff, (self._backoff_expiry(qp), qp.seq, qp.key))
        self._backoff_pods[qp.key] = qp
        self._notify()

    def _requeue(self, qp: QueuedPod) -> None:
        """To backoff if it is still backing off, else to active."""
        if qp.attempts and self._backoff_expiry(qp) > self.clock():
            self._push_backoff(qp)
        else:
            self._push_active(qp)

    def _take(self, key: str) -> QueuedPod | None:
        """Remove ``key`` from whichever waiting place holds it."""
        qp = self._active_pods.pop(key, None) or self._backoff_pods.pop(key, None)
        if qp is not None:
            return qp  # its heap entry goes stale and is skipped
        qp = self._gated.pop(key, None)
        if qp is not None:
            return qp
        qp = self._unschedulable.pop(key, None)
        if qp is not None:
            self._unindex(qp)
        return qp

    def _unindex(self, qp: QueuedPod) -> None:
        if not qp.unschedulable_plugins:
            self._no_plugin.discard(qp.key)
        for plugin in qp.unschedulable_plugins:
            keys = self._by_plugin.get(plugin)
            if keys is not None:
                keys.discard(qp.key)
                if not keys:
                    del self._by_plugin[plugin]

    # --- informer-driven -----------------------------------------------------------------

    def add(self, info: PodInfo) -> None:
        """A new pending pod (or one seen again after a relist)."""
        if info.key in self:
            self.update(info, changed=True)
            return
        self._push_active(QueuedPod(info, timestamp=self.clock()))

    def update(self, info: PodInfo, *, changed: bool) -> None:
        """A pending pod changed; ``changed`` says its spec or labels did (not just its
        status), which may make an unschedulable or gated pod worth another try."""
        key = info.key
        flying = self._in_flight.get(key)
        if flying is not None:
            flying.info = info
            return
        waiting = self._unschedulable.get(key) or self._gated.get(key)
        if waiting is not None and not changed:
            waiting.info = info
            return
        was_active = key in self._active_pods
        was_backoff = key in self._backoff_pods
        qp = self._take(key)
        if qp is None:
            self._push_active(QueuedPod(info, timestamp=self.clock()))
            return
        qp.info = info
        if was_active:
            self._push_active(qp)  # its priority may have changed: re-sort
        elif was_backoff:
            self._push_backoff(qp)
        else:
            self._requeue(qp)

    def delete(self, key: str) -> None:
        """The pod is gone, or no longer pending (bound by someone)."""
        self._take(key)
        self._in_flight.pop(key, None)

    # --- the scheduling loop's side ------------------------------------------------------

    def pop(self) -> QueuedPod | None:
        """The next pod to try, or None if none is ready now."""
        self.flush_backoff()
        while self._active:
            _, _, seq, key = heapq.heappop(self._active)
            qp = self._active_pods.get(key)
            if qp is None or qp.seq != seq:
                continue
            del self._active_pods[key]
            qp.attempts += 1
            if qp.initial_attempt is None:
                qp.initial_attempt = self.clock()
            self._in_flight[key] = qp
            return qp
        return None

    def done(self, key: str) -> None:
        """The pod was bound; forget it."""
        self._in_flight.pop(key, None)

    def add_unschedulable(self, qp: QueuedPod, plugins: frozenset[str]) -> bool:
        """No node fits ``qp``; ``plugins`` rejected it. False if it was deleted meanwhile."""
        if self._in_flight.pop(qp.key, None) is None:
            return False
        qp.timestamp = self.clock()
        qp.unschedulable_plugins = plugins
        self._place_unschedulable(qp)
        return True

    def _place_unschedulable(self, qp: QueuedPod) -> None:
        self._unschedulable[qp.key] = qp
        if qp.unschedulable_plugins:
            for plugin in qp.unschedulable_plugins:
                self._by_plugin.setdefault(plugin, set()).add(qp.key)
        else:
            self._no_plugin.add(qp.key)

    def add_backoff(self, qp: QueuedPod) -> bool:
        """Scheduling errored or the bind failed: retry after backoff."""
        if self._in_flight.pop(qp.key, None) is None:
            return False
        qp.timestamp = self.clock()
        self._push_backoff(qp)
        return True

    def move(self, event: ClusterEvent, plugins: frozenset[str]) -> int:
        """``event`` happened; retry unschedulable pods that one of ``plugins`` (those
        registered for it) rejected. Pods no plugin rejected (there were no nodes) are
        retried on node events. Returns how many moved."""
        keys: set[str] = set()
        for plugin in plugins:
            found = self._by_plugin.get(plugin)
            if found:
                keys |= found
        if event & ClusterEvent.NODE_ANY and self._no_plugin:
            keys |= self._no_plugin
        for key in keys:
            qp = self._unschedulable.pop(key)
            self._unindex(qp)
            self._requeue(qp)
        return len(keys)

    def move_all(self) -> int:
        keys = list(self._unschedulable)
        for key in keys:
            qp = self._unschedulable.pop(key)
            self._unindex(qp)
            self._requeue(qp)
        return len(keys)

    def flush_backoff(self) -> None:
        now = self.clock()
        while self._backoff and self._backoff[0][0] <= now:
            _, seq, key = heapq.heappop(self._backoff)
            qp = self._backoff_pods.get(key)
            if qp is None or qp.seq != seq:
                continue
            del self._backoff_pods[key]
            self._push_active(qp)

    def flush_unschedulable(self) -> int:
        """Retry pods that have waited longer than ``max_unschedulable``."""
        now = self.clock()
        stale = [
            qp for qp in self._unschedulable.values() if now - qp.timestamp > self.max_unschedulable
        ]
        for qp in stale:
            del self._unschedulable[qp.key]
            self._unindex(qp)
            self._requeue(qp)
        return len(stale)

    def next_wakeup(self) -> float | None:
        """When the earliest backing-off pod becomes ready (clock time), if any."""
        while self._backoff:
            expiry, seq, key = self._backoff[0]
            qp = self._backoff_pods.get(key)
            if qp is not None and qp.seq == seq:
                return expiry
            heapq.heappop(self._backoff)
        return None

    def pending(self) -> list[QueuedPod]:
        """Every waiting pod (not in flight), for diagnostics."""
        return [
            *self._active_pods.values(),
            *self._backoff_pods.values(),
            *self._unschedulable.values(),
            *self._gated.values(),
        ]
