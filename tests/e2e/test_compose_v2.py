"""The compose cluster under Docker Compose v2 (``docker compose``), as test_compose.py
runs it under Debian 12's docker-compose 1.29: the same deploy/docker-compose.yml, a
project of its own, everything it made removed afterwards.

The whole suite runs once (with 1.29, what ``make compose-up`` installs on Debian);
here, the life of a cluster under v2: up from nothing to three Ready nodes, the image
copied into every node, a pod on each, one node restarted, the whole project down and
up again on its volumes (same nodes, same podCIDRs). ``make test`` installs v2
(``deploy/compose/ensure-compose-v2.sh``); without it this skips (fails under CI).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from apiserver.etcd_server import free_port
from cli.compose import COMPOSE_ENV, NODES, ComposeCluster, build_images, free_net
from testkit import images
from testkit.network import free_cluster_cidr
from testkit.processes import wait_until
from tests.conftest import unavailable

pytestmark = [pytest.mark.e2e, pytest.mark.compose, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
V2 = "docker compose"


@pytest.fixture(scope="module")
def cluster(docker_engine: None) -> Iterator[ComposeCluster]:
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True,
                           check=False)  # fmt: skip
    if probe.returncode != 0:
        unavailable("Docker Compose v2 is not installed (deploy/compose/ensure-compose-v2.sh)")
    if shutil.which("debootstrap") is None and os.geteuid() != 0:
        pytest.skip("building the compose images needs root and debootstrap")
    with pytest.MonkeyPatch.context() as env:
        env.setenv(COMPOSE_ENV, V2)
        build_images()
        found = ComposeCluster(
            project=f"navv2{uuid.uuid4().hex[:8]}",
            api_port=free_port(),
            net=free_net(),
            cluster_cidr=free_cluster_cidr(),
        )
        try:
            since = datetime.now(UTC).replace(microsecond=0)
            found.up()
            found.wait_ready(len(NODES), since, timeout=180)
            yield found
        finally:
            found.remove_everything()


def _node_cidrs(api: httpx.Client) -> dict[str, str]:
    return {
        n["metadata"]["name"]: (n.get("spec") or {}).get("podCIDR", "")
        for n in api.get("/api/v1/nodes").json()["items"]
    }


def _pod(name: str, image: str, node: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "nodeName": node,
            "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "c", "image": image, "imagePullPolicy": "Never",
                            "command": ["sleep", "3600"]}],
        },
    }  # fmt: skip


def _running_on_each(api: httpx.Client, ns: str) -> bool:
    pods = api.get(f"/api/v1/namespaces/{ns}/pods").json()["items"]
    running = {
        p["spec"]["nodeName"] for p in pods if (p.get("status") or {}).get("phase") == "Running"
    }
    return running == set(NODES)


def test_a_cluster_lives_its_whole_life_under_compose_v2(cluster: ComposeCluster) -> None:
    # Every container of the project was made by v2: its label says so.
    ids = cluster.compose("ps", "-q").stdout.split()
    assert len(ids) >= 3 + len(NODES)
    versions = subprocess.run(
        ["docker", "inspect", "--format",
         '{{index .Config.Labels "com.docker.compose.version"}}', *ids],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert versions and all(v.startswith("2.") for v in versions), versions

    with cluster.client(timeout=30) as api:
        cidrs = _node_cidrs(api)
        assert sorted(cidrs) == sorted(NODES)
        assert all(cidrs.values()) and len(set(cidrs.values())) == len(NODES), cidrs

        busybox = images.ensure_busybox_image()
        loaded = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "navarch"), "image", "load", busybox],
            capture_output=True, text=True, check=False,
            env={**os.environ, COMPOSE_ENV: V2, "COMPOSE_PROJECT_NAME": cluster.project},
        )  # fmt: skip
        assert loaded.returncode == 0, loaded.stderr
        assert all(f"{node}: loaded" in loaded.stdout for node in NODES), loaded.stdout

        ns = f"v2-{uuid.uuid4().hex[:6]}"
        assert api.post("/api/v1/namespaces", json={"metadata": {"name": ns}}).status_code == 201
        wait_until(
            lambda: api.get(f"/api/v1/namespaces/{ns}/serviceaccounts/default").status_code == 200,
            30, 0.2, "the default ServiceAccount",
        )  # fmt: skip
        for node in NODES:
            resp = api.post(f"/api/v1/namespaces/{ns}/pods", json=_pod(f"on-{node}", busybox, node))
            assert resp.status_code == 201, resp.text
        wait_until(lambda: _running_on_each(api, ns), 120, 0.5, "a pod Running on each node")

        # One node restarted (`docker compose restart`): Ready again, its pod runs again.
        since = datetime.now(UTC).replace(microsecond=0)
        cluster.compose("restart", "node-2")
        cluster.wait_ready(len(NODES), since, timeout=180)
        wait_until(lambda: _running_on_each(api, ns), 180, 0.5, "pods Running after the restart")

    # The whole project down and up again on its volumes: the same cluster.
    cluster.down()
    since = datetime.now(UTC).replace(microsecond=0)
    cluster.up()
    cluster.wait_ready(len(NODES), since, timeout=180)
    with cluster.client(timeout=30) as api:
        assert _node_cidrs(api) == cidrs
        assert api.get(f"/api/v1/namespaces/{ns}").status_code == 200
