"""The docker-compose cluster for real: deploy/docker-compose.yml under a project of its
own (a unique name, a free /24 for its bridge, a free port for haproxy), its images
built once by deploy/compose/build-images.sh (cached across sessions), and everything
the project made (containers, volumes, network) removed afterwards.

Run with Debian 12's docker-compose 1.29 (test_compose_v2.py: Docker Compose v2). One
cluster serves the module; the tests run in file order, and each leaves the
cluster as it found it (the failure test starts what it stopped).
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import re
import shutil
import ssl
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from cli.compose import NODES, ComposeCluster
from netagent import localroutes
from testkit import dockerengine, images
from testkit.processes import wait_until
from tests.e2e.composekit import new_namespace, node_cidrs, pinned_pod, started_cluster

pytestmark = [pytest.mark.e2e, pytest.mark.compose, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
V1 = "docker-compose"


def _docker(*args: str, check: bool = True) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


@pytest.fixture(scope="module")
def cluster(docker_engine: None) -> Iterator[ComposeCluster]:
    if shutil.which("debootstrap") is None and os.geteuid() != 0:
        pytest.skip("building the compose images needs root and debootstrap")
    # Debian 12's docker-compose 1.29 (what ensure-tools installs) for the whole suite;
    # test_compose_v2.py runs a cluster's life under v2.
    with started_cluster("navtest", V1) as found:
        assert found.install_addons(), "cluster DNS was not installed"
        yield found


@pytest.fixture(scope="module")
def api(cluster: ComposeCluster) -> Iterator[httpx.Client]:
    """HTTPS through haproxy as the cluster admin (the project's PKI on the host)."""
    with cluster.client(timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def loaded(cluster: ComposeCluster) -> dict[str, str]:
    """The test images, built on the host and copied into every node by navarch image load."""
    names = {"busybox": images.ensure_busybox_image(), "httpd": images.ensure_httpd_image()}
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "navarch"), "image", "load", *names.values()],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COMPOSE_PROJECT_NAME": cluster.project},
    )
    assert done.returncode == 0, done.stderr
    for node in NODES:
        assert f"{node}: loaded" in done.stdout
    return names


@pytest.fixture
def ns(api: httpx.Client) -> Iterator[str]:
    name = new_namespace(api)
    yield name
    api.delete(f"/api/v1/namespaces/{name}")


def _host(*argv: str) -> str:
    return subprocess.run(list(argv), capture_output=True, text=True, check=True).stdout


def _pods(api: httpx.Client, ns: str, selector: str) -> list[dict[str, Any]]:
    resp = api.get(f"/api/v1/namespaces/{ns}/pods", params={"labelSelector": selector})
    return list(resp.json()["items"])


