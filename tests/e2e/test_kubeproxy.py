"""kube-proxy for real, in each of its modes: a real kubelet runs busybox pods in Docker,
a real controller-manager writes their EndpointSlices and LoadBalancer addresses, and a
real ``navarch proxy`` on this host makes the Services answer, from the host and from
inside a pod.

Safety: before anything is sent to a ClusterIP, node port or load-balancer IP, the
test checks with ``ip route get`` that the address is routed locally
(``netagent.localroutes.stays_local``); ``safe_routes`` routes the service CIDR into
``navarch-svc0`` as ``navarch up`` does, so that a packet no rule catches is dropped
here instead of leaving. Load-balancer IPs are local once kube-proxy serves them.
"""

from __future__ import annotations

import collections
import contextlib
import json
import socket
import struct
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from apiserver.etcd_server import free_port
from netagent import localroutes
from testkit import images
from testkit.kubelets import KubeletProcess, ready, wait_for_pod
from testkit.processes import ApiServerProcess, DaemonProcess, controller_manager, wait_until

pytestmark = pytest.mark.e2e

MODES = ["iptables", "nftables", "userspace"]
SUITE = f"kp-{uuid.uuid4().hex[:6]}"
LB_POOL = "10.122.0.64/28"
SERVICE_CIDR = "10.96.0.0/12"
HOLDER = f"test:{SUITE}"
WEB_PODS = ("web-0", "web-1", "web-2")
REQUESTS = 300


# --- routes ------------------------------------------------------------------------------------


def assert_stays(ip: str) -> None:
    """Refuse to send to ``ip`` unless its route stays on this machine."""
    stays, route = localroutes.stays_local(ip)
    assert stays, f"refusing to send to {ip}: its route leaves the machine: {route}"


@pytest.fixture(scope="module")
def safe_routes() -> Iterator[None]:
    """The service CIDR routed into ``navarch-svc0`` (as ``navarch up`` does), held for
    this module: a packet for a ClusterIP no rule rewrites is swallowed here."""
    localroutes.acquire(HOLDER, SERVICE_CIDR, [])
    try:
        assert_stays("10.96.0.2")
        yield
    finally:
        # Other holders (a running local cluster) keep the route.
        localroutes.release(HOLDER, in_use=lambda _holder: True)


# --- talking to things -------------------------------------------------------------------------


def http_get(ip: str, port: int, timeout: float = 2.0) -> str:
    """The body of ``GET /`` over a new connection (so every request is balanced)."""
    with socket.create_connection((ip, port), timeout=timeout) as conn:
        conn.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    return data.split(b"\r\n\r\n", 1)[-1].decode().strip()


def pod_container(namespace: str, pod: str) -> Any:
    client = images.docker_client()
    labels = [
        f"io.navarch.pod.namespace={namespace}",
        f"io.navarch.pod.name={pod}",
        "io.navarch.container.name=c",
    ]
    found = client.containers.list(filters={"label": labels})
    assert found, f"no container for pod {pod}"
    return found[0]


def pod_sh(namespace: str, pod: str, script: str) -> str:
    result = pod_container(namespace, pod).exec_run(["sh", "-c", script])
    return str(result.output.decode(errors="replace"))


def pod_get(ip: str, port: int) -> str:
    """A shell command printing the body of ``GET /`` (busybox's static wget crashes in
    a scratch image, nc does not); the error line when the connection fails."""
    return f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {ip} {port} 2>&1 | tail -n 1"


def from_pod(namespace: str, ip: str, port: int, count: int, pod: str = "client") -> list[str]:
    script = f"for i in $(seq {count}); do {pod_get(ip, port)}; done"
    return [line.strip() for line in pod_sh(namespace, pod, script).splitlines() if line.strip()]


def assert_even(answers: list[str], backends: tuple[str, ...]) -> None:
    counts = collections.Counter(answers)
    expected = len(answers) / len(backends)
    assert set(counts) == set(backends), counts
    for backend in backends:
        assert abs(counts[backend] - expected) <= 0.3 * expected, counts


def dns_query(name: str, qid: int = 0x1234) -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return (
        struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
        + labels
        + b"\x00"
        + struct.pack(">HH", 1, 1)
    )


class DnsResponder(threading.Thread):
    """Answers every A query with ``answer``: a UDP endpoint pods can reach."""

    def __init__(self, address: str, answer: str) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.answer = socket.inet_aton(answer)
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                query, peer = self.sock.recvfrom(512)
            except TimeoutError:
                continue
            end = query.index(b"\x00", 12) + 5
            header = query[:2] + struct.pack(">HHHHH", 0x8180, 1, 1, 0, 0)
            record = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + self.answer
            self.sock.sendto(header + query[12:end] + record, peer)

    def stop(self) -> None:
        self.stopped.set()
        self.join(2)
        self.sock.close()


