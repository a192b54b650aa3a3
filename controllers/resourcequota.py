"""The resource quota controller: each ResourceQuota's ``status`` (``hard`` and ``used``),
counted from what the namespace holds (Kubernetes' ``resourcequota-controller``).

Watches ResourceQuotas and every namespaced kind (the informers the garbage collector
shares). As Kubernetes' controller, a quota is recounted when it is new or its
``spec.hard`` changes, when an object of its namespace is deleted or comes to count less
(replenishment: a pod that finished), and every ``--resource-quota-sync-period``; not on
creates, which the admission plugin charges, nor on status writes. ``used`` counts exactly the resources
``spec.hard`` names, by the rules the ResourceQuota admission plugin charges with
(``apitypes.quota``): object counts, pods' requests and limits (finished pods count
nothing), Services' node ports and load balancers, within the quota's scopes. The
admission plugin raises ``used`` at each create; this controller brings it back to what
exists (deletes, failed creates).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import Any

from apiclient import Informer, errors, index_by_namespace
from apitypes import quota
from apitypes.core import ResourceQuota
from apitypes.quantity import Quantity
from apitypes.registry import STORED, ResourceType, by_model
from controllers.base import Controller, ControllerContext

QUOTAS = by_model(ResourceQuota)
NAMESPACE_INDEX = "namespace"


class ResourceQuotaController(Controller):
    name = "resourcequota-controller"
    service_account = "resourcequota-controller"
    aliases = ("resourcequota",)

    def __init__(self, ctx: ControllerContext, workers: int = 1) -> None:
        super().__init__(ctx, workers)
        indexers: dict[str, Callable[[Any], Iterable[str]]] = {NAMESPACE_INDEX: index_by_namespace}
        self.quotas: Informer[ResourceQuota] = self.factory.informer(
            ResourceQuota, indexers=indexers
        )
        self.quotas.add_handler(self.enqueue, self._quota_updated)
        self.kinds: list[tuple[ResourceType, Informer[Any]]] = []
        for rt in STORED:
            if not rt.namespaced:
                continue
            informer: Informer[Any] = self.factory.informer(rt.model, indexers=indexers)
            self.kinds.append((rt, informer))
            informer.add_handler(None, self._replenish(rt), self._released)

    def _quota_updated(self, old: ResourceQuota, new: ResourceQuota) -> None:
        """Only a changed ``spec.hard`` counts again at once: the status writes (ours and
        admission's) must not, or a recount from caches that do not hold a just-admitted
        object yet would give its charge back."""
        if (old.spec.hard if old.spec else {}) != (new.spec.hard if new.spec else {}):
            self.enqueue(new)

    def _replenish(self, rt: ResourceType) -> Callable[[Any, Any], None]:
        """An update that lowers what an object counts (a pod that finished) recounts its
        namespace's quotas; creates are charged by admission, never here."""

        def updated(old: Any, new: Any) -> None:
            before = quota.object_usage(rt.plural, rt.group, old.to_dict())
            after = quota.object_usage(rt.plural, rt.group, new.to_dict())
            if any(k not in after or after[k] < v for k, v in before.items()):
                self._released(new)

        return updated

    def _released(self, obj: Any) -> None:
        namespace = obj.metadata.namespace or ""
        for q in self.quotas.store.by_index(NAMESPACE_INDEX, namespace):
            self.enqueue(q)

    def loops(self) -> list[Any]:
        async def resync() -> float | None:
            for q in self.quotas.store.objects():
                self.enqueue(q)
            return None

        return [self.every(self.options.resource_quota_sync_period, resync)]

    def used(self, q: ResourceQuota) -> dict[str, Quantity]:
        hard = q.spec.hard if q.spec else {}
        namespace = q.metadata.namespace or ""
        total: dict[str, Quantity] = {}
        for rt, informer in self.kinds:
            relevant = quota.count_name(rt.plural, rt.group) in hard or (
                rt.group == ""
                and (
                    rt.plural in hard
                    or (
                        rt.plural == "pods"
                        and any(
                            k.startswith(("requests.", "limits.")) or k in quota.COMPUTE
                            for k in hard
                        )
                    )
                    or (rt.plural == "services" and any(k.startswith("services.") for k in hard))
                )
            )
            if not relevant:
                continue
            for obj in informer.store.by_index(NAMESPACE_INDEX, namespace):
                wire = obj.to_dict()
                if quota.matches_scopes(q.spec, rt.plural, rt.group, wire):
                    quota.add(total, quota.object_usage(rt.plural, rt.group, wire))
        return {name: total.get(name, Quantity.zero()) for name in hard}

    async def reconcile(self, key: str) -> float | None:
        q = self.quotas.store.get(key)
        if q is None or q.metadata.deletion_timestamp is not None:
            return None
        q = self.fresh(q)
        hard = dict(q.spec.hard) if q.spec else {}
        used = quota.format_list(self.used(q))
        current = q.status
        if (
            current is not None
            and current.hard == hard
            and quota.parse_list(current.used) == quota.parse_list(used)
        ):
            return None
        body = q.to_dict()
        body["status"] = {"hard": hard, "used": used}
        with contextlib.suppress(errors.NotFoundError):
            written = await self.client.update_raw(QUOTAS, body, subresource="status")
            self.remember(ResourceQuota.model_validate(written))
        return None
