"""The scheduler as a real process against a real apiserver and etcd, on Node objects
the tests create (no kubelet): placement by resources, taints, node affinity,
anti-affinity and spread; pending pods, their events and conditions; leader election.

The module runs its own apiserver (on the session's etcd, under its own key prefix),
so that the Nodes it creates are the only ones its schedulers see.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit.processes import ApiServerProcess, DaemonProcess, wait_until

pytestmark = pytest.mark.integration

HOST = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"


@pytest.fixture(scope="module")
def server(etcd: str, session_dir: Path) -> Iterator[ApiServerProcess]:
    prefix = f"/sched-{uuid.uuid4().hex[:8]}"
    proc = ApiServerProcess.create(etcd, session_dir, "--etcd-prefix", prefix)
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def http(server: ApiServerProcess) -> Iterator[httpx.Client]:
    with server.client(timeout=30) as client:
        yield client


class Cluster:
    """Nodes, pods and schedulers of one test; removes them all afterwards."""

    def __init__(self, http: httpx.Client, server: ApiServerProcess, logs: Path) -> None:
        self.http = http
        self.server = server
        self.logs = logs
        self.ns = f"s-{uuid.uuid4().hex[:8]}"
        self.nodes: list[str] = []
        self.schedulers: list[DaemonProcess] = []
        resp = http.post("/api/v1/namespaces", json={"metadata": {"name": self.ns}})
        assert resp.status_code == 201, resp.text

    def node(
        self,
        name: str,
        *,
        cpu: str = "4",
        labels: dict[str, str] | None = None,
        taints: list[dict[str, Any]] | None = None,
    ) -> None:
        resources = {"cpu": cpu, "memory": "16Gi", "pods": "110"}
        body = {
            "metadata": {"name": name, "labels": {HOST: name, **(labels or {})}},
            "spec": {"taints": taints or []},
            "status": {"capacity": resources, "allocatable": resources},
        }
        resp = self.http.post("/api/v1/nodes", json=body)
        assert resp.status_code == 201, resp.text
        self.nodes.append(name)

    def pod(self, name: str, *, cpu: str = "100m", **spec: Any) -> None:
        labels = spec.pop("labels", {})
        body = {
            "metadata": {"name": name, "labels": labels},
            "spec": {
                "containers": [
                    {"name": "c", "image": "x", "resources": {"requests": {"cpu": cpu}}}
                ],
                **spec,
            },
        }
        resp = self.http.post(f"/api/v1/namespaces/{self.ns}/pods", json=body)
        assert resp.status_code == 201, resp.text

    def scheduler(self, *args: str, name: str = "scheduler") -> DaemonProcess:
        proc = DaemonProcess(
            ["scheduler", *self.server.daemon_flags("--master"), *args],
            self.logs / f"{self.ns}-{name}.log",
        )
        proc.start()
        self.schedulers.append(proc)
        return proc

    def get(self, name: str) -> dict[str, Any]:
        resp = self.http.get(f"/api/v1/namespaces/{self.ns}/pods/{name}")
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    def node_of(self, name: str) -> str | None:
        return self.get(name)["spec"].get("nodeName")

    def wait_bound(self, *names: str, timeout: float = 30) -> dict[str, str]:
        def bound() -> dict[str, str] | None:
            placed = {n: self.node_of(n) for n in names}
            return placed if all(placed.values()) else None  # type: ignore[return-value]

        try:
            return wait_until(bound, timeout, what=f"{names} bound")  # type: ignore[return-value]
        except TimeoutError:
            for proc in self.schedulers:
                print(proc.log_tail())
            raise

    def events(self, name: str, reason: str) -> list[dict[str, Any]]:
        items = self.http.get(f"/api/v1/namespaces/{self.ns}/events").json()["items"]
        return [
            e for e in items
            if e["involvedObject"].get("name") == name and e["reason"] == reason
        ]  # fmt: skip

    def wait_failed(self, name: str, timeout: float = 30) -> str:
        """The message of the pod's FailedScheduling event (waiting for it)."""
        found = wait_until(lambda: self.events(name, "FailedScheduling"), timeout,
                           what=f"FailedScheduling for {name}")  # fmt: skip
        return str(found[0]["message"])  # type: ignore[index]

    def close(self) -> None:
        for proc in self.schedulers:
            proc.stop()
        self.http.request(
            "DELETE", f"/api/v1/namespaces/{self.ns}/pods",
            json={"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0},
        )  # fmt: skip
        for node in self.nodes:
            self.http.delete(f"/api/v1/nodes/{node}")


@pytest.fixture
def cluster(http: httpx.Client, server: ApiServerProcess, session_dir: Path) -> Iterator[Cluster]:
    c = Cluster(http, server, session_dir)
    try:
        yield c
    finally:
        c.close()


def test_resources_place_the_big_pod_and_the_rest_wait_with_an_event(cluster: Cluster) -> None:
    cluster.node("small-1", cpu="1")
    cluster.node("small-2", cpu="1")
    cluster.node("big", cpu="4")
    cluster.pod("huge", cpu="3")
    cluster.scheduler("--no-leader-elect")
    assert cluster.wait_bound("huge") == {"huge": "big"}
    # The event is recorded after the bind returns, so it may follow the bound pod.
    scheduled = wait_until(lambda: cluster.events("huge", "Scheduled"), 30, what="Scheduled event")
    assert scheduled[0]["message"] == f"Successfully assigned {cluster.ns}/huge to big"
    for i in range(3):
        cluster.pod(f"fill-{i}", cpu="1")
    placed = cluster.wait_bound("fill-0", "fill-1", "fill-2")
    assert sorted(placed.values()) == ["big", "small-1", "small-2"]
    cluster.pod("late", cpu="1")
    message = cluster.wait_failed("late")
    assert message == "0/3 nodes are available: 3 Insufficient cpu."
    event = cluster.events("late", "FailedScheduling")[0]
    assert event["type"] == "Warning"

    def condition() -> dict[str, Any] | None:
        conds = cluster.get("late").get("status", {}).get("conditions", [])
        return next((c for c in conds if c["type"] == "PodScheduled"), None)

    cond = wait_until(condition, 20, what="PodScheduled condition")
    assert cond["status"] == "False" and cond["reason"] == "Unschedulable"  # type: ignore[index]
    assert cond["message"] == message  # type: ignore[index]
    assert cluster.node_of("late") is None


def test_taints_keep_pods_off_unless_tolerated(cluster: Cluster) -> None:
    taint = [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
    cluster.node("gpu", taints=taint, labels={"kind": "gpu"})
    cluster.node("plain", cpu="1")
    cluster.pod("anyone")
    cluster.pod("tolerant", tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu",
                                         "effect": "NoSchedule"}], nodeSelector={"kind": "gpu"})  # fmt: skip
    cluster.pod("intolerant", nodeSelector={"kind": "gpu"})
    cluster.scheduler("--no-leader-elect")
    assert cluster.wait_bound("anyone", "tolerant") == {"anyone": "plain", "tolerant": "gpu"}
    assert cluster.wait_failed("intolerant") == (
        "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
        "1 node(s) had untolerated taint {dedicated: gpu}."
    )


