"""The building blocks of API validation, worded exactly as Kubernetes words them.

Three layers:

* :class:`FieldPath` names a field (``spec.containers[0].image``), like Kubernetes'
  ``field.Path``.
* :class:`FieldError` is one problem at one path. ``message()`` renders it the way
  ``kubectl`` users know (``metadata.name: Invalid value: "Foo": ...``), ``reason()`` is the
  ``StatusCause.reason`` the apiserver puts in a 422 response, and ``to_cause()`` builds that
  cause.
* ``is_*`` checks return a list of problem descriptions (empty when the value is fine),
  word for word as ``k8s.io/apimachinery/pkg/util/validation`` in Kubernetes 1.30 returns
  them, so that callers can wrap each one in a :class:`FieldError` at the right path.

:func:`validate_object_meta` and :func:`validate_object_meta_update` apply the rules every
object's metadata must satisfy on create and update (``pkg/api/validation/objectmeta.go``).

Lengths are counted in UTF-8 bytes, as Go's ``len`` counts them; regular expressions are
matched against the whole string (Go's ``^...$`` never matches before a trailing newline,
Python's ``$`` does, so ``fullmatch`` is used throughout).
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import orjson
from pydantic import BaseModel

from apitypes.meta import LabelSelector, ObjectMeta, OwnerReference, StatusCause

# --- field paths -----------------------------------------------------------------------


class FieldPath:
    """An immutable path from an object's root to one field (``field.Path``).

    ``FieldPath("spec", "containers").index(0).child("image")`` renders as
    ``spec.containers[0].image``; ``FieldPath("metadata", "labels").key("app")`` as
    ``metadata.labels[app]``.
    """

    __slots__ = ("_text",)

    def __init__(self, name: str, *more_names: str) -> None:
        self._text = ".".join((name, *more_names))

    @classmethod
    def _raw(cls, text: str) -> FieldPath:
        path = cls.__new__(cls)
        path._text = text
        return path

    def child(self, name: str, *more_names: str) -> FieldPath:
        """The path of a named field below this one."""
        return FieldPath._raw(".".join((self._text, name, *more_names)))

    def index(self, index: int) -> FieldPath:
        """The path of a list element below this one."""
        return FieldPath._raw(f"{self._text}[{index}]")

    def key(self, key: str) -> FieldPath:
        """The path of a map entry below this one."""
        return FieldPath._raw(f"{self._text}[{key}]")

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"FieldPath({self._text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldPath) and other._text == self._text

    def __hash__(self) -> int:
        return hash(self._text)


# --- field errors ----------------------------------------------------------------------


class ErrorType(StrEnum):
    """``field.ErrorType``; the value is the ``StatusCause.reason`` Kubernetes reports."""

    NOT_FOUND = "FieldValueNotFound"
    REQUIRED = "FieldValueRequired"
    DUPLICATE = "FieldValueDuplicate"
    INVALID = "FieldValueInvalid"
    NOT_SUPPORTED = "FieldValueNotSupported"
    FORBIDDEN = "FieldValueForbidden"
    TOO_LONG = "FieldValueTooLong"
    TOO_MANY = "FieldValueTooMany"
    INTERNAL = "InternalError"
    TYPE_INVALID = "FieldValueTypeInvalid"

    @property
    def words(self) -> str:
        """The human words for the error type (``Required value``)."""
        return _TITLES[self]


_TITLES = {
    ErrorType.NOT_FOUND: "Not found",
    ErrorType.REQUIRED: "Required value",
    ErrorType.DUPLICATE: "Duplicate value",
    ErrorType.INVALID: "Invalid value",
    ErrorType.NOT_SUPPORTED: "Unsupported value",
    ErrorType.FORBIDDEN: "Forbidden",
    ErrorType.TOO_LONG: "Too long",
    ErrorType.TOO_MANY: "Too many",
    ErrorType.INTERNAL: "Internal error",
    ErrorType.TYPE_INVALID: "Invalid value",
}

# These types never show the offending value, whatever it is.
_VALUELESS = frozenset(
    {ErrorType.REQUIRED, ErrorType.FORBIDDEN, ErrorType.TOO_LONG, ErrorType.INTERNAL}
)


class _Omit:
    """Marker for "no value to show" (Kubernetes' ``omitValue``)."""

    def __repr__(self) -> str:
        return "OMIT"


OMIT: Any = _Omit()
"""Pass as a bad value to leave the value out of the message."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One validation problem at one field (``field.Error``)."""

    type: ErrorType
    field: str
    bad_value: Any = ""
    detail: str = ""

    def body(self) -> str:
        """The message without the field name (``ErrorBody``; ``StatusCause.message``)."""
        if self.type in _VALUELESS or self.bad_value is OMIT:
            text = self.type.words
        else:
            text = f"{self.type.words}: {format_value(self.bad_value)}"
        if self.detail:
            text += f": {self.detail}"
        return text

    def message(self) -> str:
        """``<field>: <body>``, the text Kubernetes shows for this error."""
        return f"{self.field}: {self.body()}"

    def reason(self) -> str:
        """The ``StatusCause.reason`` for this error (``FieldValueRequired``, ...)."""
        return self.type.value

    def to_cause(self) -> StatusCause:
        """The ``StatusCause`` an Invalid (422) status carries for this error."""
        return StatusCause(reason=self.reason(), message=self.body(), field=self.field)

    def __str__(self) -> str:
        return self.message()


def aggregate_message(errors: Sequence[FieldError]) -> str:
    """Several errors as one text, as Kubernetes' error aggregates render them.

    One error is shown alone; several are de-duplicated and wrapped in ``[...]``,
    separated by ``", "``. No errors give the empty string.
    """
    seen: dict[str, None] = {}
    for error in errors:
        seen.setdefault(error.message(), None)
    if not seen:
        return ""
    if len(seen) == 1:
        return next(iter(seen))
    return "[" + ", ".join(seen) + "]"


def _path_text(path: FieldPath | str) -> str:
    return str(path)


def required(path: FieldPath | str, detail: str = "") -> FieldError:
    """A value that must be given was not (empty string, null, empty list)."""
    return FieldError(ErrorType.REQUIRED, _path_text(path), "", detail)


def invalid(path: FieldPath | str, value: Any, detail: str) -> FieldError:
    """A malformed value (failed a format, out of range)."""
    return FieldError(ErrorType.INVALID, _path_text(path), value, detail)


def type_invalid(path: FieldPath | str, value: Any, detail: str) -> FieldError:
    """A value of the wrong type for its schema."""
    return FieldError(ErrorType.TYPE_INVALID, _path_text(path), value, detail)


def not_found(path: FieldPath | str, value: Any) -> FieldError:
    """A referenced value does not exist."""
    return FieldError(ErrorType.NOT_FOUND, _path_text(path), value, "")


def duplicate(path: FieldPath | str, value: Any) -> FieldError:
    """A value that must be unique is repeated."""
    return FieldError(ErrorType.DUPLICATE, _path_text(path), value, "")


def not_supported(path: FieldPath | str, value: Any, allowed: Iterable[object]) -> FieldError:
    """A value outside an enumeration; ``allowed`` is listed in the given order."""
    quoted = [go_quote(str(item)) for item in allowed]
    detail = "supported values: " + ", ".join(quoted) if quoted else ""
    return FieldError(ErrorType.NOT_SUPPORTED, _path_text(path), value, detail)


def forbidden(path: FieldPath | str, detail: str) -> FieldError:
    """A well-formed value that is not allowed here (policy, scope, state)."""
    return FieldError(ErrorType.FORBIDDEN, _path_text(path), "", detail)


def too_long(path: FieldPath | str, value: Any, max_length: int) -> FieldError:
    """A value longer than ``max_length`` bytes; the value itself is not shown."""
    detail = f"must have at most {max_length} bytes"
    return FieldError(ErrorType.TOO_LONG, _path_text(path), value, detail)


def too_long_max_length(path: FieldPath | str, value: Any, max_length: int) -> FieldError:
    """Like :func:`too_long`, worded "may not be longer than N" (no limit if negative)."""
    detail = f"may not be longer than {max_length}" if max_length >= 0 else "value is too long"
    return FieldError(ErrorType.TOO_LONG, _path_text(path), value, detail)


def too_many(path: FieldPath | str, actual: int, max_quantity: int) -> FieldError:
    """A list with too many items; a negative ``actual`` or ``max_quantity`` is not shown."""
    detail = (
        f"must have at most {max_quantity} items" if max_quantity >= 0 else "has too many items"
    )
    value: Any = actual if actual >= 0 else OMIT
    return FieldError(ErrorType.TOO_MANY, _path_text(path), value, detail)


def internal_error(path: FieldPath | str, error: BaseException | str) -> FieldError:
    """A failure that is not the client's fault."""
    return FieldError(ErrorType.INTERNAL, _path_text(path), None, str(error))


# --- rendering values as Go's fmt does ----------------------------------------------------

_GO_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}


