"""Walks over JSON objects guided by their schema, for server-side apply.

What structured-merge-diff's ``typed`` package does for Kubernetes, over the models of
:mod:`apitypes`: the field set of an object (:func:`to_field_set`), the fields two
versions of an object differ in (:func:`compare`), an applied configuration merged into
a live object (:func:`merge`), and fields taken out of an object (:func:`remove_items`).

The schema (a :class:`Node` tree, built once per model and cached) says how each value
is identified and merged:

- a *struct* (a model) is granular, field by field, unless the model says
  ``STRUCT_TYPE = "atomic"`` (``+structType=atomic``: a LabelSelector, an
  ObjectReference), which makes it one value;
- a *map* (``dict[str, X]``) is granular, key by key, unless the field says
  ``x-kubernetes-map-type: atomic`` (a pod's ``nodeSelector``);
- a *list* is what its field's ``x-kubernetes-list-type`` says: ``map`` (items
  identified by ``x-kubernetes-list-map-keys``, a key field that is missing takes its
  declared ``default``), ``set`` (scalars identified by value) or, when unsaid,
  ``atomic`` (one value);
- a value the models leave open (``Any``) is *deduced*: objects are granular maps,
  lists atomic.

Values are plain JSON data; nothing here mutates its arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal

import orjson
from pydantic import BaseModel

from apitypes import fieldpath as fp
from apitypes.base import LIST_MAP_KEYS, LIST_TYPE, MAP_TYPE
from apitypes.fieldpath import FieldSet, Path
from apitypes.schema import FieldSchema, TypeInfo, fields_of, model_schema

Kind = Literal["scalar", "struct", "map", "list", "any"]


class _Missing:
    """A value that is not there (unlike ``None``, a JSON ``null`` that is)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


class TypedError(ValueError):
    """A value that does not fit its schema, at a path (``.spec.ports: element 0: ...``)."""

    def __init__(self, path: Path, message: str) -> None:
        self.path = path
        self.detail = message
        where = fp.path_text(path)
        super().__init__(f"{where}: {message}" if where else message)


# --- the schema ----------------------------------------------------------------------------


class Node:
    """How a value is walked: its kind, whether it is atomic, and what it contains."""

    __slots__ = ("_fields", "atomic", "element", "info", "key_defaults", "keys", "kind", "model")

    def __init__(
        self,
        kind: Kind,
        *,
        atomic: bool = False,
        model: type[BaseModel] | None = None,
        element: Node | None = None,
        keys: tuple[str, ...] = (),
        key_defaults: dict[str, Any] | None = None,
        info: TypeInfo | None = None,
    ) -> None:
        self.kind: Kind = kind
        self.atomic = atomic
        self.model = model
        self.element = element
        """Map values, list items, or a struct's undeclared keys (None: not allowed)."""
        self.keys = keys
        """An associative list's key fields (empty for a set)."""
        self.key_defaults = key_defaults or {}
        self.info = info
        self._fields: dict[str, Node] | None = None

    def fields(self) -> dict[str, Node]:
        """A struct's declared fields by wire name (built on first use)."""
        if self._fields is None:
            assert self.model is not None
            self._fields = {name: _of_field(fs) for name, fs in fields_of(self.model).items()}
        return self._fields

    def child(self, element: str) -> Node:
        """The node of the value one element below (``ANY`` where nothing is known)."""
        if self.kind == "struct":
            if element.startswith(fp.FIELD):
                found = self.fields().get(element[2:])
                if found is not None:
                    return found
            return self.element or ANY
        return self.element or ANY

    def __repr__(self) -> str:
        what = self.model.__name__ if self.model is not None else self.kind
        return f"Node({what}{', atomic' if self.atomic else ''})"


ANY: Final = Node("any")
_ATOMIC_ANY_LIST: Final = Node("list", atomic=True, element=ANY)
_STRUCTS: dict[type[BaseModel], Node] = {}


