"""CronJob (batch/v1).

A CronJob's schedule is checked by a parser that accepts what Kubernetes' cron library
(``robfig/cron`` ``ParseStandard``) accepts and words its errors the same way; a
schedule must also be one ``croniter`` (what navarch schedules with) understands. Its
job template is checked as a Job's spec is (``job.validate_job_template_spec``).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Any

from croniter import croniter

from apiserver.kinds.common import go_label_selector, nonnegative
from apiserver.kinds.job import (
    default_job_template_spec,
    empty_job_spec,
    validate_job_template_spec,
)
from apiserver.kinds.printers import AGE_COLUMN
from apiserver.kinds.workload import CONTAINERS, IMAGES, container_cells, selector_column
from apiserver.registry.strategy import Column, Strategy, age
from apiserver.subresources.status import Status
from apitypes import registry
from apitypes.batch import CronJob, CronJobSpec
from apitypes.duration import go_duration_error
from apitypes.selectors import format_label_selector
from apitypes.validation import FieldError, FieldPath, go_quote, invalid, not_supported, required

_CRONJOB_NAME_MAX = 52  # 63 minus the 11-character suffix of the Jobs it creates


# --- cron schedules (robfig/cron v3, ParseStandard) ----------------------------------------


class _CronError(ValueError):
    pass


_MONTH_NAMES = {
    name: i + 1
    for i, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
_DOW_NAMES = {name: i for i, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# minute, hour, day of month, month, day of week: (min, max, names)
_CRON_FIELDS: tuple[tuple[int, int, Mapping[str, int]], ...] = (
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, _MONTH_NAMES),
    (0, 6, _DOW_NAMES),
)
_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_GO_INT64_MAX = 2**63 - 1
_ATOI_RE = re.compile(r"[+-]?[0-9]+")


def _atoi(text: str) -> int:
    """``strconv.Atoi`` as robfig/cron reports its failures."""
    if not _ATOI_RE.fullmatch(text):
        raise _CronError(
            f"failed to parse int from {text}: strconv.Atoi: parsing {go_quote(text)}: "
            "invalid syntax"
        )
    value = int(text)
    if abs(value) > _GO_INT64_MAX:
        raise _CronError(
            f"failed to parse int from {text}: strconv.Atoi: parsing {go_quote(text)}: "
            "value out of range"
        )
    if value < 0:
        raise _CronError(f"negative number ({value}) not allowed: {text}")
    return value


def _int_or_name(text: str, names: Mapping[str, int]) -> int:
    named = names.get(text.lower())
    return named if named is not None else _atoi(text)


def _check_range(expr: str, low: int, high: int, names: Mapping[str, int]) -> None:
    range_and_step = expr.split("/")
    low_high = range_and_step[0].split("-")
    if low_high[0] in ("*", "?"):
        start, end = low, high
    else:
        start = _int_or_name(low_high[0], names)
        if len(low_high) == 1:
            end = start
        elif len(low_high) == 2:
            end = _int_or_name(low_high[1], names)
        else:
            raise _CronError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _atoi(range_and_step[1])
        if len(low_high) == 1:
            end = high  # "N/step" runs from N to the field's maximum
    else:
        raise _CronError(f"too many slashes: {expr}")
    if start < low:
        raise _CronError(f"beginning of range ({start}) below minimum ({low}): {expr}")
    if end > high:
        raise _CronError(f"end of range ({end}) above maximum ({high}): {expr}")
    if start > end:
        raise _CronError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise _CronError(f"step of range should be a positive number: {expr}")


def _load_location_error(name: str) -> str | None:
    """Why Go's ``time.LoadLocation`` refuses ``name`` (None when it loads)."""
    if name in ("", "UTC", "Local"):
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return f"unknown time zone {name}"
    return None