def go_quote(text: str) -> str:
    """``text`` as a Go double-quoted literal (``strconv.Quote``, Go's ``%q``).

    Printable characters (including non-ASCII ones) stay as they are; others are
    escaped as ``\\n``, ``\\x07``, ``\\u00a0`` or ``\\U0001f600``.
    """
    if text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    out = ['"']
    for char in text:
        escaped = _GO_ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif char.isprintable():
            out.append(char)
        else:
            code = ord(char)
            if code < 0x20 or code == 0x7F:
                out.append(f"\\x{code:02x}")
            elif 0xD800 <= code <= 0xDFFF:
                out.append("\\ufffd")
            elif code < 0x10000:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _go_float(value: float) -> str:
    # Go's %v on a float is strconv 'g' with the shortest digits: exponent form when the
    # decimal exponent is < -4 or >= 6 ("1e+06"), plain digits otherwise.
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, digits, exp = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exp, int)
    text = "".join(map(str, digits))
    point = len(text) + exp  # position of the decimal point in the digit string
    x = point - 1
    prefix = "-" if sign else ""
    if x < -4 or x >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if x < 0 else '+'}{abs(x):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{text}"
    if point >= len(text):
        return prefix + text + "0" * (point - len(text))
    return f"{prefix}{text[:point]}.{text[point:]}"


def _go_time(value: datetime) -> str:
    moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def format_value(value: Any) -> str:
    """A bad value as Kubernetes prints it in a field error.

    Strings are Go-quoted, numbers and booleans printed plainly, ``None`` as ``null``,
    lists of strings as ``[]string{"a", "b"}``, times as Go prints ``time.Time``; other
    structures (models, dicts, mixed lists) as compact JSON.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, datetime):
        return _go_time(value)
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return "[]string{" + ", ".join(go_quote(item) for item in value) + "}"
    try:
        return orjson.dumps(value, default=_json_default).decode()
    except TypeError:
        return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_defaults=True, mode="json")
    raise TypeError


# --- string checks (k8s.io/apimachinery/pkg/util/validation, 1.30) -------------------------


def _byte_len(value: str) -> int:
    return len(value.encode("utf-8", "surrogatepass"))


def max_len_error(length: int) -> str:
    """The "too long" description used by the ``is_*`` checks."""
    return f"must be no more than {length} characters"


def regex_error(message: str, fmt: str, *examples: str) -> str:
    """The "does not match" description used by the ``is_*`` checks."""
    if not examples:
        return f"{message} (regex used for validation is '{fmt}')"
    shown = " or ".join(f"'{example}', " for example in examples)
    return f"{message} (e.g. {shown}regex used for validation is '{fmt}')"


def empty_error() -> str:
    """The "must not be empty" description used by the ``is_*`` checks."""
    return "must be non-empty"


def inclusive_range_error(low: int, high: int) -> str:
    """The "out of range" description used by the ``is_*`` checks."""
    return f"must be between {low} and {high}, inclusive"


_QNAME_CHAR = "[A-Za-z0-9]"
_QNAME_EXT_CHAR = "[-A-Za-z0-9_.]"
QUALIFIED_NAME_FMT = f"({_QNAME_CHAR}{_QNAME_EXT_CHAR}*)?{_QNAME_CHAR}"
_QUALIFIED_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
QUALIFIED_NAME_MAX_LENGTH = 63
_QUALIFIED_NAME_RE = re.compile(QUALIFIED_NAME_FMT)

LABEL_VALUE_FMT = f"({QUALIFIED_NAME_FMT})?"
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, "
    "'-', '_' or '.', and must start and end with an alphanumeric character"
)
LABEL_VALUE_MAX_LENGTH = 63
_LABEL_VALUE_RE = re.compile(LABEL_VALUE_FMT)

DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
    "or '-', and must start and end with an alphanumeric character"
)
DNS1123_LABEL_MAX_LENGTH = 63
_DNS1123_LABEL_RE = re.compile(DNS1123_LABEL_FMT)

DNS1123_SUBDOMAIN_FMT = f"{DNS1123_LABEL_FMT}(\\.{DNS1123_LABEL_FMT})*"
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character"
)
DNS1123_SUBDOMAIN_MAX_LENGTH = 253
_DNS1123_SUBDOMAIN_RE = re.compile(DNS1123_SUBDOMAIN_FMT)

DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
    "start with an alphabetic character, and end with an alphanumeric character"
)
DNS1035_LABEL_MAX_LENGTH = 63
_DNS1035_LABEL_RE = re.compile(DNS1035_LABEL_FMT)

C_IDENTIFIER_FMT = "[A-Za-z_][A-Za-z0-9_]*"
_C_IDENTIFIER_MSG = (
    "a valid C identifier must start with alphabetic character or '_', "
    "followed by a string of alphanumeric characters or '_'"
)
_C_IDENTIFIER_RE = re.compile(C_IDENTIFIER_FMT)

ENV_VAR_NAME_FMT = "[-._a-zA-Z][-._a-zA-Z0-9]*"
_ENV_VAR_NAME_MSG = (
    "a valid environment variable name must consist of alphabetic characters, digits, "
    "'_', '-', or '.', and must not start with a digit"
)
_RELAXED_ENV_VAR_NAME_MSG = (
    "a valid environment variable name must consist only of printable ASCII characters "
    "other than '='"
)
_ENV_VAR_NAME_RE = re.compile(ENV_VAR_NAME_FMT)

CONFIG_MAP_KEY_FMT = "[-._a-zA-Z0-9]+"
_CONFIG_MAP_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
_CONFIG_MAP_KEY_RE = re.compile(CONFIG_MAP_KEY_FMT)

PERCENT_FMT = "[0-9]+%"
_PERCENT_MSG = "a valid percent string must be a numeric string followed by an ending '%'"
_PERCENT_RE = re.compile(PERCENT_FMT)

_PORT_NAME_CHARSET_RE = re.compile("[-a-z0-9]+")
_PORT_NAME_LETTER_RE = re.compile("[a-z]")


def is_qualified_name(value: str) -> list[str]:
    """Problems with a label key / annotation key / finalizer: ``[prefix/]name``.

    The optional prefix is a DNS subdomain; the name is at most 63 characters of
    alphanumerics, ``-``, ``_`` and ``.``, starting and ending alphanumeric.
    """
    errors: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errors.append("prefix part " + empty_error())
        else:
            errors.extend("prefix part " + msg for msg in is_dns1123_subdomain(prefix))
    else:
        return [
            "a qualified name "
            + regex_error(_QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errors.append("name part " + empty_error())
    elif _byte_len(name) > QUALIFIED_NAME_MAX_LENGTH:
        errors.append("name part " + max_len_error(QUALIFIED_NAME_MAX_LENGTH))
    if not _QUALIFIED_NAME_RE.fullmatch(name):
        errors.append(
            "name part "
            + regex_error(_QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
        )
    return errors


def is_valid_label_value(value: str) -> list[str]:
    """Problems with a label value: empty, or a short qualified-name-like string."""
    errors: list[str] = []
    if _byte_len(value) > LABEL_VALUE_MAX_LENGTH:
        errors.append(max_len_error(LABEL_VALUE_MAX_LENGTH))
    if not _LABEL_VALUE_RE.fullmatch(value):
        errors.append(
            regex_error(_LABEL_VALUE_MSG, LABEL_VALUE_FMT, "MyValue", "my_value", "12345")
        )
    return errors


def is_dns1123_label(value: str) -> list[str]:
    """Problems with an RFC 1123 label (namespace names, container names, ...)."""
    errors: list[str] = []
    if _byte_len(value) > DNS1123_LABEL_MAX_LENGTH:
        errors.append(max_len_error(DNS1123_LABEL_MAX_LENGTH))
    if not _DNS1123_LABEL_RE.fullmatch(value):
        if _DNS1123_SUBDOMAIN_RE.fullmatch(value):
            # A valid subdomain that is not a valid label can only be one with dots.
            errors.append("must not contain dots")
        else:
            errors.append(regex_error(_DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errors


def is_dns1123_subdomain(value: str) -> list[str]:
    """Problems with an RFC 1123 subdomain (most object names)."""
    errors: list[str] = []
    if _byte_len(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errors.append(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errors.append(regex_error(_DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errors


def is_dns1035_label(value: str) -> list[str]:
    """Problems with an RFC 1035 label (Service names: must start with a letter)."""
    errors: list[str] = []
    if _byte_len(value) > DNS1035_LABEL_MAX_LENGTH:
        errors.append(max_len_error(DNS1035_LABEL_MAX_LENGTH))
    if not _DNS1035_LABEL_RE.fullmatch(value):
        errors.append(regex_error(_DNS1035_LABEL_MSG, DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errors


def is_c_identifier(value: str) -> list[str]:
    """Problems with a C identifier (``[A-Za-z_][A-Za-z0-9_]*``); length is not checked."""
    if _C_IDENTIFIER_RE.fullmatch(value):
        return []
    return [regex_error(_C_IDENTIFIER_MSG, C_IDENTIFIER_FMT, "my_name", "MY_NAME", "MyName")]


def _chdir_prefix_errors(value: str) -> list[str]:
    if value == ".":
        return ["must not be '.'"]
    if value == "..":
        return ["must not be '..'"]
    if value.startswith(".."):
        return ["must not start with '..'"]
    return []


def is_env_var_name(value: str) -> list[str]:
    """Problems with a container environment variable name, by the Kubernetes 1.30 rule.

    1.30 accepts ``[-._a-zA-Z][-._a-zA-Z0-9]*`` that is not ``.``/``..``/``..*``. (The
    relaxed rule, :func:`is_relaxed_env_var_name`, was behind an alpha feature gate that
    is off by default in 1.30.)
    """
    errors: list[str] = []
    if not _ENV_VAR_NAME_RE.fullmatch(value):
        errors.append(
            regex_error(
                _ENV_VAR_NAME_MSG, ENV_VAR_NAME_FMT, "my.env-name", "MY_ENV.NAME", "MyEnvName1"
            )
        )
    errors.extend(_chdir_prefix_errors(value))
    return errors


def is_relaxed_env_var_name(value: str) -> list[str]:
    """Problems with an env var name under the relaxed rule: printable ASCII except ``=``."""
    errors: list[str] = []
    if not value:
        errors.append("environment variable name " + empty_error())
    if any(not (" " <= char <= "~") or char == "=" for char in value):
        errors.append(_RELAXED_ENV_VAR_NAME_MSG)
    return errors


def is_config_map_key(value: str) -> list[str]:
    """Problems with a ConfigMap or Secret data key."""
    errors: list[str] = []
    if _byte_len(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errors.append(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _CONFIG_MAP_KEY_RE.fullmatch(value):
        errors.append(
            regex_error(_CONFIG_MAP_KEY_MSG, CONFIG_MAP_KEY_FMT, "key.name", "KEY_NAME", "key-name")
        )
    errors.extend(_chdir_prefix_errors(value))
    return errors


def is_valid_port_num(port: int) -> list[str]:
    """Problems with a port number: it must be 1..65535."""
    if 1 <= port <= 65535:
        return []
    return [inclusive_range_error(1, 65535)]


def is_in_range(value: int, low: int, high: int) -> list[str]:
    """Problems with an integer that must lie in ``[low, high]``."""
    if low <= value <= high:
        return []
    return [inclusive_range_error(low, high)]


def is_valid_port_name(port: str) -> list[str]:
    """Problems with a named port (IANA_SVC_NAME, lower case only).

    At most 15 characters of ``[-a-z0-9]``, at least one letter, no ``--``, not
    starting or ending with ``-``.
    """
    errors: list[str] = []
    if _byte_len(port) > 15:
        errors.append(max_len_error(15))
    if not _PORT_NAME_CHARSET_RE.fullmatch(port):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _PORT_NAME_LETTER_RE.search(port):
        errors.append("must contain at least one letter (a-z)")
    if "--" in port:
        errors.append("must not contain consecutive hyphens")
    if port and (port[0] == "-" or port[-1] == "-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def _is_sloppy_ipv4(value: str) -> bool:
    # Kubernetes parses IPs "sloppily": IPv4 octets may have leading zeros (read as
    # decimal), as Go's parser allowed before Go 1.17.
    parts = value.split(".")
    if len(parts) != 4:
        return False
    for part in parts:
        if not part or not part.isascii() or not part.isdigit() or int(part) > 255:
            return False
    return True


def parse_ip_sloppy(value: str) -> bool:
    """Whether ``value`` is an IP address as Kubernetes' ``ParseIPSloppy`` accepts it."""
    if not value or "%" in value or not value.isascii():
        return False
    if ":" not in value:
        return _is_sloppy_ipv4(value)
    head, sep, tail = value.rpartition(":")
    if "." in tail:
        if not _is_sloppy_ipv4(tail):
            return False
        value = head + sep + ".".join(str(int(part)) for part in tail.split("."))
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


def is_valid_ip(value: str) -> list[str]:
    """Problems with an IPv4 or IPv6 address (IPv4 octets may have leading zeros)."""
    if parse_ip_sloppy(value):
        return []
    return ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]


