"""What ``navarch aws up`` builds: the cluster's settings and the names derived from them.

Everything here is pure (no AWS call), so the plan, the user-data and the tests share
one source of names: tags, IAM names, parameter names, the bucket name.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pki import bootstraptoken

CLUSTER_TAG = "navarch-cluster"
"""Every resource ``up`` creates carries ``navarch-cluster=<name>``; ``down`` and
``status`` find them by it."""
REGION_TAG = "navarch-region"
"""IAM is global: its roles also carry the region, so that two clusters of one name in
two regions never find each other's roles."""
ROLE_TAG = "navarch-role"
INDEX_TAG = "navarch-index"

DEBIAN_OWNER = "136693071363"
"""The AWS account Debian publishes its official cloud images from."""
DEBIAN_NAME = "debian-12-{arch}-*"
ARCHES = {"x86_64": "amd64", "arm64": "arm64"}
"""EC2 architecture -> the architecture in Debian's image names."""

LOGIN_USER = "admin"
"""The login user of Debian's cloud images."""
IAM_PATH = "/navarch/"
TOKEN_ALPHABET = bootstraptoken.ALPHABET
TOKEN_RE = bootstraptoken.TOKEN_RE
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,22}[a-z0-9]$")

CONTROL_PLANE = "control-plane"
NODE = "node"

ADMIN_KUBECONFIG = "/etc/navarch/admin.conf"
"""Where ``navarch init`` leaves the cluster admin's kubeconfig (the contract in
docs/aws.md)."""
CA_CERT = "/etc/navarch/pki/ca.crt"
"""Where ``navarch init`` leaves the cluster CA's certificate (the contract)."""


class SpecError(ValueError):
    """A setting is invalid; the message names the flag."""


def new_bootstrap_token() -> str:
    """A bootstrap token as Kubernetes shapes them: ``[a-z0-9]{6}.[a-z0-9]{16}``
    (token id, then secret), from the OS's CSPRNG."""
    return str(bootstraptoken.generate())


