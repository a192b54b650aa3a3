"""Certificates and keys with the ``cryptography`` library: make, load, check, renew.

A certificate authority is a key and a self-signed certificate; a leaf is a key and a
certificate the CA signed, for a subject (CN, O), a use (server and/or client
authentication) and names (DNS and IP SANs). Keys are ECDSA P-256 (kubeadm's
``ECDSA-P256``: fast to make and to handshake with; kubectl, etcd and Python's ``ssl``
take them); the service-account signing key is RSA (``pki.phases.sakey``).

Everything is written with ``write_private`` (mode 0600, atomically), so a crash never
leaves half a file and no key is readable by other users, even for a moment.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

CA_DAYS = 3650
"""A CA's life, as kubeadm's (ten years)."""
LEAF_DAYS = 365
"""A leaf certificate's life, as kubeadm's (one year)."""
RENEW_FRACTION = 1 / 3
"""Renew a certificate once less than this share of its life is left."""
BACKDATE = datetime.timedelta(minutes=5)
"""Certificates start this long before they are made, for clocks a little behind."""

SERVER = "server"
CLIENT = "client"


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass(frozen=True)
class CASpec:
    """A certificate authority: ``<name>.crt`` and ``<name>.key`` under the PKI dir."""

    name: str
    common_name: str
    days: int = CA_DAYS


@dataclass(frozen=True)
class CertSpec:
    """A leaf certificate signed by the CA ``ca`` (a ``CASpec.name``)."""

    name: str
    ca: str
    common_name: str
    organizations: tuple[str, ...] = ()
    usages: tuple[str, ...] = (CLIENT,)
    """``server`` and/or ``client`` (extended key usages)."""
    dns_names: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    days: int = LEAF_DAYS


@dataclass
class KeyPair:
    """A certificate and its key, in memory and as PEM."""

    cert: x509.Certificate
    key: PrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


@dataclass
class Outcome:
    """What one ``ensure`` did: ``kept``, ``created`` or ``renewed`` (with why)."""

    name: str
    action: str
    reason: str = ""
    changed_files: list[Path] = field(default_factory=list)


# --- files --------------------------------------------------------------------------------


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` with mode 0600, atomically (a temp file renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cert_path(pki_dir: Path, name: str) -> Path:
    return pki_dir / f"{name}.crt"


def key_path(pki_dir: Path, name: str) -> Path:
    return pki_dir / f"{name}.key"


def load_pair(pki_dir: Path, name: str) -> KeyPair | None:
    """The pair ``<name>.crt``/``<name>.key``, None if either is missing or unreadable."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path(pki_dir, name).read_bytes())
        key = serialization.load_pem_private_key(key_path(pki_dir, name).read_bytes(), None)
    except (OSError, ValueError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        return None
    return KeyPair(cert, key)


def save_pair(pki_dir: Path, name: str, pair: KeyPair) -> list[Path]:
    paths = [key_path(pki_dir, name), cert_path(pki_dir, name)]
    write_private(paths[0], pair.key_pem)
    write_private(paths[1], pair.cert_pem)
    return paths


# --- making certificates -------------------------------------------------------------------


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str, organizations: tuple[str, ...] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def make_ca(spec: CASpec, *, now: datetime.datetime, key: PrivateKey | None = None) -> KeyPair:
    """A self-signed CA certificate (a fresh key unless ``key`` is given: a renewed CA
    keeps its key, so what it signed before stays valid)."""
    key = key or new_key()
    name = _name(spec.common_name)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + datetime.timedelta(days=spec.days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return KeyPair(cert, key)


def sign(spec: CertSpec, ca: KeyPair, *, now: datetime.datetime) -> KeyPair:
    """A fresh key and a certificate for ``spec`` signed by ``ca``."""
    key = new_key()
    usages = []
    if SERVER in spec.usages:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if CLIENT in spec.usages:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(spec.common_name, spec.organizations))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(now + datetime.timedelta(days=spec.days), ca.cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=isinstance(key, rsa.RSAPrivateKey),
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    sans = _sans(spec)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return KeyPair(builder.sign(ca.key, hashes.SHA256()), key)


def _sans(spec: CertSpec) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dict.fromkeys(spec.dns_names)]
    for ip in dict.fromkeys(spec.ips):
        names.append(x509.IPAddress(ipaddress.ip_address(ip)))
    return names


# --- checking what exists ------------------------------------------------------------------


def signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    """Whether ``ca``'s key signed ``cert``."""
    if cert.issuer != ca.subject:
        return False
    try:
        cert.verify_directly_issued_by(ca)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def expiring(cert: x509.Certificate, now: datetime.datetime) -> bool:
    """Whether less than ``RENEW_FRACTION`` of the certificate's life is left."""
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    return end - now < (end - start) * RENEW_FRACTION


def leaf_mismatch(cert: x509.Certificate, spec: CertSpec) -> str:
    """Why ``cert`` does not match ``spec`` (subject, SANs, usages); '' when it does."""
    if cert.subject != _name(spec.common_name, spec.organizations):
        return "its subject changed"
    try:
        present = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        have_dns = set(present.get_values_for_type(x509.DNSName))
        have_ips = {str(ip) for ip in present.get_values_for_type(x509.IPAddress)}
    except x509.ExtensionNotFound:
        have_dns, have_ips = set(), set()
    want_ips = {str(ipaddress.ip_address(ip)) for ip in spec.ips}
    if have_dns != set(spec.dns_names) or have_ips != want_ips:
        return "its names (SANs) changed"
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return "it has no extended key usage"
    wanted = set()
    if SERVER in spec.usages:
        wanted.add(ExtendedKeyUsageOID.SERVER_AUTH)
    if CLIENT in spec.usages:
        wanted.add(ExtendedKeyUsageOID.CLIENT_AUTH)
    if set(eku) != wanted:
        return "its usages changed"
    return ""


def key_matches(pair: KeyPair) -> bool:
    return bool(
        pair.cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        == pair.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def ensure_ca(pki_dir: Path, spec: CASpec, *, now: datetime.datetime) -> tuple[KeyPair, Outcome]:
    """The CA ``spec`` from ``pki_dir``: made when missing, renewed (same key) when it
    has less than a third of its life left."""
    pair = load_pair(pki_dir, spec.name)
    if pair is not None and key_matches(pair) and not expiring(pair.cert, now):
        return pair, Outcome(spec.name, "kept")
    if pair is None or not key_matches(pair):
        pair = make_ca(spec, now=now)
        action, reason = "created", ""
    else:
        pair = make_ca(spec, now=now, key=pair.key)
        action, reason = "renewed", "less than a third of its life was left"
    files = save_pair(pki_dir, spec.name, pair)
    return pair, Outcome(spec.name, action, reason, files)


def ensure_leaf(
    pki_dir: Path, spec: CertSpec, ca: KeyPair, *, now: datetime.datetime
) -> tuple[KeyPair, Outcome]:
    """The leaf ``spec`` from ``pki_dir``: made when missing; made anew when its CA,
    subject, names or usages changed or less than a third of its life is left."""
    pair = load_pair(pki_dir, spec.name)
    reason = ""
    if pair is None:
        action = "created"
    else:
        action = "renewed"
        if not key_matches(pair):
            reason = "its key does not match"
        elif not signed_by(pair.cert, ca.cert):
            reason = "another CA signed it"
        elif expiring(pair.cert, now):
            reason = "less than a third of its life was left"
        else:
            reason = leaf_mismatch(pair.cert, spec)
        if not reason:
            return pair, Outcome(spec.name, "kept")
    pair = sign(spec, ca, now=now)
    files = save_pair(pki_dir, spec.name, pair)
    return pair, Outcome(spec.name, action, reason, files)


def subject_of(cert_pem: bytes) -> tuple[str, list[str]]:
    """(CN, [O...]) of a PEM certificate: the user and groups it authenticates as."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    orgs = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return (str(cn[0].value) if cn else "", [str(o.value) for o in orgs])
