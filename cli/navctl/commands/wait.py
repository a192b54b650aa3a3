"""``navctl wait --for=condition=NAME|delete|create|jsonpath=...``, as kubectl waits.

Each object is waited on with ``waiting.watch_until`` (list, then watch; nothing
sleeps), all within one ``--timeout``; each prints "condition met" or its error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer

from cli.navctl.console import err, out
from cli.navctl.errors import api_error_line, fail
from cli.navctl.jsonpath import parse, relaxed, value_text
from cli.navctl.manifests import load
from cli.navctl.options import (
    WEEK,
    All,
    AllNamespaces,
    FieldSelector,
    Filenames,
    Namespace,
    ResourceArgs,
    Selector,
    duration_flag,
    verb_app,
)
from cli.navctl.resources import Target, kind_prefix, parse_targets
from cli.navctl.session import Session, run
from cli.navctl.waiting import watch_until

app = verb_app()


@app.command("wait")
def wait_cmd(
    args: ResourceArgs = None,
    for_: Annotated[
        str,
        typer.Option(
            "--for",
            help="condition=NAME[=VALUE], delete, create, or jsonpath='{.path}'=VALUE.",
        ),
    ] = "",
    timeout: Annotated[
        str, typer.Option("--timeout", help="Give up after this long, e.g. 60s (-1: a week).")
    ] = "30s",
    namespace: Namespace = None,
    all_namespaces: AllNamespaces = False,
    selector: Selector = None,
    field_selector: FieldSelector = None,
    all_: All = False,
    filename: Filenames = None,
) -> None:
    """Wait for a condition on one or many objects.

    [bold]Examples:[/bold]

      navctl wait --for=condition=Ready pod/web-7d4b9c

      navctl wait --for=condition=Available deploy/web --timeout=2m

      navctl wait --for=delete pod -l app=web --timeout=60s

      navctl wait --for=jsonpath='{.status.phase}'=Running pod/web-7d4b9c
    """

    async def go(session: Session) -> int:
        opts = WaitOptions(
            condition=for_,
            timeout=timeout,
            namespace=namespace,
            all_namespaces=all_namespaces,
            selector=selector,
            field_selector=field_selector,
            all=all_,
            filenames=filename or [],
        )
        return await wait(session, args or [], opts)

    run(go)


# --- implementation --------------------------------------------------------------------------

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

        return len(found) == 1 and value_text(found[0]) == self.value


def parse_condition(flag: str) -> Condition:
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
                err(api_error_line(error))
                code = 1
                continue
            out(f"{label} condition met\n")
    if not found_any:
        if condition.kind == "delete":
            return 0
        fail("no matching resources found")
    return code
