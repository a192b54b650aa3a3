"""``navctl apply`` (client-side, as kubectl does it).

apply, per object of the manifests:

1. set the namespace (the object's, else ``-n``, else the context's; a conflicting
   ``-n`` is an error, as in kubectl);
2. GET the live object; if absent, POST the object with the
   ``kubectl.kubernetes.io/last-applied-configuration`` annotation -> "created";
3. else compute the three-way patch of the last-applied configuration (the live
   object's annotation), the new manifest (annotated with itself) and the live
   object: a strategic merge patch for the kinds whose schema navctl knows, a JSON
   merge patch otherwise. ``{}`` -> "unchanged" (nothing is sent); else PATCH ->
   "configured". A 409 (someone wrote in between) re-reads and retries.

The annotation is written as kubectl writes it (see ``lastapplied``), so objects
applied by navctl and by kubectl are indistinguishable, and either tool can take over
from the other.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.navctl.console import err, out
from cli.navctl.errors import api_error_line, fail
from cli.navctl.lastapplied import LAST_APPLIED, original_of, with_last_applied
from cli.navctl.manifests import load, set_namespace, validate
from cli.navctl.options import (
    DryRun,
    Filenames,
    Namespace,
    OutputFlag,
    Recursive,
    dry_run_mode,
    dry_run_suffix,
    verb_app,
)
from cli.navctl.output import Output, render
from cli.navctl.resources import kind_prefix
from cli.navctl.session import Session, run

if TYPE_CHECKING:
    from apitypes.registry import ResourceType

app = verb_app()


@app.command("apply")
def apply_cmd(
    filename: Filenames = None,
    recursive: Recursive = False,
    namespace: Namespace = None,
    dry_run: DryRun = None,
    output: OutputFlag = None,
    server_side: Annotated[
        bool, typer.Option("--server-side", help="Not supported: navctl applies client-side.")
    ] = False,
) -> None:
    """Apply a configuration to objects from files or stdin (client-side, as kubectl).

    Creates what does not exist; otherwise sends the three-way strategic merge patch of
    the last-applied configuration, the manifest and the live object, so that fields
    removed from the manifest are removed and fields others set are kept. Records the
    manifest in the kubectl.kubernetes.io/last-applied-configuration annotation.

    [bold]Examples:[/bold]

      navctl apply -f deploy.yaml

      navctl apply -f manifests/

      cat app.yaml | navctl apply -f -

      navctl apply -f deploy.yaml --dry-run=server
    """

    async def go(session: Session) -> int:
        if server_side:
            fail("--server-side is not supported by navctl; omit it to apply client-side")
        return await apply(
            session,
            filename or [],
            recursive=recursive,
            namespace=namespace,
            dry_run=dry_run_mode(dry_run),
            output=output,
        )

    run(go)


# --- implementation --------------------------------------------------------------------------

MAX_PATCH_RETRIES = 5


# --- the pure part ---------------------------------------------------------------------


def apply_patch(
    rtype: ResourceType, manifest: dict[str, Any], live: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    """(patch, patch type) that ``apply`` sends to turn ``live`` into ``manifest``.

    A strategic merge patch when navctl knows the kind's schema, else a JSON merge
    patch (kubectl does the same for kinds its OpenAPI does not describe).
    """
    from apitypes.base import KubeObject
    from apitypes.patch import create_three_way_merge_patch

    modified = with_last_applied(manifest)
    original = original_of(live)
    if rtype.model is KubeObject:
        return create_three_way_merge_patch(original, modified, live, None), "merge"
    return create_three_way_merge_patch(original, modified, live, rtype.model), "strategic"


# --- apply -----------------------------------------------------------------------------


async def _apply_one(
    session: Session, rtype: ResourceType, obj: dict[str, Any], dry_run: str
) -> tuple[str, dict[str, Any]]:
    """Apply one object; returns (what happened, the resulting object)."""
    from apiclient import errors

    client = session.client
    meta = obj.get("metadata") or {}
    name = meta.get("name")
    namespace = meta.get("namespace")
    if not name:
        if meta.get("generateName"):
            fail("from --filename: cannot use generate name with apply")
        fail(f"error validating data: metadata.name not set ({kind_prefix(rtype)})")
    for attempt in range(MAX_PATCH_RETRIES):
        try:
            live = await client.get_raw(rtype, name, namespace)
        except errors.NotFoundError:
            body = with_last_applied(obj)
            if dry_run == "client":
                return "created", body
            try:
                created = await client.create_raw(
                    rtype, body, namespace, dry_run=dry_run == "server"
                )
            except errors.AlreadyExistsError:
                continue  # Created in between: patch it instead.
            return "created", created
        if original_of(live) is None:
            err(
                f"Warning: resource {rtype.plural}/{name} is missing the {LAST_APPLIED} "
                "annotation which is required by navctl apply. navctl apply should only be "
                "used on resources created declaratively by either navctl create "
                "--save-config or navctl apply. The missing annotation will be patched "
                "automatically."
            )
        patch, patch_type = apply_patch(rtype, obj, live)
        if not patch:
            return "unchanged", live
        if dry_run == "client":
            from apitypes.patch import apply_merge_patch, apply_strategic_merge_patch

            if patch_type == "merge":
                return "configured", apply_merge_patch(live, patch)
            return "configured", apply_strategic_merge_patch(live, patch, rtype.model)
        try:
            patched = await client.patch_raw(
                rtype, name, patch, namespace, patch_type=patch_type, dry_run=dry_run == "server"
            )
        except errors.ConflictError:
            if attempt + 1 == MAX_PATCH_RETRIES:
                raise
            await asyncio.sleep(0.2 * (attempt + 1))
            continue
        except errors.NotFoundError:
            continue  # Deleted in between: create it.
        return "configured", patched
    fail(f"applying {kind_prefix(rtype)}/{name}: gave up after {MAX_PATCH_RETRIES} conflicts")


async def apply(
    session: Session,
    filenames: list[str],
    *,
    recursive: bool = False,
    namespace: str | None = None,
    dry_run: str = "",
    output: str | None = None,
    stdin: str | None = None,
) -> int:
    """Run ``navctl apply -f``: one line per object (or the objects with ``-o``)."""
    from apiclient import errors

    manifests = load(filenames, recursive=recursive, stdin=stdin)
    printer = Output.parse(output)
    ns = session.namespace(namespace)
    explicit = session.explicit_namespace(namespace)
    results: list[dict[str, Any]] = []
    problems: list[str] = []
    for manifest in manifests:
        validate(manifest)
        rtype = await session.resolver.resolve_kind(manifest.api_version, manifest.kind)
        obj = set_namespace(manifest, rtype, ns, explicit)
        try:
            action, result = await _apply_one(session, rtype, obj, dry_run)
        except errors.ApiError as error:
            if isinstance(error, errors.ConnectionFailedError):
                raise
            problems.append(api_error_line(error, session.server))
            continue
        if printer.format:
            results.append(result)
        else:
            out(
                f"{kind_prefix(rtype)}/{obj['metadata']['name']} {action}{dry_run_suffix(dry_run)}\n"
            )
    if printer.format and results:
        out(render(printer, results, single=len(results) == 1))
    for line in problems:
        err(line)
    return 1 if problems else 0
