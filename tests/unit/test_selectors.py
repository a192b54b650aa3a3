"""Tests for apitypes.selectors: label and field selectors."""

from __future__ import annotations

from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apitypes.meta import LabelSelector, LabelSelectorRequirement
from apitypes.selectors import (
    EVERYTHING,
    EVERYTHING_FIELDS,
    NOTHING,
    FieldRequirement,
    FieldSelectorExpr,
    LabelSelectorExpr,
    Operator,
    Requirement,
    SelectorError,
    escape_field_value,
    field_selector_from_set,
    format_label_selector,
    from_label_selector,
    parse_field_selector,
    parse_label_selector,
    selector_from_set,
    to_label_selector,
    to_string,
    unescape_field_value,
)
from apitypes.validation import ErrorType

parse = parse_label_selector


def req(key: str, op: Operator, *values: str) -> Requirement:
    return Requirement.new(key, op, values)


# --- parsing label selectors -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["x=a,y=b,z=c", "", "x!=a,y=b", "x=", "x= ", "x=,z= ", "x= ,z= ", "!x", "x>1", "x>1,z<5"],
)
def test_good_selectors_restring_without_blanks(text: str) -> None:
    assert str(parse(text)) == text.replace(" ", "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x=a||y=b", None),
        ("x==a==b", "found '==', expected: ',' or 'end of string'"),
        ("!x=a", "found '=', expected: ',' or 'end of string'"),
        (
            "x<a",
            'unable to parse requirement: values[0]: Invalid value: "a": '
            "for 'Gt', 'Lt' operators, the value must be an integer",
        ),
        ("x,,y", "found ',', expected: identifier after ','"),
        (",x,y", "found ',', expected: !, identifier, or 'end of string'"),
        (
            "x nott in (y)",
            "unable to parse requirement: found 'nott', expected: in, notin, =, ==, !=, gt, lt",
        ),
        ("a in (xyz),", "found '', expected: identifier after ','"),
        ("a in (xyz)b notin ()", "found 'b', expected: ',' or 'end of string'"),
        ("a in (xyz abc)", "unable to parse requirement: found 'abc', expected: ',' or ')'"),
        ("a notin(", "unable to parse requirement: found '', expected: ',', ')' or identifier"),
        ("a (", "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"),
        ("(", "found '(', expected: !, identifier, or 'end of string'"),
        ("a in b", "unable to parse requirement: found 'b' expected: '('"),
        ("a in (x,=)", "unable to parse requirement: found '=', expected: ',', or identifier"),
        ("a=(", "unable to parse requirement: found '(', expected: identifier"),
        ("!", "unable to parse requirement: found '', expected: identifier"),
        ("a>=1", "unable to parse requirement: found '=', expected: identifier"),
        ("a=b c", "found 'c', expected: ',' or 'end of string'"),
    ],
)
def test_bad_selectors(text: str, message: str | None) -> None:
    with pytest.raises(SelectorError) as err:
        parse(text)
    assert isinstance(err.value, ValueError)
    if message is not None:
        assert str(err.value) == message


def test_invalid_key_error_names_the_key() -> None:
    with pytest.raises(SelectorError) as err:
        parse("Foo_/bar=x")
    message = str(err.value)
    assert message.startswith('unable to parse requirement: key: Invalid value: "Foo_/bar": ')
    assert "prefix part a lowercase RFC 1123 subdomain" in message
    assert [e.field for e in err.value.field_errors] == ["key"]


def test_invalid_value_error_names_the_value() -> None:
    with pytest.raises(SelectorError) as err:
        parse("app in (ok,-bad-)")
    assert str(err.value).startswith(
        'unable to parse requirement: values[0]: Invalid value: "-bad-": a valid label must'
    )
    errors = err.value.field_errors
    assert [(e.type, e.field, e.bad_value) for e in errors] == [
        (ErrorType.INVALID, "values[0]", "-bad-")
    ]


def test_several_problems_are_aggregated() -> None:
    with pytest.raises(SelectorError) as err:
        parse("a>x" + "y" * 70)
    text = str(err.value)
    assert text.startswith("unable to parse requirement: [values[0]: Invalid value:")
    assert "must be an integer" in text
    assert "must be no more than 63 characters" in text


