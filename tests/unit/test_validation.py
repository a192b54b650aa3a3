"""Tests for apitypes.validation: paths, field errors, name checks, object metadata."""

from __future__ import annotations

import ast
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apitypes.meta import ObjectMeta, OwnerReference
from apitypes.validation import (
    OMIT,
    ErrorType,
    FieldError,
    FieldPath,
    aggregate_message,
    duplicate,
    forbidden,
    format_value,
    go_quote,
    internal_error,
    invalid,
    is_c_identifier,
    is_config_map_key,
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_env_var_name,
    is_in_range,
    is_path_segment_name,
    is_path_segment_prefix,
    is_percent,
    is_qualified_name,
    is_relaxed_env_var_name,
    is_valid_ip,
    is_valid_label_value,
    is_valid_port_name,
    is_valid_port_num,
    mask_trailing_dash,
    not_found,
    not_supported,
    required,
    too_long,
    too_long_max_length,
    too_many,
    type_invalid,
    validate_label_selector,
    validate_object_meta,
    validate_object_meta_update,
)

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
    "regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
NAME_PART_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)


# --- FieldPath ------------------------------------------------------------------------------


def test_field_path_renders_children_indexes_and_keys() -> None:
    path = FieldPath("spec", "containers").index(0).child("image")
    assert str(path) == "spec.containers[0].image"
    assert str(FieldPath("metadata").child("labels").key("app")) == "metadata.labels[app]"
    assert str(FieldPath("spec").child("a", "b").index(3).index(4)) == "spec.a.b[3][4]"
    assert str(FieldPath("metadata").key("example.com/x")) == "metadata[example.com/x]"


def test_field_path_is_immutable_value() -> None:
    root = FieldPath("spec")
    child = root.child("x")
    assert str(root) == "spec"
    assert child == FieldPath("spec", "x")
    assert hash(child) == hash(FieldPath("spec", "x"))
    assert child != FieldPath("spec", "y")
    assert repr(child) == "FieldPath('spec.x')"


# --- FieldError messages and reasons ----------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            required(FieldPath("spec", "containers").index(0).child("image")),
            "spec.containers[0].image: Required value",
        ),
        (
            required("metadata.name", "name or generateName is required"),
            "metadata.name: Required value: name or generateName is required",
        ),
        (
            invalid("metadata.name", "Foo", SUBDOMAIN_MSG),
            f'metadata.name: Invalid value: "Foo": {SUBDOMAIN_MSG}',
        ),
        (
            not_supported("spec.restartPolicy", "Sometimes", ["Always", "Never", "OnFailure"]),
            'spec.restartPolicy: Unsupported value: "Sometimes": supported values: '
            '"Always", "Never", "OnFailure"',
        ),
        (not_supported("x", "y", []), 'x: Unsupported value: "y"'),
        (duplicate("spec.ports[1].name", "http"), 'spec.ports[1].name: Duplicate value: "http"'),
        (
            forbidden("metadata.namespace", "not allowed on this type"),
            "metadata.namespace: Forbidden: not allowed on this type",
        ),
        (
            too_long("metadata.annotations", "", 262144),
            "metadata.annotations: Too long: must have at most 262144 bytes",
        ),
        (
            too_long_max_length("spec.x", "abc", 2),
            "spec.x: Too long: may not be longer than 2",
        ),
        (too_long_max_length("spec.x", "abc", -1), "spec.x: Too long: value is too long"),
        (too_many("spec.items", 5, 3), "spec.items: Too many: 5: must have at most 3 items"),
        (too_many("spec.items", -1, 3), "spec.items: Too many: must have at most 3 items"),
        (too_many("spec.items", 4, -1), "spec.items: Too many: 4: has too many items"),
        (not_found("spec.volume", "data"), 'spec.volume: Not found: "data"'),
        (
            type_invalid("spec.replicas", "three", "must be an integer"),
            'spec.replicas: Invalid value: "three": must be an integer',
        ),
        (internal_error("spec", "boom"), "spec: Internal error: boom"),
        (
            invalid("spec.replicas", -1, "must be >= 0"),
            "spec.replicas: Invalid value: -1: must be >= 0",
        ),
        (invalid("spec.flag", True, "nope"), "spec.flag: Invalid value: true: nope"),
        (invalid("spec.x", None, "nope"), "spec.x: Invalid value: null: nope"),
        (invalid("spec.x", OMIT, "nope"), "spec.x: Invalid value: nope"),
        (
            invalid("spec.x", ["a", "b"], "bad"),
            'spec.x: Invalid value: []string{"a", "b"}: bad',
        ),
        (invalid("spec.x", [], "bad"), "spec.x: Invalid value: []string{}: bad"),
        (invalid("spec.x", "", ""), 'spec.x: Invalid value: ""'),
    ],
)
def test_field_error_messages_match_kubernetes(error: FieldError, message: str) -> None:
    assert error.message() == message
    assert str(error) == message


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (required("a"), "FieldValueRequired"),
        (invalid("a", 1, ""), "FieldValueInvalid"),
        (not_supported("a", "x", ["y"]), "FieldValueNotSupported"),
        (duplicate("a", "x"), "FieldValueDuplicate"),
        (forbidden("a", ""), "FieldValueForbidden"),
        (too_long("a", "x", 1), "FieldValueTooLong"),
        (too_many("a", 2, 1), "FieldValueTooMany"),
        (not_found("a", "x"), "FieldValueNotFound"),
        (type_invalid("a", "x", ""), "FieldValueTypeInvalid"),
        (internal_error("a", "x"), "InternalError"),
    ],
)
def test_field_error_reasons(error: FieldError, reason: str) -> None:
    assert error.reason() == reason
    assert error.type.value == reason


