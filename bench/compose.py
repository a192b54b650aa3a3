"""The docker-compose cluster: time to three Ready nodes, pod-to-pod throughput across
nodes against the same node, and the memory of the whole cluster.

Start-up: images cached (built before the clock starts), ``compose up -d`` timed until
all three nodes are Ready with a Lease renewed since the start (``cli.compose``): from
nothing (fresh volumes), and again on existing state after ``compose down``. The goal
is 20 s (kind takes 30-60 s).

Throughput: a busybox ``nc -ll`` sink on node-1; a client pod sends 512 MiB with ``nc``
from node-1 (same node: over the node's pod bridge) and from node-2 (across nodes: pod
bridge, the project bridge, the other node's pod bridge, unNATed), timed inside the pod
from /proc/uptime, five sends per path taken in turn (a drift in load weighs on both).
The ratio across/same is the figure (goal >= 0.8). Needs the pod
network (node podCIDRs and the network agent).

Memory: each container's memory cgroup (as ``docker stats`` counts it), at rest right after
start-up (no pods); a node's figure includes its engine (and would include its pods:
their cgroups are nested in the node's).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from apiserver.etcd_server import free_port
from bench.common import write_section
from cli.compose import NODES, ComposeCluster, build_images, free_net
from testkit import images
from testkit.network import free_cluster_cidr

RUNS = 3
"""Start-ups timed (each from nothing, then on its volumes)."""
SENDS = 5
"""Sends per path, interleaved."""
PAYLOAD_MIB = 512
NAVARCH = str(Path(sys.executable).with_name("navarch"))


def _up_time(cluster: ComposeCluster) -> float:
    since = datetime.now(UTC).replace(microsecond=0)
    t0 = time.perf_counter()
    cluster.up()
    cluster.wait_ready(len(NODES), since, timeout=300)
    return time.perf_counter() - t0


def _memory(cluster: ComposeCluster) -> list[tuple[str, float]]:
    """MiB per service: what ``docker stats`` shows on cgroup v1 (usage less the
    inactive page cache), read from each container's memory cgroup, since ``docker
    stats`` shows nothing on some hosts ("cannot find cgroup mount destination")."""
    ids = cluster.compose("ps", "-q").stdout.split()
    out = subprocess.run(
        ["docker", "inspect", "--format", "{{.Name}} {{.State.Pid}}", *ids],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rows = []
    for line in out.splitlines():
        name, pid = line.strip().lstrip("/").split(" ", 1)
        rows.append((_service(name, cluster.project), _cgroup_mib(int(pid))))
    return sorted(rows)


def _cgroup_mib(pid: int) -> float:
    """Memory of the cgroup v1 memory hierarchy ``pid`` is in (its container's)."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            base = Path("/sys/fs/cgroup/memory") / path.lstrip("/")
            usage = int((base / "memory.usage_in_bytes").read_text())
            stat = dict(
                (k, int(v))
                for k, v in (row.split() for row in (base / "memory.stat").read_text().splitlines())
            )
            return (usage - stat.get("total_inactive_file", 0)) / 2**20
    raise RuntimeError(f"process {pid}: no cgroup v1 memory hierarchy")


def _service(container: str, project: str) -> str:
    # navarch_node-1_1 (docker-compose) or navarch-node-1-1 (docker compose).
    return re.sub(r"[_-]\d+$", "", container[len(project) + 1 :])


def _throughput(cluster: ComposeCluster) -> tuple[float, float]:
    """MiB/s (same node, across nodes)."""
    image = images.ensure_busybox_image()
    subprocess.run(
        [NAVARCH, "image", "load", image],
        check=True, capture_output=True,
        env={**os.environ, "COMPOSE_PROJECT_NAME": cluster.project},
    )  # fmt: skip
    ns = f"bench-{uuid.uuid4().hex[:6]}"
    with cluster.client(timeout=30) as api:
        api.post("/api/v1/namespaces", json={"metadata": {"name": ns}}).raise_for_status()
        try:
            # nc -ll: a persistent server, each connection's bytes read by cat.
            serve = ["nc", "-ll", "-p", "5001", "-e", "sh", "-c", "cat >/dev/null"]
            sink = _pod("sink", image, serve, "node-1")
            api.post(f"/api/v1/namespaces/{ns}/pods", json=sink).raise_for_status()
            sink_ip = _wait_ip(api, ns, "sink")
            rates: dict[str, list[float]] = {"same": [], "across": []}
            # Interleaved (same, across, same, ...): a drift in the machine's load
            # during the runs then weighs on both paths alike, not on one.
            for i in range(SENDS):
                for label, node in (("same", "node-1"), ("across", "node-2")):
                    # Wait until the sink accepts (an empty connection), then time the send.
                    script = (
                        f"until nc -w 2 {sink_ip} 5001 </dev/null; do sleep 0.2; done; "
                        f"a=$(cut -d' ' -f1 /proc/uptime); "
                        f"dd if=/dev/zero bs=1048576 count={PAYLOAD_MIB} 2>/dev/null "
                        f"| nc {sink_ip} 5001 || echo send failed; "
                        f"b=$(cut -d' ' -f1 /proc/uptime); echo elapsed $a $b; sleep 3600"
                    )
                    name = f"send-{label}-{i}"
                    pod = _pod(name, image, ["sh", "-c", script], node)
                    api.post(f"/api/v1/namespaces/{ns}/pods", json=pod).raise_for_status()
                    a, b = _wait_elapsed(api, ns, name)
                    if b - a < 0.05:
                        raise RuntimeError(f"pod {name} sent {PAYLOAD_MIB} MiB in no time")
                    rates[label].append(PAYLOAD_MIB / (b - a))
                    api.delete(
                        f"/api/v1/namespaces/{ns}/pods/{name}", params={"gracePeriodSeconds": 0}
                    )
            return statistics.median(rates["same"]), statistics.median(rates["across"])
        finally:
            api.delete(f"/api/v1/namespaces/{ns}")


def _pod(name: str, image: str, command: list[str], node: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "nodeName": node,
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {"name": "c", "image": image, "imagePullPolicy": "Never", "command": command}
            ],
        },
    }


