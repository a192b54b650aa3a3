"""Label and field selectors: parsing, matching, canonical text, and the API struct.

Label selectors (``labelSelector=`` on list/watch, ``spec.selector`` in workloads) follow
``k8s.io/apimachinery/pkg/labels``:

* the string syntax ``a=b``, ``a==b``, ``a!=b``, ``a in (x,y)``, ``a notin (x)``, ``a``,
  ``!a``, ``a>1``, ``a<5``, comma-separated (AND), with blanks allowed between tokens;
* keys must be qualified names and values label values, checked as Kubernetes checks them;
* requirements are kept sorted by key and set values sorted and de-duplicated, so
  ``str()`` is canonical and equal selectors compare and hash equal;
* a ``metav1.LabelSelector`` converts with :func:`from_label_selector`. Kubernetes gives a
  *missing* selector (None) the meaning "matches nothing" and an *empty* one "matches
  everything"; these are :data:`NOTHING` and :data:`EVERYTHING` here. Both print as the
  empty string, so only the API struct (not the text) can say "nothing".

Field selectors (``fieldSelector=``) follow ``k8s.io/apimachinery/pkg/fields``: only
``=``, ``==`` and ``!=``, with ``\\``, ``,`` and ``=`` in values escaped by a backslash.
A field the object does not have reads as the empty string.

``matches`` runs for every object on every watch event, so selectors are compiled once
when built: plain equality tests become (key, value) pairs checked with one dict lookup
each, and everything else a small precomputed closure. No parsing or regular expressions
happen while matching.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple, Self

from pydantic import ValidationError

from apitypes.meta import LabelSelector, LabelSelectorRequirement
from apitypes.validation import (
    FieldError,
    aggregate_message,
    go_quote,
    invalid,
    is_qualified_name,
    is_valid_label_value,
    not_supported,
)

__all__ = [
    "EVERYTHING",
    "EVERYTHING_FIELDS",
    "NOTHING",
    "FieldRequirement",
    "FieldSelectorExpr",
    "LabelSelectorExpr",
    "Operator",
    "Requirement",
    "SelectorError",
    "escape_field_value",
    "field_selector_from_set",
    "format_label_selector",
    "from_label_selector",
    "parse_field_selector",
    "parse_label_selector",
    "selector_from_set",
    "to_label_selector",
    "to_string",
    "unescape_field_value",
]


class SelectorError(ValueError):
    """A selector that cannot be parsed or built.

    ``field_errors`` holds the individual problems when they concern a key, an operator
    or values (empty for pure syntax errors).
    """

    def __init__(self, message: str, field_errors: Iterable[FieldError] = ()) -> None:
        super().__init__(message)
        self.field_errors: tuple[FieldError, ...] = tuple(field_errors)


class Operator(StrEnum):
    """``selection.Operator``; the values are Kubernetes' spellings."""

    DOES_NOT_EXIST = "!"
    EQUALS = "="
    DOUBLE_EQUALS = "=="
    IN = "in"
    NOT_EQUALS = "!="
    NOT_IN = "notin"
    EXISTS = "exists"
    GREATER_THAN = "gt"
    LESS_THAN = "lt"


_SET_OPERATORS = frozenset({Operator.IN, Operator.NOT_IN})
_EXACT_OPERATORS = frozenset({Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.NOT_EQUALS})
_UNARY_OPERATORS = frozenset({Operator.EXISTS, Operator.DOES_NOT_EXIST})
_NUMERIC_OPERATORS = frozenset({Operator.GREATER_THAN, Operator.LESS_THAN})
# The order Kubernetes lists them in when rejecting an operator.
_ALL_OPERATORS = (
    Operator.IN,
    Operator.NOT_IN,
    Operator.EQUALS,
    Operator.DOUBLE_EQUALS,
    Operator.NOT_EQUALS,
    Operator.GREATER_THAN,
    Operator.LESS_THAN,
    Operator.EXISTS,
    Operator.DOES_NOT_EXIST,
)
_BINARY_OPERATOR_NAMES = "in, notin, =, ==, !=, gt, lt"