@pytest.mark.parametrize(
    ("text", "requirements"),
    [
        ("", []),
        ("\rx", [("x", Operator.EXISTS, ())]),
        (
            "this-is-a-dns.domain.com/key-with-dash",
            [("this-is-a-dns.domain.com/key-with-dash", Operator.EXISTS, ())],
        ),
        (
            "this-is-another-dns.domain.com/key-with-dash in (so,what)",
            [("this-is-another-dns.domain.com/key-with-dash", Operator.IN, ("so", "what"))],
        ),
        (
            "0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
            [("0.1.2.domain/99", Operator.NOT_IN, ("10.10.100.1", "tick.tack.clock"))],
        ),
        ("foo  in\t (abc)", [("foo", Operator.IN, ("abc",))]),
        ("x notin\n (abc)", [("x", Operator.NOT_IN, ("abc",))]),
        ("x  notin\t\t(abc,def)", [("x", Operator.NOT_IN, ("abc", "def"))]),
        ("x in (abc,)", [("x", Operator.IN, ("", "abc"))]),
        ("x in ()", [("x", Operator.IN, ("",))]),
        (
            "x notin (abc,,def),bar,z in (),w",
            [
                ("bar", Operator.EXISTS, ()),
                ("w", Operator.EXISTS, ()),
                ("x", Operator.NOT_IN, ("", "abc", "def")),
                ("z", Operator.IN, ("",)),
            ],
        ),
        ("x,y in (a)", [("x", Operator.EXISTS, ()), ("y", Operator.IN, ("a",))]),
        ("x=a", [("x", Operator.EQUALS, ("a",))]),
        ("x==a", [("x", Operator.DOUBLE_EQUALS, ("a",))]),
        ("x>1", [("x", Operator.GREATER_THAN, ("1",))]),
        ("x<7", [("x", Operator.LESS_THAN, ("7",))]),
        ("x=a,y!=b", [("x", Operator.EQUALS, ("a",)), ("y", Operator.NOT_EQUALS, ("b",))]),
        ("x notin ( )", [("x", Operator.NOT_IN, ("",))]),
        ("x notin (, a)", [("x", Operator.NOT_IN, ("", "a"))]),
        ("a ", [("a", Operator.EXISTS, ())]),
        ("a in (x,y,notin, z,in)", [("a", Operator.IN, ("in", "notin", "x", "y", "z"))]),
        ("a in (b,b,a)", [("a", Operator.IN, ("a", "b"))]),
        ("notin=in", [("notin", Operator.EQUALS, ("in",))]),
        ("in in (in)", [("in", Operator.IN, ("in",))]),
        ("!a,b", [("a", Operator.DOES_NOT_EXIST, ()), ("b", Operator.EXISTS, ())]),
        ("a!=", [("a", Operator.NOT_EQUALS, ("",))]),
    ],
)
def test_parse_requirements(
    text: str, requirements: list[tuple[str, Operator, tuple[str, ...]]]
) -> None:
    parsed = parse(text)
    assert [(r.key, r.operator, r.values) for r in parsed.requirements] == requirements


def test_parse_is_deterministic() -> None:
    assert str(parse("x=a,a=x")) == str(parse("a=x,x=a")) == "a=x,x=a"
    assert parse("x=a,a=x") == parse("a=x,x=a")
    assert hash(parse("x=a,a=x")) == hash(parse("a=x,x=a"))
    # Same-key requirements are ordered too, so equal selectors compare equal.
    assert parse("a=1,a!=2") == parse("a!=2,a=1")


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("x in (abc,def),y notin (jkl),z", "x in (abc,def),y notin (jkl),z"),
        ("z,y!=jkl,x notin (def,abc),!w", "!w,x notin (abc,def),y!=jkl,z"),
        ("x notin (abc),y in (mno,jkl),z notin ()", "x notin (abc),y in (jkl,mno),z notin ()"),
        ("x=abc,y==jkl,z!=a,z", "x=abc,y==jkl,z,z!=a"),
        ("x>2,y<8,z", "x>2,y<8,z"),
        ("  a  =  b  ", "a=b"),
        ("a in (,)", "a in ()"),
    ],
)
def test_canonical_string(text: str, canonical: str) -> None:
    assert str(parse(text)) == canonical
    assert parse(canonical) == parse(text)