def _running(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and bool(status.get("podIP"))


def _running_since(pod: dict[str, Any], since: datetime) -> bool:
    """Running, and every container (re)started at or after ``since``."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    for status in statuses:
        started = ((status.get("state") or {}).get("running") or {}).get("startedAt")
        if not started or datetime.fromisoformat(started.replace("Z", "+00:00")) < since:
            return False
    return bool(statuses) and _running(pod)


# --- the tests, in the order they run -----------------------------------------------------


def test_image_load_warns_when_a_pod_would_still_pull(cluster: ComposeCluster) -> None:
    images.ensure_busybox_image()
    _docker("tag", images.BUSYBOX_IMAGE, "navarch-test/busybox:latest")
    try:
        done = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "navarch"), "image", "load",
             "navarch-test/busybox:latest", "--nodes", "node-2"],
            capture_output=True, text=True, check=False,
            env={**os.environ, "COMPOSE_PROJECT_NAME": cluster.project},
        )  # fmt: skip
    finally:
        _docker("rmi", "navarch-test/busybox:latest", check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "node-2: loaded navarch-test/busybox:latest"
    assert "tagged ':latest'" in done.stderr and "imagePullPolicy" in done.stderr
    inner = _docker("exec", cluster.container("node-2"), "docker", "images", "-q",
                    "navarch-test/busybox:latest")  # fmt: skip
    assert inner.strip(), "the image is not in node-2's engine"
    inner_other = _docker("exec", cluster.container("node-1"), "docker", "images", "-q",
                          "navarch-test/busybox:latest")  # fmt: skip
    assert not inner_other.strip(), "--nodes node-2 loaded node-1 too"


def test_the_cluster_is_secure_by_default(cluster: ComposeCluster, api: httpx.Client) -> None:
    """TLS with the project's CA, and nothing without credentials: an anonymous request
    is refused, and etcd does not even finish a handshake without a client certificate
    (it does with the health-check client's)."""
    assert api.get("/api/v1/nodes").status_code == 200
    with cluster.client(timeout=10, client_cert=False) as anonymous:
        assert anonymous.get("/api/v1/nodes").status_code in (401, 403)
        assert anonymous.get("/api/v1/namespaces/kube-system/secrets").status_code in (401, 403)
    try:  # plain HTTP: refused (a closed connection, or Kubernetes' 400)
        plain: int | None = httpx.get(
            f"http://127.0.0.1:{cluster.api_port}/api/v1/nodes"
        ).status_code
    except httpx.HTTPError:
        plain = None
    assert plain in (None, 400)
    etcd_ca = cluster.pki_dir / "etcd" / "ca.crt"
    member = f"https://{cluster.net}.3:2379/health"
    with pytest.raises(httpx.HTTPError):  # the handshake fails: no certificate
        httpx.get(member, timeout=10, verify=ssl.create_default_context(cafile=etcd_ca))
    with_cert = ssl.create_default_context(cafile=etcd_ca)
    with_cert.load_cert_chain(
        cluster.pki_dir / "etcd" / "healthcheck-client.crt",
        cluster.pki_dir / "etcd" / "healthcheck-client.key",
    )
    assert httpx.get(member, timeout=10, verify=with_cert).status_code == 200
    # The PKI on the host is private to its owner.
    for path in [cluster.state_dir, *cluster.state_dir.rglob("*")]:
        assert path.stat().st_mode & 0o077 == 0, path


CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"
SERVING_SIGNER = "kubernetes.io/kubelet-serving"


def _issued_by_approved_csrs(api: httpx.Client) -> dict[bytes, list[dict[str, Any]]]:
    """Each certificate (DER) an approved CSR was issued, with the CSRs."""
    from cryptography import x509

    found: dict[bytes, list[dict[str, Any]]] = {}
    for csr in api.get("/apis/certificates.k8s.io/v1/certificatesigningrequests").json()["items"]:
        status = csr.get("status") or {}
        approved = any(
            c.get("type") == "Approved" and c.get("status") == "True"
            for c in status.get("conditions") or []
        )
        if approved and status.get("certificate"):
            pem = base64.b64decode(status["certificate"])
            der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
            found.setdefault(der, []).append(csr)
    return found


def test_each_node_joined_with_certificates_from_approved_csrs(
    cluster: ComposeCluster, api: httpx.Client
) -> None:
    """navarch join's TLS bootstrap: the certificate each kubelet uses as its client is
    one an approved kube-apiserver-client-kubelet CSR (asked for with the bootstrap
    token) was issued, its serving certificate one of an approved kubelet-serving CSR;
    both name the node and chain to the cluster CA."""
    from cryptography import x509

    ca = x509.load_pem_x509_certificate((cluster.pki_dir / "ca.crt").read_bytes())
    issued = _issued_by_approved_csrs(api)
    for node in NODES:
        for kind, signer in (("client", CLIENT_SIGNER), ("server", SERVING_SIGNER)):
            text = _docker("exec", cluster.container(node), "cat",
                           f"/var/lib/navarch/kubelet/pki/kubelet-{kind}-current.pem")  # fmt: skip
            block = re.search(
                r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", text, re.S
            )
            assert block is not None, (node, kind)
            cert = x509.load_pem_x509_certificate(block.group(0).encode())
            der = cert.public_bytes(serialization.Encoding.DER)
            signers = {c["spec"]["signerName"] for c in issued.get(der, [])}
            assert signer in signers, (node, kind, signers)
            cert.verify_directly_issued_by(ca)
            cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
            assert cn == f"system:node:{node}"
        # Its first client certificate was asked for with the bootstrap token.
        requesters = {
            c["spec"]["username"]
            for csrs in issued.values()
            for c in csrs
            if c["spec"]["signerName"] == CLIENT_SIGNER
        }
        assert any(r.startswith("system:bootstrap:") for r in requesters), requesters


def test_the_nodes_get_no_private_key_from_the_host(cluster: ComposeCluster) -> None:
    """What the host bind-mounts into a node holds no private key: only the bootstrap
    token and the CA's hash (the node's keys are made on the node); nothing of the
    host is mounted where join writes (/etc/navarch/pki)."""
    for node in NODES:
        mounts = json.loads(_docker("inspect", cluster.container(node)))[0]["Mounts"]
        binds = {m["Destination"]: Path(m["Source"]) for m in mounts if m["Type"] == "bind"}
        assert set(binds) == {"/sys/fs/cgroup", "/etc/navarch-join"}, binds
        join_dir = binds["/etc/navarch-join"]
        assert sorted(p.name for p in join_dir.iterdir()) == ["ca-cert-hash", "token"]
        for path in join_dir.iterdir():
            assert b"PRIVATE KEY" not in path.read_bytes(), path
        token = (join_dir / "token").read_text().strip()
        assert not any(m["Destination"].startswith("/etc/navarch/pki") for m in mounts)
        inside = _docker("exec", cluster.container(node), "grep", "-rl", token, "/etc/navarch",
                         check=False)  # fmt: skip
        # The token's copy (bootstrap-kubelet.conf) went once the kubelet had its own.
        assert inside.strip() == "", inside


def test_the_kubernetes_service_lists_both_apiservers(
    cluster: ComposeCluster, api: httpx.Client
) -> None:
    def ips() -> list[str]:
        ep = api.get("/api/v1/namespaces/default/endpoints/kubernetes").json()
        return [a["ip"] for s in ep.get("subsets") or [] for a in s.get("addresses") or []]

    wait_until(lambda: ips() == [f"{cluster.net}.6", f"{cluster.net}.7"], 30, 0.5, "both")


def test_three_nodes_ready_with_distinct_pod_cidrs(
    cluster: ComposeCluster, api: httpx.Client
) -> None:
    cidrs = wait_until(lambda: (c := node_cidrs(api)) and all(c.values()) and c, 60, 0.5)
    assert sorted(cidrs) == list(NODES)  # type: ignore[call-overload]
    nets = [ipaddress.ip_network(c) for c in cidrs.values()]  # type: ignore[attr-defined]
    assert len(set(nets)) == 3
    assert all(n.subnet_of(ipaddress.ip_network(cluster.cluster_cidr)) for n in nets)  # type: ignore[arg-type]


def test_a_spread_deployment_has_pod_ips_in_each_nodes_pod_cidr(
    api: httpx.Client, loaded: dict[str, str], ns: str
) -> None:
    labels = {"app": "spread"}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "spread"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "terminationGracePeriodSeconds": 1,
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "kubernetes.io/hostname",
                            "whenUnsatisfiable": "DoNotSchedule",
                            "labelSelector": {"matchLabels": labels},
                        }
                    ],
                    "containers": [
                        {"name": "web", "image": loaded["httpd"], "imagePullPolicy": "Never"}
                    ],
                },
            },
        },
    }
    resp = api.post(f"/apis/apps/v1/namespaces/{ns}/deployments", json=deployment)
    assert resp.status_code == 201, resp.text
    pods = wait_until(
        lambda: (p := _pods(api, ns, "app=spread")) and len(p) == 3 and all(map(_running, p)) and p,
        120, 0.5, "three Running pods",
    )  # fmt: skip
    cidrs = node_cidrs(api)
    nodes = set()
    for pod in pods:  # type: ignore[attr-defined]
        node = pod["spec"]["nodeName"]
        nodes.add(node)
        ip = ipaddress.ip_address(pod["status"]["podIP"])
        assert ip in ipaddress.ip_network(cidrs[node]), (pod["metadata"]["name"], ip, cidrs)
        assert [p["ip"] for p in pod["status"]["podIPs"]] == [str(ip)]
    assert nodes == set(NODES)