def of_model(model: type[BaseModel]) -> Node:
    """The node of a value of ``model`` (cached)."""
    node = _STRUCTS.get(model)
    if node is None:
        node = Node(
            "struct",
            atomic=getattr(model, "STRUCT_TYPE", "granular") == "atomic",
            model=model,
            element=ANY if model_schema(model).allows_extra else None,
        )
        _STRUCTS[model] = node
    return node


def _of_type(info: TypeInfo) -> Node:
    if info.special is not None or info.shape == "scalar":
        return Node("scalar", info=info)
    if info.shape == "object" and info.model is not None:
        return of_model(info.model)
    if info.shape == "list":
        return Node("list", atomic=True, element=_of_type(info.item) if info.item else ANY)
    if info.shape == "map":
        return Node("map", element=_of_type(info.item) if info.item else ANY)
    return ANY


def _of_field(fs: FieldSchema) -> Node:
    info, extra = fs.value_type, fs.extra
    if info.shape == "list":
        item = _of_type(info.item) if info.item is not None else ANY
        list_type = extra.get(LIST_TYPE)
        keys = tuple(extra.get(LIST_MAP_KEYS) or ())
        if list_type == "map" and keys:
            return Node("list", element=item, keys=keys, key_defaults=_key_defaults(item, keys))
        if list_type == "set":
            return Node("list", element=item)
        return Node("list", atomic=True, element=item)
    node = _of_type(info)
    if extra.get(MAP_TYPE) == "atomic" and node.kind in ("map", "struct"):
        return Node(node.kind, atomic=True, model=node.model, element=node.element, info=info)
    return node


def _key_defaults(item: Node, keys: tuple[str, ...]) -> dict[str, Any]:
    if item.model is None:
        return {}
    out: dict[str, Any] = {}
    declared = fields_of(item.model)
    for name in keys:
        found = declared.get(name)
        if found is not None and "default" in found.extra:
            out[name] = found.extra["default"]
    return out


def _deduced(value: Any) -> Kind:
    # A null is a map, as structured-merge-diff deduces it (a map first, when unsure).
    if value is None or isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "list"
    return "scalar"


def _kind_of(node: Node, value: Any) -> tuple[Kind, Node]:
    """The kind to walk ``value`` as, and the node (resolving deduced values)."""
    if node.kind != "any":
        return node.kind, node
    kind = _deduced(value)
    if kind == "map":
        return "map", _DEDUCED_MAP
    if kind == "list":
        return "list", _ATOMIC_ANY_LIST
    return "scalar", node


_DEDUCED_MAP: Final = Node("map", element=ANY)


# --- list items ----------------------------------------------------------------------------


def item_element(node: Node, item: Any) -> str:
    """The path element of an item of the associative list ``node``.

    Raises :class:`ValueError` (worded as structured-merge-diff words it) for an item that
    has no identity: a keyed list's item that is no object or lacks every key field, a
    set's item that is not a scalar.
    """
    keys = node.keys
    if keys:
        if not isinstance(item, dict):
            raise ValueError("associative list with keys may not have non-map elements")
        if len(keys) == 1:
            name = keys[0]
            if name in item:
                return fp.key({name: item[name]})
            if name in node.key_defaults:
                return fp.key({name: node.key_defaults[name]})
        else:
            fields = {}
            for name in keys:
                if name in item:
                    fields[name] = item[name]
                elif name in node.key_defaults:
                    fields[name] = node.key_defaults[name]
            if fields:
                return fp.key(fields)
        listed = "[" + " ".join(f'"{k}"' for k in keys) + "]"
        raise ValueError(
            f"associative list with keys has an element that omits all key fields {listed} "
            "(and doesn't have default values for any key fields)"
        )
    if isinstance(item, dict):
        raise ValueError("associative list without keys has an element that's a map type")
    if isinstance(item, list):
        raise ValueError("not supported: associative list with lists as elements")
    if item is None:
        raise ValueError("associative list without keys has an element that's an explicit null")
    return fp.value(item)


def _elements(node: Node, items: list[Any], path: Path) -> list[str]:
    return [_element_at(node, item, path, i) for i, item in enumerate(items)]


