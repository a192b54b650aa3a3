"""``navarch <daemon> --config FILE``: a YAML mapping of flag names becomes flags; the
command line wins; bad files and unknown keys are one line and exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer

from cli.daemonconfig import ConfigFileError, expand
from cli.navarch import app

GROUP = typer.main.get_command(app)


def _file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return str(path)


def test_values_switches_and_lists_become_flags(tmp_path: Path) -> None:
    conf = _file(
        tmp_path,
        "node-name: n1\nport: 10251\nauthentication-token-webhook: true\n"
        "rotate-certificates: false\nanonymous-auth: false\n",
    )
    argv = expand(["kubelet", "--config", conf], GROUP)
    assert argv[0] == "kubelet"
    flags = argv[1:]
    assert flags[flags.index("--node-name") + 1] == "n1"
    assert flags[flags.index("--port") + 1] == "10251"
    assert "--authentication-token-webhook" in flags
    assert "--no-rotate-certificates" in flags
    # A string-valued flag given a YAML boolean: Kubernetes' spelling.
    assert flags[flags.index("--anonymous-auth") + 1] == "false"
    # A repeatable flag: once per item.
    issuers = _file(tmp_path, "service-account-issuer: [https://a, https://b]\n")
    assert expand(["apiserver", "--config", issuers], GROUP) == [
        "apiserver", "--service-account-issuer", "https://a", "--service-account-issuer", "https://b",
    ]  # fmt: skip
    sans = expand(
        ["proxy", f"--config={_file(tmp_path, 'cluster-cidr: [10.0.0.0/8, fd00::/64]')}"], GROUP
    )
    assert sans == ["proxy", "--cluster-cidr", "10.0.0.0/8,fd00::/64"]


def test_the_command_line_wins(tmp_path: Path) -> None:
    conf = _file(tmp_path, "proxy-mode: nftables\nsync-period: 5s\n")
    argv = expand(["proxy", "--config", conf, "--proxy-mode", "iptables"], GROUP)
    assert argv == ["proxy", "--sync-period", "5s", "--proxy-mode", "iptables"]
    # An alias on the command line counts too (--master is --server).
    conf = _file(tmp_path, "server: https://a:1\n")
    assert expand(["proxy", "--config", conf, "--master", "https://b:2"], GROUP) == [
        "proxy", "--master", "https://b:2",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nonsense: 1\n", "unknown flag 'nonsense'"),
        ("config: x\n", "unknown flag 'config'"),
        ("- a\n- b\n", "expected a mapping"),
        ("a: [\n", "not YAML (line 2)"),
        ("rotate-certificates: maybe\n", "a switch takes true or false"),
        ("port: {a: 1}\n", "expected a string, number or boolean"),
    ],
)
def test_bad_files_are_refused_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    conf = _file(tmp_path, text)
    with pytest.raises(ConfigFileError) as err:
        expand(["kubelet", "--config", conf], GROUP)
    assert str(err.value).startswith(f"--config {conf}: ")
    assert message in str(err.value)


def test_the_schedulers_own_configuration_passes_through(tmp_path: Path) -> None:
    own = _file(
        tmp_path, "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
    )
    assert expand(["scheduler", "--config", own], GROUP) == ["scheduler", "--config", own]
    flags = _file(tmp_path, "kubeconfig: /etc/navarch/scheduler.conf\n")
    assert expand(["scheduler", "--config", flags], GROUP) == [
        "scheduler", "--kubeconfig", "/etc/navarch/scheduler.conf",
    ]  # fmt: skip


def test_other_commands_are_left_alone(tmp_path: Path) -> None:
    assert expand(["pki", "--config", "x"], GROUP) == ["pki", "--config", "x"]


def test_the_console_script_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    conf = _file(tmp_path, "no-such-flag: 1\n")
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from cli.navarch import main; sys.argv[0]='navarch'; main()",
         "network-agent", "--config", conf],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"navarch network-agent: --config {conf}: unknown flag 'no-such-flag'"
    ]


def test_join_daemon_args_become_a_config_mapping_the_daemon_takes() -> None:
    from cli.daemonconfig import flags_for, overrides

    kubelet = GROUP.commands["kubelet"]  # type: ignore[attr-defined]
    found = overrides(
        ["cluster-dns=10.96.0.53", "--rotate-certificates=False", "node-ip=10.0.0.5",
         "node-ip=10.0.0.6"],
        kubelet, "--kubelet-arg",
    )  # fmt: skip
    assert found == {"cluster-dns": "10.96.0.53", "rotate-certificates": False,
                     "node-ip": "10.0.0.6"}  # fmt: skip
    assert "--cluster-dns" in flags_for(found, kubelet, set())
    issuers = overrides(["service-account-issuer=https://a", "service-account-issuer=https://b"],
                        GROUP.commands["apiserver"], "--x")  # type: ignore[attr-defined]  # fmt: skip
    assert issuers == {"service-account-issuer": ["https://a", "https://b"]}


@pytest.mark.parametrize(
    ("item", "says"),
    [
        ("cluster-dns", "expected KEY=VALUE"),
        ("=1", "expected KEY=VALUE"),
        ("no-such-flag=1", "kubelet has no flag --no-such-flag"),
        ("config=/etc/x.yaml", "kubelet has no flag --config"),
        ("rotate-certificates=yes", "--rotate-certificates takes true or false"),
    ],
)
def test_bad_join_daemon_args_are_one_line(item: str, says: str) -> None:
    from cli.daemonconfig import overrides

    with pytest.raises(ConfigFileError) as err:
        overrides([item], GROUP.commands["kubelet"], "--kubelet-arg")  # type: ignore[attr-defined]
    assert says in str(err.value) and "\n" not in str(err.value)
    assert str(err.value).startswith("--kubelet-arg ")


def test_navarch_join_refuses_a_bad_daemon_arg_before_anything(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "cli.navarch", "join", "127.0.0.1:1", "--token",
         "abcdef.0123456789abcdef", "--discovery-token-ca-cert-hash", "sha256:" + "0" * 64,
         "--proxy-arg", "nope=1", "--root", str(tmp_path)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: --proxy-arg 'nope=1': proxy has no flag --nope"
    assert not any(tmp_path.iterdir())
