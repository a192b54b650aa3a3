"""Pod: defaulted and validated through ``podspec``; Pending with a QoS class on create;
an immutable spec but for images, deadlines, tolerations and gates; deleted gracefully
once bound to a node. ``kubectl get pods`` columns as Kubernetes' ``printPod``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from apiserver.kinds import podspec
from apiserver.kinds.common import METADATA, SPEC, STATUS, CoreStrategy, dual_stack
from apiserver.kinds.printers import AGE_COLUMN, NONE
from apiserver.registry.strategy import Column, age
from apiserver.subresources.binding import Binding
from apiserver.subresources.eviction import Eviction
from apiserver.subresources.podproxy import Exec, Log, PortForward
from apiserver.subresources.status import Status
from apitypes import registry
from apitypes.core import ContainerStatus, HostIP, Pod, PodCondition, PodIP, PodSpec, PodStatus
from apitypes.resources import pod_qos_class
from apitypes.validation import (
    FIELD_IMMUTABLE,
    FieldError,
    FieldPath,
    forbidden,
    invalid,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_ip,
)

_SYSTEM_POD_CONDITIONS = frozenset({"PodScheduled", "Ready", "Initialized"})
_NODE_UNREACHABLE_REASON = "NodeLost"


class PodStrategy(CoreStrategy):
    """Pods: defaulted and validated through ``podspec``; Pending with a QoS class on
    create; an immutable spec but for images, deadlines, tolerations and gates; deleted
    gracefully once bound to a node."""

    resource = registry.resource("", "pods")
    subresources = (Status(), Binding(), Log(), Exec(), Eviction(), PortForward())
    return_deleted_object = True
    selectable_fields = (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    )
    columns = (
        Column(
            "Ready", description="The aggregate readiness state of this pod for accepting traffic."
        ),
        Column("Status", description="The aggregate status of the containers in this pod."),
        Column(
            "Restarts",
            description="The number of times the containers in this pod have been restarted and "
            "when the last container in this pod has restarted.",
        ),
        AGE_COLUMN,
        Column("IP", priority=1, description="IP address allocated to the pod."),
        Column("Node", priority=1, description="The node the pod is bound to."),
        Column(
            "Nominated Node",
            priority=1,
            description="The node the scheduler nominated for the pod.",
        ),
        Column(
            "Readiness Gates", priority=1, description="Readiness gates of the pod that are true."
        ),
    )

    def fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        return {
            "spec.nodeName": spec.get("nodeName") or "",
            "spec.restartPolicy": spec.get("restartPolicy") or "",
            "spec.schedulerName": spec.get("schedulerName") or "",
            "spec.serviceAccountName": spec.get("serviceAccountName") or "",
            "spec.hostNetwork": "true" if spec.get("hostNetwork") else "false",
            "status.phase": status.get("phase") or "",
            "status.podIP": status.get("podIP") or "",
            "status.nominatedNodeName": status.get("nominatedNodeName") or "",
        }

    # -- lifecycle --

    def prepare_for_create(self, obj: Pod) -> None:
        # Kubernetes defaults at decoding, before this hook: the QoS class needs them.
        self.default(obj)
        assert obj.spec is not None
        obj.status = PodStatus(phase="Pending", qos_class=pod_qos_class(obj.spec))
        if obj.spec.scheduling_gates:
            obj.status.conditions.append(
                PodCondition(
                    type="PodScheduled",
                    status="False",
                    reason="SchedulingGated",
                    message="Scheduling is blocked due to non-empty scheduling gates",
                )
            )

    def prepare_for_update(self, new: Pod, old: Pod) -> None:
        new.status = old.status

    def prepare_for_status_update(self, new: Pod, old: Pod) -> None:
        super().prepare_for_status_update(new, old)
        # The QoS class is the apiserver's; kubelets that drop it get it back.
        if new.status is not None and not new.status.qos_class and old.status is not None:
            new.status.qos_class = old.status.qos_class

    def default(self, obj: Pod) -> None:
        if obj.spec is None:
            obj.spec = PodSpec()
        podspec.default_pod_spec(obj.spec, pod=True)
        status = obj.status
        if status is not None:
            # The singular fields mirror the first of the plural ones, as conversion does.
            if status.pod_ip and not status.pod_ips:
                status.pod_ips = [PodIP(ip=status.pod_ip)]
            if status.pod_ips:
                status.pod_ip = status.pod_ips[0].ip
            if status.host_ip and not status.host_ips:
                status.host_ips = [HostIP(ip=status.host_ip)]
            if status.host_ips:
                status.host_ip = status.host_ips[0].ip

    def validate(self, obj: Pod) -> list[FieldError]:
        errs = self.validate_metadata(obj)
        spec = obj.spec or PodSpec()
        errs.extend(podspec.validate_pod_spec(spec, SPEC))
        mirror = obj.metadata.annotations.get("kubernetes.io/config.mirror")
        if mirror is not None and not spec.node_name:
            errs.append(
                invalid(
                    METADATA.child("annotations").key("kubernetes.io/config.mirror"),
                    mirror,
                    "must set spec.nodeName if mirror pod annotation is set",
                )
            )
        # Ephemeral containers come only through their own subresource.
        if spec.ephemeral_containers:
            errs.append(forbidden(SPEC.child("ephemeralContainers"), "cannot be set on create"))
        if spec.node_name and spec.scheduling_gates:
            errs.append(
                forbidden(
                    SPEC.child("nodeName"),
                    "cannot be set until all schedulingGates have been cleared",
                )
            )
        return errs

    def validate_update(self, new: Pod, old: Pod) -> list[FieldError]:
        return podspec.validate_pod_spec_update(new.spec, old.spec, SPEC)

    def validate_status_update(self, new: Pod, old: Pod) -> list[FieldError]:
        status = new.status or PodStatus()
        before = old.status or PodStatus()
        errs: list[FieldError] = []
        conditions = STATUS.child("conditions")
        for i, condition in enumerate(status.conditions):
            if condition.type not in _SYSTEM_POD_CONDITIONS:
                errs.extend(
                    invalid(conditions.index(i).child("Type"), condition.type, msg)
                    for msg in is_qualified_name(condition.type)
                )
        nominated = status.nominated_node_name or ""
        if nominated and nominated != (before.nominated_node_name or ""):
            errs.extend(
                invalid(STATUS.child("nominatedNodeName"), nominated, msg)
                for msg in is_dns1123_subdomain(nominated)
            )
        if (status.qos_class or "") != (before.qos_class or ""):
            errs.append(invalid(STATUS.child("qosClass"), status.qos_class or "", FIELD_IMMUTABLE))
        spec = old.spec or PodSpec()
        errs.extend(
            _terminated_transitions(
                status.container_statuses,
                before.container_statuses,
                STATUS.child("containerStatuses"),
                spec.restart_policy or "Always",
            )
        )
        errs.extend(_pod_ips(status))
        return errs

    def delete_grace_seconds(self, obj: Pod, requested: int | None) -> int:
        """Kubernetes' graceful deletion: the requested period, else the pod's own, but
        at once for a pod never bound to a node or already finished; negative means 1."""
        spec = obj.spec or PodSpec()
        own = spec.termination_grace_period_seconds or 0
        period = requested if requested is not None else own
        if not spec.node_name:
            period = 0
        if obj.status is not None and obj.status.phase in ("Succeeded", "Failed"):
            period = 0
        return 1 if period < 0 else period

    # -- printing --

    def row(self, obj: Pod) -> Sequence[Any]:
        return pod_row(obj)


def _terminated_transitions(
    new: Sequence[ContainerStatus],
    old: Sequence[ContainerStatus],
    path: FieldPath,
    restart_policy: str,
) -> list[FieldError]:
    """Containers of a pod that does not restart them may not leave the terminated state."""
    if restart_policy == "Always":
        return []
    errs: list[FieldError] = []
    for i, before in enumerate(old):
        terminated = before.state.terminated if before.state else None
        if terminated is None:
            continue
        if terminated.exit_code != 0 and restart_policy == "OnFailure":
            continue
        for after in new:
            if after.name == before.name and (
                after.state is None or after.state.terminated is None
            ):
                errs.append(
                    forbidden(
                        path.index(i).child("state"),
                        "may not be transitioned to non-terminated state",
                    )
                )
    return errs


def _pod_ips(status: PodStatus) -> list[FieldError]:
    errs: list[FieldError] = []
    pod_ips = STATUS.child("podIPs")
    for i, entry in enumerate(status.pod_ips):
        errs.extend(invalid(pod_ips.index(i), entry.ip, msg) for msg in is_valid_ip(entry.ip))
    if len(status.pod_ips) > 1 and not dual_stack([entry.ip for entry in status.pod_ips]):
        errs.append(
            invalid(pod_ips, status.pod_ips, "may specify no more than one IP for each IP family")
        )
    host_ips = STATUS.child("hostIPs")
    if status.host_ips and (status.host_ip or "") != status.host_ips[0].ip:
        errs.append(
            invalid(
                host_ips.index(0).child("ip"), status.host_ips[0].ip, "must be equal to `hostIP`"
            )
        )
    for i, host in enumerate(status.host_ips):
        errs.extend(invalid(host_ips.index(i), host.ip, msg) for msg in is_valid_ip(host.ip))
    return errs


def pod_row(pod: Pod) -> list[Any]:
    """READY, STATUS, RESTARTS, AGE_COLUMN, IP, NODE, NOMINATED NODE, READINESS GATES of a pod,
    computed as Kubernetes' ``printPod`` does."""
    spec = pod.spec or PodSpec()
    status = pod.status or PodStatus()
    restarts = 0
    sidecar_restarts = 0
    last_restart = None
    last_sidecar_restart = None
    total = len(spec.containers)
    ready = 0
    reason = status.phase or ""
    if status.reason:
        reason = status.reason
    for condition in status.conditions:
        if condition.type == "PodScheduled" and condition.reason == "SchedulingGated":
            reason = "SchedulingGated"
    init_by_name = {c.name: c for c in spec.init_containers}
    total += sum(1 for c in spec.init_containers if c.restart_policy == "Always")

    def later(current: Any, candidate: Any) -> Any:
        if candidate is None:
            return current
        return candidate if current is None or current < candidate else current

    initializing = False
    for i, cs in enumerate(status.init_container_statuses):
        restarts += cs.restart_count
        finished = (
            cs.last_state.terminated.finished_at
            if cs.last_state and cs.last_state.terminated
            else None
        )
        last_restart = later(last_restart, finished)
        container = init_by_name.get(cs.name)
        sidecar = container is not None and container.restart_policy == "Always"
        if sidecar:
            sidecar_restarts += cs.restart_count
            last_sidecar_restart = later(last_sidecar_restart, finished)
        state = cs.state
        terminated = state.terminated if state else None
        waiting = state.waiting if state else None
        if terminated is not None and terminated.exit_code == 0:
            continue
        if sidecar and cs.started:
            if cs.ready:
                ready += 1
            continue
        if terminated is not None:
            if not terminated.reason:
                if terminated.signal:
                    reason = f"Init:Signal:{terminated.signal}"
                else:
                    reason = f"Init:ExitCode:{terminated.exit_code}"
            else:
                reason = "Init:" + terminated.reason
            initializing = True
        elif waiting is not None and waiting.reason and waiting.reason != "PodInitializing":
            reason = "Init:" + waiting.reason
            initializing = True
        else:
            reason = f"Init:{i}/{len(spec.init_containers)}"
            initializing = True
        break
    initialized = any(c.type == "Initialized" and c.status == "True" for c in status.conditions)
    if not initializing or initialized:
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        for cs in reversed(status.container_statuses):
            restarts += cs.restart_count
            finished = (
                cs.last_state.terminated.finished_at
                if cs.last_state and cs.last_state.terminated
                else None
            )
            last_restart = later(last_restart, finished)
            state = cs.state
            waiting = state.waiting if state else None
            terminated = state.terminated if state else None
            if waiting is not None and waiting.reason:
                reason = waiting.reason
            elif terminated is not None and terminated.reason:
                reason = terminated.reason
            elif terminated is not None:
                if terminated.signal:
                    reason = f"Signal:{terminated.signal}"
                else:
                    reason = f"ExitCode:{terminated.exit_code}"
            elif cs.ready and state is not None and state.running is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            pod_ready = any(c.type == "Ready" and c.status == "True" for c in status.conditions)
            reason = "Running" if pod_ready else "NotReady"
    if pod.metadata.deletion_timestamp is not None and status.reason == _NODE_UNREACHABLE_REASON:
        reason = "Unknown"
    elif pod.metadata.deletion_timestamp is not None and status.phase not in (
        "Succeeded",
        "Failed",
    ):
        reason = "Terminating"
    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        restarts_text = f"{restarts} ({age(last_restart)} ago)"
    pod_ip = status.pod_ips[0].ip if status.pod_ips else ""
    gates = NONE
    if spec.readiness_gates:
        true = 0
        for gate in spec.readiness_gates:
            for condition in status.conditions:
                if condition.type == gate.condition_type:
                    true += condition.status == "True"
                    break
        gates = f"{true}/{len(spec.readiness_gates)}"
    return [
        f"{ready}/{total}",
        reason,
        restarts_text,
        age(pod.metadata.creation_timestamp),
        pod_ip or NONE,
        spec.node_name or NONE,
        status.nominated_node_name or NONE,
        gates,
    ]
