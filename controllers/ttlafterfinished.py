"""The TTL-after-finished controller: delete finished Jobs once their time is up.

Watches Jobs. A Job with ``ttlSecondsAfterFinished`` whose Complete or Failed
condition is True expires that many seconds after the condition's transition time;
``reconcile`` waits until then (returning the delay), re-reads the Job from the
apiserver (the TTL may have changed), and deletes it in the foreground, so its pods go
first, as Kubernetes does.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta

from apiclient import Informer, errors, split_key
from apitypes.batch import Job
from apitypes.registry import by_model
from controllers.base import Controller, ControllerContext

log = logging.getLogger(__name__)

JOBS = by_model(Job)


def finish_time(job: Job) -> datetime | None:
    """When the Job finished (its Complete or Failed condition turned True)."""
    if job.status is None:
        return None
    for cond in job.status.conditions:
        if cond.type in ("Complete", "Failed") and cond.status == "True":
            return cond.last_transition_time or job.status.completion_time
    return None


def expiry(job: Job) -> datetime | None:
    ttl = job.spec.ttl_seconds_after_finished if job.spec else None
    finished = finish_time(job)
    if ttl is None or finished is None:
        return None
    return finished + timedelta(seconds=ttl)


class TTLAfterFinishedController(Controller):
    name = "ttl-after-finished-controller"
    service_account = "ttl-after-finished-controller"
    aliases = ("ttl-after-finished",)
    workers_option = "concurrent_ttl_after_finished_syncs"

    def __init__(self, ctx: ControllerContext, workers: int = 5) -> None:
        super().__init__(ctx, workers)
        self.jobs: Informer[Job] = self.factory.informer(Job)
        self.jobs.add_handler(self._changed, lambda _old, new: self._changed(new))

    def _changed(self, job: Job) -> None:
        if job.metadata.deletion_timestamp is None and expiry(job) is not None:
            self.enqueue(job)

    async def reconcile(self, key: str) -> float | None:
        job = self.jobs.store.get(key)
        if job is None or job.metadata.deletion_timestamp is not None:
            return None
        expires = expiry(job)
        if expires is None:
            return None
        left = (expires - self.clock.now()).total_seconds()
        if left > 0:
            return left
        namespace, name = split_key(key)
        try:
            fresh = Job.model_validate(await self.client.get_raw(JOBS, name, namespace))
        except errors.NotFoundError:
            return None
        expires = expiry(fresh)
        if expires is None or fresh.metadata.deletion_timestamp is not None:
            return None
        left = (expires - self.clock.now()).total_seconds()
        if left > 0:
            return left
        log.info("deleting job %s: finished more than its TTL ago", key)
        with contextlib.suppress(errors.NotFoundError, errors.ConflictError):
            await self.client.delete_raw(
                JOBS, name, namespace, propagation_policy="Foreground",
                preconditions={"uid": fresh.metadata.uid or ""},
            )  # fmt: skip
        return None