_MIN_INT64 = -(2**63)
_MAX_INT64 = 2**63 - 1


def _parse_int64(text: str) -> int | None:
    """Go's ``strconv.ParseInt(text, 10, 64)``, or None where it fails."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if not body or not body.isascii() or not body.isdigit():
        return None
    value = int(text)
    return value if _MIN_INT64 <= value <= _MAX_INT64 else None


# --- label requirements ---------------------------------------------------------------------

LabelCheck = Callable[[Mapping[str, str]], bool]


@dataclass(frozen=True, slots=True)
class Requirement:
    """One label condition: ``key``, ``operator`` and its ``values``.

    Build validated requirements with :meth:`new`; the plain constructor trusts its
    arguments (as Kubernetes' pre-validated paths do). Set values are stored sorted and
    without duplicates.
    """

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    @classmethod
    def new(cls, key: str, operator: Operator | str, values: Iterable[str] = ()) -> Requirement:
        """A validated requirement (``labels.NewRequirement``); raises :class:`SelectorError`."""
        values = tuple(values)
        errors = _requirement_errors(
            key,
            operator,
            values,
            key_path="key",
            values_path="values",
            operator_path="operator",
        )
        if errors:
            raise SelectorError(aggregate_message(errors), errors)
        return cls._normalised(key, Operator(operator), values)

    @classmethod
    def _normalised(cls, key: str, operator: Operator, values: tuple[str, ...]) -> Requirement:
        if operator in _SET_OPERATORS:
            values = tuple(sorted(set(values)))
        return cls(key, operator, values)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy this requirement."""
        return _compile(self)(labels)

    def __str__(self) -> str:
        op = self.operator
        if op is Operator.DOES_NOT_EXIST:
            return "!" + self.key
        if op is Operator.EXISTS:
            return self.key
        if op in _SET_OPERATORS:
            return f"{self.key} {op.value} ({','.join(self.values)})"
        symbol = {Operator.GREATER_THAN: ">", Operator.LESS_THAN: "<"}.get(op, op.value)
        return f"{self.key}{symbol}{','.join(self.values)}"


def _requirement_errors(
    key: str,
    operator: Operator | str,
    values: tuple[str, ...],
    *,
    key_path: str,
    values_path: str,
    operator_path: str,
    value_path: Callable[[int], str] | None = None,
) -> list[FieldError]:
    """Every problem ``labels.NewRequirement`` finds, at the given paths.

    ``values_path`` is where problems with the value list as a whole go, ``value_path(i)``
    where problems with the i-th value go (by default ``values_path[i]``).
    """
    item_path = value_path or (lambda i: f"{values_path}[{i}]")
    errors: list[FieldError] = []
    key_problems = is_qualified_name(key)
    if key_problems:
        errors.append(invalid(key_path, key, "; ".join(key_problems)))
    try:
        op = Operator(operator)
    except ValueError:
        errors.append(
            not_supported(operator_path, str(operator), [o.value for o in _ALL_OPERATORS])
        )
        return errors
    if op in _SET_OPERATORS:
        if not values:
            errors.append(
                invalid(
                    values_path,
                    list(values),
                    "for 'in', 'notin' operators, values set can't be empty",
                )
            )
    elif op in _EXACT_OPERATORS:
        if len(values) != 1:
            errors.append(
                invalid(
                    values_path, list(values), "exact-match compatibility requires one single value"
                )
            )
    elif op in _UNARY_OPERATORS:
        if values:
            errors.append(
                invalid(
                    values_path,
                    list(values),
                    "values set must be empty for exists and does not exist",
                )
            )
    else:
        if len(values) != 1:
            errors.append(
                invalid(
                    values_path,
                    list(values),
                    "for 'Gt', 'Lt' operators, exactly one value is required",
                )
            )
        for i, value in enumerate(values):
            if _parse_int64(value) is None:
                errors.append(
                    invalid(
                        item_path(i),
                        value,
                        "for 'Gt', 'Lt' operators, the value must be an integer",
                    )
                )
    for i, value in enumerate(values):
        problems = is_valid_label_value(value)
        if problems:
            errors.append(invalid(item_path(i), value, "; ".join(problems)))
    return errors


def _compile(req: Requirement) -> LabelCheck:
    """A fast predicate for one requirement (the equality case is handled by the caller)."""
    key, op, values = req.key, req.operator, req.values
    if op is Operator.EXISTS:
        return lambda labels: key in labels
    if op is Operator.DOES_NOT_EXIST:
        return lambda labels: key not in labels
    if op in _NUMERIC_OPERATORS:
        bound = _parse_int64(values[0]) if len(values) == 1 else None
        if bound is None:
            return lambda labels: False
        greater = op is Operator.GREATER_THAN

        def compare(labels: Mapping[str, str]) -> bool:
            text = labels.get(key)
            if text is None:
                return False
            number = _parse_int64(text)
            if number is None:
                return False
            return number > bound if greater else number < bound

        return compare
    negate = op in (Operator.NOT_IN, Operator.NOT_EQUALS)
    if len(values) == 1:
        only = values[0]
        if negate:
            return lambda labels: labels.get(key) != only
        return lambda labels: labels.get(key) == only
    allowed = frozenset(values)
    if negate:
        return lambda labels: labels.get(key) not in allowed
    return lambda labels: labels.get(key) in allowed


def _is_plain_equality(req: Requirement) -> bool:
    return len(req.values) == 1 and req.operator in (
        Operator.EQUALS,
        Operator.DOUBLE_EQUALS,
        Operator.IN,
    )


# --- label selectors ---------------------------------------------------------------------------


class LabelSelectorExpr:
    """A parsed label selector: an AND of :class:`Requirement` s; immutable and hashable.

    Requirements are sorted by key (then by their text), so ``str()`` is canonical and
    parses back to an equal selector. The special :data:`NOTHING` selector matches no
    labels at all; :data:`EVERYTHING` (no requirements) matches all.
    """

    __slots__ = ("_checks", "_nothing", "_pairs", "_requirements", "_text")

    _requirements: tuple[Requirement, ...]
    _nothing: bool
    _pairs: tuple[tuple[str, str], ...]
    _checks: tuple[LabelCheck, ...]
    _text: str

    def __init__(self, requirements: Iterable[Requirement] = ()) -> None:
        reqs = sorted(requirements, key=lambda r: (r.key, str(r)))
        self._requirements = tuple(reqs)
        self._nothing = False
        self._pairs = tuple((r.key, r.values[0]) for r in reqs if _is_plain_equality(r))
        self._checks = tuple(_compile(r) for r in reqs if not _is_plain_equality(r))
        self._text = ",".join(str(r) for r in reqs)

    @classmethod
    def nothing(cls) -> LabelSelectorExpr:
        """The selector that matches no labels (Kubernetes' ``labels.Nothing()``)."""
        return NOTHING

    @classmethod
    def parse(cls, text: str) -> LabelSelectorExpr:
        """Parse the string syntax; see :func:`parse_label_selector`."""
        return parse_label_selector(text)

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        """The requirements, sorted by key (empty for both NOTHING and EVERYTHING)."""
        return self._requirements

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether an object with these labels is selected."""
        get = labels.get
        for key, value in self._pairs:
            if get(key) != value:
                return False
        for check in self._checks:
            if not check(labels):
                return False
        return not self._nothing

    def is_empty(self) -> bool:
        """True if the selector does not restrict anything (matches every object)."""
        return not self._nothing and not self._requirements

    def matches_nothing(self) -> bool:
        """True only for :data:`NOTHING`."""
        return self._nothing

    def exact_value(self, key: str) -> str | None:
        """The value ``key`` must have, if the selector pins it (``RequiresExactMatch``).

        Looks at the first requirement on ``key`` only: ``key=v``, ``key==v`` and
        ``key in (v)`` pin it; anything else does not.
        """
        for req in self._requirements:
            if req.key == key:
                return req.values[0] if _is_plain_equality(req) else None
        return None

    def add(self, *requirements: Requirement) -> LabelSelectorExpr:
        """A new selector with more requirements (NOTHING stays NOTHING)."""
        if self._nothing:
            return self
        return LabelSelectorExpr((*self._requirements, *requirements))

    def to_label_selector(self) -> LabelSelector | None:
        """The API struct; see :func:`to_label_selector`."""
        return to_label_selector(self)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        if self._nothing:
            return "LabelSelectorExpr.nothing()"
        return f"parse_label_selector({self._text!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabelSelectorExpr):
            return NotImplemented
        return self._nothing == other._nothing and self._requirements == other._requirements

    def __hash__(self) -> int:
        return hash((self._nothing, self._requirements))


def _make_nothing() -> LabelSelectorExpr:
    selector = LabelSelectorExpr()
    selector._nothing = True
    return selector


EVERYTHING = LabelSelectorExpr()
"""The selector with no requirements: it matches every object."""

NOTHING = _make_nothing()
"""The selector a missing (null) ``LabelSelector`` means: it matches no object."""


# --- the string syntax ---------------------------------------------------------------------------

_END, _ID, _IN, _NOTIN, _NOT, _EQ, _DEQ, _NEQ, _GT, _LT, _OPEN, _CLOSE, _COMMA = range(13)
_WHITESPACE = frozenset(" \t\r\n")
_SPECIAL = frozenset("=!(),<>")
_TWO_CHAR_TOKENS = {"!=": _NEQ, "==": _DEQ}
_ONE_CHAR_TOKENS = {
    "=": _EQ,
    "!": _NOT,
    "(": _OPEN,
    ")": _CLOSE,
    ",": _COMMA,
    ">": _GT,
    "<": _LT,
}
_KEYWORDS = {"in": _IN, "notin": _NOTIN}
_OPERATOR_TOKENS = {
    _IN: Operator.IN,
    _NOTIN: Operator.NOT_IN,
    _EQ: Operator.EQUALS,
    _DEQ: Operator.DOUBLE_EQUALS,
    _NEQ: Operator.NOT_EQUALS,
    _GT: Operator.GREATER_THAN,
    _LT: Operator.LESS_THAN,
}


def _lex(text: str) -> list[tuple[int, str]]:
    tokens: list[tuple[int, str]] = []
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos] in _WHITESPACE:
            pos += 1
        if pos >= end:
            tokens.append((_END, ""))
            return tokens
        char = text[pos]
        if char in _SPECIAL:
            pair = text[pos : pos + 2]
            if pair in _TWO_CHAR_TOKENS:
                tokens.append((_TWO_CHAR_TOKENS[pair], pair))
                pos += 2
            else:
                tokens.append((_ONE_CHAR_TOKENS[char], char))
                pos += 1
            continue
        start = pos
        while pos < end and text[pos] not in _SPECIAL and text[pos] not in _WHITESPACE:
            pos += 1
        word = text[start:pos]
        tokens.append((_KEYWORDS.get(word, _ID), word))


class _Parser:
    """Kubernetes' recursive-descent label selector parser, with its error wording."""

    def __init__(self, text: str) -> None:
        self.tokens = _lex(text)
        self.pos = 0

    def _peek(self, as_value: bool = True) -> tuple[int, str]:
        kind, literal = self.tokens[self.pos]
        # Where a value may stand, "in" and "notin" are just words.
        if as_value and kind in (_IN, _NOTIN):
            kind = _ID
        return kind, literal

    def _next(self, as_value: bool = True) -> tuple[int, str]:
        token = self._peek(as_value)
        self.pos += 1
        return token

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            kind, literal = self._peek()
            if kind == _END:
                return requirements
            if kind not in (_ID, _NOT):
                raise SelectorError(
                    f"found '{literal}', expected: !, identifier, or 'end of string'"
                )
            requirements.append(self._requirement())
            kind, literal = self._next()
            if kind == _END:
                return requirements
            if kind != _COMMA:
                raise SelectorError(f"found '{literal}', expected: ',' or 'end of string'")
            kind, literal = self._peek()
            if kind not in (_ID, _NOT):
                raise SelectorError(f"found '{literal}', expected: identifier after ','")

    def _requirement(self) -> Requirement:
        try:
            key, operator, values = self._requirement_parts()
        except SelectorError as err:
            raise SelectorError(f"unable to parse requirement: {err}", err.field_errors) from None
        errors = _requirement_errors(
            key, operator, values, key_path="key", values_path="values", operator_path="operator"
        )
        if errors:
            raise SelectorError(f"unable to parse requirement: {aggregate_message(errors)}", errors)
        return Requirement._normalised(key, operator, values)

    def _requirement_parts(self) -> tuple[str, Operator, tuple[str, ...]]:
        kind, literal = self._next()
        negated = kind == _NOT
        if negated:
            kind, literal = self._next()
        if kind != _ID:
            raise SelectorError(f"found '{literal}', expected: identifier")
        key = literal
        problems = is_qualified_name(key)
        if problems:
            error = invalid("key", key, "; ".join(problems))
            raise SelectorError(error.message(), [error])
        if negated:
            return key, Operator.DOES_NOT_EXIST, ()
        if self._peek()[0] in (_END, _COMMA):
            return key, Operator.EXISTS, ()

        kind, literal = self._next(as_value=False)
        operator = _OPERATOR_TOKENS.get(kind)
        if operator is None:
            raise SelectorError(f"found '{literal}', expected: {_BINARY_OPERATOR_NAMES}")
        if operator in _SET_OPERATORS:
            return key, operator, self._value_set()
        return key, operator, self._exact_value()

    def _value_set(self) -> tuple[str, ...]:
        kind, literal = self._next()
        if kind != _OPEN:
            raise SelectorError(f"found '{literal}' expected: '('")
        kind, literal = self._peek()
        if kind == _CLOSE:
            self._next()
            return ("",)
        if kind not in (_ID, _COMMA):
            raise SelectorError(f"found '{literal}', expected: ',', ')' or identifier")
        # Comma-separated words; an empty slot (leading, trailing or doubled comma)
        # stands for the empty value.
        values: set[str] = set()
        while True:
            kind, literal = self._next()
            if kind == _ID:
                values.add(literal)
                following, shown = self._peek()
                if following == _CLOSE:
                    break
                if following != _COMMA:
                    raise SelectorError(f"found '{shown}', expected: ',' or ')'")
            elif kind == _COMMA:
                if not values:
                    values.add("")
                following = self._peek()[0]
                if following == _CLOSE:
                    values.add("")
                    break
                if following == _COMMA:
                    values.add("")
            else:
                raise SelectorError(f"found '{literal}', expected: ',', or identifier")
        self._next()  # the closing parenthesis
        return tuple(sorted(values))

    def _exact_value(self) -> tuple[str, ...]:
        kind, literal = self._peek()
        if kind in (_END, _COMMA):
            return ("",)
        self._next()
        if kind != _ID:
            raise SelectorError(f"found '{literal}', expected: identifier")
        return (literal,)


def parse_label_selector(text: str) -> LabelSelectorExpr:
    """Parse a label selector string (``labels.Parse``); the empty string selects all.

    Raises :class:`SelectorError` naming the offending token, key or value.
    """
    return LabelSelectorExpr(_Parser(text).parse())


def selector_from_set(
    labels: Mapping[str, str] | None, *, validate: bool = False
) -> LabelSelectorExpr:
    """A selector requiring exactly these labels (``SelectorFromSet``); empty selects all.

    Like Kubernetes, keys and values are trusted unless ``validate`` is set.
    """
    if not labels:
        return EVERYTHING
    if validate:
        return LabelSelectorExpr(
            Requirement.new(key, Operator.EQUALS, (value,)) for key, value in labels.items()
        )
    return LabelSelectorExpr(
        Requirement(key, Operator.EQUALS, (value,)) for key, value in labels.items()
    )


# --- the API struct ----------------------------------------------------------------------------

_STRUCT_OPERATORS = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
}


