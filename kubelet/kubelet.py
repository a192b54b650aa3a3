"""The kubelet: runs the pods bound to its node, and reports on them and on the node.

Sources of desired pods: the apiserver (pods with ``spec.nodeName`` = this node, via a
``PodSource``) and the static manifest directory. Every change to a pod, every runtime
change PLEG sees, every probe flip and a periodic resync put the pod's uid on one work
queue; ``reconcile(uid)`` is the pod worker: level-triggered, idempotent, never run
twice at once for a pod. It reads the runtime's view of the pod, computes the actions
(``sync.compute_actions``), carries them out, and writes the status that results.

Operations that take a grace period (stopping containers, deleting a pod) run as one
background task per pod; while it runs, the pod's reconcile does nothing, and the task
puts the pod back on the queue when it is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import aiohttp

from apiclient import NORMAL, WARNING, Client, EventRecorder, WorkQueue, errors, run_workers
from apiclient.workqueue import ItemExponentialBackoff
from apitypes.base import now
from apitypes.core import (
    ConfigMap,
    Container,
    LifecycleHandler,
    Node,
    Pod,
    PodPhase,
    PodSpec,
    Secret,
)
from apitypes.quantity import parse_quantity
from kubelet import labels as lb
from kubelet.backoff import Backoff
from kubelet.config import KubeletConfig
from kubelet.envvars import ConfigError, PodContext, container_env, expand, referenced_objects
from kubelet.node import MachineInfo, MachineStats, NodeAgent, read_machine_info, read_machine_stats
from kubelet.objects import ObjectCache
from kubelet.pleg import Pleg
from kubelet.probes import LIVENESS, READINESS, STARTUP, ProbeManager, Prober, resolve_port
from kubelet.runtime import (
    ContainerConfig,
    ContainerInfo,
    ContainerStartError,
    ImageInfo,
    ImagePullError,
    Mount,
    PortMapping,
    Runtime,
    RuntimePod,
    RuntimeUnavailableError,
    SandboxConfig,
    SandboxInfo,
)
from kubelet.sources import NodeHandler, NodeSource, PodHandler, PodSource
from kubelet.static import (
    CONFIG_MIRROR,
    CONFIG_SOURCE,
    StaticPodSource,
    default_pull_policy,
    is_mirror,
    mirror_pod,
)
from kubelet.status import generate_pod_status
from kubelet.statusmanager import StatusManager
from kubelet.sync import PodActions, Start, compute_actions
from kubelet.volumes import VolumeError, VolumeManager

log = logging.getLogger(__name__)

STATUS_RECONCILE_PERIOD = 10.0
"""Seconds between checks of the pods' statuses in the apiserver against our writes."""

TERMINAL = (PodPhase.SUCCEEDED, PodPhase.FAILED)
ORPHAN_GRACE = 2.0
"""Seconds an orphan's containers (pod gone from every source) get to stop."""
MIN_GRACE_AFTER_HOOK = 2.0
NETWORK_NOT_READY = (
    "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message"
)
"""Kubernetes' words for a runtime whose pod network is not there (here: until the
Node has a podCIDR and the node's bridge exists)."""


