"""A local cluster as background processes: ``navarch up``, ``down`` and ``status``.

``up`` starts a supervisor (``cli/supervisor.py``) detached from the terminal, which
starts etcd, the apiserver, the controller-manager, the scheduler and one kubelet per
node (real Docker containers) and restarts whichever exits, with back-off. Each pid is
in ``<data-dir>/run/<name>.pid``, each log in ``<data-dir>/logs/<name>.log``, and the
supervisor's record of them (restarts, last exit code) in ``run/supervisor.json``;
``up`` waits until every node is Ready. State (etcd's data, the kubelets' volumes)
stays in the data dir across ``down``/``up``, so the same cluster comes back with its
workloads. ``up`` on a running cluster changes nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

import pki
from apiclient.config import default_kubeconfig_paths, merge_kubeconfig
from apiserver.etcd_server import EtcdProcess, EtcdTLS
from cli import addons
from netagent.localroutes import HOST_ADDRESS
from pki import certlist
from pki.certlist import ClusterPKIConfig, Host
from pki.flags import apiserver_pki_flags
from pki.phases import kubeconfig as kubeconfig_phase

AUDIT_POLICY: dict[str, Any] = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "omitStages": ["RequestReceived"],
    "rules": [
        # Health checks, and the heartbeats and reads of the system's own components,
        # would drown the rest.
        {"level": "None", "nonResourceURLs": ["/healthz*", "/livez*", "/readyz*", "/version"]},
        {"level": "None", "resources": [{"group": "coordination.k8s.io", "resources": ["leases"]}],
         "verbs": ["get", "update", "patch"]},
        {"level": "None", "verbs": ["get", "list", "watch"],
         "userGroups": ["system:nodes", "system:serviceaccounts:kube-system"]},
        {"level": "None", "verbs": ["get", "list", "watch"],
         "users": ["system:kube-scheduler", "system:kube-controller-manager", "system:kube-proxy"]},
        {"level": "Metadata"},
    ],
}  # fmt: skip
"""What ``navarch up``'s apiserver audits (``<data-dir>/logs/audit.log``): who did what,
at ``Metadata``, without the health checks and the components' routine reads."""

DEFAULT_DATA_DIR = Path(os.environ.get("NAVARCH_DATA_DIR", "~/.navarch")).expanduser()

SERVICE_CIDR = "10.96.0.0/12"
"""The apiserver's default ``--service-cluster-ip-range``; routed to ``navarch-svc0``."""
CLUSTER_CIDR = "10.244.0.0/16"
"""Pod addresses (``docs/network.md``): a /24 per node from node IPAM."""

MANAGED_LABEL = "io.navarch.managed"
NODE_LABEL = "io.navarch.node"
"""Labels the kubelet puts on every container it creates (kubelet/labels.py)."""


@dataclass(frozen=True)
class Ports:
    etcd_client: int = 2379
    etcd_peer: int = 2380
    apiserver: int = 6443
    kubelet_base: int = 10250
    """Node i (from 0) serves logs/exec on ``kubelet_base + i``."""


@dataclass(frozen=True)
class Component:
    name: str
    command: list[str]
    ready: Callable[[], bool]
    node: str | None = None
    """The Node a kubelet registers (None for the control plane)."""


@dataclass
class ComponentState:
    name: str
    pid: int | None
    state: str
    """``running``, ``starting``, ``waiting`` (for the components it needs),
    ``restarting`` (exited; in back-off), ``stopped`` or ``crashed`` (unsupervised)."""
    log: Path
    node_ready: bool | None = None
    """For a kubelet: its Node's Ready condition (None when the apiserver is down)."""
    restarts: int = 0
    """How often the supervisor restarted it since ``up`` started the supervisor."""
    last_exit: str | None = None
    """How it last exited (``exit code 1``, ``signal 9 (SIGKILL)``), if it did."""


@dataclass
class Layout:
    """What ``up`` was asked for, kept in ``cluster.json`` so later verbs agree."""

    ports: Ports = field(default_factory=Ports)
    nodes: int = 3
    name: str = "navarch"
    cluster_cidr: str = CLUSTER_CIDR


