"""core/v1 kinds: Namespace, Pod, Node, Event, ConfigMap, Secret, Service, Endpoints,
ServiceAccount.

Each strategy reproduces what Kubernetes 1.30's apiserver does for its kind: the
defaults its conversion and defaulting functions fill in, the errors its validation
returns (same field paths, same words), the lifecycle rules of its registry strategy,
and the cells its server-side printer puts in ``kubectl get``. Pod spec rules live in
``podspec`` (shared with the workloads' pod templates).

Services allocate cluster IPs and node ports. Every allocation is a companion key
(``<prefix>/ranges/serviceips/<ip>``, ``<prefix>/ranges/servicenodeports/<port>``)
created in the same etcd transaction as the Service and deleted with it, so several
apiservers never hand out the same address and no allocation outlives its Service.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import random
from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson

from apiserver import errors
from apiserver.kinds import podspec
from apiserver.kinds.printers import AGE_DESCRIPTION, NONE, UNKNOWN, format_labels, join_host_port
from apiserver.registry.strategy import Column, KindSettings, StoreContext, Strategy, age, get_path
from apiserver.storage.interface import NO_COMPANIONS, Companions
from apitypes import registry
from apitypes.core import (
    ClientIPConfig,
    ConfigMap,
    ContainerStatus,
    Endpoints,
    Event,
    HostIP,
    LoadBalancerStatus,
    Namespace,
    NamespaceSpec,
    NamespaceStatus,
    Node,
    NodeSpec,
    Pod,
    PodCondition,
    PodIP,
    PodSpec,
    PodStatus,
    Secret,
    Service,
    ServiceAccount,
    ServicePort,
    ServiceSpec,
    ServiceStatus,
    SessionAffinityConfig,
)
from apitypes.registry import ResourceType
from apitypes.validation import (
    FIELD_IMMUTABLE,
    FieldError,
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    is_config_map_key,
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_ip,
    is_valid_label_value,
    is_valid_port_name,
    is_valid_port_num,
    not_supported,
    parse_ip_sloppy,
    required,
    too_long,
    validate_labels,
)


def _r(plural: str) -> ResourceType:
    return registry.resource("", plural)


_METADATA = FieldPath("metadata")
_SPEC = FieldPath("spec")
_STATUS = FieldPath("status")

# Finalizer names without a domain that Kubernetes accepts (``IsStandardFinalizerName``).
_STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})
_IMMUTABLE_WHEN_SET = "field is immutable when `immutable` is set"
MAX_SECRET_SIZE: Final = 1024 * 1024
_CIDR_ERROR = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"


class GoValue:
    """A value that prints in field errors as Go's ``%#v`` shows a struct."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"GoValue({self.text!r})"


def kube_finalizer_errors(
    finalizers: Sequence[str], path: FieldPath, *, indexed: bool
) -> list[FieldError]:
    """Unqualified finalizer names must be standard ones (``validateKubeFinalizerName``)."""
    errs: list[FieldError] = []
    for i, name in enumerate(finalizers):
        if "/" not in name and name not in _STANDARD_FINALIZERS:
            errs.append(
                invalid(
                    path.index(i) if indexed else path,
                    name,
                    "name is neither a standard finalizer name nor is it fully qualified",
                )
            )
    return errs


class CoreStrategy(Strategy):
    """core/v1 metadata rules: the generic ones plus Kubernetes' finalizer-name check."""

    def validate_metadata(self, obj: Any) -> list[FieldError]:
        errs = super().validate_metadata(obj)
        errs.extend(
            kube_finalizer_errors(
                obj.metadata.finalizers, _METADATA.child("finalizers"), indexed=True
            )
        )
        return errs


# --- Namespace ---------------------------------------------------------------------------


class NamespaceStrategy(CoreStrategy):
    """Namespaces: ``kubernetes`` finalizer and Active phase on create; deletion marks
    them Terminating until the namespace controller empties ``spec.finalizers`` through
    ``/finalize``."""

    resource = _r("namespaces")
    selectable_fields = ("status.phase",)
    columns = (
        Column("Status", description="The status of the namespace"),
        Column("Age", description=AGE_DESCRIPTION),
    )

    def fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        return {"status.phase": get_path(obj, "status", "phase")}

    def name_errors(self, name: str) -> list[str]:
        return is_dns1123_label(name)

    def prepare_for_create(self, obj: Namespace) -> None:
        obj.status = NamespaceStatus(phase="Active")
        if obj.spec is None:
            obj.spec = NamespaceSpec()
        # Required on create only: the namespace controller removes it later.
        if "kubernetes" not in obj.spec.finalizers:
            obj.spec.finalizers.append("kubernetes")

    def prepare_for_update(self, new: Namespace, old: Namespace) -> None:
        new.status = old.status
        finalizers = list(old.spec.finalizers) if old.spec else []
        new.spec = NamespaceSpec(finalizers=finalizers) if old.spec or new.spec else None

    def prepare_for_subresource_update(self, subresource: str, new: Any, old: Any) -> None:
        if subresource != "finalize":
            super().prepare_for_subresource_update(subresource, new, old)
            return
        finalizers = list(new.spec.finalizers) if new.spec else []
        new.metadata = old.metadata.model_copy(deep=True)
        new.status = old.status
        new.spec = NamespaceSpec(finalizers=finalizers)

    def default(self, obj: Namespace) -> None:
        if obj.status is None:
            obj.status = NamespaceStatus()
        if not obj.status.phase:
            obj.status.phase = "Active"
        if obj.metadata.name:
            obj.metadata.labels["kubernetes.io/metadata.name"] = obj.metadata.name

    def canonicalize(self, obj: Namespace) -> None:
        # A generated name is only known after defaulting; the label follows it.
        obj.metadata.labels["kubernetes.io/metadata.name"] = obj.metadata.name or ""

    def validate(self, obj: Namespace) -> list[FieldError]:
        errs = self.validate_metadata(obj)
        path = _SPEC.child("finalizers")
        for name in obj.spec.finalizers if obj.spec else []:
            errs.extend(invalid(path, name, msg) for msg in is_qualified_name(name))
            errs.extend(kube_finalizer_errors([name], path, indexed=False))
        return errs

    def validate_status_update(self, new: Namespace, old: Namespace) -> list[FieldError]:
        phase = new.status.phase if new.status else ""
        path = _STATUS.child("Phase")
        if new.metadata.deletion_timestamp is None:
            if phase != "Active":
                return [
                    invalid(path, phase, "may only be 'Active' if `deletionTimestamp` is empty")
                ]
        elif phase != "Terminating":
            return [
                invalid(
                    path, phase, "may only be 'Terminating' if `deletionTimestamp` is not empty"
                )
            ]
        return []

    def deletion_blocked(self, obj: Namespace) -> bool:
        return bool(obj.spec and obj.spec.finalizers)

    def prepare_for_delete(self, obj: Namespace) -> None:
        if obj.status is None:
            obj.status = NamespaceStatus()
        obj.status.phase = "Terminating"

    def row(self, obj: Namespace) -> Sequence[Any]:
        phase = obj.status.phase if obj.status else ""
        return [phase or "", age(obj.metadata.creation_timestamp)]


# --- Pod -------------------------------------------------------------------------------------

_SYSTEM_POD_CONDITIONS = frozenset({"PodScheduled", "Ready", "Initialized"})
_NODE_UNREACHABLE_REASON = "NodeLost"


