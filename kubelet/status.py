"""A pod's status as Kubernetes reports it, computed from what the runtime holds.

Pure functions: the inputs are the pod (its spec and last known status), the runtime's
view of it, what the probes say, and why containers are waiting; the output is the
new ``PodStatus``. Fields other writers own (the scheduler's ``PodScheduled``,
``nominatedNodeName``, the apiserver's ``qosClass``, conditions the kubelet does not
manage) are carried over untouched, and a condition's ``lastTransitionTime`` moves only
when its status does, so that computing the same state twice gives equal statuses and
the status manager can skip the write.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from apitypes.core import (
    ConditionStatus,
    Container,
    ContainerState,
    ContainerStateRunning,
    ContainerStateTerminated,
    ContainerStateWaiting,
    ContainerStatus,
    HostIP,
    Pod,
    PodCondition,
    PodConditionType,
    PodIP,
    PodPhase,
    PodSpec,
    PodStatus,
    RestartPolicy,
)
from kubelet.labels import KIND_APP, KIND_INIT
from kubelet.runtime import ContainerInfo, RuntimePod

KUBELET_CONDITIONS = (
    PodConditionType.POD_READY_TO_START_CONTAINERS,
    PodConditionType.INITIALIZED,
    PodConditionType.READY,
    PodConditionType.CONTAINERS_READY,
)

Waiting = Mapping[str, tuple[str, str]]
"""Container name -> (reason, message) for containers the kubelet holds back."""


def _time(epoch: float | None) -> datetime | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(int(epoch), UTC)


def terminated_state(info: ContainerInfo, prefix: str) -> ContainerStateTerminated:
    exit_code = info.exit_code if info.exit_code is not None else 0
    reason = info.reason or ("Completed" if exit_code == 0 else "Error")
    return ContainerStateTerminated(
        exit_code=exit_code,
        reason=reason,
        message=info.message or None,
        started_at=_time(info.started_at),
        finished_at=_time(info.finished_at),
        container_id=f"{prefix}://{info.id}",
    )


def restart_policy(spec: PodSpec | None) -> str:
    return (spec.restart_policy if spec else None) or RestartPolicy.ALWAYS


def container_status(
    container: Container,
    kind: str,
    state: RuntimePod | None,
    *,
    readiness: Mapping[str, bool],
    startup: Mapping[str, bool],
    waiting: Waiting,
    default_waiting: str,
    prefix: str,
) -> ContainerStatus:
    """The status of one spec container from its instances in the runtime."""
    instances = state.instances(container.name, kind) if state else []
    latest = instances[0] if instances else None
    held = waiting.get(container.name)
    previous = next((i for i in instances[1:] if i.exited), None)
    last = ContainerState(terminated=terminated_state(previous, prefix)) if previous else None
    image = container.image or ""
    if latest is None:
        reason, message = held or (default_waiting, "")
        return ContainerStatus(
            name=container.name,
            state=ContainerState(
                waiting=ContainerStateWaiting(reason=reason, message=message or None)
            ),
            last_state=ContainerState(),
            ready=False,
            restart_count=0,
            image=image,
            image_id="",
            started=False,
        )
    ready = False
    started = False
    if latest.running:
        current = ContainerState(running=ContainerStateRunning(started_at=_time(latest.started_at)))
        started = startup.get(latest.id, False) if container.startup_probe else True
        if kind == KIND_APP:
            probed = readiness.get(latest.id, False) if container.readiness_probe else True
            ready = started and probed
    elif latest.exited:
        terminated = terminated_state(latest, prefix)
        if held is not None:
            current = ContainerState(
                waiting=ContainerStateWaiting(reason=held[0], message=held[1] or None)
            )
            last = ContainerState(terminated=terminated)
        else:
            current = ContainerState(terminated=terminated)
        ready = kind == KIND_INIT and terminated.exit_code == 0
    else:
        reason, message = held or ("ContainerCreating", "")
        current = ContainerState(
            waiting=ContainerStateWaiting(reason=reason, message=message or None)
        )
    return ContainerStatus(
        name=container.name,
        state=current,
        last_state=last or ContainerState(),
        ready=ready,
        restart_count=latest.restart_count,
        image=image,
        image_id=latest.image_id,
        container_id=f"{prefix}://{latest.id}",
        started=started,
    )


def _init_progress(spec: PodSpec, statuses: list[ContainerStatus]) -> tuple[list[str], bool]:
    """(init containers not yet done, whether one failed)."""
    by_name = {s.name: s for s in statuses}
    pending: list[str] = []
    failed = False
    for container in spec.init_containers:
        status = by_name.get(container.name)
        state = status.state if status else None
        if status is None or state is None or state.running is not None:
            pending.append(container.name)
        elif state.terminated is not None:
            if state.terminated.exit_code != 0:
                pending.append(container.name)
                failed = True
        elif state.waiting is not None:
            last = status.last_state.terminated if status.last_state else None
            pending.append(container.name)
            if last is not None and last.exit_code != 0:
                failed = True
        else:
            pending.append(container.name)
    return pending, failed


def pod_phase(
    spec: PodSpec,
    init_statuses: list[ContainerStatus],
    statuses: list[ContainerStatus],
    *,
    init_done: bool,
    terminal: bool = False,
) -> str:
    """Kubernetes' phase rules (``getPhase``)."""
    policy = restart_policy(spec)
    pending_init, failed_init = _init_progress(spec, init_statuses)
    if failed_init and policy == RestartPolicy.NEVER:
        return PodPhase.FAILED
    by_name = {s.name: s for s in statuses}
    running = waiting = stopped = succeeded = unknown = 0
    for container in spec.containers:
        status = by_name.get(container.name)
        state = status.state if status else None
        if status is None or state is None:
            unknown += 1
        elif state.running is not None:
            running += 1
        elif state.terminated is not None:
            stopped += 1
            if state.terminated.exit_code == 0:
                succeeded += 1
        elif state.waiting is not None:
            last = status.last_state.terminated if status.last_state else None
            if last is not None:
                stopped += 1
            else:
                waiting += 1
        else:
            unknown += 1
    if pending_init and not init_done:
        return PodPhase.PENDING
    if waiting > 0:
        return PodPhase.PENDING
    if running > 0 and unknown == 0:
        return PodPhase.RUNNING
    if running == 0 and stopped > 0 and unknown == 0:
        if terminal:
            return PodPhase.SUCCEEDED if stopped == succeeded else PodPhase.FAILED
        if policy == RestartPolicy.ALWAYS:
            return PodPhase.RUNNING
        if stopped == succeeded:
            return PodPhase.SUCCEEDED
        if policy == RestartPolicy.NEVER:
            return PodPhase.FAILED
        return PodPhase.RUNNING
    return PodPhase.PENDING


