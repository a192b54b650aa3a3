"""The CronJob controller: create Jobs on a cron schedule.

Watches CronJobs and Jobs. For one CronJob key, ``reconcile``:

1. brings ``status.active`` up to date with the Jobs it owns (finished ones leave it,
   ``lastSuccessfulTime`` follows completions);
2. unless ``suspend``, finds the most recent schedule time in (last schedule time or
   creation, now] in the CronJob's ``timeZone`` (UTC without one; ``CRON_TZ=``/``TZ=``
   prefixes also work), skipping one older than ``startingDeadlineSeconds``;
3. applies ``concurrencyPolicy``: Allow runs Jobs side by side, Forbid skips the run
   while one is active, Replace deletes the active ones first;
4. creates Job ``<cronjob>-<minutes since the epoch of the schedule time>`` from
   ``jobTemplate`` (annotated ``batch.kubernetes.io/cronjob-scheduled-timestamp``),
   records it in ``status.active`` and ``lastScheduleTime``;
5. deletes finished Jobs beyond ``successfulJobsHistoryLimit`` / ``failedJobsHistoryLimit``
   (oldest first), and asks to be looked at again at the next schedule time.

The clock is injectable: ``--cronjob-clock-offset`` shifts this controller's idea of
"now", so tests need not wait for the minute to turn.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from apiclient import NORMAL, WARNING, Informer, errors, object_key
from apitypes.base import format_time
from apitypes.batch import CronJob, CronJobStatus, Job
from apitypes.core import ObjectReference
from apitypes.meta import ObjectMeta
from apitypes.registry import by_model
from controllers.base import Controller, ControllerContext
from controllers.util import (
    CONTROLLER_UID_INDEX,
    OWNED_INDEXERS,
    controller_of,
    namespace_terminating,
    owner_reference,
)

log = logging.getLogger(__name__)

JOBS = by_model(Job)
CRONJOBS = by_model(CronJob)
SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"
MAX_MISSED = 100


def parse_schedule(schedule: str, time_zone: str | None) -> tuple[str, ZoneInfo | Any]:
    """(cron expression, tzinfo): a ``CRON_TZ=``/``TZ=`` prefix or ``timeZone`` picks the zone."""
    text = schedule.strip()
    zone_name = time_zone
    for prefix in ("CRON_TZ=", "TZ="):
        if text.startswith(prefix):
            zone_name, _, text = text[len(prefix) :].partition(" ")
            text = text.strip()
    if not zone_name:
        return text, UTC
    try:
        return text, ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"unknown time zone {zone_name!r}") from err


def schedule_times(
    schedule: str,
    time_zone: str | None,
    after: datetime,
    until: datetime,
    limit: int = MAX_MISSED + 1,
) -> list[datetime]:
    """Schedule times ``t`` with ``after < t <= until`` (at most ``limit``, the latest kept)."""
    expr, zone = parse_schedule(schedule, time_zone)
    it = croniter(expr, after.astimezone(zone))
    out: list[datetime] = []
    while True:
        moment = it.get_next(datetime)
        if moment > until:
            return out
        out.append(moment.astimezone(UTC))
        if len(out) > limit:
            out.pop(0)


def next_time(schedule: str, time_zone: str | None, now: datetime) -> datetime:
    expr, zone = parse_schedule(schedule, time_zone)
    moment: datetime = croniter(expr, now.astimezone(zone)).get_next(datetime)
    return moment.astimezone(UTC)


def job_finished(job: Job) -> str | None:
    """ "Complete" or "Failed" when the Job finished, else None."""
    for cond in job.status.conditions if job.status else []:
        if cond.type in ("Complete", "Failed") and cond.status == "True":
            return cond.type
    return None


def job_name(cron_name: str, scheduled: datetime) -> str:
    return f"{cron_name}-{int(scheduled.timestamp()) // 60}"


class CronJobController(Controller):
    name = "cronjob-controller"
    service_account = "cronjob-controller"
    aliases = ("cronjob",)
    workers_option = "concurrent_cron_job_syncs"

    def __init__(self, ctx: ControllerContext, workers: int = 5) -> None:
        super().__init__(ctx, workers)
        self.cronjobs: Informer[CronJob] = self.factory.informer(CronJob)
        self.jobs: Informer[Job] = self.factory.informer(Job, indexers=OWNED_INDEXERS)
        self.cronjobs.add_handler(self.enqueue, lambda _old, new: self.enqueue(new), None)
        self.jobs.add_handler(
            self._job_changed, lambda _old, new: self._job_changed(new), self._job_changed
        )

    def now(self) -> datetime:
        return self.clock.now() + timedelta(seconds=self.options.cronjob_clock_offset)

    def _job_changed(self, job: Job) -> None:
        ref = controller_of(job)
        if ref is None or ref.kind != "CronJob":
            return
        cj = self.cronjobs.store.get_by_name(job.metadata.namespace, ref.name)
        if cj is not None and cj.metadata.uid == ref.uid:
            self.enqueue(cj)

    async def reconcile(self, key: str) -> float | None:
        cached = self.cronjobs.store.get(key)
        if cached is None or cached.spec is None:
            return None
        cj = self.fresh(cached).model_copy(deep=True)
        assert cj.spec is not None
        now = self.now()
        jobs = [
            j for j in self.jobs.store.by_index(CONTROLLER_UID_INDEX, cj.metadata.uid or "")
            if j.metadata.namespace == cj.metadata.namespace
        ]  # fmt: skip
        status = (cj.status or CronJobStatus()).model_copy(deep=True)
        await self._sync_active(cj, status, jobs)
        if cj.metadata.deletion_timestamp is not None:
            await self._write(cj, status)
            return None
        try:
            parse_schedule(cj.spec.schedule, cj.spec.time_zone)
        except (ValueError, KeyError) as err:
            self.recorder.event(cj, WARNING, "UnknownTimeZone", str(err))
            await self._write(cj, status)
            return None
        if cj.spec.suspend:
            await self._write(cj, status)
            return None
        try:
            delay = await self._maybe_run(cj, status, jobs, now)
        finally:
            cj = await self._write(cj, status)
        await self._cleanup(cj, jobs)
        return delay

    async def _sync_active(self, cj: CronJob, status: CronJobStatus, jobs: list[Job]) -> None:
        by_uid = {j.metadata.uid: j for j in jobs}
        kept: list[ObjectReference] = []
        for ref in status.active:
            job = by_uid.get(ref.uid)
            if job is None:
                # Not in the cache: only the apiserver can say it is gone.
                try:
                    raw = await self.client.get_raw(JOBS, ref.name or "", cj.metadata.namespace)
                    if (raw.get("metadata") or {}).get("uid") != ref.uid:
                        continue
                    job = Job.model_validate(raw)
                except errors.NotFoundError:
                    continue
            if job_finished(job) is None:
                kept.append(ref)
        present = {r.uid for r in kept}
        for job in jobs:
            if (
                job_finished(job) is None
                and job.metadata.uid not in present
                and job.metadata.deletion_timestamp is None
            ):
                kept.append(self._reference(job))
                present.add(job.metadata.uid)
        status.active = kept
        for job in jobs:
            if job_finished(job) == "Complete" and job.status and job.status.completion_time:
                done = job.status.completion_time
                if status.last_successful_time is None or done > status.last_successful_time:
                    status.last_successful_time = done

    @staticmethod
    def _reference(job: Job) -> ObjectReference:
        return ObjectReference(
            api_version="batch/v1",
            kind="Job",
            name=job.metadata.name,
            namespace=job.metadata.namespace,
            uid=job.metadata.uid,
            resource_version=job.metadata.resource_version,
        )

    async def _maybe_run(
        self, cj: CronJob, status: CronJobStatus, jobs: list[Job], now: datetime
    ) -> float | None:
        assert cj.spec is not None
        spec = cj.spec
        earliest = status.last_schedule_time or cj.metadata.creation_timestamp or now
        if spec.starting_deadline_seconds is not None:
            earliest = max(earliest, now - timedelta(seconds=spec.starting_deadline_seconds))
        times = schedule_times(spec.schedule, spec.time_zone, earliest, now)
        upcoming = next_time(spec.schedule, spec.time_zone, now)
        delay = (upcoming - now).total_seconds() + 0.1
        if not times:
            return delay
        if len(times) > MAX_MISSED:
            self.recorder.event(
                cj, WARNING, "TooManyMissedTimes",
                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew",
            )  # fmt: skip
        scheduled = times[-1]
        if (
            spec.starting_deadline_seconds is not None
            and scheduled + timedelta(seconds=spec.starting_deadline_seconds) < now
        ):
            self.recorder.event(
                cj,
                WARNING,
                "MissSchedule",
                f"Missed scheduled time to start a job: {format_time(scheduled)}",
            )
            return delay
        name = job_name(cj.metadata.name or "", scheduled)
        if any(ref.name == name for ref in status.active):
            return delay
        policy = spec.concurrency_policy or "Allow"
        if policy == "Forbid" and status.active:
            self.recorder.event(
                cj, NORMAL, "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy is Forbid",
            )  # fmt: skip
            log.info("cronjob %s: not starting %s, a Job is still active", object_key(cj), name)
            return delay
        if policy == "Replace":
            for ref in list(status.active):
                with contextlib.suppress(errors.NotFoundError):
                    await self.client.delete_raw(
                        JOBS, ref.name or "", cj.metadata.namespace, propagation_policy="Background"
                    )
                self.recorder.event(cj, NORMAL, "SuccessfulDelete", f"Deleted job {ref.name}")
            status.active = []
        job = self._job_from_template(cj, name, scheduled)
        try:
            raw = await self.client.create_raw(JOBS, job.to_dict(), cj.metadata.namespace)
            created = Job.model_validate(raw)
            self.recorder.event(cj, NORMAL, "SuccessfulCreate", f"Created job {name}")
        except errors.AlreadyExistsError:
            existing = Job.model_validate(
                await self.client.get_raw(JOBS, name, cj.metadata.namespace)
            )
            owner = controller_of(existing)
            if owner is None or owner.uid != cj.metadata.uid:
                self.recorder.event(
                    cj, WARNING, "FailedCreate", f"Job {name} exists and is not ours"
                )
                return delay
            created = existing
        except errors.ApiError as err:
            if namespace_terminating(err):
                return None
            self.recorder.event(cj, WARNING, "FailedCreate", f"Error creating job: {err.message}")
            raise
        if job_finished(created) is None and not any(
            r.uid == created.metadata.uid for r in status.active
        ):
            status.active.append(self._reference(created))
        status.last_schedule_time = scheduled
        return delay

    def _job_from_template(self, cj: CronJob, name: str, scheduled: datetime) -> Job:
        assert cj.spec is not None
        template = cj.spec.job_template
        annotations = dict(template.metadata.annotations)
        annotations[SCHEDULED_TIMESTAMP] = (
            scheduled.astimezone(UTC).isoformat().replace("+00:00", "Z")
        )
        return Job(
            metadata=ObjectMeta(
                name=name,
                namespace=cj.metadata.namespace,
                labels=dict(template.metadata.labels),
                annotations=annotations,
                owner_references=[owner_reference(cj)],
            ),
            spec=template.spec.model_copy(deep=True) if template.spec else None,
        )

    async def _write(self, cj: CronJob, status: CronJobStatus) -> CronJob:
        if cj.status is not None and cj.status.to_dict() == status.to_dict():
            return cj
        if cj.status is None and not status.to_dict():
            return cj
        body = cj.to_dict()
        body["status"] = status.to_dict()
        try:
            raw = await self.client.update_raw(CRONJOBS, body, subresource="status")
        except errors.NotFoundError:
            return cj
        return self.remember(CronJob.model_validate(raw))

    async def _cleanup(self, cj: CronJob, jobs: list[Job]) -> None:
        assert cj.spec is not None
        limits = {
            "Complete": cj.spec.successful_jobs_history_limit,
            "Failed": cj.spec.failed_jobs_history_limit,
        }
        for outcome, limit in limits.items():
            if limit is None:
                continue
            done = [
                j
                for j in jobs
                if job_finished(j) == outcome and j.metadata.deletion_timestamp is None
            ]
            extra = len(done) - limit
            if extra <= 0:
                continue
            done.sort(key=_started)
            for job in done[:extra]:
                with contextlib.suppress(errors.NotFoundError):
                    await self.client.delete_raw(
                        JOBS, job.metadata.name or "", job.metadata.namespace,
                        propagation_policy="Background",
                    )  # fmt: skip
                    self.recorder.event(
                        cj, NORMAL, "SuccessfulDelete", f"Deleted job {job.metadata.name}"
                    )


def _started(job: Job) -> float:
    stamp = (job.status.start_time if job.status else None) or job.metadata.creation_timestamp
    return stamp.timestamp() if stamp is not None else 0.0
