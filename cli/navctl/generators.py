"""What the commands that build objects from flags share (``create namespace|configmap|
secret generic|deployment``, ``run``, ``expose``): ``KEY=VALUE`` flags read as kubectl
reads them, and ``create_generated``, which sends the object built (or prints it with
``--dry-run=client -o yaml``) and says so as kubectl does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cli.navctl.console import out
from cli.navctl.errors import fail
from cli.navctl.options import dry_run_suffix
from cli.navctl.output import Output, render
from cli.navctl.resources import kind_prefix

if TYPE_CHECKING:
    from cli.navctl.session import Session


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


async def create_generated(
    session: Session,
    obj: dict[str, Any],
    *,
    namespace: str | None = None,
    dry_run: str = "",
    output: str | None = None,
    verb: str = "created",
) -> int:
    """POST ``obj`` (in ``namespace`` when namespaced) and say so as kubectl does."""
    rtype = await session.resolver.resolve_kind(obj["apiVersion"], obj["kind"])
    printer = Output.parse(output)
    if rtype.namespaced:
        obj["metadata"]["namespace"] = session.namespace(namespace)
    if dry_run == "client":
        result = obj
    else:
        result = await session.client.create_raw(
            rtype, obj, obj["metadata"].get("namespace"), dry_run=dry_run == "server"
        )
    if printer.format:
        out(render(printer, [result], single=True))
        return 0
    out(f"{kind_prefix(rtype)}/{obj['metadata']['name']} {verb}{dry_run_suffix(dry_run)}\n")
    return 0
