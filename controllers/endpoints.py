"""The Endpoints controller: for every Service with a selector, the addresses of its pods.

Watches Services, Pods and Endpoints. For one Service key, ``reconcile`` lists the pods
of the Service's namespace that its selector matches, keeps those with an IP that are
neither finished nor being deleted, and writes an Endpoints object of the same name:
ready pods under ``addresses``, others under ``notReadyAddresses`` (all under
``addresses`` with ``publishNotReadyAddresses``), each with its node and a reference to
the pod, and the Service's ports resolved against each pod (a named ``targetPort``
is looked up in the pod's containers). Addresses with the same ports share a subset.
A Service without a selector is left alone (its Endpoints are the user's); a deleted
Service's Endpoints are deleted. kube-proxy and cluster DNS read these.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from apiclient import Informer, errors, object_key
from apitypes.base import format_time
from apitypes.core import (
    EndpointAddress,
    EndpointPort,
    Endpoints,
    EndpointSubset,
    ObjectReference,
    Pod,
    Service,
)
from apitypes.meta import ObjectMeta
from apitypes.registry import by_model
from apitypes.selectors import selector_from_set
from controllers.base import Controller, ControllerContext

log = logging.getLogger(__name__)

ENDPOINTS = by_model(Endpoints)
MAX_ADDRESSES = 1000
LAST_CHANGE = "endpoints.kubernetes.io/last-change-trigger-time"
OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity"
HEADLESS_LABEL = "service.kubernetes.io/headless"


class EndpointsController(Controller):
    name = "endpoints-controller"
    service_account = "endpoint-controller"
    aliases = ("endpoint",)
    workers_option = "concurrent_endpoint_syncs"

    def __init__(self, ctx: ControllerContext, workers: int = 5) -> None:
        super().__init__(ctx, workers)
        self.services: Informer[Service] = self.factory.informer(Service)
        self.pods: Informer[Pod] = self.factory.informer(Pod)
        self.endpoints: Informer[Endpoints] = self.factory.informer(Endpoints)
        self.services.add_handler(self.enqueue, lambda _old, new: self.enqueue(new), self.enqueue)
        self.pods.add_handler(self._pod_changed, self._pod_updated, self._pod_changed)
        self.endpoints.add_handler(None, lambda _old, new: self.enqueue(new), self.enqueue)

    def _pod_changed(self, pod: Pod) -> None:
        self._enqueue_services(pod, pod.metadata.labels)

    def _pod_updated(self, old: Pod, new: Pod) -> None:
        if old.metadata.resource_version == new.metadata.resource_version:
            return
        self._enqueue_services(new, new.metadata.labels)
        if old.metadata.labels != new.metadata.labels:
            self._enqueue_services(old, old.metadata.labels)

    def _enqueue_services(self, pod: Pod, labels: dict[str, str]) -> None:
        for svc in self.services.store.by_index("namespace", pod.metadata.namespace or ""):
            selector = svc.spec.selector if svc.spec else {}
            if selector and all(labels.get(k) == v for k, v in selector.items()):
                self.enqueue(svc)

    async def reconcile(self, key: str) -> float | None:
        svc = self.services.store.get(key)
        if svc is None:
            namespace, _, name = key.rpartition("/")
            if self.endpoints.store.get(key) is not None:
                with contextlib.suppress(errors.NotFoundError):
                    await self.client.delete_raw(ENDPOINTS, name, namespace)
            return None
        if svc.spec is None or not svc.spec.selector:
            return None
        namespace = svc.metadata.namespace or ""
        selector = selector_from_set(svc.spec.selector)
        pods = [
            pod
            for pod in self.pods.store.by_index("namespace", namespace)
            if selector.matches(pod.metadata.labels)
        ]
        subsets, truncated = build_subsets(svc, pods)
        await self._write(svc, subsets, truncated)
        return None

    async def _write(self, svc: Service, subsets: list[EndpointSubset], truncated: bool) -> None:
        namespace, name = svc.metadata.namespace or "", svc.metadata.name or ""
        current = self.endpoints.store.get(object_key(svc))
        labels = dict(svc.metadata.labels)
        if svc.is_headless():
            labels[HEADLESS_LABEL] = ""
        wire_subsets = [s.to_dict() for s in subsets]
        if current is not None:
            same = [s.to_dict() for s in current.subsets] == wire_subsets
            over = current.metadata.annotations.get(OVER_CAPACITY) == "truncated"
            if same and current.metadata.labels == labels and over == truncated:
                return
        annotations = dict(current.metadata.annotations) if current is not None else {}
        annotations[LAST_CHANGE] = format_time(self.clock.now())
        if truncated:
            annotations[OVER_CAPACITY] = "truncated"
        else:
            annotations.pop(OVER_CAPACITY, None)
        body = Endpoints(
            metadata=ObjectMeta(
                name=name,
                namespace=namespace,
                labels=labels,
                annotations=annotations,
                resource_version=current.metadata.resource_version if current else None,
            ),
            subsets=subsets,
        ).to_dict()
        if current is None:
            try:
                await self.client.create_raw(ENDPOINTS, body, namespace)
                return
            except errors.AlreadyExistsError:
                # Made by someone else (or our cache is behind): overwrite it.
                body["metadata"].pop("resourceVersion", None)
        await self.client.update_raw(ENDPOINTS, body)


def resolve_target_port(svc_port: Any, pod: Pod) -> int | None:
    """The pod's port for a Service port: its number, or a named ``targetPort`` looked
    up in the pod's containers (None when the pod has no port of that name)."""
    target = svc_port.target_port
    if target is None:
        return int(svc_port.port)
    if isinstance(target, int):
        return target
    if target.isdigit():
        return int(target)
    return pod.container_port_named(target)


