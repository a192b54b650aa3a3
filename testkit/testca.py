"""The test session's certificate authority: every ``ApiServerProcess`` serves HTTPS
with a certificate it signed, and every client in the tests verifies that certificate
against it (never ``verify=False``).

    ca = session_ca()                              # made once per test process
    cert, key = ca.serving_cert(["127.0.0.1"])     # for an apiserver's --tls-cert-file
    httpx.get(url, verify=ca.ssl_context())        # trusts this CA only
    ca.kubeconfig(url)                             # server + certificate-authority
    daemon_args = server_flags(url)                # --server URL --kubeconfig <that file>

The CA and everything made with it live in a temporary directory removed when the
process exits. It is not the cluster PKI of ``testkit.secure`` (one identity per
component, RBAC): a test apiserver runs ``--authorization-mode AlwaysAllow`` and lets
anonymous requests in, so httpx and the official client need only the CA. The
kubeconfigs also carry one client certificate (``CN=navarch-test``,
``O=system:masters``; the apiserver's ``--client-ca-file`` is this CA) because kubectl,
given an HTTPS server and no credentials, asks on stdin for a user name.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import shutil
import ssl
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from apiclient import ClientConfig
from pki.certlist import split_names
from pki.phases.kubeconfig import document
from pki.x509 import (
    CLIENT,
    SERVER,
    CASpec,
    CertSpec,
    ensure_ca,
    ensure_leaf,
    utcnow,
    write_private,
)

CA = CASpec("ca", "navarch-test-ca", days=30)
USER = CertSpec("user", CA.name, "navarch-test", ("system:masters",), (CLIENT,), days=30)
"""The identity of the kubeconfigs (kubectl, navctl, the daemons)."""
LOOPBACK = ("localhost", "127.0.0.1", "::1")
"""Names every serving certificate carries besides the ones asked for."""


@dataclass(frozen=True)
class TestCA:
    """A CA in ``directory`` (``ca.crt``/``ca.key``) and what it signed there."""

    __test__ = False  # not a test class, whatever its name says to pytest

    directory: Path

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.crt"

    def serving_cert(self, hosts: Sequence[str] = ()) -> tuple[Path, Path]:
        """(certificate chain, key) for a server reached at ``hosts`` (DNS names, IPs)
        and at loopback, signed by this CA; made once per set of names."""
        names = tuple(dict.fromkeys((*LOOPBACK, *hosts)))
        tag = hashlib.sha256(",".join(names).encode()).hexdigest()[:12]
        now = utcnow()
        ca, _ = ensure_ca(self.directory, CA, now=now)
        dns, ips = split_names(list(names))
        spec = CertSpec(
            f"serving-{tag}", CA.name, "navarch-test-apiserver", (), (SERVER,),
            tuple(dns), tuple(ips), days=30,
        )  # fmt: skip
        leaf, _ = ensure_leaf(self.directory, spec, ca, now=now)
        chain = self.directory / f"serving-{tag}-chain.crt"
        write_private(chain, leaf.cert_pem + ca.cert_pem)
        return chain, self.directory / f"serving-{tag}.key"

    def client_cert(self) -> tuple[Path, Path]:
        """(certificate, key) of the test user (``USER``), made once."""
        now = utcnow()
        ca, _ = ensure_ca(self.directory, CA, now=now)
        ensure_leaf(self.directory, USER, ca, now=now)
        return self.directory / f"{USER.name}.crt", self.directory / f"{USER.name}.key"

    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts this CA and nothing else."""
        return ssl.create_default_context(cafile=self.ca_file)

    def kubeconfig(self, server: str) -> Path:
        """A kubeconfig for ``server``: its URL, this CA and the test user's client
        certificate (written once per server)."""
        tag = hashlib.sha256(server.encode()).hexdigest()[:12]
        path = self.directory / f"kubeconfig-{tag}"
        if not path.exists():
            cert, key = self.client_cert()
            doc = document(
                cluster="navarch-test",
                server=server,
                ca_pem=self.ca_file.read_bytes(),
                user=USER.common_name,
                cert_pem=cert.read_bytes(),
                key_pem=key.read_bytes(),
                context="navarch-test",
            )
            write_private(path, yaml.safe_dump(doc, sort_keys=False).encode())
        return path


@functools.cache
def session_ca() -> TestCA:
    """The CA of this test process, made on first use and removed at exit."""
    directory = Path(tempfile.mkdtemp(prefix="navarch-test-ca-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    ca = TestCA(directory)
    ensure_ca(directory, CA, now=utcnow())
    return ca


def server_flags(server: str, flag: str = "--server") -> list[str]:
    """How a navarch daemon reaches the test apiserver at ``server``: ``flag server``
    and, for HTTPS, a kubeconfig trusting the session CA (the daemons read the CA from
    a kubeconfig, as Kubernetes' do; ``--server`` still names the URL). A later
    ``--kubeconfig`` on the same command line (a test's own credentials) wins."""
    if not server.startswith("https://"):
        return [flag, server]
    return ["--kubeconfig", str(session_ca().kubeconfig(server)), flag, server]


def kubectl_flags(server: str) -> list[str]:
    """kubectl's flags for an HTTPS ``server``: the session CA and the test user's
    certificate (without one kubectl would ask for a user name)."""
    if not server.startswith("https://"):
        return []
    ca = session_ca()
    cert, key = ca.client_cert()
    return [
        "--certificate-authority", str(ca.ca_file),
        "--client-certificate", str(cert),
        "--client-key", str(key),
    ]  # fmt: skip


def client_config(server: str, **kwargs: Any) -> ClientConfig:
    """navarch's client configuration for the test apiserver at ``server`` (the
    session CA for HTTPS; ``kwargs``: namespace, timeout...)."""
    ca = str(session_ca().ca_file) if server.startswith("https://") else None
    return ClientConfig(server=server, ca_file=ca, **kwargs)


def verify(server: str) -> ssl.SSLContext | bool:
    """httpx's ``verify=`` for ``server``: the session CA for HTTPS (plain HTTP needs
    none)."""
    return session_ca().ssl_context() if server.startswith("https://") else True
