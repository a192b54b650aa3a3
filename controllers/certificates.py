"""The certificate controllers: approve kubelets' requests, sign approved requests, and
clean up old ones, as kube-controller-manager's ``csrapproving``, ``csrsigning`` and
``csrcleaner`` (``pkg/controller/certificates``).

- **approving**: a pending ``kubernetes.io/kube-apiserver-client-kubelet`` request whose
  PKCS#10 subject is a node's client identity (``CN=system:node:<name>``,
  ``O=system:nodes``, no alternative names, usages ``digital signature`` and ``client
  auth``, with ``key encipherment`` or without) is approved when a SubjectAccessReview
  says its requestor may ``create`` ``certificatesigningrequests/selfnodeclient`` (a
  node renewing its own certificate: the requestor is the CN) or
  ``certificatesigningrequests/nodeclient`` (a bootstrap token joining a node). Nothing
  else is approved or denied here: that is for people (``kubectl certificate``), except,
  with ``--approve-kubelet-serving-certificates`` (navarch's; Kubernetes leaves these to
  an external approver), a node's own ``kubernetes.io/kubelet-serving`` request that
  names only that Node's addresses (``serving_approval_error``).
- **signing**: an approved request (not Failed, no certificate yet) for
  ``kubernetes.io/kube-apiserver-client-kubelet``, ``kubernetes.io/kube-apiserver-client``
  or ``kubernetes.io/kubelet-serving`` is signed with the ``--cluster-signing-cert-file``
  / ``--cluster-signing-key-file`` CA for ``--cluster-signing-duration`` (one year), or
  the request's ``expirationSeconds`` when shorter (never under ten minutes). A request
  the signer's rules refuse gets ``Failed`` (``SignerValidationFailure``). Off without
  the CA.
- **cleaner**: approved, denied or failed requests are deleted an hour after the
  decision, pending ones after a day, issued ones at the latest when their certificate
  expires.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import logging
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from apiclient import Informer, errors
from apitypes import registry
from apitypes.authorization import GROUP as AUTHZ
from apitypes.certificates import (
    APPROVED,
    DENIED,
    FAILED,
    GROUP,
    KUBE_APISERVER_CLIENT,
    KUBE_APISERVER_CLIENT_KUBELET,
    KUBELET_SERVING,
    CertificateSigningRequest,
    CertificateSigningRequestCondition,
    CertificateSigningRequestStatus,
)
from apitypes.core import Node
from controllers.base import Controller, ControllerContext
from pki.csr import RequestError, alt_names, parse_request, sign_request, subject
from pki.x509 import KeyPair

log = logging.getLogger(__name__)

CSRS = registry.resource(GROUP, "certificatesigningrequests")
SUBJECT_ACCESS_REVIEWS = registry.resource(AUTHZ, "subjectaccessreviews")
NODE_PREFIX = "system:node:"
NODES = "system:nodes"
MIN_DURATION = datetime.timedelta(minutes=10)

_CLIENT_USAGES = ({"digital signature", "key encipherment", "client auth"},
                  {"digital signature", "client auth"})  # fmt: skip
_SERVING_USAGES = ({"digital signature", "key encipherment", "server auth"},
                   {"digital signature", "server auth"})  # fmt: skip
_API_CLIENT_ALLOWED = {"digital signature", "key encipherment", "client auth"}


# --- what a request is (Kubernetes' capihelper) ------------------------------------------


def request_of(csr: CertificateSigningRequest) -> x509.CertificateSigningRequest:
    """The PKCS#10 request of ``csr``; RequestError if it cannot be read."""
    return parse_request(base64.b64decode(csr.spec.request))


def _node_subject_error(request: x509.CertificateSigningRequest) -> str:
    cn, orgs = subject(request)
    if orgs != [NODES]:
        return "subject organization is not system:nodes"
    if not cn.startswith(NODE_PREFIX) or len(cn) == len(NODE_PREFIX):
        return "subject common name does not begin with system:node:"
    return ""


def kubelet_client_error(request: x509.CertificateSigningRequest, usages: Sequence[str]) -> str:
    """Why ``request`` is not a kubelet's client certificate request ("" if it is)."""
    problem = _node_subject_error(request)
    if problem:
        return problem
    dns, ips, emails, uris = alt_names(request)
    for kind, found in (("DNS", dns), ("Email", emails), ("IP", ips), ("URI", uris)):
        if found:
            return f"{kind} subjectAltNames are not allowed"
    if set(usages) not in _CLIENT_USAGES or len(usages) != len(set(usages)):
        return f"usages did not match {sorted(_CLIENT_USAGES[0])}"
    return ""


