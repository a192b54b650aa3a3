"""The garbage collector: ownerReferences, cascading deletion, orphaning.

Watches every kind navarch serves except Events (as Kubernetes ignores them). Each
informer indexes its objects by uid and by the uids of their owners, so the graph of
owners and dependents is read straight from the caches.

The work queue holds objects ("resource|namespace|name"). ``reconcile`` looks at one:

- **being deleted with the ``orphan`` finalizer**: remove the references to it from
  every dependent, then remove the finalizer (the apiserver then deletes it);
- **being deleted with the ``foregroundDeletion`` finalizer**: queue its dependents
  (they will find their owner waiting and go); once no dependent that blocks owner
  deletion is left, remove the finalizer, so the owner goes last;
- **a dependent**: sort its owners into *solid* (exist, not waiting), *dangling*
  (gone: not cached and a live GET says 404 or another uid) and *waiting* (being
  deleted in the foreground). With a solid owner it only drops the references to the
  others; without one it is deleted: in the foreground if a waiting owner needs it gone
  and it has dependents itself, otherwise by the policy its own finalizers ask for
  (``orphan``, ``foregroundDeletion``), else in the background.

Handlers queue an object when it has an owner the caches do not hold or that is
being deleted, when it is being deleted with one of the two finalizers, and, when an
object disappears, its dependents and its waiting owners.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from apiclient import Informer, errors
from apitypes.meta import OwnerReference
from apitypes.registry import STORED, ResourceType, by_kind
from controllers.base import Controller, ControllerContext
from controllers.util import (
    OWNER_UID_INDEX,
    UID_INDEX,
    IndexFunc,
    index_owner_uids,
    index_uid,
    release_patch,
)

log = logging.getLogger(__name__)

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"
IGNORED = {("", "events")}


def resource_key(rt: ResourceType) -> str:
    return f"{rt.plural}.{rt.group}" if rt.group else rt.plural


def _key(rt: ResourceType, namespace: str | None, name: str) -> str:
    return f"{resource_key(rt)}|{namespace or ''}|{name}"


class GarbageCollector(Controller):
    name = "garbage-collector-controller"
    service_account = "generic-garbage-collector"
    aliases = ("garbagecollector",)
    workers_option = "concurrent_gc_syncs"

    def __init__(self, ctx: ControllerContext, workers: int = 20) -> None:
        super().__init__(ctx, workers)
        self.informers: dict[str, tuple[ResourceType, Informer[Any]]] = {}
        indexers: dict[str, IndexFunc] = {UID_INDEX: index_uid, OWNER_UID_INDEX: index_owner_uids}
        for rt in STORED:
            if (rt.group, rt.plural) in IGNORED:
                continue
            informer: Informer[Any] = self.factory.informer(rt.model, indexers=indexers)
            self.informers[resource_key(rt)] = (rt, informer)
            informer.add_handler(*self._handlers(rt))

    def _handlers(
        self, rt: ResourceType
    ) -> tuple[Callable[[Any], None], Callable[[Any, Any], None], Callable[[Any], None]]:
        def added(obj: Any) -> None:
            self._changed(rt, obj)

        def updated(_old: Any, new: Any) -> None:
            self._changed(rt, new)

        def deleted(obj: Any) -> None:
            self._deleted(rt, obj)

        return added, updated, deleted

    # --- graph lookups --------------------------------------------------------------

    def _by_uid(self, uid: str) -> tuple[ResourceType, Any] | None:
        for rt, informer in self.informers.values():
            found = informer.store.by_index(UID_INDEX, uid)
            if found:
                return rt, found[0]
        return None

    def _dependents(self, uid: str) -> list[tuple[ResourceType, Any]]:
        out: list[tuple[ResourceType, Any]] = []
        for rt, informer in self.informers.values():
            out.extend((rt, obj) for obj in informer.store.by_index(OWNER_UID_INDEX, uid))
        return out

    def _enqueue_obj(self, rt: ResourceType, obj: Any) -> None:
        self.queue.add(_key(rt, obj.metadata.namespace, obj.metadata.name or ""))

    # --- handlers ---------------------------------------------------------------------

    def _changed(self, rt: ResourceType, obj: Any) -> None:
        meta = obj.metadata
        if meta.deletion_timestamp is not None and (
            ORPHAN in meta.finalizers or FOREGROUND in meta.finalizers
        ):
            self._enqueue_obj(rt, obj)
            return
        for ref in meta.owner_references:
            found = self._by_uid(ref.uid)
            if found is None:
                self._enqueue_obj(rt, obj)
                return
            owner = found[1].metadata
            if owner.deletion_timestamp is not None and (
                FOREGROUND in owner.finalizers or ORPHAN in owner.finalizers
            ):
                self._enqueue_obj(rt, obj)
                self._enqueue_obj(found[0], found[1])
                return

    def _deleted(self, rt: ResourceType, obj: Any) -> None:
        meta = obj.metadata
        for dep_rt, dep in self._dependents(meta.uid or ""):
            self._enqueue_obj(dep_rt, dep)
        for ref in meta.owner_references:
            found = self._by_uid(ref.uid)
            if found is not None and found[1].metadata.deletion_timestamp is not None:
                self._enqueue_obj(*found)

    # --- reconcile ----------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        kind, namespace, name = key.split("|", 2)
        entry = self.informers.get(kind)
        if entry is None:
            return None
        rt, informer = entry
        obj = informer.store.get_by_name(namespace or None, name)
        if obj is None:
            return None
        meta = obj.metadata
        if meta.deletion_timestamp is not None and ORPHAN in meta.finalizers:
            await self._orphan_dependents(rt, obj)
            return None
        if meta.deletion_timestamp is not None and FOREGROUND in meta.finalizers:
            return await self._delete_dependents(rt, obj)
        if meta.owner_references:
            await self._collect(rt, obj)
        return None

    async def _orphan_dependents(self, rt: ResourceType, owner: Any) -> None:
        uid = owner.metadata.uid or ""
        for dep_rt, dep in self._dependents(uid):
            dmeta = dep.metadata
            try:
                await self.client.patch_raw(
                    dep_rt, dmeta.name, release_patch(uid, dmeta.uid), dmeta.namespace
                )
            except errors.NotFoundError:
                continue
        await self._remove_finalizer(rt, owner, ORPHAN)

    async def _delete_dependents(self, rt: ResourceType, owner: Any) -> float | None:
        uid = owner.metadata.uid or ""
        blocking = 0
        for dep_rt, dep in self._dependents(uid):
            self._enqueue_obj(dep_rt, dep)
            for ref in dep.metadata.owner_references:
                if ref.uid == uid and ref.block_owner_deletion:
                    blocking += 1
        if blocking:
            # Dependents' deletions queue this owner again; look anyway in a while.
            return 5.0
        await self._remove_finalizer(rt, owner, FOREGROUND)
        return None

    async def _remove_finalizer(self, rt: ResourceType, obj: Any, finalizer: str) -> None:
        meta = obj.metadata
        remaining = [f for f in meta.finalizers if f != finalizer]
        patch = {"metadata": {"finalizers": remaining, "resourceVersion": meta.resource_version}}
        try:
            await self.client.patch_raw(rt, meta.name, patch, meta.namespace, patch_type="merge")
        except errors.NotFoundError:
            return

    async def _owner_state(self, namespace: str | None, ref: OwnerReference) -> str:
        """ "solid", "dangling" or "waiting" for one owner reference."""
        owner_rt = by_kind(ref.api_version, ref.kind)
        if owner_rt is None:
            # A kind this cluster does not serve: never collect on its account.
            return "solid"
        entry = self.informers.get(resource_key(owner_rt))
        owner: Any = None
        if entry is not None:
            found = entry[1].store.by_index(UID_INDEX, ref.uid)
            owner = found[0] if found else None
        if owner is None:
            # The cache may lag; only the apiserver can say the owner is gone.
            try:
                raw = await self.client.get_raw(
                    owner_rt, ref.name, namespace if owner_rt.namespaced else None
                )
            except errors.NotFoundError:
                return "dangling"
            if (raw.get("metadata") or {}).get("uid") != ref.uid:
                return "dangling"
            owner = owner_rt.model.model_validate(raw)
        ometa = owner.metadata
        if ometa.deletion_timestamp is not None and FOREGROUND in ometa.finalizers:
            return "waiting"
        return "solid"

    async def _collect(self, rt: ResourceType, obj: Any) -> None:
        meta = obj.metadata
        states = {
            ref.uid: await self._owner_state(meta.namespace, ref) for ref in meta.owner_references
        }
        solid = [uid for uid, state in states.items() if state == "solid"]
        gone = [uid for uid, state in states.items() if state != "solid"]
        if solid:
            if gone:
                patch = release_patch(gone[0], meta.uid)
                refs = patch["metadata"]["ownerReferences"]
                refs.extend({"$patch": "delete", "uid": uid} for uid in gone[1:])
                with contextlib.suppress(errors.NotFoundError):
                    await self.client.patch_raw(rt, meta.name, patch, meta.namespace)
            return
        waiting = any(state == "waiting" for state in states.values())
        if waiting and self._dependents(meta.uid or ""):
            policy = "Foreground"
        elif ORPHAN in meta.finalizers:
            policy = "Orphan"
        elif FOREGROUND in meta.finalizers:
            policy = "Foreground"
        else:
            policy = "Background"
        if meta.deletion_timestamp is not None and (
            policy == "Background" or (policy == "Foreground" and FOREGROUND in meta.finalizers)
        ):
            return
        log.info(
            "deleting %s %s/%s (owners gone or waiting; %s)",
            rt.kind,
            meta.namespace,
            meta.name,
            policy,
        )
        try:
            await self.client.delete_raw(
                rt, meta.name, meta.namespace, propagation_policy=policy,
                preconditions={"uid": meta.uid or ""},
            )  # fmt: skip
        except (errors.NotFoundError, errors.ConflictError):
            return