def test_node_affinity_and_impossible_requests_leave_pods_pending(cluster: Cluster) -> None:
    cluster.node("fast", labels={"disk": "ssd"})
    cluster.node("slow", labels={"disk": "hdd"})
    required = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "disk", "operator": "In", "values": ["ssd", "nvme"]}]}]}}}  # fmt: skip
    ghost = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchFields": [
            {"key": "metadata.name", "operator": "In", "values": ["ghost"]}]}]}}}  # fmt: skip
    cluster.pod("ssd", affinity=required)
    cluster.pod("pinned", affinity=ghost)
    cluster.pod("greedy", cpu="64")
    cluster.scheduler("--no-leader-elect")
    assert cluster.wait_bound("ssd") == {"ssd": "fast"}
    assert cluster.wait_failed("pinned") == (
        "0/2 nodes are available: 2 node(s) didn't satisfy plugin(s) [NodeAffinity]."
    )
    assert cluster.wait_failed("greedy") == "0/2 nodes are available: 2 Insufficient cpu."
    cluster.pod("after")  # the scheduler goes on after the bad ones
    cluster.wait_bound("after")


def test_anti_affinity_spreads_replicas_one_per_node(cluster: Cluster) -> None:
    for i in range(3):
        cluster.node(f"n{i}")
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": HOST}]}}  # fmt: skip
    for i in range(4):
        cluster.pod(f"web-{i}", labels={"app": "web"}, affinity=anti)
    cluster.scheduler("--no-leader-elect")

    def three_bound() -> list[str] | None:
        placed = [cluster.node_of(f"web-{i}") for i in range(4)]
        done = [p for p in placed if p]
        return done if len(done) == 3 else None

    placed = wait_until(three_bound, 30, what="three replicas bound")
    assert sorted(placed) == ["n0", "n1", "n2"]  # type: ignore[arg-type]
    pending = next(f"web-{i}" for i in range(4) if cluster.node_of(f"web-{i}") is None)
    assert cluster.wait_failed(pending) == (
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules."
    )