def _condition(
    old: PodStatus | None, kind: str, ok: bool, now: datetime, reason: str = "", message: str = ""
) -> PodCondition:
    status = ConditionStatus.TRUE if ok else ConditionStatus.FALSE
    previous = old.condition(kind) if old else None
    when = now
    if previous is not None and previous.status == status and previous.last_transition_time:
        when = previous.last_transition_time
    return PodCondition(
        type=kind,
        status=status,
        last_transition_time=when,
        reason=None if ok else (reason or None),
        message=None if ok else (message or None),
    )


def generate_pod_status(
    pod: Pod,
    state: RuntimePod | None,
    *,
    host_ip: str,
    now: datetime,
    readiness: Mapping[str, bool] | None = None,
    startup: Mapping[str, bool] | None = None,
    waiting: Waiting | None = None,
    terminal: bool = False,
    prefix: str = "docker",
    reason: str | None = None,
    message: str | None = None,
    reported: PodStatus | None = None,
) -> PodStatus:
    """The status to report for ``pod`` given the runtime's ``state`` of it.

    ``terminal``: the pod is finished for good (deleted, deadline passed): no container
    will run again, so the phase is Succeeded or Failed.

    ``reported``: what this kubelet last reported for the pod, if anything. The
    kubelet's own conditions keep their transition times, and the start time stays,
    from it rather than from ``pod.status``, which may not show that write yet (as
    Kubernetes' kubelet starts from its status manager's copy). Conditions other
    writers own come from ``pod.status``.
    """
    spec = pod.spec or PodSpec()
    old = pod.status
    mine = reported if reported is not None else old
    # Shallow: below, only whole fields of the copy are replaced, never changed in place,
    # so ``old`` stays as it was; a deep copy cost a third of a hollow node's sync.
    status = old.model_copy() if old is not None else PodStatus()
    readiness = readiness or {}
    startup = startup or {}
    waiting = waiting or {}
    init_statuses = [
        container_status(
            c,
            KIND_INIT,
            state,
            readiness=readiness,
            startup=startup,
            waiting=waiting,
            default_waiting="PodInitializing",
            prefix=prefix,
        )
        for c in spec.init_containers
    ]
    pending_init, _ = _init_progress(spec, init_statuses)
    # Once any app container exists, initialisation is over (its records may be gone).
    app_started = bool(state) and any(
        c.kind == KIND_APP for c in (state.containers if state else [])
    )
    init_done = not pending_init or app_started
    statuses = [
        container_status(
            c,
            KIND_APP,
            state,
            readiness=readiness,
            startup=startup,
            waiting=waiting,
            default_waiting="ContainerCreating" if init_done else "PodInitializing",
            prefix=prefix,
        )
        for c in spec.containers
    ]
    phase = pod_phase(spec, init_statuses, statuses, init_done=init_done, terminal=terminal)
    sandbox = state.sandbox() if state else None
    sandbox_ready = bool(sandbox and sandbox.ready and not terminal)
    unready = [s.name for s in statuses if not s.ready]
    conditions: list[PodCondition] = []
    conditions.append(
        _condition(mine, PodConditionType.POD_READY_TO_START_CONTAINERS, sandbox_ready, now)
    )
    conditions.append(
        _condition(
            mine,
            PodConditionType.INITIALIZED,
            init_done,
            now,
            "ContainersNotInitialized",
            f"containers with incomplete status: [{' '.join(pending_init)}]",
        )
    )
    if phase == PodPhase.SUCCEEDED:
        containers_ready = _condition(
            mine, PodConditionType.CONTAINERS_READY, False, now, "PodCompleted"
        )
        ready = _condition(mine, PodConditionType.READY, False, now, "PodCompleted")
    else:
        message_text = f"containers with unready status: [{' '.join(unready)}]"
        containers_ready = _condition(
            mine,
            PodConditionType.CONTAINERS_READY,
            not unready,
            now,
            "ContainersNotReady",
            message_text,
        )
        gates_missing = [
            g.condition_type
            for g in spec.readiness_gates
            if not (
                old
                and (cond := old.condition(g.condition_type)) is not None
                and cond.status == ConditionStatus.TRUE
            )
        ]
        if unready:
            ready = _condition(
                mine, PodConditionType.READY, False, now, "ContainersNotReady", message_text
            )
        else:
            ready = _condition(
                mine,
                PodConditionType.READY,
                not gates_missing,
                now,
                "ReadinessGatesNotReady",
                f'corresponding condition of pod readiness gate "{" ".join(gates_missing)}" '
                "does not exist.",
            )
    conditions.extend([containers_ready, ready])
    others = [c for c in status.conditions if c.type not in KUBELET_CONDITIONS]
    if not any(c.type == PodConditionType.POD_SCHEDULED for c in others):
        others.insert(
            0,
            PodCondition(
                type=PodConditionType.POD_SCHEDULED,
                status=ConditionStatus.TRUE,
                last_transition_time=now,
            ),
        )
    status.conditions = others + conditions
    status.phase = phase
    status.init_container_statuses = init_statuses
    status.container_statuses = statuses
    if host_ip:
        status.host_ip = host_ip
        status.host_ips = [HostIP(ip=host_ip)]
    if sandbox is not None and sandbox.ready and sandbox.ip:
        status.pod_ip = sandbox.ip
        status.pod_ips = [PodIP(ip=sandbox.ip)]
    if status.start_time is None:
        status.start_time = (mine.start_time if mine is not None else None) or now
    if reason is not None:
        status.reason = reason
        status.message = message
    return status


def status_equal(a: PodStatus | None, b: PodStatus | None) -> bool:
    """Whether two statuses say the same on the wire."""
    left = a.to_dict() if a is not None else {}
    right = b.to_dict() if b is not None else {}
    return left == right