class LocalCluster:
    def __init__(
        self,
        data_dir: Path = DEFAULT_DATA_DIR,
        ports: Ports | None = None,
        nodes: int | None = None,
        name: str | None = None,
        cluster_cidr: str | None = None,
    ) -> None:
        self.data_dir = data_dir
        saved = self._saved()
        self.ports = ports or (saved.ports if saved else Ports())
        self.nodes = nodes or (saved.nodes if saved else 3)
        self.name = name or (saved.name if saved else "navarch")
        self.cluster_cidr = cluster_cidr or (saved.cluster_cidr if saved else CLUSTER_CIDR)
        self.run_dir = data_dir / "run"
        self.log_dir = data_dir / "logs"

    # --- layout -------------------------------------------------------------------

    def _saved(self) -> Layout | None:
        path = self.data_dir / "cluster.json"
        if not path.exists():
            return None
        doc = json.loads(path.read_text())
        known = Ports.__dataclass_fields__
        ports = Ports(**{k: v for k, v in doc.get("ports", {}).items() if k in known})
        return Layout(
            ports=ports,
            nodes=int(doc.get("nodes", 3)),
            name=doc.get("name", "navarch"),
            cluster_cidr=doc.get("clusterCIDR", CLUSTER_CIDR),
        )

    def _save(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        doc = {
            "ports": asdict(self.ports),
            "nodes": self.nodes,
            "name": self.name,
            "clusterCIDR": self.cluster_cidr,
        }
        (self.data_dir / "cluster.json").write_text(json.dumps(doc, indent=2))

    @property
    def etcd_url(self) -> str:
        return f"https://127.0.0.1:{self.ports.etcd_client}"

    @property
    def apiserver_url(self) -> str:
        return f"https://127.0.0.1:{self.ports.apiserver}"

    @property
    def pki_dir(self) -> Path:
        """The cluster's PKI (``pki.certlist`` lays it out), made by ``up``."""
        return self.data_dir / "pki"

    def node_names(self) -> list[str]:
        """``<name>-node-1`` ...: also the label ``down`` selects pod containers by."""
        return [f"{self.name}-node-{i + 1}" for i in range(self.nodes)]

    def pki_config(self) -> ClusterPKIConfig:
        """What the certificates name: every node, etcd and the apiserver on 127.0.0.1."""
        return ClusterPKIConfig(
            nodes=tuple(Host(node) for node in self.node_names()),
            etcd_members=(Host(self.name),),
            control_plane=(Host("localhost"),),
            service_cidr=SERVICE_CIDR,
        )

    def etcd(self) -> EtcdProcess:
        return EtcdProcess(
            data_dir=self.data_dir / "etcd",
            client_port=self.ports.etcd_client,
            peer_port=self.ports.etcd_peer,
            name=self.name,
            tls=EtcdTLS.from_pki(self.pki_dir, self.name),
        )

    def user_kubeconfig(self, user: str) -> Path:
        """The kubeconfig of one identity (``admin``, ``scheduler``, ``node-<name>``...)."""
        return self.data_dir / f"{user}.conf"

    def control_plane(self) -> list[Component]:
        """etcd and the apiserver: started one after the other, each waited for."""
        navarch = [sys.executable, "-m", "cli.navarch"]
        etcd = self.etcd()
        pki = self.pki_dir
        return [
            Component("etcd", etcd.command(), etcd.healthy),
            Component(
                "apiserver",
                [
                    *navarch, "apiserver",
                    "--etcd-servers", self.etcd_url,
                    # Secrets encrypted in etcd (aescbc, the key the PKI phase made).
                    *apiserver_pki_flags(pki, encrypt_secrets=True),
                    "--audit-policy-file", str(self.audit_policy_file),
                    "--audit-log-path", str(self.log_dir / "audit.log"),
                    # Every address: pods reach it at HOST_ADDRESS, through the
                    # `kubernetes` Service (TLS and RBAC guard it, as kube-apiserver).
                    "--bind-address", "0.0.0.0",
                    "--advertise-address", HOST_ADDRESS,
                    "--secure-port", str(self.ports.apiserver),
                    # Every node of a local cluster is this host: its kubelets listen on
                    # 127.0.0.1, which the apiserver dials only when told so.
                    "--kubelet-allowed-addresses", "127.0.0.1/32",
                    "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
                    "--authorization-mode", "Node,RBAC",
                    "--enable-admission-plugins", "NodeRestriction",
                ],
                lambda: self._https_ok("/readyz"),
            ),
        ]  # fmt: skip

    def daemons(self) -> list[Component]:
        """The controller-manager (with node IPAM), the scheduler, the network agent,
        kube-proxy and the kubelets: they only need the apiserver, so they start
        together."""
        navarch = [sys.executable, "-m", "cli.navarch"]
        conf = self.user_kubeconfig
        cidr = ["--cluster-cidr", self.cluster_cidr]
        services = ["--service-cluster-ip-range", SERVICE_CIDR]
        manager = [*navarch, "controller-manager", "--kubeconfig", str(conf("controller-manager"))]
        agent = [
            *navarch, "network-agent", "--kubeconfig", str(conf("network-agent")), *cidr, *services,
        ]  # fmt: skip
        found: list[Component] = [
            Component(
                "controller-manager",
                [
                    *manager,
                    "--allocate-node-cidrs",
                    *cidr,
                    *services,
                    "--root-ca-file",
                    str(self.pki_dir / "ca.crt"),
                    # As kubeadm: the cluster CA signs approved CSRs (kubelets joining
                    # with a bootstrap token, certificate rotation).
                    "--cluster-signing-cert-file",
                    str(self.pki_dir / "ca.crt"),
                    "--cluster-signing-key-file",
                    str(self.pki_dir / "ca.key"),
                    "--use-service-account-credentials",
                ],
                lambda: True,
            ),
            Component(
                "scheduler",
                [*navarch, "scheduler", "--kubeconfig", str(conf("scheduler"))],
                lambda: True,
            ),
            Component("network-agent", agent, lambda: True),
            # One kube-proxy for the host: every node shares its network namespace.
            # Its health/metrics ports sit above the kubelets' (at most 20 nodes).
            Component(
                "kube-proxy",
                [
                    *navarch,
                    "proxy",
                    "--kubeconfig",
                    str(conf("kube-proxy")),
                    *cidr,
                    "--healthz-bind-address",
                    f"127.0.0.1:{self.ports.kubelet_base + 20}",
                    "--metrics-bind-address",
                    f"127.0.0.1:{self.ports.kubelet_base + 21}",
                ],
                lambda: True,
            ),
        ]
        for i, node in enumerate(self.node_names()):
            found.append(
                Component(
                    f"kubelet-{node}",
                    [
                        *navarch, "kubelet",
                        "--node-name", node,
                        "--kubeconfig", str(conf(f"node-{node}")),
                        "--root-dir", str(self.data_dir / "kubelet" / node),
                        "--port", str(self.ports.kubelet_base + i),
                        "--tls-cert-file", str(self.pki_dir / "kubelet" / f"{node}.crt"),
                        "--tls-private-key-file", str(self.pki_dir / "kubelet" / f"{node}.key"),
                        # Only who the apiserver vouches for, with a grant on nodes/*.
                        "--client-ca-file", str(self.pki_dir / "ca.crt"),
                        "--anonymous-auth", "false",
                        "--authentication-token-webhook",
                        "--authorization-mode", "Webhook",
                        # Cluster DNS (deploy/addons/dns.yaml), installed by `up`.
                        "--cluster-dns", addons.DNS_SERVICE_IP,
                        "--cluster-domain", addons.CLUSTER_DOMAIN,
                    ],
                    lambda node=node: self.node_ready(node) is True,  # type: ignore[misc]
                    node=node,
                )
            )  # fmt: skip
        return found

    def components(self) -> list[Component]:
        return [*self.control_plane(), *self.daemons()]

    def node_ready(self, node: str) -> bool | None:
        """The Node's Ready condition; None when the apiserver does not answer."""
        try:
            resp = self._admin_get(f"/api/v1/nodes/{node}")
        except (httpx.HTTPError, OSError, ssl.SSLError):
            return None
        if resp.status_code != 200:
            return False
        conditions = (resp.json().get("status") or {}).get("conditions") or []
        return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)

    def _admin_get(self, path: str) -> httpx.Response:
        """GET ``path`` from the apiserver as the cluster's admin."""
        ctx = ssl.create_default_context(cafile=self.pki_dir / "ca.crt")
        ctx.load_cert_chain(self.pki_dir / "users/admin.crt", self.pki_dir / "users/admin.key")
        return httpx.get(f"{self.apiserver_url}{path}", timeout=2.0, verify=ctx)

    def _https_ok(self, path: str) -> bool:
        try:
            return self._admin_get(path).status_code == 200
        except (httpx.HTTPError, OSError, ssl.SSLError):
            return False

    # --- process bookkeeping ------------------------------------------------------------

    def _pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def pid(self, name: str) -> int | None:
        """The pid of a running component, None if it is not running."""
        return _read_pid(self._pid_file(name))

    @property
    def state_file(self) -> Path:
        """What the supervisor knows of each component (``Supervisor.write_state``)."""
        return self.run_dir / "supervisor.json"

    def supervisor_pid(self) -> int | None:
        return _read_pid(self._pid_file(SUPERVISOR))

    def _start_supervisor(self, echo: Callable[[str], None]) -> None:
        running = self.supervisor_pid()
        if running is not None:
            echo(f"{SUPERVISOR}: already running (pid {running})")
            return
        pid = start_detached(
            [sys.executable, "-m", "cli.navarch", "supervise", "--data-dir", str(self.data_dir)],
            self.log_file(SUPERVISOR),
            self._pid_file(SUPERVISOR),
        )
        echo(f"{SUPERVISOR}: started (pid {pid}, log {self.log_file(SUPERVISOR)})")

    def read_state(self) -> dict[str, dict[str, Any]]:
        """The supervisor's record of each component, by name (empty when none)."""
        try:
            doc = json.loads(self.state_file.read_text())
        except (FileNotFoundError, ValueError):
            return {}
        components: dict[str, dict[str, Any]] = doc.get("components") or {}
        return components

    # --- verbs ---------------------------------------------------------------------------

    def up(self, echo: Callable[[str], None] = print, timeout: float = 120.0) -> None:
        """Start the supervisor unless it runs (it starts, and restarts, every
        component), then wait until the apiserver answers and every node is Ready.

        Raises RuntimeError naming the component (and its log) that keeps exiting
        (``CRASH_LOOP`` exits during this call) or is not ready in time; the
        supervisor keeps trying either way (``navarch down`` stops it)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._save()
        self.route_locally(echo)
        self.write_kubeconfigs(echo)
        self.write_audit_policy()
        before = {name: int(st.get("restarts", 0)) for name, st in self.read_state().items()}
        self._start_supervisor(echo)
        deadline = time.monotonic() + timeout
        pending = {c.name: c for c in self.components()}
        shown: set[str] = set()
        while True:
            if self.supervisor_pid() is None:
                raise RuntimeError(f"the supervisor exited; see {self.log_file(SUPERVISOR)}")
            state = self.read_state()
            for name, comp in list(pending.items()):
                st = state.get(name) or {}
                exits = int(st.get("restarts", 0)) - before.get(name, 0)
                if exits >= CRASH_LOOP:
                    raise RuntimeError(
                        f"{name} keeps exiting ({exits} times, last {describe_exit(st)}); "
                        f"see {self.log_file(name)}"
                    )
                if st.get("state") == "running" and name not in shown:
                    shown.add(name)
                    echo(f"{name}: running (pid {st.get('pid')}, log {self.log_file(name)})")
                if st.get("state") == "running" and comp.ready():
                    del pending[name]
                    if name == "apiserver":
                        echo(f"apiserver: {self.apiserver_url}")
            if not pending:
                break
            if time.monotonic() >= deadline:
                name = next(iter(pending))
                raise RuntimeError(f"{name} not ready in time; see {self.log_file(name)}")
            time.sleep(0.1)
        echo(f"nodes Ready: {', '.join(self.node_names())}")
        self.install_addons(echo)

    def install_addons(self, echo: Callable[[str], None] = print) -> bool:
        """Apply the cluster DNS add-on (``cli/addons.py``) as the admin, as kubeadm
        installs CoreDNS; skipped, with a line saying why, when this installation
        cannot (no manifests, no image). Whether it was applied; its pods start after."""
        why = addons.missing_reason()
        if why is not None:
            echo(f"dns: not installed: {why}")
            return False
        addons.apply_dns(self.kubeconfig, echo)
        return True

    def route_locally(self, echo: Callable[[str], None] = print) -> None:
        """Before any component starts: the service CIDR to the dummy device
        ``navarch-svc0`` and ``blackhole <cluster CIDR>``, so that nothing for a
        ClusterIP or a pod IP leaves the machine (``netagent/localroutes.py``)."""
        from netagent import localroutes
        from netagent.kernel import CommandError

        try:
            localroutes.acquire(str(self.data_dir), SERVICE_CIDR, [self.cluster_cidr])
        except (CommandError, OSError) as err:
            raise RuntimeError(
                "cannot route the service and pod CIDRs locally (navarch up needs root, "
                f"or CAP_NET_ADMIN, and iproute2): {err}"
            ) from err
        echo(
            f"routes: {SERVICE_CIDR} dev {localroutes.SERVICE_DEVICE}, "
            f"blackhole {self.cluster_cidr} (pods: a /24 of it per node)"
        )

    def unroute(self, echo: Callable[[str], None] = print) -> None:
        """Undo what the network agent, kube-proxy and ``route_locally`` set up on the
        host, except what another local cluster that still runs uses."""
        from netagent import localroutes
        from netagent.agent import cleanup
        from netagent.kernel import CommandError, HostKernel

        try:
            for item in cleanup(HostKernel(), [self.cluster_cidr]).removed:
                echo(f"network: removed {item}")
            removed = localroutes.release(
                str(self.data_dir),
                lambda other: LocalCluster(Path(other)).supervisor_pid() is not None,
            )
        except (CommandError, OSError) as err:
            echo(f"network: not cleaned up ({err})")
            return
        for item in removed:
            echo(f"routes: removed {item}")
        if any(localroutes.SERVICE_DEVICE in item for item in removed):
            # No other local cluster uses the host any more: kube-proxy's rules go too
            # (they would DNAT to pod addresses that no longer route locally).
            import asyncio

            from kubeproxy.main import cleanup as proxy_cleanup

            try:
                for item in asyncio.run(proxy_cleanup()):
                    echo(f"kube-proxy: removed {item}")
            except (RuntimeError, OSError) as err:
                echo(f"kube-proxy: not cleaned up ({err})")

    @property
    def kubeconfig(self) -> Path:
        """The admin's kubeconfig (``pki``'s ``admin.conf``)."""
        return self.user_kubeconfig("admin")

    @property
    def audit_policy_file(self) -> Path:
        return self.data_dir / "audit-policy.yaml"

    def write_audit_policy(self) -> None:
        """The apiserver's audit policy (``AUDIT_POLICY``), rewritten on every start
        (edit the constant, not the file)."""
        self.audit_policy_file.write_text(yaml.safe_dump(AUDIT_POLICY, sort_keys=False))
        self.audit_policy_file.chmod(0o600)

    def write_kubeconfigs(self, echo: Callable[[str], None] = print) -> None:
        """Make (or keep, or renew) the cluster's PKI and each component's kubeconfig
        (``pki.ensure``), then merge a context ``<name>`` with the admin's credentials
        into the user's kubeconfig (``$KUBECONFIG``'s first file, else
        ``~/.kube/config``), made current, as kind and minikube do, so that navctl and
        kubectl work with no flags."""
        outcomes = pki.ensure(
            self.pki_dir,
            self.pki_config(),
            kubeconfig_dir=self.data_dir,
            cluster=self.name,
            server=self.apiserver_url,
        )
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome.action] = counts.get(outcome.action, 0) + 1
            if outcome.action == "renewed":
                echo(f"pki: renewed {outcome.name} ({outcome.reason})")
        summary = ", ".join(f"{n} {action}" for action, n in sorted(counts.items()))
        echo(f"pki: {self.pki_dir} ({summary})")
        admin = certlist.user_cert(certlist.ADMIN)
        doc = kubeconfig_phase.document(
            cluster=self.name,
            server=self.apiserver_url,
            ca_pem=(self.pki_dir / "ca.crt").read_bytes(),
            user=self.name,
            cert_pem=(self.pki_dir / f"{admin.name}.crt").read_bytes(),
            key_pem=(self.pki_dir / f"{admin.name}.key").read_bytes(),
            context=self.name,
        )
        user = default_kubeconfig_paths()[0]
        merge_kubeconfig(user, doc)
        echo(f'kubeconfig: context "{self.name}" in {user} is now current (user: cluster admin)')

    def down(self, echo: Callable[[str], None] = print, purge: bool = False) -> None:
        """Stop the supervisor (which stops every component: the daemons, then the
        apiserver, then etcd), then remove the nodes' pod containers; the state stays
        unless ``purge``. Components left without a supervisor are stopped too."""
        supervisor = self.supervisor_pid()
        if supervisor is not None:
            _terminate([supervisor], timeout=60.0, group=False)
            echo(f"{SUPERVISOR}: stopped")
        self._pid_file(SUPERVISOR).unlink(missing_ok=True)
        for group in reversed(self.groups()):
            running = [(c, pid) for c in group if (pid := self.pid(c.name)) is not None]
            _terminate([pid for _, pid in running])
            for comp in group:
                self._pid_file(comp.name).unlink(missing_ok=True)
            for comp, _ in running:
                echo(f"{comp.name}: stopped")
        self.state_file.unlink(missing_ok=True)
        removed = remove_node_containers(self.node_names())
        if removed is None:
            echo("docker: no engine answers; pod containers (if any) were left alone")
        elif removed:
            echo(f"removed {removed} pod container(s) and the nodes' pod networks")
        self.unroute(echo)
        if purge:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            echo(f"removed {self.data_dir}")

    def groups(self) -> list[list[Component]]:
        """Start order: each group starts once the one before is ready."""
        etcd, apiserver = self.control_plane()
        return [[etcd], [apiserver], self.daemons()]

    def status(self) -> list[ComponentState]:
        """Each component: running, restarting (exited, waiting out its back-off),
        stopped (never started, or stopped by ``down``) or crashed (not running and
        nothing supervises it); kubelets with their Node's readiness. The supervisor
        itself comes first."""
        supervised = self.supervisor_pid() is not None
        found = [
            ComponentState(
                SUPERVISOR,
                self.supervisor_pid(),
                "running" if supervised else
                ("crashed" if self._pid_file(SUPERVISOR).exists() else "stopped"),
                self.log_file(SUPERVISOR),
            )
        ]  # fmt: skip
        state = self.read_state()
        apiserver_up = self.pid("apiserver") is not None
        for comp in self.components():
            pid = self.pid(comp.name)
            st = state.get(comp.name) or {}
            if pid is not None:
                phase = "running"
            elif supervised:
                # Just exited (the supervisor looks every 0.2 s), in back-off, or
                # waiting for the components it needs.
                phase = "waiting" if st.get("state") == "waiting" else "restarting"
            elif self._pid_file(comp.name).exists():
                phase = "crashed"
            else:
                phase = "stopped"
            ready = self.node_ready(comp.node) if comp.node and apiserver_up else None
            found.append(
                ComponentState(
                    comp.name, pid, phase, self.log_file(comp.name), ready,
                    restarts=int(st.get("restarts", 0)),
                    last_exit=describe_exit(st) if st.get("lastExitCode") is not None else None,
                )
            )  # fmt: skip
        return found


SUPERVISOR = "supervisor"
CRASH_LOOP = 3
"""Exits of one component during one ``up`` after which ``up`` gives up on it."""
ROOT = Path(__file__).resolve().parents[1]


def start_detached(argv: list[str], log_path: Path, pid_path: Path) -> int:
    """Start ``argv`` in its own session (it outlives this process and the terminal),
    output appended to ``log_path``, its pid written to ``pid_path``; the pid."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=ROOT,
        )
    pid_path.write_text(str(proc.pid))
    return proc.pid


