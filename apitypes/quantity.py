"""Kubernetes ``resource.Quantity``: exact fixed-point amounts such as ``500m`` or ``1.5Gi``.

A quantity is a number with one of three suffix styles, which it remembers:

* binary SI (``Ki Mi Gi Ti Pi Ei``: powers of 1024),
* decimal SI (``n u m "" k M G T P E``: powers of 1000),
* a decimal exponent (``e3``, ``E-6``).

Values are exact. As in Kubernetes, a parsed value is rounded *up in magnitude* to a whole
number of nano units (``0.1n`` -> ``1n``), and a binary-SI value is capped at
``2**63 - 1``. Internally a quantity is an integer count of nano units (10**-9), so sums
and differences are exact and cheap.

Text form
---------
``str(q)`` is exactly what Kubernetes serialises (``Quantity.String()``): the canonical
form, with the largest suffix of the remembered style that needs no fraction
(``1000m`` -> ``1``, ``1024Ki`` -> ``1Mi``, ``0.5`` -> ``500m``, ``1.5Gi`` -> ``1536Mi``).
Binary SI is only used for whole numbers of at least 1024 in magnitude; anything else
is written in decimal SI. Like Kubernetes, a parsed quantity whose text its parser
considers already canonical keeps that text verbatim, which includes a few spellings
canonicalisation would not produce (``+1``, ``1E3``, ``1.500``): Kubernetes' own
apiserver echoes them back unchanged. :meth:`Quantity.canonical` always recomputes.

Two deliberate differences from Kubernetes, both in cases where it emits a wrong value:
decimal-SI values beyond the ``E`` suffix and binary values beyond ``Ei`` are written as
a multiple of ``E``/``Ei`` (Kubernetes drops the suffix), and exponents outside the
32-bit range are rejected (Kubernetes wraps them around).
"""

from __future__ import annotations

import math
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Final, Self

__all__ = [
    "ERR_FORMAT_WRONG",
    "ERR_NUMERIC",
    "ERR_SUFFIX",
    "Format",
    "Quantity",
    "QuantityError",
    "cpu_millis",
    "memory_bytes",
    "parse_quantity",
]


class Format(StrEnum):
    """The suffix style a quantity remembers and is written back in."""

    DECIMAL_EXPONENT = "DecimalExponent"
    BINARY_SI = "BinarySI"
    DECIMAL_SI = "DecimalSI"


class QuantityError(ValueError):
    """A string that is not a quantity (message as Kubernetes words it)."""


ERR_FORMAT_WRONG: Final = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)
ERR_NUMERIC: Final = "unable to parse numeric part of quantity"
ERR_SUFFIX: Final = "unable to parse quantity's suffix"

_NANO: Final = 10**9
_MAX_INT64: Final = 2**63 - 1
_MIN_INT32: Final = -(2**31)
_MAX_INT32: Final = 2**31 - 1
# Beyond these sizes the exact integer would be enormous; nothing real is that large,
# and refusing keeps a hostile "1e2000000000" from exhausting memory (and keeps every
# value printable under Python's limit on int-to-text conversion).
_MAX_DECIMAL_EXPONENT: Final = 4000
_MAX_DIGITS: Final = 1000

_DIGITS: Final = frozenset("0123456789")
_SUFFIX_CHARS: Final = frozenset("eEinumkKMGTP")

_DECIMAL_SUFFIXES: Final = {
    "": 0,
    "n": -9,
    "u": -6,
    "m": -3,
    "k": 3,
    "M": 6,
    "G": 9,
    "T": 12,
    "P": 15,
    "E": 18,
}
_BINARY_SUFFIXES: Final = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_BY_EXPONENT: Final = {exp: suffix for suffix, exp in _DECIMAL_SUFFIXES.items()}
_BINARY_BY_POWER: Final = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")