def _as_struct(selector: LabelSelector | Mapping[str, Any]) -> LabelSelector:
    if isinstance(selector, LabelSelector):
        return selector
    try:
        return LabelSelector.model_validate(dict(selector))
    except ValidationError as err:
        raise SelectorError(f"invalid label selector: {err}") from None


def _constant_path(path: str) -> Callable[[int], str]:
    return lambda _: path


def from_label_selector(
    selector: LabelSelector | Mapping[str, Any] | None,
) -> LabelSelectorExpr:
    """The selector a ``metav1.LabelSelector`` means (``LabelSelectorAsSelector``).

    None means :data:`NOTHING`; a selector with neither ``matchLabels`` nor
    ``matchExpressions`` means :data:`EVERYTHING`. Every invalid key, value or operator
    is reported in one :class:`SelectorError`.
    """
    if selector is None:
        return NOTHING
    struct = _as_struct(selector)
    if not struct.match_labels and not struct.match_expressions:
        return EVERYTHING
    requirements: list[Requirement] = []
    errors: list[FieldError] = []
    for key in sorted(struct.match_labels):
        value = struct.match_labels[key]
        value_path = f"matchLabels[{key}]"
        found = _requirement_errors(
            key,
            Operator.EQUALS,
            (value,),
            key_path="matchLabels",
            values_path=value_path,
            operator_path="matchLabels",
            value_path=_constant_path(value_path),
        )
        errors.extend(found)
        if not found:
            requirements.append(Requirement(key, Operator.EQUALS, (value,)))
    for i, expr in enumerate(struct.match_expressions):
        operator = _STRUCT_OPERATORS.get(expr.operator)
        if operator is None:
            message = f"{go_quote(expr.operator)} is not a valid label selector operator"
            errors.append(invalid(f"matchExpressions[{i}].operator", expr.operator, message))
            continue
        values = tuple(expr.values)
        found = _requirement_errors(
            expr.key,
            operator,
            values,
            key_path=f"matchExpressions[{i}].key",
            values_path=f"matchExpressions[{i}].values",
            operator_path=f"matchExpressions[{i}].operator",
        )
        errors.extend(found)
        if not found:
            requirements.append(Requirement._normalised(expr.key, operator, values))
    if errors:
        raise SelectorError(aggregate_message(errors), errors)
    return LabelSelectorExpr(requirements)


