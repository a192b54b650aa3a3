"""The kubelet's pod worker over the fake runtime, against an in-memory API stub.

``reconcile`` is driven by hand (no informer, no node loops) with a fake clock, so the
tests see each step: start, crash, back-off, image failures, deletion, orphans.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import pytest

from apiclient import errors
from apitypes.base import KubeObject, now
from apitypes.core import ConfigMap, Pod, Secret
from apitypes.patch import apply_strategic_merge_patch
from kubelet.config import KubeletConfig
from kubelet.fake_runtime import FakeRuntime
from kubelet.kubelet import Kubelet
from kubelet.runtime import SandboxConfig


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


class StubClient:
    """Just enough of ``apiclient.Client`` for the pod worker: pods, ConfigMaps, Secrets."""

    def __init__(self) -> None:
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}
        self.objects: dict[tuple[str, str, str], KubeObject] = {}
        self.status_patches = 0
        self.deleted: list[str] = []

    async def get(self, model: type[Any], name: str, namespace: str | None = None) -> Any:
        obj = self.objects.get((model.KIND, namespace or "", name))
        if obj is None:
            raise errors.NotFoundError({"message": f"{name} not found"})
        return obj

    async def patch(self, model: type[Any], name: str, patch: Any, namespace: str | None = None,
                    *, patch_type: str = "strategic", subresource: str | None = None) -> Any:  # fmt: skip
        key = (namespace or "", name)
        if key not in self.pods:
            raise errors.NotFoundError({"message": "gone"})
        assert subresource == "status" and patch_type == "strategic"
        self.pods[key] = apply_strategic_merge_patch(self.pods[key], patch, Pod)
        self.status_patches += 1
        return Pod.model_validate(self.pods[key])

    async def delete(self, model: type[Any], name: str, namespace: str | None = None,
                     **_: Any) -> dict[str, Any]:  # fmt: skip
        if self.pods.pop((namespace or "", name), None) is None:
            raise errors.NotFoundError({"message": "gone"})
        self.deleted.append(name)
        return {}

    def pod(self, name: str, namespace: str = "default") -> Pod:
        return Pod.model_validate(self.pods[(namespace, name)])


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def env(tmp_path: Path, clock: Clock) -> tuple[Kubelet, StubClient, FakeRuntime]:
    client = StubClient()
    runtime = FakeRuntime("n1", clock=clock)
    config = KubeletConfig(
        node_name="n1", runtime="fake", root_dir=tmp_path, port=0, events=False,
        crashloop_backoff_base=10, crashloop_backoff_max=40, image_pull_backoff_base=10,
    )  # fmt: skip
    kubelet = Kubelet(config, client, runtime, clock=clock)  # type: ignore[arg-type]
    kubelet.pod_source.informer.synced.set()
    kubelet.service_source.informer.synced.set()
    return kubelet, client, runtime


def add_pod(
    kubelet: Kubelet, client: StubClient, name: str, containers: list[dict], **spec: Any
) -> str:
    raw = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"},
        "spec": {"nodeName": "n1", "restartPolicy": "Always", "containers": containers, **spec},
        "status": {"phase": "Pending", "qosClass": "BestEffort"},
    }
    client.pods[("default", name)] = raw
    kubelet.pod_manager.on_pod(Pod.model_validate(raw))
    return f"uid-{name}"


async def sync(kubelet: Kubelet, client: StubClient, name: str) -> float | None:
    """Deliver the API's current view of the pod, then run one reconcile."""
    if ("default", name) in client.pods:
        kubelet.pod_manager.on_pod(client.pod(name))
    result = await kubelet.worker.reconcile(f"uid-{name}")
    for task in list(kubelet.worker.busy.values()):
        await task
    return result


def container_status(client: StubClient, name: str) -> dict[str, Any]:
    return client.pods[("default", name)]["status"]["containerStatuses"][0]


async def test_pod_runs_and_status_is_written_once(
    env: tuple[Kubelet, StubClient, FakeRuntime],
) -> None:
    kubelet, client, runtime = env
    uid = add_pod(kubelet, client, "web", [{"name": "c", "image": "img:1"}])
    assert await sync(kubelet, client, "web") is None
    pod = client.pod("web")
    assert pod.status.phase == "Running"
    assert pod.status.pod_ip and pod.status.pod_ip.startswith("10.")
    assert pod.status.container_statuses[0].container_id.startswith("fake://")
    assert runtime.started == ["c"]
    writes = client.status_patches
    await sync(kubelet, client, "web")
    await sync(kubelet, client, "web")
    assert client.status_patches == writes  # nothing changed, nothing written
    assert (await runtime.pod(uid)).sandbox().ready


