"""Who owns which fields: updates, applies and their conflicts.

structured-merge-diff's ``merge`` package (``update.go``, ``conflict.go``) over the field
sets of :mod:`apitypes.fieldpath` and the walks of :mod:`apitypes.typed`. A *manager*
is an opaque key (the apiserver makes one from a manager name, the operation and the
subresource); :data:`Managers` maps each to the :class:`VersionedSet` it owns.

- :func:`update` records a write that replaced the object (create, update, patch): the
  writer takes every field it changed, from whoever owned it; fields it removed are
  owned by nobody.
- :func:`apply` merges an applied configuration into the object: the applier owns
  exactly the fields of its configuration; changing a field another manager owns is a
  :class:`ConflictError` error unless forced (then the other manager loses it); fields the
  applier applied before and no longer does are removed from the object, unless
  another manager owns them.

Nothing here mutates its arguments; the managers a call returns are a new mapping.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from apitypes import fieldpath as fp
from apitypes import typed
from apitypes.fieldpath import FieldSet, Path
from apitypes.typed import Comparison, Node

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class VersionedSet:
    """The fields one manager owns, the API version it wrote them in, and whether it
    owns them by applying (rather than by updating)."""

    fields: FieldSet
    api_version: str
    applied: bool


@dataclass(frozen=True, slots=True)
class Conflict:
    """A field the applier would change that ``manager`` owns."""

    manager: Any
    path: Path


class ConflictError(Exception):
    """An apply that would change fields other managers own (and was not forced)."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        self.conflicts = conflicts
        super().__init__(
            "; ".join(f"conflict with {c.manager!r}: {fp.path_text(c.path)}" for c in conflicts)
        )


def _take_changes(
    old: Any,
    new: Any,
    managers: Mapping[K, VersionedSet],
    writer: K,
    *,
    force: bool,
    node: Node,
    ignored: FieldSet,
    order: Callable[[K], Any],
) -> tuple[dict[K, VersionedSet], Comparison]:
    """What every other manager keeps once ``writer`` changed ``old`` into ``new``.

    Another manager's fields that changed are conflicts (raised unless ``force``,
    otherwise lost); fields that were removed are lost by everyone but the writer;
    managers left with nothing are dropped. Managers that lose nothing keep their
    :class:`VersionedSet` (the same object).
    """
    comparison = typed.compare_objects(old, new, node, ignored=ignored)
    changed = comparison.modified | comparison.added
    removed = comparison.removed
    out = dict(managers)
    if not changed and not removed:
        return out, comparison
    lost: dict[K, FieldSet] = {}
    for manager, owned in managers.items():
        if manager != writer and changed and not owned.fields.isdisjoint(changed):
            lost[manager] = owned.fields & changed
    if lost and not force:
        raise ConflictError(
            [
                Conflict(manager, path)
                for manager in sorted(lost, key=order)
                for path in fp.ordered(lost[manager])
            ]
        )
    for manager, owned in managers.items():
        if manager == writer:
            continue
        kept = owned.fields
        if manager in lost:
            kept = kept - lost[manager]
        if removed and not kept.isdisjoint(removed):
            kept = kept - removed
        if not kept:
            del out[manager]
        elif kept is not owned.fields:
            out[manager] = VersionedSet(kept, owned.api_version, owned.applied)
    return out, comparison


def update(
    old: Any,
    new: Any,
    version: str,
    managers: Mapping[K, VersionedSet],
    writer: K,
    *,
    node: Node,
    ignored: FieldSet = fp.EMPTY,
    never: FieldSet = fp.EMPTY,
    order: Callable[[K], Any] = repr,
) -> tuple[dict[K, VersionedSet], bool]:
    """The managers once ``writer`` replaced ``old`` (the stored object; None when
    ``new`` is created) with ``new``, and whether the writer took any field.

    The writer owns what it owned, less what it removed, plus everything it modified or
    added, except ``ignored`` fields (and what lies below them: fields the write may
    not change, like ``status`` through the main resource) and the ``never`` ones
    (owned by nobody, like ``metadata.name``). Its set is the same object when it does
    not change.
    """
    out, comparison = _take_changes(
        old, new, managers, writer, force=True, node=node, ignored=ignored, order=order
    )
    taken = comparison.modified | comparison.added
    if never:
        taken = taken - never
    before = out.get(writer)
    owned = before.fields if before is not None else fp.EMPTY
    if comparison.removed and not owned.isdisjoint(comparison.removed):
        owned = owned - comparison.removed
    if taken and not taken <= owned:
        owned = owned | taken
    if not owned:
        out.pop(writer, None)
    elif before is None or owned is not before.fields or before.applied:
        out[writer] = VersionedSet(owned, version, False)
    return out, bool(taken)


def apply(
    live: Any,
    config: Any,
    version: str,
    managers: Mapping[K, VersionedSet],
    applier: K,
    *,
    force: bool,
    node: Node,
    ignored: FieldSet = fp.EMPTY,
    order: Callable[[K], Any] = repr,
) -> tuple[Any, dict[K, VersionedSet]]:
    """Merge ``config`` into ``live``: (the new object, or None when it is unchanged;
    the managers).

    Raises :class:`ConflictError` when the merge changes fields other managers own and
    ``force`` is false, and :class:`~apitypes.typed.TypedError` for a configuration
    that does not fit the schema.
    """
    applied = fp.recursive_difference(typed.to_field_set(config, node, strict=True), ignored)
    merged = typed.merge(live, config, node)
    out = dict(managers)
    last = out.get(applier)
    out[applier] = VersionedSet(applied, version, True)
    if last is not None and last.fields:
        merged = _prune(merged, out, last.fields, node)
    out, _ = _take_changes(
        live, merged, out, applier, force=force, node=node, ignored=ignored, order=order
    )
    if not applied:
        del out[applier]
    if typed.same(live, merged):
        return None, out
    return merged, out


def _prune(merged: Any, managers: Mapping[Any, VersionedSet], last: FieldSet, node: Node) -> Any:
    """``merged`` without what the applier applied last time and no longer applies,
    unless another manager (or the new configuration) owns it."""

    def named(paths: FieldSet) -> FieldSet:
        return typed.ensure_named_fields_are_members(paths, node)

    last_named = named(last)
    pruned = typed.remove_items(merged, last_named, node)
    # Add back what anyone owns.
    owned: set[Path] = set()
    for owner in managers.values():
        owned |= owner.fields
    merged_set = named(typed.to_field_set(merged, node))
    pruned_set = named(typed.to_field_set(pruned, node))
    pruned = typed.remove_items(merged, merged_set - (pruned_set | named(frozenset(owned))), node)
    # Add back what the applier did not own (it was dangling, or an updater's).
    pruned_set = named(typed.to_field_set(pruned, node))
    return typed.remove_items(merged, (merged_set - pruned_set) & last_named, node)


__all__ = ["Conflict", "ConflictError", "VersionedSet", "apply", "update"]
