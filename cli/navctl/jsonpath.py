"""kubectl's JSONPath templates (``-o jsonpath=...``, ``custom-columns``, ``--sort-by``).

The dialect is client-go's ``util/jsonpath``, not RFC 9535: text outside ``{}`` is
printed as is; inside, ``.field``, ``['key']``, ``[n]``, ``[a:b]``, ``[*]``, ``.*``,
``..field`` (recursive descent), ``[a,b]`` (union), ``[?(@.x == "y")]`` (filters with
``== != < > <= >=`` or bare existence), quoted literals (``{"\\n"}``), and
``{range EXPR}...{end}`` blocks. Missing keys print nothing (kubectl's default
``--allow-missing-template-keys``). Results of one expression print separated by a
space; maps and lists print as compact JSON, scalars as Go prints them.

Parsing builds a small tree once; ``execute`` walks it over decoded JSON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from cli.navctl.printing import go_float_text, go_json


class JSONPathError(ValueError):
    """A template that does not parse, or that cannot be applied to the data."""


# --- nodes -----------------------------------------------------------------------------


@dataclass
class Text:
    text: str


@dataclass
class Field:
    name: str


@dataclass
class Wildcard:
    pass


@dataclass
class Recursive:
    pass


@dataclass
class Slice:
    start: int | None
    end: int | None
    step: int | None
    single: bool = False


@dataclass
class Number:
    value: int | float


@dataclass
class Bool:
    value: bool


@dataclass
class Identifier:
    name: str


@dataclass
class Union:
    branches: list[list[Node]]


@dataclass
class Filter:
    left: list[Node]
    op: str
    right: list[Node]


Node = Text | Field | Wildcard | Recursive | Slice | Number | Bool | Identifier | Union | Filter


@dataclass
class Range:
    expression: list[Node]
    body: list[Item] = field(default_factory=list)


Item = Text | list[Node] | Range
"""A top-level piece of a template: literal text, one ``{...}`` action, or a range block."""


# --- parsing ---------------------------------------------------------------------------

_SLICE = re.compile(r"^(-?\d*)(:-?\d*)?(:-?\d*)?$")
_FILTER = re.compile(r"^([^!<>=]+)([!<>=]+)(.+?)$")
_TERMINATORS = set(" \t\r\n.,[]$@{}")


def _unquote(text: str) -> str:
    quote = text[0]
    body = text[1:-1]
    out: list[str] = []
    i = 0
    escapes = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0"}
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in escapes:
                out.append(escapes[nxt])
                i += 2
                continue
            if nxt == "u" and i + 5 < len(body) + 0:
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
                continue
        elif char == quote:
            raise JSONPathError(f"unquote string {text} error invalid syntax")
        out.append(char)
        i += 1
    return "".join(out)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    # Each action (the text between braces) is parsed on its own.
    def parse_action(self, action: str) -> list[Node]:
        nodes: list[Node] = []
        i = 0
        n = len(action)
        while i < n:
            char = action[i]
            if action.startswith("[?(", i):
                i = self._filter(action, i, nodes)
            elif action.startswith("..", i):
                if nodes and isinstance(nodes[-1], Recursive):
                    raise JSONPathError("invalid multiple recursive descent")
                nodes.append(Recursive())
                i += 2
                if i < n and (action[i].isalnum() or action[i] == "_"):
                    i = self._field(action, i, nodes)
            elif char in " @$":
                i += 1
            elif char == "[":
                i = self._array(action, i, nodes)
            elif char in "\"'":
                i = self._quote(action, i, nodes)
            elif char == ".":
                i = self._field(action, i + 1, nodes)
            elif char in "+-" or char.isdigit():
                i = self._number(action, i, nodes)
            elif char.isalnum() or char == "_":
                i = self._identifier(action, i, nodes)
            elif char in "\r\n":
                raise JSONPathError("unclosed action")
            else:
                raise JSONPathError(f"unrecognized character in action: {char!r}")
        return nodes

    @staticmethod
    def _field(action: str, i: int, nodes: list[Node]) -> int:
        start = i
        chars: list[str] = []
        while i < len(action):
            char = action[i]
            if char == "\\" and i + 1 < len(action):
                chars.append(action[i + 1])
                i += 2
                continue
            if char in _TERMINATORS:
                break
            chars.append(char)
            i += 1
        name = "".join(chars)
        if name == "*":
            nodes.append(Wildcard())
        elif name or i == start:
            nodes.append(Field(name))
        return i

    @staticmethod
    def _identifier(action: str, i: int, nodes: list[Node]) -> int:
        start = i
        while i < len(action) and action[i] not in _TERMINATORS:
            i += 1
        word = action[start:i]
        if word in ("true", "false"):
            nodes.append(Bool(word == "true"))
        else:
            nodes.append(Identifier(word))
        return i

    @staticmethod
    def _number(action: str, i: int, nodes: list[Node]) -> int:
        start = i
        if action[i] in "+-":
            i += 1
        while i < len(action) and (action[i].isdigit() or action[i] == "."):
            i += 1
        text = action[start:i]
        try:
            nodes.append(Number(int(text)))
        except ValueError:
            try:
                nodes.append(Number(float(text)))
            except ValueError as err:
                raise JSONPathError(f"cannot parse number {text}") from err
        return i

    @staticmethod
    def _quote(action: str, i: int, nodes: list[Node]) -> int:
        quote = action[i]
        j = i + 1
        while j < len(action):
            if action[j] == quote and action[j - 1] != "\\":
                break
            if action[j] == "\n":
                raise JSONPathError("unterminated quoted string")
            j += 1
        else:
            raise JSONPathError("unterminated quoted string")
        nodes.append(Text(_unquote(action[i : j + 1])))
        return j + 1

    def _array(self, action: str, i: int, nodes: list[Node]) -> int:
        end = action.find("]", i)
        if end < 0:
            raise JSONPathError("unterminated array")
        inner = action[i + 1 : end]
        if inner == "*":
            inner = ":"
        parts = inner.split(",")
        if len(parts) > 1:
            nodes.append(Union([self.parse_action(f"[{p.strip()}]") for p in parts]))
            return end + 1
        key = re.fullmatch(r"'([^']*)'", inner)
        if key:
            nodes.append(Field(key.group(1)))
            return end + 1
        match = _SLICE.match(inner)
        if not match:
            raise JSONPathError(f"invalid array index {inner}")
        start_s, end_s, step_s = match.groups()
        start = int(start_s) if start_s else None
        stop = int(end_s[1:]) if end_s and end_s[1:] else None
        step = int(step_s[1:]) if step_s and step_s[1:] else None
        single = end_s is None
        nodes.append(Slice(start, stop, step, single))
        return end + 1

    def _filter(self, action: str, i: int, nodes: list[Node]) -> int:
        j = i + 3
        quote = ""
        while j < len(action):
            char = action[j]
            if quote:
                if char == quote and action[j - 1] != "\\":
                    quote = ""
            elif char in "\"'":
                quote = char
            elif char == ")":
                break
            j += 1
        else:
            raise JSONPathError("unterminated filter")
        if j + 1 >= len(action) or action[j + 1] != "]":
            raise JSONPathError("unclosed array expect ]")
        text = action[i + 3 : j]
        match = _FILTER.match(text)
        if match is None:
            nodes.append(Filter(self.parse_action(text), "exists", []))
        else:
            left, op, right = match.groups()
            nodes.append(Filter(self.parse_action(left), op, self.parse_action(right)))
        return j + 2


def _split_template(text: str) -> list[tuple[bool, str]]:
    """(is_action, text) pieces: literal text and the insides of ``{...}``."""
    pieces: list[tuple[bool, str]] = []
    i = 0
    while i < len(text):
        start = text.find("{", i)
        if start < 0:
            pieces.append((False, text[i:]))
            break
        if start > i:
            pieces.append((False, text[i:start]))
        j = start + 1
        quote = ""
        while j < len(text):
            char = text[j]
            if quote:
                if char == quote and text[j - 1] != "\\":
                    quote = ""
            elif char in "\"'":
                quote = char
            elif char == "}":
                break
            j += 1
        else:
            raise JSONPathError("unclosed action")
        pieces.append((True, text[start + 1 : j]))
        i = j + 1
    return pieces


@dataclass
class JSONPath:
    """A parsed template; ``execute(data)`` returns the text it prints."""

    source: str
    items: list[Item]

    def execute(self, data: Any) -> str:
        out: list[str] = []
        _run_items(self.items, data, out)
        return "".join(out)

    def find(self, data: Any) -> list[list[Any]]:
        """The values of each top-level expression (for custom columns and sorting)."""
        results: list[list[Any]] = []
        for item in self.items:
            if isinstance(item, Text):
                results.append([item.text])
            elif isinstance(item, Range):
                for value in _eval(item.expression, [data]):
                    results.extend(JSONPath(self.source, item.body).find(value))
            else:
                results.append(_eval(item, [data]))
        return results


def parse(template: str) -> JSONPath:
    """Parse a kubectl JSONPath template; ``JSONPathError`` says what is wrong."""
    parser = _Parser(template)
    stack: list[list[Item]] = [[]]
    ranges: list[Range] = []
    for is_action, text in _split_template(template):
        if not is_action:
            stack[-1].append(Text(text))
            continue
        nodes = parser.parse_action(text)
        if nodes and isinstance(nodes[0], Identifier):
            word = nodes[0].name
            if word == "range":
                block = Range(nodes[1:])
                stack[-1].append(block)
                stack.append(block.body)
                ranges.append(block)
                continue
            if word == "end":
                if not ranges:
                    raise JSONPathError("not in range, nothing to end")
                ranges.pop()
                stack.pop()
                continue
            raise JSONPathError(f"unrecognized identifier {word}")
        stack[-1].append(nodes)
    if ranges:
        raise JSONPathError("range without end")
    return JSONPath(template, stack[0])


_RELAXED = re.compile(r"^\{\.?([^{}]+)\}$|^\.?([^{}]+)$")


def relaxed(expression: str) -> str:
    """kubectl's relaxed paths: ``a.b``, ``.a.b``, ``{a.b}`` and ``{.a.b}`` mean ``{.a.b}``."""
    if not expression:
        return expression
    match = _RELAXED.match(expression)
    if match is None:
        raise JSONPathError(
            "unexpected path string, expected a 'name1.name2' or '.name1.name2' or "
            "'{name1.name2}' or '{.name1.name2}'"
        )
    spec = match.group(1) or match.group(2)
    return "{." + spec.lstrip(".") + "}"


