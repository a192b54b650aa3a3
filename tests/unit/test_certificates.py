"""CertificateSigningRequest: validation, the requestor, status and approval rules."""

from __future__ import annotations

import base64
import datetime
from typing import Any

import pytest

from apiserver import errors
from apiserver.admission import CREATE, UPDATE, Attributes, Settings
from apiserver.admission.certificates import (
    CertificateApproval,
    CertificateSigning,
    CertificateSubjectRestriction,
)
from apiserver.kinds.certificatesigningrequest import (
    Approval,
    CertificateSigningRequestStrategy,
    CSRStatus,
    condition_text,
)
from apiserver.user import UserInfo
from apitypes import registry
from apitypes.certificates import (
    KUBE_APISERVER_CLIENT_KUBELET,
    CertificateSigningRequest,
    CertificateSigningRequestCondition,
    CertificateSigningRequestStatus,
)
from pki import csr as pkicsr
from pki import x509 as pkix

STRATEGY = CertificateSigningRequestStrategy()
KEY = pkix.new_key()
CA = pkix.make_ca(pkix.CASpec("ca", "kubernetes"), now=pkix.utcnow())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _csr(**spec: object) -> CertificateSigningRequest:
    body = {
        "request": _b64(pkicsr.make_request(KEY, "system:node:n1", ("system:nodes",))),
        "signerName": KUBE_APISERVER_CLIENT_KUBELET,
        "usages": ["digital signature", "client auth"],
    } | spec
    return CertificateSigningRequest.model_validate({"metadata": {"name": "c1"}, "spec": body})


def _errors(obj: CertificateSigningRequest) -> list[str]:
    return [f"{e.field}: {e.detail}" for e in STRATEGY.validate(obj)]


def _cert(obj: CertificateSigningRequest) -> str:
    request = pkicsr.parse_request(base64.b64decode(obj.spec.request))
    pem = pkicsr.sign_request(
        request, CA, obj.spec.usages, now=pkix.utcnow(), duration=datetime.timedelta(hours=1)
    )
    return _b64(pem)


def _approved(obj: CertificateSigningRequest, kind: str = "Approved") -> CertificateSigningRequest:
    new = obj.model_copy(deep=True)
    new.status = CertificateSigningRequestStatus(
        conditions=[CertificateSigningRequestCondition(type=kind, status="True")]
    )
    return new


def test_a_valid_request_passes() -> None:
    assert _errors(_csr()) == []


@pytest.mark.parametrize(
    ("spec", "want"),
    [
        ({"request": _b64(b"nothing")}, "spec.request"),
        ({"usages": []}, "spec.usages"),
        ({"usages": ["client auth", "flying"]}, "spec.usages[1]"),
        ({"usages": ["client auth", "client auth"]}, "spec.usages[1]"),
        ({"signerName": "kubernetes.io/legacy-unknown"}, "spec.signerName"),
        ({"signerName": "no-slash"}, "spec.signerName"),
        ({"signerName": ""}, "spec.signerName"),
        ({"signerName": "Bad_Domain/x"}, "spec.signerName"),
        ({"expirationSeconds": 599}, "spec.expirationSeconds"),
    ],
)
def test_invalid_specs_name_their_field(spec: dict[str, object], want: str) -> None:
    errs = _errors(_csr(**spec))
    assert errs and all(e.startswith(want) for e in errs), errs


def _tampered(pem: bytes) -> bytes:
    """``pem`` with a byte of its signature flipped."""
    der = bytearray(pkicsr.parse_request(pem).public_bytes(pkicsr.serialization.Encoding.DER))
    der[-3] ^= 0xFF  # inside the signature
    body = base64.encodebytes(bytes(der))
    return b"-----BEGIN CERTIFICATE REQUEST-----\n" + body + b"-----END CERTIFICATE REQUEST-----\n"