def test_a_pod_reaches_a_pod_on_another_node_and_is_seen_by_its_own_ip(
    api: httpx.Client, loaded: dict[str, str], ns: str
) -> None:
    # busybox httpd runs the CGI script with REMOTE_ADDR set: the server answers with
    # the address it sees the client at.
    script = (
        "mkdir -p /www/cgi-bin && printf '#!/bin/sh\\necho Content-Type: text/plain\\n"
        "echo\\necho peer=$REMOTE_ADDR\\n' > /www/cgi-bin/ip && chmod +x /www/cgi-bin/ip "
        "&& exec httpd -f -p 8080 -h /www"
    )
    server = pinned_pod(
        "server", loaded["busybox"], ["sh", "-c", script], "node-1", {"role": "server"}
    )
    assert api.post(f"/api/v1/namespaces/{ns}/pods", json=server).status_code == 201
    up = wait_until(lambda: (p := _pods(api, ns, "role=server")) and _running(p[0]) and p[0], 60)
    server_ip = up["status"]["podIP"]  # type: ignore[index]
    request = "printf 'GET /cgi-bin/ip HTTP/1.0\\r\\n\\r\\n'"
    client = pinned_pod(
        "client", loaded["busybox"],
        ["sh", "-c", f"until {request} | nc {server_ip} 8080; do sleep 0.2; done; sleep 3600"],
        "node-3", {"role": "client"},
    )  # fmt: skip
    assert api.post(f"/api/v1/namespaces/{ns}/pods", json=client).status_code == 201
    running = wait_until(
        lambda: (p := _pods(api, ns, "role=client")) and _running(p[0]) and p[0], 60
    )
    client_ip = running["status"]["podIP"]  # type: ignore[index]

    def answer() -> str:
        return api.get(f"/api/v1/namespaces/{ns}/pods/client/log").text

    wait_until(lambda: "peer=" in answer(), 60, 0.5, "the server's answer")
    # httpd listens on an IPv6 socket: an IPv4 peer shows as [::ffff:a.b.c.d].
    seen = answer().split("peer=", 1)[1].split()[0].strip("[]").removeprefix("::ffff:")
    assert seen == client_ip


