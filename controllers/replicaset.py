"""The ReplicaSet controller: keep ``spec.replicas`` pods matching the selector running.

Watches ReplicaSets and Pods. The logic is ``ReplicatedPodsController``'s, which the
ReplicationController controller (``controllers.replication``) shares: only the kind,
its status types and how its selector reads differ. For one ReplicaSet key,
``reconcile``:

1. claims pods (adopts matching orphans, releases owned pods that stopped matching);
2. if its expectations are satisfied, creates the missing pods (slow start: 1, 2, 4,
   ... at most ``burst_replicas`` a pass; a pass after one that went through whole
   starts at that pass's size) or deletes the surplus, least valuable first
   (unscheduled, pending, not ready, ready for less time, restarted more, newest);
3. writes ``status`` (replicas, fullyLabeledReplicas, readyReplicas,
   availableReplicas honouring minReadySeconds, observedGeneration, the
   ReplicaFailure condition) when it changed.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, ClassVar, Generic, TypeVar

from apiclient import NORMAL, WARNING, Informer, errors, object_key, split_key
from apitypes.apps import ReplicaSet, ReplicaSetCondition, ReplicaSetStatus
from apitypes.core import (
    Pod,
    ReplicationController,
    ReplicationControllerCondition,
    ReplicationControllerStatus,
)
from apitypes.registry import by_model
from apitypes.selectors import LabelSelectorExpr, selector_from_set
from controllers.base import Controller, ControllerContext
from controllers.claims import claim, matching_owners
from controllers.expectations import UIDTrackingExpectations
from controllers.util import (
    OWNED_INDEXERS,
    controller_of,
    create_pods,
    deletion_rank,
    generate_name_prefix,
    get_condition,
    is_pod_active,
    namespace_terminating,
    owner_reference,
    pod_from_template,
    pod_ready_since,
    remove_condition,
    resolve_controller,
    selector_of,
    set_condition,
)

log = logging.getLogger(__name__)

PODS = by_model(Pod)
REPLICA_SETS = by_model(ReplicaSet)
REPLICA_FAILURE = "ReplicaFailure"

R = TypeVar("R", ReplicaSet, ReplicationController)


class ReplicatedPodsController(Controller, Generic[R]):
    """Keeps ``spec.replicas`` pods of a template running for each object of ``kind``;
    a subclass names the kind, its status types, and reads its selector."""

    kind: ClassVar[type[ReplicaSet] | type[ReplicationController]]
    status_type: ClassVar[type[ReplicaSetStatus] | type[ReplicationControllerStatus]]
    condition_type: ClassVar[type[ReplicaSetCondition] | type[ReplicationControllerCondition]]

    def selector(self, owner: R) -> LabelSelectorExpr | None:
        """The pods ``owner`` selects; None when its selector is invalid."""
        raise NotImplementedError

    def __init__(self, ctx: ControllerContext, workers: int = 5) -> None:
        super().__init__(ctx, workers)
        self.expectations = UIDTrackingExpectations(clock=ctx.clock.monotonic)
        # Per ReplicaSet: how many creates the last pass made without a failure. Slow
        # start guards against a template the apiserver refuses; once a pass went through
        # whole, the next one starts at that size instead of at 1 again.
        self._proven: dict[str, int] = {}
        # ``kind`` is R's class (each subclass names both), which mypy cannot see.
        self.sets: Informer[R] = self.factory.informer(self.kind, indexers=OWNED_INDEXERS)  # type: ignore[arg-type]
        self.pods: Informer[Pod] = self.factory.informer(Pod, indexers=OWNED_INDEXERS)
        self.sets.add_handler(self.enqueue, lambda _old, new: self.enqueue(new), self._set_deleted)
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)

    # --- handlers -------------------------------------------------------------------

    def _set_deleted(self, rs: R) -> None:
        self.expectations.forget(object_key(rs))
        self._proven.pop(object_key(rs), None)
        self.enqueue(rs)

    def _owner(self, pod: Pod) -> R | None:
        return resolve_controller(pod, self.kind.KIND, self.sets.store)

    def _enqueue_matching(self, pod: Pod) -> None:
        candidates = self.sets.store.by_index("namespace", pod.metadata.namespace or "")
        for rs in matching_owners(candidates, pod.metadata.labels, self.selector):
            self.enqueue(rs)

    def _pod_added(self, pod: Pod) -> None:
        if pod.metadata.deletion_timestamp is not None:
            # Seen for the first time already terminating (after a restart): count it
            # as a deletion so that expectations waiting for it are met.
            self._pod_deleted(pod)
            return
        if controller_of(pod) is not None:
            rs = self._owner(pod)
            if rs is not None:
                self.expectations.creation_observed(object_key(rs))
                self.enqueue(rs)
            return
        self._enqueue_matching(pod)

    def _pod_updated(self, old: Pod, new: Pod) -> None:
        if old.metadata.resource_version == new.metadata.resource_version:
            return
        labels_changed = old.metadata.labels != new.metadata.labels
        if new.metadata.deletion_timestamp is not None:
            self._pod_deleted(new)
            if labels_changed:
                self._pod_deleted(old)
            return
        old_ref, new_ref = controller_of(old), controller_of(new)
        if old_ref is not None and (new_ref is None or old_ref.uid != new_ref.uid):
            previous = self._owner(old)
            if previous is not None:
                self.enqueue(previous)
        if new_ref is not None:
            rs = self._owner(new)
            if rs is None:
                return
            self.enqueue(rs)
            min_ready = (rs.spec.min_ready_seconds or 0) if rs.spec else 0
            if min_ready > 0 and new.is_ready() and not old.is_ready():
                # Available only once ready for minReadySeconds: look again then.
                self.enqueue_after(rs, min_ready + 1)
            return
        if labels_changed or old_ref is not None:
            self._enqueue_matching(new)

    def _pod_deleted(self, pod: Pod) -> None:
        rs = self._owner(pod)
        if rs is None:
            return
        key = object_key(rs)
        self.expectations.deletion_observed_of(key, object_key(pod))
        self.enqueue(rs)

    # --- reconcile ------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        rs = self.sets.store.get(key)
        if rs is None or rs.spec is None:
            self.expectations.forget(key)
            return None
        selector = self.selector(rs)
        if selector is None:
            log.warning("%s: invalid selector; skipping", key)
            return None
        needs_sync = self.expectations.satisfied(key) and rs.metadata.deletion_timestamp is None
        pods = await claim(self.client, self.pods, rs, selector)
        active = [pod for pod in pods if is_pod_active(pod)]
        error: errors.ApiError | None = None
        reason = ""
        if needs_sync:
            error, reason = await self._manage(key, rs, active)
        status = self._status(rs, active, error, reason)
        await self._write_status(rs, status)
        if error is not None:
            raise error
        min_ready = rs.spec.min_ready_seconds or 0
        if min_ready > 0 and (status.ready_replicas or 0) != (status.available_replicas or 0):
            return float(min_ready)
        return None

    async def _manage(
        self, key: str, rs: R, active: list[Pod]
    ) -> tuple[errors.ApiError | None, str]:
        assert rs.spec is not None
        namespace = rs.metadata.namespace or ""
        wanted = rs.spec.replicas if rs.spec.replicas is not None else 1
        diff = len(active) - wanted
        burst = self.options.burst_replicas
        if diff < 0:
            count = min(-diff, burst)
            return await self._create(key, rs, namespace, count), "FailedCreate"
        if diff > 0:
            count = min(diff, burst)
            now = self.clock.now()
            victims = sorted(active, key=lambda p: deletion_rank(p, now))[:count]
            return await self._delete(key, rs, namespace, victims), "FailedDelete"
        return None, ""

    async def _create(self, key: str, rs: R, namespace: str, count: int) -> errors.ApiError | None:
        assert rs.spec is not None and rs.spec.template is not None
        body = pod_from_template(
            rs.spec.template,
            namespace,
            owner_reference(rs),
            generate_name=generate_name_prefix(rs.metadata.name or ""),
        ).to_dict()
        # Batches start at the size that last succeeded, so a big scale-up after a
        # healthy one does not crawl through 1, 2, 4... again.
        error = await create_pods(self, rs, key, body, namespace, count, self._proven.get(key, 1))
        if error is None:
            self._proven[key] = count
            return None
        self._proven.pop(key, None)
        api_error = _as_api_error(error)
        if namespace_terminating(api_error):
            return None
        self.recorder.event(rs, WARNING, "FailedCreate", f"Error creating: {api_error.message}")
        return api_error

    async def _delete(
        self, key: str, rs: R, namespace: str, victims: list[Pod]
    ) -> errors.ApiError | None:
        self.expectations.expect_deletions_of(key, [object_key(p) for p in victims])

        async def delete(pod: Pod) -> errors.ApiError | None:
            try:
                await self.client.delete_raw(PODS, pod.metadata.name or "", namespace)
            except errors.NotFoundError:
                self.expectations.deletion_observed_of(key, object_key(pod))
                return None
            except errors.ApiError as err:
                # The pod stays: stop waiting for its deletion.
                self.expectations.deletion_observed_of(key, object_key(pod))
                self.recorder.event(rs, WARNING, "FailedDelete", f"Error deleting: {err.message}")
                return err
            self.recorder.event(rs, NORMAL, "SuccessfulDelete", f"Deleted pod: {pod.metadata.name}")
            return None

        results = await asyncio.gather(*(delete(pod) for pod in victims))
        return next((err for err in results if err is not None), None)

    def _status(
        self, rs: R, active: list[Pod], error: errors.ApiError | None, reason: str
    ) -> ReplicaSetStatus | ReplicationControllerStatus:
        assert rs.spec is not None
        now = self.clock.now()
        min_ready = rs.spec.min_ready_seconds or 0
        template_labels = rs.spec.template.metadata.labels if rs.spec.template else {}
        fully = selector_from_set(template_labels)
        ready = available = labeled = 0
        threshold = now - timedelta(seconds=min_ready)
        for pod in active:
            since = pod_ready_since(pod)
            if since is not None:
                ready += 1
                if min_ready <= 0 or since <= threshold:
                    available += 1
            if fully.matches(pod.metadata.labels):
                labeled += 1
        previous: list[Any] = list(rs.status.conditions) if rs.status else []
        conditions = previous
        failure = get_condition(conditions, REPLICA_FAILURE)
        if error is not None and failure is None:
            conditions = set_condition(
                conditions,
                self.condition_type(
                    type=REPLICA_FAILURE,
                    status="True",
                    last_transition_time=now,
                    reason=reason,
                    message=error.message,
                ),
            )
        elif error is None and failure is not None:
            conditions = remove_condition(conditions, REPLICA_FAILURE)
        return self.status_type(
            replicas=len(active),
            fully_labeled_replicas=labeled,
            ready_replicas=ready,
            available_replicas=available,
            observed_generation=rs.metadata.generation,
            conditions=conditions,
        )

    async def _write_status(
        self, rs: R, status: ReplicaSetStatus | ReplicationControllerStatus
    ) -> None:
        if rs.status is not None and rs.status.to_dict() == status.to_dict():
            return
        await write_status(self.client, rs, status.to_dict())


class ReplicaSetController(ReplicatedPodsController[ReplicaSet]):
    name = "replicaset-controller"
    service_account = "replicaset-controller"
    aliases = ("replicaset",)
    workers_option = "concurrent_replicaset_syncs"
    kind = ReplicaSet
    status_type = ReplicaSetStatus
    condition_type = ReplicaSetCondition

    def selector(self, owner: ReplicaSet) -> LabelSelectorExpr | None:
        return selector_of(owner)


async def write_status(
    client: Any, obj: Any, status: dict[str, Any], *, conditional: bool = False
) -> dict[str, Any] | None:
    """PUT ``status`` onto ``obj`` through ``/status``. Returns the written object (None
    when it is gone).

    The controller is the only writer of its kind's status, so by default the write is
    unconditional (no ``resourceVersion``): the cache is usually one write behind, and
    a conditional write would cost a conflict and a re-read every time. With
    ``conditional`` a conflict is retried once onto a fresh copy.
    """
    resource = by_model(type(obj))
    body = obj.to_dict()
    body["status"] = status
    if not conditional:
        body["metadata"].pop("resourceVersion", None)
    try:
        result: dict[str, Any] = await client.update_raw(resource, body, subresource="status")
        return result
    except errors.NotFoundError:
        return None
    except errors.ConflictError:
        pass
    namespace, name = split_key(object_key(obj))
    try:
        fresh = await client.get_raw(resource, name, namespace)
        fresh["status"] = status
        result = await client.update_raw(resource, fresh, subresource="status")
        return result
    except errors.NotFoundError:
        return None


def _as_api_error(error: BaseException) -> errors.ApiError:
    if isinstance(error, errors.ApiError):
        return error
    return errors.InternalError({"message": str(error)})
