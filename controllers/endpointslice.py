"""The EndpointSlice controller: a Service's pods as EndpointSlices (discovery.k8s.io/v1).

Watches Services, Pods and EndpointSlices (and reads Nodes for zones). For one Service
key with a selector (and not ExternalName), ``reconcile`` computes the endpoints its
pods make: a pod with an IP of the slice's family that has not finished, with
conditions ``serving`` (the pod is Ready), ``terminating`` (it is being deleted) and
``ready`` (serving and not terminating, or always with ``publishNotReadyAddresses``),
its node, zone, a reference to the pod, and ``hostname`` when the pod's
``hostname``/``subdomain`` name this Service. Ports are the Service's ports resolved
per pod (a named ``targetPort`` is looked up in the pod's containers; a port the pod
does not have is left out), so pods with different port sets land in different
slices.

Slices are written as Kubernetes' reconciler writes them (``plan_slices``), with as
little churn as possible: endpoints stay in the slice that has them and are updated
in place; slices that lost endpoints are refilled first (fullest first); what remains
goes into the one existing slice with the least room that takes it all, else into new
slices of at most ``--max-endpoints-per-slice`` (100) endpoints. A slice left empty is
deleted; a Service without endpoints keeps one placeholder slice without endpoints or
ports. Slices carry the Service's labels plus ``kubernetes.io/service-name``,
``endpointslice.kubernetes.io/managed-by`` and, for headless Services,
``service.kubernetes.io/headless``, and a controller owner reference to the Service, so
the garbage collector removes them with it. Slices managed by anyone else are left
alone.

Before acting on a Service, the controller checks that its cache shows every slice
write it made for that Service (``_pending``); otherwise it would act on an older
state and, for instance, create a second slice for the same endpoints.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from apiclient import Informer, errors
from apitypes.base import format_microtime
from apitypes.core import Node, ObjectReference, Pod, Service
from apitypes.discovery import (
    ADDRESS_TYPE_IPV4,
    ADDRESS_TYPE_IPV6,
    CONTROLLER_NAME,
    MANAGED_BY_LABEL,
    SERVICE_NAME_LABEL,
    Endpoint,
    EndpointConditions,
    EndpointPort,
    EndpointSlice,
)
from apitypes.meta import ObjectMeta
from apitypes.registry import by_model
from apitypes.selectors import selector_from_set
from controllers.base import Controller, ControllerContext
from controllers.endpoints import HEADLESS_LABEL, LAST_CHANGE, resolve_target_port
from controllers.util import generate_name_prefix, owner_reference

log = logging.getLogger(__name__)

SLICES = by_model(EndpointSlice)
ZONE_LABEL = "topology.kubernetes.io/zone"
_RESERVED_LABELS = frozenset({SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL})
SERVICE_INDEX = "service"

PortsKey = tuple[tuple[str, int, str, str], ...]
EndpointKey = tuple[tuple[str, ...], str, str]


def index_by_service(obj: Any) -> list[str]:
    """``namespace/service`` of the slices this controller manages."""
    labels = obj.metadata.labels
    name = labels.get(SERVICE_NAME_LABEL)
    if not name or labels.get(MANAGED_BY_LABEL) != CONTROLLER_NAME:
        return []
    return [f"{obj.metadata.namespace}/{name}"]


def endpoint_key(endpoint: Endpoint) -> EndpointKey:
    """What makes an endpoint the same one across writes (Kubernetes' endpoint hash):
    its addresses, hostname and the object it points to."""
    ref = endpoint.target_ref
    target = f"{ref.namespace}/{ref.name}" if ref is not None else ""
    return (tuple(sorted(endpoint.addresses)), endpoint.hostname or "", target)


def ports_key(ports: Iterable[EndpointPort]) -> PortsKey:
    return tuple(
        sorted(
            (p.name or "", p.port or 0, p.protocol or "TCP", p.app_protocol or "") for p in ports
        )
    )


def _family_of(address: str) -> str:
    return ADDRESS_TYPE_IPV6 if ":" in address else ADDRESS_TYPE_IPV4


def pod_addresses(pod: Pod, address_type: str) -> list[str]:
    status = pod.status
    if status is None:
        return []
    ips = [p.ip for p in status.pod_ips if p.ip] or ([status.pod_ip] if status.pod_ip else [])
    return [ip for ip in ips if _family_of(ip) == address_type][:1]


def endpoint_ports(svc: Service, pod: Pod) -> list[EndpointPort]:
    """The Service's ports as this pod serves them; ports it lacks are left out."""
    assert svc.spec is not None
    ports = []
    for port in svc.spec.ports:
        number = resolve_target_port(port, pod)
        if number is None:
            continue
        ports.append(
            EndpointPort(
                name=port.name or "",
                port=number,
                protocol=port.protocol or "TCP",
                app_protocol=port.app_protocol,
            )
        )
    return ports


def pod_endpoint(svc: Service, pod: Pod, address: str, zone: str | None) -> Endpoint:
    assert svc.spec is not None
    serving = pod.is_ready()
    terminating = pod.metadata.deletion_timestamp is not None
    ready = bool(svc.spec.publish_not_ready_addresses) or (serving and not terminating)
    hostname = None
    if pod.spec and pod.spec.hostname and pod.spec.subdomain == svc.metadata.name:
        hostname = pod.spec.hostname
    return Endpoint(
        addresses=[address],
        conditions=EndpointConditions(ready=ready, serving=serving, terminating=terminating),
        hostname=hostname,
        target_ref=ObjectReference(
            kind="Pod",
            namespace=pod.metadata.namespace,
            name=pod.metadata.name,
            uid=pod.metadata.uid,
        ),
        node_name=pod.node_name(),
        zone=zone,
    )


def address_types(svc: Service) -> list[str]:
    spec = svc.spec
    families = [f for f in (spec.ip_families if spec else []) if f in ("IPv4", "IPv6")]
    return families or [ADDRESS_TYPE_IPV4]


@dataclass
class _Group:
    """The desired endpoints of one (address type, port set)."""

    ports: list[EndpointPort]
    endpoints: dict[EndpointKey, Endpoint] = field(default_factory=dict)


def desired_endpoints(
    svc: Service, pods: Iterable[Pod], address_type: str, zone_of: Callable[[str], str | None]
) -> dict[PortsKey, _Group]:
    groups: dict[PortsKey, _Group] = {}
    for pod in sorted(pods, key=lambda p: p.metadata.name or ""):
        if pod.is_terminal():
            continue
        addresses = pod_addresses(pod, address_type)
        if not addresses:
            continue
        ports = endpoint_ports(svc, pod)
        node = pod.node_name()
        endpoint = pod_endpoint(svc, pod, addresses[0], zone_of(node) if node else None)
        group = groups.setdefault(ports_key(ports), _Group(ports))
        group.endpoints.setdefault(endpoint_key(endpoint), endpoint)
    return groups


def slice_labels(svc: Service) -> dict[str, str]:
    labels = {k: v for k, v in svc.metadata.labels.items() if k not in _RESERVED_LABELS}
    if svc.is_headless():
        labels[HEADLESS_LABEL] = ""
    labels[SERVICE_NAME_LABEL] = svc.metadata.name or ""
    labels[MANAGED_BY_LABEL] = CONTROLLER_NAME
    return labels


@dataclass
class Plan:
    """The writes that take a Service's slices to what its pods say."""

    create: list[EndpointSlice] = field(default_factory=list)
    update: list[EndpointSlice] = field(default_factory=list)
    delete: list[EndpointSlice] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.create or self.update or self.delete)


