"""Three machines simulated on this one (issue 18): the AWS user-data's own bootstrap
script runs ``navarch init`` on host 1 and ``navarch join`` on hosts 2 and 3, under
systemd, and the cluster it makes runs a pod on each host with pod-to-pod traffic
between hosts; a joined host restarted as a machine comes back; ``navarch reset`` then
undoes a joined host. The tests run in file order on one cluster.

The hosts are containers of the ``host`` image (``testkit.hosts``: systemd as PID 1,
Debian's Docker Engine as a unit, what the user-data installs on an instance), on a
network of the test's own. The script is ``cli.aws.userdata.render``'s, unchanged; only
``aws`` and ``curl`` are stand-ins (``testkit.hosts``): SSM parameters and the S3 wheel
come from a directory the hosts share, and the instance metadata service is absent (no
public address). The wheel is the one ``navarch aws up`` would upload
(``cli.aws.wheel.build_wheel``); pip installs it offline (``PIP_NO_INDEX``).

Deviation from a real instance, on purpose: the pod CIDR is a free /16 of
``10.160.0.0/11`` (``testkit.network.free_cluster_cidr``) instead of ``10.244.0.0/16``,
which another test's host network may hold at the same time (docs/network.md: the
host's Docker masquerades its own networks' sources, pod traffic between hosts too).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from apiclient.config import load_config
from cli.aws.spec import ADMIN_KUBECONFIG, CA_CERT, ClusterSpec, new_bootstrap_token
from cli.aws.userdata import COMMON_PACKAGES, CONTROL_PLANE_PACKAGES, Install, render
from cli.aws.wheel import build_wheel
from cli.compose import build_images
from testkit import images
from testkit.hosts import STANDIN_BIN, Host, HostSet
from testkit.network import free_cluster_cidr
from testkit.processes import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.compose, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "navtest-wheels"
SERVICE_CIDR = "10.96.0.0/12"
JOIN_RE = re.compile(
    r"navarch join (?P<server>\S+) --token (?P<token>\S+) "
    r"--discovery-token-ca-cert-hash (?P<hash>sha256:[0-9a-f]{64})"
)
STANDIN_ONLY = {"awscli"}
"""What the user-data installs that the host image has a stand-in for instead."""
ECHO_PORT = 8080
ECHO_SCRIPT = (
    "mkdir -p /www/cgi-bin && "
    "printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $REMOTE_ADDR\\n' "
    "> /www/cgi-bin/ip && chmod 755 /www/cgi-bin/ip && "
    f"exec httpd -f -p {ECHO_PORT} -h /www"
)
"""A receiver: answers ``/cgi-bin/ip`` with the address the connection came from."""


@dataclass
class Bootstrapped:
    hosts: HostSet
    spec: ClusterSpec
    token: str
    admin: Path
    """``/etc/navarch/admin.conf`` of host 1, copied out."""
    outputs: dict[str, str] = field(default_factory=dict)
    """Each host's bootstrap output (stdout and stderr), by host name."""

    def client(self) -> httpx.Client:
        config = load_config(self.admin)
        return httpx.Client(base_url=config.server, verify=config.ssl_context(), timeout=30)

    def diagnostics(self) -> str:
        parts = []
        for host in self.hosts:
            units = host.run(
                ["journalctl", "--no-pager", "-n", "60", "-u", "navarch-*"], check=False
            ).stdout
            parts.append(f"--- {host.name} ---\n{units}")
        return "\n".join(parts)


def _env() -> dict[str, str]:
    """What cloud-init's runcmd would give the script, with the stand-ins first, and
    pip kept off any package index (navarch is installed from the wheel alone)."""
    return {
        "PATH": f"{STANDIN_BIN}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "HOME": "/root",
    }


def _bootstrap(host: Host, user_data: str) -> str:
    """Lay down the user-data's script as cloud-init's ``write_files`` would and run its
    ``runcmd``; the combined output, or raise with it."""
    assert user_data.startswith("#cloud-config\n")
    config = yaml.safe_load(user_data)
    (script,) = config["write_files"]
    host.put({script["path"]: (script["content"], int(script["permissions"], 8))})
    (command,) = config["runcmd"]
    done = host.run(command, env=_env(), timeout=300, check=False)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise AssertionError(f"{host.name}: bootstrap exited {done.returncode}:\n{output}")
    return output


