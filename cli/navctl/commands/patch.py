"""``navctl patch``: a strategic merge, JSON merge or JSON patch, sent as given.

The patch may be JSON or YAML; "patched (no change)" when the resourceVersion stays.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from cli.navctl.console import out
from cli.navctl.errors import fail
from cli.navctl.options import (
    DryRun,
    Namespace,
    OutputFlag,
    ResourceArgs,
    dry_run_mode,
    dry_run_suffix,
    verb_app,
)
from cli.navctl.output import Output, render, with_type
from cli.navctl.resources import kind_prefix, parse_targets
from cli.navctl.session import Session, run

app = verb_app()


@app.command("patch")
def patch_cmd(
    args: ResourceArgs = None,
    patch: Annotated[str, typer.Option("--patch", "-p", help="The patch, JSON or YAML.")] = "",
    patch_type: Annotated[
        str, typer.Option("--type", help="strategic (default), merge or json.")
    ] = "strategic",
    namespace: Namespace = None,
    subresource: Annotated[
        str | None, typer.Option("--subresource", help="status or scale.")
    ] = None,
    dry_run: DryRun = None,
    output: OutputFlag = None,
) -> None:
    """Update fields of an object with a strategic merge, JSON merge or JSON patch.

    [bold]Examples:[/bold]

      navctl patch deploy web -p '{"spec":{"replicas":3}}'

      navctl patch node n1 --type=merge -p '{"spec":{"unschedulable":true}}'

      navctl patch deploy web --type=json -p '[{"op":"replace","path":"/spec/replicas","value":1}]'
    """

    async def go(session: Session) -> int:
        return await patch_objects(
            session, args or [], patch, patch_type=patch_type,
            namespace=namespace, subresource=subresource, dry_run=dry_run_mode(dry_run),
            output=output,
        )  # fmt: skip

    run(go)


# --- implementation --------------------------------------------------------------------------


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


async def patch_objects(
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
            suffix = dry_run_suffix(dry_run)
            out(f"{kind_prefix(rtype)}/{name} patched{note}{suffix}\n")
    return 0
