"""The kubelet's status manager against a fake apiserver that applies its patches."""

from __future__ import annotations

from typing import Any

from apitypes.core import Pod, PodStatus
from apitypes.patch import apply_strategic_merge_patch
from kubelet.statusmanager import LOST_WRITE_AFTER, StatusManager


class FakeServer:
    """One pod; every status patch is applied to it and bumps its resourceVersion."""

    def __init__(self, pod: dict[str, Any]) -> None:
        self.pod = pod
        self.version = int(pod["metadata"]["resourceVersion"])
        self.patches: list[dict[str, Any]] = []

    def write(self, status: dict[str, Any]) -> Pod:
        """Another writer replaces the status."""
        self.version += 1
        self.pod = {**self.pod, "status": status}
        self.pod["metadata"] = {**self.pod["metadata"], "resourceVersion": str(self.version)}
        return self.copy()

    def copy(self) -> Pod:
        return Pod.model_validate(self.pod)

    async def patch(self, model: type[Pod], name: str, patch: Any, namespace: str | None,
                    *, patch_type: str, subresource: str) -> Pod:  # fmt: skip
        assert (patch_type, subresource) == ("strategic", "status")
        self.patches.append(patch)
        merged = apply_strategic_merge_patch(self.pod, patch, Pod)
        self.version += 1
        merged["metadata"]["resourceVersion"] = str(self.version)
        self.pod = merged
        return self.copy()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def status(ready: bool, container_id: str, when: str) -> PodStatus:
    flag = "True" if ready else "False"
    return PodStatus.model_validate(
        {
            "phase": "Running",
            "conditions": [
                {"type": "ContainersReady", "status": flag, "lastTransitionTime": when},
                {"type": "Ready", "status": flag, "lastTransitionTime": when},
            ],
            "containerStatuses": [
                {
                    "name": "web",
                    "ready": ready,
                    "restartCount": 0,
                    "image": "img",
                    "imageID": "",
                    "containerID": container_id,
                    "state": {"running": {}},
                }
            ],
        }
    )


def server_with(initial: PodStatus) -> FakeServer:
    return FakeServer(
        {
            "metadata": {"name": "p", "namespace": "default", "uid": "u1", "resourceVersion": "5"},
            "spec": {"containers": [{"name": "web", "image": "img"}]},
            "status": initial.to_dict(),
        }
    )


async def test_a_patch_is_computed_from_our_last_write_when_the_copy_is_stale() -> None:
    # Before the restart: ready, old container. The copy the informer holds stays there.
    old = status(True, "docker://old", "2026-01-01T00:00:00Z")
    server = server_with(old)
    stale_copy = server.copy()
    manager = StatusManager(server)  # type: ignore[arg-type]
    starting = status(False, "docker://new", "2026-01-01T00:01:00Z")
    assert await manager.set(stale_copy, starting)
    ready = status(True, "docker://new", "2026-01-01T00:01:00Z")
    # The informer still shows the old pod: a patch from it would leave out `ready`
    # (the old copy says True too) and the apiserver would keep our False.
    assert await manager.set(stale_copy, ready)
    assert server.copy().status == ready


async def test_our_own_write_coming_back_is_not_written_again() -> None:
    server = server_with(status(False, "docker://a", "2026-01-01T00:00:00Z"))
    manager = StatusManager(server)  # type: ignore[arg-type]
    ready = status(True, "docker://a", "2026-01-01T00:01:00Z")
    assert await manager.set(server.copy(), ready)
    assert not await manager.set(server.copy(), ready)
    assert len(server.patches) == 1


async def test_another_writers_change_is_written_back() -> None:
    ready = status(True, "docker://a", "2026-01-01T00:01:00Z")
    server = server_with(status(False, "docker://a", "2026-01-01T00:00:00Z"))
    manager = StatusManager(server)  # type: ignore[arg-type]
    assert await manager.set(server.copy(), ready)
    drifted = server.write(status(False, "docker://a", "2026-01-01T00:02:00Z").to_dict())
    assert manager.stale(drifted)
    assert await manager.set(drifted, ready)
    assert server.copy().status == ready
    assert not manager.stale(server.copy())


async def test_a_lost_write_is_noticed_after_a_while_and_written_again() -> None:
    clock = Clock()
    server = server_with(status(False, "docker://a", "2026-01-01T00:00:00Z"))
    before = server.copy()
    manager = StatusManager(server, clock=clock)  # type: ignore[arg-type]
    ready = status(True, "docker://a", "2026-01-01T00:01:00Z")
    assert await manager.set(before, ready)
    # The apiserver's data goes back in time (a restore): the write is gone.
    server.pod = before.to_dict()
    server.version = 5
    assert not manager.stale(before)  # could still be the informer lagging
    clock.now += LOST_WRITE_AFTER
    assert manager.stale(before)
    assert await manager.set(server.copy(), ready)
    assert server.copy().status == ready
