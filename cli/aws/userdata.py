"""The cloud-init user-data of each instance: install navarch, then ``navarch init`` on
the first instance and ``navarch join`` on the others.

The user-data holds no secret: it names the SSM parameter that holds the bootstrap
token, and the instance reads it at boot through its instance profile (which may read
only that parameter). Nothing the script runs echoes the token: there is no ``set -x``,
the token travels to ``navarch init``/``join`` in the environment
(``NAVARCH_BOOTSTRAP_TOKEN``), not on a command line, and their output goes through a
filter that blanks anything shaped like a bootstrap token before it reaches
``/var/log/cloud-init-output.log`` and the serial console.

The interface it relies on (``navarch init``/``join`` flags, file paths) is the
contract written down in docs/aws.md.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

import yaml

from cli.aws.spec import ADMIN_KUBECONFIG, CA_CERT, CONTROL_PLANE, ClusterSpec

USER_DATA_LIMIT = 16 * 1024
"""EC2 refuses user-data above 16 KiB (before base64)."""

BOOTSTRAP_PATH = "/usr/local/sbin/navarch-bootstrap"

COMMON_PACKAGES = (
    "awscli",  # reads the token and the wheel with the instance profile's credentials
    "ca-certificates",
    "conntrack",
    "curl",
    "docker.io",  # the kubelet's container runtime
    "iproute2",
    "iptables",
    "openssl",
    "python3-venv",
)
CONTROL_PLANE_PACKAGES = ("etcd-server",)
"""Debian's etcd 3.4 (3.5.0-3.5.2 are refused: see README); ``navarch init`` runs it as
its own unit, so the bootstrap script stops the package's ``etcd.service``."""


@dataclass(frozen=True)
class Install:
    """Where an instance gets navarch: an S3 object of the cluster's bucket (the wheel
    ``up`` uploaded), read with the instance profile, or a pip requirement (URL)."""

    bucket: str | None = None
    key: str | None = None
    package_url: str | None = None

    def __post_init__(self) -> None:
        if (self.bucket is None or self.key is None) == (self.package_url is None):
            raise ValueError("give either bucket and key, or package_url")


def render(spec: ClusterSpec, index: int, install: Install) -> str:
    """The ``#cloud-config`` document of instance ``index`` (1: the control plane)."""
    role = spec.role_of(index)
    packages = list(COMMON_PACKAGES)
    if role == CONTROL_PLANE:
        packages += CONTROL_PLANE_PACKAGES
    config: dict[str, Any] = {
        "package_update": True,
        "package_upgrade": False,
        "packages": sorted(packages),
        # Debian's cloud-init prints the SSH host keys to the serial console; `up` reads
        # them from there (GetConsoleOutput) to pin the host key before it connects.
        "ssh": {"emit_keys_to_console": True},
        "write_files": [
            {
                "path": BOOTSTRAP_PATH,
                "owner": "root:root",
                "permissions": "0700",
                "content": bootstrap_script(spec, index, install),
            }
        ],
        "runcmd": [[BOOTSTRAP_PATH]],
    }
    text = "#cloud-config\n" + yaml.dump(
        config, Dumper=_LiteralDumper, sort_keys=False, default_flow_style=False, width=200
    )
    if len(text.encode()) > USER_DATA_LIMIT:
        raise ValueError(f"user-data of instance {index} is {len(text)} bytes; EC2 allows 16 KiB")
    return text


