"""Pod status as the kubelet reports it: phase, conditions, container states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apitypes.core import Pod, PodCondition, PodStatus
from kubelet.labels import KIND_INIT
from kubelet.status import generate_pod_status, pod_phase, status_equal
from tests.unit.test_kubelet_sync import NOW, exited, make_pod, running, state

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _conditions(status: PodStatus) -> dict[str, str]:
    return {c.type: c.status for c in status.conditions}


def test_running_pod_is_ready_with_ip_and_start_time() -> None:
    pod = make_pod(["a"])
    status = generate_pod_status(pod, state(running(pod, "a")), host_ip="192.0.2.2", now=T0)
    assert status.phase == "Running"
    assert status.pod_ip == "10.244.0.9" and status.pod_ips[0].ip == "10.244.0.9"
    assert status.host_ip == "192.0.2.2" and status.host_ips[0].ip == "192.0.2.2"
    assert status.start_time == T0
    assert _conditions(status) == {
        "PodScheduled": "True",
        "PodReadyToStartContainers": "True",
        "Initialized": "True",
        "ContainersReady": "True",
        "Ready": "True",
    }
    cs = status.container_statuses[0]
    assert cs.ready and cs.started and cs.restart_count == 0
    assert cs.state.running.started_at == datetime.fromtimestamp(int(NOW - 100), UTC)
    assert cs.container_id == "docker://a-0"


def test_readiness_probe_gates_ready() -> None:
    raw = make_pod(["a", "b"]).to_dict()
    raw["spec"]["containers"][0]["readinessProbe"] = {"exec": {"command": ["true"]}}
    pod = Pod.model_validate(raw)
    st = state(running(pod, "a"), running(pod, "b"))
    status = generate_pod_status(pod, st, host_ip="h", now=T0, readiness={"a-0": False})
    assert status.phase == "Running"
    ready = status.condition("Ready")
    assert ready.status == "False"
    assert ready.reason == "ContainersNotReady"
    assert ready.message == "containers with unready status: [a]"
    status = generate_pod_status(pod, st, host_ip="h", now=T0, readiness={"a-0": True})
    assert status.condition("Ready").status == "True"


def test_waiting_container_before_start() -> None:
    pod = make_pod(["a"])
    status = generate_pod_status(
        pod, state(), host_ip="h", now=T0, waiting={"a": ("ErrImagePull", "no registry")}
    )
    assert status.phase == "Pending"
    waiting = status.container_statuses[0].state.waiting
    assert (waiting.reason, waiting.message) == ("ErrImagePull", "no registry")
    assert status.condition("ContainersReady").status == "False"


def test_crash_loop_shows_waiting_with_last_state() -> None:
    pod = make_pod(["a"])
    st = state(exited(pod, "a", 2, restarts=3))
    status = generate_pod_status(
        pod, st, host_ip="h", now=T0, waiting={"a": ("CrashLoopBackOff", "back-off 40s")}
    )
    cs = status.container_statuses[0]
    assert cs.state.waiting.reason == "CrashLoopBackOff"
    assert cs.last_state.terminated.exit_code == 2
    assert cs.last_state.terminated.reason == "Error"
    assert cs.restart_count == 3
    assert status.phase == "Running"  # restartPolicy Always: still running


def test_previous_instance_is_last_state_of_a_running_container() -> None:
    pod = make_pod(["a"])
    st = state(running(pod, "a", restarts=1), exited(pod, "a", 137, restarts=0))
    cs = generate_pod_status(pod, st, host_ip="h", now=T0).container_statuses[0]
    assert cs.state.running is not None
    assert cs.last_state.terminated.exit_code == 137
    assert cs.restart_count == 1


def test_phases_by_restart_policy() -> None:
    for policy, codes, phase in [
        ("Never", [0, 0], "Succeeded"),
        ("Never", [0, 1], "Failed"),
        ("OnFailure", [0, 0], "Succeeded"),
        ("Always", [0, 0], "Running"),
    ]:
        pod = make_pod(["a", "b"], policy=policy)
        st = state(exited(pod, "a", codes[0]), exited(pod, "b", codes[1]))
        status = generate_pod_status(pod, st, host_ip="h", now=T0)
        assert status.phase == phase, (policy, codes)
    pod = make_pod(["a"])
    terminal = generate_pod_status(
        pod, state(exited(pod, "a", 143)), host_ip="h", now=T0, terminal=True
    )
    assert terminal.phase == "Failed"
    assert terminal.condition("PodReadyToStartContainers").status == "False"


def test_succeeded_pod_is_not_ready_with_reason_pod_completed() -> None:
    pod = make_pod(["a"], policy="Never")
    status = generate_pod_status(pod, state(exited(pod, "a", 0)), host_ip="h", now=T0)
    assert status.phase == "Succeeded"
    assert status.condition("Ready").reason == "PodCompleted"
    assert status.container_statuses[0].state.terminated.reason == "Completed"


def test_init_progress() -> None:
    pod = make_pod(["app"], init=["i1", "i2"], policy="Never")
    st = state(running(pod, "i1", KIND_INIT))
    status = generate_pod_status(pod, st, host_ip="h", now=T0)
    assert status.phase == "Pending"
    init = status.condition("Initialized")
    assert init.status == "False"
    assert init.message == "containers with incomplete status: [i1 i2]"
    assert status.container_statuses[0].state.waiting.reason == "PodInitializing"
    failed = state(exited(pod, "i1", 1, KIND_INIT))
    assert generate_pod_status(pod, failed, host_ip="h", now=T0).phase == "Failed"
    done = state(
        running(pod, "app"), exited(pod, "i2", 0, KIND_INIT), exited(pod, "i1", 0, KIND_INIT)
    )
    status = generate_pod_status(pod, done, host_ip="h", now=T0)
    assert status.phase == "Running"
    assert status.condition("Initialized").status == "True"
    assert [s.ready for s in status.init_container_statuses] == [True, True]


def test_transition_times_move_only_on_change_and_others_conditions_survive() -> None:
    pod = make_pod(["a"])
    st = state(running(pod, "a"))
    first = generate_pod_status(pod, st, host_ip="h", now=T0)
    pod.status = first
    pod.status.conditions.append(
        PodCondition(type="example.com/gate", status="True", last_transition_time=T0)
    )
    pod.status.qos_class = "BestEffort"
    later = T0 + timedelta(minutes=5)
    again = generate_pod_status(pod, st, host_ip="h", now=later)
    assert again.condition("Ready").last_transition_time == T0
    assert again.condition("example.com/gate") is not None
    assert again.qos_class == "BestEffort"
    assert again.start_time == T0
    assert status_equal(again, generate_pod_status(pod, st, host_ip="h", now=later))
    gone = generate_pod_status(
        pod, state(exited(pod, "a", 1)), host_ip="h", now=later, terminal=True
    )
    assert gone.condition("Ready").last_transition_time == later


def test_phase_unknown_containers_are_pending() -> None:
    pod = make_pod(["a", "b"])
    status = generate_pod_status(pod, state(running(pod, "a")), host_ip="h", now=T0)
    # "b" has no instance yet: it waits (ContainerCreating), so the pod is Pending.
    assert status.phase == "Pending"
    assert pod_phase(pod.spec, [], [], init_done=True) == "Pending"


def test_generating_a_status_leaves_the_pods_own_status_as_it_was() -> None:
    # The pod is the informer's cached copy: the new status may not be written into it.
    pod = make_pod(["a"])
    pod.status = generate_pod_status(pod, state(), host_ip="h", now=T0)
    before = pod.status.to_dict()
    st = state(running(pod, "a"))
    later = T0 + timedelta(minutes=1)
    after = generate_pod_status(pod, st, host_ip="h2", now=later, reason="R", message="m")
    assert after.phase == "Running" and after.host_ip == "h2" and after.reason == "R"
    assert pod.status.to_dict() == before


def test_reported_status_keeps_times_when_the_pods_copy_lags_behind() -> None:
    # The pod as seen still shows the status from before our last write: the kubelet's
    # own conditions and start time come from what it reported, so nothing flaps.
    pod = make_pod(["a"])
    st = state(running(pod, "a"))
    pod.status = generate_pod_status(pod, state(), host_ip="h", now=T0)
    later = T0 + timedelta(seconds=5)
    reported = generate_pod_status(pod, st, host_ip="h", now=later)
    pod.status.conditions.append(
        PodCondition(type="example.com/gate", status="True", last_transition_time=T0)
    )
    much_later = T0 + timedelta(minutes=3)
    again = generate_pod_status(pod, st, host_ip="h", now=much_later, reported=reported)
    assert again.condition("Ready").last_transition_time == later
    assert again.start_time == reported.start_time
    assert again.condition("example.com/gate") is not None  # others' from the pod
    without = generate_pod_status(pod, st, host_ip="h", now=much_later)
    assert without.condition("Ready").last_transition_time == much_later