# --- matching ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("", {"x": "y"}, True),
        ("x=y", {"x": "y"}, True),
        ("x=y,z=w", {"x": "y", "z": "w"}, True),
        ("x!=y,z!=w", {"x": "z", "z": "a"}, True),
        ("notin=in", {"notin": "in"}, True),
        ("x", {"x": "z"}, True),
        ("!x", {"y": "z"}, True),
        ("x>1", {"x": "2"}, True),
        ("x<1", {"x": "0"}, True),
        ("x=z", {}, False),
        ("x=y", {"x": "z"}, False),
        ("x=y,z=w", {"x": "w", "z": "w"}, False),
        ("x!=y,z!=w", {"x": "z", "z": "w"}, False),
        ("x", {"y": "z"}, False),
        ("!x", {"x": "z"}, False),
        ("x>1", {"x": "0"}, False),
        ("x<1", {"x": "2"}, False),
        ("foo=bar,baz=blah", {"foo": "bar", "baz": "blah"}, True),
        ("foo=bar,foobar=bar,baz=blah", {"foo": "bar", "baz": "blah"}, False),
        ("x in (foo),y notin (alpha)", {"x": "foo", "y": "baz"}, True),
        ("x in (foo),y in (alpha)", {"x": "foo", "y": "baz"}, False),
        ("x notin (),y", {"y": ""}, True),
        ("!x,y", {"y": ""}, True),
        ("x notin (),!y", {"y": ""}, False),
        ("x in ()", {"y": "baz"}, False),
        ("x in ()", {"x": ""}, True),
        ("x=", {"x": ""}, True),
        ("x=", {}, False),
        ("x!=", {}, True),
        ("x notin (a)", {}, True),
        ("z>1", {"z": "2"}, True),
        ("z>1", {"z": "v2"}, False),
        ("z>1", {}, False),
        ("z<10", {"z": "-5"}, True),
        ("z<10", {"z": "+5"}, True),
        ("z<10", {"z": " 5"}, False),
        ("z<10", {"z": "5_0"}, False),
        ("z>1", {"z": "99999999999999999999"}, False),  # not an int64
        ("z>007", {"z": "8"}, True),
        ("a in (x,y,z)", {"a": "y"}, True),
        ("a in (x,y,z)", {"a": "w"}, False),
        ("a notin (x,y,z)", {"a": "w"}, True),
        ("a notin (x,y,z)", {"a": "x"}, False),
        ("a=1,a=2", {"a": "1"}, False),
    ],
)
def test_matches(text: str, labels: dict[str, str], expected: bool) -> None:
    selector = parse(text)
    assert selector.matches(labels) is expected
    assert all(r.matches(labels) for r in selector.requirements) is expected


def test_everything_and_nothing() -> None:
    assert EVERYTHING.matches({"x": "y"})
    assert EVERYTHING.matches({})
    assert EVERYTHING.is_empty()
    assert not EVERYTHING.matches_nothing()
    assert not NOTHING.matches({"x": "y"})
    assert not NOTHING.matches({})
    assert not NOTHING.is_empty()
    assert NOTHING.matches_nothing()
    assert LabelSelectorExpr.nothing() is NOTHING
    assert str(NOTHING) == str(EVERYTHING) == ""
    assert NOTHING != EVERYTHING
    assert hash(NOTHING) != hash(EVERYTHING)
    assert NOTHING.requirements == EVERYTHING.requirements == ()
    assert NOTHING.add(req("a", Operator.EXISTS)) is NOTHING
    assert repr(NOTHING) == "LabelSelectorExpr.nothing()"
    assert parse("") == EVERYTHING


def test_selector_from_set() -> None:
    labels = {"foo": "bar", "baz": "blah"}
    assert selector_from_set({}).matches(labels)
    assert selector_from_set(None).is_empty()
    assert selector_from_set({"foo": "bar"}).matches(labels)
    assert selector_from_set({"foo": "bar", "baz": "blah"}).matches(labels)
    assert not selector_from_set({"foo": "=blah"}).matches(labels)
    assert not selector_from_set({"foo": "bar", "foobar": "bar"}).matches(labels)
    assert str(selector_from_set({"b": "2", "a": "1"})) == "a=1,b=2"
    assert selector_from_set({"a": "1"}) == parse("a=1")
    # Not validated unless asked, like Kubernetes.
    assert str(selector_from_set({"a b": "c d"})) == "a b=c d"
    with pytest.raises(SelectorError):
        selector_from_set({"a b": "c"}, validate=True)