async def test_crash_loop_backoff(
    env: tuple[Kubelet, StubClient, FakeRuntime], clock: Clock
) -> None:
    kubelet, client, runtime = env
    uid = add_pod(kubelet, client, "crash", [{"name": "c", "image": "img:1"}])
    await sync(kubelet, client, "crash")
    first = (await runtime.pod(uid)).latest("c")
    runtime.crash(first.id, 3)
    clock.t += 1
    await sync(kubelet, client, "crash")  # the first crash restarts at once
    assert container_status(client, "crash")["restartCount"] == 1
    second = (await runtime.pod(uid)).latest("c")
    runtime.crash(second.id, 3)
    clock.t += 1
    retry = await sync(kubelet, client, "crash")
    status = container_status(client, "crash")
    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert status["lastState"]["terminated"]["exitCode"] == 3
    assert retry == pytest.approx(9.0)  # 10 s from the crash, one of them gone
    clock.t += 9
    await sync(kubelet, client, "crash")
    assert container_status(client, "crash")["restartCount"] == 2
    assert "running" in container_status(client, "crash")["state"]
    # Only the current and the previous instance are kept.
    assert len((await runtime.pod(uid)).instances("c")) == 2


async def test_image_pull_failure_then_backoff(
    env: tuple[Kubelet, StubClient, FakeRuntime], clock: Clock
) -> None:
    kubelet, client, runtime = env
    runtime.absent_images.add("gone:1")
    runtime.unpullable.add("gone:1")
    add_pod(kubelet, client, "img", [{"name": "c", "image": "gone:1"}])
    retry = await sync(kubelet, client, "img")
    assert container_status(client, "img")["state"]["waiting"]["reason"] == "ErrImagePull"
    assert retry == pytest.approx(10.0)
    clock.t += 2
    await sync(kubelet, client, "img")
    assert container_status(client, "img")["state"]["waiting"]["reason"] == "ImagePullBackOff"
    assert client.pod("img").status.phase == "Pending"
    runtime.unpullable.clear()
    clock.t += 10
    await sync(kubelet, client, "img")
    assert "running" in container_status(client, "img")["state"]


async def test_never_pull_policy(env: tuple[Kubelet, StubClient, FakeRuntime]) -> None:
    kubelet, client, runtime = env
    runtime.absent_images.add("local:1")
    add_pod(kubelet, client, "nev", [{"name": "c", "image": "local:1", "imagePullPolicy": "Never"}])
    await sync(kubelet, client, "nev")
    assert container_status(client, "nev")["state"]["waiting"]["reason"] == "ErrImageNeverPull"


async def test_config_errors_wait_until_the_object_exists(
    env: tuple[Kubelet, StubClient, FakeRuntime],
) -> None:
    kubelet, client, _ = env
    env_from = [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]
    add_pod(kubelet, client, "cfg", [{"name": "c", "image": "img:1", "env": env_from}])
    assert await sync(kubelet, client, "cfg") == pytest.approx(5.0)
    waiting = container_status(client, "cfg")["state"]["waiting"]
    assert waiting["reason"] == "CreateContainerConfigError"
    assert 'secret "s" not found' in waiting["message"]
    secret = {
        "metadata": {"name": "s", "namespace": "default"},
        "data": {"k": base64.b64encode(b"v").decode()},
    }
    client.objects[("Secret", "default", "s")] = Secret.model_validate(secret)
    kubelet.objects.invalidate("default")
    await sync(kubelet, client, "cfg")
    assert "running" in container_status(client, "cfg")["state"]
    assert ConfigMap.KIND == "ConfigMap"


async def test_graceful_deletion_removes_containers_then_the_object(
    env: tuple[Kubelet, StubClient, FakeRuntime],
) -> None:
    kubelet, client, runtime = env
    uid = add_pod(kubelet, client, "del", [{"name": "c", "image": "img:1"}])
    await sync(kubelet, client, "del")
    assert await runtime.pod(uid) is not None
    meta = client.pods[("default", "del")]["metadata"]
    meta["deletionTimestamp"] = now().strftime("%Y-%m-%dT%H:%M:%SZ")
    meta["deletionGracePeriodSeconds"] = 5
    await sync(kubelet, client, "del")
    assert client.deleted == ["del"]
    assert await runtime.pod(uid) is None
    assert not (kubelet.volumes.pod_dir(uid)).exists()


async def test_orphans_are_removed_once_sources_are_ready(
    env: tuple[Kubelet, StubClient, FakeRuntime],
) -> None:
    kubelet, _, runtime = env
    await runtime.run_sandbox(
        SandboxConfig(
            pod_uid="ghost", pod_name="g", namespace="default", attempt=0, hostname="g", labels={}
        )
    )
    kubelet.pod_source.informer.synced.clear()
    assert await kubelet.worker.reconcile("ghost") == 1.0  # not yet: the API may still know it
    kubelet.pod_source.informer.synced.set()
    await kubelet.worker.reconcile("ghost")
    await asyncio.gather(*kubelet.worker.busy.values())
    assert await runtime.pod("ghost") is None


async def test_restart_policy_never_reaches_a_terminal_phase(
    env: tuple[Kubelet, StubClient, FakeRuntime],
) -> None:
    kubelet, client, runtime = env
    uid = add_pod(kubelet, client, "job", [{"name": "c", "image": "img:1"}], restartPolicy="Never")
    await sync(kubelet, client, "job")
    runtime.crash((await runtime.pod(uid)).latest("c").id, 0)
    await sync(kubelet, client, "job")
    assert client.pod("job").status.phase == "Succeeded"
    await sync(kubelet, client, "job")
    assert not (await runtime.pod(uid)).sandbox().ready  # the sandbox is stopped
    assert runtime.started == ["c"]
