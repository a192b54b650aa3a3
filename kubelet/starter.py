"""Starting a pod: its sandbox, its volumes and environment, then its containers.

``start_all`` carries out the starts a sync decided (``sync.compute_actions``): a new
sandbox when there is none or it died (it starts, network and all, while the
containers are created in it), then each container: its image by pull policy, its
config, create, start, ``postStart``. A container whose environment needs the pod IP
waits for the sandbox to run before it is created. Failures become the waiting reasons
and events Kubernetes reports (``FailedMount``, ``CreateContainerConfigError``,
``FailedCreatePodSandBox``, ...) and a time to try again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from apiclient import NORMAL, WARNING, errors
from apitypes.core import ConfigMap, Node, Pod, Secret, Service
from kubelet import labels as lb
from kubelet.backoff import Backoff
from kubelet.config import KubeletConfig
from kubelet.dnsconfig import write_pod_files
from kubelet.envvars import ConfigError, PodContext, referenced_objects
from kubelet.hooks import LifecycleHooks
from kubelet.images import ImagePuller
from kubelet.objects import ObjectCache
from kubelet.runtime import ContainerStartError, Runtime, RuntimePod, SandboxInfo
from kubelet.runtimeconfig import container_config, grace_period, needs_pod_ip, sandbox_config
from kubelet.sync import PodActions, Start
from kubelet.tokens import TokenManager
from kubelet.volumes import VolumeError, VolumeManager

log = logging.getLogger(__name__)


class PodStarter:
    def __init__(
        self,
        config: KubeletConfig,
        runtime: Runtime,
        *,
        volumes: VolumeManager,
        objects: ObjectCache,
        images: ImagePuller,
        hooks: LifecycleHooks,
        backoff: Backoff,
        event: Callable[[Pod, str, str, str], None],
        node: Callable[[], Node | None],
        network: Callable[[], tuple[bool, str]] = lambda: (True, ""),
        tokens: TokenManager | None = None,
        services: Callable[[], Awaitable[list[Service] | None]] | None = None,
    ) -> None:
        self.config = config
        self.runtime = runtime
        self.volumes = volumes
        self.objects = objects
        self.images = images
        self.hooks = hooks
        self.backoff = backoff
        self.event = event
        self.node = node
        self.network = network
        """Whether the pod network is ready, and why not (``PodNetwork.status``)."""
        self.tokens = tokens
        """Service-account tokens for projected volumes (TokenRequest)."""
        self.services = services
        """Every Service, None when the first list did not come in time
        (``ServiceSource.synced_services``); None here: no Services."""
        self._refreshing: set[asyncio.Task[None]] = set()

    async def start_all(
        self,
        pod: Pod,
        target: Pod,
        state: RuntimePod | None,
        actions: PodActions,
        waiting: dict[str, tuple[str, str]],
    ) -> bool:
        """Create (and start) what ``actions`` asks for: a new sandbox, the containers to
        start; whether anything in the runtime changed. Why containers wait goes into
        ``waiting``, when to look again into ``actions``; events go to ``target``."""
        uid = pod.metadata.uid or ""
        sandbox = state.sandbox() if state else None
        changed = False
        network_ready, why = self.network()
        if (
            actions.create_sandbox
            and not network_ready
            and not (pod.spec and pod.spec.host_network)
        ):
            # Kubernetes' kubelet: no sandbox without a network; the pod waits.
            self.event(target, WARNING, "NetworkNotReady", f"network is not ready: {why}")
            for start in actions.start:
                waiting[start.container.name] = ("ContainerCreating", "")
            actions.retry(5.0)
            return False
        try:
            ctx = await self._context(pod, sandbox)
            paths = {} if self.runtime.simulated else self.volumes.setup(pod, ctx)
            self._write_dns_files(pod, target if actions.create_sandbox else None, ctx)
        except (VolumeError, ConfigError) as err:
            self.event(target, WARNING, "FailedMount", f"MountVolume.SetUp failed: {err}")
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
                    sandbox_config(pod, actions.sandbox_attempt, self.config)
                )
            except ContainerStartError as err:
                message = f"Failed to create pod sandbox: {err}"
                self.event(target, WARNING, "FailedCreatePodSandBox", message)
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
            self.event(target, WARNING, "FailedCreatePodSandBox", message)
            actions.retry(5.0)
            return True
        finally:
            if sandbox_ready is not None and not sandbox_ready.done():
                sandbox_ready.cancel()
        return changed or any(results) or bool(actions.start)

    async def _start_sandbox(self, pod: Pod, sandbox: SandboxInfo, ctx: PodContext) -> SandboxInfo:
        started = await self.runtime.start_sandbox(sandbox.id)
        host_network = bool(pod.spec and pod.spec.host_network)
        ctx.pod_ip = (self.config.node_ip if host_network else started.ip) or ""
        # Now the hosts file can name the pod's IP; the containers start after this.
        self._write_dns_files(pod, None, ctx)
        return started

    def _write_dns_files(self, pod: Pod, report: Pod | None, ctx: PodContext) -> None:
        """The pod's resolv.conf and /etc/hosts (``dnsconfig``); warnings (fallbacks,
        limits) become ``DNSConfigForming`` events on ``report``."""
        if self.runtime.simulated:
            return
        _, _, warnings = write_pod_files(
            self.volumes.pod_dir(pod.metadata.uid or ""),
            pod,
            [ctx.pod_ip] if ctx.pod_ip else [],
            cluster_dns=self.config.cluster_dns,
            cluster_domain=self.config.cluster_domain,
            resolv_conf=self.config.resolv_conf,
        )
        if report is not None:
            for warning in warnings:
                self.event(report, WARNING, "DNSConfigForming", warning)

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
            pod_ip = self.config.node_ip
        elif sandbox is not None and sandbox.ip:
            pod_ip = sandbox.ip
        node = self.node()
        allocatable = dict(node.status.allocatable) if node and node.status else {}
        tokens: dict[tuple[str, int | None], str] = {}
        for volume in pod.spec.volumes if pod.spec else []:
            for source in volume.projected.sources if volume.projected else []:
                sat = source.service_account_token
                if sat is not None and self.tokens is not None and not self.runtime.simulated:
                    key = (sat.audience or "", sat.expiration_seconds)
                    tokens[key] = await self.tokens.token(pod, *key)
        services = await self.services() if self.services is not None else []
        if services is None:
            raise ConfigError(
                "services have not yet been read at least once, cannot construct envvars"
            )
        return PodContext(
            node_name=self.config.node_name,
            pod_ip=pod_ip,
            host_ip=self.config.node_ip,
            config_maps=config_maps,
            secrets=secrets,
            node_allocatable=allocatable,
            tokens=tokens,
            services=services,
        )

    def refresh_volumes(self, pod: Pod, state: RuntimePod) -> None:
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
        if not await self.images.ensure(target, container, waiting, actions):
            return False
        if sandbox_ready is not None and needs_pod_ip(container):
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
            config = container_config(
                pod,
                container,
                start.kind,
                count,
                ctx,
                paths,
                config=self.config,
                volumes=None if self.runtime.simulated else self.volumes,
            )
        except (ConfigError, VolumeError) as err:
            waiting[name] = ("CreateContainerConfigError", str(err))
            self.event(target, WARNING, "Failed", f"Error: {err}")
            actions.retry(5.0)
            return False
        try:
            container_id = await self.runtime.create_container(sandbox, config)
        except ContainerStartError as err:
            waiting[name] = ("CreateContainerError", str(err))
            self.event(target, WARNING, "Failed", f"Error: {err}")
            actions.retry(5.0)
            return False
        if start.failed_at is not None:
            self.backoff.next(start.backoff_key, start.failed_at)
        waiting.pop(name, None)
        self.event(target, NORMAL, "Created", f"Created container {name}")
        if sandbox_ready is not None:
            await asyncio.shield(sandbox_ready)
        try:
            await self.runtime.start_container(container_id)
        except ContainerStartError as err:
            self.event(target, WARNING, "Failed", f"Error: {err}")
            return True
        self.event(target, NORMAL, "Started", f"Started container {name}")
        hook = container.lifecycle.post_start if container.lifecycle else None
        if hook is not None:
            ok, message = await self.hooks.run(
                pod, container, container_id, hook, float(grace_period(pod) or 30)
            )
            if not ok:
                self.event(target, WARNING, "FailedPostStartHook", message)
                await self.runtime.stop_container(container_id, 0)
        return True
