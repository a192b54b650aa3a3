"""The kubelet's Node: registration, status (capacity, conditions, addresses), and the
Lease heartbeat in ``kube-node-lease``.

Two loops, as in Kubernetes: the Lease is renewed every quarter of its duration (10 s
for the default 40 s), which is the cheap heartbeat the node lifecycle controller
reads; the Node's status is computed every ``--node-status-update-frequency`` and sent
only when it changed or ``--node-status-report-frequency`` has passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import platform
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from apiclient import Client, errors
from apitypes.base import now
from apitypes.coordination import Lease, LeaseSpec
from apitypes.core import (
    ConditionStatus,
    ContainerImage,
    DaemonEndpoint,
    Node,
    NodeAddress,
    NodeAddressType,
    NodeCondition,
    NodeConditionType,
    NodeDaemonEndpoints,
    NodeSpec,
    NodeStatus,
    NodeSystemInfo,
)
from apitypes.meta import ObjectMeta, OwnerReference
from apitypes.patch import create_two_way_merge_patch
from apitypes.quantity import Format, Quantity, parse_quantity
from kubelet.config import KubeletConfig
from kubelet.runtime import ImageInfo

log = logging.getLogger(__name__)

KUBELET_VERSION = "v1.32.0-navarch"
LEASE_NAMESPACE = "kube-node-lease"


@dataclass
class MachineStats:
    cpu_millis: int
    memory_bytes: int
    memory_available: int
    storage_bytes: int
    storage_available: int
    pids_used: int = 0
    pids_max: int = 4194304


@dataclass
class MachineInfo:
    machine_id: str
    system_uuid: str
    boot_id: str
    kernel_version: str
    os_image: str
    architecture: str


def _read(path: str, default: str = "") -> str:
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return default


def _arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def read_machine_info() -> MachineInfo:
    os_image = "Linux"
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            os_image = line.split("=", 1)[1].strip('"')
    machine_id = _read("/etc/machine-id") or _read("/var/lib/dbus/machine-id")
    return MachineInfo(
        machine_id=machine_id,
        system_uuid=_read("/sys/class/dmi/id/product_uuid", machine_id),
        boot_id=_read("/proc/sys/kernel/random/boot_id"),
        kernel_version=platform.release(),
        os_image=os_image,
        architecture=_arch(),
    )


def read_machine_stats(root: str) -> MachineStats:
    """What this host has, from /proc and the filesystem of the kubelet's root dir."""
    meminfo: dict[str, int] = {}
    for line in _read("/proc/meminfo").splitlines():
        key, _, value = line.partition(":")
        parts = value.split()
        if parts and parts[0].isdigit():
            meminfo[key] = int(parts[0]) * 1024
    os.makedirs(root, exist_ok=True)
    fs = os.statvfs(root)
    pids = sum(1 for p in os.listdir("/proc") if p.isdigit())
    return MachineStats(
        cpu_millis=(os.cpu_count() or 1) * 1000,
        memory_bytes=meminfo.get("MemTotal", 0),
        memory_available=meminfo.get("MemAvailable", 0),
        storage_bytes=fs.f_blocks * fs.f_frsize,
        storage_available=fs.f_bavail * fs.f_frsize,
        pids_used=pids,
        pids_max=int(_read("/proc/sys/kernel/pid_max", "4194304") or 4194304),
    )


def hollow_machine(cpu: str, memory: str) -> Callable[[], MachineStats]:
    """Fixed stats for a hollow node: plenty of everything, no pressure."""
    cpu_millis = parse_quantity(cpu).milli_value()
    memory_bytes = parse_quantity(memory).value()
    stats = MachineStats(
        cpu_millis=cpu_millis,
        memory_bytes=memory_bytes,
        memory_available=memory_bytes,
        storage_bytes=100 * 2**30,
        storage_available=100 * 2**30,
    )
    return lambda: stats


def format_cpu(millis: int) -> str:
    """Canonical CPU quantity text, as the apiserver would store it (``3250m``, ``4``)."""
    return str(Quantity.from_milli(millis))


def format_bytes(value: int) -> str:
    """Canonical binary quantity text (``16Gi``, ``8092Mi``)."""
    return str(Quantity.from_int(value, Format.BINARY_SI))