# --- the cluster -------------------------------------------------------------------------------


@dataclass
class Workload:
    api: httpx.Client
    namespace: str
    gateway: str
    services: dict[str, dict[str, Any]] = field(default_factory=dict)

    def ip(self, name: str) -> str:
        return str(self.services[name]["spec"]["clusterIP"])

    def node_port(self, name: str) -> int:
        return int(self.services[name]["spec"]["ports"][0]["nodePort"])

    def ingress(self, name: str) -> str | None:
        body = self.api.get(f"/api/v1/namespaces/{self.namespace}/services/{name}").json()
        ingress = ((body.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        return ingress[0].get("ip") if ingress else None


def web_pod(name: str, image: str, labels: dict[str, str]) -> dict[str, Any]:
    script = (
        f"mkdir -p /www && echo {name} > /www/index.html && touch /tmp/ready && "
        "exec httpd -f -p 8080 -h /www"
    )
    return {
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {
                    "name": "c",
                    "image": image,
                    "command": ["sh", "-c", script],
                    "ports": [{"name": "http", "containerPort": 8080}],
                    "readinessProbe": {
                        "exec": {"command": ["cat", "/tmp/ready"]},
                        "periodSeconds": 1,
                        "failureThreshold": 1,
                    },
                }
            ],
        },
    }


def service(name: str, selector: dict[str, str] | None, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"ports": [{"name": "http", "port": 80, "targetPort": "http"}], **spec}
    if selector is not None:
        body["selector"] = selector
    return {"metadata": {"name": name}, "spec": body}


