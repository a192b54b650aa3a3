"""certificates.k8s.io/v1: CertificateSigningRequest, how clients obtain certificates.

A requestor submits a PEM PKCS#10 request for a signer; an approver (a person through
``kubectl certificate approve``, or the controller-manager's ``csrapproving`` for
kubelets) adds an ``Approved`` or ``Denied`` condition through the ``approval``
subresource, and the signer (``csrsigning``) writes the certificate through ``status``.
The apiserver records who asked (``username``, ``uid``, ``groups``, ``extra``).
"""

from __future__ import annotations

from pydantic import Field

from apitypes.base import Base64Text, KubeModel, KubeObject, Time, items, mapping, merge_list
from apitypes.meta import ObjectMeta

GROUP = "certificates.k8s.io"

KUBE_APISERVER_CLIENT = "kubernetes.io/kube-apiserver-client"
KUBE_APISERVER_CLIENT_KUBELET = "kubernetes.io/kube-apiserver-client-kubelet"
KUBELET_SERVING = "kubernetes.io/kubelet-serving"
LEGACY_UNKNOWN = "kubernetes.io/legacy-unknown"

APPROVED = "Approved"
DENIED = "Denied"
FAILED = "Failed"

KEY_USAGES = (
    "signing",
    "digital signature",
    "content commitment",
    "key encipherment",
    "key agreement",
    "data encipherment",
    "cert sign",
    "crl sign",
    "encipher only",
    "decipher only",
    "any",
    "server auth",
    "client auth",
    "code signing",
    "email protection",
    "s/mime",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "timestamping",
    "ocsp signing",
    "microsoft sgc",
    "netscape sgc",
)
"""Every usage a request may name (Kubernetes' ``KeyUsage`` values)."""


class CertificateSigningRequestSpec(KubeModel):
    """The request, the signer asked, and who asked (set by the apiserver)."""

    request: Base64Text = ""
    """The PEM-encoded PKCS#10 certificate request ("CERTIFICATE REQUEST" block); base64
    in JSON."""
    signer_name: str = ""
    """The signer asked to sign: kubernetes.io/kube-apiserver-client,
    kubernetes.io/kube-apiserver-client-kubelet, kubernetes.io/kubelet-serving, or a
    signer of one's own (domain/name)."""
    expiration_seconds: int | None = None
    """The certificate's requested lifetime (at least 600); the signer may issue a
    shorter one."""
    usages: list[str] = items()
    """The key usages and extended key usages asked for ("client auth", "digital
    signature", ...)."""
    username: str | None = None
    """The user who created the request (set by the apiserver)."""
    uid: str | None = None
    """The uid of the user who created the request (set by the apiserver)."""
    groups: list[str] = items()
    """The groups of the user who created the request (set by the apiserver)."""
    extra: dict[str, list[str]] = mapping()
    """Extra attributes of the user who created the request (set by the apiserver)."""


class CertificateSigningRequestCondition(KubeModel):
    """One step of a request's life: Approved, Denied or Failed."""

    type: str = ""
    """Approved, Denied, Failed, or a type of the signer's own."""
    status: str = ""
    """True, False or Unknown (Approved and Denied are always True)."""
    reason: str | None = None
    """Why, in a CamelCase word (AutoApproved, KubectlApprove, SignerValidationFailure)."""
    message: str | None = None
    """A human-readable explanation."""
    last_update_time: Time | None = None
    """When the condition was last updated."""
    last_transition_time: Time | None = None
    """When the condition last changed status."""


class CertificateSigningRequestStatus(KubeModel):
    """Whether the request is approved or denied, and the issued certificate."""

    conditions: list[CertificateSigningRequestCondition] = merge_list("type")
    """Approved or Denied (written through the approval subresource), Failed."""
    certificate: Base64Text = ""
    """The issued certificate chain, PEM "CERTIFICATE" blocks (base64 in JSON); set once
    by the signer through the status subresource."""


class CertificateSigningRequest(KubeObject):
    """A request for an x509 certificate from a named signer, approved or denied, then
    signed."""

    API_VERSION = "certificates.k8s.io/v1"
    KIND = "CertificateSigningRequest"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: CertificateSigningRequestSpec = Field(default_factory=CertificateSigningRequestSpec)
    """The request; immutable once created."""
    status: CertificateSigningRequestStatus | None = None
    """Approval conditions and the issued certificate."""


__all__ = [
    "APPROVED",
    "DENIED",
    "FAILED",
    "GROUP",
    "KEY_USAGES",
    "KUBELET_SERVING",
    "KUBE_APISERVER_CLIENT",
    "KUBE_APISERVER_CLIENT_KUBELET",
    "LEGACY_UNKNOWN",
    "CertificateSigningRequest",
    "CertificateSigningRequestCondition",
    "CertificateSigningRequestSpec",
    "CertificateSigningRequestStatus",
]