def test_field_error_to_cause_uses_body_without_field() -> None:
    cause = invalid("metadata.name", "Foo", "bad").to_cause()
    assert cause.reason == "FieldValueInvalid"
    assert cause.field == "metadata.name"
    assert cause.message == 'Invalid value: "Foo": bad'
    assert cause.to_dict() == {
        "reason": "FieldValueInvalid",
        "message": 'Invalid value: "Foo": bad',
        "field": "metadata.name",
    }


def test_required_and_forbidden_never_show_a_value() -> None:
    error = FieldError(ErrorType.REQUIRED, "a", "secret", "")
    assert error.message() == "a: Required value"
    error = FieldError(ErrorType.FORBIDDEN, "a", "secret", "no")
    assert error.message() == "a: Forbidden: no"


def test_aggregate_message_single_many_and_duplicates() -> None:
    a = required("a")
    b = invalid("b", "x", "bad")
    assert aggregate_message([]) == ""
    assert aggregate_message([a]) == "a: Required value"
    assert aggregate_message([a, b]) == '[a: Required value, b: Invalid value: "x": bad]'
    assert aggregate_message([a, b, a]) == '[a: Required value, b: Invalid value: "x": bad]'
    assert aggregate_message([a, a]) == "a: Required value"


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("plain", '"plain"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("line\nbreak\ttab", '"line\\nbreak\\ttab"'),
        ("bell\a", '"bell\\a"'),
        ("nul\x00", '"nul\\x00"'),
        ("del\x7f", '"del\\x7f"'),
        ("rā", '"rā"'),
        ("nbsp\u00a0", '"nbsp\\u00a0"'),
        ("\U000e0001", '"\\U000e0001"'),
        ("", '""'),
    ],
)
def test_go_quote(text: str, quoted: str) -> None:
    assert go_quote(text) == quoted


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1.5, "1.5"),
        (100000.0, "100000"),
        (1e6, "1e+06"),
        (1234567.0, "1.234567e+06"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-2.5e-7, "-2.5e-07"),
        (0.0, "0"),
        (3, "3"),
        (False, "false"),
    ],
)
def test_format_value_numbers_like_go(value: object, shown: str) -> None:
    assert format_value(value) == shown