@pytest.fixture(scope="module")
def workload(
    apiserver: ApiServerProcess,
    session_dir: Path,
    node: KubeletProcess,
    test_images: dict[str, str],
    safe_routes: None,
) -> Iterator[Workload]:
    manager = controller_manager(
        apiserver.url, session_dir,
        "--leader-elect-resource-name", f"kcm-{SUITE}",
        "--controllers", "endpointslice,servicelb,garbagecollector",
        "--load-balancer-ip-pool", LB_POOL,
        name="cm-kubeproxy",
    )  # fmt: skip
    manager.start()
    api = apiserver.client(timeout=30)
    namespace = SUITE
    assert api.post("/api/v1/namespaces", json={"metadata": {"name": namespace}}).status_code == 201
    pods = f"/api/v1/namespaces/{namespace}/pods"
    responder: DnsResponder | None = None
    try:
        for name in WEB_PODS:
            labels = {"app": "web", "pod": name}
            body = web_pod(name, test_images["busybox"], labels)
            body["spec"]["nodeName"] = node.node_name
            assert api.post(pods, json=body).status_code == 201
        client = {
            "metadata": {"name": "client"},
            "spec": {
                "nodeName": node.node_name,
                "terminationGracePeriodSeconds": 0,
                "containers": [
                    {"name": "c", "image": test_images["busybox"], "command": ["sleep", "3600"]}
                ],
            },
        }
        assert api.post(pods, json=client).status_code == 201
        for name in (*WEB_PODS, "client"):
            wait_for_pod(api, namespace, name, ready if name != "client" else lambda p: True, 90)
        wait_for_pod(
            api,
            namespace,
            "client",
            lambda p: (p.get("status") or {}).get("phase") == "Running",
            90,
        )
        route = pod_sh(namespace, "client", "ip route show default")
        gateway = route.split("via", 1)[1].split()[0]
        work = Workload(api, namespace, gateway)
        specs = {
            "web": service("web", {"app": "web"}, type="NodePort"),
            "sticky": service(
                "sticky", {"app": "web"}, sessionAffinity="ClientIP",
                sessionAffinityConfig={"clientIP": {"timeoutSeconds": 300}},
            ),
            "empty": service("empty", {"app": "nothing"}),
            "self": service("self", {"pod": "web-0"}),
            "lb": service("lb", {"app": "web"}, type="LoadBalancer"),
            "dns": {"metadata": {"name": "dns"}, "spec": {"ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]}},
        }  # fmt: skip
        for name, spec in specs.items():
            resp = api.post(f"/api/v1/namespaces/{namespace}/services", json=spec)
            assert resp.status_code == 201, resp.text
            work.services[name] = resp.json()
        responder = DnsResponder(gateway, "10.1.2.3")
        responder.start()
        dns_slice = {
            "metadata": {
                "name": "dns-1",
                "labels": {
                    "kubernetes.io/service-name": "dns",
                    "endpointslice.kubernetes.io/managed-by": "test",
                },
            },
            "addressType": "IPv4",
            "endpoints": [{"addresses": [gateway], "conditions": {"ready": True}}],
            "ports": [{"name": "dns", "port": responder.port, "protocol": "UDP"}],
        }
        resp = api.post(
            f"/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices", json=dns_slice
        )
        assert resp.status_code == 201, resp.text
        wait_until(lambda: work.ingress("lb"), 30, what="a load-balancer IP")
        yield work
    finally:
        if responder is not None:
            responder.stop()
        api.delete(f"/api/v1/namespaces/{namespace}")
        api.request("DELETE", pods, params={"gracePeriodSeconds": "0"})
        images.remove_containers(
            {"io.navarch.node": node.node_name, "io.navarch.pod.namespace": namespace}
        )
        api.close()
        manager.stop()


@dataclass
class Proxy:
    mode: str
    process: DaemonProcess
    health_url: str


def leftovers() -> list[str]:
    """What kube-proxy could have left on this host."""
    found = []
    saved = subprocess.run(["iptables-save"], check=False, capture_output=True, text=True).stdout
    ours = ("KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ",
            "KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD", "KUBE-PROXY-FIREWALL", "KUBE-SVC-",
            "KUBE-SEP-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SVL-")  # fmt: skip
    found += [line for line in saved.splitlines() if any(name in line for name in ours)]
    tables = subprocess.run(
        ["nft", "list", "tables"], check=False, capture_output=True, text=True
    ).stdout
    found += [line for line in tables.splitlines() if "kube-proxy" in line]
    link = subprocess.run(
        ["ip", "link", "show", "kube-proxy0"], check=False, capture_output=True, text=True
    )
    if link.returncode == 0:
        found.append("interface kube-proxy0")
    return found


def run_cleanup(session_dir: Path) -> None:
    cleanup = DaemonProcess(
        args=["proxy", "--cleanup"], log_path=session_dir / "kube-proxy-cleanup.log"
    )
    cleanup.start()
    assert cleanup.process is not None
    assert cleanup.process.wait(30) == 0, cleanup.log_tail()


@pytest.fixture(scope="module", params=MODES)
def proxy(request: pytest.FixtureRequest, apiserver: ApiServerProcess, session_dir: Path,
          node: KubeletProcess, workload: Workload) -> Iterator[Proxy]:  # fmt: skip
    mode = request.param
    run_cleanup(session_dir)
    port = free_port()
    process = DaemonProcess(
        args=[
            "proxy", *apiserver.daemon_flags(), "--proxy-mode", mode,
            "--hostname-override", node.node_name,
            "--healthz-bind-address", f"127.0.0.1:{port}",
            "--metrics-bind-address", f"127.0.0.1:{port}",
        ],
        log_path=session_dir / f"kube-proxy-{mode}.log",
    )  # fmt: skip
    process.start()
    health = f"http://127.0.0.1:{port}/healthz"

    def healthy() -> bool:
        if not process.alive():
            raise RuntimeError(f"kube-proxy exited:\n{process.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(health, timeout=1).status_code == 200
        return False

    try:
        wait_until(healthy, 30, what="kube-proxy healthy")
        ip = workload.ip("web")
        assert_stays(ip)
        wait_until(lambda: http_get(ip, 80) in WEB_PODS, 20, what="the web Service answering")
        yield Proxy(mode, process, health)
    finally:
        process.stop()
        if request.node.session.testsfailed:
            print(process.log_tail(30))
        run_cleanup(session_dir)


# --- the tests ----------------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.monotonic()
    return fn(), time.monotonic() - start


def test_cluster_ip_and_node_port_spread_from_the_host(proxy: Proxy, workload: Workload) -> None:
    ip, gateway = workload.ip("web"), workload.gateway
    assert_stays(ip)
    assert_stays(gateway)
    assert_even([http_get(ip, 80) for _ in range(REQUESTS)], WEB_PODS)
    port = workload.node_port("web")
    assert_even([http_get(gateway, port) for _ in range(REQUESTS)], WEB_PODS)


def test_cluster_ip_and_node_port_spread_from_a_pod(proxy: Proxy, workload: Workload) -> None:
    ns = workload.namespace
    assert_even(from_pod(ns, workload.ip("web"), 80, REQUESTS), WEB_PODS)
    assert_even(from_pod(ns, workload.gateway, workload.node_port("web"), REQUESTS), WEB_PODS)


def test_client_ip_affinity_holds(proxy: Proxy, workload: Workload) -> None:
    ip = workload.ip("sticky")
    assert_stays(ip)
    assert len({http_get(ip, 80) for _ in range(30)}) == 1
    answers = from_pod(workload.namespace, ip, 80, 30)
    assert len(set(answers)) == 1 and answers[0] in WEB_PODS


def test_no_endpoints_refuses_at_once(proxy: Proxy, workload: Workload) -> None:
    ip = workload.ip("empty")
    assert_stays(ip)
    start = time.monotonic()
    with pytest.raises(ConnectionRefusedError):
        http_get(ip, 80, timeout=5)
    assert time.monotonic() - start < 1.0
    (answer,), elapsed = timed(lambda: from_pod(workload.namespace, ip, 80, 1))
    assert "refused" in answer.lower() and elapsed < 2.0


def test_udp_service_answers(proxy: Proxy, workload: Workload) -> None:
    ip = workload.ip("dns")
    assert_stays(ip)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(dns_query("test.example"), (ip, 53))
        reply, _ = sock.recvfrom(512)
    assert reply[:2] == b"\x12\x34" and reply.endswith(socket.inet_aton("10.1.2.3"))
    out = pod_sh(workload.namespace, "client", f"nslookup -type=a test.example {ip}")
    assert "10.1.2.3" in out, out


def test_load_balancer_ip_answers(proxy: Proxy, workload: Workload) -> None:
    lb_ip = workload.ingress("lb")
    assert lb_ip is not None
    # kube-proxy makes the address local (on kube-proxy0) once it serves it.
    wait_until(lambda: localroutes.stays_local(lb_ip)[0], 10, what="the load-balancer IP local")
    assert_stays(lb_ip)
    assert {http_get(lb_ip, 80) for _ in range(30)} <= set(WEB_PODS)
    assert set(from_pod(workload.namespace, lb_ip, 80, 10)) <= set(WEB_PODS)


def hairpin_mode(namespace: str, pod: str) -> bool:
    """Whether the host side of the pod's veth has hairpin mode on."""
    index = int(pod_sh(namespace, pod, "cat /sys/class/net/eth0/iflink").strip())
    links = json.loads(
        subprocess.run(
            ["ip", "-j", "link", "show"], check=True, capture_output=True, text=True
        ).stdout
    )
    link = next(x for x in links if x.get("ifindex") == index)
    mode = Path(f"/sys/class/net/{link['ifname']}/brport/hairpin_mode")
    return mode.exists() and mode.read_text().strip() == "1"


def test_hairpin_a_pod_reaches_itself_through_its_service(proxy: Proxy, workload: Workload) -> None:
    # In the kernel modes the DNAT back to the sender is bridged out of the port it came
    # in by: that needs hairpin mode, which the kubelet turns on (docs/network.md).
    if proxy.mode != "userspace" and not hairpin_mode(workload.namespace, "web-0"):
        pytest.skip("hairpin mode is off on the pod's bridge port (the kubelet's to set)")
    ip = workload.ip("self")
    assert from_pod(workload.namespace, ip, 80, 3, pod="web-0") == ["web-0"] * 3


def test_unready_pod_leaves_rotation_within_two_seconds(proxy: Proxy, workload: Workload) -> None:
    ip, victim, ns = workload.ip("web"), "web-2", workload.namespace
    assert_stays(ip)
    pod_sh(ns, victim, "rm /tmp/ready")
    try:
        wait_for_pod(workload.api, ns, victim, lambda p: not ready(p), 30, what="victim unready")
        unready_at = time.monotonic()
        streak: list[float] = []
        deadline = unready_at + 10
        while len(streak) < 20 and time.monotonic() < deadline:
            sent = time.monotonic()
            if http_get(ip, 80) == victim:
                streak.clear()
            else:
                streak.append(sent)
        assert len(streak) == 20, "the unready pod kept getting traffic"
        assert streak[0] - unready_at <= 2.0, f"left rotation {streak[0] - unready_at:.2f}s late"
    finally:
        pod_sh(ns, victim, "touch /tmp/ready")
        wait_for_pod(workload.api, ns, victim, ready, 30, what="victim ready again")
        wait_until(
            lambda: victim in {http_get(ip, 80) for _ in range(15)}, 15, what="back in rotation"
        )


def test_metrics_and_healthz(proxy: Proxy, workload: Workload) -> None:
    health = httpx.get(proxy.health_url, timeout=2)
    assert health.status_code == 200 and "lastUpdated" in health.json()
    text = httpx.get(proxy.health_url.replace("/healthz", "/metrics"), timeout=2).text
    assert "kubeproxy_sync_proxy_rules_duration_seconds_count" in text
    assert "kubeproxy_sync_proxy_rules_last_timestamp_seconds" in text
    assert "kubeproxy_sync_proxy_rules_total{table=" in text


def test_cleanup_leaves_nothing(proxy: Proxy, session_dir: Path) -> None:
    assert leftovers(), "kube-proxy wrote nothing to clean up"
    proxy.process.stop()
    run_cleanup(session_dir)
    assert leftovers() == []
