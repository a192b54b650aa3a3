"""Pod network: same-host pod-to-pod TCP throughput, across two nodes' bridges against
within one bridge, in one run.

Two kubelets of this host (two nodes, two pod bridges, podCIDRs from node IPAM) and
the network agent (which opens Docker's isolation between the bridges). A sender pod
on node A streams 1 GiB of zeros (busybox ``dd | nc``) to a receiver pod on node A
(same bridge: the floor) and to one on node B (routed from bridge to bridge through
the host), alternately, ``ROUNDS`` times each; the time is taken inside the sender
(``/proc/uptime``, 10 ms steps) around the transfer. Cross-node figures (compose: a
veth, the project bridge, another node's namespace) are the compose benchmark's.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.common import control_plane, write_section
from tests.support import images
from tests.support.fakenode import controller_manager
from tests.support.kubelets import KubeletProcess
from tests.support.network import free_cluster_cidr
from tests.support.processes import NAVARCH, DaemonProcess, wait_until

ROUNDS = 5
BLOCKS = 16384
BLOCK = 65536
"""1 GiB per transfer."""
PORT = 5001
RECEIVE = f"while true; do nc -l -p {PORT} > /dev/null; done"


def _pod(name: str, node: str, command: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "nodeName": node,
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "c",
                    "image": images.BUSYBOX_IMAGE,
                    "imagePullPolicy": "Never",
                    "command": ["sh", "-c", command],
                }
            ],
        },
    }


def _container(name: str) -> str:
    labels = {"io.navarch.pod.name": name, "io.navarch.container.kind": "app"}
    (found,) = images.containers(labels, running_only=True)
    return str(found["Id"])


def _transfer(sender: str, address: str) -> float:
    """Seconds to send 1 GiB from the ``sender`` container to ``address``."""
    script = (
        "a=$(cut -d' ' -f1 /proc/uptime); "
        f"dd if=/dev/zero bs={BLOCK} count={BLOCKS} 2>/dev/null | nc {address} {PORT}; "
        "b=$(cut -d' ' -f1 /proc/uptime); echo $a $b"
    )
    out = subprocess.run(
        ["docker", "exec", sender, "sh", "-c", script],
        capture_output=True, text=True, check=True, timeout=300,
    ).stdout.split()  # fmt: skip
    return float(out[-1]) - float(out[-2])


def run() -> None:
    images.ensure_busybox_image()
    cidr = free_cluster_cidr()
    suite = f"bnet{uuid.uuid4().hex[:4]}"
    nodes = [f"{suite}-a", f"{suite}-b"]
    with (
        tempfile.TemporaryDirectory(prefix="navarch-bench-net-") as tmp,
        control_plane() as (
            _,
            api,
        ),
    ):
        work = Path(tmp)
        url = api.url
        procs: list[DaemonProcess] = [
            controller_manager(url, work, "--controllers", "nodeipam", "--no-leader-elect",
                               "--allocate-node-cidrs", "--cluster-cidr", cidr),
            DaemonProcess(
                args=["network-agent", "--server", url, "--cluster-cidr", cidr,
                      "--service-cluster-ip-range", ""],
                log_path=work / "agent.log",
            ),
            *(KubeletProcess.create(url, n, work, node_network=True, fast=False) for n in nodes),
        ]  # fmt: skip
        try:
            for proc in procs:
                DaemonProcess.start(proc)
            for proc in procs:
                if isinstance(proc, KubeletProcess):
                    proc.wait_ready(60)
            pods = {
                "sender": _pod("sender", nodes[0], "sleep 100000"),
                "same": _pod("same", nodes[0], RECEIVE),
                "cross": _pod("cross", nodes[1], RECEIVE),
            }
            for manifest in pods.values():
                resp = httpx.post(f"{url}/api/v1/namespaces/default/pods", json=manifest)
                resp.raise_for_status()

            def ips() -> dict[str, str] | None:
                found = {}
                for name in pods:
                    pod = httpx.get(f"{url}/api/v1/namespaces/default/pods/{name}").json()
                    status = pod.get("status") or {}
                    if status.get("phase") != "Running" or not status.get("podIP"):
                        return None
                    found[name] = status["podIP"]
                return found

            addresses = wait_until(ips, 90, 0.2, what="benchmark pods Running")
            assert isinstance(addresses, dict)
            sender = _container("sender")
            _transfer(sender, addresses["same"])  # warm up
            times: dict[str, list[float]] = {"same": [], "cross": []}
            for _ in range(ROUNDS):
                for target in ("same", "cross"):
                    times[target].append(_transfer(sender, addresses[target]))
        finally:
            for proc in procs:
                proc.stop()
            for node in nodes:
                images.remove_containers({"io.navarch.node": node})
                images.remove_network(f"navarch-{node}")
            subprocess.run(["ip", "route", "del", "blackhole", cidr, "metric", "4000"],
                           capture_output=True, check=False)  # fmt: skip
            subprocess.run(
                [*NAVARCH, "network-agent", "--cleanup", "--cluster-cidr", cidr],
                capture_output=True, check=False, timeout=60,
            )  # fmt: skip

    gib = BLOCKS * BLOCK / 2**30
    rate = {k: gib * 8 / statistics.median(v) for k, v in times.items()}  # Gbit/s
    spread = {k: (min(v), max(v)) for k, v in times.items()}
    body = f"""
Same-host pod-to-pod TCP throughput (`python -m bench network`): two kubelets of this
host (two nodes, each with its own pod bridge for its podCIDR from node IPAM) and the
network agent; a sender pod on node A streams {gib:.0f} GiB (busybox `dd | nc`) to a pod
on node A (same bridge) and to a pod on node B (bridge to bridge, routed by the host,
through `DOCKER-USER`'s accept), alternately, {ROUNDS} times each; timed inside the sender.

| path | median Gbit/s | transfer s (min - max) | against same bridge |
|---|---|---|---|
| same bridge (floor) | {rate["same"]:.2f} | {spread["same"][0]:.2f} - {spread["same"][1]:.2f} | 1.00x |
| across bridges (two nodes) | {rate["cross"]:.2f} | {spread["cross"][0]:.2f} - {spread["cross"][1]:.2f} | **{rate["cross"] / rate["same"]:.2f}x** |

busybox `nc` moves data in small reads and writes, so both figures are bounded by
its copy loop as much as by the path; the ratio is the cost of the extra hop (routing
and iptables on the host, no NAT). Cross-node figures (compose) are in its section.
"""
    print(body)
    write_section("pod network: same-host pod-to-pod TCP throughput (issue 14)", body)
