"""The three patch formats Kubernetes accepts, and the patches ``kubectl apply`` computes.

All functions work on plain JSON data (dicts, lists, scalars) and never mutate their
arguments: they work on copies and return fresh data that shares nothing with them.

- JSON merge patch (RFC 7386): :func:`apply_merge_patch`, :func:`create_merge_patch`.
- JSON patch (RFC 6902): :func:`apply_json_patch`, through the ``jsonpatch`` library.
- Strategic merge patch: :func:`apply_strategic_merge_patch`,
  :func:`create_two_way_merge_patch`, :func:`create_three_way_merge_patch`.

Strategic merge patch is JSON merge patch plus per-field metadata read from the model
(:mod:`apitypes.schema`): lists marked ``merge`` are merged element-wise by their merge
key (or as a set of scalars), structs marked ``retainKeys`` can be told which keys
survive, and a handful of directives in the patch itself steer the merge:

- ``$patch: replace`` / ``$patch: delete`` in a map replace it / empty it; as an
  element of a keyed list, ``replace`` replaces the whole list and ``delete`` (with the
  merge key) deletes the matching elements. ``$patch: merge`` is the default and is
  accepted as a no-op (Kubernetes rejects it).
- ``$deleteFromPrimitiveList/<field>: [...]`` removes scalars from a list.
- ``$setElementOrder/<field>: [...]`` fixes the order of a merged list: listed elements
  in the given order, with elements the patch does not mention kept at their relative
  place.
- ``$retainKeys: [...]`` keeps only the listed keys of a map (union types switching
  member, like a Deployment strategy going from RollingUpdate to Recreate).

Where the model does not describe a value (``Any``, unknown fields) maps merge like
JSON merge patch and lists are replaced. The algorithms follow Kubernetes'
``k8s.io/apimachinery/pkg/util/strategicpatch`` closely, including its element ordering
rules, so that patches computed here and by kubectl mean the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import jsonpatch
import jsonpointer
from pydantic import BaseModel

from apitypes.schema import TypeInfo, fields_of, type_of


class PatchError(ValueError):
    """A patch that cannot be applied or computed; the message says why."""


# --- JSON helpers -------------------------------------------------------------------


def _copy(value: Any) -> Any:
    """Deep copy of JSON data (much faster than ``copy.deepcopy``)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _kind(value: Any) -> str:
    """The JSON type of ``value`` as Go's decoder distinguishes them (int vs float)."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return type(value).__name__


def _json_equal(a: Any, b: Any) -> bool:
    """Deep equality that, unlike ``==``, tells ``true`` from ``1`` and ``1`` from ``1.0``."""
    if isinstance(a, dict):
        if not isinstance(b, dict) or len(a) != len(b):
            return False
        return all(k in b and _json_equal(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        if not isinstance(b, list) or len(a) != len(b):
            return False
        return all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    return _kind(a) == _kind(b) and a == b


def _scalar_key(value: Any) -> Any:
    """A hashable identity for a scalar list element or merge key value."""
    if isinstance(value, dict | list):
        raise PatchError(f"expected a scalar, got {value!r}")
    return (_kind(value), value)


def _go_text(value: Any) -> str:
    """How Go's ``%v`` prints a JSON scalar; Kubernetes sorts list elements by it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


# --- JSON merge patch (RFC 7386) ------------------------------------------------------


def apply_merge_patch(doc: Any, patch: Any) -> Any:
    """Apply an RFC 7386 JSON merge patch: maps merge recursively, ``null`` deletes.

    A patch that is not an object replaces the document.
    """
    if not isinstance(patch, dict):
        return _copy(patch)
    result = _copy(doc) if isinstance(doc, dict) else {}
    _merge_patch_into(result, patch)
    return result