def _wait_ip(api: httpx.Client, ns: str, name: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = api.get(f"/api/v1/namespaces/{ns}/pods/{name}").json().get("status") or {}
        if status.get("phase") == "Running" and status.get("podIP"):
            return str(status["podIP"])
        time.sleep(0.25)
    raise TimeoutError(f"pod {name} not Running")


def _wait_elapsed(
    api: httpx.Client, ns: str, name: str, timeout: float = 300
) -> tuple[float, float]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            log = api.get(f"/api/v1/namespaces/{ns}/pods/{name}/log")
            text = log.text if log.status_code == 200 else ""
        except httpx.HTTPError:  # a busy machine: the next poll
            text = ""
        if "send failed" in text:
            raise RuntimeError(f"pod {name} could not send: {text}")
        match = re.search(r"elapsed ([\d.]+) ([\d.]+)", text)
        if match:
            return float(match.group(1)), float(match.group(2))
        time.sleep(0.5)
    raise TimeoutError(f"pod {name} did not finish sending")


def run() -> None:
    build_images()
    cold: list[float] = []
    warm: list[float] = []
    memory: list[tuple[str, float]] = []
    rates = (0.0, 0.0)
    for i in range(RUNS):
        cluster = ComposeCluster(
            project=f"navbench{uuid.uuid4().hex[:6]}",
            api_port=free_port(),
            net=free_net(),
            cluster_cidr=free_cluster_cidr(),
        )
        try:
            cold.append(_up_time(cluster))
            if i == RUNS - 1:
                memory = _memory(cluster)
                rates = _throughput(cluster)
            cluster.down()
            warm.append(_up_time(cluster))
        finally:
            cluster.remove_everything()
    per_service: dict[str, list[float]] = {}
    for service, mib in memory:
        per_service.setdefault(re.sub(r"-\d+$", "", service), []).append(mib)
    mem_rows = "\n".join(
        f"| {name} (x{len(v)}) | {sum(v):.0f} MiB |" for name, v in sorted(per_service.items())
    )
    total = sum(m for _, m in memory)
    same, across = rates
    net = f"""| path | throughput |
|---|---|
| same node (pod bridge) | {same:.0f} MiB/s |
| across nodes (pod bridge, project bridge, pod bridge; not NATed) | {across:.0f} MiB/s |
| **across / same (goal >= 0.8)** | **{across / same:.2f}** |"""
    body = f"""
`python -m bench compose`: deploy/docker-compose.yml (3 etcd members, 2 apiservers behind
haproxy, 2 controller-managers, 2 schedulers, 3 nodes each with its own Docker Engine),
images cached; median of {RUNS} runs. Secure, as `make compose-up` starts it (TLS on every
hop, Node,RBAC, encryption at rest, audit); the time includes checking (or making)
the project's PKI on the host.

| measure | time |
|---|---|
| `compose up -d` from nothing to 3 nodes Ready (goal <= 20 s; kind: 30-60 s) | {statistics.median(cold):.1f} s |
| `compose up -d` on existing volumes (after `compose down`) | {statistics.median(warm):.1f} s |

Pod-to-pod TCP ({PAYLOAD_MIB} MiB through busybox `nc`, median of {SENDS}, the two paths
in turn):

{net}

Memory at rest, no pods (each container's memory cgroup less its inactive page cache, as
`docker stats` counts it; a node's figure includes its Docker Engine):

| service | memory |
|---|---|
{mem_rows}
| **whole cluster** | **{total:.0f} MiB** |
"""
    print(body)
    write_section("compose: start-up, pod-to-pod throughput, memory (issue 14)", body)