def _element_at(node: Node, item: Any, path: Path, position: int) -> str:
    try:
        return item_element(node, item)
    except ValueError as err:
        raise TypedError(path, f"element {position}: {err}") from None


def same(a: Any, b: Any) -> bool:
    """JSON equality that tells ``true`` from ``1`` (numbers compare by value)."""
    if a is b:
        return True
    if type(a) is type(b):
        return bool(a == b)
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    if isinstance(a, int | float) and isinstance(b, int | float):
        return bool(a == b)
    return False


# --- field sets ----------------------------------------------------------------------------


def to_field_set(value: Any, node: Node, *, strict: bool = False) -> FieldSet:
    """The paths of every field ``value`` sets (structured-merge-diff's ``ToFieldSet``).

    Leaves are in it; so are map keys and list items (with their children), and fields
    set to ``null`` or ``{}``; a struct field with content is not itself in it. With
    ``strict`` (an applied configuration), values that do not fit the schema raise
    :class:`TypedError`: undeclared fields, shapes that differ from the declared ones,
    list items without identity, duplicate items.
    """
    out: set[Path] = set()
    _field_set(value, node, (), out, strict)
    out.discard(())
    return frozenset(out)


def _whole(value: Any, shape: type, node: Node, path: Path, out: set[Path], strict: bool) -> bool:
    """Whether a map or list ``value`` is done with before its items: null (the parent
    decides), atomic, or not of its ``shape`` (an error when ``strict``)."""
    if value is None:
        return True
    if not isinstance(value, shape):
        if strict:
            expected = "map" if shape is dict else "list"
            raise TypedError(path, f"expected {expected}, got {_describe(value)}")
        out.add(path)
        return True
    if node.atomic:
        out.add(path)
        return True
    return False


def _field_set(value: Any, node: Node, path: Path, out: set[Path], strict: bool) -> None:
    kind, node = _kind_of(node, value)
    if kind in {"struct", "map"}:
        if _whole(value, dict, node, path, out, strict):
            return
        fields = node.fields() if kind == "struct" else None
        for name, child in value.items():
            child_path = (*path, fp.FIELD + name)
            declared = fields.get(name) if fields is not None else None
            if declared is None:
                child_node = node.element
                if child_node is None:
                    if strict:
                        raise TypedError(child_path, "field not declared in schema")
                    child_node = ANY
                _field_set(child, child_node, child_path, out, strict)
                out.add(child_path)
            else:
                _field_set(child, declared, child_path, out, strict)
                if child is None or (type(child) is dict and not child):
                    out.add(child_path)
        return
    if kind == "list":
        if _whole(value, list, node, path, out, strict):
            return
        elements = _elements(node, value, path)
        seen: set[str] = set()
        twice: set[str] = set()
        for element in elements:
            if element in seen:
                twice.add(element)
            seen.add(element)
        if twice and strict:
            first = next(e for e in elements if e in twice)
            raise TypedError(path, f"duplicate entries for key {fp.element_text(first)}")
        for element in twice:
            out.add((*path, element))
        item_node = node.element or ANY
        for item, element in zip(value, elements, strict=True):
            if element in twice:
                continue
            item_path = (*path, element)
            _field_set(item, item_node, item_path, out, strict)
            out.add(item_path)
        return
    if strict and node.info is not None and value is not None and not node.info.accepts(value):
        raise TypedError(path, f"expected {node.info.describe()}, got {_describe(value)}")
    out.add(path)


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "null"


# --- compare -------------------------------------------------------------------------------


class Comparison:
    """The fields an object's new version removed, modified and added."""

    __slots__ = ("added", "modified", "removed")

    def __init__(self, removed: FieldSet, modified: FieldSet, added: FieldSet) -> None:
        self.removed = removed
        self.modified = modified
        self.added = added

    def is_same(self) -> bool:
        return not (self.removed or self.modified or self.added)

    def __repr__(self) -> str:
        return (
            f"Comparison(removed={sorted(fp.iter_paths(self.removed))}, "
            f"modified={sorted(fp.iter_paths(self.modified))}, "
            f"added={sorted(fp.iter_paths(self.added))})"
        )