def test_matches_accepts_any_mapping() -> None:
    assert parse("a=1,b,!c").matches(MappingProxyType({"a": "1", "b": ""}))


def test_exact_value() -> None:
    assert parse("a=1,b!=2").exact_value("a") == "1"
    assert parse("a==1").exact_value("a") == "1"
    assert parse("a in (1)").exact_value("a") == "1"
    assert parse("a in (1,2)").exact_value("a") is None
    assert parse("b!=2").exact_value("b") is None
    assert parse("a").exact_value("a") is None
    assert parse("a=").exact_value("a") == ""
    assert parse("x=1").exact_value("a") is None
    assert EVERYTHING.exact_value("a") is None


def test_add() -> None:
    base = parse("key in (value)")
    added = base.add(req("key2", Operator.EQUALS, "value2"))
    assert str(added) == "key in (value),key2=value2"
    assert str(base) == "key in (value)"
    assert str(EVERYTHING.add(req("z", Operator.EXISTS), req("a", Operator.EXISTS))) == "a,z"


# --- requirements --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "op", "values", "field", "error_type"),
    [
        ("x1", Operator.IN, (), "values", ErrorType.INVALID),
        ("x2", Operator.NOT_IN, (), "values", ErrorType.INVALID),
        ("x5", Operator.EQUALS, ("bar", "foo"), "values", ErrorType.INVALID),
        ("x8", Operator.EXISTS, ("foo",), "values", ErrorType.INVALID),
        ("x13", Operator.GREATER_THAN, (), "values", ErrorType.INVALID),
        ("x14", Operator.GREATER_THAN, ("bar",), "values[0]", ErrorType.INVALID),
        ("x15", Operator.LESS_THAN, ("bar",), "values[0]", ErrorType.INVALID),
        ("a" * 254, Operator.EXISTS, (), "key", ErrorType.INVALID),
        ("x16", Operator.EQUALS, ("a" * 254,), "values[0]", ErrorType.INVALID),
        ("x17", Operator.EQUALS, ("a b",), "values[0]", ErrorType.INVALID),
        ("x18", "unsupportedOp", (), "operator", ErrorType.NOT_SUPPORTED),
    ],
)
def test_requirement_constructor_errors(
    key: str, op: Operator | str, values: tuple[str, ...], field: str, error_type: ErrorType
) -> None:
    with pytest.raises(SelectorError) as err:
        Requirement.new(key, op, values)
    assert [(e.field, e.type) for e in err.value.field_errors] == [(field, error_type)]


def test_requirement_constructor_messages() -> None:
    with pytest.raises(SelectorError) as err:
        Requirement.new("x", Operator.IN, ())
    assert str(err.value) == (
        "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"
    )
    with pytest.raises(SelectorError) as err:
        Requirement.new("x", "near", ())
    assert str(err.value) == (
        'operator: Unsupported value: "near": supported values: "in", "notin", "=", "==", '
        '"!=", "gt", "lt", "exists", "!"'
    )


@pytest.mark.parametrize(
    ("key", "op", "values"),
    [
        ("x3", Operator.IN, ("foo",)),
        ("x4", Operator.NOT_IN, ("foo",)),
        ("x6", Operator.EXISTS, ()),
        ("x7", Operator.DOES_NOT_EXIST, ()),
        ("x11", Operator.GREATER_THAN, ("1",)),
        ("x12", "lt", ("6",)),
        ("x", "in", ("b", "a", "b")),
    ],
)
def test_requirement_constructor_accepts(
    key: str, op: Operator | str, values: tuple[str, ...]
) -> None:
    requirement = Requirement.new(key, op, values)
    assert requirement.key == key
    assert requirement.operator == Operator(op)
    assert requirement.values == (tuple(sorted(set(values))) if op in ("in", "notin") else values)


