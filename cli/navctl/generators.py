"""What the commands that build objects from flags share (``create namespace|configmap|
secret|deployment``, ``run``, ``expose``): ``KEY=VALUE`` flags read as kubectl reads them.
"""

from __future__ import annotations

from cli.navctl.errors import fail


def split_key_values(items: list[str], what: str) -> dict[str, str]:
    """``KEY=VALUE`` arguments (``--env``, ``--labels``, ``--from-literal``) as a dict."""
    result: dict[str, str] = {}
    for item in items:
        for part in [item] if what != "labels" else item.split(","):
            key, sep, value = part.partition("=")
            if not sep or not key:
                fail(f"invalid {what} {part!r}: expected KEY=VALUE")
            result[key] = value
    return result
