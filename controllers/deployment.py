"""The Deployment controller: roll a pod template out through ReplicaSets.

Watches Deployments, ReplicaSets and Pods (deletions, and pods going terminating).
For one Deployment key, ``reconcile``:

1. claims the ReplicaSets its selector matches (adopt orphans, release strays);
2. keeps the Progressing condition in step with ``spec.paused``;
3. paused, or resized mid-rollout: resizes the ReplicaSets proportionally and cleans
   up history, nothing more;
4. RollingUpdate: creates the new ReplicaSet (named ``<deployment>-<hash of the
   template>``, revision = highest old + 1), grows it while all pods stay within
   ``replicas + maxSurge``, shrinks the old ones while at least ``replicas -
   maxUnavailable`` stay available; Recreate: shrinks every old ReplicaSet to zero,
   waits for their pods to be gone, then grows the new one;
5. deletes old empty ReplicaSets beyond ``revisionHistoryLimit``;
6. writes status: the counts ``kubectl rollout status`` reads, the Available
   condition, and Progressing (with ``progressDeadlineSeconds``), and asks to be
   looked at again when the deadline would pass.

A rollback (``kubectl rollout undo``) is nothing special here: kubectl copies an old
ReplicaSet's template into the Deployment, that ReplicaSet becomes the new one again
and gets the next revision number.
"""

from __future__ import annotations

import contextlib
import logging

from apiclient import NORMAL, WARNING, Informer, errors
from apitypes.apps import (
    POD_TEMPLATE_HASH_LABEL,
    Deployment,
    DeploymentStatus,
    ReplicaSet,
    ReplicaSetSpec,
)
from apitypes.core import Pod
from apitypes.meta import LabelSelector, ObjectMeta
from apitypes.registry import by_model
from controllers import deployment_util as du
from controllers.base import Controller, ControllerContext
from controllers.claims import claim, matching_owners
from controllers.util import (
    CONTROLLER_UID_INDEX,
    OWNED_INDEXERS,
    controller_of,
    is_controlled_by,
    is_pod_active,
    namespace_terminating,
    owner_reference,
    resolve_controller,
    selector_of,
)

log = logging.getLogger(__name__)

REPLICA_SETS = by_model(ReplicaSet)
DEPLOYMENTS = by_model(Deployment)
# Hash collisions resolved within one pass before giving up (each bumps collisionCount).
_MAX_COLLISIONS = 5