def test_requirement_strings() -> None:
    assert str(req("x", Operator.IN, "def", "abc")) == "x in (abc,def)"
    assert str(req("x", Operator.NOT_IN, "a")) == "x notin (a)"
    assert str(req("x", Operator.EQUALS, "a")) == "x=a"
    assert str(req("x", Operator.DOUBLE_EQUALS, "a")) == "x==a"
    assert str(req("x", Operator.NOT_EQUALS, "a")) == "x!=a"
    assert str(req("x", Operator.EXISTS)) == "x"
    assert str(req("x", Operator.DOES_NOT_EXIST)) == "!x"
    assert str(req("x", Operator.GREATER_THAN, "2")) == "x>2"
    assert str(req("x", Operator.LESS_THAN, "8")) == "x<8"


# --- the API struct -------------------------------------------------------------------------------


def test_from_label_selector_none_is_nothing_and_empty_is_everything() -> None:
    assert from_label_selector(None) is NOTHING
    assert from_label_selector(LabelSelector()) is EVERYTHING
    assert from_label_selector({}) is EVERYTHING
    assert from_label_selector({"matchLabels": {}, "matchExpressions": []}) is EVERYTHING


def test_from_label_selector_builds_requirements() -> None:
    selector = from_label_selector(
        {
            "matchLabels": {"app": "web", "tier": "front"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "dev", "prod"]},
                {"key": "canary", "operator": "DoesNotExist"},
                {"key": "zone", "operator": "NotIn", "values": ["a"]},
                {"key": "gpu", "operator": "Exists"},
            ],
        }
    )
    assert str(selector) == "app=web,!canary,env in (dev,prod),gpu,tier=front,zone notin (a)"
    assert selector.matches({"app": "web", "tier": "front", "env": "dev", "gpu": "1"})
    assert not selector.matches({"app": "web", "tier": "front", "env": "qa", "gpu": "1"})
    assert not selector.matches(
        {"app": "web", "tier": "front", "env": "dev", "gpu": "1", "zone": "a"}
    )
    assert from_label_selector(
        LabelSelector(match_labels={"app": "web", "tier": "front"})
    ) == parse("tier=front,app=web")


def test_from_label_selector_reports_every_problem() -> None:
    with pytest.raises(SelectorError) as err:
        from_label_selector(
            {
                "matchLabels": {"app": "x", "b": "Bad Value"},
                "matchExpressions": [
                    {"key": "k", "operator": "Foo"},
                    {"key": "z", "operator": "In", "values": []},
                    {"key": "e", "operator": "Exists", "values": ["v"]},
                    {"key": "-k", "operator": "Exists"},
                ],
            }
        )
    assert [e.field for e in err.value.field_errors] == [
        "matchLabels[b]",
        "matchExpressions[0].operator",
        "matchExpressions[1].values",
        "matchExpressions[2].values",
        "matchExpressions[3].key",
    ]
    assert err.value.field_errors[1].detail == '"Foo" is not a valid label selector operator'
    assert str(err.value).startswith('[matchLabels[b]: Invalid value: "Bad Value": ')


def test_from_label_selector_rejects_malformed_dicts() -> None:
    with pytest.raises(SelectorError, match="invalid label selector"):
        from_label_selector({"matchLabels": "app=web"})


def test_to_label_selector() -> None:
    struct = to_label_selector(parse("a=1,b in (x,y),c notin (z),d,!e,f!=g"))
    assert struct == LabelSelector(
        match_labels={"a": "1"},
        match_expressions=[
            LabelSelectorRequirement(key="b", operator="In", values=["x", "y"]),
            LabelSelectorRequirement(key="c", operator="NotIn", values=["z"]),
            LabelSelectorRequirement(key="d", operator="Exists"),
            LabelSelectorRequirement(key="e", operator="DoesNotExist"),
            LabelSelectorRequirement(key="f", operator="NotIn", values=["g"]),
        ],
    )
    assert to_label_selector(NOTHING) is None
    assert to_label_selector(EVERYTHING) == LabelSelector()
    assert parse("a=1").to_label_selector() == LabelSelector(match_labels={"a": "1"})
    # A second equality on one key keeps its meaning (matches nothing here).
    contradictory = to_label_selector(parse("a=1,a=2"))
    assert contradictory is not None
    assert not from_label_selector(contradictory).matches({"a": "1"})
    with pytest.raises(SelectorError, match='"gt" isn\'t supported in label selectors'):
        to_label_selector(parse("a>1"))


def test_struct_round_trip_keeps_meaning() -> None:
    selector = parse("a==1,b in (x,y),c notin (z),d,!e")
    back = from_label_selector(to_label_selector(selector))
    for labels in [{}, {"a": "1", "b": "x", "d": ""}, {"a": "1", "b": "y", "d": "", "e": ""}]:
        assert back.matches(labels) == selector.matches(labels)