class PodStrategy(CoreStrategy):
    """Pods: defaulted and validated through ``podspec``; Pending with a QoS class on
    create; an immutable spec but for images, deadlines, tolerations and gates; deleted
    gracefully once bound to a node."""

    resource = _r("pods")
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
        Column("Age", description=AGE_DESCRIPTION),
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
        obj.status = PodStatus(phase="Pending", qos_class=podspec.pod_qos_class(obj.spec))
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
        errs.extend(podspec.validate_pod_spec(spec, _SPEC))
        mirror = obj.metadata.annotations.get("kubernetes.io/config.mirror")
        if mirror is not None and not spec.node_name:
            errs.append(
                invalid(
                    _METADATA.child("annotations").key("kubernetes.io/config.mirror"),
                    mirror,
                    "must set spec.nodeName if mirror pod annotation is set",
                )
            )
        # Ephemeral containers come only through their own subresource.
        if spec.ephemeral_containers:
            errs.append(forbidden(_SPEC.child("ephemeralContainers"), "cannot be set on create"))
        if spec.node_name and spec.scheduling_gates:
            errs.append(
                forbidden(
                    _SPEC.child("nodeName"),
                    "cannot be set until all schedulingGates have been cleared",
                )
            )
        return errs

    def validate_update(self, new: Pod, old: Pod) -> list[FieldError]:
        return podspec.validate_pod_spec_update(new.spec, old.spec, _SPEC)

    def validate_status_update(self, new: Pod, old: Pod) -> list[FieldError]:
        status = new.status or PodStatus()
        before = old.status or PodStatus()
        errs: list[FieldError] = []
        conditions = _STATUS.child("conditions")
        for i, condition in enumerate(status.conditions):
            if condition.type not in _SYSTEM_POD_CONDITIONS:
                errs.extend(
                    invalid(conditions.index(i).child("Type"), condition.type, msg)
                    for msg in is_qualified_name(condition.type)
                )
        nominated = status.nominated_node_name or ""
        if nominated and nominated != (before.nominated_node_name or ""):
            errs.extend(
                invalid(_STATUS.child("nominatedNodeName"), nominated, msg)
                for msg in is_dns1123_subdomain(nominated)
            )
        if (status.qos_class or "") != (before.qos_class or ""):
            errs.append(invalid(_STATUS.child("qosClass"), status.qos_class or "", FIELD_IMMUTABLE))
        spec = old.spec or PodSpec()
        errs.extend(
            _terminated_transitions(
                status.container_statuses,
                before.container_statuses,
                _STATUS.child("containerStatuses"),
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
    pod_ips = _STATUS.child("podIPs")
    for i, entry in enumerate(status.pod_ips):
        errs.extend(invalid(pod_ips.index(i), entry.ip, msg) for msg in is_valid_ip(entry.ip))
    if len(status.pod_ips) > 1 and not _dual_stack([entry.ip for entry in status.pod_ips]):
        errs.append(
            invalid(pod_ips, status.pod_ips, "may specify no more than one IP for each IP family")
        )
    host_ips = _STATUS.child("hostIPs")
    if status.host_ips and (status.host_ip or "") != status.host_ips[0].ip:
        errs.append(
            invalid(
                host_ips.index(0).child("ip"), status.host_ips[0].ip, "must be equal to `hostIP`"
            )
        )
    for i, host in enumerate(status.host_ips):
        errs.extend(invalid(host_ips.index(i), host.ip, msg) for msg in is_valid_ip(host.ip))
    return errs


def _dual_stack(addresses: Sequence[str]) -> bool:
    """Exactly one IPv4 and one IPv6 address."""
    if len(addresses) != 2:
        return False
    try:
        versions = {ipaddress.ip_address(address).version for address in addresses}
    except ValueError:
        return False
    return versions == {4, 6}


def pod_row(pod: Pod) -> list[Any]:
    """READY, STATUS, RESTARTS, AGE, IP, NODE, NOMINATED NODE, READINESS GATES of a pod,
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


# --- Node ---------------------------------------------------------------------------------

_NODE_ROLE_PREFIX = "node-role.kubernetes.io/"
_NODE_ROLE_LABEL = "kubernetes.io/role"


def _valid_cidr(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return "/" in value


class NodeStrategy(CoreStrategy):
    """Nodes: the kubelet registers them with status; ``podCIDRs`` and ``providerID``
    may be set once; taints must be valid and unique per key and effect."""

    resource = _r("nodes")
    selectable_fields = ("spec.unschedulable",)
    columns = (
        Column("Status", description="The status of the node"),
        Column("Roles", description="The roles of the node"),
        Column("Age", description=AGE_DESCRIPTION),
        Column("Version", description="Kubelet Version reported by the node."),
        Column("Internal-IP", priority=1, description="The node's first internal IP address."),
        Column("External-IP", priority=1, description="The node's first external IP address."),
        Column("OS-Image", priority=1, description="OS Image reported by the node."),
        Column("Kernel-Version", priority=1, description="Kernel Version reported by the node."),
        Column(
            "Container-Runtime",
            priority=1,
            description="ContainerRuntime Version reported by the node.",
        ),
    )

    def fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        return {"spec.unschedulable": get_path(obj, "spec", "unschedulable", default="false")}

    def prepare_for_create(self, obj: Node) -> None:
        # The kubelet registers its node with status already filled in.
        pass

    def default(self, obj: Node) -> None:
        if obj.spec is None:
            obj.spec = NodeSpec()
        # ``podCIDR`` is the first of ``podCIDRs``, as conversion keeps them.
        if obj.spec.pod_cidr and not obj.spec.pod_cidrs:
            obj.spec.pod_cidrs = [obj.spec.pod_cidr]
        if obj.spec.pod_cidrs:
            obj.spec.pod_cidr = obj.spec.pod_cidrs[0]
        if obj.status is not None:
            podspec.default_resource_list(obj.status.capacity)
            if not obj.status.allocatable and obj.status.capacity:
                obj.status.allocatable = dict(obj.status.capacity)
            podspec.default_resource_list(obj.status.allocatable)

    def validate(self, obj: Node) -> list[FieldError]:
        errs = self.validate_metadata(obj)
        spec = obj.spec or NodeSpec()
        # Kubernetes reports taints below "metadata", and so do we.
        errs.extend(validate_taints(spec.taints, _METADATA.child("taints")))
        errs.extend(self._resources(obj))
        if spec.pod_cidrs:
            path = _SPEC.child("podCIDRs")
            for i, cidr in enumerate(spec.pod_cidrs):
                if not _valid_cidr(cidr):
                    errs.append(invalid(path.index(i), cidr, _CIDR_ERROR))
            if len(spec.pod_cidrs) > 1 and not _dual_stack(
                [c.split("/")[0] for c in spec.pod_cidrs]
            ):
                errs.append(
                    invalid(
                        path, spec.pod_cidrs, "may specify no more than one CIDR for each IP family"
                    )
                )
        return errs

    def _resources(self, obj: Node) -> list[FieldError]:
        errs: list[FieldError] = []
        if obj.status is None:
            return errs
        for field_name, values in (
            ("capacity", obj.status.capacity),
            ("allocatable", obj.status.allocatable),
        ):
            for name in sorted(values):
                path = _STATUS.child(field_name, name)
                quantity, qerrs = podspec.parse_quantity_field(values[name], path)
                errs.extend(qerrs)
                if quantity is not None:
                    errs.extend(podspec.validate_quantity_value(name, quantity, path))
        return errs

    def validate_update(self, new: Node, old: Node) -> list[FieldError]:
        errs: list[FieldError] = []
        spec = new.spec or NodeSpec()
        before = old.spec or NodeSpec()
        message = 'node updates may not change podCIDR except from "" to valid'
        if before.pod_cidrs:
            if len(before.pod_cidrs) != len(spec.pod_cidrs):
                errs.append(forbidden(_SPEC.child("podCIDRs"), message))
            else:
                errs.extend(
                    forbidden(_SPEC.child("podCIDRs"), message)
                    for old_cidr, new_cidr in zip(before.pod_cidrs, spec.pod_cidrs, strict=True)
                    if old_cidr != new_cidr
                )
        if before.provider_id and before.provider_id != spec.provider_id:
            errs.append(
                forbidden(
                    _SPEC.child("providerID"),
                    'node updates may not change providerID except from "" to valid',
                )
            )
        if (spec.external_id or "") != (before.external_id or ""):
            errs.append(forbidden(_SPEC.child("externalID"), "may not be updated"))
        seen: set[tuple[str, str]] = set()
        addresses = new.status.addresses if new.status else []
        for i, address in enumerate(addresses):
            key = (address.type, address.address)
            if key in seen:
                shown = GoValue(
                    f'core.NodeAddress{{Type:"{address.type}", Address:"{address.address}"}}'
                )
                errs.append(duplicate(_STATUS.child("addresses").index(i), shown))
            seen.add(key)
        return errs

    def validate_status_update(self, new: Node, old: Node) -> list[FieldError]:
        return self.validate_update(new, old)

    def row(self, obj: Node) -> Sequence[Any]:
        status = obj.status
        ready = status.condition("Ready") if status else None
        if ready is None:
            states = ["Unknown"]
        else:
            states = ["Ready" if ready.status == "True" else "NotReady"]
        if obj.is_unschedulable():
            states.append("SchedulingDisabled")
        roles: set[str] = set()
        for key, value in obj.metadata.labels.items():
            if key.startswith(_NODE_ROLE_PREFIX):
                role = key[len(_NODE_ROLE_PREFIX) :]
                if role:
                    roles.add(role)
            elif key == _NODE_ROLE_LABEL and value:
                roles.add(value)
        info = status.node_info if status else None
        return [
            ",".join(states),
            ",".join(sorted(roles)) or NONE,
            age(obj.metadata.creation_timestamp),
            info.kubelet_version if info else "",
            (status.address("InternalIP") if status else None) or NONE,
            (status.address("ExternalIP") if status else None) or NONE,
            (info.os_image if info else "") or UNKNOWN,
            (info.kernel_version if info else "") or UNKNOWN,
            (info.container_runtime_version if info else "") or UNKNOWN,
        ]


def validate_taints(taints: Sequence[Any], path: FieldPath) -> list[FieldError]:
    """Keys, values and effects of node taints, unique by key and effect."""
    errs: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for i, taint in enumerate(taints):
        idx = path.index(i)
        errs.extend(
            invalid(idx.child("key"), taint.key, msg) for msg in is_qualified_name(taint.key)
        )
        value = taint.value or ""
        messages = is_valid_label_value(value)
        if messages:
            errs.append(invalid(idx.child("value"), value, ";".join(messages)))
        errs.extend(
            podspec.validate_taint_effect(taint.effect, idx.child("effect"), allow_empty=False)
        )
        if (taint.effect, taint.key) in seen:
            shown = GoValue(
                f'core.Taint{{Key:"{taint.key}", Value:"{value}", Effect:"{taint.effect}", '
                "TimeAdded:(*v1.Time)(nil)}"
            )
            err = duplicate(idx, shown)
            errs.append(
                FieldError(
                    err.type,
                    err.field,
                    err.bad_value,
                    "taints must be unique by key and effect pair",
                )
            )
            continue
        seen.add((taint.effect, taint.key))
    return errs


# --- Event --------------------------------------------------------------------------------

_REASON_LIMIT = 128
_NOTE_LIMIT = 1024
_ACTION_LIMIT = 128
_INSTANCE_LIMIT = 128


class EventStrategy(CoreStrategy):
    """core/v1 Events, validated with Kubernetes' lenient rules for this old API."""

    resource = _r("events")
    status_subresource = False
    name_column = False
    selectable_fields = (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    )
    columns = (
        Column(
            "Last Seen",
            description="The time at which the most recent occurrence of this event was recorded.",
        ),
        Column("Type", description="Type of this event (Normal, Warning)."),
        Column("Reason", description="A short, machine understandable string for the event."),
        Column("Object", description="The object that this event is about."),
        Column("Subobject", priority=1, description="The part of the object the event is about."),
        Column("Source", priority=1, description="The component reporting this event."),
        Column(
            "Message", description="A human-readable description of the status of this operation."
        ),
        Column(
            "First Seen", priority=1, description="The time at which the event was first recorded."
        ),
        Column("Count", priority=1, description="The number of times this event has occurred."),
        Column("Name", priority=1, format="name", description="The name of the event."),
    )

    def fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        involved = obj.get("involvedObject") or {}
        source = obj.get("source") or {}
        return {
            "involvedObject.kind": involved.get("kind") or "",
            "involvedObject.namespace": involved.get("namespace") or "",
            "involvedObject.name": involved.get("name") or "",
            "involvedObject.uid": involved.get("uid") or "",
            "involvedObject.apiVersion": involved.get("apiVersion") or "",
            "involvedObject.resourceVersion": involved.get("resourceVersion") or "",
            "involvedObject.fieldPath": involved.get("fieldPath") or "",
            "reason": obj.get("reason") or "",
            "reportingComponent": obj.get("reportingComponent") or "",
            "source": source.get("component") or obj.get("reportingComponent") or "",
            "type": obj.get("type") or "",
        }

    def validate(self, obj: Event) -> list[FieldError]:
        # core/v1 Events skip object-meta validation in Kubernetes; only a name is needed.
        errs: list[FieldError] = []
        if not obj.metadata.name:
            errs.append(required(_METADATA.child("name"), "name or generateName is required"))
        namespace = obj.metadata.namespace or ""
        involved_ns = obj.involved_object.namespace or ""
        mismatch = invalid(
            FieldPath("involvedObject", "namespace"), involved_ns, "does not match event.namespace"
        )
        if obj.event_time is None:
            if not involved_ns:
                if namespace not in ("", "default"):
                    errs.append(mismatch)
            elif namespace != involved_ns:
                errs.append(mismatch)
        else:
            if not involved_ns and namespace not in ("default", "kube-system"):
                errs.append(mismatch)
            component = obj.reporting_component or ""
            if not component:
                errs.append(required(FieldPath("reportingComponent")))
            errs.extend(
                invalid(FieldPath("reportingComponent"), component, m)
                for m in is_qualified_name(component)
            )
            for value, name, limit in (
                (obj.reporting_instance, "reportingInstance", _INSTANCE_LIMIT),
                (obj.action, "action", _ACTION_LIMIT),
                (obj.reason, "reason", _REASON_LIMIT),
            ):
                if not value:
                    errs.append(required(FieldPath(name)))
                if len(value or "") > limit:
                    errs.append(
                        invalid(FieldPath(name), "", f"can have at most {limit} characters")
                    )
            if len(obj.message or "") > _NOTE_LIMIT:
                errs.append(
                    invalid(FieldPath("message"), "", f"can have at most {_NOTE_LIMIT} characters")
                )
        errs.extend(
            invalid(FieldPath("namespace"), namespace, m) for m in is_dns1123_subdomain(namespace)
        )
        return errs

    def row(self, obj: Event) -> Sequence[Any]:
        first = age(obj.first_timestamp) if obj.first_timestamp else age(obj.event_time)
        last = age(obj.last_timestamp) if obj.last_timestamp else first
        count = obj.count or 0
        if obj.series is not None:
            last = age(obj.series.last_observed_time)
            count = obj.series.count or 0
        elif count == 0:
            count = 1
        involved = obj.involved_object
        kind = (involved.kind or "").lower()
        target = f"{kind}/{involved.name}" if involved.name else kind
        source = obj.source
        component = (source.component if source else None) or obj.reporting_component or ""
        host = (source.host if source else None) or obj.reporting_instance or ""
        return [
            last,
            obj.type or "",
            obj.reason or "",
            target,
            involved.field_path or "",
            f"{component}, {host}" if host else component,
            (obj.message or "").strip(),
            first,
            count,
            obj.metadata.name or "",
        ]


# --- ConfigMap and Secret --------------------------------------------------------------------

_BASE64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def _base64_error_offset(text: str) -> int:
    """Where Go's standard base64 decoder reports ``illegal base64 data`` in ``text``."""
    chars = [c for c in text if c not in "\r\n"]
    for i, char in enumerate(chars):
        if char != "=" and char not in _BASE64_ALPHABET:
            return i
    if "=" in chars:
        first_pad = chars.index("=")
        if first_pad % 4 < 2 or len(chars) % 4 or any(c != "=" for c in chars[first_pad:]):
            return first_pad
    return len(chars) - len(chars) % 4


def decode_base64_field(text: str) -> bytes | None:
    """The bytes of a base64 ``[]byte`` field as Go's JSON decoder reads it (newlines are
    skipped, padding is required), or None if Go would refuse it."""
    cleaned = text.replace("\r", "").replace("\n", "")
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        return None


def _canonical_base64(values: dict[str, str], kind: str) -> dict[str, bytes]:
    """Decode every value, rewriting it canonically; 400 as Kubernetes' decoder answers."""
    decoded: dict[str, bytes] = {}
    for key, text in values.items():
        raw = decode_base64_field(text)
        if raw is None:
            raise errors.bad_request(
                f'{kind} in version "v1" cannot be handled as a {kind}: illegal base64 data at '
                f"input byte {_base64_error_offset(text)}"
            )
        decoded[key] = raw
        values[key] = base64.b64encode(raw).decode()
    return decoded


def _immutable_data(new: Any, old: Any, fields: Sequence[tuple[str, str]]) -> list[FieldError]:
    if not old.immutable:
        return []
    errs: list[FieldError] = []
    if not new.immutable:
        errs.append(forbidden(FieldPath("immutable"), _IMMUTABLE_WHEN_SET))
    for attr, wire in fields:
        if getattr(new, attr) != getattr(old, attr):
            errs.append(forbidden(FieldPath(wire), _IMMUTABLE_WHEN_SET))
    return errs


def _config_key_errors(key: str, path: FieldPath) -> list[FieldError]:
    return [invalid(path, key, msg) for msg in is_config_map_key(key)]


class ConfigMapStrategy(CoreStrategy):
    """ConfigMaps: valid keys, no key in both maps, 1 MiB at most, and no changes at all
    once ``immutable``."""

    resource = _r("configmaps")
    status_subresource = False
    columns = (
        Column("Data", description="Data contains the configuration data."),
        Column("Age", description=AGE_DESCRIPTION),
    )

    def default(self, obj: ConfigMap) -> None:
        _canonical_base64(obj.binary_data, "ConfigMap")

    def validate(self, obj: ConfigMap) -> list[FieldError]:
        errs = self.validate_metadata(obj)
        total = 0
        for key in sorted(obj.data):
            path = FieldPath("data").key(key)
            errs.extend(_config_key_errors(key, path))
            if key in obj.binary_data:
                errs.append(invalid(path, key, "duplicate of key present in binaryData"))
            total += len(obj.data[key].encode())
        for key in sorted(obj.binary_data):
            errs.extend(_config_key_errors(key, FieldPath("binaryData").key(key)))
            total += len(decode_base64_field(obj.binary_data[key]) or b"")
        if total > MAX_SECRET_SIZE:
            errs.append(too_long("", "", MAX_SECRET_SIZE))
        return errs

    def validate_update(self, new: ConfigMap, old: ConfigMap) -> list[FieldError]:
        return _immutable_data(new, old, (("data", "data"), ("binary_data", "binaryData")))

    def row(self, obj: ConfigMap) -> Sequence[Any]:
        return [len(obj.data) + len(obj.binary_data), age(obj.metadata.creation_timestamp)]


_SECRET_REQUIRED_KEYS: Mapping[str, tuple[str, ...]] = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
}
_SECRET_JSON_KEYS: Mapping[str, str] = {
    "kubernetes.io/dockercfg": ".dockercfg",
    "kubernetes.io/dockerconfigjson": ".dockerconfigjson",
}


def _go_json_object_error(raw: bytes) -> str | None:
    """Go's error for decoding ``raw`` into a JSON object, None if it decodes."""
    if not raw.strip():
        return "unexpected end of JSON input"
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        position = getattr(err, "pos", 0) or 0
        char = raw[position : position + 1].decode(errors="replace") or " "
        return f"invalid character {char!r} looking for beginning of value"
    if isinstance(value, dict):
        return None
    kinds = {list: "array", str: "string", bool: "bool", int: "number", float: "number"}
    shown = kinds.get(type(value), "null")
    if value is None:
        return None
    return f"json: cannot unmarshal {shown} into Go value of type map[string]interface {{}}"


class SecretStrategy(CoreStrategy):
    """Secrets: ``stringData`` folded into ``data`` on every write, type Opaque by
    default and immutable, the keys each type requires, ``immutable`` like ConfigMaps."""

    resource = _r("secrets")
    status_subresource = False
    selectable_fields = ("type",)
    columns = (
        Column("Type", description="Used to facilitate programmatic handling of secret data."),
        Column("Data", description="Contains the secret data."),
        Column("Age", description=AGE_DESCRIPTION),
    )

    def fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        return {"type": obj.get("type") or ""}

    def default(self, obj: Secret) -> None:
        if not obj.type:
            obj.type = "Opaque"
        _canonical_base64(obj.data, "Secret")
        # ``stringData`` is write-only: it overwrites ``data`` and is never stored.
        for key, value in obj.string_data.items():
            obj.data[key] = base64.b64encode(value.encode()).decode()
        obj.string_data = {}

    def validate(self, obj: Secret) -> list[FieldError]:
        errs = self.validate_metadata(obj)
        data_path = FieldPath("data")
        decoded = {key: decode_base64_field(value) or b"" for key, value in obj.data.items()}
        for key in sorted(obj.data):
            errs.extend(_config_key_errors(key, data_path.key(key)))
        if sum(len(value) for value in decoded.values()) > MAX_SECRET_SIZE:
            errs.append(too_long(data_path, "", MAX_SECRET_SIZE))
        secret_type = obj.type or ""
        if secret_type == "kubernetes.io/service-account-token":
            if not obj.metadata.annotations.get("kubernetes.io/service-account.name"):
                errs.append(
                    required(
                        _METADATA.child("annotations").key("kubernetes.io/service-account.name")
                    )
                )
        elif secret_type in _SECRET_JSON_KEYS:
            key = _SECRET_JSON_KEYS[secret_type]
            if key not in decoded:
                errs.append(required(data_path.key(key)))
            else:
                problem = _go_json_object_error(decoded[key])
                if problem:
                    errs.append(invalid(data_path.key(key), "<secret contents redacted>", problem))
        elif secret_type == "kubernetes.io/basic-auth":
            if "username" not in decoded and "password" not in decoded:
                errs.append(required(data_path.key("username")))
                errs.append(required(data_path.key("password")))
        elif secret_type == "kubernetes.io/ssh-auth" and not decoded.get("ssh-privatekey"):
            errs.append(required(data_path.key("ssh-privatekey")))
        for key in _SECRET_REQUIRED_KEYS.get(secret_type, ()):
            if key not in decoded:
                errs.append(required(data_path.key(key)))
        return errs

    def validate_update(self, new: Secret, old: Secret) -> list[FieldError]:
        errs: list[FieldError] = []
        if (new.type or "") != (old.type or ""):
            errs.append(invalid(FieldPath("type"), new.type or "", FIELD_IMMUTABLE))
        errs.extend(_immutable_data(new, old, (("data", "data"),)))
        return errs

    def row(self, obj: Secret) -> Sequence[Any]:
        return [obj.type or "", len(obj.data), age(obj.metadata.creation_timestamp)]


# --- Service ---------------------------------------------------------------------------------

_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_SESSION_AFFINITIES = ("ClientIP", "None")
_TRAFFIC_POLICIES = ("Cluster", "Local")
_IP_FAMILIES = ("IPv4", "IPv6")
_IP_FAMILY_POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")
_PORT_PROTOCOLS = ("SCTP", "TCP", "UDP")
_MAX_AFFINITY_TIMEOUT = 86400
_DEFAULT_AFFINITY_TIMEOUT = 10800
_IP_KEYS = "ranges/serviceips"
_PORT_KEYS = "ranges/servicenodeports"
# Random draws before falling back to a scan of the whole range.
_RANDOM_TRIES = 64


def _needs_cluster_ip(svc: Service) -> bool:
    return svc.spec is not None and svc.spec.type != "ExternalName"


def _needs_node_ports(svc: Service) -> bool:
    return svc.spec is not None and svc.spec.type in ("NodePort", "LoadBalancer")


def _allocates_node_ports(svc: Service) -> bool:
    spec = svc.spec
    if spec is None:
        return False
    if spec.type == "NodePort":
        return True
    return spec.type == "LoadBalancer" and spec.allocate_load_balancer_node_ports is not False


def _needs_health_check(svc: Service) -> bool:
    spec = svc.spec
    return (
        spec is not None and spec.type == "LoadBalancer" and spec.external_traffic_policy == "Local"
    )


def _externally_accessible(svc: Service) -> bool:
    spec = svc.spec
    if spec is None:
        return False
    return spec.type in ("LoadBalancer", "NodePort") or (
        spec.type == "ClusterIP" and bool(spec.external_ips)
    )


def _headless(svc: Service) -> bool:
    return svc.spec is not None and svc.spec.cluster_ip == "None"


def _service_port_repr(port: ServicePort) -> GoValue:
    return GoValue(
        f'core.ServicePort{{Name:"", Protocol:"{port.protocol or ""}", AppProtocol:(*string)(nil), '
        f'Port:{port.port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:""}}, NodePort:0}}'
    )


def _allocated_ips(svc: Service | None) -> list[str]:
    if svc is None or not _needs_cluster_ip(svc):
        return []
    assert svc.spec is not None
    return [ip for ip in svc.spec.cluster_ips if ip and ip != "None"]


def _allocated_ports(svc: Service | None) -> set[int]:
    if svc is None or svc.spec is None:
        return set()
    ports = (
        {port.node_port for port in svc.spec.ports if port.node_port}
        if _needs_node_ports(svc)
        else set()
    )
    if _needs_health_check(svc) and svc.spec.health_check_node_port:
        ports.add(svc.spec.health_check_node_port)
    return ports


class _Range:
    """A block of integers handed out with a preferred dynamic band above a static one,
    as Kubernetes' allocators do (requests by number are steered to the low band)."""

    def __init__(
        self, first: int, last: int, offset: int, reserved: frozenset[int] = frozenset()
    ) -> None:
        self.first = first
        self.last = last
        self.offset = offset
        self.reserved = reserved

    def contains(self, value: int) -> bool:
        return self.first <= value <= self.last

    def pick(self, taken: set[int]) -> int | None:
        """A random free value: from the upper band first, then anywhere."""
        bands = [(self.first + self.offset, self.last), (self.first, self.first + self.offset - 1)]
        for low, high in bands:
            if low > high:
                continue
            for _ in range(_RANDOM_TRIES):
                candidate = random.randint(low, high)
                if candidate not in taken and candidate not in self.reserved:
                    return candidate
            start = random.randint(low, high)
            for step in range(high - low + 1):
                candidate = low + (start - low + step) % (high - low + 1)
                if candidate not in taken and candidate not in self.reserved:
                    return candidate
        return None


def _range_offset(size: int, minimum: int, maximum: int, step: int) -> int:
    if size <= minimum:
        return 0
    return max(minimum, min(size // step, maximum))


class ServiceStrategy(CoreStrategy):
    """Services: defaults and validation as Kubernetes, cluster IPs from
    ``settings.service_cluster_ip_range`` and node ports from
    ``settings.service_node_port_range``, each held by a companion key."""

    resource = _r("services")
    allocates = True
    return_deleted_object = True
    columns = (
        Column("Type", description="Type determines how the Service is exposed."),
        Column(
            "Cluster-IP", description="The IP address of the service, usually assigned randomly."
        ),
        Column(
            "External-IP",
            description="The IP addresses for which nodes also accept traffic for this service.",
        ),
        Column("Port(s)", description="The list of ports that are exposed by this service."),
        Column("Age", description=AGE_DESCRIPTION),
        Column(
            "Selector",
            priority=1,
            description="Route service traffic to pods with label keys and values matching this selector.",
        ),
    )

    def __init__(self, settings: KindSettings | None = None) -> None:
        super().__init__(settings)
        self.network = ipaddress.ip_network(self.settings.service_cluster_ip_range, strict=False)
        self.family = "IPv4" if self.network.version == 4 else "IPv6"
        base = int(self.network.network_address) + 1
        last = int(self.network.broadcast_address) - 1
        size = max(last - base + 1, 0)
        # The first address belongs to the ``kubernetes`` Service; only a request gets it.
        self.ips = _Range(base, last, _range_offset(size, 16, 256, 16), frozenset({base}))
        low, high = self.settings.service_node_port_range
        self.node_ports = _Range(low, high, _range_offset(high - low + 1, 16, 128, 32))

    def name_errors(self, name: str) -> list[str]:
        return is_dns1035_label(name)

    # -- defaults and lifecycle --

    def default(self, obj: Service) -> None:
        if obj.spec is None:
            obj.spec = ServiceSpec()
        spec = obj.spec
        if not spec.session_affinity:
            spec.session_affinity = "None"
        if spec.session_affinity == "None":
            spec.session_affinity_config = None
        if spec.session_affinity == "ClientIP":
            config = spec.session_affinity_config
            if (
                config is None
                or config.client_ip is None
                or config.client_ip.timeout_seconds is None
            ):
                spec.session_affinity_config = SessionAffinityConfig(
                    client_ip=ClientIPConfig(timeout_seconds=_DEFAULT_AFFINITY_TIMEOUT)
                )
        if not spec.type:
            spec.type = "ClusterIP"
        for port in spec.ports:
            if not port.protocol:
                port.protocol = "TCP"
            if port.target_port is None or port.target_port in (0, ""):
                port.target_port = port.port
        if _externally_accessible(obj) and not spec.external_traffic_policy:
            spec.external_traffic_policy = "Cluster"
        if spec.internal_traffic_policy is None and spec.type in (
            "ClusterIP",
            "NodePort",
            "LoadBalancer",
        ):
            spec.internal_traffic_policy = "Cluster"
        if spec.type == "LoadBalancer" and spec.allocate_load_balancer_node_ports is None:
            spec.allocate_load_balancer_node_ports = True
        if spec.cluster_ip and not spec.cluster_ips:
            spec.cluster_ips = [spec.cluster_ip]
        if _needs_cluster_ip(obj):
            self._default_families(obj)
        if obj.status is None:
            obj.status = ServiceStatus(load_balancer=LoadBalancerStatus())
        elif obj.status.load_balancer is None:
            obj.status.load_balancer = LoadBalancerStatus()

    def _default_families(self, obj: Service) -> None:
        spec = obj.spec
        assert spec is not None
        for i, ip in enumerate(spec.cluster_ips):
            if ip == "None":
                break
            if i >= len(spec.ip_families) and parse_ip_sloppy(ip):
                spec.ip_families.append("IPv6" if ":" in ip else "IPv4")
        if spec.cluster_ip == "None" and not spec.selector:
            # Headless without selector: both families, whatever the cluster has.
            if spec.ip_family_policy is None:
                spec.ip_family_policy = "RequireDualStack"
            if not spec.ip_families:
                spec.ip_families = [self.family]
            if len(spec.ip_families) < 2 and spec.ip_family_policy != "SingleStack":
                spec.ip_families.append("IPv6" if spec.ip_families[0] == "IPv4" else "IPv4")
            return
        if spec.ip_family_policy is None:
            two = len(spec.ip_families) == 2 or len(spec.cluster_ips) == 2
            spec.ip_family_policy = "RequireDualStack" if two else "SingleStack"
        if not spec.ip_families:
            spec.ip_families = [self.family]

    def prepare_for_update(self, new: Service, old: Service) -> None:
        new.status = old.status
        # Defaults first, as Kubernetes has them from decoding before this point.
        self.default(new)
        assert new.spec is not None and old.spec is not None
        self._patch_allocated(new, old)
        self._normalize_cluster_ips(new, old)
        self._drop_type_dependent(new, old)

    def _patch_allocated(self, new: Service, old: Service) -> None:
        """Values the client left out but the server allocated before are kept."""
        spec, before = new.spec, old.spec
        assert spec is not None and before is not None
        if _needs_cluster_ip(old) and _needs_cluster_ip(new):
            if not spec.cluster_ip:
                spec.cluster_ip = before.cluster_ip
            if not spec.cluster_ips and before.cluster_ips:
                spec.cluster_ips = list(before.cluster_ips)
            if not spec.ip_families and before.ip_families:
                spec.ip_families = list(before.ip_families)
            if spec.ip_family_policy is None:
                spec.ip_family_policy = before.ip_family_policy
        if _needs_node_ports(old) and _needs_node_ports(new):
            used = {p.node_port for p in before.ports if p.node_port} & {
                p.node_port for p in spec.ports if p.node_port
            }
            by_name = {p.name or "": p.node_port for p in before.ports}
            for port in spec.ports:
                if not port.node_port:
                    previous = by_name.get(port.name or "")
                    if previous and previous not in used:
                        port.node_port = previous
        if (
            _needs_health_check(old)
            and _needs_health_check(new)
            and not spec.health_check_node_port
        ):
            spec.health_check_node_port = before.health_check_node_port

    def _normalize_cluster_ips(self, new: Service, old: Service) -> None:
        spec, before = new.spec, old.spec
        assert spec is not None and before is not None
        if before.cluster_ips and not spec.cluster_ips and before.cluster_ip == spec.cluster_ip:
            spec.cluster_ips = list(before.cluster_ips)
        if before.cluster_ip != spec.cluster_ip:
            same = spec.cluster_ips == before.cluster_ips
            if before.cluster_ip and not spec.cluster_ip and same:
                spec.cluster_ips = []
            if spec.cluster_ip and same:
                spec.cluster_ips = [spec.cluster_ip]

    def _drop_type_dependent(self, new: Service, old: Service) -> None:
        """Fields the new type no longer uses go, when the client did not change them."""
        spec, before = new.spec, old.spec
        assert spec is not None and before is not None
        if _needs_cluster_ip(old) and not _needs_cluster_ip(new):
            if spec.cluster_ip == before.cluster_ip and spec.cluster_ips == before.cluster_ips:
                spec.cluster_ip = None
                spec.cluster_ips = []
            if spec.ip_families == before.ip_families:
                spec.ip_families = []
            if spec.ip_family_policy == before.ip_family_policy:
                spec.ip_family_policy = None
        same_ports = [p.node_port for p in spec.ports] == [p.node_port for p in before.ports]
        if _needs_node_ports(old) and not _needs_node_ports(new) and same_ports:
            for port in spec.ports:
                port.node_port = None
        same_hc = spec.health_check_node_port == before.health_check_node_port
        if _needs_health_check(old) and not _needs_health_check(new) and same_hc:
            spec.health_check_node_port = None
        if before.type == "LoadBalancer" and spec.type != "LoadBalancer":
            if spec.allocate_load_balancer_node_ports == before.allocate_load_balancer_node_ports:
                spec.allocate_load_balancer_node_ports = None
            if spec.load_balancer_class == before.load_balancer_class:
                spec.load_balancer_class = None
        same_etp = spec.external_traffic_policy == before.external_traffic_policy
        if _externally_accessible(old) and not _externally_accessible(new) and same_etp:
            spec.external_traffic_policy = None
        if spec.type != "LoadBalancer" and new.status is not None:
            new.status = new.status.model_copy(update={"load_balancer": LoadBalancerStatus()})

    # -- validation --

    def validate(self, obj: Service) -> list[FieldError]:
        errs = self.validate_metadata(obj)
        spec = obj.spec
        assert spec is not None
        headless = _headless(obj)
        if not spec.ports and not headless and spec.type != "ExternalName":
            errs.append(required(_SPEC.child("ports")))
        if spec.type in ("LoadBalancer", "NodePort") and headless:
            errs.append(
                invalid(
                    _SPEC.child("clusterIPs").index(0),
                    spec.cluster_ips[0] if spec.cluster_ips else "None",
                    f"may not be set to 'None' for {spec.type} services",
                )
            )
        if spec.type == "ExternalName":
            if spec.cluster_ips:
                errs.append(
                    forbidden(_SPEC.child("clusterIPs"), "may not be set for ExternalName services")
                )
            if spec.ip_families:
                errs.append(
                    forbidden(_SPEC.child("ipFamilies"), "may not be set for ExternalName services")
                )
            if spec.ip_family_policy is not None:
                errs.append(
                    forbidden(
                        _SPEC.child("ipFamilyPolicy"), "may not be set for ExternalName services"
                    )
                )
            cname = (spec.external_name or "").removesuffix(".")
            if cname:
                errs.extend(
                    invalid(_SPEC.child("externalName"), cname, msg)
                    for msg in is_dns1123_subdomain(cname)
                )
            else:
                errs.append(required(_SPEC.child("externalName")))
        names: set[str] = set()
        ports_path = _SPEC.child("ports")
        for i, port in enumerate(spec.ports):
            errs.extend(_service_port(port, len(spec.ports) > 1, names, ports_path.index(i)))
        errs.extend(validate_labels(spec.selector, _SPEC.child("selector")))
        errs.extend(self._session_affinity(obj))
        errs.extend(self._cluster_ip_fields(obj))
        for i, ip in enumerate(spec.external_ips):
            path = _SPEC.child("externalIPs").index(i)
            messages = is_valid_ip(ip)
            errs.extend(invalid(path, ip, msg) for msg in messages)
            if not messages:
                errs.extend(non_special_ip_errors(ip, path))
        if not spec.type:
            errs.append(required(_SPEC.child("type")))
        elif spec.type not in _SERVICE_TYPES:
            errs.append(not_supported(_SPEC.child("type"), spec.type, _SERVICE_TYPES))
        if spec.type == "ClusterIP":
            for i, port in enumerate(spec.ports):
                if port.node_port:
                    errs.append(
                        forbidden(
                            ports_path.index(i).child("nodePort"),
                            "may not be used when `type` is 'ClusterIP'",
                        )
                    )
        node_ports: set[tuple[str, int]] = set()
        for i, port in enumerate(spec.ports):
            if not port.node_port:
                continue
            key = (port.protocol or "", port.node_port)
            if key in node_ports:
                errs.append(duplicate(ports_path.index(i).child("nodePort"), port.node_port))
            node_ports.add(key)
        pairs: set[tuple[str, int]] = set()
        for i, port in enumerate(spec.ports):
            key = (port.protocol or "", port.port)
            if key in pairs:
                errs.append(duplicate(ports_path.index(i), _service_port_repr(port)))
            pairs.add(key)
        if spec.load_balancer_source_ranges:
            path = _SPEC.child("LoadBalancerSourceRanges")
            if spec.type != "LoadBalancer":
                errs.append(forbidden(path, "may only be used when `type` is 'LoadBalancer'"))
            for i, cidr in enumerate(spec.load_balancer_source_ranges):
                if not _valid_cidr(cidr.strip()):
                    errs.append(invalid(path.index(i), cidr.strip(), _CIDR_ERROR))
        if spec.allocate_load_balancer_node_ports is not None and spec.type != "LoadBalancer":
            errs.append(
                forbidden(
                    _SPEC.child("allocateLoadBalancerNodePorts"),
                    "may only be used when `type` is 'LoadBalancer'",
                )
            )
        if spec.type == "LoadBalancer" and spec.allocate_load_balancer_node_ports is None:
            errs.append(required(FieldPath("allocateLoadBalancerNodePorts")))
        if spec.load_balancer_class is not None:
            path = _SPEC.child("loadBalancerClass")
            if spec.type != "LoadBalancer":
                errs.append(forbidden(path, "may only be used when `type` is 'LoadBalancer'"))
            else:
                errs.extend(
                    invalid(path, spec.load_balancer_class, m)
                    for m in is_qualified_name(spec.load_balancer_class)
                )
        errs.extend(self._traffic_policies(obj))
        return errs

    def _session_affinity(self, obj: Service) -> list[FieldError]:
        spec = obj.spec
        assert spec is not None
        errs: list[FieldError] = []
        affinity = spec.session_affinity or ""
        if not affinity:
            errs.append(required(_SPEC.child("sessionAffinity")))
        elif affinity not in _SESSION_AFFINITIES:
            errs.append(
                not_supported(_SPEC.child("sessionAffinity"), affinity, _SESSION_AFFINITIES)
            )
        config_path = _SPEC.child("sessionAffinityConfig")
        if affinity == "ClientIP":
            detail = "when session affinity type is ClientIP"
            config = spec.session_affinity_config
            if config is None:
                errs.append(required(config_path, detail))
            elif config.client_ip is None:
                errs.append(required(config_path.child("clientIP"), detail))
            elif config.client_ip.timeout_seconds is None:
                errs.append(required(config_path.child("clientIP", "timeoutSeconds"), detail))
            else:
                timeout = config.client_ip.timeout_seconds
                if timeout <= 0 or timeout > _MAX_AFFINITY_TIMEOUT:
                    errs.append(
                        invalid(
                            config_path.child("clientIP", "timeoutSeconds"),
                            timeout,
                            f"must be greater than 0 and less than {_MAX_AFFINITY_TIMEOUT}",
                        )
                    )
        elif affinity == "None" and spec.session_affinity_config is not None:
            errs.append(forbidden(config_path, "must not be set when session affinity is None"))
        return errs

    def _cluster_ip_fields(self, obj: Service) -> list[FieldError]:
        """``ValidateServiceClusterIPsRelatedFields`` plus what this cluster can serve."""
        spec = obj.spec
        assert spec is not None
        if spec.type == "ExternalName":
            return []
        errs: list[FieldError] = []
        ips_path = _SPEC.child("clusterIPs")
        families_path = _SPEC.child("ipFamilies")
        policy_path = _SPEC.child("ipFamilyPolicy")
        if spec.cluster_ip:
            if not spec.cluster_ips:
                errs.append(required(ips_path))
            elif spec.cluster_ips[0] != spec.cluster_ip:
                errs.append(
                    invalid(ips_path, spec.cluster_ips, "first value must match `clusterIP`")
                )
        elif spec.cluster_ips:
            errs.append(
                invalid(
                    ips_path, spec.cluster_ips, "must be empty when `clusterIP` is not specified"
                )
            )
        seen: set[str] = set()
        for i, family in enumerate(spec.ip_families):
            if family not in _IP_FAMILIES:
                errs.append(not_supported(families_path.index(i), family, _IP_FAMILIES))
            if family in seen:
                errs.append(duplicate(families_path.index(i), family))
            seen.add(family)
        policy = spec.ip_family_policy
        if policy is not None and policy not in _IP_FAMILY_POLICIES:
            errs.append(not_supported(policy_path, policy, _IP_FAMILY_POLICIES))
        bad_ips = False
        for i, ip in enumerate(spec.cluster_ips):
            if i == 0 and ip == "None":
                if len(spec.cluster_ips) > 1:
                    bad_ips = True
                    errs.append(
                        invalid(
                            ips_path, spec.cluster_ips, "'None' must be the first and only value"
                        )
                    )
                continue
            messages = is_valid_ip(ip)
            bad_ips = bad_ips or bool(messages)
            errs.extend(invalid(ips_path.index(i), ip, msg) for msg in messages)
        if len(spec.cluster_ips) > 2:
            errs.append(invalid(ips_path, spec.cluster_ips, "may only hold up to 2 values"))
        if bad_ips:
            return errs
        if len(spec.cluster_ips) > 1 and not _dual_stack(spec.cluster_ips):
            errs.append(
                invalid(
                    ips_path, spec.cluster_ips, "may specify no more than one IP for each IP family"
                )
            )
        if not _headless(obj):
            for i, (ip, family) in enumerate(zip(spec.cluster_ips, spec.ip_families, strict=False)):
                v6 = ":" in ip
                if family == "IPv4" and v6:
                    errs.append(
                        invalid(
                            ips_path.index(i),
                            ip,
                            f"expected an IPv4 value as indicated by `ipFamilies[{i}]`",
                        )
                    )
                if family == "IPv6" and not v6:
                    errs.append(
                        invalid(
                            ips_path.index(i),
                            ip,
                            f"expected an IPv6 value as indicated by `ipFamilies[{i}]`",
                        )
                    )
        if _headless(obj) and not spec.selector:
            return errs
        # This cluster serves one family only.
        if policy == "RequireDualStack":
            errs.append(
                invalid(
                    policy_path, policy, "this cluster is not configured for dual-stack services"
                )
            )
        for i, family in enumerate(spec.ip_families):
            if family in _IP_FAMILIES and family != self.family:
                errs.append(
                    invalid(families_path.index(i), family, "not configured on this cluster")
                )
        if policy == "SingleStack" and len(spec.ip_families) > 1:
            errs.append(
                invalid(
                    policy_path,
                    policy,
                    "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified",
                )
            )
        return errs

    def _traffic_policies(self, obj: Service) -> list[FieldError]:
        spec = obj.spec
        assert spec is not None
        errs: list[FieldError] = []
        etp = spec.external_traffic_policy or ""
        path = _SPEC.child("externalTrafficPolicy")
        if not _externally_accessible(obj):
            if etp:
                errs.append(
                    invalid(path, etp, "may only be set for externally-accessible services")
                )
        elif not etp:
            errs.append(required(path))
        elif etp not in _TRAFFIC_POLICIES:
            errs.append(not_supported(path, etp, _TRAFFIC_POLICIES))
        hc = spec.health_check_node_port or 0
        hc_path = _SPEC.child("healthCheckNodePort")
        if not _needs_health_check(obj):
            if hc:
                errs.append(
                    invalid(
                        hc_path,
                        hc,
                        "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
                    )
                )
        elif hc:
            # An unset one is allocated with the Service, so only a given one is checked.
            errs.extend(invalid(hc_path, hc, msg) for msg in is_valid_port_num(hc))
        itp = spec.internal_traffic_policy
        itp_path = _SPEC.child("internalTrafficPolicy")
        if itp is None:
            if spec.type in ("NodePort", "LoadBalancer", "ClusterIP"):
                errs.append(required(itp_path))
        elif itp not in _TRAFFIC_POLICIES:
            errs.append(not_supported(itp_path, itp, _TRAFFIC_POLICIES))
        return errs

    def validate_update(self, new: Service, old: Service) -> list[FieldError]:
        spec, before = new.spec, old.spec
        assert spec is not None and before is not None
        errs: list[FieldError] = []
        if spec.type != "ExternalName" and before.type != "ExternalName":
            new_headless, old_headless = _headless(new), _headless(old)
            if not (new_headless and old_headless):
                errs.extend(
                    _cluster_ip_changes(spec.cluster_ips, before.cluster_ips, spec.ip_family_policy)
                )
            if new_headless == old_headless and not new_headless:
                errs.extend(_family_changes(spec, before))
        changed_hc = spec.health_check_node_port != before.health_check_node_port
        if _needs_health_check(old) and _needs_health_check(new) and changed_hc:
            errs.append(forbidden(_SPEC.child("healthCheckNodePort"), FIELD_IMMUTABLE))
        if (
            before.type == "LoadBalancer"
            and spec.type == "LoadBalancer"
            and before.load_balancer_class is not None
            and spec.load_balancer_class != before.load_balancer_class
        ):
            errs.append(
                invalid(
                    _SPEC.child("loadBalancerClass"),
                    spec.load_balancer_class,
                    "may not change once set",
                )
            )
        return errs

    def validate_status_update(self, new: Service, old: Service) -> list[FieldError]:
        errs: list[FieldError] = []
        balancer = new.status.load_balancer if new.status else None
        ingress_path = _STATUS.child("loadBalancer", "ingress")
        for i, ingress in enumerate(balancer.ingress if balancer else []):
            path = ingress_path.index(i)
            if ingress.ip:
                errs.extend(
                    invalid(path.child("ip"), ingress.ip, msg) for msg in is_valid_ip(ingress.ip)
                )
            if ingress.hostname:
                errs.extend(
                    invalid(path.child("hostname"), ingress.hostname, msg)
                    for msg in is_dns1123_subdomain(ingress.hostname)
                )
                if parse_ip_sloppy(ingress.hostname):
                    errs.append(
                        invalid(
                            path.child("hostname"),
                            ingress.hostname,
                            "must be a DNS name, not an IP address",
                        )
                    )
        return errs

    # -- allocation --

    async def companions_for_create(self, obj: Service, ctx: StoreContext) -> Companions:
        return await self._allocate(obj, None, ctx)

    async def companions_for_update(
        self, new: Service, old: Service, ctx: StoreContext
    ) -> Companions:
        return await self._allocate(new, old, ctx)

    def companions_for_delete(self, obj: Service, ctx: StoreContext | None = None) -> Companions:
        prefix = ctx.prefix if ctx is not None else "/registry"
        ips = [f"{prefix}/{_IP_KEYS}/{ip}" for ip in _allocated_ips(obj)]
        ports = [f"{prefix}/{_PORT_KEYS}/{port}" for port in sorted(_allocated_ports(obj))]
        return Companions(delete=ips + ports)

    async def _taken(self, ctx: StoreContext, kind: str) -> set[str]:
        base = f"{ctx.prefix}/{kind}/"
        page = await ctx.storage.list_prefix(base)
        return {kv.key[len(base) :] for kv in page.items}

    async def _allocate(self, svc: Service, old: Service | None, ctx: StoreContext) -> Companions:
        """Fill in and reserve the Service's cluster IP and node ports.

        Requested values must lie in the configured ranges and be free (422 otherwise);
        missing ones are picked at random among the free ones. Returns the keys to
        create for new allocations and to delete for released ones.
        """
        spec = svc.spec
        assert spec is not None
        owner = orjson.dumps({"namespace": svc.metadata.namespace, "name": svc.metadata.name})
        old_ips = set(_allocated_ips(old))
        old_ports = _allocated_ports(old)
        creates: dict[str, bytes] = {}
        if _needs_cluster_ip(svc) and spec.cluster_ip != "None":
            await self._allocate_ips(svc, old_ips, ctx)
        new_ips = set(_allocated_ips(svc))
        for ip in sorted(new_ips - old_ips):
            creates[f"{ctx.prefix}/{_IP_KEYS}/{ip}"] = owner
        if _needs_node_ports(svc) or (_needs_health_check(svc)):
            await self._allocate_ports(svc, old_ports, ctx)
        new_ports = _allocated_ports(svc)
        for port in sorted(new_ports - old_ports):
            creates[f"{ctx.prefix}/{_PORT_KEYS}/{port}"] = owner
        deletes = [f"{ctx.prefix}/{_IP_KEYS}/{ip}" for ip in sorted(old_ips - new_ips)]
        deletes += [f"{ctx.prefix}/{_PORT_KEYS}/{port}" for port in sorted(old_ports - new_ports)]
        if not creates and not deletes:
            return NO_COMPANIONS
        return Companions(create=creates, delete=deletes)

    async def _allocate_ips(self, svc: Service, old_ips: set[str], ctx: StoreContext) -> None:
        spec = svc.spec
        assert spec is not None
        wanted = [ip for ip in spec.cluster_ips if ip and ip != "None"]
        if not wanted:
            taken = await self._taken(ctx, _IP_KEYS)
            numbers = {int(ipaddress.ip_address(ip)) for ip in taken if _is_ip(ip)}
            picked = self.ips.pick(numbers)
            if picked is None:
                raise errors.internal("failed to allocate a serviceIP: range is full")
            address = str(ipaddress.ip_address(picked))
            spec.cluster_ip = address
            spec.cluster_ips = [address]
            return
        fresh = [ip for ip in wanted if _canonical_ip(ip) not in old_ips and ip not in old_ips]
        if not fresh:
            return
        taken = await self._taken(ctx, _IP_KEYS)
        for ip in fresh:
            address = _canonical_ip(ip)
            number = int(ipaddress.ip_address(address)) if address else -1
            version_ok = address and ipaddress.ip_address(address).version == self.network.version
            if not version_ok or not self.ips.contains(number):
                reason = (
                    f"the provided IP ({ip}) is not in the valid range. The range of valid IPs is "
                    f"{self.network}"
                )
            elif address in taken:
                reason = "provided IP is already allocated"
            else:
                continue
            raise errors.invalid(
                "Service",
                svc.metadata.name,
                [
                    invalid(
                        _SPEC.child("clusterIPs"),
                        spec.cluster_ips,
                        f"failed to allocate IP {ip}: {reason}",
                    )
                ],
            )

    async def _allocate_ports(self, svc: Service, old_ports: set[int], ctx: StoreContext) -> None:
        spec = svc.spec
        assert spec is not None
        allocate = _allocates_node_ports(svc)
        wanted_hc = _needs_health_check(svc)
        needs_pick = (allocate and any(not p.node_port for p in spec.ports)) or (
            wanted_hc and not spec.health_check_node_port
        )
        requested = {p.node_port for p in spec.ports if p.node_port} | (
            {spec.health_check_node_port} if wanted_hc and spec.health_check_node_port else set()
        )
        if not needs_pick and requested <= old_ports:
            return
        taken = {
            int(port) for port in await self._taken(ctx, _PORT_KEYS) if port.isdigit()
        } - old_ports
        claimed: set[int] = set()

        def claim(port: int, path: FieldPath, prefix: str = "") -> None:
            if not self.node_ports.contains(port):
                low, high = self.settings.service_node_port_range
                reason = f"provided port is not in the valid range. The range of valid ports is {low}-{high}"
            elif port in taken or port in claimed:
                reason = "provided port is already allocated"
            else:
                claimed.add(port)
                return
            raise errors.invalid(
                "Service", svc.metadata.name, [invalid(path, port, prefix + reason)]
            )

        def pick() -> int:
            port = self.node_ports.pick(taken | claimed)
            if port is None:
                raise errors.internal("failed to allocate a nodePort: range is full")
            claimed.add(port)
            return port

        by_port: dict[int, int] = {}
        ports_path = _SPEC.child("ports")
        if _needs_node_ports(svc):
            for i, port in enumerate(spec.ports):
                if not port.node_port and not allocate:
                    continue
                assigned = by_port.get(port.port)
                path = ports_path.index(i).child("nodePort")
                if assigned is None:
                    asked = next(
                        (
                            p.node_port
                            for p in spec.ports[i:]
                            if p.port == port.port and p.node_port
                        ),
                        None,
                    )
                    if asked:
                        claim(asked, path)
                        port.node_port = asked
                    else:
                        port.node_port = pick()
                    by_port[port.port] = port.node_port
                elif port.node_port != assigned:
                    if not port.node_port:
                        port.node_port = assigned
                    else:
                        claim(port.node_port, path)
        if wanted_hc:
            if spec.health_check_node_port:
                claim(
                    spec.health_check_node_port,
                    _SPEC.child("healthCheckNodePort"),
                    f"failed to allocate requested HealthCheck NodePort {spec.health_check_node_port}: ",
                )
            else:
                spec.health_check_node_port = pick()

    # -- printing --

    def row(self, obj: Service) -> Sequence[Any]:
        spec = obj.spec
        assert spec is not None
        ports = ",".join(
            f"{p.port}:{p.node_port}/{p.protocol or ''}"
            if p.node_port
            else f"{p.port}/{p.protocol or ''}"
            for p in spec.ports
        )
        return [
            spec.type or "",
            spec.cluster_ips[0] if spec.cluster_ips else NONE,
            _external_ip(obj),
            ports or NONE,
            age(obj.metadata.creation_timestamp),
            format_labels(spec.selector),
        ]


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _canonical_ip(text: str) -> str:
    """The standard spelling of an address (IPv4 octets may carry leading zeros)."""
    if not parse_ip_sloppy(text):
        return ""
    if ":" not in text:
        return ".".join(str(int(part)) for part in text.split("."))
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def _external_ip(svc: Service) -> str:
    spec = svc.spec
    assert spec is not None
    if spec.type in ("ClusterIP", "NodePort"):
        return ",".join(spec.external_ips) if spec.external_ips else NONE
    if spec.type == "LoadBalancer":
        balancer = svc.status.load_balancer if svc.status else None
        found = sorted(
            {ing.ip or ing.hostname or "" for ing in (balancer.ingress if balancer else [])} - {""}
        )
        if spec.external_ips:
            return ",".join([*found, *spec.external_ips])
        return ",".join(found) if found else "<pending>"
    if spec.type == "ExternalName":
        return spec.external_name or ""
    return UNKNOWN


def _service_port(
    port: ServicePort, require_name: bool, names: set[str], path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    if require_name and not port.name:
        errs.append(required(path.child("name")))
    elif port.name:
        errs.extend(invalid(path.child("name"), port.name, m) for m in is_dns1123_label(port.name))
        if port.name in names:
            errs.append(duplicate(path.child("name"), port.name))
        else:
            names.add(port.name)
    errs.extend(invalid(path.child("port"), port.port, m) for m in is_valid_port_num(port.port))
    if not port.protocol:
        errs.append(required(path.child("protocol")))
    elif port.protocol not in _PORT_PROTOCOLS:
        errs.append(not_supported(path.child("protocol"), port.protocol, _PORT_PROTOCOLS))
    target = port.target_port if port.target_port is not None else 0
    target_path = path.child("targetPort")
    if isinstance(target, int):
        errs.extend(invalid(target_path, target, m) for m in is_valid_port_num(target))
    else:
        errs.extend(invalid(target_path, target, m) for m in is_valid_port_name(target))
    if port.app_protocol is not None:
        errs.extend(
            invalid(path.child("appProtocol"), port.app_protocol, m)
            for m in is_qualified_name(port.app_protocol)
        )
    return errs


def _cluster_ip_changes(new: list[str], old: list[str], policy: str | None) -> list[FieldError]:
    path = _SPEC.child("clusterIPs")
    errs: list[FieldError] = []
    if len(old) == len(new):
        errs.extend(
            invalid(path.index(i), new, "may not change once set")
            for i, ip in enumerate(old)
            if ip != new[i]
        )
    elif len(old) > len(new):
        if not new:
            errs.append(invalid(path.index(0), new, "primary clusterIP can not be unset"))
        if old and new and new[0] != old[0]:
            errs.append(invalid(path.index(0), new, "may not change once set"))
        if len(new) == 1 and policy != "SingleStack":
            errs.append(
                invalid(
                    _SPEC.child("ipFamilyPolicy"),
                    policy,
                    "must be set to 'SingleStack' when releasing the secondary clusterIP",
                )
            )
    elif old and new[0] != old[0]:
        errs.append(invalid(path.index(0), new, "may not change once set"))
    return errs


def _family_changes(spec: Any, before: Any) -> list[FieldError]:
    path = _SPEC.child("ipFamilies")
    new, old = spec.ip_families, before.ip_families
    errs: list[FieldError] = []
    if len(old) == len(new):
        errs.extend(
            invalid(path.index(0), new, "may not change once set")
            for i, f in enumerate(old)
            if f != new[i]
        )
    elif len(old) > len(new):
        if not spec.cluster_ips:
            errs.append(invalid(path.index(0), new, "primary ipFamily can not be unset"))
        if new and new[0] != old[0]:
            errs.append(invalid(path.index(0), spec.cluster_ips, "may not change once set"))
        if len(new) == 1 and spec.ip_family_policy != "SingleStack":
            errs.append(
                invalid(
                    _SPEC.child("ipFamilyPolicy"),
                    spec.ip_family_policy,
                    "must be set to 'SingleStack' when releasing the secondary ipFamily",
                )
            )
    elif old and new[0] != old[0]:
        errs.append(invalid(path.index(0), new, "may not change once set"))
    return errs


def non_special_ip_errors(ip: str, path: FieldPath) -> list[FieldError]:
    """Unspecified, loopback and link-local addresses are refused (``ValidateNonSpecialIP``)."""
    address = _canonical_ip(ip)
    if not address:
        return [invalid(path, ip, "must be a valid IP address")]
    parsed = ipaddress.ip_address(address)
    errs: list[FieldError] = []
    if parsed.is_unspecified:
        errs.append(invalid(path, ip, f"may not be unspecified ({ip})"))
    if parsed.is_loopback:
        errs.append(invalid(path, ip, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
    if parsed.is_link_local:
        errs.append(
            invalid(path, ip, "may not be in the link-local range (169.254.0.0/16, fe80::/10)")
        )
    link_local_multicast = (
        parsed in ipaddress.ip_network("224.0.0.0/24")
        if parsed.version == 4
        else parsed in ipaddress.ip_network("ff02::/16")
    )
    if link_local_multicast:
        errs.append(
            invalid(
                path, ip, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"
            )
        )
    return errs


# --- Endpoints and ServiceAccount ------------------------------------------------------------


class EndpointsStrategy(CoreStrategy):
    """Endpoints: every subset has addresses, every address a valid non-special IP."""

    resource = _r("endpoints")
    status_subresource = False
    columns = (
        Column("Endpoints", description="The set of all endpoints is the union of all subsets."),
        Column("Age", description=AGE_DESCRIPTION),
    )

    def default(self, obj: Endpoints) -> None:
        for subset in obj.subsets:
            for port in subset.ports:
                if not port.protocol:
                    port.protocol = "TCP"

    def validate(self, obj: Endpoints) -> list[FieldError]:
        errs = self.validate_metadata(obj)
        subsets = FieldPath("subsets")
        for i, subset in enumerate(obj.subsets):
            idx = subsets.index(i)
            if not subset.addresses and not subset.not_ready_addresses:
                errs.append(required(idx, "must specify `addresses` or `notReadyAddresses`"))
            for attr, wire in (
                ("addresses", "addresses"),
                ("not_ready_addresses", "notReadyAddresses"),
            ):
                for j, address in enumerate(getattr(subset, attr)):
                    errs.extend(_endpoint_address(address, idx.child(wire).index(j)))
            for j, port in enumerate(subset.ports):
                errs.extend(
                    _endpoint_port(port, len(subset.ports) > 1, idx.child("ports").index(j))
                )
        return errs

    def row(self, obj: Endpoints) -> Sequence[Any]:
        return [format_endpoints(obj), age(obj.metadata.creation_timestamp)]


def _endpoint_address(address: Any, path: FieldPath) -> list[FieldError]:
    errs = [invalid(path.child("ip"), address.ip, msg) for msg in is_valid_ip(address.ip)]
    if address.hostname:
        errs.extend(
            invalid(path.child("hostname"), address.hostname, m)
            for m in is_dns1123_label(address.hostname)
        )
    if address.node_name is not None:
        errs.extend(
            invalid(path.child("nodeName"), address.node_name, m)
            for m in is_dns1123_subdomain(address.node_name)
        )
    errs.extend(non_special_ip_errors(address.ip, path.child("ip")))
    return errs


def _endpoint_port(port: Any, require_name: bool, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if require_name and not port.name:
        errs.append(required(path.child("name")))
    elif port.name:
        errs.extend(invalid(path.child("name"), port.name, m) for m in is_dns1123_label(port.name))
    errs.extend(invalid(path.child("port"), port.port, m) for m in is_valid_port_num(port.port))
    if not port.protocol:
        errs.append(required(path.child("protocol")))
    elif port.protocol not in _PORT_PROTOCOLS:
        errs.append(not_supported(path.child("protocol"), port.protocol, _PORT_PROTOCOLS))
    if port.app_protocol is not None:
        errs.extend(
            invalid(path.child("appProtocol"), port.app_protocol, m)
            for m in is_qualified_name(port.app_protocol)
        )
    return errs


def format_endpoints(endpoints: Endpoints, limit: int = 3) -> str:
    """``ip:port`` pairs, at most ``limit`` of them then ``+ N more...`` (``formatEndpoints``)."""
    if not endpoints.subsets:
        return NONE
    shown: list[str] = []
    more = False
    count = 0
    for subset in endpoints.subsets:
        if not subset.ports:
            count += len(subset.addresses)
            for address in subset.addresses:
                if len(shown) == limit:
                    more = True
                    break
                shown.append(address.ip)
            continue
        for port in subset.ports:
            count += len(subset.addresses)
            for address in subset.addresses:
                if len(shown) == limit:
                    more = True
                    break
                shown.append(join_host_port(address.ip, port.port))
    text = ",".join(shown)
    if more:
        return f"{text} + {count - limit} more..."
    return text


class ServiceAccountStrategy(CoreStrategy):
    resource = _r("serviceaccounts")
    status_subresource = False
    columns = (
        Column("Secrets", description="Secrets is a list of the secrets in the same namespace."),
        Column("Age", description=AGE_DESCRIPTION),
    )

    def row(self, obj: ServiceAccount) -> Sequence[Any]:
        return [len(obj.secrets), age(obj.metadata.creation_timestamp)]


STRATEGIES: tuple[type[Strategy], ...] = (
    NamespaceStrategy,
    PodStrategy,
    NodeStrategy,
    EventStrategy,
    ConfigMapStrategy,
    SecretStrategy,
    ServiceStrategy,
    EndpointsStrategy,
    ServiceAccountStrategy,
)
