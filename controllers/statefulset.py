"""The StatefulSet controller: pods with stable names, started and stopped in order.

Watches StatefulSets, Pods and ControllerRevisions. For one StatefulSet key,
``reconcile``:

1. records the template as a ControllerRevision (the *update revision*); the *current
   revision* is the one ``status.currentRevision`` names (the update revision at first);
2. claims pods; pod ``<set>-<i>`` is replica ``i`` for ``i`` in
   ``[start, start + replicas)``; others are condemned;
3. replicas, lowest ordinal first: replaces failed pods, creates missing ones (ordinals
   below ``partition`` from the current revision, the rest from the update revision),
   each with ``hostname`` = its name, ``subdomain`` = ``serviceName`` and the labels
   ``statefulset.kubernetes.io/pod-name``, ``apps.kubernetes.io/pod-index`` and
   ``controller-revision-hash``. With ``OrderedReady`` it stops at the first pod that is
   missing, terminating, or not Running and Ready: pod ``i+1`` starts only after ``i``
   is ready. ``Parallel`` does not wait;
4. condemned pods, highest ordinal first (``OrderedReady``: one at a time, once all
   replicas are healthy);
5. RollingUpdate: once all replicas are healthy, deletes the highest-ordinal pod at or
   above ``partition`` not on the update revision, one at a time (step 3 recreates it
   from the update revision); OnDelete: only pods deleted by someone else are renewed;
6. writes status; when every replica is updated and ready the update revision becomes
   the current one. Revisions beyond ``revisionHistoryLimit`` that no pod uses go.

``volumeClaimTemplates`` are not acted on: navarch serves no PersistentVolumeClaims yet.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from apiclient import NORMAL, WARNING, Informer, errors, object_key
from apitypes.apps import (
    CONTROLLER_REVISION_HASH_LABEL,
    POD_INDEX_LABEL,
    STATEFULSET_POD_NAME_LABEL,
    ControllerRevision,
    StatefulSet,
    StatefulSetStatus,
)
from apitypes.core import Pod, PodTemplateSpec
from apitypes.registry import by_model
from controllers import history
from controllers.base import Controller, ControllerContext
from controllers.claims import claim
from controllers.expectations import UIDTrackingExpectations
from controllers.replicaset import write_status
from controllers.util import (
    OWNED_INDEXERS,
    is_pod_available,
    namespace_terminating,
    owner_reference,
    pod_from_template,
    resolve_controller,
    selector_of,
)

log = logging.getLogger(__name__)

PODS = by_model(Pod)
HASH_LABEL = "controller.kubernetes.io/hash"


def ordinal_of(set_name: str, pod: Pod) -> int | None:
    name = pod.metadata.name or ""
    prefix, _, number = name.rpartition("-")
    if prefix != set_name or not number.isdigit():
        return None
    return int(number)


def running_and_ready(pod: Pod) -> bool:
    return pod.phase() == "Running" and pod.is_ready() and pod.metadata.deletion_timestamp is None


class StatefulSetController(Controller):
    name = "statefulset-controller"
    service_account = "statefulset-controller"
    aliases = ("statefulset",)
    workers_option = "concurrent_statefulset_syncs"

    def __init__(self, ctx: ControllerContext, workers: int = 5) -> None:
        super().__init__(ctx, workers)
        self.expectations = UIDTrackingExpectations(clock=ctx.clock.monotonic)
        self.sets: Informer[StatefulSet] = self.factory.informer(StatefulSet)
        self.pods: Informer[Pod] = self.factory.informer(Pod, indexers=OWNED_INDEXERS)
        self.revisions: Informer[ControllerRevision] = self.factory.informer(
            ControllerRevision, indexers=OWNED_INDEXERS
        )
        self.sets.add_handler(self.enqueue, lambda _old, new: self.enqueue(new), self._set_deleted)
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)
        self.revisions.add_handler(self._owned_changed, None, self._owned_changed)

    # --- handlers ---------------------------------------------------------------------

    def _set_deleted(self, sts: StatefulSet) -> None:
        self.expectations.forget(object_key(sts))

    def _owner(self, obj: Pod | ControllerRevision) -> StatefulSet | None:
        return resolve_controller(obj, "StatefulSet", self.sets.store)

    def _owned_changed(self, obj: ControllerRevision) -> None:
        sts = self._owner(obj)
        if sts is not None:
            self.enqueue(sts)

    def _pod_added(self, pod: Pod) -> None:
        sts = self._owner(pod)
        if sts is None:
            return
        if pod.metadata.deletion_timestamp is not None:
            self._pod_deleted(pod)
            return
        self.expectations.creation_observed(object_key(sts))
        self.enqueue(sts)

    def _pod_updated(self, old: Pod, new: Pod) -> None:
        if old.metadata.resource_version == new.metadata.resource_version:
            return
        sts = self._owner(new)
        if sts is None:
            return
        if new.metadata.deletion_timestamp is not None:
            self.expectations.deletion_observed_of(object_key(sts), object_key(new))
        self.enqueue(sts)
        min_ready = (sts.spec.min_ready_seconds or 0) if sts.spec else 0
        if min_ready > 0 and new.is_ready() and not old.is_ready():
            self.enqueue_after(sts, min_ready + 1)

    def _pod_deleted(self, pod: Pod) -> None:
        sts = self._owner(pod)
        if sts is not None:
            self.expectations.deletion_observed_of(object_key(sts), object_key(pod))
            self.enqueue(sts)

    # --- reconcile ----------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        sts = self.sets.store.get(key)
        if sts is None or sts.spec is None:
            self.expectations.forget(key)
            return None
        if sts.metadata.deletion_timestamp is not None:
            return None
        selector = selector_of(sts)
        if selector is None or selector.is_empty():
            return None
        sts = sts.model_copy(deep=True)
        assert sts.spec is not None
        revisions = await claim(self.client, self.revisions, sts, selector)
        collision = sts.status.collision_count if sts.status else None
        try:
            update_rev, collision = await history.ensure_revision(
                self.client, sts, list(revisions), sts.spec.template, collision,
                hash_label=HASH_LABEL,
            )  # fmt: skip
        except history.CollisionError as err:
            status = (sts.status or StatefulSetStatus(replicas=0)).model_copy()
            status.collision_count = err.collision_count
            await write_status(self.client, sts, status.to_dict())
            raise
        by_name = {r.metadata.name: r for r in revisions}
        by_name[update_rev.metadata.name] = update_rev
        current_name = sts.status.current_revision if sts.status else None
        current_rev = by_name.get(current_name) if current_name else None
        if current_rev is None:
            current_rev = update_rev
        pods = await claim(self.client, self.pods, sts, selector)
        if self.expectations.satisfied(key):
            await self._sync_pods(key, sts, pods, current_rev, update_rev)
        await self._update_status(sts, pods, current_rev, update_rev, collision)
        keep = {current_rev.metadata.name or "", update_rev.metadata.name or ""}
        keep |= {p.metadata.labels.get(CONTROLLER_REVISION_HASH_LABEL, "") for p in pods}
        limit = (
            sts.spec.revision_history_limit if sts.spec.revision_history_limit is not None else 10
        )
        if len(by_name) - len(keep & set(by_name)) > limit:
            await history.truncate(self.client, list(by_name.values()), keep, limit)
        min_ready = sts.spec.min_ready_seconds or 0
        return float(min_ready) if min_ready > 0 else None

    def _template_for(
        self,
        sts: StatefulSet,
        ordinal: int,
        current: ControllerRevision,
        update: ControllerRevision,
    ) -> tuple[PodTemplateSpec, ControllerRevision]:
        assert sts.spec is not None
        strategy = sts.spec.update_strategy
        start = sts.spec.ordinals.start or 0 if sts.spec.ordinals else 0
        use_current = False
        if strategy is None or strategy.type in (None, "RollingUpdate"):
            rolling = strategy.rolling_update if strategy else None
            if rolling is not None and rolling.partition is not None:
                use_current = ordinal < start + rolling.partition
            elif rolling is None:
                current_replicas = (sts.status.current_replicas or 0) if sts.status else 0
                use_current = ordinal < start + current_replicas
        revision = current if use_current else update
        template = history.template_of(revision) or sts.spec.template
        return template, revision

    def _new_pod(
        self,
        sts: StatefulSet,
        ordinal: int,
        current: ControllerRevision,
        update: ControllerRevision,
    ) -> Pod:
        template, revision = self._template_for(sts, ordinal, current, update)
        name = f"{sts.metadata.name}-{ordinal}"
        pod = pod_from_template(
            template, sts.metadata.namespace or "", owner_reference(sts), name=name,
            extra_labels={
                STATEFULSET_POD_NAME_LABEL: name,
                POD_INDEX_LABEL: str(ordinal),
                CONTROLLER_REVISION_HASH_LABEL: revision.metadata.name or "",
            },
        )  # fmt: skip
        if pod.spec is not None:
            pod.spec.hostname = name
            if sts.spec is not None and sts.spec.service_name:
                pod.spec.subdomain = sts.spec.service_name
        return pod

    async def _create(self, key: str, sts: StatefulSet, pod: Pod) -> None:
        self.expectations.raise_expectations(key, add=1)
        try:
            await self.client.create_raw(PODS, pod.to_dict(), pod.metadata.namespace)
        except errors.AlreadyExistsError:
            self.expectations.creation_observed(key)
            return
        except errors.ApiError as err:
            self.expectations.creation_observed(key)
            if namespace_terminating(err):
                return
            self.recorder.event(
                sts, WARNING, "FailedCreate",
                f"create Pod {pod.metadata.name} in StatefulSet {sts.metadata.name} failed error: {err.message}",
            )  # fmt: skip
            raise
        self.recorder.event(
            sts, NORMAL, "SuccessfulCreate",
            f"create Pod {pod.metadata.name} in StatefulSet {sts.metadata.name} successful",
        )  # fmt: skip

    async def _delete(self, key: str, sts: StatefulSet, pod: Pod) -> None:
        self.expectations.expect_deletions_of(key, [object_key(pod)])
        try:
            await self.client.delete_raw(
                PODS, pod.metadata.name or "", pod.metadata.namespace,
                preconditions={"uid": pod.metadata.uid or ""},
            )  # fmt: skip
        except (errors.NotFoundError, errors.ConflictError):
            self.expectations.deletion_observed_of(key, object_key(pod))
            return
        except errors.ApiError:
            self.expectations.deletion_observed_of(key, object_key(pod))
            raise
        self.recorder.event(
            sts, NORMAL, "SuccessfulDelete",
            f"delete Pod {pod.metadata.name} in StatefulSet {sts.metadata.name} successful",
        )  # fmt: skip

    async def _sync_pods(
        self, key: str, sts: StatefulSet, pods: list[Pod],
        current: ControllerRevision, update: ControllerRevision,
    ) -> None:  # fmt: skip
        assert sts.spec is not None
        set_name = sts.metadata.name or ""
        start = (sts.spec.ordinals.start or 0) if sts.spec.ordinals else 0
        replicas = sts.spec.replicas if sts.spec.replicas is not None else 1
        ordered = sts.spec.pod_management_policy != "Parallel"
        by_ordinal: dict[int, Pod] = {}
        condemned: list[Pod] = []
        for pod in pods:
            ordinal = ordinal_of(set_name, pod)
            if ordinal is None:
                continue
            if start <= ordinal < start + replicas:
                by_ordinal[ordinal] = pod
            else:
                condemned.append(pod)
        condemned.sort(key=lambda p: ordinal_of(set_name, p) or 0, reverse=True)

        # Replicas, lowest ordinal first.
        creates: list[Pod] = []
        for ordinal in range(start, start + replicas):
            member = by_ordinal.get(ordinal)
            if member is None:
                fresh_pod = self._new_pod(sts, ordinal, current, update)
                if ordered:
                    await self._create(key, sts, fresh_pod)
                    return
                creates.append(fresh_pod)
                continue
            if member.phase() == "Failed" and member.metadata.deletion_timestamp is None:
                await self._delete(key, sts, member)
                if ordered:
                    return
                continue
            if member.metadata.deletion_timestamp is not None and ordered:
                return
            if not running_and_ready(member) and ordered:
                return
        if creates:
            await asyncio.gather(*(self._create(key, sts, p) for p in creates))
            return

        # Condemned pods, highest ordinal first.
        if condemned:
            if ordered:
                if any(not running_and_ready(p) for p in by_ordinal.values()):
                    return
                if any(p.metadata.deletion_timestamp is not None for p in condemned):
                    return
                await self._delete(key, sts, condemned[0])
                return
            await asyncio.gather(
                *(
                    self._delete(key, sts, p)
                    for p in condemned
                    if p.metadata.deletion_timestamp is None
                )
            )
            return

        # Rolling update, highest ordinal first, one pod at a time.
        strategy = sts.spec.update_strategy
        if strategy is not None and strategy.type == "OnDelete":
            return
        if any(not running_and_ready(p) for p in by_ordinal.values()):
            return
        partition = 0
        if strategy is not None and strategy.rolling_update is not None:
            partition = strategy.rolling_update.partition or 0
        for ordinal in range(start + replicas - 1, start + partition - 1, -1):
            target = by_ordinal.get(ordinal)
            if target is None:
                return
            if target.metadata.labels.get(CONTROLLER_REVISION_HASH_LABEL) != update.metadata.name:
                await self._delete(key, sts, target)
                return

    async def _update_status(
        self, sts: StatefulSet, pods: list[Pod],
        current: ControllerRevision, update: ControllerRevision, collision: int | None,
    ) -> None:  # fmt: skip
        assert sts.spec is not None
        now: datetime = self.clock.now()
        min_ready = sts.spec.min_ready_seconds or 0
        set_name = sts.metadata.name or ""
        members = [p for p in pods if ordinal_of(set_name, p) is not None]
        replicas = len(members)
        ready = sum(1 for p in members if running_and_ready(p))
        available = sum(
            1 for p in members if running_and_ready(p) and is_pod_available(p, min_ready, now)
        )
        live = [p for p in members if p.metadata.deletion_timestamp is None]
        current_name, update_name = current.metadata.name, update.metadata.name
        current_count = sum(
            1 for p in live if p.metadata.labels.get(CONTROLLER_REVISION_HASH_LABEL) == current_name
        )
        updated = sum(
            1 for p in live if p.metadata.labels.get(CONTROLLER_REVISION_HASH_LABEL) == update_name
        )
        status = StatefulSetStatus(
            observed_generation=sts.metadata.generation,
            replicas=replicas,
            ready_replicas=ready,
            available_replicas=available,
            current_replicas=current_count,
            updated_replicas=updated,
            current_revision=current_name,
            update_revision=update_name,
            collision_count=collision,
        )
        strategy = sts.spec.update_strategy
        rolling = strategy is None or strategy.type in (None, "RollingUpdate")
        wanted = sts.spec.replicas if sts.spec.replicas is not None else 1
        if rolling and updated == replicas == wanted and ready == replicas:
            status.current_replicas = updated
            status.current_revision = update_name
        if strategy is not None and strategy.type == "OnDelete" and updated == replicas == wanted:
            status.current_replicas = updated
            status.current_revision = update_name
        if sts.status is not None and sts.status.to_dict() == status.to_dict():
            return
        await write_status(self.client, sts, status.to_dict())