def test_to_string_and_format() -> None:
    assert to_string({"matchLabels": {"b": "2", "a": "1"}}) == "a=1,b=2"
    assert to_string(None) == ""
    assert to_string({}) == ""
    assert format_label_selector(None) == "<none>"
    assert format_label_selector({}) == "<none>"
    assert format_label_selector({"matchLabels": {"app": "web"}}) == "app=web"
    assert format_label_selector({"matchLabels": {"app": "not valid"}}) == "<error>"


# --- field selectors -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["x=a,y=b,z=c", "", "x!=a,y=b", "x=a||y\\=b", "x=a\\=\\=b"])
def test_field_selectors_restring(text: str) -> None:
    assert str(parse_field_selector(text)) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x=a||y=b", "invalid field selector: unescaped character in value: '='"),
        ("x==a==b", "invalid field selector: unescaped character in value: '='"),
        ("x=a,b", "invalid selector: 'x=a,b'; can't understand 'b'"),
        ("x in (a)", "invalid selector: 'x in (a)'; can't understand 'x in (a)'"),
        ("x in (a,b,c)", "invalid selector: 'x in (a,b,c)'; can't understand 'b'"),
        ("x", "invalid selector: 'x'; can't understand 'x'"),
        ("x=\\a", "invalid field selector: invalid escape sequence: \\a"),
        ("x=a\\", "invalid field selector: invalid escape sequence: \\"),
    ],
)
def test_bad_field_selectors(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as err:
        parse_field_selector(text)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("text", "requirements"),
    [
        ("a=value", [("a", "=", "value")]),
        ("b==value", [("b", "=", "value")]),
        ("c!=value", [("c", "!=", "value")]),
        ("k=\\,", [("k", "=", ",")]),
        ("k=\\=", [("k", "=", "=")]),
        ("k=\\\\", [("k", "=", "\\")]),
        ("k=\\\\\\,,k2=v2", [("k2", "=", "v2"), ("k", "=", "\\,")]),
        ("함=수,목=록", [("목", "=", "록"), ("함", "=", "수")]),
        ("a=a,", [("a", "=", "a")]),
        (",a=a", [("a", "=", "a")]),
        ("a=", [("a", "=", "")]),
        ("=", []),
        ("=x", [("", "=", "x")]),
        ("a!b=c", [("a!b", "=", "c")]),
        ("a\\=b", [("a\\", "=", "b")]),
        ("a = b", [("a ", "=", " b")]),
        (
            "spec.nodeName=n1,metadata.name!=x",
            [("metadata.name", "!=", "x"), ("spec.nodeName", "=", "n1")],
        ),
    ],
)
def test_field_selector_requirements(text: str, requirements: list[tuple[str, str, str]]) -> None:
    parsed = parse_field_selector(text)
    assert [tuple(r) for r in parsed.requirements] == requirements
    assert parsed.requirements == tuple(
        FieldRequirement(f, Operator(o), v) for f, o, v in requirements
    )


def test_field_selector_matching() -> None:
    fields = {"foo": "bar", "baz": "blah", "complex": "=value\\,\\"}
    assert parse_field_selector("").matches(fields)
    assert parse_field_selector("foo=bar").matches(fields)
    assert parse_field_selector("foo=bar,baz=blah").matches(fields)
    assert parse_field_selector("foo=bar,baz=blah,complex=\\=value\\\\\\,\\\\").matches(fields)
    assert not parse_field_selector("foo=blah").matches(fields)
    assert not parse_field_selector("foo=bar,foobar=bar,baz=blah").matches(fields)
    assert parse_field_selector("x!=y,z!=w").matches({"x": "z", "z": "a"})
    assert not parse_field_selector("x!=y,z!=w").matches({"x": "z", "z": "w"})
    assert parse_field_selector("notin=in").matches({"notin": "in"})
    # A missing field reads as the empty string.
    assert parse_field_selector("spec.nodeName=").matches({})
    assert not parse_field_selector("spec.nodeName!=").matches({})
    assert parse_field_selector("spec.nodeName!=n1").matches({})
    for requirement in parse_field_selector("a=1,b!=2").requirements:
        assert requirement.matches({"a": "1", "b": "3"})