def compare(old: Any, new: Any, node: Node) -> Comparison:
    """What changed from ``old`` to ``new`` (structured-merge-diff's ``Compare``).

    A leaf (a scalar, an atomic value, an empty map or list) is *modified* when its
    value changed; any path only one side has is *removed* or *added*, granular maps and
    list items included (so an added list item and all its fields are added). Equal
    subtrees are skipped whole, so comparing two versions of an object costs what
    changed, not its size.
    """
    removed: set[Path] = set()
    modified: set[Path] = set()
    added: set[Path] = set()
    _compare(old, new, node, (), removed, modified, added)
    for found in (removed, modified, added):
        found.discard(())
    return Comparison(frozenset(removed), frozenset(modified), frozenset(added))


def _compare(
    old: Any,
    new: Any,
    node: Node,
    path: Path,
    removed: set[Path],
    modified: set[Path],
    added: set[Path],
) -> None:
    if old is not MISSING and new is not MISSING and same(old, new):
        return
    present = new if new is not MISSING else old
    kind, node = _kind_of(node, present)
    shape = list if kind == "list" else dict
    if (
        kind != "scalar"
        and (old is MISSING or (shape is dict and type(old) is dict and not old))
        and new
        and type(new) is shape
        and not node.atomic
    ):
        # All of ``new`` is added: the same for every equal value (a pod template's
        # spec, a container), so computed once.
        added.update([(*path, *below) for below in _added_below(new, node, kind)])
        if old is MISSING:
            added.add(path)
        return
    if kind in {"struct", "map"}:
        old_map = old if isinstance(old, dict) else None
        new_map = new if isinstance(new, dict) else None
        shapeless = (old is not MISSING and old is not None and old_map is None) or (
            new is not MISSING and new is not None and new_map is None
        )
        if not (node.atomic or shapeless or (not old_map and not new_map)):
            fields = node.fields() if kind == "struct" else None
            element = node.element or ANY
            old_map = old_map or {}
            new_map = new_map or {}
            for name, child in old_map.items():
                after = new_map.get(name, MISSING)
                if after is child or (type(after) is type(child) and after == child):
                    continue  # the common case, without a call
                child_node = (fields.get(name) if fields is not None else None) or element
                _compare(
                    child, after, child_node, (*path, fp.FIELD + name), removed, modified, added
                )
            for name, child in new_map.items():
                if name not in old_map:
                    child_node = (fields.get(name) if fields is not None else None) or element
                    _compare(
                        MISSING,
                        child,
                        child_node,
                        (*path, fp.FIELD + name),
                        removed,
                        modified,
                        added,
                    )
            _mark_presence(old, new, path, removed, added)
            return
    elif kind == "list":
        old_list = old if isinstance(old, list) else None
        new_list = new if isinstance(new, list) else None
        shapeless = (old is not MISSING and old is not None and old_list is None) or (
            new is not MISSING and new is not None and new_list is None
        )
        if not (node.atomic or shapeless or (not old_list and not new_list)):
            _compare_items(old_list or [], new_list or [], node, path, removed, modified, added)
            _mark_presence(old, new, path, removed, added)
            return
    if old is MISSING:
        added.add(path)
    elif new is MISSING:
        removed.add(path)
    elif not same(old, new):
        modified.add(path)


_ADDED: dict[tuple[int, str, bytes], FieldSet] = {}
_ADDED_LIMIT: Final = 2048


def _added_below(value: Any, node: Node, kind: Kind) -> FieldSet:
    """The paths below ``value`` (relative to it) when all of it is new."""
    cache_key = (id(node), kind, orjson.dumps(value))
    found = _ADDED.get(cache_key)
    if found is None:
        removed: set[Path] = set()
        modified: set[Path] = set()
        added: set[Path] = set()
        if kind == "list":
            _compare_items([], value, node, (), removed, modified, added)
        else:
            fields = node.fields() if kind == "struct" else None
            element = node.element or ANY
            for name, child in value.items():
                child_node = (fields.get(name) if fields is not None else None) or element
                _compare(MISSING, child, child_node, (fp.FIELD + name,), removed, modified, added)
        found = frozenset(added)
        if len(_ADDED) >= _ADDED_LIMIT:
            _ADDED.clear()
        _ADDED[cache_key] = found
    return found