def _merge_patch_into(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            current = target.get(key)
            if not isinstance(current, dict):
                current = {}
                target[key] = current
            _merge_patch_into(current, value)
        else:
            target[key] = _copy(value)


def create_merge_patch(original: Any, modified: Any) -> Any:
    """The RFC 7386 merge patch that turns ``original`` into ``modified``.

    ``{}`` when they are equal. Values that are ``null`` in ``modified`` cannot be
    expressed by a merge patch (``null`` means delete) and come out deleted.
    """
    if not isinstance(original, dict) or not isinstance(modified, dict):
        return _copy(modified)
    patch: dict[str, Any] = {}
    for key in original:
        if key not in modified:
            patch[key] = None
    for key, new in modified.items():
        if key not in original:
            patch[key] = _copy(new)
            continue
        old = original[key]
        if isinstance(old, dict) and isinstance(new, dict):
            sub = create_merge_patch(old, new)
            if sub:
                patch[key] = sub
        elif not _json_equal(old, new):
            patch[key] = _copy(new)
    return patch


# --- JSON patch (RFC 6902) ------------------------------------------------------------


def apply_json_patch(doc: Any, ops: Any) -> Any:
    """Apply an RFC 6902 JSON patch (a list of operations); raise :class:`PatchError`.

    The error message names the failing operation by index, verb and path.
    """
    if not isinstance(ops, list):
        raise PatchError("a JSON patch must be a list of operations")
    for index, op in enumerate(ops):
        if not isinstance(op, dict):
            raise PatchError(f"JSON patch operation {index} is not an object")
        if "op" not in op:
            raise PatchError(f"JSON patch operation {index} has no 'op'")
        if "path" not in op:
            raise PatchError(f"JSON patch operation {index} ({op['op']}) has no 'path'")
    result = _copy(doc)
    for index, op in enumerate(ops):
        where = f"JSON patch operation {index} ({op['op']} {op['path']!r})"
        try:
            result = jsonpatch.JsonPatch([op]).apply(result, in_place=True)
        except jsonpatch.JsonPatchTestFailed as exc:
            raise PatchError(f"{where}: test failed: {exc}") from exc
        except jsonpatch.InvalidJsonPatch as exc:
            raise PatchError(f"{where} is invalid: {exc}") from exc
        except (jsonpatch.JsonPatchConflict, jsonpointer.JsonPointerException) as exc:
            raise PatchError(f"{where} does not apply: {exc}") from exc
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise PatchError(f"{where} does not apply: {exc!r}") from exc
    return result


# --- strategic merge patch: metadata ----------------------------------------------------

_DIRECTIVE = "$patch"
_DELETE = "delete"
_REPLACE = "replace"
_MERGE = "merge"
_RETAIN_KEYS = "$retainKeys"
_DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"
_SET_ELEMENT_ORDER = "$setElementOrder"


@dataclass(frozen=True, slots=True)
class _Meta:
    """Patch metadata of one field: the type of its value and how to merge it."""

    node: TypeInfo | None
    strategy: str = ""
    """``merge``, ``replace`` or ``""`` (retainKeys is carried separately)."""
    merge_key: str | None = None
    retain_keys: bool = False

    @property
    def item(self) -> TypeInfo | None:
        node = self.node
        if node is not None and node.shape == "list":
            return node.item
        return None


_UNKNOWN = _Meta(None)


def _lookup(node: TypeInfo | None, key: str) -> _Meta:
    """Metadata of field ``key`` inside a value described by ``node``."""
    if node is None:
        return _UNKNOWN
    if node.shape == "object" and node.model is not None:
        found = fields_of(node.model).get(key)
        if found is None:
            return _UNKNOWN
        if found.merges:
            strategy = _MERGE
        elif found.replaces:
            strategy = _REPLACE
        else:
            strategy = ""
        return _Meta(found.value_type, strategy, found.merge_key, found.retains_keys)
    if node.shape == "map":
        return _Meta(node.item)
    return _UNKNOWN


def _root(model_cls: type[BaseModel] | None) -> TypeInfo | None:
    return type_of(model_cls) if model_cls is not None else None


def _field_of_directive(key: str, prefix: str) -> str:
    head, sep, rest = key.partition("/")
    if not sep or head != prefix or not rest:
        raise PatchError(f"malformed directive key {key!r}: expected {prefix}/<field>")
    return rest


def _element_kind(*lists: list[Any]) -> str | None:
    """``object`` or ``scalar`` for the elements of ``lists``; None when all are empty."""
    found: str | None = None
    for items in lists:
        for item in items:
            if isinstance(item, list):
                raise PatchError("lists of lists cannot be merged")
            kind = "object" if isinstance(item, dict) else "scalar"
            if found is None:
                found = kind
            elif found != kind:
                raise PatchError(f"list elements are not all of one type: {items!r}")
    return found


def _merge_key_value(item: Any, merge_key: str) -> Any:
    if not isinstance(item, dict):
        raise PatchError(f"expected an object with merge key {merge_key!r}, got {item!r}")
    if merge_key not in item:
        raise PatchError(f"map {item!r} does not contain declared merge key {merge_key!r}")
    return item[merge_key]


def _identity(item: Any, merge_key: str | None) -> Any:
    """What identifies a list element: its merge key value, or itself for scalars."""
    if merge_key:
        return _scalar_key(_merge_key_value(item, merge_key))
    return _scalar_key(item)


def _is_deletion(element: Any) -> bool:
    return isinstance(element, dict) and element.get(_DIRECTIVE) == _DELETE


# --- strategic merge patch: applying ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _MergeOptions:
    parallel_lists: bool
    """Apply ``$deleteFromPrimitiveList`` / ``$retainKeys`` (True) or carry them (False)."""
    ignore_unmatched_nulls: bool
    """Drop ``null`` s with nothing to delete (True) or keep them in the result (False)."""


_APPLY = _MergeOptions(parallel_lists=True, ignore_unmatched_nulls=True)
_COMBINE = _MergeOptions(parallel_lists=False, ignore_unmatched_nulls=False)


def apply_strategic_merge_patch(
    doc: dict[str, Any] | None,
    patch: dict[str, Any],
    model_cls: type[BaseModel] | None,
    *,
    in_place: bool = False,
) -> dict[str, Any]:
    """Apply a Kubernetes strategic merge patch to ``doc``, a ``model_cls`` object.

    ``doc`` is left as it was, unless ``in_place``: then it may be changed and become
    part of the result (for a caller that hands over a private copy).

    With ``model_cls`` None nothing is known about any field: maps merge, lists are
    replaced, directives still work. Raises :class:`PatchError` for malformed patches
    (a keyed element without its merge key, a ``$setElementOrder`` list that
    contradicts the patch, a key outside ``$retainKeys``...).
    """
    if not isinstance(patch, dict):
        raise PatchError("a strategic merge patch must be a JSON object")
    if doc is not None and not isinstance(doc, dict):
        raise PatchError("a strategic merge patch applies to a JSON object")
    original = (doc if in_place else _copy(doc)) if doc else {}
    return _merge_map(original, _copy(patch), _root(model_cls), _APPLY)


def _merge_map(
    original: dict[str, Any], patch: dict[str, Any], node: TypeInfo | None, opts: _MergeOptions
) -> dict[str, Any]:
    """Merge ``patch`` into ``original`` (both private copies, mutated) and return it."""
    if _DIRECTIVE in patch:
        directive = patch.pop(_DIRECTIVE)
        if directive == _REPLACE:
            return _fresh_map(patch, node, opts)
        if directive == _DELETE:
            return {}
        if directive != _MERGE:
            raise PatchError(f"unknown patch type {directive!r} in {patch!r}")

    _apply_retain_keys(original, patch, opts)
    _apply_element_orders(original, patch, node, opts)

    for patch_key, value in patch.items():
        key, is_delete_list = patch_key, False
        if patch_key.startswith(_DELETE_FROM_PRIMITIVE_LIST):
            if not opts.parallel_lists:
                original[patch_key] = value
                continue
            key = _field_of_directive(patch_key, _DELETE_FROM_PRIMITIVE_LIST)
            is_delete_list = True

        if value is None:
            original.pop(key, None)
            if opts.ignore_unmatched_nulls:
                continue

        if key not in original:
            if not is_delete_list:
                _set_fresh(original, key, value, _lookup(node, key), opts)
            continue

        current = original[key]
        if _kind(current) != _kind(value) and not (
            isinstance(current, int | float) and isinstance(value, int | float)
        ):
            if not is_delete_list:
                _set_fresh(original, key, value, _lookup(node, key), opts)
            continue

        if isinstance(value, dict):
            meta = _lookup(node, key)
            if meta.strategy == _REPLACE:
                original[key] = _fresh_map(value, meta.node, opts)
            else:
                original[key] = _merge_map(current, value, meta.node, opts)
        elif isinstance(value, list):
            meta = _lookup(node, key)
            if meta.strategy == _MERGE or is_delete_list:
                original[key] = _merge_list(
                    current, value, meta.item, meta.merge_key, opts, is_delete_list=is_delete_list
                )
            else:
                original[key] = _fresh_list(value, meta, opts)
        else:
            original[key] = value
    return original


def _set_fresh(
    original: dict[str, Any], key: str, value: Any, meta: _Meta, opts: _MergeOptions
) -> None:
    """Store a patch value where there is nothing to merge it with."""
    if not opts.ignore_unmatched_nulls:
        # Combining two patches: keep the value, nulls included, as Kubernetes does.
        kept, keep = _strip_directive_maps(value)
        if keep:
            original[key] = kept
        else:
            original.pop(key, None)
        return
    if value is None:
        return
    if isinstance(value, dict):
        if value.get(_DIRECTIVE) == _DELETE:
            original.pop(key, None)
            return
        original[key] = _fresh_map(value, meta.node, opts)
    elif isinstance(value, list):
        original[key] = _fresh_list(value, meta, opts)
    else:
        original[key] = value


def _strip_directive_maps(value: Any) -> tuple[Any, bool]:
    """Drop every map carrying ``$patch`` inside ``value``; (result, whether to keep it)."""
    if isinstance(value, dict):
        if _DIRECTIVE in value:
            return None, False
        result: dict[str, Any] = {}
        for key, item in value.items():
            kept, keep = _strip_directive_maps(item)
            if keep:
                result[key] = kept
        return result, True
    if isinstance(value, list):
        items = [_strip_directive_maps(item) for item in value]
        return [kept for kept, keep in items if keep], True
    return value, True


def _fresh_map(value: dict[str, Any], node: TypeInfo | None, opts: _MergeOptions) -> dict[str, Any]:
    """A patch map as a document value: directives processed, unmatched nulls dropped."""
    if not opts.ignore_unmatched_nulls:
        return value
    return _merge_map({}, value, node, opts)


def _fresh_list(value: list[Any], meta: _Meta, opts: _MergeOptions) -> list[Any]:
    """A patch list as a document value (a replaced list or one with nothing to merge)."""
    if not opts.ignore_unmatched_nulls:
        kept, _ = _strip_directive_maps(value)
        return list(kept)
    if meta.strategy == _MERGE:
        return _merge_list([], value, meta.item, meta.merge_key, opts, is_delete_list=False)
    result: list[Any] = []
    for item in value:
        if isinstance(item, dict):
            if _DIRECTIVE in item:
                continue
            result.append(_merge_map({}, item, meta.item, opts))
        else:
            result.append(item)
    return result


def _apply_retain_keys(
    original: dict[str, Any], patch: dict[str, Any], opts: _MergeOptions
) -> None:
    if _RETAIN_KEYS not in patch:
        return
    retained = patch.pop(_RETAIN_KEYS)
    if not opts.parallel_lists:
        if _RETAIN_KEYS in original:
            if not _json_equal(original[_RETAIN_KEYS], retained):
                raise PatchError(
                    f"conflicting $retainKeys lists {original[_RETAIN_KEYS]!r} and {retained!r}"
                )
        else:
            original[_RETAIN_KEYS] = retained
        return
    if not isinstance(retained, list) or not all(isinstance(k, str) for k in retained):
        raise PatchError(f"$retainKeys must be a list of field names, got {retained!r}")
    keep = set(retained)
    for key, value in patch.items():
        if value is None or key.startswith((_DELETE_FROM_PRIMITIVE_LIST, _SET_ELEMENT_ORDER)):
            continue
        if key not in keep:
            raise PatchError(f"field {key!r} is set by the patch but missing from $retainKeys")
    for key in list(original):
        if key not in keep:
            del original[key]


def _apply_element_orders(
    original: dict[str, Any], patch: dict[str, Any], node: TypeInfo | None, opts: _MergeOptions
) -> None:
    """Merge every list that has a ``$setElementOrder`` and put it in that order."""
    for directive in [k for k in patch if k.startswith(_SET_ELEMENT_ORDER)]:
        order = patch.pop(directive)
        if not opts.parallel_lists:
            if directive in original:
                if not _json_equal(original[directive], order):
                    raise PatchError(f"conflicting {directive} lists")
            else:
                original[directive] = order
        if not isinstance(order, list):
            raise PatchError(f"{directive} must be a list, got {order!r}")
        key = _field_of_directive(directive, _SET_ELEMENT_ORDER)
        current = _list_or_none(original.get(key), directive)
        patch_list = _list_or_none(patch.get(key), directive)
        meta = _lookup(node, key)
        _check_order(patch_list or [], order, meta.merge_key)

        live_order: list[Any] = current or []
        if current is not None and patch_list is not None:
            if meta.strategy == _MERGE:
                merged = _merge_list(
                    current, patch_list, meta.item, meta.merge_key, opts, is_delete_list=False
                )
                if meta.merge_key and opts.parallel_lists:
                    live_order = _live_order_seen_by_kubernetes(current, patch_list, meta.merge_key)
            else:
                merged = _fresh_list(patch_list, meta, opts)
        elif current is not None:
            merged = current
        elif patch_list is not None:
            merged = _fresh_list(patch_list, meta, opts)
        else:
            continue
        patch.pop(key, None)
        in_order, others = _partition(merged, order, meta.merge_key)
        original[key] = _order_elements(in_order, others, order, live_order, meta.merge_key)


def _live_order_seen_by_kubernetes(
    current: list[Any], patch_list: list[Any], merge_key: str
) -> list[Any]:
    """The live list as Kubernetes' ``$setElementOrder`` step sees it after merging.

    Kubernetes merges the keyed list in place: a ``$patch: delete`` element shifts the
    following elements left within the same storage (leaving the last slot stale),
    and new elements are appended into the slots so freed. The reordering that
    follows reads the live order from that storage, so where a new element lands
    relative to server-only ones depends on it. Reproducing it keeps element order
    identical to a real apiserver's for what ``kubectl apply`` sends when it renames
    a container (a deletion plus an addition).
    """
    storage = list(current)
    length = len(storage)
    plain: list[Any] = []
    replaced = False
    for element in patch_list:
        if not isinstance(element, dict) or _DIRECTIVE not in element:
            plain.append(element)
            continue
        if element[_DIRECTIVE] == _REPLACE:
            replaced = True
        elif element[_DIRECTIVE] == _DELETE and merge_key in element:
            doomed = _identity(element, merge_key)
            index = 0
            while index < length:
                if _identity(storage[index], merge_key) == doomed:
                    storage[index : length - 1] = storage[index + 1 : length]
                    length -= 1
                else:
                    index += 1
    if replaced:
        return storage
    present = {_identity(storage[i], merge_key) for i in range(length)}
    for element in plain:
        ident = _identity(element, merge_key)
        if ident in present:
            continue
        if length >= len(storage):
            break
        storage[length] = element
        length += 1
        present.add(ident)
    return storage


def _list_or_none(value: Any, directive: str) -> list[Any] | None:
    """The list a ``$setElementOrder`` refers to; None when absent or null."""
    if value is None or isinstance(value, list):
        return value
    raise PatchError(f"{directive} refers to a value that is not a list: {value!r}")


def _check_order(patch_list: list[Any], order: list[Any], merge_key: str | None) -> None:
    """Every element the patch mentions must appear in ``order``, in the same order."""
    if not order or not patch_list:
        return
    items = patch_list
    if merge_key:
        for item in patch_list:
            if not isinstance(item, dict):
                raise PatchError(f"expected objects in the list, got {item!r}")
        items = [i for i in patch_list if i.get(_DIRECTIVE) != _DELETE]
    at = 0
    for wanted in order:
        while at < len(items) and isinstance(items[at], dict) and _DIRECTIVE in items[at]:
            at += 1
        if at >= len(items):
            break
        if merge_key:
            same = _json_equal(
                _merge_key_value(items[at], merge_key), _merge_key_value(wanted, merge_key)
            )
        else:
            same = _json_equal(items[at], wanted)
        if same:
            at += 1
    while at < len(items) and isinstance(items[at], dict) and _DIRECTIVE in items[at]:
        at += 1
    if at < len(items):
        raise PatchError(
            f"the order in patch list {patch_list!r} doesn't match "
            f"{_SET_ELEMENT_ORDER} list {order!r}"
        )


def _merge_list(
    original: list[Any],
    patch: list[Any],
    item: TypeInfo | None,
    merge_key: str | None,
    opts: _MergeOptions,
    *,
    is_delete_list: bool,
) -> list[Any]:
    """Merge a list marked ``merge``: by merge key for objects, as a set for scalars."""
    if not original and not patch:
        return original
    kind = _element_kind(original, patch)
    if kind == "scalar":
        if is_delete_list and opts.parallel_lists:
            doomed = {_scalar_key(v) for v in patch}
            return [v for v in original if _scalar_key(v) not in doomed]
        seen: set[Any] = set()
        merged = []
        for value in (*original, *patch):
            ident = _scalar_key(value)
            if ident not in seen:
                seen.add(ident)
                merged.append(value)
        in_patch, others = _partition(merged, patch, None)
        return _order_elements(in_patch, others, patch, original, None)

    if not merge_key:
        raise PatchError("cannot merge a list of objects that has no merge key")
    original, patch = _apply_list_directives(original, patch, merge_key, opts)
    merged = list(original)
    positions: dict[Any, int] = {}
    for index, element in enumerate(merged):
        positions.setdefault(_identity(element, merge_key), index)
    for element in patch:
        ident = _scalar_key(_merge_key_value(element, merge_key))
        at = positions.get(ident)
        if at is not None:
            merged[at] = _merge_map(merged[at], element, item, opts)
        else:
            positions[ident] = len(merged)
            fresh = _merge_map({}, element, item, opts) if opts.ignore_unmatched_nulls else element
            merged.append(fresh)
    in_patch, others = _partition(merged, patch, merge_key)
    return _order_elements(in_patch, others, patch, original, merge_key)


def _apply_list_directives(
    original: list[Any], patch: list[Any], merge_key: str, opts: _MergeOptions
) -> tuple[list[Any], list[Any]]:
    """Handle ``$patch`` elements of a keyed list; return (original, plain patch items)."""
    plain: list[Any] = []
    replace_all = False
    for element in patch:
        if _DIRECTIVE not in element:
            plain.append(element)
            continue
        directive = element[_DIRECTIVE]
        if directive == _DELETE:
            doomed = _identity(element, merge_key)
            original = [item for item in original if _identity(item, merge_key) != doomed]
        elif directive == _REPLACE:
            replace_all = True
        elif directive == _MERGE:
            plain.append({k: v for k, v in element.items() if k != _DIRECTIVE})
        else:
            raise PatchError(f"unknown patch type {directive!r} in {element!r}")
    if replace_all:
        if opts.ignore_unmatched_nulls:
            plain = [_merge_map({}, element, None, opts) for element in plain]
        return plain, []
    return original, plain


def _partition(
    items: list[Any], by: list[Any], merge_key: str | None
) -> tuple[list[Any], list[Any]]:
    """Split ``items`` into those identified in ``by`` and the others, keeping order."""
    wanted = {_identity(element, merge_key) for element in by}
    inside: list[Any] = []
    outside: list[Any] = []
    for element in items:
        (inside if _identity(element, merge_key) in wanted else outside).append(element)
    return inside, outside


def _positions(order: list[Any], merge_key: str | None) -> dict[Any, int]:
    positions: dict[Any, int] = {}
    for index, element in enumerate(order):
        positions.setdefault(_identity(element, merge_key), index)
    return positions


def _sort_by(items: list[Any], order: list[Any], merge_key: str | None) -> list[Any]:
    """Stable sort by position in ``order``; elements ``order`` lacks go last."""
    positions = _positions(order, merge_key)
    end = len(order)
    return sorted(items, key=lambda element: positions.get(_identity(element, merge_key), end))


def _order_elements(
    from_patch: list[Any],
    server_only: list[Any],
    patch_order: list[Any],
    server_order: list[Any],
    merge_key: str | None,
) -> list[Any]:
    """Kubernetes' element order for a merged list.

    Elements the patch mentions follow ``patch_order``; the others keep their order in
    ``server_order`` (the live list). The two runs are then interleaved: a server-only
    element goes before a patch element only if it came before it in the live list.
    Elements still carrying ``$patch: delete`` (combined patches) go last.
    """
    if merge_key:
        from_patch = _sort_by(
            [e for e in from_patch if not _is_deletion(e)], patch_order, merge_key
        ) + [e for e in from_patch if _is_deletion(e)]
        server_only = _sort_by(
            [e for e in server_only if not _is_deletion(e)], server_order, merge_key
        ) + [e for e in server_only if _is_deletion(e)]
    else:
        from_patch = _sort_by(from_patch, patch_order, None)
        server_only = _sort_by(server_only, server_order, None)

    positions = _positions(server_order, merge_key)
    result: list[Any] = []
    i = j = 0
    while i < len(server_only) and j < len(from_patch):
        left = positions.get(_identity(server_only[i], merge_key))
        right = positions.get(_identity(from_patch[j], merge_key))
        if left is not None and right is not None and left < right:
            result.append(server_only[i])
            i += 1
        else:
            result.append(from_patch[j])
            j += 1
    result.extend(from_patch[j:])
    result.extend(server_only[i:])
    return result


# --- strategic merge patch: computing -------------------------------------------------


@dataclass(frozen=True, slots=True)
class _DiffOptions:
    set_element_order: bool = True
    ignore_changes_and_additions: bool = False
    ignore_deletions: bool = False
    build_retain_keys: bool = False


def create_two_way_merge_patch(
    original: dict[str, Any] | None,
    modified: dict[str, Any] | None,
    model_cls: type[BaseModel] | None,
) -> dict[str, Any]:
    """The strategic merge patch that turns ``original`` into ``modified``.

    Includes ``$setElementOrder`` lists for merged lists, as kubectl's patches do.
    ``{}`` when they are equal.
    """
    result = _diff_maps(
        _copy(original or {}), _copy(modified or {}), _root(model_cls), _DiffOptions()
    )
    return _copy(result)


def create_three_way_merge_patch(
    original: dict[str, Any] | None,
    modified: dict[str, Any] | None,
    current: dict[str, Any] | None,
    model_cls: type[BaseModel] | None,
) -> dict[str, Any]:
    """The patch ``kubectl apply`` sends.

    ``original`` is the last-applied configuration, ``modified`` the new manifest and
    ``current`` the live object. The patch sets what ``modified`` changes relative to
    ``current`` and deletes what ``original`` had but ``modified`` dropped (``null``,
    ``$patch: delete`` elements, ``$deleteFromPrimitiveList``); fields only ``current``
    has (set by the server or other writers) are left alone. ``{}`` means unchanged.
    Conflicts with other writers are not detected (kubectl's default ``--overwrite``).
    """
    node = _root(model_cls)
    modified = _copy(modified or {})
    delta = _diff_maps(_copy(current or {}), modified, node, _DiffOptions(ignore_deletions=True))
    deletions = _diff_maps(
        _copy(original or {}), modified, node, _DiffOptions(ignore_changes_and_additions=True)
    )
    return _copy(_merge_map(_copy(deletions), _copy(delta), node, _COMBINE))


def _diff_maps(
    original: dict[str, Any], modified: dict[str, Any], node: TypeInfo | None, opts: _DiffOptions
) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    retained: list[str] = []
    for key, new in modified.items():
        if opts.build_retain_keys and new is not None:
            retained.append(key)
        if key not in original:
            if not opts.ignore_changes_and_additions:
                patch[key] = new
            continue
        old = original[key]
        if key == _DIRECTIVE:
            if not isinstance(old, str) or not isinstance(new, str):
                raise PatchError(f"invalid value for {_DIRECTIVE}")
            if old != new:
                patch[key] = new
            continue
        if _kind(old) != _kind(new):
            if not opts.ignore_changes_and_additions:
                patch[key] = new
            continue
        if isinstance(old, dict):
            _diff_map_field(key, old, new, patch, node, opts=opts)
        elif isinstance(old, list):
            _diff_list_field(key, old, new, patch, node, opts=opts)
        elif not opts.ignore_changes_and_additions and old != new:
            patch[key] = new
    if not opts.ignore_deletions:
        for key in original:
            if key not in modified:
                patch[key] = None
    if retained and (patch or _has_dropped_value(original, modified)):
        patch[_RETAIN_KEYS] = sorted(retained)
    return patch


def _has_dropped_value(original: dict[str, Any], modified: dict[str, Any]) -> bool:
    return any(value is not None and key not in modified for key, value in original.items())


def _diff_map_field(
    key: str,
    old: dict[str, Any],
    new: dict[str, Any],
    patch: dict[str, Any],
    node: TypeInfo | None,
    *,
    opts: _DiffOptions,
) -> None:
    meta = _lookup(node, key)
    if meta.strategy == _REPLACE:
        if not opts.ignore_changes_and_additions and not _json_equal(old, new):
            patch[key] = new
        return
    sub = _diff_maps(old, new, meta.node, replace(opts, build_retain_keys=meta.retain_keys))
    if sub:
        patch[key] = sub


def _diff_list_field(
    key: str,
    old: list[Any],
    new: list[Any],
    patch: dict[str, Any],
    node: TypeInfo | None,
    *,
    opts: _DiffOptions,
) -> None:
    meta = _lookup(node, key)
    if meta.strategy != _MERGE:
        if not opts.ignore_changes_and_additions and not _json_equal(old, new):
            patch[key] = new
        return
    changes, deletions, order = _diff_lists(
        old, new, meta.item, meta.merge_key, replace(opts, build_retain_keys=meta.retain_keys)
    )
    if changes:
        patch[key] = changes
    if deletions:
        patch[f"{_DELETE_FROM_PRIMITIVE_LIST}/{key}"] = deletions
    if order:
        patch[f"{_SET_ELEMENT_ORDER}/{key}"] = order


def _diff_lists(
    original: list[Any],
    modified: list[Any],
    item: TypeInfo | None,
    merge_key: str | None,
    opts: _DiffOptions,
) -> tuple[list[Any], list[Any], list[Any]]:
    """(changed and added elements, scalars to delete, $setElementOrder list)."""
    if not original:
        if not modified or opts.ignore_changes_and_additions:
            return [], [], []
        return modified, [], []
    kind = _element_kind(original, modified)
    order: list[Any] = []
    if kind == "object":
        if not merge_key:
            raise PatchError("cannot diff a merged list of objects that has no merge key")
        changes, doomed = _diff_keyed_lists(original, modified, item, merge_key, opts)
        changes = _sort_by(changes, modified, merge_key)
        changes.extend(doomed)
        same_order = len(original) == len(modified) and all(
            _json_equal(_merge_key_value(a, merge_key), _merge_key_value(b, merge_key))
            for a, b in zip(original, modified, strict=True)
        )
        if opts.set_element_order and (
            (not opts.ignore_changes_and_additions and (changes or not same_order))
            or (not opts.ignore_deletions and changes)
        ):
            order = [{merge_key: _merge_key_value(e, merge_key)} for e in modified]
        return changes, [], order
    additions, deletions = _diff_scalar_lists(original, modified, opts)
    additions = _sort_by(additions, modified, None)
    if opts.set_element_order and (
        (not opts.ignore_deletions and deletions)
        or (not opts.ignore_changes_and_additions and not _json_equal(original, modified))
    ):
        order = list(modified)
    return additions, deletions, order


def _diff_scalar_lists(
    original: list[Any], modified: list[Any], opts: _DiffOptions
) -> tuple[list[Any], list[Any]]:
    """Walk both lists sorted by text, as Kubernetes does (duplicates count)."""
    old = sorted(original, key=_go_text)
    new = sorted(modified, key=_go_text)
    additions: list[Any] = []
    deletions: list[Any] = []
    i = j = 0
    while i < len(old) or j < len(new):
        old_text = _go_text(old[i]) if i < len(old) else None
        new_text = _go_text(new[j]) if j < len(new) else None
        if old_text is not None and new_text is not None and old_text == new_text:
            i += 1
            j += 1
        elif old_text is None or (new_text is not None and old_text > new_text):
            if not opts.ignore_changes_and_additions:
                additions.append(new[j])
            j += 1
        else:
            if not opts.ignore_deletions:
                deletions.append(old[i])
            i += 1
    unique: list[Any] = []
    seen: set[Any] = set()
    for value in deletions:
        ident = _scalar_key(value)
        if ident not in seen:
            seen.add(ident)
            unique.append(value)
    return additions, unique


def _diff_keyed_lists(
    original: list[Any],
    modified: list[Any],
    item: TypeInfo | None,
    merge_key: str,
    opts: _DiffOptions,
) -> tuple[list[Any], list[Any]]:
    """Element-wise diff of two lists merged by ``merge_key``: (changes, deletions)."""

    def text(element: Any) -> str:
        return _go_text(_merge_key_value(element, merge_key))

    old = sorted(original, key=text)
    new = sorted(modified, key=text)
    changes: list[Any] = []
    deletions: list[Any] = []
    i = j = 0
    while i < len(old) or j < len(new):
        old_text = text(old[i]) if i < len(old) else None
        new_text = text(new[j]) if j < len(new) else None
        if old_text is not None and new_text is not None and old_text == new_text:
            sub = _diff_maps(old[i], new[j], item, opts)
            if sub:
                changes.append({merge_key: new[j][merge_key], **sub})
            i += 1
            j += 1
        elif old_text is None or (new_text is not None and old_text > new_text):
            if not opts.ignore_changes_and_additions:
                changes.append(new[j])
            j += 1
        else:
            if not opts.ignore_deletions:
                deletions.append({merge_key: old[i][merge_key], _DIRECTIVE: _DELETE})
            i += 1
    return changes, deletions


__all__ = [
    "PatchError",
    "apply_json_patch",
    "apply_merge_patch",
    "apply_strategic_merge_patch",
    "create_merge_patch",
    "create_three_way_merge_patch",
    "create_two_way_merge_patch",
]
