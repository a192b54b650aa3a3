"""Cron schedules with time zones, Job backoff, ControllerRevision data, Endpoints subsets,
and TTL expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apitypes.apps import ControllerRevision
from apitypes.batch import Job
from apitypes.core import Pod, PodTemplateSpec, Service
from controllers.cronjob import job_name, next_time, parse_schedule, schedule_times
from controllers.endpoints import build_subsets
from controllers.history import revision_data, same_data, template_of
from controllers.job import backoff_delay, pod_finish_time
from controllers.ttlafterfinished import expiry

T0 = datetime(2024, 3, 10, 12, 0, 30, tzinfo=UTC)


def test_schedule_times_in_utc_and_in_a_time_zone():
    times = schedule_times("*/15 * * * *", None, T0, T0 + timedelta(hours=1))
    assert [t.strftime("%H:%M") for t in times] == ["12:15", "12:30", "12:45", "13:00"]
    # 9:00 in Kolkata (UTC+5:30) is 03:30 UTC.
    times = schedule_times("0 9 * * *", "Asia/Kolkata", T0, T0 + timedelta(days=2))
    assert [t.isoformat() for t in times] == [
        "2024-03-11T03:30:00+00:00",
        "2024-03-12T03:30:00+00:00",
    ]
    assert schedule_times("0 9 * * *", "Asia/Kolkata", T0, T0 + timedelta(hours=1)) == []
    # A prefix in the schedule works like timeZone.
    assert parse_schedule("CRON_TZ=Europe/Paris 0 1 * * *", None)[0] == "0 1 * * *"
    with pytest.raises(ValueError):
        parse_schedule("* * * * *", "Nowhere/Atlantis")


def test_missed_runs_keep_the_latest_and_next_time():
    times = schedule_times("* * * * *", None, T0 - timedelta(days=1), T0, limit=5)
    assert len(times) == 5 and times[-1] == T0.replace(second=0)
    assert next_time("* * * * *", None, T0) == T0.replace(second=0) + timedelta(minutes=1)
    assert (
        job_name("backup", T0.replace(second=0))
        == f"backup-{int(T0.replace(second=0).timestamp()) // 60}"
    )


def test_job_backoff_doubles_up_to_the_cap():
    assert [backoff_delay(n, 10, 360) for n in range(6)] == [0, 10, 20, 40, 80, 160]
    assert backoff_delay(9, 10, 360) == 360


def test_pod_finish_time_prefers_container_finish():
    pod = Pod.model_validate({"status": {"phase": "Failed", "containerStatuses": [
        {"name": "a", "ready": False, "restartCount": 0, "image": "x", "imageID": "x",
         "state": {"terminated": {"exitCode": 1, "finishedAt": "2024-01-01T00:00:05Z"}}},
        {"name": "b", "ready": False, "restartCount": 0, "image": "x", "imageID": "x",
         "state": {"terminated": {"exitCode": 1, "finishedAt": "2024-01-01T00:00:09Z"}}},
    ]}})  # fmt: skip
    assert pod_finish_time(pod) == datetime(2024, 1, 1, 0, 0, 9, tzinfo=UTC)
    assert pod_finish_time(Pod.model_validate({})) is None


def test_revision_data_round_trips_the_template():
    template = PodTemplateSpec.model_validate(
        {
            "metadata": {"labels": {"app": "db"}},
            "spec": {"containers": [{"name": "db", "image": "db:1"}]},
        }
    )
    data = revision_data(template)
    assert data["spec"]["template"]["$patch"] == "replace"
    revision = ControllerRevision.model_validate(
        {"metadata": {"name": "r"}, "data": data, "revision": 1}
    )
    assert template_of(revision) == template
    changed = template.model_copy(deep=True)
    assert changed.spec is not None
    changed.spec.containers[0].image = "db:2"
    assert not same_data(data, revision_data(changed))
    assert same_data(data, revision_data(template.model_copy(deep=True)))


def _pod(name: str, ip: str | None, ready: bool, **extra: Any) -> Pod:
    return Pod.model_validate({
        "metadata": {"name": name, "namespace": "ns", "uid": f"u-{name}", **extra.pop("meta", {})},
        "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "x", "ports": [
            {"name": "http", "containerPort": 8080}]}], **extra},
        "status": {"phase": "Running", "podIP": ip,
                   "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    })  # fmt: skip


def test_endpoints_subsets_split_ready_and_skip_unusable_pods():
    svc = Service.model_validate({"metadata": {"name": "web", "namespace": "ns"}, "spec": {
        "selector": {"app": "web"},
        "ports": [{"name": "http", "port": 80, "targetPort": "http"}, {"name": "admin", "port": 81}]}})  # fmt: skip
    pods = [
        _pod("b", "10.0.0.2", True),
        _pod("a", "10.0.0.1", False),
        _pod("c", None, True),
        _pod("d", "10.0.0.4", True, meta={"deletionTimestamp": "2024-01-01T00:00:00Z"}),
        _pod("e", "10.0.0.5", True, hostname="e", subdomain="web"),
    ]
    subsets, truncated = build_subsets(svc, pods)
    assert not truncated and len(subsets) == 1
    subset = subsets[0]
    assert [a.ip for a in subset.addresses] == ["10.0.0.2", "10.0.0.5"]
    assert [a.ip for a in subset.not_ready_addresses] == ["10.0.0.1"]
    assert sorted((p.name, p.port) for p in subset.ports) == [("admin", 81), ("http", 8080)]
    assert subset.addresses[1].hostname == "e" and subset.addresses[0].hostname is None
    assert subset.addresses[0].target_ref is not None and subset.addresses[0].target_ref.name == "b"
    assert svc.spec is not None
    svc.spec.publish_not_ready_addresses = True
    subsets, _ = build_subsets(svc, pods)
    assert len(subsets[0].addresses) == 4 and not subsets[0].not_ready_addresses


def test_ttl_expiry_counts_from_the_finish():
    job = Job.model_validate({
        "spec": {"ttlSecondsAfterFinished": 30, "template": {}},
        "status": {"conditions": [{"type": "Complete", "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z"}]},
    })  # fmt: skip
    assert expiry(job) == datetime(2024, 1, 1, 0, 0, 30, tzinfo=UTC)
    running = Job.model_validate({"spec": {"ttlSecondsAfterFinished": 30, "template": {}}})
    assert expiry(running) is None
