"""kube-proxy: the data path against a direct connection, network programming latency
at scale, and the cost of an idle kube-proxy (``python -m bench proxy``).

Data path (all three modes; ``python -m bench proxy-datapath`` runs it alone): one
kubelet of this host runs a server pod and a client pod; the EndpointSlice controller
writes the server's slice; kube-proxy runs on the host. Server and client are Python
in the pods' network namespaces (``nsenter``): the server reads each connection to its
end and answers ``ok``. ``ROUNDS`` rounds, and in each every mode in turn (kube-proxy
started in it), so that the load other work puts on this shared machine weighs on
every mode alike. Per mode and round, one client process streams ``PAIRS`` pairs of
``MIB`` MiB, to the pod IP (the floor) and right after to the ClusterIP: a pair's
ratio compares two streams a fraction of a second apart. Then short exchanges on new
connections to each (connect, 64 bytes, ``ok``: the latency every new connection pays,
DNAT and conntrack included).

Network programming (iptables and nftables): kube-proxy runs in a network namespace
of its own (so the host's tables never hold thousands of test Services), talking to an
apiserver on the host side of a veth. With 1,000, 5,000 and 10,000 Services (each one
port and one endpoint, written directly as Service + EndpointSlice), ``SAMPLES`` times:
a new Service and its slice are written, and a probe inside the namespace connects to
the new ClusterIP until it reaches the endpoint (before the rules exist the packet is
swallowed by the namespace's sink device, or refused while the Service has no
endpoints yet). The latency is from the Service's create to that first connection.
At 5,000 Services, the kube-proxy process's CPU (with its children: iptables-restore,
nft) over ``IDLE_SECONDS`` idle seconds, one full resync included.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from apiserver.etcd_server import EtcdProcess, free_port
from bench.common import control_plane, percentile, write_section
from bench.kubelet import _pod
from bench.network import _netns
from netagent import localroutes
from testkit import images
from testkit.kubelets import KubeletProcess
from testkit.netns import NetNamespace, bound_apiserver
from testkit.processes import DaemonProcess, controller_manager, wait_until

MODES = ("iptables", "nftables", "userspace")
SCALE_MODES = ("iptables", "nftables")
SIZES = (1000, 5000, 10000)
SAMPLES = 25
SPACING = 2.2
"""Seconds between samples: twice ``--min-sync-period`` and a margin, so that each
change finds the runner's burst refilled (back to back, changes are rate-bounded to
one sync a second by design, and the figure would measure that bound)."""
IDLE_SECONDS = 35
MIB = 256
PAIRS = 12
"""Streams to each address per mode and round, alternating direct and ClusterIP."""
ROUNDS = 7
REQUESTS = 1400
PORT = 5001
SERVICE_CIDR = "10.96.0.0/12"
ENDPOINT = "10.200.0.1"

SERVER = f"""
import socket, threading
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", {PORT}))
srv.listen(1024)
def handle(conn):
    buf = bytearray(1 << 20)
    while conn.recv_into(buf):
        pass
    conn.sendall(b"ok")
    conn.close()
while True:
    conn, _ = srv.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
"""

CLIENT = """
import json, socket, sys, time
port, kind, count, repeat = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
addresses = sys.argv[5:]
samples = {address: [] for address in addresses}
chunk, payload = bytes(1 << 20), b"x" * 64
def bulk(address):
    started = time.perf_counter()
    sock = socket.create_connection((address, port))
    for _ in range(count):
        sock.sendall(chunk)
    sock.shutdown(socket.SHUT_WR)
    assert sock.recv(2) == b"ok"
    sock.close()
    samples[address].append(time.perf_counter() - started)
def exchange(address):
    started = time.perf_counter()
    sock = socket.create_connection((address, port), timeout=5)
    sock.sendall(payload)
    sock.shutdown(socket.SHUT_WR)
    assert sock.recv(2) == b"ok"
    sock.close()
    samples[address].append(time.perf_counter() - started)
for _ in range(repeat):
    for address in addresses:
        if kind == "bulk":
            bulk(address)
        else:
            for _ in range(count):
                exchange(address)
print(json.dumps(samples))
"""
"""``port kind count repeat address...``: ``repeat`` times, each address in turn: one
stream of ``count`` MiB (``bulk``) or ``count`` exchanges on new connections (``rr``).
Prints each address's seconds per stream or exchange."""