def build_subsets(svc: Service, pods: list[Pod]) -> tuple[list[EndpointSubset], bool]:
    """The Endpoints subsets of ``svc`` over ``pods`` (grouped by port set, sorted), and
    whether addresses were cut at ``MAX_ADDRESSES``."""
    assert svc.spec is not None
    publish_not_ready = bool(svc.spec.publish_not_ready_addresses)
    groups: dict[
        tuple[tuple[str, int, str], ...], tuple[list[EndpointAddress], list[EndpointAddress]]
    ] = {}
    count = 0
    truncated = False
    for pod in sorted(pods, key=lambda p: p.metadata.name or ""):
        status = pod.status
        if status is None or not status.pod_ip or pod.is_terminal():
            continue
        if pod.metadata.deletion_timestamp is not None and not publish_not_ready:
            continue
        ports: list[tuple[str, int, str]] = []
        for port in svc.spec.ports:
            number = resolve_target_port(port, pod)
            if number is None:
                continue
            ports.append((port.name or "", number, port.protocol or "TCP"))
        if svc.spec.ports and not ports:
            continue
        if count >= MAX_ADDRESSES:
            truncated = True
            continue
        count += 1
        hostname = None
        if pod.spec and pod.spec.hostname and pod.spec.subdomain == svc.metadata.name:
            hostname = pod.spec.hostname
        address = EndpointAddress(
            ip=status.pod_ip,
            hostname=hostname,
            node_name=pod.node_name(),
            target_ref=ObjectReference(
                kind="Pod",
                namespace=pod.metadata.namespace,
                name=pod.metadata.name,
                uid=pod.metadata.uid,
            ),
        )
        ready, not_ready = groups.setdefault(tuple(sorted(ports)), ([], []))
        (ready if publish_not_ready or pod.is_ready() else not_ready).append(address)
    subsets = []
    for ports_key, (ready, not_ready) in sorted(groups.items()):
        subsets.append(
            EndpointSubset(
                addresses=sorted(ready, key=lambda a: a.ip),
                not_ready_addresses=sorted(not_ready, key=lambda a: a.ip),
                ports=[
                    EndpointPort(name=n or None, port=p, protocol=proto)
                    for n, p, proto in ports_key
                ],
            )
        )
    return subsets, truncated
