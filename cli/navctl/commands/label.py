"""``navctl label`` and ``navctl annotate``: keys of an object's labels or annotations.

Both read each object, change its map, and send the JSON merge patch between the two
(as kubectl does), so concurrent writers of other fields are never overwritten. A key
that already has another value needs ``--overwrite``; ``KEY-`` removes a key.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.navctl.console import err, out
from cli.navctl.errors import api_error_line, fail
from cli.navctl.options import (
    All,
    AllNamespaces,
    DryRun,
    Namespace,
    OutputFlag,
    Selector,
    complete_types,
    dry_run_mode,
    dry_run_suffix,
    verb_app,
)
from cli.navctl.output import Output, render, with_type
from cli.navctl.resources import Target, kind_prefix, parse_targets
from cli.navctl.session import Session, run

if TYPE_CHECKING:
    from apitypes.registry import ResourceType

app = verb_app()


def _meta_cmd(
    which: str,
    args: list[str],
    overwrite: bool,
    namespace: str | None,
    selector: str | None,
    all_: bool,
    all_namespaces: bool,
    dry_run: str | None,
    output: str | None,
    list_: bool,
    resource_version: str | None,
) -> None:
    async def go(session: Session) -> int:
        opts = MetaOptions(
            field=which,
            overwrite=overwrite,
            namespace=namespace,
            selector=selector,
            all=all_,
            all_namespaces=all_namespaces,
            dry_run=dry_run_mode(dry_run),
            output=output,
            list=list_,
            resource_version=resource_version,
        )
        return await change_metadata(session, args, opts)

    run(go)


Overwrite = Annotated[
    bool, typer.Option("--overwrite", help="Allow replacing a key that already has a value.")
]
ListFlag = Annotated[bool, typer.Option("--list", help="Only print the current keys and values.")]
ResourceVersion = Annotated[
    str | None,
    typer.Option("--resource-version", help="Only change the object at this resourceVersion."),
]
MetaArgs = Annotated[
    list[str] | None,
    typer.Argument(
        help="TYPE NAME | TYPE/NAME, then KEY=VALUE to set or KEY- to remove.",
        autocompletion=complete_types,
        show_default=False,
    ),
]


@app.command("label")
def label_cmd(
    args: MetaArgs = None,
    overwrite: Overwrite = False,
    namespace: Namespace = None,
    selector: Selector = None,
    all_: All = False,
    all_namespaces: AllNamespaces = False,
    dry_run: DryRun = None,
    output: OutputFlag = None,
    list_: ListFlag = False,
    resource_version: ResourceVersion = None,
) -> None:
    """Add, change (--overwrite) or remove (KEY-) labels of objects.

    [bold]Examples:[/bold]

      navctl label pods web-7d4b9c tier=frontend

      navctl label --overwrite deploy web tier=backend

      navctl label nodes n1 disk-

      navctl label pods -l app=web canary=true
    """
    _meta_cmd(
        "labels", args or [], overwrite, namespace, selector, all_, all_namespaces, dry_run,
        output, list_, resource_version,
    )  # fmt: skip


@app.command("annotate")
def annotate_cmd(
    args: MetaArgs = None,
    overwrite: Overwrite = False,
    namespace: Namespace = None,
    selector: Selector = None,
    all_: All = False,
    all_namespaces: AllNamespaces = False,
    dry_run: DryRun = None,
    output: OutputFlag = None,
    list_: ListFlag = False,
    resource_version: ResourceVersion = None,
) -> None:
    """Add, change (--overwrite) or remove (KEY-) annotations of objects.

    [bold]Examples:[/bold]

      navctl annotate deploy web owner=team-a

      navctl annotate --overwrite pods web-7d4b9c description='the web tier'

      navctl annotate svc web owner-
    """
    _meta_cmd(
        "annotations", args or [], overwrite, namespace, selector, all_, all_namespaces, dry_run,
        output, list_, resource_version,
    )  # fmt: skip


# --- implementation --------------------------------------------------------------------------


@dataclass
class MetaOptions:
    field: str  # "labels" | "annotations"
    overwrite: bool = False
    namespace: str | None = None
    selector: str | None = None
    all: bool = False
    all_namespaces: bool = False
    dry_run: str = ""
    output: str | None = None
    list: bool = False
    resource_version: str | None = None


def split_changes(args: list[str]) -> tuple[list[str], dict[str, str], list[str]]:
    """(resource arguments, keys to set, keys to remove) of ``label``/``annotate`` args."""
    resources: list[str] = []
    sets: dict[str, str] = {}
    removes: list[str] = []
    for arg in args:
        if "=" in arg:
            key, _, value = arg.partition("=")
            if not key:
                fail(f"invalid label spec: {arg}")
            sets[key] = value
        elif arg.endswith("-") and (sets or removes or len(resources) >= 1):
            removes.append(arg[:-1])
        else:
            if sets or removes:
                fail(f"all resources must be specified before label changes: {arg}")
            resources.append(arg)
    for key in removes:
        if key in sets:
            fail(f"can not both modify and remove the same key: {key!r}")
    return resources, sets, removes


def change_map(
    current: dict[str, str], sets: dict[str, str], removes: list[str], *, overwrite: bool,
    what: str,
) -> tuple[dict[str, str], list[str]]:  # fmt: skip
    """The new map and warnings; a changed existing value needs ``overwrite``."""
    result = dict(current)
    warnings: list[str] = []
    for key, value in sets.items():
        if not overwrite and key in result and result[key] != value:
            fail(f"'{key}' already has a value ({result[key]}), and --overwrite is false")
        result[key] = value
    for key in removes:
        if key not in result and what == "label":
            # kubectl warns about missing labels only, not annotations.
            warnings.append(f'{what} "{key}" not found.')
        result.pop(key, None)
    return result, warnings


async def _objects(session: Session, target: Target, opts: MetaOptions) -> list[dict[str, Any]]:
    rtype = target.resource
    ns = session.namespace(opts.namespace) if rtype.namespaced else None
    if target.names:
        return [await session.client.get_raw(rtype, name, ns) for name in target.names]
    listed = await session.client.list_raw(
        rtype, ns, all_namespaces=opts.all_namespaces, label_selector=opts.selector
    )
    return list(listed.get("items") or [])


async def change_metadata(session: Session, args: list[str], opts: MetaOptions) -> int:
    """Run ``navctl label`` / ``navctl annotate``."""
    from apiclient import errors

    resources, sets, removes = split_changes(args)
    if not resources:
        fail("one or more resources must be specified as <resource> <name> or <resource>/<name>")
    if not (sets or removes or opts.list):
        fail(f"at least one {opts.field[:-1]} update is required")
    targets = await parse_targets(session.resolver, resources, verb=opts.field[:-1])
    if not any(t.names for t in targets) and not (opts.all or opts.selector):
        fail("resource(s) were provided, but no name was specified")
    printer = Output.parse(opts.output)
    verb = "labeled" if opts.field == "labels" else "annotated"
    what = "label" if opts.field == "labels" else "annotation"
    results: list[dict[str, Any]] = []
    problems: list[str] = []
    for target in targets:
        rtype = target.resource
        try:
            objects = await _objects(session, target, opts)
        except errors.NotFoundError as error:
            problems.append(api_error_line(error, session.server))
            continue
        for obj in objects:
            meta = obj.get("metadata") or {}
            current = dict(meta.get(opts.field) or {})
            if opts.list:
                out("".join(f"{k}={current[k]}\n" for k in sorted(current)))
                continue
            changed, warnings = change_map(
                current, sets, removes, overwrite=opts.overwrite, what=what
            )
            for warning in warnings:
                err(warning)
            result = await _send(session, rtype, obj, changed, opts)
            results.append(with_type(result, rtype.api_version, rtype.kind))
            if printer.format:
                continue
            if opts.field == "labels" and changed == current:
                message = "not labeled"
            elif opts.field == "labels" and not sets and removes:
                message = "unlabeled"
            else:
                message = verb
            suffix = dry_run_suffix(opts.dry_run)
            out(f"{kind_prefix(rtype)}/{meta.get('name')} {message}{suffix}\n")
    if printer.format and results:
        out(render(printer, results, single=len(results) == 1))
    for line in problems:
        err(line)
    return 1 if problems else 0


async def _send(
    session: Session,
    rtype: ResourceType,
    obj: dict[str, Any],
    changed: dict[str, str],
    opts: MetaOptions,
) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    current = meta.get(opts.field) or {}
    patch_map: dict[str, Any] = {k: v for k, v in changed.items() if current.get(k) != v}
    patch_map.update({k: None for k in current if k not in changed})
    if not patch_map and not opts.resource_version:
        return obj
    patch: dict[str, Any] = {"metadata": {opts.field: patch_map}}
    if opts.resource_version:
        patch["metadata"]["resourceVersion"] = opts.resource_version
    if opts.dry_run == "client":
        result = copy.deepcopy(obj)
        result.setdefault("metadata", {})[opts.field] = changed
        return result
    return await session.client.patch_raw(
        rtype, meta.get("name", ""), patch, meta.get("namespace"), patch_type="merge",
        dry_run=opts.dry_run == "server",
    )  # fmt: skip
