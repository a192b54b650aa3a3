"""Kubelet: pod start latency against a bare ``docker run``, and hollow nodes at scale.

Pod start: 30 pods, one after another, each created with ``spec.nodeName`` set and
timed from just before the create to the moment a watch shows it Running; the floor
is 30 bare ``docker run -d`` of the same image and command (the CLI call, which
returns once the container started), measured in the same run. A pod costs two
container starts (its sandbox, then its container) against ``docker run``'s one.

Hollow nodes: the resident memory of a ``navarch hollow-nodes`` process per node (its
size with 1,000 nodes less its size with 10, over 990), and whether 1,000 nodes renew
their Leases on time: every lease watched for a minute, the longest gap between two
renewals of any node against the renewal period (10 s) and the lease duration (40 s).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.common import Latencies, control_plane, percentile, write_section
from testkit import images
from testkit.kubelets import HollowNodesProcess, KubeletProcess
from testkit.processes import wait_until
from testkit.watching import RawWatch

PODS = 30
WORKERS = 8
"""The kubelet's pod workers (its default), and the parallelism of the burst floor."""
HOLLOW = 1000
SMALL_HOLLOW = 10
WATCH_WINDOW = 60.0
COMMAND = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]


def _pod(name: str, node: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "nodeName": node,
            "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "c", "image": image, "command": COMMAND}],
        },
    }


