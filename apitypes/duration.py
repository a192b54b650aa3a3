"""Durations as Kubernetes reads and prints them.

- :func:`go_duration_error` and :func:`parse_go_duration` are Go's
  ``time.ParseDuration``: ``300ms``, ``-1.5h``, ``2h45m``; units ``ns``, ``us`` (or
  ``µs``/``μs``), ``ms``, ``s``, ``m``, ``h``; a sign; ``0`` alone needs no unit; more
  than about 292 years overflows. Errors are worded as Go words them
  (``time: missing unit in duration "5"``), for messages that quote Kubernetes.
- :func:`parse_duration` is what the daemons' and navctl's flags accept: a Go duration,
  or a plain decimal number of seconds (``30``, ``2.5``).
- :func:`human_duration` and :func:`age` are apimachinery's ``duration.HumanDuration``
  and the printers' ``translateTimestampSince``: ``45s``, ``5m30s``, ``3h``, ``2d5h``,
  ``2y10d``; ``<invalid>`` for a time more than a second in the future.
"""

from __future__ import annotations

import re
from datetime import datetime

from apitypes.base import now as utc_now

_NANOSECONDS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5 MICRO SIGN
    "μs": 1_000,  # U+03BC GREEK SMALL LETTER MU
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_MAX_NANOSECONDS = 2**63  # a Duration is an int64; only the negative side reaches 2**63
_NUMBER = re.compile(r"([0-9]*)(?:\.([0-9]*))?")
_UNIT = re.compile(r"[^0-9.]*")
_SECONDS = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


class DurationError(ValueError):
    """Text that is not a duration; the message is Go's (or says what is accepted)."""


def _time_quote(text: str) -> str:
    """``text`` double-quoted as Go's ``time`` package quotes it in errors: ``"`` and
    ``\\`` escaped, control and non-ASCII characters as their UTF-8 bytes in ``\\x``."""
    out = ['"']
    for char in text:
        if char < " " or not char.isascii():
            out.extend(f"\\x{byte:02x}" for byte in char.encode("utf-8", "surrogatepass"))
        elif char in '"\\':
            out.append("\\" + char)
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _nanoseconds(text: str) -> int | str:
    """Nanoseconds in ``text`` by ``time.ParseDuration``, or Go's error message."""
    quoted = _time_quote(text)
    negative = text[:1] == "-"
    rest = text[1:] if text[:1] in ("+", "-") else text
    if rest == "0":
        return 0
    if not rest:
        return f"time: invalid duration {quoted}"
    total = 0
    while rest:
        number = _NUMBER.match(rest)
        assert number is not None  # both groups may match nothing
        whole, fraction = number.group(1), number.group(2)
        if not whole and not fraction:
            return f"time: invalid duration {quoted}"
        rest = rest[number.end() :]
        unit_match = _UNIT.match(rest)
        assert unit_match is not None
        unit = unit_match.group(0)
        if not unit:
            return f"time: missing unit in duration {quoted}"
        scale = _NANOSECONDS.get(unit)
        if scale is None:
            return f"time: unknown unit {_time_quote(unit)} in duration {quoted}"
        rest = rest[unit_match.end() :]
        value = int(whole or "0") * scale
        if fraction:
            # Go keeps the fraction to nanosecond precision and truncates the rest.
            value += int(fraction) * scale // 10 ** len(fraction)
        total += value
        if total > _MAX_NANOSECONDS:
            return f"time: invalid duration {quoted}"
    if total == _MAX_NANOSECONDS and not negative:
        return f"time: invalid duration {quoted}"
    return -total if negative else total


def go_duration_error(text: str) -> str | None:
    """Why ``time.ParseDuration`` refuses ``text``, in Go's words; None when it accepts it."""
    result = _nanoseconds(text)
    return result if isinstance(result, str) else None


def parse_go_duration(text: str) -> float:
    """Seconds in ``text`` by ``time.ParseDuration``; raises :class:`DurationError`."""
    result = _nanoseconds(text)
    if isinstance(result, str):
        raise DurationError(result)
    return result / 1e9


def parse_duration(text: str) -> float:
    """Seconds in a flag's value: a Go duration (``40s``, ``1m30s``, ``250ms``) or a plain
    decimal number of seconds (``30``, ``2.5``); surrounding blanks are ignored.

    Raises :class:`DurationError` naming the value and what is accepted.
    """
    value = text.strip()
    if _SECONDS.fullmatch(value):
        return float(value)
    if go_duration_error(value) is not None:
        raise DurationError(f"invalid duration {text!r} (use e.g. 40s, 5m, 1h30m, 250ms)")
    return parse_go_duration(value)


def human_duration(seconds: float) -> str:
    """apimachinery's ``duration.HumanDuration`` of a span of ``seconds``: about two
    significant figures (``45s``, ``5m30s``, ``3h``, ``2d5h``, ``100d``, ``2y10d``); a
    span up to a second below zero is ``0s`` (clock skew), further below ``<invalid>``."""
    secs = int(seconds)  # truncates toward zero, as Go's int(d.Seconds())
    if secs < -1:
        return "<invalid>"
    if secs < 0:
        return "0s"
    if secs < 120:
        return f"{secs}s"
    minutes = secs // 60
    if minutes < 10:
        rest = secs % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = secs // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if rest == 0 else f"{years}y{rest}d"
    return f"{hours // 24 // 365}y"


def age(then: datetime | None, at: datetime | None = None) -> str:
    """The time from ``then`` to ``at`` (default: now) as Kubernetes' tables print an
    age (``translateTimestampSince``); ``<unknown>`` when ``then`` is unset."""
    if then is None:
        return "<unknown>"
    return human_duration(((at or utc_now()) - then).total_seconds())


__all__ = [
    "DurationError",
    "age",
    "go_duration_error",
    "human_duration",
    "parse_duration",
    "parse_go_duration",
]
