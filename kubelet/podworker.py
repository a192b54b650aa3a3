"""The pod worker: ``reconcile(uid)`` moves one pod a step towards its spec.

Level-triggered and idempotent, never run twice at once for a pod (the work queue sees
to that). It reads the runtime's view of the pod and, by what it finds:

- no such pod in any source: once the sources have synced, stop and remove what is
  left of it (an orphan);
- ``deletionTimestamp`` set: graceful termination in the background (``preStop``,
  SIGTERM, the grace period, SIGKILL), the final status, the containers removed, then
  the pod object deleted with grace 0;
- Succeeded or Failed: stop whatever still runs, nothing more;
- otherwise sync: ``sync.compute_actions`` decides (a new sandbox, containers to start,
  to kill, and why the others wait), the starter and the killer carry it out, and the
  status that results is written when it changed.

Work that takes a grace period runs as one background task per pod; while it runs,
the pod's reconcile does nothing, and the task puts the pod back on the queue when it
is done. Static pods get a mirror pod in the apiserver, through which their status
and events are seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from apiclient import NORMAL, WARNING, Client, WorkQueue, errors
from apitypes.base import now
from apitypes.core import Container, Node, Pod, PodPhase
from kubelet import labels as lb
from kubelet.backoff import Backoff
from kubelet.config import KubeletConfig
from kubelet.podmanager import PodManager
from kubelet.probes import LIVENESS, READINESS, STARTUP, ProbeManager
from kubelet.runtime import Runtime, RuntimePod, RuntimeUnavailableError
from kubelet.runtimeconfig import grace_period
from kubelet.starter import PodStarter
from kubelet.static import CONFIG_MIRROR, mirror_pod
from kubelet.status import generate_pod_status
from kubelet.statusmanager import StatusManager
from kubelet.sync import PodActions, compute_actions
from kubelet.termination import PodKiller
from kubelet.volumes import VolumeManager

log = logging.getLogger(__name__)

TERMINAL = (PodPhase.SUCCEEDED, PodPhase.FAILED)


class PodWorker:
    def __init__(
        self,
        config: KubeletConfig,
        client: Client,
        runtime: Runtime,
        *,
        pods: PodManager,
        queue: WorkQueue[str],
        starter: PodStarter,
        killer: PodKiller,
        volumes: VolumeManager,
        probes: ProbeManager,
        status_manager: StatusManager,
        backoff: Backoff,
        event: Callable[[Pod, str, str, str], None],
        node: Callable[[], Node | None],
        sources_ready: Callable[[], bool],
        clock: Callable[[], float],
    ) -> None:
        self.config = config
        self.client = client
        self.runtime = runtime
        self.pods = pods
        self.queue = queue
        self.starter = starter
        self.killer = killer
        self.volumes = volumes
        self.probes = probes
        self.status_manager = status_manager
        self.backoff = backoff
        self.event = event
        self.node = node
        self.sources_ready = sources_ready
        self.clock = clock
        self.waiting: dict[str, dict[str, tuple[str, str]]] = {}
        """Per pod uid, why each container not running waits (reason, message)."""
        self.busy: dict[str, asyncio.Task[None]] = {}
        """Pods with background work under way (a termination, a kill)."""
        self._seeded: set[str] = set()

    def _background(self, uid: str, coro: Coroutine[Any, Any, None]) -> None:
        async def wrapper() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("pod %s: background work failed", uid)
            finally:
                self.busy.pop(uid, None)
                if not self.queue.shutting_down:
                    self.queue.add(uid)

        self.busy[uid] = asyncio.get_running_loop().create_task(wrapper(), name=f"pod-{uid}")

    async def reconcile(self, uid: str) -> float | None:
        """Move pod ``uid`` one step towards its spec; the delay before looking again."""
        if uid in self.busy:
            return None
        started = time.monotonic()
        try:
            return await self._reconcile(uid)
        finally:
            log.debug("synced pod %s in %.3fs", uid, time.monotonic() - started)

    async def _reconcile(self, uid: str) -> float | None:
        pod = self.pods.desired(uid)
        try:
            state = await self.runtime.pod(uid)
        except RuntimeUnavailableError as err:
            log.info("pod %s: runtime unavailable (%s)", uid, err)
            return 2.0
        if pod is None:
            if state is None:
                self._forget(uid)
                return None
            if not self.sources_ready():
                return 1.0
            self._background(uid, self._remove_orphan(uid, state))
            return None
        target = pod
        if uid in self.pods.static_pods:
            mirror = await self._ensure_mirror(pod)
            if mirror is not None:
                target = mirror
        if pod.metadata.deletion_timestamp is not None:
            self._background(uid, self._terminate(pod))
            return None
        phase = target.status.phase if target.status else None
        if phase in TERMINAL:
            running = [c for c in state.containers if c.running] if state else []
            sandboxes = [s for s in state.sandboxes if s.ready] if state else []
            if running or sandboxes:
                self._background(uid, self.killer.finish(pod, running, sandboxes))
            return None
        return await self._sync(pod, target, state)

    def _forget(self, uid: str) -> None:
        self.waiting.pop(uid, None)
        self.status_manager.forget(uid)
        self.probes.remove_pod(uid)
        self.backoff.forget_prefix(f"{uid}/")
        self._seeded.discard(uid)

    async def _sync(self, pod: Pod, target: Pod, state: RuntimePod | None) -> float | None:
        uid = pod.metadata.uid or ""
        view = pod if target is pod else pod.model_copy(update={"status": target.status})
        self._seed_probes(uid, view, state)
        deadline = self._deadline_exceeded(view)
        if deadline:
            running = [c for c in state.containers if c.running] if state else []
            sandboxes = [s for s in state.sandboxes if s.ready] if state else []
            status = generate_pod_status(
                view,
                state,
                host_ip=self.config.node_ip,
                now=now(),
                terminal=True,
                prefix=self.runtime.name,
                reported=self.status_manager.reported(uid),
                reason="DeadlineExceeded",
                message="Pod was active on the node longer than the specified deadline",
            )
            await self.status_manager.set(target, status)
            self.event(
                target,
                WARNING,
                "DeadlineExceeded",
                "Pod was active on the node longer than the specified deadline",
            )
            if running or sandboxes:
                self._background(uid, self.killer.finish(pod, running, sandboxes))
            return None
        liveness_failed = {
            c.id
            for c in (state.containers if state else [])
            if c.running and self.probes.failed(c.id, LIVENESS)
        }
        startup_failed = {
            c.id
            for c in (state.containers if state else [])
            if c.running
            and self.probes.failed(c.id, STARTUP)
            and (pod.container(c.name) or Container(name="")).startup_probe is not None
        }
        actions = compute_actions(
            pod,
            state,
            backoff=self.backoff,
            now=self.clock(),
            liveness_failed=liveness_failed,
            startup_failed=startup_failed,
        )
        if state is not None and (actions.kill_all or actions.kill):
            await self._write_status(pod, target, state, actions)
            if actions.kill_all:
                self._background(uid, self.killer.kill_pod(pod, state))
                return None
            for kill in actions.kill:
                kind = NORMAL if kill.reason == "Killing" else WARNING
                self.event(target, kind, kill.reason, kill.message)
            victims = [k.info for k in actions.kill]
            self._background(uid, self.killer.kill_many(pod, victims, grace_period(pod)))
            return None
        waiting = self.waiting.setdefault(uid, {})
        for name, (reason, _) in actions.waiting.items():
            if reason == "CrashLoopBackOff":
                message = f"Back-off restarting failed container {name} in pod {pod.metadata.name}"
                self.event(target, WARNING, "BackOff", message)
        changed = False
        if actions.create_sandbox or actions.start:
            changed = await self.starter.start_all(pod, target, state, actions, waiting)
        elif state is not None and state.sandbox() is not None and not actions.stop_sandbox:
            self.starter.refresh_volumes(pod, state)
        if actions.stop_sandbox and state is not None:
            for sandbox in state.sandboxes:
                if sandbox.ready:
                    await self.runtime.stop_sandbox(sandbox.id)
                    changed = True
        if changed:
            with contextlib.suppress(RuntimeUnavailableError):
                state = await self.runtime.pod(uid)
        if state is not None:
            await self.killer.gc_instances(state)
        await self._write_status(pod, target, state, actions)
        return actions.retry_after

    def _deadline_exceeded(self, pod: Pod) -> bool:
        spec = pod.spec
        if spec is None or spec.active_deadline_seconds is None:
            return False
        started = pod.status.start_time if pod.status else None
        if started is None:
            return False
        return now().timestamp() - started.timestamp() >= spec.active_deadline_seconds

    def _seed_probes(self, uid: str, pod: Pod, state: RuntimePod | None) -> None:
        """After a restart, trust what the API says about containers still running, so
        that adopted pods stay Ready until their probes speak."""
        if uid in self._seeded or state is None or pod.status is None:
            return
        self._seeded.add(uid)
        for status in pod.status.container_statuses:
            latest = state.latest(status.name, lb.KIND_APP)
            if latest is None or not latest.running:
                continue
            if status.container_id != f"{self.runtime.name}://{latest.id}":
                continue
            if status.ready:
                self.probes.seed(latest.id, READINESS, True)
            if status.started:
                self.probes.seed(latest.id, STARTUP, True)

    async def _write_status(
        self, pod: Pod, target: Pod, state: RuntimePod | None, actions: PodActions
    ) -> None:
        uid = pod.metadata.uid or ""
        view = pod if target is pod else pod.model_copy(update={"status": target.status})
        sandbox = state.sandbox() if state else None
        if sandbox is not None and sandbox.ready:
            pod_ip = self.config.node_ip if pod.spec and pod.spec.host_network else sandbox.ip
            if pod_ip:
                self.probes.update_pod_ip(uid, pod_ip)
                if pod.spec and pod.spec.host_network:
                    sandbox.ip = pod_ip
        self.probes.sync(view, state)
        readiness: dict[str, bool] = {}
        startup: dict[str, bool] = {}
        for info in state.containers if state else []:
            if info.running:
                readiness[info.id] = self.probes.result(info.id, READINESS)
                startup[info.id] = self.probes.result(info.id, STARTUP)
        waiting = {**self.waiting.get(uid, {}), **actions.waiting}
        status = generate_pod_status(
            view,
            state,
            host_ip=self.config.node_ip,
            now=now(),
            readiness=readiness,
            startup=startup,
            waiting=waiting,
            prefix=self.runtime.name,
            reported=self.status_manager.reported(uid),
        )
        if target is pod and uid not in self.pods.api_pods:
            return  # static pod without a mirror yet: nowhere to write
        try:
            await self.status_manager.set(target, status)
        except errors.ApiError as err:
            log.info("pod %s: status not written: %s", uid, err.message)
            raise

    async def _terminate(self, pod: Pod) -> None:
        """Graceful deletion: preStop, SIGTERM, the grace period, SIGKILL; the final
        status; then the pod object goes (grace 0) and its containers with it."""
        uid = pod.metadata.uid or ""
        grace = pod.metadata.deletion_grace_period_seconds
        if grace is None:
            grace = grace_period(pod)
        state = await self.runtime.pod(uid)
        if state is not None:
            running = [c for c in state.containers if c.running]
            if running:
                self.event(
                    pod,
                    NORMAL,
                    "Killing",
                    f"Stopping containers {', '.join(c.name for c in running)}",
                )
            await self.killer.kill_many(pod, running, float(grace))
            for sandbox in state.sandboxes:
                if sandbox.ready:
                    await self.runtime.stop_sandbox(sandbox.id)
            state = await self.runtime.pod(uid)
        static = uid in self.pods.static_pods
        current = self.pods.api_pods.get(uid, pod)
        final = generate_pod_status(
            current,
            state,
            host_ip=self.config.node_ip,
            now=now(),
            terminal=True,
            prefix=self.runtime.name,
            reported=self.status_manager.reported(uid),
        )
        # Containers go before the object does: once the pod is gone from the API,
        # nothing of it is left on the node.
        await self._remove_all(uid, state)
        if not static:
            with contextlib.suppress(errors.NotFoundError):
                await self.status_manager.set(current, final)
            await self.delete_api_pod(current)
            # Its DELETED event follows; until then it must not look like a live pod.
            self.pods.api_pods.pop(uid, None)

    async def delete_api_pod(self, pod: Pod) -> None:
        """Delete ``pod`` from the apiserver at once (grace 0), if it is still that pod."""
        with contextlib.suppress(errors.NotFoundError, errors.ConflictError):
            await self.client.delete(
                Pod,
                pod.metadata.name or "",
                pod.metadata.namespace,
                grace_period_seconds=0,
                preconditions={"uid": pod.metadata.uid or ""},
            )

    async def _remove_orphan(self, uid: str, state: RuntimePod) -> None:
        await self.killer.remove_orphan(state)
        self.volumes.cleanup(uid)
        self._forget(uid)

    async def _remove_all(self, uid: str, state: RuntimePod | None) -> None:
        if state is not None:
            await self.killer.remove(state)
        self.volumes.cleanup(uid)
        self._forget(uid)

    async def _ensure_mirror(self, pod: Pod) -> Pod | None:
        meta = pod.metadata
        key = (meta.namespace or "default", meta.name or "")
        mirror = self.pods.mirrors.get(key)
        if mirror is not None and (
            mirror.metadata.annotations.get(CONFIG_MIRROR) != meta.uid
            or mirror.metadata.deletion_timestamp is not None
        ):
            await self.delete_api_pod(mirror)
            self.pods.mirrors.pop(key, None)
            mirror = None
        if mirror is None:
            node = self.node()
            if node is None:
                return None
            try:
                mirror = await self.client.create(mirror_pod(pod, node.metadata.uid))
                self.pods.mirrors[key] = mirror
            except errors.AlreadyExistsError:
                return None
            except errors.ApiError as err:
                log.info("mirror pod for %s not created: %s", meta.name, err.message)
                return None
        return mirror
