"""The certificate admission plugins, as Kubernetes' ``plugin/pkg/admission/certificates``:

- **CertificateApproval**: approving or denying a CertificateSigningRequest (its
  ``approval`` subresource) needs the verb ``approve`` on ``signers`` named by the
  request's ``signerName`` (or ``<domain>/*``), in group certificates.k8s.io;
- **CertificateSigning**: setting or changing ``status.certificate`` needs ``sign`` on
  the signer the same way;
- **CertificateSubjectRestriction**: no request for ``kubernetes.io/kube-apiserver-client``
  may name the group ``system:masters`` (whoever approved it would mint a superuser).

All three are on by default. The first two ask the server's authorizer through the
check ``security.py`` hands them (``use_authorizer``; admission does not import the
authorizers, which import admission); without one they allow.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable

from apiserver import errors
from apiserver.admission import CREATE, UPDATE, Attributes, Plugin
from apiserver.user import MASTERS, UserInfo
from apitypes.certificates import GROUP, KUBE_APISERVER_CLIENT, CertificateSigningRequest
from pki.csr import RequestError, parse_request, subject

PLURAL = "certificatesigningrequests"

SignerCheck = Callable[[UserInfo, str, str], Awaitable[bool]]
"""Whether a user may ``verb`` (approve, sign) the ``signers`` resource of a name."""


class SignerAuthorizing(Plugin):
    """A plugin that asks whether the user may ``verb`` a request's signer."""

    check: SignerCheck | None = None

    def use_authorizer(self, check: SignerCheck) -> None:
        self.check = check

    async def may(self, attrs: Attributes, verb: str, signer: str) -> bool:
        """Kubernetes' ``IsAuthorizedForSignerName``: the signer itself, then its domain
        wildcard."""
        if self.check is None or MASTERS in attrs.user.groups:
            return True
        names = [signer]
        if "/" in signer:
            names.append(signer.split("/", 1)[0] + "/*")
        for name in names:
            if await self.check(attrs.user, verb, name):
                return True
        return False

    def refuse(self, attrs: Attributes, message: str) -> errors.ApiError:
        return errors.forbidden(PLURAL, attrs.name, message, GROUP)


class CertificateApproval(SignerAuthorizing):
    name = "CertificateApproval"

    async def validate(self, attrs: Attributes) -> None:
        if attrs.operation != UPDATE or not attrs.is_(GROUP, PLURAL, "approval"):
            return
        csr: CertificateSigningRequest = attrs.obj
        if not await self.may(attrs, "approve", csr.spec.signer_name):
            raise self.refuse(
                attrs,
                f'user not permitted to approve requests with signerName "{csr.spec.signer_name}"',
            )


class CertificateSigning(SignerAuthorizing):
    name = "CertificateSigning"

    async def validate(self, attrs: Attributes) -> None:
        if attrs.operation != UPDATE or not attrs.is_(GROUP, PLURAL, "status"):
            return
        new: CertificateSigningRequest = attrs.obj
        old: CertificateSigningRequest | None = attrs.old
        before = old.status.certificate if old is not None and old.status else ""
        after = new.status.certificate if new.status else ""
        if before == after:
            return
        if not await self.may(attrs, "sign", new.spec.signer_name):
            raise self.refuse(
                attrs,
                f'user not permitted to sign requests with signerName "{new.spec.signer_name}"',
            )


class CertificateSubjectRestriction(Plugin):
    name = "CertificateSubjectRestriction"

    async def validate(self, attrs: Attributes) -> None:
        if attrs.operation != CREATE or not attrs.is_(GROUP, PLURAL):
            return
        csr: CertificateSigningRequest = attrs.obj
        if csr.spec.signer_name != KUBE_APISERVER_CLIENT:
            return
        try:
            _, orgs = subject(parse_request(base64.b64decode(csr.spec.request)))
        except (RequestError, ValueError):
            return  # validation refuses it
        if MASTERS in orgs:
            raise errors.forbidden(
                PLURAL,
                attrs.name,
                f"use of {KUBE_APISERVER_CLIENT} signer with {MASTERS} group is not allowed",
                GROUP,
            )
