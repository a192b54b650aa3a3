"""``kubectl port-forward`` and ``navctl port-forward`` to a real container: the
``pods/<name>/portforward`` subresource, through the apiserver to the kubelet, which
dials the pod's IP. kubectl 1.30+ tunnels SPDY in a WebSocket; navctl speaks the v4
channel protocol."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kubelet.portforward import SPDY_DICTIONARY, FrameReader, HeaderCodec, data_frame
from testkit.kubelets import KubeletProcess, pod_manifest, running, wait_for_pod
from testkit.processes import ApiServerProcess, wait_until

pytestmark = [pytest.mark.e2e]

BODY = "hello from navarch\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(port: int, path: str = "/") -> str | None:
    """The body at ``path`` through the forwarded port, None while it does not answer."""
    try:
        response = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5)
    except httpx.HTTPError:
        return None
    return response.text if response.status_code == 200 else None


@pytest.fixture
def httpd_pod(api: httpx.Client, ns: str, node: KubeletProcess, test_images: dict[str, str]) -> str:
    body = pod_manifest("web", node.node_name, [{"name": "web", "image": test_images["httpd"]}])
    api.post(f"/api/v1/namespaces/{ns}/pods", json=body).raise_for_status()
    wait_for_pod(api, ns, "web", running)
    return "web"


def start(command: list[str], tmp_path: Path, name: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KUBECONFIG": str(tmp_path / "no-kubeconfig")}
    return subprocess.Popen(
        command,
        stdout=(tmp_path / f"{name}.out").open("wb"),
        stderr=(tmp_path / f"{name}.err").open("wb"),
        env=env,
    )


@pytest.fixture
def forwarders() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Port-forward processes a test starts; all stopped afterwards."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def check_forwarding(proc: subprocess.Popen[bytes], local: int, errors: Path) -> None:
    """Several connections in turn through one forwarder, each served in full."""
    try:
        body = wait_until(lambda: fetch(local), timeout=30, what="the forwarded httpd")
    except TimeoutError as err:
        raise AssertionError(f"{err}; the forwarder said: {errors.read_text()}") from err
    assert body == BODY
    for _ in range(3):
        assert fetch(local) == BODY
    assert fetch(local, "/healthz") == "ok\n"
    assert proc.poll() is None, "the forwarder exited"


def navctl(apiserver: ApiServerProcess, ns: str) -> list[str]:
    return [sys.executable, "-m", "cli.navctl", "--kubeconfig", str(apiserver.kubeconfig), "-n", ns]


def kubectl(apiserver: ApiServerProcess, ns: str, tmp_path: Path) -> list[str]:
    cache = str(tmp_path / "cache")
    return ["kubectl", "--kubeconfig", str(apiserver.kubeconfig), "--cache-dir", cache, "-n", ns]


def test_navctl_port_forward(
    apiserver: ApiServerProcess, ns: str, httpd_pod: str, tmp_path: Path,
    forwarders: list[subprocess.Popen[bytes]],
) -> None:  # fmt: skip
    local = free_port()
    proc = start(
        [*navctl(apiserver, ns), "port-forward", f"pod/{httpd_pod}", f"{local}:8080"],
        tmp_path,
        "navctl",
    )
    forwarders.append(proc)
    check_forwarding(proc, local, tmp_path / "navctl.err")
    stop(proc)
    assert fetch(local) is None


def test_navctl_port_forward_to_closed_port(
    apiserver: ApiServerProcess, ns: str, httpd_pod: str, tmp_path: Path,
    forwarders: list[subprocess.Popen[bytes]],
) -> None:  # fmt: skip
    """Nothing listens on the pod's port: the connection ends, the kubelet's error is shown."""
    local = free_port()
    proc = start(
        [*navctl(apiserver, ns), "port-forward", httpd_pod, f"{local}:9999"], tmp_path, "closed"
    )
    forwarders.append(proc)

    def refused() -> bool:
        assert fetch(local) is None
        return "error forwarding port 9999" in (tmp_path / "closed.err").read_text()

    wait_until(refused, timeout=30, what="the forwarding error")


@pytest.mark.kubectl
def test_kubectl_port_forward(
    apiserver: ApiServerProcess, ns: str, httpd_pod: str, tmp_path: Path,
    forwarders: list[subprocess.Popen[bytes]],
) -> None:  # fmt: skip
    local = free_port()
    proc = start(
        [*kubectl(apiserver, ns, tmp_path), "port-forward", f"pod/{httpd_pod}", f"{local}:8080"],
        tmp_path,
        "kubectl",
    )
    forwarders.append(proc)
    check_forwarding(proc, local, tmp_path / "kubectl.err")
    out = (tmp_path / "kubectl.out").read_text()
    assert f"Forwarding from 127.0.0.1:{local} -> 8080" in out
    assert "Handling connection for" in out
    stop(proc)
    assert fetch(local) is None


@pytest.mark.kubectl
def test_kubectl_port_forward_to_closed_port(
    apiserver: ApiServerProcess, ns: str, httpd_pod: str, tmp_path: Path,
    forwarders: list[subprocess.Popen[bytes]],
) -> None:  # fmt: skip
    local = free_port()
    proc = start(
        [*kubectl(apiserver, ns, tmp_path), "port-forward", httpd_pod, f"{local}:9999"],
        tmp_path,
        "kclosed",
    )
    forwarders.append(proc)

    def refused() -> bool:
        fetch(local)
        return "error forwarding port 9999" in (tmp_path / "kclosed.err").read_text()

    wait_until(refused, timeout=30, what="the forwarding error")


# --- the SPDY codec, without containers ---------------------------------------------------


def test_spdy_dictionary_is_the_protocol_one() -> None:
    # The zlib header of a SPDY/3 header block names the dictionary by its Adler-32.
    assert len(SPDY_DICTIONARY) == 1423
    assert zlib.adler32(SPDY_DICTIONARY) == 3821447106
    assert SPDY_DICTIONARY.endswith(b"enq=0.")


def test_spdy_headers_and_frames_round_trip() -> None:
    sender, receiver = HeaderCodec(), HeaderCodec()
    sent = [{"streamtype": ["data"], "port": ["8080"], "requestid": [str(i)]} for i in range(3)]
    # One zlib stream per direction: each block decodes only after the ones before it.
    blocks = [sender.encode(h) for h in sent]
    assert [receiver.decode(b) for b in blocks] == sent
    reader = FrameReader()
    wire = data_frame(5, b"abc") + data_frame(7, b"", fin=True)
    frames = [f for i in range(len(wire)) for f in reader.feed(wire[i : i + 1])]
    assert [(f.control, f.stream_id, f.flags, f.payload) for f in frames] == [
        (False, 5, 0, b"abc"),
        (False, 7, 1, b""),
    ]