def cron_schedule_error(spec: str) -> str | None:
    """robfig/cron's ``ParseStandard`` error for ``spec``, None when it parses.

    Five fields (minute, hour, day of month, month, day of week; ``*``, ``?``, ranges,
    steps, lists, month and weekday names), the ``@hourly``-style descriptors,
    ``@every <duration>``, and a ``TZ=``/``CRON_TZ=`` prefix.
    """
    if not spec:
        return "empty spec string"
    if spec.startswith(("TZ=", "CRON_TZ=")):
        space = spec.find(" ")
        name = spec[spec.find("=") + 1 : space if space >= 0 else len(spec)]
        reason = _load_location_error(name)
        if reason is not None:
            return f"provided bad location {name}: {reason}"
        spec = spec[space:].strip() if space >= 0 else ""
    if spec.startswith("@"):
        if spec in _DESCRIPTORS:
            return None
        if spec.startswith("@every "):
            reason = go_duration_error(spec[len("@every ") :])
            if reason is not None:
                return f"failed to parse duration {spec}: {reason}"
            return None
        return f"unrecognized descriptor: {spec}"
    fields = spec.split()
    if len(fields) != len(_CRON_FIELDS):
        return f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]"
    try:
        for text, (low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
            for expr in (part for part in text.split(",") if part):
                _check_range(expr, low, high, names)
    except _CronError as err:
        return str(err)
    return None


def _schedule_errors(schedule: str, path: FieldPath) -> list[FieldError]:
    errors: list[FieldError] = []
    reason = cron_schedule_error(schedule)
    if reason is not None:
        errors.append(invalid(path, schedule, reason))
    elif "TZ" not in schedule and not croniter.is_valid(schedule):
        # Kubernetes' parser accepts a few forms (``@every``, ``?`` in the minute, a
        # stray ``*-N``) the scheduler navarch runs cannot follow; refuse them now
        # rather than never run the CronJob.
        errors.append(invalid(path, schedule, "this form of schedule is not supported"))
    if "TZ" in schedule:
        errors.append(
            invalid(
                path, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
            )
        )
    return errors


_TZ_PART_RE = re.compile(r"[A-Za-z.\-_0-9+]{1,14}")


def time_zone_errors(time_zone: str | None, path: FieldPath) -> list[FieldError]:
    """``validateTimeZone``: an IANA name with sane parts that the tz database has."""
    if time_zone is None:
        return []
    if not time_zone:
        return [invalid(path, time_zone, "timeZone must be nil or non-empty string")]
    for part in time_zone.split("/"):
        if part in (".", "..") or part.startswith("-") or not _TZ_PART_RE.fullmatch(part):
            return [invalid(path, time_zone, f"unknown time zone {time_zone}")]
    errors: list[FieldError] = []
    if time_zone.lower() == "local":
        errors.append(
            invalid(
                path,
                time_zone,
                "timeZone must be an explicit time zone as defined in "
                "https://www.iana.org/time-zones",
            )
        )
    reason = _load_location_error(time_zone)
    if reason is not None:
        errors.append(invalid(path, time_zone, reason))
    return errors


# --- CronJob -------------------------------------------------------------------------------


def _validate_cron_job_spec(spec: CronJobSpec) -> list[FieldError]:
    path = FieldPath("spec")
    errors: list[FieldError] = []
    if not spec.schedule:
        errors.append(required(path.child("schedule")))
    else:
        errors += _schedule_errors(spec.schedule, path.child("schedule"))
    errors += nonnegative(spec.starting_deadline_seconds, path.child("startingDeadlineSeconds"))
    errors += time_zone_errors(spec.time_zone, path.child("timeZone"))
    policy = spec.concurrency_policy or ""
    if not policy:
        errors.append(required(path.child("concurrencyPolicy")))
    elif policy not in ("Allow", "Forbid", "Replace"):
        errors.append(
            not_supported(path.child("concurrencyPolicy"), policy, ["Allow", "Forbid", "Replace"])
        )
    template_path = path.child("jobTemplate", "spec")
    job_spec = spec.job_template.spec or empty_job_spec()
    errors += validate_job_template_spec(job_spec, template_path)
    if job_spec.selector is not None:
        errors.append(
            invalid(
                template_path.child("selector"),
                go_label_selector(job_spec.selector),
                "`selector` will be auto-generated",
            )
        )
    if job_spec.manual_selector:
        errors.append(not_supported(template_path.child("manualSelector"), True, ["nil", "false"]))
    errors += nonnegative(
        spec.successful_jobs_history_limit, path.child("successfulJobsHistoryLimit")
    )
    errors += nonnegative(spec.failed_jobs_history_limit, path.child("failedJobsHistoryLimit"))
    return errors


def _print_bool(value: bool | None) -> str:
    if value is None:
        return "<unset>"
    return "True" if value else "False"


class CronJobStrategy(Strategy):
    """CronJobs: Allow concurrency, not suspended, three successful and one failed Job
    kept; a standard five-field (or ``@daily``-style) schedule, a real time zone, and a
    name short enough for the Jobs it names after itself."""

    resource = registry.resource("batch", "cronjobs")
    subresources = (Status(),)
    generation = True
    columns = (
        Column("Schedule", description="The schedule in Cron format."),
        Column("Timezone", description="The time zone name for the given schedule."),
        Column("Suspend", "boolean", "Whether subsequent executions are suspended."),
        Column("Active", "integer", "The currently running jobs."),
        Column("Last Schedule", description="When the job was last successfully scheduled."),
        AGE_COLUMN,
        CONTAINERS,
        IMAGES,
        selector_column("A label query over pods that should match the pod count."),
    )

    def default(self, obj: CronJob) -> None:
        spec = obj.spec
        if spec is None:
            return
        if not spec.concurrency_policy:
            spec.concurrency_policy = "Allow"
        if spec.suspend is None:
            spec.suspend = False
        if spec.successful_jobs_history_limit is None:
            spec.successful_jobs_history_limit = 3
        if spec.failed_jobs_history_limit is None:
            spec.failed_jobs_history_limit = 1
        # A job template gets pod defaults but not the Job defaults: those apply when
        # the CronJob controller creates each Job.
        if spec.job_template.spec is None:
            spec.job_template.spec = empty_job_spec()
        default_job_template_spec(spec.job_template.spec)

    def validate(self, obj: CronJob) -> list[FieldError]:
        errors = self.validate_metadata(obj)
        if obj.spec is None:
            errors += [required("spec.schedule"), required("spec.concurrencyPolicy")]
        else:
            errors += _validate_cron_job_spec(obj.spec)
        name = obj.metadata.name or ""
        if len(name) > _CRONJOB_NAME_MAX:
            errors.append(
                invalid(
                    "metadata.name", name, f"must be no more than {_CRONJOB_NAME_MAX} characters"
                )
            )
        return errors

    def row(self, obj: CronJob) -> Sequence[Any]:
        spec, status = obj.spec, obj.status
        last = status.last_schedule_time if status else None
        job_spec = spec.job_template.spec if spec else None
        names, images = container_cells(job_spec.template if job_spec else None)
        return [
            spec.schedule if spec else "",
            (spec.time_zone if spec and spec.time_zone is not None else "<none>"),
            _print_bool(spec.suspend if spec else None),
            len(status.active) if status else 0,
            "<none>" if last is None else age(last),
            age(obj.metadata.creation_timestamp),
            names,
            images,
            format_label_selector(job_spec.selector if job_spec else None),
        ]
