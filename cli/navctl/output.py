"""``-o`` output formats for whole objects, as kubectl's printers produce them.

``Output.parse`` reads the flag (``wide``, ``yaml``, ``json``, ``name``,
``jsonpath=...``, ``jsonpath-file=...``, ``jsonpath-as-json=...``,
``custom-columns=...``, ``custom-columns-file=...``); ``render`` prints a list of
object dicts in that format, wrapping several objects in a ``List`` as kubectl does.
Tables (the default and ``wide``) are printed from server-side Tables by
``commands/get``; ``custom-columns`` is the client-side table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cli.navctl.errors import fail
from cli.navctl.jsonpath import JSONPath, parse, relaxed
from cli.navctl.printing import go_json, go_value_text, tabulate, to_json, to_yaml

_ALLOWED = (
    "custom-columns, custom-columns-file, json, jsonpath, jsonpath-as-json, jsonpath-file, "
    "name, wide, yaml"
)


@dataclass
class Column:
    header: str
    path: JSONPath


@dataclass
class Output:
    """A parsed ``-o`` flag; ``format`` is ``""`` for the default table."""

    format: str = ""
    template: JSONPath | None = None
    columns: list[Column] | None = None
    managed_fields: bool = False
    """Print ``metadata.managedFields`` (kubectl's ``--show-managed-fields``)."""

    @property
    def is_table(self) -> bool:
        return self.format in ("", "wide")

    @classmethod
    def parse(cls, flag: str | None) -> Output:
        if not flag:
            return cls()
        name, sep, arg = flag.partition("=")
        if name in ("wide", "yaml", "json", "name") and not sep:
            return cls(name)
        if name in ("jsonpath", "jsonpath-as-json", "jsonpath-file"):
            if name == "jsonpath-file":
                arg = Path(arg).read_text()
            if not arg:
                fail("template format specified but no template given")
            return cls("jsonpath-as-json" if name == "jsonpath-as-json" else "jsonpath", parse(arg))
        if name in ("custom-columns", "custom-columns-file"):
            spec = arg if name == "custom-columns" else _columns_file(arg)
            if not spec:
                fail("custom-columns format specified but no custom columns given")
            return cls("custom-columns", columns=parse_columns(spec))
        if name in ("go-template", "go-template-file", "template", "templatefile"):
            fail(f"output format {name!r} is not supported by navctl; use jsonpath")
        fail(
            f'unable to match a printer suitable for the output format "{flag}", '
            f"allowed formats are: {_ALLOWED}"
        )


def _columns_file(path: str) -> str:
    lines = [line.split() for line in Path(path).read_text().splitlines() if line.strip()]
    if len(lines) != 2 or len(lines[0]) != len(lines[1]):
        fail(f"{path}: expected a line of headers and a line of JSONPath expressions")
    return ",".join(f"{h}:{p}" for h, p in zip(lines[0], lines[1], strict=True))


def parse_columns(spec: str) -> list[Column]:
    """``NAME:.metadata.name,IMAGE:.spec.containers[*].image`` as columns."""
    columns: list[Column] = []
    for part in spec.split(","):
        header, sep, path = part.partition(":")
        if not sep:
            fail(f"unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>")
        columns.append(Column(header, parse(relaxed(path))))
    return columns


def with_type(obj: dict[str, Any], api_version: str, kind: str) -> dict[str, Any]:
    """``obj`` with ``apiVersion`` and ``kind`` set (list items often lack them)."""
    if obj.get("apiVersion") and obj.get("kind"):
        return obj
    typed = {"apiVersion": api_version, "kind": kind}
    typed.update(obj)
    typed["apiVersion"] = obj.get("apiVersion") or api_version
    typed["kind"] = obj.get("kind") or kind
    return typed


def as_list(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "items": objects,
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    }


def name_of(obj: dict[str, Any]) -> str:
    """``kind.group/name`` as ``-o name`` prints it."""
    api_version = obj.get("apiVersion") or ""
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    kind = (obj.get("kind") or "").lower()
    prefix = f"{kind}.{group}" if group else kind
    return f"{prefix}/{(obj.get('metadata') or {}).get('name', '')}"


def custom_columns(
    columns: list[Column], objects: list[dict[str, Any]], *, no_headers: bool = False
) -> str:
    """kubectl's custom-columns table: ``<none>`` for missing, ``,`` between several."""
    rows: list[list[str]] = []
    if not no_headers:
        rows.append([c.header for c in columns])
    for obj in objects:
        row: list[str] = []
        for column in columns:
            found = column.path.find(obj)
            values = [v for group in found for v in group]
            if not found or not found[0]:
                row.append("<none>")
            else:
                row.append(",".join(go_value_text(v) for v in values))
        rows.append(row)
    return tabulate(rows)


def render(
    output: Output,
    objects: list[dict[str, Any]],
    *,
    single: bool,
    no_headers: bool = False,
) -> str:
    """Text for ``objects`` in a non-table format; ``single`` prints one object bare.
    Their ``managedFields`` are left out unless asked for, as kubectl leaves them out."""
    if not output.managed_fields:
        objects = [omit_managed_fields(obj) for obj in objects]
    doc: dict[str, Any] = objects[0] if single and len(objects) == 1 else as_list(objects)
    if output.format == "yaml":
        return to_yaml(doc)
    if output.format == "json":
        return to_json(doc)
    if output.format == "name":
        return "".join(name_of(obj) + "\n" for obj in objects)
    if output.format == "jsonpath":
        assert output.template is not None
        return output.template.execute(doc)
    if output.format == "jsonpath-as-json":
        assert output.template is not None
        found = [v for group in output.template.find(doc) for v in group]
        return go_json(found, indent=4) + "\n"
    if output.format == "custom-columns":
        assert output.columns is not None
        return custom_columns(output.columns, objects, no_headers=no_headers)
    raise AssertionError(f"not a generic format: {output.format}")


def omit_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` without ``metadata.managedFields`` (a shallow copy when it has them)."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or "managedFields" not in meta:
        return obj
    return {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}


def render_one(output: Output, obj: dict[str, Any]) -> str:
    """One object (a watch event, a created object) in ``output``'s format."""
    return render(output, [obj], single=True, no_headers=True)
