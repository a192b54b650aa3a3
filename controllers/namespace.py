"""The Namespace controller: empty a namespace being deleted, then let it go.

Watches Namespaces. Deleting a namespace makes the apiserver mark it ``Terminating``
and keep it while ``spec.finalizers`` holds ``kubernetes``. For such a namespace,
``reconcile``:

1. deletes every collection of every namespaced kind in it (pods get their grace
   periods; dependents and finalizers run their course);
2. lists again: while anything remains, writes the ``NamespaceContentRemaining`` and
   ``NamespaceFinalizersRemaining`` conditions and looks again shortly;
3. once empty, PUTs the namespace to ``namespaces/<name>/finalize`` without the
   ``kubernetes`` finalizer, and the apiserver removes the namespace.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from apiclient import Informer, errors
from apitypes.core import Namespace, NamespaceCondition
from apitypes.registry import STORED, by_model
from controllers.base import Controller, ControllerContext
from controllers.util import set_condition

log = logging.getLogger(__name__)

NAMESPACES = by_model(Namespace)
FINALIZER = "kubernetes"


class NamespaceController(Controller):
    name = "namespace-controller"
    service_account = "namespace-controller"
    aliases = ("namespace",)
    workers_option = "concurrent_namespace_syncs"

    def __init__(self, ctx: ControllerContext, workers: int = 10) -> None:
        super().__init__(ctx, workers)
        self.namespaces: Informer[Namespace] = self.factory.informer(Namespace)
        self.namespaces.add_handler(self._changed, lambda _old, new: self._changed(new))

    def _changed(self, ns: Namespace) -> None:
        if ns.metadata.deletion_timestamp is not None:
            self.enqueue(ns)

    async def reconcile(self, key: str) -> float | None:
        ns = self.namespaces.store.get(key)
        if ns is None or ns.metadata.deletion_timestamp is None:
            return None
        if FINALIZER not in (ns.spec.finalizers if ns.spec else []):
            return None
        remaining, with_finalizers, grace = await self._delete_content(key)
        if remaining:
            await self._report(ns, remaining, with_finalizers)
            # Pods take their grace period; most else goes at once.
            return min(max(grace / 2, 1.0), 5.0)
        await self._finalize(ns)
        return None

    async def _delete_content(self, namespace: str) -> tuple[dict[str, int], dict[str, int], float]:
        """Delete everything in ``namespace``; (kinds left -> count, finalizers left ->
        count, longest grace period of what is left)."""
        remaining: dict[str, int] = {}
        finalizers: dict[str, int] = {}
        grace = 0.0
        for rt in STORED:
            if not rt.namespaced:
                continue
            listed = await self.client.list_raw(rt, namespace)
            items: list[dict[str, Any]] = listed.get("items") or []
            if not items:
                continue
            if any(not (item.get("metadata") or {}).get("deletionTimestamp") for item in items):
                with contextlib.suppress(errors.NotFoundError):
                    await self.client.delete_collection_raw(
                        rt, namespace, propagation_policy="Background"
                    )
                listed = await self.client.list_raw(rt, namespace)
                items = listed.get("items") or []
            if not items:
                continue
            remaining[rt.qualified] = len(items)
            for item in items:
                meta = item.get("metadata") or {}
                for finalizer in meta.get("finalizers") or []:
                    finalizers[finalizer] = finalizers.get(finalizer, 0) + 1
                grace = max(grace, float(meta.get("deletionGracePeriodSeconds") or 0))
        return remaining, finalizers, grace

    async def _report(
        self, ns: Namespace, remaining: dict[str, int], finalizers: dict[str, int]
    ) -> None:
        now = self.clock.now()
        left = ", ".join(
            f"{kind} has {count} resource instances" for kind, count in sorted(remaining.items())
        )
        conditions = list(ns.status.conditions) if ns.status else []
        conditions = set_condition(
            conditions,
            NamespaceCondition(
                type="NamespaceContentRemaining",
                status="True",
                reason="SomeResourcesRemain",
                message=f"Some resources are remaining: {left}",
                last_transition_time=now,
            ),
        )
        if finalizers:
            held = ", ".join(
                f"{name} in {count} resource instances"
                for name, count in sorted(finalizers.items())
            )
            conditions = set_condition(
                conditions,
                NamespaceCondition(
                    type="NamespaceFinalizersRemaining",
                    status="True",
                    reason="SomeFinalizersRemain",
                    message=f"Some content in the namespace has finalizers remaining: {held}",
                    last_transition_time=now,
                ),
            )
        if ns.status is not None and [c.to_dict() for c in conditions] == [
            c.to_dict() for c in ns.status.conditions
        ]:
            return
        body = ns.to_dict()
        body.setdefault("status", {})["conditions"] = [c.to_dict() for c in conditions]
        body["metadata"].pop("resourceVersion", None)
        with contextlib.suppress(errors.NotFoundError, errors.ConflictError, errors.InvalidError):
            await self.client.update_raw(NAMESPACES, body, subresource="status")

    async def _finalize(self, ns: Namespace) -> None:
        body = ns.to_dict()
        spec = body.setdefault("spec", {})
        spec["finalizers"] = [f for f in spec.get("finalizers") or [] if f != FINALIZER]
        body["metadata"].pop("resourceVersion", None)
        try:
            await self.client.update_raw(NAMESPACES, body, subresource="finalize")
        except errors.NotFoundError:
            return
        log.info("namespace %s emptied and finalized", ns.metadata.name)
