"""Adoption and release: which objects a controller owns (Kubernetes' ``ControllerRefManager``).

A controller owns what carries its controller reference. It adopts orphans that match
its selector (patching its reference onto them) and releases owned objects that stopped
matching (patching the reference off). It never takes what another controller owns.
Adoption first re-reads the owner from the apiserver: a controller being deleted, or
replaced by a namesake with a new uid, must not adopt anything.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from apiclient import Client, Informer, errors
from apitypes.base import KubeObject
from apitypes.registry import by_model
from apitypes.selectors import LabelSelectorExpr
from controllers.util import CONTROLLER_UID_INDEX, ORPHAN_INDEX, adopt_patch, release_patch

log = logging.getLogger(__name__)

T = TypeVar("T", bound=KubeObject)


def owner_recheck(client: Client, owner: KubeObject) -> Callable[[], Awaitable[bool]]:
    """A check, made at most once, that ``owner`` still exists as itself and is not
    being deleted (``RecheckDeletionTimestamp``)."""
    cached: list[bool] = []
    meta = owner.metadata  # type: ignore[attr-defined]

    async def check() -> bool:
        if cached:
            return cached[0]
        try:
            fresh = await client.get_raw(by_model(type(owner)), meta.name, meta.namespace)
        except errors.NotFoundError:
            cached.append(False)
            return False
        fmeta = fresh.get("metadata") or {}
        ok = fmeta.get("uid") == meta.uid and not fmeta.get("deletionTimestamp")
        cached.append(ok)
        return ok

    return check


async def claim(
    client: Client,
    informer: Informer[T],
    owner: KubeObject,
    selector: LabelSelectorExpr,
    *,
    extra_filter: Callable[[T], bool] | None = None,
) -> list[T]:
    """The objects of ``informer`` that ``owner`` controls after adopting and releasing.

    Candidates are what the owner already controls plus the orphans of its namespace;
    ``extra_filter`` may narrow what may be adopted (a Job's pods must also not be
    finished...). Failures to patch one object are logged and that object skipped;
    the next pass tries again.
    """
    meta = owner.metadata  # type: ignore[attr-defined]
    uid, namespace = meta.uid or "", meta.namespace or ""
    owner_deleting = meta.deletion_timestamp is not None
    resource = informer.resource
    recheck = owner_recheck(client, owner)
    owned: list[T] = []
    for obj in informer.store.by_index(CONTROLLER_UID_INDEX, uid):
        ometa = obj.metadata  # type: ignore[attr-defined]
        if ometa.namespace != namespace:
            continue
        if selector.matches(ometa.labels):
            owned.append(obj)
            continue
        if owner_deleting:
            continue
        try:
            await client.patch_raw(resource, ometa.name, release_patch(uid, ometa.uid), namespace)
        except (errors.NotFoundError, errors.ConflictError, errors.InvalidError):
            pass
        except errors.ApiError as err:
            log.info("releasing %s/%s from %s: %s", namespace, ometa.name, meta.name, err.message)
    if owner_deleting:
        return owned
    for obj in _orphans(informer, namespace):
        ometa = obj.metadata  # type: ignore[attr-defined]
        if ometa.deletion_timestamp is not None or not selector.matches(ometa.labels):
            continue
        if extra_filter is not None and not extra_filter(obj):
            continue
        if not await recheck():
            break
        try:
            raw = await client.patch_raw(
                resource, ometa.name, adopt_patch(owner, ometa.uid), namespace
            )
        except errors.ApiError as err:
            if not isinstance(err, errors.NotFoundError):
                log.info(
                    "adopting %s/%s into %s: %s", namespace, ometa.name, meta.name, err.message
                )
            continue
        adopted = informer.model.model_validate(raw)
        ref = adopted.metadata.controller_ref()  # type: ignore[attr-defined]
        if ref is not None and ref.uid == uid:
            owned.append(adopted)
    return owned


def _orphans(informer: Informer[T], namespace: str) -> Sequence[T]:
    return informer.store.by_index(ORPHAN_INDEX, namespace)


def matching_owners(
    owners: Sequence[Any],
    labels: dict[str, str],
    selector_of: Callable[[Any], LabelSelectorExpr | None],
) -> list[Any]:
    """The owners (in one namespace) whose selector matches ``labels``."""
    found = []
    for owner in owners:
        selector = selector_of(owner)
        if selector is not None and not selector.is_empty() and selector.matches(labels):
            found.append(owner)
    return found