def _new_slice(svc: Service, address_type: str, ports: list[EndpointPort]) -> EndpointSlice:
    return EndpointSlice(
        metadata=ObjectMeta(
            generate_name=generate_name_prefix(svc.metadata.name or ""),
            namespace=svc.metadata.namespace,
            labels=slice_labels(svc),
            owner_references=[owner_reference(svc)],
        ),
        address_type=address_type,
        endpoints=[],
        ports=[p.model_copy() for p in ports],
    )


def _is_placeholder(eps: EndpointSlice) -> bool:
    return not eps.endpoints and not eps.ports


def plan_slices(
    svc: Service,
    pods: Iterable[Pod],
    existing: Iterable[EndpointSlice],
    *,
    max_per_slice: int = 100,
    zone_of: Callable[[str], str | None] = lambda _node: None,
) -> Plan:
    """What to create, update and delete so that ``existing`` (the Service's managed
    slices) hold the endpoints ``pods`` make, with as few writes as Kubernetes makes.

    Returned slices are copies; ``existing`` is not changed.
    """
    pods = list(pods)
    labels = slice_labels(svc)
    plan = Plan()
    families = address_types(svc)
    by_type: dict[str, list[EndpointSlice]] = {}
    for eps in existing:
        if eps.address_type in families:
            by_type.setdefault(eps.address_type, []).append(eps)
        else:
            plan.delete.append(eps)
    for address_type in families:
        groups = desired_endpoints(svc, pods, address_type, zone_of)
        slices = by_type.get(address_type, [])
        by_ports: dict[PortsKey, list[EndpointSlice]] = {}
        for eps in slices:
            if ports_key(eps.ports) in groups:
                by_ports.setdefault(ports_key(eps.ports), []).append(eps)
            else:
                plan.delete.append(eps)
        for key, group in groups.items():
            _plan_group(
                svc, address_type, group, by_ports.get(key, []), labels, max_per_slice, plan
            )
    primary = families[0]
    ours = [e for e in existing if e.address_type == primary]
    deleted = {id(e) for e in plan.delete}
    creates = [e for e in plan.create if e.address_type == primary]
    if all(id(e) in deleted for e in ours) and not creates:
        # No endpoints at all: keep (or make) one placeholder slice, as Kubernetes does.
        placeholder = next(
            (e for e in plan.delete if e.address_type == primary and _is_placeholder(e)), None
        )
        if placeholder is not None and placeholder.metadata.labels == labels:
            plan.delete = [e for e in plan.delete if e is not placeholder]
        else:
            plan.create.append(_new_slice(svc, primary, []))
    return plan


