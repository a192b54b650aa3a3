"""The local cluster's process supervisor (``navarch supervise``, started by ``up``).

It does for the local cluster what systemd (or the kubelet, for static pods) does for a
real control plane: it starts every component in order (etcd, then the apiserver once
etcd is healthy, then the controller-manager, the scheduler and the kubelets once the
apiserver is ready) and restarts whatever exits, with back-off: 1 s after the first
quick exit, doubling to ``MAX_BACKOFF``; a component that ran ``STABLE_AFTER`` seconds
starts again from 1 s. Each start and exit is logged (``logs/supervisor.log``) and
recorded in ``run/supervisor.json`` (state, pid, restart count, last exit code),
which ``navarch status`` shows.

Components run in their own sessions, so that they outlive a supervisor that dies: a
new supervisor (the next ``navarch up``) adopts the ones still running (by their pid
files) and restarts them when they exit. SIGTERM (``navarch down``) stops every
component in reverse order (the daemons, the apiserver, etcd), then the supervisor.
SIGHUP (``navarch join`` adding kube-proxy and the network agent beside its kubelet)
takes on the components it does not run yet, leaving the running ones alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Protocol

from cli.localcluster import ROOT, SUPERVISOR, Component, _alive, _terminate

POLL = 0.2
"""Seconds between looks at the components (exits, due restarts, readiness)."""
READY_POLL = 0.5
MIN_BACKOFF = 1.0
MAX_BACKOFF = 30.0
STABLE_AFTER = 30.0
"""Seconds of running after which an exit counts as a first failure again."""


class Supervised(Protocol):
    """What the supervisor runs: a local cluster (``LocalCluster``) or the units of a
    host made by ``navarch init``/``join`` (``cli.bootstrap.initsystem.HostProcesses``)."""

    @property
    def run_dir(self) -> Path: ...
    @property
    def log_dir(self) -> Path: ...
    @property
    def state_file(self) -> Path: ...
    def groups(self) -> list[list[Component]]: ...
    def pid(self, name: str) -> int | None: ...
    def log_file(self, name: str) -> Path: ...


@dataclass
class Unit:
    comp: Component
    group: int
    proc: subprocess.Popen[bytes] | None = None
    adopted: int | None = None
    """The pid of a component an earlier supervisor started (not our child)."""
    state: str = "waiting"
    started_at: float = 0.0
    ready_once: bool = False
    restarts: int = 0
    failures: int = 0
    last_exit_code: int | None = None
    last_exit_at: str | None = None
    next_start: float = 0.0
    checked_ready_at: float = 0.0

    @property
    def pid(self) -> int | None:
        if self.proc is not None:
            return self.proc.pid
        return self.adopted

    @property
    def running(self) -> bool:
        return self.proc is not None or self.adopted is not None

    def exited(self) -> tuple[bool, int | None]:
        """(whether it exited since the last look, its exit code when known)."""
        if self.proc is not None:
            code = self.proc.poll()
            return code is not None, code
        if self.adopted is not None and not _alive(self.adopted):
            return True, None
        return False, None


class Supervisor:
    def __init__(
        self,
        cluster: Supervised,
        *,
        clock: Callable[[], float] = time.monotonic,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.cluster = cluster
        self.clock = clock
        self.echo = echo or _log
        self.units = {
            comp.name: Unit(comp, i) for i, group in enumerate(cluster.groups()) for comp in group
        }
        self.stopping = False
        self.reload_wanted = False

    def reload(self) -> None:
        """Take on what ``groups()`` names now and this supervisor does not run yet
        (started by the next ``step``, in group order); the running components go on."""
        for i, group in enumerate(self.cluster.groups()):
            for comp in group:
                if comp.name not in self.units:
                    self.units[comp.name] = Unit(comp, i)
                    self.echo(f"{comp.name}: added")

    # --- the loop ---------------------------------------------------------------------

    def run(self) -> None:
        """Supervise until SIGTERM or SIGINT, then stop every component."""

        def stop(signum: int, frame: FrameType | None) -> None:
            self.stopping = True

        def reload(signum: int, frame: FrameType | None) -> None:
            self.reload_wanted = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, reload)
        self.cluster.run_dir.mkdir(parents=True, exist_ok=True)
        self.cluster.log_dir.mkdir(parents=True, exist_ok=True)
        self.adopt()
        try:
            while not self.stopping:
                if self.reload_wanted:
                    self.reload_wanted = False
                    self.reload()
                self.step()
                self.write_state()
                time.sleep(POLL)
        finally:
            self.stop_all()
            self.write_state()
            pid_file = self.cluster.run_dir / f"{SUPERVISOR}.pid"
            with contextlib.suppress(FileNotFoundError, ValueError):
                if int(pid_file.read_text().strip()) == os.getpid():
                    pid_file.unlink()

    def adopt(self) -> None:
        """Take charge of components an earlier supervisor left running."""
        for unit in self.units.values():
            pid = self.cluster.pid(unit.comp.name)
            if pid is not None:
                unit.adopted = pid
                unit.state = "running"
                unit.started_at = self.clock()
                self.echo(f"{unit.comp.name}: adopted (pid {pid})")

    def step(self) -> None:
        """One look: record exits and schedule their restarts, start what is due
        (in group order), note readiness."""
        now = self.clock()
        for unit in self.units.values():
            if unit.running:
                gone, code = unit.exited()
                if gone:
                    self._exited(unit, code, now)
        gate_open = True
        for group in sorted({u.group for u in self.units.values()}):
            members = [u for u in self.units.values() if u.group == group]
            for unit in members:
                if unit.running:
                    continue
                if not gate_open:
                    unit.state = "waiting"
                elif now >= unit.next_start:
                    self._start(unit, now)
            for unit in members:
                if (
                    unit.running
                    and not unit.ready_once
                    and now - unit.checked_ready_at >= READY_POLL
                ):
                    unit.checked_ready_at = now
                    unit.ready_once = unit.comp.ready()
            # Later groups first start once this one has been ready; afterwards each
            # component restarts on its own (the others retry their connections).
            gate_open = gate_open and all(u.ready_once for u in members)

    def _start(self, unit: Unit, now: float) -> None:
        name = unit.comp.name
        with open(self.cluster.log_file(name), "ab") as log:
            unit.proc = subprocess.Popen(
                unit.comp.command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=ROOT,
            )
        unit.adopted = None
        unit.state = "running"
        unit.started_at = now
        (self.cluster.run_dir / f"{name}.pid").write_text(str(unit.proc.pid))
        again = f", restart {unit.restarts}" if unit.restarts else ""
        self.echo(f"{name}: started (pid {unit.proc.pid}{again})")

    def _exited(self, unit: Unit, code: int | None, now: float) -> None:
        ran = now - unit.started_at
        unit.proc = None
        unit.adopted = None
        unit.restarts += 1
        unit.last_exit_code = code
        unit.last_exit_at = datetime.now(UTC).isoformat(timespec="seconds")
        unit.failures = 1 if ran >= STABLE_AFTER else unit.failures + 1
        delay = min(MIN_BACKOFF * 2 ** (unit.failures - 1), MAX_BACKOFF)
        unit.next_start = now + delay
        unit.state = "restarting"
        how = "exit status unknown" if code is None else (
            f"signal {-code}" if code < 0 else f"exit code {code}"
        )  # fmt: skip
        self.echo(
            f"{unit.comp.name}: exited ({how}) after {ran:.1f}s; "
            f"restarting in {delay:.0f}s (restart {unit.restarts}); "
            f"see {self.cluster.log_file(unit.comp.name)}"
        )

    def stop_all(self) -> None:
        """Stop the components, latest group first; each group only needs the next."""
        for group in sorted({u.group for u in self.units.values()}, reverse=True):
            members = [u for u in self.units.values() if u.group == group and u.running]
            _terminate([pid for u in members if (pid := u.pid) is not None])
            for unit in members:
                if unit.proc is not None:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        unit.proc.wait(timeout=5)
                unit.proc = None
                unit.adopted = None
                unit.state = "stopped"
                (self.cluster.run_dir / f"{unit.comp.name}.pid").unlink(missing_ok=True)
                self.echo(f"{unit.comp.name}: stopped")

    def write_state(self) -> None:
        now = self.clock()
        doc = {
            "pid": os.getpid(),
            "components": {
                name: {
                    "state": unit.state,
                    "pid": unit.pid,
                    "restarts": unit.restarts,
                    "lastExitCode": unit.last_exit_code,
                    "lastExitTime": unit.last_exit_at,
                    "nextStartIn": round(max(unit.next_start - now, 0.0), 1)
                    if unit.state == "restarting"
                    else None,
                }
                for name, unit in self.units.items()
            },
        }
        path = self.cluster.state_file
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=1))
        tmp.replace(path)


def _log(line: str) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sys.stdout.write(f"{stamp} {line}\n")
    sys.stdout.flush()
