"""``navctl wait`` and the watch-until helper that ``delete``, ``rollout`` and ``drain`` share.

``watch_until`` lists one object (by ``metadata.name`` field selector, as kubectl's
waiters do) and then watches it until a predicate holds, the object is gone, or the
deadline passes; a broken or expired watch resumes (or relists on 410). Nothing sleeps
to synchronise: every step waits on the apiserver's events.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apitypes.duration import parse_duration
from apitypes.registry import ResourceType
from cli.navctl_common import Session, err, fail, out
from cli.navctl_resources import Target, kind_prefix, parse_targets

WEEK = 7 * 24 * 3600.0


def duration_flag(text: str, flag: str = "--timeout") -> float:
    try:
        return parse_duration(text)
    except ValueError:
        fail(f'invalid argument "{text}" for "{flag}" flag: time: invalid duration "{text}"')


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


# --- conditions ------------------------------------------------------------------------


def condition_status(obj: dict[str, Any], ctype: str) -> str | None:
    """The ``status`` of the condition named ``ctype`` (case-insensitive), if present."""
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if str(cond.get("type", "")).lower() == ctype.lower():
            generation = (obj.get("metadata") or {}).get("generation")
            observed = cond.get("observedGeneration")
            if observed is not None and generation is not None and observed < generation:
                # A condition about an older spec says nothing about this one.
                return None
            return str(cond.get("status", ""))
    return None


@dataclass
class Condition:
    """A parsed ``--for`` flag."""

    kind: str  # "delete" | "create" | "condition" | "jsonpath"
    name: str = ""
    value: str | None = None
    path: Any = None

    def met(self, obj: dict[str, Any] | None) -> bool:
        if self.kind == "delete":
            return obj is None
        if obj is None:
            return False
        if self.kind == "create":
            return True
        if self.kind == "condition":
            status = condition_status(obj, self.name)
            return status is not None and status.lower() == (self.value or "true").lower()
        found = [v for group in self.path.find(obj) for v in group]
        if self.value is None:
            return bool(found)
        from cli.navctl_jsonpath import value_text

        return len(found) == 1 and value_text(found[0]) == self.value


def parse_condition(flag: str) -> Condition:
    from cli.navctl_jsonpath import parse, relaxed

    lowered = flag.lower()
    if lowered == "delete":
        return Condition("delete")
    if lowered == "create":
        return Condition("create")
    if lowered.startswith("condition="):
        spec = flag[len("condition=") :]
        name, sep, value = spec.partition("=")
        if not name:
            fail(f"invalid condition: {flag!r}")
        return Condition("condition", name, value if sep else None)
    if lowered.startswith("jsonpath="):
        spec = flag[len("jsonpath=") :]
        expression, expected = _split_jsonpath(spec)
        try:
            path = parse(relaxed(expression))
        except ValueError as error:
            fail(f"invalid jsonpath in --for: {error}")
        return Condition("jsonpath", value=expected, path=path)
    fail(
        f"unrecognized condition: {flag!r} (use condition=NAME[=VALUE], delete, create, "
        "or jsonpath='{...}'=VALUE)"
    )


def _split_jsonpath(spec: str) -> tuple[str, str | None]:
    if spec.startswith("{"):
        depth = 0
        for i, char in enumerate(spec):
            depth += char == "{"
            depth -= char == "}"
            if depth == 0:
                rest = spec[i + 1 :]
                if rest.startswith("="):
                    return spec[: i + 1], rest[1:]
                if rest:
                    fail(f"jsonpath wait format must be --for=jsonpath='{{.path}}'=VALUE: {spec}")
                return spec[: i + 1], None
        fail(f"unclosed jsonpath expression: {spec}")
    expression, sep, value = spec.partition("=")
    return expression, value if sep else None


# --- the command -----------------------------------------------------------------------


@dataclass
class WaitOptions:
    condition: str = ""
    timeout: str = "30s"
    namespace: str | None = None
    all_namespaces: bool = False
    selector: str | None = None
    field_selector: str | None = None
    all: bool = False
    filenames: list[str] = field(default_factory=list)


async def _objects(
    session: Session, target: Target, opts: WaitOptions
) -> list[tuple[str, str | None]]:
    rtype = target.resource
    ns = None if opts.all_namespaces or not rtype.namespaced else session.namespace(opts.namespace)
    if target.names:
        return [(name, ns) for name in target.names]
    listed = await session.client.list_raw(
        rtype, ns, all_namespaces=opts.all_namespaces, label_selector=opts.selector,
        field_selector=opts.field_selector,
    )  # fmt: skip
    return [
        ((o.get("metadata") or {}).get("name", ""), (o.get("metadata") or {}).get("namespace"))
        for o in listed.get("items") or []
    ]


async def wait(session: Session, args: list[str], opts: WaitOptions) -> int:
    """Run ``navctl wait``: one "condition met" line per object, or an error."""
    from apiclient import errors

    if not opts.condition:
        fail("--for must be given: condition=NAME, delete, create, or jsonpath=...")
    condition = parse_condition(opts.condition)
    timeout = duration_flag(opts.timeout)
    if timeout < 0:
        timeout = WEEK
    if opts.filenames:
        from cli.navctl_manifests import load

        targets: list[Target] = []
        for m in load(opts.filenames, verb="wait"):
            rtype = await session.resolver.resolve_kind(m.api_version, m.kind)
            targets.append(Target(rtype, [m.name]))
    else:
        targets = await parse_targets(session.resolver, args, verb="wait")
        if not any(t.names for t in targets) and not (
            opts.selector or opts.all or opts.field_selector
        ):
            fail("resource(s) were provided, but no name was specified")
    deadline = time.monotonic() + timeout
    found_any = False
    code = 0
    for target in targets:
        objects = await _objects(session, target, opts)
        for name, ns in objects:
            found_any = True
            remaining = max(deadline - time.monotonic(), 0.0)
            label = f"{kind_prefix(target.resource)}/{name}"
            try:
                await watch_until(session, target.resource, name, ns, condition.met, remaining)
            except TimeoutError:
                err(
                    f"error: timed out waiting for the condition on {target.resource.qualified}/{name}"
                )
                code = 1
                continue
            except errors.NotFoundError as error:
                from cli.navctl_common import api_error_line

                err(api_error_line(error))
                code = 1
                continue
            out(f"{label} condition met\n")
    if not found_any:
        if condition.kind == "delete":
            return 0
        fail("no matching resources found")
    return code


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
