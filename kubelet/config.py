"""The kubelet's settings (its command-line flags) and the parsers for their values."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

from apitypes.core import Taint, TaintEffect
from apitypes.quantity import QuantityError, parse_quantity
from kubelet.auth import AuthConfig

_EFFECTS = (TaintEffect.NO_SCHEDULE, TaintEffect.PREFER_NO_SCHEDULE, TaintEffect.NO_EXECUTE)


def parse_key_values(text: str, what: str = "labels") -> dict[str, str]:
    """``a=b,c=d`` -> ``{"a": "b", "c": "d"}``."""
    out: dict[str, str] = {}
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{what}: {item!r} is not key=value")
        out[key.strip()] = value.strip()
    return out


def parse_taints(text: str) -> list[Taint]:
    """``key=value:Effect,key:Effect`` -> taints, as ``--register-with-taints`` takes them."""
    taints: list[Taint] = []
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        head, sep, effect = item.rpartition(":")
        if not sep or effect not in _EFFECTS:
            raise ValueError(f"taint {item!r}: want key[=value]:{'|'.join(_EFFECTS)}")
        key, _, value = head.partition("=")
        if not key:
            raise ValueError(f"taint {item!r}: the key is empty")
        taints.append(Taint(key=key, value=value or None, effect=effect))
    return taints


def parse_reserved(text: str) -> dict[str, str]:
    """``cpu=100m,memory=100Mi`` -> a resource list, each value a valid quantity."""
    values = parse_key_values(text, "reservation")
    for name, value in values.items():
        try:
            parse_quantity(value)
        except QuantityError as err:
            raise ValueError(f"reservation {name}={value}: {err}") from err
    return values


@dataclass
class KubeletConfig:
    """Everything one kubelet needs to know; the CLI fills it from flags."""

    node_name: str = field(default_factory=lambda: socket.gethostname().lower())
    runtime: str = "docker"
    root_dir: Path = Path("/var/lib/navarch/kubelet")
    address: str = "127.0.0.1"
    """Where the kubelet's HTTP server (logs, exec) listens."""
    port: int = 10250
    """0: no HTTP server (hollow nodes)."""
    tls_cert_file: str | None = None
    tls_private_key_file: str | None = None
    rotate_certificates: bool = False
    """``--rotate-certificates``: renew the client certificate before it expires."""
    rotate_server_certificates: bool = False
    """``--rotate-server-certificates``: the serving certificate comes from the
    kubelet-serving signer, and is renewed before it expires."""
    cert_dir: Path | None = None
    """``--cert-dir``: where bootstrapped and rotated client certificates live (default
    ``<root-dir>/pki``)."""
    auth: AuthConfig = field(default_factory=AuthConfig)
    """Who may use the server (``kubelet.auth``): ``--anonymous-auth``,
    ``--authentication-token-webhook``, ``--client-ca-file``, ``--authorization-mode``."""
    node_ip: str = "127.0.0.1"
    hostname: str = ""
    node_labels: dict[str, str] = field(default_factory=dict)
    register_with_taints: list[Taint] = field(default_factory=list)
    register_node: bool = True
    max_pods: int = 110
    capacity_cpu: str | None = None
    """Override the detected CPU capacity (hollow nodes)."""
    capacity_memory: str | None = None
    system_reserved: dict[str, str] = field(default_factory=dict)
    kube_reserved: dict[str, str] = field(default_factory=dict)
    eviction_hard_memory: str = "100Mi"
    """Memory held back from allocatable and the MemoryPressure threshold."""
    eviction_hard_nodefs_percent: float = 10.0
    node_status_update_frequency: float = 10.0
    node_status_report_frequency: float = 300.0
    node_lease_duration: int = 40
    sync_frequency: float = 60.0
    pleg_relist_period: float = 1.0
    file_check_frequency: float = 20.0
    pod_manifest_path: Path | None = None
    crashloop_backoff_base: float = 10.0
    crashloop_backoff_max: float = 300.0
    image_pull_backoff_base: float = 10.0
    image_pull_backoff_max: float = 300.0
    object_cache_ttl: float = 10.0
    """How long a ConfigMap or Secret read for a pod is reused."""
    cluster_dns: list[str] = field(default_factory=list)
    cluster_domain: str = "cluster.local"
    resolv_conf: Path | None = Path("/etc/resolv.conf")
    """The node's resolver configuration, for Default-policy pods (None: empty)."""
    pod_network: str = ""
    """Docker network of the pods ('': ``navarch-<node>``, this node's own)."""
    pod_cidr: str = ""
    """A fixed pod subnet (standalone); '': the Node's ``spec.podCIDR``."""
    pause_image: str = "navarch/pause:1"
    docker_host: str | None = None
    workers: int = 8
    events: bool = True

    @property
    def certificate_dir(self) -> Path:
        """Where client certificates are kept (``--cert-dir``, else ``<root-dir>/pki``)."""
        return self.cert_dir or self.root_dir / "pki"

    @property
    def lease_renew_interval(self) -> float:
        """A quarter of the lease duration, as Kubernetes renews node leases."""
        return self.node_lease_duration * 0.25
