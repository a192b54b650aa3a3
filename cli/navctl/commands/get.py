"""``navctl get``: server-side tables printed as kubectl prints them, or whole objects.

For the default and ``-o wide`` formats the server prints: navctl asks for Tables with
kubectl's Accept header, then decorates and lays them out as kubectl does (see
``printing``). Several kinds print as separate tables, names prefixed with
their kind, separated by blank lines; nothing found prints kubectl's "No resources
found" on stderr. Other formats fetch whole objects. ``-w`` lists, then watches from
the list's resourceVersion, printing a row (or object) per event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.navctl.console import err, out
from cli.navctl.errors import api_error_line, fail
from cli.navctl.jsonpath import JSONPath, parse, relaxed
from cli.navctl.manifests import load
from cli.navctl.options import (
    AllNamespaces,
    FieldSelector,
    Filenames,
    Namespace,
    OutputFlag,
    Recursive,
    ResourceArgs,
    Selector,
    verb_app,
)
from cli.navctl.output import Output, as_list, custom_columns, render, with_type
from cli.navctl.printing import (
    TABLE_ACCEPT,
    TableOptions,
    TabWriter,
    age,
    table_lines,
    to_json,
    to_yaml,
)
from cli.navctl.resources import Target, kind_prefix, parse_targets
from cli.navctl.session import Session, run

if TYPE_CHECKING:
    from apiclient import Client
    from apitypes.registry import ResourceType

app = verb_app()


@app.command("get")
def get_cmd(
    args: ResourceArgs = None,
    output: OutputFlag = None,
    namespace: Namespace = None,
    all_namespaces: AllNamespaces = False,
    selector: Selector = None,
    field_selector: FieldSelector = None,
    watch: Annotated[
        bool, typer.Option("--watch/--no-watch", "-w", help="After listing, watch for changes.")
    ] = False,
    watch_only: Annotated[
        bool, typer.Option("--watch-only", help="Watch for changes without listing first.")
    ] = False,
    output_watch_events: Annotated[
        bool, typer.Option("--output-watch-events", help="With -w, print the event type too.")
    ] = False,
    show_labels: Annotated[
        bool, typer.Option("--show-labels", help="Add a LABELS column.")
    ] = False,
    label_columns: Annotated[
        list[str] | None,
        typer.Option("--label-columns", "-L", help="Add a column for each of these label keys."),
    ] = None,
    sort_by: Annotated[
        str | None, typer.Option("--sort-by", help="Sort by a JSONPath, e.g. .metadata.name.")
    ] = None,
    no_headers: Annotated[bool, typer.Option("--no-headers", help="Omit headers.")] = False,
    show_kind: Annotated[
        bool, typer.Option("--show-kind", help="Prefix names with their kind.")
    ] = False,
    ignore_not_found: Annotated[
        bool, typer.Option("--ignore-not-found", help="Say nothing about missing objects.")
    ] = False,
    filename: Filenames = None,
    recursive: Recursive = False,
    show_managed_fields: Annotated[
        bool,
        typer.Option("--show-managed-fields", help="Keep managedFields in -o yaml|json output."),
    ] = False,
) -> None:
    """Display one or many resources.

    Prints the columns the apiserver defines for each kind (as kubectl does), or whole
    objects with -o yaml|json, or what a JSONPath or custom columns select.

    [bold]Examples:[/bold]

      navctl get pods

      navctl get po,svc -o wide

      navctl get all -A

      navctl get deploy/web -o yaml

      navctl get pods -l app=web -o jsonpath='{.items[*].metadata.name}'

      navctl get pods -w
    """

    async def go(session: Session) -> int:
        opts = GetOptions(
            output=replace(Output.parse(output), managed_fields=show_managed_fields),
            namespace=namespace,
            all_namespaces=all_namespaces,
            selector=selector,
            field_selector=field_selector,
            watch=watch,
            watch_only=watch_only,
            output_watch_events=output_watch_events,
            show_labels=show_labels,
            label_columns=[c for cols in label_columns or [] for c in cols.split(",")],
            sort_by=sort_by,
            no_headers=no_headers,
            show_kind=show_kind,
            ignore_not_found=ignore_not_found,
            filenames=filename or [],
            recursive=recursive,
        )
        return await get(session, args or [], opts)

    run(go)


# --- implementation --------------------------------------------------------------------------

CHUNK = 500
"""Items per page, as kubectl's ``--chunk-size`` default."""


@dataclass
class GetOptions:
    output: Output = field(default_factory=Output)
    namespace: str | None = None
    all_namespaces: bool = False
    selector: str | None = None
    field_selector: str | None = None
    watch: bool = False
    watch_only: bool = False
    show_labels: bool = False
    label_columns: list[str] = field(default_factory=list)
    sort_by: str | None = None
    no_headers: bool = False
    show_kind: bool = False
    ignore_not_found: bool = False
    output_watch_events: bool = False
    filenames: list[str] = field(default_factory=list)
    recursive: bool = False