def test_topology_spread_across_zones(cluster: Cluster) -> None:
    for zone in ("a", "b"):
        for i in range(2):
            cluster.node(f"{zone}{i}", labels={ZONE: f"zone-{zone}"})
    spread = [{"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule",
               "labelSelector": {"matchLabels": {"app": "spread"}}}]  # fmt: skip
    names = [f"s{i}" for i in range(6)]
    for name in names:
        cluster.pod(name, labels={"app": "spread"}, topologySpreadConstraints=spread)
    cluster.scheduler("--no-leader-elect")
    placed = cluster.wait_bound(*names)
    zones = sorted(node[0] for node in placed.values())
    assert zones == ["a", "a", "a", "b", "b", "b"]


def test_pending_pod_is_scheduled_once_a_suitable_node_appears(cluster: Cluster) -> None:
    cluster.node("tiny", cpu="500m")
    cluster.pod("waiting", cpu="2")
    cluster.scheduler("--no-leader-elect")
    assert cluster.wait_failed("waiting") == "0/1 nodes are available: 1 Insufficient cpu."
    cluster.node("roomy", cpu="8")
    assert cluster.wait_bound("waiting") == {"waiting": "roomy"}


def test_two_schedulers_one_leader_and_the_standby_takes_over(cluster: Cluster) -> None:
    lease = f"sched-{uuid.uuid4().hex[:6]}"
    election = [
        "--leader-elect-resource-name", lease,
        "--leader-elect-lease-duration", "3s",
        "--leader-elect-renew-deadline", "2s",
        "--leader-elect-retry-period", "500ms",
    ]  # fmt: skip
    cluster.node("n0")
    cluster.node("n1")
    first = cluster.scheduler(*election, "--identity", "first", name="first")

    def holder() -> str:
        resp = cluster.http.get(
            f"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/{lease}"
        )
        return (
            str(resp.json()["spec"].get("holderIdentity") or "") if resp.status_code == 200 else ""
        )

    wait_until(lambda: holder() == "first", 30, what="first scheduler leads")
    second = cluster.scheduler(*election, "--identity", "second", name="second")
    for i in range(5):
        cluster.pod(f"early-{i}")
    cluster.wait_bound(*(f"early-{i}" for i in range(5)))
    assert holder() == "first"
    assert reporters(cluster, "early") == {"first"}

    first.kill()
    for i in range(5):
        cluster.pod(f"late-{i}")
    wait_until(lambda: holder() == "second", 30, what="second scheduler takes over")
    cluster.wait_bound(*(f"late-{i}" for i in range(5)))
    assert second.alive()
    wait_until(lambda: reporters(cluster, "late") == {"second"}, 20, what="events by the second")


def reporters(cluster: Cluster, prefix: str) -> set[str]:
    """Which scheduler instances wrote the Scheduled events of pods named ``prefix-*``."""
    items = cluster.http.get(f"/api/v1/namespaces/{cluster.ns}/events").json()["items"]
    return {
        e["source"].get("host", "")
        for e in items
        if e["reason"] == "Scheduled" and e["involvedObject"]["name"].startswith(prefix)
    }