def is_percent(value: str) -> list[str]:
    """Problems with a percentage string such as ``25%``."""
    if _PERCENT_RE.fullmatch(value):
        return []
    return [regex_error(_PERCENT_MSG, PERCENT_FMT, "1%", "93%")]


def is_path_segment_name(name: str) -> list[str]:
    """Problems with a name used as a URL path segment (RBAC and other lenient kinds)."""
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return is_path_segment_prefix(name)


def is_path_segment_prefix(name: str) -> list[str]:
    """Problems with a ``generateName`` for kinds named by :func:`is_path_segment_name`."""
    return [f"may not contain '{bad}'" for bad in ("/", "%") if bad in name]


# --- object metadata (pkg/api/validation/objectmeta.go) ----------------------------------

NameCheck = Callable[[str], list[str]]
"""A name rule: problems with a name, empty if it is fine."""

TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
FIELD_IMMUTABLE = "field is immutable"
IS_NEGATIVE = "must be greater than or equal to 0"
FINALIZER_ORPHAN_DEPENDENTS = "orphan"
FINALIZER_DELETE_DEPENDENTS = "foregroundDeletion"
FIELD_MANAGER_MAX_LENGTH = 128
MAX_SUBRESOURCE_NAME_LENGTH = 256

# Kinds that may not own other objects (group, version, kind).
_BANNED_OWNERS = frozenset({("", "v1", "Event")})


