"""API write throughput and latency against raw etcd, and watch fan-out.

All in one run, on the same machine: the floor is a raw etcd put of the same bytes
from the same kind of client (asyncio, one connection, N concurrent requests).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from aetcd import rpc

from apiserver.storage.etcd import EtcdConfig, EtcdStorage
from bench.common import Latencies, control_plane, write_section

CONCURRENCY = (1, 16, 64)
OBJECTS_PER_LEVEL = {1: 400, 16: 2000, 64: 3000}


def pod(name: str, namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": "bench", "tier": "x"}},
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "image": "registry.local/bench:1",
                    "ports": [{"containerPort": 8080}],
                    "env": [{"name": "MODE", "value": "bench"}],
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                }
            ]
        },
    }


@dataclass
class Run:
    ops: int
    seconds: float
    latencies: Latencies
    cpu_seconds: float = 0.0
    """CPU time the apiserver process spent on the run (0 when not measured)."""

    @property
    def rate(self) -> float:
        return self.ops / self.seconds

    @property
    def cpu_us(self) -> float:
        """The apiserver's CPU time per operation, in microseconds: what a write costs the
        server, whatever else the machine runs."""
        return self.cpu_seconds / self.ops * 1e6


def process_cpu_seconds(pid: int | None) -> float:
    """User plus system CPU time of process ``pid`` so far (0 without one)."""
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _closed_loop(concurrency: int, ops: int, one: Any, pid: int | None = None) -> Run:
    samples: list[float] = []
    counter = iter(range(ops))

    async def worker() -> None:
        for i in counter:
            t0 = time.perf_counter()
            await one(i)
            samples.append(time.perf_counter() - t0)

    cpu = process_cpu_seconds(pid)
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - start
    return Run(ops, seconds, Latencies(samples), process_cpu_seconds(pid) - cpu)


async def raw_etcd(etcd_url: str, concurrency: int, ops: int) -> Run:
    storage = EtcdStorage(EtcdConfig(servers=[etcd_url]))
    prefix = f"/bench/{uuid.uuid4().hex}/"
    bodies = [orjson.dumps(pod(f"p{i}")) for i in range(ops)]

    async def one(i: int) -> None:
        req = rpc.PutRequest(key=f"{prefix}p{i}".encode(), value=bodies[i])
        await storage._call("Put", req)

    await storage.current_revision()  # open the channel outside the timed part
    try:
        return await _closed_loop(concurrency, ops, one)
    finally:
        await storage.close()


def _session(
    url: str, connections: int, *, read_timeout: float | None = 60
) -> aiohttp.ClientSession:
    # aiohttp as the load generator: its client costs the least CPU per request, so the
    # figures measure the server rather than the client.
    return aiohttp.ClientSession(
        url,
        connector=aiohttp.TCPConnector(limit=connections),
        timeout=aiohttp.ClientTimeout(total=None, sock_read=read_timeout),
    )


JSON = {"Content-Type": "application/json"}
STRATEGIC = {"Content-Type": "application/strategic-merge-patch+json"}


async def _namespace(session: aiohttp.ClientSession, prefix: str) -> str:
    ns = f"{prefix}-{uuid.uuid4().hex[:8]}"
    async with session.post("/api/v1/namespaces", json={"metadata": {"name": ns}}) as resp:
        if resp.status != 201:
            raise RuntimeError(await resp.text())
    return ns


async def api_writes(
    url: str, concurrency: int, ops: int, pid: int | None = None
) -> tuple[Run, Run, Run]:
    """Creates, updates (PUT) and status patches of ``ops`` pods, ``concurrency`` at a
    time; the status patches are what a kubelet sends (a strategic merge patch of the
    pod's status, through ``pods/status``)."""
    async with _session(url, concurrency) as session:
        ns = await _namespace(session, "bench")
        base = f"/api/v1/namespaces/{ns}/pods"
        created: dict[int, dict[str, Any]] = {}

        async def create(i: int) -> None:
            body = orjson.dumps(pod(f"p{i}", ns))
            async with session.post(base, data=body, headers=JSON) as resp:
                if resp.status != 201:
                    raise RuntimeError(await resp.text())
                created[i] = orjson.loads(await resp.read())

        async def update(i: int) -> None:
            obj = created[i]
            obj["metadata"]["labels"]["tier"] = "y"
            async with session.put(f"{base}/p{i}", data=orjson.dumps(obj), headers=JSON) as resp:
                if resp.status != 200:
                    raise RuntimeError(await resp.text())
                await resp.read()

        async def report(i: int) -> None:
            body = {
                "status": {
                    "phase": "Running",
                    "podIP": f"10.244.{i // 250}.{i % 250 + 1}",
                    "conditions": [{"type": "Ready", "status": "True"}],
                }
            }
            async with session.patch(
                f"{base}/p{i}/status", data=orjson.dumps(body), headers=STRATEGIC
            ) as resp:
                if resp.status != 200:
                    raise RuntimeError(await resp.text())
                await resp.read()

        return (
            await _closed_loop(concurrency, ops, create, pid),
            await _closed_loop(concurrency, ops, update, pid),
            await _closed_loop(concurrency, ops, report, pid),
        )


async def paced_creates(url: str, rate: float, seconds: float) -> Latencies:
    """Creates issued at a fixed rate (open loop): the latency a steady client sees."""
    samples: list[float] = []
    async with _session(url, 200) as session:
        ns = await _namespace(session, "paced")
        base = f"/api/v1/namespaces/{ns}/pods"

        async def one(i: int) -> None:
            body = orjson.dumps(pod(f"p{i}", ns))
            t0 = time.perf_counter()
            async with session.post(base, data=body, headers=JSON) as resp:
                await resp.read()
                samples.append(time.perf_counter() - t0)
                if resp.status != 201:
                    raise RuntimeError(await resp.text())

        async def ping() -> None:
            async with session.get("/healthz") as resp:
                await resp.read()

        # Warm the connection pool so that connection set-up is not measured.
        await asyncio.gather(*(ping() for _ in range(20)))
        tasks = []
        start = time.perf_counter()
        total = int(rate * seconds)
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    return Latencies(samples)


async def fan_out(url: str, watchers: int, objects: int) -> tuple[float, float, int]:
    """(seconds to write, seconds until every watcher has every event, events missing)."""
    async with _session(url, watchers + 32, read_timeout=None) as session:
        ns = await _namespace(session, "fan")
        base = f"/api/v1/namespaces/{ns}/configmaps"
        async with session.get(base) as resp:
            rv = (await resp.json())["metadata"]["resourceVersion"]
        counts = [0] * watchers
        done = [asyncio.Event() for _ in range(watchers)]
        opened = [asyncio.Event() for _ in range(watchers)]
        finished_at = [0.0] * watchers

        async def watch(i: int) -> None:
            params = {"watch": "true", "resourceVersion": rv}
            async with session.get(base, params=params) as resp:
                opened[i].set()
                async for line in resp.content:
                    if b'"ADDED"' in line[:20]:
                        counts[i] += 1
                        if counts[i] == objects:
                            finished_at[i] = time.perf_counter()
                            done[i].set()
                            return

        tasks = [asyncio.create_task(watch(i)) for i in range(watchers)]
        await asyncio.gather(*(e.wait() for e in opened))

        async def write(i: int) -> None:
            body = {"metadata": {"name": f"c{i}"}, "data": {"i": str(i)}}
            async with session.post(base, json=body) as resp:
                await resp.read()

        start = time.perf_counter()
        it = iter(range(objects))

        async def writer() -> None:
            for i in it:
                await write(i)

        await asyncio.gather(*(writer() for _ in range(16)))
        wrote = time.perf_counter() - start
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in done)), 120)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        missing = sum(objects - c for c in counts)
        last = max(finished_at) if all(finished_at) else float("nan")
        return wrote, last - start, missing