def _parse_int64(text: str) -> int | None:
    """Go's ``strconv.ParseInt(text, 10, 64)``, or None where it fails."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if not body or not body.isascii() or not body.isdigit():
        return None
    value = int(text)
    if not -_MAX_INT64 - 1 <= value <= _MAX_INT64:
        return None
    return value


def _div_away_from_zero(numerator: int, denominator: int) -> int:
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def _scan(text: str) -> tuple[bool, str, str, str]:
    """Split ``text`` into (positive, integer digits, fraction digits, suffix).

    Mirrors Kubernetes' scanner: leading zeros are dropped from the integer part
    (which becomes ``"0"`` if nothing is left), ``1.`` and ``.5`` are numbers, and the
    suffix is any run of suffix letters, then an optional sign, then digits.
    """
    end = len(text)
    pos = 0
    positive = True
    if end and text[0] in "+-":
        positive = text[0] == "+"
        pos = 1
    while pos < end and text[pos] == "0":
        pos += 1
    if pos >= end:
        return positive, "0", "", ""
    start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    num = text[start:pos] or "0"
    denom = ""
    if pos < end and text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        denom = text[start:pos]
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos < end:
        raise QuantityError(ERR_FORMAT_WRONG)
    return positive, num, denom, text[suffix_start:]


def _interpret(suffix: str) -> tuple[int, int, Format]:
    """(base, exponent, format) of a suffix."""
    exponent = _DECIMAL_SUFFIXES.get(suffix)
    if exponent is not None:
        return 10, exponent, Format.DECIMAL_SI
    exponent = _BINARY_SUFFIXES.get(suffix)
    if exponent is not None:
        return 2, exponent, Format.BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        parsed = _parse_int64(suffix[1:])
        if parsed is not None and _MIN_INT32 <= parsed <= _MAX_INT32:
            return 10, parsed, Format.DECIMAL_EXPONENT
    raise QuantityError(ERR_SUFFIX)


def _decimal_nanos(digits: int, exponent: int) -> int:
    """``digits * 10**exponent`` in nano units, rounded up (``digits >= 0``)."""
    if not digits:
        return 0
    shift = exponent + 9
    if shift >= 0:
        if exponent + len(str(digits)) > _MAX_DECIMAL_EXPONENT:
            raise QuantityError(f"quantity too large: exponent {exponent} is out of range")
        return digits * 10**shift
    if -shift > len(str(digits)):
        # Smaller than one nano unit but not zero: rounds up to exactly one.
        return 1
    return _div_away_from_zero(digits, 10**-shift)


class Quantity:
    """An exact amount with a remembered suffix style; immutable and hashable.

    Equality, ordering and hashing use the value only (``1Gi == 1073741824``), as
    Kubernetes' ``Cmp`` does; the format only affects the text.
    """

    __slots__ = ("_format", "_nanos", "_text")

    _nanos: int
    _format: Format
    _text: str | None

    def __init__(self, text: str) -> None:
        parsed = Quantity.parse(text)
        self._nanos, self._format, self._text = parsed._nanos, parsed._format, parsed._text

    @classmethod
    def _make(cls, nanos: int, fmt: Format, text: str | None = None) -> Self:
        quantity = cls.__new__(cls)
        quantity._nanos = nanos
        quantity._format = fmt
        quantity._text = text
        return quantity

    # --- construction ---------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse Kubernetes' quantity syntax (``ParseQuantity``); no surrounding spaces.

        Raises :class:`QuantityError` with Kubernetes' message for malformed text.
        """
        if not text:
            raise QuantityError(ERR_FORMAT_WRONG)
        if text == "0":
            return cls._make(0, Format.DECIMAL_SI, "0")
        positive, num, denom, suffix = _scan(text)
        base, exponent, fmt = _interpret(suffix)
        if len(num) + len(denom) > _MAX_DIGITS:
            raise QuantityError(f"quantity has more than {_MAX_DIGITS} digits")

        # Kubernetes' fast path: small values are kept as an int64 scaled by a power of
        # ten, and it decides there whether the input text is canonical enough to keep.
        if fmt is Format.BINARY_SI:
            scale = 0
            if exponent >= 0 and not denom:
                multiplier = 1 << exponent
                precision = 15 - len(num) - (exponent * 3) // 10 - 1
            else:
                multiplier = 1
                precision = -1
        else:
            scale = exponent
            multiplier = 1
            precision = 18 - len(num) - len(denom)
        if precision >= 0:
            scale -= len(denom)
            if scale >= -9:
                shifted = num + denom
                digits = int(shifted)
                amount = digits * multiplier
                if amount <= _MAX_INT64:
                    if fmt is Format.BINARY_SI:
                        keep = digits & 0x07 != 0
                    else:
                        keep = scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0"
                    nanos = _decimal_nanos(amount, scale)
                    return cls._make(nanos if positive else -nanos, fmt, text if keep else None)

        digits = int(num + denom)
        if base == 10:
            magnitude = _decimal_nanos(digits, exponent - len(denom))
        else:
            magnitude = _div_away_from_zero(digits * _NANO << exponent, 10 ** len(denom))
        if fmt is Format.BINARY_SI:
            magnitude = min(magnitude, _MAX_INT64 * _NANO)
            if 0 < magnitude < _NANO:
                # A fraction of one cannot be written in binary SI anyway.
                fmt = Format.DECIMAL_SI
        return cls._make(magnitude if positive else -magnitude, fmt)

    @classmethod
    def from_int(cls, value: int, fmt: Format = Format.DECIMAL_SI) -> Self:
        """``value`` units (``NewQuantity``)."""
        return cls._make(value * _NANO, fmt)

    @classmethod
    def from_milli(cls, value: int, fmt: Format = Format.DECIMAL_SI) -> Self:
        """``value / 1000`` units (``NewMilliQuantity``)."""
        return cls._make(value * 10**6, fmt)

    @classmethod
    def from_scaled(cls, value: int, scale: int, fmt: Format = Format.DECIMAL_SI) -> Self:
        """``value * 10**scale`` (``NewScaledQuantity``), rounded up in magnitude to nano."""
        if scale >= -9:
            return cls._make(value * 10 ** (scale + 9), fmt)
        return cls._make(_div_away_from_zero(value, 10 ** (-9 - scale)), fmt)

    @classmethod
    def zero(cls, fmt: Format = Format.DECIMAL_SI) -> Self:
        """A zero quantity; adding to it adopts the other operand's format."""
        return cls._make(0, fmt)

    # --- reading --------------------------------------------------------------------

    @property
    def format(self) -> Format:
        """The suffix style this quantity is written in."""
        return self._format

    @property
    def nanos(self) -> int:
        """The exact value in units of 10**-9."""
        return self._nanos

    def is_zero(self) -> bool:
        return self._nanos == 0

    def sign(self) -> int:
        """-1, 0 or 1."""
        return (self._nanos > 0) - (self._nanos < 0)

    def value(self) -> int:
        """The value rounded to an integer away from zero (``Value()``; 1.1 -> 2, -1.1 -> -2).

        Unlike Go the result never overflows: it is a Python int.
        """
        return _div_away_from_zero(self._nanos, _NANO)

    def milli_value(self) -> int:
        """The value in thousandths, rounded away from zero (``MilliValue()``; 0.1m -> 1)."""
        return _div_away_from_zero(self._nanos, 10**6)

    def scaled_value(self, scale: int) -> int:
        """The value in units of ``10**scale``, rounded away from zero (``ScaledValue``)."""
        if scale >= -9:
            return _div_away_from_zero(self._nanos, 10 ** (scale + 9))
        return self._nanos * 10 ** (-9 - scale)

    def as_fraction(self) -> Fraction:
        """The exact value."""
        return Fraction(self._nanos, _NANO)

    def as_decimal(self) -> Decimal:
        """The exact value (constructed from text, so no context rounding applies)."""
        return Decimal(f"{self._nanos}E-9")

    def as_approximate_float(self) -> float:
        """The nearest float; precision may be lost."""
        return self._nanos / _NANO

    # --- text -----------------------------------------------------------------------

    def canonical(self) -> str:
        """The canonical text, recomputed from value and format (``CanonicalizeBytes``)."""
        nanos = self._nanos
        if nanos == 0:
            return "0"
        if (
            self._format is Format.BINARY_SI
            and not -1024 * _NANO < nanos < 1024 * _NANO
            and nanos % _NANO == 0
        ):
            whole = nanos // _NANO
            power = 0
            while whole % 1024 == 0 and power < len(_BINARY_BY_POWER) - 1:
                whole //= 1024
                power += 1
            return f"{whole}{_BINARY_BY_POWER[power]}"

        # Decimal: move every factor of ten into the exponent, then lower the exponent
        # to a multiple of three (the suffixes step by 1000).
        sign = "-" if nanos < 0 else ""
        digits = str(abs(nanos))
        stripped = digits.rstrip("0")
        exponent = -9 + len(digits) - len(stripped)
        spare = exponent % 3
        exponent -= spare
        mantissa = stripped + "0" * spare
        if self._format is Format.DECIMAL_EXPONENT:
            return f"{sign}{mantissa}e{exponent}" if exponent else f"{sign}{mantissa}"
        if exponent > 18:
            mantissa += "0" * (exponent - 18)
            exponent = 18
        return f"{sign}{mantissa}{_DECIMAL_BY_EXPONENT[exponent]}"

    def __str__(self) -> str:
        return self._text if self._text is not None else self.canonical()

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"

    # --- comparison -----------------------------------------------------------------

    def cmp(self, other: Quantity) -> int:
        """-1, 0 or 1 as ``self`` is less than, equal to or greater than ``other``."""
        return (self._nanos > other._nanos) - (self._nanos < other._nanos)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._nanos == other._nanos

    def __hash__(self) -> int:
        return hash(self._nanos)

    def __lt__(self, other: Quantity) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._nanos < other._nanos

    def __le__(self, other: Quantity) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._nanos <= other._nanos

    def __gt__(self, other: Quantity) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._nanos > other._nanos

    def __ge__(self, other: Quantity) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._nanos >= other._nanos

    # --- arithmetic -----------------------------------------------------------------

    def _combined_format(self, other: Quantity) -> Format:
        # Kubernetes: a zero quantity takes the format of what is added to it.
        return other._format if self._nanos == 0 else self._format

    def __add__(self, other: Quantity) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        return Quantity._make(self._nanos + other._nanos, self._combined_format(other))

    def __radd__(self, other: object) -> Quantity:
        # Lets the builtin sum() start from the integer 0.
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self
        return NotImplemented

    def __sub__(self, other: Quantity) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        return Quantity._make(self._nanos - other._nanos, self._combined_format(other))

    def __neg__(self) -> Quantity:
        return Quantity._make(-self._nanos, self._format)

    def __abs__(self) -> Quantity:
        return Quantity._make(abs(self._nanos), self._format)

    def __mul__(self, factor: int) -> Quantity:
        if not isinstance(factor, int) or isinstance(factor, bool):
            return NotImplemented
        return Quantity._make(self._nanos * factor, self._format)

    __rmul__ = __mul__


def parse_quantity(value: str | int | float | Quantity) -> Quantity:
    """A quantity from its text, or from a JSON/YAML number as Kubernetes reads one.

    Numbers are read through their decimal text (``0.5`` -> ``500m``); booleans,
    infinities and NaN are rejected.
    """
    if isinstance(value, Quantity):
        return value
    if isinstance(value, bool):
        raise QuantityError("quantities must be a number or a string, not a boolean")
    if isinstance(value, int):
        return Quantity.parse(str(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise QuantityError(ERR_FORMAT_WRONG)
        text = repr(value)
        return Quantity.parse(text[:-2] if text.endswith(".0") else text)
    if isinstance(value, str):
        return Quantity.parse(value)
    raise QuantityError(f"cannot read a quantity from {type(value).__name__}")


def cpu_millis(value: str | int | float | Quantity) -> int:
    """CPU in millicores, rounded up (``"1"`` -> 1000, ``"250m"`` -> 250, ``"0.1m"`` -> 1)."""
    return parse_quantity(value).milli_value()


def memory_bytes(value: str | int | float | Quantity) -> int:
    """Memory (or any byte amount) in bytes, rounded up (``"1Ki"`` -> 1024)."""
    return parse_quantity(value).value()