def test_field_selector_set_and_everything() -> None:
    assert field_selector_from_set(None) is EVERYTHING_FIELDS
    assert field_selector_from_set({}).is_empty()
    assert field_selector_from_set({"x": "y"}).matches({"x": "y"})
    assert not field_selector_from_set({"x": "y"}).matches({"x": "z"})
    assert not field_selector_from_set({"foo": "=blah"}).matches({"foo": "bar"})
    assert str(field_selector_from_set({"b": "x,y", "a": "1"})) == "a=1,b=x\\,y"
    assert not parse_field_selector("a=b").is_empty()
    assert parse_field_selector("=").is_empty()


def test_field_selector_is_deterministic_and_hashable() -> None:
    assert str(parse_field_selector("x=a,a=x")) == str(parse_field_selector("a=x,x=a")) == "a=x,x=a"
    assert parse_field_selector("x=a,a==x") == parse_field_selector("a=x,x=a")
    assert len({parse_field_selector("a=1,b=2"), parse_field_selector("b=2,a=1")}) == 1
    assert parse_field_selector("a=1") != parse_field_selector("a!=1")
    assert FieldSelectorExpr.parse("a=1") == parse_field_selector("a=1")
    assert repr(parse_field_selector("a=1")) == "parse_field_selector('a=1')"


def test_field_selector_fields_and_allowed_set() -> None:
    selector = parse_field_selector("metadata.name=x,spec.nodeName!=n,metadata.name!=y")
    assert selector.fields() == {"metadata.name", "spec.nodeName"}
    assert selector.check_supported({"metadata.name", "spec.nodeName", "status.phase"}) is selector
    with pytest.raises(SelectorError) as err:
        selector.check_supported({"metadata.name"})
    assert str(err.value) == "field label not supported: spec.nodeName"


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("", "test", None),
        ("a=b", "test", None),
        ("test=b", "test", "b"),
        ("test=", "test", ""),
        ("test!=b", "test", None),
        ("test!=", "test", None),
        ("a=x,test=b", "test", "b"),
        ("test!=c,test=b", "test", "b"),
        ("test==b", "test", "b"),
    ],
)
def test_field_exact_value(text: str, field: str, value: str | None) -> None:
    assert parse_field_selector(text).exact_value(field) == value


def test_field_transform() -> None:
    selector = parse_field_selector("a=b,c=d")
    assert str(selector.transform(lambda f, v: (f, v))) == "a=b,c=d"
    renamed = selector.transform(lambda f, v: ("e", "f") if f == "a" else (f, v))
    assert str(renamed) == "c=d,e=f"
    dropped = selector.transform(lambda f, v: ("", "") if f == "a" else (f, v))
    assert str(dropped) == "c=d"
    assert selector.transform(lambda f, v: ("", "")).is_empty()

    def refuse(field: str, value: str) -> tuple[str, str]:
        raise SelectorError(f"field label not supported: {field}")

    with pytest.raises(SelectorError):
        selector.transform(refuse)


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("", ""),
        ("a", "a"),
        ("=", "\\="),
        (",", "\\,"),
        ("\\", "\\\\"),
        ("\\=\\,\\", "\\\\\\=\\\\\\,\\\\"),
    ],
)
def test_escape_and_unescape(raw: str, escaped: str) -> None:
    assert escape_field_value(raw) == escaped
    assert unescape_field_value(escaped) == raw


@pytest.mark.parametrize("bad", ["\\", "\\\\\\", "\\a", "a,b", "a=b"])
def test_unescape_errors(bad: str) -> None:
    with pytest.raises(SelectorError):
        unescape_field_value(bad)


# --- properties -----------------------------------------------------------------------------------

_name = st.from_regex(r"[a-z0-9]([-a-z0-9_.]{0,10}[a-z0-9])?", fullmatch=True)
_prefix = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,6}[a-z0-9])?(\.[a-z0-9]{1,5}){0,2}", fullmatch=True)
keys = st.one_of(_name, st.builds(lambda p, n: f"{p}/{n}", _prefix, _name))
values = st.one_of(st.just(""), _name, st.sampled_from(["in", "notin", "A", "Z9", "1", "42"]))
numbers = st.integers(min_value=0, max_value=10**6).map(str)


