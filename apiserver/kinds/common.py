"""What the kinds share: field paths, small validators, and bad values as Go prints them.

Every helper here exists once; the kind modules (one per kind) and the pod spec rules
(``podspec``) import it from here. Table cells live in ``printers``, pod-template rules
shared by the workload kinds in ``workload``.

Kubernetes renders a bad value that is a Go struct or map with ``%#v``
(``map[string]string{"app":"web"}``). The few such values users meet every day (label
maps, label selectors, int-or-percent fields, taints, ports) are rendered the same way
here through :class:`GoValue`; other structs fall back to the compact JSON that
:func:`apitypes.validation.format_value` uses.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any, Final

from apiserver import errors
from apiserver.registry.strategy import Strategy
from apitypes.meta import LabelSelector
from apitypes.validation import (
    FIELD_IMMUTABLE,
    IS_NEGATIVE,
    FieldError,
    FieldPath,
    forbidden,
    go_quote,
    invalid,
    is_config_map_key,
    parse_ip_sloppy,
)

METADATA = FieldPath("metadata")
SPEC = FieldPath("spec")
STATUS = FieldPath("status")

MAX_INT32: Final = 2**31 - 1
PORT_PROTOCOLS = ("SCTP", "TCP", "UDP")
CONDITION_STATUSES = ("False", "True", "Unknown")
CIDR_ERROR = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
MAX_SECRET_SIZE: Final = 1024 * 1024
"""The most data a Secret or ConfigMap may hold."""

# Finalizer names without a domain that Kubernetes accepts (``IsStandardFinalizerName``).
_STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})
_IMMUTABLE_WHEN_SET = "field is immutable when `immutable` is set"
_BASE64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


# --- bad values as Go prints them ------------------------------------------------------


class GoValue:
    """A bad value whose text is Go's ``%#v`` of the Kubernetes value.

    :func:`apitypes.validation.format_value` cannot encode it as JSON and falls back to
    ``str()``, so the field error shows exactly this text.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"GoValue({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GoValue) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def _go_map_text(values: Mapping[str, str]) -> str:
    # Go prints a nil map as "(nil)"; an empty map in a decoded object is nil unless
    # the client sent "{}", which the models cannot tell apart, so empty reads as nil.
    if not values:
        return "map[string]string(nil)"
    pairs = ", ".join(f"{go_quote(k)}:{go_quote(values[k])}" for k in sorted(values))
    return "map[string]string{" + pairs + "}"


def go_string_map(values: Mapping[str, str]) -> GoValue:
    """``map[string]string{"a":"b"}``, keys sorted as Go's fmt sorts them."""
    return GoValue(_go_map_text(values))


def go_label_selector(selector: LabelSelector | None) -> GoValue | None:
    """A ``metav1.LabelSelector`` as ``%#v`` prints it; None stays None (``null``)."""
    if selector is None:
        return None
    if selector.match_expressions:
        parts = []
        for expr in selector.match_expressions:
            values = (
                "[]string{" + ", ".join(go_quote(v) for v in expr.values) + "}"
                if expr.values
                else "[]string(nil)"
            )
            parts.append(
                f"v1.LabelSelectorRequirement{{Key:{go_quote(expr.key)}, "
                f"Operator:{go_quote(expr.operator)}, Values:{values}}}"
            )
        exprs = "[]v1.LabelSelectorRequirement{" + ", ".join(parts) + "}"
    else:
        exprs = "[]v1.LabelSelectorRequirement(nil)"
    return GoValue(
        f"v1.LabelSelector{{MatchLabels:{_go_map_text(selector.match_labels)}, "
        f"MatchExpressions:{exprs}}}"
    )


def go_int_or_string(value: int | str) -> GoValue:
    """An ``intstr.IntOrString`` as ``%#v`` prints it (its ``String`` is not used)."""
    if isinstance(value, str):
        return GoValue(f"intstr.IntOrString{{Type:1, IntVal:0, StrVal:{go_quote(value)}}}")
    return GoValue(f'intstr.IntOrString{{Type:0, IntVal:{value}, StrVal:""}}')


def int_or_string_text(value: int | str) -> str:
    """``IntOrString.String()``: the number or the string as it is."""
    return str(value)


def go_list(values: Sequence[str]) -> str:
    """Go's ``%q`` of a ``[]string``: ``["a" "b"]``."""
    return "[" + " ".join(go_quote(v) for v in values) + "]"


def go_int32s(values: Sequence[int]) -> GoValue:
    if not values:
        return GoValue("[]int32(nil)")
    return GoValue("[]int32{" + ", ".join(str(v) for v in values) + "}")


# --- small validators --------------------------------------------------------------


def nonnegative(value: int | None, path: FieldPath | str) -> list[FieldError]:
    """``ValidateNonnegativeField`` (an unset value counts as 0)."""
    if value is not None and value < 0:
        return [invalid(path, value, IS_NEGATIVE)]
    return []


