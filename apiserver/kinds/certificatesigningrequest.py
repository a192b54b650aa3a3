"""CertificateSigningRequest (certificates.k8s.io/v1), as Kubernetes' registry keeps it.

On create the apiserver records the requestor (``spec.username``, ``uid``, ``groups``,
``extra``) from the request's user, whatever the body says, and clears the status. The
spec never changes afterwards; the main resource changes only metadata, ``status``
writes the certificate and conditions other than Approved/Denied (kept from the stored
object), and ``approval`` writes the conditions (the certificate is kept). Condition
timestamps are filled in by the server.

Validation is Kubernetes' for v1: one PEM ``CERTIFICATE REQUEST`` with a valid
signature, a qualified ``signerName`` (never ``kubernetes.io/legacy-unknown``), known
and distinct usages, ``expirationSeconds`` of at least 600, conditions with a type and
a status (True for Approved and Denied, which exclude each other), a certificate only
of PEM ``CERTIFICATE`` blocks, set once, and only on an Approved request that has not
Failed. Which usages and subjects each built-in signer accepts is the signer's check
(``controllers.certificates``), as in Kubernetes: it marks a request it refuses Failed.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from apiserver.kinds.common import decode_base64_field
from apiserver.kinds.printers import AGE_COLUMN, NONE
from apiserver.kinds.rbac import path_segment_errors
from apiserver.registry.strategy import Column, Strategy, age, get_path
from apiserver.subresources.object import ObjectSubresource
from apiserver.subresources.status import Status
from apiserver.user import UserInfo
from apitypes import registry
from apitypes.base import now
from apitypes.certificates import (
    APPROVED,
    DENIED,
    FAILED,
    KEY_USAGES,
    LEGACY_UNKNOWN,
    CertificateSigningRequest,
    CertificateSigningRequestStatus,
)
from apitypes.duration import human_duration
from apitypes.validation import (
    FieldError,
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    is_dns1123_subdomain,
    not_supported,
    required,
)
from pki.csr import RequestError, certificate_error, parse_request

_STATUSES = ("False", "True", "Unknown")
_CERTIFICATE_DATA = "<certificate data>"
_SIGNER_NAME_MAX = 571  # a DNS subdomain (253) + "/" + a path of up to 317


def _bytes(text: str) -> bytes:
    return decode_base64_field(text) or b""


def signer_name_errors(name: str, path: FieldPath) -> list[FieldError]:
    """Kubernetes' ``ValidateSignerName``: ``<domain>/<path>``, the domain a DNS
    subdomain, the path a non-empty name without a further ``/`` rule broken."""
    if not name:
        return [required(path, "")]
    parts = name.split("/", 1)
    if len(parts) != 2:
        return [
            invalid(
                path,
                name,
                "must be a fully qualified domain and path of the form 'example.com/signer-name'",
            )
        ]
    domain, rest = parts
    errs = [invalid(path, name, msg) for msg in is_dns1123_subdomain(domain)]
    if not rest:
        errs.append(invalid(path, name, "validating path: must not be empty"))
    if len(name) > _SIGNER_NAME_MAX:
        errs.append(invalid(path, name, f"must be no more than {_SIGNER_NAME_MAX} characters"))
    return errs


def _condition_errors(obj: CertificateSigningRequest) -> list[FieldError]:
    path = FieldPath("status", "conditions")
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, cond in enumerate(obj.status.conditions if obj.status else []):
        at = path.index(i)
        if not cond.type:
            errs.append(required(at.child("type"), ""))
        allowed = ("True",) if cond.type in (APPROVED, DENIED) else _STATUSES
        if not cond.status:
            errs.append(required(at.child("status"), ""))
        elif cond.status not in allowed:
            errs.append(not_supported(at.child("status"), cond.status, allowed))
        exclusive = {APPROVED: DENIED, DENIED: APPROVED}.get(cond.type)
        if exclusive in seen:
            errs.append(
                invalid(path, cond.type, "Approved and Denied conditions are mutually exclusive")
            )
        if cond.type in seen:
            errs.append(duplicate(at.child("type"), cond.type))
        seen.add(cond.type)
    return errs


def validate_csr(obj: CertificateSigningRequest) -> list[FieldError]:
    """Kubernetes' ``validateCertificateSigningRequest`` for v1 (metadata apart)."""
    spec, path = obj.spec, FieldPath("spec")
    errs: list[FieldError] = []
    try:
        parse_request(_bytes(spec.request))
    except RequestError as err:
        errs.append(invalid(path.child("request"), spec.request, str(err)))
    if not spec.usages:
        errs.append(required(path.child("usages"), ""))
    seen: set[str] = set()
    for i, usage in enumerate(spec.usages):
        if usage not in KEY_USAGES:
            errs.append(not_supported(path.child("usages").index(i), usage, sorted(KEY_USAGES)))
        if usage in seen:
            errs.append(duplicate(path.child("usages").index(i), usage))
        seen.add(usage)
    if spec.signer_name == LEGACY_UNKNOWN:
        errs.append(
            invalid(
                path.child("signerName"),
                spec.signer_name,
                "the legacy signerName is not allowed via this API version",
            )
        )
    else:
        errs += signer_name_errors(spec.signer_name, path.child("signerName"))
    if spec.expiration_seconds is not None and spec.expiration_seconds < 600:
        errs.append(
            invalid(
                path.child("expirationSeconds"),
                spec.expiration_seconds,
                "may not specify a duration less than 600 seconds (10 minutes)",
            )
        )
    errs += _condition_errors(obj)
    problem = certificate_error(_bytes(obj.status.certificate) if obj.status else b"")
    if problem:
        errs.append(invalid(FieldPath("status", "certificate"), _CERTIFICATE_DATA, problem))
    return errs


