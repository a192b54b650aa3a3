"""Names inside real pods: the kubelet's resolv.conf and /etc/hosts, `wget http://web`
resolving through ``navarch dns``, and StatefulSet pods by their stable names (slices
from the real EndpointSlice controller).

The module has its own pod network: an *internal* Docker bridge (nothing routes off
it) whose gateway address is this host's; ``navarch dns`` listens on that address at
port 53 (the kubelet's ``--cluster-dns``), forwards to a fake upstream on 127.0.0.1,
and the kubelet's ``--resolv-conf`` is a file of the test's, never the machine's."""

from __future__ import annotations

import contextlib
import random
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker.types
import httpx
import pytest

from testkit import images
from testkit.dnsserver import DnsServerProcess
from testkit.fakedns import FakeUpstream
from testkit.kubelets import KubeletProcess, pod_manifest, ready, running, wait_for_pod
from testkit.processes import (
    ApiServerProcess,
    scheduler_and_controllers,
    wait_until,
)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_IMAGE = "navarch/sample-web:2"


@pytest.fixture(scope="module")
def pod_network() -> Iterator[tuple[str, str, str]]:
    """(name, subnet, gateway) of an internal bridge nobody else uses."""
    name = f"nvdns{uuid.uuid4().hex[:6]}"
    third = random.randrange(256)
    subnet, gateway = f"10.252.{third}.0/24", f"10.252.{third}.1"
    client = images.docker_client()
    try:
        ipam = docker.types.IPAMConfig(
            pool_configs=[docker.types.IPAMPool(subnet=subnet, gateway=gateway)]
        )
        network = client.networks.create(
            name, driver="bridge", internal=True, ipam=ipam, labels={images.TEST_LABEL: "1"},
            options={"com.docker.network.bridge.enable_ip_masquerade": "false"},
        )  # fmt: skip
        yield name, subnet, gateway
    finally:
        with contextlib.suppress(Exception):
            network.remove()
        client.close()


@pytest.fixture(scope="module")
def dns_node(
    apiserver: ApiServerProcess,
    session_dir: Path,
    test_images: dict[str, str],
    pod_network: tuple[str, str, str],
) -> Iterator[tuple[KubeletProcess, str]]:
    """A kubelet whose pods use ``navarch dns`` on the bridge's gateway; (kubelet, gateway)."""
    net, subnet, gateway = pod_network
    subprocess.run([str(ROOT / "deploy" / "build-images.sh")], check=True, capture_output=True)
    upstream = FakeUpstream({"www.example.com.": [("A", "192.0.2.53", 300)]}).start()
    server = DnsServerProcess.create(
        apiserver.url, session_dir, upstream=upstream.address, bind_address=gateway, port=53
    )
    node_resolv = session_dir / f"resolv-{net}.conf"
    node_resolv.write_text(f"nameserver {gateway}\nsearch node.example\noptions timeout:1\n")
    name = f"e2e-dns-{uuid.uuid4().hex[:6]}"
    kubelet = KubeletProcess.create(
        apiserver.url, name, session_dir,
        "--pod-network", net, "--pod-network-cidr", subnet,
        "--cluster-dns", gateway, "--resolv-conf", str(node_resolv),
        runtime="docker",
    )  # fmt: skip
    try:
        server.start()
        kubelet.start()
        yield kubelet, gateway
    finally:
        kubelet.stop()
        images.remove_containers({"io.navarch.node": name})
        httpx.delete(f"{apiserver.url}/api/v1/nodes/{name}", timeout=10, verify=apiserver.verify)
        server.stop()
        upstream.stop()


def run_in(namespace: str, pod: str, *cmd: str) -> tuple[int, str]:
    """Run ``cmd`` in the pod's first container (docker exec); (exit code, output)."""
    client = images.docker_client()
    try:
        found = client.containers.list(filters={"label": [
            f"io.navarch.pod.namespace={namespace}", f"io.navarch.pod.name={pod}",
            "io.navarch.container.kind=app"]})  # fmt: skip
        assert found, f"no running container of {namespace}/{pod}"
        code, out = found[0].exec_run(list(cmd))
        return code, out.decode(errors="replace")
    finally:
        client.close()


