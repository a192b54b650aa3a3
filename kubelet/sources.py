"""Where kubelets learn about their pods, their Node and the Services: shared informers.

A single kubelet watches only its own pods (``fieldSelector=spec.nodeName=<node>``)
and its own Node (``metadata.name=<node>``). Hollow nodes share one process, one
client, one pod informer indexed by ``spec.nodeName``, one Node informer and one
Service informer: a thousand nodes cost three watches, not thousands, and each event is
routed to the kubelet it concerns. Services (every namespace) feed the containers'
Service variables.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from apiclient import Client, Informer, index_by_node_name
from apitypes.core import Node, Pod, Service


@dataclass
class PodHandler:
    on_pod: Callable[[Pod], None]
    on_pod_deleted: Callable[[Pod], None]


class PodSource:
    def __init__(self, client: Client, *, node: str | None = None) -> None:
        """``node``: watch only that node's pods; None: every bound pod, for many nodes."""
        self.informer: Informer[Pod] = Informer(
            client,
            Pod,
            # Unbound pods stay out: a pod shows up (ADDED) when it is bound, so a
            # process of many kubelets never decodes pods still waiting for the scheduler.
            field_selector=f"spec.nodeName={node}" if node else "spec.nodeName!=",
            indexers={"node": index_by_node_name},
        )
        self._handlers: dict[str, PodHandler] = {}
        self.informer.add_handler(self._added, self._updated, self._deleted)

    def subscribe(self, node: str, handler: PodHandler) -> None:
        """Route ``node``'s pods to ``handler``; it first gets every pod already cached."""
        self._handlers[node] = handler
        for pod in self.informer.store.by_index("node", node):
            handler.on_pod(pod)

    def unsubscribe(self, node: str) -> None:
        self._handlers.pop(node, None)

    def pods(self, node: str) -> list[Pod]:
        return self.informer.store.by_index("node", node)

    @property
    def synced(self) -> bool:
        return self.informer.synced.is_set()

    def _handler(self, pod: Pod) -> PodHandler | None:
        node = pod.node_name()
        return self._handlers.get(node) if node else None

    def _added(self, pod: Pod) -> None:
        handler = self._handler(pod)
        if handler is not None:
            handler.on_pod(pod)

    def _updated(self, _old: Pod, new: Pod) -> None:
        self._added(new)

    def _deleted(self, pod: Pod) -> None:
        handler = self._handler(pod)
        if handler is not None:
            handler.on_pod_deleted(pod)

    def start(self) -> None:
        self.informer.start()

    async def stop(self) -> None:
        await self.informer.stop()


@dataclass
class NodeHandler:
    on_node: Callable[[Node], None]
    on_node_deleted: Callable[[Node], None]


class NodeSource:
    """Routes Node events to the kubelet of that node (so a deleted Node is seen at once
    and registered again, and status patches start from the Node as it is)."""

    def __init__(self, client: Client, *, node: str | None = None) -> None:
        self.informer: Informer[Node] = Informer(
            client, Node, field_selector=f"metadata.name={node}" if node else None
        )
        self._handlers: dict[str, NodeHandler] = {}
        self.informer.add_handler(self._added, lambda _old, new: self._added(new), self._deleted)

    def subscribe(self, node: str, handler: NodeHandler) -> None:
        self._handlers[node] = handler

    def unsubscribe(self, node: str) -> None:
        self._handlers.pop(node, None)

    def _added(self, node: Node) -> None:
        handler = self._handlers.get(node.metadata.name or "")
        if handler is not None:
            handler.on_node(node)

    def _deleted(self, node: Node) -> None:
        handler = self._handlers.get(node.metadata.name or "")
        if handler is not None:
            handler.on_node_deleted(node)

    def start(self) -> None:
        self.informer.start()

    async def stop(self) -> None:
        await self.informer.stop()


class ServiceSource:
    """Every Service, for the variables a container gets about them (``envvars``)."""

    def __init__(self, client: Client) -> None:
        self.informer: Informer[Service] = Informer(client, Service)

    def services(self) -> list[Service] | None:
        """Every Service; None until the first list arrived (a container started then
        would miss variables it is owed, so the kubelet waits, as Kubernetes does)."""
        if not self.informer.synced.is_set():
            return None
        return self.informer.store.objects()

    async def synced_services(self, timeout: float = 10.0) -> list[Service] | None:
        """``services()``, first waiting up to ``timeout`` seconds for the first list
        (a kubelet that just started gets it in milliseconds)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.informer.synced.wait(), timeout)
        return self.services()

    def start(self) -> None:
        self.informer.start()

    async def stop(self) -> None:
        await self.informer.stop()