PROBE = f"""
import socket, sys, threading, time, errno
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("{ENDPOINT}", 8080))
srv.listen(256)
def serve():
    while True:
        conn, _ = srv.accept()
        conn.close()
threading.Thread(target=serve, daemon=True).start()
print("ready", flush=True)
for line in sys.stdin:
    address = line.strip()
    while True:
        sock = socket.socket()
        sock.setblocking(False)
        code = sock.connect_ex((address, 80))
        if code == errno.EINPROGRESS:
            import select
            _, w, _ = select.select([], [sock], [], 0.02)
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) if w else -1
        sock.close()
        if code == 0:
            print(time.time(), flush=True)
            break
        time.sleep(0.002)
"""


def _client(
    netns: list[str], addresses: list[str], kind: str, count: int, repeat: int = 1
) -> dict[str, list[float]]:
    done = subprocess.run(
        [*netns, sys.executable, "-c", CLIENT, str(PORT), kind, str(count), str(repeat), *addresses],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"client {kind} to {addresses}: {done.stderr.strip()[-2000:]}")
    return dict(json.loads(done.stdout))


def _proxy_args(url: str, mode: str, port: int, node: str) -> list[str]:
    return [
        "proxy", "--server", url, "--proxy-mode", mode, "--hostname-override", node,
        "--healthz-bind-address", f"127.0.0.1:{port}",
        "--metrics-bind-address", f"127.0.0.1:{port}",
    ]  # fmt: skip


def _cleanup(log_dir: Path) -> None:
    proc = DaemonProcess(args=["proxy", "--cleanup"], log_path=log_dir / "cleanup.log")
    proc.start()
    assert proc.process is not None
    proc.process.wait(60)


# --- data path -----------------------------------------------------------------------------


Round = dict[str, list[float]]
"""One mode's share of one round: ``direct``/``service`` stream seconds (``PAIRS``
each, alternating), ``rr_direct``/``rr_service`` exchange seconds."""


