"""A local cluster as background processes: ``navarch up``, ``down`` and ``status``.

Each component runs as its own process, detached from the terminal, with its pid in
``<data-dir>/run/<name>.pid`` and its log in ``<data-dir>/logs/<name>.log``. State
(etcd's data) stays in the data dir across ``down``/``up``. ``up`` on a running cluster
changes nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from apiserver.etcd_server import etcd_binary

DEFAULT_DATA_DIR = Path(os.environ.get("NAVARCH_DATA_DIR", "~/.navarch")).expanduser()


@dataclass(frozen=True)
class Ports:
    etcd_client: int = 2379
    etcd_peer: int = 2380
    apiserver: int = 6443


@dataclass(frozen=True)
class Component:
    name: str
    command: list[str]
    ready: Callable[[], bool]


class LocalCluster:
    def __init__(self, data_dir: Path = DEFAULT_DATA_DIR, ports: Ports | None = None) -> None:
        self.data_dir = data_dir
        self.ports = ports or self._saved_ports() or Ports()
        self.run_dir = data_dir / "run"
        self.log_dir = data_dir / "logs"

    # --- layout -------------------------------------------------------------------

    def _saved_ports(self) -> Ports | None:
        path = self.data_dir / "cluster.json"
        if not path.exists():
            return None
        return Ports(**json.loads(path.read_text())["ports"])

    def _save(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        doc = {"ports": self.ports.__dict__}
        (self.data_dir / "cluster.json").write_text(json.dumps(doc, indent=2))

    @property
    def etcd_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.etcd_client}"

    @property
    def apiserver_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.apiserver}"

    def components(self) -> list[Component]:
        navarch = [sys.executable, "-m", "cli.navarch"]
        peer = f"http://127.0.0.1:{self.ports.etcd_peer}"
        return [
            Component(
                "etcd",
                [
                    etcd_binary(),
                    "--name",
                    "navarch",
                    "--data-dir",
                    str(self.data_dir / "etcd"),
                    "--listen-client-urls",
                    self.etcd_url,
                    "--advertise-client-urls",
                    self.etcd_url,
                    "--listen-peer-urls",
                    peer,
                    "--initial-advertise-peer-urls",
                    peer,
                    "--initial-cluster",
                    f"navarch={peer}",
                    "--log-level",
                    "warn",
                ],
                lambda: _http_ok(f"{self.etcd_url}/health"),
            ),
            Component(
                "apiserver",
                [
                    *navarch,
                    "apiserver",
                    "--etcd-servers",
                    self.etcd_url,
                    "--bind-address",
                    "127.0.0.1",
                    "--port",
                    str(self.ports.apiserver),
                ],
                lambda: _http_ok(f"{self.apiserver_url}/readyz"),
            ),
        ]

    # --- process bookkeeping ------------------------------------------------------------

    def _pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def pid(self, name: str) -> int | None:
        """The pid of a running component, None if it is not running."""
        try:
            pid = int(self._pid_file(name).read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid

    # --- verbs ---------------------------------------------------------------------------

    def up(self, echo: Callable[[str], None] = print, timeout: float = 60.0) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._save()
        for comp in self.components():
            proc: subprocess.Popen[bytes] | None = None
            if self.pid(comp.name) is not None:
                echo(f"{comp.name}: already running (pid {self.pid(comp.name)})")
            else:
                with open(self.log_file(comp.name), "ab") as log:
                    proc = subprocess.Popen(
                        comp.command,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        start_new_session=True,
                        cwd=Path(__file__).resolve().parents[1],
                    )
                self._pid_file(comp.name).write_text(str(proc.pid))
                echo(f"{comp.name}: started (pid {proc.pid}, log {self.log_file(comp.name)})")
            self._wait(comp, timeout, proc)
        echo(f"apiserver: {self.apiserver_url}")

    def _wait(self, comp: Component, timeout: float, proc: subprocess.Popen[bytes] | None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            exited = proc.poll() is not None if proc is not None else self.pid(comp.name) is None
            if exited:
                raise RuntimeError(
                    f"{comp.name} exited during start-up; see {self.log_file(comp.name)}"
                )
            if comp.ready():
                return
            time.sleep(0.1)
        raise RuntimeError(
            f"{comp.name} not ready after {timeout:.0f}s; see {self.log_file(comp.name)}"
        )

    def down(self, echo: Callable[[str], None] = print, purge: bool = False) -> None:
        for comp in reversed(self.components()):
            pid = self.pid(comp.name)
            if pid is None:
                continue
            _terminate(pid)
            self._pid_file(comp.name).unlink(missing_ok=True)
            echo(f"{comp.name}: stopped")
        if purge:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            echo(f"removed {self.data_dir}")

    def status(self) -> list[tuple[str, int | None, Path]]:
        return [(c.name, self.pid(c.name), self.log_file(c.name)) for c in self.components()]


def _http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _terminate(pid: int, timeout: float = 15.0) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
