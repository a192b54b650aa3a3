"""The README's path, for real, on a clean clone of the repository: ``make up`` gives a
three-node cluster with the sample app Running; ``navarch status`` reports a crashed
component; ``navarch down`` stops everything and removes the pod containers;
``navarch up`` on the kept state brings the same workload back.

The clone runs its own Makefile and deploy scripts; it reuses this checkout's venv
(``-o`` tells make the install is up to date) so that the test does not reinstall.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit import images
from testkit.processes import wait_until

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)


def _free_block(size: int) -> int:
    """A port such that it and the ``size - 1`` after it are all free on loopback."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + size >= 65535:
            continue
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
        return f"http://127.0.0.1:{self.api_port}"

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


def _web_pods(url: str) -> dict[str, dict[str, Any]]:
    resp = httpx.get(f"{url}/api/v1/namespaces/default/pods", params={"labelSelector": "app=web"})
    resp.raise_for_status()
    return {p["metadata"]["name"]: p for p in resp.json()["items"]}


def _all_running(url: str, names: set[str] | None = None) -> bool:
    pods = _web_pods(url)
    if names is not None and set(pods) != names:
        return False
    return len(pods) == 3 and all(
        p["status"].get("phase") == "Running" and _ready(p) for p in pods.values()
    )


def test_make_up_down_up_brings_the_workload_back(checkout: Checkout) -> None:
    etcd_port, kubelet_port = _free_block(2), _free_block(3)
    flags = (
        f"--name {checkout.name} --apiserver-port {checkout.api_port} "
        f"--etcd-port {etcd_port} --kubelet-port {kubelet_port}"
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
    nodes = httpx.get(f"{checkout.url}/api/v1/nodes").json()["items"]
    assert sorted(n["metadata"]["name"] for n in nodes) == checkout.nodes
    assert all(_ready(n) for n in nodes)
    assert _all_running(checkout.url)
    before = _web_pods(checkout.url)
    assert {p["spec"]["nodeName"] for p in before.values()} <= set(checkout.nodes)
    labels = {"io.navarch.pod.namespace": "default"}
    running = [
        c for node in checkout.nodes
        for c in images.containers({**labels, "io.navarch.node": node}, running_only=True)
    ]  # fmt: skip
    assert len(running) == 6  # three sandboxes and three web containers

    # The merged kubeconfig context works with no flags.
    kubeconfig = Path(checkout.env["KUBECONFIG"]).read_text()
    assert f"current-context: {checkout.name}" in kubeconfig

    # A crashed component is reported, with its log; `up` restarts only it.
    pid = int((checkout.data_dir / "run" / "scheduler.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: checkout.navarch("status", check=False).returncode == 1, 10)
    status = checkout.navarch("status", check=False).stdout
    line = next(ln for ln in status.splitlines() if ln.startswith("scheduler"))
    assert "CRASHED" in line and line.endswith("scheduler.log")
    again = checkout.navarch("up").stdout
    assert "scheduler: started" in again and "apiserver: already running" in again

    # Down: nothing runs, no pod container is left; the state stays.
    checkout.navarch("down")
    status = checkout.navarch("status").stdout
    assert all("stopped" in ln for ln in status.splitlines()), status
    for node in checkout.nodes:
        assert images.containers({"io.navarch.node": node}) == []
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{checkout.url}/readyz", timeout=2)

    # Up on the kept state: the same pods come back, Running.
    checkout.navarch("up")
    wait_until(lambda: _all_running(checkout.url, set(before)), 120, what="the sample app back")
