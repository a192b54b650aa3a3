"""The generic page, for every kind without its own: kubectl's unstructured describer.

Every field is printed, nested by level, with labels made from the field names
(``creationTimestamp`` -> ``Creation Timestamp``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from cli.navctl.describe.helpers import (
    EventSearch,
    PrefixWriter,
    annotations_multiline,
    describe_events,
    labels_multiline,
)
from cli.navctl.printing import go_value_text

if TYPE_CHECKING:
    from cli.navctl.session import Session

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^A-Za-z\d]+")
_ACRONYMS = {"API", "URL", "UID", "GUID"}


def smart_label(field: str) -> str:
    """``creationTimestamp`` -> ``Creation Timestamp``, ``apiVersion`` -> ``API Version``."""
    if any(not (ch.isalpha() or ch == "-") for ch in field):
        return field
    words: list[str] = []
    for part in _CAMEL.findall(field):
        if part.upper() in _ACRONYMS:
            words.append(part.upper())
        elif part.lower() == part:
            words.append(part[:1].upper() + part[1:])
        else:
            words.append(part)
    return " ".join(words)


def _unstructured(
    w: PrefixWriter, level: int, content: dict[str, Any], prefix: str, skip: set[str]
) -> None:
    for field in sorted(content):
        value = content[field]
        path = f"{prefix}.{field}"
        if path in skip:
            continue
        if isinstance(value, dict):
            w.write(level, f"{smart_label(field)}:\n")
            _unstructured(w, level + 1, value, path, skip)
        elif isinstance(value, list):
            w.write(level, f"{smart_label(field)}:\n")
            for child in value:
                if isinstance(child, dict):
                    _unstructured(w, level + 1, child, path, skip)
                else:
                    w.write(level + 1, f"{go_value_text(child)}\n")
        else:
            w.write(level, f"{smart_label(field)}:\t{go_value_text(value)}\n")


def describe_generic(obj: dict[str, Any], events: list[dict[str, Any]] | None) -> str:
    meta = obj.get("metadata") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    skip = {
        ".metadata.managedFields",
        ".metadata.name",
        ".metadata.namespace",
        ".metadata.labels",
        ".metadata.annotations",
    }
    _unstructured(w, 0, obj, "", skip)
    describe_events(w, events)
    return w.render()


async def page(session: Session, obj: dict[str, Any], events: EventSearch) -> str:
    return describe_generic(obj, await events())
