"""Scheduler throughput: pods bound per second, end to end, on hollow Node objects.

For each case (nodes, pods), on a fresh etcd + apiserver:

1. create the Node objects and the pending pods through the API (no scheduler runs);
2. start a real ``navarch scheduler`` process and time from its start until a watch has
   seen every pod bound (the scheduler's own start-up, list and sync are included);
3. floor, in the same run: create the same number of pods again and bind them with a
   plain client (aiohttp, as many concurrent POSTs as the scheduler's ``--bind-workers``)
   choosing nodes round-robin: the rate at which the apiserver can take bindings at
   all, so the ratio shows what the scheduling decisions cost.

The scheduler also writes a ``Scheduled`` event per pod, as Kubernetes' does; the floor
writes only bindings.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench.common import control_plane, write_section
from testkit.processes import DaemonProcess

CASES = ((1000, 5000), (5000, 10000))
ZONES = 10
BIND_WORKERS = 16
JSON = {"Content-Type": "application/json"}


def node_body(i: int) -> dict[str, Any]:
    name = f"node-{i}"
    resources = {"cpu": "32", "memory": "128Gi", "pods": "110"}
    return {
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "topology.kubernetes.io/zone": f"zone-{i % ZONES}",
                "node.kubernetes.io/instance-type": "hollow",
            },
        },
        "spec": {},
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def pod_body(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"app": "bench"}},
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "image": "registry.local/pause:3.9",
                    "resources": {"requests": {"cpu": "100m", "memory": "500Mi"}},
                }
            ]
        },
    }


async def _each(count: int, concurrency: int, one: Any) -> None:
    it = iter(range(count))

    async def worker() -> None:
        for i in it:
            await one(i)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _post(session: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> None:
    async with session.post(path, data=orjson.dumps(body), headers=JSON) as resp:
        if resp.status != 201:
            raise RuntimeError(f"POST {path}: {resp.status} {await resp.text()}")
        await resp.read()


async def create_nodes(session: aiohttp.ClientSession, count: int) -> None:
    await _each(count, 32, lambda i: _post(session, "/api/v1/nodes", node_body(i)))


async def create_pods(session: aiohttp.ClientSession, namespace: str, count: int) -> str:
    """Create the namespace and ``count`` pods; return the resourceVersion after them."""
    await _post(session, "/api/v1/namespaces", {"metadata": {"name": namespace}})
    base = f"/api/v1/namespaces/{namespace}/pods"
    await _each(count, 32, lambda i: _post(session, base, pod_body(f"p{i}")))
    async with session.get(base, params={"limit": "1"}) as resp:
        return str((await resp.json())["metadata"]["resourceVersion"])


async def wait_bound(
    session: aiohttp.ClientSession, namespace: str, count: int, rv: str, timeout: float
) -> tuple[float, float]:
    """Watch until ``count`` pods of ``namespace`` are bound; (first, last) bind times."""
    bound: set[str] = set()
    first = 0.0
    params = {"watch": "true", "resourceVersion": rv, "allowWatchBookmarks": "true"}
    async with session.get(
        f"/api/v1/namespaces/{namespace}/pods",
        params=params,
        timeout=aiohttp.ClientTimeout(total=timeout, sock_read=timeout),
    ) as resp:
        async for line in resp.content:
            if b'"nodeName"' not in line:
                continue
            event = orjson.loads(line)
            obj = event.get("object") or {}
            if (obj.get("spec") or {}).get("nodeName"):
                name = obj["metadata"]["name"]
                if name not in bound:
                    bound.add(name)
                    if not first:
                        first = time.perf_counter()
                    if len(bound) == count:
                        return first, time.perf_counter()
    raise RuntimeError(f"watch ended with {len(bound)}/{count} pods bound")


@dataclass
class Result:
    nodes: int
    pods: int
    seconds: float  # scheduler start -> last pod bound
    steady: float  # first bind -> last bind
    floor_seconds: float

    @property
    def rate(self) -> float:
        return self.pods / self.seconds

    @property
    def steady_rate(self) -> float:
        return self.pods / self.steady if self.steady else float("nan")

    @property
    def floor_rate(self) -> float:
        return self.pods / self.floor_seconds


async def _prepare(url: str, nodes: int, pods: int) -> str:
    async with aiohttp.ClientSession(url, connector=aiohttp.TCPConnector(limit=64)) as session:
        await create_nodes(session, nodes)
        return await create_pods(session, "sched", pods)


async def _measure(
    url: str, pods: int, rv: str, scheduler: DaemonProcess
) -> tuple[float, float, float]:
    async with aiohttp.ClientSession(url, connector=aiohttp.TCPConnector(limit=64)) as session:
        watching = asyncio.create_task(wait_bound(session, "sched", pods, rv, 900))
        await asyncio.sleep(0.2)  # the watch is open before the clock starts
        start = time.perf_counter()
        scheduler.start()
        try:
            first, last = await watching
        finally:
            if not watching.done():
                watching.cancel()
        return start, first, last


async def _floor(url: str, nodes: int, pods: int) -> float:
    async with aiohttp.ClientSession(
        url, connector=aiohttp.TCPConnector(limit=BIND_WORKERS + 8)
    ) as session:
        await create_pods(session, "floor", pods)
        targets = itertools.cycle(range(nodes))
        base = "/api/v1/namespaces/floor/pods"

        async def bind(i: int) -> None:
            body = {
                "apiVersion": "v1",
                "kind": "Binding",
                "metadata": {"name": f"p{i}", "namespace": "floor"},
                "target": {"apiVersion": "v1", "kind": "Node", "name": f"node-{next(targets)}"},
            }
            await _post(session, f"{base}/p{i}/binding", body)

        start = time.perf_counter()
        await _each(pods, BIND_WORKERS, bind)
        return time.perf_counter() - start


def measure(nodes: int, pods: int, *scheduler_args: str) -> Result:
    with (
        control_plane("--watch-cache-size", "50000") as (_etcd, api),
        tempfile.TemporaryDirectory(prefix="navarch-sched-") as tmp,
    ):
        rv = asyncio.run(_prepare(api.url, nodes, pods))
        scheduler = DaemonProcess(
            [
                "scheduler", "--master", api.url, "--log-level", "warning",
                "--bind-workers", str(BIND_WORKERS), *scheduler_args,
            ],
            Path(tmp) / "scheduler.log",
        )  # fmt: skip
        try:
            start, first, last = asyncio.run(_measure(api.url, pods, rv, scheduler))
        except Exception:
            print(scheduler.log_tail(), flush=True)
            raise
        finally:
            scheduler.stop()
        floor = asyncio.run(_floor(api.url, nodes, pods))
    return Result(nodes, pods, last - start, last - first, floor)


def run() -> str:
    results = []
    for nodes, pods in CASES:
        result = measure(nodes, pods)
        results.append(result)
        print(
            f"{nodes} nodes / {pods} pods: {result.rate:,.0f} pods/s from scheduler start "
            f"({result.steady_rate:,.0f}/s first to last bind); floor {result.floor_rate:,.0f} "
            "binds/s",
            flush=True,
        )
    lines = [
        "| nodes | pods | pods bound/s (from scheduler start) | first to last bind /s "
        "| floor: plain binding POSTs/s | scheduler / floor |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.nodes:,} | {r.pods:,} | {r.rate:,.0f} ({r.seconds:.1f} s) | {r.steady_rate:,.0f} "
            f"| {r.floor_rate:,.0f} | {r.rate / r.floor_rate:.0%} |"
        )
    body = "\n".join(lines)
    body += (
        "\n\nEnd to end: pods created through the API before the scheduler starts; the clock "
        "runs from starting the `navarch scheduler` process (its start-up, informer lists "
        "and cache sync included) until a watch has seen every pod bound. Hollow nodes "
        f"(32 CPU, 128Gi, 110 pods, {ZONES} zones), pods requesting 100m / 500Mi, default "
        f"plugins and weights, `--bind-workers {BIND_WORKERS}`; the scheduler also writes a "
        "`Scheduled` event per pod. The floor binds the same number of pods with a plain "
        f"aiohttp client ({BIND_WORKERS} concurrent POSTs, nodes round-robin, no events), in "
        "the same run against the same apiserver. Target: 300 pods/s at 5,000 nodes."
    )
    write_section("scheduler: pods bound per second (issue 3)", body)
    print(body)
    return body


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        run()