def to_label_selector(selector: LabelSelectorExpr) -> LabelSelector | None:
    """The ``metav1.LabelSelector`` meaning the same as ``selector``.

    NOTHING becomes None. Equality goes to ``matchLabels`` (a second equality on the same
    key becomes an ``In`` expression so the meaning is kept), ``!=`` becomes ``NotIn``
    with one value. ``>`` and ``<`` have no struct form and raise :class:`SelectorError`.
    """
    if selector.matches_nothing():
        return None
    match_labels: dict[str, str] = {}
    expressions: list[LabelSelectorRequirement] = []
    for req in selector.requirements:
        op = req.operator
        if op in (Operator.EQUALS, Operator.DOUBLE_EQUALS) and req.key not in match_labels:
            match_labels[req.key] = req.values[0]
            continue
        if op in (Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.IN):
            struct_op = "In"
        elif op in (Operator.NOT_EQUALS, Operator.NOT_IN):
            struct_op = "NotIn"
        elif op is Operator.EXISTS:
            struct_op = "Exists"
        elif op is Operator.DOES_NOT_EXIST:
            struct_op = "DoesNotExist"
        else:
            raise SelectorError(f"{go_quote(op.value)} isn't supported in label selectors")
        expressions.append(
            LabelSelectorRequirement(key=req.key, operator=struct_op, values=list(req.values))
        )
    return LabelSelector(match_labels=match_labels, match_expressions=expressions)


