"""The DaemonSet controller: one pod on every eligible node, following nodes.

Watches DaemonSets, Nodes, Pods and ControllerRevisions. For one DaemonSet key,
``reconcile``:

1. records the current template as a ControllerRevision (``<name>-<hash>``, pods get
   ``controller-revision-hash: <hash>``), trimming history to ``revisionHistoryLimit``;
2. claims pods, maps them to nodes (``spec.nodeName``, or the node they are pinned to);
3. for each node decides, with the daemon tolerations Kubernetes adds (not-ready,
   unreachable, pressure, unschedulable), whether a pod should run there (node
   selector, required node affinity, NoSchedule/NoExecute taints) and may keep running;
   creates missing pods, deletes failed ones, extra ones, and pods on nodes that no
   longer qualify (or vanished before the pod was scheduled);
4. RollingUpdate: replaces pods of older revisions, at most ``maxUnavailable``
   unavailable at once (or, with ``maxSurge``, starts the new pod first and removes the
   old one once the new is available); OnDelete: new pods only where none is left;
5. writes status (desired/current/misscheduled/ready/updated/available/unavailable).

Placement: a daemon pod is created with required node affinity ``matchFields
metadata.name In [<node>]`` (as Kubernetes does since 1.12) and left for the scheduler
to bind; ``nodeName`` is not set directly.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from apiclient import NORMAL, WARNING, Informer, errors, object_key
from apitypes.apps import (
    CONTROLLER_REVISION_HASH_LABEL,
    ControllerRevision,
    DaemonSet,
    DaemonSetStatus,
)
from apitypes.core import Node, Pod, PodSpec
from apitypes.registry import by_model
from controllers import history, nodeutil
from controllers.base import Controller, ControllerContext
from controllers.claims import claim
from controllers.expectations import UIDTrackingExpectations
from controllers.replicaset import write_status
from controllers.util import (
    OWNED_INDEXERS,
    generate_name_prefix,
    int_or_percent,
    is_pod_available,
    namespace_terminating,
    owner_reference,
    pod_from_template,
    resolve_controller,
    selector_of,
    slow_start_batch,
)

log = logging.getLogger(__name__)

PODS = by_model(Pod)


def _created(pod: Pod) -> float:
    stamp = pod.metadata.creation_timestamp
    return stamp.timestamp() if stamp is not None else 0.0


class DaemonSetController(Controller):
    name = "daemonset-controller"
    service_account = "daemon-set-controller"
    aliases = ("daemonset",)
    workers_option = "concurrent_daemonset_syncs"

    def __init__(self, ctx: ControllerContext, workers: int = 2) -> None:
        super().__init__(ctx, workers)
        self.expectations = UIDTrackingExpectations(clock=ctx.clock.monotonic)
        self.sets: Informer[DaemonSet] = self.factory.informer(DaemonSet)
        self.pods: Informer[Pod] = self.factory.informer(Pod, indexers=OWNED_INDEXERS)
        self.nodes: Informer[Node] = self.factory.informer(Node)
        self.revisions: Informer[ControllerRevision] = self.factory.informer(
            ControllerRevision, indexers=OWNED_INDEXERS
        )
        self.sets.add_handler(self.enqueue, lambda _old, new: self.enqueue(new), self._set_deleted)
        self.nodes.add_handler(self._enqueue_all, self._node_updated, self._enqueue_all)
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)
        self.revisions.add_handler(self._revision_changed, None, self._revision_changed)

    # --- handlers ---------------------------------------------------------------------

    def _set_deleted(self, ds: DaemonSet) -> None:
        self.expectations.forget(object_key(ds))
        self.enqueue(ds)

    def _enqueue_all(self, _node: Any = None) -> None:
        for ds in self.sets.store.objects():
            self.enqueue(ds)

    def _node_updated(self, old: Node, new: Node) -> None:
        if (
            old.metadata.labels != new.metadata.labels
            or [t.to_dict() for t in old.taints()] != [t.to_dict() for t in new.taints()]
            or old.is_unschedulable() != new.is_unschedulable()
        ):
            self._enqueue_all()

    def _owner(self, obj: Any) -> DaemonSet | None:
        return resolve_controller(obj, "DaemonSet", self.sets.store)

    def _pod_added(self, pod: Pod) -> None:
        if pod.metadata.deletion_timestamp is not None:
            self._pod_deleted(pod)
            return
        ds = self._owner(pod)
        if ds is not None:
            self.expectations.creation_observed(object_key(ds))
            self.enqueue(ds)

    def _pod_updated(self, old: Pod, new: Pod) -> None:
        if old.metadata.resource_version == new.metadata.resource_version:
            return
        if new.metadata.deletion_timestamp is not None:
            self._pod_deleted(new)
            return
        ds = self._owner(new)
        if ds is not None:
            self.enqueue(ds)
            min_ready = (ds.spec.min_ready_seconds or 0) if ds.spec else 0
            if min_ready > 0 and new.is_ready() and not old.is_ready():
                self.enqueue_after(ds, min_ready + 1)

    def _pod_deleted(self, pod: Pod) -> None:
        ds = self._owner(pod)
        if ds is not None:
            self.expectations.deletion_observed_of(object_key(ds), object_key(pod))
            self.enqueue(ds)

    def _revision_changed(self, revision: ControllerRevision) -> None:
        ds = self._owner(revision)
        if ds is not None:
            self.enqueue(ds)

    # --- reconcile ----------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        ds = self.sets.store.get(key)
        if ds is None or ds.spec is None:
            self.expectations.forget(key)
            return None
        if ds.metadata.deletion_timestamp is not None:
            return None
        selector = selector_of(ds)
        if selector is None or selector.is_empty():
            return None
        ds = ds.model_copy(deep=True)
        assert ds.spec is not None
        revisions = await claim(self.client, self.revisions, ds, selector)
        try:
            current, _collision = await history.ensure_revision(
                self.client, ds, list(revisions), ds.spec.template,
                ds.status.collision_count if ds.status else None,
                hash_label=CONTROLLER_REVISION_HASH_LABEL,
            )  # fmt: skip
        except history.CollisionError as err:
            await self._write_collision(ds, err.collision_count)
            raise
        hash_value = current.metadata.labels.get(CONTROLLER_REVISION_HASH_LABEL, "")
        pods = await claim(self.client, self.pods, ds, selector)
        nodes = self.nodes.store.objects()
        spec = nodeutil.with_daemon_tolerations(ds.spec.template.spec or PodSpec())
        by_node = self._pods_by_node(pods)
        now = self.clock.now()
        delay: float | None = None
        if self.expectations.satisfied(key):
            await self._manage(key, ds, spec, nodes, by_node, hash_value, now)
            await self._truncate(ds, revisions, pods, hash_value)
        await self._update_status(ds, spec, nodes, by_node, hash_value, now)
        min_ready = ds.spec.min_ready_seconds or 0
        if min_ready > 0:
            delay = float(min_ready)
        return delay

    def _pods_by_node(self, pods: list[Pod]) -> dict[str, list[Pod]]:
        out: dict[str, list[Pod]] = {}
        for pod in pods:
            node = pod.node_name() or nodeutil.pinned_node(pod.spec)
            out.setdefault(node or "", []).append(pod)
        return out

    async def _manage(
        self, key: str, ds: DaemonSet, spec: PodSpec, nodes: list[Node],
        by_node: dict[str, list[Pod]], hash_value: str, now: datetime,
    ) -> None:  # fmt: skip
        create: list[str] = []
        delete: list[Pod] = []
        known = set()
        for node in nodes:
            name = node.metadata.name or ""
            known.add(name)
            should_run, may_continue = nodeutil.should_run(spec, node)
            pods = by_node.get(name, [])
            if should_run and not pods:
                create.append(name)
            elif may_continue and pods:
                live = [p for p in pods if p.metadata.deletion_timestamp is None]
                failed = [p for p in live if p.phase() == "Failed"]
                delete.extend(failed)
                running = sorted((p for p in live if p.phase() != "Failed"), key=_created)
                delete.extend(running[1:])
                if (
                    failed
                    and not running
                    and not [p for p in pods if p.metadata.deletion_timestamp]
                ):
                    self.recorder.event(
                        ds,
                        WARNING,
                        "FailedDaemonPod",
                        f"Found failed daemon pod on node {name}, will try to kill it",
                    )
            elif not may_continue:
                delete.extend(p for p in pods if p.metadata.deletion_timestamp is None)
        # Pods pinned to nodes that vanished before they were scheduled.
        for node_name, pods in by_node.items():
            if node_name not in known:
                delete.extend(
                    p
                    for p in pods
                    if p.node_name() is None and p.metadata.deletion_timestamp is None
                )
        if not create and not delete:
            create, delete = await self._rolling_plan(ds, spec, nodes, by_node, hash_value, now)
        await self._sync_nodes(key, ds, create, delete, hash_value)

    async def _rolling_plan(
        self, ds: DaemonSet, spec: PodSpec, nodes: list[Node],
        by_node: dict[str, list[Pod]], hash_value: str, now: datetime,
    ) -> tuple[list[str], list[Pod]]:  # fmt: skip
        """(nodes to start a new pod on, old pods to delete) for a RollingUpdate step."""
        assert ds.spec is not None
        strategy = ds.spec.update_strategy
        if strategy is not None and strategy.type == "OnDelete":
            return [], []
        rolling = strategy.rolling_update if strategy else None
        min_ready = ds.spec.min_ready_seconds or 0
        eligible = [n for n in nodes if nodeutil.should_run(spec, n)[0]]
        desired = len(eligible)
        max_unavailable = int_or_percent(
            rolling.max_unavailable if rolling else 1, desired, round_up=True
        )
        max_surge = int_or_percent(rolling.max_surge if rolling else 0, desired, round_up=True)
        if max_unavailable == 0 and max_surge == 0:
            max_unavailable = 1
        create: list[str] = []
        delete: list[Pod] = []
        if max_surge == 0:
            unavailable = 0
            candidates: list[Pod] = []
            for node in eligible:
                live = [
                    p
                    for p in by_node.get(node.metadata.name or "", [])
                    if p.metadata.deletion_timestamp is None
                ]
                if not live:
                    unavailable += 1
                    continue
                pod = live[0]
                if not is_pod_available(pod, min_ready, now):
                    unavailable += 1
                if pod.metadata.labels.get(CONTROLLER_REVISION_HASH_LABEL) != hash_value:
                    if is_pod_available(pod, min_ready, now):
                        candidates.append(pod)
                    else:
                        # An old pod that is not available costs nothing to replace.
                        delete.append(pod)
            for pod in candidates:
                if unavailable >= max_unavailable:
                    break
                delete.append(pod)
                unavailable += 1
            return create, delete
        surged = 0
        for node in eligible:
            live = [
                p
                for p in by_node.get(node.metadata.name or "", [])
                if p.metadata.deletion_timestamp is None
            ]
            new = [
                p
                for p in live
                if p.metadata.labels.get(CONTROLLER_REVISION_HASH_LABEL) == hash_value
            ]
            old = [p for p in live if p not in new]
            if not old:
                continue
            if not new:
                if surged < max_surge:
                    create.append(node.metadata.name or "")
                    surged += 1
            elif is_pod_available(new[0], min_ready, now):
                delete.extend(old)
            else:
                surged += 1
        return create, delete

    async def _sync_nodes(
        self, key: str, ds: DaemonSet, create: list[str], delete: list[Pod], hash_value: str
    ) -> None:
        assert ds.spec is not None
        namespace = ds.metadata.namespace or ""
        if create:
            self.expectations.expect_creations(key, len(create))
            owner = owner_reference(ds)
            attempted = 0

            async def make(i: int) -> None:
                nonlocal attempted
                attempted += 1
                pod = pod_from_template(
                    ds.spec.template if ds.spec else None,  # type: ignore[arg-type]
                    namespace, owner,
                    generate_name=generate_name_prefix(ds.metadata.name or ""),
                    extra_labels={CONTROLLER_REVISION_HASH_LABEL: hash_value},
                )  # fmt: skip
                pod.spec = nodeutil.with_daemon_tolerations(pod.spec or PodSpec())
                nodeutil.pin_to_node(pod.spec, create[i])
                try:
                    await self.client.create_raw(PODS, pod.to_dict(), namespace)
                except errors.ApiError:
                    self.expectations.creation_observed(key)
                    raise

            _, error = await slow_start_batch(len(create), 1, make)
            for _ in range(len(create) - attempted):
                self.expectations.creation_observed(key)
            if error is not None and not namespace_terminating(error):
                message = getattr(error, "message", str(error))
                self.recorder.event(ds, WARNING, "FailedCreate", f"Error creating: {message}")
                raise error
            self.recorder.event(
                ds, NORMAL, "SuccessfulCreate", f"Created {len(create)} daemon pods"
            )
        if delete:
            self.expectations.expect_deletions_of(key, [object_key(p) for p in delete])

            async def remove(pod: Pod) -> None:
                try:
                    await self.client.delete_raw(PODS, pod.metadata.name or "", namespace)
                except errors.ApiError:
                    self.expectations.deletion_observed_of(key, object_key(pod))
                else:
                    self.recorder.event(
                        ds, NORMAL, "SuccessfulDelete", f"Deleted pod: {pod.metadata.name}"
                    )

            await asyncio.gather(*(remove(pod) for pod in delete))

    async def _truncate(
        self, ds: DaemonSet, revisions: list[ControllerRevision], pods: list[Pod], hash_value: str
    ) -> None:
        assert ds.spec is not None
        limit = ds.spec.revision_history_limit if ds.spec.revision_history_limit is not None else 10
        live = {p.metadata.labels.get(CONTROLLER_REVISION_HASH_LABEL) for p in pods}
        live.add(hash_value)
        keep = {
            r.metadata.name or ""
            for r in revisions
            if r.metadata.labels.get(CONTROLLER_REVISION_HASH_LABEL) in live
        }
        if len(revisions) - len(keep) > limit:
            await history.truncate(self.client, revisions, keep, limit)

    async def _update_status(
        self, ds: DaemonSet, spec: PodSpec, nodes: list[Node],
        by_node: dict[str, list[Pod]], hash_value: str, now: datetime,
    ) -> None:  # fmt: skip
        assert ds.spec is not None
        min_ready = ds.spec.min_ready_seconds or 0
        desired = current = misscheduled = ready = updated = available = 0
        for node in nodes:
            should_run, _ = nodeutil.should_run(spec, node)
            pods = [
                p
                for p in by_node.get(node.metadata.name or "", [])
                if p.metadata.deletion_timestamp is None
            ]
            if should_run:
                desired += 1
                if pods:
                    current += 1
                    pod = sorted(pods, key=_created)[0]
                    if pod.is_ready():
                        ready += 1
                    if is_pod_available(pod, min_ready, now):
                        available += 1
                    if any(
                        p.metadata.labels.get(CONTROLLER_REVISION_HASH_LABEL) == hash_value
                        for p in pods
                    ):
                        updated += 1
            elif pods:
                misscheduled += 1
        status = DaemonSetStatus(
            current_number_scheduled=current,
            number_misscheduled=misscheduled,
            desired_number_scheduled=desired,
            number_ready=ready,
            observed_generation=ds.metadata.generation,
            updated_number_scheduled=updated,
            number_available=available,
            number_unavailable=desired - available,
            collision_count=ds.status.collision_count if ds.status else None,
        )
        if ds.status is not None and ds.status.to_dict() == status.to_dict():
            return
        await write_status(self.client, ds, status.to_dict())

    async def _write_collision(self, ds: DaemonSet, count: int) -> None:
        status = (ds.status or DaemonSetStatus(
            current_number_scheduled=0, number_misscheduled=0, desired_number_scheduled=0,
            number_ready=0,
        )).model_copy()  # fmt: skip
        status.collision_count = count
        await write_status(self.client, ds, status.to_dict())