def test_format_value_times_and_structures() -> None:
    moment = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert format_value(moment) == "2024-05-06 07:08:09 +0000 UTC"
    assert format_value({"a": 1}) == '{"a":1}'
    ref = OwnerReference(api_version="v1", kind="Event", name="e", uid="u")
    assert format_value(ref) == '{"apiVersion":"v1","kind":"Event","name":"e","uid":"u"}'


# --- name and value checks ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "a",
        "ab",
        "abc",
        "a1",
        "a-1",
        "a--1--2--b",
        "0",
        "01",
        "012",
        "1a",
        "1-a",
        "1--a--b--2",
        "a" * 63,
    ],
)
def test_dns1123_label_good(value: str) -> None:
    assert is_dns1123_label(value) == []


@pytest.mark.parametrize(
    "value",
    ["", "A", "aBc", "A-1", "-", "a-", "-a", "_", "a_b", "a b", " a", "a" * 64, "a\n"],
)
def test_dns1123_label_bad(value: str) -> None:
    assert is_dns1123_label(value) != []


def test_dns1123_label_messages() -> None:
    assert is_dns1123_label("a.b") == ["must not contain dots"]
    assert is_dns1123_label("Abc") == [LABEL_MSG]
    assert is_dns1123_label("a" * 64) == ["must be no more than 63 characters"]
    assert is_dns1123_label("A" * 64) == ["must be no more than 63 characters", LABEL_MSG]


@pytest.mark.parametrize(
    "value",
    ["a", "a.a", "a--1--2--b.1", "0.1", "1.2.3.4.5", "aa.bb.cc.dd.ee", "a" * 253],
)
def test_dns1123_subdomain_good(value: str) -> None:
    assert is_dns1123_subdomain(value) == []


@pytest.mark.parametrize(
    "value",
    [
        "",
        "A",
        ".",
        "a.",
        ".a",
        "a..b",
        "A.a",
        "a.B.c",
        "a@b",
        "a,b",
        "a_b",
        "a:b",
        "a%b",
        "a" * 254,
    ],
)
def test_dns1123_subdomain_bad(value: str) -> None:
    assert is_dns1123_subdomain(value) != []


def test_dns1123_subdomain_messages() -> None:
    assert is_dns1123_subdomain("Foo") == [SUBDOMAIN_MSG]
    assert is_dns1123_subdomain("a" * 254) == ["must be no more than 253 characters"]
    # Go regexes anchor at the very end; a trailing newline is not forgiven.
    assert is_dns1123_subdomain("foo\n") == [SUBDOMAIN_MSG]


def test_dns1035_label() -> None:
    for good in ["a", "ab", "a1", "a-1", "a--1--2--b", "a" * 63]:
        assert is_dns1035_label(good) == []
    for bad in ["0", "1a", "1-a", "", "A", "a-", "-a", "a.b", "a" * 64]:
        assert is_dns1035_label(bad) != []
    assert is_dns1035_label("1abc") == [
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
        "with an alphabetic character, and end with an alphanumeric character (e.g. "
        "'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
    ]


@pytest.mark.parametrize(
    "value",
    [
        "simple",
        "now-with-dashes",
        "1234",
        "simple/simple",
        "now.with.dots/simple",
        "1.2.3.4/5678",
        "Uppercase_Is_OK_123",
        "example.com/Uppercase_Is_OK_123",
        "a" * 63,
        "a" * 253 + "/" + "b" * 63,
    ],
)
def test_qualified_name_good(value: str) -> None:
    assert is_qualified_name(value) == []


@pytest.mark.parametrize(
    "value",
    [
        "nospecialchars%^=@",
        "cantendwithadash-",
        "-cantstartwithadash-",
        "only/one/slash",
        "Example.com/abc",
        "example_com/abc",
        "example.com/",
        "/simple",
        "a" * 64,
        "a" * 254 + "/abc",
    ],
)
def test_qualified_name_bad(value: str) -> None:
    assert is_qualified_name(value) != []