class DeploymentController(Controller):
    name = "deployment-controller"
    service_account = "deployment-controller"
    aliases = ("deployment",)
    workers_option = "concurrent_deployment_syncs"

    def __init__(self, ctx: ControllerContext, workers: int = 5) -> None:
        super().__init__(ctx, workers)
        self.deployments: Informer[Deployment] = self.factory.informer(Deployment)
        self.sets: Informer[ReplicaSet] = self.factory.informer(ReplicaSet, indexers=OWNED_INDEXERS)
        self.pods: Informer[Pod] = self.factory.informer(Pod, indexers=OWNED_INDEXERS)
        self.deployments.add_handler(
            self.enqueue, lambda _old, new: self.enqueue(new), self.enqueue
        )
        self.sets.add_handler(self._set_added, self._set_updated, self._set_deleted)
        self.pods.add_handler(None, self._pod_updated, self._pod_deleted)

    # --- handlers -----------------------------------------------------------------------

    def _owner_of_set(self, rs: ReplicaSet) -> Deployment | None:
        return resolve_controller(rs, "Deployment", self.deployments.store)

    def _enqueue_matching(self, rs: ReplicaSet) -> None:
        candidates = self.deployments.store.by_index("namespace", rs.metadata.namespace or "")
        for d in matching_owners(candidates, rs.metadata.labels, selector_of):
            self.enqueue(d)

    def _set_added(self, rs: ReplicaSet) -> None:
        d = self._owner_of_set(rs)
        if d is not None:
            self.enqueue(d)
        elif controller_of(rs) is None:
            self._enqueue_matching(rs)

    def _set_updated(self, old: ReplicaSet, new: ReplicaSet) -> None:
        if old.metadata.resource_version == new.metadata.resource_version:
            return
        old_ref, new_ref = controller_of(old), controller_of(new)
        if old_ref is not None and (new_ref is None or new_ref.uid != old_ref.uid):
            previous = self._owner_of_set(old)
            if previous is not None:
                self.enqueue(previous)
        d = self._owner_of_set(new)
        if d is not None:
            self.enqueue(d)
        elif new_ref is None and (old.metadata.labels != new.metadata.labels or old_ref):
            self._enqueue_matching(new)

    def _set_deleted(self, rs: ReplicaSet) -> None:
        d = self._owner_of_set(rs)
        if d is not None:
            self.enqueue(d)

    def _deployment_of_pod(self, pod: Pod) -> Deployment | None:
        ref = controller_of(pod)
        if ref is None or ref.kind != "ReplicaSet":
            return None
        rs = self.sets.store.get_by_name(pod.metadata.namespace, ref.name)
        if rs is None or rs.metadata.uid != ref.uid:
            return None
        return self._owner_of_set(rs)

    def _pod_updated(self, old: Pod, new: Pod) -> None:
        # A pod going away frees room under maxSurge (RollingUpdate) or lets Recreate go on.
        if old.metadata.deletion_timestamp is None and new.metadata.deletion_timestamp is not None:
            d = self._deployment_of_pod(new)
            if d is not None:
                self.enqueue(d)

    def _pod_deleted(self, pod: Pod) -> None:
        d = self._deployment_of_pod(pod)
        if d is not None:
            self.enqueue(d)

    # --- reconcile ------------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        try:
            return await self._reconcile(key)
        except errors.NotFoundError as err:
            # Something this pass read or wrote went away meanwhile: the Deployment
            # deleted, or a ReplicaSet collected. Its deletion event brings the
            # Deployment back here if it still exists, so this is no failure.
            log.debug("%s: %s; looking again on the next event", key, err.message)
            return None

    async def _reconcile(self, key: str) -> float | None:
        cached = self.deployments.store.get(key)
        if cached is None or cached.spec is None:
            return None
        d: Deployment = self.fresh(cached).model_copy(deep=True)
        selector = selector_of(d)
        if selector is None or selector.is_empty():
            self.recorder.event(
                d, WARNING, "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.",
            )  # fmt: skip
            return None
        claimed = await claim(self.client, self.sets, d, selector)
        rss = [self.fresh(rs).model_copy(deep=True) for rs in claimed]
        if d.metadata.deletion_timestamp is not None:
            new_rs, olds, d = await self._get_all(d, rss, create=False)
            await self._sync_status(d, [*olds, *([new_rs] if new_rs else [])], new_rs)
            return None
        d = await self._check_paused_conditions(d)
        if d.spec is not None and d.spec.paused:
            return await self._sync(d, rss)
        if self._is_scaling_event(d, rss):
            return await self._sync(d, rss)
        if du.is_rolling(d):
            return await self._rollout_rolling(d, rss)
        return await self._rollout_recreate(d, rss)

    # --- ReplicaSets ----------------------------------------------------------------------

    async def _get_all(
        self, d: Deployment, rss: list[ReplicaSet], *, create: bool
    ) -> tuple[ReplicaSet | None, list[ReplicaSet], Deployment]:
        """(new ReplicaSet, old ones, Deployment) with revisions brought up to date."""
        new_rs = du.find_new_rs(d, rss)
        _, olds = du.find_old_rss(rss, new_rs)
        new_revision = du.max_revision(olds) + 1
        now = self.clock.now()
        assert d.spec is not None
        if new_rs is not None:
            changed = du.set_new_rs_annotations(d, new_rs, new_revision, exists=True)
            min_ready = d.spec.min_ready_seconds
            if changed or (new_rs.spec and new_rs.spec.min_ready_seconds != min_ready):
                assert new_rs.spec is not None
                new_rs.spec.min_ready_seconds = min_ready
                new_rs = await self._update_rs(new_rs)
            needs_update = du.set_deployment_revision(
                d, new_rs.metadata.annotations.get(du.REVISION, str(new_revision))
            )
            if du.has_progress_deadline(d) and du.get_condition(d.status, du.PROGRESSING) is None:
                status = d.status or DeploymentStatus()
                du.set_condition(
                    status,
                    du.new_condition(
                        du.PROGRESSING, "True", du.FOUND_NEW_RS,
                        f'Found new replica set "{new_rs.metadata.name}"', now,
                    ),
                )  # fmt: skip
                d.status = status
                needs_update = True
            if needs_update:
                d = await self._update_status(d)
            return new_rs, olds, d
        if not create:
            return None, olds, d
        created = await self._create_new_rs(d, olds, new_revision)
        if created is None:
            return None, olds, d
        new_rs, d = created
        return new_rs, olds, d

    async def _create_new_rs(
        self, d: Deployment, olds: list[ReplicaSet], new_revision: int
    ) -> tuple[ReplicaSet, Deployment] | None:
        """Create the ReplicaSet of ``d``'s template, named ``<name>-<hash>``.

        The hash covers the template and ``status.collisionCount``: when the name is
        taken by a ReplicaSet that is not ours (an old one of a deleted namesake, still
        being deleted), the count goes up, which gives another hash, and the create is
        tried again, as Kubernetes does, within this pass.
        """
        assert d.spec is not None
        namespace = d.metadata.namespace or ""
        for _ in range(_MAX_COLLISIONS):
            rs = self._new_rs(d, olds, new_revision)
            try:
                raw = await self.client.create_raw(REPLICA_SETS, rs.to_dict(), namespace)
            except errors.AlreadyExistsError:
                existing = await self._existing_rs(namespace, rs.metadata.name or "")
                if (
                    existing is not None
                    and is_controlled_by(existing, d)
                    and existing.spec is not None
                    and du.equal_ignore_hash(existing.spec.template, d.spec.template)
                ):
                    # Our own creation, not yet in the cache.
                    return existing, d
                status = d.status or DeploymentStatus()
                status.collision_count = (status.collision_count or 0) + 1
                d.status = status
                d = await self._update_status(d)
                log.info(
                    "%s/%s: ReplicaSet %s is taken: collisionCount now %d",
                    namespace, d.metadata.name, rs.metadata.name, status.collision_count,
                )  # fmt: skip
                continue
            except errors.ApiError as err:
                if namespace_terminating(err):
                    return None
                await self._report_create_failure(d, rs, err)
                raise
            return await self._created(d, ReplicaSet.model_validate(raw), new_revision)
        raise errors.AlreadyExistsError(
            {"message": f"{_MAX_COLLISIONS} hash collisions in a row for {d.metadata.name}"}
        )

    def _new_rs(self, d: Deployment, olds: list[ReplicaSet], new_revision: int) -> ReplicaSet:
        """The new ReplicaSet of ``d``, hashed with its current ``collisionCount``."""
        assert d.spec is not None
        collision = d.status.collision_count if d.status else None
        template_hash = du.pod_template_hash(d.spec.template, collision)
        template = d.spec.template.model_copy(deep=True)
        template.metadata.labels[POD_TEMPLATE_HASH_LABEL] = template_hash
        selector = (d.spec.selector or LabelSelector()).model_copy(deep=True)
        selector.match_labels[POD_TEMPLATE_HASH_LABEL] = template_hash
        rs = ReplicaSet(
            metadata=ObjectMeta(
                name=f"{d.metadata.name}-{template_hash}",
                namespace=d.metadata.namespace or "",
                labels=dict(template.metadata.labels),
                owner_references=[owner_reference(d)],
            ),
            spec=ReplicaSetSpec(
                replicas=0,
                min_ready_seconds=d.spec.min_ready_seconds,
                selector=selector,
                template=template,
            ),
        )
        assert rs.spec is not None
        rs.spec.replicas = du.new_rs_new_replicas(d, [*olds, rs], rs, self._pods_of([*olds, rs]))
        du.set_new_rs_annotations(d, rs, new_revision, exists=False)
        return rs

    async def _report_create_failure(
        self, d: Deployment, rs: ReplicaSet, err: errors.ApiError
    ) -> None:
        message = f'Failed to create new replica set "{rs.metadata.name}": {err.message}'
        if du.has_progress_deadline(d):
            status = d.status or DeploymentStatus()
            du.set_condition(
                status,
                du.new_condition(
                    du.PROGRESSING, "False", du.FAILED_RS_CREATE, message, self.clock.now()
                ),
            )
            d.status = status
            with contextlib.suppress(errors.ApiError):
                await self._update_status(d)
        self.recorder.event(d, WARNING, du.FAILED_RS_CREATE, message)

    async def _created(
        self, d: Deployment, created: ReplicaSet, new_revision: int
    ) -> tuple[ReplicaSet, Deployment]:
        """Note a new ReplicaSet: event, revision, the Progressing condition."""
        created = self.remember(created)
        if du.rs_replicas(created) > 0:
            self.recorder.event(
                d, NORMAL, "ScalingReplicaSet",
                f"Scaled up replica set {created.metadata.name} from 0 to {du.rs_replicas(created)}",
            )  # fmt: skip
        du.set_deployment_revision(d, str(new_revision))
        if du.has_progress_deadline(d):
            status = d.status or DeploymentStatus()
            du.set_condition(
                status,
                du.new_condition(
                    du.PROGRESSING, "True", du.NEW_REPLICA_SET,
                    f'Created new replica set "{created.metadata.name}"', self.clock.now(),
                ),
            )  # fmt: skip
            d.status = status
        d = await self._update_status(d)
        return created, d

    async def _existing_rs(self, namespace: str, name: str) -> ReplicaSet | None:
        cached = self.sets.store.get_by_name(namespace, name)
        if cached is not None:
            return cached
        try:
            raw = await self.client.get_raw(REPLICA_SETS, name, namespace)
        except errors.NotFoundError:
            return None
        return ReplicaSet.model_validate(raw)

    def _pods_of(self, rss: list[ReplicaSet]) -> int:
        """Pods of ``rss``, counting each ReplicaSet as at least its size: an upper bound
        on the pods that exist or are about to."""
        total = 0
        for rs in rss:
            active = 0
            if rs.metadata.uid:
                pods = self.pods.store.by_index(CONTROLLER_UID_INDEX, rs.metadata.uid)
                active = sum(1 for pod in pods if is_pod_active(pod))
            total += max(du.rs_replicas(rs), active)
        return total

    async def _update_rs(self, rs: ReplicaSet) -> ReplicaSet:
        raw = await self.client.update_raw(REPLICA_SETS, rs.to_dict())
        return self.remember(ReplicaSet.model_validate(raw))

    async def _scale(
        self, rs: ReplicaSet, size: int, d: Deployment, direction: str | None = None
    ) -> tuple[bool, ReplicaSet]:
        """Resize ``rs`` (and stamp the desired/max annotations); (resized?, new copy)."""
        assert rs.spec is not None
        before = du.rs_replicas(rs)
        resized = before != size
        annotated = du.set_replicas_annotations(
            rs, du.replicas(d), du.replicas(d) + du.max_surge(d)
        )
        if not resized and not annotated:
            return False, rs
        rs.spec.replicas = size
        updated = await self._update_rs(rs)
        if resized:
            word = direction or ("up" if size > before else "down")
            self.recorder.event(
                d, NORMAL, "ScalingReplicaSet",
                f"Scaled {word} replica set {rs.metadata.name} from {before} to {size}",
            )  # fmt: skip
        return resized, updated

    # --- Deployment status ------------------------------------------------------------------

    async def _update_status(self, d: Deployment) -> Deployment:
        """Write status (and annotations, which ``/status`` accepts) conditionally."""
        raw = await self.client.update_raw(DEPLOYMENTS, d.to_dict(), subresource="status")
        return self.remember(Deployment.model_validate(raw))

    async def _check_paused_conditions(self, d: Deployment) -> Deployment:
        if not du.has_progress_deadline(d):
            return d
        cond = du.get_condition(d.status, du.PROGRESSING)
        if cond is not None and cond.reason == du.TIMED_OUT:
            return d
        paused_cond = cond is not None and cond.reason == du.PAUSED
        paused = bool(d.spec and d.spec.paused)
        now = self.clock.now()
        status = d.status or DeploymentStatus()
        if paused and not paused_cond:
            du.set_condition(
                status,
                du.new_condition(du.PROGRESSING, "Unknown", du.PAUSED, "Deployment is paused", now),
            )
        elif not paused and paused_cond:
            du.set_condition(
                status,
                du.new_condition(
                    du.PROGRESSING, "Unknown", du.RESUMED, "Deployment is resumed", now
                ),
            )
        else:
            return d
        d.status = status
        return await self._update_status(d)

    async def _sync_status(
        self, d: Deployment, all_rss: list[ReplicaSet], new_rs: ReplicaSet | None
    ) -> None:
        status = du.calculate_status(all_rss, new_rs, d, self.clock.now())
        if du.status_equal(d.status, status):
            return
        d.status = status
        await self._update_status(d)

    async def _sync_rollout_status(
        self, d: Deployment, all_rss: list[ReplicaSet], new_rs: ReplicaSet | None
    ) -> float | None:
        """Write status with the Progressing condition; the delay until the progress
        deadline would pass, if the rollout is still going."""
        now = self.clock.now()
        status = du.calculate_status(all_rss, new_rs, d, now)
        if not du.has_progress_deadline(d):
            du.remove_condition(status, du.PROGRESSING)
        current = du.get_condition(d.status, du.PROGRESSING)
        complete = (
            (status.replicas or 0) == (status.updated_replicas or 0)
            and current is not None
            and current.reason == du.NEW_RS_AVAILABLE
        )
        rs_name = (
            f'ReplicaSet "{new_rs.metadata.name}"' if new_rs else f'Deployment "{d.metadata.name}"'
        )
        if du.has_progress_deadline(d) and not complete:
            if du.deployment_complete(d, status):
                du.set_condition(
                    status,
                    du.new_condition(
                        du.PROGRESSING, "True", du.NEW_RS_AVAILABLE,
                        f"{rs_name} has successfully progressed.", now,
                    ),
                )  # fmt: skip
            elif du.deployment_progressing(d, status):
                cond = du.new_condition(
                    du.PROGRESSING, "True", du.REPLICA_SET_UPDATED,
                    f"{rs_name} is progressing.", now,
                )  # fmt: skip
                if current is not None:
                    if current.status == "True":
                        cond.last_transition_time = current.last_transition_time
                    du.remove_condition(status, du.PROGRESSING)
                du.set_condition(status, cond)
            elif du.deployment_timed_out(d, status, now):
                du.set_condition(
                    status,
                    du.new_condition(
                        du.PROGRESSING, "False", du.TIMED_OUT,
                        f"{rs_name} has timed out progressing.", now,
                    ),
                )  # fmt: skip
                self.recorder.event(
                    d, WARNING, du.TIMED_OUT, f"{rs_name} has timed out progressing."
                )
        failure = None
        for rs in all_rss:
            for rs_cond in rs.status.conditions if rs.status else []:
                if rs_cond.type == du.REPLICA_FAILURE and rs_cond.status == "True":
                    failure = rs_cond
        if failure is not None:
            du.set_condition(
                status,
                du.new_condition(
                    du.REPLICA_FAILURE, failure.status or "True", failure.reason or "",
                    failure.message or "", failure.last_transition_time or now,
                ),
            )  # fmt: skip
        else:
            du.remove_condition(status, du.REPLICA_FAILURE)
        if not du.status_equal(d.status, status):
            d.status = status
            d = await self._update_status(d)
        return self._stuck_delay(d, status)

    def _stuck_delay(self, d: Deployment, status: DeploymentStatus) -> float | None:
        """Seconds until the progress deadline, for a rollout still under way."""
        cond = du.get_condition(status, du.PROGRESSING)
        if cond is None or not du.has_progress_deadline(d) or du.deployment_complete(d, status):
            return None
        if cond.reason == du.TIMED_OUT or cond.last_update_time is None:
            return None
        deadline = (d.spec.progress_deadline_seconds or 0) if d.spec else 0
        left = (cond.last_update_time - self.clock.now()).total_seconds() + deadline
        return max(left, 0.0) + 1.0

    # --- scaling and cleanup ----------------------------------------------------------------

    def _is_scaling_event(self, d: Deployment, rss: list[ReplicaSet]) -> bool:
        new_rs = du.find_new_rs(d, rss)
        _, olds = du.find_old_rss(rss, new_rs)
        for rs in du.active_rss([*olds, new_rs]):
            desired = du.annotation_int(rs, du.DESIRED_REPLICAS)
            if desired is not None and desired != du.replicas(d):
                return True
        return False

    async def _sync(self, d: Deployment, rss: list[ReplicaSet]) -> float | None:
        """Paused or resized: only resize the ReplicaSets and write status."""
        new_rs, olds, d = await self._get_all(d, rss, create=False)
        new_rs, olds = await self._scale_all(d, new_rs, olds)
        if d.spec is not None and d.spec.paused:
            await self._cleanup(d, olds)
        await self._sync_status(d, [*olds, *([new_rs] if new_rs else [])], new_rs)
        return None

    async def _scale_all(
        self, d: Deployment, new_rs: ReplicaSet | None, olds: list[ReplicaSet]
    ) -> tuple[ReplicaSet | None, list[ReplicaSet]]:
        """Kubernetes' ``scale``: one active ReplicaSet takes the whole size; a saturated
        new one empties the old; otherwise sizes change in proportion."""
        target = du.find_active_or_latest(new_rs, olds)
        if target is not None:
            if du.rs_replicas(target) != du.replicas(d) or du.annotation_int(
                target, du.DESIRED_REPLICAS
            ) != du.replicas(d):
                _, updated = await self._scale(target, du.replicas(d), d)
                return self._replace(new_rs, olds, updated)
            return new_rs, olds
        if du.is_saturated(d, new_rs):
            for rs in du.active_rss(olds):
                _, updated = await self._scale(rs, 0, d)
                new_rs, olds = self._replace(new_rs, olds, updated)
            return new_rs, olds
        if du.is_rolling(d):
            everything = [*olds, *([new_rs] if new_rs else [])]
            sizes = du.proportional_sizes(d, everything)
            for rs in du.active_rss(everything):
                size = sizes.get(rs.metadata.name or "", du.rs_replicas(rs))
                _, updated = await self._scale(rs, size, d)
                new_rs, olds = self._replace(new_rs, olds, updated)
        return new_rs, olds

    @staticmethod
    def _replace(
        new_rs: ReplicaSet | None, olds: list[ReplicaSet], updated: ReplicaSet
    ) -> tuple[ReplicaSet | None, list[ReplicaSet]]:
        uid = updated.metadata.uid
        if new_rs is not None and new_rs.metadata.uid == uid:
            return updated, olds
        return new_rs, [updated if rs.metadata.uid == uid else rs for rs in olds]

    async def _cleanup(self, d: Deployment, olds: list[ReplicaSet]) -> None:
        """Delete the oldest empty ReplicaSets beyond ``revisionHistoryLimit``."""
        limit = d.spec.revision_history_limit if d.spec else None
        if limit is None:
            return
        cleanable = [
            rs
            for rs in olds
            if du.rs_replicas(rs) == 0
            and du.rs_status(rs, "replicas") == 0
            and (rs.status is not None and (rs.status.observed_generation or 0))
            >= (rs.metadata.generation or 0)
            and rs.metadata.deletion_timestamp is None
        ]
        extra = len(cleanable) - limit
        if extra <= 0:
            return
        cleanable.sort(key=lambda rs: (du.revision_of(rs) or 0, rs.metadata.name or ""))
        for rs in cleanable[:extra]:
            with contextlib.suppress(errors.NotFoundError):
                await self.client.delete_raw(
                    REPLICA_SETS, rs.metadata.name or "", rs.metadata.namespace
                )

    # --- RollingUpdate -----------------------------------------------------------------------

    async def _rollout_rolling(self, d: Deployment, rss: list[ReplicaSet]) -> float | None:
        new_rs, olds, d = await self._get_all(d, rss, create=True)
        all_rss = [*olds, *([new_rs] if new_rs else [])]
        if new_rs is not None:
            scaled, new_rs = await self._reconcile_new(d, all_rss, new_rs)
            if scaled:
                return await self._sync_rollout_status(d, [*olds, new_rs], new_rs)
        scaled_down, olds = await self._reconcile_olds(d, olds, new_rs)
        all_rss = [*olds, *([new_rs] if new_rs else [])]
        if scaled_down:
            return await self._sync_rollout_status(d, all_rss, new_rs)
        if d.status is not None and du.deployment_complete(d, d.status):
            await self._cleanup(d, olds)
        return await self._sync_rollout_status(d, all_rss, new_rs)

    async def _reconcile_new(
        self, d: Deployment, all_rss: list[ReplicaSet], new_rs: ReplicaSet
    ) -> tuple[bool, ReplicaSet]:
        wanted = du.replicas(d)
        size = du.rs_replicas(new_rs)
        if size == wanted:
            return False, new_rs
        if size > wanted:
            return await self._scale(new_rs, wanted, d, "down")
        target = du.new_rs_new_replicas(d, all_rss, new_rs, self._pods_of(all_rss))
        return await self._scale(new_rs, target, d, "up")

    async def _reconcile_olds(
        self, d: Deployment, olds: list[ReplicaSet], new_rs: ReplicaSet | None
    ) -> tuple[bool, list[ReplicaSet]]:
        """Shrink old ReplicaSets as far as availability allows; (shrank?, olds)."""
        old_pods = du.total_spec(olds)
        if old_pods == 0:
            return False, olds
        all_pods = old_pods + du.rs_replicas(new_rs)
        minimum = du.min_available(d)
        new_unavailable = du.rs_replicas(new_rs) - du.rs_status(new_rs, "available_replicas")
        room = all_pods - minimum - new_unavailable
        if room <= 0:
            return False, olds
        # First drop old pods that are not available anyway: that costs no availability.
        cleaned = 0
        for rs in du.sort_by_creation(olds):
            if cleaned >= room:
                break
            size = du.rs_replicas(rs)
            unhealthy = size - du.rs_status(rs, "available_replicas")
            if size == 0 or unhealthy <= 0:
                continue
            drop = min(room - cleaned, unhealthy)
            _, updated = await self._scale(rs, size - drop, d, "down")
            olds = [updated if o.metadata.uid == updated.metadata.uid else o for o in olds]
            cleaned += drop
        # Then available old pods, while enough stay available overall. A ReplicaSet
        # counts at most its size: its surplus pods are already on their way out, even if
        # its status (written before the resize) still counts them.
        everything = [*olds, *([new_rs] if new_rs else [])]
        available = sum(
            min(du.rs_status(rs, "available_replicas"), du.rs_replicas(rs)) for rs in everything
        )
        scaled = 0
        if available > minimum:
            budget = available - minimum
            for rs in du.sort_by_creation(olds):
                if scaled >= budget:
                    break
                size = du.rs_replicas(rs)
                if size == 0:
                    continue
                drop = min(size, budget - scaled)
                _, updated = await self._scale(rs, size - drop, d, "down")
                olds = [updated if o.metadata.uid == updated.metadata.uid else o for o in olds]
                scaled += drop
        return cleaned + scaled > 0, olds

    # --- Recreate ------------------------------------------------------------------------------

    async def _rollout_recreate(self, d: Deployment, rss: list[ReplicaSet]) -> float | None:
        new_rs, olds, d = await self._get_all(d, rss, create=False)
        all_rss = [*olds, *([new_rs] if new_rs else [])]
        scaled_down = False
        for rs in du.active_rss(olds):
            scaled, updated = await self._scale(rs, 0, d, "down")
            scaled_down = scaled_down or scaled
            olds = [updated if o.metadata.uid == updated.metadata.uid else o for o in olds]
        if scaled_down:
            return await self._sync_rollout_status(
                d, [*olds, *([new_rs] if new_rs else [])], new_rs
            )
        if self._old_pods_running(new_rs, olds):
            return await self._sync_rollout_status(d, all_rss, new_rs)
        if new_rs is None:
            new_rs, olds, d = await self._get_all(d, rss, create=True)
        if new_rs is not None:
            _, new_rs = await self._scale(new_rs, du.replicas(d), d, "up")
        all_rss = [*olds, *([new_rs] if new_rs else [])]
        if d.status is not None and du.deployment_complete(d, d.status):
            await self._cleanup(d, olds)
        return await self._sync_rollout_status(d, all_rss, new_rs)

    def _old_pods_running(self, new_rs: ReplicaSet | None, olds: list[ReplicaSet]) -> bool:
        if du.total_status(olds, "replicas") > 0:
            return True
        for rs in olds:
            if new_rs is not None and rs.metadata.uid == new_rs.metadata.uid:
                continue
            for pod in self.pods.store.by_index(CONTROLLER_UID_INDEX, rs.metadata.uid or ""):
                if not pod.is_terminal():
                    return True
        return False
