"""A secure control plane for tests: the cluster PKI, etcd with mutual TLS, and an
apiserver serving HTTPS with client certificates, as ``navarch up`` runs them.

    cluster = SecureControlPlane.start(tmp_path, "--authorization-mode", "Node,RBAC")
    with cluster.client("admin") as api:           # httpx, as kubernetes-admin
        api.get("/api/v1/namespaces")
    cluster.kubeconfig("admin")                    # a kubeconfig file for kubectl/navctl
    cluster.stop()

Identities are the PKI's users (``admin``, ``scheduler``, ``node-<name>``...) and any
extra ones (``extra_users``): each has a client certificate and a kubeconfig.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

import pki
from apiserver.etcd_server import EtcdProcess, EtcdTLS, free_port
from pki import certlist
from pki.certlist import ClusterPKIConfig, Host, User
from pki.flags import apiserver_pki_flags
from testkit.processes import ApiServerProcess


def apiserver_tls_flags(pki_dir: Path) -> list[str]:
    """The apiserver's TLS flags for the PKI at ``pki_dir`` (serving, clients, etcd,
    kubelets), as ``navarch up`` passes them."""
    return apiserver_pki_flags(pki_dir)


@dataclass
class SecureApiServer(ApiServerProcess):
    """An apiserver process serving HTTPS; ready once ``/readyz`` answers over TLS."""

    ca_file: Path = field(default_factory=Path)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60.0) -> None:
        verify = ssl.create_default_context(cafile=self.ca_file)

        def ready() -> bool:
            try:
                return httpx.get(f"{self.url}/readyz", timeout=1, verify=verify).status_code in (
                    200,
                    401,
                    403,
                )
            except httpx.HTTPError:
                return False

        self.wait_for(ready, timeout, what=f"apiserver on {self.port} ready")


@dataclass
class SecureControlPlane:
    root: Path
    pki_dir: Path
    etcd: EtcdProcess
    apiserver: SecureApiServer
    config: ClusterPKIConfig

    @classmethod
    def start(
        cls,
        root: Path,
        *flags: str,
        nodes: Sequence[str] = ("node-a",),
        extra_users: Sequence[User] = (),
    ) -> SecureControlPlane:
        root.mkdir(parents=True, exist_ok=True)
        pki_dir = root / "pki"
        port = free_port()
        config = ClusterPKIConfig(
            nodes=tuple(Host(n) for n in nodes),
            etcd_members=(Host("etcd-test"),),
            extra_users=tuple(extra_users),
        )
        pki.ensure(pki_dir, config, server=f"https://127.0.0.1:{port}", kubeconfig_dir=root)
        etcd = EtcdProcess(
            data_dir=root / "etcd",
            log_path=root / "etcd.log",
            name="etcd-test",
            tls=EtcdTLS.from_pki(pki_dir, "etcd-test"),
        )
        etcd.start()
        args = [
            "apiserver",
            "--etcd-servers", etcd.url,
            "--bind-address", "127.0.0.1",
            "--secure-port", str(port),
            "--kubelet-allowed-addresses", "127.0.0.0/8",
            *apiserver_tls_flags(pki_dir),
            *flags,
        ]  # fmt: skip
        apiserver = SecureApiServer(
            args=args, log_path=root / "apiserver.log", port=port, ca_file=pki_dir / "ca.crt"
        )
        try:
            apiserver.start()
        except BaseException:
            etcd.stop()
            raise
        plane = cls(root, pki_dir, etcd, apiserver, config)
        # What the controller-manager's service-account controller would make (none
        # runs here): pods need their account when the server issues tokens.
        with plane.client("admin") as admin:
            admin.post(
                "/api/v1/namespaces/default/serviceaccounts", json={"metadata": {"name": "default"}}
            )
        return plane

    @property
    def url(self) -> str:
        return self.apiserver.url

    def kubeconfig(self, user: str) -> Path:
        """The kubeconfig file of a PKI user (``admin``, ``node-node-a``, an extra user)."""
        return self.root / f"{user}.conf"

    def tls(self, user: str | None) -> ssl.SSLContext:
        """A client TLS context trusting the cluster CA, with ``user``'s certificate."""
        ctx = ssl.create_default_context(cafile=self.pki_dir / "ca.crt")
        if user is not None:
            base = self.pki_dir / "users" / user
            ctx.load_cert_chain(f"{base}.crt", f"{base}.key")
        return ctx

    def client(
        self, user: str | None = "admin", *, token: str | None = None, timeout: float = 30
    ) -> httpx.Client:
        """An HTTP client as ``user`` (its client certificate; None: none), optionally
        with a bearer token."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(
            base_url=self.url, verify=self.tls(user), headers=headers, timeout=timeout
        )

    def add_user(self, user: User) -> Path:
        """A new client identity signed by the cluster CA; returns its kubeconfig."""
        self.config = ClusterPKIConfig(
            nodes=self.config.nodes,
            etcd_members=self.config.etcd_members,
            extra_users=(*self.config.extra_users, user),
        )
        pki.ensure(self.pki_dir, self.config, server=self.url, kubeconfig_dir=self.root)
        return self.kubeconfig(user.file)

    def stop(self) -> None:
        self.apiserver.stop()
        self.etcd.stop()


def bootstrap_token_secret(token_id: str, secret: str, **data: str) -> dict[str, object]:
    """The kube-system Secret of the bootstrap token ``<token_id>.<secret>``, usable for
    authentication, with ``data`` added (``auth-extra-groups``, ``expiration``)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": f"bootstrap-token-{token_id}", "namespace": "kube-system"},
        "type": "bootstrap.kubernetes.io/token",
        "stringData": {
            "token-id": token_id,
            "token-secret": secret,
            "usage-bootstrap-authentication": "true",
            **data,
        },
    }


def user(name: str, *groups: str) -> User:
    """A client identity for tests: CN ``name``, O ``groups`` (file ``u-<name>``)."""
    safe = name.replace(":", "-").replace("/", "-")
    return User(f"u-{safe}", name, tuple(groups))


__all__ = [
    "SecureControlPlane",
    "apiserver_tls_flags",
    "bootstrap_token_secret",
    "certlist",
    "user",
]