def kubelet_serving_error(request: x509.CertificateSigningRequest, usages: Sequence[str]) -> str:
    """Why ``request`` is not a kubelet's serving certificate request ("" if it is)."""
    problem = _node_subject_error(request)
    if problem:
        return problem
    dns, ips, emails, uris = alt_names(request)
    if not dns and not ips:
        return "DNS or IP subjectAltName is required"
    if emails:
        return "Email subjectAltNames are not allowed"
    if uris:
        return "URI subjectAltNames are not allowed"
    if set(usages) not in _SERVING_USAGES:
        return f"usages did not match {sorted(_SERVING_USAGES[0])}"
    return ""


def apiserver_client_error(usages: Sequence[str]) -> str:
    """Why ``usages`` do not fit a client certificate for the apiserver ("" if they do)."""
    for usage in usages:
        if usage not in _API_CLIENT_ALLOWED:
            return f"invalid usage for client certificate: {usage}"
    if "client auth" not in usages:
        return "missing required usage for client certificate: client auth"
    return ""


def signer_error(csr: CertificateSigningRequest, request: x509.CertificateSigningRequest) -> str:
    """Why the built-in signer of ``csr`` refuses it ("" if it signs it)."""
    usages = csr.spec.usages
    if csr.spec.signer_name == KUBE_APISERVER_CLIENT_KUBELET:
        return kubelet_client_error(request, usages)
    if csr.spec.signer_name == KUBELET_SERVING:
        return kubelet_serving_error(request, usages)
    return apiserver_client_error(usages)


def _conditions(csr: CertificateSigningRequest) -> list[CertificateSigningRequestCondition]:
    return csr.status.conditions if csr.status else []


def has_condition(csr: CertificateSigningRequest, kind: str) -> bool:
    return any(c.type == kind and c.status == "True" for c in _conditions(csr))


def signing_duration(default: float, expiration_seconds: int | None) -> datetime.timedelta:
    """The certificate's life: ``default`` seconds, or the requested one when shorter,
    never under ten minutes (Kubernetes' signer)."""
    longest = datetime.timedelta(seconds=default)
    if expiration_seconds is None:
        return longest
    return max(MIN_DURATION, min(longest, datetime.timedelta(seconds=expiration_seconds)))


# --- approving -------------------------------------------------------------------------


APPROVALS = (
    ("selfnodeclient", "Auto approving self kubelet client certificate after SubjectAccessReview."),
    ("nodeclient", "Auto approving kubelet client certificate after SubjectAccessReview."),
)
"""The permissions tried, in order, and the approval message of each."""


def approvals_to_try(
    csr: CertificateSigningRequest, request: x509.CertificateSigningRequest
) -> list[tuple[str, str]]:
    """The ``certificatesigningrequests/<subresource>`` permissions whose holder's
    request ``csr`` would be approved (Kubernetes' recognizers)."""
    if csr.spec.signer_name != KUBE_APISERVER_CLIENT_KUBELET:
        return []
    if kubelet_client_error(request, csr.spec.usages):
        return []
    own = csr.spec.username == subject(request)[0]
    return [(sub, msg) for sub, msg in APPROVALS if own or sub != "selfnodeclient"]


SERVING_APPROVAL = "Auto approving kubelet serving certificate: it names only the node's addresses."


def serving_approval_error(
    csr: CertificateSigningRequest, request: x509.CertificateSigningRequest, node: Node | None
) -> str:
    """Why ``csr`` is not a node's request for its own serving certificate naming only
    its addresses ("" if it is): the ``--approve-kubelet-serving-certificates`` rule.

    The requestor must be the node the subject names (``system:node:<name>`` in
    ``system:nodes``: a node asks only for itself), every IP name one of that Node's
    addresses, every DNS name the node's name or one of its addresses. The addresses are
    the ones the kubelet reports and the apiserver dials, so the certificate vouches
    for nothing the apiserver would not already connect to."""
    problem = kubelet_serving_error(request, csr.spec.usages)
    if problem:
        return problem
    cn = subject(request)[0]
    if csr.spec.username != cn or NODES not in csr.spec.groups:
        return f"requested by {csr.spec.username or 'nobody'}, not by {cn}"
    name = cn[len(NODE_PREFIX) :]
    if node is None:
        return f"node {name} does not exist"
    known = {a.address for a in (node.status.addresses if node.status else [])}
    dns, ips, _emails, _uris = alt_names(request)
    for ip in ips:
        if ip not in known:
            return f"IP {ip} is not an address of node {name}"
    for host in dns:
        if host != name and host not in known:
            return f"DNS name {host} is not node {name}'s"
    return ""