def _mark_presence(old: Any, new: Any, path: Path, removed: set[Path], added: set[Path]) -> None:
    if old is MISSING:
        added.add(path)
    elif new is MISSING:
        removed.add(path)


def _grouped(elements: Sequence[str | None], items: list[Any]) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = {}
    for element, item in zip(elements, items, strict=True):
        assert element is not None
        groups.setdefault(element, []).append(item)
    return groups


def _compare_items(
    old: list[Any],
    new: list[Any],
    node: Node,
    path: Path,
    removed: set[Path],
    modified: set[Path],
    added: set[Path],
) -> None:
    old_elements = _elements(node, old, path)
    if len(old) == len(new):
        # An item equal to the one at its place in the old list has its element.
        new_elements: list[str | None] = [
            old_elements[i] if (item is old[i] or item == old[i]) else None
            for i, item in enumerate(new)
        ]
        for i, element in enumerate(new_elements):
            if element is None:
                new_elements[i] = _element_at(node, new[i], path, i)
    else:
        new_elements = list(_elements(node, new, path))
    old_items = _grouped(old_elements, old)
    new_items = _grouped(new_elements, new)
    item_node = node.element or ANY
    for element in {**old_items, **new_items}:
        before = old_items.get(element, [])
        after = new_items.get(element, [])
        item_path = (*path, element)
        if len(before) <= 1 and len(after) <= 1:
            _compare(
                before[0] if before else MISSING,
                after[0] if after else MISSING,
                item_node,
                item_path,
                removed,
                modified,
                added,
            )
        elif len(before) >= 2 and len(after) >= 2:
            # Duplicates on both sides: compared as one atomic value.
            if len(before) != len(after) or not all(map(same, before, after)):
                modified.add(item_path)
        elif len(before) >= 2:
            if after:
                _compare(MISSING, after[0], item_node, item_path, removed, modified, added)
            removed.add(item_path)
        else:
            if before:
                _compare(before[0], MISSING, item_node, item_path, removed, modified, added)
            added.add(item_path)


# --- merge ---------------------------------------------------------------------------------


def merge(live: Any, config: Any, node: Node) -> Any:
    """``config`` merged into ``live`` (structured-merge-diff's ``Merge``).

    Granular maps merge key by key and associative lists item by item (items only the
    live list has keep their place, the configuration's come in its order); scalars and
    atomic values take the configuration's value, ``null`` included (see
    :func:`without_nulls`); a ``null`` granular map or list changes nothing. Raises
    :class:`TypedError` for a configuration list with duplicate or unidentifiable items.
    """
    merged = _merge(live, config, node, ())
    return None if merged is MISSING else merged


def _merge(live: Any, config: Any, node: Node, path: Path) -> Any:
    if config is MISSING:
        return live
    if live is MISSING or live is None:
        return config
    kind, node = _kind_of(node, config if config is not None else live)
    if kind in {"struct", "map"}:
        if config is None and isinstance(live, dict) and live and not node.atomic:
            return live
        if node.atomic or not isinstance(live, dict) or not isinstance(config, dict):
            return config
        if not live and not config:
            return config
        fields = node.fields() if kind == "struct" else None
        element = node.element or ANY
        out: dict[str, Any] = {}
        for name, value in live.items():
            if name not in config:
                out[name] = value
                continue
            child = (fields.get(name) if fields is not None else None) or element
            merged = _merge(value, config[name], child, (*path, fp.FIELD + name))
            if merged is not MISSING:
                out[name] = merged
        for name, value in config.items():
            if name not in live:
                out[name] = value
        return out if out else MISSING
    if kind == "list":
        if config is None and isinstance(live, list) and live and not node.atomic:
            return live
        if node.atomic or not isinstance(live, list) or not isinstance(config, list):
            return config
        if not live and not config:
            return config
        merged = _merge_items(live, config, node, path)
        return merged if merged else MISSING
    return config


