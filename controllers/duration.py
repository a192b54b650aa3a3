"""Durations as Kubernetes flags spell them: ``40s``, ``5m``, ``1h30m``, ``250ms``, or seconds."""

from __future__ import annotations

import re

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(text: str) -> float:
    """Seconds in a Go duration (``time.ParseDuration``) or a plain number of seconds."""
    value = text.strip()
    try:
        return float(value)
    except ValueError:
        pass
    sign = -1.0 if value.startswith("-") else 1.0
    body = value.lstrip("+-")
    total = 0.0
    pos = 0
    for match in _PART.finditer(body):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(body) or not body:
        raise ValueError(f"invalid duration {text!r} (use e.g. 40s, 5m, 1h30m)")
    return sign * total
