"""The ``kubectl.kubernetes.io/last-applied-configuration`` annotation, as kubectl keeps it.

``apply`` records the manifest in it and reads it back as the "original" of its
three-way patch; ``create --save-config`` records it too. Its value is what kubectl
writes: the manifest as compact JSON with sorted keys, HTML-safe escapes and a final
newline, with ``annotations: {}`` left where the annotation itself was removed.
"""

from __future__ import annotations

import copy
from typing import Any

from cli.navctl.printing import go_json

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def without_last_applied(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``obj`` whose annotations no longer hold the last-applied one.

    As in kubectl, the annotations map is kept (possibly empty) rather than dropped.
    """
    result = copy.deepcopy(obj)
    meta = result.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    annotations.pop(LAST_APPLIED, None)
    meta["annotations"] = annotations
    return result


def last_applied_value(obj: dict[str, Any]) -> str:
    """The annotation value kubectl records for the manifest ``obj``."""
    return go_json(without_last_applied(obj)) + "\n"


def with_last_applied(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` annotated with its own last-applied configuration (kubectl's "modified")."""
    value = last_applied_value(obj)
    result = without_last_applied(obj)
    result["metadata"]["annotations"][LAST_APPLIED] = value
    return result


def original_of(live: dict[str, Any]) -> dict[str, Any] | None:
    """The last-applied configuration recorded on the live object, if any."""
    import json

    text = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