def _plan_group(
    svc: Service,
    address_type: str,
    group: _Group,
    slices: list[EndpointSlice],
    labels: dict[str, str],
    max_per_slice: int,
    plan: Plan,
) -> None:
    desired = dict(group.endpoints)
    to_update: list[EndpointSlice] = []
    unchanged: list[EndpointSlice] = []
    # 1. Keep what is still wanted where it is; note the slices that change.
    for eps in slices:
        kept: list[Endpoint] = []
        changed = False
        for endpoint in eps.endpoints:
            want = desired.pop(endpoint_key(endpoint), None)
            if want is None:
                continue
            kept.append(want)
            changed = changed or want.to_dict() != endpoint.to_dict()
        if changed or len(kept) != len(eps.endpoints):
            if not kept:
                plan.delete.append(eps)
                continue
            copy = eps.model_copy(deep=True)
            copy.endpoints = kept
            copy.metadata.labels = dict(labels)
            to_update.append(copy)
        elif eps.metadata.labels != labels:
            copy = eps.model_copy(deep=True)
            copy.metadata.labels = dict(labels)
            to_update.append(copy)
        else:
            unchanged.append(eps)
    remaining = list(desired.values())
    # 2. Fill the slices that change anyway, fullest first.
    for eps in sorted(to_update, key=lambda e: len(e.endpoints), reverse=True):
        room = max_per_slice - len(eps.endpoints)
        if room > 0 and remaining:
            eps.endpoints.extend(remaining[:room])
            remaining = remaining[room:]
    plan.update.extend(to_update)
    # 3. The rest goes into the unchanged slice with the least room that takes it all,
    # else into new slices.
    while remaining:
        target: EndpointSlice | None = None
        if len(remaining) < max_per_slice and unchanged:
            fits = [e for e in unchanged if max_per_slice - len(e.endpoints) >= len(remaining)]
            if fits:
                best = min(fits, key=lambda e: max_per_slice - len(e.endpoints))
                unchanged.remove(best)
                target = best.model_copy(deep=True)
                target.metadata.labels = dict(labels)
                plan.update.append(target)
        if target is None:
            target = _new_slice(svc, address_type, group.ports)
            plan.create.append(target)
        room = max_per_slice - len(target.endpoints)
        target.endpoints.extend(remaining[:room])
        remaining = remaining[room:]


