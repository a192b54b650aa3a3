"""What the compose test modules share: a cluster under a project of its own, started
with a chosen compose and removed afterwards, and the small API shapes they use."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from apiserver.etcd_server import free_port
from cli.compose import COMPOSE_ENV, NODES, ComposeCluster, build_images, compose_command, free_net
from testkit.network import free_cluster_cidr
from testkit.processes import wait_until
from tests.conftest import unavailable


@contextlib.contextmanager
def started_cluster(prefix: str, compose: str) -> Iterator[ComposeCluster]:
    """deploy/docker-compose.yml under ``compose`` (``docker-compose`` or ``docker
    compose``, pinned through ``NAVARCH_COMPOSE`` while the cluster lives): a unique
    project, a free /24, port and cluster CIDR; yielded once its nodes are Ready, and
    everything the project made removed afterwards. Skips (fails under CI) when that
    compose is not installed."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv(COMPOSE_ENV, compose)
        try:
            compose_command()
        except RuntimeError as err:
            unavailable(str(err))
        build_images()
        cluster = ComposeCluster(
            project=f"{prefix}{uuid.uuid4().hex[:8]}",
            api_port=free_port(),
            net=free_net(),
            cluster_cidr=free_cluster_cidr(),
        )
        try:
            since = datetime.now(UTC).replace(microsecond=0)
            cluster.up()
            cluster.wait_ready(len(NODES), since, timeout=180)
            yield cluster
        finally:
            cluster.remove_everything()


def new_namespace(api: httpx.Client, prefix: str = "t") -> str:
    """A new namespace, once its default ServiceAccount exists (ServiceAccount admission
    refuses pods until the controller made it; Kubernetes' e2e framework waits too)."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    assert api.post("/api/v1/namespaces", json={"metadata": {"name": name}}).status_code == 201
    wait_until(
        lambda: api.get(f"/api/v1/namespaces/{name}/serviceaccounts/default").status_code == 200,
        30, 0.2, "the default ServiceAccount",
    )  # fmt: skip
    return name


def pinned_pod(
    name: str, image: str, command: list[str], node: str, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    """A one-container pod bound to ``node``, its image from the node's engine only."""
    return {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {
            "nodeName": node,
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {"name": "c", "image": image, "imagePullPolicy": "Never", "command": command}
            ],
        },
    }


def node_cidrs(api: httpx.Client) -> dict[str, str]:
    """Each Node's ``spec.podCIDR`` ("" while it has none)."""
    return {
        n["metadata"]["name"]: (n.get("spec") or {}).get("podCIDR", "")
        for n in api.get("/api/v1/nodes").json()["items"]
    }