def _wait_running(watch: RawWatch, name: str, timeout: float = 60.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = watch.next(max(deadline - time.monotonic(), 0.01))
        obj = event.get("object") or {}
        if obj.get("metadata", {}).get("name") != name:
            continue
        if (obj.get("status") or {}).get("phase") == "Running":
            return time.perf_counter()
    raise TimeoutError(f"pod {name} not Running after {timeout}s")


def docker_run_floor(image: str, count: int, *, parallel: int = 1) -> Latencies:
    """``count`` bare ``docker run -d``: one after another, or all queued at once and run
    ``parallel`` at a time (each timed from the moment all were queued)."""
    label = f"navarch.bench={uuid.uuid4().hex[:8]}"
    command = ["docker", "run", "-d", "--label", label, "--label", "navarch.test=1"]
    command += [image, *COMMAND]
    samples: list[float] = []
    try:
        if parallel == 1:
            for _ in range(count):
                t0 = time.perf_counter()
                subprocess.run(command, check=True, capture_output=True)
                samples.append(time.perf_counter() - t0)
        else:
            queued = time.perf_counter()

            def one(_: int) -> float:
                subprocess.run(command, check=True, capture_output=True)
                return time.perf_counter() - queued

            with ThreadPoolExecutor(parallel) as pool:
                samples = list(pool.map(one, range(count)))
    finally:
        key, value = label.split("=")
        images.remove_containers({key: value})
    return Latencies(samples)


def pod_start(api_url: str, work: Path, image: str) -> tuple[Latencies, Latencies]:
    node = f"bench-{uuid.uuid4().hex[:6]}"
    kubelet = KubeletProcess.create(api_url, node, work, runtime="docker", fast=False)
    namespace = f"bench-{uuid.uuid4().hex[:6]}"
    api = httpx.Client(base_url=api_url, timeout=30)
    api.post("/api/v1/namespaces", json={"metadata": {"name": namespace}}).raise_for_status()
    sequential: list[float] = []
    burst: list[float] = []
    try:
        kubelet.start()
        watch = RawWatch(api_url, f"/api/v1/namespaces/{namespace}/pods")
        try:
            # One pod first, so that the pause image and pod network exist.
            api.post(f"/api/v1/namespaces/{namespace}/pods", json=_pod("warm", node, image))
            _wait_running(watch, "warm")
            for i in range(PODS):
                name = f"seq-{i}"
                t0 = time.perf_counter()
                resp = api.post(
                    f"/api/v1/namespaces/{namespace}/pods", json=_pod(name, node, image)
                )
                resp.raise_for_status()
                sequential.append(_wait_running(watch, name) - t0)
            # The same 30 created at once: each pod's own latency, queueing included.
            starts = {}
            for i in range(PODS):
                name = f"burst-{i}"
                starts[name] = time.perf_counter()
                api.post(f"/api/v1/namespaces/{namespace}/pods", json=_pod(name, node, image))
            pending = set(starts)
            deadline = time.monotonic() + 180
            while pending and time.monotonic() < deadline:
                event = watch.next(max(deadline - time.monotonic(), 0.01))
                obj = event.get("object") or {}
                name = obj.get("metadata", {}).get("name")
                if name in pending and (obj.get("status") or {}).get("phase") == "Running":
                    burst.append(time.perf_counter() - starts[name])
                    pending.discard(name)
        finally:
            watch.close()
        api.request(
            "DELETE", f"/api/v1/namespaces/{namespace}/pods", params={"gracePeriodSeconds": "0"}
        )
        with contextlib.suppress(TimeoutError):
            wait_until(
                lambda: not images.containers({"io.navarch.node": node}), timeout=60, interval=0.5
            )
    finally:
        kubelet.stop()
        images.remove_containers({"io.navarch.node": node})
        api.close()
    return Latencies(sequential), Latencies(burst)


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ready_count(api: httpx.Client, prefix: str) -> int:
    nodes = api.get("/api/v1/nodes").json()["items"]
    return sum(
        1
        for n in nodes
        if n["metadata"]["name"].startswith(prefix)
        and any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"])
    )


def hollow_run(api_url: str, work: Path, count: int, *, watch_leases: bool) -> dict[str, Any]:
    prefix = f"h{uuid.uuid4().hex[:4]}-"
    proc = HollowNodesProcess.create(api_url, count, work, prefix)
    api = httpx.Client(base_url=api_url, timeout=60)
    result: dict[str, Any] = {}
    try:
        started = time.monotonic()
        proc.start()
        wait_until(
            lambda: _ready_count(api, prefix) == count or not proc.alive(),
            timeout=600,
            interval=1.0,
            what=f"{count} hollow nodes Ready",
        )
        if not proc.alive():
            raise RuntimeError(f"hollow-nodes exited:\n{proc.log_tail()}")
        result["register_seconds"] = time.monotonic() - started
        assert proc.process is not None
        pid = proc.process.pid
        # Let the process settle (every node through a few renewals) before measuring.
        time.sleep(12)
        result["rss_kib"] = _rss_kib(pid)
        if watch_leases:
            cpu0 = _cpu_seconds(pid)
            renewals: dict[str, list[float]] = {}
            watch = RawWatch(
                api_url, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
            )
            t0 = time.monotonic()
            try:
                while time.monotonic() - t0 < WATCH_WINDOW:
                    try:
                        event = watch.next(1.0)
                    except Exception:
                        continue
                    name = (event.get("object") or {}).get("metadata", {}).get("name", "")
                    if name.startswith(prefix):
                        renewals.setdefault(name, []).append(time.monotonic())
            finally:
                watch.close()
            end = time.monotonic()
            gaps = []
            for name in (f"{prefix}{i}" for i in range(count)):
                stamps = [t0, *renewals.get(name, []), end]
                gaps.append(max(b - a for a, b in itertools.pairwise(stamps)))
            result["cpu_fraction"] = (_cpu_seconds(pid) - cpu0) / (end - t0)
            result["gaps"] = gaps
            result["renewals"] = sum(len(v) for v in renewals.values())
            result["window"] = end - t0
    finally:
        proc.stop()
        for i in range(count):
            api.delete(f"/api/v1/nodes/{prefix}{i}")
        api.close()
    return result


def run() -> str:
    image = images.ensure_busybox_image()
    with tempfile.TemporaryDirectory(prefix="navarch-bench-kubelet-") as tmp:
        work = Path(tmp)
        with control_plane() as (_etcd, api):
            sequential, burst = pod_start(api.url, work, image)
        floor = docker_run_floor(image, PODS)
        burst_floor = docker_run_floor(image, PODS, parallel=WORKERS)
        with control_plane("--watch-cache-size", "50000") as (_etcd, api):
            small = hollow_run(api.url, work, SMALL_HOLLOW, watch_leases=False)
            big = hollow_run(api.url, work, HOLLOW, watch_leases=True)
    per_node_kib = (big["rss_kib"] - small["rss_kib"]) / (HOLLOW - SMALL_HOLLOW)
    gaps = big["gaps"]
    late_renewal = sum(1 for g in gaps if g > 15.0)
    expired = sum(1 for g in gaps if g > 40.0)
    ratio_p99 = sequential.p99_ms / floor.p99_ms
    body = f"""
Pod start, created with `spec.nodeName` set -> Running seen through a watch, {PODS} pods
one after another on one node (Docker runtime, `navarch-test/busybox:2`), against a bare
`docker run -d` of the same image and command in the same run:

| | p50 ms | p99 ms | p99 vs `docker run` |
|---|---|---|---|
| bare `docker run -d` (floor) | {floor.p50_ms:.0f} | {floor.p99_ms:.0f} | 1.00x |
| navarch pod, one at a time | {sequential.p50_ms:.0f} | {sequential.p99_ms:.0f} | **{ratio_p99:.2f}x** (target <= 2x) |

The same {PODS} created at once (each timed from its own create; {WORKERS} pod workers)
against {PODS} `docker run -d` queued at once, {WORKERS} at a time (each timed from the queueing):

| | p50 ms | p99 ms | p99 ratio |
|---|---|---|---|
| {PODS} `docker run -d`, {WORKERS} at a time (floor) | {burst_floor.p50_ms:.0f} | {burst_floor.p99_ms:.0f} | 1.00x |
| {PODS} navarch pods at once | {burst.p50_ms:.0f} | {burst.p99_ms:.0f} | {burst.p99_ms / burst_floor.p99_ms:.2f}x |

A pod is two container starts (its pause sandbox on the `navarch0` bridge, then its
container in the sandbox's namespaces) where `docker run` is one.

Hollow nodes (`navarch hollow-nodes`, fake runtime, one process, one client, one pod
watch and one Node watch for all):

- memory: {big["rss_kib"] / 1024:.0f} MiB resident with {HOLLOW:,} nodes, {small["rss_kib"] / 1024:.0f} MiB with {SMALL_HOLLOW}: **{per_node_kib:.0f} KiB per hollow node**;
- {HOLLOW:,} nodes registered and Ready in {big["register_seconds"]:.0f} s;
- heartbeats: every Lease watched for {big["window"]:.0f} s ({big["renewals"]:,} renewals): longest gap
  between two renewals of one node p50 {percentile(gaps, 50):.1f} s, p99 {percentile(gaps, 99):.1f} s, max {max(gaps):.1f} s
  (renewal period 10 s, lease duration 40 s); nodes with a gap over 15 s: {late_renewal}; over 40 s
  (lease expired): {expired}. **{"All" if expired == 0 else "Not all"} {HOLLOW:,} nodes heartbeat on time.**
  The process used {big["cpu_fraction"] * 100:.0f}% of one core meanwhile.
"""
    write_section("kubelet: pod start and hollow nodes (issue 4)", body)
    print(body)
    return body
