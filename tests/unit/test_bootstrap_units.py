"""The host's units and daemon configs: the shipped templates render into units that
``systemd-analyze verify`` accepts, with the restart, ordering and hardening the
issue asks for; every config init and join write is flags the daemon has."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest
import typer

from cli.bootstrap import units
from cli.bootstrap.host import ControlPlane, InitOptions, node_kubelet_config, node_network_configs
from cli.bootstrap.layout import Layout
from cli.daemonconfig import expand
from cli.navarch import app

REPO = Path(__file__).resolve().parents[2]


def _parse(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return parser


def test_deploy_systemd_is_the_shipped_templates() -> None:
    shipped = {p.name for p in (REPO / "cli/bootstrap/systemd").glob("*.service")}
    assert shipped == {f"{u}.service" for u in units.ALL_UNITS}
    assert (REPO / "deploy/systemd").resolve() == (REPO / "cli/bootstrap/systemd").resolve()
    for unit in units.ALL_UNITS:
        assert units.template(unit) == (REPO / "deploy/systemd" / f"{unit}.service").read_text()


@pytest.mark.parametrize("unit", units.ALL_UNITS)
def test_every_unit_restarts_orders_and_is_hardened_where_it_may_be(unit: str) -> None:
    parsed = _parse(units.template(unit))
    service = parsed["Service"]
    assert service["Restart"] == "always"
    assert "network-online.target" in parsed["Unit"]["After"]
    daemon = units.daemon_of(unit)
    flag = "--config-file" if daemon == "etcd" else "--config"
    assert units.exec_start(units.template(unit))[-2:] == [flag, f"/etc/navarch/{daemon}.yaml"]
    if unit in units.CONTROL_PLANE_UNITS:
        assert service["NoNewPrivileges"] == "yes"
        assert service["ProtectSystem"] == "strict"
        assert service["CapabilityBoundingSet"] == ""
    else:
        # The kubelet, kube-proxy and the network agent need the host.
        assert "ProtectSystem" not in service and "NoNewPrivileges" not in service
    after = parsed["Unit"]["After"].split()
    if unit == "navarch-apiserver":
        assert "navarch-etcd.service" in after
    if unit in ("navarch-controller-manager", "navarch-scheduler"):
        assert "navarch-apiserver.service" in after
    if unit == "navarch-kubelet":
        assert "docker.service" in after


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_rendered_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    written = units.write_units(layout, units.ALL_UNITS)
    for path in written:
        text = path.read_text()
        command = units.exec_start(text)
        assert Path(command[0]).exists(), command[0]
        assert str(tmp_path) in text and "/usr/local/bin/navarch" not in text
    proc = subprocess.run(
        ["systemd-analyze", "verify", *map(str, written)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "navarch" not in proc.stderr, proc.stderr


def test_every_config_init_and_join_write_is_flags_of_the_daemon(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.etc.mkdir(parents=True)
    plane = ControlPlane(layout, InitOptions(advertise_address="10.0.1.10", node_name="cp"))
    configs = plane.configs()
    assert set(configs) == {units.daemon_of(u) for u in units.ALL_UNITS}
    join_kubelet = node_kubelet_config(layout, "n2", "10.0.1.11", "10.96.0.0/12")
    join_kubelet["bootstrap-kubeconfig"] = str(layout.bootstrap_conf)
    join_kubelet["rotate-server-certificates"] = True
    joined = {"kubelet": join_kubelet, **node_network_configs(
        "n2", "10.244.0.0/16", "10.96.0.0/12", proxy_conf=layout.kubelet_conf,
        agent_conf=layout.kubelet_conf)}  # fmt: skip
    group = typer.main.get_command(app)
    for daemon, values in [*configs.items(), *joined.items()]:
        if daemon == "etcd":
            continue  # etcd's own --config-file
        path = units.write_config(layout, daemon, values)
        assert path.stat().st_mode & 0o077 == 0
        argv = expand([daemon, "--config", str(path)], group)
        assert len(argv) > 1, daemon
    api = configs["apiserver"]
    assert api["enable-bootstrap-token-auth"] is True
    assert api["service-node-port-range"] == "30000-32767"
    assert api["kubelet-certificate-authority"] == str(layout.pki / "ca.crt")
    assert configs["controller-manager"]["approve-kubelet-serving-certificates"] is True
    assert "bootstrapsigner" in configs["controller-manager"]["controllers"]
    assert configs["kubelet"]["cluster-dns"] == "10.96.0.10"
    assert configs["etcd"]["client-transport-security"]["client-cert-auth"] is True
