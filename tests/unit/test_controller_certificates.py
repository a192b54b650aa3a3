"""The certificate controllers' logic: which requests the approver approves (and after
which SubjectAccessReview), what the signer signs or fails, and the cleaner's ages."""

from __future__ import annotations

import base64
import datetime
from typing import Any

import pytest
from cryptography import x509

from apiclient.informer import Store
from apitypes.certificates import (
    KUBE_APISERVER_CLIENT,
    KUBE_APISERVER_CLIENT_KUBELET,
    KUBELET_SERVING,
    CertificateSigningRequest,
)
from apitypes.core import Node
from controllers.base import Clock, ControllerContext, Options
from controllers.certificates import (
    CSRApprovingController,
    CSRSigningController,
    expired,
    serving_approval_error,
    signing_duration,
)
from pki import csr as pkicsr
from pki import x509 as pkix

KEY = pkix.new_key()
NOW = pkix.utcnow()


def _csr(
    cn: str = "system:node:n1",
    orgs: tuple[str, ...] = ("system:nodes",),
    *,
    username: str = "system:bootstrap:abcdef",
    signer: str = KUBE_APISERVER_CLIENT_KUBELET,
    usages: tuple[str, ...] = ("digital signature", "client auth"),
    dns: tuple[str, ...] = (),
    conditions: tuple[str, ...] = (),
    expiration: int | None = None,
) -> CertificateSigningRequest:
    pem = pkicsr.make_request(KEY, cn, orgs, dns_names=dns)
    return CertificateSigningRequest.model_validate(
        {
            "metadata": {"name": "c1", "uid": "u1", "resourceVersion": "1",
                         "creationTimestamp": NOW.strftime("%Y-%m-%dT%H:%M:%SZ")},
            "spec": {"request": base64.b64encode(pem).decode(), "signerName": signer,
                     "usages": list(usages), "username": username, "groups": ["g"],
                     "expirationSeconds": expiration},
            "status": {"conditions": [{"type": c, "status": "True"} for c in conditions]},
        }
    )  # fmt: skip


class FakeInformer:
    def __init__(self) -> None:
        self.store: Store[CertificateSigningRequest] = Store()

    def add_handler(self, *handlers: Any) -> None:
        pass


class FakeFactory:
    def __init__(self) -> None:
        self.csrs = FakeInformer()

    def informer(self, model: type, **_: Any) -> FakeInformer:
        return self.csrs


class FakeApi:
    """Answers SubjectAccessReviews from ``allowed`` (user -> subresources) and records
    approval and status writes."""

    def __init__(self, allowed: dict[str, set[str]]) -> None:
        self.allowed = allowed
        self.reviews: list[dict[str, Any]] = []
        self.approvals: list[dict[str, Any]] = []
        self.statuses: list[CertificateSigningRequest] = []

    async def create_raw(self, resource: Any, body: dict[str, Any]) -> dict[str, Any]:
        self.reviews.append(body["spec"])
        attrs = body["spec"]["resourceAttributes"]
        ok = attrs["subresource"] in self.allowed.get(body["spec"]["user"], set())
        return body | {"status": {"allowed": ok}}

    async def update_raw(self, resource: Any, body: dict[str, Any], *, subresource: str) -> dict[str, Any]:  # fmt: skip
        assert subresource == "approval"
        self.approvals.append(body)
        return body

    async def update_status(self, obj: CertificateSigningRequest) -> CertificateSigningRequest:
        self.statuses.append(obj)
        return obj


def _context(api: FakeApi, options: Options) -> ControllerContext:
    return ControllerContext(
        client=api,  # type: ignore[arg-type]
        factory=FakeFactory(),  # type: ignore[arg-type]
        recorder=None,  # type: ignore[arg-type]
        options=options,
        clock=Clock(),
    )


async def _approve(csr: CertificateSigningRequest, allowed: dict[str, set[str]]) -> FakeApi:
    api = FakeApi(allowed)
    ctl = CSRApprovingController(_context(api, Options()))
    ctl.csrs.store.put("c1", csr)
    await ctl.reconcile("c1")
    return api