def immutable(new: Any, old: Any, path: FieldPath | str, shown: Any = None) -> list[FieldError]:
    """``ValidateImmutableField``: ``new`` must equal ``old``; ``shown`` is the value
    to print (default: ``new``)."""
    if new != old:
        return [invalid(path, new if shown is None else shown, FIELD_IMMUTABLE)]
    return []


def dual_stack(addresses: Sequence[str]) -> bool:
    """Exactly one IPv4 and one IPv6 address."""
    if len(addresses) != 2:
        return False
    try:
        versions = {ipaddress.ip_address(address).version for address in addresses}
    except ValueError:
        return False
    return versions == {4, 6}


def valid_cidr(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return "/" in value


def canonical_ip(text: str) -> str:
    """The standard spelling of an address (IPv4 octets may carry leading zeros)."""
    if not parse_ip_sloppy(text):
        return ""
    if ":" not in text:
        return ".".join(str(int(part)) for part in text.split("."))
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def non_special_ip_errors(ip: str, path: FieldPath) -> list[FieldError]:
    """Unspecified, loopback and link-local addresses are refused (``ValidateNonSpecialIP``)."""
    address = canonical_ip(ip)
    if not address:
        return [invalid(path, ip, "must be a valid IP address")]
    parsed = ipaddress.ip_address(address)
    errs: list[FieldError] = []
    if parsed.is_unspecified:
        errs.append(invalid(path, ip, f"may not be unspecified ({ip})"))
    if parsed.is_loopback:
        errs.append(invalid(path, ip, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
    if parsed.is_link_local:
        errs.append(
            invalid(path, ip, "may not be in the link-local range (169.254.0.0/16, fe80::/10)")
        )
    link_local_multicast = (
        parsed in ipaddress.ip_network("224.0.0.0/24")
        if parsed.version == 4
        else parsed in ipaddress.ip_network("ff02::/16")
    )
    if link_local_multicast:
        errs.append(
            invalid(
                path, ip, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"
            )
        )
    return errs


# --- core/v1 metadata ---------------------------------------------------------------


def kube_finalizer_errors(
    finalizers: Sequence[str], path: FieldPath, *, indexed: bool
) -> list[FieldError]:
    """Unqualified finalizer names must be standard ones (``validateKubeFinalizerName``)."""
    errs: list[FieldError] = []
    for i, name in enumerate(finalizers):
        if "/" not in name and name not in _STANDARD_FINALIZERS:
            errs.append(
                invalid(
                    path.index(i) if indexed else path,
                    name,
                    "name is neither a standard finalizer name nor is it fully qualified",
                )
            )
    return errs


class CoreStrategy(Strategy):
    """core/v1 metadata rules: the generic ones plus Kubernetes' finalizer-name check."""

    def validate_metadata(self, obj: Any) -> list[FieldError]:
        errs = super().validate_metadata(obj)
        errs.extend(
            kube_finalizer_errors(
                obj.metadata.finalizers, METADATA.child("finalizers"), indexed=True
            )
        )
        return errs


# --- data maps (ConfigMaps and Secrets) -----------------------------------------------


def _base64_error_offset(text: str) -> int:
    """Where Go's standard base64 decoder reports ``illegal base64 data`` in ``text``."""
    chars = [c for c in text if c not in "\r\n"]
    for i, char in enumerate(chars):
        if char != "=" and char not in _BASE64_ALPHABET:
            return i
    if "=" in chars:
        first_pad = chars.index("=")
        if first_pad % 4 < 2 or len(chars) % 4 or any(c != "=" for c in chars[first_pad:]):
            return first_pad
    return len(chars) - len(chars) % 4


def decode_base64_field(text: str) -> bytes | None:
    """The bytes of a base64 ``[]byte`` field as Go's JSON decoder reads it (newlines are
    skipped, padding is required), or None if Go would refuse it."""
    cleaned = text.replace("\r", "").replace("\n", "")
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        return None


def canonical_base64(values: dict[str, str], kind: str) -> dict[str, bytes]:
    """Decode every value, rewriting it canonically; 400 as Kubernetes' decoder answers."""
    decoded: dict[str, bytes] = {}
    for key, text in values.items():
        raw = decode_base64_field(text)
        if raw is None:
            raise errors.bad_request(
                f'{kind} in version "v1" cannot be handled as a {kind}: illegal base64 data at '
                f"input byte {_base64_error_offset(text)}"
            )
        decoded[key] = raw
        values[key] = base64.b64encode(raw).decode()
    return decoded


def immutable_data(new: Any, old: Any, fields: Sequence[tuple[str, str]]) -> list[FieldError]:
    if not old.immutable:
        return []
    errs: list[FieldError] = []
    if not new.immutable:
        errs.append(forbidden(FieldPath("immutable"), _IMMUTABLE_WHEN_SET))
    for attr, wire in fields:
        if getattr(new, attr) != getattr(old, attr):
            errs.append(forbidden(FieldPath(wire), _IMMUTABLE_WHEN_SET))
    return errs


def config_key_errors(key: str, path: FieldPath) -> list[FieldError]:
    return [invalid(path, key, msg) for msg in is_config_map_key(key)]