def mask_trailing_dash(name: str) -> str:
    """A ``generateName`` made checkable as a name, as Kubernetes does it.

    A random suffix will follow a prefix, so a trailing dash is acceptable; Kubernetes
    replaces the last two characters by ``a`` (sic: two, not one) when the prefix is
    longer than one character and ends with ``-``.
    """
    if len(name) > 1 and name.endswith("-"):
        return name[:-2] + "a"
    return name


def _split_api_version(api_version: str) -> tuple[str, str]:
    # schema.ParseGroupVersion; a malformed value yields an empty group and version.
    if not api_version or api_version == "/":
        return "", ""
    count = api_version.count("/")
    if count == 0:
        return "", api_version
    if count == 1:
        group, version = api_version.split("/")
        return group, version
    return "", ""


def validate_annotations(annotations: Mapping[str, str], path: FieldPath) -> list[FieldError]:
    """Annotation keys (qualified names, case-insensitive) and their total size."""
    errors = [
        invalid(path, key, msg)
        for key in sorted(annotations)
        for msg in is_qualified_name(key.lower())
    ]
    total = sum(_byte_len(key) + _byte_len(value) for key, value in annotations.items())
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errors.append(too_long(path, "", TOTAL_ANNOTATION_SIZE_LIMIT))
    return errors