def _reserved(config: KubeletConfig, name: str) -> int:
    """The amount of ``name`` (cpu in millis, others in bytes) held back from pods."""
    total = 0
    for reserved in (config.system_reserved, config.kube_reserved):
        raw = reserved.get(name)
        if raw is not None:
            quantity = parse_quantity(raw)
            total += quantity.milli_value() if name == "cpu" else quantity.value()
    return total


def capacity_and_allocatable(
    config: KubeletConfig, stats: MachineStats
) -> tuple[dict[str, str], dict[str, str]]:
    """Capacity as the machine has it (or as overridden); allocatable is capacity less
    ``--system-reserved``, ``--kube-reserved`` and the hard eviction thresholds."""
    cpu = (
        parse_quantity(config.capacity_cpu).milli_value()
        if config.capacity_cpu
        else stats.cpu_millis
    )
    memory = (
        parse_quantity(config.capacity_memory).value()
        if config.capacity_memory
        else stats.memory_bytes
    )
    storage = stats.storage_bytes
    capacity = {
        "cpu": format_cpu(cpu),
        "memory": format_bytes(memory),
        "ephemeral-storage": format_bytes(storage),
        "pods": str(config.max_pods),
    }
    memory_hold = parse_quantity(config.eviction_hard_memory).value()
    storage_hold = int(storage * config.eviction_hard_nodefs_percent / 100)
    allocatable = {
        "cpu": format_cpu(max(cpu - _reserved(config, "cpu"), 0)),
        "memory": format_bytes(max(memory - _reserved(config, "memory") - memory_hold, 0)),
        "ephemeral-storage": format_bytes(
            max(storage - _reserved(config, "ephemeral-storage") - storage_hold, 0)
        ),
        "pods": str(config.max_pods),
    }
    return capacity, allocatable


def _node_condition(
    old: NodeStatus | None,
    kind: str,
    value: bool,
    reason: str,
    message: str,
    stamp: datetime,
) -> NodeCondition:
    status = ConditionStatus.TRUE if value else ConditionStatus.FALSE
    previous = old.condition(kind) if old else None
    transition = stamp
    if previous is not None and previous.status == status and previous.last_transition_time:
        transition = previous.last_transition_time
    return NodeCondition(
        type=kind,
        status=status,
        last_heartbeat_time=stamp,
        last_transition_time=transition,
        reason=reason,
        message=message,
    )


_KUBELET_CONDITIONS = (
    NodeConditionType.MEMORY_PRESSURE,
    NodeConditionType.DISK_PRESSURE,
    NodeConditionType.PID_PRESSURE,
    NodeConditionType.READY,
)


def build_node_status(
    config: KubeletConfig,
    stats: MachineStats,
    machine: MachineInfo,
    *,
    runtime_version: str,
    runtime_ready: bool,
    not_ready_reason: str = "container runtime is down",
    images: list[ImageInfo],
    old: NodeStatus | None,
    stamp: datetime,
) -> NodeStatus:
    """The Node's status as this kubelet reports it (conditions others own are kept)."""
    capacity, allocatable = capacity_and_allocatable(config, stats)
    memory_pressure = stats.memory_available < parse_quantity(config.eviction_hard_memory).value()
    disk_pressure = stats.storage_bytes > 0 and (
        stats.storage_available * 100 < stats.storage_bytes * config.eviction_hard_nodefs_percent
    )
    pid_pressure = stats.pids_used > stats.pids_max * 0.9
    conditions = [
        _node_condition(
            old,
            NodeConditionType.MEMORY_PRESSURE,
            memory_pressure,
            "KubeletHasInsufficientMemory" if memory_pressure else "KubeletHasSufficientMemory",
            "kubelet has insufficient memory available"
            if memory_pressure
            else "kubelet has sufficient memory available",
            stamp,
        ),
        _node_condition(
            old,
            NodeConditionType.DISK_PRESSURE,
            disk_pressure,
            "KubeletHasDiskPressure" if disk_pressure else "KubeletHasNoDiskPressure",
            "kubelet has disk pressure" if disk_pressure else "kubelet has no disk pressure",
            stamp,
        ),
        _node_condition(
            old,
            NodeConditionType.PID_PRESSURE,
            pid_pressure,
            "KubeletHasInsufficientPID" if pid_pressure else "KubeletHasSufficientPID",
            "kubelet has insufficient PID available"
            if pid_pressure
            else "kubelet has sufficient PID available",
            stamp,
        ),
        _node_condition(
            old,
            NodeConditionType.READY,
            runtime_ready,
            "KubeletReady" if runtime_ready else "KubeletNotReady",
            "kubelet is posting ready status" if runtime_ready else not_ready_reason,
            stamp,
        ),
    ]
    status = old.model_copy(deep=True) if old is not None else NodeStatus()
    others = [c for c in status.conditions if c.type not in _KUBELET_CONDITIONS]
    status.conditions = others + conditions
    status.capacity = capacity
    status.allocatable = allocatable
    addresses = [NodeAddress(type=NodeAddressType.INTERNAL_IP, address=config.node_ip)]
    addresses.append(
        NodeAddress(type=NodeAddressType.HOSTNAME, address=config.hostname or config.node_name)
    )
    status.addresses = addresses
    status.daemon_endpoints = NodeDaemonEndpoints(
        kubelet_endpoint=DaemonEndpoint(port=config.port or 10250)
    )
    status.node_info = NodeSystemInfo(
        machine_id=machine.machine_id,
        system_uuid=machine.system_uuid,
        boot_id=machine.boot_id,
        kernel_version=machine.kernel_version,
        os_image=machine.os_image,
        container_runtime_version=runtime_version,
        kubelet_version=KUBELET_VERSION,
        kube_proxy_version="",
        operating_system="linux",
        architecture=machine.architecture,
    )
    status.images = [ContainerImage(names=i.names, size_bytes=i.size) for i in images]
    return status