# --- fetching --------------------------------------------------------------------------


def _namespace_for(session: Session, rtype: ResourceType, opts: GetOptions) -> str | None:
    if not rtype.namespaced or opts.all_namespaces:
        return None
    return session.namespace(opts.namespace)


async def list_pages(
    client: Client,
    rtype: ResourceType,
    namespace: str | None,
    *,
    selector: str | None = None,
    field_selector: str | None = None,
    accept: str | None = None,
    include_object: str | None = None,
) -> dict[str, Any]:
    """A whole collection (following ``continue``), as a List or a Table with all rows."""
    params: dict[str, Any] = {
        "labelSelector": selector,
        "fieldSelector": field_selector,
        "limit": CHUNK,
        "includeObject": include_object,
    }
    merged: dict[str, Any] | None = None
    while True:
        page: dict[str, Any] = await client.request(
            "GET", rtype.path(namespace), params=params, accept=accept
        )
        if merged is None:
            merged = page
        else:
            key = "rows" if page.get("kind") == "Table" else "items"
            merged.setdefault(key, []).extend(page.get(key) or [])
            merged["metadata"] = page.get("metadata") or {}
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            break
        params["continue"] = token
    assert merged is not None
    return merged


def default_table(rtype: ResourceType, objects: list[dict[str, Any]]) -> dict[str, Any]:
    """A client-side Table (Name, Age) for a server that printed whole objects."""
    return {
        "kind": "Table",
        "columnDefinitions": [
            {"name": "Name", "type": "string", "format": "name", "priority": 0},
            {"name": "Age", "type": "string", "format": "", "priority": 0},
        ],
        "rows": [
            {
                "cells": [
                    (o.get("metadata") or {}).get("name", ""),
                    age((o.get("metadata") or {}).get("creationTimestamp")),
                ],
                "object": o,
            }
            for o in objects
        ],
    }


def _as_table(rtype: ResourceType, doc: dict[str, Any]) -> dict[str, Any]:
    if doc.get("kind") == "Table":
        return doc
    if "items" in doc:
        return default_table(rtype, list(doc.get("items") or []))
    return default_table(rtype, [doc])


async def fetch_table(
    session: Session, target: Target, opts: GetOptions
) -> tuple[dict[str, Any] | None, list[str]]:
    """The Table of one target (all its names, or the collection) and any error lines."""
    from apiclient import errors

    rtype = target.resource
    client = session.client
    namespace = _namespace_for(session, rtype, opts)
    include = "Object" if opts.sort_by else None
    if not target.names:
        doc = await list_pages(
            client, rtype, namespace, selector=opts.selector,
            field_selector=opts.field_selector, accept=TABLE_ACCEPT, include_object=include,
        )  # fmt: skip
        return _as_table(rtype, doc), []
    table: dict[str, Any] | None = None
    problems: list[str] = []
    ns = session.namespace(opts.namespace) if rtype.namespaced else None
    for name in target.names:
        try:
            doc = await client.request(
                "GET", rtype.path(ns, name), params={"includeObject": include}, accept=TABLE_ACCEPT
            )
        except errors.NotFoundError as error:
            if not opts.ignore_not_found:
                problems.append(api_error_line(error))
            continue
        part = _as_table(rtype, doc)
        if table is None:
            table = part
        else:
            table["rows"].extend(part.get("rows") or [])
    return table, problems


async def fetch_objects(
    session: Session, target: Target, opts: GetOptions
) -> tuple[list[dict[str, Any]], list[str]]:
    """Whole objects of one target (with apiVersion and kind set) and any error lines."""
    from apiclient import errors

    rtype = target.resource
    client = session.client
    namespace = _namespace_for(session, rtype, opts)
    if not target.names:
        doc = await list_pages(
            client, rtype, namespace, selector=opts.selector, field_selector=opts.field_selector
        )
        items = [with_type(o, rtype.api_version, rtype.kind) for o in doc.get("items") or []]
        return items, []
    found: list[dict[str, Any]] = []
    problems: list[str] = []
    ns = session.namespace(opts.namespace) if rtype.namespaced else None
    for name in target.names:
        try:
            obj = await client.get_raw(rtype, name, ns)
        except errors.NotFoundError as error:
            if not opts.ignore_not_found:
                problems.append(api_error_line(error))
            continue
        found.append(with_type(obj, rtype.api_version, rtype.kind))
    return found, problems


# --- sorting ---------------------------------------------------------------------------

_CHUNKS = re.compile(r"(\d+)")


