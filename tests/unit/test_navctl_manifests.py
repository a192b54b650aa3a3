"""Reading ``-f`` manifests and printing objects as kubectl's printers do."""

from __future__ import annotations

import pytest

from cli.navctl.errors import CliError
from cli.navctl.manifests import Manifest, load, parse_documents, validate
from cli.navctl.output import Output, custom_columns, name_of, parse_columns, render

MULTI = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
data:
  when: 2024-01-01
  1: one
  yes: on
---
# a comment-only document is skipped
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Secret, metadata: {name: b}}
- {apiVersion: v1, kind: Service, metadata: {name: c}}
"""


def test_documents_lists_and_kubectl_scalars():
    objects = parse_documents(MULTI, "x.yaml")
    assert [o["metadata"]["name"] for o in objects] == ["a", "b", "c"]
    data = objects[0]["data"]
    # Timestamps stay strings (JSON has no time type); keys become strings.
    assert data["when"] == "2024-01-01"
    assert data["1"] == "one"
    assert data["true"] is True


def test_parse_error_names_the_file_and_line():
    with pytest.raises(CliError) as caught:
        parse_documents("a: [1, 2\nb: c\n", "bad.yaml")
    assert caught.value.message.startswith("error: error parsing bad.yaml:")
    assert "line" in caught.value.message


def test_a_document_must_be_a_mapping():
    with pytest.raises(CliError, match="must be a mapping"):
        parse_documents("- a\n- b\n", "list.yaml")


def test_validation_names_what_is_missing():
    with pytest.raises(CliError) as caught:
        validate(Manifest("m.yaml", {"metadata": {"name": "x"}}))
    assert caught.value.message == (
        'error: error validating "m.yaml": error validating data: '
        "[apiVersion not set, kind not set]"
    )


def test_directories_in_name_order_and_recursion(tmp_path):
    (tmp_path / "b.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n")
    (tmp_path / "a.json").write_text(
        '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}'
    )
    (tmp_path / "notes.txt").write_text("not a manifest")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "c.yml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    assert [m.name for m in load([str(tmp_path)])] == ["a", "b"]
    assert [m.name for m in load([str(tmp_path)], recursive=True)] == ["a", "b", "c"]


def test_stdin_and_missing_paths(tmp_path):
    found = load(["-"], stdin="apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n")
    assert found[0].source == "STDIN" and found[0].kind == "Pod"
    with pytest.raises(CliError, match=r'the path ".*nope.yaml" does not exist'):
        load([str(tmp_path / "nope.yaml")])
    with pytest.raises(CliError, match="no objects passed to apply"):
        load(["-"], stdin="# nothing\n")


OBJECTS = [
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"a": "1"}},
     "spec": {"template": {"spec": {"containers": [{"name": "x"}, {"name": "y"}]}}}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}},
]  # fmt: skip


def test_name_printer_uses_kind_and_group():
    assert [name_of(o) for o in OBJECTS] == ["deployment.apps/web", "configmap/cfg"]


def test_custom_columns_join_several_values_and_say_none_when_missing():
    columns = parse_columns(
        "NAME:.metadata.name,LABELS:.metadata.labels,C:.spec.template.spec.containers[*].name,X:.nope"
    )
    assert custom_columns(columns, OBJECTS).splitlines() == [
        "NAME   LABELS     C        X",
        "web    map[a:1]   x,y      <none>",
        "cfg    <none>     <none>   <none>",
    ]


def test_several_objects_print_as_a_list_and_one_bare():
    listed = render(Output.parse("json"), OBJECTS, single=False)
    assert '"kind": "List"' in listed and '"resourceVersion": ""' in listed
    single = render(Output.parse("yaml"), OBJECTS[:1], single=True)
    assert single.startswith("apiVersion: apps/v1\nkind: Deployment\n")
    text = render(Output.parse("jsonpath={.items[*].metadata.name}"), OBJECTS, single=False)
    assert text == "web cfg"


def test_unknown_output_format_names_the_allowed_ones():
    with pytest.raises(CliError, match="unable to match a printer suitable for the output format"):
        Output.parse("xml")
    with pytest.raises(CliError, match="expected <header>:<json-path-expr>"):
        Output.parse("custom-columns=NAME")


def test_output_leaves_managed_fields_out_unless_asked() -> None:
    entry = {"manager": "kubectl", "operation": "Apply", "fieldsV1": {"f:data": {}}}
    obj = {"kind": "ConfigMap", "metadata": {"name": "c", "managedFields": [entry]}}
    assert "managedFields" not in render(Output.parse("yaml"), [obj], single=True)
    assert "managedFields" not in render(Output.parse("json"), [obj, obj], single=False)
    shown = Output(format="json", managed_fields=True)
    assert '"managedFields"' in render(shown, [obj], single=True)
    assert obj["metadata"]["managedFields"] == [entry]  # the object itself is left alone
