"""The README's path, for real, on a clean clone of the repository: ``make up`` gives a
three-node cluster with the sample app Running; components killed with SIGKILL are
restarted by the supervisor and ``navarch status`` shows it; ``navarch down`` stops
everything and removes the pod containers; ``navarch up`` on the kept state brings the
same workload back, Available within 30 s, every time.

The clone runs its own Makefile and deploy scripts; it reuses this checkout's venv
(``-o`` tells make the install is up to date) so that the test does not reinstall.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import random
import signal
import socket
import ssl
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from kubelet.docker_runtime import network_name
from netagent.localroutes import SERVICE_DEVICE, swallowed
from testkit import images
from testkit.network import free_cluster_cidr, route_is_local
from testkit.processes import wait_until

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)


def _free_block(size: int) -> int:
    """A port such that it and the ``size - 1`` after it are all free on loopback.

    Taken below the kernel's ephemeral range: the cluster binds these ports seconds
    later (``make up`` checks its install first), and ephemeral ports go to other
    processes' outgoing connections in the meantime (etcd then fails to bind)."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20000, min(low, 30000) - size)  # NodePorts start at 30000
        socks = []
        try:
            for port in range(base, base + size):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
        return base
    raise RuntimeError("no block of free ports")


@dataclass
class Checkout:
    clone: Path
    env: dict[str, str]
    name: str
    api_port: int
    data_dir: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    def tls(self, user: str | None = "admin") -> ssl.SSLContext:
        """Trust the cluster's CA; with ``user``, show that PKI user's certificate."""
        pki = self.data_dir / "pki"
        ctx = ssl.create_default_context(cafile=pki / "ca.crt")
        if user is not None:
            ctx.load_cert_chain(pki / "users" / f"{user}.crt", pki / "users" / f"{user}.key")
        return ctx

    def get(self, path: str, **params: str) -> httpx.Response:
        """GET from the apiserver as the cluster admin."""
        return httpx.get(f"{self.url}{path}", params=params, verify=self.tls(), timeout=10)

    @property
    def nodes(self) -> list[str]:
        return [f"{self.name}-node-{i}" for i in (1, 2, 3)]

    def navarch(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(VENV / "bin" / "navarch"), *args],
            env=self.env, capture_output=True, text=True, timeout=300, check=check,
        )  # fmt: skip


@pytest.fixture
def checkout(tmp_path: Path, docker_engine: None) -> Iterator[Checkout]:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing to clone")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    data_dir = tmp_path / "data"
    env = {
        **os.environ,
        "NAVARCH_DATA_DIR": str(data_dir),
        # The context is merged here, not into the kubeconfig of whoever runs the tests.
        "KUBECONFIG": str(tmp_path / "kubeconfig"),
    }
    co = Checkout(clone, env, f"t{uuid.uuid4().hex[:6]}", _free_block(1), data_dir)
    try:
        yield co
    finally:
        co.navarch("down", "--purge", check=False)
        for node in co.nodes:
            images.remove_containers({"io.navarch.node": node})


def _ready(obj: dict[str, Any]) -> bool:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def _web_pods(checkout: Checkout) -> dict[str, dict[str, Any]]:
    resp = checkout.get("/api/v1/namespaces/default/pods", labelSelector="app=web")
    resp.raise_for_status()
    return {p["metadata"]["name"]: p for p in resp.json()["items"]}


def _all_running(checkout: Checkout, names: set[str] | None = None) -> bool:
    pods = _web_pods(checkout)
    if names is not None and set(pods) != names:
        return False
    return len(pods) == 3 and all(
        p["status"].get("phase") == "Running" and _ready(p) for p in pods.values()
    )


