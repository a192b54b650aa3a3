"""Who runs a host's units: the systemctl calls of the systemd path (a stand-in
systemctl records them), the choice ``auto`` makes, and the supervisor's view of the
rendered units (their ExecStart commands, in After= order, with readiness probes)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from cli.bootstrap import initsystem, units
from cli.bootstrap.layout import Layout


def _fake_systemctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A systemctl first on PATH that records its arguments (in the file returned) and
    fails for ``fail``."""
    log = tmp_path / "calls"
    fake = tmp_path / "bin" / "systemctl"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\n[ "$1" = fail ] && exit 1\nexit 0\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    return log


def test_systemd_enables_restarts_and_disables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _fake_systemctl(tmp_path, monkeypatch)
    system = initsystem.Systemd()
    system.start(["navarch-etcd", "navarch-apiserver"])
    system.stop(["navarch-etcd"])
    assert log.read_text().splitlines() == [
        "daemon-reload",
        "enable navarch-etcd navarch-apiserver",
        "restart navarch-etcd navarch-apiserver",
        "disable --now navarch-etcd",
    ]
    with pytest.raises(RuntimeError, match="systemctl fail"):
        system._ctl("fail")


def test_auto_takes_the_supervisor_without_systemd_or_under_a_root(tmp_path: Path) -> None:
    chosen = initsystem.choose("auto", Layout(tmp_path))
    assert chosen.name == "supervisor"  # a root prefix is never the host's systemd
    assert initsystem.choose("systemd", Layout(tmp_path)).name == "systemd"
    with pytest.raises(ValueError, match="one of auto, systemd, supervisor"):
        initsystem.choose("runit", Layout(tmp_path))


def test_the_supervisor_runs_the_units_exec_start_in_after_order(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    units.write_units(layout, units.ALL_UNITS)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        units.write_config(layout, "etcd", {"listen-client-urls": f"https://127.0.0.1:{port}"})
        units.write_config(layout, "apiserver", {"secure-port": 1})  # nothing listens there
        groups = initsystem.HostProcesses(layout).groups()
        names = [[c.name for c in group] for group in groups]
        assert names == [
            ["navarch-etcd"],
            ["navarch-apiserver"],
            ["navarch-controller-manager", "navarch-scheduler", "navarch-kubelet",
             "navarch-proxy", "navarch-network-agent"],
        ]  # fmt: skip
        etcd, apiserver = groups[0][0], groups[1][0]
        assert etcd.ready() and not apiserver.ready()
    assert etcd.command[-2:] == ["--config-file", str(layout.config("etcd"))]
    kubelet = groups[2][2]
    assert kubelet.command[1:] == ["kubelet", "--config", str(layout.config("kubelet"))]
    assert Path(kubelet.command[0]).exists()


def test_init_preflight_refuses_a_port_in_use() -> None:
    from cli.bootstrap.host import BootstrapError, preflight

    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(BootstrapError, match=f"port {port} is in use"):
            preflight(port)


def test_waiting_for_a_unit_stops_when_it_keeps_exiting(tmp_path: Path) -> None:
    from cli.bootstrap.host import BootstrapError, _wait_unit

    class Looping:
        name = "supervisor"
        calls = 0

        def restarts(self, unit: str) -> int:
            self.calls += 1
            return 0 if self.calls == 1 else 7  # exits again and again once started

    with pytest.raises(BootstrapError) as err:
        _wait_unit(Looping(), Layout(tmp_path), "navarch-apiserver", lambda: False, 60, "x")  # type: ignore[arg-type]
    assert str(err.value) == (
        f"navarch-apiserver keeps exiting; see {tmp_path}/var/log/navarch/navarch-apiserver.log"
        " (`navarch reset` undoes this)"
    )


def test_the_supervisor_counts_restarts_from_its_state(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    system = initsystem.Supervised(layout)
    assert system.restarts("navarch-apiserver") == 0
    layout.run.mkdir(parents=True)
    system.processes.state_file.write_text('{"components": {"navarch-apiserver": {"restarts": 4}}}')
    assert system.restarts("navarch-apiserver") == 4


def test_systemd_adds_units_without_restarting_running_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _fake_systemctl(tmp_path, monkeypatch)
    initsystem.Systemd().add(["navarch-kubelet", "navarch-proxy"])
    assert log.read_text().splitlines() == [
        "daemon-reload",
        "enable --now navarch-kubelet navarch-proxy",
    ]


def test_the_supervisor_takes_on_added_units_and_keeps_the_running_ones(tmp_path: Path) -> None:
    from cli.supervisor import Supervisor

    layout = Layout(tmp_path)
    units.write_units(layout, ["navarch-kubelet"])
    lines: list[str] = []
    supervisor = Supervisor(initsystem.HostProcesses(layout), echo=lines.append)
    kubelet = supervisor.units["navarch-kubelet"]
    kubelet.adopted = os.getpid()  # running
    units.write_units(layout, ["navarch-kubelet", "navarch-proxy", "navarch-network-agent"])
    supervisor.reload()
    assert set(supervisor.units) == {"navarch-kubelet", "navarch-proxy", "navarch-network-agent"}
    assert supervisor.units["navarch-kubelet"] is kubelet and kubelet.running
    assert not supervisor.units["navarch-proxy"].running
    assert lines == ["navarch-proxy: added", "navarch-network-agent: added"]
    supervisor.reload()  # nothing new
    assert len(lines) == 2


def test_adding_units_signals_the_running_supervisor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal

    system = initsystem.Supervised(Layout(tmp_path))
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(system, "supervisor_pid", lambda: 4242)
    monkeypatch.setattr(initsystem.os, "kill", lambda pid, sig: sent.append((pid, sig)))
    monkeypatch.setattr(system, "start", lambda u: pytest.fail("restarted the supervisor"))
    system.add(["navarch-proxy"])
    assert sent == [(4242, signal.SIGHUP)]
