"""kubectl's JSONPath dialect, as navctl implements it."""

from __future__ import annotations

import pytest

from cli.navctl.jsonpath import JSONPathError, parse, relaxed

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "labels": {"app": "web", "app.kubernetes.io/name": "w"}},
    "spec": {
        "containers": [
            {"name": "a", "image": "nginx", "ports": [{"containerPort": 80}]},
            {"name": "b", "image": "busybox", "ports": [{"containerPort": 9090}]},
        ],
        "terminationGracePeriodSeconds": 30,
        "enableServiceLinks": True,
    },
    "status": {
        "conditions": [
            {"type": "Ready", "status": "True"},
            {"type": "PodScheduled", "status": "True"},
        ]
    },
}
LIST = {"kind": "List", "items": [POD, {**POD, "metadata": {"name": "db"}}]}


def run(template, data=POD):
    return parse(template).execute(data)


def test_fields_and_literal_text():
    assert run("name={.metadata.name} kind={.kind}") == "name=web kind=Pod"


def test_scalars_print_as_go_prints_them_and_maps_as_json():
    assert run("{.spec.terminationGracePeriodSeconds}|{.spec.enableServiceLinks}") == "30|true"
    assert run("{.metadata.labels}") == '{"app":"web","app.kubernetes.io/name":"w"}'


def test_wildcards_join_results_with_spaces():
    assert run("{.spec.containers[*].name}") == "a b"
    assert run("{.items[*].metadata.name}", LIST) == "web db"


def test_range_end_and_quoted_escapes():
    template = '{range .items[*]}{.metadata.name}{"\\t"}{.kind}{"\\n"}{end}'
    assert run(template, LIST) == "web\tPod\ndb\tPod\n"


def test_nested_ranges():
    template = "{range .items[*]}[{range .spec.containers[*]}{.name},{end}]{end}"
    assert run(template, {"items": [POD, POD]}) == "[a,b,][a,b,]"


def test_filters_compare_strings_and_numbers():
    assert run('{.status.conditions[?(@.type=="Ready")].status}') == "True"
    assert run("{.spec.containers[?(@.ports[0].containerPort > 100)].name}") == "b"
    assert run('{.spec.containers[?(@.name != "a")].image}') == "busybox"


def test_filter_existence():
    data = {"xs": [{"a": 1}, {"b": 2}, {"a": 3}]}
    assert run("{.xs[?(@.a)].a}", data) == "1 3"


def test_indexes_slices_negative_and_unions():
    assert run("{.spec.containers[0].name}") == "a"
    assert run("{.spec.containers[-1].name}") == "b"
    assert run("{.spec.containers[0:1].name}") == "a"
    assert run("{.spec.containers[0,1].image}") == "nginx busybox"
    assert run("{.metadata['name']}") == "web"


def test_escaped_dots_in_keys():
    assert run("{.metadata.labels.app\\.kubernetes\\.io/name}") == "w"


def test_recursive_descent():
    assert run("{..containerPort}") == "80 9090"


def test_missing_keys_print_nothing():
    assert run("[{.metadata.nope}]") == "[]"
    assert run("{.spec.containers[*].missing}") == ""


def test_out_of_range_index_is_an_error():
    with pytest.raises(JSONPathError, match="out of bounds"):
        run("{.spec.containers[5]}")


@pytest.mark.parametrize("template", ["{.a", "{range .x}{.y}", "{end}", "{.a[?(@.b == 1}"])
def test_malformed_templates_are_refused(template):
    with pytest.raises(JSONPathError):
        parse(template)


def test_find_returns_values_per_expression():
    assert parse("{.spec.containers[*].name}").find(POD) == [["a", "b"]]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("metadata.name", "{.metadata.name}"),
        (".metadata.name", "{.metadata.name}"),
        ("{metadata.name}", "{.metadata.name}"),
        ("{.metadata.name}", "{.metadata.name}"),
    ],
)
def test_relaxed_paths(given, expected):
    assert relaxed(given) == expected


def test_relaxed_refuses_templates_with_literal_text():
    with pytest.raises(JSONPathError):
        relaxed("{.a}{.b}")