def test_service_names_resolve_in_pods_through_cluster_dns(
    api: httpx.Client, loaded: dict[str, str], ns: str
) -> None:
    """The DNS add-on that compose up installs: its pods ready behind kube-dns, and a pod
    on one node reaches a Service by its short name (search path, kube-dns at
    10.96.0.10 through the node's kube-proxy) on another node."""
    dns = "/apis/apps/v1/namespaces/kube-system/deployments/navarch-dns"
    wait_until(
        lambda: (api.get(dns).json().get("status") or {}).get("availableReplicas") == 2,
        120, 0.5, "navarch-dns available",
    )  # fmt: skip
    script = "mkdir -p /www && echo named-ok > /www/index.html && exec httpd -f -p 8080 -h /www"
    server = pinned_pod(
        "named", loaded["busybox"], ["sh", "-c", script], "node-1", {"app": "named"}
    )
    assert api.post(f"/api/v1/namespaces/{ns}/pods", json=server).status_code == 201
    service = {
        "metadata": {"name": "named-web"},
        "spec": {"selector": {"app": "named"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    assert api.post(f"/api/v1/namespaces/{ns}/services", json=service).status_code == 201
    # Each try bounded by `timeout` (Debian's static busybox wget crashes with its own
    # -T): a try made before this node's kube-proxy has the new Service waits for an
    # answer that never comes (the SYN to the ClusterIP is swallowed, never routed out).
    fetch = "until timeout 5 wget -qO- http://named-web/; do sleep 0.5; done; sleep 3600"
    client = pinned_pod("asker", loaded["busybox"], ["sh", "-c", fetch], "node-3", {"app": "asker"})
    assert api.post(f"/api/v1/namespaces/{ns}/pods", json=client).status_code == 201
    wait_until(
        lambda: "named-ok" in api.get(f"/api/v1/namespaces/{ns}/pods/asker/log").text,
        120, 0.5, "the Service reached by name",
    )  # fmt: skip


def test_a_load_balancer_service_answers_from_the_host_on_the_compose_bridge(
    cluster: ComposeCluster, api: httpx.Client, loaded: dict[str, str], ns: str
) -> None:
    """A LoadBalancer Service gets an EXTERNAL-IP from the pool on the project bridge;
    exactly one node claims it (the address on its bridge interface, answering ARP),
    and the host reaches the Service there, by the bridge, not by any gateway."""
    script = "mkdir -p /www && echo lb-ok > /www/index.html && exec httpd -f -p 8080 -h /www"
    server = pinned_pod(
        "lb-web", loaded["busybox"], ["sh", "-c", script], "node-2", {"app": "lb-web"}
    )
    assert api.post(f"/api/v1/namespaces/{ns}/pods", json=server).status_code == 201
    service = {
        "metadata": {"name": "lb-web"},
        "spec": {
            "type": "LoadBalancer",
            "selector": {"app": "lb-web"},
            "ports": [{"port": 80, "targetPort": 8080}],
        },
    }
    assert api.post(f"/api/v1/namespaces/{ns}/services", json=service).status_code == 201

    def ingress() -> str | None:
        status = api.get(f"/api/v1/namespaces/{ns}/services/lb-web").json().get("status") or {}
        found = (status.get("loadBalancer") or {}).get("ingress") or []
        return found[0].get("ip") if found else None

    ip = wait_until(ingress, 60, 0.5, "an EXTERNAL-IP")
    assert isinstance(ip, str)
    assert ipaddress.ip_address(ip) in ipaddress.ip_network(f"{cluster.net}.64/26")

    # Network rule: the packet must stay on this machine. The route to the address is
    # the compose bridge's own (the device holding the project's gateway .1), no gateway.
    (bridge,) = json.loads(_host("ip", "-j", "-4", "addr", "show", "to", f"{cluster.net}.1/32"))
    route = json.loads(_host("ip", "-j", "route", "get", ip))[0]
    assert route.get("dev") == bridge["ifname"] and "gateway" not in route, route
    stays, why = localroutes.stays_local(ip)
    assert stays, why

    def claimed_by() -> list[str]:
        holders = []
        for node in NODES:
            out = _docker("exec", cluster.container(node), "ip", "-o", "-4", "addr", "show",
                          "label", "*:lb", check=False)  # fmt: skip
            if f" {ip}/32 " in out:
                holders.append(node)
        return holders

    holders = wait_until(lambda: (h := claimed_by()) and h, 60, 0.5, "a node claiming it")
    assert len(holders) == 1, holders  # type: ignore[arg-type]

    def fetch() -> str:
        try:
            return httpx.get(f"http://{ip}/", timeout=3).text
        except httpx.HTTPError:
            return ""

    wait_until(lambda: "lb-ok" in fetch(), 60, 0.5, f"the host reaching {ip}")


def test_kubectl_exec_through_haproxy_ends_cleanly(
    cluster: ComposeCluster, api: httpx.Client, ns: str, loaded: dict[str, str]
) -> None:
    """kubectl -> haproxy -> apiserver -> the kubelet's HTTPS: a command that takes a
    while ends with its exit code, not "websocket: close 1006 (abnormal closure)" (the
    kubelet used to drop the connection before the apiserver answered its close)."""
    pod = pinned_pod("exec", loaded["busybox"], ["sleep", "3600"], "node-2", {"app": "exec"})
    assert api.post(f"/api/v1/namespaces/{ns}/pods", json=pod).status_code == 201
    wait_until(lambda: any(_running(p) for p in _pods(api, ns, "app=exec")), 120, 0.5,
               "the exec pod Running")  # fmt: skip
    kubectl = shutil.which("kubectl") or str(ROOT / ".venv" / "bin" / "navctl")
    for code in (0, 0, 4):
        done = subprocess.run(
            [kubectl, "--kubeconfig", str(cluster.kubeconfig), "-n", ns, "exec", "exec", "--",
             "sh", "-c", f"sleep 1; echo slow; exit {code}"],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        assert done.returncode == code, done.stderr
        assert done.stdout == "slow\n"
        assert "abnormal closure" not in done.stderr


def test_losing_one_etcd_member_and_one_apiserver_stops_nothing(
    cluster: ComposeCluster, api: httpx.Client, ns: str
) -> None:
    stopped = [cluster.container("etcd-1"), cluster.container("apiserver-1")]
    _docker("stop", "-t", "2", *stopped)
    try:
        # haproxy takes the apiserver out within ~2 s; until then a request may fail.
        def write(i: int) -> bool:
            body = {"metadata": {"name": f"cm-{i}"}, "data": {"i": str(i)}}
            resp = api.post(f"/api/v1/namespaces/{ns}/configmaps", json=body)
            return resp.status_code == 201

        wait_until(lambda: write(0), 30, 0.5, "a write with etcd-1 and apiserver-1 down")
        for i in range(1, 6):
            assert write(i), f"write {i} failed"
        kubectl = shutil.which("kubectl") or str(ROOT / ".venv" / "bin" / "navctl")
        done = subprocess.run(
            [kubectl, "--kubeconfig", str(cluster.kubeconfig), "-n", ns,
             "get", "configmaps", "-o", "name"],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert {f"configmap/cm-{i}" for i in range(6)} <= set(done.stdout.split())
        # The kubernetes Service drops the stopped apiserver once its record expires.
        wait_until(
            lambda: [
                a["ip"]
                for s in api.get("/api/v1/namespaces/default/endpoints/kubernetes").json()[
                    "subsets"
                ]
                for a in s["addresses"]
            ]
            == [f"{cluster.net}.7"],
            40, 0.5, "apiserver-1 out of the kubernetes endpoints",
        )  # fmt: skip
    finally:
        _docker("start", *stopped)
    wait_until(lambda: len(cluster.ready_nodes()) == 3, 60, 0.5, "nodes Ready again")


def test_a_restarted_node_container_runs_its_pods_again(
    cluster: ComposeCluster, api: httpx.Client, loaded: dict[str, str], ns: str
) -> None:
    for i in range(2):
        pod = pinned_pod(
            f"p{i}", loaded["busybox"], ["sleep", "3600"], "node-2", {"app": "restart"}
        )
        assert api.post(f"/api/v1/namespaces/{ns}/pods", json=pod).status_code == 201
    wait_until(
        lambda: (p := _pods(api, ns, "app=restart")) and len(p) == 2 and all(map(_running, p)),
        60, 0.5, "pods Running on node-2",
    )  # fmt: skip
    node_ip = next(
        a["address"]
        for n in api.get("/api/v1/nodes").json()["items"]
        if n["metadata"]["name"] == "node-2"
        for a in n["status"]["addresses"]
        if a["type"] == "InternalIP"
    )
    cidr = node_cidrs(api)["node-2"]
    restarted_at = datetime.now(UTC).replace(microsecond=0)
    logs_since = str(int(restarted_at.timestamp()))
    _docker("restart", "-t", "30", cluster.container("node-2"))

    def started_after(pod: dict[str, Any]) -> bool:
        return _running_since(pod, restarted_at)

    wait_until(
        lambda: (p := _pods(api, ns, "app=restart")) and len(p) == 2 and all(map(started_after, p)),
        120, 0.5, "pods Running again in new containers",
    )  # fmt: skip
    # Its pods may run before the restarted kubelet has renewed its Lease.
    wait_until(
        lambda: "node-2" in cluster.ready_nodes(restarted_at), 60, 0.5,
        "node-2 Ready with its Lease renewed after the restart",
    )  # fmt: skip
    again = next(
        n for n in api.get("/api/v1/nodes").json()["items"] if n["metadata"]["name"] == "node-2"
    )
    assert [a["address"] for a in again["status"]["addresses"] if a["type"] == "InternalIP"] == [
        node_ip
    ]
    assert node_cidrs(api)["node-2"] == cidr
    # It came back as the node it was, with its own certificate: no discovery, no token.
    said = subprocess.run(
        ["docker", "logs", "--since", logs_since, cluster.container("node-2")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    lines = [
        line for line in (said.stdout + said.stderr).splitlines() if "join" in line.split(":")[0]
    ]
    assert any("[join] this host already joined as node node-2" in line for line in lines), lines
    assert not any("discovery:" in line for line in lines), lines


def _comes_back(
    cluster: ComposeCluster, api: httpx.Client, image: str, ns: str, disrupt: Callable[[], None]
) -> None:
    """After ``disrupt``, the same cluster is back: every node Ready with a Lease renewed
    since, the same podCIDRs and addresses, objects intact, and a pod Running again in a
    new container."""
    pod = pinned_pod("survivor", image, ["sleep", "3600"], "node-1", {"app": "survivor"})
    assert api.post(f"/api/v1/namespaces/{ns}/pods", json=pod).status_code == 201
    cm = {"metadata": {"name": "kept"}, "data": {"k": "v"}}
    assert api.post(f"/api/v1/namespaces/{ns}/configmaps", json=cm).status_code == 201
    wait_until(lambda: _running(api.get(f"/api/v1/namespaces/{ns}/pods/survivor").json()), 60)
    before = {
        n["metadata"]["name"]: (n["spec"].get("podCIDR"), n["status"]["addresses"])
        for n in api.get("/api/v1/nodes").json()["items"]
    }
    restarted_at = datetime.now(UTC).replace(microsecond=0)
    disrupt()

    cluster.wait_ready(len(NODES), restarted_at, timeout=180)
    after = {
        n["metadata"]["name"]: (n["spec"].get("podCIDR"), n["status"]["addresses"])
        for n in api.get("/api/v1/nodes").json()["items"]
    }
    assert after == before
    assert api.get(f"/api/v1/namespaces/{ns}/configmaps/kept").json()["data"] == {"k": "v"}

    wait_until(
        lambda: _running_since(api.get(f"/api/v1/namespaces/{ns}/pods/survivor").json(), restarted_at),
        120, 0.5, "the pod Running again in a new container",
    )  # fmt: skip


def test_the_whole_cluster_killed_and_started_together_comes_back(
    cluster: ComposeCluster, api: httpx.Client, loaded: dict[str, str], ns: str
) -> None:
    """What a crash of the host's Docker Engine does to the project: every container
    dies at once and all start together, in no order; volumes, static addresses and
    restart policies bring the same cluster back."""
    ids = cluster.compose("ps", "-q").stdout.split()
    assert len(ids) == 13  # 3 etcd, 2 apiservers, haproxy, 2 + 2 daemons, 3 nodes

    def kill_and_start() -> None:
        _docker("kill", *ids)
        _docker("start", *ids)

    _comes_back(cluster, api, loaded["busybox"], ns, kill_and_start)


def test_a_restart_of_the_host_docker_engine_brings_the_same_cluster_back(
    cluster: ComposeCluster, api: httpx.Client, loaded: dict[str, str], ns: str
) -> None:
    """The host's engine itself stopped (it stops every container) and started again:
    the restart policies (``unless-stopped``) start the project, and the same cluster
    is back. Last in the module: it restarts what every container here runs on."""
    why = dockerengine.restart_allowed()
    if why is not None:
        pytest.skip(why)
    _comes_back(cluster, api, loaded["busybox"], ns, dockerengine.restart_engine)
    assert len(cluster.compose("ps", "-q").stdout.split()) == 13
