"""The Job controller: run pods to completion, retry failures, count results.

Watches Jobs and Pods. Every pod it creates carries the ``batch.kubernetes.io/job-tracking``
finalizer, so a finished pod cannot vanish before it is counted (Kubernetes' "job
tracking with finalizers"): a finished pod's uid first goes to
``status.uncountedTerminatedPods``, then its finalizer is removed, then it moves into
``status.succeeded`` / ``status.failed``. A pod deleted before it finished counts as
failed.

For one Job key, ``reconcile``:

1. claims pods and accounts for finished ones as above;
2. decides failure: more failures (plus container restarts with ``OnFailure``) than
   ``backoffLimit`` -> ``BackoffLimitExceeded``; running longer than
   ``activeDeadlineSeconds`` -> ``DeadlineExceeded``. It adds ``FailureTarget``, deletes
   the running pods, and once none is left adds ``Failed``;
3. decides success: ``completions`` successes (or, without ``completions``, one
   success and nothing running). It adds ``SuccessCriteriaMet``, deletes leftovers, then
   ``Complete`` with ``completionTime``;
4. otherwise keeps ``min(parallelism, completions - succeeded)`` pods running (none
   while ``suspend``), waiting ``10 s * 2^(failures-1)`` (at most 6 min) after a failure
   before replacing a failed pod;
5. writes status: ``active``, ``ready``, ``terminating``, ``succeeded``, ``failed``,
   ``startTime``, conditions.

``ttlSecondsAfterFinished`` is the TTL-after-finished controller's business.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from apiclient import NORMAL, WARNING, Informer, errors, object_key
from apitypes.batch import Job, JobCondition, JobStatus, UncountedTerminatedPods
from apitypes.core import Pod
from apitypes.registry import by_model
from controllers.base import Controller, ControllerContext
from controllers.claims import claim
from controllers.expectations import ControllerExpectations
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
    resolve_controller,
    selector_of,
)

log = logging.getLogger(__name__)

PODS = by_model(Pod)
JOBS = by_model(Job)
TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
ORPHAN_KEY = "pod:"


def finished(job: Job) -> bool:
    conds = job.status.conditions if job.status else []
    return any(c.type in ("Complete", "Failed") and c.status == "True" for c in conds)


def pod_finish_time(pod: Pod) -> datetime | None:
    """When a finished pod's last container stopped (or its status last changed)."""
    if pod.status is None:
        return None
    stamps = [
        s.state.terminated.finished_at
        for s in pod.status.container_statuses
        if s.state is not None and s.state.terminated is not None and s.state.terminated.finished_at
    ]
    if stamps:
        return max(stamps)
    cond = pod.status.condition("Ready")
    return cond.last_transition_time if cond is not None else None


def backoff_delay(failures: int, base: float, cap: float) -> float:
    if failures <= 0:
        return 0.0
    return float(min(base * 2 ** (failures - 1), cap))


