"""Pods as real Docker containers, end to end: a real etcd, apiserver and kubelet, and
images built locally (``testkit.images``)."""

from __future__ import annotations

import ipaddress
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from apiserver.etcd_server import free_port
from testkit import images
from testkit.kubelets import (
    KubeletProcess,
    condition,
    container_status,
    pod_manifest,
    ready,
    running,
    wait_for_pod,
    wait_pod_gone,
)
from testkit.processes import ApiServerProcess, wait_until
from tests.e2e.execws import V4, ws_exec

pytestmark = pytest.mark.e2e

TICKER = ["sh", "-c", "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done"]
SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]


def create(api: httpx.Client, ns: str, body: dict[str, Any]) -> None:
    resp = api.post(f"/api/v1/namespaces/{ns}/pods", json=body)
    assert resp.status_code == 201, resp.text


def docker_containers(node: KubeletProcess, pod_uid: str) -> list[dict[str, Any]]:
    return images.containers({"io.navarch.node": node.node_name, "io.navarch.pod.uid": pod_uid})


def test_two_containers_talk_over_localhost(
    api: httpx.Client, ns: str, node: KubeletProcess, test_images: dict[str, str]
) -> None:
    host_port = free_port()
    client_cmd = [
        "sh", "-c",
        "until wget -q -O - http://localhost:8080/; do sleep 0.2; done; sleep 3600",
    ]  # fmt: skip
    body = pod_manifest(
        "duo", node.node_name,
        [
            {
                "name": "web",
                "image": test_images["httpd"],
                "ports": [{"containerPort": 8080, "hostPort": host_port, "hostIP": "127.0.0.1"}],
            },
            {"name": "client", "image": test_images["busybox"], "command": client_cmd},
        ],
    )  # fmt: skip
    create(api, ns, body)
    pod = wait_for_pod(api, ns, "duo", lambda p: running(p) and ready(p))
    pod_ip = pod["status"]["podIP"]
    assert ipaddress.ip_address(pod_ip) in ipaddress.ip_network("10.244.0.0/16")
    logs = wait_until(
        lambda: "hello from navarch" in (t := api.get(
            f"/api/v1/namespaces/{ns}/pods/duo/log", params={"container": "client"}
        ).text) and t,
        timeout=20,
        what="the client's logs",
    )  # fmt: skip
    assert "hello from navarch" in str(logs)
    # The pod has one IP, reachable from the host over the pod network; its hostPort
    # is published on the node.
    assert httpx.get(f"http://{pod_ip}:8080/", timeout=5).text == "hello from navarch\n"
    published = httpx.get(f"http://127.0.0.1:{host_port}/", timeout=5)
    assert published.text == "hello from navarch\n"
    # Both app containers live in the sandbox's network namespace.
    rows = docker_containers(node, pod["metadata"]["uid"])
    sandbox = next(r for r in rows if r["Labels"]["io.navarch.container.kind"] == "sandbox")
    apps = [r for r in rows if r["Labels"]["io.navarch.container.kind"] == "app"]
    assert len(apps) == 2
    assert {r["HostConfig"]["NetworkMode"] for r in apps} == {f"container:{sandbox['Id']}"}
    for row in rows:
        labels = row["Labels"]
        assert labels["io.navarch.managed"] == "true"
        assert labels["io.navarch.pod.name"] == "duo"
        assert labels["io.navarch.pod.namespace"] == ns


def test_logs_through_the_apiserver(
    api: httpx.Client, ns: str, node: KubeletProcess, test_images: dict[str, str]
) -> None:
    body = pod_manifest("ticker", node.node_name, [
        {"name": "c", "image": test_images["busybox"], "command": TICKER},
    ])  # fmt: skip
    create(api, ns, body)
    wait_for_pod(api, ns, "ticker", running)
    url = f"/api/v1/namespaces/{ns}/pods/ticker/log"
    wait_until(lambda: "line 5" in api.get(url).text, timeout=20, what="some lines")
    tail = api.get(url, params={"tailLines": "2"}).text.splitlines()
    assert len(tail) == 2 and all(line.startswith("line ") for line in tail)
    stamped = api.get(url, params={"tailLines": "1", "timestamps": "true"}).text
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line \d+\n$", stamped), stamped
    assert len(api.get(url, params={"limitBytes": "10"}).content) == 10
    recent = api.get(url, params={"sinceSeconds": "1"}).text.splitlines()
    assert 1 <= len(recent) <= 8
    # follow streams lines as they are written.
    seen: list[str] = []
    with api.stream("GET", url, params={"follow": "true", "tailLines": "0"}, timeout=20) as resp:
        assert resp.status_code == 200
        for line in resp.iter_lines():
            seen.append(line)
            if len(seen) == 3:
                break
    numbers = [int(line.split()[1]) for line in seen]
    assert numbers == sorted(numbers) and numbers[2] - numbers[0] == 2


