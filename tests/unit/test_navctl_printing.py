"""navctl's printers: Go's tabwriter, kubectl's table decoration, YAML/JSON, ages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from apitypes.duration import human_duration
from cli.navctl.printing import (
    TableOptions,
    TabWriter,
    age,
    cell_text,
    format_labels,
    go_float_text,
    go_json,
    go_value_text,
    table_lines,
    tabulate,
    to_json,
    to_yaml,
)


def test_tabulate_pads_to_the_widest_cell_plus_padding_with_a_minimum():
    text = tabulate([["NAME", "READY", "AGE"], ["p1", "0/1", "5m"], ["a-long-name", "1/1", "1d"]])
    assert text.splitlines() == [
        "NAME          READY   AGE",
        "p1            0/1     5m",
        "a-long-name   1/1     1d",
    ]


def test_minimum_width_applies_to_short_columns():
    # kubectl's tables: minimum cell width 6 (padding included).
    assert tabulate([["A", "B"], ["x", "y"]]).splitlines() == ["A     B", "x     y"]


def test_last_cell_is_never_padded_but_an_empty_last_cell_pads_its_column():
    writer = TabWriter(minwidth=0, padding=2)
    writer.write("IP:\t\nName:\tp1\n")
    assert writer.flush() == "IP:    \nName:  p1\n"


def test_a_line_without_tabs_ends_a_column_block():
    writer = TabWriter(minwidth=0, padding=2)
    writer.write("Name:\tx\nA-much-longer-key:\ty\nSection:\n  k:\tv\n")
    assert writer.flush().splitlines() == [
        "Name:               x",
        "A-much-longer-key:  y",
        "Section:",
        "  k:  v",
    ]


def test_remembered_widths_keep_later_rows_aligned_with_the_header():
    writer = TabWriter(remember_widths=True)
    writer.write("NAME\tREADY\nweb-1\t1/1\n")
    first = writer.flush()
    writer.write("w\t0/1\n")
    assert first.splitlines()[1].index("1/1") == writer.flush().index("0/1")


POD_TABLE = {
    "kind": "Table",
    "columnDefinitions": [
        {"name": "Name", "type": "string", "format": "name", "priority": 0},
        {"name": "Ready", "type": "string", "format": "", "priority": 0},
        {"name": "Restarts", "type": "integer", "format": "", "priority": 0},
        {"name": "IP", "type": "string", "format": "", "priority": 1},
        {"name": "Nominated Node", "type": "string", "format": "", "priority": 1},
    ],
    "rows": [
        {
            "cells": ["web-1", "1/1", 0, "10.0.0.5", None],
            "object": {
                "metadata": {"name": "web-1", "namespace": "prod", "labels": {"b": "2", "a": "1"}}
            },
        }
    ],
}


def test_priority_columns_only_with_wide():
    headers, rows = table_lines(POD_TABLE, TableOptions())
    assert headers == ["NAME", "READY", "RESTARTS"]
    assert rows == [["web-1", "1/1", "0"]]
    headers, rows = table_lines(POD_TABLE, TableOptions(wide=True))
    assert headers == ["NAME", "READY", "RESTARTS", "IP", "NOMINATED NODE"]
    assert rows == [["web-1", "1/1", "0", "10.0.0.5", ""]]


def test_namespace_kind_prefix_and_label_columns_decorate_as_kubectl():
    options = TableOptions(
        with_namespace=True, kind_prefix="pod", show_labels=True, label_columns=["a", "x/b"]
    )
    headers, rows = table_lines(POD_TABLE, options)
    assert headers == ["NAMESPACE", "NAME", "READY", "RESTARTS", "A", "B", "LABELS"]
    assert rows == [["prod", "pod/web-1", "1/1", "0", "1", "", "a=1,b=2"]]


def test_cells_are_cut_at_the_first_line_break():
    assert cell_text("first\nsecond") == "first..."
    assert cell_text(None) == ""
    assert cell_text(True) == "true"
    assert cell_text(2.0) == "2"


def test_labels_format_sorted_or_none():
    assert format_labels({"z": "1", "a": "2"}) == "a=2,z=1"
    assert format_labels({}) == "<none>"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (45, "45s"),
        (119, "119s"),
        (120, "2m"),
        (330, "5m30s"),
        (600, "10m"),
        (179 * 60, "179m"),
        (3 * 3600, "3h"),
        (7 * 3600 + 59 * 60, "7h59m"),
        (30 * 3600, "30h"),
        (3 * 86400 + 5 * 3600, "3d5h"),
        (100 * 86400, "100d"),
        (3 * 365 * 86400 + 10 * 86400, "3y10d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_human_duration_matches_apimachinery(seconds, text):
    assert human_duration(seconds) == text


def test_age_of_a_timestamp():
    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    stamp = (now - timedelta(minutes=5, seconds=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert age(stamp, now) == "5m3s"
    assert age(None, now) == "<unknown>"


def test_yaml_quotes_what_would_read_back_as_another_type():
    text = to_yaml(
        {
            "b": "7",
            "a": "2024-01-01T00:00:00Z",
            "c": "plain",
            "d": "true",
            "e": "",
            "f": "line one\nline two\n",
            "g": ["x"],
            "h": 3.0,
        }
    )
    assert text == (
        'a: "2024-01-01T00:00:00Z"\n'
        'b: "7"\n'
        "c: plain\n"
        'd: "true"\n'
        'e: ""\n'
        "f: |\n  line one\n  line two\n"
        "g:\n- x\n"
        "h: 3\n"
    )
    assert yaml.safe_load(text)["b"] == "7"


def test_json_is_sorted_indented_and_html_safe_as_go_writes_it():
    assert to_json({"b": 1, "a": "<x>&"}) == (
        '{\n    "a": "\\u003cx\\u003e\\u0026",\n    "b": 1\n}\n'
    )
    assert go_json({"k": "é", "a": [1, 2.5]}) == '{"a":[1,2.5],"k":"é"}'


def test_go_value_text_prints_maps_and_lists_as_fmt_does():
    assert go_value_text({"b": 1, "a": "x"}) == "map[a:x b:1]"
    assert go_value_text(["a", {"k": None}]) == "[a map[k:<nil>]]"
    assert go_float_text(1e21) == "1e+21"
    assert go_float_text(0.5) == "0.5"
