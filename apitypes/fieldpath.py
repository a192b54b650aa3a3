"""Field paths and field sets: what server-side apply says a manager owns.

A *path element* names one step into a JSON value, spelled exactly as Kubernetes'
``FieldsV1`` encoding spells it (structured-merge-diff's ``fieldpath`` package):

- ``f:<name>``: a field of a struct, or a key of a map (``f:spec``, ``f:app``);
- ``k:<json>``: the element of an associative list whose key fields have these values,
  a JSON object with the keys sorted (``k:{"name":"nginx"}``,
  ``k:{"containerPort":80,"protocol":"TCP"}``);
- ``v:<json>``: the element of a set (a list of scalars) with this value (``v:"a"``);
- ``i:<n>``: a list element by index (never produced for the built-in kinds, kept when
  read).

A :data:`Path` is a tuple of elements from the root of an object; a :data:`FieldSet`
is a frozen set of paths. A set holds exactly the paths that were inserted: owning
``spec.replicas`` does not own ``spec`` unless ``spec`` is in the set too. Elements are
the encoded strings themselves, so sets are cheap to hash, compare and encode; the JSON
inside ``k:`` and ``v:`` elements is always canonical (Go's encoding, keys sorted), so
that equal elements are equal strings.

``FieldsV1`` (the ``fieldsV1`` of a ``managedFields`` entry) nests one JSON object per
element; ``{}`` marks a path that is in the set, and ``".": {}`` marks a path that is in
the set and also has descendants in it. Keys come in structured-merge-diff's element
order (fields by name, then keys, values, indexes), as Kubernetes writes them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeAlias

import orjson

from apitypes.validation import format_value

Path: TypeAlias = tuple[str, ...]
FieldSet: TypeAlias = frozenset[Path]

EMPTY: FieldSet = frozenset()

FIELD = "f:"
KEY = "k:"
VALUE = "v:"
INDEX = "i:"
_SELF = "."


class FieldPathError(ValueError):
    """A path element or ``FieldsV1`` document that cannot be read; says why."""


# --- building elements ---------------------------------------------------------------------

# Go's JSON encoder escapes these inside strings; a canonical element must match.
_GO_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"))
_LINE_SEPARATORS = (("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def canonical_json(value: Any) -> str:
    """``value`` as Go's ``encoding/json`` writes it: compact, object keys sorted,
    ``<``, ``>``, ``&`` escaped, integral floats without a fraction (``80`` for ``80.0``,
    as Go reads every JSON number as a float)."""
    text = orjson.dumps(_integral(value), option=orjson.OPT_SORT_KEYS).decode()
    if "<" in text or ">" in text or "&" in text:
        for raw, escaped in _GO_ESCAPES:
            text = text.replace(raw, escaped)
    if "\u2028" in text or "\u2029" in text:
        for raw, escaped in _LINE_SEPARATORS:
            text = text.replace(raw, escaped)
    return text


def _integral(value: Any) -> Any:
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return int(value)
        return value
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def field(name: str) -> str:
    """The element of field (or map key) ``name``."""
    return FIELD + name


def key(fields: Mapping[str, Any]) -> str:
    """The element of the associative-list item whose key fields have these values."""
    if len(fields) == 1:
        ((name, value),) = fields.items()
        if type(value) is str:
            # The common case (a name, a type), remembered.
            return _single_key(name, value)
    return KEY + canonical_json(dict(fields))


@functools.lru_cache(maxsize=8192)
def _single_key(name: str, text: str) -> str:
    return KEY + canonical_json({name: text})


def value(item: Any) -> str:
    """The element of the set member ``item`` (a scalar)."""
    if type(item) is str:
        return _string_value(item)
    return VALUE + canonical_json(item)


def index(position: int) -> str:
    """The element of the list item at ``position``."""
    return f"{INDEX}{position}"


@functools.lru_cache(maxsize=8192)
def _string_value(text: str) -> str:
    return VALUE + canonical_json(text)


# --- reading elements ----------------------------------------------------------------------


@functools.lru_cache(maxsize=8192)
def parse_element(text: str) -> str | None:
    """The canonical form of an encoded element; None for an unknown element type
    (dropped, as structured-merge-diff drops what a later version may define).

    Raises :class:`FieldPathError` for a malformed element (a ``k:`` that is no JSON
    object, a ``v:`` that is no JSON value, an ``i:`` that is no integer).
    """
    if len(text) < 2 or text[1] != ":":
        if len(text) < 2:
            raise FieldPathError(f"key must be 2 characters long: {text!r}")
        raise FieldPathError(f"missing colon: {text!r}")
    kind, body = text[:2], text[2:]
    if kind == FIELD:
        return text
    if kind == KEY:
        try:
            fields = orjson.loads(body)
        except orjson.JSONDecodeError as err:
            raise FieldPathError(f"invalid key {text!r}: {err}") from err
        if not isinstance(fields, dict):
            raise FieldPathError(f"invalid key {text!r}: not a JSON object")
        return KEY + canonical_json(fields)
    if kind == VALUE:
        try:
            item = orjson.loads(body)
        except orjson.JSONDecodeError as err:
            raise FieldPathError(f"invalid value {text!r}: {err}") from err
        return VALUE + canonical_json(item)
    if kind == INDEX:
        try:
            return index(int(body))
        except ValueError as err:
            raise FieldPathError(f"invalid index {text!r}") from err
    return None


# --- order and text ------------------------------------------------------------------------


@functools.lru_cache(maxsize=8192)
def sort_key(element: str) -> tuple[Any, ...]:
    """The order of elements in structured-merge-diff: fields (by name), then keys, then
    values, then indexes; keys compare field by field, values as ``value.Compare``
    (numbers, then strings, booleans, lists, maps, null)."""
    kind, body = element[:2], element[2:]
    if kind == FIELD:
        return (0, body)
    if kind == KEY:
        fields = orjson.loads(body)
        return (1, tuple((name, _value_key(v)) for name, v in sorted(fields.items())))
    if kind == VALUE:
        return (2, _value_key(orjson.loads(body)))
    return (3, int(body))


def _value_key(item: Any) -> tuple[Any, ...]:
    if isinstance(item, bool):
        return (2, item)
    if isinstance(item, int | float):
        return (0, item)
    if isinstance(item, str):
        return (1, item)
    if isinstance(item, list):
        return (3, tuple(_value_key(v) for v in item))
    if isinstance(item, dict):
        return (4, tuple((k, _value_key(v)) for k, v in sorted(item.items())))
    return (5,)


@functools.lru_cache(maxsize=8192)
def element_text(element: str) -> str:
    """An element as Kubernetes prints it in a path: ``.name``, ``[name="nginx"]``,
    ``[containerPort=80,protocol="TCP"]``, ``[="a"]``, ``[0]``."""
    kind, body = element[:2], element[2:]
    if kind == FIELD:
        return "." + body
    if kind == KEY:
        fields = orjson.loads(body)
        return "[" + ",".join(f"{k}={format_value(v)}" for k, v in fields.items()) + "]"
    if kind == VALUE:
        return f"[={format_value(orjson.loads(body))}]"
    return f"[{body}]"


def path_text(path: Path) -> str:
    """A path as Kubernetes prints it (``.spec.containers[name="web"].image``)."""
    return "".join(element_text(e) for e in path)


def path_of(*parts: str | int | Mapping[str, Any]) -> Path:
    """A path from readable parts: a string is a field, an int an index, a mapping the
    key of an associative-list item (``path_of("spec", "ports", {"port": 80})``)."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(field(part))
        elif isinstance(part, int):
            out.append(index(part))
        else:
            out.append(key(part))
    return tuple(out)


