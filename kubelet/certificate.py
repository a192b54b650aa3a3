"""The kubelet's client certificate: TLS bootstrap and rotation, as Kubernetes' kubelet
(``pkg/kubelet/certificate/bootstrap``) and client-go's certificate manager do them.

- **Bootstrap** (``--bootstrap-kubeconfig``): when ``--kubeconfig`` is missing or its
  certificate has expired, the kubelet makes a key (kept in ``<cert-dir>`` as
  ``kubelet-client.key.tmp`` until it has a certificate, so a restart asks again with
  the same key and request name), submits a CertificateSigningRequest for
  ``CN=system:node:<node>``, ``O=system:nodes`` to the signer
  ``kubernetes.io/kube-apiserver-client-kubelet`` with the bootstrap credentials, waits
  for the controller-manager to approve and sign it, stores certificate and key in
  ``<cert-dir>/kubelet-client-<time>.pem`` (``kubelet-client-current.pem`` links to the
  newest), and writes ``--kubeconfig``: the bootstrap kubeconfig's server and CA, and
  that file as client certificate and key.
- **Rotation** (``--rotate-certificates``): at a random point between 70% and 90% of
  the certificate's life (client-go's jitter) the kubelet asks for a new one the same
  way, authenticated by the current one (approved through ``selfnodeclient``), stores
  it, and every TLS context of its client presents it from then on; its connections
  are renewed (the old ones closed after a grace period), so the apiserver sees it. A failure is
  retried with backoff (1 s doubling to 128 s) while the old certificate lasts.
- **Serving certificate** (``--rotate-server-certificates``): the kubelet asks the
  signer ``kubernetes.io/kubelet-serving`` for its HTTPS certificate (its node name
  and ``--node-ip`` as names, usages ``digital signature`` and ``server auth``), serves
  once it has one, and renews it the same way (``kubelet-server-*.pem``). As in
  Kubernetes nothing approves these requests automatically: an operator does
  (``kubectl certificate approve``).
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import hashlib
import logging
import os
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from apiclient import Client, ClientConfig, ConfigError, errors, load_config, merge_kubeconfig
from apitypes import registry
from apitypes.certificates import (
    DENIED,
    FAILED,
    GROUP,
    KUBE_APISERVER_CLIENT_KUBELET,
    KUBELET_SERVING,
    CertificateSigningRequest,
    CertificateSigningRequestSpec,
)
from apitypes.meta import ObjectMeta
from pki.csr import make_request
from pki.x509 import KeyPair, PrivateKey, new_key, utcnow, write_private

log = logging.getLogger(__name__)

CSRS = registry.resource(GROUP, "certificatesigningrequests")
USAGES = ["digital signature", "client auth"]
"""An ECDSA key signs, it does not encipher: Kubernetes' kubelet asks for these two."""
SERVING_USAGES = ["digital signature", "server auth"]
CLIENT = "kubelet-client"
SERVER = "kubelet-server"
CURRENT = f"{CLIENT}-current.pem"
PENDING_KEY = "kubelet-client.key.tmp"
WAIT_TIMEOUT = 3600.0
"""How long a kubelet waits for its request to be signed (Kubernetes' hour)."""


class CertificateRequestError(RuntimeError):
    """The request was denied or failed, or no certificate came in time."""


def read_pair(path: Path) -> KeyPair | None:
    """The certificate and key of a PEM file holding both (or None)."""
    try:
        data = path.read_bytes()
        cert = x509.load_pem_x509_certificate(data)
        key = serialization.load_pem_private_key(data, None)
    except (OSError, ValueError):
        return None
    return KeyPair(cert, key)  # type: ignore[arg-type]


def read_certificate(path: str | Path | None) -> x509.Certificate | None:
    if not path:
        return None
    try:
        return x509.load_pem_x509_certificate(Path(path).read_bytes())
    except (OSError, ValueError):
        return None


def rotation_deadline(
    cert: x509.Certificate, jitter: Callable[[], float] = random.random
) -> datetime.datetime:
    """When to renew ``cert``: 70% to 90% of its life after it starts (client-go's
    ``nextRotationDeadline``: 80% ± 10% jitter)."""
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    return start + (end - start) * (0.7 + 0.2 * jitter())


@dataclass(frozen=True)
class Kind:
    """Which certificate: the client one (``kubelet-client-*.pem``) or the serving one
    (``kubelet-server-*.pem``, ``--rotate-server-certificates``), its signer, usages and
    names."""

    prefix: str = CLIENT
    signer: str = KUBE_APISERVER_CLIENT_KUBELET
    usages: tuple[str, ...] = tuple(USAGES)
    dns_names: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()

    @property
    def current(self) -> str:
        return f"{self.prefix}-current.pem"


CLIENT_KIND = Kind()