@pytest.fixture(scope="module")
def hosts(docker_engine: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostSet]:
    if shutil.which("debootstrap") is None and os.geteuid() != 0:
        pytest.skip("building the host image needs root and debootstrap")
    build_images("host")
    images.ensure_busybox_image()
    with HostSet.create(3, tmp_path_factory.mktemp("hosts")) as found:
        yield found


@pytest.fixture(scope="module")
def cluster(hosts: HostSet, tmp_path_factory: pytest.TempPathFactory) -> Bootstrapped:
    subnet = hosts.subnet
    spec = ClusterSpec(
        name="navtest",
        region="local-1",
        vpc_cidr=str(subnet.supernet(new_prefix=16)),
        subnet_cidr=str(subnet),
        pod_network_cidr=free_cluster_cidr(),
        service_cidr=SERVICE_CIDR,
    )
    assert spec.control_plane_ip == hosts[0].ip, "host 1 is where the user-data puts init"
    # What `navarch aws up` leaves for the instances: the token parameter, the wheel.
    token = new_bootstrap_token()
    (hosts.work / "ssm").mkdir()
    (hosts.work / "ssm" / spec.token_parameter.replace("/", "_")).write_text(token)
    wheel = build_wheel(tmp_path_factory.mktemp("wheel"))
    key = f"wheels/{wheel.name}"
    (hosts.work / "s3" / BUCKET / "wheels").mkdir(parents=True)
    shutil.copy2(wheel, hosts.work / "s3" / BUCKET / key)
    install = Install(bucket=BUCKET, key=key)

    found = Bootstrapped(hosts, spec, token, tmp_path_factory.mktemp("admin") / "admin.conf")
    failed = ""
    try:
        found.outputs[hosts[0].name] = _bootstrap(hosts[0], render(spec, 1, install))
        with ThreadPoolExecutor(2) as pool:
            joined = {
                host.name: pool.submit(_bootstrap, host, render(spec, host.index, install))
                for host in hosts.hosts[1:]
            }
            for name, future in joined.items():
                found.outputs[name] = future.result()
    except AssertionError as err:
        failed = str(err)
    if failed:
        pytest.fail(f"{failed}\n{found.diagnostics()}", pytrace=False)
    found.admin.write_bytes(hosts[0].read(ADMIN_KUBECONFIG))
    found.admin.chmod(0o600)
    return found


