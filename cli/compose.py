"""The docker-compose cluster (``deploy/docker-compose.yml``) seen from the host.

``ComposeCluster`` runs the compose command (``docker compose`` where the plugin is
installed, else Debian's ``docker-compose``) for one project, and tells when its nodes
are Ready. ``deploy/compose/up.sh`` (``make compose-up``), the compose tests and
``python -m bench compose`` use it; ``python -m cli.compose up|down|wait|pki`` is what the
scripts call.

The cluster is secure as ``navarch up``'s is (issue 17): ``up`` first makes the
project's PKI on the host (``cli.composepki``, under ``~/.navarch/compose/<project>``,
kept across runs), which the control plane's services mount read-only; TLS on every
hop, client certificates, Node,RBAC. Everything here talks HTTPS as the cluster admin.
The nodes join as hosts do (``navarch join``, issue 18): ``up`` gives them a bootstrap
token and the CA's hash, and registers the token once the apiservers answer.

A Node whose Ready condition is True may be an old record: after ``down``/``up`` the
Node objects in etcd still say Ready until the node lifecycle controller notices the
silence (its grace period is 40 s). So "Ready" here also needs the node's Lease (the
kubelet's heartbeat in ``kube-node-lease``) renewed since a given time.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from apiclient.config import default_kubeconfig_paths, merge_kubeconfig
from cli import addons, composepki, imageload

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "deploy" / "docker-compose.yml"
CONTEXT = composepki.CLUSTER
NODES = composepki.NODES
STATE_ROOT = Path("~/.navarch/compose")
"""Each project's state on the host (its PKI): ``<STATE_ROOT>/<project>``."""
PROJECT_LABEL = "com.docker.compose.project"


def _docker(*args: str, check: bool = True) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def host_networks() -> list[Network]:
    """Every subnet of a Docker network and every route's destination on this host."""
    used: list[Network] = []
    for net_id in _docker("network", "ls", "-q").split():
        inspected = json.loads(_docker("network", "inspect", net_id, check=False) or "[{}]")
        for cfg in ((inspected[0].get("IPAM") or {}).get("Config")) or []:
            with contextlib.suppress(KeyError, ValueError):
                used.append(ipaddress.ip_network(cfg["Subnet"], strict=False))
    routes = subprocess.run(["ip", "-json", "route"], capture_output=True, text=True, check=False)
    for route in json.loads(routes.stdout or "[]"):
        dst = route.get("dst", "default")
        if dst != "default":
            with contextlib.suppress(ValueError):
                used.append(ipaddress.ip_network(dst, strict=False))
    return used


def overlapping(cidr: str) -> list[Network]:
    """The host's networks that overlap ``cidr``. A pod CIDR that does is trouble: the
    host's Docker masquerades its own pod network's source range on every bridge, the
    compose project's included, which breaks pod-to-pod traffic between nodes."""
    wanted = ipaddress.ip_network(cidr, strict=False)
    return [n for n in host_networks() if n.version == wanted.version and n.overlaps(wanted)]


def free_net(first: int = 200) -> str:
    """The first three octets of a ``10.120.x.0/24`` (x from ``first``) that no Docker
    network uses: for a second cluster beside ``make compose-up``'s ``10.120.0``."""
    used = host_networks()
    for third in range(first, 255):
        candidate = ipaddress.ip_network(f"10.120.{third}.0/24")
        if not any(candidate.overlaps(u) for u in used):
            return f"10.120.{third}"
    raise RuntimeError("no free 10.120.x.0/24 left")


COMPOSE_ENV = "NAVARCH_COMPOSE"
"""Which compose to run: ``docker compose`` (v2) or ``docker-compose`` (Debian 12's
1.29); unset, the first of those two that is installed."""