def bootstrap_script(spec: ClusterSpec, index: int, install: Install) -> str:
    """The root-only script cloud-init runs once, at the instance's first boot."""
    q = shlex.quote
    settings = [
        f"REGION={q(spec.region)}",
        f"TOKEN_PARAMETER={q(spec.token_parameter)}",
        f"CA_HASH_PARAMETER={q(spec.ca_hash_parameter)}",
        f"APISERVER={q(spec.apiserver_endpoint)}",
    ]
    if install.package_url is not None:
        fetch = f"/opt/navarch/bin/pip install --quiet {q(install.package_url)}"
    else:
        assert install.bucket is not None and install.key is not None
        wheel = "/var/lib/navarch-bootstrap/" + install.key.rsplit("/", 1)[-1]
        fetch = (
            f"mkdir -p /var/lib/navarch-bootstrap\n"
            f'aws s3 cp --only-show-errors --region "$REGION" '
            f"{q(f's3://{install.bucket}/{install.key}')} {q(wheel)}\n"
            f"/opt/navarch/bin/pip install --quiet {q(wheel)}"
        )
    if spec.role_of(index) == CONTROL_PLANE:
        low, high = spec.node_port_range
        start = f"""\
# Debian's etcd package starts its own etcd.service; navarch init runs etcd as its unit.
systemctl disable --now etcd.service >/dev/null 2>&1 || true
public_ip=$(imds public-ipv4 || true)
extra_sans=()
if [ -n "$public_ip" ]; then extra_sans=(--apiserver-cert-extra-sans "$public_ip"); fi
log "navarch init (control plane at {spec.apiserver_endpoint})"
navarch init \\
  --apiserver-advertise-address {q(spec.control_plane_ip)} \\
  "${{extra_sans[@]}}" \\
  --pod-network-cidr {q(spec.pod_network_cidr)} \\
  --service-cidr {q(spec.service_cidr)} \\
  --service-node-port-range {low}-{high} 2>&1 | redact
# The CA cert hash, as kubeadm computes it: SHA-256 of the CA's DER SubjectPublicKeyInfo.
hash=$(openssl x509 -pubkey -noout -in {CA_CERT} | openssl pkey -pubin -outform der \\
  | sha256sum | cut -d' ' -f1)
aws ssm put-parameter --region "$REGION" --name "$CA_HASH_PARAMETER" --type String \\
  --overwrite --value "sha256:$hash" >/dev/null
test -s {ADMIN_KUBECONFIG} || fail "navarch init left no {ADMIN_KUBECONFIG}"
log "control plane ready; CA cert hash published in $CA_HASH_PARAMETER"
"""
    else:
        start = """\
log "waiting for the control plane's CA cert hash in $CA_HASH_PARAMETER"
hash=""
for _ in $(seq 1 180); do
  hash=$(aws ssm get-parameter --region "$REGION" --name "$CA_HASH_PARAMETER" \\
    --query Parameter.Value --output text 2>/dev/null || true)
  case "$hash" in sha256:*) break ;; esac
  sleep 10
done
case "$hash" in sha256:*) ;; *) fail "no CA cert hash in $CA_HASH_PARAMETER after 30 minutes" ;; esac
log "navarch join $APISERVER"
navarch join "$APISERVER" --discovery-token-ca-cert-hash "$hash" 2>&1 | redact
log "joined"
"""
    return f"""\
#!/bin/bash
# navarch bootstrap of instance {index} of cluster {spec.name}, written by `navarch aws up`.
# Never `set -x` here: the bootstrap token is in this shell's environment.
set -euo pipefail
umask 077
{chr(10).join(settings)}

log() {{ echo "navarch-bootstrap: $*"; }}
fail() {{ log "FAILED: $*" >&2; exit 1; }}
# Anything shaped like a bootstrap token becomes <bootstrap-token> (init prints the
# join command, and neither the console nor cloud-init's log may carry it).
redact() {{ sed -u -E 's/[a-z0-9]{{6}}\\.[a-z0-9]{{16}}/<bootstrap-token>/g'; }}
imds() {{
  local t
  t=$(curl -sf -X PUT http://169.254.169.254/latest/api/token \\
    -H 'X-aws-ec2-metadata-token-ttl-seconds: 60') &&
    curl -sf -H "X-aws-ec2-metadata-token: $t" "http://169.254.169.254/latest/meta-data/$1"
}}

log "installing navarch"
test -x /opt/navarch/bin/pip || python3 -m venv /opt/navarch
{fetch}
ln -sf /opt/navarch/bin/navarch /usr/local/bin/navarch

NAVARCH_BOOTSTRAP_TOKEN=$(aws ssm get-parameter --region "$REGION" --name "$TOKEN_PARAMETER" \\
  --with-decryption --query Parameter.Value --output text)
export NAVARCH_BOOTSTRAP_TOKEN

{start}"""


class _LiteralDumper(yaml.SafeDumper):
    """Multi-line strings as ``|`` blocks, so the script reads as a script."""


def _str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_LiteralDumper.add_representer(str, _str_representer)
