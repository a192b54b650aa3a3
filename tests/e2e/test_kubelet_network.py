"""Kubelets of one host sharing a pod network: creating it is safe under concurrency."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from testkit import images
from testkit.kubelets import KubeletProcess
from testkit.processes import ApiServerProcess

pytestmark = pytest.mark.e2e


def _networks(name: str) -> list[dict[str, object]]:
    client = images.docker_client()
    try:
        return [n for n in client.api.networks(names=[name]) if n["Name"] == name]
    finally:
        client.close()


@pytest.fixture
def network() -> Iterator[tuple[str, str]]:
    """A pod network name and subnet no one has created yet."""
    name = f"nvrace{uuid.uuid4().hex[:6]}"
    # Far from Docker's default pools (172.17+/16, 192.168/20) and the pod CIDR.
    subnet = f"10.251.{random.randrange(256)}.0/24"
    yield name, subnet
    images.remove_network(name)


@pytest.mark.parametrize("attempt", [1, 2])
def test_three_kubelets_starting_at_once_create_the_pod_network_once(
    apiserver: ApiServerProcess,
    tmp_path: Path,
    test_images: dict[str, str],
    network: tuple[str, str],
    attempt: int,
) -> None:
    name, subnet = network
    assert _networks(name) == []
    flags = ("--pod-network", name, "--pod-network-cidr", subnet)
    kubelets = [
        KubeletProcess.create(
            apiserver.url, f"race{attempt}-{uuid.uuid4().hex[:4]}-{i}", tmp_path, *flags
        )
        for i in range(3)
    ]
    try:
        for kubelet in kubelets:  # no waiting in between: all three race
            super(KubeletProcess, kubelet).start()
        for kubelet in kubelets:
            kubelet.wait_ready(60)
        found = _networks(name)
        assert len(found) == 1, found
        configs = (found[0].get("IPAM") or {}).get("Config") or []  # type: ignore[attr-defined]
        assert [c.get("Subnet") for c in configs] == [subnet]
        assert all(k.alive() for k in kubelets)
    finally:
        for kubelet in kubelets:
            kubelet.stop()
            images.remove_containers({"io.navarch.node": kubelet.node_name})
            httpx.delete(
                f"{apiserver.url}/api/v1/nodes/{kubelet.node_name}",
                timeout=10,
                verify=apiserver.verify,
            )