class EndpointSliceController(Controller):
    name = "endpointslice-controller"
    service_account = "endpointslice-controller"
    aliases = ("endpointslice",)
    workers_option = "concurrent_service_endpoint_syncs"

    def __init__(self, ctx: ControllerContext, workers: int = 5) -> None:
        super().__init__(ctx, workers)
        self.max_per_slice = max(1, min(self.options.max_endpoints_per_slice, 1000))
        self.services: Informer[Service] = self.factory.informer(Service)
        self.pods: Informer[Pod] = self.factory.informer(Pod)
        self.nodes: Informer[Node] = self.factory.informer(Node)
        self.slices: Informer[EndpointSlice] = self.factory.informer(
            EndpointSlice, indexers={SERVICE_INDEX: index_by_service}
        )
        self.services.add_handler(self.enqueue, lambda _old, new: self.enqueue(new), self.enqueue)
        self.pods.add_handler(self._pod_changed, self._pod_updated, self._pod_changed)
        self.slices.add_handler(self._slice_changed, self._slice_updated, self._slice_changed)
        # Per Service key: slice name -> the resourceVersion we wrote (None: deleted).
        self._pending: dict[str, dict[str, str | None]] = {}

    # --- handlers ----------------------------------------------------------------------

    def _pod_changed(self, pod: Pod) -> None:
        self._enqueue_services(pod.metadata.namespace or "", pod.metadata.labels)

    def _pod_updated(self, old: Pod, new: Pod) -> None:
        if old.metadata.resource_version == new.metadata.resource_version:
            return
        self._enqueue_services(new.metadata.namespace or "", new.metadata.labels)
        if old.metadata.labels != new.metadata.labels:
            self._enqueue_services(old.metadata.namespace or "", old.metadata.labels)

    def _enqueue_services(self, namespace: str, labels: dict[str, str]) -> None:
        for svc in self.services.store.by_index("namespace", namespace):
            selector = svc.spec.selector if svc.spec else {}
            if selector and all(labels.get(k) == v for k, v in selector.items()):
                self.enqueue(svc)

    def _slice_changed(self, eps: EndpointSlice) -> None:
        for key in index_by_service(eps):
            self.queue.add(key)

    def _slice_updated(self, old: EndpointSlice, new: EndpointSlice) -> None:
        self._slice_changed(new)
        if old.metadata.labels != new.metadata.labels:
            self._slice_changed(old)

    # --- reconcile ---------------------------------------------------------------------

    def _cache_is_current(self, key: str) -> bool:
        """Whether the slice cache shows every write made for ``key``."""
        pending = self._pending.get(key)
        if not pending:
            return True
        namespace = key.partition("/")[0]
        for name, version in list(pending.items()):
            cached = self.slices.store.get(f"{namespace}/{name}")
            if version is None:
                seen = cached is None
            else:
                seen = cached is not None and int(cached.metadata.resource_version or 0) >= int(
                    version
                )
            if seen:
                del pending[name]
        if not pending:
            del self._pending[key]
            return True
        return False

    def _zone_of(self, node_name: str) -> str | None:
        node = self.nodes.store.get(node_name)
        return node.metadata.labels.get(ZONE_LABEL) if node is not None else None

    async def reconcile(self, key: str) -> float | None:
        svc = self.services.store.get(key)
        if svc is None:
            # The garbage collector removes the slices through their owner reference.
            self._pending.pop(key, None)
            return None
        spec = svc.spec
        if spec is None or not spec.selector or spec.type == "ExternalName":
            return None
        if not self._cache_is_current(key):
            # Our last writes are not in the cache yet; their events enqueue us again.
            return 1.0
        selector = selector_from_set(spec.selector)
        pods = [
            pod
            for pod in self.pods.store.by_index("namespace", svc.metadata.namespace or "")
            if selector.matches(pod.metadata.labels)
        ]
        existing = self.slices.store.by_index(SERVICE_INDEX, key)
        plan = plan_slices(
            svc, pods, existing, max_per_slice=self.max_per_slice, zone_of=self._zone_of
        )
        if not plan.empty():
            await self._apply(key, plan)
        return None

    async def _apply(self, key: str, plan: Plan) -> None:
        """Creates first, then updates, then deletes, so that a Service never shows
        fewer endpoints in between than before and after."""
        pending = self._pending.setdefault(key, {})
        stamp = format_microtime(self.clock.now())
        for eps in plan.create:
            eps.metadata.annotations[LAST_CHANGE] = stamp
            body = await self.client.create_raw(SLICES, eps.to_dict())
            meta = body["metadata"]
            pending[meta["name"]] = meta["resourceVersion"]
        for eps in plan.update:
            eps.metadata.annotations[LAST_CHANGE] = stamp
            body = await self.client.update_raw(SLICES, eps.to_dict())
            meta = body["metadata"]
            pending[meta["name"]] = meta["resourceVersion"]
        for eps in plan.delete:
            name = eps.metadata.name or ""
            with contextlib.suppress(errors.NotFoundError):
                await self.client.delete_raw(SLICES, name, eps.metadata.namespace)
            pending[name] = None
        log.debug(
            "%s: %d slices created, %d updated, %d deleted",
            key, len(plan.create), len(plan.update), len(plan.delete),
        )  # fmt: skip


__all__ = ["EndpointSliceController", "Plan", "endpoint_key", "plan_slices"]