class JobController(Controller):
    name = "job-controller"
    service_account = "job-controller"
    aliases = ("job",)
    workers_option = "concurrent_job_syncs"

    def __init__(self, ctx: ControllerContext, workers: int = 5) -> None:
        super().__init__(ctx, workers)
        self.expectations = ControllerExpectations(clock=ctx.clock.monotonic)
        # Pods whose tracking finalizer this controller removed, until seen without it.
        self.finalizers_removed: set[str] = set()
        self.jobs: Informer[Job] = self.factory.informer(Job)
        self.pods: Informer[Pod] = self.factory.informer(Pod, indexers=OWNED_INDEXERS)
        self.jobs.add_handler(self.enqueue, lambda _old, new: self.enqueue(new), self._job_deleted)
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)

    # --- handlers -----------------------------------------------------------------------

    def _job_deleted(self, job: Job) -> None:
        self.expectations.forget(object_key(job))
        # Its pods may still hold the finalizer: let them go.
        for pod in self.pods.store.by_index("controller-uid", job.metadata.uid or ""):
            if TRACKING_FINALIZER in pod.metadata.finalizers:
                self.queue.add(ORPHAN_KEY + object_key(pod))

    def _owner(self, pod: Pod) -> Job | None:
        return resolve_controller(pod, "Job", self.jobs.store)

    def _pod_added(self, pod: Pod) -> None:
        job = self._owner(pod)
        if job is None:
            self._maybe_orphan(pod)
            return
        self.expectations.creation_observed(object_key(job))
        self.enqueue(job)

    def _pod_updated(self, old: Pod, new: Pod) -> None:
        if old.metadata.resource_version == new.metadata.resource_version:
            return
        if TRACKING_FINALIZER not in new.metadata.finalizers:
            self.finalizers_removed.discard(new.metadata.uid or "")
        job = self._owner(new)
        if job is None:
            self._maybe_orphan(new)
            return
        if new.metadata.deletion_timestamp is not None and old.metadata.deletion_timestamp is None:
            self.expectations.deletion_observed(object_key(job))
        self.enqueue(job)

    def _pod_deleted(self, pod: Pod) -> None:
        self.finalizers_removed.discard(pod.metadata.uid or "")
        job = self._owner(pod)
        if job is None:
            return
        if pod.metadata.deletion_timestamp is None:
            self.expectations.deletion_observed(object_key(job))
        self.enqueue(job)

    def _maybe_orphan(self, pod: Pod) -> None:
        ref = controller_of(pod)
        if ref is not None and ref.kind == "Job" and TRACKING_FINALIZER in pod.metadata.finalizers:
            self.queue.add(ORPHAN_KEY + object_key(pod))

    # --- reconcile ------------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        if key.startswith(ORPHAN_KEY):
            await self._release_orphan(key[len(ORPHAN_KEY) :])
            return None
        cached = self.jobs.store.get(key)
        if cached is None or cached.spec is None:
            self.expectations.forget(key)
            return None
        job = self.fresh(cached).model_copy(deep=True)
        assert job.spec is not None
        selector = selector_of(job)
        if selector is None:
            return None
        pods = await claim(
            self.client, self.pods, job, selector, extra_filter=lambda p: not p.is_terminal()
        )
        status = (job.status or JobStatus()).model_copy(deep=True)
        if finished(job) or job.metadata.deletion_timestamp is not None:
            await self._remove_finalizers(job, status, pods, everything=True)
            return None
        now = self.clock.now()
        if status.start_time is None and not job.spec.suspend:
            status.start_time = now
        # 1. Account for finished pods.
        await self._track(job, status, pods)
        active = [p for p in pods if is_pod_active(p)]
        terminating = [
            p for p in pods if p.metadata.deletion_timestamp is not None and not p.is_terminal()
        ]
        uncounted = status.uncounted_terminated_pods or UncountedTerminatedPods()
        succeeded = (status.succeeded or 0) + len(uncounted.succeeded)
        failed = (status.failed or 0) + len(uncounted.failed)
        restarts = 0
        template_spec = job.spec.template.spec
        if template_spec is not None and template_spec.restart_policy == "OnFailure":
            for pod in active:
                for cs in pod.status.container_statuses if pod.status else []:
                    restarts += cs.restart_count
        delay: float | None = None
        failure = self._failure(job, status, failed + restarts, now)
        complete = self._succeeded(job, succeeded, len(active))
        if failure is not None:
            reason, message = failure
            self._set(status, "FailureTarget", reason, message, now)
            await self._delete_pods(job, active)
            active = []
            if not terminating and not uncounted.succeeded and not uncounted.failed:
                self._set(status, "Failed", reason, message, now)
                self.recorder.event(job, WARNING, reason, message)
        elif complete:
            self._set(
                status,
                "SuccessCriteriaMet",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
                now,
            )
            await self._delete_pods(job, active)
            active = []
            if not terminating and not uncounted.succeeded and not uncounted.failed:
                self._set(
                    status,
                    "Complete",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods",
                    now,
                )
                status.completion_time = now
                self.recorder.event(job, NORMAL, "Completed", "Job completed")
        elif self.expectations.satisfied(key):
            delay = await self._manage(key, job, status, pods, active, succeeded, failed, now)
            active = [p for p in active if p.metadata.deletion_timestamp is None]
        if job.spec.suspend:
            self._set(status, "Suspended", "JobSuspended", "Job suspended", now)
        elif get_condition(status.conditions, "Suspended") is not None:
            self._set(status, "Suspended", "JobResumed", "Job resumed", now, value="False")
        status.active = len(active)
        status.ready = sum(1 for p in active if p.is_ready())
        status.terminating = len(terminating)
        status.succeeded = status.succeeded or 0
        status.failed = status.failed or 0
        await self._write(job, status)
        deadline = job.spec.active_deadline_seconds
        if (
            deadline is not None
            and status.start_time is not None
            and failure is None
            and not complete
        ):
            left = (status.start_time + timedelta(seconds=deadline) - now).total_seconds()
            delay = min(delay, left) if delay is not None else left
        return None if delay is None else max(delay, 0.1)

    def _failure(
        self, job: Job, status: JobStatus, failures: int, now: datetime
    ) -> tuple[str, str] | None:
        assert job.spec is not None
        target = get_condition(status.conditions, "FailureTarget")
        if target is not None and target.status == "True":
            return target.reason or "BackoffLimitExceeded", target.message or ""
        limit = job.spec.backoff_limit if job.spec.backoff_limit is not None else 6
        if failures > limit:
            return "BackoffLimitExceeded", "Job has reached the specified backoff limit"
        deadline = job.spec.active_deadline_seconds
        started = status.start_time
        if (
            deadline is not None
            and started is not None
            and now - started >= timedelta(seconds=deadline)
        ):
            return "DeadlineExceeded", "Job was active longer than specified deadline"
        return None

    def _succeeded(self, job: Job, succeeded: int, active: int) -> bool:
        assert job.spec is not None
        if job.spec.completions is None:
            return succeeded > 0 and active == 0
        return succeeded >= job.spec.completions

    def _set(
        self,
        status: JobStatus,
        kind: str,
        reason: str,
        message: str,
        now: datetime,
        value: str = "True",
    ) -> None:
        current = get_condition(status.conditions, kind)
        if current is not None and current.status == value and current.reason == reason:
            return
        cond = JobCondition(
            type=kind, status=value, reason=reason, message=message,
            last_probe_time=now, last_transition_time=now,
        )  # fmt: skip
        status.conditions = [c for c in status.conditions if c.type != kind] + [cond]

    async def _track(self, job: Job, status: JobStatus, pods: list[Pod]) -> None:
        """Move finished pods into ``uncountedTerminatedPods``, remove their finalizers,
        then into the counters."""
        uncounted = status.uncounted_terminated_pods or UncountedTerminatedPods()
        seen = set(uncounted.succeeded) | set(uncounted.failed)
        added = False
        for pod in pods:
            uid = pod.metadata.uid or ""
            if TRACKING_FINALIZER not in pod.metadata.finalizers or uid in seen:
                continue
            if uid in self.finalizers_removed:
                continue
            if pod.phase() == "Succeeded":
                uncounted.succeeded.append(uid)
            elif pod.phase() == "Failed" or pod.metadata.deletion_timestamp is not None:
                uncounted.failed.append(uid)
            else:
                continue
            seen.add(uid)
            added = True
        status.uncounted_terminated_pods = uncounted
        if added:
            # Recorded before the finalizers go, so a crash in between loses no count.
            job = await self._write(job, status)
        await self._remove_finalizers(job, status, pods, everything=False)

    async def _remove_finalizers(
        self, job: Job, status: JobStatus, pods: list[Pod], *, everything: bool
    ) -> None:
        uncounted = status.uncounted_terminated_pods or UncountedTerminatedPods()
        pending = set(uncounted.succeeded) | set(uncounted.failed)
        targets = [
            p
            for p in pods
            if TRACKING_FINALIZER in p.metadata.finalizers
            and (everything or (p.metadata.uid or "") in pending)
            and (p.metadata.uid or "") not in self.finalizers_removed
        ]
        for pod in targets:
            await self._drop_finalizer(pod)
        gone = {p.metadata.uid for p in pods if TRACKING_FINALIZER not in p.metadata.finalizers}
        gone |= {p.metadata.uid for p in targets} | self.finalizers_removed
        present = {p.metadata.uid for p in pods}
        moved_s = [u for u in uncounted.succeeded if u in gone or u not in present]
        moved_f = [u for u in uncounted.failed if u in gone or u not in present]
        if moved_s or moved_f:
            status.succeeded = (status.succeeded or 0) + len(moved_s)
            status.failed = (status.failed or 0) + len(moved_f)
            uncounted.succeeded = [u for u in uncounted.succeeded if u not in moved_s]
            uncounted.failed = [u for u in uncounted.failed if u not in moved_f]
            status.uncounted_terminated_pods = uncounted
            if everything:
                await self._write(job, status)

    async def _drop_finalizer(self, pod: Pod) -> None:
        patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER]}}
        try:
            await self.client.patch_raw(
                PODS, pod.metadata.name or "", patch, pod.metadata.namespace
            )
        except errors.NotFoundError:
            return
        self.finalizers_removed.add(pod.metadata.uid or "")

    async def _release_orphan(self, key: str) -> None:
        pod = self.pods.store.get(key)
        if pod is None or TRACKING_FINALIZER not in pod.metadata.finalizers:
            return
        if self._owner(pod) is not None:
            return
        await self._drop_finalizer(pod)

    async def _manage(
        self, key: str, job: Job, status: JobStatus, pods: list[Pod], active: list[Pod],
        succeeded: int, failed: int, now: datetime,
    ) -> float | None:  # fmt: skip
        assert job.spec is not None
        parallelism = job.spec.parallelism if job.spec.parallelism is not None else 1
        if job.spec.suspend:
            wanted = 0
        elif job.spec.completions is None:
            wanted = parallelism if succeeded == 0 else 0
        else:
            wanted = max(min(parallelism, job.spec.completions - succeeded), 0)
        diff = wanted - len(active)
        if diff < 0:
            ranked = sorted(active, key=lambda p: deletion_rank(p, now))[:-diff]
            await self._delete_pods(job, ranked)
            return None
        if diff == 0:
            return None
        if failed > 0:
            # Do not hammer a failing workload: wait out the backoff since the last failure.
            last = max(
                (
                    t
                    for p in pods
                    if p.phase() == "Failed" and (t := pod_finish_time(p)) is not None
                ),
                default=None,
            )
            wait = backoff_delay(
                failed, self.options.job_backoff_base, self.options.job_backoff_max
            )
            if last is not None:
                left = (last + timedelta(seconds=wait) - now).total_seconds()
                if left > 0:
                    return left
        namespace = job.metadata.namespace or ""
        template = job.spec.template.model_copy(deep=True)
        if TRACKING_FINALIZER not in template.metadata.finalizers:
            template.metadata.finalizers.append(TRACKING_FINALIZER)
        body = pod_from_template(
            template, namespace, owner_reference(job),
            generate_name=generate_name_prefix(job.metadata.name or ""),
        ).to_dict()  # fmt: skip
        error = await create_pods(self, job, key, body, namespace, diff)
        if error is not None and not namespace_terminating(error):
            message = getattr(error, "message", str(error))
            self.recorder.event(job, WARNING, "FailedCreate", f"Error creating: {message}")
            raise error
        return None

    async def _delete_pods(self, job: Job, pods: list[Pod]) -> None:
        for pod in pods:
            if pod.metadata.deletion_timestamp is not None:
                continue
            try:
                await self.client.delete_raw(PODS, pod.metadata.name or "", pod.metadata.namespace)
            except errors.NotFoundError:
                continue
            self.recorder.event(
                job, NORMAL, "SuccessfulDelete", f"Deleted pod: {pod.metadata.name}"
            )

    async def _write(self, job: Job, status: JobStatus) -> Job:
        if job.status is not None and job.status.to_dict() == status.to_dict():
            return job
        body: dict[str, Any] = job.to_dict()
        body["status"] = status.to_dict()
        # Conditional: counts accumulate, so a write from an old copy must fail, not win.
        try:
            raw = await self.client.update_raw(JOBS, body, subresource="status")
        except errors.NotFoundError:
            return job
        written = self.remember(Job.model_validate(raw))
        job.status = written.status
        job.metadata = written.metadata
        return job
