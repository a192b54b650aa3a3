"""End-to-end fixtures: locally built images (on the Docker Engine that ``docker_engine``
in tests/conftest.py requires), a real kubelet per test module, and cleanup of every
container a test leaves (by label)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from testkit import images
from testkit.kubelets import SHARED_POD_NETWORK, KubeletProcess
from testkit.processes import ApiServerProcess, wait_until


@pytest.fixture(scope="session")
def test_images(docker_engine: None) -> Iterator[dict[str, str]]:
    """The local images tests use (built once, no registry). At the end of the session,
    the pod network the test kubelets share (``SHARED_POD_NETWORK``, made by the first
    of them and used by every module's) goes too."""
    yield {"busybox": images.ensure_busybox_image(), "httpd": images.ensure_httpd_image()}
    images.remove_network(SHARED_POD_NETWORK[1])


@pytest.fixture(scope="module")
def node(
    apiserver: ApiServerProcess, session_dir: Path, test_images: dict[str, str]
) -> Iterator[KubeletProcess]:
    """A real kubelet over Docker, for one test module; every container of its node is
    removed afterwards, and so is its Node."""
    name = f"e2e-{uuid.uuid4().hex[:6]}"
    proc = KubeletProcess.create(apiserver.url, name, session_dir, runtime="docker")
    try:
        proc.start()
        yield proc
    finally:
        proc.stop()
        images.remove_containers({"io.navarch.node": name})
        httpx.delete(f"{apiserver.url}/api/v1/nodes/{name}", timeout=10, verify=apiserver.verify)


@pytest.fixture
def ns(api: httpx.Client, namespace: str, node: KubeletProcess) -> Iterator[str]:
    """A namespace whose pods (and their containers) are all gone after the test."""
    yield namespace
    api.request(
        "DELETE",
        f"/api/v1/namespaces/{namespace}/pods",
        params={"gracePeriodSeconds": "0"},
    )
    labels = {"io.navarch.node": node.node_name, "io.navarch.pod.namespace": namespace}
    with contextlib.suppress(TimeoutError):
        # The kubelet removes the containers of force-deleted pods by itself.
        wait_until(lambda: not images.containers(labels), timeout=15, interval=0.2)
    images.remove_containers(labels)