def test_a_request_with_a_bad_signature_is_refused() -> None:
    tampered = _tampered(pkicsr.make_request(KEY, "system:node:n1"))
    errs = _errors(_csr(request=_b64(tampered)))
    assert any(e.startswith("spec.request") and "ECDSA verification" in e for e in errs)


def test_the_requestor_is_the_user_not_the_body() -> None:
    obj = _csr(username="system:admin", groups=["system:masters"])
    STRATEGY.prepare_for_user(obj, UserInfo("system:bootstrap:abc", "", ("system:bootstrappers",)))
    assert obj.spec.username == "system:bootstrap:abc"
    assert obj.spec.groups == ["system:bootstrappers"]


def test_the_main_resource_keeps_spec_and_status() -> None:
    old = _csr()
    new = _approved(_csr(usages=["client auth"]))
    STRATEGY.prepare_for_update(new, old)
    assert new.spec.usages == old.spec.usages and new.status is None


def test_approval_sets_conditions_with_times_and_keeps_the_certificate() -> None:
    old = _csr()
    new = _approved(old)
    new.status.certificate = _cert(old)  # type: ignore[union-attr]
    approval = Approval()
    approval.prepare_for_update(STRATEGY, new, old)
    assert approval.validate_update(STRATEGY, new, old) == []
    assert new.status is not None and new.status.certificate == ""
    cond = new.status.conditions[0]
    assert cond.last_update_time is not None and cond.last_transition_time is not None
    assert condition_text(new) == "Approved"


def test_approved_and_denied_exclude_each_other_and_stay() -> None:
    old = _approved(_csr())
    both = old.model_copy(deep=True)
    both.status.conditions.append(  # type: ignore[union-attr]
        CertificateSigningRequestCondition(type="Denied", status="True")
    )
    assert any(
        "mutually exclusive" in e.detail for e in Approval().validate_update(STRATEGY, both, old)
    )
    removed = old.model_copy(deep=True)
    removed.status = CertificateSigningRequestStatus()
    errs = Approval().validate_update(STRATEGY, removed, old)
    assert any("may not remove" in e.detail for e in errs)
    false = _csr()
    false.status = CertificateSigningRequestStatus(
        conditions=[CertificateSigningRequestCondition(type="Approved", status="False")]
    )
    assert any(e.field == "status.conditions[0].status" for e in STRATEGY.validate(false))


def test_status_sets_the_certificate_once_and_only_when_approved() -> None:
    pending = _csr()
    new = pending.model_copy(deep=True)
    new.status = CertificateSigningRequestStatus(certificate=_cert(pending))
    status = CSRStatus()
    status.prepare_for_update(STRATEGY, new, pending)
    assert any("Approved" in e.detail for e in status.validate_update(STRATEGY, new, pending))

    approved = _approved(pending)
    issued = approved.model_copy(deep=True)
    issued.status.certificate = _cert(pending)  # type: ignore[union-attr]
    # A status write cannot drop the approval either: it is kept from the stored object.
    issued.status.conditions = []  # type: ignore[union-attr]
    status.prepare_for_update(STRATEGY, issued, approved)
    assert status.validate_update(STRATEGY, issued, approved) == []
    assert condition_text(issued) == "Approved,Issued"

    again = issued.model_copy(deep=True)
    again.status.certificate = _cert(pending)  # type: ignore[union-attr]
    errs = status.validate_update(STRATEGY, again, issued)
    assert any("may not modify" in e.detail for e in errs)

    junk = approved.model_copy(deep=True)
    junk.status.certificate = _b64(
        b"-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n"
    )  # type: ignore[union-attr]
    assert any(
        e.field == "status.certificate" for e in status.validate_update(STRATEGY, junk, approved)
    )


def test_the_table_row() -> None:
    obj = _csr(expirationSeconds=3600)
    obj.spec.username = "system:bootstrap:abc"
    row = STRATEGY.row(obj)
    assert row[1:] == [KUBE_APISERVER_CLIENT_KUBELET, "system:bootstrap:abc", "60m", "Pending"]
    assert [c.name for c in STRATEGY.columns][:1] == ["Age"]


