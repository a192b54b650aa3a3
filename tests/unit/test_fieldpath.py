"""apitypes.fieldpath: path elements, field sets and their FieldsV1 encoding, checked
against documents Kubernetes writes."""

from __future__ import annotations

import orjson
import pytest

from apitypes import fieldpath as fp
from apitypes.fieldpath import FieldPathError, path_of

# What Kubernetes stores for ``kubectl apply --server-side`` of a Deployment with one
# container exposing a port (keys in the order Kubernetes writes them).
KUBERNETES_FIELDS_V1 = """
{"f:metadata":{"f:labels":{"f:app":{}}},
 "f:spec":{"f:replicas":{},"f:selector":{},
  "f:template":{"f:metadata":{"f:labels":{"f:app":{}}},
   "f:spec":{"f:containers":{"k:{\\"name\\":\\"web\\"}":{".":{},"f:image":{},"f:name":{},
    "f:ports":{"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},
     "f:containerPort":{}}}}}}}}}
"""

WEB = {"name": "web"}
PORT = {"containerPort": 80, "protocol": "TCP"}
CONTAINERS = ("spec", "template", "spec", "containers")


def test_a_kubernetes_document_decodes_to_its_paths() -> None:
    paths = fp.from_fields_v1(orjson.loads(KUBERNETES_FIELDS_V1))
    assert paths == {
        path_of("metadata", "labels", "app"),
        path_of("spec", "replicas"),
        path_of("spec", "selector"),
        path_of("spec", "template", "metadata", "labels", "app"),
        path_of(*CONTAINERS, WEB),
        path_of(*CONTAINERS, WEB, "image"),
        path_of(*CONTAINERS, WEB, "name"),
        path_of(*CONTAINERS, WEB, "ports", PORT),
        path_of(*CONTAINERS, WEB, "ports", PORT, "containerPort"),
    }


def test_encoding_gives_back_kubernetes_bytes() -> None:
    document = orjson.loads(KUBERNETES_FIELDS_V1)
    encoded = fp.to_fields_v1(fp.from_fields_v1(document))
    assert orjson.dumps(encoded) == orjson.dumps(document)


def test_a_member_with_members_below_says_dot_first() -> None:
    paths = {path_of("data"), path_of("data", "b"), path_of("data", "a")}
    assert orjson.dumps(fp.to_fields_v1(paths)) == b'{"f:data":{".":{},"f:a":{},"f:b":{}}}'


def test_elements_are_ordered_fields_keys_values_indexes() -> None:
    paths = {
        ("f:list", fp.index(1)),
        ("f:list", fp.value("b")),
        ("f:list", fp.value(2)),
        ("f:list", fp.key({"name": "z"})),
        ("f:list", fp.key({"name": "a", "port": 1})),
        ("f:list", fp.key({"name": "a"})),
        ("f:list", "f:zeta"),
        ("f:list", "f:alpha"),
    }
    assert list(fp.to_fields_v1(paths)["f:list"]) == [
        "f:alpha",
        "f:zeta",
        'k:{"name":"a"}',
        'k:{"name":"a","port":1}',
        'k:{"name":"z"}',
        "v:2",
        'v:"b"',
        "i:1",
    ]


def test_keys_and_values_are_canonical_json() -> None:
    # Sorted keys, Go's escapes, integral numbers without a fraction.
    assert fp.key({"protocol": "TCP", "containerPort": 80.0}) == (
        'k:{"containerPort":80,"protocol":"TCP"}'
    )
    assert fp.value("a<b&c") == 'v:"a\\u003cb\\u0026c"'
    assert fp.parse_element('k:{ "protocol": "TCP",  "containerPort": 80 }') == (
        'k:{"containerPort":80,"protocol":"TCP"}'
    )
    assert fp.parse_element("v:1.0") == "v:1"


def test_decoding_drops_unknown_element_types_and_rejects_malformed_ones() -> None:
    assert fp.from_fields_v1({"f:a": {}, "x:future": {"f:b": {}}}) == {path_of("a")}
    # A node with only unknown children is itself a member.
    assert fp.from_fields_v1({"f:a": {"x:future": {}}}) == {path_of("a")}
    for bad in ({"k:not json": {}}, {"k:[1]": {}}, {"i:one": {}}, {"f": {}}, {"f:a": 1}, []):
        with pytest.raises(FieldPathError):
            fp.from_fields_v1(bad)


def test_paths_print_as_kubernetes_prints_them() -> None:
    assert fp.path_text(path_of(*CONTAINERS, WEB, "image")) == (
        '.spec.template.spec.containers[name="web"].image'
    )
    assert fp.path_text(path_of("spec", "ports", PORT)) == (
        '.spec.ports[containerPort=80,protocol="TCP"]'
    )
    assert fp.path_text(("f:metadata", "f:finalizers", fp.value("a"))) == (
        '.metadata.finalizers[="a"]'
    )
    assert fp.path_text(("f:list", fp.index(3))) == ".list[3]"


def test_recursive_difference_drops_what_lies_below() -> None:
    paths = frozenset(
        {path_of("status", "phase"), path_of("status"), path_of("spec", "a"), path_of("spec")}
    )
    assert fp.recursive_difference(paths, frozenset({path_of("status")})) == {
        path_of("spec", "a"),
        path_of("spec"),
    }
    deep = frozenset({path_of("spec", "template", "x"), path_of("spec", "y")})
    assert fp.recursive_difference(deep, frozenset({path_of("spec", "template")})) == {
        path_of("spec", "y")
    }


def test_leaves_and_iteration_order() -> None:
    paths = frozenset({path_of("a"), path_of("a", "b"), path_of("c"), path_of("a", "b", "d")})
    assert fp.leaves(paths) == {path_of("c"), path_of("a", "b", "d")}
    # Members of a level first, then the subtrees (structured-merge-diff's Iterate).
    assert list(fp.iter_paths(paths)) == [".a", ".c", ".a.b", ".a.b.d"]
