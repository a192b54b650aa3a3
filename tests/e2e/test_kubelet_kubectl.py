"""The real kubectl against real containers: ``kubectl logs`` and ``kubectl exec``
(over the WebSocket protocol kubectl 1.30+ speaks first), through the apiserver."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest

from testkit.kubelets import KubeletProcess, pod_manifest, running, wait_for_pod
from testkit.processes import ApiServerProcess, wait_until

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.kubectl,
]

# The container's pause (not a test's wait) puts the stdout line's log timestamp before
# the stderr line's, so the merged log has one order.
SCRIPT = (
    "echo started; sleep 0.3; echo oops >&2; trap 'exit 0' TERM; while true; do sleep 0.2; done"
)


def kubectl(
    apiserver: ApiServerProcess, ns: str, tmp_path: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    base = [
        "kubectl", "--kubeconfig", str(apiserver.kubeconfig),
        "--cache-dir", str(tmp_path / "cache"), "-n", ns,
    ]  # fmt: skip
    env = {**os.environ, "KUBECONFIG": str(tmp_path / "no-kubeconfig")}
    return subprocess.run(
        [*base, *args], input=stdin, capture_output=True, text=True, env=env, timeout=60,
        check=False,
    )  # fmt: skip


def test_kubectl_logs_and_exec(
    apiserver: ApiServerProcess, api: httpx.Client, ns: str, node: KubeletProcess,
    test_images: dict[str, str], tmp_path: Path,
) -> None:  # fmt: skip
    body = pod_manifest("kc", node.node_name, [
        {"name": "main", "image": test_images["busybox"], "command": ["sh", "-c", SCRIPT]},
        {"name": "side", "image": test_images["busybox"], "command": ["sh", "-c", SCRIPT]},
    ])  # fmt: skip
    api.post(f"/api/v1/namespaces/{ns}/pods", json=body).raise_for_status()
    wait_for_pod(api, ns, "kc", running)
    logs = wait_until(
        lambda: (p := kubectl(apiserver, ns, tmp_path, "logs", "kc", "-c", "main")).returncode == 0
        and "oops" in p.stdout and p,
        timeout=20, what="kubectl logs",
    )  # fmt: skip
    assert isinstance(logs, subprocess.CompletedProcess)
    assert logs.stdout == "started\noops\n"
    # The side container started on its own clock: wait until it has written both lines.
    wait_until(
        lambda: (p := kubectl(apiserver, ns, tmp_path, "logs", "kc", "-c", "side")).returncode == 0
        and "oops" in p.stdout and p,
        timeout=20, what="the side container's two lines",
    )  # fmt: skip
    tail = kubectl(apiserver, ns, tmp_path, "logs", "kc", "-c", "side", "--tail", "1")
    assert tail.returncode == 0 and tail.stdout == "oops\n"
    # No container named: kubectl picks the first and says so.
    default = kubectl(apiserver, ns, tmp_path, "logs", "kc")
    assert default.returncode == 0 and "started" in default.stdout

    done = kubectl(
        apiserver,
        ns,
        tmp_path,
        "exec",
        "kc",
        "-c",
        "main",
        "--",
        "sh",
        "-c",
        "echo hi; echo err >&2; exit 3",
    )
    assert done.returncode == 3, done.stderr
    assert done.stdout == "hi\n"
    assert "err" in done.stderr
    # A command that takes a while: the kubelet's close handshake completes, so kubectl
    # sees a clean end, not "websocket: close 1006 (abnormal closure)" and exit code 1.
    for _ in range(3):
        slow = kubectl(apiserver, ns, tmp_path, "exec", "kc", "-c", "main", "--",
                       "sh", "-c", "sleep 1; echo slow")  # fmt: skip
        assert slow.returncode == 0, slow.stderr
        assert slow.stdout == "slow\n"
        assert "abnormal closure" not in slow.stderr
    piped = kubectl(
        apiserver,
        ns,
        tmp_path,
        "exec",
        "-i",
        "kc",
        "-c",
        "side",
        "--",
        "cat",
        stdin="through stdin\n",
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == "through stdin\n"
    missing = kubectl(apiserver, ns, tmp_path, "exec", "kc", "-c", "nope", "--", "true")
    assert missing.returncode != 0
    assert "container nope is not valid for pod kc" in missing.stderr