def _without_heartbeats(status: NodeStatus) -> dict[str, object]:
    body = status.to_dict()
    for cond in body.get("conditions", []):
        cond.pop("lastHeartbeatTime", None)
    return body


def default_labels(config: KubeletConfig, arch: str) -> dict[str, str]:
    return {
        "kubernetes.io/hostname": config.hostname or config.node_name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": arch,
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": arch,
        **config.node_labels,
    }


class NodeAgent:
    """Registers the Node, keeps its status and renews its Lease."""

    def __init__(
        self,
        client: Client,
        config: KubeletConfig,
        *,
        stats: Callable[[], MachineStats],
        machine: MachineInfo,
        runtime_version: Callable[[], Awaitable[str]],
        runtime_ready: Callable[[], Awaitable[tuple[bool, str]]],
        images: Callable[[], Awaitable[list[ImageInfo]]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.config = config
        self.stats = stats
        self.machine = machine
        self.runtime_version = runtime_version
        self.runtime_ready = runtime_ready
        self.images = images
        self.clock = clock
        self.node: Node | None = None
        self.lease: Lease | None = None
        self._last_report = 0.0
        self._last_sent: dict[str, object] | None = None
        self.registered = asyncio.Event()
        self.lease_renewals = 0
        self._gone = asyncio.Event()

    @property
    def name(self) -> str:
        return self.config.node_name

    def on_node(self, node: Node) -> None:
        """The Node as the apiserver has it now (labels, taints, status others wrote)."""
        if self.node is not None and node.metadata.uid == self.node.metadata.uid:
            self.node = node

    def on_node_deleted(self, node: Node) -> None:
        """Someone deleted our Node: register it again at once."""
        if self.node is not None and node.metadata.uid == self.node.metadata.uid:
            log.warning("node %s was deleted from the apiserver; registering again", self.name)
            self.node = None
            self._gone.set()

    async def register(self) -> Node:
        """Create the Node (or adopt the existing one, adding our labels)."""
        labels = default_labels(self.config, self.machine.architecture)
        node = Node(
            metadata=ObjectMeta(
                name=self.name,
                labels=labels,
                annotations={"node.alpha.kubernetes.io/ttl": "0"},
            ),
            spec=NodeSpec(taints=list(self.config.register_with_taints)),
        )
        # As Kubernetes does, the Node is born with its status: nobody ever sees a
        # node without capacity or conditions.
        node.status = await self.compute_status()
        try:
            created = await self.client.create(node)
        except errors.AlreadyExistsError:
            existing = await self.client.get(Node, self.name)
            missing = {k: v for k, v in labels.items() if existing.metadata.labels.get(k) != v}
            created = existing
            if missing:
                created = await self.client.patch(
                    Node, self.name, {"metadata": {"labels": missing}}, patch_type="merge"
                )
        self.node = created
        await self.update_status(force=True)
        self.registered.set()
        log.info("node %s registered", self.name)
        return created

    async def compute_status(self) -> NodeStatus:
        ready, reason = await self.runtime_ready()
        version = await self.runtime_version() if ready else "unknown://"
        images = await self.images() if ready else []
        return build_node_status(
            self.config,
            self.stats(),
            self.machine,
            runtime_version=version,
            runtime_ready=ready,
            not_ready_reason=reason,
            images=images,
            old=self.node.status if self.node else None,
            stamp=now(),
        )

    async def update_status(self, *, force: bool = False) -> bool:
        """Send the status if it changed or the report period passed; True if sent."""
        if self.node is None:
            return False
        status = await self.compute_status()
        body = _without_heartbeats(status)
        due = self.clock() - self._last_report >= self.config.node_status_report_frequency
        if not force and not due and body == self._last_sent:
            return False
        old = self.node.status.to_dict() if self.node.status else {}
        patch = create_two_way_merge_patch({"status": old}, {"status": status.to_dict()}, Node)
        try:
            self.node = await self.client.patch(
                Node, self.name, patch, patch_type="strategic", subresource="status"
            )
        except errors.NotFoundError:
            log.warning("node %s is gone from the apiserver; registering again", self.name)
            self.node = None
            await self.register()
            return True
        self._last_sent = body
        self._last_report = self.clock()
        return True

    async def renew_lease(self) -> None:
        stamp = now()
        if self.lease is None:
            try:
                self.lease = await self.client.get(Lease, self.name, LEASE_NAMESPACE)
            except errors.NotFoundError:
                self.lease = None
        if self.lease is None:
            owner = []
            if self.node is not None and self.node.metadata.uid:
                owner = [
                    OwnerReference(
                        api_version="v1", kind="Node", name=self.name, uid=self.node.metadata.uid
                    )
                ]
            lease = Lease(
                metadata=ObjectMeta(
                    name=self.name, namespace=LEASE_NAMESPACE, owner_references=owner
                ),
                spec=LeaseSpec(
                    holder_identity=self.name,
                    lease_duration_seconds=self.config.node_lease_duration,
                    renew_time=stamp,
                ),
            )
            try:
                self.lease = await self.client.create(lease)
                self.lease_renewals += 1
                return
            except errors.AlreadyExistsError:
                self.lease = await self.client.get(Lease, self.name, LEASE_NAMESPACE)
        assert self.lease is not None
        spec = self.lease.spec or LeaseSpec()
        spec.holder_identity = self.name
        spec.lease_duration_seconds = self.config.node_lease_duration
        spec.renew_time = stamp
        self.lease.spec = spec
        try:
            self.lease = await self.client.update(self.lease)
        except (errors.ConflictError, errors.NotFoundError):
            # Someone else wrote it (or removed it): start again from a fresh read.
            self.lease = None
            raise
        self.lease_renewals += 1

    async def lease_loop(self) -> None:
        """Renew every ``lease_renew_interval``, counted from the start of the previous
        renewal (a slow apiserver does not stretch the period); failures retry sooner,
        backing off from 0.2 s to 7 s."""
        delay = 0.2
        while True:
            started = self.clock()
            try:
                await self.renew_lease()
                delay = 0.2
                wait = max(self.config.lease_renew_interval - (self.clock() - started), 0.0)
            except asyncio.CancelledError:
                raise
            except Exception as err:
                log.warning("node %s: lease renewal failed: %s", self.name, err)
                wait = delay
                delay = min(delay * 2, 7.0)
            await asyncio.sleep(wait)

    async def status_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._gone.wait(), self.config.node_status_update_frequency)
            try:
                if self._gone.is_set() or self.node is None:
                    self._gone.clear()
                    self.lease = None
                    await self.register()
                    continue
                await self.update_status()
            except asyncio.CancelledError:
                raise
            except Exception as err:
                log.warning("node %s: status update failed: %s", self.name, err)

    async def run(self) -> None:
        """Register (retrying), then keep the status and the lease until cancelled."""
        delay = 0.5
        while not self.registered.is_set():
            try:
                await self.register()
            except asyncio.CancelledError:
                raise
            except Exception as err:
                log.warning("node %s: registration failed: %s", self.name, err)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        tasks = [
            asyncio.create_task(self.lease_loop(), name=f"lease-{self.name}"),
            asyncio.create_task(self.status_loop(), name=f"node-status-{self.name}"),
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
