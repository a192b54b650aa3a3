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
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from cli.compose import COMPOSE_ENV, NODES, ComposeCluster
from testkit import images
from testkit.processes import wait_until
from tests.e2e.composekit import new_namespace, node_cidrs, pinned_pod, started_cluster

pytestmark = [pytest.mark.e2e, pytest.mark.compose, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
V2 = "docker compose"


@pytest.fixture(scope="module")
def cluster(docker_engine: None) -> Iterator[ComposeCluster]:
    if shutil.which("debootstrap") is None and os.geteuid() != 0:
        pytest.skip("building the compose images needs root and debootstrap")
    with started_cluster("navv2", V2) as found:
        yield found


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
        cidrs = node_cidrs(api)
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

        ns = new_namespace(api, "v2")
        for node in NODES:
            resp = api.post(
                f"/api/v1/namespaces/{ns}/pods",
                json=pinned_pod(f"on-{node}", busybox, ["sleep", "3600"], node),
            )
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
        assert node_cidrs(api) == cidrs
        assert api.get(f"/api/v1/namespaces/{ns}").status_code == 200