def to_string(selector: LabelSelector | Mapping[str, Any] | None) -> str:
    """The query-string form of a ``LabelSelector`` (empty for both NOTHING and EVERYTHING)."""
    return str(from_label_selector(selector))


def format_label_selector(selector: LabelSelector | Mapping[str, Any] | None) -> str:
    """A selector for display, as ``kubectl`` shows it: ``<none>`` when empty or missing,
    ``<error>`` when invalid (``metav1.FormatLabelSelector``)."""
    try:
        text = to_string(selector)
    except SelectorError:
        return "<error>"
    return text or "<none>"


# --- field selectors ---------------------------------------------------------------------------


class FieldRequirement(NamedTuple):
    """One field condition: ``(field, operator, value)`` with ``=`` or ``!=``."""

    field: str
    operator: Operator
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        """Whether ``fields`` satisfy this condition (a missing field reads as "")."""
        equal = fields.get(self.field, "") == self.value
        return equal if self.operator is Operator.EQUALS else not equal

    def __str__(self) -> str:
        symbol = "=" if self.operator is Operator.EQUALS else "!="
        return f"{self.field}{symbol}{escape_field_value(self.value)}"


def escape_field_value(value: str) -> str:
    """Escape ``\\``, ``,`` and ``=`` in a field selector value (``fields.EscapeValue``)."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def unescape_field_value(text: str) -> str:
    """Undo :func:`escape_field_value`; raises :class:`SelectorError` on bad escapes or an
    unescaped ``,`` or ``=`` (``fields.UnescapeValue``)."""
    if "\\" not in text and "," not in text and "=" not in text:
        return text
    out: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            if char not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{char}")
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            raise SelectorError(f"invalid field selector: unescaped character in value: '{char}'")
        else:
            out.append(char)
    if escaped:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


class FieldSelectorExpr:
    """A parsed field selector: an AND of :class:`FieldRequirement` s; immutable, hashable.

    Requirements are kept sorted by their text, so ``str()`` is canonical.
    """

    __slots__ = ("_equal", "_not_equal", "_requirements", "_text")

    _requirements: tuple[FieldRequirement, ...]
    _equal: tuple[tuple[str, str], ...]
    _not_equal: tuple[tuple[str, str], ...]
    _text: str

    def __init__(self, requirements: Iterable[FieldRequirement] = ()) -> None:
        normalised = [
            FieldRequirement(
                r.field,
                Operator.NOT_EQUALS if r.operator is Operator.NOT_EQUALS else Operator.EQUALS,
                r.value,
            )
            for r in requirements
        ]
        texts = sorted((str(r), r) for r in normalised)
        self._requirements = tuple(r for _, r in texts)
        self._equal = tuple(
            (r.field, r.value) for r in self._requirements if r.operator is Operator.EQUALS
        )
        self._not_equal = tuple(
            (r.field, r.value) for r in self._requirements if r.operator is Operator.NOT_EQUALS
        )
        self._text = ",".join(text for text, _ in texts)

    @classmethod
    def parse(cls, text: str) -> FieldSelectorExpr:
        """Parse the string syntax; see :func:`parse_field_selector`."""
        return parse_field_selector(text)

    @property
    def requirements(self) -> tuple[FieldRequirement, ...]:
        """The ``(field, operator, value)`` conditions, ``==`` folded into ``=``."""
        return self._requirements

    def matches(self, fields: Mapping[str, str]) -> bool:
        """Whether an object with these field values is selected (missing reads as "")."""
        get = fields.get
        for name, value in self._equal:
            if get(name, "") != value:
                return False
        # Plain loops: a generator under all() costs more than the test itself here.
        for name, value in self._not_equal:  # noqa: SIM110
            if get(name, "") == value:
                return False
        return True

    def is_empty(self) -> bool:
        """True if the selector does not restrict anything."""
        return not self._requirements

    def fields(self) -> frozenset[str]:
        """The names of the fields this selector looks at."""
        return frozenset(r.field for r in self._requirements)

    def check_supported(self, allowed: Collection[str]) -> Self:
        """Raise :class:`SelectorError` (``field label not supported: <name>``) if a field
        is not in ``allowed``; return ``self`` otherwise."""
        for req in self._requirements:
            if req.field not in allowed:
                raise SelectorError(f"field label not supported: {req.field}")
        return self

    def exact_value(self, field: str) -> str | None:
        """The value ``field`` must equal, if the selector says ``field=value``.

        Lets a server answer from an index (``RequiresExactMatch``).
        """
        for name, value in self._equal:
            if name == field:
                return value
        return None

    def transform(self, fn: Callable[[str, str], tuple[str, str]]) -> FieldSelectorExpr:
        """Rewrite each ``(field, value)``; a pair rewritten to ``("", "")`` is dropped.

        Servers use this to map field label aliases onto their own names. Exceptions
        raised by ``fn`` propagate.
        """
        rewritten: list[FieldRequirement] = []
        for req in self._requirements:
            field, value = fn(req.field, req.value)
            if field or value:
                rewritten.append(FieldRequirement(field, req.operator, value))
        return FieldSelectorExpr(rewritten)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"parse_field_selector({self._text!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSelectorExpr):
            return NotImplemented
        return self._requirements == other._requirements

    def __hash__(self) -> int:
        return hash(self._requirements)


def _split_terms(text: str) -> list[str]:
    # Commas split terms unless escaped; the escapes stay in the term.
    terms: list[str] = []
    start = 0
    escaped = False
    for i, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, Operator, str] | None:
    # The field name has no escaping: the first operator found splits the term, and
    # "!=" and "==" are preferred to "=" at the same position.
    for i, char in enumerate(term):
        if char == "!" and term.startswith("!=", i):
            return term[:i], Operator.NOT_EQUALS, term[i + 2 :]
        if char == "=":
            if term.startswith("==", i):
                return term[:i], Operator.EQUALS, term[i + 2 :]
            return term[:i], Operator.EQUALS, term[i + 1 :]
    return None


def parse_field_selector(text: str) -> FieldSelectorExpr:
    """Parse a field selector string (``fields.ParseSelector``); empty selects all.

    No blanks are trimmed (as in Kubernetes, ``a = b`` names the field ``"a "``). A term
    whose field and value are both empty (``=``) is ignored.
    """
    if not text:
        return EVERYTHING_FIELDS
    requirements: list[FieldRequirement] = []
    for part in sorted(_split_terms(text)):
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        field, operator, raw_value = split
        value = unescape_field_value(raw_value)
        if field or value:
            requirements.append(FieldRequirement(field, operator, value))
    return FieldSelectorExpr(requirements)


def field_selector_from_set(fields: Mapping[str, str] | None) -> FieldSelectorExpr:
    """A selector requiring each ``field=value`` (``fields.SelectorFromSet``)."""
    if not fields:
        return EVERYTHING_FIELDS
    return FieldSelectorExpr(
        FieldRequirement(name, Operator.EQUALS, value) for name, value in fields.items()
    )


EVERYTHING_FIELDS = FieldSelectorExpr()
"""The field selector with no requirements."""
