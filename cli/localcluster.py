"""A local cluster as background processes: ``navarch up``, ``down`` and ``status``.

``up`` starts etcd, the apiserver, the controller-manager, the scheduler and one kubelet
per node (real Docker containers) as processes detached from the terminal, with each
pid in ``<data-dir>/run/<name>.pid`` and each log in ``<data-dir>/logs/<name>.log``;
it waits until every node is Ready. State (etcd's data, the kubelets' volumes) stays
in the data dir across ``down``/``up``, so the same cluster comes back with its
workloads. ``up`` on a running cluster changes nothing. A pid file whose process is
gone means the component crashed: ``down`` removes pid files, nothing else does.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from apiclient.config import default_kubeconfig_paths, write_kubeconfig
from apiserver.etcd_server import etcd_binary

DEFAULT_DATA_DIR = Path(os.environ.get("NAVARCH_DATA_DIR", "~/.navarch")).expanduser()

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
    """``running``, ``stopped`` or ``crashed``."""
    log: Path
    node_ready: bool | None = None
    """For a kubelet: its Node's Ready condition (None when the apiserver is down)."""


@dataclass
class Layout:
    """What ``up`` was asked for, kept in ``cluster.json`` so later verbs agree."""

    ports: Ports = field(default_factory=Ports)
    nodes: int = 3
    name: str = "navarch"


