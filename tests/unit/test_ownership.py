"""apitypes.ownership: applies and updates over field sets, the cases of
structured-merge-diff's ``merge/multiple_appliers_test.go`` (one API version: navarch
serves one per kind) and its conflict rules."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import ConfigDict

from apitypes import fieldpath as fp
from apitypes import ownership, typed
from apitypes.base import KubeModel, mapping, merge_list
from apitypes.ownership import ConflictError, VersionedSet


class Item(KubeModel):
    name: str
    value: int | None = None


class ListItem(KubeModel):
    name: str
    value: list[str] = merge_list()


class Complex(KubeModel):
    name: str | None = None


class Struct(KubeModel):
    name: str | None = None
    scalar_field: str | None = None
    complex_field: Complex | None = None


_Map5 = dict[str, dict[str, dict[str, dict[str, dict[str, Any] | None] | None] | None] | None]


class Root(KubeModel):
    """The shapes the structured-merge-diff tests use: an associative list keyed by
    ``name``, a keyed list whose items hold a set, a struct, a map of maps."""

    list_: list[Item] = merge_list("name")
    list_of_lists: list[ListItem] = merge_list("name")
    struct: Struct | None = None
    map_of_maps_recursive: _Map5 = mapping()


class Deduced(KubeModel):
    """Nothing declared: every value is deduced from itself."""

    model_config = ConfigDict(extra="allow")


class State:
    """An object and its managers, changed by applies and updates in turn."""

    def __init__(self, model: type[KubeModel] = Root) -> None:
        self.node = typed.of_model(model)
        self.obj: Any = {}
        self.managers: dict[str, VersionedSet] = {}

    def apply(self, manager: str, text: str, *, force: bool = False) -> None:
        config = yaml.safe_load(text) or {}
        new, self.managers = ownership.apply(
            self.obj, config, "v1", self.managers, manager, force=force, node=self.node
        )
        if new is not None:
            self.obj = new

    def update(self, manager: str, text: str) -> None:
        new = yaml.safe_load(text) or {}
        self.managers, _ = ownership.update(
            self.obj, new, "v1", self.managers, manager, node=self.node
        )
        self.obj = new

    def owned(self) -> dict[str, list[str]]:
        return {m: sorted(fp.iter_paths(s.fields)) for m, s in self.managers.items()}

    def applied(self) -> dict[str, bool]:
        return {m: s.applied for m, s in self.managers.items()}


def _paths(*texts: str) -> list[str]:
    return sorted(texts)


# --- TestMultipleAppliersSet -------------------------------------------------------------


def test_remove_one() -> None:
    state = State()
    state.apply("apply-one", "list: [{name: a}, {name: b}]")
    state.apply("apply-two", "list: [{name: c}]")
    state.apply("apply-one", "list: [{name: a}]")
    assert state.obj == {"list": [{"name": "a"}, {"name": "c"}]}
    assert state.owned() == {
        "apply-one": _paths('.list[name="a"]', '.list[name="a"].name'),
        "apply-two": _paths('.list[name="c"]', '.list[name="c"].name'),
    }


def test_same_value_no_conflict() -> None:
    state = State()
    state.apply("apply-one", "list: [{name: a, value: 0}]")
    state.apply("apply-two", "list: [{name: a, value: 0}]")
    assert state.obj == {"list": [{"name": "a", "value": 0}]}
    shared = _paths('.list[name="a"]', '.list[name="a"].name', '.list[name="a"].value')
    assert state.owned() == {"apply-one": shared, "apply-two": shared}


def test_change_value_yes_conflict() -> None:
    state = State()
    state.apply("apply-one", "list: [{name: a, value: 0}]")
    with pytest.raises(ConflictError) as caught:
        state.apply("apply-two", "list: [{name: a, value: 1}]")
    assert [(c.manager, fp.path_text(c.path)) for c in caught.value.conflicts] == [
        ("apply-one", '.list[name="a"].value')
    ]
    assert state.obj == {"list": [{"name": "a", "value": 0}]}
    assert list(state.owned()) == ["apply-one"]


def test_remove_one_keep_one() -> None:
    state = State()
    state.apply("apply-one", "list: [{name: a}, {name: b}, {name: c}]")
    state.apply("apply-two", "list: [{name: c}, {name: d}]")
    state.apply("apply-one", "list: [{name: a}]")
    assert state.obj == {"list": [{"name": "a"}, {"name": "c"}, {"name": "d"}]}
    assert state.owned() == {
        "apply-one": _paths('.list[name="a"]', '.list[name="a"].name'),
        "apply-two": _paths(
            '.list[name="c"]', '.list[name="c"].name', '.list[name="d"]', '.list[name="d"].name'
        ),
    }


# --- TestMultipleAppliersFieldUnsetting ------------------------------------------------------


def test_unset_scalar_sole_owner() -> None:
    state = State()
    state.apply("apply-one", "struct: {name: a, scalarField: a}")
    state.apply("apply-one", "struct: {name: a}")
    assert state.obj == {"struct": {"name": "a"}}
    assert state.owned() == {"apply-one": [".struct.name"]}


def test_unset_scalar_shared_with_applier() -> None:
    state = State()
    state.apply("apply-one", "struct: {name: a, scalarField: a}")
    state.apply("apply-two", "struct: {scalarField: a}")
    state.apply("apply-one", "struct: {name: a}")
    assert state.obj == {"struct": {"name": "a", "scalarField": "a"}}
    assert state.owned() == {"apply-one": [".struct.name"], "apply-two": [".struct.scalarField"]}


def test_unset_scalar_shared_with_updater() -> None:
    state = State()
    state.update("updater", "struct: {name: a, scalarField: a}")
    state.apply("applier", "struct: {name: a, scalarField: a}")
    state.apply("applier", "struct: {name: a}")
    assert state.obj == {"struct": {"name": "a", "scalarField": "a"}}
    assert state.owned() == {
        "updater": _paths(".struct", ".struct.name", ".struct.scalarField"),
        "applier": [".struct.name"],
    }
    assert state.applied() == {"updater": False, "applier": True}


def test_updater_claims_field() -> None:
    state = State()
    state.apply("applier", "struct: {name: a, scalarField: a}")
    state.update("updater", "struct: {name: a, scalarField: b}")
    assert state.obj == {"struct": {"name": "a", "scalarField": "b"}}
    assert state.owned() == {"applier": [".struct.name"], "updater": [".struct.scalarField"]}


def test_unset_complex_sole_owner() -> None:
    state = State()
    state.apply("apply-one", "struct: {name: a, complexField: {name: b}}")
    state.apply("apply-one", "struct: {name: a}")
    assert state.obj == {"struct": {"name": "a"}}
    assert state.owned() == {"apply-one": [".struct.name"]}


def test_unset_complex_shared_with_applier() -> None:
    state = State()
    state.apply("apply-one", "struct: {name: a, complexField: {name: b}}")
    state.apply("apply-two", "struct: {complexField: {name: b}}")
    state.apply("apply-one", "struct: {name: a}")
    assert state.obj == {"struct": {"name": "a", "complexField": {"name": "b"}}}
    assert state.owned() == {
        "apply-one": [".struct.name"],
        "apply-two": [".struct.complexField.name"],
    }


# --- TestMultipleAppliersNestedType ----------------------------------------------------------


def _lists_owned(*items: tuple[str, tuple[str, ...]], member: bool = True) -> list[str]:
    out = []
    for name, values in items:
        item = f'.listOfLists[name="{name}"]'
        out += [item, f"{item}.name"] if member else []
        out += [f'{item}.value[="{v}"]' for v in values]
    return sorted(out)


def test_remove_one_keep_one_with_two_sub_items() -> None:
    state = State()
    state.apply("apply-one", "listOfLists: [{name: a}, {name: b, value: [c]}]")
    state.apply("apply-two", "listOfLists: [{name: b, value: [d]}]")
    state.apply("apply-one", "listOfLists: [{name: a}]")
    assert state.obj == {"listOfLists": [{"name": "a"}, {"name": "b", "value": ["d"]}]}
    assert state.owned() == {
        "apply-one": _lists_owned(("a", ())),
        "apply-two": _lists_owned(("b", ("d",))),
    }


def test_remove_one_keep_one_with_dangling_subitem() -> None:
    state = State()
    state.apply("apply-one", "listOfLists: [{name: a}, {name: b, value: [c]}]")
    state.apply("apply-two", "listOfLists: [{name: b, value: [d]}]")
    state.update("controller", "listOfLists: [{name: a}, {name: b, value: [c, d, e]}]")
    state.apply("apply-one", "listOfLists: [{name: a}]")
    assert state.obj == {"listOfLists": [{"name": "a"}, {"name": "b", "value": ["d", "e"]}]}
    assert state.owned() == {
        "apply-one": _lists_owned(("a", ())),
        "apply-two": _lists_owned(("b", ("d",))),
        "controller": _lists_owned(("b", ("e",)), member=False),
    }


def test_remove_one_with_dangling_subitem_keep_one() -> None:
    state = State()
    state.apply("apply-one", "listOfLists: [{name: a}, {name: b, value: [c]}]")
    state.apply("apply-two", "listOfLists: [{name: a, value: [b]}]")
    state.update("controller", "listOfLists: [{name: a, value: [b]}, {name: b, value: [c, d]}]")
    state.apply("apply-one", "listOfLists: [{name: a}]")
    assert state.obj == {"listOfLists": [{"name": "a", "value": ["b"]}]}
    assert state.owned() == {
        "apply-one": _lists_owned(("a", ())),
        "apply-two": _lists_owned(("a", ("b",))),
    }


def test_remove_one_keep_one_with_sub_item() -> None:
    state = State()
    state.apply("apply-one", "listOfLists: [{name: a}, {name: b, value: [c]}]")
    state.apply("apply-two", "listOfLists: [{name: b, value: [d]}]")
    state.apply("apply-one", "listOfLists: [{name: a}]")
    assert state.obj == {"listOfLists": [{"name": "a"}, {"name": "b", "value": ["d"]}]}
    assert state.owned()["apply-two"] == _lists_owned(("b", ("d",)))


RECURSIVE_OPS = [
    ("apply", "apply-one", "{a: {b: null}, c: {d: null}}"),
    ("apply", "apply-two", "{a: null, c: {d: null}}"),
    ("update", "controller-one", "{a: {b: {c: null}}, c: {d: {e: null}}}"),
    ("update", "controller-two", "{a: {b: {c: {d: null}}}, c: {d: {e: {f: null}}}}"),
    ("update", "controller-one", "{a: {b: {c: {d: {e: null}}}}, c: {d: {e: {f: {g: null}}}}}"),
]


def _recursive(state: State, prefix: str, last: str) -> None:
    for op, manager, text in [*RECURSIVE_OPS, ("apply", "apply-one", last)]:
        body = f"{prefix}: {text}" if prefix and text else text
        getattr(state, op)(manager, body)


def test_multiple_appliers_recursive_map() -> None:
    state = State()
    _recursive(state, "mapOfMapsRecursive", "null")
    assert state.obj == {"mapOfMapsRecursive": {"a": None, "c": {"d": {"e": {"f": {"g": None}}}}}}
    root = ".mapOfMapsRecursive"
    assert state.owned() == {
        "apply-one": [root],
        "apply-two": _paths(f"{root}.a", f"{root}.c", f"{root}.c.d"),
        "controller-one": _paths(f"{root}.c.d.e", f"{root}.c.d.e.f.g"),
        "controller-two": [f"{root}.c.d.e.f"],
    }


def test_multiple_appliers_recursive_map_deduced() -> None:
    state = State(Deduced)
    _recursive(state, "", "")
    assert state.obj == {"a": None, "c": {"d": {"e": {"f": {"g": None}}}}}
    assert state.owned() == {
        "apply-two": _paths(".a", ".c", ".c.d"),
        "controller-one": _paths(".c.d.e", ".c.d.e.f.g"),
        "controller-two": [".c.d.e.f"],
    }


# --- forcing, and conflicts with updaters ----------------------------------------------------


def test_force_takes_the_field_from_its_owner() -> None:
    state = State()
    state.apply("apply-one", "struct: {name: a, scalarField: a}")
    state.apply("apply-two", "struct: {scalarField: b}", force=True)
    assert state.obj == {"struct": {"name": "a", "scalarField": "b"}}
    assert state.owned() == {"apply-one": [".struct.name"], "apply-two": [".struct.scalarField"]}


def test_an_applier_conflicts_with_an_updater_until_it_forces() -> None:
    state = State()
    state.update("controller", "list: [{name: a, value: 1}]")
    with pytest.raises(ConflictError) as caught:
        state.apply("applier", "list: [{name: a, value: 2}, {name: b, value: 2}]")
    assert [fp.path_text(c.path) for c in caught.value.conflicts] == ['.list[name="a"].value']
    state.apply("applier", "list: [{name: a, value: 2}, {name: b, value: 2}]", force=True)
    # The controller created the list and its item: it keeps all but the value.
    assert state.owned()["controller"] == _paths(".list", '.list[name="a"]', '.list[name="a"].name')


def test_conflicts_are_listed_by_manager_then_path() -> None:
    state = State()
    state.apply("b-owner", "struct: {name: x}")
    state.apply("a-owner", "list: [{name: a, value: 1}]\nstruct: {scalarField: x}")
    with pytest.raises(ConflictError) as caught:
        state.apply("third", "struct: {name: y, scalarField: y}\nlist: [{name: a, value: 2}]")
    # Managers in order; each one's paths as structured-merge-diff iterates them.
    assert [(c.manager, fp.path_text(c.path)) for c in caught.value.conflicts] == [
        ("a-owner", '.list[name="a"].value'),
        ("a-owner", ".struct.scalarField"),
        ("b-owner", ".struct.name"),
    ]


def test_an_update_takes_what_it_changed_and_drops_what_it_removed() -> None:
    state = State()
    state.apply("applier", "struct: {name: a, scalarField: a}")
    state.update("editor", "struct: {name: a}")
    # Removing a field is no conflict; nobody owns it any more.
    assert state.obj == {"struct": {"name": "a"}}
    assert state.owned() == {"applier": [".struct.name"]}


def test_reapplying_the_same_configuration_changes_nothing() -> None:
    state = State()
    state.apply("applier", "list: [{name: a, value: 1}]")
    config = {"list": [{"name": "a", "value": 1}]}
    new, managers = ownership.apply(
        state.obj, config, "v1", state.managers, "applier", force=False, node=state.node
    )
    assert new is None
    assert managers == state.managers