def _natural_key(text: str) -> list[Any]:
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in _CHUNKS.split(text)]


def sort_key(path: JSONPath, obj: Any) -> tuple[int, Any]:
    """Order of ``--sort-by``: missing first, numbers by value, text naturally."""
    values = [v for group in path.find(obj) for v in group]
    if not values:
        return (0, 0)
    value = values[0]
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (2, value)
    if isinstance(value, str):
        return (3, _natural_key(value))
    return (4, str(value))


def sort_path(sort_by: str) -> JSONPath:
    try:
        return parse(relaxed(sort_by))
    except ValueError:
        return parse(sort_by)


# --- printing --------------------------------------------------------------------------


def _table_options(opts: GetOptions, rtype: ResourceType, with_kind: bool) -> TableOptions:
    return TableOptions(
        wide=opts.output.format == "wide",
        no_headers=opts.no_headers,
        with_namespace=opts.all_namespaces and rtype.namespaced,
        kind_prefix=kind_prefix(rtype) if with_kind else "",
        show_labels=opts.show_labels,
        label_columns=list(opts.label_columns),
    )


def _targets_from_manifests(opts: GetOptions) -> list[tuple[str, str, str]]:
    return [
        (m.api_version, m.kind, m.name)
        for m in load(opts.filenames, recursive=opts.recursive, verb="get")
    ]


async def _targets(session: Session, args: list[str], opts: GetOptions) -> list[Target]:
    if opts.filenames:
        if args:
            fail("resource names may not be given together with -f")
        targets: list[Target] = []
        for api_version, kind, name in _targets_from_manifests(opts):
            rtype = await session.resolver.resolve_kind(api_version, kind)
            if targets and targets[-1].resource == rtype:
                targets[-1].names.append(name)
            else:
                targets.append(Target(rtype, [name]))
        return targets
    return await parse_targets(session.resolver, args)


async def get(session: Session, args: list[str], opts: GetOptions) -> int:
    """Run ``navctl get``; returns the exit code."""
    targets = await _targets(session, args, opts)
    if opts.watch or opts.watch_only:
        if len(targets) != 1:
            fail(
                "watch is only supported on individual resources and resource collections - "
                "more than 1 resource was found"
            )
        return await watch(session, targets[0], opts)
    if opts.output.is_table:
        return await _get_tables(session, targets, opts)
    return await _get_objects(session, targets, opts)


async def _get_tables(session: Session, targets: list[Target], opts: GetOptions) -> int:
    with_kind = opts.show_kind or len(targets) > 1
    sorter = sort_path(opts.sort_by) if opts.sort_by else None
    written = False
    errors: list[str] = []
    for target in targets:
        table, problems = await fetch_table(session, target, opts)
        errors.extend(problems)
        if table is None or not table.get("rows"):
            continue
        if sorter is not None:
            table["rows"] = sorted(
                table["rows"], key=lambda row: sort_key(sorter, row.get("object") or {})
            )
        headers, rows = table_lines(table, _table_options(opts, target.resource, with_kind))
        writer = TabWriter()
        if not opts.no_headers:
            writer.write("\t".join(headers) + "\n")
        for row in rows:
            writer.write("\t".join(row) + "\n")
        text = writer.flush()
        if written and not opts.no_headers:
            text = "\n" + text
        out(text)
        written = True
    # kubectl reports what it could not find after printing what it found.
    for line in errors:
        err(line)
    if not written and not errors and not opts.ignore_not_found:
        _no_resources(session, targets, opts)
    return 1 if errors else 0


def _no_resources(session: Session, targets: list[Target], opts: GetOptions) -> None:
    namespaced = not opts.all_namespaces and all(t.resource.namespaced for t in targets)
    if namespaced:
        err(f"No resources found in {session.namespace(opts.namespace)} namespace.")
    else:
        err("No resources found")


async def _get_objects(session: Session, targets: list[Target], opts: GetOptions) -> int:
    objects: list[dict[str, Any]] = []
    errors: list[str] = []
    for target in targets:
        found, problems = await fetch_objects(session, target, opts)
        errors.extend(problems)
        objects.extend(found)
    code = 1 if errors else 0
    if opts.sort_by:
        path = sort_path(opts.sort_by)
        objects.sort(key=lambda obj: sort_key(path, obj))
    single = len(targets) == 1 and len(targets[0].names) == 1 and not opts.filenames
    if objects or not single:
        out(render(opts.output, objects, single=single, no_headers=opts.no_headers))
    for line in errors:
        err(line)
    return code


# --- watching --------------------------------------------------------------------------


