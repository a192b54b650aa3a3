"""``navarch reset`` on a temporary root: removes what init/join left (units, files,
the node's network through its cleaner), is quiet the second time, and copes with a
half-made host (a failed init)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cli.bootstrap import units
from cli.bootstrap.host import reset
from cli.bootstrap.layout import CONTROL_PLANE, NODE, HostRecord, Layout
from netagent import localroutes


def _host(root: Path, role: str, unit_names: tuple[str, ...]) -> Layout:
    layout = Layout(root)
    units.write_units(layout, unit_names)
    (layout.pki / "etcd").mkdir(parents=True)
    (layout.pki / "ca.crt").write_text("x")
    layout.admin_conf.write_text("x")
    (layout.var / "kubelet" / "pki").mkdir(parents=True)
    layout.logs.mkdir(parents=True)
    (layout.units / "docker.service").write_text("[Service]\n")  # not ours: stays
    HostRecord(role, "n1", list(unit_names), "supervisor", "10.244.0.0/16", "10.96.0.0/12").save(
        layout
    )
    return layout


def test_reset_removes_everything_once_and_is_quiet_the_second_time(tmp_path: Path) -> None:
    layout = _host(tmp_path, NODE, units.NODE_UNITS)
    cleaned: list[str] = []
    lines: list[str] = []

    def clean(lay: Layout, record: HostRecord, ran: set[str], echo: object) -> None:
        assert ran == set(units.NODE_UNITS)
        cleaned.append(record.node_name)

    reset(layout, lines.append, clean_network=clean)
    assert cleaned == ["n1"]
    assert not layout.etc.exists() and not layout.var.exists() and not layout.logs.exists()
    assert units.installed_units(layout) == []
    assert (layout.units / "docker.service").exists()
    assert any("stopped navarch-kubelet" in line for line in lines)
    again: list[str] = []
    reset(layout, again.append, clean_network=clean)
    assert cleaned == ["n1"]  # nothing ran the second time
    assert again == ["[reset] stopped nothing (no units installed)", "[reset] done"]


def test_a_control_plane_without_node_units_leaves_the_network_alone(tmp_path: Path) -> None:
    layout = _host(tmp_path, CONTROL_PLANE, units.CONTROL_PLANE_UNITS)
    cleaned: list[str] = []
    reset(layout, lambda _line: None, clean_network=lambda *_: cleaned.append("x"))
    assert cleaned == []
    assert not layout.etc.exists()


def test_reset_after_a_failed_init(tmp_path: Path) -> None:
    # init stopped after its PKI: no units, no record.
    layout = Layout(tmp_path)
    (layout.pki / "etcd").mkdir(parents=True)
    lines: list[str] = []
    reset(layout, lines.append, clean_network=lambda *_: None)
    assert not layout.etc.exists()
    assert lines[-1] == "[reset] done"


def test_only_the_daemons_that_ran_are_cleaned_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cli.localcluster
    from cli.bootstrap import host

    containers: list[list[str]] = []
    commands: list[list[str]] = []
    monkeypatch.setattr(cli.localcluster, "remove_node_containers",
                        lambda nodes: containers.append(nodes) or 0)  # fmt: skip

    def run(argv: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        commands.append(argv)
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(host.subprocess, "run", run)
    # The local routes the agent kept (the real ones of this machine are left alone).
    local: list[tuple[str | None, list[str]]] = []
    monkeypatch.setattr(localroutes, "remove", lambda svc, clusters: local.append((svc, clusters)))
    record = HostRecord(NODE, "n1", [], "supervisor", "10.244.0.0/16", "10.96.0.0/12")
    layout = Layout(tmp_path)
    host._clean_node_network(layout, record, {"navarch-kubelet"}, lambda _: None)
    assert containers == [["n1"]] and commands == []  # kube-proxy's rules are not ours here
    assert local == []
    host._clean_node_network(layout, record, set(units.NODE_UNITS), lambda _: None)
    verbs = [argv[3:5] for argv in commands]
    assert verbs == [["network-agent", "--cleanup"], ["proxy", "--cleanup"]]
    assert commands[0][-4:] == ["--cluster-cidr", "10.244.0.0/16",
                                "--service-cluster-ip-range", "10.96.0.0/12"]  # fmt: skip
    assert local == [("10.96.0.0/12", ["10.244.0.0/16"])]