# --- set operations beyond frozenset's ---------------------------------------------------


def recursive_difference(paths: FieldSet, remove: FieldSet) -> FieldSet:
    """``paths`` without every path that is in ``remove`` or lies below one that is."""
    if not remove or not paths:
        return paths
    depths = {len(r) for r in remove}
    if depths == {1}:
        # The usual case (``status``, ``spec``): one look-up per path.
        heads = {r[0] for r in remove}
        if not any(p[0] in heads for p in paths):
            return paths
        return frozenset(p for p in paths if p[0] not in heads)
    ordered_depths = sorted(depths)
    kept = frozenset(
        p for p in paths if not any(p[:d] in remove for d in ordered_depths if d <= len(p))
    )
    return paths if len(kept) == len(paths) else kept


def leaves(paths: FieldSet) -> FieldSet:
    """The paths of ``paths`` that are not a prefix of another of its paths."""
    prefixes = {p[:i] for p in paths for i in range(1, len(p))}
    return frozenset(p for p in paths if p not in prefixes)


def with_prefix(paths: Iterable[Path], prefix: Path) -> FieldSet:
    """The paths below ``prefix``, with ``prefix`` taken off."""
    n = len(prefix)
    return frozenset(p[n:] for p in paths if len(p) > n and p[:n] == prefix)


