"""Request bodies decoded within budgets (apiserver.safedecode, issue 12)."""

from __future__ import annotations

import json
import time

import pytest

from apiserver import safedecode
from apiserver.safedecode import MAX_ALIAS_NODES, MAX_DEPTH, BodyError


def billion_laughs(levels: int = 9) -> bytes:
    """The classic alias bomb: ``levels`` lists of nine references to the level below,
    9**levels strings when expanded, in about 70 bytes per level."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return ("\n".join(lines) + "\n").encode()


def nested_json(depth: int) -> bytes:
    return b'{"a":' * (depth - 1) + b"{}" + b"}" * (depth - 1)


def test_the_billion_laughs_is_refused_in_milliseconds() -> None:
    bomb = billion_laughs()
    assert len(bomb) < 700
    started = time.perf_counter()
    with pytest.raises(BodyError, match="aliases expand"):
        safedecode.load_yaml(bomb)
    assert time.perf_counter() - started < 0.05


def test_aliases_within_the_budget_are_expanded() -> None:
    doc = b"env: &env [{name: A, value: '1'}, {name: B, value: '2'}]\nc1: {env: *env}\nc2: {env: *env}\n"
    value = safedecode.load_yaml(doc)
    assert (
        value["c1"]["env"]
        == value["c2"]["env"]
        == [
            {"name": "A", "value": "1"},
            {"name": "B", "value": "2"},
        ]
    )
    # Just over the budget: one list of MAX_ALIAS_NODES scalars, referenced twice more.
    items = ",".join(["x"] * MAX_ALIAS_NODES)
    with pytest.raises(BodyError, match="aliases expand"):
        safedecode.load_yaml(f"a: &a [{items}]\nb: *a\nc: *a\n".encode())


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(BodyError, match="recursive"):
        safedecode.load_yaml(b"a: &a [*a]\n")


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 300, 900])
def test_deep_json_and_yaml_are_refused(depth: int) -> None:
    with pytest.raises(BodyError, match=f"more than {MAX_DEPTH} levels"):
        safedecode.load_json(nested_json(depth))
    with pytest.raises(BodyError, match=f"more than {MAX_DEPTH} levels"):
        safedecode.load_yaml(nested_json(depth))  # JSON is YAML


def test_the_deepest_allowed_body_decodes() -> None:
    assert safedecode.load_json(nested_json(MAX_DEPTH)) == json.loads(nested_json(MAX_DEPTH))
    assert safedecode.load_yaml(nested_json(MAX_DEPTH)) == json.loads(nested_json(MAX_DEPTH))
    # Brackets inside strings do not count as nesting.
    flat = json.dumps({"a": "[" * 500 + "{" * 500}).encode()
    assert safedecode.load_json(flat) == {"a": "[" * 500 + "{" * 500}


@pytest.mark.parametrize(
    "doc",
    [
        b"a: 100000000000000000000000000000\n",
        b"a: !!binary aGVsbG8=\n",
        b"1: a\n",
        b"a: !!set {x}\n",
    ],
    ids=["big-int", "binary", "int-key", "set"],
)
def test_yaml_values_json_cannot_hold_are_refused(doc: bytes) -> None:
    with pytest.raises(BodyError):
        safedecode.load_yaml(doc)


def test_yaml_timestamps_are_strings_as_in_json() -> None:
    value = safedecode.load_yaml(b"a: 2024-01-02\nb: 2024-01-02T03:04:05Z\n")
    assert value == {"a": "2024-01-02", "b": "2024-01-02T03:04:05+00:00"}