def test_the_hosts_have_what_the_user_data_installs(hosts: HostSet) -> None:
    """The image stands in for an instance after cloud-init's ``packages``: every
    package of the rendered user-data is installed (the AWS CLI has a stand-in)."""
    wanted = sorted(set(COMMON_PACKAGES + CONTROL_PLANE_PACKAGES) - STANDIN_ONLY)
    done = hosts[0].run(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\\n", *wanted])
    installed = {
        line.split()[0] for line in done.stdout.splitlines() if line.endswith(" installed")
    }
    assert installed == set(wanted)
    assert hosts[0].run(["readlink", "/proc/1/exe"]).stdout.strip().endswith("systemd")


def test_init_prints_a_join_command_without_the_token(cluster: Bootstrapped) -> None:
    first = cluster.hosts[0]
    output = cluster.outputs[first.name]
    assert cluster.token not in output
    found = JOIN_RE.search(output)
    assert found is not None, output
    assert found["server"] == f"{first.ip}:6443"
    assert found["token"] == "<bootstrap-token>"
    published = cluster.hosts.work / "ssm" / cluster.spec.ca_hash_parameter.replace("/", "_")
    assert found["hash"] == published.read_text().strip()
    # The hash is kubeadm's: SHA-256 of the CA's DER SubjectPublicKeyInfo.
    ca = x509.load_pem_x509_certificate(first.read(CA_CERT))
    spki = ca.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    assert found["hash"] == "sha256:" + hashlib.sha256(spki).hexdigest()
    for host in cluster.hosts.hosts[1:]:
        assert cluster.token not in cluster.outputs[host.name]
        assert "joined" in cluster.outputs[host.name]


def _nodes(api: httpx.Client) -> dict[str, dict[str, Any]]:
    response = api.get("/api/v1/nodes")
    response.raise_for_status()
    return {n["metadata"]["name"]: n for n in response.json()["items"]}


def _ready(node: dict[str, Any]) -> bool:
    conditions = node.get("status", {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def test_three_nodes_ready_with_distinct_pod_cidrs(cluster: Bootstrapped) -> None:
    names = {host.name for host in cluster.hosts}
    with cluster.client() as api:

        def all_ready() -> bool:
            nodes = _nodes(api)
            return names <= nodes.keys() and all(
                _ready(nodes[n]) and nodes[n]["spec"].get("podCIDR") for n in names
            )

        try:
            wait_until(all_ready, timeout=120, interval=1)
        except TimeoutError:
            pytest.fail(f"nodes: {_nodes(api)}\n{cluster.diagnostics()}", pytrace=False)
        nodes = _nodes(api)
    cidrs = [nodes[n]["spec"]["podCIDR"] for n in sorted(names)]
    assert len(set(cidrs)) == 3
    pods = ipaddress.ip_network(cluster.spec.pod_network_cidr)
    assert all(ipaddress.ip_network(c).subnet_of(pods) for c in cidrs)  # type: ignore[arg-type]
    for host in cluster.hosts:
        addresses = nodes[host.name]["status"]["addresses"]
        assert {"type": "InternalIP", "address": host.ip} in addresses


def _load_images(hosts: HostSet) -> None:
    """``navarch image load`` into every host's engine (the hosts carry the compose
    node labels of a project named after the set)."""
    done = subprocess.run(
        [sys.executable, "-m", "cli.navarch", "image", "load", "--project", hosts.name,
         images.BUSYBOX_IMAGE],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("loaded") == len(hosts), done.stdout


def _pod(name: str, node: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "echo"}},
        "spec": {
            "nodeName": node,
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {
                    "name": "echo",
                    "image": images.BUSYBOX_IMAGE,
                    "imagePullPolicy": "Never",
                    "command": ["sh", "-c", ECHO_SCRIPT],
                }
            ],
        },
    }


def _peer(text: str) -> str:
    """httpd's ``REMOTE_ADDR`` (``[::ffff:10.0.0.2]``: it listens on IPv6) as IPv4."""
    address = ipaddress.ip_address(text.strip().strip("[]"))
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def _pod_container(host: Host, pod: str) -> str:
    ids = host.run(
        ["docker", "ps", "-q", "--filter", f"label=io.navarch.pod.name={pod}",
         "--filter", "label=io.navarch.container.name=echo"],
    ).stdout.split()  # fmt: skip
    assert len(ids) == 1, f"{host.name}: containers of {pod}: {ids}"
    return ids[0]


def _peer_seen(sender: Host, pod: str, target: str, timeout: float = 30) -> str:
    """From ``pod``'s container on ``sender``, ask the receiver at ``target`` who is
    calling: the source address it saw (retried until the deadline)."""
    container = _pod_container(sender, pod)

    def seen() -> str | None:
        # No wget -T: Debian's static busybox crashes on it; run's timeout bounds it.
        done = sender.run(
            ["docker", "exec", container, "wget", "-q", "-O", "-",
             f"http://{target}:{ECHO_PORT}/cgi-bin/ip"],
            check=False, timeout=20,
        )  # fmt: skip
        return _peer(done.stdout) if done.returncode == 0 else None

    return cast(str, wait_until(seen, timeout=timeout, interval=0.5))


def test_a_pod_on_each_host_reaches_the_next_hosts_pod(cluster: Bootstrapped) -> None:
    hosts = cluster.hosts
    _load_images(hosts)
    names = [f"echo-{host.index}" for host in hosts]
    with cluster.client() as api:
        for host, name in zip(hosts, names, strict=True):
            response = api.post("/api/v1/namespaces/default/pods", json=_pod(name, host.name))
            assert response.status_code == 201, response.text

        def pod_ips() -> dict[str, str] | None:
            ips = {}
            for name in names:
                pod = api.get(f"/api/v1/namespaces/default/pods/{name}").json()
                status = pod.get("status", {})
                if status.get("phase") != "Running" or not status.get("podIP"):
                    return None
                ips[name] = status["podIP"]
            return ips

        try:
            ips = cast(dict[str, str], wait_until(pod_ips, timeout=120, interval=1))
        except TimeoutError:
            listed = api.get("/api/v1/namespaces/default/pods").json()["items"]
            statuses = {p["metadata"]["name"]: p.get("status") for p in listed}
            pytest.fail(f"pods not running: {statuses}\n{cluster.diagnostics()}", pytrace=False)
    assert len(set(ips.values())) == 3
    for i, sender in enumerate(hosts):
        receiver = hosts[(i + 1) % len(hosts)]
        source, target = ips[names[i]], ips[names[(i + 1) % len(hosts)]]
        # host-gw: the receiver's pod CIDR is routed via the receiver host's address,
        # on the hosts' own network (nothing goes to a gateway).
        route = sender.run(["ip", "route", "get", target]).stdout
        assert f"via {receiver.ip} dev eth0" in route, route
        assert _peer_seen(sender, names[i], target) == source


def test_a_rebooted_host_comes_back(cluster: Bootstrapped) -> None:
    """The units init/join enabled start at boot: a joined host restarted as a machine
    is Ready again (a heartbeat after the reboot) and runs its pod again, reachable
    from the first host's pod."""
    hosts = cluster.hosts
    second = hosts[1]
    with cluster.client() as api:
        before = api.get("/api/v1/namespaces/default/pods/echo-2").json()["metadata"]["uid"]
        hosts.reboot(second)
        booted_at = second.run(["date", "-u", "+%Y-%m-%dT%H:%M:%S"]).stdout.strip()

        def back() -> str | None:
            lease = api.get(
                f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{second.name}"
            )
            renewed = (
                lease.json().get("spec", {}).get("renewTime", "")
                if lease.status_code == 200
                else ""
            )
            pod = api.get("/api/v1/namespaces/default/pods/echo-2").json()
            status = pod.get("status", {})
            running = status.get("phase") == "Running" and all(
                c.get("ready") for c in status.get("containerStatuses") or [{}]
            )
            fresh = renewed[:19] >= booted_at
            ready = _ready(_nodes(api)[second.name])
            return status.get("podIP") if running and fresh and ready else None

        try:
            target = cast(str, wait_until(back, timeout=120, interval=1))
        except TimeoutError:
            pytest.fail(f"{second.name} did not come back\n{cluster.diagnostics()}", pytrace=False)
        assert api.get("/api/v1/namespaces/default/pods/echo-2").json()["metadata"]["uid"] == before
        source = api.get("/api/v1/namespaces/default/pods/echo-1").json()["status"]["podIP"]
    assert _peer_seen(hosts[0], "echo-1", target) == source


def test_reset_undoes_a_joined_host(cluster: Bootstrapped) -> None:
    last = cluster.hosts[2]
    last.run(["navarch", "reset"], timeout=120)
    units = last.run(
        ["systemctl", "list-units", "--all", "--plain", "--no-legend", "navarch-*"]
    ).stdout
    assert units.strip() == "", units
    leftovers = last.sh("ls -d /etc/systemd/system/navarch-* /etc/navarch 2>/dev/null || true")
    assert leftovers.strip() == ""
    pods = last.run(["docker", "ps", "-aq", "--filter", "label=io.navarch.managed=true"]).stdout
    assert pods.strip() == ""
    routes = last.run(["ip", "route", "show", "proto", "78"]).stdout
    assert routes.strip() == ""
    # Nor the local routes that kept service and pod addresses on the machine.
    assert last.run(["ip", "link", "show", "navarch-svc0"], check=False).returncode != 0
    blackholes = last.run(["ip", "route", "show", "type", "blackhole"]).stdout
    assert cluster.spec.pod_network_cidr not in blackholes
    networks = last.run(["docker", "network", "ls", "--format", "{{.Name}}"]).stdout.split()
    assert sorted(networks) == ["bridge", "host", "none"]
    rules = last.run(["iptables-save"]).stdout
    assert not [line for line in rules.splitlines() if "KUBE-" in line or "NAVARCH-" in line]
    # The other two go on without it: its Node stays (as kubeadm's reset leaves it).
    with cluster.client() as api:
        nodes = _nodes(api)
    assert all(_ready(nodes[h.name]) for h in cluster.hosts.hosts[:2])
