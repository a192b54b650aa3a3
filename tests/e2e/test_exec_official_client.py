"""The official Python client's interactive exec (``stream()`` and ``write_stdin``)
through the apiserver to a real kubelet and container.

``write_stdin("...")`` sends a TEXT frame (the channel as its first character), which
the kubelet must read as Kubernetes does, under each subprotocol it offers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from kubernetes import client
from kubernetes.stream import stream

from testkit.kubelets import KubeletProcess, pod_manifest, running, wait_for_pod

pytestmark = pytest.mark.e2e

SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]


@pytest.fixture
def shell(
    api: httpx.Client, ns: str, node: KubeletProcess, test_images: dict[str, str]
) -> Iterator[str]:
    body = pod_manifest("shell", node.node_name, [
        {"name": "c", "image": test_images["busybox"], "command": SLEEPER},
    ])  # fmt: skip
    resp = api.post(f"/api/v1/namespaces/{ns}/pods", json=body)
    assert resp.status_code == 201, resp.text
    wait_for_pod(api, ns, "shell", running)
    yield "shell"


@pytest.fixture
def core(k8s: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(k8s)


def _exec(core: client.CoreV1Api, ns: str, pod: str, command: list[str], **extra: Any) -> Any:
    """An interactive exec (stdin, stdout, stderr, no terminal) through ``stream()``."""
    return stream(
        core.connect_get_namespaced_pod_exec,
        pod,
        ns,
        command=command,
        stdin=True,
        stdout=True,
        stderr=True,
        tty=False,
        _preload_content=False,
        **extra,
    )


def _read_until(resp: Any, wanted: str, timeout: float = 15.0) -> str:
    """What the exec's stdout brought until it holds ``wanted`` (or the deadline)."""
    seen = ""
    deadline = time.monotonic() + timeout
    while wanted not in seen and time.monotonic() < deadline and resp.is_open():
        resp.update(timeout=0.5)
        if resp.peek_stdout():
            seen += resp.read_stdout()
    return str(seen)


@pytest.mark.parametrize("protocol", ["v5.channel.k8s.io", "v4.channel.k8s.io"])
def test_write_stdin_echoes_back(
    core: client.CoreV1Api, ns: str, shell: str, protocol: str
) -> None:
    resp = _exec(core, ns, shell, ["cat"], _headers={"sec-websocket-protocol": protocol})
    try:
        assert resp.subprotocol == protocol
        resp.write_stdin("hello from a text frame\n")
        assert _read_until(resp, "hello from a text frame\n") == "hello from a text frame\n"
        resp.write_stdin(b"and from a binary one\n")
        assert _read_until(resp, "binary one\n") == "and from a binary one\n"
    finally:
        resp.close()


def test_an_interactive_shell_runs_what_it_is_sent(
    core: client.CoreV1Api, ns: str, shell: str
) -> None:
    resp = _exec(core, ns, shell, ["sh"])
    try:
        resp.write_stdin("echo $((6*7)); hostname\n")
        assert _read_until(resp, "shell\n") == "42\nshell\n"
        resp.write_stdin("exit 5\n")
        resp.run_forever(timeout=10)
        assert resp.returncode == 5
    finally:
        resp.close()
