"""Who runs a host's units: systemd when it is the host's init (``/run/systemd/system``
exists), else navarch's supervisor (``cli/supervisor.py``, detached as ``navarch up``
starts it), which runs the very ``ExecStart`` commands of the same rendered units,
restarts them when they exit (``Restart=always``) and starts them in their ``After=``
order: etcd, then the apiserver once etcd answers, then the rest once the apiserver
answers. Containers without systemd, and this machine's tests, take the second path;
everything before it (PKI, configs, units) is the same code.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import yaml

from cli.bootstrap.layout import Layout
from cli.bootstrap.units import daemon_of, exec_start, installed_units
from cli.localcluster import SUPERVISOR, Component, _read_pid, _terminate, start_detached

AUTO, SYSTEMD, SUPERVISED = "auto", "systemd", "supervisor"
CHOICES = (AUTO, SYSTEMD, SUPERVISED)


class InitSystem(Protocol):
    name: str

    def start(self, units: list[str]) -> None:
        """Enable and (re)start ``units`` (their files are written)."""

    def add(self, units: list[str]) -> None:
        """Enable and start those of ``units`` not running yet; running ones go on."""

    def stop(self, units: list[str]) -> None:
        """Stop and disable ``units``; quiet about units that do not exist."""

    def restarts(self, unit: str) -> int:
        """How often ``unit`` exited and was started again (0 when unknown)."""


def systemd_runs_host() -> bool:
    return Path("/run/systemd/system").is_dir()


def choose(name: str, layout: Layout) -> InitSystem:
    """``auto``: systemd when it runs the host and the layout is the host's own."""
    if name == AUTO:
        name = SYSTEMD if systemd_runs_host() and layout.root == Path("/") else SUPERVISED
    if name == SYSTEMD:
        return Systemd()
    if name == SUPERVISED:
        return Supervised(layout)
    raise ValueError(f"--init-system {name!r}: one of {', '.join(CHOICES)}")


class Systemd:
    name = SYSTEMD

    def _ctl(self, *args: str, check: bool = True) -> None:
        proc = subprocess.run(["systemctl", *args], check=False, capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise RuntimeError(f"systemctl {' '.join(args)}: {proc.stderr.strip()}")

    def start(self, units: list[str]) -> None:
        self._ctl("daemon-reload")
        self._ctl("enable", *units)
        # restart, not start: a second init or join brings new configuration.
        self._ctl("restart", *units)

    def add(self, units: list[str]) -> None:
        self._ctl("daemon-reload")
        self._ctl("enable", "--now", *units)

    def stop(self, units: list[str]) -> None:
        if units:
            self._ctl("disable", "--now", *units, check=False)

    def restarts(self, unit: str) -> int:
        proc = subprocess.run(
            ["systemctl", "show", "--property", "NRestarts", "--value", unit],
            check=False, capture_output=True, text=True,
        )  # fmt: skip
        value = proc.stdout.strip()
        return int(value) if value.isdigit() else 0


def _port(url_or_port: object) -> int | None:
    """The port of ``https://127.0.0.1:2379`` (or of a plain number)."""
    text = str(url_or_port).split(",")[0].strip()
    if text.isdigit():
        return int(text)
    return urlsplit(text).port


def _listening(port: int | None) -> Callable[[], bool]:
    def ready() -> bool:
        if port is None:
            return True
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return True
        return False

    return ready


class HostProcesses:
    """A host's rendered units as the supervisor's components (``Supervised``)."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.run_dir = layout.run
        self.log_dir = layout.logs
        self.state_file = layout.run / "supervisor.json"

    def pid(self, name: str) -> int | None:
        return _read_pid(self.run_dir / f"{name}.pid")

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def _config(self, daemon: str) -> dict[str, object]:
        try:
            doc = yaml.safe_load(self.layout.config(daemon).read_text())
        except (OSError, yaml.YAMLError):
            return {}
        return doc if isinstance(doc, dict) else {}

    def component(self, unit: str) -> Component:
        command = exec_start((self.layout.units / f"{unit}.service").read_text())
        daemon = daemon_of(unit)
        if daemon == "etcd":
            ready = _listening(_port(self._config("etcd").get("listen-client-urls", "")))
        elif daemon == "apiserver":
            ready = _listening(_port(self._config("apiserver").get("secure-port", 6443)))
        else:
            ready = _always
        return Component(unit, command, ready)

    def groups(self) -> list[list[Component]]:
        """etcd, then the apiserver, then the rest (the units' ``After=`` order)."""
        order = {"navarch-etcd": 0, "navarch-apiserver": 1}
        groups: dict[int, list[Component]] = {}
        for unit in installed_units(self.layout):
            groups.setdefault(order.get(unit, 2), []).append(self.component(unit))
        return [groups[k] for k in sorted(groups)]


def _always() -> bool:
    return True


class Supervised:
    name = SUPERVISED

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.processes = HostProcesses(layout)

    @property
    def pid_file(self) -> Path:
        return self.layout.run / f"{SUPERVISOR}.pid"

    def supervisor_pid(self) -> int | None:
        return _read_pid(self.pid_file)

    def start(self, units: list[str]) -> None:
        """A new supervisor for the installed units (one running is stopped first, so
        that new units and configuration take effect)."""
        self.stop_all()
        self.layout.run.mkdir(parents=True, exist_ok=True)
        self.layout.logs.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "cli.navarch", "supervise", "--host-root"]
        start_detached(
            [*argv, str(self.layout.root)],
            self.processes.log_file(SUPERVISOR),
            self.pid_file,
        )

    def add(self, units: list[str]) -> None:
        """The running supervisor takes on the installed units it lacks (SIGHUP); none
        running: ``start``."""
        pid = self.supervisor_pid()
        if pid is None:
            self.start(units)
            return
        os.kill(pid, signal.SIGHUP)

    def stop(self, units: list[str]) -> None:
        self.stop_all()

    def restarts(self, unit: str) -> int:
        try:
            doc = json.loads(self.processes.state_file.read_text())
            return int(doc["components"][unit]["restarts"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0

    def stop_all(self) -> None:
        """Stop the supervisor (it stops its components, latest first), then any
        component left without one."""
        pid = self.supervisor_pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 60
            while self.supervisor_pid() is not None and time.monotonic() < deadline:
                time.sleep(0.1)
            if self.supervisor_pid() is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        if not self.layout.run.is_dir():
            return
        for path in self.layout.run.glob("*.pid"):
            left = _read_pid(path)
            if left is not None:
                _terminate([left])
            path.unlink(missing_ok=True)
