"""The pod network for real, on three kubelets of this host (as ``navarch up`` runs
them) with node IPAM, the scheduler and the network agent:

- a kubelet is NotReady ("network not ready") until its Node has a podCIDR, then
  makes its own bridge for it and becomes Ready;
- a Deployment spread over the three nodes has each pod's IP inside its node's
  podCIDR, unique, in ``status.podIPs``; hairpin mode is on for the sandboxes' ports;
- a pod reaches a pod on another node's bridge by IP over TCP and the receiver sees
  the sender's pod IP (no NAT);
- pod traffic leaving the cluster CIDR is masqueraded (a network namespace of this
  machine plays "outside": nothing is sent anywhere else; routes are checked first);
- the agent routes a (remote) Node's podCIDR via its InternalIP within 5 s and removes
  the route within 5 s of the Node's deletion.

The cluster CIDR is a free /16 of 10.160.0.0/11, so that this never collides with a
real cluster or with tests that share ``navarch0``.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from kubelet.docker_runtime import bridge_name, network_name
from testkit import images
from testkit.kubelets import KubeletProcess
from testkit.network import Outside, free_cluster_cidr, route_is_local
from testkit.processes import ApiServerProcess, DaemonProcess, controller_manager, wait_until
from testkit.testca import verify

pytestmark = pytest.mark.e2e

SUITE = f"pn{uuid.uuid4().hex[:5]}"
NS = "net"

ECHO_IP = (
    "mkdir -p /www/cgi-bin && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\n"
    "echo $REMOTE_ADDR\\n' > /www/cgi-bin/ip && chmod +x /www/cgi-bin/ip && "
    "exec httpd -f -p 8080 -h /www"
)
"""A busybox httpd whose ``/cgi-bin/ip`` answers with the address it sees the request
come from."""


@dataclass
class Cluster:
    url: str
    cidr: str
    nodes: list[str]
    agent: DaemonProcess


def _node(url: str, name: str) -> dict[str, Any]:
    return dict(httpx.get(f"{url}/api/v1/nodes/{name}", timeout=5, verify=verify(url)).json())


def _ready(node: dict[str, Any]) -> dict[str, Any]:
    conds = (node.get("status") or {}).get("conditions") or []
    return next((c for c in conds if c["type"] == "Ready"), {})


@pytest.fixture(scope="module")
def cluster(etcd: str, session_dir: Path, test_images: dict[str, str]) -> Iterator[Cluster]:
    cidr = free_cluster_cidr()
    apiserver = ApiServerProcess.create(etcd, session_dir, "--etcd-prefix", f"/{SUITE}")
    apiserver.start()
    url = apiserver.url
    nodes = [f"{SUITE}-{i}" for i in (1, 2, 3)]
    kubelets = [KubeletProcess.create(url, name, session_dir, node_network=True) for name in nodes]
    manager = controller_manager(
        url, session_dir,
        "--leader-elect-resource-name", f"kcm-{SUITE}",
        "--allocate-node-cidrs", "--cluster-cidr", cidr,
        name=f"{SUITE}-cm",
    )  # fmt: skip
    scheduler = DaemonProcess(
        args=["scheduler", *apiserver.daemon_flags(), "--no-leader-elect"],
        log_path=session_dir / f"{SUITE}-scheduler.log",
    )
    agent = DaemonProcess(
        args=[
            "network-agent", *apiserver.daemon_flags(), "--cluster-cidr", cidr,
            "--service-cluster-ip-range", "", "--sync-period", "2s",
        ],
        log_path=session_dir / f"{SUITE}-agent.log",
    )  # fmt: skip
    procs: list[DaemonProcess] = [*kubelets, manager, scheduler, agent]
    try:
        # No IPAM yet: the kubelet registers its Node and says why it is not Ready.
        DaemonProcess.start(kubelets[0])
        wait_until(
            lambda: "NetworkReady=false" in (_ready(_node(url, nodes[0])).get("message") or ""),
            30, 0.2, what="NotReady for want of a podCIDR",
        )  # fmt: skip
        assert _ready(_node(url, nodes[0]))["status"] == "False"
        for proc in (*kubelets[1:], manager, scheduler, agent):
            DaemonProcess.start(proc)
        for kubelet in kubelets:
            kubelet.wait_ready(60)
        resp = httpx.post(
            f"{url}/api/v1/namespaces", json={"metadata": {"name": NS}}, verify=verify(url)
        )
        assert resp.status_code == 201, resp.text
        yield Cluster(url, cidr, nodes, agent)
    finally:
        for proc in procs:
            proc.stop()
        apiserver.stop()
        for name in nodes:
            images.remove_containers({"io.navarch.node": name})
            images.remove_network(network_name(name))
        subprocess.run(
            ["ip", "route", "del", "blackhole", cidr, "metric", "4000"],
            capture_output=True, check=False,
        )  # fmt: skip
        cleanup = DaemonProcess(
            args=["network-agent", "--cleanup", "--cluster-cidr", cidr],
            log_path=session_dir / f"{SUITE}-cleanup.log",
        )
        cleanup.start()
        assert cleanup.process is not None
        cleanup.process.wait(30)


def _pods(url: str, selector: str) -> list[dict[str, Any]]:
    resp = httpx.get(
        f"{url}/api/v1/namespaces/{NS}/pods", params={"labelSelector": selector}, verify=verify(url)
    )
    return list(resp.json()["items"])


def _deploy_echo(url: str, name: str) -> list[dict[str, Any]]:
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "terminationGracePeriodSeconds": 1,
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "kubernetes.io/hostname",
                            "whenUnsatisfiable": "DoNotSchedule",
                            "labelSelector": {"matchLabels": {"app": name}},
                        }
                    ],
                    "containers": [
                        {
                            "name": "echo",
                            "image": images.BUSYBOX_IMAGE,
                            "imagePullPolicy": "Never",
                            "command": ["sh", "-c", ECHO_IP],
                        }
                    ],
                },
            },
        },
    }
    resp = httpx.post(
        f"{url}/apis/apps/v1/namespaces/{NS}/deployments", json=body, verify=verify(url)
    )
    assert resp.status_code == 201, resp.text

    def running() -> list[dict[str, Any]] | None:
        pods = _pods(url, f"app={name}")
        ok = len(pods) == 3 and all(
            p["status"].get("phase") == "Running" and p["status"].get("podIP") for p in pods
        )
        return pods if ok else None

    found = wait_until(running, 90, 0.3, what=f"three {name} pods Running")
    assert isinstance(found, list)
    return found


def _exec(pod: dict[str, Any], command: list[str]) -> str:
    labels = {
        "io.navarch.pod.name": pod["metadata"]["name"],
        "io.navarch.pod.namespace": NS,
        "io.navarch.container.kind": "app",
    }
    (container,) = images.containers(labels, running_only=True)
    client = images.docker_client()
    try:
        exec_id = client.api.exec_create(str(container["Id"]), command)["Id"]
        output = client.api.exec_start(exec_id)
        code = client.api.exec_inspect(exec_id)["ExitCode"]
    finally:
        client.close()
    text = output.decode(errors="replace") if isinstance(output, bytes) else str(output)
    assert code == 0, f"{command}: exit {code}: {text}"
    return text.strip()


def _wget(pod: dict[str, Any], address: str, port: int = 8080) -> str:
    local, route = route_is_local(address)
    assert local, f"{address} would leave the machine: {route}"
    # busybox nc, not wget: Debian's static busybox wget crashes.
    request = f"printf 'GET /cgi-bin/ip HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {address} {port}"
    response = _exec(pod, ["sh", "-c", request])
    assert response.startswith("HTTP/1.") and " 200 " in response.splitlines()[0], response
    seen = response.splitlines()[-1].strip().strip("[]")  # httpd says [::ffff:a.b.c.d]
    return seen.removeprefix("::ffff:")


def test_each_node_has_its_own_pod_cidr_and_bridge(cluster: Cluster) -> None:
    cidrs = {}
    client = images.docker_client()
    try:
        for name in cluster.nodes:
            spec = _node(cluster.url, name)["spec"]
            cidrs[name] = spec["podCIDR"]
            assert spec["podCIDRs"] == [spec["podCIDR"]]
            (net,) = [n for n in client.api.networks(names=[network_name(name)])
                      if n["Name"] == network_name(name)]  # fmt: skip
            assert [c["Subnet"] for c in net["IPAM"]["Config"]] == [spec["podCIDR"]]
            gateway = str(ipaddress.ip_network(spec["podCIDR"]).network_address + 1)
            assert [c["Gateway"] for c in net["IPAM"]["Config"]] == [gateway]
            options = net["Options"]
            assert options["com.docker.network.bridge.name"] == bridge_name(name)
            assert options["com.docker.network.bridge.enable_ip_masquerade"] == "false"
    finally:
        client.close()
    assert len(set(cidrs.values())) == 3
    cluster_net = ipaddress.ip_network(cluster.cidr)
    assert all(ipaddress.ip_network(c).subnet_of(cluster_net) for c in cidrs.values())  # type: ignore[arg-type]


def test_spread_pods_take_ips_of_their_nodes_and_talk_without_nat(cluster: Cluster) -> None:
    pods = _deploy_echo(cluster.url, "echo")
    by_node = {p["spec"]["nodeName"]: p for p in pods}
    assert set(by_node) == set(cluster.nodes)  # one per node
    ips = [p["status"]["podIP"] for p in pods]
    assert len(set(ips)) == 3
    for node, pod in by_node.items():
        cidr = ipaddress.ip_network(_node(cluster.url, node)["spec"]["podCIDR"])
        assert ipaddress.ip_address(pod["status"]["podIP"]) in cidr
        assert pod["status"]["podIPs"] == [{"ip": pod["status"]["podIP"]}]
        ports = Path("/sys/class/net") / bridge_name(node) / "brif"
        flags = {p.name: (p / "hairpin_mode").read_text().strip() for p in ports.iterdir()}
        assert flags and set(flags.values()) == {"1"}, flags
    # Each pod asks the next node's pod who is calling: its own pod IP, across bridges.
    order = [by_node[n] for n in cluster.nodes]
    for sender, receiver in zip(order, order[1:] + order[:1], strict=True):
        seen = _wget(sender, receiver["status"]["podIP"])
        assert seen == sender["status"]["podIP"], (sender["metadata"]["name"], seen)


def _masq_packets(cidr: str) -> int:
    out = subprocess.run(
        ["iptables", "-w", "5", "-t", "nat", "-L", "POSTROUTING", "-v", "-x", "-n"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    for line in out.splitlines():
        parts = line.split()
        if "NAVARCH-MASQ" in parts and cidr in parts:
            return int(parts[0])
    raise AssertionError(f"no NAVARCH-MASQ jump for {cidr}:\n{out}")


def test_pod_traffic_leaving_the_cluster_is_masqueraded(cluster: Cluster, tmp_path: Path) -> None:
    pods = _pods(cluster.url, "app=echo")
    assert pods, "needs the echo pods of the test before"
    outside = Outside.create(tmp_path)
    try:
        before = _masq_packets(cluster.cidr)
        seen = _wget(pods[0], outside.peer_ip, outside.port)
        assert seen == outside.host_ip  # the host's address on the way out, not the pod's
        assert _masq_packets(cluster.cidr) > before
    finally:
        outside.remove()


def _route(cidr: str) -> list[dict[str, Any]]:
    out = subprocess.run(
        ["ip", "-json", "route", "show", cidr, "proto", "78"],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    return list(json.loads(out or "[]"))


def test_the_agent_routes_a_remote_nodes_pod_cidr_via_its_internal_ip(cluster: Cluster, tmp_path: Path) -> None:  # fmt: skip
    outside = Outside.create(tmp_path)  # the "remote node": an address on a local veth
    name = f"{SUITE}-remote"
    try:
        body = {
            "metadata": {"name": name},
            "status": {"addresses": [{"type": "InternalIP", "address": outside.peer_ip}]},
        }
        resp = httpx.post(f"{cluster.url}/api/v1/nodes", json=body, verify=verify(cluster.url))
        assert resp.status_code == 201, resp.text
        cidr = str(wait_until(lambda: _node(cluster.url, name)["spec"].get("podCIDR"), 20, 0.05))
        assigned = time.monotonic()
        wait_until(lambda: _route(cidr), 5, 0.05, what=f"route to {cidr}")
        assert time.monotonic() - assigned < 5
        (route,) = _route(cidr)
        assert route["gateway"] == outside.peer_ip
        # Deleted behind the agent's back: the next periodic sync puts it back.
        subprocess.run(["ip", "route", "del", cidr, "proto", "78"], check=True)
        wait_until(lambda: _route(cidr), 10, 0.1, what="route restored")
        assert (
            httpx.delete(
                f"{cluster.url}/api/v1/nodes/{name}", verify=verify(cluster.url)
            ).status_code
            == 200
        )
        deleted = time.monotonic()
        wait_until(lambda: not _route(cidr), 5, 0.05, what=f"route to {cidr} removed")
        assert time.monotonic() - deleted < 5
    finally:
        httpx.delete(f"{cluster.url}/api/v1/nodes/{name}", verify=verify(cluster.url))
        outside.remove()