def test_qualified_name_messages() -> None:
    assert is_qualified_name("a-") == [NAME_PART_MSG]
    assert is_qualified_name("example.com/") == ["name part must be non-empty", NAME_PART_MSG]
    assert is_qualified_name("/x") == ["prefix part must be non-empty"]
    assert is_qualified_name("Example.com/x") == ["prefix part " + SUBDOMAIN_MSG]
    assert is_qualified_name("a" * 64) == ["name part must be no more than 63 characters"]
    assert is_qualified_name("a/b/c") == [
        "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must "
        "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
        "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') "
        "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
    ]


def test_label_value() -> None:
    for good in ["simple", "now-with-dashes", "1-starts", "end-1", "1234", "a" * 63, ""]:
        assert is_valid_label_value(good) == []
    for bad in ["x%^", "Tama-nui-te-rā.is.Māori.sun", "\\back", "-dash", "dash-", ".dot", "dot."]:
        assert is_valid_label_value(bad) == [LABEL_VALUE_MSG]
    assert is_valid_label_value("a" * 64) == ["must be no more than 63 characters"]


def test_lengths_are_counted_in_utf8_bytes() -> None:
    # 32 characters but 64 bytes: Kubernetes (Go) counts bytes.
    assert "must be no more than 63 characters" in is_valid_label_value("é" * 32)
    assert "must be no more than 63 characters" not in is_valid_label_value("é" * 31)


def test_c_identifier() -> None:
    for good in ["a", "_a", "a_1", "__abc_123", "A", "A__1__2__B"]:
        assert is_c_identifier(good) == []
    for bad in ["", "1", "1a", "-", "a-", "a.b", "a b", "#a#"]:
        assert is_c_identifier(bad) == [
            "a valid C identifier must start with alphabetic character or '_', followed by a "
            "string of alphanumeric characters or '_' (e.g. 'my_name',  or 'MY_NAME',  or "
            "'MyName', regex used for validation is '[A-Za-z_][A-Za-z0-9_]*')"
        ]


def test_env_var_name_uses_the_130_rule() -> None:
    for good in ["A", "my.env-name", "MY_ENV.NAME", "MyEnvName1", "-x", ".x", "_"]:
        assert is_env_var_name(good) == []
    assert is_env_var_name("1A") == [
        "a valid environment variable name must consist of alphabetic characters, digits, "
        "'_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or "
        "'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is "
        "'[-._a-zA-Z][-._a-zA-Z0-9]*')"
    ]
    assert is_env_var_name(".") == ["must not be '.'"]
    assert is_env_var_name("..") == ["must not be '..'"]
    assert is_env_var_name("..a") == ["must not start with '..'"]
    assert len(is_env_var_name("A B")) == 1
    assert len(is_env_var_name("A=B")) == 1


def test_relaxed_env_var_name() -> None:
    assert is_relaxed_env_var_name("1 weird:name!") == []
    assert is_relaxed_env_var_name("") == ["environment variable name must be non-empty"]
    msg = (
        "a valid environment variable name must consist only of printable ASCII characters "
        "other than '='"
    )
    assert is_relaxed_env_var_name("A=B") == [msg]
    assert is_relaxed_env_var_name("naïve") == [msg]
    assert is_relaxed_env_var_name("tab\t") == [msg]


def test_config_map_key() -> None:
    for good in ["key.name", "KEY_NAME", "key-name", "a" * 253]:
        assert is_config_map_key(good) == []
    assert is_config_map_key("a/b") == [
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
        "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
        "'[-._a-zA-Z0-9]+')"
    ]
    assert is_config_map_key("..") == ["must not be '..'"]
    assert is_config_map_key("a" * 254) == ["must be no more than 253 characters"]


