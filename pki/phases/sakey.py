"""Phase ``sa``: the key pair that signs service-account tokens (``sa.key``, ``sa.pub``),
RSA 2048 as kubeadm makes it (tokens are RS256 JWTs). Made once and kept: a new key
would invalidate every token issued; rotating it is a deliberate act (remove both
files), after which the apiserver still accepts what ``--service-account-key-file``
lists."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pki.x509 import Outcome, write_private

KEY = "sa.key"
PUB = "sa.pub"


def run(pki_dir: Path) -> list[Outcome]:
    key_file, pub_file = pki_dir / KEY, pki_dir / PUB
    try:
        key = serialization.load_pem_private_key(key_file.read_bytes(), None)
    except (OSError, ValueError):
        key = None
    if isinstance(key, rsa.RSAPrivateKey):
        pub = public_pem(key)
        if pub_file.exists() and pub_file.read_bytes() == pub:
            return [Outcome("sa", "kept")]
        write_private(pub_file, pub)
        return [Outcome("sa", "renewed", "its public half was missing", [pub_file])]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write_private(
        key_file,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    write_private(pub_file, public_pem(key))
    return [Outcome("sa", "created", "", [key_file, pub_file])]


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
