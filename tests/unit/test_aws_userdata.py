"""The user-data ``navarch aws up`` gives each instance.

It must pass Debian's own ``cloud-init schema`` (the version Debian 12's images boot
with; ``deploy/ensure-cloud-init.sh`` installs it), and its bootstrap script is run
here for real, under bash, with stand-ins for what only an instance has (``aws``, the
metadata service, ``navarch init``/``join``, systemd) and its absolute paths moved into
a temporary directory: it must pass the token to navarch only through the
environment, print it nowhere, publish the CA hash kubeadm's way, and fail when init
fails.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cli.aws.spec import ClusterSpec
from cli.aws.userdata import BOOTSTRAP_PATH, USER_DATA_LIMIT, Install, render
from tests.conftest import unavailable

SPEC = ClusterSpec(operator_cidr="203.0.113.7/32", region="eu-west-1")
WHEEL = Install(
    bucket="navarch-aws-123456789012-eu-west-1", key="wheels/navarch-0.1.0-py3-none-any.whl"
)
URL = Install(package_url="git+https://example.org/navarch.git@v0.1.0")
TOKEN = "abcdef.0123456789abcdef"


def script_of(user_data: str) -> str:
    doc = yaml.safe_load(user_data)
    [entry] = doc["write_files"]
    assert entry["path"] == BOOTSTRAP_PATH and entry["permissions"] == "0700"
    assert doc["runcmd"] == [[BOOTSTRAP_PATH]]
    content: str = entry["content"]
    return content


def cloud_init_schema(tmp_path: Path, user_data: str) -> subprocess.CompletedProcess[str]:
    """``cloud-init schema --config-file`` on ``user_data``."""
    if shutil.which("cloud-init") is None:
        unavailable("cloud-init is not installed (run deploy/ensure-cloud-init.sh)")
    path = tmp_path / "user-data"
    path.write_text(user_data)
    return subprocess.run(
        ["cloud-init", "schema", "--config-file", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("index", [1, 2])
@pytest.mark.parametrize("install", [WHEEL, URL], ids=["wheel", "url"])
def test_user_data_passes_cloud_init_schema(index: int, install: Install, tmp_path: Path) -> None:
    done = cloud_init_schema(tmp_path, render(SPEC, index, install))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Valid cloud-config" in done.stdout


def test_cloud_init_schema_refuses_a_broken_document(tmp_path: Path) -> None:
    """The check above can fail: a wrongly shaped key is refused."""
    broken = render(SPEC, 1, WHEEL).replace("runcmd:\n- - ", "runcmd: ")
    done = cloud_init_schema(tmp_path, broken)
    assert done.returncode != 0 and "runcmd" in done.stdout + done.stderr


def test_each_role_gets_its_packages_and_commands() -> None:
    first, second = render(SPEC, 1, WHEEL), render(SPEC, 2, WHEEL)
    assert "etcd-server" in yaml.safe_load(first)["packages"]
    assert "etcd-server" not in yaml.safe_load(second)["packages"]
    assert "docker.io" in yaml.safe_load(second)["packages"]
    assert "navarch init" in script_of(first) and "navarch join" not in script_of(first)
    assert "navarch join" in script_of(second) and "navarch init" not in script_of(second)
    for data in (first, second):
        assert "set -x" not in script_of(data).replace("Never `set -x`", "")
        assert yaml.safe_load(data)["ssh"] == {"emit_keys_to_console": True}


def test_the_longest_names_fit_in_ec2s_limit() -> None:
    spec = ClusterSpec(name="n" * 24, operator_cidr="203.0.113.7/32", region="ap-southeast-3")
    long_url = Install(package_url="https://example.org/" + "p" * 500 + ".whl")
    assert len(render(spec, 2, long_url).encode()) < USER_DATA_LIMIT


# ------------------------------------------------- the bootstrap script, run for real

STUB_AWS = """#!/bin/bash
echo "$*" >> "$LOG/aws"
case "$1 $2" in
  "ssm get-parameter")
    case "$*" in
      *bootstrap-token*) echo "$EXPECTED_TOKEN" ;;
      *ca-cert-hash*)
        # The control plane is not done at the first look.
        if [ -e "$LOG/hash-asked" ]; then echo "sha256:feedbeef"; else touch "$LOG/hash-asked"; echo pending; fi ;;
    esac ;;
  "s3 cp") touch "${@: -1}" ;;
