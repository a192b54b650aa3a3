"""Waiting on the apiserver: until an object meets a predicate, or until objects are gone.

``watch_until`` lists one object (by ``metadata.name`` field selector, as kubectl's
waiters do) and then watches it until a predicate holds, the object is gone, or the
deadline passes; a broken or expired watch resumes (or relists on 410). Nothing sleeps
to synchronise: every step waits on the apiserver's events. ``wait``, ``delete``,
``drain``, ``scale`` and ``rollout status`` wait this way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apitypes.registry import ResourceType
    from cli.navctl.session import Session

Predicate = Callable[[dict[str, Any] | None], bool]
"""Called with the object (None once it is gone); True ends the wait."""


async def watch_until(
    session: Session,
    rtype: ResourceType,
    name: str,
    namespace: str | None,
    predicate: Predicate,
    timeout: float | None,
    *,
    on_change: Callable[[dict[str, Any] | None], None] | None = None,
) -> dict[str, Any] | None:
    """Wait until ``predicate(object)`` holds; return the object (None if deleted).

    Raises ``TimeoutError`` when ``timeout`` seconds pass first (None: forever).
    """
    from apiclient import errors

    client = session.client
    selector = f"metadata.name={name}"
    ns = namespace if rtype.namespaced else None

    async def loop() -> dict[str, Any] | None:
        while True:
            listed = await client.list_raw(rtype, ns, field_selector=selector)
            items = listed.get("items") or []
            current: dict[str, Any] | None = items[0] if items else None
            if on_change is not None:
                on_change(current)
            if predicate(current):
                return current
            rv = (listed.get("metadata") or {}).get("resourceVersion")
            try:
                async for event in client.watch_raw(
                    rtype, ns, resource_version=rv, field_selector=selector
                ):
                    kind = event.get("type")
                    if kind == "BOOKMARK":
                        continue
                    obj = event.get("object") or {}
                    current = None if kind == "DELETED" else obj
                    if on_change is not None:
                        on_change(current)
                    if predicate(current):
                        return current
            except (errors.GoneError, errors.ConnectionFailedError):
                continue

    if timeout is None:
        return await loop()
    try:
        async with asyncio.timeout(timeout):
            return await loop()
    except TimeoutError:
        raise TimeoutError(f"{rtype.qualified}/{name}") from None


async def wait_gone(
    session: Session,
    items: list[tuple[ResourceType, str, str | None, str]],
    timeout: float | None,
) -> list[str]:
    """Wait until every (resource, name, namespace, uid) is gone; the labels still there.

    An object recreated under the same name (a new uid) counts as gone, as in kubectl.
    """

    async def one(rtype: ResourceType, name: str, ns: str | None, uid: str) -> str | None:
        def gone(obj: dict[str, Any] | None) -> bool:
            return obj is None or (obj.get("metadata") or {}).get("uid") != uid

        try:
            await watch_until(session, rtype, name, ns, gone, timeout)
        except TimeoutError:
            return f"{rtype.qualified}/{name}"
        return None

    results = await asyncio.gather(*(one(*item) for item in items))
    return [r for r in results if r]