class CSRApprovingController(Controller):
    name = "certificatesigningrequest-approving-controller"
    aliases = ("csrapproving",)
    service_account = "certificate-controller"

    def __init__(self, ctx: ControllerContext, workers: int = 5) -> None:
        super().__init__(ctx, workers)
        self.csrs: Informer[CertificateSigningRequest] = self.factory.informer(
            CertificateSigningRequest
        )
        self.csrs.add_handler(self.enqueue, lambda _old, new: self.enqueue(new))
        self.nodes: Informer[Node] | None = None
        if ctx.options.approve_kubelet_serving:
            self.nodes = self.factory.informer(Node)
            # A kubelet may ask before its Node reports the addresses it names: its
            # request is looked at again when the Node changes.
            self.nodes.add_handler(self._node_changed, lambda _old, new: self._node_changed(new))

    async def reconcile(self, key: str) -> float | None:
        csr = self.csrs.store.get(key)
        if csr is None or (csr.status and csr.status.certificate):
            return None
        if has_condition(csr, APPROVED) or has_condition(csr, DENIED):
            return None
        try:
            request = request_of(csr)
        except (RequestError, ValueError):
            return None  # the apiserver validated it; nothing to approve
        for subresource, message in approvals_to_try(csr, request):
            if await self._allowed(csr, subresource):
                await self._approve(csr, message)
                return None
        if self.nodes is not None and csr.spec.signer_name == KUBELET_SERVING:
            node_name = subject(request)[0][len(NODE_PREFIX) :]
            node = self.nodes.store.get(node_name)
            problem = serving_approval_error(csr, request, node)
            if not problem:
                await self._approve(csr, SERVING_APPROVAL)
            else:
                log.info("left %s for now: %s", csr.metadata.name, problem)
        return None

    def _node_changed(self, node: Node) -> None:
        requestor = NODE_PREFIX + (node.metadata.name or "")
        for csr in self.csrs.store.objects():
            if csr.spec.signer_name == KUBELET_SERVING and csr.spec.username == requestor:
                self.enqueue(csr)

    async def _allowed(self, csr: CertificateSigningRequest, subresource: str) -> bool:
        spec = csr.spec
        review: dict[str, Any] = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": spec.username or "",
                "uid": spec.uid or "",
                "groups": list(spec.groups),
                "extra": dict(spec.extra),
                "resourceAttributes": {
                    "group": GROUP,
                    "resource": "certificatesigningrequests",
                    "verb": "create",
                    "subresource": subresource,
                    "version": "*",
                },
            },
        }
        answer = await self.client.create_raw(SUBJECT_ACCESS_REVIEWS, review)
        return bool((answer.get("status") or {}).get("allowed"))

    async def _approve(self, csr: CertificateSigningRequest, message: str) -> None:
        approved = csr.model_copy(deep=True)
        status = approved.status or CertificateSigningRequestStatus()
        status.conditions.append(
            CertificateSigningRequestCondition(
                type=APPROVED, status="True", reason="AutoApproved", message=message
            )
        )
        approved.status = status
        with contextlib.suppress(errors.NotFoundError):
            await self.client.update_raw(CSRS, approved.to_dict(), subresource="approval")
        log.info("approved %s: %s", csr.metadata.name, message)


# --- signing ---------------------------------------------------------------------------