def test_port_number_and_range() -> None:
    for good in [1, 2, 1000, 65535]:
        assert is_valid_port_num(good) == []
    for bad in [0, -1, 65536, 100000]:
        assert is_valid_port_num(bad) == ["must be between 1 and 65535, inclusive"]
    assert is_in_range(5, 5, 20) == []
    assert is_in_range(1, 2, 10) == ["must be between 2 and 10, inclusive"]


def test_port_name() -> None:
    for good in ["telnet", "re-mail-ck", "pop3", "a", "a-1", "1-a", "a-1-b-2-c"]:
        assert is_valid_port_name(good) == []
    assert is_valid_port_name("12345") == ["must contain at least one letter (a-z)"]
    assert is_valid_port_name("two--hyphens") == ["must not contain consecutive hyphens"]
    assert is_valid_port_name("-begin") == ["must not begin or end with a hyphen"]
    assert is_valid_port_name("a" * 16) == ["must be no more than 15 characters"]
    assert is_valid_port_name("whois++") == [
        "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"
    ]
    assert is_valid_port_name("") == [
        "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
        "must contain at least one letter (a-z)",
    ]


@pytest.mark.parametrize(
    "value",
    [
        "1.2.3.4",
        "0.0.0.0",
        "255.255.255.255",
        "1234::abcd",
        "::",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "0:0:0:0:0:0:0:0",
        "0001:002:03:4::",
        "1234::ABCD",
        "1.1.1.01",  # leading zeros are accepted ("sloppy" parsing)
        "::ffff:1.1.1.1",
        "::ffff:1.1.1.01",
    ],
)
def test_valid_ip_good(value: str) -> None:
    assert is_valid_ip(value) == []


@pytest.mark.parametrize(
    "value",
    [
        "",
        "aaaaaaa",
        "myhost.mydomain",
        "1.2.3.0/24",
        "1.2.3.400",
        "-1.2.3.4",
        "1.2.3",
        "fe80::1%eth0",
        "1:2",
    ],
)
def test_valid_ip_bad(value: str) -> None:
    assert is_valid_ip(value) == ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]


def test_percent() -> None:
    assert is_percent("25%") == []
    assert is_percent("0%") == []
    for bad in ["25", "%", "2.5%", "-1%", " 1%"]:
        assert is_percent(bad) == [
            "a valid percent string must be a numeric string followed by an ending '%' (e.g. "
            "'1%',  or '93%', regex used for validation is '[0-9]+%')"
        ]


def test_path_segment_names() -> None:
    assert is_path_segment_name("ok:name") == []
    assert is_path_segment_name(".") == ["may not be '.'"]
    assert is_path_segment_name("..") == ["may not be '..'"]
    assert is_path_segment_name("a/b%c") == ["may not contain '/'", "may not contain '%'"]
    assert is_path_segment_prefix(".") == []
    assert is_path_segment_prefix("a%") == ["may not contain '%'"]


def test_mask_trailing_dash_replaces_two_characters() -> None:
    assert mask_trailing_dash("abc-") == "aba"
    assert mask_trailing_dash("a-") == "a"
    assert mask_trailing_dash("-") == "-"
    assert mask_trailing_dash("abc") == "abc"


# --- object metadata -----------------------------------------------------------------------------


def messages(errors: list[FieldError]) -> list[str]:
    return [error.message() for error in errors]


def test_valid_namespaced_meta_has_no_errors() -> None:
    meta = ObjectMeta(
        name="web-1",
        namespace="default",
        labels={"app": "web", "example.com/tier": "front_end"},
        annotations={"Example.com/Note": "anything at all"},
        finalizers=["example.com/cleanup", "kubernetes"],
        owner_references=[
            OwnerReference(
                api_version="apps/v1", kind="ReplicaSet", name="web", uid="u1", controller=True
            )
        ],
        generation=1,
    )
    assert validate_object_meta(meta, namespaced=True) == []


