"""The EndpointSlice controller's planning: what pods make, and how few writes get there."""

from __future__ import annotations

from typing import Any

from apitypes.core import Pod, Service
from apitypes.discovery import EndpointSlice
from controllers.endpointslice import Plan, plan_slices

UID = "0b6d3c2e-1111-4222-8333-944455556666"


def service(name: str = "web", **spec: Any) -> Service:
    body: dict[str, Any] = {
        "selector": {"app": name},
        "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        "clusterIP": "10.96.0.20",
        "ipFamilies": ["IPv4"],
    }
    body.update(spec)
    return Service.model_validate(
        {
            "metadata": {"name": name, "namespace": "ns", "uid": UID, "labels": {"team": "a"}},
            "spec": body,
        }
    )


def pod(
    n: int, *, ready: bool = True, port: int = 8080, deleting: bool = False, **spec: Any
) -> Pod:
    meta: dict[str, Any] = {"name": f"web-{n:03d}", "namespace": "ns", "uid": f"uid-{n}"}
    if deleting:
        meta["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    return Pod.model_validate(
        {
            "metadata": meta,
            "spec": {
                "nodeName": "node-1",
                "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": port}]}],
                **spec,
            },
            "status": {
                "phase": "Running",
                "podIP": f"10.244.{n // 250}.{n % 250 + 2}",
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            },
        }
    )


def applied(plan: Plan, existing: list[EndpointSlice]) -> list[EndpointSlice]:
    """The slices after the plan's writes, named as an apiserver would name them."""
    gone = {e.metadata.name for e in plan.delete}
    updated = {e.metadata.name: e for e in plan.update}
    result = [updated.get(e.metadata.name, e) for e in existing if e.metadata.name not in gone]
    for i, eps in enumerate(plan.create):
        made = eps.model_copy(deep=True)
        made.metadata.name = f"{eps.metadata.generate_name}{len(existing) + i}"
        result.append(made)
    return result


def addresses(slices: list[EndpointSlice]) -> list[str]:
    return sorted(a for eps in slices for e in eps.endpoints for a in e.addresses)


def test_a_service_gets_a_labelled_owned_slice_with_conditions_and_ports() -> None:
    svc = service()
    plan = plan_slices(svc, [pod(1), pod(2, ready=False), pod(3, deleting=True)], [])
    assert len(plan.create) == 1 and not plan.update and not plan.delete
    eps = plan.create[0]
    assert eps.metadata.generate_name == "web-"
    assert eps.metadata.labels == {
        "team": "a",
        "kubernetes.io/service-name": "web",
        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
    }
    owner = eps.metadata.owner_references[0]
    assert (owner.kind, owner.name, owner.uid, owner.controller) == ("Service", "web", UID, True)
    assert eps.address_type == "IPv4"
    assert eps.to_dict()["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    conditions = {e.target_ref.name: e.conditions for e in eps.endpoints if e.target_ref}
    assert conditions["web-001"].model_dump() == {
        "ready": True,
        "serving": True,
        "terminating": False,
    }
    assert conditions["web-002"].model_dump() == {
        "ready": False,
        "serving": False,
        "terminating": False,
    }
    assert conditions["web-003"].model_dump() == {
        "ready": False,
        "serving": True,
        "terminating": True,
    }
    assert eps.endpoints[0].node_name == "node-1"


def test_publish_not_ready_and_hostnames() -> None:
    svc = service(publishNotReadyAddresses=True, clusterIP="None")
    eps = plan_slices(svc, [pod(1, ready=False, hostname="h1", subdomain="web")], []).create[0]
    assert eps.endpoints[0].conditions is not None and eps.endpoints[0].conditions.ready is True
    assert eps.endpoints[0].hostname == "h1"
    assert eps.metadata.labels["service.kubernetes.io/headless"] == ""


def test_named_ports_resolve_per_pod_into_separate_slices() -> None:
    plan = plan_slices(service(), [pod(1, port=8080), pod(2, port=9090)], [])
    ports = sorted(e.ports[0].port for e in plan.create if e.ports)
    assert ports == [8080, 9090]
    assert all(len(e.endpoints) == 1 for e in plan.create)


def test_at_most_max_per_slice_and_placeholder_when_empty() -> None:
    plan = plan_slices(service(), [pod(n) for n in range(250)], [], max_per_slice=100)
    assert sorted(len(e.endpoints) for e in plan.create) == [50, 100, 100]
    empty = plan_slices(service(), [], [])
    assert len(empty.create) == 1
    assert empty.create[0].endpoints == [] and empty.create[0].ports == []
    # The placeholder stays as it is while there are no endpoints.
    placeholder = applied(empty, [])
    assert plan_slices(service(), [], placeholder).empty()
    # Pods coming back replace it.
    plan = plan_slices(service(), [pod(1)], placeholder)
    assert len(plan.create) == 1 and [e.metadata.name for e in plan.delete] == ["web-0"]


def test_steady_state_writes_nothing_and_one_change_touches_one_slice() -> None:
    svc = service()
    pods = [pod(n) for n in range(250)]
    slices = applied(plan_slices(svc, pods, [], max_per_slice=100), [])
    assert plan_slices(svc, pods, slices, max_per_slice=100).empty()
    # A pod turns unready: its slice is updated in place, nothing else is written.
    pods[5] = pod(5, ready=False)
    plan = plan_slices(svc, pods, slices, max_per_slice=100)
    assert not plan.create and not plan.delete and len(plan.update) == 1
    assert plan.update[0].metadata.name in {e.metadata.name for e in slices}
    # A pod goes and another comes: the freed room in the same slice takes it.
    gone = pods.pop(0)
    pods.append(pod(400))
    plan = plan_slices(svc, pods, slices, max_per_slice=100)
    assert not plan.create and not plan.delete and len(plan.update) == 1
    after = applied(plan, slices)
    assert addresses(after) == sorted(p.status.pod_ip for p in pods if p.status and p.status.pod_ip)
    assert gone.status is not None and gone.status.pod_ip not in addresses(after)


def test_new_endpoints_fill_the_tightest_existing_slice() -> None:
    svc = service()
    pods = [pod(n) for n in range(130)]
    slices = applied(plan_slices(svc, pods, [], max_per_slice=100), [])
    assert sorted(len(e.endpoints) for e in slices) == [30, 100]
    plan = plan_slices(svc, [*pods, pod(200), pod(201)], slices, max_per_slice=100)
    assert not plan.create and len(plan.update) == 1
    assert len(plan.update[0].endpoints) == 32


def test_finished_pods_and_pods_without_ip_are_left_out_and_labels_follow() -> None:
    svc = service()
    done = pod(1)
    assert done.status is not None
    done.status.phase = "Succeeded"
    no_ip = pod(2)
    assert no_ip.status is not None
    no_ip.status.pod_ip = None
    slices = applied(plan_slices(svc, [done, no_ip, pod(3)], []), [])
    assert addresses(slices) == ["10.244.0.5"]
    svc.metadata.labels["team"] = "b"
    plan = plan_slices(svc, [done, no_ip, pod(3)], slices)
    assert len(plan.update) == 1 and plan.update[0].metadata.labels["team"] == "b"


def test_slices_of_a_family_the_service_no_longer_has_are_deleted() -> None:
    svc = service()
    slices = applied(plan_slices(svc, [pod(1)], []), [])
    slices[0].address_type = "IPv6"
    plan = plan_slices(svc, [pod(1)], slices)
    assert [e.metadata.name for e in plan.delete] == [slices[0].metadata.name]
    assert len(plan.create) == 1 and plan.create[0].address_type == "IPv4"
