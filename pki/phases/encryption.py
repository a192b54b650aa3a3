"""Phase ``encryption``: the apiserver's ``--encryption-provider-config``, an
``EncryptionConfiguration`` that encrypts Secrets with ``aescbc`` under a random
32-byte key (``identity`` second, so Secrets written before encryption was on stay
readable). Made once and kept: the key decrypts what etcd holds. Rotation is
Kubernetes' procedure: add a key first, restart, rewrite the Secrets, drop the old key."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import yaml

from pki.x509 import Outcome, write_private

FILE = "encryption-config.yaml"


def document(key: bytes, resources: tuple[str, ...] = ("secrets",)) -> dict[str, object]:
    return {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "EncryptionConfiguration",
        "resources": [
            {
                "resources": list(resources),
                "providers": [
                    {
                        "aescbc": {
                            "keys": [{"name": "key1", "secret": base64.b64encode(key).decode()}]
                        }
                    },
                    {"identity": {}},
                ],
            }
        ],
    }


def run(pki_dir: Path) -> list[Outcome]:
    path = pki_dir / FILE
    if path.exists():
        return [Outcome("encryption", "kept")]
    write_private(path, yaml.safe_dump(document(os.urandom(32)), sort_keys=False).encode())
    return [Outcome("encryption", "created", "", [path])]