async def test_a_bootstrap_token_with_nodeclient_gets_its_request_approved() -> None:
    api = await _approve(_csr(), {"system:bootstrap:abcdef": {"nodeclient"}})
    assert [r["resourceAttributes"]["subresource"] for r in api.reviews] == ["nodeclient"]
    assert api.reviews[0]["groups"] == ["g"]
    (approved,) = api.approvals
    (cond,) = approved["status"]["conditions"]
    assert (cond["type"], cond["status"], cond["reason"]) == ("Approved", "True", "AutoApproved")


async def test_a_node_renewing_itself_is_approved_through_selfnodeclient() -> None:
    api = await _approve(_csr(username="system:node:n1"), {"system:node:n1": {"selfnodeclient"}})
    assert [r["resourceAttributes"]["subresource"] for r in api.reviews] == ["selfnodeclient"]
    assert len(api.approvals) == 1


async def test_a_node_asking_for_another_nodes_name_is_not_approved() -> None:
    api = await _approve(_csr(username="system:node:n2"), {"system:node:n2": {"selfnodeclient"}})
    # Not its own name: only nodeclient is asked, which nodes do not hold.
    assert [r["resourceAttributes"]["subresource"] for r in api.reviews] == ["nodeclient"]
    assert api.approvals == []


@pytest.mark.parametrize(
    "csr",
    [
        _csr(orgs=("system:masters",)),
        _csr(cn="admin"),
        _csr(usages=("digital signature", "client auth", "server auth")),
        _csr(dns=("n1",)),
        _csr(signer=KUBE_APISERVER_CLIENT),
        _csr(conditions=("Denied",)),
    ],
)
async def test_what_is_not_a_kubelet_client_request_is_left_alone(csr: CertificateSigningRequest) -> None:  # fmt: skip
    api = await _approve(csr, {"system:bootstrap:abcdef": {"nodeclient", "selfnodeclient"}})
    assert api.reviews == [] and api.approvals == []


CA = pkix.make_ca(pkix.CASpec("ca", "kubernetes"), now=NOW)


async def _sign(csr: CertificateSigningRequest, tmp_path: Any, **opts: Any) -> FakeApi:
    (tmp_path / "ca.crt").write_bytes(CA.cert_pem)
    (tmp_path / "ca.key").write_bytes(CA.key_pem)
    options = Options(
        cluster_signing_cert_file=str(tmp_path / "ca.crt"),
        cluster_signing_key_file=str(tmp_path / "ca.key"),
        **opts,
    )
    api = FakeApi({})
    ctl = CSRSigningController(_context(api, options))
    ctl.csrs.store.put("c1", csr)
    await ctl.reconcile("c1")
    return api


def _issued(api: FakeApi) -> x509.Certificate:
    (written,) = api.statuses
    assert written.status is not None
    return x509.load_pem_x509_certificate(base64.b64decode(written.status.certificate))


async def test_an_approved_kubelet_request_is_signed_with_its_subject(tmp_path: Any) -> None:
    api = await _sign(_csr(conditions=("Approved",), expiration=3600), tmp_path)
    cert = _issued(api)
    assert pkix.subject_of(cert.public_bytes(pkicsr.serialization.Encoding.PEM)) == (
        "system:node:n1",
        ["system:nodes"],
    )
    assert pkix.signed_by(cert, CA.cert)
    life = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert datetime.timedelta(minutes=60) <= life <= datetime.timedelta(minutes=66)


async def test_pending_and_failed_requests_are_not_signed(tmp_path: Any) -> None:
    assert (await _sign(_csr(), tmp_path)).statuses == []
    assert (await _sign(_csr(conditions=("Approved", "Failed")), tmp_path)).statuses == []


async def test_a_request_the_signer_refuses_fails(tmp_path: Any) -> None:
    api = await _sign(_csr(orgs=("system:masters",), conditions=("Approved",)), tmp_path)
    (written,) = api.statuses
    assert written.status is not None and not written.status.certificate
    failed = written.status.conditions[-1]
    assert (failed.type, failed.reason) == ("Failed", "SignerValidationFailure")
    assert failed.message == "subject organization is not system:nodes"
    serving = _csr(signer=KUBELET_SERVING, usages=("digital signature", "server auth"),
                   conditions=("Approved",))  # fmt: skip
    assert (await _sign(serving, tmp_path)).statuses[0].status.conditions[-1].type == "Failed"  # type: ignore[union-attr]
    serving = _csr(signer=KUBELET_SERVING, usages=("digital signature", "server auth"),
                   conditions=("Approved",), dns=("n1",))  # fmt: skip
    cert = _issued(await _sign(serving, tmp_path))
    assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)


