"""The pod network as the kubelet sees it: the Node's podCIDR goes to the runtime.

Kubernetes' kubelet hands its Node's ``spec.podCIDR`` to the container runtime (CRI
``UpdateRuntimeConfig``), and until the runtime says its network is ready the Node is
not Ready and pods that need a network are not started. Here the runtime makes the
node's pod bridge for the podCIDR (``DockerRuntime.update_pod_cidr``); ``PodNetwork``
passes the podCIDR on whenever the Node shows it (and at start, so that a restarted
kubelet does not report NotReady first), says why the network is not ready, and calls
``on_ready`` once it becomes ready (waiting pods are synced, the Node's status sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from apiclient import Client, errors
from apitypes.core import Node
from kubelet.runtime import Runtime, RuntimeUnavailableError

log = logging.getLogger(__name__)

NETWORK_NOT_READY = (
    "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message"
)
"""Kubernetes' words for a runtime whose pod network is not there."""


class PodNetwork:
    def __init__(
        self, runtime: Runtime, node_name: str, *, on_ready: Callable[[], Awaitable[None]]
    ) -> None:
        self.runtime = runtime
        self.node_name = node_name
        self.on_ready = on_ready
        self.update: asyncio.Task[None] | None = None

    def status(self) -> tuple[bool, str]:
        """(ready, why not in Kubernetes' words)."""
        ready, why = self.runtime.network_status()
        return (True, "") if ready else (False, f"{NETWORK_NOT_READY}:{why}")

    def on_node(self, node: Node) -> None:
        """Our Node as it is now: a podCIDR goes to the runtime (one update at a time;
        the next Node event retries a failed one)."""
        cidrs = node.pod_cidrs()
        busy = self.update is not None and not self.update.done()
        if cidrs and node.metadata.name == self.node_name and not busy:
            self.update = asyncio.get_running_loop().create_task(self._update(cidrs[0]))

    async def adopt(self, client: Client) -> None:
        """At start: the Node's podCIDR, if it has one already, before the first status."""
        if self.runtime.simulated:
            return
        try:
            node = await client.get(Node, self.node_name)
        except errors.ApiError:
            return  # not registered yet, or no apiserver yet: the Node watch will tell
        cidrs = node.pod_cidrs()
        if cidrs:
            with contextlib.suppress(RuntimeUnavailableError):
                await self.runtime.update_pod_cidr(cidrs[0])

    async def _update(self, cidr: str) -> None:
        was_ready = self.runtime.network_status()[0]
        try:
            await self.runtime.update_pod_cidr(cidr)
        except RuntimeUnavailableError as err:
            log.info("pod network for %s not made yet: %s", cidr, err)
            return
        if self.runtime.network_status()[0] and not was_ready:
            await self.on_ready()

    def stop(self) -> None:
        if self.update is not None:
            self.update.cancel()