def test_make_up_down_up_brings_the_workload_back(checkout: Checkout) -> None:
    etcd_port, kubelet_port = _free_block(2), _free_block(3)
    # A cluster CIDR of its own, as ports of its own: a cluster someone runs on this
    # host (10.244.0.0/16) and this one must not collide.
    cidr = free_cluster_cidr()
    flags = (
        f"--name {checkout.name} --apiserver-port {checkout.api_port} "
        f"--etcd-port {etcd_port} --kubelet-port {kubelet_port} --cluster-cidr {cidr}"
    )
    made = subprocess.run(
        [
            "make", "-C", str(checkout.clone), "up",
            f"VENV={VENV}", "-o", f"{VENV}/.installed", f"UP_FLAGS={flags}",
        ],
        env=checkout.env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    assert 'deployment "web" successfully rolled out' in made.stdout

    # Three Ready nodes, the sample app's three pods Running and Ready, on them.
    nodes = checkout.get("/api/v1/nodes").json()["items"]
    assert sorted(n["metadata"]["name"] for n in nodes) == checkout.nodes
    assert all(_ready(n) for n in nodes)
    assert _all_running(checkout)
    before = _web_pods(checkout)
    assert {p["spec"]["nodeName"] for p in before.values()} <= set(checkout.nodes)
    labels = {"io.navarch.pod.namespace": "default"}
    running = [
        c for node in checkout.nodes
        for c in images.containers({**labels, "io.navarch.node": node}, running_only=True)
    ]  # fmt: skip
    assert len(running) == 6  # three sandboxes and three web containers
    _check_pod_network(checkout, nodes, before, cidr)

    # The merged kubeconfig context works with no flags.
    kubeconfig = Path(checkout.env["KUBECONFIG"]).read_text()
    assert f"current-context: {checkout.name}" in kubeconfig

    # Components killed behind the supervisor's back come back by themselves, and
    # `navarch status` says so (restart count, how they exited).
    killed = ["etcd", "apiserver", "scheduler", f"kubelet-{checkout.nodes[1]}"]
    old_pids = {c: int((checkout.data_dir / "run" / f"{c}.pid").read_text()) for c in killed}
    for pid in old_pids.values():
        os.kill(pid, signal.SIGKILL)
    wait_until(
        lambda: checkout.navarch("status", check=False).returncode == 0, 60,
        what="every component running again",
    )  # fmt: skip
    status = checkout.navarch("status").stdout
    for comp in killed:
        line = next(ln for ln in status.splitlines() if ln.startswith(f"{comp} "))
        assert "running" in line and "restarts 1 (last: signal 9 (SIGKILL))" in line, line
        assert line.endswith(f"{comp}.log")
        assert int((checkout.data_dir / "run" / f"{comp}.pid").read_text()) != old_pids[comp]
    wait_until(lambda: _all_running(checkout, set(before)), 60, what="the app after kills")

    # A supervisor that dies leaves the components running; `up` starts a new one,
    # which adopts them (same pids).
    supervisor = int((checkout.data_dir / "run" / "supervisor.pid").read_text())
    pids = {c: (checkout.data_dir / "run" / f"{c}.pid").read_text() for c in killed}
    os.kill(supervisor, signal.SIGKILL)
    wait_until(lambda: checkout.navarch("status", check=False).returncode == 1, 10)
    line = checkout.navarch("status", check=False).stdout.splitlines()[0]
    assert line.startswith("supervisor") and "CRASHED" in line
    again = checkout.navarch("up").stdout
    assert "supervisor: started" in again
    assert pids == {c: (checkout.data_dir / "run" / f"{c}.pid").read_text() for c in killed}

    # Down: nothing runs, no pod container is left; the state stays.
    checkout.navarch("down")
    status = checkout.navarch("status").stdout
    assert all("stopped" in ln for ln in status.splitlines()), status
    for node in checkout.nodes:
        assert images.containers({"io.navarch.node": node}) == []
        assert not _networks(network_name(node))
    with pytest.raises(httpx.HTTPError):
        checkout.get("/readyz")
    assert _blackhole(cidr) == []  # routes gone with the cluster

    # Up on the kept state, again and again: the same pods come back in new containers,
    # and the Deployment is Available within 30 s of `up` returning, every time.
    for attempt in range(3):
        checkout.navarch("up")
        wait_until(
            lambda: _available_again(checkout, set(before)), 30,
            what=f"the sample app Available again (round {attempt + 1})",
        )  # fmt: skip
        if attempt < 2:
            checkout.navarch("down")


def _networks(name: str) -> list[dict[str, Any]]:
    client = images.docker_client()
    try:
        return [n for n in client.api.networks(names=[name]) if n["Name"] == name]
    finally:
        client.close()


def _blackhole(cidr: str) -> list[dict[str, Any]]:
    out = subprocess.run(
        ["ip", "-json", "route", "show", "type", "blackhole", cidr],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return list(json.loads(out or "[]"))


def _check_pod_network(checkout: Checkout, nodes: list[dict[str, Any]], pods: dict[str, dict[str, Any]], cidr: str) -> None:  # fmt: skip
    """Each node a /24 of the cluster CIDR, each pod an IP of its node's; the service
    CIDR and the cluster CIDR routed locally, so that with no kube-proxy a connection
    to a ClusterIP goes into navarch-svc0 and never out by the default route."""
    by_node = {n["metadata"]["name"]: ipaddress.ip_network(n["spec"]["podCIDR"]) for n in nodes}
    assert len(set(by_node.values())) == 3
    assert all(c.subnet_of(ipaddress.ip_network(cidr)) for c in by_node.values())  # type: ignore[arg-type]
    for pod in pods.values():
        assert ipaddress.ip_address(pod["status"]["podIP"]) in by_node[pod["spec"]["nodeName"]]
    assert _blackhole(cidr), "no blackhole route for the cluster CIDR"
    local, route = route_is_local("10.96.5.5")
    assert local and json.loads(route)["dev"] == SERVICE_DEVICE, route
    # A safety net first: a copy of the SYN that took the default route would be
    # dropped (and counted) before it left.
    default_dev = json.loads(
        subprocess.run(["ip", "-json", "route", "show", "default"], capture_output=True,
                       text=True, check=True).stdout
    )[0]["dev"]  # fmt: skip
    net = ["OUTPUT", "-d", "10.96.5.5/32", "-o", default_dev, "-j", "DROP"]
    subprocess.run(["iptables", "-w", "5", "-I", *net], check=True)
    try:
        before = swallowed(SERVICE_DEVICE)
        with socket.socket() as sock, contextlib.suppress(OSError):
            sock.settimeout(1.0)
            sock.connect(("10.96.5.5", 80))
        assert swallowed(SERVICE_DEVICE) > before  # the SYN went into the sink
        counters = subprocess.run(
            ["iptables", "-w", "5", "-L", "OUTPUT", "-v", "-x", "-n"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        dropped = [ln.split() for ln in counters.splitlines() if "10.96.5.5" in ln]
        assert dropped and dropped[0][0] == "0", counters  # nothing tried the default route
    finally:
        subprocess.run(["iptables", "-w", "5", "-D", *net], check=False)


def _available_again(checkout: Checkout, names: set[str]) -> bool:
    """The three pods Ready on containers that run now, and the Deployment saying
    so: three available replicas and Available=True, observed by its controller."""
    pods = _web_pods(checkout)
    if set(pods) != names or not _all_running(checkout, names):
        return False
    running = {
        str(c["Id"]) for node in checkout.nodes
        for c in images.containers({"io.navarch.node": node}, running_only=True)
    }  # fmt: skip
    for pod in pods.values():
        for cs in pod["status"].get("containerStatuses") or []:
            if not cs.get("ready") or cs.get("containerID", "").split("://")[-1] not in running:
                return False
    deploy = checkout.get("/apis/apps/v1/namespaces/default/deployments/web").json()
    status = deploy.get("status") or {}
    available = any(
        c["type"] == "Available" and c["status"] == "True" for c in status.get("conditions") or []
    )
    return (
        status.get("availableReplicas") == 3
        and status.get("observedGeneration") == deploy["metadata"]["generation"]
        and available
    )