def validate_labels(labels: Mapping[str, str], path: FieldPath) -> list[FieldError]:
    """Label keys (qualified names) and values; errors are reported at ``path`` itself."""
    errors: list[FieldError] = []
    for key in sorted(labels):
        errors.extend(invalid(path, key, msg) for msg in is_qualified_name(key))
        value = labels[key]
        errors.extend(invalid(path, value, msg) for msg in is_valid_label_value(value))
    return errors


def validate_owner_references(refs: Sequence[OwnerReference], path: FieldPath) -> list[FieldError]:
    """Each reference names its owner fully; at most one is the controller."""
    errors: list[FieldError] = []
    first_controller = ""
    for ref in refs:
        group, version = _split_api_version(ref.api_version)
        if not version:
            errors.append(
                invalid(path.child("apiVersion"), ref.api_version, "version must not be empty")
            )
        if not ref.kind:
            errors.append(invalid(path.child("kind"), ref.kind, "kind must not be empty"))
        if not ref.name:
            errors.append(invalid(path.child("name"), ref.name, "name must not be empty"))
        if not ref.uid:
            errors.append(invalid(path.child("uid"), ref.uid, "uid must not be empty"))
        if (group, version, ref.kind) in _BANNED_OWNERS:
            gvk = f"{group}/{version}, Kind={ref.kind}"
            errors.append(invalid(path, ref, f"{gvk} is disallowed from being an owner"))
        if ref.controller:
            current = f"{ref.kind}/{ref.name}"
            if first_controller:
                errors.append(
                    invalid(
                        path,
                        list(refs),
                        "Only one reference can have Controller set to true. "
                        f'Found "true" in references for {first_controller} and {current}',
                    )
                )
            else:
                first_controller = current
    return errors


