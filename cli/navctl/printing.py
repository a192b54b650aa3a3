"""How ``navctl`` prints: the same bytes ``kubectl`` prints, wherever that can be matched.

- ``TabWriter`` lays out tab-separated cells as Go's ``text/tabwriter`` does (kubectl's
  tables use minimum width 6 and padding 3; ``describe`` uses 0 and 2), including the
  "remember widths" mode kubectl uses so that ``get -w`` rows stay aligned.
- ``table_lines`` turns a server-side ``meta.k8s.io`` Table into rows as kubectl's
  printer decorates them: priority columns only with ``-o wide``, a NAMESPACE column
  for ``-A``, ``kind/`` prefixes when several kinds print together, ``--show-labels``
  and ``-L`` label columns.
- ``to_yaml`` / ``to_json`` / ``go_json`` / ``go_value_text`` reproduce Go's
  encoders (sorted keys, HTML-safe escaping, double-quoted strings that would read
  back as another type, literal blocks for multi-line strings).
- ``age`` is apimachinery's age formatting (``5m30s``, ``3h``, ``12d``) of a timestamp.

Nothing here talks to the network; everything is a pure function of its input.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml

# --- Go's text/tabwriter ----------------------------------------------------------------


class TabWriter:
    """Aligns tab-terminated cells into columns, as Go's ``text/tabwriter`` does.

    A column is a block of consecutive lines that all have a cell in it; a line with
    fewer cells ends the block, so separate sections align separately (as in kubectl's
    ``describe``). The text after a line's last tab is never padded. With
    ``remember_widths`` the widths of earlier flushes are kept as minimums, so rows
    printed one at a time (watches) line up with the header printed first.
    """

    def __init__(
        self, *, minwidth: int = 6, padding: int = 3, remember_widths: bool = False
    ) -> None:
        self.minwidth = minwidth
        self.padding = padding
        self.remember_widths = remember_widths
        self._buffer = ""
        self._remembered: list[int] = []

    def write(self, text: str) -> None:
        self._buffer += text

    def reset_widths(self) -> None:
        self._remembered = []

    def flush(self) -> str:
        """Format everything written since the last flush (complete lines only)."""
        text, self._buffer = self._buffer, ""
        if not text:
            return ""
        trailing_newline = text.endswith("\n")
        lines = [line.split("\t") for line in text.split("\n")]
        if trailing_newline:
            lines.pop()
        out: list[str] = []
        self._format(lines, 0, len(lines), [], out)
        result = "\n".join(out)
        return result + "\n" if trailing_newline else result

    def _width(self, column: int, width: int) -> int:
        if not self.remember_widths:
            return width
        while len(self._remembered) <= column:
            self._remembered.append(0)
        width = max(width, self._remembered[column])
        self._remembered[column] = width
        return width

    def _format(
        self, lines: list[list[str]], line0: int, line1: int, widths: list[int], out: list[str]
    ) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            self._emit(lines, line0, this, widths, out)
            line0 = this
            width = self.minwidth
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + self.padding)
                this += 1
            width = self._width(column, width)
            self._format(lines, line0, this, [*widths, width], out)
            line0 = this
        self._emit(lines, line0, line1, widths, out)

    @staticmethod
    def _emit(
        lines: list[list[str]], line0: int, line1: int, widths: list[int], out: list[str]
    ) -> None:
        for cells in lines[line0:line1]:
            parts: list[str] = []
            for j, cell in enumerate(cells):
                if j < len(widths) and j < len(cells) - 1:
                    parts.append(cell.ljust(widths[j]))
                else:
                    parts.append(cell)
            out.append("".join(parts))


def tabulate(rows: Iterable[Sequence[str]], *, minwidth: int = 6, padding: int = 3) -> str:
    """Rows of cells laid out as kubectl lays out its tables (no trailing padding)."""
    writer = TabWriter(minwidth=minwidth, padding=padding)
    for row in rows:
        writer.write("\t".join(row) + "\n")
    return writer.flush()


# --- Go's fmt and encoding/json ---------------------------------------------------------


def go_float_text(value: float) -> str:
    """``fmt.Sprint(float64)``: the shortest text, integers without a fraction."""
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, _, exponent = text.partition("e")
        sign = "-" if exponent.startswith("-") else "+"
        digits = exponent.lstrip("+-").rjust(2, "0")
        text = f"{mantissa}e{sign}{digits}"
    return text


def go_value_text(value: Any) -> str:
    """``fmt.Sprintf("%v", value)`` for decoded JSON (``map[k:v]``, ``[a b]``, ``<nil>``)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float_text(value)
    if isinstance(value, dict):
        inner = " ".join(f"{k}:{go_value_text(value[k])}" for k in sorted(value))
        return f"map[{inner}]"
    if isinstance(value, list):
        return "[" + " ".join(go_value_text(v) for v in value) + "]"
    return str(value)