def load_signing_ca(cert_file: str, key_file: str) -> KeyPair:
    """The signing CA from its PEM files; ValueError if they do not hold one."""
    cert = x509.load_pem_x509_certificate(Path(cert_file).read_bytes())
    key = serialization.load_pem_private_key(Path(key_file).read_bytes(), None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError(f"{key_file}: not an ECDSA or RSA private key")
    return KeyPair(cert, key)


SIGNERS = (KUBE_APISERVER_CLIENT_KUBELET, KUBE_APISERVER_CLIENT, KUBELET_SERVING)


class CSRSigningController(Controller):
    name = "certificatesigningrequest-signing-controller"
    aliases = ("csrsigning",)
    service_account = "certificate-controller"

    def __init__(self, ctx: ControllerContext, workers: int = 5) -> None:
        super().__init__(ctx, workers)
        self.csrs: Informer[CertificateSigningRequest] = self.factory.informer(
            CertificateSigningRequest
        )
        opts = self.options
        self.ca: KeyPair | None = None
        if not (opts.cluster_signing_cert_file and opts.cluster_signing_key_file):
            log.info(
                "%s: no --cluster-signing-cert-file/--cluster-signing-key-file: off", self.name
            )
            return
        self.ca = load_signing_ca(opts.cluster_signing_cert_file, opts.cluster_signing_key_file)
        self.csrs.add_handler(self.enqueue, lambda _old, new: self.enqueue(new))

    async def reconcile(self, key: str) -> float | None:
        csr = self.csrs.store.get(key)
        if csr is None or self.ca is None or csr.spec.signer_name not in SIGNERS:
            return None
        csr = self.fresh(csr)
        if not has_condition(csr, APPROVED) or has_condition(csr, FAILED):
            return None
        if csr.status and csr.status.certificate:
            return None
        try:
            request = request_of(csr)
        except (RequestError, ValueError) as err:
            raise RuntimeError(f"unable to parse csr {csr.metadata.name!r}: {err}") from err
        status = csr.status or CertificateSigningRequestStatus()
        problem = signer_error(csr, request)
        if problem:
            status.conditions.append(
                CertificateSigningRequestCondition(
                    type=FAILED, status="True", reason="SignerValidationFailure", message=problem
                )
            )
        else:
            duration = signing_duration(
                self.options.cluster_signing_duration, csr.spec.expiration_seconds
            )
            pem = sign_request(
                request, self.ca, csr.spec.usages, now=self.clock.now(), duration=duration
            )
            status.certificate = base64.b64encode(pem).decode()
        csr.status = status
        with contextlib.suppress(errors.NotFoundError):
            self.remember(await self.client.update_status(csr))
        log.info("%s %s", "failed" if problem else "signed", csr.metadata.name)
        return None


# --- cleaning ---------------------------------------------------------------------------

APPROVED_EXPIRATION = datetime.timedelta(hours=1)
"""How long approved, denied and failed requests are kept."""
PENDING_EXPIRATION = datetime.timedelta(hours=24)


def expired(csr: CertificateSigningRequest, now: datetime.datetime) -> bool:
    """Whether the cleaner deletes ``csr`` at ``now`` (Kubernetes' ``csrcleaner``): an
    issued certificate that expired, a decision (Approved, Denied, Failed) older than an
    hour, a request pending for more than a day."""
    created = csr.metadata.creation_timestamp
    if csr.status and csr.status.certificate:
        try:
            cert = x509.load_pem_x509_certificate(base64.b64decode(csr.status.certificate))
        except ValueError:
            cert = None
        if cert is not None and cert.not_valid_after_utc < now:
            return True
    if created is None:
        return False
    decided = [c for c in _conditions(csr) if c.type in (APPROVED, DENIED, FAILED)]
    if decided:
        changed = max((c.last_update_time or created for c in decided), default=created)
        return now - changed > APPROVED_EXPIRATION
    return now - created > PENDING_EXPIRATION


class CSRCleanerController(Controller):
    name = "certificatesigningrequest-cleaner-controller"
    aliases = ("csrcleaner",)
    service_account = "certificate-controller"
    period = 3600.0

    def __init__(self, ctx: ControllerContext, workers: int = 1) -> None:
        super().__init__(ctx, workers)
        self.csrs: Informer[CertificateSigningRequest] = self.factory.informer(
            CertificateSigningRequest
        )

    def loops(self) -> list[Coroutine[Any, Any, None]]:
        return [self.every(self.period, self.clean)]

    async def clean(self) -> float | None:
        now = self.clock.now()
        for csr in self.csrs.store.objects():
            if csr.metadata.name and expired(csr, now):
                with contextlib.suppress(errors.NotFoundError):
                    await self.client.delete_raw(CSRS, csr.metadata.name)
        return None

    async def reconcile(self, key: str) -> float | None:
        return None