def test_meta_accepts_wire_dicts() -> None:
    errors = validate_object_meta(
        {"name": "Bad", "namespace": "default", "generateName": "x-"}, namespaced=True
    )
    assert messages(errors) == [f'metadata.name: Invalid value: "Bad": {SUBDOMAIN_MSG}']


def test_meta_name_required() -> None:
    errors = validate_object_meta(ObjectMeta(namespace="ns"), namespaced=True)
    assert messages(errors) == ["metadata.name: Required value: name or generateName is required"]
    assert errors[0].reason() == "FieldValueRequired"


def test_meta_name_check_and_custom_rule() -> None:
    errors = validate_object_meta(ObjectMeta(name="Foo", namespace="ns"), namespaced=True)
    assert messages(errors) == [f'metadata.name: Invalid value: "Foo": {SUBDOMAIN_MSG}']
    errors = validate_object_meta(
        ObjectMeta(name="a.b"), namespaced=False, name_check=is_dns1123_label
    )
    assert messages(errors) == ['metadata.name: Invalid value: "a.b": must not contain dots']


def test_meta_generate_name_is_checked_as_a_prefix() -> None:
    # A trailing dash is fine for a prefix...
    assert (
        validate_object_meta(ObjectMeta(name="web-x1", generate_name="web-"), namespaced=False)
        == []
    )
    # ...but other problems are reported at generateName.
    errors = validate_object_meta(ObjectMeta(name="ok", generate_name="Web-"), namespaced=False)
    assert messages(errors) == [f'metadata.generateName: Invalid value: "Web-": {SUBDOMAIN_MSG}']


def test_meta_prefix_check_for_path_segment_kinds() -> None:
    meta = ObjectMeta(name="system:admin", generate_name="a/")
    errors = validate_object_meta(
        meta,
        namespaced=False,
        name_check=is_path_segment_name,
        prefix_check=is_path_segment_prefix,
    )
    assert messages(errors) == ["metadata.generateName: Invalid value: \"a/\": may not contain '/'"]


def test_meta_namespace_scope_rules() -> None:
    assert messages(validate_object_meta(ObjectMeta(name="a"), namespaced=True)) == [
        "metadata.namespace: Required value"
    ]
    assert messages(
        validate_object_meta(ObjectMeta(name="a", namespace="x"), namespaced=False)
    ) == ["metadata.namespace: Forbidden: not allowed on this type"]
    errors = validate_object_meta(ObjectMeta(name="a", namespace="a.b"), namespaced=True)
    assert messages(errors) == ['metadata.namespace: Invalid value: "a.b": must not contain dots']


def test_meta_custom_root_path() -> None:
    errors = validate_object_meta(
        ObjectMeta(namespace="ns"), namespaced=True, path=FieldPath("spec", "template", "metadata")
    )
    assert messages(errors) == [
        "spec.template.metadata.name: Required value: name or generateName is required"
    ]


def test_meta_negative_generation() -> None:
    errors = validate_object_meta(ObjectMeta(name="a", generation=-1), namespaced=False)
    assert messages(errors) == [
        "metadata.generation: Invalid value: -1: must be greater than or equal to 0"
    ]


def test_meta_labels() -> None:
    errors = validate_object_meta(
        ObjectMeta(name="a", labels={"bad key": "ok", "good": "-bad"}), namespaced=False
    )
    assert messages(errors) == [
        f'metadata.labels: Invalid value: "bad key": {NAME_PART_MSG}',
        f'metadata.labels: Invalid value: "-bad": {LABEL_VALUE_MSG}',
    ]


def test_meta_annotation_keys_are_case_insensitive_but_checked() -> None:
    assert (
        validate_object_meta(ObjectMeta(name="a", annotations={"A.B/C": "v"}), namespaced=False)
        == []
    )
    errors = validate_object_meta(
        ObjectMeta(name="a", annotations={"a/b/c": "v"}), namespaced=False
    )
    assert len(errors) == 1
    assert errors[0].field == "metadata.annotations"
    assert errors[0].bad_value == "a/b/c"