# --- evaluation ------------------------------------------------------------------------


def value_text(value: Any) -> str:
    """One result as kubectl's JSONPath printer writes it."""
    if isinstance(value, dict | list):
        return go_json(value)
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float_text(value)
    return str(value)


def _run_items(items: list[Item], data: Any, out: list[str]) -> None:
    for item in items:
        if isinstance(item, Text):
            out.append(item.text)
        elif isinstance(item, Range):
            for value in _eval(item.expression, [data]):
                _run_items(item.body, value, out)
        else:
            out.append(" ".join(value_text(v) for v in _eval(item, [data])))


def _eval(nodes: list[Node], values: list[Any]) -> list[Any]:
    current = values
    for node in nodes:
        current = _step(node, current)
    return current


def _step(node: Node, values: list[Any]) -> list[Any]:
    if isinstance(node, Text):
        return [node.text for _ in values] if values else [node.text]
    if isinstance(node, Number | Bool):
        return [node.value for _ in values] if values else [node.value]
    if isinstance(node, Field):
        if node.name == "":
            return values
        return [v[node.name] for v in values if isinstance(v, dict) and node.name in v]
    if isinstance(node, Wildcard):
        out: list[Any] = []
        for v in values:
            if isinstance(v, dict):
                out.extend(v.values())
            elif isinstance(v, list):
                out.extend(v)
        return out
    if isinstance(node, Recursive):
        return [x for v in values for x in _descend(v)]
    if isinstance(node, Slice):
        return [x for v in values if v is not None for x in _slice(node, v)]
    if isinstance(node, Union):
        return [x for branch in node.branches for x in _eval(branch, values)]
    if isinstance(node, Filter):
        return [x for v in values for x in _filter(node, v)]
    raise JSONPathError(f"unrecognized identifier {node.name}")