def serving_kind(names: tuple[str, ...], ips: tuple[str, ...]) -> Kind:
    """The kubelet's serving certificate for its host ``names`` and ``ips``."""
    return Kind(SERVER, KUBELET_SERVING, tuple(SERVING_USAGES), names, ips)


def request_name(key: PrivateKey, node_name: str, kind: Kind = CLIENT_KIND) -> str:
    """A name for the request that is the same for the same key, node and usages, so a
    kubelet restarted while waiting finds its own request again (Kubernetes'
    ``node-csr-<digest>``)."""
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    what = "|".join((*kind.usages, *kind.dns_names, *kind.ips))
    digest = hashlib.sha512(public + node_name.encode() + what.encode()).digest()
    return "node-csr-" + base64.urlsafe_b64encode(digest).decode().rstrip("=")[:43]


async def request_certificate(
    client: Client, node_name: str, key: PrivateKey, *, timeout: float = WAIT_TIMEOUT,
    poll: float = 0.5, kind: Kind = CLIENT_KIND,
) -> bytes:  # fmt: skip
    """Submit the kubelet's certificate request (client, or ``kind``) for ``key`` (or
    find the one submitted before) and wait for its certificate (PEM).
    CertificateRequestError when it is denied, fails or takes longer than ``timeout``
    seconds."""
    name = request_name(key, node_name, kind)
    pem = make_request(
        key, f"system:node:{node_name}", ("system:nodes",),
        dns_names=kind.dns_names, ips=kind.ips,
    )  # fmt: skip
    body = CertificateSigningRequest(
        metadata=ObjectMeta(name=name),
        spec=CertificateSigningRequestSpec(
            request=base64.b64encode(pem).decode(),
            signer_name=kind.signer,
            usages=list(kind.usages),
        ),
    ).to_dict()
    try:
        await client.create_raw(CSRS, body)
        log.info("submitted certificate signing request %s", name)
    except errors.AlreadyExistsError:
        log.info("waiting for certificate signing request %s, submitted before", name)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        csr = CertificateSigningRequest.model_validate(await client.get_raw(CSRS, name))
        status = csr.status
        for cond in status.conditions if status else []:
            if cond.type in (DENIED, FAILED) and cond.status == "True":
                raise CertificateRequestError(
                    f"certificate signing request {name} {cond.type.lower()}: "
                    f"{cond.reason or ''} {cond.message or ''}".strip()
                )
        if status and status.certificate:
            return base64.b64decode(status.certificate)
        if loop.time() > deadline:
            raise CertificateRequestError(f"no certificate for {name} within {timeout:.0f}s")
        await asyncio.sleep(poll)


def store(cert_dir: Path, cert_pem: bytes, key: PrivateKey, prefix: str = CLIENT) -> Path:
    """Write certificate and key to ``<prefix>-<time>.pem`` (``kubelet-client``) and
    point ``<prefix>-current.pem`` at it (atomically); returns the link."""
    cert_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    stamp = utcnow().strftime("%Y-%m-%d-%H-%M-%S-%f")
    target = cert_dir / f"{prefix}-{stamp}.pem"
    write_private(target, cert_pem + key_pem)
    link = cert_dir / f"{prefix}-current.pem"
    tmp = cert_dir / f".{link.name}.{stamp}"
    os.symlink(target.name, tmp)
    os.replace(tmp, link)
    return link