def _measure(pods: Pods) -> Round:
    addresses = [pods.direct, pods.cluster_ip]
    bulk = _client(pods.client, addresses, "bulk", MIB, PAIRS)
    rr = _client(pods.client, addresses, "rr", REQUESTS // ROUNDS // 4, 4)
    return {
        "direct": bulk[pods.direct],
        "service": bulk[pods.cluster_ip],
        "rr_direct": rr[pods.direct],
        "rr_service": rr[pods.cluster_ip],
    }


@dataclass(frozen=True)
class Pods:
    """The data path's fixture: the client's ``nsenter`` prefix, the server's pod IP and
    ClusterIP, the apiserver, the kubelet's node name and a work directory."""

    client: list[str]
    direct: str
    cluster_ip: str
    url: str
    node: str
    work: Path


@contextmanager
def _bench_pods() -> Iterator[Pods]:
    """A control plane, an EndpointSlice controller, one kubelet of this host running the
    server and client pods, the server listening, and a ``bench`` Service in front of it."""
    images.ensure_busybox_image()
    holder = f"bench-proxy-{uuid.uuid4().hex[:6]}"
    node = f"bkp-{uuid.uuid4().hex[:4]}"
    localroutes.acquire(holder, SERVICE_CIDR, [])
    with (
        tempfile.TemporaryDirectory(prefix="navarch-bench-proxy-") as tmp,
        control_plane() as (_, api),
    ):
        work = Path(tmp)
        url = api.url
        manager = controller_manager(
            url, work, "--controllers", "endpointslice", "--no-leader-elect"
        )
        kubelet = KubeletProcess.create(url, node, work, fast=False)
        server: subprocess.Popen[bytes] | None = None
        try:
            manager.start()
            kubelet.start()
            for name in ("server", "client"):
                body = _pod(name, node, images.BUSYBOX_IMAGE)
                body["metadata"]["labels"] = {"app": name}
                httpx.post(f"{url}/api/v1/namespaces/default/pods", json=body).raise_for_status()
            svc = {"metadata": {"name": "bench"},
                   "spec": {"selector": {"app": "server"}, "ports": [{"port": PORT, "targetPort": PORT}]}}  # fmt: skip
            created = httpx.post(f"{url}/api/v1/namespaces/default/services", json=svc)
            created.raise_for_status()
            cluster_ip = created.json()["spec"]["clusterIP"]

            def pod_ip() -> str | None:
                pod = httpx.get(f"{url}/api/v1/namespaces/default/pods/server").json()
                status = pod.get("status") or {}
                client = httpx.get(f"{url}/api/v1/namespaces/default/pods/client").json()
                running = (client.get("status") or {}).get("phase") == "Running"
                return status.get("podIP") if status.get("phase") == "Running" and running else None

            direct = wait_until(pod_ip, 90, 0.2, what="benchmark pods Running")
            assert isinstance(direct, str)
            for address in (direct, cluster_ip):
                stays, route = localroutes.stays_local(address)
                assert stays, f"{address} would leave the machine: {route}"
            server = subprocess.Popen([*_netns("server"), sys.executable, "-c", SERVER])
            client = _netns("client")
            wait_until(lambda: _client(client, [direct], "rr", 1), 10, 0.2)
            yield Pods(client, direct, cluster_ip, url, node, work)
        finally:
            if server is not None:
                server.kill()
                server.wait()
            kubelet.stop()
            manager.stop()
            images.remove_containers({"io.navarch.node": node})
            localroutes.release(holder, in_use=lambda _holder: True)


@contextmanager
def _serving(mode: str, pods: Pods) -> Iterator[None]:
    """kube-proxy in ``mode`` on this host (every mode's rules removed before and after),
    from the moment the ClusterIP answers."""
    _cleanup(pods.work)
    port = free_port()
    proxy = DaemonProcess(args=_proxy_args(pods.url, mode, port, pods.node),
                          log_path=pods.work / f"proxy-{mode}.log")  # fmt: skip
    proxy.start()
    try:
        wait_until(lambda: _client(pods.client, [pods.cluster_ip], "rr", 1), 30, 0.2,
                   what=f"{mode}: the ClusterIP answering")  # fmt: skip
        yield
    finally:
        proxy.stop()
        _cleanup(pods.work)


def _measure_retrying(mode: str, pods: Pods, attempts: int = 3) -> Round:
    """``_measure`` under a kube-proxy of its own; a failed exchange (this host is shared:
    another kube-proxy starting elsewhere removes the other modes' rules) starts the
    mode's share of the round again, with kube-proxy restarted."""
    for attempt in range(1, attempts + 1):
        try:
            with _serving(mode, pods):
                return _measure(pods)
        except RuntimeError as err:
            if attempt == attempts:
                raise
            print(f"  {mode}: attempt {attempt} failed, again: {str(err)[-300:]}", flush=True)
    raise AssertionError("unreachable")


def _data_path() -> dict[str, list[Round]]:
    """``ROUNDS`` rounds; in each, every mode in turn (kube-proxy restarted in it), so
    that whatever else loads the machine weighs on all modes alike."""
    results: dict[str, list[Round]] = {mode: [] for mode in MODES}
    with _bench_pods() as pods:
        for r in range(ROUNDS):
            for mode in MODES:
                results[mode].append(_measure_retrying(mode, pods))
            print(f"  round {r + 1}/{ROUNDS}: " + ", ".join(
                f"{m} {_ratio(results[m][-1]):.3f}" for m in MODES), flush=True)  # fmt: skip
    return results


# --- network programming at scale ------------------------------------------------------------


@contextmanager
def _namespace_cluster() -> Iterator[tuple[NetNamespace, str, Path]]:
    """etcd, an apiserver on the host side of a veth, and the namespace behind it."""
    with tempfile.TemporaryDirectory(prefix="navarch-bench-kp-") as tmp:
        root = Path(tmp)
        etcd = EtcdProcess(data_dir=root / "etcd", log_path=root / "etcd.log")
        etcd.start()
        ns = NetNamespace.create()
        # Plain HTTP, as bench/common.py's control plane (the recorded numbers).
        api = bound_apiserver(
            etcd.url, ns.host_ip, root, "--etcd-compaction-interval", "0", tls=False
        )
        try:
            api.start()
            # The endpoint's address, and a sink for the service CIDR: a ClusterIP whose
            # rules are not there yet is swallowed, never sent anywhere.
            for kind in ("dummy", "ifb"):
                if subprocess.run(["ip", "netns", "exec", ns.name, "ip", "link", "add", "kpb0",
                                   "type", kind], capture_output=True, check=False).returncode == 0:  # fmt: skip
                    break
            ns.run(["ip", "link", "set", "kpb0", "up"])
            ns.run(["ip", "addr", "add", f"{ENDPOINT}/32", "dev", "kpb0"])
            ns.run(["ip", "route", "add", SERVICE_CIDR, "dev", "kpb0"])
            yield ns, api.url, root
        finally:
            api.stop()
            ns.delete()
            etcd.stop()


async def _create(client: httpx.AsyncClient, start: int, stop: int) -> None:
    """Services ``s<i>`` with one EndpointSlice each, ``start <= i < stop``."""
    limit = asyncio.Semaphore(32)

    async def one(i: int) -> None:
        async with limit:
            svc = {"metadata": {"name": f"s{i}"}, "spec": {"ports": [{"name": "p", "port": 80}]}}
            (await client.post("/api/v1/namespaces/default/services", json=svc)).raise_for_status()
            eps = _slice(f"s{i}")
            resp = await client.post(
                "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", json=eps
            )
            resp.raise_for_status()

    await asyncio.gather(*(one(i) for i in range(start, stop)))


def _slice(service: str) -> dict[str, Any]:
    return {
        "metadata": {"name": f"{service}-1", "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [ENDPOINT], "conditions": {"ready": True}}],
        "ports": [{"name": "p", "port": 8080, "protocol": "TCP"}],
    }


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime, stime, cutime, cstime (fields 14-17; after the command, index 11-14)
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _programming() -> dict[str, dict[int, dict[str, float]]]:
    out: dict[str, dict[int, dict[str, float]]] = {m: {} for m in SCALE_MODES}
    with _namespace_cluster() as (ns, url, root):
        probe = subprocess.Popen(
            ["ip", "netns", "exec", ns.name, sys.executable, "-c", PROBE],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert probe.stdin is not None and probe.stdout is not None
        assert probe.stdout.readline().strip() == "ready"
        api = httpx.Client(base_url=url, timeout=60)
        count = 0
        try:
            for size in SIZES:
                started = time.monotonic()
                asyncio.run(_grow(url, count, size))
                count = size
                print(f"  {size} Services written in {time.monotonic() - started:.0f}s", flush=True)
                for mode in SCALE_MODES:
                    proxy = ns.daemon(
                        _proxy_args(url, mode, 10256, "bench"), root / f"proxy-{mode}-{size}.log"
                    )
                    proxy.start()
                    try:
                        wait_until(
                            lambda: ns.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                            "http://127.0.0.1:10256/healthz"], check=False) == "200",
                            300, 0.5, what=f"{mode} synced with {size} Services",
                        )  # fmt: skip
                        latencies = []
                        for k in range(SAMPLES):
                            time.sleep(SPACING)
                            name = f"p-{mode}-{size}-{k}"
                            t0 = time.time()
                            svc = {
                                "metadata": {"name": name},
                                "spec": {"ports": [{"name": "p", "port": 80}]},
                            }
                            made = api.post("/api/v1/namespaces/default/services", json=svc)
                            made.raise_for_status()
                            api.post("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
                                     json=_slice(name)).raise_for_status()  # fmt: skip
                            probe.stdin.write(made.json()["spec"]["clusterIP"] + "\n")
                            probe.stdin.flush()
                            latencies.append(float(probe.stdout.readline()) - t0)
                        row: dict[str, float] = {
                            "p50": percentile(latencies, 50),
                            "p99": percentile(latencies, 99),
                        }
                        if size == 5000:
                            assert proxy.process is not None
                            pid = proxy.process.pid
                            before, t = _cpu_seconds(pid), time.monotonic()
                            time.sleep(IDLE_SECONDS)
                            row["idle_cpu"] = (_cpu_seconds(pid) - before) / (time.monotonic() - t)
                        out[mode][size] = row
                        print(f"  {mode} {size}: {row}", flush=True)
                    finally:
                        proxy.stop()
                ns.run([sys.executable, "-m", "cli.navarch", "proxy", "--cleanup"], check=False)
        finally:
            api.close()
            probe.kill()
            probe.wait()
    return out


async def _grow(url: str, start: int, stop: int) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        await _create(client, start, stop)


# --- report ----------------------------------------------------------------------------------


def _rate(seconds: float) -> float:
    """Gbit/s of one ``MIB`` MiB stream."""
    return MIB / 1024 * 8 / seconds


def _ratios(round_: Round) -> list[float]:
    """ClusterIP throughput over direct, per pair of streams (one right after the other)."""
    return [d / s for d, s in zip(round_["direct"], round_["service"], strict=True)]


def _ratio(round_: Round) -> float:
    """ClusterIP throughput over direct in one round: the median of its pairs."""
    return statistics.median(_ratios(round_))


def data_path_section(data: dict[str, list[Round]]) -> str:
    lines = [
        "kube-proxy (`python -m bench proxy`, or `proxy-datapath` for this part alone). A",
        "client pod to a server pod on one kubelet of this host, to the pod IP (direct) and",
        f"to the ClusterIP. {ROUNDS} rounds; in each, every mode in turn (kube-proxy started in",
        f"it, the other modes' rules removed), and per mode {PAIRS} pairs of {MIB} MiB streams",
        "(one to the pod IP, then one to the ClusterIP, from one client process), then",
        f"{REQUESTS // ROUNDS} exchanges on new connections to each (connect, 64 bytes, `ok`).",
        "A pair's ratio is its direct stream's time over its ClusterIP stream's: both ran",
        "within a second, under the same load from whatever else runs on the machine. The",
        "table gives the median over all pairs, the interquartile range of the pairs, and",
        "the range of the rounds' medians. Both ends are Python in the pods' network",
        "namespaces; Gbit/s are medians of all streams.",
        "",
        "| mode | direct Gbit/s | via ClusterIP Gbit/s | throughput vs direct (median) | pairs' IQR | rounds' medians | direct p50 / p99 ms | via ClusterIP p50 / p99 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for mode in MODES:
        rounds = data[mode]
        pooled = {k: [x for r in rounds for x in r[k]] for k in rounds[0]}
        rate = {k: _rate(statistics.median(pooled[k])) for k in ("direct", "service")}
        pairs = [x for r in rounds for x in _ratios(r)]
        quartiles = statistics.quantiles(pairs, n=4)
        medians = [_ratio(r) for r in rounds]
        p = {k: (percentile(pooled[f"rr_{k}"], 50) * 1000, percentile(pooled[f"rr_{k}"], 99) * 1000)
             for k in ("direct", "service")}  # fmt: skip
        lines.append(
            f"| {mode} | {rate['direct']:.2f} | {rate['service']:.2f} | "
            f"**{statistics.median(pairs):.2f}x** | {quartiles[0]:.2f}-{quartiles[2]:.2f} | "
            f"{min(medians):.2f}-{max(medians):.2f} | "
            f"{p['direct'][0]:.2f} / {p['direct'][1]:.2f} | "
            f"{p['service'][0]:.2f} / {p['service'][1]:.2f} |"
        )
    lines += ["", "Goal: iptables and nftables >= 0.95x of direct, userspace >= 0.5x."]
    return "\n".join(lines)


def programming_section(scale: dict[str, dict[int, dict[str, float]]]) -> str:
    lines = [
        "kube-proxy (`python -m bench proxy`). Network programming latency: kube-proxy in a",
        "network namespace of its own; with N Services (one port, one endpoint each),",
        f"{SAMPLES} times ({SPACING} s apart) a new Service and its EndpointSlice are written",
        "and a probe in the namespace connects to the new ClusterIP until it reaches the",
        "endpoint; from the Service's create to that connection. Defaults:",
        "`--min-sync-period 1s` (burst 2), `--sync-period 30s`.",
        f"Idle CPU: kube-proxy and its children over {IDLE_SECONDS} s with 5,000 Services and no",
        "change (one full resync, `--sync-period 30s`, falls in the window); % of one core.",
        "",
        "| mode | Services | p50 s | p99 s | idle CPU |",
        "|---|---|---|---|---|",
    ]
    for mode in SCALE_MODES:
        for size in SIZES:
            row = scale[mode][size]
            idle = f"{row['idle_cpu'] * 100:.1f}%" if "idle_cpu" in row else ""
            lines.append(f"| {mode} | {size:,} | {row['p50']:.2f} | {row['p99']:.2f} | {idle} |")
    lines += [
        "",
        "Goal: p99 <= 1 s at 5,000 Services (Kubernetes' 5k-node SLO anchor: p99 <= 30 s).",
    ]
    return "\n".join(lines)


DATA_PATH_TITLE = "kube-proxy: data path (issue 15)"
PROGRAMMING_TITLE = "kube-proxy: network programming, idle cost (issue 15)"


def run_data_path() -> None:
    data = _data_path()
    print(json.dumps(data)[:2000], flush=True)
    body = data_path_section(data)
    print(body)
    write_section(DATA_PATH_TITLE, body)


def run() -> None:
    run_data_path()
    body = programming_section(_programming())
    print(body)
    write_section(PROGRAMMING_TITLE, body)
