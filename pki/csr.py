"""Certificate signing requests (PKCS#10): make one, read one, and sign one.

The kubelet makes a request (``make_request``) for its client certificate; the apiserver
checks a submitted one (``parse_request``: one ``CERTIFICATE REQUEST`` PEM block with a
valid signature, as Kubernetes' ``ParseCSR`` and ``CheckSignature``); the
controller-manager's signer issues the certificate (``sign_request``), with the
request's subject and names and the usages the CertificateSigningRequest asks for, as
Kubernetes' ``LocalSigner`` does.
"""

from __future__ import annotations

import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pki.x509 import BACKDATE, KeyPair, PrivateKey

REQUEST_BLOCK = "CERTIFICATE REQUEST"
SHORT = datetime.timedelta(hours=8)
"""Certificates asked for less than this long are not lengthened by the backdating."""
CERTIFICATE_BLOCK = "CERTIFICATE"

_KEY_USAGES = {
    "digital signature": "digital_signature",
    "signing": "digital_signature",
    "content commitment": "content_commitment",
    "key encipherment": "key_encipherment",
    "key agreement": "key_agreement",
    "data encipherment": "data_encipherment",
    "cert sign": "key_cert_sign",
    "crl sign": "crl_sign",
    "encipher only": "encipher_only",
    "decipher only": "decipher_only",
}
_EXT_KEY_USAGES = {
    "any": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    "server auth": ExtendedKeyUsageOID.SERVER_AUTH,
    "client auth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "code signing": ExtendedKeyUsageOID.CODE_SIGNING,
    "email protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "ipsec end system": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.5"),
    "ipsec tunnel": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.6"),
    "ipsec user": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.7"),
    "timestamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "ocsp signing": ExtendedKeyUsageOID.OCSP_SIGNING,
    "microsoft sgc": x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.3"),
    "netscape sgc": x509.ObjectIdentifier("2.16.840.1.113730.4.1"),
}


class RequestError(ValueError):
    """A request that cannot be read, or whose signature does not verify."""


def pem_blocks(data: bytes) -> list[tuple[str, bytes, bool]]:
    """Each PEM block of ``data``: (type, the whole block as PEM, whether it has headers)."""
    blocks: list[tuple[str, bytes, bool]] = []
    text = data.decode("latin-1")
    pos = 0
    while True:
        start = text.find("-----BEGIN ", pos)
        if start < 0:
            return blocks
        head_end = text.find("-----", start + 11)
        if head_end < 0:
            return blocks
        kind = text[start + 11 : head_end]
        end_marker = f"-----END {kind}-----"
        end = text.find(end_marker, head_end)
        if end < 0:
            return blocks
        body = text[head_end + 5 : end]
        blocks.append(
            (kind, (text[start : end + len(end_marker)] + "\n").encode("latin-1"), ":" in body)
        )
        pos = end + len(end_marker)


def parse_request(pem: bytes) -> x509.CertificateSigningRequest:
    """The one request PEM ``pem`` holds, its signature checked; RequestError if not."""
    blocks = [b for b in pem_blocks(pem) if b[0] == REQUEST_BLOCK]
    if not blocks:
        raise RequestError("PEM block type must be CERTIFICATE REQUEST")
    try:
        request = x509.load_pem_x509_csr(blocks[0][1])
    except ValueError as err:
        raise RequestError(f"x509: malformed certificate request: {err}") from err
    if not request.is_signature_valid:
        # Go's words for each kind of key.
        if isinstance(request.public_key(), rsa.RSAPublicKey):
            raise RequestError("crypto/rsa: verification error")
        raise RequestError("x509: ECDSA verification failure")
    return request


def certificate_error(pem: bytes) -> str:
    """Why ``pem`` is not a certificate chain ("" when it is, or is empty), as
    Kubernetes checks ``status.certificate``."""
    if not pem:
        return ""
    blocks = pem_blocks(pem)
    for kind, block, headers in blocks:
        if kind != CERTIFICATE_BLOCK:
            return f'only CERTIFICATE PEM blocks are allowed, found "{kind}"'
        if headers:
            return "no PEM block headers are permitted"
        try:
            x509.load_pem_x509_certificate(block)
        except ValueError as err:
            return f"x509: malformed certificate: {err}"
    if not blocks:
        return "must contain at least one CERTIFICATE PEM block"
    return ""


def subject(request: x509.CertificateSigningRequest) -> tuple[str, list[str]]:
    """(CN, [O...]) of a request: the user and groups its certificate would name."""
    cn = request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    orgs = request.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return (str(cn[0].value) if cn else "", [str(o.value) for o in orgs])


def alt_names(
    request: x509.CertificateSigningRequest,
) -> tuple[list[str], list[str], list[str], list[str]]:
    """(DNS names, IP addresses, email addresses, URIs) the request asks for."""
    try:
        san = request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], [], [], []
    return (
        [str(n) for n in san.get_values_for_type(x509.DNSName)],
        [str(n) for n in san.get_values_for_type(x509.IPAddress)],
        [str(n) for n in san.get_values_for_type(x509.RFC822Name)],
        [str(n) for n in san.get_values_for_type(x509.UniformResourceIdentifier)],
    )


def make_request(
    key: PrivateKey,
    common_name: str,
    organizations: tuple[str, ...] = (),
    *,
    dns_names: tuple[str, ...] = (),
    ips: tuple[str, ...] = (),
) -> bytes:
    """A PEM request signed by ``key`` for CN ``common_name``, O ``organizations``."""
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs))
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def sign_request(
    request: x509.CertificateSigningRequest,
    ca: KeyPair,
    usages: list[str],
    *,
    now: datetime.datetime,
    duration: datetime.timedelta,
) -> bytes:
    """A PEM certificate for ``request`` signed by ``ca``: the request's subject, public
    key and subject alternative names, the ``usages`` (key usages and extended key
    usages by Kubernetes' names), valid from a little before ``now`` for ``duration``
    (plus the backdating, for long ones) but never beyond the CA's own expiry."""
    flags = dict.fromkeys(_KEY_USAGES.values(), False)
    for usage in usages:
        if usage in _KEY_USAGES:
            flags[_KEY_USAGES[usage]] = True
    extended = [_EXT_KEY_USAGES[u] for u in dict.fromkeys(usages) if u in _EXT_KEY_USAGES]
    # As Kubernetes' signer: every certificate starts BACKDATE early (clock skew); a
    # short-lived one (under SHORT) ends BACKDATE early too, so it lives ``duration``.
    end = now + duration - (BACKDATE if duration < SHORT else datetime.timedelta())
    not_after = min(end, ca.cert.not_valid_after_utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(request.subject)
        .issuer_name(ca.cert.subject)
        .public_key(request.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    if any(flags.values()):
        builder = builder.add_extension(x509.KeyUsage(**flags), critical=True)
    if extended:
        builder = builder.add_extension(x509.ExtendedKeyUsage(extended), critical=False)
    try:
        san = request.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        builder = builder.add_extension(san.value, critical=san.critical)
    except x509.ExtensionNotFound:
        pass
    return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