def describe_exit(st: dict[str, Any]) -> str:
    """``exit code 1`` or ``signal 9 (SIGKILL)`` from a supervisor record."""
    code = st.get("lastExitCode")
    if code is None:
        return "exit status unknown"
    code = int(code)
    if code < 0:
        try:
            return f"signal {-code} ({signal.Signals(-code).name})"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def remove_node_containers(nodes: list[str]) -> int | None:
    """Remove every container and pod network the kubelets of ``nodes`` created (by
    their labels); how many containers, or None when no Docker Engine answers."""
    import docker

    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception:
        return None
    removed = 0
    try:
        for node in nodes:
            filters = {"label": [f"{MANAGED_LABEL}=true", f"{NODE_LABEL}={node}"]}
            for container in client.containers.list(all=True, filters=filters):
                with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                    container.remove(force=True)
                    removed += 1
            # The node's pod bridge: made again from its podCIDR by its kubelet.
            for network in client.networks.list(filters=filters):
                with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                    network.remove()
    finally:
        client.close()
    return removed


def _is_zombie(pid: int) -> bool:
    """A child that exited but was not reaped still answers ``kill(pid, 0)``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def _read_pid(path: Path) -> int | None:
    """The pid in ``path`` if that process runs, else None."""
    try:
        pid = int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _alive(pid) else None


def _terminate(pids: list[int], timeout: float = 15.0, *, group: bool = True) -> None:
    """SIGTERM each process group (or process), wait for them all, SIGKILL what is
    left."""
    kill = os.killpg if group else os.kill
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if _alive(pid)]
        if alive:
            time.sleep(0.1)
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)