def _descend(value: Any) -> list[Any]:
    children: list[Any]
    if isinstance(value, dict):
        children = list(value.values())
    elif isinstance(value, list):
        children = list(value)
    else:
        return []
    if not children:
        return []
    out = [value]
    for child in children:
        out.extend(_descend(child))
    return out


def _slice(node: Slice, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise JSONPathError(f"{type(value).__name__} is not array or slice")
    length = len(value)
    start = node.start if node.start is not None else 0
    if start < 0:
        start += length
    if node.single:
        stop = start + 1
    else:
        stop = node.end if node.end is not None else length
        if stop < 0:
            stop += length
    if stop != start:
        if start >= length or start < 0:
            raise JSONPathError(f"array index out of bounds: index {start}, length {length}")
        if stop > length:
            raise JSONPathError(f"array index out of bounds: index {stop - 1}, length {length}")
    if stop <= start:
        return []
    return value[start : stop : node.step or 1]


def _comparable(left: Any, right: Any) -> bool:
    numbers = (int, float)
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool)
    if isinstance(left, numbers) and isinstance(right, numbers):
        return True
    return type(left) is type(right) and isinstance(left, str)


def _filter(node: Filter, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise JSONPathError(f"{value_text(value)} is not array or slice and cannot be filtered")
    out: list[Any] = []
    for element in value:
        lefts = _eval(node.left, [element])
        if node.op == "exists":
            if lefts:
                out.append(element)
            continue
        rights = _eval(node.right, [element])
        if len(lefts) != 1 or len(rights) != 1:
            # kubectl fails here; a missing field simply does not match.
            continue
        left, right = lefts[0], rights[0]
        if not _comparable(left, right):
            if node.op in ("==", "!="):
                if node.op == "!=":
                    out.append(element)
                continue
            raise JSONPathError("incompatible types for comparison")
        if _compare(node.op, left, right):
            out.append(element)
    return out


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == "<":
        return bool(left < right)
    if op == ">":
        return bool(left > right)
    if op == "<=":
        return bool(left <= right)
    if op == ">=":
        return bool(left >= right)
    raise JSONPathError(f"unrecognized filter operator {op}")


__all__ = ["JSONPath", "JSONPathError", "parse", "relaxed", "value_text"]