def ordered(paths: Iterable[Path]) -> list[Path]:
    """The paths in structured-merge-diff's iteration order: at each level the members
    first, then the subtrees, each in element order."""
    out: list[Path] = []
    _walk_ordered(tree(paths), (), out)
    return out


def _walk_ordered(level: dict[str, _Node], prefix: Path, out: list[Path]) -> None:
    names = sorted(level, key=sort_key)
    out.extend((*prefix, name) for name in names if level[name][0])
    for name in names:
        if level[name][1]:
            _walk_ordered(level[name][1], (*prefix, name), out)


# --- FieldsV1 ---------------------------------------------------------------------------

# A node of the prefix tree: [whether the path ending here is in the set, its children].
_Node: TypeAlias = list[Any]


def tree(paths: Iterable[Path]) -> dict[str, _Node]:
    """The prefix tree of ``paths``: ``{element: [in the set, {child element: ...}]}``."""
    root: dict[str, _Node] = {}
    for path in paths:
        level = root
        last = len(path) - 1
        for depth, element in enumerate(path):
            node = level.get(element)
            if node is None:
                node = level[element] = [False, {}]
            if depth == last:
                node[0] = True
            level = node[1]
    return root


def to_fields_v1(paths: Iterable[Path]) -> dict[str, Any]:
    """The ``FieldsV1`` document of a set of paths (keys in Kubernetes' order)."""
    return _emit(tree(paths))


def _emit(tree: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in sorted(tree, key=sort_key) if len(tree) > 1 else tree:
        member, children = tree[name]
        if children:
            body = _emit(children)
            out[name] = {_SELF: {}, **body} if member else body
        else:
            out[name] = {}
    return out


def from_fields_v1(document: Any) -> FieldSet:
    """The set of paths a ``FieldsV1`` document encodes.

    Raises :class:`FieldPathError` for a document that is not one (not an object, a
    malformed element). Elements of unknown types are dropped with what lies below them.
    """
    if not isinstance(document, dict):
        raise FieldPathError("FieldsV1 must be a JSON object")
    out: set[Path] = set()
    _read(document, (), out)
    return frozenset(out)


def _read(node: dict[str, Any], prefix: Path, out: set[Path]) -> bool:
    """Add the paths below ``prefix``; return whether ``prefix`` itself is a member
    (it says ``.``, or nothing known lies below it)."""
    member = False
    children = False
    for name, child in node.items():
        if name == _SELF:
            member = True
            continue
        element = parse_element(name)
        if element is None:
            continue
        if not isinstance(child, dict):
            raise FieldPathError(f"FieldsV1 entry {name!r} must be a JSON object")
        children = True
        path = (*prefix, element)
        if _read(child, path, out):
            out.add(path)
    return member or not children


def iter_paths(paths: Iterable[Path]) -> Iterator[str]:
    """The paths as text, in iteration order (for messages and tests)."""
    return (path_text(p) for p in ordered(paths))


__all__ = [
    "EMPTY",
    "FieldPathError",
    "FieldSet",
    "Path",
    "canonical_json",
    "element_text",
    "field",
    "from_fields_v1",
    "index",
    "iter_paths",
    "key",
    "leaves",
    "ordered",
    "parse_element",
    "path_of",
    "path_text",
    "recursive_difference",
    "sort_key",
    "to_fields_v1",
    "tree",
    "value",
    "with_prefix",
]
