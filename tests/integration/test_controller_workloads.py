"""DaemonSets, StatefulSets and Jobs, driven by a real controller-manager process.

The test plays scheduler and kubelet (``FakeNodes``). Its nodes carry a label unique to
this module, and the workloads select on it, so that nodes other tests leave behind do
not count.
"""

from __future__ import annotations

import queue
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from apitypes.core import Pod
from testkit.fakenode import FakeNodes
from testkit.processes import ApiServerProcess, controller_manager, wait_until
from testkit.watching import RawWatch

pytestmark = pytest.mark.integration

APPS = "/apis/apps/v1"
BATCH = "/apis/batch/v1"
SUITE = f"wl-{uuid.uuid4().hex[:6]}"
NODES = [f"{SUITE}-a", f"{SUITE}-b", f"{SUITE}-c"]


def outcome(pod: Pod) -> tuple[str, int] | None:
    """Pods say how they end through the annotation ``test/outcome``: ``succeed``,
    ``fail``, or ``fail-first-N`` (the first N pods of that Job fail)."""
    wanted = pod.metadata.annotations.get("test/outcome")
    if wanted == "succeed":
        return ("Succeeded", 0)
    if wanted == "fail":
        return ("Failed", 1)
    if wanted and wanted.startswith("fail-first-"):
        limit = int(wanted.rsplit("-", 1)[1])
        job = pod.metadata.labels.get("job-name", "")
        seen = FAILS.setdefault(job, [])
        if pod.metadata.uid not in seen:
            seen.append(pod.metadata.uid or "")
        return ("Failed", 2) if seen.index(pod.metadata.uid or "") < limit else ("Succeeded", 0)
    return None


FAILS: dict[str, list[str]] = {}


@pytest.fixture(scope="module")
def cluster(apiserver: ApiServerProcess, session_dir: Path) -> Iterator[FakeNodes]:
    manager = controller_manager(
        apiserver.url, session_dir,
        "--leader-elect-resource-name", f"kcm-{SUITE}",
        "--job-pod-failure-backoff", "0.2s",
        "--pod-gc-period", "1s", "--pod-gc-orphan-quarantine", "1s",
        name="cm-workloads",
    )  # fmt: skip
    manager.start()
    labels = {name: {"suite": SUITE} for name in NODES[:2]}
    labels[NODES[0]]["disk"] = "ssd"
    nodes = FakeNodes(apiserver.url, NODES[:2], labels=labels, outcome=outcome).start()
    try:
        yield nodes
    finally:
        nodes.stop()
        manager.stop()
        if manager.log_path.exists():
            print(manager.log_tail(20))


def get(api: httpx.Client, path: str) -> dict[str, Any]:
    resp = api.get(path)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def pods(api: httpx.Client, namespace: str, selector: str) -> list[dict[str, Any]]:
    return list(get(api, f"/api/v1/namespaces/{namespace}/pods?labelSelector={selector}")["items"])


def live(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def is_ready(pod: dict[str, Any]) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def pinned(pod: dict[str, Any]) -> str:
    terms = pod["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    field = terms["nodeSelectorTerms"][0]["matchFields"][0]
    assert (field["key"], field["operator"]) == ("metadata.name", "In")
    return str(field["values"][0])


# --- DaemonSet --------------------------------------------------------------------------------


def daemonset(name: str, image: str = "agent:1", **selector: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "nodeSelector": {"suite": SUITE, **selector},
                    "containers": [{"name": "agent", "image": image}],
                },
            },
        },
    }