def _row(clients: str, floor: Run, create: Run, update: Run, status: Run) -> str:
    cpu = (
        f"{create.cpu_us:,.0f} / {update.cpu_us:,.0f} / {status.cpu_us:,.0f}"
        if create.cpu_seconds
        else "—"
    )
    return (
        f"| {clients} | {floor.rate:,.0f} | {create.rate:,.0f} | {create.rate / floor.rate:.0%} "
        f"| {update.rate:,.0f} | {update.rate / floor.rate:.0%} "
        f"| {status.rate:,.0f} | {status.rate / floor.rate:.0%} "
        f"| {create.latencies.p50_ms:.1f} / {create.latencies.p99_ms:.1f} "
        f"| {update.latencies.p50_ms:.1f} / {update.latencies.p99_ms:.1f} "
        f"| {status.latencies.p50_ms:.1f} / {status.latencies.p99_ms:.1f} | {cpu} |"
    )


def run() -> str:
    lines = []
    with control_plane() as (etcd, api):
        url = api.url
        pid = api.process.pid if api.process is not None else None
        lines.append(
            "| clients | raw etcd put/s | API create/s | create/etcd | API update/s "
            "| update/etcd | status patch/s | status/etcd | create p50 / p99 ms "
            "| update p50 / p99 ms | status p50 / p99 ms | server CPU µs: create / update / status |"
        )
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for c in CONCURRENCY:
            n = OBJECTS_PER_LEVEL[c]
            floor = asyncio.run(raw_etcd(etcd.url, c, n))
            create, update, status = asyncio.run(api_writes(url, c, n, pid))
            lines.append(_row(str(c), floor, create, update, status))
            print(lines[-1], flush=True)
        paced = asyncio.run(paced_creates(url, 200, 10))
        floor_paced = asyncio.run(raw_etcd(etcd.url, 1, 400))
        wrote, fanned, missing = asyncio.run(fan_out(url, 100, 1000))
    with control_plane("--workers", "2") as (etcd, api):
        floor = asyncio.run(raw_etcd(etcd.url, 64, OBJECTS_PER_LEVEL[64]))
        create, update, status = asyncio.run(api_writes(api.url, 64, OBJECTS_PER_LEVEL[64]))
        lines.append(_row("64, `--workers 2`", floor, create, update, status))
    body = "\n".join(lines)
    body += (
        f"\n\nPaced creates at 200/s for 10 s: p50 {paced.p50_ms:.1f} ms, "
        f"p99 {paced.p99_ms:.1f} ms (target p99 < 25 ms); a raw etcd put at one client "
        f"takes p50 {floor_paced.latencies.p50_ms:.2f} ms, p99 {floor_paced.latencies.p99_ms:.2f} ms "
        f"(ratio of p99s {paced.p99_ms / floor_paced.latencies.p99_ms:.1f}x)."
        f"\n\nWatch fan-out: 100 watchers on one resource while 1,000 objects are written "
        f"(16 writers): writes took {wrote:.2f} s, every watcher had all 1,000 events after "
        f"{fanned:.2f} s ({fanned / wrote:.2f}x the write time); events missing: {missing}."
    )
    write_section("apiserver: writes and watch fan-out (issue 2)", body)
    print(body)
    return body