class KubeletError(Exception):
    """A request to the kubelet's server that cannot be served (with an HTTP status)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Kubelet:
    def __init__(
        self,
        config: KubeletConfig,
        client: Client,
        runtime: Runtime,
        *,
        pod_source: PodSource | None = None,
        node_source: NodeSource | None = None,
        stats: Callable[[], MachineStats] | None = None,
        machine: MachineInfo | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.client = client
        self.runtime = runtime
        self.clock = clock
        self.node_name = config.node_name
        self._own_source = pod_source is None
        self.pod_source = pod_source or PodSource(client, node=config.node_name)
        self._own_node_source = node_source is None
        self.node_source = node_source or NodeSource(client, node=config.node_name)
        self.volumes = VolumeManager(config.root_dir)
        self.objects = ObjectCache(client, config.object_cache_ttl)
        self.backoff = Backoff(config.crashloop_backoff_base, config.crashloop_backoff_max, clock)
        self.pull_backoff = Backoff(
            config.image_pull_backoff_base, config.image_pull_backoff_max, clock
        )
        self._pull_failed_at: dict[str, float] = {}
        self.status_manager = StatusManager(client)
        self.queue: WorkQueue[str] = WorkQueue(
            # Failures retry quickly at first, then settle at a few seconds.
            ItemExponentialBackoff(0.2, 10.0),
            name=f"kubelet-{config.node_name}",
        )
        self.probes = ProbeManager(
            None if runtime.simulated else Prober(runtime), self.enqueue, clock=clock
        )
        self.pleg = Pleg(runtime, self.enqueue, period=config.pleg_relist_period)
        self.recorder = (
            EventRecorder(client, "kubelet", host=config.node_name) if config.events else None
        )
        self.node_agent = NodeAgent(
            client,
            config,
            stats=stats or (lambda: read_machine_stats(str(config.root_dir))),
            machine=machine or read_machine_info(),
            runtime_version=runtime.version,
            runtime_ready=self._runtime_ready,
            images=self._images,
        )
        self.api_pods: dict[str, Pod] = {}
        self.static_pods: dict[str, Pod] = {}
        self.mirrors: dict[tuple[str, str], Pod] = {}
        self.waiting: dict[str, dict[str, tuple[str, str]]] = {}
        self._busy: dict[str, asyncio.Task[None]] = {}
        self._seeded: set[str] = set()
        self._last_resync = 0.0
        self._last_status_check = 0.0
        self.static_source = (
            StaticPodSource(config.pod_manifest_path, config.node_name, self._on_static)
            if config.pod_manifest_path
            else None
        )
        self._tasks: list[asyncio.Task[Any]] = []
        self._http: aiohttp.ClientSession | None = None
        self._refreshing: set[asyncio.Task[None]] = set()
        self._network_update: asyncio.Task[None] | None = None
        self.started = asyncio.Event()

    # --- sources ---------------------------------------------------------------------

    def enqueue(self, uid: str) -> None:
        self.queue.add(uid)

    def handler(self) -> PodHandler:
        return PodHandler(self._on_pod, self._on_pod_deleted)

    def _on_pod(self, pod: Pod) -> None:
        meta = pod.metadata
        if is_mirror(pod):
            key = (meta.namespace or "", meta.name or "")
            self.mirrors[key] = pod
            self.queue.add(meta.annotations[CONFIG_MIRROR])
            return
        uid = meta.uid or ""
        self.api_pods[uid] = pod
        self.queue.add(uid)

    def _on_pod_deleted(self, pod: Pod) -> None:
        meta = pod.metadata
        if is_mirror(pod):
            key = (meta.namespace or "", meta.name or "")
            current = self.mirrors.get(key)
            if current is not None and current.metadata.uid == meta.uid:
                del self.mirrors[key]
            self.queue.add(meta.annotations[CONFIG_MIRROR])
            return
        uid = meta.uid or ""
        self.api_pods.pop(uid, None)
        self.queue.add(uid)

    def _on_static(self, pods: dict[str, Pod]) -> None:
        before = set(self.static_pods)
        self.static_pods = pods
        for uid in before | set(pods):
            self.queue.add(uid)

    def desired(self, uid: str) -> Pod | None:
        return self.static_pods.get(uid) or self.api_pods.get(uid)

    def pods(self) -> list[Pod]:
        return [*self.static_pods.values(), *self.api_pods.values()]

    @property
    def sources_ready(self) -> bool:
        static_ready = self.static_source is None or self.static_source.scanned
        return self.pod_source.synced and static_ready

    # --- node -----------------------------------------------------------------------

    async def _runtime_ready(self) -> tuple[bool, str]:
        if not await self.runtime.healthy():
            return False, "container runtime is down"
        network_ready, why = self.runtime.network_status()
        if not network_ready:
            return False, f"{NETWORK_NOT_READY}: {why}"
        if self.pleg.last_relist is not None and not self.pleg.healthy():
            return False, "PLEG is not healthy: relisting the runtime fails"
        return True, ""

    def _on_node(self, node: Node) -> None:
        """Our Node changed: its podCIDR goes to the runtime (the pod network)."""
        self.node_agent.on_node(node)
        cidrs = node.pod_cidrs()
        busy = self._network_update is not None and not self._network_update.done()
        if cidrs and node.metadata.name == self.node_name and not busy:
            self._network_update = asyncio.get_running_loop().create_task(
                self._update_pod_cidr(cidrs[0])
            )

    async def _adopt_pod_cidr(self) -> None:
        """A restarted kubelet's Node has its podCIDR already: the pod network is ready
        before the first status is sent, so the Node does not flap NotReady."""
        if self.runtime.simulated:
            return
        try:
            node = await self.client.get(Node, self.node_name)
        except errors.ApiError:
            return  # not registered yet, or no apiserver yet: the Node watch will tell
        cidrs = node.pod_cidrs()
        if cidrs:
            with contextlib.suppress(RuntimeUnavailableError):
                await self.runtime.update_pod_cidr(cidrs[0])

    async def _update_pod_cidr(self, cidr: str) -> None:
        was_ready = self.runtime.network_status()[0]
        try:
            await self.runtime.update_pod_cidr(cidr)
        except RuntimeUnavailableError as err:
            log.info("pod network for %s not made yet: %s", cidr, err)
            return
        if self.runtime.network_status()[0] and not was_ready:
            # Pods waiting for the network go now, and the Node says Ready at once.
            for pod in self.pods():
                self.queue.add(pod.metadata.uid or "")
            with contextlib.suppress(Exception):
                await self.node_agent.update_status(force=True)

    async def _images(self) -> list[ImageInfo]:
        return await self.runtime.images()

    @property
    def host_ip(self) -> str:
        return self.config.node_ip

    # --- lifecycle ----------------------------------------------------------------------

    async def start_runtime(self) -> None:
        delay = 0.5
        while True:
            try:
                await self.runtime.start()
                return
            except RuntimeUnavailableError as err:
                log.warning("container runtime not ready: %s; retrying in %.1fs", err, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(coro, name=name))

    async def start(self) -> None:
        """Start every loop in the background (see ``run`` to wait on them)."""
        self.config.root_dir.mkdir(parents=True, exist_ok=True)
        await self.start_runtime()
        await self._adopt_pod_cidr()
        self._spawn(self.node_agent.run(), f"node-{self.node_name}")
        self.pod_source.subscribe(self.node_name, self.handler())
        if self._own_source:
            self.pod_source.start()
        self.node_source.subscribe(
            self.node_name,
            NodeHandler(self._on_node, self.node_agent.on_node_deleted),
        )
        if self._own_node_source:
            self.node_source.start()
        if self.static_source is not None:
            self._spawn(self.static_source.run(self.config.file_check_frequency), "static-pods")
        self._spawn(self.pleg.run(), f"pleg-{self.node_name}")
        self._spawn(
            run_workers(self.queue, self.reconcile, self.config.workers), f"pods-{self.node_name}"
        )
        self._spawn(self._housekeeping(), f"housekeeping-{self.node_name}")
        self.started.set()

    async def run(self) -> None:
        await self.start()
        try:
            await asyncio.gather(*self._tasks)
        finally:
            await self.stop()

    async def stop(self) -> None:
        """Stop the loops; containers keep running (a restarted kubelet adopts them)."""
        await self.queue.shut_down()
        if self._network_update is not None:
            self._network_update.cancel()
        for task in [*self._tasks, *self._busy.values()]:
            task.cancel()
        for task in [*self._tasks, *self._busy.values()]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self.pod_source.unsubscribe(self.node_name)
        if self._own_source:
            await self.pod_source.stop()
        self.node_source.unsubscribe(self.node_name)
        if self._own_node_source:
            await self.node_source.stop()
        await self.probes.close()
        if self.recorder is not None:
            await self.recorder.close()
        if self._http is not None:
            await self._http.close()

    async def _housekeeping(self) -> None:
        period = min(2.0, self.config.sync_frequency)
        while True:
            await asyncio.sleep(period)
            try:
                await self.housekeeping()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("housekeeping failed")

    async def housekeeping(self) -> None:
        """Periodic resync, orphaned mirror pods and pod directories, back-off GC."""
        if self.clock() - self._last_resync >= self.config.sync_frequency:
            self._last_resync = self.clock()
            for pod in self.pods():
                self.queue.add(pod.metadata.uid or "")
        if self.clock() - self._last_status_check >= STATUS_RECONCILE_PERIOD:
            self._last_status_check = self.clock()
            self._reconcile_statuses()
        if not self.sources_ready:
            return
        for key, mirror in list(self.mirrors.items()):
            uid = mirror.metadata.annotations.get(CONFIG_MIRROR, "")
            if uid not in self.static_pods and not mirror.metadata.deletion_timestamp:
                await self._delete_api_pod(mirror)
                self.mirrors.pop(key, None)
        for uid in self.volumes.known_pods():
            if (
                self.desired(uid) is None
                and uid not in self.pleg.runtime_uids
                and uid not in self._busy
            ):
                self.volumes.cleanup(uid)
        self.backoff.gc()
        self.pull_backoff.gc()

    def _reconcile_statuses(self) -> None:
        """Queue every pod whose copy in the apiserver disagrees with our last status
        write (another writer, a lost write), as Kubernetes' status manager does."""
        for uid, pod in list(self.api_pods.items()):
            if self.status_manager.stale(pod):
                self.queue.add(uid)
        for mirror in list(self.mirrors.values()):
            if self.status_manager.stale(mirror):
                self.queue.add(mirror.metadata.annotations.get(CONFIG_MIRROR, ""))

    # --- the pod worker -------------------------------------------------------------------

    def _background(self, uid: str, coro: Coroutine[Any, Any, None]) -> None:
        async def wrapper() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("pod %s: background work failed", uid)
            finally:
                self._busy.pop(uid, None)
                if not self.queue.shutting_down:
                    self.queue.add(uid)

        self._busy[uid] = asyncio.get_running_loop().create_task(wrapper(), name=f"pod-{uid}")

    async def reconcile(self, uid: str) -> float | None:
        """Move pod ``uid`` one step towards its spec; the delay before looking again."""
        if uid in self._busy:
            return None
        started = time.monotonic()
        try:
            return await self._reconcile(uid)
        finally:
            log.debug("synced pod %s in %.3fs", uid, time.monotonic() - started)

    async def _reconcile(self, uid: str) -> float | None:
        pod = self.desired(uid)
        try:
            state = await self.runtime.pod(uid)
        except RuntimeUnavailableError as err:
            log.info("pod %s: runtime unavailable (%s)", uid, err)
            return 2.0
        if pod is None:
            if state is None:
                self._forget(uid)
                return None
            if not self.sources_ready:
                return 1.0
            self._background(uid, self._remove_orphan(uid, state))
            return None
        target = pod
        if uid in self.static_pods:
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
                self._background(uid, self._finish(pod, running, sandboxes))
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
                host_ip=self.host_ip,
                now=now(),
                terminal=True,
                prefix=self.runtime.name,
                reported=self.status_manager.reported(uid),
                reason="DeadlineExceeded",
                message="Pod was active on the node longer than the specified deadline",
            )
            await self.status_manager.set(target, status)
            self._event(
                target,
                WARNING,
                "DeadlineExceeded",
                "Pod was active on the node longer than the specified deadline",
            )
            if running or sandboxes:
                self._background(uid, self._finish(pod, running, sandboxes))
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
                self._background(uid, self._kill_pod(pod, state))
                return None
            for kill in actions.kill:
                kind = NORMAL if kill.reason == "Killing" else WARNING
                self._event(target, kind, kill.reason, kill.message)
            victims = [k.info for k in actions.kill]
            self._background(uid, self._kill_many(pod, victims, self._grace(pod)))
            return None
        waiting = self.waiting.setdefault(uid, {})
        for name, (reason, _) in actions.waiting.items():
            if reason == "CrashLoopBackOff":
                message = f"Back-off restarting failed container {name} in pod {pod.metadata.name}"
                self._event(target, WARNING, "BackOff", message)
        changed = False
        if actions.create_sandbox or actions.start:
            changed = await self._start_all(pod, target, state, actions, waiting)
        elif state is not None and state.sandbox() is not None and not actions.stop_sandbox:
            self._refresh_volumes(pod, state)
        if actions.stop_sandbox and state is not None:
            for sandbox in state.sandboxes:
                if sandbox.ready:
                    await self.runtime.stop_sandbox(sandbox.id)
                    changed = True
        if changed:
            with contextlib.suppress(RuntimeUnavailableError):
                state = await self.runtime.pod(uid)
        if state is not None:
            await self._gc_instances(state)
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
            pod_ip = self.host_ip if pod.spec and pod.spec.host_network else sandbox.ip
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
            host_ip=self.host_ip,
            now=now(),
            readiness=readiness,
            startup=startup,
            waiting=waiting,
            prefix=self.runtime.name,
            reported=self.status_manager.reported(uid),
        )
        if target is pod and uid not in self.api_pods:
            return  # static pod without a mirror yet: nowhere to write
        try:
            await self.status_manager.set(target, status)
        except errors.ApiError as err:
            log.info("pod %s: status not written: %s", uid, err.message)
            raise

    # --- starting ---------------------------------------------------------------------

    async def _start_all(
        self,
        pod: Pod,
        target: Pod,
        state: RuntimePod | None,
        actions: PodActions,
        waiting: dict[str, tuple[str, str]],
    ) -> bool:
        uid = pod.metadata.uid or ""
        sandbox = state.sandbox() if state else None
        changed = False
        network_ready, why = self.runtime.network_status()
        if (
            actions.create_sandbox
            and not network_ready
            and not (pod.spec and pod.spec.host_network)
        ):
            message = f"network is not ready: {NETWORK_NOT_READY}: {why}"
            self._event(target, WARNING, "NetworkNotReady", message)
            for start in actions.start:
                waiting[start.container.name] = ("ContainerCreating", "")
            actions.retry(5.0)
            return False
        try:
            ctx = await self._context(pod, sandbox)
            paths = {} if self.runtime.simulated else self.volumes.setup(pod, ctx)
        except (VolumeError, ConfigError) as err:
            self._event(target, WARNING, "FailedMount", f"MountVolume.SetUp failed: {err}")
            for start in actions.start:
                waiting[start.container.name] = (
                    "PodInitializing"
                    if start.kind == lb.KIND_APP and pod.spec and pod.spec.init_containers
                    else "ContainerCreating",
                    "",
                )
            actions.retry(5.0)
            return False
        except errors.ApiError as err:
            log.info("pod %s: cannot read its ConfigMaps/Secrets: %s", uid, err.message)
            actions.retry(2.0)
            return False
        sandbox_ready: asyncio.Task[SandboxInfo] | None = None
        if actions.create_sandbox:
            if state is not None:
                for old in state.sandboxes:
                    if old.ready:
                        await self.runtime.stop_sandbox(old.id)
            try:
                created = await self.runtime.create_sandbox(
                    self._sandbox_config(pod, actions.sandbox_attempt)
                )
            except ContainerStartError as err:
                message = f"Failed to create pod sandbox: {err}"
                self._event(target, WARNING, "FailedCreatePodSandBox", message)
                actions.retry(5.0)
                return True
            changed = True
            sandbox = created
            # The sandbox starts (the slow part: its network) while the containers are
            # prepared and created in it; they start once it runs.
            sandbox_ready = asyncio.get_running_loop().create_task(
                self._start_sandbox(pod, created, ctx)
            )
        elif sandbox is None or not sandbox.ready:
            return changed
        assert sandbox is not None
        try:
            results = await asyncio.gather(
                *(
                    self._start_one(
                        pod, target, sandbox, start, ctx, paths, waiting, actions, sandbox_ready
                    )
                    for start in actions.start
                )
            )
            if sandbox_ready is not None:
                await sandbox_ready
        except ContainerStartError as err:
            message = f"Failed to start pod sandbox: {err}"
            self._event(target, WARNING, "FailedCreatePodSandBox", message)
            actions.retry(5.0)
            return True
        finally:
            if sandbox_ready is not None and not sandbox_ready.done():
                sandbox_ready.cancel()
        return changed or any(results) or bool(actions.start)

    async def _start_sandbox(self, pod: Pod, sandbox: SandboxInfo, ctx: PodContext) -> SandboxInfo:
        started = await self.runtime.start_sandbox(sandbox.id)
        host_network = bool(pod.spec and pod.spec.host_network)
        ctx.pod_ip = (self.host_ip if host_network else started.ip) or ""
        return started

    async def _context(self, pod: Pod, sandbox: SandboxInfo | None) -> PodContext:
        namespace = pod.metadata.namespace or "default"
        config_names, secret_names = referenced_objects(pod)
        config_maps: dict[str, ConfigMap | None] = {}
        secrets: dict[str, Secret | None] = {}
        for name in config_names:
            config_maps[name] = await self.objects.get(ConfigMap, namespace, name)
        for name in secret_names:
            secrets[name] = await self.objects.get(Secret, namespace, name)
        pod_ip = ""
        if pod.spec and pod.spec.host_network:
            pod_ip = self.host_ip
        elif sandbox is not None and sandbox.ip:
            pod_ip = sandbox.ip
        node = self.node_agent.node
        allocatable = dict(node.status.allocatable) if node and node.status else {}
        return PodContext(
            node_name=self.node_name,
            pod_ip=pod_ip,
            host_ip=self.host_ip,
            config_maps=config_maps,
            secrets=secrets,
            node_allocatable=allocatable,
        )

    def _refresh_volumes(self, pod: Pod, state: RuntimePod) -> None:
        """Bring ConfigMap/Secret/downwardAPI volumes up to date (a running pod sees
        updates); errors only leave the old contents in place."""
        spec = pod.spec
        if self.runtime.simulated or spec is None:
            return
        if not any(v.config_map or v.secret or v.downward_api or v.projected for v in spec.volumes):
            return
        self._spawn_refresh(pod, state)

    def _spawn_refresh(self, pod: Pod, state: RuntimePod) -> None:
        async def refresh() -> None:
            try:
                ctx = await self._context(pod, state.sandbox())
                self.volumes.setup(pod, ctx)
            except (VolumeError, ConfigError, errors.ApiError) as err:
                log.info("pod %s: volumes not refreshed: %s", pod.metadata.name, err)

        task = asyncio.get_running_loop().create_task(refresh())
        self._refreshing.add(task)
        task.add_done_callback(self._refreshing.discard)

    def _labels(self, pod: Pod, kind: str, name: str) -> dict[str, str]:
        meta = pod.metadata
        return {
            lb.MANAGED: "true",
            lb.NODE: self.node_name,
            lb.POD_UID: meta.uid or "",
            lb.POD_NAME: meta.name or "",
            lb.POD_NAMESPACE: meta.namespace or "default",
            lb.CONTAINER_NAME: name,
            lb.CONTAINER_KIND: kind,
            lb.GRACE_PERIOD: str(self._grace(pod)),
        }

    @staticmethod
    def _grace(pod: Pod) -> int:
        spec = pod.spec
        grace = spec.termination_grace_period_seconds if spec else None
        return 30 if grace is None else max(grace, 0)

    def _sandbox_config(self, pod: Pod, attempt: int) -> SandboxConfig:
        spec = pod.spec or PodSpec()
        meta = pod.metadata
        labels = self._labels(pod, lb.KIND_SANDBOX, lb.SANDBOX_CONTAINER_NAME)
        labels[lb.SANDBOX_ATTEMPT] = str(attempt)
        ports = []
        if not spec.host_network:
            for container in spec.containers:
                for port in container.ports:
                    if port.host_port:
                        ports.append(
                            PortMapping(
                                port.container_port,
                                port.host_port,
                                port.protocol or "TCP",
                                port.host_ip or "",
                            )
                        )
        servers: list[str] = []
        searches: list[str] = []
        options: list[str] = []
        policy = spec.dns_policy or "ClusterFirst"
        cluster = policy == "ClusterFirstWithHostNet" or (
            policy == "ClusterFirst" and not spec.host_network
        )
        if cluster and self.config.cluster_dns:
            domain = self.config.cluster_domain
            namespace = meta.namespace or "default"
            servers = list(self.config.cluster_dns)
            searches = [f"{namespace}.svc.{domain}", f"svc.{domain}", domain]
            options = ["ndots:5"]
        if spec.dns_config is not None:
            servers += spec.dns_config.nameservers
            searches += spec.dns_config.searches
            options += [
                f"{o.name}:{o.value}" if o.value else (o.name or "")
                for o in spec.dns_config.options
            ]
        hostname = (spec.hostname or meta.name or "pod")[:63].rstrip("-.")
        sysctls = {}
        if spec.security_context is not None:
            sysctls = {s.name: s.value for s in spec.security_context.sysctls}
        return SandboxConfig(
            pod_uid=meta.uid or "",
            pod_name=meta.name or "",
            namespace=meta.namespace or "default",
            attempt=attempt,
            hostname=hostname,
            labels=labels,
            port_mappings=ports,
            dns_servers=servers,
            dns_searches=searches,
            dns_options=[o for o in options if o],
            extra_hosts={h: alias.ip for alias in spec.host_aliases for h in alias.hostnames},
            host_network=bool(spec.host_network),
            share_pid=bool(spec.share_process_namespace),
            sysctls=sysctls,
        )

    def _container_config(
        self,
        pod: Pod,
        container: Container,
        kind: str,
        restart_count: int,
        ctx: PodContext,
        paths: dict[str, str],
    ) -> ContainerConfig:
        spec = pod.spec or PodSpec()
        meta = pod.metadata
        uid = meta.uid or ""
        env = container_env(pod, container, ctx)
        labels = self._labels(pod, kind, container.name)
        labels[lb.CONTAINER_HASH] = lb.container_hash(container)
        labels[lb.RESTART_COUNT] = str(restart_count)
        mounts: list[Mount] = []
        if not self.runtime.simulated:
            mounts = self.volumes.mounts(pod, container, paths, env)
            instance = f"{restart_count}-{uuid.uuid4().hex[:8]}"
            message_file = self.volumes.termination_message_file(uid, container.name, instance)
            path = container.termination_message_path or "/dev/termination-log"
            mounts.append(Mount(message_file, path))
            labels[lb.TERMINATION_MESSAGE] = message_file
        resources = container.resources
        limits = resources.limits if resources else {}
        requests = resources.requests if resources else {}
        memory = parse_quantity(limits["memory"]).value() if "memory" in limits else None
        cpu_limit = parse_quantity(limits["cpu"]).milli_value() if "cpu" in limits else None
        cpu_request = parse_quantity(requests["cpu"]).milli_value() if "cpu" in requests else None
        sc = container.security_context
        psc = spec.security_context
        run_as_user = (
            sc.run_as_user
            if sc and sc.run_as_user is not None
            else (psc.run_as_user if psc else None)
        )
        run_as_group = (
            sc.run_as_group
            if sc and sc.run_as_group is not None
            else (psc.run_as_group if psc else None)
        )
        user = None
        if run_as_user is not None:
            user = f"{run_as_user}:{run_as_group}" if run_as_group is not None else str(run_as_user)
        elif run_as_group is not None:
            user = f"0:{run_as_group}"
        caps = sc.capabilities if sc else None
        return ContainerConfig(
            name=lb.docker_name(
                kind,
                container.name,
                meta.name or "",
                meta.namespace or "default",
                uid,
                restart_count,
            ),
            image=container.image or "",
            labels=labels,
            entrypoint=[expand(x, env) for x in container.command] or None,
            command=[expand(x, env) for x in container.args] or None,
            env=env,
            working_dir=container.working_dir or None,
            mounts=mounts,
            tty=bool(container.tty),
            stdin=bool(container.stdin),
            memory_limit=memory,
            cpu_limit_millis=cpu_limit,
            cpu_request_millis=cpu_request,
            user=user,
            group_add=[str(g) for g in (psc.supplemental_groups if psc else [])],
            privileged=bool(sc and sc.privileged),
            cap_add=list(caps.add) if caps else [],
            cap_drop=list(caps.drop) if caps else [],
            read_only_rootfs=bool(sc and sc.read_only_root_filesystem),
            share_pid=bool(spec.share_process_namespace),
            host_network=bool(spec.host_network),
        )

    async def _ensure_image(
        self,
        pod: Pod,
        target: Pod,
        container: Container,
        waiting: dict[str, tuple[str, str]],
        actions: PodActions,
    ) -> bool:
        image = container.image or ""
        policy = container.image_pull_policy or default_pull_policy(image)
        present = await self.runtime.image_id(image)
        if policy == "Never":
            if present:
                return True
            message = f'Container image "{image}" is not present with pull policy of Never'
            waiting[container.name] = ("ErrImageNeverPull", message)
            self._event(target, WARNING, "ErrImageNeverPull", message)
            actions.retry(10.0)
            return False
        if policy == "IfNotPresent" and present:
            return True
        failed_at = self._pull_failed_at.get(image)
        if failed_at is not None:
            remaining = self.pull_backoff.remaining(image, failed_at)
            if remaining > 0:
                waiting[container.name] = ("ImagePullBackOff", f'Back-off pulling image "{image}"')
                actions.retry(remaining)
                return False
        self._event(target, NORMAL, "Pulling", f'Pulling image "{image}"')
        try:
            await self.runtime.pull_image(image)
        except ImagePullError as err:
            stamp = self.clock()
            self.pull_backoff.next(image, stamp)
            self._pull_failed_at[image] = stamp
            message = f'Failed to pull image "{image}": {err}'
            waiting[container.name] = ("ErrImagePull", message)
            self._event(target, WARNING, "Failed", message)
            actions.retry(self.pull_backoff.delay(image))
            return False
        self._pull_failed_at.pop(image, None)
        self.pull_backoff.reset(image)
        self._event(target, NORMAL, "Pulled", f'Successfully pulled image "{image}"')
        return True

    async def _start_one(
        self,
        pod: Pod,
        target: Pod,
        sandbox: SandboxInfo,
        start: Start,
        ctx: PodContext,
        paths: dict[str, str],
        waiting: dict[str, tuple[str, str]],
        actions: PodActions,
        sandbox_ready: asyncio.Task[SandboxInfo] | None = None,
    ) -> bool:
        """Pull if needed, create and start one container. With ``sandbox_ready`` (a
        sandbox still starting) the container is created at once and started after the
        sandbox, unless its environment needs the pod IP, which only then exists."""
        container = start.container
        name = container.name
        if not await self._ensure_image(pod, target, container, waiting, actions):
            return False
        if sandbox_ready is not None and _needs_pod_ip(container):
            sandbox = await asyncio.shield(sandbox_ready)
            sandbox_ready = None
        count = start.restart_count
        if count == 0 and target.status is not None:
            # The runtime lost every record of it (removed by hand, node rebooted): keep
            # counting from what the API says, as Kubernetes does.
            for status in (
                *target.status.container_statuses,
                *target.status.init_container_statuses,
            ):
                if status.name == name and status.container_id:
                    count = status.restart_count + 1
        try:
            config = self._container_config(pod, container, start.kind, count, ctx, paths)
        except (ConfigError, VolumeError) as err:
            waiting[name] = ("CreateContainerConfigError", str(err))
            self._event(target, WARNING, "Failed", f"Error: {err}")
            actions.retry(5.0)
            return False
        try:
            container_id = await self.runtime.create_container(sandbox, config)
        except ContainerStartError as err:
            waiting[name] = ("CreateContainerError", str(err))
            self._event(target, WARNING, "Failed", f"Error: {err}")
            actions.retry(5.0)
            return False
        if start.failed_at is not None:
            self.backoff.next(start.backoff_key, start.failed_at)
        waiting.pop(name, None)
        self._event(target, NORMAL, "Created", f"Created container {name}")
        if sandbox_ready is not None:
            await asyncio.shield(sandbox_ready)
        try:
            await self.runtime.start_container(container_id)
        except ContainerStartError as err:
            self._event(target, WARNING, "Failed", f"Error: {err}")
            return True
        self._event(target, NORMAL, "Started", f"Started container {name}")
        hook = container.lifecycle.post_start if container.lifecycle else None
        if hook is not None:
            ok, message = await self._run_hook(
                pod, container, container_id, hook, float(self._grace(pod) or 30)
            )
            if not ok:
                self._event(target, WARNING, "FailedPostStartHook", message)
                await self.runtime.stop_container(container_id, 0)
        return True

    async def _run_hook(
        self,
        pod: Pod,
        container: Container,
        container_id: str,
        hook: LifecycleHandler,
        timeout: float,
    ) -> tuple[bool, str]:
        try:
            if hook.exec is not None:
                result = await self.runtime.exec_sync(container_id, hook.exec.command, timeout)
                if result.exit_code != 0:
                    return (
                        False,
                        f"exec {hook.exec.command} exited {result.exit_code}: {result.output.decode(errors='replace')[-512:]}",
                    )
                return True, ""
            if hook.sleep is not None:
                await asyncio.sleep(min(hook.sleep.seconds, timeout))
                return True, ""
            if hook.http_get is not None:
                action = hook.http_get
                host = action.host or (pod.status.pod_ip if pod.status else None) or self.host_ip
                port = resolve_port(action.port, container)
                path = action.path or "/"
                url = f"{(action.scheme or 'HTTP').lower()}://{host}:{port}{path if path.startswith('/') else '/' + path}"
                if self._http is None:
                    self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False))
                async with self._http.get(
                    url, timeout=aiohttp.ClientTimeout(total=timeout)
                ) as resp:
                    await resp.read()
                    return resp.status < 400, f"HTTP {resp.status}"
        except (OSError, TimeoutError, aiohttp.ClientError, ValueError) as err:
            return False, str(err)
        return True, ""

    # --- stopping ---------------------------------------------------------------------

    async def _stop_one(self, pod: Pod, info: ContainerInfo, deadline: float) -> None:
        container = pod.container(info.name)
        hook = container.lifecycle.pre_stop if container and container.lifecycle else None
        if hook is not None and container is not None and info.running:
            budget = max(deadline - self.clock(), 0.0)
            ok, message = await self._run_hook(pod, container, info.id, hook, budget)
            if not ok:
                log.info("preStop hook of %s failed: %s", info.name, message)
        remaining = max(deadline - self.clock(), MIN_GRACE_AFTER_HOOK if hook else 0.0)
        await self.runtime.stop_container(info.id, remaining)

    async def _kill_many(self, pod: Pod, infos: list[ContainerInfo], grace: float) -> None:
        deadline = self.clock() + grace
        await asyncio.gather(*(self._stop_one(pod, info, deadline) for info in infos))

    async def _kill_pod(self, pod: Pod, state: RuntimePod) -> None:
        running = [c for c in state.containers if c.running]
        await self._kill_many(pod, running, self._grace(pod))
        for sandbox in state.sandboxes:
            if sandbox.ready:
                await self.runtime.stop_sandbox(sandbox.id)

    async def _finish(
        self, pod: Pod, running: list[ContainerInfo], sandboxes: list[SandboxInfo]
    ) -> None:
        """Stop what still runs of a pod that reached a terminal phase."""
        await self._kill_many(pod, running, self._grace(pod))
        for sandbox in sandboxes:
            await self.runtime.stop_sandbox(sandbox.id)

    async def _terminate(self, pod: Pod) -> None:
        """Graceful deletion: preStop, SIGTERM, the grace period, SIGKILL; the final
        status; then the pod object goes (grace 0) and its containers with it."""
        uid = pod.metadata.uid or ""
        grace = pod.metadata.deletion_grace_period_seconds
        if grace is None:
            grace = self._grace(pod)
        state = await self.runtime.pod(uid)
        if state is not None:
            running = [c for c in state.containers if c.running]
            if running:
                self._event(
                    pod,
                    NORMAL,
                    "Killing",
                    f"Stopping containers {', '.join(c.name for c in running)}",
                )
            await self._kill_many(pod, running, float(grace))
            for sandbox in state.sandboxes:
                if sandbox.ready:
                    await self.runtime.stop_sandbox(sandbox.id)
            state = await self.runtime.pod(uid)
        static = uid in self.static_pods
        current = self.api_pods.get(uid, pod)
        final = generate_pod_status(
            current,
            state,
            host_ip=self.host_ip,
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
            await self._delete_api_pod(current)
            # Its DELETED event follows; until then it must not look like a live pod.
            self.api_pods.pop(uid, None)

    async def _delete_api_pod(self, pod: Pod) -> None:
        with contextlib.suppress(errors.NotFoundError, errors.ConflictError):
            await self.client.delete(
                Pod,
                pod.metadata.name or "",
                pod.metadata.namespace,
                grace_period_seconds=0,
                preconditions={"uid": pod.metadata.uid or ""},
            )

    async def _remove_orphan(self, uid: str, state: RuntimePod) -> None:
        running = [c for c in state.containers if c.running]
        await asyncio.gather(*(self.runtime.stop_container(c.id, ORPHAN_GRACE) for c in running))
        await self._remove_all(uid, state)

    async def _remove_all(self, uid: str, state: RuntimePod | None) -> None:
        if state is not None:
            for sandbox in state.sandboxes:
                if sandbox.ready:
                    await self.runtime.stop_sandbox(sandbox.id)
            for info in state.containers:
                await self.runtime.remove_container(info.id)
            for sandbox in state.sandboxes:
                await self.runtime.remove_container(sandbox.id)
        self.volumes.cleanup(uid)
        self._forget(uid)

    async def _gc_instances(self, state: RuntimePod) -> None:
        """Keep the current and the previous instance of each container, and the newest
        sandbox; remove older dead ones."""
        seen: dict[tuple[str, str], int] = {}
        for info in state.containers:
            key = (info.kind, info.name)
            seen[key] = seen.get(key, 0) + 1
            if seen[key] > 2 and not info.running:
                await self.runtime.remove_container(info.id)
        for sandbox in state.sandboxes[1:]:
            if not sandbox.ready:
                await self.runtime.remove_container(sandbox.id)

    # --- static pods ------------------------------------------------------------------------

    async def _ensure_mirror(self, pod: Pod) -> Pod | None:
        meta = pod.metadata
        key = (meta.namespace or "default", meta.name or "")
        mirror = self.mirrors.get(key)
        if mirror is not None and (
            mirror.metadata.annotations.get(CONFIG_MIRROR) != meta.uid
            or mirror.metadata.deletion_timestamp is not None
        ):
            await self._delete_api_pod(mirror)
            self.mirrors.pop(key, None)
            mirror = None
        if mirror is None:
            node = self.node_agent.node
            if node is None:
                return None
            try:
                mirror = await self.client.create(mirror_pod(pod, node.metadata.uid))
                self.mirrors[key] = mirror
            except errors.AlreadyExistsError:
                return None
            except errors.ApiError as err:
                log.info("mirror pod for %s not created: %s", meta.name, err.message)
                return None
        return mirror

    # --- events ------------------------------------------------------------------------

    def _event(self, pod: Pod, kind: str, reason: str, message: str) -> None:
        """Record an Event about ``pod`` (API pods and mirror pods only: a static pod's
        own uid names no API object)."""
        if self.recorder is None:
            return
        if pod.metadata.annotations.get(CONFIG_SOURCE) == "file" and not is_mirror(pod):
            return
        self.recorder.event(pod, kind, reason, message)

    # --- lookups for the server ----------------------------------------------------------

    def find_pod(self, namespace: str, name: str) -> Pod | None:
        for pod in self.pods():
            meta = pod.metadata
            if meta.name == name and (meta.namespace or "default") == namespace:
                return pod
        return None

    async def find_container(
        self, namespace: str, name: str, container: str, *, previous: bool = False
    ) -> ContainerInfo:
        """The instance of ``container`` that logs/exec should use; ``KubeletError``."""
        pod = self.find_pod(namespace, name)
        if pod is None:
            raise KubeletError(404, f'pod "{name}" not found in namespace "{namespace}"')
        if not container:
            names = [c.name for c in pod.spec.containers] if pod.spec else []
            if len(names) != 1:
                raise KubeletError(
                    400,
                    f"a container name must be specified for pod {name}, choose one of: "
                    f"[{' '.join(names)}]",
                )
            container = names[0]
        if pod.container(container) is None:
            raise KubeletError(400, f"container {container} is not valid for pod {name}")
        state = await self.runtime.pod(pod.metadata.uid or "")
        instances = state.instances(container) if state else []
        if previous:
            # The current instance is the newest (even if it died and waits for its
            # restart); "previous" is the one before it.
            if len(instances) < 2:
                raise KubeletError(
                    400, f'previous terminated container "{container}" in pod "{name}" not found'
                )
            return instances[1]
        if not instances:
            held = self.waiting.get(pod.metadata.uid or "", {}).get(container)
            reason = held[0] if held else "ContainerCreating"
            raise KubeletError(
                400, f'container "{container}" in pod "{name}" is waiting to start: {reason}'
            )
        return instances[0]


def _needs_pod_ip(container: Container) -> bool:
    """Whether the container's environment refers to the pod's IP (known once the
    sandbox runs)."""
    return any(
        var.value_from is not None
        and var.value_from.field_ref is not None
        and var.value_from.field_ref.field_path in ("status.podIP", "status.podIPs")
        for var in container.env
    )