def test_daemonset_follows_nodes(cluster: FakeNodes, api: httpx.Client, namespace: str):
    base = f"{APPS}/namespaces/{namespace}/daemonsets"
    assert api.post(base, json=daemonset("agent")).status_code == 201
    assert api.post(base, json=daemonset("ssd", disk="ssd")).status_code == 201

    def on_nodes(app: str) -> dict[str, str]:
        return {
            pinned(p): p["spec"].get("nodeName", "")
            for p in live(pods(api, namespace, f"app={app}"))
        }

    # Pinned (the controller's node affinity) and bound there by the scheduler.
    wait_until(lambda: on_nodes("agent") == {n: n for n in NODES[:2]}, 30, what="one pod per node")
    wait_until(
        lambda: on_nodes("ssd") == {NODES[0]: NODES[0]}, 30, what="ssd pod only on the ssd node"
    )
    for pod in live(pods(api, namespace, "app=agent")):
        keys = {(t.get("key"), t.get("effect")) for t in pod["spec"]["tolerations"]}
        assert ("node.kubernetes.io/not-ready", "NoExecute") in keys
        assert ("node.kubernetes.io/unreachable", "NoExecute") in keys
        assert ("node.kubernetes.io/unschedulable", "NoSchedule") in keys
        assert pod["metadata"]["labels"]["controller-revision-hash"]
    wait_until(
        lambda: (get(api, f"{base}/agent").get("status") or {}).get("numberAvailable") == 2, 30
    )
    status = get(api, f"{base}/agent")["status"]
    assert status["desiredNumberScheduled"] == 2
    assert status["currentNumberScheduled"] == 2
    assert status["updatedNumberScheduled"] == 2
    assert status["numberMisscheduled"] == 0

    # A new node gets a pod; a node that stops matching loses it; a deleted node's
    # pod is collected.
    cluster.add_node(NODES[2], {"suite": SUITE})
    wait_until(lambda: set(on_nodes("agent")) == set(NODES), 30, what="pod on the new node")
    api.patch(
        f"/api/v1/nodes/{NODES[2]}",
        json={"metadata": {"labels": {"suite": "elsewhere"}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    wait_until(
        lambda: set(on_nodes("agent")) == set(NODES[:2]), 30, what="pod gone from relabelled node"
    )
    api.patch(
        f"/api/v1/nodes/{NODES[2]}",
        json={"metadata": {"labels": {"suite": SUITE}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    wait_until(lambda: set(on_nodes("agent")) == set(NODES), 30)
    cluster.remove_node(NODES[2])
    wait_until(
        lambda: (get(api, f"{base}/agent").get("status") or {}).get("desiredNumberScheduled") == 2,
        30,
    )
    wait_until(lambda: set(on_nodes("agent")) == set(NODES[:2]), 30, what="orphaned pod collected")

    # A deleted daemon pod comes back.
    victim = live(pods(api, namespace, "app=ssd"))[0]["metadata"]["name"]
    api.delete(f"/api/v1/namespaces/{namespace}/pods/{victim}")
    wait_until(
        lambda: (
            [p["metadata"]["name"] for p in live(pods(api, namespace, "app=ssd"))]
            not in ([], [victim])
        ),
        30,
    )


def test_daemonset_rolling_update_one_node_at_a_time(
    cluster: FakeNodes, api: httpx.Client, apiserver: ApiServerProcess, namespace: str
):
    base = f"{APPS}/namespaces/{namespace}/daemonsets"
    assert api.post(base, json=daemonset("roll")).status_code == 201
    wait_until(
        lambda: (get(api, f"{base}/roll").get("status") or {}).get("numberAvailable") == 2, 30
    )
    first_hash = live(pods(api, namespace, "app=roll"))[0]["metadata"]["labels"][
        "controller-revision-hash"
    ]
    listed = get(api, f"/api/v1/namespaces/{namespace}/pods?labelSelector=app=roll")
    watch = RawWatch(
        apiserver.url, f"/api/v1/namespaces/{namespace}/pods",
        labelSelector="app=roll", resourceVersion=listed["metadata"]["resourceVersion"],
    )  # fmt: skip
    state = {p["metadata"]["name"]: p for p in listed["items"]}
    lowest = 2
    try:
        api.patch(
            f"{base}/roll",
            json={
                "spec": {
                    "template": {"spec": {"containers": [{"name": "agent", "image": "agent:2"}]}}
                }
            },
            headers={"Content-Type": "application/strategic-merge-patch+json"},
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                event = watch.events.get(timeout=0.3)
            except queue.Empty:
                status = get(api, f"{base}/roll").get("status") or {}
                if status.get("updatedNumberScheduled") == 2 and status.get("numberAvailable") == 2:
                    break
                continue
            if event["type"] == "BOOKMARK":
                continue
            obj = event["object"]
            if event["type"] == "DELETED":
                state.pop(obj["metadata"]["name"], None)
            else:
                state[obj["metadata"]["name"]] = obj
            ready = sum(1 for p in live(list(state.values())) if is_ready(p))
            lowest = min(lowest, ready)
        else:
            raise TimeoutError("rolling update did not finish")
    finally:
        watch.close()
    assert lowest >= 1, "maxUnavailable 1 means at most one node without a ready pod"
    images = {p["spec"]["containers"][0]["image"] for p in live(pods(api, namespace, "app=roll"))}
    assert images == {"agent:2"}
    hashes = {
        p["metadata"]["labels"]["controller-revision-hash"]
        for p in live(pods(api, namespace, "app=roll"))
    }
    assert len(hashes) == 1 and first_hash not in hashes
    revisions = get(api, f"{APPS}/namespaces/{namespace}/controllerrevisions")["items"]
    assert sorted(r["revision"] for r in revisions) == [1, 2]
    assert all(r["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet" for r in revisions)


def test_daemonset_on_delete_keeps_old_pods(cluster: FakeNodes, api: httpx.Client, namespace: str):
    base = f"{APPS}/namespaces/{namespace}/daemonsets"
    body = daemonset("ondel")
    body["spec"]["updateStrategy"] = {"type": "OnDelete"}
    assert api.post(base, json=body).status_code == 201
    wait_until(
        lambda: (get(api, f"{base}/ondel").get("status") or {}).get("numberAvailable") == 2, 30
    )
    api.patch(
        f"{base}/ondel",
        json={
            "spec": {"template": {"spec": {"containers": [{"name": "agent", "image": "agent:2"}]}}}
        },
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    wait_until(lambda: get(api, f"{base}/ondel")["status"].get("observedGeneration") == 2, 30)
    assert {
        p["spec"]["containers"][0]["image"] for p in live(pods(api, namespace, "app=ondel"))
    } == {"agent:1"}
    victim = live(pods(api, namespace, "app=ondel"))[0]
    api.delete(f"/api/v1/namespaces/{namespace}/pods/{victim['metadata']['name']}")
    wait_until(
        lambda: (
            sorted(
                p["spec"]["containers"][0]["image"] for p in live(pods(api, namespace, "app=ondel"))
            )
            == ["agent:1", "agent:2"]
        ),
        30,
        what="the replaced pod runs the new template, the other the old",
    )


# --- StatefulSet ---------------------------------------------------------------------------------


def statefulset(
    name: str, replicas: int, policy: str = "OrderedReady", **extra: Any
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "replicas": replicas,
        "serviceName": f"{name}-svc",
        "podManagementPolicy": policy,
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": "db", "image": "db:1"}]},
        },
    }
    spec.update(extra)
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name},
        "spec": spec,
    }


class PodLog:
    """Records pod watch events of one app, in order."""

    def __init__(self, api: httpx.Client, url: str, namespace: str, app: str) -> None:
        listed = get(api, f"/api/v1/namespaces/{namespace}/pods?labelSelector=app={app}")
        self.watch = RawWatch(
            url, f"/api/v1/namespaces/{namespace}/pods",
            labelSelector=f"app={app}", resourceVersion=listed["metadata"]["resourceVersion"],
        )  # fmt: skip
        self.events: list[dict[str, Any]] = []

    def drain(self) -> list[dict[str, Any]]:
        while True:
            try:
                event = self.watch.events.get_nowait()
            except queue.Empty:
                return self.events
            if event["type"] != "BOOKMARK":
                self.events.append(event)

    def deleted(self) -> list[str]:
        return [e["object"]["metadata"]["name"] for e in self.drain() if e["type"] == "DELETED"]

    def close(self) -> None:
        self.watch.close()


def test_statefulset_ordered_start_scale_down_and_partitioned_update(
    cluster: FakeNodes, api: httpx.Client, apiserver: ApiServerProcess, namespace: str
):
    base = f"{APPS}/namespaces/{namespace}/statefulsets"
    log = PodLog(api, apiserver.url, namespace, "db")
    try:
        assert api.post(base, json=statefulset("db", 3)).status_code == 201
        wait_until(
            lambda: (get(api, f"{base}/db").get("status") or {}).get("readyReplicas") == 3, 60
        )
        events = log.drain()
    finally:
        log.close()
    # Each pod is created only once every lower ordinal is Ready.
    ready: set[str] = set()
    for event in events:
        obj = event["object"]
        name = obj["metadata"]["name"]
        if event["type"] == "ADDED":
            ordinal = int(name.rsplit("-", 1)[1])
            assert {f"db-{i}" for i in range(ordinal)} <= ready, (
                f"{name} started before its predecessors were ready"
            )
        elif is_ready(obj):
            ready.add(name)
    for i in range(3):
        pod = get(api, f"/api/v1/namespaces/{namespace}/pods/db-{i}")
        assert pod["spec"]["hostname"] == f"db-{i}"
        assert pod["spec"]["subdomain"] == "db-svc"
        labels = pod["metadata"]["labels"]
        assert labels["statefulset.kubernetes.io/pod-name"] == f"db-{i}"
        assert labels["apps.kubernetes.io/pod-index"] == str(i)
        assert labels["controller-revision-hash"].startswith("db-")
    status = get(api, f"{base}/db")["status"]
    assert status["currentRevision"] == status["updateRevision"]

    # Partitioned rolling update: ordinals >= 1 move to the new template, highest first.
    log = PodLog(api, apiserver.url, namespace, "db")
    try:
        api.patch(
            f"{base}/db",
            json={"spec": {
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
                "template": {"spec": {"containers": [{"name": "db", "image": "db:2"}]}},
            }},
            headers={"Content-Type": "application/strategic-merge-patch+json"},
        )  # fmt: skip

        def images() -> dict[str, str]:
            return {
                p["metadata"]["name"]: p["spec"]["containers"][0]["image"]
                for p in live(pods(api, namespace, "app=db"))
            }

        wait_until(lambda: images() == {"db-0": "db:1", "db-1": "db:2", "db-2": "db:2"}
                   and (get(api, f"{base}/db").get("status") or {}).get("readyReplicas") == 3, 60)  # fmt: skip
        # The list can show a pod gone a moment before its DELETED event arrives.
        wait_until(lambda: len(log.deleted()) >= 2, 30, what="two DELETED events")
        deletions = log.deleted()
    finally:
        log.close()
    assert deletions == ["db-2", "db-1"]
    status = get(api, f"{base}/db")["status"]
    assert status["updatedReplicas"] == 2
    assert status["currentRevision"] != status["updateRevision"]
    assert (
        get(api, f"/api/v1/namespaces/{namespace}/pods/db-1")["metadata"]["labels"][
            "controller-revision-hash"
        ]
        == status["updateRevision"]
    )

    # Partition 0 finishes the update; the update revision becomes current.
    api.patch(
        f"{base}/db",
        json={"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}},
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    wait_until(lambda: set(images().values()) == {"db:2"}, 60)
    wait_until(
        lambda: (s := get(api, f"{base}/db")["status"])["currentRevision"] == s["updateRevision"],
        30,
    )

    # Scale down: highest ordinal first, one at a time.
    log = PodLog(api, apiserver.url, namespace, "db")
    try:
        api.patch(f"{base}/db/scale", json={"spec": {"replicas": 1}},
                  headers={"Content-Type": "application/merge-patch+json"})  # fmt: skip
        wait_until(lambda: list(images()) == ["db-0"], 60)
        # The list can show a pod gone a moment before its DELETED event arrives.
        wait_until(lambda: len(log.deleted()) >= 2, 30, what="two DELETED events")
        deletions = log.deleted()
    finally:
        log.close()
    assert deletions == ["db-2", "db-1"]


def test_statefulset_parallel_does_not_wait(cluster: FakeNodes, api: httpx.Client, namespace: str):
    base = f"{APPS}/namespaces/{namespace}/statefulsets"
    for name, policy in (("par", "Parallel"), ("ord", "OrderedReady")):
        body = statefulset(name, 3, policy)
        # No node matches: pods are never scheduled, so they never become Ready.
        body["spec"]["template"]["spec"]["nodeSelector"] = {"nowhere": "true"}
        assert api.post(base, json=body).status_code == 201
    wait_until(lambda: len(pods(api, namespace, "app=par")) == 3, 30, what="all parallel pods")
    wait_until(lambda: len(pods(api, namespace, "app=ord")) == 1, 30)
    # A later pass over the ordered set, made while ord-0 exists and is not Ready, is
    # where it would (wrongly) make its second pod: a spec change bumps the generation,
    # and observedGeneration reaching it says that pass ran and wrote its status.
    before = get(api, f"{base}/ord")["metadata"]["generation"]
    changed = api.patch(f"{base}/ord", json={"spec": {"minReadySeconds": 1}},
                        headers={"Content-Type": "application/merge-patch+json"})  # fmt: skip
    assert changed.status_code == 200, changed.text
    generation = changed.json()["metadata"]["generation"]
    assert generation > before
    wait_until(
        lambda: (get(api, f"{base}/ord").get("status") or {}).get("observedGeneration") == generation,
        30, what="a pass over the ordered set at its new generation",
    )  # fmt: skip
    assert [p["metadata"]["name"] for p in pods(api, namespace, "app=ord")] == ["ord-0"]


# --- Job ------------------------------------------------------------------------------------------


def job(name: str, outcome_annotation: str | None, **spec: Any) -> dict[str, Any]:
    template: dict[str, Any] = {
        "metadata": {
            "annotations": {"test/outcome": outcome_annotation} if outcome_annotation else {}
        },
        "spec": {"restartPolicy": "Never", "containers": [{"name": "work", "image": "work:1"}]},
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {"template": template, **spec},
    }


def conditions(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or []}


def test_job_completions_and_parallelism(cluster: FakeNodes, api: httpx.Client, namespace: str):
    base = f"{BATCH}/namespaces/{namespace}/jobs"
    assert (
        api.post(base, json=job("work", "succeed", completions=4, parallelism=2)).status_code == 201
    )
    wait_until(lambda: "Complete" in conditions(get(api, f"{base}/work")), 60, what="job complete")
    done = get(api, f"{base}/work")
    assert done["status"]["succeeded"] == 4
    assert done["status"].get("failed", 0) == 0
    assert done["status"]["completionTime"]
    assert conditions(done)["SuccessCriteriaMet"]["status"] == "True"
    finished = pods(api, namespace, "job-name=work")
    assert len(finished) == 4
    # Counted pods lose the tracking finalizer.
    assert all(
        "batch.kubernetes.io/job-tracking" not in (p["metadata"].get("finalizers") or [])
        for p in finished
    )


def test_job_retries_failures_then_succeeds(cluster: FakeNodes, api: httpx.Client, namespace: str):
    base = f"{BATCH}/namespaces/{namespace}/jobs"
    assert api.post(base, json=job("retry", "fail-first-2", backoffLimit=3)).status_code == 201
    wait_until(lambda: "Complete" in conditions(get(api, f"{base}/retry")), 60, what="retried job")
    status = get(api, f"{base}/retry")["status"]
    assert (status["succeeded"], status["failed"]) == (1, 2)
    assert len(pods(api, namespace, "job-name=retry")) == 3


def test_job_backoff_limit_and_deadline(cluster: FakeNodes, api: httpx.Client, namespace: str):
    base = f"{BATCH}/namespaces/{namespace}/jobs"
    assert api.post(base, json=job("doomed", "fail", backoffLimit=1)).status_code == 201
    assert api.post(base, json=job("slow", None, activeDeadlineSeconds=2)).status_code == 201
    wait_until(lambda: "Failed" in conditions(get(api, f"{base}/doomed")), 60, what="backoff limit")
    doomed = get(api, f"{base}/doomed")
    assert conditions(doomed)["Failed"]["reason"] == "BackoffLimitExceeded"
    assert doomed["status"]["failed"] == 2
    wait_until(lambda: "Failed" in conditions(get(api, f"{base}/slow")), 30, what="deadline")
    slow = get(api, f"{base}/slow")
    assert conditions(slow)["Failed"]["reason"] == "DeadlineExceeded"
    assert conditions(slow)["FailureTarget"]["status"] == "True"
    wait_until(lambda: not live(pods(api, namespace, "job-name=slow")), 30, what="pods stopped")


def test_job_ttl_after_finished(cluster: FakeNodes, api: httpx.Client, namespace: str):
    base = f"{BATCH}/namespaces/{namespace}/jobs"
    assert (
        api.post(base, json=job("brief", "succeed", ttlSecondsAfterFinished=1)).status_code == 201
    )
    wait_until(
        lambda: api.get(f"{base}/brief").status_code == 404, 60, what="job deleted after its TTL"
    )
    wait_until(lambda: not pods(api, namespace, "job-name=brief"), 30, what="its pods too")


def test_job_suspend_and_resume(cluster: FakeNodes, api: httpx.Client, namespace: str):
    base = f"{BATCH}/namespaces/{namespace}/jobs"
    assert api.post(base, json=job("later", "succeed", suspend=True)).status_code == 201
    wait_until(
        lambda: conditions(get(api, f"{base}/later")).get("Suspended", {}).get("status") == "True",
        30,
    )
    assert not pods(api, namespace, "job-name=later")
    api.patch(f"{base}/later", json={"spec": {"suspend": False}},
              headers={"Content-Type": "application/merge-patch+json"})  # fmt: skip
    wait_until(lambda: "Complete" in conditions(get(api, f"{base}/later")), 60)
