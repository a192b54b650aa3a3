"""``navarch init``, ``join`` and ``reset``: one host of a multi-host cluster.

- **init** (the control-plane host): the PKI (``pki.ensure``: CAs, serving and client
  certificates, a kubeconfig per identity, ``admin.conf``), a ``--config`` file per
  daemon, the units (etcd, apiserver, controller-manager with the bootstrap-token
  controllers, scheduler, and this host's kubelet, kube-proxy and network agent),
  started through the init system; once ``/readyz`` answers, what joining hosts need
  (``discovery.publish``) and the cluster settings they read (``navarch-config``);
  then the join command.
- **join** (any other host): token discovery (``discovery.discover``), the bootstrap
  kubeconfig, the kubelet unit (TLS bootstrap: its client certificate comes from a CSR
  the controller-manager approves and signs), then kube-proxy and the network agent,
  which run as the node (the kubelet's rotating certificate; ``init`` bound their
  ClusterRoles to ``system:nodes``). On a host that already joined (its record and
  the kubelet's own ``kubelet.conf``): ``rejoin``, the units started again, no
  discovery (a compose node's restart).
- **reset**: stops and removes what either made, from the record they leave
  (``/var/lib/navarch/host.json``); safe to run twice, and after a failed init.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

import pki
from cli.bootstrap import discovery, initsystem
from cli.bootstrap.layout import CONTROL_PLANE, NODE, HostRecord, Layout
from cli.bootstrap.units import (
    ALL_UNITS,
    CONTROL_PLANE_UNITS,
    NODE_UNITS,
    daemon_of,
    etcd_config,
    flag_pairs,
    installed_units,
    write_config,
    write_units,
)
from pki import bootstraptoken as bt
from pki.certlist import ClusterPKIConfig, Host
from pki.flags import apiserver_pki_flags
from pki.x509 import write_private

CLUSTER_DOMAIN = "cluster.local"
SETTINGS = "navarch-config"
"""ConfigMap ``kube-system/navarch-config``: the cluster's CIDRs for joining hosts (as
kubeadm's ``kubeadm-config``), readable by bootstrap tokens and nodes."""
NODE_PHASE = "node"
PHASES = (NODE_PHASE,)
"""init's phases that ``--skip-phases`` may leave out: ``node`` (no kubelet, kube-proxy
or network agent on the control plane)."""
NETWORK_PHASE = "network"
JOIN_PHASES = (NETWORK_PHASE,)
"""join's: ``network`` (the kubelet alone: no kube-proxy or network agent, which
rewrite the host's rules; tests on a shared machine)."""


class BootstrapError(RuntimeError):
    """init/join/reset cannot go on; one line saying why."""


Echo = Callable[[str], None]


def default_address() -> str:
    """The source address of the default route (no packet is sent: a UDP socket's
    connect only picks the route), else loopback."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))  # TEST-NET-1: routed like any outside address
        return str(s.getsockname()[0])
    return "127.0.0.1"


def dns_service_ip(service_cidr: str) -> str:
    """kubeadm's cluster DNS address: the tenth of the service CIDR."""
    net = ipaddress.ip_network(service_cidr.split(",", maxsplit=1)[0].strip(), strict=False)
    return str(net.network_address + 10)


def resolve_token(flag: str | None, env: str | None) -> bt.Token:
    """``--token`` wins over ``NAVARCH_BOOTSTRAP_TOKEN``; neither: a new one."""
    text = flag or env
    return bt.parse(text) if text else bt.generate()


CRASH_LOOP = 5
"""Restarts of the unit waited for after which init/join stop waiting."""