def has_condition(obj: CertificateSigningRequest, kind: str) -> bool:
    return any(c.type == kind for c in (obj.status.conditions if obj.status else []))


def _kept_conditions_errors(
    new: CertificateSigningRequest, old: CertificateSigningRequest, kinds: Sequence[str]
) -> list[FieldError]:
    """A condition of ``kinds`` once written is never removed (approval is final)."""
    return [
        forbidden(
            FieldPath("status", "conditions"),
            f"updates may not remove a condition of type {kind!r}",
        )
        for kind in kinds
        if has_condition(old, kind) and not has_condition(new, kind)
    ]


def _stamp_conditions(new: CertificateSigningRequest, old: CertificateSigningRequest) -> None:
    """Kubernetes' ``populateConditionTimestamps``: a new or changed condition is updated
    now; one whose status stays keeps its transition time."""
    at = now()
    previous = {c.type: c for c in (old.status.conditions if old.status else [])}
    for cond in new.status.conditions if new.status else []:
        if cond.last_update_time is None:
            cond.last_update_time = at
        if cond.last_transition_time is None:
            before = previous.get(cond.type)
            if before is not None and before.status == cond.status and before.last_transition_time:
                cond.last_transition_time = before.last_transition_time
            else:
                cond.last_transition_time = at


class CSRStatus(Status):
    """``status``: the certificate and conditions; Approved and Denied stay as stored."""

    def prepare_for_update(self, strategy: Strategy, new: Any, old: Any) -> None:
        super().prepare_for_update(strategy, new, old)
        status = new.status or CertificateSigningRequestStatus()
        stored = old.status.conditions if old.status else []
        kept = [c for c in stored if c.type in (APPROVED, DENIED)]
        status.conditions = kept + [
            c for c in status.conditions if c.type not in (APPROVED, DENIED)
        ]
        new.status = status
        _stamp_conditions(new, old)

    def validate_update(self, strategy: Strategy, new: Any, old: Any) -> list[FieldError]:
        errs = strategy.validate_metadata(new) + validate_csr(new)
        errs += _kept_conditions_errors(new, old, (FAILED,))
        before = _bytes(old.status.certificate) if old.status else b""
        after = _bytes(new.status.certificate) if new.status else b""
        cert_path = FieldPath("status", "certificate")
        if before and after != before:
            errs.append(forbidden(cert_path, "updates may not modify existing certificate content"))
        elif after and not before:
            if not has_condition(new, APPROVED):
                errs.append(
                    invalid(
                        cert_path,
                        _CERTIFICATE_DATA,
                        "certificate may only be set if the Approved condition is present",
                    )
                )
            if has_condition(new, FAILED):
                errs.append(
                    invalid(
                        cert_path,
                        _CERTIFICATE_DATA,
                        "certificate may not be set if the Failed condition is present",
                    )
                )
        return errs


