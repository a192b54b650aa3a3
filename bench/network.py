"""Pod network: same-host pod-to-pod TCP throughput, across two nodes' bridges against
within one bridge, in one run.

Two kubelets of this host (two nodes, two pod bridges, podCIDRs from node IPAM) and
the network agent (which opens Docker's isolation between the bridges). Three pods
(sender and a receiver on node A, a receiver on node B); the streams run in the pods'
network namespaces (``nsenter --net`` of each sandbox) with this interpreter and
1 MiB socket buffers, since busybox's ``nc`` copies in small pieces and would measure
itself. The sender sends ``MIB`` MiB to the same-bridge receiver (the floor) and to
the other node's (routed from bridge to bridge through the host), alternately,
``ROUNDS`` times each; a transfer is timed from connect to the receiver's close, after
it read everything. Cross-node figures (compose) are the compose benchmark's.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import httpx

from bench.common import control_plane, write_section
from bench.kubelet import _pod
from testkit import images
from testkit.kubelets import KubeletProcess
from testkit.network import free_cluster_cidr, route_is_local
from testkit.processes import NAVARCH, DaemonProcess, controller_manager, wait_until

ROUNDS = 5
MIB = 1024
PORT = 5001

RECEIVER = f"""
import socket
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", {PORT}))
server.listen()
buf = bytearray(1 << 20)
while True:
    conn, _ = server.accept()
    while conn.recv_into(buf):
        pass
    conn.close()
"""

SENDER = """
import socket, sys, time
address, mib = sys.argv[1], int(sys.argv[2])
chunk = bytes(1 << 20)
started = time.perf_counter()
sock = socket.create_connection((address, {port}))
for _ in range(mib):
    sock.sendall(chunk)
sock.shutdown(socket.SHUT_WR)
sock.recv(1)  # the receiver closes once it has read everything
print(time.perf_counter() - started)
""".replace("{port}", str(PORT))


def _netns(name: str) -> list[str]:
    """``nsenter`` into the network namespace of pod ``name``'s sandbox."""
    labels = {"io.navarch.pod.name": name, "io.navarch.container.kind": "sandbox"}
    (found,) = images.containers(labels, running_only=True)
    client = images.docker_client()
    try:
        pid = client.api.inspect_container(found["Id"])["State"]["Pid"]
    finally:
        client.close()
    return ["nsenter", f"--net=/proc/{pid}/ns/net"]


def _transfer(sender: list[str], address: str) -> float:
    """Seconds to stream ``MIB`` MiB from the sender's namespace to ``address``."""
    out = subprocess.run(
        [*sender, sys.executable, "-c", SENDER, address, str(MIB)],
        capture_output=True, text=True, check=True, timeout=300,
    ).stdout  # fmt: skip
    return float(out.strip())


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
        receivers: list[subprocess.Popen[bytes]] = []
        try:
            for proc in procs:
                DaemonProcess.start(proc)
            for proc in procs:
                if isinstance(proc, KubeletProcess):
                    proc.wait_ready(60)
            pods = {
                "sender": _pod("sender", nodes[0], images.BUSYBOX_IMAGE),
                "same": _pod("same", nodes[0], images.BUSYBOX_IMAGE),
                "cross": _pod("cross", nodes[1], images.BUSYBOX_IMAGE),
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
            for target in ("same", "cross"):
                local, route = route_is_local(addresses[target])
                assert local, f"{addresses[target]} would leave the machine: {route}"
                receivers.append(
                    subprocess.Popen([*_netns(target), sys.executable, "-c", RECEIVER])
                )
            sender = _netns("sender")
            wait_until(lambda: _transfer(sender, addresses["same"]), 10, 0.2)  # warm up
            times: dict[str, list[float]] = {"same": [], "cross": []}
            for _ in range(ROUNDS):
                for target in ("same", "cross"):
                    times[target].append(_transfer(sender, addresses[target]))
        finally:
            for receiver in receivers:
                receiver.kill()
                receiver.wait()
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

    gib = MIB / 1024
    rate = {k: gib * 8 / statistics.median(v) for k, v in times.items()}  # Gbit/s
    spread = {k: (min(v), max(v)) for k, v in times.items()}
    body = f"""
Same-host pod-to-pod TCP throughput (`python -m bench network`): two kubelets of this
host (two nodes, each with its own pod bridge for its podCIDR from node IPAM) and the
network agent; a sender pod on node A streams {MIB} MiB to a pod on node A (same
bridge) and to a pod on node B (bridge to bridge, routed by the host, through
`DOCKER-USER`'s accept, no NAT), alternately, {ROUNDS} times each. The streams run in
the pods' network namespaces (Python, 1 MiB writes and reads: busybox `nc` would
measure its own small copies).

| path | median Gbit/s | transfer s (min - max) | against same bridge |
|---|---|---|---|
| same bridge (floor) | {rate["same"]:.2f} | {spread["same"][0]:.2f} - {spread["same"][1]:.2f} | 1.00x |
| across bridges (two nodes) | {rate["cross"]:.2f} | {spread["cross"][0]:.2f} - {spread["cross"][1]:.2f} | **{rate["cross"] / rate["same"]:.2f}x** |

Cross-node figures (compose) are in its section.
"""
    print(body)
    write_section("pod network: same-host pod-to-pod TCP throughput (issue 14)", body)
