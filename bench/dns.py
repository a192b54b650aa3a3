"""Cluster DNS: queries per second and p99 latency with ``dnsperf``, per core.

On a fresh etcd + apiserver with 1,000 ClusterIP Services, one ``navarch dns`` process
(on 127.0.0.1, upstream a fake server on 127.0.0.1) is driven by Debian's ``dnsperf``
for ``SECONDS`` per case, 100 queries outstanding:

- cluster names: the 1,000 ``svc-N.bench.svc.cluster.local A``, round-robin;
- forwarded names: 100 names outside the zone, asked once before the run, so that
  every query in the run is a cache hit.

QPS is dnsperf's; p99 comes from its per-query latencies (``-v``). The server's CPU
time over the run (``/proc/<pid>/stat``) gives the cores it used, and QPS per core is
set against the anchor: CoreDNS at about 17k QPS per core (33.7k QPS on 2 vCPU in its
published sizing). Last, 4,000 more Services make 5,000 and the server's resident
memory is read once it holds them all. dnsperf shares the machine's 2 cores.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp
import dns.message
import dns.query
import httpx

from bench.common import control_plane, percentile, write_section
from bench.scheduler import _each, _post
from testkit.dnsserver import DnsServerProcess
from testkit.fakedns import FakeUpstream

SERVICES = 1000
MEMORY_SERVICES = 5000
FORWARDED = 100
SECONDS = 10
OUTSTANDING = 100
COREDNS_QPS_PER_CORE = 17_000
NAMESPACE = "bench"


def service_body(i: int) -> dict:
    return {
        "metadata": {"name": f"svc-{i}", "labels": {"app": "bench"}},
        "spec": {"ports": [{"name": "http", "port": 80, "protocol": "TCP"}]},
    }


async def create_services(url: str, first: int, count: int) -> None:
    async with aiohttp.ClientSession(url, connector=aiohttp.TCPConnector(limit=64)) as session:
        if first == 0:
            await _post(session, "/api/v1/namespaces", {"metadata": {"name": NAMESPACE}})
        base = f"/api/v1/namespaces/{NAMESPACE}/services"
        await _each(count, 32, lambda i: _post(session, base, service_body(first + i)))


def zone_services(server: DnsServerProcess) -> int:
    text = httpx.get(f"{server.health_url}/metrics", timeout=5).text
    found = re.search(r"^navarch_dns_services (\S+)$", text, re.M)
    return int(float(found.group(1))) if found else 0


def wait_services(server: DnsServerProcess, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while zone_services(server) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the DNS server holds {zone_services(server)} of {count} Services")
        time.sleep(0.2)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def dnsperf(server: DnsServerProcess, queries: list[str], workdir: Path) -> dict[str, float]:
    data = workdir / "queries.txt"
    data.write_text("\n".join(queries) + "\n")
    assert server.process is not None
    pid = server.process.pid
    cpu_before, wall_before = cpu_seconds(pid), time.monotonic()
    out = subprocess.run(
        ["dnsperf", "-s", "127.0.0.1", "-p", str(server.port), "-d", str(data),
         "-l", str(SECONDS), "-q", str(OUTSTANDING), "-t", "2", "-v"],
        capture_output=True, text=True, timeout=SECONDS + 30, check=True,
    )  # fmt: skip
    cores = (cpu_seconds(pid) - cpu_before) / (time.monotonic() - wall_before)
    qps = re.search(r"Queries per second:\s+([\d.]+)", out.stdout)
    lost = re.search(r"Queries lost:\s+(\d+)", out.stdout)
    latencies = [
        float(line.rsplit(None, 1)[1])
        for line in out.stdout.splitlines()
        if line.startswith("> ") and re.search(r"\d\.\d+$", line)
    ]
    noerror = sum(1 for line in out.stdout.splitlines() if line.startswith("> NOERROR"))
    if qps is None or not latencies:
        raise RuntimeError(f"dnsperf printed no figures:\n{out.stdout[-2000:]}\n{out.stderr}")
    return {
        "qps": float(qps.group(1)),
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "cores": cores,
        "lost": float(lost.group(1)) if lost else 0.0,
        "noerror": noerror / len(latencies),
    }


def run() -> str:
    upstream_names = {f"name-{i}.example.com.": [("A", f"192.0.2.{i % 250 + 1}", 3600)]
                      for i in range(FORWARDED)}  # fmt: skip
    upstream = FakeUpstream(upstream_names).start()
    results: dict[str, dict[str, float]] = {}
    try:
        with control_plane() as (_, api), tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            asyncio.run(create_services(api.url, 0, SERVICES))
            server = DnsServerProcess.create(api.url, work, upstream=upstream.address)
            server.start()
            try:
                wait_services(server, SERVICES)
                for name in upstream_names:  # warm the cache: the run is all cache hits
                    query = dns.message.make_query(name, "A")
                    dns.query.udp(query, "127.0.0.1", port=server.port, timeout=3)
                cases = {
                    "cluster names": [f"svc-{i}.{NAMESPACE}.svc.cluster.local A"
                                      for i in range(SERVICES)],
                    "forwarded names (cache hits)": [f"{n} A" for n in upstream_names],
                }  # fmt: skip
                for label, queries in cases.items():
                    results[label] = dnsperf(server, queries, work)
                asyncio.run(create_services(api.url, SERVICES, MEMORY_SERVICES - SERVICES))
                wait_services(server, MEMORY_SERVICES)
                assert server.process is not None
                memory = rss_mib(server.process.pid)
            finally:
                server.stop()
    finally:
        upstream.stop()
    rows = [
        "| queries | QPS | p50 | p99 | server cores used | QPS per core | vs CoreDNS per core | NOERROR |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, r in results.items():
        per_core = r["qps"] / max(r["cores"], 0.01)
        rows.append(
            f"| {label} | {r['qps']:,.0f} | {r['p50_ms']:.2f} ms | {r['p99_ms']:.2f} ms | "
            f"{r['cores']:.2f} | {per_core:,.0f} | {per_core / COREDNS_QPS_PER_CORE:.2f}x | "
            f"{r['noerror']:.1%} |"
        )
    body = (
        f"`python -m bench dns`: one `navarch dns` process, {SERVICES:,} ClusterIP Services, "
        f"`dnsperf` over UDP on 127.0.0.1 for {SECONDS} s per case with {OUTSTANDING} queries "
        f"outstanding (dnsperf shares the 2 cores). Anchor: CoreDNS ≈ "
        f"{COREDNS_QPS_PER_CORE:,} QPS per core; goal ≥ 0.5x for cluster names.\n\n"
        + "\n".join(rows)
        + f"\n\nResident memory with {MEMORY_SERVICES:,} Services: {memory:.0f} MiB."
    )
    write_section("cluster DNS: dnsperf QPS and latency (issue 16)", body)
    print(body)
    return body