class _RowPrinter:
    """Prints watch rows through one remembering tab writer, headers once per columns."""

    def __init__(self, opts: GetOptions, rtype: ResourceType) -> None:
        self.opts = opts
        self.rtype = rtype
        self.writer = TabWriter(remember_widths=True)
        self.columns: list[dict[str, Any]] = []
        self.headers_printed = False

    def print(self, table: dict[str, Any], event: str | None = None) -> None:
        if table.get("columnDefinitions"):
            if table["columnDefinitions"] != self.columns:
                self.columns = table["columnDefinitions"]
                self.headers_printed = False
        else:
            table = {**table, "columnDefinitions": self.columns}
        if not table.get("rows"):
            return
        headers, rows = table_lines(table, _table_options(self.opts, self.rtype, False))
        if self.opts.output_watch_events:
            headers = ["EVENT", *headers]
            label = {
                "ADDED": "ADDED   ",
                "MODIFIED": "MODIFIED",
                "DELETED": "DELETED ",
                "ERROR": "ERROR   ",
            }
            rows = [[label.get(event or "ADDED", event or "ADDED"), *row] for row in rows]
        if not self.headers_printed and not self.opts.no_headers:
            self.writer.write("\t".join(headers) + "\n")
        self.headers_printed = True
        for row in rows:
            self.writer.write("\t".join(row) + "\n")
        out(self.writer.flush())


class _ObjectPrinter:
    def __init__(self, opts: GetOptions) -> None:
        self.opts = opts
        self.count = 0

    def print(self, obj: dict[str, Any], event: str | None = None) -> None:
        fmt = self.opts.output.format
        if self.opts.output_watch_events:
            obj = {"type": event or "ADDED", "object": obj}
        if fmt == "yaml":
            text = ("---\n" if self.count else "") + to_yaml(obj)
        elif fmt == "json":
            text = to_json(obj)
        elif fmt == "custom-columns":
            assert self.opts.output.columns is not None
            text = custom_columns(self.opts.output.columns, [obj], no_headers=self.count > 0)
        else:
            text = render(self.opts.output, [obj], single=True)
        self.count += 1
        out(text)


async def watch(session: Session, target: Target, opts: GetOptions) -> int:
    """List, then watch from the list's resourceVersion until interrupted."""
    from apiclient import errors

    rtype = target.resource
    client = session.client
    if len(target.names) > 1:
        fail("watch is only supported on individual resources and resource collections")
    field_selector = opts.field_selector
    if target.names:
        by_name = f"metadata.name={target.names[0]}"
        field_selector = f"{field_selector},{by_name}" if field_selector else by_name
    namespace = _namespace_for(session, rtype, opts)
    human = opts.output.is_table
    accept = TABLE_ACCEPT if human else None
    rows = _RowPrinter(opts, rtype)
    objects = _ObjectPrinter(opts)

    async def relist(print_it: bool) -> str:
        doc = await list_pages(
            client, rtype, namespace, selector=opts.selector, field_selector=field_selector,
            accept=accept,
        )  # fmt: skip
        missing = target.names and not (doc.get("rows") or doc.get("items"))
        if missing and print_it and not opts.ignore_not_found:
            name = target.names[0]
            fail_line = f'Error from server (NotFound): {rtype.qualified} "{name}" not found'
            err(fail_line)
            raise _Stop(1)
        if print_it:
            if human:
                rows.print(_as_table(rtype, doc), "ADDED")
            else:
                for item in doc.get("items") or []:
                    objects.print(with_type(item, rtype.api_version, rtype.kind), "ADDED")
        return str((doc.get("metadata") or {}).get("resourceVersion") or "")

    try:
        rv = await relist(not opts.watch_only)
        while True:
            try:
                async for event in client.watch_raw(
                    rtype, namespace, all_namespaces=opts.all_namespaces and rtype.namespaced,
                    resource_version=rv, label_selector=opts.selector,
                    field_selector=field_selector, accept=accept,
                ):  # fmt: skip
                    kind = event.get("type", "")
                    obj = event.get("object") or {}
                    rv = _event_rv(obj) or rv
                    if kind == "BOOKMARK":
                        continue
                    if human:
                        rows.print(_as_table(rtype, obj), kind)
                    else:
                        objects.print(with_type(obj, rtype.api_version, rtype.kind), kind)
            except errors.GoneError:
                rv = await relist(False)
    except _Stop as stop:
        return stop.code


class _Stop(Exception):  # noqa: N818 - control flow
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _event_rv(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    if obj.get("kind") == "Table":
        rows = obj.get("rows") or []
        if rows:
            row_meta = ((rows[-1].get("object") or {}).get("metadata")) or {}
            return str(row_meta.get("resourceVersion") or meta.get("resourceVersion") or "")
    return str(meta.get("resourceVersion") or "")


__all__ = ["GetOptions", "as_list", "fetch_objects", "get", "list_pages", "watch"]
