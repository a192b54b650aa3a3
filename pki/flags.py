"""The apiserver's command-line flags for a PKI directory (``pki.certlist`` lays it out):
one list for everyone who starts an apiserver over that PKI (``navarch up``,
``navarch init``, ``testkit.secure``), so that a new file of the PKI is wired in once.

``deploy/docker-compose.yml`` writes the same flags out as YAML (its own paths under
``/pki``); keep it in step by hand.
"""

from __future__ import annotations

from pathlib import Path


def apiserver_pki_flags(
    pki_dir: Path, *, verify_kubelets: bool = True, encrypt_secrets: bool = False
) -> list[str]:
    """etcd's mutual TLS, the HTTPS serving pair, the client CA, the kubelet client pair
    (and the kubelets' CA with ``verify_kubelets``), the service-account keys, and with
    ``encrypt_secrets`` the EncryptionConfiguration the PKI phase made.

    ``verify_kubelets=False`` is kubeadm's default: kubelets that joined with a bootstrap
    token serve a self-signed certificate, which the apiserver does not verify."""
    flags = [
        "--etcd-cafile", str(pki_dir / "etcd/ca.crt"),
        "--etcd-certfile", str(pki_dir / "apiserver-etcd-client.crt"),
        "--etcd-keyfile", str(pki_dir / "apiserver-etcd-client.key"),
        "--tls-cert-file", str(pki_dir / "apiserver.crt"),
        "--tls-private-key-file", str(pki_dir / "apiserver.key"),
        "--client-ca-file", str(pki_dir / "ca.crt"),
        "--kubelet-client-certificate", str(pki_dir / "apiserver-kubelet-client.crt"),
        "--kubelet-client-key", str(pki_dir / "apiserver-kubelet-client.key"),
        "--service-account-key-file", str(pki_dir / "sa.pub"),
        "--service-account-signing-key-file", str(pki_dir / "sa.key"),
    ]  # fmt: skip
    if verify_kubelets:
        flags += ["--kubelet-certificate-authority", str(pki_dir / "ca.crt")]
    if encrypt_secrets:
        flags += ["--encryption-provider-config", str(pki_dir / "encryption-config.yaml")]
    return flags
