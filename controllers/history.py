"""ControllerRevisions: the template history of DaemonSets and StatefulSets.

A revision's ``data`` is the patch that restores its template, as Kubernetes stores it:
``{"spec": {"template": {..., "$patch": "replace"}}}``. Its name is
``<owner>-<hash of data and collisionCount>``, its ``revision`` a number that grows
with each new template; going back to an old template moves the matching revision to
the top instead of making a new one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from apiclient import Client, errors
from apitypes.apps import ControllerRevision
from apitypes.base import KubeObject
from apitypes.core import PodTemplateSpec
from apitypes.meta import ObjectMeta
from apitypes.registry import by_model
from controllers.util import compute_hash, normalized, owner_reference

REVISIONS = by_model(ControllerRevision)


def revision_data(template: PodTemplateSpec) -> dict[str, Any]:
    body = template.to_dict()
    body["$patch"] = "replace"
    return {"spec": {"template": body}}


def template_of(revision: ControllerRevision) -> PodTemplateSpec | None:
    template = ((revision.data or {}).get("spec") or {}).get("template")
    if not isinstance(template, dict):
        return None
    clean = {k: v for k, v in template.items() if k != "$patch"}
    return PodTemplateSpec.model_validate(clean)


def same_data(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(normalized(a) == normalized(b))


def data_hash(data: dict[str, Any], collision_count: int | None) -> str:
    return compute_hash(data, collision_count)


def sort_revisions(revisions: Sequence[ControllerRevision]) -> list[ControllerRevision]:
    return sorted(revisions, key=lambda r: (r.revision or 0, r.metadata.name or ""))


def next_revision(revisions: Sequence[ControllerRevision]) -> int:
    return max((r.revision or 0 for r in revisions), default=0) + 1


async def ensure_revision(
    client: Client,
    owner: KubeObject,
    revisions: list[ControllerRevision],
    template: PodTemplateSpec,
    collision_count: int | None,
    *,
    hash_label: str,
    hash_value_is_name: bool = False,
) -> tuple[ControllerRevision, int | None]:
    """The revision of ``template`` (created, or moved to the top), and the collision count
    to record (raised when another object took the name)."""
    data = revision_data(template)
    equal = [r for r in sort_revisions(revisions) if same_data(r.data, data)]
    newest = next_revision(revisions) - 1
    if equal:
        chosen = equal[-1]
        if (chosen.revision or 0) < newest:
            chosen = chosen.model_copy(deep=True)
            chosen.revision = newest + 1
            raw = await client.update_raw(REVISIONS, chosen.to_dict())
            chosen = ControllerRevision.model_validate(raw)
        return chosen, collision_count
    meta = owner.metadata  # type: ignore[attr-defined]
    digest = data_hash(data, collision_count)
    name = f"{meta.name}-{digest}"
    labels = dict(template.metadata.labels)
    labels[hash_label] = name if hash_value_is_name else digest
    revision = ControllerRevision(
        metadata=ObjectMeta(
            name=name,
            namespace=meta.namespace,
            labels=labels,
            owner_references=[owner_reference(owner)],
        ),
        data=data,
        revision=newest + 1,
    )
    try:
        raw = await client.create_raw(REVISIONS, revision.to_dict(), meta.namespace)
        return ControllerRevision.model_validate(raw), collision_count
    except errors.AlreadyExistsError:
        existing = ControllerRevision.model_validate(
            await client.get_raw(REVISIONS, name, meta.namespace)
        )
        ref = existing.metadata.controller_ref()
        if ref is not None and ref.uid == meta.uid and same_data(existing.data, data):
            return existing, collision_count
        # Someone else's revision holds the name: try another hash next time.
        raise CollisionError((collision_count or 0) + 1) from None


class CollisionError(Exception):
    """A revision name was taken by a different revision; retry with ``collision_count``."""

    def __init__(self, collision_count: int) -> None:
        super().__init__(f"revision name collision; collision count now {collision_count}")
        self.collision_count = collision_count


async def truncate(
    client: Client, revisions: Sequence[ControllerRevision], keep: set[str], limit: int
) -> None:
    """Delete the oldest revisions beyond ``limit`` that are not in ``keep`` (by name)."""
    spare = [r for r in sort_revisions(revisions) if r.metadata.name not in keep]
    for revision in spare[: max(len(spare) - limit, 0)]:
        with contextlib.suppress(errors.NotFoundError):
            await client.delete_raw(
                REVISIONS, revision.metadata.name or "", revision.metadata.namespace
            )
