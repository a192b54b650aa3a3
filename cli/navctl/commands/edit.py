"""``navctl edit``: open objects in an editor, then send what changed.

As kubectl does: the object is written as YAML (or JSON) under a comment header into a
temporary file and ``$KUBE_EDITOR`` / ``$EDITOR`` (default ``vi``) runs on it. Comment
lines are dropped when reading it back; an empty file or an unchanged one cancels. The
change goes out as a patch computed from the object as read (strategic merge for kinds
navctl knows, JSON merge otherwise), so fields others change meanwhile are kept. If the
apiserver refuses it, the file re-opens with the reason as comments at the top; saving
it again without a change gives up and keeps a copy of the edit.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml

from cli.navctl.console import out
from cli.navctl.errors import CliError, fail
from cli.navctl.manifests import load
from cli.navctl.options import Filenames, Namespace, ResourceArgs, verb_app
from cli.navctl.output import omit_managed_fields
from cli.navctl.printing import to_json, to_yaml
from cli.navctl.resources import Target, kind_prefix, parse_targets
from cli.navctl.session import Session, run

if TYPE_CHECKING:
    from apitypes.registry import ResourceType

app = verb_app()


@app.command("edit")
def edit_cmd(
    args: ResourceArgs = None,
    namespace: Namespace = None,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="Edit as yaml (default) or json; print the result."),
    ] = None,
    filename: Filenames = None,
) -> None:
    """Edit an object in $KUBE_EDITOR or $EDITOR (default vi), then save it.

    On a refused change the file re-opens with the error as a comment at the top, as
    kubectl does; saving it unchanged (or empty) cancels the edit.

    [bold]Examples:[/bold]

      navctl edit deploy/web

      KUBE_EDITOR=nano navctl edit configmap settings -o json
    """

    async def go(session: Session) -> int:
        return await edit(
            session, args or [], namespace=namespace, fmt=output or "yaml",
            filenames=filename or [], print_result=output is not None,
        )  # fmt: skip

    run(go)


# --- implementation --------------------------------------------------------------------------

HEADER = (
    "# Please edit the object below. Lines beginning with a '#' will be ignored,\n"
    "# and an empty file will abort the edit. If an error occurs while saving this file will be\n"
    "# reopened with the relevant failures.\n"
    "#\n"
)


def editor_command() -> list[str]:
    """The editor kubectl would run: ``KUBE_EDITOR``, ``EDITOR``, else ``vi``."""
    for name in ("KUBE_EDITOR", "EDITOR"):
        value = os.environ.get(name)
        if value:
            return shlex.split(value)
    return ["vi"]


def strip_comments(text: str) -> str:
    return "".join(
        line for line in text.splitlines(keepends=True) if not line.lstrip().startswith("#")
    )


def error_comment(messages: list[str]) -> str:
    lines: list[str] = []
    for message in messages:
        for part in message.splitlines():
            lines.append(f"# {part}")
    lines.append("#")
    return "\n".join(lines) + "\n"


def serialize(obj: dict[str, Any], fmt: str) -> str:
    return to_json(obj) if fmt == "json" else to_yaml(obj)


def parse_edited(text: str) -> Any:
    """The edited document (YAML or JSON); a ``CliError`` says why it does not parse."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CliError(f"error: edited file is not valid YAML or JSON: {error}") from error