def _wait(ready: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() >= deadline:
            raise BootstrapError(f"{what} not ready after {timeout:.0f}s")
        time.sleep(0.5)


def _wait_unit(
    system: initsystem.InitSystem, layout: Layout, unit: str, ready: Callable[[], bool],
    timeout: float, what: str,
) -> None:  # fmt: skip
    """Wait until ``ready``; fail sooner when ``unit`` keeps exiting. The error names
    where its log is, and that ``navarch reset`` undoes what was done."""
    before = system.restarts(unit)

    def done() -> bool:
        if system.restarts(unit) - before >= CRASH_LOOP:
            raise BootstrapError(f"{unit} keeps exiting")
        return ready()

    try:
        _wait(done, timeout, what)
    except BootstrapError as err:
        where = _where_logs(system, layout, unit)
        raise BootstrapError(f"{err}; see {where} (`navarch reset` undoes this)") from err


def _where_logs(system: initsystem.InitSystem, layout: Layout, unit: str) -> str:
    if system.name == initsystem.SYSTEMD:
        return f"journalctl -u {unit}"
    return str(layout.logs / f"{unit}.log")


# --- init -------------------------------------------------------------------------------


@dataclass
class InitOptions:
    advertise_address: str | None = None
    cert_extra_sans: list[str] = field(default_factory=list)
    pod_network_cidr: str = "10.244.0.0/16"
    service_cidr: str = "10.96.0.0/12"
    service_node_port_range: str = "30000-32767"
    token: bt.Token | None = None
    node_name: str | None = None
    bind_port: int = 6443
    etcd_client_port: int = 2379
    etcd_peer_port: int = 2380
    skip_phases: tuple[str, ...] = ()
    init_system: str = initsystem.AUTO
    timeout: float = 300.0


class ControlPlane:
    """The files, units and API objects of ``init`` on one layout."""

    def __init__(self, layout: Layout, opts: InitOptions) -> None:
        self.layout = layout
        self.opts = opts
        self.node = opts.node_name or socket.gethostname()
        self.address = opts.advertise_address or default_address()
        self.token = opts.token or bt.generate()
        self.with_node = NODE_PHASE not in opts.skip_phases

    @property
    def server(self) -> str:
        return f"https://{self.address}:{self.opts.bind_port}"

    @property
    def local_server(self) -> str:
        return f"https://127.0.0.1:{self.opts.bind_port}"

    def units(self) -> list[str]:
        return [*CONTROL_PLANE_UNITS, *(NODE_UNITS if self.with_node else ())]

    def pki_config(self) -> ClusterPKIConfig:
        me = Host(self.node, tuple(dict.fromkeys([self.address, "127.0.0.1"])))
        return ClusterPKIConfig(
            nodes=(me,) if self.with_node else (),
            control_plane=(me,),
            etcd_members=(Host(self.node),),
            apiserver_names=tuple(self.opts.cert_extra_sans),
            service_cidr=self.opts.service_cidr,
            cluster_domain=CLUSTER_DOMAIN,
        )

    def make_pki(self, echo: Echo) -> None:
        outcomes = pki.ensure(
            self.layout.pki,
            self.pki_config(),
            kubeconfig_dir=self.layout.etc,
            cluster="kubernetes",
            server=self.server,
        )
        made = sum(1 for o in outcomes if o.action != "kept")
        echo(f"[certs] {self.layout.pki}: {made} made or renewed, {len(outcomes) - made} kept")

    def configs(self) -> dict[str, dict[str, Any]]:
        """Each daemon's ``--config`` mapping (the apiserver's names ``audit_policy``)."""
        layout, pki_dir, opts = self.layout, self.layout.pki, self.opts
        audit = self.audit_policy
        found: dict[str, dict[str, Any]] = {
            "etcd": etcd_config(layout, self.node, opts.etcd_client_port, opts.etcd_peer_port),
            "apiserver": {
                "etcd-servers": f"https://127.0.0.1:{opts.etcd_client_port}",
                "bind-address": "0.0.0.0",
                "secure-port": opts.bind_port,
                "advertise-address": self.address,
                "service-cluster-ip-range": opts.service_cidr,
                "service-node-port-range": opts.service_node_port_range,
                # Kubelets are verified by the cluster CA: joined ones get their serving
                # certificate from a CSR the controller-manager approves (below).
                **flag_pairs(apiserver_pki_flags(pki_dir, encrypt_secrets=True)),
                "service-account-issuer": "https://kubernetes.default.svc.cluster.local",
                "authorization-mode": "Node,RBAC",
                "enable-admission-plugins": "NodeRestriction",
                "enable-bootstrap-token-auth": True,
                "anonymous-auth": "true",  # cluster-info, /readyz; RBAC guards the rest
                "audit-policy-file": str(audit),
                "audit-log-path": str(layout.logs / "audit.log"),
            },
            "controller-manager": {
                "kubeconfig": str(layout.etc / "controller-manager.conf"),
                "controllers": "*,bootstrapsigner,tokencleaner",
                "use-service-account-credentials": True,
                "allocate-node-cidrs": True,
                "cluster-cidr": opts.pod_network_cidr,
                "service-cluster-ip-range": opts.service_cidr,
                "root-ca-file": str(pki_dir / "ca.crt"),
                "cluster-signing-cert-file": str(pki_dir / "ca.crt"),
                "cluster-signing-key-file": str(pki_dir / "ca.key"),
                "approve-kubelet-serving-certificates": True,
            },
            "scheduler": {"kubeconfig": str(layout.etc / "scheduler.conf")},
        }  # fmt: skip
        if self.with_node:
            kubelet = node_kubelet_config(layout, self.node, self.address, opts.service_cidr)
            kubelet["kubeconfig"] = str(layout.etc / f"node-{self.node}.conf")
            kubelet["tls-cert-file"] = str(pki_dir / "kubelet" / f"{self.node}.crt")
            kubelet["tls-private-key-file"] = str(pki_dir / "kubelet" / f"{self.node}.key")
            found["kubelet"] = kubelet
            found.update(
                node_network_configs(
                    self.node,
                    opts.pod_network_cidr,
                    opts.service_cidr,
                    proxy_conf=layout.etc / "kube-proxy.conf",
                    agent_conf=layout.etc / "network-agent.conf",
                )
            )
        return found

    @property
    def audit_policy(self) -> Path:
        return self.layout.etc / "audit-policy.yaml"

    def write_files(self) -> None:
        """The daemons' config files and the apiserver's audit policy (``navarch up``'s)."""
        from cli.localcluster import AUDIT_POLICY

        write_private(self.audit_policy, yaml.safe_dump(AUDIT_POLICY, sort_keys=False).encode())
        for daemon, values in self.configs().items():
            write_config(self.layout, daemon, values)

    def admin(self) -> httpx.Client:
        ctx = ssl.create_default_context(cafile=self.layout.pki / "ca.crt")
        users = self.layout.pki / "users"
        ctx.load_cert_chain(users / "admin.crt", users / "admin.key")
        return httpx.Client(base_url=self.local_server, verify=ctx, timeout=10.0)

    def ready(self) -> bool:
        try:
            with self.admin() as api:
                return api.get("/readyz").status_code == 200
        except (httpx.HTTPError, OSError, ssl.SSLError):
            return False

    def publish(self, echo: Echo) -> None:
        ca_pem = (self.layout.pki / "ca.crt").read_bytes()
        now = datetime.datetime.now(datetime.UTC)
        with self.admin() as api:
            publish_join_info(api, self.token, self.server, ca_pem, now,
                              self.opts.pod_network_cidr, self.opts.service_cidr)  # fmt: skip
        echo(f"[bootstrap-token] token {self.token.id} registered (24h), cluster-info published")


def publish_join_info(
    api: httpx.Client, token: bt.Token, server: str, ca_pem: bytes, now: datetime.datetime,
    pod_cidr: str, service_cidr: str,
) -> None:  # fmt: skip
    """What ``navarch join`` needs of a cluster, as its admin (``api``): the token's
    Secret (expiring 24 h after ``now``), ``kube-public/cluster-info`` naming ``server``
    and the CA, their RBAC (``discovery.publish``), and ``navarch-config``. ``init``
    and the compose cluster (``cli.compose``) both call it; idempotent."""
    discovery.publish(api, token=token, server=server, ca_pem=ca_pem, now=now)
    publish_settings(api, pod_cidr, service_cidr)


def node_kubelet_config(layout: Layout, node: str, address: str, service_cidr: str) -> dict[str, Any]:  # fmt: skip
    """What every kubelet of a multi-host cluster runs with (init adds its PKI's
    certificates; join its bootstrap kubeconfig)."""
    return {
        "node-name": node,
        "node-ip": address,
        "root-dir": str(layout.var / "kubelet"),
        "cert-dir": str(layout.var / "kubelet" / "pki"),
        "rotate-certificates": True,
        "address": "0.0.0.0",
        "port": 10250,
        # Only who the apiserver vouches for (TokenReview), with a grant on nodes/*.
        "client-ca-file": str(layout.pki / "ca.crt"),
        "anonymous-auth": "false",
        "authentication-token-webhook": True,
        "authorization-mode": "Webhook",
        "cluster-dns": dns_service_ip(service_cidr),
        "cluster-domain": CLUSTER_DOMAIN,
    }


def node_network_configs(
    node: str, pod_cidr: str, service_cidr: str, *, proxy_conf: Path, agent_conf: Path
) -> dict[str, dict[str, Any]]:
    return {
        "proxy": {
            "kubeconfig": str(proxy_conf),
            "hostname-override": node,
            "cluster-cidr": pod_cidr,
        },
        "network-agent": {
            "kubeconfig": str(agent_conf),
            "cluster-cidr": pod_cidr,
            "service-cluster-ip-range": service_cidr,
        },
    }


def publish_settings(api: httpx.Client, pod_cidr: str, service_cidr: str) -> None:
    """``kube-system/navarch-config`` and who may read it (kubeadm's
    ``kubeadm:nodes-kubeadm-config``: the default token's group and nodes)."""
    rbac = discovery.RBAC
    objects: list[tuple[str, dict[str, Any]]] = [
        ("/api/v1/namespaces/kube-system/configmaps", {
            "metadata": {"name": SETTINGS, "namespace": "kube-system"},
            "data": {"podSubnet": pod_cidr, "serviceSubnet": service_cidr,
                     "clusterDomain": CLUSTER_DOMAIN},
        }),
        (f"{rbac}/namespaces/kube-system/roles", {
            "metadata": {"name": f"navarch:nodes-{SETTINGS}", "namespace": "kube-system"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"],
                       "resourceNames": [SETTINGS], "verbs": ["get"]}],
        }),
        (f"{rbac}/namespaces/kube-system/rolebindings", {
            "metadata": {"name": f"navarch:nodes-{SETTINGS}", "namespace": "kube-system"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                        "name": f"navarch:nodes-{SETTINGS}"},
            "subjects": [
                {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": bt.DEFAULT_GROUP},
                {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:nodes"},
            ],
        }),
    ]  # fmt: skip
    for collection, obj in objects:
        discovery.apply_object(api, collection, obj)


def preflight(*ports: int) -> None:
    """kubeadm's preflight, in part: etcd is installed and the control plane's ports
    are free (a clear error now rather than a daemon restarting for minutes)."""
    from apiserver.etcd_server import etcd_binary

    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            # As the daemons bind: connections of an earlier run in TIME_WAIT are no obstacle.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("0.0.0.0", port))
            except OSError as err:
                raise BootstrapError(f"[preflight] port {port} is in use ({err.strerror})") from err
    try:
        etcd_binary()
    except FileNotFoundError as err:
        raise BootstrapError(f"[preflight] {err}") from err


def install_dns(layout: Layout, service_cidr: str, echo: Echo) -> None:
    """kubeadm's ``addon/coredns`` phase: the cluster DNS add-on ``navarch up``
    installs, when this installation has it (its manifests and image) and its fixed
    address is in the service CIDR; otherwise a line saying why not."""
    from cli import addons

    why = addons.missing_reason()
    net = ipaddress.ip_network(service_cidr.split(",", maxsplit=1)[0].strip(), strict=False)
    if why is None and ipaddress.ip_address(addons.DNS_SERVICE_IP) not in net:
        why = f"its address {addons.DNS_SERVICE_IP} is outside {service_cidr}"
    if why is not None:
        echo(f"[addons] dns: not installed: {why}")
        return
    try:
        addons.apply_dns(layout.admin_conf, echo)
    except RuntimeError as err:
        echo(f"[addons] {err}")


def init(layout: Layout, opts: InitOptions, echo: Echo = print) -> ControlPlane:
    """``navarch init`` (see the module's docstring); prints the join command last."""
    plane = ControlPlane(layout, opts)
    system = initsystem.choose(opts.init_system, layout)
    existing = installed_units(layout)
    if existing:  # init again: its own daemons go first, then their ports are free
        system.stop(existing)
    preflight(opts.bind_port, opts.etcd_client_port, opts.etcd_peer_port)
    layout.etc.mkdir(parents=True, exist_ok=True)
    layout.etc.chmod(0o700)
    layout.logs.mkdir(parents=True, exist_ok=True)
    (layout.var / "etcd").mkdir(parents=True, exist_ok=True)
    (layout.var / "etcd").chmod(0o700)
    echo(f"[init] node {plane.node}, API server {plane.server}, init system {system.name}")
    plane.make_pki(echo)
    plane.write_files()
    units = plane.units()
    write_units(layout, units)
    HostRecord(CONTROL_PLANE, plane.node, units, system.name, opts.pod_network_cidr,
               opts.service_cidr).save(layout)  # fmt: skip
    echo(f"[units] {', '.join(units)} in {layout.units}")
    system.start(units)
    _wait_unit(system, layout, "navarch-apiserver", plane.ready, opts.timeout, "the API server")
    echo("[control-plane] the API server is ready")
    plane.publish(echo)
    if plane.with_node:
        install_dns(layout, opts.service_cidr, echo)
    echo(f"[kubeconfig] the cluster admin's: {layout.admin_conf}")
    ca_hash = bt.ca_cert_hash((layout.pki / "ca.crt").read_bytes())
    echo("")
    echo("Your control plane is up. Join any number of hosts, as root on each:")
    echo("")
    echo(
        f"navarch join {plane.address}:{opts.bind_port} --token {plane.token} "
        f"--discovery-token-ca-cert-hash {ca_hash}"
    )
    return plane


# --- join -------------------------------------------------------------------------------


@dataclass
class JoinOptions:
    endpoint: str
    token: bt.Token
    ca_hash: str
    node_name: str | None = None
    node_ip: str | None = None
    init_system: str = initsystem.AUTO
    timeout: float = 300.0
    skip_phases: tuple[str, ...] = ()
    kubelet_port: int = 10250
    extra_args: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per daemon (``kubelet``, ``proxy``, ``network-agent``), flags added to (or
    replacing those in) its ``--config`` file: ``--kubelet-arg`` and the like."""


def parse_endpoint(text: str) -> str:
    """``host:port`` (``[v6]:port``); raises BootstrapError."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise BootstrapError(f"{text!r}: expected the API server as host:port (10.0.1.10:6443)")
    return text.strip()


def read_settings(found: discovery.Discovered, token: bt.Token) -> dict[str, str]:
    """``navarch-config`` with the bootstrap token, the server verified by the CA."""
    ctx = ssl.create_default_context(cadata=found.ca_pem.decode())
    url = f"{found.server}/api/v1/namespaces/kube-system/configmaps/{SETTINGS}"
    resp = httpx.get(url, verify=ctx, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    if resp.status_code != 200:
        raise BootstrapError(f"cannot read kube-system/{SETTINGS}: {resp.status_code}")
    return {str(k): str(v) for k, v in (resp.json().get("data") or {}).items()}


def prepare_join(layout: Layout, opts: JoinOptions, echo: Echo = print) -> tuple[str, dict[str, dict[str, Any]]]:  # fmt: skip
    """Discovery, the CA and bootstrap kubeconfig on disk, the node's configs written;
    (the node's name, its configs). What ``join`` does before it starts anything."""
    found = discovery.discover(opts.endpoint, opts.token, opts.ca_hash, timeout=opts.timeout,
                               echo=echo)  # fmt: skip
    node = opts.node_name or socket.gethostname()
    address = opts.node_ip or default_address()
    layout.etc.mkdir(parents=True, exist_ok=True)
    layout.etc.chmod(0o700)
    layout.pki.mkdir(parents=True, exist_ok=True)
    (layout.pki / "ca.crt").write_bytes(found.ca_pem)
    doc = discovery.bootstrap_kubeconfig(found, opts.token)
    write_private(layout.bootstrap_conf, yaml.safe_dump(doc, sort_keys=False).encode())
    settings = read_settings(found, opts.token)
    pod_cidr = settings.get("podSubnet", "10.244.0.0/16")
    service_cidr = settings.get("serviceSubnet", "10.96.0.0/12")
    kubelet = node_kubelet_config(layout, node, address, service_cidr)
    kubelet["kubeconfig"] = str(layout.kubelet_conf)
    kubelet["bootstrap-kubeconfig"] = str(layout.bootstrap_conf)
    # Its HTTPS certificate from the kubelet-serving signer (for its name and node IP),
    # which the apiserver verifies with the cluster CA.
    kubelet["rotate-server-certificates"] = True
    kubelet["port"] = opts.kubelet_port
    configs = {"kubelet": kubelet}
    # kube-proxy and the network agent run as the node: its kubeconfig, written by the
    # kubelet once its CSR is signed, names the rotating certificate.
    configs.update(
        node_network_configs(
            node,
            pod_cidr,
            service_cidr,
            proxy_conf=layout.kubelet_conf,
            agent_conf=layout.kubelet_conf,
        )
    )
    for daemon, extra in opts.extra_args.items():
        configs.setdefault(daemon, {}).update(extra)
    for daemon, values in configs.items():
        write_config(layout, daemon, values)
    return node, configs


def joined(layout: Layout) -> HostRecord | None:
    """The record of a completed join on this layout (the kubelet has its own client
    certificate, ``kubelet.conf``), else None."""
    record = HostRecord.load(layout)
    if record is None or record.role != NODE or not layout.kubelet_conf.exists():
        return None
    return record


def _node_units(opts: JoinOptions) -> list[str]:
    return ["navarch-kubelet"] if NETWORK_PHASE in opts.skip_phases else list(NODE_UNITS)


def rejoin(layout: Layout, record: HostRecord, opts: JoinOptions, echo: Echo = print) -> None:
    """``join`` on a host that already joined (``joined``): no discovery and no token
    (the kubelet's own certificate is what it uses), its units started again with the
    configs it has. A host that joined under another node name is refused."""
    if opts.node_name and opts.node_name != record.node_name:
        raise BootstrapError(
            f"this host joined as node {record.node_name}, not {opts.node_name}: "
            "`navarch reset` first"
        )
    system = initsystem.choose(opts.init_system, layout)
    record.units = _node_units(opts)
    record.init_system = system.name
    write_units(layout, record.units)
    record.save(layout)
    system.start(record.units)
    echo(f"[join] this host already joined as node {record.node_name} ({layout.kubelet_conf}): "
         f"{', '.join(record.units)} started again ({system.name}), no discovery")  # fmt: skip


def join(layout: Layout, opts: JoinOptions, echo: Echo = print) -> None:
    """``navarch join`` (see the module's docstring); on a host that already joined,
    ``rejoin``."""
    done = joined(layout)
    if done is not None:
        rejoin(layout, done, opts, echo)
        return
    system = initsystem.choose(opts.init_system, layout)
    node, configs = prepare_join(layout, opts, echo)
    record = HostRecord(NODE, node, [], system.name, configs["proxy"]["cluster-cidr"],
                        configs["network-agent"]["service-cluster-ip-range"])  # fmt: skip
    # The kubelet first: kube-proxy and the network agent need the credentials its TLS
    # bootstrap writes.
    record.units = ["navarch-kubelet"]
    write_units(layout, record.units)
    record.save(layout)
    system.start(record.units)
    echo("[kubelet-start] waiting for the kubelet's TLS bootstrap (a CSR the cluster signs)")
    _wait_unit(system, layout, "navarch-kubelet", layout.kubelet_conf.exists, opts.timeout,
               "the kubelet's client certificate")  # fmt: skip
    # As kubeadm: the token's copy goes once the kubelet has its own certificate (it
    # reads the bootstrap kubeconfig only when its kubeconfig is unusable).
    layout.bootstrap_conf.unlink(missing_ok=True)
    record.units = _node_units(opts)
    write_units(layout, record.units)
    record.save(layout)
    # The kubelet goes on (as kubeadm's): its configuration is the same, and a restart
    # would cost the node seconds of start-up.
    system.add(record.units)
    echo(f"[units] {', '.join(record.units)} started ({system.name})")
    echo("")
    echo(f"This host joined the cluster as node {node}: `navctl get nodes` on the control plane.")


# --- reset ------------------------------------------------------------------------------


def _clean_node_network(layout: Layout, record: HostRecord, ran: set[str], echo: Echo) -> None:
    """What the node's units made outside navarch's directories: the kubelet's pod
    containers and networks, the network agent's routes and rules, kube-proxy's rules
    (each daemon's own ``--cleanup``), for the units that ran (``ran``) only: another
    cluster's kube-proxy on this host keeps its rules when this one ran none."""
    from cli.localcluster import remove_node_containers

    if "navarch-kubelet" in ran:
        removed = remove_node_containers([record.node_name])
        if removed is None:
            echo("[reset] docker: no engine answers; pod containers (if any) left alone")
        else:
            echo(
                f"[reset] removed {removed} pod container(s) and the pod network of {record.node_name}"
            )
    navarch = [sys.executable, "-m", "cli.navarch"]
    agent = [*navarch, "network-agent", "--cleanup"]
    if record.cluster_cidr:
        agent += ["--cluster-cidr", record.cluster_cidr]
    if record.service_cidr:
        agent += ["--service-cluster-ip-range", record.service_cidr]
    cleanups = {"navarch-network-agent": agent, "navarch-proxy": [*navarch, "proxy", "--cleanup"]}
    for unit, argv in cleanups.items():
        if unit not in ran:
            continue
        proc = subprocess.run(argv, check=False, capture_output=True, text=True)
        said = "done" if proc.returncode == 0 else proc.stderr.strip()[-200:]
        echo(f"[reset] {argv[3]} cleanup: {said}")
    if "navarch-network-agent" in ran:
        # The agent keeps the service CIDR on the dummy navarch-svc0 and a blackhole for
        # the cluster CIDR (netagent.localroutes); its --cleanup leaves them, since on a
        # `navarch up` host other local clusters may share them. This host's are ours.
        from netagent import localroutes

        clusters = [c for c in record.cluster_cidr.split(",") if c]
        localroutes.remove(record.service_cidr or None, clusters)
        echo(
            f"[reset] removed {localroutes.SERVICE_DEVICE} and the blackhole of {record.cluster_cidr}"
        )


def _unmount_under(path: Path) -> None:
    """Unmount what the kubelet left mounted under ``path`` (deepest first)."""
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return
    prefix = str(path.resolve()) + "/"
    points = [f.split()[1] for f in lines if len(f.split()) > 1]
    for point in sorted((p for p in points if p.startswith(prefix)), reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


def reset(
    layout: Layout,
    echo: Echo = print,
    *,
    clean_network: Callable[[Layout, HostRecord, set[str], Echo], None] = _clean_node_network,
) -> None:
    """Undo init or join on this layout: stop and remove the units, clean the node's
    network (when it ran node units), remove the files. Missing pieces are skipped."""
    record = HostRecord.load(layout)
    units = installed_units(layout)
    systems: list[initsystem.InitSystem] = [initsystem.Supervised(layout)]
    if initsystem.systemd_runs_host() and layout.root == Path("/"):
        systems.append(initsystem.Systemd())
    for system in systems:
        system.stop(units or list(ALL_UNITS))
    echo(f"[reset] stopped {', '.join(units) if units else 'nothing (no units installed)'}")
    ran = set(units) | set(record.units if record is not None else ())
    if record is not None and ran & set(NODE_UNITS):
        clean_network(layout, record, ran, echo)
    for unit in units:
        (layout.units / f"{unit}.service").unlink(missing_ok=True)
    if units and len(systems) > 1:
        subprocess.run(["systemctl", "daemon-reload"], check=False, capture_output=True)
    _unmount_under(layout.var)
    for path in (layout.etc, layout.var, layout.logs):
        if path.exists():
            shutil.rmtree(path, ignore_errors=True)
            echo(f"[reset] removed {path}")
    echo("[reset] done")


__all__ = [
    "JOIN_PHASES",
    "PHASES",
    "BootstrapError",
    "InitOptions",
    "JoinOptions",
    "daemon_of",
    "init",
    "join",
    "parse_endpoint",
    "reset",
    "resolve_token",
]