@st.composite
def requirements(draw: st.DrawFn) -> Requirement:
    key = draw(keys)
    op = draw(st.sampled_from(list(Operator)))
    if op in (Operator.IN, Operator.NOT_IN):
        vals: tuple[str, ...] = tuple(draw(st.lists(values, min_size=1, max_size=4)))
    elif op in (Operator.EXISTS, Operator.DOES_NOT_EXIST):
        vals = ()
    elif op in (Operator.GREATER_THAN, Operator.LESS_THAN):
        vals = (draw(numbers),)
    else:
        vals = (draw(values),)
    return Requirement.new(key, op, vals)


label_selectors = st.lists(requirements(), max_size=6).map(LabelSelectorExpr)
label_sets = st.dictionaries(
    st.one_of(keys, st.sampled_from(["a", "b", "app"])),
    st.one_of(values, numbers),
    max_size=6,
)


def reference_match(requirement: Requirement, labels: dict[str, str]) -> bool:
    """A deliberately naive reading of Kubernetes' matching rules."""
    present = requirement.key in labels
    value = labels.get(requirement.key)
    op = requirement.operator
    if op in (Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.IN):
        return present and value in requirement.values
    if op in (Operator.NOT_EQUALS, Operator.NOT_IN):
        return not present or value not in requirement.values
    if op is Operator.EXISTS:
        return present
    if op is Operator.DOES_NOT_EXIST:
        return not present
    if not present or not value or not value.isdigit():
        return False
    if op is Operator.GREATER_THAN:
        return int(value) > int(requirement.values[0])
    return int(value) < int(requirement.values[0])


@given(label_selectors)
def test_label_selector_string_round_trips(selector: LabelSelectorExpr) -> None:
    text = str(selector)
    again = parse(text)
    assert again == selector
    assert hash(again) == hash(selector)
    assert str(again) == text


@given(label_selectors, label_sets)
def test_label_matching_agrees_with_reference(
    selector: LabelSelectorExpr, labels: dict[str, str]
) -> None:
    expected = all(reference_match(r, labels) for r in selector.requirements)
    assert selector.matches(labels) is expected
    assert parse(str(selector)).matches(labels) is expected


@given(label_selectors, label_sets)
def test_struct_conversion_keeps_meaning(
    selector: LabelSelectorExpr, labels: dict[str, str]
) -> None:
    if any(
        r.operator in (Operator.GREATER_THAN, Operator.LESS_THAN) for r in selector.requirements
    ):
        with pytest.raises(SelectorError):
            to_label_selector(selector)
        return
    back = from_label_selector(to_label_selector(selector))
    assert back.matches(labels) is selector.matches(labels)


@given(st.dictionaries(keys, values, max_size=5), label_sets)
def test_set_selector_matches_exact_subset(wanted: dict[str, str], labels: dict[str, str]) -> None:
    selector = selector_from_set(wanted)
    expected = all(labels.get(k) == v for k, v in wanted.items())
    assert selector.matches(labels) is expected
    assert selector.matches({**labels, **wanted})


field_names = st.from_regex(r"[a-z]{1,6}(\.[a-zA-Z]{1,8}){0,2}", fullmatch=True)
field_values = st.text(max_size=12)
field_requirements = st.builds(
    FieldRequirement,
    field_names,
    st.sampled_from([Operator.EQUALS, Operator.NOT_EQUALS]),
    field_values,
)


@given(st.lists(field_requirements, max_size=5))
def test_field_selector_string_round_trips(reqs: list[FieldRequirement]) -> None:
    selector = FieldSelectorExpr(reqs)
    text = str(selector)
    again = parse_field_selector(text)
    assert again == selector
    assert str(again) == text


@given(
    st.lists(field_requirements, max_size=5), st.dictionaries(field_names, field_values, max_size=5)
)
def test_field_matching_agrees_with_reference(
    reqs: list[FieldRequirement], fields: dict[str, str]
) -> None:
    selector = FieldSelectorExpr(reqs)
    expected = all(
        (fields.get(r.field, "") == r.value) == (r.operator is Operator.EQUALS) for r in reqs
    )
    assert selector.matches(fields) is expected


@given(st.text(max_size=20))
def test_escape_round_trips(value: str) -> None:
    assert unescape_field_value(escape_field_value(value)) == value
