"""The kubelet: runs the pods bound to its node, and reports on them and on the node.

``Kubelet`` puts the parts together; each part is its own module:

- ``podmanager``: the pods to run, from the apiserver (a ``PodSource``) and the static
  manifest directory, and static pods' mirrors;
- ``podworker``: ``reconcile(uid)``, the pod worker, on one work queue fed by pod
  changes, PLEG's relists, probe flips and a periodic resync;
- ``starter`` (sandbox, volumes, containers; images through ``images``, configs from
  ``runtimeconfig``) and ``termination`` (stopping and removing), with ``hooks`` for
  ``postStart``/``preStop``;
- ``node`` (the Node and its Lease), ``pleg``, ``probes``, ``statusmanager``,
  ``volumes``.

Here: building them, starting and stopping their loops, housekeeping (resync, status
checks against the apiserver's copies, orphaned mirror pods and pod directories,
back-off GC), events, and the lookups the kubelet's
server needs (a pod by name, the container instance logs and exec should use).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from apiclient import Client, EventRecorder, WorkQueue, run_workers
from apiclient.workqueue import ItemExponentialBackoff
from apitypes.core import Node, Pod
from kubelet.backoff import Backoff
from kubelet.config import KubeletConfig
from kubelet.hooks import LifecycleHooks
from kubelet.images import ImagePuller
from kubelet.node import MachineInfo, MachineStats, NodeAgent, read_machine_info, read_machine_stats
from kubelet.objects import ObjectCache
from kubelet.pleg import Pleg
from kubelet.podmanager import PodManager
from kubelet.podnetwork import PodNetwork
from kubelet.podworker import PodWorker
from kubelet.probes import ProbeManager, Prober
from kubelet.runtime import ContainerInfo, ImageInfo, Runtime, RuntimeUnavailableError
from kubelet.sources import NodeHandler, NodeSource, PodSource, ServiceSource
from kubelet.starter import PodStarter
from kubelet.static import CONFIG_MIRROR, CONFIG_SOURCE, StaticPodSource, is_mirror
from kubelet.statusmanager import StatusManager
from kubelet.termination import PodKiller
from kubelet.tokens import TokenManager
from kubelet.volumes import VolumeManager

log = logging.getLogger(__name__)

STATUS_RECONCILE_PERIOD = 10.0
"""Seconds between checks of the pods' statuses in the apiserver against our writes."""


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
        service_source: ServiceSource | None = None,
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
        self._own_service_source = service_source is None
        self.service_source = service_source or ServiceSource(client)
        self.queue: WorkQueue[str] = WorkQueue(
            # Failures retry quickly at first, then settle at a few seconds.
            ItemExponentialBackoff(0.2, 10.0),
            name=f"kubelet-{config.node_name}",
        )
        self.pod_manager = PodManager(self.enqueue)
        self.static_source = (
            StaticPodSource(config.pod_manifest_path, config.node_name, self.pod_manager.on_static)
            if config.pod_manifest_path
            else None
        )
        self.volumes = VolumeManager(config.root_dir)
        self.objects = ObjectCache(client, config.object_cache_ttl)
        self.backoff = Backoff(config.crashloop_backoff_base, config.crashloop_backoff_max, clock)
        self.pull_backoff = Backoff(
            config.image_pull_backoff_base, config.image_pull_backoff_max, clock
        )
        self.status_manager = StatusManager(client)
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
        self.hooks = LifecycleHooks(runtime, config.node_ip)
        self.network = PodNetwork(runtime, config.node_name, on_ready=self._network_ready)
        self.tokens = TokenManager(client)
        self.starter = PodStarter(
            config,
            runtime,
            volumes=self.volumes,
            objects=self.objects,
            images=ImagePuller(runtime, self.pull_backoff, self._event, clock),
            hooks=self.hooks,
            backoff=self.backoff,
            event=self._event,
            node=self._node,
            network=self.network.status,
            tokens=self.tokens,
            services=self.service_source.synced_services,
        )
        self.worker = PodWorker(
            config,
            client,
            runtime,
            pods=self.pod_manager,
            queue=self.queue,
            starter=self.starter,
            killer=PodKiller(runtime, self.hooks, clock),
            volumes=self.volumes,
            probes=self.probes,
            status_manager=self.status_manager,
            backoff=self.backoff,
            event=self._event,
            node=self._node,
            sources_ready=lambda: self.sources_ready,
            clock=clock,
        )
        self._last_resync = 0.0
        self._last_status_check = 0.0
        self._tasks: list[asyncio.Task[Any]] = []
        self.started = asyncio.Event()

    def enqueue(self, uid: str) -> None:
        self.queue.add(uid)

    @property
    def sources_ready(self) -> bool:
        static_ready = self.static_source is None or self.static_source.scanned
        return self.pod_source.synced and static_ready

    # --- node -----------------------------------------------------------------------

    async def _runtime_ready(self) -> tuple[bool, str]:
        if not await self.runtime.healthy():
            return False, "container runtime is down"
        network_ready, why = self.network.status()
        if not network_ready:
            return False, why
        if self.pleg.last_relist is not None and not self.pleg.healthy():
            return False, "PLEG is not healthy: relisting the runtime fails"
        return True, ""

    async def _images(self) -> list[ImageInfo]:
        return await self.runtime.images()

    def _node(self) -> Node | None:
        return self.node_agent.node

    def _on_node(self, node: Node) -> None:
        self.node_agent.on_node(node)
        self.network.on_node(node)

    async def _network_ready(self) -> None:
        """The pod network is there now: waiting pods go, the Node says Ready at once."""
        for pod in self.pod_manager.pods():
            self.queue.add(pod.metadata.uid or "")
        with contextlib.suppress(Exception):
            await self.node_agent.update_status(force=True)

    # --- lifecycle ----------------------------------------------------------------------

    async def start_runtime(self) -> None:
        """Wait for the container runtime. A node may start its kubelet alongside its
        engine (the compose node does, to overlap their start-ups), so the retries are
        short: 0.25 s doubling to at most 2 s."""
        delay = 0.25
        while True:
            try:
                await self.runtime.start()
                return
            except RuntimeUnavailableError as err:
                log.warning("container runtime not ready: %s; retrying in %.2fs", err, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(coro, name=name))

    async def start(self) -> None:
        """Start every loop in the background (see ``run`` to wait on them)."""
        self.config.root_dir.mkdir(parents=True, exist_ok=True)
        await self.start_runtime()
        await self.network.adopt(self.client)
        self._spawn(self.node_agent.run(), f"node-{self.node_name}")
        self.pod_source.subscribe(self.node_name, self.pod_manager.handler())
        if self._own_source:
            self.pod_source.start()
        self.node_source.subscribe(
            self.node_name,
            NodeHandler(self._on_node, self.node_agent.on_node_deleted),
        )
        if self._own_node_source:
            self.node_source.start()
        if self._own_service_source:
            self.service_source.start()
        if self.static_source is not None:
            self._spawn(self.static_source.run(self.config.file_check_frequency), "static-pods")
        self._spawn(self.pleg.run(), f"pleg-{self.node_name}")
        self._spawn(
            run_workers(self.queue, self.worker.reconcile, self.config.workers),
            f"pods-{self.node_name}",
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
        self.network.stop()
        for task in [*self._tasks, *self.worker.busy.values()]:
            task.cancel()
        for task in [*self._tasks, *self.worker.busy.values()]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self.pod_source.unsubscribe(self.node_name)
        if self._own_source:
            await self.pod_source.stop()
        self.node_source.unsubscribe(self.node_name)
        if self._own_node_source:
            await self.node_source.stop()
        if self._own_service_source:
            await self.service_source.stop()
        await self.probes.close()
        if self.recorder is not None:
            await self.recorder.close()
        await self.hooks.close()

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
            for pod in self.pod_manager.pods():
                self.queue.add(pod.metadata.uid or "")
        if self.clock() - self._last_status_check >= STATUS_RECONCILE_PERIOD:
            self._last_status_check = self.clock()
            self._reconcile_statuses()
        if not self.sources_ready:
            return
        for key, mirror in list(self.pod_manager.mirrors.items()):
            uid = mirror.metadata.annotations.get(CONFIG_MIRROR, "")
            if uid not in self.pod_manager.static_pods and not mirror.metadata.deletion_timestamp:
                await self.worker.delete_api_pod(mirror)
                self.pod_manager.mirrors.pop(key, None)
        for uid in self.volumes.known_pods():
            if (
                self.pod_manager.desired(uid) is None
                and uid not in self.pleg.runtime_uids
                and uid not in self.worker.busy
            ):
                self.volumes.cleanup(uid)
        self.tokens.retain({p.metadata.uid or "" for p in self.pod_manager.pods()})
        self.backoff.gc()
        self.pull_backoff.gc()

    def _reconcile_statuses(self) -> None:
        """Queue every pod whose copy in the apiserver disagrees with our last status
        write (another writer, a lost write), as Kubernetes' status manager does."""
        for uid, pod in list(self.pod_manager.api_pods.items()):
            if self.status_manager.stale(pod):
                self.queue.add(uid)
        for mirror in list(self.pod_manager.mirrors.values()):
            if self.status_manager.stale(mirror):
                self.queue.add(mirror.metadata.annotations.get(CONFIG_MIRROR, ""))

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
        return self.pod_manager.find(namespace, name)

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
            held = self.worker.waiting.get(pod.metadata.uid or "", {}).get(container)
            reason = held[0] if held else "ContainerCreating"
            raise KubeletError(
                400, f'container "{container}" in pod "{name}" is waiting to start: {reason}'
            )
        return instances[0]