def parse_port_range(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    if not (low.isdigit() and high.isdigit() and 0 < int(low) <= int(high) < 65536):
        raise SpecError(f"--node-port-range {text!r}: must be LOW-HIGH, e.g. 30000-32767")
    return int(low), int(high)


@dataclass(frozen=True)
class ClusterSpec:
    """One cluster of ``count`` instances in one region.

    Instance 1 is the control plane (``navarch init``) at the fixed private address
    ``control_plane_ip``; instances 2.. join it (``navarch join``).
    """

    name: str = "navarch-aws"
    region: str = "us-east-1"
    operator_cidr: str = ""
    """Who may reach SSH (22) and the apiserver (6443): the operator's address."""
    vpc_cidr: str = "10.0.0.0/16"
    subnet_cidr: str = "10.0.1.0/24"
    availability_zone: str | None = None
    """None: the first zone of the region that offers ``instance_type``."""
    pod_network_cidr: str = "10.244.0.0/16"
    service_cidr: str = "10.96.0.0/12"
    node_port_range: tuple[int, int] = (30000, 32767)
    node_port_cidrs: tuple[str, ...] | None = None
    """Who may reach NodePorts; None: the operator CIDR; (): nobody from outside."""
    instance_type: str = "t3.medium"
    count: int = 3
    disk_gb: int = 20
    key_name: str | None = None
    """An existing EC2 key pair to use; None: ``up`` creates ``<name>`` and writes its
    private key to ``key_file``."""
    key_file: Path | None = None
    package_url: str | None = None
    """Instances ``pip install`` this (a release URL, ``git+https://...``) instead of the
    wheel ``up`` uploads to the cluster's bucket."""
    wheel: Path | None = None
    """The wheel to upload; None: built from this checkout."""
    extra_tags: dict[str, str] = field(default_factory=dict)

    # ----- validation -----

    def validate(self, *, for_up: bool = True) -> None:
        """Raise SpecError naming the flag of the first invalid setting."""
        if not NAME_RE.match(self.name):
            raise SpecError(
                f"--name {self.name!r}: 2-24 characters, lower-case letters, digits and "
                "'-', starting with a letter (it is part of an S3 bucket name)"
            )
        if not for_up:
            return
        if not self.operator_cidr:
            raise SpecError(
                "--operator-cidr is required: the address SSH and the apiserver accept, "
                "e.g. --operator-cidr $(curl -s https://checkip.amazonaws.com)/32"
            )
        nets = {}
        for flag, value in (
            ("--operator-cidr", self.operator_cidr),
            ("--vpc-cidr", self.vpc_cidr),
            ("--subnet-cidr", self.subnet_cidr),
            ("--pod-network-cidr", self.pod_network_cidr),
            ("--service-cidr", self.service_cidr),
            *(("--node-port-cidr", c) for c in self.node_port_cidrs or ()),
        ):
            nets[flag] = _ipv4_network(flag, value)
        vpc, subnet = nets["--vpc-cidr"], nets["--subnet-cidr"]
        if not (16 <= vpc.prefixlen <= 28):
            raise SpecError(f"--vpc-cidr {vpc}: AWS allows /16 to /28")
        if not subnet.subnet_of(vpc):
            raise SpecError(f"--subnet-cidr {subnet} is not inside --vpc-cidr {vpc}")
        if subnet.num_addresses < 16 + self.count:
            raise SpecError(f"--subnet-cidr {subnet} is too small for {self.count} instances")
        for flag in ("--pod-network-cidr", "--service-cidr"):
            if nets[flag].overlaps(vpc):
                raise SpecError(f"{flag} {nets[flag]} overlaps --vpc-cidr {vpc}")
        if nets["--pod-network-cidr"].overlaps(nets["--service-cidr"]):
            raise SpecError("--pod-network-cidr and --service-cidr overlap")
        if not 1 <= self.count <= 20:
            raise SpecError(f"--count {self.count}: 1 to 20 instances")
        if not 8 <= self.disk_gb <= 1024:
            raise SpecError(f"--disk-size {self.disk_gb}: 8 to 1024 GiB")
        if self.wheel is not None and self.package_url is not None:
            raise SpecError("--wheel and --package-url exclude each other")
        if self.wheel is not None and not self.wheel.is_file():
            raise SpecError(f"--wheel {self.wheel}: no such file")
        if self.key_name is not None and self.key_file is not None and not self.key_file.exists():
            raise SpecError(f"--key-file {self.key_file}: no such file")

    # ----- derived names -----

    @property
    def control_plane_ip(self) -> str:
        """The first instance's private address: the subnet's 10th (AWS keeps .0-.3)."""
        return str(ipaddress.ip_network(self.subnet_cidr)[10])

    @property
    def apiserver_endpoint(self) -> str:
        return f"{self.control_plane_ip}:6443"

    @property
    def ssh_cidr(self) -> str:
        return self.operator_cidr

    @property
    def effective_node_port_cidrs(self) -> tuple[str, ...]:
        if self.node_port_cidrs is None:
            return (self.operator_cidr,) if self.operator_cidr else ()
        return self.node_port_cidrs

    @property
    def created_key_name(self) -> str:
        return self.name

    @property
    def ssh_key_name(self) -> str:
        return self.key_name or self.created_key_name

    @property
    def private_key_path(self) -> Path:
        """Where the created key pair's private key lives (0600), or the given one."""
        if self.key_file is not None:
            return self.key_file.expanduser()
        return Path(f"~/.navarch/aws/{self.name}-{self.region}.pem").expanduser()

    @property
    def known_hosts_path(self) -> Path:
        return Path(f"~/.navarch/aws/{self.name}-{self.region}.known_hosts").expanduser()

    def role_name(self, role: str) -> str:
        """IAM role and instance profile of ``role`` (control-plane or node): global
        names, so the region is part of them."""
        return f"{self.name}-{self.region}-{role}"

    @property
    def parameter_prefix(self) -> str:
        return f"/navarch/{self.name}/"

    @property
    def token_parameter(self) -> str:
        """SecureString: the bootstrap token, read by every instance at boot."""
        return f"{self.parameter_prefix}bootstrap-token"

    @property
    def ca_hash_parameter(self) -> str:
        """String: ``sha256:<hex>`` of the CA's public key, written by the control
        plane after ``navarch init``, read by the joining instances."""
        return f"{self.parameter_prefix}ca-cert-hash"

    def bucket_name(self, account: str) -> str:
        """The bucket the wheel is uploaded to: bucket names are global, so the account
        and region are part of it (at most 52 characters for a 24-character name)."""
        return f"{self.name}-{account}-{self.region}"

    def instance_name(self, index: int) -> str:
        return f"{self.name}-{index}"

    @staticmethod
    def role_of(index: int) -> str:
        return CONTROL_PLANE if index == 1 else NODE

    # ----- tags -----

    def tag_list(self, name: str | None = None, **more: str) -> list[dict[str, str]]:
        tags = {CLUSTER_TAG: self.name, **self.extra_tags, **more}
        if name:
            tags["Name"] = name
        return [{"Key": k, "Value": v} for k, v in tags.items()]

    def tag_spec(self, resource_type: str, name: str | None = None, **more: str) -> dict[str, Any]:
        return {"ResourceType": resource_type, "Tags": self.tag_list(name, **more)}

    @property
    def cluster_filter(self) -> list[dict[str, Any]]:
        return [{"Name": f"tag:{CLUSTER_TAG}", "Values": [self.name]}]


def _ipv4_network(flag: str, value: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as err:
        raise SpecError(f"{flag} {value!r}: {err}") from err
    if not isinstance(net, ipaddress.IPv4Network):
        raise SpecError(f"{flag} {value!r}: only IPv4 is supported")
    return net