def test_meta_annotation_total_size() -> None:
    just_fits = {"k": "v" * (256 * 1024 - 1)}
    assert validate_object_meta(ObjectMeta(name="a", annotations=just_fits), namespaced=False) == []
    too_big = {"k": "v" * (256 * 1024)}
    errors = validate_object_meta(ObjectMeta(name="a", annotations=too_big), namespaced=False)
    assert messages(errors) == ["metadata.annotations: Too long: must have at most 262144 bytes"]
    assert errors[0].reason() == "FieldValueTooLong"


def test_meta_owner_references_must_be_complete() -> None:
    meta = ObjectMeta(
        name="a", owner_references=[OwnerReference(api_version="apps/", kind="", name="", uid="")]
    )
    assert messages(validate_object_meta(meta, namespaced=False)) == [
        'metadata.ownerReferences.apiVersion: Invalid value: "apps/": version must not be empty',
        'metadata.ownerReferences.kind: Invalid value: "": kind must not be empty',
        'metadata.ownerReferences.name: Invalid value: "": name must not be empty',
        'metadata.ownerReferences.uid: Invalid value: "": uid must not be empty',
    ]
    malformed = ObjectMeta(
        name="a",
        owner_references=[OwnerReference(api_version="a/b/c", kind="K", name="n", uid="u")],
    )
    assert messages(validate_object_meta(malformed, namespaced=False)) == [
        'metadata.ownerReferences.apiVersion: Invalid value: "a/b/c": version must not be empty'
    ]


def test_meta_events_cannot_own() -> None:
    meta = ObjectMeta(
        name="a",
        owner_references=[OwnerReference(api_version="v1", kind="Event", name="e", uid="u")],
    )
    errors = validate_object_meta(meta, namespaced=False)
    assert len(errors) == 1
    assert errors[0].field == "metadata.ownerReferences"
    assert errors[0].detail == "/v1, Kind=Event is disallowed from being an owner"


def test_meta_only_one_controller() -> None:
    refs = [
        OwnerReference(api_version="v1", kind=kind, name=name, uid=name, controller=True)
        for kind, name in [("A", "a"), ("B", "b"), ("C", "c")]
    ]
    errors = validate_object_meta(ObjectMeta(name="x", owner_references=refs), namespaced=False)
    prefix = 'Only one reference can have Controller set to true. Found "true" in references for'
    assert [e.detail for e in errors] == [f"{prefix} A/a and B/b", f"{prefix} A/a and C/c"]
    assert all(e.field == "metadata.ownerReferences" for e in errors)


def test_meta_finalizers() -> None:
    errors = validate_object_meta(ObjectMeta(name="a", finalizers=["bad/name/x"]), namespaced=False)
    assert len(errors) == 1 and errors[0].field == "metadata.finalizers"
    errors = validate_object_meta(
        ObjectMeta(name="a", finalizers=["orphan", "foregroundDeletion"]), namespaced=False
    )
    assert messages(errors) == [
        'metadata.finalizers: Invalid value: []string{"orphan", "foregroundDeletion"}: '
        "finalizer orphan and foregroundDeletion cannot be both set"
    ]


def test_meta_managed_fields() -> None:
    meta = ObjectMeta.from_dict(
        {
            "name": "a",
            "managedFields": [
                {"manager": "kubectl", "operation": "Apply", "fieldsType": "FieldsV1"},
                {"manager": "m\x07", "operation": "Patch", "fieldsType": "FieldsV2"},
            ],
        }
    )
    assert messages(validate_object_meta(meta, namespaced=False)) == [
        'metadata.managedFields[1].operation: Invalid value: "Patch": must be `Apply` or `Update`',
        'metadata.managedFields[1].fieldsType: Invalid value: "FieldsV2": must be `FieldsV1`',
        'metadata.managedFields[1].manager: Invalid value: "m\\a": '
        "invalid character U+0007 (at position 1)",
    ]