def without_nulls(value: Any) -> Any:
    """``value`` with every ``null`` map value taken out. A merged object keeps the
    ``null`` s its configuration set (they count as values when compared, as in
    Kubernetes); stored, they mean "unset". Shares what it does not change."""
    if isinstance(value, dict):
        if not any(v is None or isinstance(v, dict | list) for v in value.values()):
            return value
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        if not any(isinstance(v, dict | list) for v in value):
            return value
        return [without_nulls(v) for v in value]
    return value


def _merge_items(live: list[Any], config: list[Any], node: Node, path: Path) -> list[Any]:
    """structured-merge-diff's list merge: walk both lists, keep live-only items where
    they are, take the configuration's items (merged with their live twins) in its
    order."""
    config_elements = _elements(node, config, path)
    seen: set[str] = set()
    for element in config_elements:
        if element in seen:
            raise TypedError(path, f"duplicate entries for key {fp.element_text(element)}")
        seen.add(element)
    config_items = dict(zip(config_elements, config, strict=True))
    live_elements = _elements(node, live, path)
    live_items: dict[str, Any] = {}
    for element, item in zip(live_elements, live, strict=True):
        # A duplicated live item is not merged with the configuration's.
        live_items[element] = MISSING if element in live_items else item
    shared = [e for e in config_elements if e in live_items]
    shared_at = 0
    item_node = node.element or ANY
    out: list[Any] = []
    done: set[str] = set()

    def emit(element: str) -> None:
        merged = _merge(
            live_items.get(element, MISSING),
            config_items[element],
            item_node,
            (*path, element),
        )
        if merged is not MISSING:
            out.append(merged)

    i = j = 0
    while i < len(live_elements) or j < len(config_elements):
        next_shared = shared[shared_at] if shared_at < len(shared) else None
        if i < len(live_elements) and j < len(config_elements):
            element = live_elements[i]
            if element == config_elements[j]:
                done.add(element)
                emit(element)
                i += 1
                j += 1
                shared_at += 1
                continue
            if element in config_items and next_shared is not None and next_shared != element:
                i += 1
                continue
        if i < len(live_elements):
            element = live_elements[i]
            if element not in config_items:
                out.append(live[i])
                i += 1
                continue
            if element in done:
                i += 1
        if j < len(config_elements):
            element = config_elements[j]
            done.add(element)
            emit(element)
            j += 1
            if next_shared is not None and next_shared == element:
                shared_at += 1
    return out


# --- removing fields -------------------------------------------------------------------------


def remove_items(value: Any, paths: FieldSet, node: Node) -> Any:
    """``value`` without the fields, map entries and list items named by ``paths``
    (and what lies below them). A map or list something was taken from and that is
    left empty becomes ``null`` (as in structured-merge-diff; see :func:`without_nulls`)."""
    if not paths:
        return value
    result = _remove(value, fp.tree(paths), node)
    return {} if result is None and isinstance(value, dict) else result


def _remove(value: Any, tree: dict[str, Any], node: Node) -> Any:
    kind, node = _kind_of(node, value)
    if kind in {"struct", "map"}:
        if not isinstance(value, dict) or not value or node.atomic:
            return None
        out: dict[str, Any] = {}
        for name, child in value.items():
            found = tree.get(fp.FIELD + name)
            if found is None:
                out[name] = child
            elif not found[0]:
                out[name] = _remove(child, found[1], node.child(fp.FIELD + name))
        return out if out else None
    if kind == "list":
        if not isinstance(value, list) or not value or node.atomic:
            return None
        kept: list[Any] = []
        item_node = node.element or ANY
        for element, item in zip(_elements(node, value, ()), value, strict=True):
            found = tree.get(element)
            if found is None:
                kept.append(item)
            elif not found[0]:
                kept.append(_remove(item, found[1], item_node))
        return kept if kept else None
    return value


