"""``label``, ``annotate`` and ``patch``: small changes sent as patches.

``label`` and ``annotate`` read each object, change its map, and send the JSON merge
patch between the two (as kubectl does), so concurrent writers of other fields are
never overwritten. A key that already has another value needs ``--overwrite``; ``KEY-``
removes a key. ``patch`` sends what it is given, as a strategic merge, JSON merge or
JSON patch.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from apitypes.registry import ResourceType
from cli.navctl.console import err, out
from cli.navctl.errors import api_error_line, fail
from cli.navctl.output import Output, render, with_type
from cli.navctl.resources import Target, kind_prefix, parse_targets
from cli.navctl.session import Session


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
            suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(opts.dry_run, "")
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


# --- patch -----------------------------------------------------------------------------


def parse_patch(text: str) -> Any:
    """A patch given on the command line: JSON, or YAML (kubectl accepts both)."""
    if not text:
        fail("must specify --patch or --patch-file containing the contents of the patch")
    try:
        return json.loads(text)
    except ValueError:
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as error:
            fail(f"unable to parse {text!r}: {error}".replace("\n", " "))


async def patch(
    session: Session,
    args: list[str],
    text: str,
    *,
    patch_type: str = "strategic",
    namespace: str | None = None,
    subresource: str | None = None,
    dry_run: str = "",
    output: str | None = None,
) -> int:
    """Run ``navctl patch``: ``kind/name patched`` (or ``patched (no change)``)."""
    if patch_type not in ("strategic", "merge", "json"):
        fail(f'--type must be one of [json merge strategic], not "{patch_type}"')
    body = parse_patch(text)
    targets = await parse_targets(session.resolver, args, verb="patch")
    printer = Output.parse(output)
    for target in targets:
        rtype = target.resource
        if not target.names:
            fail("resource(s) were provided, but no name was specified")
        ns = session.namespace(namespace) if rtype.namespaced else None
        for name in target.names:
            before = await session.client.get_raw(rtype, name, ns, subresource=subresource)
            if dry_run == "client":
                after = before
            else:
                after = await session.client.patch_raw(
                    rtype, name, body, ns, patch_type=patch_type, subresource=subresource,
                    dry_run=dry_run == "server",
                )  # fmt: skip
            if printer.format:
                out(render(printer, [with_type(after, rtype.api_version, rtype.kind)], single=True))
                continue
            same = (before.get("metadata") or {}).get("resourceVersion") == (
                after.get("metadata") or {}
            ).get("resourceVersion")
            note = " (no change)" if same and not dry_run else ""
            suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(dry_run, "")
            out(f"{kind_prefix(rtype)}/{name} patched{note}{suffix}\n")
    return 0
