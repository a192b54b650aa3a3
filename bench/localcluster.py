"""``navarch up``: time to a Ready three-node cluster, and what the cluster costs at rest.

Start-up: ``navarch up`` timed from the command to its return (it returns once every
node is Ready): from nothing (a fresh data dir), on existing state (after ``navarch
down``), and on a running cluster (a no-op). The floor, measured in the same run, is
what any cluster on this machine pays before its own work: a cold etcd to healthy,
plus one Python start of the ``navarch`` command (``navarch --help``).

Idle cost: with the cluster up and the sample app's pods not running (nothing to do),
each component's CPU time over 60 s (from /proc, user + system) and resident memory.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from apiserver.etcd_server import EtcdProcess
from bench.common import write_section
from testkit import images
from testkit.network import free_cluster_cidr

RUNS = 3
IDLE_WINDOW = 60.0
NAVARCH = str(Path(sys.executable).with_name("navarch"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


_ENV: dict[str, str] = {}
"""The environment of every ``navarch`` the benchmark runs: its own KUBECONFIG, so that
``up`` does not merge contexts into the kubeconfig of whoever runs it."""


def _run(*args: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([NAVARCH, *args], check=True, capture_output=True, timeout=300, env=_ENV)
    return time.perf_counter() - t0


def _floor(root: Path) -> float:
    t0 = time.perf_counter()
    etcd = EtcdProcess(data_dir=root / "floor-etcd", log_path=root / "floor-etcd.log")
    etcd.start()
    etcd_ready = time.perf_counter() - t0
    etcd.stop()
    t0 = time.perf_counter()
    subprocess.run([NAVARCH, "--help"], check=True, capture_output=True)
    return etcd_ready + time.perf_counter() - t0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run() -> None:
    name = f"b{uuid.uuid4().hex[:5]}"
    with tempfile.TemporaryDirectory(prefix="navarch-bench-up-") as tmp:
        root = Path(tmp)
        _ENV.clear()
        _ENV.update(os.environ, KUBECONFIG=str(root / "kubeconfig"))
        floors = [_floor(root) for _ in range(RUNS)]
        cold: list[float] = []
        warm: list[float] = []
        noop: list[float] = []
        idle: list[tuple[str, float, float]] = []
        for i in range(RUNS):
            data = root / f"data-{i}"
            flags = [
                "--data-dir", str(data), "--name", name,
                "--apiserver-port", str(_free_port()), "--etcd-port", str(_free_port()),
                "--kubelet-port", str(_free_port()),
                # A cluster CIDR no cluster on this host holds, as the ports are.
                "--cluster-cidr", free_cluster_cidr(),
            ]  # fmt: skip
            try:
                cold.append(_run("up", *flags))
                noop.append(_run("up", *flags))
                if i == RUNS - 1:
                    idle = _idle(data)
                _run("down", "--data-dir", str(data))
                warm.append(_run("up", *flags))
            finally:
                subprocess.run(
                    [NAVARCH, "down", "--purge", "--data-dir", str(data)], check=False, env=_ENV
                )
                for node in (1, 2, 3):
                    images.remove_containers({"io.navarch.node": f"{name}-node-{node}"})
    floor = statistics.median(floors)
    rows = [
        ("floor: cold etcd to healthy + `navarch --help`", floor),
        ("`navarch up` from nothing to 3 nodes Ready (target < 10 s)", statistics.median(cold)),
        ("`navarch up` on existing state (after `navarch down`)", statistics.median(warm)),
        ("`navarch up` on a running cluster (no-op)", statistics.median(noop)),
    ]
    table = "\n".join(f"| {label} | {t:.2f} s | {t / floor:.1f}x |" for label, t in rows)
    total_cpu = sum(c for _, c, _ in idle)
    total_rss = sum(r for _, _, r in idle)
    idle_rows = "\n".join(f"| {n} | {c:.1f}% | {r:.0f} MiB |" for n, c, r in idle)
    body = f"""
Median of {RUNS} runs each (`python -m bench cluster`), three nodes, Docker runtime.

| measure | time | against the floor |
|---|---|---|
{table}

At rest for {IDLE_WINDOW:.0f} s (no pods), CPU as a share of one core and resident memory:

| component | CPU | memory |
|---|---|---|
{idle_rows}
| **whole cluster** | **{total_cpu:.1f}%** | **{total_rss:.0f} MiB** |
"""
    print(body)
    write_section("navarch up: start-up and idle cost (issue 6)", body)


def _idle(data: Path) -> list[tuple[str, float, float]]:
    pids = {
        f.stem: int(f.read_text()) for f in sorted((data / "run").glob("*.pid"))
    }  # fmt: skip
    before = {n: _cpu_seconds(p) for n, p in pids.items()}
    time.sleep(IDLE_WINDOW)  # a measurement window, not synchronisation
    found = []
    for n, p in pids.items():
        cpu = (_cpu_seconds(p) - before[n]) / IDLE_WINDOW * 100
        found.append((n, cpu, _rss_mib(p)))
    return found