def ensure_named_fields_are_members(paths: FieldSet, node: Node) -> FieldSet:
    """``paths`` plus every struct field some of its paths go through (not map keys):
    owning ``spec.replicas`` then also counts as owning ``spec``."""
    extra: set[Path] = set()
    _named(fp.tree(paths), node, (), extra)
    return paths | extra if extra else paths


def _named(tree: dict[str, Any], node: Node, prefix: Path, extra: set[Path]) -> None:
    for element, (_member, children) in tree.items():
        if not children:
            continue
        path = (*prefix, element)
        if node.kind == "struct" and element.startswith(fp.FIELD) and element[2:] in node.fields():
            extra.add(path)
        _named(children, node.child(element), path, extra)


# --- creation ------------------------------------------------------------------------------

_ALWAYS_PRESENT = frozenset({"metadata", "spec", "status"})
# Lists Go writes even when empty (no ``omitempty``, so ``null``): there in a zero object.
_NULL_LISTS = frozenset({("PodSpec", "containers")})
_ZERO_PATHS: dict[type[BaseModel], FieldSet] = {}


def compare_objects(old: Any, new: Any, node: Node, *, ignored: FieldSet = fp.EMPTY) -> Comparison:
    """:func:`compare` of two objects of a kind (``old`` None: ``new`` is created) as
    Kubernetes compares them, in the form Go gives them: their value structs are always
    there (``metadata``, ``spec``, ``status``, required or always-made nested structs,
    the few lists Go writes as ``null``), so they are never added or removed themselves,
    only what is in them changes. Nothing is reported in or below ``ignored`` paths
    (top-level ones are not even walked)."""
    old = {} if old is None else old
    tops = {p[0] for p in ignored if len(p) == 1}
    if tops and isinstance(old, dict) and isinstance(new, dict):
        old = {k: v for k, v in old.items() if fp.FIELD + k not in tops}
        new = {k: v for k, v in new.items() if fp.FIELD + k not in tops}
    comparison = compare(old, new, node)
    if len(tops) < len(ignored):
        comparison = Comparison(
            fp.recursive_difference(comparison.removed, ignored),
            fp.recursive_difference(comparison.modified, ignored),
            fp.recursive_difference(comparison.added, ignored),
        )
    if node.model is None:
        return comparison
    structure = _ZERO_PATHS.get(node.model)
    if structure is None:
        found: set[Path] = set()
        _zero_paths(node.model, (), found, set())
        structure = _ZERO_PATHS[node.model] = frozenset(found)
    return Comparison(
        comparison.removed - structure if comparison.removed else fp.EMPTY,
        comparison.modified,
        comparison.added - structure if comparison.added else fp.EMPTY,
    )


def _zero_paths(
    model: type[BaseModel], prefix: Path, out: set[Path], seen: set[type[BaseModel]]
) -> None:
    seen = seen | {model}
    for name, fs in fields_of(model).items():
        path = (*prefix, fp.FIELD + name)
        if (model.__name__, name) in _NULL_LISTS:
            out.add(path)
            continue
        info = fs.value_type
        if info.shape != "object" or info.model is None or info.model in seen:
            continue
        if getattr(info.model, "STRUCT_TYPE", "granular") == "atomic":
            continue
        if name in _ALWAYS_PRESENT or fs.required or _has_factory(model, fs):
            out.add(path)
            _zero_paths(info.model, path, out, seen)


def _has_factory(model: type[BaseModel], fs: FieldSchema) -> bool:
    info = model.model_fields.get(fs.python_name)
    return info is not None and info.default_factory is not None


__all__ = [
    "ANY",
    "MISSING",
    "Comparison",
    "Node",
    "TypedError",
    "compare",
    "compare_objects",
    "ensure_named_fields_are_members",
    "item_element",
    "merge",
    "of_model",
    "remove_items",
    "same",
    "to_field_set",
    "without_nulls",
]
