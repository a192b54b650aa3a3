"""CronJobs fire on schedule, with concurrency policies, suspend, time zones and history
limits.

The controller-manager runs with ``--cronjob-clock-offset``: its CronJob clock is a
minute ahead, so a ``* * * * *`` CronJob is due as soon as it exists; restarting it
another minute ahead makes the next run due. No test waits for the wall clock.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from apitypes.core import Pod
from testkit.fakenode import FakeNodes
from testkit.processes import ApiServerProcess, DaemonProcess, controller_manager, wait_until

pytestmark = pytest.mark.integration

BATCH = "/apis/batch/v1"
SUITE = f"cj-{uuid.uuid4().hex[:6]}"


def outcome(pod: Pod) -> tuple[str, int] | None:
    return ("Succeeded", 0) if pod.metadata.annotations.get("test/outcome") == "succeed" else None


class Manager:
    def __init__(self, apiserver: ApiServerProcess, session_dir: Path) -> None:
        self.apiserver = apiserver
        self.session_dir = session_dir
        self.process: DaemonProcess | None = None

    def start(self, offset: int) -> None:
        self.stop()
        self.process = controller_manager(
            self.apiserver.url, self.session_dir,
            "--leader-elect-resource-name", f"kcm-{SUITE}",
            "--cronjob-clock-offset", str(offset),
            name=f"cm-cron-{offset}",
        )  # fmt: skip
        self.process.start()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None


@pytest.fixture(scope="module")
def manager(apiserver: ApiServerProcess, session_dir: Path) -> Iterator[Manager]:
    nodes = FakeNodes(apiserver.url, [f"{SUITE}-a"], outcome=outcome).start()
    handle = Manager(apiserver, session_dir)
    handle.start(60)
    try:
        yield handle
    finally:
        handle.stop()
        nodes.stop()


def cronjob(name: str, policy: str = "Allow", succeed: bool = False, **spec: Any) -> dict[str, Any]:
    annotations = {"test/outcome": "succeed"} if succeed else {}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name},
        "spec": {
            "schedule": "* * * * *",
            "concurrencyPolicy": policy,
            "jobTemplate": {
                "metadata": {"labels": {"cron": name}},
                "spec": {
                    "template": {
                        "metadata": {"labels": {"cron": name}, "annotations": annotations},
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "c", "image": "x"}],
                        },
                    }
                },
            },
            **spec,
        },
    }


def jobs(api: httpx.Client, namespace: str, name: str) -> list[dict[str, Any]]:
    resp = api.get(f"{BATCH}/namespaces/{namespace}/jobs", params={"labelSelector": f"cron={name}"})
    return sorted(resp.json()["items"], key=lambda j: j["metadata"]["name"])


def events(api: httpx.Client, namespace: str, reason: str) -> list[dict[str, Any]]:
    resp = api.get(f"/api/v1/namespaces/{namespace}/events")
    return [e for e in resp.json()["items"] if e.get("reason") == reason]


def finished(job: dict[str, Any]) -> bool:
    return any(
        c["type"] == "Complete" and c["status"] == "True"
        for c in (job.get("status") or {}).get("conditions") or []
    )


def test_cronjobs_fire_and_apply_concurrency_policies(
    manager: Manager, api: httpx.Client, namespace: str
):
    base = f"{BATCH}/namespaces/{namespace}/cronjobs"
    for body in (
        cronjob("allow"),
        cronjob("forbid", "Forbid"),
        cronjob("replace", "Replace"),
        cronjob("zoned", timeZone="Asia/Kolkata"),
        cronjob("paused", suspend=True),
        cronjob("history", succeed=True, successfulJobsHistoryLimit=1),
    ):
        assert api.post(base, json=body).status_code == 201, body["metadata"]["name"]
    for name in ("allow", "forbid", "replace", "zoned", "history"):

        def fired(name: str = name) -> bool:
            return len(jobs(api, namespace, name)) == 1

        wait_until(fired, 30, what=f"{name} fired")
    first = jobs(api, namespace, "allow")[0]
    owner = first["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("CronJob", "allow", True)
    stamp = first["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    minutes = int(first["metadata"]["name"].rsplit("-", 1)[1])
    assert stamp.endswith(":00Z")
    # The controller writes the CronJob's status after it creates the Job: wait for it.
    allow = wait_until(
        lambda: (cj := api.get(f"{base}/allow").json()).get("status", {}).get("active") and cj,
        10, what="allow's status names its active job",
    )  # fmt: skip
    assert isinstance(allow, dict)
    assert [ref["name"] for ref in allow["status"]["active"]] == [first["metadata"]["name"]]
    assert allow["status"]["lastScheduleTime"] == stamp
    assert jobs(api, namespace, "paused") == []
    wait_until(lambda: finished(jobs(api, namespace, "history")[0]), 30, what="history job done")

    # A minute later (for the controller): the next run is due.
    replaced = jobs(api, namespace, "replace")[0]["metadata"]["name"]
    manager.start(120)
    wait_until(lambda: len(jobs(api, namespace, "allow")) == 2, 30, what="Allow runs a second job")
    second = int(jobs(api, namespace, "allow")[1]["metadata"]["name"].rsplit("-", 1)[1])
    # The latest run due by the restarted controller's clock: the minute after the
    # first, or the one after that if the wall clock passed a minute boundary meanwhile.
    assert minutes + 1 <= second <= (time.time() + 120) // 60
    wait_until(
        lambda: events(api, namespace, "JobAlreadyActive"), 30, what="Forbid skipped the run"
    )
    assert len(jobs(api, namespace, "forbid")) == 1
    wait_until(
        lambda: [j["metadata"]["name"] for j in jobs(api, namespace, "replace")
                 if not j["metadata"].get("deletionTimestamp")] not in ([], [replaced]),
        30, what="Replace swapped the job",
    )  # fmt: skip
    wait_until(
        lambda: replaced not in [j["metadata"]["name"] for j in jobs(api, namespace, "replace")],
        30, what="the replaced job is gone",
    )  # fmt: skip
    assert len(jobs(api, namespace, "zoned")) == 2
    assert jobs(api, namespace, "paused") == []
    # Two successful runs, one kept.
    wait_until(
        lambda: len(jobs(api, namespace, "history")) == 1 and finished(jobs(api, namespace, "history")[0])
        and int(jobs(api, namespace, "history")[0]["metadata"]["name"].rsplit("-", 1)[1]) > minutes,
        30, what="history limit",
    )  # fmt: skip
    history = api.get(f"{base}/history").json()
    assert history["status"].get("lastSuccessfulTime")
    assert not history["status"].get("active")