def test_signing_duration_is_the_default_capped_by_the_request() -> None:
    year = 365 * 24 * 3600.0
    assert signing_duration(year, None) == datetime.timedelta(days=365)
    assert signing_duration(year, 3600) == datetime.timedelta(hours=1)
    assert signing_duration(year, 10 * 365 * 24 * 3600) == datetime.timedelta(days=365)
    assert signing_duration(year, 60) == datetime.timedelta(minutes=10)


def test_the_cleaner_ages() -> None:
    pending = _csr()
    assert not expired(pending, NOW + datetime.timedelta(hours=23))
    assert expired(pending, NOW + datetime.timedelta(hours=25))
    approved = _csr(conditions=("Approved",))
    assert not expired(approved, NOW + datetime.timedelta(minutes=30))
    assert expired(approved, NOW + datetime.timedelta(hours=2))
    denied = _csr(conditions=("Denied",))
    assert expired(denied, NOW + datetime.timedelta(hours=2))
    # An issued certificate goes when it expires, even if it was decided a moment ago.
    request = pkicsr.parse_request(base64.b64decode(approved.spec.request))
    pem = pkicsr.sign_request(
        request, CA, ["client auth"], now=NOW, duration=datetime.timedelta(minutes=10)
    )
    issued = approved.model_copy(deep=True)
    issued.status.certificate = base64.b64encode(pem).decode()  # type: ignore[union-attr]
    issued.status.conditions[0].last_update_time = NOW + datetime.timedelta(hours=5)  # type: ignore[union-attr]
    assert not expired(issued, NOW + datetime.timedelta(minutes=1))
    assert expired(issued, NOW + datetime.timedelta(minutes=11))


def _node(name: str, *addresses: tuple[str, str]) -> Node:
    return Node.model_validate(
        {"metadata": {"name": name},
         "status": {"addresses": [{"type": t, "address": a} for t, a in addresses]}}
    )  # fmt: skip


def _serving(dns: tuple[str, ...] = ("n1",), ips: tuple[str, ...] = ("10.0.0.5",),
             username: str = "system:node:n1",
             groups: tuple[str, ...] = ("system:nodes", "system:authenticated"),
             ) -> tuple[CertificateSigningRequest, x509.CertificateSigningRequest]:  # fmt: skip
    pem = pkicsr.make_request(KEY, "system:node:n1", ("system:nodes",), dns_names=dns, ips=ips)
    csr = CertificateSigningRequest.model_validate(
        {"metadata": {"name": "s1"},
         "spec": {"request": base64.b64encode(pem).decode(), "signerName": KUBELET_SERVING,
                  "usages": ["digital signature", "server auth"], "username": username,
                  "groups": list(groups)}}
    )  # fmt: skip
    return csr, pkicsr.parse_request(pem)


def test_a_nodes_own_serving_request_naming_its_addresses_is_approvable() -> None:
    node = _node("n1", ("InternalIP", "10.0.0.5"), ("Hostname", "n1"))
    assert serving_approval_error(*_serving(), node) == ""
    # Only its own addresses: another IP, another host name, a missing Node.
    assert serving_approval_error(*_serving(ips=("10.0.0.6",)), node) == (
        "IP 10.0.0.6 is not an address of node n1"
    )
    assert serving_approval_error(*_serving(dns=("n2",)), node) == "DNS name n2 is not node n1's"
    assert serving_approval_error(*_serving(), None) == "node n1 does not exist"
    # Only the node itself asks: not another node, not a bootstrap token, not a user.
    for username, groups in (
        ("system:node:n2", ("system:nodes",)),
        ("system:bootstrap:abcdef", ("system:bootstrappers",)),
        ("system:node:n1", ("system:authenticated",)),
    ):
        problem = serving_approval_error(*_serving(username=username, groups=groups), node)
        assert problem.startswith(f"requested by {username}")
    # The signer's own rules still hold: a name is required.
    assert serving_approval_error(*_serving(dns=(), ips=()), node) == (
        "DNS or IP subjectAltName is required"
    )
