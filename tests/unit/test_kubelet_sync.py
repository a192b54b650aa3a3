"""What the kubelet does for a pod, given what the runtime holds (``compute_actions``)."""

from __future__ import annotations

from typing import Any

from apitypes.core import Pod
from kubelet.backoff import Backoff
from kubelet.labels import KIND_APP, KIND_INIT, container_hash
from kubelet.runtime import EXITED, RUNNING, ContainerInfo, RuntimePod, SandboxInfo
from kubelet.sync import compute_actions

NOW = 10_000.0


def make_pod(
    containers: list[str] | None = None,
    init: list[str] | None = None,
    policy: str = "Always",
    **spec: Any,
) -> Pod:
    return Pod.model_validate(
        {
            "metadata": {"name": "p", "namespace": "default", "uid": "uid-1"},
            "spec": {
                "nodeName": "n1",
                "restartPolicy": policy,
                "initContainers": [{"name": n, "image": "img:1"} for n in init or []],
                "containers": [{"name": n, "image": "img:1"} for n in containers or ["app"]],
                **spec,
            },
        }
    )


def running(
    pod: Pod, name: str, kind: str = KIND_APP, restarts: int = 0, cid: str = ""
) -> ContainerInfo:
    container = pod.container(name)
    assert container is not None
    return ContainerInfo(
        id=cid or f"{name}-{restarts}",
        name=name,
        kind=kind,
        state=RUNNING,
        image="img:1",
        image_id="sha256:1",
        hash=container_hash(container),
        restart_count=restarts,
        created_at=NOW - 100,
        started_at=NOW - 100,
    )


def exited(
    pod: Pod, name: str, code: int, kind: str = KIND_APP, restarts: int = 0, at: float = NOW - 50
) -> ContainerInfo:
    info = running(pod, name, kind, restarts)
    info.state = EXITED
    info.exit_code = code
    info.finished_at = at
    return info


def state(*containers: ContainerInfo, sandbox_ready: bool | None = True) -> RuntimePod:
    sandboxes = []
    if sandbox_ready is not None:
        sandboxes = [SandboxInfo("sb", 0, sandbox_ready, "10.244.0.9", NOW - 200)]
    return RuntimePod("uid-1", "p", "default", sandboxes, list(containers))


def test_a_new_pod_gets_a_sandbox_and_every_container() -> None:
    pod = make_pod(["a", "b"])
    actions = compute_actions(pod, None, backoff=Backoff(), now=NOW)
    assert actions.create_sandbox
    assert actions.sandbox_attempt == 0
    assert not actions.kill_all
    assert [(s.container.name, s.kind, s.restart_count) for s in actions.start] == [
        ("a", KIND_APP, 0),
        ("b", KIND_APP, 0),
    ]


def test_init_containers_run_one_at_a_time_then_the_app() -> None:
    pod = make_pod(["app"], init=["i1", "i2"])
    first = compute_actions(pod, None, backoff=Backoff(), now=NOW)
    assert [s.container.name for s in first.start] == ["i1"]
    only_sandbox = state()
    assert [
        s.container.name
        for s in compute_actions(pod, only_sandbox, backoff=Backoff(), now=NOW).start
    ] == ["i1"]
    i1_running = state(running(pod, "i1", KIND_INIT))
    assert compute_actions(pod, i1_running, backoff=Backoff(), now=NOW).start == []
    i1_done = state(exited(pod, "i1", 0, KIND_INIT))
    assert [
        s.container.name for s in compute_actions(pod, i1_done, backoff=Backoff(), now=NOW).start
    ] == ["i2"]
    both_done = state(exited(pod, "i2", 0, KIND_INIT), exited(pod, "i1", 0, KIND_INIT))
    assert [
        s.container.name for s in compute_actions(pod, both_done, backoff=Backoff(), now=NOW).start
    ] == ["app"]


def test_a_failed_init_container_restarts_unless_never() -> None:
    pod = make_pod(["app"], init=["i1"], policy="OnFailure")
    failed = state(exited(pod, "i1", 1, KIND_INIT))
    actions = compute_actions(pod, failed, backoff=Backoff(), now=NOW)
    assert [(s.container.name, s.restart_count) for s in actions.start] == [("i1", 1)]
    never = make_pod(["app"], init=["i1"], policy="Never")
    actions = compute_actions(
        never, state(exited(never, "i1", 1, KIND_INIT)), backoff=Backoff(), now=NOW
    )
    assert actions.start == []
    assert actions.stop_sandbox


def test_restart_policies() -> None:
    for policy, code, restarts in [
        ("Always", 0, True),
        ("Always", 1, True),
        ("OnFailure", 0, False),
        ("OnFailure", 2, True),
        ("Never", 1, False),
    ]:
        pod = make_pod(policy=policy)
        actions = compute_actions(pod, state(exited(pod, "app", code)), backoff=Backoff(), now=NOW)
        assert bool(actions.start) == restarts, (policy, code)
        if restarts:
            assert actions.start[0].restart_count == 1
            assert actions.start[0].failed_at == NOW - 50
        else:
            assert actions.stop_sandbox


def test_crash_loop_waits_out_the_backoff() -> None:
    pod = make_pod()
    backoff = Backoff(10, 300, clock=lambda: NOW)
    key = f"uid-1/app/{container_hash(pod.spec.containers[0])}"
    backoff.next(key, NOW - 60)  # restarted a minute ago with a 10 s delay
    backoff.next(key, NOW - 5)  # and again 5 s ago: now 20 s
    crashed = state(exited(pod, "app", 1, restarts=2, at=NOW - 3))
    actions = compute_actions(pod, crashed, backoff=backoff, now=NOW)
    assert actions.start == []
    reason, message = actions.waiting["app"]
    assert reason == "CrashLoopBackOff"
    assert message.startswith("back-off 20s restarting failed container=app pod=p_default(uid-1)")
    assert actions.retry_after == 17


def test_liveness_failure_and_spec_change_kill() -> None:
    pod = make_pod(["a", "b"])
    a = running(pod, "a")
    b = running(pod, "b")
    b.hash = "old-spec"
    actions = compute_actions(pod, state(a, b), backoff=Backoff(), now=NOW, liveness_failed={a.id})
    assert {k.info.name: k.reason for k in actions.kill} == {"a": "Unhealthy", "b": "Killing"}
    assert "liveness probe" in actions.kill[0].message
    assert actions.start == []


def test_a_dead_sandbox_is_replaced_and_everything_restarted() -> None:
    pod = make_pod(["a"])
    dead = state(running(pod, "a"), sandbox_ready=False)
    actions = compute_actions(pod, dead, backoff=Backoff(), now=NOW)
    assert actions.create_sandbox and actions.kill_all
    assert actions.sandbox_attempt == 1
    assert [(s.container.name, s.restart_count) for s in actions.start] == [("a", 1)]


def test_never_does_not_recreate_a_sandbox_once_containers_ran() -> None:
    pod = make_pod(policy="Never")
    actions = compute_actions(
        pod, state(exited(pod, "app", 0), sandbox_ready=False), backoff=Backoff(), now=NOW
    )
    assert not actions.create_sandbox and actions.start == []


def test_healthy_running_pod_needs_nothing() -> None:
    pod = make_pod(["a", "b"])
    actions = compute_actions(
        pod, state(running(pod, "a"), running(pod, "b")), backoff=Backoff(), now=NOW
    )
    assert not (actions.create_sandbox or actions.start or actions.kill or actions.stop_sandbox)
    assert actions.retry_after is None