def test_meta_update_rules() -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    old = ObjectMeta(
        name="a", namespace="ns", uid="u", generation=3, creation_timestamp=t0, resource_version="5"
    )
    same = old.model_copy()
    assert validate_object_meta_update(same, old) == []

    changed = old.model_copy(
        update={"name": "b", "uid": "v", "generation": 2, "resource_version": None}
    )
    assert messages(validate_object_meta_update(changed, old)) == [
        'metadata.resourceVersion: Invalid value: "": must be specified for an update',
        "metadata.generation: Invalid value: 2: must not be decremented",
        'metadata.name: Invalid value: "b": field is immutable',
        'metadata.uid: Invalid value: "v": field is immutable',
    ]


def test_meta_update_no_new_finalizers_while_deleting() -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    old = ObjectMeta(name="a", resource_version="1", deletion_timestamp=t0, finalizers=["x"])
    new = old.model_copy(update={"finalizers": ["x", "z/y", "b"]})
    assert messages(validate_object_meta_update(new, old)) == [
        "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being "
        'deleted, found new finalizers []string{"b", "z/y"}'
    ]
    removing = old.model_copy(update={"finalizers": []})
    assert validate_object_meta_update(removing, old) == []


def test_label_selector_validation() -> None:
    assert validate_label_selector(None, FieldPath("spec", "selector")) == []
    errors = validate_label_selector(
        {
            "matchLabels": {"app": "-x"},
            "matchExpressions": [
                {"key": "a", "operator": "In"},
                {"key": "b", "operator": "Exists", "values": ["v"]},
                {"key": "c/d/e", "operator": "Near"},
                {"key": "d", "operator": "NotIn", "values": ["ok", "bad value"]},
            ],
        },
        FieldPath("spec", "selector"),
    )
    assert [(e.type, e.field) for e in errors] == [
        (ErrorType.INVALID, "spec.selector.matchLabels"),
        (ErrorType.REQUIRED, "spec.selector.matchExpressions[0].values"),
        (ErrorType.FORBIDDEN, "spec.selector.matchExpressions[1].values"),
        (ErrorType.INVALID, "spec.selector.matchExpressions[2].operator"),
        (ErrorType.INVALID, "spec.selector.matchExpressions[2].key"),
        (ErrorType.INVALID, "spec.selector.matchExpressions[3].values[1]"),
    ]
    assert errors[1].message() == (
        "spec.selector.matchExpressions[0].values: Required value: "
        "must be specified when `operator` is 'In' or 'NotIn'"
    )
    lenient = validate_label_selector(
        {"matchExpressions": [{"key": "d", "operator": "In", "values": ["bad value"]}]},
        FieldPath("s"),
        allow_invalid_label_value=True,
    )
    assert lenient == []


# --- properties ------------------------------------------------------------------------------

_label = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True)


@given(st.lists(_label, min_size=1, max_size=5))
def test_joined_labels_are_subdomains(labels: list[str]) -> None:
    name = ".".join(labels)
    assert is_dns1123_subdomain(name) == []
    for label in labels:
        assert is_dns1123_label(label) == []


@given(st.text(max_size=80))
def test_label_value_check_agrees_with_definition(value: str) -> None:
    ok = is_valid_label_value(value) == []
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
    expected = len(value.encode()) <= 63 and (
        value == ""
        or (
            set(value) <= allowed and value[0].isalnum() and value[-1].isalnum() and value.isascii()
        )
    )
    assert ok == expected


@given(st.text(max_size=40))
def test_go_quote_round_trips_through_python_for_printable_ascii(text: str) -> None:
    quoted = go_quote(text)
    assert quoted.startswith('"') and quoted.endswith('"')
    if text.isascii() and text.isprintable():
        # For printable ASCII, Go and Python escape rules coincide.
        assert ast.literal_eval(quoted) == text
