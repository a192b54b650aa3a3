"""``navctl apply`` (client-side, as kubectl does it) and ``navctl create -f``.

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

The annotation's value is what kubectl writes: the manifest as compact JSON with
sorted keys, HTML-safe escapes and a final newline, with ``annotations: {}`` left where
the annotation itself was removed. So objects applied by navctl and by kubectl are
indistinguishable, and either tool can take over from the other.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from apitypes.base import KubeObject
from apitypes.registry import ResourceType
from cli.navctl.console import err, out
from cli.navctl.errors import api_error_line, fail
from cli.navctl.manifests import Manifest, load, validate
from cli.navctl.output import Output, render
from cli.navctl.printing import go_json
from cli.navctl.resources import kind_prefix
from cli.navctl.session import Session

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MAX_PATCH_RETRIES = 5


# --- the pure part ---------------------------------------------------------------------


def without_last_applied(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``obj`` whose annotations no longer hold the last-applied one.

    As in kubectl, the annotations map is kept (possibly empty) rather than dropped.
    """
    result = copy.deepcopy(obj)
    meta = result.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    annotations.pop(LAST_APPLIED, None)
    meta["annotations"] = annotations
    return result


def last_applied_value(obj: dict[str, Any]) -> str:
    """The annotation value kubectl records for the manifest ``obj``."""
    return go_json(without_last_applied(obj)) + "\n"


def with_last_applied(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` annotated with its own last-applied configuration (kubectl's "modified")."""
    value = last_applied_value(obj)
    result = without_last_applied(obj)
    result["metadata"]["annotations"][LAST_APPLIED] = value
    return result


def original_of(live: dict[str, Any]) -> dict[str, Any] | None:
    """The last-applied configuration recorded on the live object, if any."""
    import json

    text = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def apply_patch(
    rtype: ResourceType, manifest: dict[str, Any], live: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    """(patch, patch type) that ``apply`` sends to turn ``live`` into ``manifest``.

    A strategic merge patch when navctl knows the kind's schema, else a JSON merge
    patch (kubectl does the same for kinds its OpenAPI does not describe).
    """
    from apitypes.patch import create_three_way_merge_patch

    modified = with_last_applied(manifest)
    original = original_of(live)
    if rtype.model is KubeObject:
        return create_three_way_merge_patch(original, modified, live, None), "merge"
    return create_three_way_merge_patch(original, modified, live, rtype.model), "strategic"


def set_namespace(
    manifest: Manifest, rtype: ResourceType, namespace: str, explicit: bool
) -> dict[str, Any]:
    """The object to send, with its namespace settled as kubectl settles it."""
    obj = copy.deepcopy(manifest.obj)
    if not rtype.namespaced:
        return obj
    meta = obj.setdefault("metadata", {})
    own = meta.get("namespace")
    if own and explicit and own != namespace:
        fail(
            f'the namespace from the provided object "{own}" does not match the namespace '
            f"\"{namespace}\". You must pass '--namespace={own}' to perform this operation."
        )
    if not own:
        meta["namespace"] = namespace
    return obj


def _suffix(dry_run: str) -> str:
    return {"client": " (dry run)", "server": " (server dry run)"}.get(dry_run, "")


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
            out(f"{kind_prefix(rtype)}/{obj['metadata']['name']} {action}{_suffix(dry_run)}\n")
    if printer.format and results:
        out(render(printer, results, single=len(results) == 1))
    for line in problems:
        err(line)
    return 1 if problems else 0


# --- create -f -------------------------------------------------------------------------


async def create_from_files(
    session: Session,
    filenames: list[str],
    *,
    recursive: bool = False,
    namespace: str | None = None,
    dry_run: str = "",
    output: str | None = None,
    save_config: bool = False,
    stdin: str | None = None,
) -> int:
    """Run ``navctl create -f``: POST each object; an existing one is an error."""
    from apiclient import errors

    manifests = load(filenames, recursive=recursive, stdin=stdin, verb="create")
    printer = Output.parse(output)
    ns = session.namespace(namespace)
    explicit = session.explicit_namespace(namespace)
    results: list[dict[str, Any]] = []
    problems: list[str] = []
    for manifest in manifests:
        validate(manifest)
        rtype = await session.resolver.resolve_kind(manifest.api_version, manifest.kind)
        obj = set_namespace(manifest, rtype, ns, explicit)
        if save_config:
            obj = with_last_applied(obj)
        meta = obj.get("metadata") or {}
        try:
            if dry_run == "client":
                created = obj
            else:
                created = await session.client.create_raw(
                    rtype, obj, meta.get("namespace"), dry_run=dry_run == "server"
                )
        except errors.ApiError as error:
            if isinstance(error, errors.ConnectionFailedError):
                raise
            line = api_error_line(error, session.server)
            if isinstance(error, errors.AlreadyExistsError):
                line = line.replace("): ", f'): error when creating "{manifest.source}": ', 1)
            problems.append(line)
            continue
        name = (created.get("metadata") or {}).get("name") or meta.get("name")
        if printer.format:
            results.append(created)
        else:
            out(f"{kind_prefix(rtype)}/{name} created{_suffix(dry_run)}\n")
    if printer.format and results:
        out(render(printer, results, single=len(results) == 1))
    for line in problems:
        err(line)
    return 1 if problems else 0