def edit_patch(
    rtype: ResourceType, original: dict[str, Any], edited: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    """(patch, type) turning ``original`` into ``edited``, as kubectl edit computes it."""
    from apitypes.base import KubeObject
    from apitypes.patch import create_merge_patch, create_two_way_merge_patch

    for field in ("apiVersion", "kind"):
        if edited.get(field) != original.get(field):
            raise CliError(f"error: {field} may not be changed by edit")
    if (edited.get("metadata") or {}).get("name") != (original.get("metadata") or {}).get("name"):
        raise CliError("error: metadata.name may not be changed by edit")
    if rtype.model is KubeObject:
        patch = create_merge_patch(original, edited)
        return (patch if isinstance(patch, dict) else {}), "merge"
    return create_two_way_merge_patch(original, edited, rtype.model), "strategic"


def edit_text(path: Path, text: str) -> str:
    """Let the person edit ``text`` in ``path``; what the file holds afterwards."""
    path.write_text(text)
    run_editor(path)
    return path.read_text()


def discard(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def run_editor(path: Path) -> None:
    command = [*editor_command(), str(path)]
    try:
        result = subprocess.run(command, check=False)
    except FileNotFoundError as error:
        raise CliError(f"error: unable to launch the editor {command[0]!r}: {error}") from error
    if result.returncode != 0:
        raise CliError(f"error: there was a problem with the editor {command[0]!r}")


async def _load_targets(session: Session, args: list[str], filenames: list[str]) -> list[Target]:
    if filenames:
        targets: list[Target] = []
        for m in load(filenames, verb="edit"):
            rtype = await session.resolver.resolve_kind(m.api_version, m.kind)
            targets.append(Target(rtype, [m.name]))
        return targets
    return await parse_targets(session.resolver, args, verb="edit")


async def edit(
    session: Session,
    args: list[str],
    *,
    namespace: str | None = None,
    fmt: str = "yaml",
    filenames: list[str] | None = None,
    print_result: bool = False,
) -> int:
    """Run ``navctl edit``: one editor session per object."""
    if fmt not in ("yaml", "json"):
        fail(f"the edit mode must be yaml or json, not {fmt!r}")
    targets = await _load_targets(session, args, filenames or [])
    ns = session.namespace(namespace)
    objects: list[tuple[ResourceType, dict[str, Any]]] = []
    for target in targets:
        rtype = target.resource
        obj_ns = ns if rtype.namespaced else None
        if not target.names:
            listed = await session.client.list_raw(rtype, obj_ns)
            names = [(o.get("metadata") or {}).get("name", "") for o in listed.get("items") or []]
        else:
            names = target.names
        for name in names:
            # As kubectl edit does: managedFields are not the editor's to see or change.
            obj = omit_managed_fields(await session.client.get_raw(rtype, name, obj_ns))
            obj.setdefault("apiVersion", rtype.api_version)
            obj.setdefault("kind", rtype.kind)
            objects.append((rtype, obj))
    if not objects:
        fail("no objects to edit")
    code = 0
    for rtype, obj in objects:
        code |= await _edit_one(session, rtype, obj, fmt, print_result)
    return code


async def _edit_one(
    session: Session, rtype: ResourceType, obj: dict[str, Any], fmt: str, print_result: bool
) -> int:
    from apiclient import errors

    meta = obj.get("metadata") or {}
    label = f"{kind_prefix(rtype)}/{meta.get('name')}"
    suffix = ".json" if fmt == "json" else ".yaml"
    handle, name = tempfile.mkstemp(prefix=f"navctl-edit-{os.getpid()}-", suffix=suffix)
    os.close(handle)
    path = Path(name)
    body = serialize(obj, fmt)
    problems: list[str] = []
    previous_attempt: str | None = None
    keep_copy = False
    try:
        while True:
            header = HEADER + (error_comment(problems) if problems else "")
            edited_text = strip_comments(edit_text(path, header + body))
            if not edited_text.strip():
                out("Edit cancelled, no changes made.\n")
                return 0
            if previous_attempt is not None and edited_text == previous_attempt:
                keep_copy = True
                raise CliError(
                    f"error: Edit cancelled, no valid changes were saved. A copy of your changes "
                    f'has been stored to "{path}"'
                )
            edited = parse_edited(edited_text)
            if edited == obj or (isinstance(edited, dict) and _same(edited, obj)):
                out("Edit cancelled, no changes made.\n")
                return 0
            if not isinstance(edited, dict):
                problems = ["the edited file must hold one object"]
                previous_attempt, body = edited_text, edited_text
                continue
            try:
                patch, patch_type = edit_patch(rtype, obj, edited)
                if not patch:
                    out("Edit cancelled, no changes made.\n")
                    return 0
                result = await session.client.patch_raw(
                    rtype, meta.get("name", ""), patch, meta.get("namespace"),
                    patch_type=patch_type,
                )  # fmt: skip
            except (CliError, errors.ApiError) as error:
                if isinstance(error, errors.ConnectionFailedError):
                    raise
                text = (
                    error.message
                    if isinstance(error, CliError)
                    else _api_problem(error, f'{rtype.qualified} "{meta.get("name")}"')
                )
                problems = [text.removeprefix("error: ")]
                previous_attempt, body = edited_text, edited_text
                continue
            if print_result:
                result.setdefault("apiVersion", rtype.api_version)
                result.setdefault("kind", rtype.kind)
                out(serialize(result, fmt))
            else:
                out(f"{label} edited\n")
            return 0
    finally:
        if not keep_copy:
            discard(path)


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _api_problem(error: Any, what: str) -> str:
    """The refusal, as kubectl writes it into the re-opened file."""
    causes = [
        f"* {c.get('field')}: {c.get('message')}" if c.get("field") else f"* {c.get('message')}"
        for c in getattr(error, "causes", [])
    ]
    if causes:
        return "\n".join([f"{what} was not valid:", *causes])
    err_text: str = error.message
    return err_text


__all__ = ["edit", "edit_patch", "editor_command", "strip_comments"]