def validate_finalizers(finalizers: Sequence[str], path: FieldPath) -> list[FieldError]:
    """Finalizer names are qualified names; ``orphan`` excludes ``foregroundDeletion``."""
    errors = [invalid(path, name, msg) for name in finalizers for msg in is_qualified_name(name)]
    if FINALIZER_ORPHAN_DEPENDENTS in finalizers and FINALIZER_DELETE_DEPENDENTS in finalizers:
        errors.append(
            invalid(
                path,
                list(finalizers),
                f"finalizer {FINALIZER_ORPHAN_DEPENDENTS} and {FINALIZER_DELETE_DEPENDENTS} "
                "cannot be both set",
            )
        )
    return errors


def validate_field_manager(manager: str, path: FieldPath) -> list[FieldError]:
    """A field manager name: at most 128 bytes, printable characters only."""
    errors: list[FieldError] = []
    if _byte_len(manager) > FIELD_MANAGER_MAX_LENGTH:
        errors.append(too_long(path, manager, FIELD_MANAGER_MAX_LENGTH))
    position = 0
    for char in manager:
        if not char.isprintable():
            shown = f"U+{ord(char):04X}"
            errors.append(
                invalid(path, manager, f"invalid character {shown} (at position {position})")
            )
        position += _byte_len(char)
    return errors


