"""Kubelet flags and the Node it reports: parsing, capacity, allocatable, conditions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apitypes.duration import parse_duration
from kubelet.config import (
    KubeletConfig,
    parse_key_values,
    parse_reserved,
    parse_taints,
)
from kubelet.node import MachineInfo, MachineStats, build_node_status, capacity_and_allocatable
from kubelet.runtime import ImageInfo

GiB = 2**30
MACHINE = MachineInfo("m", "u", "b", "6.1", "Debian", "amd64")


def test_flag_parsers() -> None:
    assert parse_key_values("a=b, c=d,") == {"a": "b", "c": "d"}
    with pytest.raises(ValueError):
        parse_key_values("novalue")
    taints = parse_taints("dedicated=gpu:NoSchedule,maint:NoExecute")
    assert [(t.key, t.value, t.effect) for t in taints] == [
        ("dedicated", "gpu", "NoSchedule"),
        ("maint", None, "NoExecute"),
    ]
    with pytest.raises(ValueError):
        parse_taints("k=v:Sometimes")
    assert parse_reserved("cpu=100m,memory=1Gi") == {"cpu": "100m", "memory": "1Gi"}
    with pytest.raises(ValueError):
        parse_reserved("cpu=lots")
    assert parse_duration("10s") == 10
    assert parse_duration("1m30s") == 90
    assert parse_duration("500ms") == 0.5
    assert parse_duration("2") == 2
    with pytest.raises(ValueError):
        parse_duration("10 parsecs")


def _stats(**kw) -> MachineStats:
    values = {
        "cpu_millis": 4000,
        "memory_bytes": 8 * GiB,
        "memory_available": 6 * GiB,
        "storage_bytes": 100 * GiB,
        "storage_available": 50 * GiB,
    }
    values.update(kw)
    return MachineStats(**values)


def test_allocatable_is_capacity_less_reservations() -> None:
    config = KubeletConfig(
        node_name="n1",
        system_reserved={"cpu": "500m", "memory": "1Gi"},
        kube_reserved={"cpu": "250m"},
        max_pods=30,
    )
    capacity, allocatable = capacity_and_allocatable(config, _stats())
    # Written canonically, as the apiserver stores quantities.
    assert capacity == {"cpu": "4", "memory": "8Gi", "ephemeral-storage": "100Gi", "pods": "30"}
    assert allocatable["cpu"] == "3250m"
    assert allocatable["memory"] == f"{7 * 1024 - 100}Mi"
    assert allocatable["ephemeral-storage"] == "90Gi"
    hollow = KubeletConfig(node_name="h", capacity_cpu="16", capacity_memory="64Gi")
    capacity, _ = capacity_and_allocatable(hollow, _stats())
    assert capacity["cpu"] == "16" and capacity["memory"] == "64Gi"


def test_node_status_conditions_and_addresses() -> None:
    config = KubeletConfig(node_name="n1", node_ip="192.0.2.2", port=10250)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    status = build_node_status(
        config, _stats(), MACHINE, runtime_version="docker://20.10", runtime_ready=True,
        images=[ImageInfo(["busybox:1"], 2000000)], old=None, stamp=t0,
    )  # fmt: skip
    conditions = {c.type: (c.status, c.reason) for c in status.conditions}
    assert conditions == {
        "MemoryPressure": ("False", "KubeletHasSufficientMemory"),
        "DiskPressure": ("False", "KubeletHasNoDiskPressure"),
        "PIDPressure": ("False", "KubeletHasSufficientPID"),
        "Ready": ("True", "KubeletReady"),
    }
    assert status.address("InternalIP") == "192.0.2.2"
    assert status.address("Hostname") == "n1"
    assert status.daemon_endpoints.kubelet_endpoint.port == 10250
    assert status.node_info.container_runtime_version == "docker://20.10"
    assert status.images[0].names == ["busybox:1"]
    wire = status.to_dict()
    assert wire["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 10250}}
    # Pressure and a dead runtime flip the conditions; transition times move only then.
    t1 = t0 + timedelta(seconds=30)
    later = build_node_status(
        config, _stats(memory_available=10, storage_available=GiB), MACHINE,
        runtime_version="docker://20.10", runtime_ready=False, images=[], old=status, stamp=t1,
    )  # fmt: skip
    by_type = {c.type: c for c in later.conditions}
    assert by_type["MemoryPressure"].status == "True"
    assert by_type["DiskPressure"].status == "True"
    assert by_type["Ready"].status == "False"
    assert by_type["Ready"].message == "container runtime is down"
    assert by_type["Ready"].last_transition_time == t1
    assert by_type["PIDPressure"].last_transition_time == t0
    assert by_type["PIDPressure"].last_heartbeat_time == t1
