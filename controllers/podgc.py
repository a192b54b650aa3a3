"""The pod garbage collector: remove pods nothing else will.

Every ``pod_gc_period`` (20 s) it force-deletes (grace 0):

- the oldest finished (Succeeded or Failed) pods beyond ``--terminated-pod-gc-threshold``;
- orphaned pods: bound to a node that does not exist (checked with a live GET after
  the node has been missing from the cache for ``orphan_pod_quarantine``);
- terminating pods that were never scheduled (no kubelet will finish them);
- terminating pods on a node that is not Ready and carries the
  ``node.kubernetes.io/out-of-service`` taint.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from apiclient import Informer, errors
from apitypes.core import Node, Pod
from apitypes.registry import by_model
from controllers.base import Controller, ControllerContext
from controllers.util import NODE_INDEX, index_node_name

log = logging.getLogger(__name__)

PODS = by_model(Pod)
NODES = by_model(Node)
OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"


class PodGCController(Controller):
    name = "pod-garbage-collector-controller"
    service_account = "pod-garbage-collector"
    aliases = ("podgc",)

    def __init__(self, ctx: ControllerContext, workers: int = 1) -> None:
        super().__init__(ctx, workers)
        self.pods: Informer[Pod] = self.factory.informer(
            Pod, indexers={NODE_INDEX: index_node_name}
        )
        self.nodes: Informer[Node] = self.factory.informer(Node)
        self._missing_since: dict[str, float] = {}

    def loops(self) -> list[Coroutine[Any, Any, None]]:
        return [self.every(self.options.pod_gc_period, self.collect)]

    async def reconcile(self, key: str) -> float | None:
        return None

    async def collect(self) -> float | None:
        """One pass over every rule; returns None (keep the period)."""
        await self._terminated()
        await self._orphaned()
        await self._unscheduled_terminating()
        await self._out_of_service()
        return None

    async def _force_delete(self, pods: list[Pod], why: str) -> None:
        async def one(pod: Pod) -> None:
            try:
                await self.client.delete_raw(
                    PODS, pod.metadata.name or "", pod.metadata.namespace,
                    grace_period_seconds=0, preconditions={"uid": pod.metadata.uid or ""},
                )  # fmt: skip
                log.info("deleted pod %s/%s: %s", pod.metadata.namespace, pod.metadata.name, why)
            except (errors.NotFoundError, errors.ConflictError):
                pass
            except errors.ApiError as err:
                log.info(
                    "could not delete pod %s/%s: %s",
                    pod.metadata.namespace,
                    pod.metadata.name,
                    err.message,
                )

        for start in range(0, len(pods), 100):
            await asyncio.gather(*(one(pod) for pod in pods[start : start + 100]))

    async def _terminated(self) -> None:
        threshold = self.options.terminated_pod_gc_threshold
        if threshold <= 0:
            return
        finished = [p for p in self.pods.store.objects() if p.is_terminal()]
        extra = len(finished) - threshold
        if extra <= 0:
            return
        finished.sort(
            key=lambda p: (
                p.metadata.creation_timestamp.timestamp() if p.metadata.creation_timestamp else 0.0
            )
        )
        await self._force_delete(finished[:extra], "terminated pods above the threshold")

    async def _orphaned(self) -> None:
        known = {node.metadata.name for node in self.nodes.store.objects()}
        now = self.clock.monotonic()
        quarantine = self.options.orphan_pod_quarantine
        orphans: list[Pod] = []
        for node_name in self.pods.store.index_values(NODE_INDEX):
            if not node_name or node_name in known:
                self._missing_since.pop(node_name, None)
                continue
            since = self._missing_since.setdefault(node_name, now)
            if now - since < quarantine:
                continue
            try:
                await self.client.get_raw(NODES, node_name)
                continue
            except errors.NotFoundError:
                pass
            orphans.extend(self.pods.store.by_index(NODE_INDEX, node_name))
        for gone in [
            n for n in self._missing_since if n not in self.pods.store.index_values(NODE_INDEX)
        ]:
            self._missing_since.pop(gone, None)
        if orphans:
            await self._force_delete(orphans, "bound to a node that no longer exists")

    async def _unscheduled_terminating(self) -> None:
        pods = [
            pod
            for pod in self.pods.store.by_index(NODE_INDEX, "")
            if pod.metadata.deletion_timestamp is not None
        ]
        if pods:
            await self._force_delete(pods, "terminating and never scheduled")

    async def _out_of_service(self) -> None:
        pods: list[Pod] = []
        for node in self.nodes.store.objects():
            if node.is_ready() or not any(t.key == OUT_OF_SERVICE for t in node.taints()):
                continue
            pods.extend(
                pod
                for pod in self.pods.store.by_index(NODE_INDEX, node.metadata.name or "")
                if pod.metadata.deletion_timestamp is not None
            )
        if pods:
            await self._force_delete(pods, "terminating on an out-of-service node")
