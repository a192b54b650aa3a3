"""``navarch join`` without a cluster: the daemon settings given with ``--kubelet-arg``
and the like land in the daemons' config files, and a host that already joined starts
its units again without discovery (how a compose node comes back after a restart)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cli.bootstrap import discovery, host, initsystem
from cli.bootstrap.host import BootstrapError, JoinOptions
from cli.bootstrap.layout import NODE, HostRecord, Layout
from cli.bootstrap.units import NODE_UNITS, installed_units
from pki import bootstraptoken as bt

TOKEN = bt.parse("abcdef.0123456789abcdef")


class FakeInitSystem:
    name = "fake"

    def __init__(self) -> None:
        self.started: list[list[str]] = []

    def start(self, units: list[str]) -> None:
        self.started.append(list(units))

    def add(self, units: list[str]) -> None:
        self.started.append(["added", *units])

    def stop(self, units: list[str]) -> None:
        pass

    def restarts(self, unit: str) -> int:
        return 0


@pytest.fixture
def system(monkeypatch: pytest.MonkeyPatch) -> FakeInitSystem:
    fake = FakeInitSystem()
    monkeypatch.setattr(initsystem, "choose", lambda name, layout: fake)
    return fake


def _opts(**kw: object) -> JoinOptions:
    return JoinOptions("10.0.0.2:6443", TOKEN, "sha256:" + "0" * 64, **kw)  # type: ignore[arg-type]


def test_daemon_args_are_written_into_the_daemons_configs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = discovery.Discovered("https://10.0.0.2:6443", b"CA")
    monkeypatch.setattr(discovery, "discover", lambda *a, **kw: found)
    monkeypatch.setattr(host, "read_settings", lambda f, t: {"podSubnet": "10.250.0.0/16"})
    layout = Layout(tmp_path)
    extra = {"kubelet": {"cluster-dns": "10.96.0.53", "port": "10251"},
             "proxy": {"lb-announce-interface": "eth1"}}  # fmt: skip
    node, _ = host.prepare_join(layout, _opts(node_name="n1", extra_args=extra), print)
    assert node == "n1"
    kubelet = yaml.safe_load(layout.config("kubelet").read_text())
    assert kubelet["cluster-dns"] == "10.96.0.53" and kubelet["port"] == "10251"
    assert kubelet["node-name"] == "n1"  # the rest as join makes it
    proxy = yaml.safe_load(layout.config("proxy").read_text())
    assert proxy["lb-announce-interface"] == "eth1"
    assert proxy["cluster-cidr"] == "10.250.0.0/16"
    assert "lb-announce-interface" not in yaml.safe_load(layout.config("network-agent").read_text())


def _joined(layout: Layout, units: list[str]) -> None:
    layout.etc.mkdir(parents=True)
    layout.kubelet_conf.write_text("the kubelet's own credentials")
    HostRecord(NODE, "n1", units, "supervisor", "10.244.0.0/16", "10.96.0.0/12").save(layout)


def test_a_host_that_joined_starts_its_units_again_without_discovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, system: FakeInitSystem
) -> None:
    def no_discovery(*a: object, **kw: object) -> None:
        raise AssertionError("discovery ran")

    monkeypatch.setattr(discovery, "discover", no_discovery)
    layout = Layout(tmp_path)
    _joined(layout, ["navarch-kubelet"])  # stopped before the network units started
    lines: list[str] = []
    host.join(layout, _opts(node_name="n1"), lines.append)
    assert system.started == [list(NODE_UNITS)]
    assert installed_units(layout) == list(NODE_UNITS)
    record = HostRecord.load(layout)
    assert record is not None and record.units == list(NODE_UNITS)
    assert "already joined as node n1" in lines[-1] and "no discovery" in lines[-1]


def test_a_host_that_joined_under_another_name_is_refused(
    tmp_path: Path, system: FakeInitSystem
) -> None:
    layout = Layout(tmp_path)
    _joined(layout, list(NODE_UNITS))
    with pytest.raises(BootstrapError, match="joined as node n1, not n2: `navarch reset` first"):
        host.join(layout, _opts(node_name="n2"), print)
    assert system.started == []


def test_a_join_record_without_the_kubelets_credentials_joins_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, system: FakeInitSystem
) -> None:
    layout = Layout(tmp_path)
    _joined(layout, ["navarch-kubelet"])
    layout.kubelet_conf.unlink()  # the TLS bootstrap never finished
    assert host.joined(layout) is None

    def discover(*a: object, **kw: object) -> None:
        raise discovery.DiscoveryError("discovery ran")

    monkeypatch.setattr(discovery, "discover", discover)
    with pytest.raises(discovery.DiscoveryError, match="discovery ran"):
        host.join(layout, _opts(node_name="n1"), print)
