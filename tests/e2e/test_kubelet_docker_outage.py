"""The Docker daemon goes away and comes back: the node turns NotReady, then its pods
come back.

Restarting the machine's real dockerd would hit every other Docker user, so the kubelet
here reaches Docker through a socket proxy: stopping the proxy is the daemon going
away, and the pod's containers are stopped behind the kubelet's back, as a daemon
restart (without live-restore) leaves them.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from testkit import images
from testkit.kubelets import (
    KubeletProcess,
    container_status,
    node_ready,
    pod_manifest,
    ready,
    running,
    wait_for_pod,
)
from testkit.processes import ApiServerProcess, wait_until
from testkit.testca import verify

pytestmark = pytest.mark.e2e

DOCKER_SOCKET = "/var/run/docker.sock"
SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]


class SocketProxy:
    """A Unix socket that forwards every connection to Docker's; ``stop`` drops it all."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.path))
        os.chmod(self.path, 0o666)
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(DOCKER_SOCKET)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


@pytest.fixture
def proxied_node(
    apiserver: ApiServerProcess, session_dir: Path, test_images: dict[str, str], tmp_path: Path
) -> Iterator[tuple[KubeletProcess, SocketProxy]]:
    proxy = SocketProxy(tmp_path / "docker.sock")
    proxy.start()
    name = f"outage-{uuid.uuid4().hex[:6]}"
    kubelet = KubeletProcess.create(
        apiserver.url, name, session_dir, "--docker-host", f"unix://{proxy.path}"
    )
    try:
        kubelet.start()
        yield kubelet, proxy
    finally:
        kubelet.stop()
        proxy.stop()
        images.remove_containers({"io.navarch.node": name})
        httpx.delete(f"{apiserver.url}/api/v1/nodes/{name}", timeout=10, verify=apiserver.verify)


def test_pods_come_back_after_the_daemon_does(
    api: httpx.Client,
    namespace: str,
    proxied_node: tuple[KubeletProcess, SocketProxy],
    test_images: dict[str, str],
) -> None:
    node, proxy = proxied_node
    body = pod_manifest("survivor", node.node_name, [
        {"name": "c", "image": test_images["busybox"], "command": SLEEPER},
    ])  # fmt: skip
    api.post(f"/api/v1/namespaces/{namespace}/pods", json=body).raise_for_status()
    pod = wait_for_pod(api, namespace, "survivor", lambda p: running(p) and ready(p))
    labels = {"io.navarch.node": node.node_name, "io.navarch.pod.uid": pod["metadata"]["uid"]}

    proxy.stop()
    client = images.docker_client()
    for row in images.containers(labels, running_only=True):
        client.api.kill(row["Id"])
    client.close()
    wait_until(
        lambda: not node_ready(node.api_url, node.node_name), timeout=20,
        what="the node NotReady while Docker is away",
    )  # fmt: skip
    reasons = httpx.get(
        f"{node.api_url}/api/v1/nodes/{node.node_name}", verify=verify(node.api_url)
    ).json()
    ready_condition = next(c for c in reasons["status"]["conditions"] if c["type"] == "Ready")
    assert ready_condition["message"] == "container runtime is down"

    proxy.start()
    wait_until(lambda: node_ready(node.api_url, node.node_name), timeout=30, what="Ready again")
    pod = wait_for_pod(
        api, namespace, "survivor",
        lambda p: ready(p) and container_status(p, "c").get("restartCount", 0) >= 1,
        timeout=40, what="the pod back",
    )  # fmt: skip
    assert container_status(pod, "c")["state"].get("running")
    assert len(images.containers(labels, running_only=True)) == 2  # a new sandbox and c
