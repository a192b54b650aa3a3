"""A stand-in for the scheduler and the kubelets, for controller tests.

``FakeNodes`` registers Node objects, renews their Leases in ``kube-node-lease``, binds
unscheduled pods to them (round robin; a pod pinned by a ``metadata.name`` node
affinity term, as DaemonSet pods are, goes to its node), reports bound pods Running and
Ready through the status subresource, and finishes the deletion of terminating pods
(as a kubelet does once the containers stopped). A node can be "stopped" (no
heartbeats, its pods left alone, as a dead kubelet) and started again.

It runs its own asyncio loop in a thread, on the project's client library, so that a
synchronous test drives it with plain calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

from apiclient import Client, Informer, WorkQueue, errors, object_key, run_workers
from apitypes.base import format_microtime, format_time
from apitypes.core import Node, Pod
from apitypes.registry import by_model, resource
from testkit.testca import client_config

PODS = by_model(Pod)
NODES = by_model(Node)
LEASES = resource("coordination.k8s.io", "leases")
LEASE_NAMESPACE = "kube-node-lease"

Outcome = Callable[[Pod], tuple[str, int] | None]
"""Decides how a pod ends: ("Succeeded", 0), ("Failed", 1), or None to keep it running."""


def _now() -> datetime:
    return datetime.now(UTC)


def pinned_node(pod: Pod) -> str | None:
    """The node a required node-affinity ``matchFields metadata.name In [x]`` names."""
    spec = pod.spec
    if spec is None or spec.affinity is None or spec.affinity.node_affinity is None:
        return None
    required = spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
    if required is None:
        return None
    for term in required.node_selector_terms:
        for field in term.match_fields:
            if field.key == "metadata.name" and field.operator == "In" and field.values:
                return field.values[0]
    return None


class FakeNodes:
    def __init__(
        self,
        server: str,
        nodes: list[str] | None = None,
        *,
        labels: dict[str, dict[str, str]] | None = None,
        ready_delay: float = 0.0,
        lease_period: float = 1.0,
        outcome: Outcome | None = None,
        schedule: bool = True,
    ) -> None:
        self.server = server
        self.initial = list(nodes or [])
        self.labels = labels or {}
        self.ready_delay = ready_delay
        self.lease_period = lease_period
        self.outcome = outcome
        self.schedule = schedule
        self.alive: set[str] = set()
        self.nodes: list[str] = []
        self.bound: dict[str, str] = {}
        self._rr = itertools.count()
        self._ips = itertools.count(2)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    # --- lifecycle (called from the test's thread) ---------------------------------

    def start(self) -> FakeNodes:
        self._thread = threading.Thread(target=self._thread_main, daemon=True, name="fakenodes")
        self._thread.start()
        if not self._started.wait(30):
            raise TimeoutError("fake nodes did not start")
        if self._error is not None:
            raise self._error
        for name in self.initial:
            self.add_node(name)
        return self

    def stop(self, *, remove_nodes: bool = True) -> None:
        """Stop the loop; by default delete this instance's Node objects and Leases too, so
        that later tests do not find dead nodes."""
        if remove_nodes and self._thread is not None:
            for name in list(self.nodes):
                with contextlib.suppress(Exception):
                    self._call(self._delete_node(name))
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(15)
        self._thread = None

    def __enter__(self) -> FakeNodes:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        assert self._loop is not None
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(30)

    def add_node(self, name: str, labels: dict[str, str] | None = None) -> None:
        """Register (or re-register) node ``name``, Ready, with a fresh Lease."""
        self._call(self._add_node(name, labels or self.labels.get(name, {})))

    def remove_node(self, name: str) -> None:
        """Stop the node's kubelet and delete its Node object."""
        self.alive.discard(name)
        if name in self.nodes:
            self.nodes.remove(name)
        self._call(self._delete_node(name))

    def stop_node(self, name: str) -> None:
        """The node's kubelet dies: no more heartbeats, its pods are left as they are."""
        self.alive.discard(name)

    def start_node(self, name: str) -> None:
        """The node's kubelet comes back: heartbeats resume and it reports Ready again."""
        self.alive.add(name)
        self._call(self._heartbeat(name, post_status=True))
        if self._queue is not None:
            for pod in self._pods.store.by_index("node", name) if self._pods else []:
                self._queue.add(object_key(pod))

    # --- the loop ----------------------------------------------------------------------

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as err:
            self._error = err
            self._started.set()

    _queue: WorkQueue[str] | None = None
    _pods: Informer[Pod] | None = None

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.client = Client(client_config(self.server), user_agent="fakenodes")
        self._pods = Informer(
            self.client,
            Pod,
            indexers={"node": lambda pod: [pod.spec.node_name or ""] if pod.spec else [""]},
        )
        self._nodes = Informer(self.client, Node)
        queue: WorkQueue[str] = WorkQueue(name="fakenodes")
        self._queue = queue
        self._pods.add_handler(
            lambda pod: queue.add(object_key(pod)),
            lambda _old, new: queue.add(object_key(new)),
        )
        self._nodes.add_handler(self._node_changed, lambda _old, new: self._node_changed(new))
        pods_task = self._pods.start()
        nodes_task = self._nodes.start()
        await self._pods.wait_synced(30)
        await self._nodes.wait_synced(30)
        workers = asyncio.create_task(run_workers(queue, self._sync_pod, 16))
        beats = asyncio.create_task(self._heartbeats())
        self._started.set()
        try:
            await self._stop.wait()
        finally:
            await queue.shut_down()
            for task in (workers, beats, pods_task, nodes_task):
                task.cancel()
            for task in (workers, beats, pods_task, nodes_task):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self.client.close()

    def _node_changed(self, node: Node) -> None:
        # A kubelet posts Ready again when it sees the node reported otherwise.
        name = node.metadata.name or ""
        if name in self.alive and not node.is_ready() and self._loop is not None:
            self._loop.create_task(self._heartbeat(name, post_status=True))

    async def _add_node(self, name: str, labels: dict[str, str]) -> None:
        body = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", **labels},
            },
            "spec": {},
        }
        with contextlib.suppress(errors.AlreadyExistsError):
            await self.client.create_raw(NODES, body)
        if name not in self.nodes:
            self.nodes.append(name)
        self.alive.add(name)
        await self._heartbeat(name, post_status=True)

    async def _delete_node(self, name: str) -> None:
        with contextlib.suppress(errors.NotFoundError):
            await self.client.delete_raw(NODES, name)
        with contextlib.suppress(errors.NotFoundError):
            await self.client.delete_raw(LEASES, name, LEASE_NAMESPACE)

    async def _heartbeats(self) -> None:
        while True:
            for name in list(self.alive):
                with contextlib.suppress(errors.ApiError):
                    await self._heartbeat(name)
            # A kubelet's renew period (what a fake node simulates), not synchronisation.
            await asyncio.sleep(self.lease_period)

    async def _heartbeat(self, name: str, *, post_status: bool = False) -> None:
        stamp = _now()
        spec = {
            "holderIdentity": name,
            "leaseDurationSeconds": 40,
            "renewTime": format_microtime(stamp),
        }
        try:
            await self.client.patch_raw(
                LEASES, name, {"spec": spec}, LEASE_NAMESPACE, patch_type="merge"
            )
        except errors.NotFoundError:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": name, "namespace": LEASE_NAMESPACE},
                "spec": spec,
            }
            with contextlib.suppress(errors.AlreadyExistsError):
                await self.client.create_raw(LEASES, body, LEASE_NAMESPACE)
        if post_status:
            when = format_time(stamp)
            conditions = [
                {
                    "type": kind,
                    "status": "True" if kind == "Ready" else "False",
                    "reason": "KubeletReady" if kind == "Ready" else f"KubeletHas{kind}",
                    "lastHeartbeatTime": when,
                    "lastTransitionTime": when,
                }
                for kind in ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
            ]
            status = {
                "conditions": conditions,
                "capacity": {"cpu": "32", "memory": "64Gi", "pods": "500"},
                "allocatable": {"cpu": "32", "memory": "64Gi", "pods": "500"},
                "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
            }
            with contextlib.suppress(errors.NotFoundError):
                await self.client.patch_raw(
                    NODES, name, {"status": status}, patch_type="merge", subresource="status"
                )

    async def _sync_pod(self, key: str) -> float | None:
        assert self._pods is not None
        pod = self._pods.store.get(key)
        if pod is None:
            return None
        namespace, name = pod.metadata.namespace or "", pod.metadata.name or ""
        node = pod.node_name()
        if node is None:
            if pod.metadata.deletion_timestamp is not None or not self.schedule:
                return None
            return await self._bind(pod, namespace, name)
        if node not in self.alive:
            return None
        if pod.metadata.deletion_timestamp is not None:
            with contextlib.suppress(errors.NotFoundError, errors.ConflictError):
                await self.client.delete_raw(
                    PODS, name, namespace, grace_period_seconds=0,
                    preconditions={"uid": pod.metadata.uid or ""},
                )  # fmt: skip
            return None
        if pod.is_terminal():
            return None
        end = self.outcome(pod) if self.outcome is not None else None
        if end is not None:
            await self._report(pod, phase=end[0], exit_code=end[1])
            return None
        if pod.is_ready():
            return None
        if self.ready_delay > 0 and pod.phase() != "Running":
            await self._report(pod, phase="Running", ready=False)
            return self.ready_delay
        await self._report(pod, phase="Running", ready=True)
        return None

    async def _bind(self, pod: Pod, namespace: str, name: str) -> float | None:
        target = pinned_node(pod)
        if target is None:
            candidates = [n for n in self.nodes if n in self.alive and self._fits(pod, n)]
            if not candidates:
                return 0.5
            target = candidates[next(self._rr) % len(candidates)]
        elif target not in self.alive:
            return 0.5
        try:
            await self.client.bind(namespace, name, target)
        except errors.ConflictError:
            return None
        except errors.NotFoundError:
            return None
        self.bound[f"{namespace}/{name}"] = target
        return None

    def _fits(self, pod: Pod, node: str) -> bool:
        selector = pod.spec.node_selector if pod.spec else {}
        labels = {"kubernetes.io/hostname": node, **self.labels.get(node, {})}
        return all(labels.get(k) == v for k, v in selector.items())

    async def _report(
        self, pod: Pod, *, phase: str, ready: bool = False, exit_code: int = 0
    ) -> None:
        namespace, name = pod.metadata.namespace or "", pod.metadata.name or ""
        when = format_time(_now())
        node = pod.node_name() or ""
        index = self.nodes.index(node) if node in self.nodes else 0
        ip = f"10.244.{index % 250}.{next(self._ips) % 250 + 2}"
        running = phase == "Running"
        state: dict[str, Any]
        if running:
            state = {"running": {"startedAt": when}}
        else:
            reason = "Completed" if exit_code == 0 else "Error"
            state = {
                "terminated": {
                    "exitCode": exit_code,
                    "reason": reason,
                    "startedAt": when,
                    "finishedAt": when,
                }
            }
        statuses = [
            {
                "name": c.name,
                "image": c.image or "",
                "imageID": f"fake://{c.image}",
                "ready": running and ready,
                "restartCount": 0,
                "started": running,
                "state": state,
            }
            for c in (pod.spec.containers if pod.spec else [])
        ]
        ready_text = "True" if running and ready else "False"
        status: dict[str, Any] = {
            "phase": phase,
            "hostIP": "127.0.0.1",
            "podIP": (pod.status.pod_ip if pod.status and pod.status.pod_ip else ip),
            "startTime": when,
            "conditions": [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": when},
                {"type": "Initialized", "status": "True", "lastTransitionTime": when},
                {"type": "ContainersReady", "status": ready_text, "lastTransitionTime": when},
                {"type": "Ready", "status": ready_text, "lastTransitionTime": when},
            ],
            "containerStatuses": statuses,
        }
        status["podIPs"] = [{"ip": status["podIP"]}]
        with contextlib.suppress(errors.NotFoundError, errors.ConflictError, errors.InvalidError):
            await self.client.patch_raw(
                PODS, name, {"status": status}, namespace, patch_type="merge",
                subresource="status",
            )  # fmt: skip