def create(api: httpx.Client, ns: str, body: dict[str, Any], kind: str = "pods") -> dict:
    resp = api.post(f"/api/v1/namespaces/{ns}/{kind}", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_pod_files_and_service_names(
    api: httpx.Client, namespace: str, dns_node: tuple[KubeletProcess, str]
) -> None:
    kubelet, gateway = dns_node
    node, ns = kubelet.node_name, namespace
    httpd = images.ensure_httpd_image()
    busybox = images.ensure_busybox_image()
    create(api, ns, {"metadata": {"name": "web"}, "spec": {
        "clusterIP": "None", "selector": {"app": "web"},
        "ports": [{"name": "http", "port": 8080}]}}, "services")  # fmt: skip
    web = pod_manifest("web-0", node, [{"name": "httpd", "image": httpd,
                                        "imagePullPolicy": "Never"}],
                       hostname="web-0", subdomain="web")  # fmt: skip
    web["metadata"]["labels"]["app"] = "web"
    create(api, ns, web)
    sleep = ["sleep", "3600"]
    client = pod_manifest("client", node, [{"name": "c", "image": busybox, "command": sleep,
                                            "imagePullPolicy": "Never"}],
                          hostAliases=[{"ip": "10.1.2.3", "hostnames": ["foo.local", "bar.local"]}])  # fmt: skip
    create(api, ns, client)
    plain = pod_manifest("plain", node, [{"name": "c", "image": busybox, "command": sleep,
                                          "imagePullPolicy": "Never"}], dnsPolicy="Default")  # fmt: skip
    create(api, ns, plain)
    sample = pod_manifest("sample", node, [{"name": "web", "image": SAMPLE_IMAGE,
                                            "imagePullPolicy": "Never"}])  # fmt: skip
    create(api, ns, sample)
    web_ip = wait_for_pod(api, ns, "web-0", running, 90)["status"]["podIP"]
    client_ip = wait_for_pod(api, ns, "client", running, 90)["status"]["podIP"]
    wait_for_pod(api, ns, "plain", running, 90)
    wait_for_pod(api, ns, "sample", running, 90)
    # The EndpointSlice controller is not part of this test: the slice is written here.
    resp = api.post(f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices", json={
        "metadata": {"name": "web-1", "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": [{"addresses": [web_ip], "hostname": "web-0", "conditions": {"ready": True}}],
    })  # fmt: skip
    assert resp.status_code == 201, resp.text

    code, resolv = run_in(ns, "client", "cat", "/etc/resolv.conf")
    assert code == 0 and resolv == (
        f"nameserver {gateway}\n"
        f"search {ns}.svc.cluster.local svc.cluster.local cluster.local node.example\n"
        "options ndots:5\n"
    )
    code, hosts = run_in(ns, "client", "cat", "/etc/hosts")
    assert code == 0
    assert f"{client_ip}\tclient" in hosts.splitlines()
    assert "10.1.2.3\tfoo.local\tbar.local" in hosts.splitlines()
    _, web_hosts = run_in(ns, "web-0", "cat", "/etc/hosts")
    assert f"{web_ip}\tweb-0.web.{ns}.svc.cluster.local\tweb-0" in web_hosts.splitlines()
    _, plain_resolv = run_in(ns, "plain", "cat", "/etc/resolv.conf")
    assert plain_resolv == f"nameserver {gateway}\nsearch node.example\noptions timeout:1\n"

    # Short names through the search path, the stable name, an alias, from two images.
    for pod in ("client", "sample"):
        code, out = run_in(ns, pod, "wget", "-qO-", "http://web:8080/")
        assert (code, out) == (0, "hello from navarch\n"), f"{pod}: {out}"
    code, out = run_in(ns, "client", "wget", "-qO-", f"http://web-0.web.{ns}:8080/")
    assert (code, out) == (0, "hello from navarch\n"), out
    code, out = run_in(ns, "web-0", "wget", "-qO-", "http://web-0.web:8080/healthz")
    assert (code, out) == (0, "ok\n"), out
    code, out = run_in(ns, "client", "wget", "-qO-", "http://nothing-here:8080/")
    assert code == 1 and "bad address" in out  # NXDOMAIN: an error, not a crash (139)


@pytest.fixture(scope="module")
def control(apiserver: ApiServerProcess, session_dir: Path) -> Iterator[None]:
    """The real scheduler and controller-manager (StatefulSet, EndpointSlice controllers)."""
    with scheduler_and_controllers(apiserver.url, session_dir, f"dns-{uuid.uuid4().hex[:6]}"):
        yield


def test_statefulset_pods_by_their_stable_names(
    api: httpx.Client, namespace: str, dns_node: tuple[KubeletProcess, str], control: None
) -> None:
    """Slices written by the EndpointSlice controller from real pods: each StatefulSet
    pod resolves as <pod>.<service>, the Service to the ready pods."""
    kubelet, _ = dns_node
    ns = namespace
    create(api, ns, {"metadata": {"name": "db"}, "spec": {
        "clusterIP": "None", "selector": {"app": "db"},
        "ports": [{"name": "http", "port": 8080}]}}, "services")  # fmt: skip
    resp = api.post(f"/apis/apps/v1/namespaces/{ns}/statefulsets", json={
        "metadata": {"name": "db"},
        "spec": {
            "serviceName": "db", "replicas": 2,
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {
                    "nodeSelector": {"kubernetes.io/hostname": kubelet.node_name},
                    "terminationGracePeriodSeconds": 1,
                    "containers": [{"name": "httpd", "image": images.ensure_httpd_image(),
                                    "imagePullPolicy": "Never"}],
                },
            },
        },
    })  # fmt: skip
    assert resp.status_code == 201, resp.text
    ips = {name: wait_for_pod(api, ns, name, ready, 120)["status"]["podIP"]
           for name in ("db-0", "db-1")}  # fmt: skip
    _, hosts = run_in(ns, "db-1", "cat", "/etc/hosts")
    assert f"{ips['db-1']}\tdb-1.db.{ns}.svc.cluster.local\tdb-1" in hosts.splitlines()

    def resolves() -> bool:
        for name in ("db-0", "db-1"):
            code, out = run_in(ns, "db-0", "wget", "-qO-", f"http://{name}.db:8080/")
            if (code, out) != (0, "hello from navarch\n"):
                return False
        return True

    wait_until(resolves, 30, interval=0.5, what="db-0.db and db-1.db answer by name")
    code, out = run_in(ns, "db-1", "wget", "-qO-", f"http://db.{ns}.svc.cluster.local:8080/")
    assert (code, out) == (0, "hello from navarch\n"), out