# --- admission: CertificateApproval, CertificateSigning, CertificateSubjectRestriction ---


class Grants:
    """A signer check allowing exactly ``(verb, signer name)`` pairs."""

    def __init__(self, *allowed: tuple[str, str]) -> None:
        self.allowed = set(allowed)
        self.asked: list[tuple[str, str]] = []

    async def __call__(self, user: UserInfo, verb: str, name: str) -> bool:
        self.asked.append((verb, name))
        return (verb, name) in self.allowed


CSRS = registry.resource("certificates.k8s.io", "certificatesigningrequests")
BOB = UserInfo("bob", groups=("system:authenticated",))


def _admission(obj: Any, operation: str, subresource: str = "", old: Any = None) -> Attributes:
    return Attributes(operation, CSRS, None, "c1", BOB, obj, old, subresource)


async def test_approving_needs_approve_on_the_signer_or_its_domain() -> None:
    plugin = CertificateApproval(None, Settings())  # type: ignore[arg-type]
    plugin.use_authorizer(Grants())
    with pytest.raises(errors.ApiError, match="not permitted to approve") as err:
        await plugin.validate(_admission(_approved(_csr()), UPDATE, "approval"))
    assert err.value.code == 403
    grants = Grants(("approve", "kubernetes.io/*"))
    plugin.use_authorizer(grants)
    await plugin.validate(_admission(_approved(_csr()), UPDATE, "approval"))
    assert grants.asked == [
        ("approve", KUBE_APISERVER_CLIENT_KUBELET),
        ("approve", "kubernetes.io/*"),
    ]
    await plugin.validate(_admission(_csr(), UPDATE))  # the main resource is not approval


async def test_setting_a_certificate_needs_sign_on_the_signer() -> None:
    plugin = CertificateSigning(None, Settings())  # type: ignore[arg-type]
    plugin.use_authorizer(Grants(("approve", KUBE_APISERVER_CLIENT_KUBELET)))
    old = _approved(_csr())
    issued = old.model_copy(deep=True)
    issued.status.certificate = _cert(old)  # type: ignore[union-attr]
    with pytest.raises(errors.ApiError, match="not permitted to sign"):
        await plugin.validate(_admission(issued, UPDATE, "status", old))
    await plugin.validate(_admission(old, UPDATE, "status", old))  # no certificate change
    plugin.use_authorizer(Grants(("sign", KUBE_APISERVER_CLIENT_KUBELET)))
    await plugin.validate(_admission(issued, UPDATE, "status", old))


async def test_no_apiserver_client_certificate_for_system_masters() -> None:
    plugin = CertificateSubjectRestriction(None, Settings())  # type: ignore[arg-type]
    masters = _b64(pkicsr.make_request(KEY, "root", ("system:masters",)))
    obj = _csr(request=masters, signerName="kubernetes.io/kube-apiserver-client")
    with pytest.raises(errors.ApiError, match="system:masters group is not allowed"):
        await plugin.validate(_admission(obj, CREATE))
    # Other signers, and other groups, are not this plugin's business.
    await plugin.validate(_admission(_csr(request=masters), CREATE))
    plain = _b64(pkicsr.make_request(KEY, "jane", ("dev",)))
    await plugin.validate(
        _admission(_csr(request=plain, signerName="kubernetes.io/kube-apiserver-client"), CREATE)
    )


def test_an_rsa_request_validates_and_a_tampered_one_names_rsa() -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = pkicsr.make_request(key, "jane", ("dev",))
    obj = _csr(request=_b64(pem), signerName="kubernetes.io/kube-apiserver-client",
               usages=["digital signature", "key encipherment", "client auth"])  # fmt: skip
    assert _errors(obj) == []
    bad = _tampered(pem)
    assert any("crypto/rsa: verification error" in e for e in _errors(_csr(request=_b64(bad))))