class LocalCluster:
    def __init__(
        self,
        data_dir: Path = DEFAULT_DATA_DIR,
        ports: Ports | None = None,
        nodes: int | None = None,
        name: str | None = None,
    ) -> None:
        self.data_dir = data_dir
        saved = self._saved()
        self.ports = ports or (saved.ports if saved else Ports())
        self.nodes = nodes or (saved.nodes if saved else 3)
        self.name = name or (saved.name if saved else "navarch")
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
        return Layout(ports=ports, nodes=int(doc.get("nodes", 3)), name=doc.get("name", "navarch"))

    def _save(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        doc = {"ports": asdict(self.ports), "nodes": self.nodes, "name": self.name}
        (self.data_dir / "cluster.json").write_text(json.dumps(doc, indent=2))

    @property
    def etcd_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.etcd_client}"

    @property
    def apiserver_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.apiserver}"

    def node_names(self) -> list[str]:
        """``<name>-node-1`` ...: also the label ``down`` selects pod containers by."""
        return [f"{self.name}-node-{i + 1}" for i in range(self.nodes)]

    def control_plane(self) -> list[Component]:
        """etcd and the apiserver: started one after the other, each waited for."""
        navarch = [sys.executable, "-m", "cli.navarch"]
        peer = f"http://127.0.0.1:{self.ports.etcd_peer}"
        return [
            Component(
                "etcd",
                [
                    etcd_binary(),
                    "--name", self.name,
                    "--data-dir", str(self.data_dir / "etcd"),
                    "--listen-client-urls", self.etcd_url,
                    "--advertise-client-urls", self.etcd_url,
                    "--listen-peer-urls", peer,
                    "--initial-advertise-peer-urls", peer,
                    "--initial-cluster", f"{self.name}={peer}",
                    "--log-level", "warn",
                ],
                lambda: _http_ok(f"{self.etcd_url}/health"),
            ),
            Component(
                "apiserver",
                [
                    *navarch, "apiserver",
                    "--etcd-servers", self.etcd_url,
                    "--bind-address", "127.0.0.1",
                    "--port", str(self.ports.apiserver),
                ],
                lambda: _http_ok(f"{self.apiserver_url}/readyz"),
            ),
        ]  # fmt: skip

    def daemons(self) -> list[Component]:
        """The controller-manager, the scheduler and the kubelets: they only need the
        apiserver, so they start together."""
        navarch = [sys.executable, "-m", "cli.navarch"]
        kubeconfig = str(self.kubeconfig)
        found: list[Component] = [
            Component(
                "controller-manager",
                [*navarch, "controller-manager", "--kubeconfig", kubeconfig],
                lambda: True,
            ),
            Component(
                "scheduler", [*navarch, "scheduler", "--kubeconfig", kubeconfig], lambda: True
            ),
        ]
        for i, node in enumerate(self.node_names()):
            found.append(
                Component(
                    f"kubelet-{node}",
                    [
                        *navarch, "kubelet",
                        "--node-name", node,
                        "--kubeconfig", kubeconfig,
                        "--root-dir", str(self.data_dir / "kubelet" / node),
                        "--port", str(self.ports.kubelet_base + i),
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
            resp = httpx.get(f"{self.apiserver_url}/api/v1/nodes/{node}", timeout=2.0)
        except httpx.HTTPError:
            return None
        if resp.status_code != 200:
            return False
        conditions = (resp.json().get("status") or {}).get("conditions") or []
        return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)

    # --- process bookkeeping ------------------------------------------------------------

    def _pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def pid(self, name: str) -> int | None:
        """The pid of a running component, None if it is not running."""
        try:
            pid = int(self._pid_file(name).read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _alive(pid) else None

    def _start(
        self, comp: Component, echo: Callable[[str], None]
    ) -> subprocess.Popen[bytes] | None:
        """Start ``comp`` unless it runs; the process, or None when it already ran."""
        running = self.pid(comp.name)
        if running is not None:
            echo(f"{comp.name}: already running (pid {running})")
            return None
        with open(self.log_file(comp.name), "ab") as log:
            proc = subprocess.Popen(
                comp.command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=Path(__file__).resolve().parents[1],
            )
        self._pid_file(comp.name).write_text(str(proc.pid))
        echo(f"{comp.name}: started (pid {proc.pid}, log {self.log_file(comp.name)})")
        return proc

    # --- verbs ---------------------------------------------------------------------------

    def up(self, echo: Callable[[str], None] = print, timeout: float = 120.0) -> None:
        """Start what is not running and wait until the apiserver answers and every
        node is Ready. Raises RuntimeError naming the component (and its log) that
        exited or did not become ready in time."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._save()
        deadline = time.monotonic() + timeout
        for comp in self.control_plane():
            proc = self._start(comp, echo)
            self._wait_all({comp.name: (comp, proc)}, deadline)
        echo(f"apiserver: {self.apiserver_url}")
        self.write_kubeconfigs(echo)
        started = {comp.name: (comp, self._start(comp, echo)) for comp in self.daemons()}
        self._wait_all(started, deadline)
        echo(f"nodes Ready: {', '.join(self.node_names())}")

    def _wait_all(
        self,
        comps: dict[str, tuple[Component, subprocess.Popen[bytes] | None]],
        deadline: float,
    ) -> None:
        pending = dict(comps)
        while pending:
            for name, (comp, proc) in list(pending.items()):
                exited = proc.poll() is not None if proc is not None else self.pid(name) is None
                if exited:
                    raise RuntimeError(f"{name} exited during start-up; see {self.log_file(name)}")
                if comp.ready():
                    del pending[name]
            if not pending:
                break
            if time.monotonic() >= deadline:
                name = next(iter(pending))
                raise RuntimeError(f"{name} not ready in time; see {self.log_file(name)}")
            time.sleep(0.1)
        # Daemons that answer nothing (scheduler, controller-manager) must at least
        # still be alive once the rest is ready.
        for name, (_, proc) in comps.items():
            if (proc.poll() is not None) if proc is not None else self.pid(name) is None:
                raise RuntimeError(f"{name} exited during start-up; see {self.log_file(name)}")

    @property
    def kubeconfig(self) -> Path:
        """The cluster's own kubeconfig (what its daemons use)."""
        return self.data_dir / "kubeconfig"

    def write_kubeconfigs(self, echo: Callable[[str], None] = print) -> None:
        """Write the cluster's kubeconfig, and merge a ``navarch`` context into the
        user's (``$KUBECONFIG``'s first file, else ``~/.kube/config``), made current,
        as kind and minikube do, so that navctl and kubectl work with no flags."""
        write_kubeconfig(self.kubeconfig, name=self.name, server=self.apiserver_url)
        user = default_kubeconfig_paths()[0]
        write_kubeconfig(user, name=self.name, server=self.apiserver_url)
        echo(f'kubeconfig: context "{self.name}" in {user} is now current')

    def down(self, echo: Callable[[str], None] = print, purge: bool = False) -> None:
        """Stop every component (kubelets first, etcd last), then remove the nodes' pod
        containers; the state stays unless ``purge``."""
        # The daemons together, then the apiserver, then etcd: each group only
        # needs what comes after it.
        etcd, apiserver = self.control_plane()
        for group in (self.daemons(), [apiserver], [etcd]):
            running = [(c, pid) for c in group if (pid := self.pid(c.name)) is not None]
            _terminate([pid for _, pid in running])
            for comp in group:
                self._pid_file(comp.name).unlink(missing_ok=True)
            for comp, _ in running:
                echo(f"{comp.name}: stopped")
        removed = remove_node_containers(self.node_names())
        if removed is None:
            echo("docker: no engine answers; pod containers (if any) were left alone")
        elif removed:
            echo(f"removed {removed} pod container(s)")
        if purge:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            echo(f"removed {self.data_dir}")

    def status(self) -> list[ComponentState]:
        """Each component: running, stopped (never started or stopped by ``down``) or
        crashed (its pid file is there, its process is not); kubelets with their
        Node's readiness."""
        apiserver_up = self.pid("apiserver") is not None
        found = []
        for comp in self.components():
            pid = self.pid(comp.name)
            if pid is not None:
                state = "running"
            elif self._pid_file(comp.name).exists():
                state = "crashed"
            else:
                state = "stopped"
            ready = self.node_ready(comp.node) if comp.node and apiserver_up else None
            found.append(ComponentState(comp.name, pid, state, self.log_file(comp.name), ready))
        return found


def remove_node_containers(nodes: list[str]) -> int | None:
    """Remove every container the kubelets of ``nodes`` created (by their labels);
    how many, or None when no Docker Engine answers."""
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


def _http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _terminate(pids: list[int], timeout: float = 15.0) -> None:
    """SIGTERM each process group, wait for them all, SIGKILL what is left."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if _alive(pid)]
        if alive:
            time.sleep(0.1)
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)
