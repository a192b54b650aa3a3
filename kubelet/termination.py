"""Stopping a pod's containers and removing them.

A container stops as Kubernetes stops it: its ``preStop`` hook within the grace
period, then SIGTERM, then SIGKILL once the grace period is over (at least
``MIN_GRACE_AFTER_HOOK`` seconds after a hook). Containers of one pod stop together.
Dead instances beyond the current and the previous one are removed, and so is the
whole of a pod that is gone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from apitypes.core import Pod
from kubelet.hooks import LifecycleHooks
from kubelet.runtime import ContainerInfo, Runtime, RuntimePod, SandboxInfo
from kubelet.runtimeconfig import grace_period

log = logging.getLogger(__name__)

ORPHAN_GRACE = 2.0
"""Seconds an orphan's containers (pod gone from every source) get to stop."""
MIN_GRACE_AFTER_HOOK = 2.0


class PodKiller:
    def __init__(self, runtime: Runtime, hooks: LifecycleHooks, clock: Callable[[], float]) -> None:
        self.runtime = runtime
        self.hooks = hooks
        self.clock = clock

    async def _stop_one(self, pod: Pod, info: ContainerInfo, deadline: float) -> None:
        container = pod.container(info.name)
        hook = container.lifecycle.pre_stop if container and container.lifecycle else None
        if hook is not None and container is not None and info.running:
            budget = max(deadline - self.clock(), 0.0)
            ok, message = await self.hooks.run(pod, container, info.id, hook, budget)
            if not ok:
                log.info("preStop hook of %s failed: %s", info.name, message)
        remaining = max(deadline - self.clock(), MIN_GRACE_AFTER_HOOK if hook else 0.0)
        await self.runtime.stop_container(info.id, remaining)

    async def kill_many(self, pod: Pod, infos: list[ContainerInfo], grace: float) -> None:
        """Stop ``infos`` together: ``preStop``, SIGTERM, SIGKILL once ``grace`` runs out."""
        deadline = self.clock() + grace
        await asyncio.gather(*(self._stop_one(pod, info, deadline) for info in infos))

    async def kill_pod(self, pod: Pod, state: RuntimePod) -> None:
        """Stop every running container, then the sandbox (it is being replaced)."""
        running = [c for c in state.containers if c.running]
        await self.kill_many(pod, running, grace_period(pod))
        for sandbox in state.sandboxes:
            if sandbox.ready:
                await self.runtime.stop_sandbox(sandbox.id)

    async def finish(
        self, pod: Pod, running: list[ContainerInfo], sandboxes: list[SandboxInfo]
    ) -> None:
        """Stop what still runs of a pod that reached a terminal phase."""
        await self.kill_many(pod, running, grace_period(pod))
        for sandbox in sandboxes:
            await self.runtime.stop_sandbox(sandbox.id)

    async def remove(self, state: RuntimePod) -> None:
        """Stop the sandboxes still running, then remove every container and sandbox."""
        for sandbox in state.sandboxes:
            if sandbox.ready:
                await self.runtime.stop_sandbox(sandbox.id)
        for info in state.containers:
            await self.runtime.remove_container(info.id)
        for sandbox in state.sandboxes:
            await self.runtime.remove_container(sandbox.id)

    async def remove_orphan(self, state: RuntimePod) -> None:
        """Stop (with a short grace) and remove what is left of a pod no source has."""
        running = [c for c in state.containers if c.running]
        await asyncio.gather(*(self.runtime.stop_container(c.id, ORPHAN_GRACE) for c in running))
        await self.remove(state)

    async def gc_instances(self, state: RuntimePod) -> None:
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