def compose_command() -> list[str]:
    """The compose command line: ``$NAVARCH_COMPOSE`` when set (it must answer), else
    ``docker compose`` when the plugin answers, else ``docker-compose``."""
    chosen = os.environ.get(COMPOSE_ENV, "").split()
    if chosen:
        if chosen not in (["docker", "compose"], ["docker-compose"]):
            raise RuntimeError(
                f"{COMPOSE_ENV}={' '.join(chosen)!r}: 'docker compose' or 'docker-compose'"
            )
        probe = subprocess.run([*chosen, "version"], capture_output=True, check=False)
        if probe.returncode != 0:
            raise RuntimeError(
                f"{COMPOSE_ENV}: `{' '.join(chosen)} version` failed: is it installed?"
            )
        return chosen
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    if probe.returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise RuntimeError(
        "neither `docker compose` nor `docker-compose` is installed (apt-get install docker-compose)"
    )


def build_images(*flavors: str) -> None:
    """``deploy/compose/build-images.sh``: the images of this checkout (cached), by
    default the node's, the control plane's, and the add-ons' (cluster DNS); ``host``
    is the three-host test's (``testkit.hosts``)."""
    done = subprocess.run(
        [
            str(ROOT / "deploy" / "compose" / "build-images.sh"),
            *(flavors or ("node", "cp", "addon")),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHON": sys.executable},
    )
    if done.returncode != 0:
        raise RuntimeError(f"building the compose images failed:\n{done.stderr}")


@dataclass
class ComposeCluster:
    project: str = "navarch"
    api_port: int = 7443
    net: str = "10.120.0"
    """The project bridge's first three octets (``NAVARCH_COMPOSE_NET``)."""
    cluster_cidr: str = "10.244.0.0/16"
    """The pods' addresses (``NAVARCH_COMPOSE_CLUSTER_CIDR``), a /24 per node."""
    compose_file: Path = COMPOSE_FILE
    extra_env: dict[str, str] = field(default_factory=dict)
    state: Path | None = None
    """The project's state on the host (``NAVARCH_COMPOSE_STATE_DIR``; default
    ``~/.navarch/compose/<project>``): its PKI and each service's mount directory."""

    @classmethod
    def from_environment(cls) -> ComposeCluster:
        state = os.environ.get("NAVARCH_COMPOSE_STATE_DIR")
        return cls(
            project=os.environ.get("COMPOSE_PROJECT_NAME", "navarch"),
            api_port=int(os.environ.get("NAVARCH_COMPOSE_API_PORT", "7443")),
            net=os.environ.get("NAVARCH_COMPOSE_NET", "10.120.0"),
            cluster_cidr=os.environ.get("NAVARCH_COMPOSE_CLUSTER_CIDR", "10.244.0.0/16"),
            state=Path(state) if state else None,
        )

    @property
    def state_dir(self) -> Path:
        return (self.state or STATE_ROOT / self.project).expanduser().absolute()

    @property
    def pki_dir(self) -> Path:
        return self.state_dir / "pki"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    @property
    def kubeconfig(self) -> Path:
        """The cluster admin's kubeconfig for this host (written by ``ensure_pki``)."""
        return composepki.admin_kubeconfig(self.state_dir)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "COMPOSE_PROJECT_NAME": self.project,
            "NAVARCH_COMPOSE_API_PORT": str(self.api_port),
            "NAVARCH_COMPOSE_NET": self.net,
            "NAVARCH_COMPOSE_CLUSTER_CIDR": self.cluster_cidr,
            "NAVARCH_COMPOSE_STATE_DIR": str(self.state_dir),
            **self.extra_env,
        }

    def ensure_pki(self, echo: Callable[[str], None] = print) -> composepki.JoinToken:
        """Make (or keep, or renew) the project's PKI, bootstrap token and mount
        directories; the token."""
        return composepki.ensure(self.state_dir, self.net, self.api_port, echo)[1]

    def register_token(
        self,
        token: composepki.JoinToken,
        timeout: float = 180.0,
        echo: Callable[[str], None] = print,
    ) -> None:
        """What ``navarch init`` publishes for joining hosts, here for the nodes, as the
        admin once an apiserver answers through haproxy: the token's Secret (expiring
        when ``token`` does), ``cluster-info`` naming haproxy on the project bridge, their
        RBAC and ``navarch-config`` (``host.publish_join_info``). The nodes' ``navarch
        join`` waits for it (discovery retries until cluster-info is signed)."""
        from cli.bootstrap.host import publish_join_info

        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.client(timeout=5) as api:
                    if api.get("/readyz").status_code == 200:
                        publish_join_info(
                            api, token.token, composepki.in_cluster_server(self.net),
                            (self.pki_dir / "ca.crt").read_bytes(), token.issued,
                            self.cluster_cidr, composepki.SERVICE_CIDR,
                        )  # fmt: skip
                        break
            except (httpx.HTTPError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the apiservers did not answer within {timeout:.0f}s")
            time.sleep(0.25)
        echo(
            f"bootstrap token {token.token.id} registered (expires {token.expires:%Y-%m-%d %H:%M}Z)"
        )

    def ssl_context(self, *, client_cert: bool = True) -> ssl.SSLContext:
        """TLS to the apiservers: their CA, and the admin's certificate unless not
        ``client_cert`` (an anonymous request)."""
        ctx = ssl.create_default_context(cafile=self.pki_dir / "ca.crt")
        if client_cert:
            ctx.load_cert_chain(self.pki_dir / "users/admin.crt", self.pki_dir / "users/admin.key")
        return ctx

    def client(self, timeout: float = 30.0, *, client_cert: bool = True) -> httpx.Client:
        """An HTTPS client to the apiservers through haproxy, as the cluster admin."""
        return httpx.Client(
            base_url=self.server,
            timeout=timeout,
            verify=self.ssl_context(client_cert=client_cert),
        )

    def compose(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the compose command for this project; raise with its output on failure."""
        cmd = [*compose_command(), "-p", self.project, "-f", str(self.compose_file), *args]
        done = subprocess.run(cmd, env=self.env(), capture_output=True, text=True, check=False)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}{done.stderr}")
        return done

    def up(self, echo: Callable[[str], None] = lambda _: None, timeout: float = 180.0) -> None:
        """The PKI and token first (the services mount them), then ``compose up -d``,
        then the token registered (``register_token``) for the nodes to join with."""
        token = self.ensure_pki(echo)
        self.compose("up", "-d")
        self.register_token(token, timeout, echo)

    def install_addons(self, echo: Callable[[str], None] = print) -> bool:
        """Cluster DNS (``cli/addons.py``): its image copied into every node's engine,
        then the add-on applied as the admin; skipped, with a line saying why, when the
        image is not on the host. Whether it was applied."""
        why = addons.missing_reason()
        if why is not None:
            echo(f"dns: not installed: {why}")
            return False
        try:
            imageload.load([addons.ADDON_IMAGE], imageload.node_containers(self.project), echo)
        except imageload.LoadError as err:
            raise RuntimeError(f"dns: {err}") from err
        addons.apply_dns(self.kubeconfig, echo)
        return True

    def down(self, *, volumes: bool = False) -> None:
        self.compose("down", "--remove-orphans", *(["--volumes"] if volumes else []))

    def remove_everything(self) -> None:
        """``down --volumes``, then whatever still carries the project's label, and the
        project's state on the host (its PKI)."""
        with contextlib.suppress(RuntimeError):
            self.down(volumes=True)
        label = f"label={PROJECT_LABEL}={self.project}"
        ids = _docker("ps", "-aq", "--filter", label, check=False).split()
        if ids:
            _docker("rm", "-f", "-v", *ids, check=False)
        for kind in ("volume", "network"):
            names = _docker(kind, "ls", "-q", "--filter", label, check=False).split()
            if names:
                _docker(kind, "rm", *names, check=False)
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def container(self, service: str) -> str:
        """The host's name of ``service``'s container (``docker``/``docker exec`` take it)."""
        ids = self.compose("ps", "-q", service).stdout.split()
        if not ids:
            raise RuntimeError(f"no container for {service} in project {self.project}")
        return ids[0]

    def ready_nodes(self, since: datetime | None = None) -> list[str]:
        """Nodes whose Ready condition is True and, if ``since``, whose Lease was renewed
        after it. Empty when the apiservers do not answer."""
        try:
            with self.client(timeout=3) as client:
                nodes = client.get("/api/v1/nodes").json().get("items") or []
                leases = client.get(
                    "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
                )
                renewed = {
                    (lease.get("metadata") or {}).get("name"): (lease.get("spec") or {}).get(
                        "renewTime"
                    )
                    for lease in (leases.json().get("items") or [])
                }
        except (httpx.HTTPError, ValueError, OSError):
            return []
        found = []
        for node in nodes:
            name = node["metadata"]["name"]
            conditions = (node.get("status") or {}).get("conditions") or []
            if not any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
                continue
            if since is not None and not _after(renewed.get(name), since):
                continue
            found.append(name)
        return sorted(found)

    def wait_ready(
        self, count: int = len(NODES), since: datetime | None = None, timeout: float = 180.0
    ) -> list[str]:
        """Wait until ``count`` nodes are Ready (see ``ready_nodes``); return them."""
        deadline = time.monotonic() + timeout
        while True:
            ready = self.ready_nodes(since)
            if len(ready) >= count:
                return ready
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{count} nodes not Ready within {timeout:.0f}s (Ready: {ready or 'none'})"
                )
            time.sleep(0.25)

    def merge_kubeconfig(self, context: str = CONTEXT) -> Path:
        """Merge a context for this cluster, with the admin's client certificate, into
        the user's kubeconfig, made current."""
        path = default_kubeconfig_paths()[0]
        merge_kubeconfig(path, composepki.admin_document(self.state_dir, self.api_port, context))
        return path


def _after(stamp: str | None, since: datetime) -> bool:
    if not stamp:
        return False
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when >= since


def main(argv: list[str] | None = None) -> int:
    """``python -m cli.compose up|down|wait|pki``, configured by the environment
    (``pki``: only the PKI, token and mount directories, for a compose command run by
    hand; ``wait`` registers the token, then waits for the nodes)."""
    parser = argparse.ArgumentParser(prog="python -m cli.compose")
    parser.add_argument("verb", choices=["up", "down", "wait", "pki"])
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("--volumes", action="store_true", help="down: remove the volumes too")
    args = parser.parse_args(argv)
    cluster = ComposeCluster.from_environment()
    try:
        if args.verb == "down":
            cluster.down(volumes=args.volumes)
            return 0
        if args.verb == "pki":
            cluster.ensure_pki(print)
            print(f"export NAVARCH_COMPOSE_STATE_DIR={cluster.state_dir}")
            return 0
        if args.verb == "wait":  # after a compose up by hand: the nodes need the token
            cluster.register_token(cluster.ensure_pki(print), args.timeout, print)
        # Whole seconds: a lease renewed in the second the wait starts counts.
        since = datetime.now(UTC).replace(microsecond=0)
        started = time.monotonic()
        if args.verb == "up":
            clash = overlapping(cluster.cluster_cidr)
            if clash:
                print(
                    f"warning: the pod CIDR {cluster.cluster_cidr} overlaps this host's "
                    f"{', '.join(map(str, clash))}: pod traffic between nodes may be "
                    "masqueraded or lost; set NAVARCH_COMPOSE_CLUSTER_CIDR to a free range",
                    file=sys.stderr,
                )
            cluster.up(print, args.timeout)
        ready = cluster.wait_ready(len(NODES), since, args.timeout)
    except (RuntimeError, TimeoutError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    took = time.monotonic() - started
    print(f"nodes Ready: {', '.join(ready)} ({took:.1f}s)")
    path = cluster.merge_kubeconfig()
    print(
        f"kubeconfig: context {CONTEXT} ({cluster.server}, user: cluster admin) merged into "
        f"{path}, made current"
    )
    if args.verb == "up":
        try:
            cluster.install_addons(print)
        except RuntimeError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