def validate_managed_fields(meta: ObjectMeta, path: FieldPath) -> list[FieldError]:
    """Operation, fieldsType, manager and subresource of each managedFields entry."""
    errors: list[FieldError] = []
    for i, entry in enumerate(meta.managed_fields):
        entry_path = path.index(i)
        if entry.operation not in ("Apply", "Update"):
            errors.append(
                invalid(
                    entry_path.child("operation"),
                    entry.operation or "",
                    "must be `Apply` or `Update`",
                )
            )
        if entry.fields_type and entry.fields_type != "FieldsV1":
            errors.append(
                invalid(entry_path.child("fieldsType"), entry.fields_type, "must be `FieldsV1`")
            )
        errors.extend(validate_field_manager(entry.manager or "", entry_path.child("manager")))
        subresource = entry.subresource or ""
        if _byte_len(subresource) > MAX_SUBRESOURCE_NAME_LENGTH:
            errors.append(
                too_long(entry_path.child("subresource"), subresource, MAX_SUBRESOURCE_NAME_LENGTH)
            )
    return errors


def _as_meta(meta: ObjectMeta | Mapping[str, Any]) -> ObjectMeta:
    if isinstance(meta, ObjectMeta):
        return meta
    return ObjectMeta.model_validate(dict(meta))


def validate_object_meta(
    meta: ObjectMeta | Mapping[str, Any],
    *,
    namespaced: bool,
    name_check: NameCheck = is_dns1123_subdomain,
    prefix_check: NameCheck | None = None,
    path: FieldPath | None = None,
) -> list[FieldError]:
    """Problems with an object's metadata on create (``ValidateObjectMeta``).

    ``name_check`` is the kind's name rule; ``generateName`` is checked with
    ``prefix_check``, by default ``name_check`` applied to :func:`mask_trailing_dash` of
    it. Name generation is assumed to have happened already: a missing ``name`` is an
    error even when ``generateName`` is set. A cluster-scoped object must not carry a
    namespace (callers normally clear it first).
    """
    meta = _as_meta(meta)
    path = path if path is not None else FieldPath("metadata")
    errors: list[FieldError] = []

    if meta.generate_name:
        check = prefix_check or (lambda prefix: name_check(mask_trailing_dash(prefix)))
        errors.extend(
            invalid(path.child("generateName"), meta.generate_name, msg)
            for msg in check(meta.generate_name)
        )
    if not meta.name:
        errors.append(required(path.child("name"), "name or generateName is required"))
    else:
        errors.extend(invalid(path.child("name"), meta.name, msg) for msg in name_check(meta.name))

    if namespaced:
        if not meta.namespace:
            errors.append(required(path.child("namespace")))
        else:
            errors.extend(
                invalid(path.child("namespace"), meta.namespace, msg)
                for msg in is_dns1123_label(meta.namespace)
            )
    elif meta.namespace:
        errors.append(forbidden(path.child("namespace"), "not allowed on this type"))

    if meta.generation is not None and meta.generation < 0:
        errors.append(invalid(path.child("generation"), meta.generation, IS_NEGATIVE))
    errors.extend(validate_labels(meta.labels, path.child("labels")))
    errors.extend(validate_annotations(meta.annotations, path.child("annotations")))
    errors.extend(validate_owner_references(meta.owner_references, path.child("ownerReferences")))
    errors.extend(validate_finalizers(meta.finalizers, path.child("finalizers")))
    errors.extend(validate_managed_fields(meta, path.child("managedFields")))
    return errors


