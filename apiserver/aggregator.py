"""APIServices kept by the apiserver itself, as kube-aggregator keeps them.

Two duties, run by ``Aggregator.run`` in every apiserver process:

- **autoregister**: at start, every group version this server serves gets its local
  APIService (``v1.`` for the core group, ``v1.apps``, ...), with Kubernetes' group and
  version priorities and the label ``kube-aggregator.kubernetes.io/automanaged:
  onstart``: created when missing, its spec brought back when it drifted. As in
  Kubernetes, this happens once per start: one deleted later stays deleted until the
  next start.
- **availability**: every APIService's ``Available`` condition. A local one is always
  available (``Local``). One backed by a Service is checked as kube-aggregator checks
  it: the Service exists (``ServiceNotFound``), a ClusterIP Service has the port
  (``ServicePortError``), EndpointSlices exist for it (``EndpointsNotFound``) with a
  ready endpoint on that port (``MissingEndpoints``). navarch does not proxy requests
  to extension apiservers, so past those checks it stays unavailable
  (``ProxyUnsupported``); discovery only lists what this server serves, so clients
  never discover a group version nobody answers.

Conditions are recomputed from the watch caches whenever APIServices change (and, while
any APIService names a Service, whenever Services or EndpointSlices change), and at
least every ``resync`` seconds; a condition is written only when it changed, with the
object's ``resourceVersion`` as a precondition, so several apiservers agree without
fighting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from apiserver import errors
from apiserver.registry.store import ResourceStore, WriteOptions
from apiserver.watchcache import Predicate, WatchCache
from apitypes.apiregistration import AUTOMANAGED_LABEL, AVAILABLE
from apitypes.base import format_time
from apitypes.selectors import selector_from_set

log = logging.getLogger(__name__)

API_SERVICES = ("apiregistration.k8s.io", "apiservices")
SERVICE_NAME_LABEL = "kubernetes.io/service-name"

PRIORITIES: Mapping[tuple[str, str], tuple[int, int]] = {
    ("", "v1"): (18000, 1),
    ("apiregistration.k8s.io", "v1"): (18000, 15),
    ("apps", "v1"): (17800, 15),
    ("autoscaling", "v1"): (17500, 15),
    ("batch", "v1"): (17400, 15),
    ("policy", "v1"): (17100, 15),
    ("certificates.k8s.io", "v1"): (17300, 15),
    ("coordination.k8s.io", "v1"): (16500, 15),
    ("discovery.k8s.io", "v1"): (16200, 15),
}
"""``groupPriorityMinimum`` and ``versionPriority`` of the local APIServices, Kubernetes'
own values. A served group version missing here gets no APIService (as in Kubernetes,
which registers only the group versions it knows)."""

Condition = tuple[str, str, str]
"""(status, reason, message) of an ``Available`` condition."""

LOCAL: Condition = ("True", "Local", "Local APIServices are always available")


def local_api_service(group: str, version: str) -> dict[str, Any] | None:
    """The APIService registering this server's ``group``/``version``, None when
    Kubernetes has no priorities for it."""
    priorities = PRIORITIES.get((group, version))
    if priorities is None:
        return None
    spec: dict[str, Any] = {
        "version": version,
        "groupPriorityMinimum": priorities[0],
        "versionPriority": priorities[1],
    }
    if group:
        spec["group"] = group
    return {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": f"{version}.{group}", "labels": {AUTOMANAGED_LABEL: "onstart"}},
        "spec": spec,
    }


class Aggregator:
    """Autoregister and availability over the stores of one apiserver."""

    def __init__(
        self,
        stores: Mapping[tuple[str, str], ResourceStore],
        group_versions: Iterable[tuple[str, str]],
        *,
        resync: float = 30.0,
        min_interval: float = 0.2,
    ) -> None:
        self.api_services = stores[API_SERVICES]
        self.services = stores[("", "services")]
        self.slices = stores[("discovery.k8s.io", "endpointslices")]
        self.group_versions = list(group_versions)
        self.resync = resync
        self.min_interval = min_interval

    async def run(self) -> None:
        """Register the local APIServices, then keep every condition until cancelled."""
        await self.register_local()
        while True:
            try:
                remote = await self.sync()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("APIService availability pass failed")
                remote = True
            caches = [self.api_services.cache]
            if remote:
                caches += [self.services.cache, self.slices.cache]
            await _first_change(caches, self.resync)
            await asyncio.sleep(self.min_interval)

    # --- autoregister ---------------------------------------------------------------

    async def register_local(self) -> None:
        for group, version in self.group_versions:
            desired = local_api_service(group, version)
            if desired is None:
                continue
            try:
                await self._register(desired)
            except errors.ApiError as err:
                log.warning("registering APIService %s: %s", desired["metadata"]["name"], err)

    async def _register(self, desired: dict[str, Any]) -> None:
        name = desired["metadata"]["name"]
        try:
            await self.api_services.create(None, desired, WriteOptions())
            return
        except errors.ApiError as err:
            if err.code != 409:
                raise
        current = await self.api_services.get(None, name)
        labels = current["metadata"].get("labels") or {}
        if labels.get(AUTOMANAGED_LABEL) != "onstart" or current.get("spec") == desired["spec"]:
            return
        current["spec"] = desired["spec"]
        with contextlib.suppress(errors.ApiError):  # changed meanwhile: theirs stands
            await self.api_services.update(None, name, current, WriteOptions())

    # --- availability ---------------------------------------------------------------

    async def sync(self) -> bool:
        """Write every ``Available`` condition that changed; whether any APIService
        names a Service (whose changes then matter)."""
        items = self.api_services.cache.snapshot().select(Predicate())
        remote = False
        for cached in items:
            obj = cached.obj()
            service = (obj.get("spec") or {}).get("service")
            remote = remote or service is not None
            wanted = LOCAL if service is None else self.remote_condition(service)
            await self._write(obj, wanted)
        return remote

    def remote_condition(self, service: Mapping[str, Any]) -> Condition:
        """kube-aggregator's checks of a Service-backed APIService, from the caches."""
        namespace, name = service.get("namespace") or "", service.get("name") or ""
        port = service.get("port") or 443
        where = f'service/{name} in "{namespace}"'
        cached = self.services.cache.get(self.services.key(namespace, name))
        if cached is None:
            return ("False", "ServiceNotFound", f"{where} is not present")
        spec = cached.obj().get("spec") or {}
        if (spec.get("type") or "ClusterIP") == "ClusterIP":
            ports = [p for p in spec.get("ports") or [] if p.get("port") == port]
            if not ports:
                return ("False", "ServicePortError", f"{where} is not listening on port {port}")
            port_name = ports[0].get("name") or ""
            owned = Predicate(
                namespace=namespace, labels=selector_from_set({SERVICE_NAME_LABEL: name})
            )
            slices = [co.obj() for co in self.slices.cache.snapshot().select(owned)]
            if not slices:
                return ("False", "EndpointsNotFound", f"cannot find endpointslices for {where}")
            if not any(_serves(s, port_name) for s in slices):
                return (
                    "False",
                    "MissingEndpoints",
                    f'endpointslices for {where} have no addresses with port name "{port_name}"',
                )
        return (
            "False",
            "ProxyUnsupported",
            f"navarch does not proxy requests to aggregated API servers ({where})",
        )

    async def _write(self, obj: dict[str, Any], wanted: Condition) -> None:
        conditions: list[dict[str, Any]] = list((obj.get("status") or {}).get("conditions") or [])
        current = next((c for c in conditions if c.get("type") == AVAILABLE), None)
        status, reason, message = wanted
        if (
            current is not None
            and (
                current.get("status"),
                current.get("reason"),
                current.get("message"),
            )
            == wanted
        ):
            return
        stamp = format_time(datetime.now(UTC))
        if current is not None and current.get("status") == status:
            stamp = current.get("lastTransitionTime") or stamp
        condition = {
            "type": AVAILABLE,
            "status": status,
            "lastTransitionTime": stamp,
            "reason": reason,
            "message": message,
        }
        others = [c for c in conditions if c.get("type") != AVAILABLE]
        obj["status"] = {"conditions": [*others, condition]}
        name = obj["metadata"]["name"]
        try:
            # The cached resourceVersion is a precondition: a stale copy loses (409),
            # and its newer version comes round as a change.
            await self.api_services.update(None, name, obj, WriteOptions(), subresource="status")
        except errors.ApiError as err:
            if err.code not in (404, 409):
                raise
            return
        if current is None or current.get("status") != status:
            log.info("APIService %s: Available=%s (%s) %s", name, status, reason, message)


def _serves(endpoint_slice: Mapping[str, Any], port_name: str) -> bool:
    """A ready endpoint, and the port by ``port_name`` (kube-aggregator's test)."""
    ready = any(
        (e.get("conditions") or {}).get("ready") is not False
        for e in endpoint_slice.get("endpoints") or []
    )
    named = any(
        (p.get("name") or "") == port_name and p.get("port") is not None
        for p in endpoint_slice.get("ports") or []
    )
    return ready and named


async def _first_change(caches: list[WatchCache], timeout: float) -> None:
    """Return when any of ``caches`` changes after now, or after ``timeout``."""
    waits = []
    for cache in caches:
        cursor = cache.cursor_after(cache.revision)
        if cursor is not None:
            waits.append(asyncio.ensure_future(cache.wait_change(cursor, timeout)))
    if not waits:
        await asyncio.sleep(timeout)
        return
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
        for wait in waits:
            with contextlib.suppress(asyncio.CancelledError):
                await wait