esac
"""
STUB_CURL = """#!/bin/bash
case "$*" in
  *api/token*) echo imds-session ;;
  *public-ipv4*) echo 203.0.113.10 ;;
  *) exit 22 ;;
esac
"""
STUB_PYTHON3 = """#!/bin/bash
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin" && cp "$STUBS/pip.impl" "$3/bin/pip" && cp "$STUBS/navarch.impl" "$3/bin/navarch"
fi
"""
STUB_PIP = """#!/bin/bash
echo "$*" >> "$LOG/pip"
"""
STUB_NAVARCH = """#!/bin/bash
echo "$*" >> "$LOG/navarch"
[ "${NAVARCH_BOOTSTRAP_TOKEN:-}" = "$EXPECTED_TOKEN" ] && echo token-in-env >> "$LOG/navarch-env"
[ -n "${FAIL_INIT:-}" ] && { echo "init failed"; exit 3; }
case "$1" in
  init)
    mkdir -p "$ROOT/etc/navarch/pki"
    cp "$CA" "$ROOT/etc/navarch/pki/ca.crt"
    echo "apiVersion: v1" > "$ROOT/etc/navarch/admin.conf"
    echo "Your control plane is ready. On each other host run:"
    echo "  navarch join 10.0.1.10:6443 --token $NAVARCH_BOOTSTRAP_TOKEN --discovery-token-ca-cert-hash sha256:00" ;;
  join) echo "joined with $NAVARCH_BOOTSTRAP_TOKEN" ;;
esac
"""
STUB_LOG = """#!/bin/bash
echo "$*" >> "$LOG/$(basename "$0")"
"""


def run_bootstrap(
    tmp_path: Path, index: int, install: Install = WHEEL, **env: str
) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    """Run instance ``index``'s bootstrap script with stand-ins; returns the result,
    the directory of argv logs and the fake root."""
    if shutil.which("openssl") is None:
        unavailable("openssl is not installed")
    root, logs, stubs = tmp_path / "root", tmp_path / "logs", tmp_path / "stubs"
    for d in (root / "usr/local/bin", logs, stubs):
        d.mkdir(parents=True)
    script = script_of(render(SPEC, index, install))
    for path in (
        "/opt/navarch",
        "/var/lib/navarch-bootstrap",
        "/usr/local/bin/navarch",
        "/etc/navarch",
    ):
        script = script.replace(path, f"{root}{path}")
    (tmp_path / "bootstrap").write_text(script)
    for name, body in (
        ("aws", STUB_AWS),
        ("curl", STUB_CURL),
        ("python3", STUB_PYTHON3),
        ("pip.impl", STUB_PIP),
        ("navarch.impl", STUB_NAVARCH),
        ("systemctl", STUB_LOG),
        ("sleep", STUB_LOG),
    ):
        (stubs / name).write_text(body)
        (stubs / name).chmod(0o755)
    ca = tmp_path / "ca.crt"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", str(tmp_path / "ca.key"), "-out", str(ca),
            "-subj", "/CN=navarch-ca", "-days", "1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    done = subprocess.run(
        ["bash", str(tmp_path / "bootstrap")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            "PATH": f"{stubs}:{root}/usr/local/bin:{os.environ['PATH']}",
            "LOG": str(logs),
            "STUBS": str(stubs),
            "ROOT": str(root),
            "CA": str(ca),
            "EXPECTED_TOKEN": TOKEN,
            **env,
        },
    )
    return done, logs, root


def ca_hash(path: Path) -> str:
    """kubeadm's CA cert hash, computed here independently of the script."""
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(spki).hexdigest()