def test_exec_over_websocket(
    apiserver: ApiServerProcess, api: httpx.Client, ns: str, node: KubeletProcess,
    test_images: dict[str, str],
) -> None:  # fmt: skip
    body = pod_manifest("shell", node.node_name, [
        {"name": "c", "image": test_images["busybox"], "command": SLEEPER},
    ])  # fmt: skip
    create(api, ns, body)
    wait_for_pod(api, ns, "shell", running)
    result = ws_exec(apiserver.url, ns, "shell", ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert result.protocol == "v5.channel.k8s.io"
    assert (result.stdout, result.stderr) == (b"out\n", b"err\n")
    assert result.exit_code == 3
    assert result.status["reason"] == "NonZeroExitCode"
    echoed = ws_exec(apiserver.url, ns, "shell", ["cat"], stdin=b"hello\nworld\n")
    assert echoed.stdout == b"hello\nworld\n" and echoed.exit_code == 0
    old = ws_exec(apiserver.url, ns, "shell", ["sh", "-c", "echo $((6*7))"], protocol=V4)
    assert (old.protocol, old.stdout, old.exit_code) == (V4, b"42\n", 0)
    # The container's environment and hostname are the pod's.
    name = ws_exec(apiserver.url, ns, "shell", ["hostname"])
    assert name.stdout == b"shell\n"


def test_liveness_probe_restarts_the_container(
    api: httpx.Client, ns: str, node: KubeletProcess, test_images: dict[str, str]
) -> None:
    command = ["sh", "-c", "touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep 3600"]
    body = pod_manifest("live", node.node_name, [
        {
            "name": "c", "image": test_images["busybox"], "command": command,
            "livenessProbe": {
                "exec": {"command": ["cat", "/tmp/healthy"]},
                "periodSeconds": 1, "failureThreshold": 2,
            },
        },
    ], terminationGracePeriodSeconds=1)  # fmt: skip
    create(api, ns, body)
    pod = wait_for_pod(
        api, ns, "live", lambda p: container_status(p, "c").get("restartCount", 0) >= 1,
        timeout=30, what="a liveness restart",
    )  # fmt: skip
    status = container_status(pod, "c")
    assert status["lastState"]["terminated"]["exitCode"] == 137
    events = api.get(f"/api/v1/namespaces/{ns}/events").json()["items"]
    reasons = {e["reason"] for e in events if e["involvedObject"]["name"] == "live"}
    assert {"Unhealthy", "Started", "Created"} <= reasons


def test_readiness_follows_the_probe(
    apiserver: ApiServerProcess, api: httpx.Client, ns: str, node: KubeletProcess,
    test_images: dict[str, str],
) -> None:  # fmt: skip
    body = pod_manifest("ready", node.node_name, [
        {
            "name": "web", "image": test_images["httpd"],
            "ports": [{"name": "http", "containerPort": 8080}],
            "readinessProbe": {
                "httpGet": {"path": "/healthz", "port": "http"},
                "periodSeconds": 1, "failureThreshold": 1,
            },
        },
    ])  # fmt: skip
    create(api, ns, body)
    wait_for_pod(api, ns, "ready", ready, timeout=30, what="Ready")
    ws_exec(apiserver.url, ns, "ready", ["rm", "/www/healthz"])
    pod = wait_for_pod(api, ns, "ready", lambda p: condition(p, "Ready") == "False", timeout=20)
    assert pod["status"]["phase"] == "Running"
    assert condition(pod, "ContainersReady") == "False"
    assert container_status(pod, "web")["restartCount"] == 0
    ws_exec(apiserver.url, ns, "ready", ["sh", "-c", "echo ok > /www/healthz"])
    wait_for_pod(api, ns, "ready", ready, timeout=20, what="Ready again")


def _back_off(status: dict[str, Any]) -> int | None:
    """The wait, in seconds, a ``CrashLoopBackOff`` container status announces."""
    waiting = (status.get("state") or {}).get("waiting") or {}
    found = re.search(r"back-off (\d+)s", waiting.get("message") or "")
    return int(found.group(1)) if found else None


def test_crash_loop_backoff(
    api: httpx.Client, ns: str, node: KubeletProcess, test_images: dict[str, str]
) -> None:
    body = pod_manifest("crash", node.node_name, [
        {"name": "c", "image": test_images["busybox"], "command": ["sh", "-c", "echo boom; exit 1"]},
    ])  # fmt: skip
    create(api, ns, body)

    def looping(pod: dict[str, Any]) -> bool:
        status = container_status(pod, "c")
        waiting = (status.get("state") or {}).get("waiting") or {}
        return waiting.get("reason") == "CrashLoopBackOff" and status["restartCount"] >= 1

    pod = wait_for_pod(api, ns, "crash", looping, timeout=30, what="CrashLoopBackOff")
    status = container_status(pod, "c")
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert status["lastState"]["terminated"]["reason"] == "Error"
    assert "back-off" in status["state"]["waiting"]["message"]
    assert pod["status"]["phase"] == "Running"
    url = f"/api/v1/namespaces/{ns}/pods/crash/log"
    assert api.get(url).text == "boom\n"
    assert api.get(url, params={"previous": "true"}).text == "boom\n"
    # The back-off grows: restarts come more and more slowly. Followed over the next
    # two restarts: the wait the kubelet announces grows, and it is honoured.
    first = status["restartCount"]
    announced: dict[int, int | None] = {first: _back_off(status)}
    seen_at: dict[int, float] = {}

    def two_more_restarts() -> bool:
        now = time.monotonic()
        current = container_status(api.get(f"/api/v1/namespaces/{ns}/pods/crash").json(), "c")
        count = current["restartCount"]
        seen_at.setdefault(count, now)
        delay = _back_off(current)
        if delay is not None:
            announced.setdefault(count, delay)
        return bool(count >= first + 2)

    wait_until(two_more_restarts, timeout=90, interval=0.1, what="two more restarts")
    assert first + 1 in seen_at and first + 2 in seen_at, f"restarts seen: {sorted(seen_at)}"
    before, after = announced[first], announced.get(first + 1)
    assert before is not None and after is not None and after > before, announced
    # The restart after the announced wait came no sooner than that wait (less the
    # status reporting's own delay, at most about a second).
    assert seen_at[first + 2] - seen_at[first + 1] >= after - 1.0, (seen_at, announced)


def test_config_maps_secrets_env_and_updates(
    apiserver: ApiServerProcess, api: httpx.Client, ns: str, node: KubeletProcess,
    test_images: dict[str, str],
) -> None:  # fmt: skip
    api.post(f"/api/v1/namespaces/{ns}/configmaps", json={
        "metadata": {"name": "settings"}, "data": {"greeting": "hello", "mode": "fast"},
    }).raise_for_status()  # fmt: skip
    api.post(f"/api/v1/namespaces/{ns}/secrets", json={
        "metadata": {"name": "creds"}, "stringData": {"password": "s3cr3t"},
    }).raise_for_status()  # fmt: skip
    container = {
        "name": "c", "image": test_images["busybox"], "command": SLEEPER,
        "env": [
            {"name": "GREETING", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "greeting"}}},
            {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
        ],
        "envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "CFG_"}],
        "resources": {"limits": {"memory": "64Mi", "cpu": "500m"}},
        "volumeMounts": [
            {"name": "cfg", "mountPath": "/etc/cfg"},
            {"name": "sec", "mountPath": "/etc/sec"},
            {"name": "info", "mountPath": "/etc/info"},
        ],
    }  # fmt: skip
    volumes = [
        {"name": "cfg", "configMap": {"name": "settings"}},
        {"name": "sec", "secret": {"secretName": "creds", "items": [{"key": "password", "path": "pw"}]}},
        {"name": "info", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
    ]  # fmt: skip
    # A Service of the namespace gives the container its variables.
    resp = api.post(f"/api/v1/namespaces/{ns}/services", json={
        "metadata": {"name": "front-end"}, "spec": {"ports": [{"name": "http", "port": 8080}]},
    })  # fmt: skip
    assert resp.status_code == 201, resp.text
    front_ip = resp.json()["spec"]["clusterIP"]
    create(api, ns, pod_manifest("cfg", node.node_name, [container], volumes=volumes))
    pod = wait_for_pod(api, ns, "cfg", running)
    script = (
        "echo $GREETING $PASSWORD $CFG_mode $POD_IP $MEM; cat /etc/cfg/mode /etc/sec/pw; echo;"
        " cat /etc/info/labels; echo; echo $FRONT_END_SERVICE_HOST $FRONT_END_SERVICE_PORT_HTTP"
    )
    result = ws_exec(apiserver.url, ns, "cfg", ["sh", "-c", script])
    lines = result.stdout.decode().splitlines()
    assert lines[0] == f"hello s3cr3t fast {pod['status']['podIP']} 64"
    assert lines[1] == "fasts3cr3t"
    assert lines[2] == 'test="cfg"'
    assert lines[3] == f"{front_ip} 8080"
    # resources became Docker limits.
    app = next(
        r for r in docker_containers(node, pod["metadata"]["uid"])
        if r["Labels"]["io.navarch.container.kind"] == "app"
    )  # fmt: skip
    inspect = images.docker_client().api.inspect_container(app["Id"])["HostConfig"]
    assert inspect["Memory"] == 64 * 2**20 and inspect["NanoCpus"] == 500_000_000
    # A ConfigMap update reaches the mounted file without a restart.
    api.patch(
        f"/api/v1/namespaces/{ns}/configmaps/settings",
        json={"data": {"mode": "slow"}},
        headers={"Content-Type": "application/merge-patch+json"},
    ).raise_for_status()
    wait_until(
        lambda: ws_exec(apiserver.url, ns, "cfg", ["cat", "/etc/cfg/mode"]).stdout == b"slow",
        timeout=20, interval=0.5, what="the updated ConfigMap in the volume",
    )  # fmt: skip
    assert (
        container_status(api.get(f"/api/v1/namespaces/{ns}/pods/cfg").json(), "c")["restartCount"]
        == 0
    )


def test_graceful_deletion_runs_pre_stop_then_sigterm(
    api: httpx.Client, ns: str, node: KubeletProcess, test_images: dict[str, str], tmp_path: Path
) -> None:
    tmp_path.chmod(0o777)
    command = [
        "sh", "-c",
        "trap 'echo term >> /host/order; exit 0' TERM; while true; do sleep 0.1; done",
    ]  # fmt: skip
    container = {
        "name": "c", "image": test_images["busybox"], "command": command,
        "volumeMounts": [{"name": "host", "mountPath": "/host"}],
        "lifecycle": {"preStop": {"exec": {"command": ["sh", "-c", "echo prestop >> /host/order"]}}},
    }  # fmt: skip
    body = pod_manifest(
        "bye", node.node_name, [container],
        volumes=[{"name": "host", "hostPath": {"path": str(tmp_path)}}],
        terminationGracePeriodSeconds=20,
    )  # fmt: skip
    create(api, ns, body)
    pod = wait_for_pod(api, ns, "bye", running)
    uid = pod["metadata"]["uid"]
    started = time.monotonic()
    resp = api.delete(f"/api/v1/namespaces/{ns}/pods/bye")
    assert resp.json()["metadata"]["deletionGracePeriodSeconds"] == 20
    wait_pod_gone(api, ns, "bye", timeout=25)
    elapsed = time.monotonic() - started
    assert elapsed < 10, "the container exited on SIGTERM; no need to wait out the grace period"
    # preStop ran first, then SIGTERM reached the process.
    assert (tmp_path / "order").read_text() == "prestop\nterm\n"
    assert docker_containers(node, uid) == []


def test_init_containers_then_app(
    apiserver: ApiServerProcess, api: httpx.Client, ns: str, node: KubeletProcess,
    test_images: dict[str, str],
) -> None:  # fmt: skip
    image = test_images["busybox"]
    mounts = [{"name": "work", "mountPath": "/work"}]
    body = pod_manifest(
        "init", node.node_name,
        [{"name": "app", "image": image, "command": SLEEPER, "volumeMounts": mounts}],
        initContainers=[
            {"name": "one", "image": image, "command": ["sh", "-c", "echo one >> /work/log"], "volumeMounts": mounts},
            {"name": "two", "image": image, "command": ["sh", "-c", "echo two >> /work/log"], "volumeMounts": mounts},
        ],
        volumes=[{"name": "work", "emptyDir": {}}],
    )  # fmt: skip
    create(api, ns, body)
    pod = wait_for_pod(api, ns, "init", running, timeout=30)
    assert condition(pod, "Initialized") == "True"
    inits = pod["status"]["initContainerStatuses"]
    assert [s["state"]["terminated"]["reason"] for s in inits] == ["Completed", "Completed"]
    assert ws_exec(apiserver.url, ns, "init", ["cat", "/work/log"]).stdout == b"one\ntwo\n"


def test_image_pull_failure_is_reported_not_fatal(
    api: httpx.Client, ns: str, node: KubeletProcess
) -> None:
    # A registry on a closed loopback port: the pull fails at once, on this machine.
    body = pod_manifest("nopull", node.node_name, [{"name": "c", "image": "127.0.0.1:1/none:1"}])
    create(api, ns, body)

    def backing_off(pod: dict[str, Any]) -> bool:
        waiting = (container_status(pod, "c").get("state") or {}).get("waiting") or {}
        return waiting.get("reason") == "ImagePullBackOff"

    pod = wait_for_pod(api, ns, "nopull", backing_off, timeout=30, what="ImagePullBackOff")
    assert pod["status"]["phase"] == "Pending"

    # The failed pull itself (ErrImagePull in the status until the next sync, which may
    # come before the status is written) is always reported as an event.
    def pull_failures() -> list[str]:
        events = api.get(
            f"/api/v1/namespaces/{ns}/events",
            params={"fieldSelector": "involvedObject.name=nopull"},
        ).json()["items"]
        return [e["message"] for e in events if (e["type"], e["reason"]) == ("Warning", "Failed")]

    # Events are written in the background: wait for it rather than race it.
    messages = wait_until(pull_failures, 15, what="the Failed event")
    assert isinstance(messages, list) and "Failed to pull image" in messages[0]


def test_containers_killed_behind_its_back_come_back(
    api: httpx.Client, ns: str, node: KubeletProcess, test_images: dict[str, str]
) -> None:
    body = pod_manifest("phoenix", node.node_name, [
        {"name": "c", "image": test_images["busybox"], "command": SLEEPER},
    ])  # fmt: skip
    create(api, ns, body)
    pod = wait_for_pod(api, ns, "phoenix", lambda p: running(p) and ready(p))
    uid = pod["metadata"]["uid"]
    first_id = container_status(pod, "c")["containerID"]
    client = images.docker_client()
    client.api.kill(first_id.removeprefix("docker://"))
    pod = wait_for_pod(
        api, ns, "phoenix",
        lambda p: container_status(p, "c").get("restartCount") == 1 and running(p) and ready(p),
        timeout=20, what="the killed container restarted",
    )  # fmt: skip
    assert container_status(pod, "c")["containerID"] != first_id
    # Everything of the pod killed at once (what a Docker daemon restart leaves behind):
    # a new sandbox, and the container again.
    for row in docker_containers(node, uid):
        if row["State"] == "running":
            client.api.kill(row["Id"])
    pod = wait_for_pod(
        api, ns, "phoenix",
        lambda p: container_status(p, "c").get("restartCount") == 2 and ready(p),
        timeout=30, what="the pod recreated",
    )  # fmt: skip
    sandboxes = [
        r for r in docker_containers(node, uid)
        if r["Labels"]["io.navarch.container.kind"] == "sandbox"
    ]  # fmt: skip
    assert max(int(r["Labels"]["io.navarch.sandbox.attempt"]) for r in sandboxes) == 1
    assert condition(pod, "PodReadyToStartContainers") == "True"
    client.close()
