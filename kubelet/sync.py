"""What to do for one pod: the difference between its spec and what the runtime holds.

``compute_actions`` is pure (Kubernetes' ``computePodActions``): given the pod, the
runtime's view of it, the probes' verdicts and the restart back-off, it says whether a
new sandbox is needed, which containers to start, which to kill, and why the others
wait. The kubelet carries the actions out and computes the status afterwards.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, field

from apitypes.core import Container, Pod, PodSpec, RestartPolicy
from kubelet.backoff import Backoff
from kubelet.labels import KIND_APP, KIND_INIT, container_hash
from kubelet.runtime import ContainerInfo, RuntimePod
from kubelet.status import restart_policy


@dataclass
class Start:
    container: Container
    kind: str
    restart_count: int
    backoff_key: str
    failed_at: float | None = None
    """When the instance being replaced finished (None: a first start, no back-off)."""


@dataclass
class Kill:
    info: ContainerInfo
    reason: str
    message: str


@dataclass
class PodActions:
    create_sandbox: bool = False
    sandbox_attempt: int = 0
    kill_all: bool = False
    """Stop every running container first (the sandbox is being replaced)."""
    start: list[Start] = field(default_factory=list)
    kill: list[Kill] = field(default_factory=list)
    waiting: dict[str, tuple[str, str]] = field(default_factory=dict)
    retry_after: float | None = None
    stop_sandbox: bool = False
    """The pod is done (no container will run again): stop its sandbox."""

    def retry(self, seconds: float) -> None:
        self.retry_after = seconds if self.retry_after is None else min(self.retry_after, seconds)


def backoff_key(pod: Pod, container: Container) -> str:
    return f"{pod.metadata.uid}/{container.name}/{container_hash(container)}"


def _should_restart(policy: str, info: ContainerInfo) -> bool:
    if policy == RestartPolicy.ALWAYS:
        return True
    if policy == RestartPolicy.ON_FAILURE:
        return (info.exit_code or 0) != 0
    return False


def _first_starts(spec: PodSpec, pod: Pod, state: RuntimePod | None) -> list[Start]:
    """What a fresh sandbox starts: the first init container, else the app containers
    that have not finished for good."""
    policy = restart_policy(spec)
    if spec.init_containers:
        first = spec.init_containers[0]
        latest = state.latest(first.name, KIND_INIT) if state else None
        count = latest.restart_count + 1 if latest else 0
        return [Start(first, KIND_INIT, count, backoff_key(pod, first))]
    starts = []
    for container in spec.containers:
        latest = state.latest(container.name, KIND_APP) if state else None
        if latest is not None and latest.exited and not _should_restart(policy, latest):
            continue
        count = latest.restart_count + 1 if latest else 0
        starts.append(Start(container, KIND_APP, count, backoff_key(pod, container)))
    return starts


def _restart(
    pod: Pod,
    container: Container,
    kind: str,
    latest: ContainerInfo,
    actions: PodActions,
    backoff: Backoff,
    now: float,
) -> None:
    """Start ``container`` again after ``latest`` ended, unless it is in back-off."""
    key = backoff_key(pod, container)
    failed_at = latest.finished_at or latest.created_at or now
    remaining = backoff.remaining(key, failed_at)
    if remaining > 0:
        delay = int(backoff.delay(key))
        actions.waiting[container.name] = (
            "CrashLoopBackOff",
            f"back-off {delay}s restarting failed container={container.name} "
            f"pod={pod.metadata.name}_{pod.metadata.namespace}({pod.metadata.uid})",
        )
        actions.retry(remaining)
        return
    actions.start.append(Start(container, kind, latest.restart_count + 1, key, failed_at))


def compute_actions(
    pod: Pod,
    state: RuntimePod | None,
    *,
    backoff: Backoff,
    now: float,
    liveness_failed: Set[str] = frozenset(),
    startup_failed: Set[str] = frozenset(),
) -> PodActions:
    """The actions that move ``pod``'s containers towards its spec.

    ``liveness_failed`` / ``startup_failed``: ids of running containers whose probe
    failed (they are killed; the next pass restarts them as the policy says).
    """
    spec = pod.spec or PodSpec()
    policy = restart_policy(spec)
    actions = PodActions()
    sandbox = state.sandbox() if state else None
    app_started = state is not None and any(c.kind == KIND_APP for c in state.containers)

    if sandbox is None or not sandbox.ready:
        if policy == RestartPolicy.NEVER and sandbox is not None and app_started:
            # Nothing may run again: the pod keeps the statuses it has.
            return actions
        actions.create_sandbox = True
        actions.sandbox_attempt = sandbox.attempt + 1 if sandbox else 0
        actions.kill_all = state is not None and any(c.running for c in state.containers)
        actions.start = _first_starts(spec, pod, state)
        return actions

    assert state is not None
    if spec.init_containers and not app_started:
        for container in spec.init_containers:
            latest = state.latest(container.name, KIND_INIT)
            if latest is None:
                actions.start.append(Start(container, KIND_INIT, 0, backoff_key(pod, container)))
                return actions
            if latest.running:
                return actions
            if latest.exited and latest.exit_code == 0:
                continue
            if latest.exited:
                if policy == RestartPolicy.NEVER:
                    actions.stop_sandbox = True
                    return actions
                _restart(pod, container, KIND_INIT, latest, actions, backoff, now)
                return actions
            # Created but never ran (a failed start): try again.
            _restart(pod, container, KIND_INIT, latest, actions, backoff, now)
            return actions

    finished = 0
    for container in spec.containers:
        latest = state.latest(container.name, KIND_APP)
        if latest is None:
            actions.start.append(Start(container, KIND_APP, 0, backoff_key(pod, container)))
            continue
        if latest.running:
            if latest.hash != container_hash(container):
                actions.kill.append(
                    Kill(
                        latest,
                        "Killing",
                        f"Container {container.name} definition changed, will be restarted",
                    )
                )
            elif latest.id in startup_failed:
                actions.kill.append(
                    Kill(
                        latest,
                        "Unhealthy",
                        f"Container {container.name} failed startup probe, will be restarted",
                    )
                )
            elif latest.id in liveness_failed:
                actions.kill.append(
                    Kill(
                        latest,
                        "Unhealthy",
                        f"Container {container.name} failed liveness probe, will be restarted",
                    )
                )
            continue
        if latest.exited and not _should_restart(policy, latest):
            finished += 1
            continue
        _restart(pod, container, KIND_APP, latest, actions, backoff, now)
    if spec.containers and finished == len(spec.containers):
        actions.stop_sandbox = True
    return actions