def read(logs: Path, name: str) -> list[str]:
    path = logs / name
    return path.read_text().splitlines() if path.exists() else []


def test_the_control_plane_runs_init_and_publishes_the_ca_hash(tmp_path: Path) -> None:
    done, logs, root = run_bootstrap(tmp_path, 1)
    assert done.returncode == 0, done.stdout + done.stderr
    assert read(logs, "navarch") == [
        "init --apiserver-advertise-address 10.0.1.10 --apiserver-cert-extra-sans 203.0.113.10 "
        "--pod-network-cidr 10.244.0.0/16 --service-cidr 10.96.0.0/12 "
        "--service-node-port-range 30000-32767"
    ]
    assert read(logs, "navarch-env") == ["token-in-env"]
    wheel = f"{root}/var/lib/navarch-bootstrap/navarch-0.1.0-py3-none-any.whl"
    aws = read(logs, "aws")
    assert (
        "s3 cp --only-show-errors --region eu-west-1 "
        f"s3://navarch-aws-123456789012-eu-west-1/wheels/navarch-0.1.0-py3-none-any.whl {wheel}"
    ) in aws
    assert read(logs, "pip") == [f"install --quiet {wheel}"]
    expected = ca_hash(tmp_path / "ca.crt")
    assert (
        "ssm put-parameter --region eu-west-1 --name /navarch/navarch-aws/ca-cert-hash "
        f"--type String --overwrite --value {expected}"
    ) in aws
    assert read(logs, "systemctl") == ["disable --now etcd.service"]
    assert os.readlink(root / "usr/local/bin/navarch") == f"{root}/opt/navarch/bin/navarch"
    # The join command init printed reached the log with its token blanked.
    assert "--token <bootstrap-token>" in done.stdout
    everything = done.stdout + done.stderr + "".join(p.read_text() for p in logs.iterdir())
    assert TOKEN not in everything and TOKEN.split(".")[1] not in everything


def test_a_node_waits_for_the_hash_and_joins(tmp_path: Path) -> None:
    done, logs, _ = run_bootstrap(tmp_path, 3, URL)
    assert done.returncode == 0, done.stdout + done.stderr
    assert read(logs, "navarch") == [
        "join 10.0.1.10:6443 --discovery-token-ca-cert-hash sha256:feedbeef"
    ]
    assert read(logs, "navarch-env") == ["token-in-env"]
    assert read(logs, "pip") == ["install --quiet git+https://example.org/navarch.git@v0.1.0"]
    hash_reads = [line for line in read(logs, "aws") if "ca-cert-hash" in line]
    assert len(hash_reads) == 2 and read(logs, "sleep") == ["10"]
    assert not [line for line in read(logs, "aws") if line.startswith("s3 ")]
    everything = done.stdout + done.stderr + "".join(p.read_text() for p in logs.iterdir())
    assert "joined with <bootstrap-token>" in done.stdout
    assert TOKEN not in everything


def test_a_failed_init_fails_the_bootstrap(tmp_path: Path) -> None:
    done, logs, _ = run_bootstrap(tmp_path, 1, FAIL_INIT="1")
    assert done.returncode != 0
    assert not [line for line in read(logs, "aws") if "put-parameter" in line]


# ------------------------------------------------------------------------ the wheel


def test_the_wheel_is_built_from_this_checkout_and_leaves_it_clean(tmp_path: Path) -> None:
    import zipfile

    from cli.aws.wheel import build_wheel, source_root

    root = source_root()
    assert root is not None and (root / "cli" / "aws" / "wheel.py").is_file()
    before = sorted(p.name for p in root.iterdir())
    wheel = build_wheel(tmp_path)
    assert wheel.name == "navarch-0.1.0-py3-none-any.whl"
    names = zipfile.ZipFile(wheel).namelist()
    assert "cli/aws/userdata.py" in names and "apiserver/main.py" in names
    assert "navarch-0.1.0.dist-info/entry_points.txt" in names
    assert not [n for n in names if "__pycache__" in n or n.startswith("tests/")]
    assert sorted(p.name for p in root.iterdir()) == before