def _go_escape(text: str) -> str:
    # encoding/json escapes these so that JSON can be embedded in HTML.
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        # Go prints whole floats without a fraction; keep the ints ints.
        return int(value) if abs(value) < 1e21 else value
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def go_json(value: Any, *, indent: int | None = None) -> str:
    """``json.Marshal`` (compact) or ``json.MarshalIndent`` of decoded JSON: sorted keys."""
    if indent is None:
        text = json.dumps(
            _jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
    else:
        text = json.dumps(_jsonable(value), sort_keys=True, indent=indent, ensure_ascii=False)
    return _go_escape(text)


def to_json(value: Any) -> str:
    """What ``kubectl -o json`` prints: four-space indent, sorted keys, final newline."""
    return go_json(value, indent=4) + "\n"


# --- YAML as sigs.k8s.io/yaml writes it -------------------------------------------------


class _GoDumper(yaml.SafeDumper):
    """Strings that would read back as another type are double-quoted (as go-yaml does)."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value and not _has_trailing_space_lines(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    resolved = dumper.resolve(yaml.ScalarNode, value, (True, False))
    if resolved != "tag:yaml.org,2002:str" or value == "":
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


def _has_trailing_space_lines(value: str) -> bool:
    return any(line.endswith((" ", "\t")) for line in value.split("\n"))


def _represent_float(dumper: yaml.SafeDumper, value: float) -> yaml.ScalarNode:
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e21:
        return dumper.represent_int(int(value))
    return dumper.represent_scalar("tag:yaml.org,2002:float", go_float_text(value))


def _represent_none(dumper: yaml.SafeDumper, _value: None) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:null", "null")


_GoDumper.add_representer(str, _represent_str)
_GoDumper.add_representer(float, _represent_float)
_GoDumper.add_representer(type(None), _represent_none)


def _sorted_deep(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted_deep(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_deep(v) for v in value]
    return value


def to_yaml(value: Any) -> str:
    """What ``kubectl -o yaml`` prints: sorted keys, two-space indent, Go's quoting."""
    return yaml.dump(
        _sorted_deep(value),
        Dumper=_GoDumper,
        default_flow_style=False,
        sort_keys=False,
        allow_unicode=True,
        width=80,
    )


# --- durations -------------------------------------------------------------------------


def parse_time(text: str | None) -> datetime | None:
    """An RFC 3339 timestamp as the API writes it (``Z`` or an offset), or None."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def age(timestamp: str | None, now: datetime | None = None) -> str:
    """Time since ``timestamp`` as kubectl prints ages; ``<unknown>`` when absent."""
    from apitypes.duration import age as age_since

    return age_since(parse_time(timestamp), now)


# --- server-side tables ----------------------------------------------------------------

TABLE_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,"
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
    "application/json"
)
"""The Accept header ``kubectl get`` sends (server-side printing, JSON as a fallback)."""


@dataclass
class TableOptions:
    """kubectl's ``PrintOptions`` for server-side tables."""

    wide: bool = False
    no_headers: bool = False
    with_namespace: bool = False
    kind_prefix: str = ""
    """``deployment.apps`` when several kinds print together: names become ``kind/name``."""
    show_labels: bool = False
    label_columns: list[str] = field(default_factory=list)


def format_labels(labels: Mapping[str, str] | None) -> str:
    """``a=1,b=2`` (sorted), or ``<none>``, as apimachinery's ``labels.FormatLabels``."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def cell_text(cell: Any) -> str:
    """A table cell as kubectl prints it: text cut at its first line break."""
    if cell is None:
        return ""
    text = cell if isinstance(cell, str) else go_value_text(cell)
    for index, char in enumerate(text):
        if char in "\n\r\f":
            return text[:index] + "..."
    return text


def _row_metadata(row: Mapping[str, Any]) -> dict[str, Any]:
    obj = row.get("object") or {}
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    return meta if isinstance(meta, dict) else {}


def table_lines(
    table: Mapping[str, Any], options: TableOptions
) -> tuple[list[str], list[list[str]]]:
    """(headers, rows) of a Table decorated as kubectl decorates it; hidden columns dropped."""
    columns = list(table.get("columnDefinitions") or [])
    name_column = -1
    if options.kind_prefix:
        for i, col in enumerate(columns):
            if col.get("format") == "name" and col.get("type") == "string":
                name_column = i
                break
    visible = [i for i, col in enumerate(columns) if options.wide or not col.get("priority")]
    headers: list[str] = []
    if options.with_namespace:
        headers.append("NAMESPACE")
    headers.extend(str(columns[i].get("name", "")).upper() for i in visible)
    for label in options.label_columns:
        headers.append(label.rsplit("/", 1)[-1].upper())
    if options.show_labels:
        headers.append("LABELS")
    rows: list[list[str]] = []
    for row in table.get("rows") or []:
        cells = list(row.get("cells") or [])
        meta = _row_metadata(row)
        out: list[str] = []
        if options.with_namespace:
            out.append(str(meta.get("namespace") or ""))
        for i in visible:
            value = cells[i] if i < len(cells) else None
            text = cell_text(value)
            if i == name_column:
                text = f"{options.kind_prefix}/{text}"
            out.append(text)
        labels = meta.get("labels") or {}
        for label in options.label_columns:
            out.append(str(labels.get(label, "")))
        if options.show_labels:
            out.append(format_labels(labels))
        rows.append(out)
    return headers, rows


def kind_prefix(kind: str, group: str) -> str:
    """How kubectl names a kind in ``kind/name``: ``pod``, ``deployment.apps``."""
    return f"{kind}.{group}".lower() if group else kind.lower()


__all__ = [
    "TABLE_ACCEPT",
    "TabWriter",
    "TableOptions",
    "age",
    "cell_text",
    "format_labels",
    "go_float_text",
    "go_json",
    "go_value_text",
    "kind_prefix",
    "parse_time",
    "table_lines",
    "tabulate",
    "to_json",
    "to_yaml",
]