def _pending_key(cert_dir: Path) -> PrivateKey:
    """The key of a request still waiting (kept across restarts), or a new one."""
    path = cert_dir / PENDING_KEY
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), None)
        return key  # type: ignore[return-value]
    except (OSError, ValueError):
        pass
    key = new_key()
    cert_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(
        path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    return key


def kubeconfig_usable(path: Path) -> bool:
    """Whether the kubeconfig at ``path`` exists with a client certificate not expired
    (Kubernetes' ``isClientConfigStillValid``)."""
    try:
        config = load_config(path)
    except (ConfigError, OSError, ValueError):
        return False
    cert = read_certificate(config.client_cert_file)
    if cert is None:
        return False
    now = utcnow()
    return cert.not_valid_before_utc <= now < cert.not_valid_after_utc


def write_node_kubeconfig(path: Path, bootstrap: ClientConfig, cert_file: Path) -> None:
    """``path``: the bootstrap kubeconfig's server and CA, ``cert_file`` (certificate
    and key) as the user."""
    cluster: dict[str, object] = {"server": bootstrap.server}
    if bootstrap.ca_file:
        data = Path(bootstrap.ca_file).read_bytes()
        cluster["certificate-authority-data"] = base64.b64encode(data).decode()
    if bootstrap.insecure_skip_tls_verify:
        cluster["insecure-skip-tls-verify"] = True
    merge_kubeconfig(
        path,
        {
            "clusters": [{"name": "default-cluster", "cluster": cluster}],
            "users": [
                {
                    "name": "default-auth",
                    "user": {"client-certificate": str(cert_file), "client-key": str(cert_file)},
                }
            ],
            "contexts": [
                {
                    "name": "default-context",
                    "context": {"cluster": "default-cluster", "user": "default-auth"},
                }
            ],
            "current-context": "default-context",
        },
    )


async def bootstrap(
    kubeconfig: Path, bootstrap_kubeconfig: Path, cert_dir: Path, node_name: str, *,
    timeout: float = WAIT_TIMEOUT,
) -> None:  # fmt: skip
    """Make sure ``kubeconfig`` holds a usable client certificate, getting one with the
    bootstrap credentials if it does not (see the module's docstring)."""
    if kubeconfig_usable(kubeconfig):
        return
    current = cert_dir / CURRENT
    config = load_config(bootstrap_kubeconfig)
    if read_pair(current) is None or not _valid_now(current):
        key = _pending_key(cert_dir)
        async with Client(config, user_agent=f"navarch-kubelet/{node_name}") as client:
            cert_pem = await request_certificate(client, node_name, key, timeout=timeout)
        current = store(cert_dir, cert_pem, key)
        (cert_dir / PENDING_KEY).unlink(missing_ok=True)
        log.info("bootstrap: client certificate for system:node:%s stored", node_name)
    write_node_kubeconfig(kubeconfig, config, current)


def valid_now(path: Path) -> bool:
    """Whether ``path`` holds a certificate valid at this moment."""
    return _valid_now(path)


def _valid_now(path: Path) -> bool:
    cert = read_certificate(path)
    now = utcnow()
    return cert is not None and cert.not_valid_before_utc <= now < cert.not_valid_after_utc


def prefer_rotated(config: ClientConfig, cert_dir: Path) -> None:
    """Use the rotated certificate of ``cert_dir`` when it outlives the kubeconfig's
    (a kubelet restarted after a rotation)."""
    mine = read_certificate(config.client_cert_file)
    current = cert_dir / CURRENT
    rotated = read_certificate(current)
    if (
        rotated is None
        or not _valid_now(current)
        or current.resolve() == Path(config.client_cert_file or "").resolve()
    ):
        return
    if mine is None or rotated.not_valid_after_utc > mine.not_valid_after_utc:
        config.client_cert_file = config.client_key_file = str(current)


class CertificateRotator:
    """Renews one of the kubelet's certificates before it expires: the client one
    (``--rotate-certificates``) or the serving one (``--rotate-server-certificates``).

    ``cert_file`` says where the current certificate is; ``on_new`` is told the new
    one's file (the client's TLS contexts, the server's, load it)."""

    def __init__(
        self, client: Client, node_name: str, cert_dir: Path, *,
        cert_file: Callable[[], str | None], on_new: Callable[[Path], Awaitable[None]],
        kind: Kind = CLIENT_KIND, jitter: Callable[[], float] = random.random,
        wait_timeout: float = WAIT_TIMEOUT,
    ) -> None:  # fmt: skip
        self.client = client
        self.node_name = node_name
        self.cert_dir = cert_dir
        self.cert_file = cert_file
        self.on_new = on_new
        self.kind = kind
        self.jitter = jitter
        self.wait_timeout = wait_timeout
        self.rotations = 0

    def deadline(self) -> datetime.datetime | None:
        """When to renew; None (at once) without a certificate."""
        cert = read_certificate(self.cert_file())
        return rotation_deadline(cert, self.jitter) if cert is not None else None

    async def run(self) -> None:
        backoff = 1.0
        while True:
            deadline = self.deadline()
            wait = (deadline - utcnow()).total_seconds() if deadline is not None else 0.0
            if wait > 0:
                log.info(
                    "%s certificate rotation in %.0fs (%s)",
                    self.kind.prefix, wait, deadline.isoformat() if deadline else "",
                )  # fmt: skip
                await asyncio.sleep(wait)
            try:
                await self.rotate()
                backoff = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as err:
                log.warning(
                    "%s certificate rotation failed, again in %.0fs: %s",
                    self.kind.prefix, backoff, err,
                )  # fmt: skip
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 128.0)

    async def rotate(self) -> Path:
        """Get a new certificate now, store it and hand it to ``on_new``."""
        key = new_key()
        cert_pem = await request_certificate(
            self.client, self.node_name, key, timeout=self.wait_timeout, kind=self.kind
        )
        current = store(self.cert_dir, cert_pem, key, self.kind.prefix)
        log.info("%s certificate rotated: %s", self.kind.prefix, current.resolve().name)
        await self.on_new(current)
        self.rotations += 1
        return current


def client_rotator(
    client: Client, config: ClientConfig, node_name: str, cert_dir: Path
) -> CertificateRotator:
    """The rotator of the client certificate ``config`` presents."""

    async def use(path: Path) -> None:
        config.use_client_certificate(str(path), str(path))
        await client.reconnect()

    return CertificateRotator(
        client, node_name, cert_dir, cert_file=lambda: config.client_cert_file, on_new=use
    )