class Approval(ObjectSubresource):
    """``approval``: the conditions (Approved or Denied); spec and certificate stay."""

    name = "approval"
    verbs = ("get", "patch", "update")

    def prepare_for_update(self, strategy: Strategy, new: Any, old: Any) -> None:
        strategy.prepare_for_status_update(new, old)
        status = new.status or CertificateSigningRequestStatus()
        status.certificate = old.status.certificate if old.status else ""
        new.status = status
        _stamp_conditions(new, old)

    def validate_update(self, strategy: Strategy, new: Any, old: Any) -> list[FieldError]:
        errs = strategy.validate_metadata(new) + validate_csr(new)
        return errs + _kept_conditions_errors(new, old, (APPROVED, DENIED))


def condition_text(obj: CertificateSigningRequest) -> str:
    """The CONDITION cell: Approved, Denied or Pending, then ``,Failed`` and ``,Issued``."""
    kinds = {c.type for c in (obj.status.conditions if obj.status else [])}
    text = DENIED if DENIED in kinds else APPROVED if APPROVED in kinds else "Pending"
    if FAILED in kinds:
        text += ",Failed"
    if obj.status and obj.status.certificate:
        text += ",Issued"
    return text


class CertificateSigningRequestStrategy(Strategy):
    """CSRs: the requestor recorded at create, an immutable spec, approval and status
    written through their subresources."""

    resource = registry.resource("certificates.k8s.io", "certificatesigningrequests")
    subresources = (CSRStatus(), Approval())
    selectable_fields = ("spec.signerName",)
    columns = (
        AGE_COLUMN,
        Column("SignerName", description="Requested signer for the request."),
        Column("Requestor", description="Information about the requesting user."),
        Column("RequestedDuration", description="The requested duration of the certificate."),
        Column(
            "Condition", description="The state of the request (Approved, Denied, Pending, Issued)."
        ),
    )

    def fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        return {"spec.signerName": get_path(obj, "spec", "signerName")}

    def name_errors(self, name: str) -> list[str]:
        # Kubernetes does not care what requests are called (beyond being a path segment).
        return path_segment_errors(name)

    def prepare_for_user(self, obj: CertificateSigningRequest, user: UserInfo | None) -> None:
        spec = obj.spec
        spec.username = user.name if user else None
        spec.uid = (user.uid or None) if user else None
        spec.groups = list(user.groups) if user else []
        spec.extra = {k: list(v) for k, v in user.extra.items()} if user else {}

    def default(self, obj: CertificateSigningRequest) -> None:
        # Keep the request canonical base64 so that it compares and round-trips alike.
        raw = decode_base64_field(obj.spec.request)
        if raw is not None:
            obj.spec.request = base64.b64encode(raw).decode()

    def prepare_for_update(
        self, new: CertificateSigningRequest, old: CertificateSigningRequest
    ) -> None:
        new.spec = old.spec
        new.status = old.status

    def validate(self, obj: CertificateSigningRequest) -> list[FieldError]:
        return self.validate_metadata(obj) + validate_csr(obj)

    def row(self, obj: CertificateSigningRequest) -> Sequence[str]:
        seconds = obj.spec.expiration_seconds
        return [
            age(obj.metadata.creation_timestamp),
            obj.spec.signer_name,
            obj.spec.username or "",
            human_duration(seconds) if seconds is not None else NONE,
            condition_text(obj),
        ]
