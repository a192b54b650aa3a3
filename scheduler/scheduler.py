"""The scheduler: informer events in, decisions out, bindings written asynchronously.

One event loop runs everything. Informer handlers keep the cache and the queue up to
date; the scheduling loop pops one pod at a time and runs its *scheduling cycle*
synchronously (it never awaits, so it sees a cache that cannot change under it):

    PreFilter -> Filter (a sample of nodes, from a rotating start) -> PreScore ->
    Score -> pick the best node (ties at random) -> assume the pod on it

then starts its *binding cycle* as a task (POST pods/<name>/binding, at most
``bind_workers`` at once) and moves on to the next pod without waiting. A failed bind
forgets the assumption and sends the pod back to the queue with backoff; a pod that
fits nowhere gets a ``FailedScheduling`` event, its ``PodScheduled`` condition set to
False, and waits in the unschedulable set until a relevant cluster event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import compress
from typing import TYPE_CHECKING, Any

from apiclient import NORMAL, WARNING, errors
from apitypes.base import format_time, now
from apitypes.core import Namespace, Node, Pod
from scheduler.cache import Cache
from scheduler.clusterevents import ClusterEvent
from scheduler.config import SchedulerConfig
from scheduler.framework import (
    Code,
    CycleState,
    Diagnosis,
    Handle,
    Registry,
    Status,
    fit_error_message,
)
from scheduler.nodeinfo import NodeInfo
from scheduler.podinfo import PodInfo, pod_info
from scheduler.queue import QueuedPod, SchedulingQueue
from scheduler.runtime import Framework, go_list

if TYPE_CHECKING:
    from apiclient import Client, EventRecorder

log = logging.getLogger(__name__)

MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE = 5
POD_SCHEDULED = "PodScheduled"
YIELD_EVERY = 0.002  # seconds of scheduling between turns of the event loop


def num_feasible_nodes_to_find(percentage: int, num_nodes: int) -> int:
    """How many feasible nodes to look for before scoring (Kubernetes' rule).

    Small clusters (< 100 nodes) are examined whole. Otherwise ``percentage`` of them
    (0 means adaptive: 50% minus 1% per 125 nodes, at least 5%), and at least 100.
    """
    if num_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_nodes
    if percentage <= 0:
        percentage = max(50 - num_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE)
    found = num_nodes * percentage // 100
    return max(found, MIN_FEASIBLE_NODES_TO_FIND)


@dataclass
class Decision:
    """The outcome of one scheduling cycle."""

    node: str | None
    num_nodes: int
    diagnosis: Diagnosis = field(default_factory=Diagnosis)
    feasible: int = 0

    @property
    def message(self) -> str:
        if self.diagnosis.error:
            return self.diagnosis.error
        return fit_error_message(self.num_nodes, self.diagnosis)


@dataclass
class Stats:
    scheduled: int = 0
    unschedulable: int = 0
    errors: int = 0
    bind_failures: int = 0
    binding: int = 0  # binds started and not finished (waiting for a slot included)
    bind_seconds: float = 0.0  # total time binds spent in the apiserver call


class Scheduler:
    """Cache, queue and profiles; ``run()`` is the scheduling loop (while leading)."""

    def __init__(
        self,
        config: SchedulerConfig,
        registry: Registry,
        *,
        client: Client | None = None,
        recorder: EventRecorder | None = None,
        bind_workers: int = 16,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.client = client
        self.recorder = recorder
        self.clock = clock
        self.rng = rng or random.Random()
        self.cache = Cache(clock=clock)
        self.namespaces: dict[str, Any] = {}
        self.handle = Handle(self.cache, self.namespaces)
        self.frameworks = {
            profile.scheduler_name: Framework(profile, registry, self.handle)
            for profile in config.profiles
        }
        self._wakeup = asyncio.Event()
        self.queue = SchedulingQueue(
            clock=clock,
            initial_backoff=config.pod_initial_backoff_seconds,
            max_backoff=config.pod_max_backoff_seconds,
            max_unschedulable=config.pod_max_in_unschedulable_seconds,
            pre_enqueue=self._pre_enqueue,
            notify=self._wakeup.set,
        )
        self.percentage = config.percentage_of_nodes_to_score
        self.next_start_index = 0
        self.bind_workers = max(1, bind_workers)
        self._bind_slots: asyncio.Semaphore | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._event_plugins: dict[int, frozenset[str]] = {}
        # Last PodScheduled=False message written per pod, so a repeat is not rewritten
        # before the informer has shown the first write.
        self._conditions: dict[str, str] = {}
        self.stats = Stats()

    # --- informer handlers (cheap and synchronous) ---------------------------------------

    def _responsible(self, info: PodInfo) -> bool:
        return info.scheduler_name in self.frameworks

    def _pre_enqueue(self, info: PodInfo) -> bool:
        framework = self.frameworks.get(info.scheduler_name)
        return framework is None or framework.run_pre_enqueue(info) is None

    def move(self, event: ClusterEvent) -> None:
        """Retry the unschedulable pods ``event`` could help."""
        if not event:
            return
        plugins = self._event_plugins.get(int(event))
        if plugins is None:
            names: set[str] = set()
            for framework in self.frameworks.values():
                names |= framework.plugins_for(event)
            plugins = self._event_plugins[int(event)] = frozenset(names)
        self.queue.move(event, plugins)

    def on_pod_add(self, pod: Pod) -> None:
        info = pod_info(pod)
        if info.terminal:
            return
        if info.node_name:
            self.cache.add_pod(info)
            self.move(ClusterEvent.POD_ADD)
        elif self._responsible(info) and not info.terminating:
            self.queue.add(info)

    def on_pod_update(self, old: Pod, new: Pod) -> None:
        info = pod_info(new)
        key = info.key
        if info.node_name:
            if info.terminal:
                self.on_pod_delete(new)
                return
            was_assigned = bool(old.spec and old.spec.node_name)
            self.cache.update_pod(info)
            self._conditions.pop(key, None)
            if not was_assigned:
                self.queue.delete(key)  # bound: by us (a confirmation) or by someone else
                self.move(ClusterEvent.POD_ADD)
            elif old.metadata.labels != new.metadata.labels:
                self.move(ClusterEvent.POD_UPDATE)
            return
        if not self._responsible(info) or info.terminating or info.terminal:
            self.queue.delete(key)
            return
        changed = old.metadata.labels != new.metadata.labels or old.spec != new.spec
        self.queue.update(info, changed=changed)

    def on_pod_delete(self, pod: Pod) -> None:
        namespace = pod.metadata.namespace or "default"
        key = f"{namespace}/{pod.metadata.name}"
        self.queue.delete(key)
        self._conditions.pop(key, None)
        if self.cache.remove_pod(key) is not None:
            self.move(ClusterEvent.POD_DELETE)

    def on_node_add(self, node: Node) -> None:
        self.move(self.cache.add_node(node))

    def on_node_update(self, old: Node, new: Node) -> None:
        self.move(self.cache.update_node(new))

    def on_node_delete(self, node: Node) -> None:
        self.move(self.cache.remove_node(node.metadata.name or ""))

    def on_namespace_add(self, namespace: Namespace) -> None:
        name = namespace.metadata.name or ""
        labels = dict(namespace.metadata.labels)
        if self.namespaces.get(name) != labels:
            self.namespaces[name] = labels
            self.move(ClusterEvent.NAMESPACE)

    def on_namespace_update(self, old: Namespace, new: Namespace) -> None:
        self.on_namespace_add(new)

    def on_namespace_delete(self, namespace: Namespace) -> None:
        self.namespaces.pop(namespace.metadata.name or "", None)

    # --- the scheduling cycle ------------------------------------------------------------

    def decide(self, framework: Framework, state: CycleState, pod: PodInfo) -> Decision:
        """Find the node for ``pod`` (synchronous, never raises)."""
        nodes = self.cache.node_list()
        total_nodes = len(nodes)
        decision = Decision(None, total_nodes)
        diagnosis = decision.diagnosis
        if total_nodes == 0:
            return decision
        allowed, narrowing, status = framework.run_pre_filter(state, pod)
        if status is not None:
            if status.code == Code.ERROR:
                diagnosis.error = status.message
            else:
                diagnosis.pre_filter_message = status.message
                diagnosis.unschedulable_plugins.add(status.plugin)
            return decision
        candidates: list[NodeInfo] = nodes
        rotate = allowed is None
        if allowed is not None:
            candidates = [n for n in map(self.cache.node, sorted(allowed)) if n is not None]
            diagnosis.absent_nodes = total_nodes - len(candidates)
            diagnosis.absent_reason = (
                f"node(s) didn't satisfy plugin(s) {go_list(sorted(narrowing))}"
            )
            if diagnosis.absent_nodes:
                diagnosis.unschedulable_plugins.update(narrowing)
        count = len(candidates)
        if count == 0:
            return decision
        percentage = framework.percentage_of_nodes_to_score
        to_find = num_feasible_nodes_to_find(
            self.percentage if percentage is None else percentage, count
        )
        start = self.next_start_index % count if rotate else 0
        plan = framework.fast_plan(state, pod) if rotate else None
        if plan is not None:
            generations = self.cache.node_generations()
            result = framework.fast_find(state, pod, candidates, generations, start, to_find, plan)
            if isinstance(result, Status):
                diagnosis.error = result.message
                return decision
            feasible, fast_scores, rejected, failed = result
            self.next_start_index = (start + len(feasible) + rejected) % count
            decision.feasible = len(feasible)
            if not feasible:
                diagnosis.node_statuses = failed
                diagnosis.unschedulable_plugins.update(
                    s.plugin for s in failed.values() if s.plugin
                )
                return decision
            decision.node = self._pick(feasible, fast_scores)
            return decision
        feasible = []
        failed = {}
        processed = 0
        while processed < count and len(feasible) < to_find:
            need = to_find - len(feasible)
            size = min(count - processed, need if not processed else max(need * 2, 64))
            begin = (start + processed) % count
            chunk = candidates[begin : begin + size]
            if len(chunk) < size:
                chunk = chunk + candidates[: size - len(chunk)]
            passed = framework.run_filters(state, pod, chunk, failed)
            if isinstance(passed, Status):
                diagnosis.error = passed.message
                return decision
            feasible.extend(passed)
            processed += size
        del feasible[to_find:]
        if rotate:
            self.next_start_index = (start + len(feasible) + len(failed)) % count
        decision.feasible = len(feasible)
        if not feasible:
            diagnosis.node_statuses = failed
            diagnosis.unschedulable_plugins.update(s.plugin for s in failed.values() if s.plugin)
            return decision
        if len(feasible) == 1:
            decision.node = feasible[0].name
            return decision
        scores = framework.run_score(state, pod, feasible)
        if isinstance(scores, Status):
            diagnosis.error = scores.message
            return decision
        decision.node = self._pick(feasible, scores)
        return decision

    def _pick(self, nodes: list[NodeInfo], scores: list[int]) -> str:
        """The best-scoring node; ties broken uniformly at random, as Kubernetes does."""
        best = max(scores)
        first = scores.index(best)
        if scores.count(best) == 1:
            return nodes[first].name
        ties = list(compress(range(first, len(scores)), map(best.__eq__, scores[first:])))
        return nodes[ties[self.rng.randrange(len(ties))]].name

    def schedule_one(self, qp: QueuedPod) -> Decision | None:
        """One scheduling cycle for ``qp``; starts its binding on success."""
        info = qp.info
        framework = self.frameworks.get(info.scheduler_name)
        if framework is None or info.node_name or info.terminating or info.key in self.cache.pods:
            self.queue.done(info.key)
            return None
        decision = self.decide(framework, CycleState(), info)
        if decision.node is None:
            error = bool(decision.diagnosis.error)
            if error:
                self.stats.errors += 1
            else:
                self.stats.unschedulable += 1
            plugins = frozenset(decision.diagnosis.unschedulable_plugins)
            self._fail(qp, decision.message, plugins, error=error)
            return decision
        self.cache.assume(info, decision.node)
        if self.client is None:
            self.queue.done(info.key)
            self.stats.scheduled += 1
            return decision
        if self._bind_slots is None:
            self._bind_slots = asyncio.Semaphore(self.bind_workers)
        self._spawn(self._bind(qp, decision.node))
        return decision

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- the binding cycle ---------------------------------------------------------------

    async def _bind(self, qp: QueuedPod, node: str) -> None:
        info = qp.info
        assert self.client is not None and self._bind_slots is not None
        self.stats.binding += 1
        try:
            async with self._bind_slots:
                started = self.clock()
                try:
                    await self.client.bind(info.namespace, info.name, node)
                finally:
                    self.stats.bind_seconds += self.clock() - started
        except asyncio.CancelledError:
            self.cache.forget(info.key)
            raise
        except Exception as err:
            self._bind_failed(qp, node, err)
            return
        finally:
            self.stats.binding -= 1
        self.cache.finish_binding(info.key)
        self.queue.done(info.key)
        self.stats.scheduled += 1
        log.debug("bound %s to %s", info.key, node)
        if self.recorder is not None:
            self.recorder.event(
                info.pod, NORMAL, "Scheduled", f"Successfully assigned {info.key} to {node}"
            )

    def _bind_failed(self, qp: QueuedPod, node: str, err: Exception) -> None:
        info = qp.info
        self.stats.bind_failures += 1
        if self.cache.forget(info.key) is not None:
            self.move(ClusterEvent.POD_DELETE)
        message = err.message if isinstance(err, errors.ApiError) else str(err)
        if isinstance(err, errors.NotFoundError):
            log.info("pod %s is gone; not binding it", info.key)
            self.queue.done(info.key)
            return
        if isinstance(err, errors.ConflictError) and "already assigned" in message:
            log.info("pod %s was bound by someone else: %s", info.key, message)
            self.queue.done(info.key)
            return
        log.warning("binding %s to %s failed: %s", info.key, node, message)
        self._fail(qp, f"Binding rejected: {message}", frozenset(), error=True)

    # --- failures ------------------------------------------------------------------------

    def _fail(self, qp: QueuedPod, message: str, plugins: frozenset[str], *, error: bool) -> None:
        info = qp.info
        requeued = (
            self.queue.add_backoff(qp) if error else self.queue.add_unschedulable(qp, plugins)
        )
        if not requeued:
            return  # deleted or bound meanwhile
        log.info("unable to schedule %s: %s", info.key, message)
        if self.recorder is not None:
            self.recorder.event(info.pod, WARNING, "FailedScheduling", message)
        self._set_unscheduled_condition(
            info, "SchedulerError" if error else "Unschedulable", message
        )

    def _set_unscheduled_condition(self, info: PodInfo, reason: str, message: str) -> None:
        """PodScheduled=False with ``reason``/``message``, written only when it changes."""
        if self.client is None:
            return
        status = info.pod.status
        current = status.condition(POD_SCHEDULED) if status else None
        if current is not None and (current.status, current.reason, current.message) == (
            "False",
            reason,
            message,
        ):
            return
        if self._conditions.get(info.key) == f"{reason}\n{message}":
            return
        self._conditions[info.key] = f"{reason}\n{message}"
        stamp = format_time(now())
        transition = (
            format_time(current.last_transition_time)
            if current is not None and current.status == "False" and current.last_transition_time
            else stamp
        )
        patch = {
            "status": {
                "conditions": [
                    {
                        "type": POD_SCHEDULED,
                        "status": "False",
                        "reason": reason,
                        "message": message,
                        "lastProbeTime": None,
                        "lastTransitionTime": transition,
                    }
                ]
            }
        }
        self._spawn(self._patch_condition(info, patch))

    async def _patch_condition(self, info: PodInfo, patch: dict[str, Any]) -> None:
        assert self.client is not None
        try:
            await self.client.patch_status(
                Pod, info.name, patch, info.namespace, patch_type="strategic"
            )
        except errors.NotFoundError:
            pass
        except Exception as err:
            self._conditions.pop(info.key, None)
            log.info("could not update the PodScheduled condition of %s: %s", info.key, err)

    # --- the loop ------------------------------------------------------------------------

    async def run(self) -> None:
        """Schedule until cancelled (run it while holding the leader lease)."""
        housekeeping = asyncio.create_task(self._housekeeping(), name="scheduler-housekeeping")
        self.queue.move_all()
        try:
            slice_end = 0.0
            while True:
                qp = self.queue.pop()
                if qp is None:
                    await self._wait_for_work()
                    continue
                try:
                    self.schedule_one(qp)
                except Exception:
                    # A bug, not bad input: keep the scheduler alive, retry the pod later.
                    log.exception("scheduling %s failed", qp.key)
                    self.queue.add_backoff(qp)
                # Let binds, watches and timers run between decisions: every few
                # milliseconds rather than after each one, which would cost a poll of
                # the sockets per decision.
                now = time.perf_counter()
                if now >= slice_end:
                    await asyncio.sleep(0)
                    slice_end = time.perf_counter() + YIELD_EVERY
        finally:
            housekeeping.cancel()
            for task in list(self._tasks):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(housekeeping, *self._tasks, return_exceptions=True)

    async def _wait_for_work(self) -> None:
        self._wakeup.clear()
        wake = self.queue.next_wakeup()
        timeout = None if wake is None else max(0.0, wake - self.clock())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout)

    async def _housekeeping(self) -> None:
        """Expire unconfirmed assumptions (every second) and retry long-unschedulable
        pods (every 30 s, or sooner when the configured limit is shorter)."""
        flush_every = min(30.0, max(self.config.pod_max_in_unschedulable_seconds / 2, 1.0))
        last_flush = self.clock()
        last_report = (0, 0)
        while True:
            await asyncio.sleep(1.0)
            expired = self.cache.expire()
            if expired:
                log.warning("assumed pods never confirmed bound, dropped: %s",
                            ", ".join(p.key for p in expired))  # fmt: skip
                self.move(ClusterEvent.POD_DELETE)
            if self.clock() - last_flush >= flush_every:
                last_flush = self.clock()
                self.queue.flush_unschedulable()
            report = (self.stats.scheduled, len(self.queue))
            if report != last_report:
                log.info(
                    "bound %d pods so far (%d binding, %.1f ms per bind); queue %s",
                    report[0], self.stats.binding,
                    1000 * self.stats.bind_seconds / max(self.stats.scheduled, 1),
                    self.queue.counts(),
                )  # fmt: skip
                last_report = report