def validate_object_meta_update(
    new: ObjectMeta | Mapping[str, Any],
    old: ObjectMeta | Mapping[str, Any],
    *,
    path: FieldPath | None = None,
) -> list[FieldError]:
    """Problems with an object's metadata on update (``ValidateObjectMetaUpdate``).

    The new metadata must carry a resourceVersion, must not decrease generation, must
    keep name, namespace, uid, creation and deletion timestamps and the deletion grace
    period, and must not add finalizers once deletion has started.
    """
    new, old = _as_meta(new), _as_meta(old)
    path = path if path is not None else FieldPath("metadata")
    errors: list[FieldError] = []

    if old.deletion_timestamp is not None:
        added = sorted(set(new.finalizers) - set(old.finalizers))
        if added:
            shown = "[]string{" + ", ".join(go_quote(name) for name in added) + "}"
            errors.append(
                forbidden(
                    path.child("finalizers"),
                    "no new finalizers can be added if the object is being deleted, "
                    f"found new finalizers {shown}",
                )
            )
    if not new.resource_version:
        errors.append(
            invalid(
                path.child("resourceVersion"),
                new.resource_version or "",
                "must be specified for an update",
            )
        )
    if (new.generation or 0) < (old.generation or 0):
        errors.append(
            invalid(path.child("generation"), new.generation or 0, "must not be decremented")
        )

    immutable: list[tuple[str, Any, Any]] = [
        ("name", new.name or "", old.name or ""),
        ("namespace", new.namespace or "", old.namespace or ""),
        ("uid", new.uid or "", old.uid or ""),
        ("creationTimestamp", new.creation_timestamp, old.creation_timestamp),
        ("deletionTimestamp", new.deletion_timestamp, old.deletion_timestamp),
        (
            "deletionGracePeriodSeconds",
            new.deletion_grace_period_seconds,
            old.deletion_grace_period_seconds,
        ),
    ]
    for name, new_value, old_value in immutable:
        if new_value != old_value:
            errors.append(invalid(path.child(name), new_value, FIELD_IMMUTABLE))

    errors.extend(validate_labels(new.labels, path.child("labels")))
    errors.extend(validate_annotations(new.annotations, path.child("annotations")))
    errors.extend(validate_owner_references(new.owner_references, path.child("ownerReferences")))
    errors.extend(validate_managed_fields(new, path.child("managedFields")))
    return errors


def validate_label_selector(
    selector: LabelSelector | Mapping[str, Any] | None,
    path: FieldPath,
    *,
    allow_invalid_label_value: bool = False,
) -> list[FieldError]:
    """Problems with a ``LabelSelector`` in a spec (``ValidateLabelSelector``).

    ``allow_invalid_label_value`` skips the value format check, as Kubernetes does for
    objects that were stored before the check existed.
    """
    if selector is None:
        return []
    if not isinstance(selector, LabelSelector):
        selector = LabelSelector.model_validate(dict(selector))
    errors = validate_labels(selector.match_labels, path.child("matchLabels"))
    for i, expr in enumerate(selector.match_expressions):
        expr_path = path.child("matchExpressions").index(i)
        if expr.operator in ("In", "NotIn"):
            if not expr.values:
                errors.append(
                    required(
                        expr_path.child("values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    )
                )
        elif expr.operator in ("Exists", "DoesNotExist"):
            if expr.values:
                errors.append(
                    forbidden(
                        expr_path.child("values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    )
                )
        else:
            errors.append(
                invalid(expr_path.child("operator"), expr.operator, "not a valid selector operator")
            )
        errors.extend(
            invalid(expr_path.child("key"), expr.key, msg) for msg in is_qualified_name(expr.key)
        )
        if not allow_invalid_label_value:
            for j, value in enumerate(expr.values):
                errors.extend(
                    invalid(expr_path.child("values").index(j), value, msg)
                    for msg in is_valid_label_value(value)
                )
    return errors


__all__ = [
    "OMIT",
    "ErrorType",
    "FieldError",
    "FieldPath",
    "NameCheck",
    "aggregate_message",
    "duplicate",
    "forbidden",
    "format_value",
    "go_quote",
    "internal_error",
    "invalid",
    "is_c_identifier",
    "is_config_map_key",
    "is_dns1035_label",
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "is_env_var_name",
    "is_in_range",
    "is_path_segment_name",
    "is_path_segment_prefix",
    "is_percent",
    "is_qualified_name",
    "is_relaxed_env_var_name",
    "is_valid_ip",
    "is_valid_label_value",
    "is_valid_port_name",
    "is_valid_port_num",
    "mask_trailing_dash",
    "not_found",
    "not_supported",
    "parse_ip_sloppy",
    "required",
    "too_long",
    "too_long_max_length",
    "too_many",
    "type_invalid",
    "validate_annotations",
    "validate_finalizers",
    "validate_label_selector",
    "validate_labels",
    "validate_object_meta",
    "validate_object_meta_update",
    "validate_owner_references",
]
