"""``navctl events``: events oldest first, as ``kubectl events`` prints them.

Columns LAST SEEN, TYPE, REASON, OBJECT, MESSAGE (NAMESPACE first with ``-A``);
``--for TYPE/NAME`` narrows to one object by ``involvedObject`` field selectors;
``--types`` keeps only Normal or Warning; ``-w`` lists, then prints each new event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from cli.navctl.console import err, out
from cli.navctl.errors import fail
from cli.navctl.options import AllNamespaces, Namespace, OutputFlag, verb_app
from cli.navctl.output import Output, render, with_type
from cli.navctl.printing import TabWriter, age, parse_time
from cli.navctl.resources import resource
from cli.navctl.session import Session, run

app = verb_app()


@app.command("events")
def events_cmd(
    namespace: Namespace = None,
    all_namespaces: AllNamespaces = False,
    for_: Annotated[
        str | None, typer.Option("--for", help="Only events about this object, TYPE/NAME.")
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch/--no-watch", "-w", help="Keep printing new events.")
    ] = False,
    types: Annotated[
        list[str] | None, typer.Option("--types", help="Only these types: Normal, Warning.")
    ] = None,
    output: OutputFlag = None,
    no_headers: Annotated[bool, typer.Option("--no-headers", help="Omit headers.")] = False,
) -> None:
    """List events, oldest first (by last timestamp).

    [bold]Examples:[/bold]

      navctl events

      navctl events -A

      navctl events --for pod/web-7d4b9c -w

      navctl events --types=Warning
    """

    async def go(session: Session) -> int:
        return await events(
            session, namespace=namespace, all_namespaces=all_namespaces,
            for_object=for_, watch=watch,
            types=[t for ts in types or [] for t in ts.split(",")], output=output,
            no_headers=no_headers,
        )  # fmt: skip

    run(go)


# --- implementation --------------------------------------------------------------------------

_EPOCH = datetime.min.replace(tzinfo=UTC)


def event_time(event: dict[str, Any]) -> datetime:
    """The moment kubectl sorts an event by: series, last timestamp, event time."""
    series = event.get("series") or {}
    for value in (
        series.get("lastObservedTime"),
        event.get("lastTimestamp"),
        event.get("eventTime"),
    ):
        moment = parse_time(value)
        if moment is not None:
            return moment
    return _EPOCH


def interval(event: dict[str, Any], now: datetime | None = None) -> str:
    """LAST SEEN: ``5m``, or ``2m (x3 over 10m)`` for repeated events."""
    first = age(event.get("eventTime") or event.get("firstTimestamp"), now)
    series = event.get("series")
    if series:
        return (
            f"{age(series.get('lastObservedTime'), now)} (x{series.get('count', 0)} over {first})"
        )
    if (event.get("count") or 0) > 1:
        return f"{age(event.get('lastTimestamp'), now)} (x{event['count']} over {first})"
    return first


def event_row(
    event: dict[str, Any], all_namespaces: bool, now: datetime | None = None
) -> list[str]:
    involved = event.get("involvedObject") or {}
    row = [
        interval(event, now),
        str(event.get("type", "")),
        str(event.get("reason", "")),
        f"{involved.get('kind', '')}/{involved.get('name', '')}",
        str(event.get("message", "")).strip(),
    ]
    if all_namespaces:
        row.insert(0, str((event.get("metadata") or {}).get("namespace", "")))
    return row


HEADER = ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]


async def _for_selector(session: Session, spec: str) -> str:
    kind, sep, name = spec.partition("/")
    if not sep or not name:
        fail(f"--for must be TYPE/NAME, not {spec!r}")
    rtype = await session.resolver.resolve(kind)
    parts = [f"involvedObject.kind={rtype.kind}", f"involvedObject.name={name}"]
    if rtype.api_version != "v1":
        parts.append(f"involvedObject.apiVersion={rtype.api_version}")
    return ",".join(parts)


async def events(
    session: Session,
    *,
    namespace: str | None = None,
    all_namespaces: bool = False,
    for_object: str | None = None,
    watch: bool = False,
    types: list[str] | None = None,
    output: str | None = None,
    no_headers: bool = False,
) -> int:
    """Run ``navctl events``."""
    wanted = {t.lower() for t in types or []}
    for t in wanted:
        if t not in ("normal", "warning"):
            fail(f"valid --types are Normal or Warning, not {t!r}")
    printer = Output.parse(output)
    events_type = resource("", "events")
    ns = None if all_namespaces else session.namespace(namespace)
    selector = await _for_selector(session, for_object) if for_object else None
    client = session.client
    listed = await client.list_raw(
        events_type, ns, all_namespaces=all_namespaces, field_selector=selector
    )
    items = [
        e
        for e in listed.get("items") or []
        if not wanted or str(e.get("type", "")).lower() in wanted
    ]
    items.sort(key=event_time)
    if printer.format:
        objects = [with_type(e, "v1", "Event") for e in items]
        if objects or not watch:
            out(render(printer, objects, single=False, no_headers=no_headers))
    writer = TabWriter(remember_widths=True)
    header = ["NAMESPACE", *HEADER] if all_namespaces else HEADER
    printed_header = False
    if not printer.format:
        if items:
            if not no_headers:
                writer.write("\t".join(header) + "\n")
                printed_header = True
            for event in items:
                writer.write("\t".join(event_row(event, all_namespaces)) + "\n")
            out(writer.flush())
        elif not watch:
            where = "" if all_namespaces else f" in {ns} namespace"
            err(f"No events found{where}.")
    if not watch:
        return 0
    rv = (listed.get("metadata") or {}).get("resourceVersion")
    async for event in client.watch_raw(
        events_type, ns, all_namespaces=all_namespaces, resource_version=rv, field_selector=selector
    ):
        if event.get("type") not in ("ADDED", "MODIFIED"):
            continue
        obj = event.get("object") or {}
        if wanted and str(obj.get("type", "")).lower() not in wanted:
            continue
        if printer.format:
            out(render(printer, [with_type(obj, "v1", "Event")], single=True))
            continue
        if not printed_header and not no_headers:
            writer.write("\t".join(header) + "\n")
            printed_header = True
        writer.write("\t".join(event_row(obj, all_namespaces)) + "\n")
        out(writer.flush())
    return 0
