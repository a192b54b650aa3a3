"""The kubelet waits for its pod network: while the runtime has none (no podCIDR yet)
the Node is not Ready and pods that need a network wait in ContainerCreating; the
Node's podCIDR reaches the runtime and the waiting pods start."""

from __future__ import annotations

from apitypes.core import Node
from kubelet.fake_runtime import FakeRuntime
from kubelet.kubelet import Kubelet
from tests.unit.test_kubelet_loop import StubClient, add_pod, clock, env, sync

__all__ = ["clock", "env"]  # the fixtures, used by name


async def test_pods_wait_for_the_pod_network_and_start_once_the_node_has_a_cidr(
    env: tuple[Kubelet, StubClient, FakeRuntime],
) -> None:
    kubelet, client, runtime = env
    runtime.network_ready = False
    ready, why = await kubelet._runtime_ready()
    assert not ready
    assert why.startswith("container runtime network not ready: NetworkReady=false")
    assert "podCIDR" in why

    uid = add_pod(kubelet, client, "web", [{"name": "c", "image": "img:1"}])
    retry = await sync(kubelet, client, "web")
    assert retry is not None and retry > 0  # it looks again
    assert await runtime.pod(uid) is None  # no sandbox without a network
    status = client.pod("web").status
    assert status.phase == "Pending"
    assert status.container_statuses[0].state.waiting.reason == "ContainerCreating"

    # A hostNetwork pod needs no pod network.
    add_pod(kubelet, client, "host", [{"name": "c", "image": "img:1"}], hostNetwork=True)
    await sync(kubelet, client, "host")
    assert client.pod("host").status.phase == "Running"

    node = Node.model_validate(
        {
            "metadata": {"name": "n1"},
            "spec": {"podCIDR": "10.244.3.0/24", "podCIDRs": ["10.244.3.0/24"]},
        }
    )
    kubelet._on_node(node)
    assert kubelet.network.update is not None
    await kubelet.network.update
    assert runtime.pod_cidr == "10.244.3.0/24"
    assert (await kubelet._runtime_ready())[0]
    assert uid in list(kubelet.queue._queue)  # the waiting pod is synced again
    await sync(kubelet, client, "web")
    assert client.pod("web").status.phase == "Running"
