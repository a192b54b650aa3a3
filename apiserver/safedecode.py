"""Request bodies decoded within a budget: no input makes the decoder, or the code after
it, take time or memory out of proportion to the body's size.

- **Depth.** JSON and YAML nested more than :data:`MAX_DEPTH` levels are refused. Real
  objects nest about 25 levels (a pod template's affinity inside ``managedFields``);
  Kubernetes refuses 10,000. Here every later step recurses: the patch code, pydantic,
  and orjson, which writes at most 254 levels, so a deeper object could be stored but
  never served again.
- **YAML aliases.** A YAML document is composed into its node graph first, where an
  alias is a second reference to one node, and its size *with aliases expanded* is
  counted on that graph (linear in the nodes written, however far they expand). Aliases
  may add at most :data:`MAX_ALIAS_NODES` nodes, as go-yaml (which Kubernetes uses)
  limits them; a recursive alias is refused. A 628-byte "billion laughs" document is
  refused in well under a millisecond instead of expanding to a billion nodes.
- **JSON types.** A YAML document is handed on as JSON would be: timestamps become
  strings, and values JSON cannot hold (integers beyond 64 bits, binary, sets, keys
  that are not strings) are refused.
"""

from __future__ import annotations

from typing import Any

import orjson
import yaml

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader

MAX_DEPTH = 100
"""The deepest nesting of objects and arrays a request body may have."""

MAX_ALIAS_NODES = 10_000
"""How many nodes YAML aliases may add to a document when expanded."""


class BodyError(ValueError):
    """A body that is malformed or over budget; its message says which and why."""


def load_json(raw: bytes) -> Any:
    """Parse JSON, refusing nesting deeper than :data:`MAX_DEPTH`."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise BodyError(f"error decoding JSON: {err}") from err
    # Fast path: a body with fewer brackets than the limit cannot nest deeper than it
    # (brackets inside strings only make the count larger), so most bodies skip the walk.
    if raw.count(b"{") + raw.count(b"[") > MAX_DEPTH:
        check_depth(value)
    return value


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    """Refuse ``value`` if its objects and arrays nest deeper than ``limit`` (iterative:
    the check itself must not recurse)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    raise BodyError(f"the object is nested more than {limit} levels deep")
                stack.append((child, depth + 1))


def load_yaml(raw: bytes) -> Any:
    """Parse one YAML document within the alias and depth budgets, as JSON values."""
    loader = _Loader(raw)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_graph(node)
        value = loader.construct_document(node)
    except yaml.YAMLError as err:
        raise BodyError(f"error decoding YAML: {_one_line(str(err))}") from err
    finally:
        loader.dispose()
    try:
        # As JSON would carry it: what JSON cannot hold is refused here, not by a 500 later.
        return orjson.loads(orjson.dumps(value))
    except orjson.JSONEncodeError as err:
        raise BodyError(f"error decoding YAML: a value JSON cannot hold: {err}") from err


def _check_graph(root: yaml.Node) -> None:
    """Count the nodes of the document with its aliases expanded, and its depth, on the
    node graph (each distinct node visited once); refuse cycles and the over-budget."""
    expanded: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes when expanded, depth)
    on_path: set[int] = set()
    distinct = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            on_path.discard(key)
            size, depth = 1, 0
            for child in children:
                child_size, child_depth = expanded[id(child)]
                size += child_size
                depth = max(depth, child_depth)
            depth += 1 if children or isinstance(node, yaml.CollectionNode) else 0
            expanded[key] = (size, depth)
            if depth > MAX_DEPTH:
                raise BodyError(f"the object is nested more than {MAX_DEPTH} levels deep")
            if size - distinct > MAX_ALIAS_NODES:
                raise BodyError(
                    f"YAML aliases expand the document beyond {MAX_ALIAS_NODES:,} more nodes "
                    "than it has"
                )
            continue
        if key in expanded:
            continue
        if key in on_path:
            raise BodyError("error decoding YAML: a recursive alias")
        distinct += 1
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in expanded)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _one_line(text: str) -> str:
    return " ".join(text.split())
