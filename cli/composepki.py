"""The compose cluster's PKI, made on the host before ``compose up`` (``cli.compose``).

``ensure(state_dir, net, api_port)`` runs every PKI phase (``pki.ensure``) over
``<state_dir>/pki`` for the compose topology (``deploy/docker-compose.yml``, addresses
in ``docs/network.md``): the apiserver's serving certificate names haproxy
(``<net>.2``), both apiservers (``.6``, ``.7``), ``127.0.0.1`` and the ``kubernetes``
Service; each etcd member (``.3``-``.5``) has its server and peer pairs. The
components' kubeconfigs (``<state_dir>/kubeconfigs``) name haproxy on the project
bridge; ``admin.conf`` (``<state_dir>``) names ``127.0.0.1:<api_port>`` for the host.

Then each service gets a directory of its own, ``<state_dir>/mounts/<service>``,
holding only what it needs (as kubeadm gives each machine only its own files), which
the compose file bind-mounts read-only at ``/etc/navarch/pki``. Every file is 0600,
every directory 0700; re-running keeps what is valid and renews what is due, so the
same PKI serves every ``compose up`` of a project.

The nodes get no key or certificate from here: they join as hosts do (``navarch join``,
``deploy/compose/node/entrypoint.sh``), so their mount (``JOIN_MOUNT``) holds only
what ``join`` takes: the project's bootstrap token (``ensure_token``: kept in
``<state_dir>/bootstrap-token.json`` across runs, a new one when less than
``TOKEN_RENEW`` of it is left) and the cluster CA's hash. ``cli.compose`` registers
the token in the cluster once the apiservers answer.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

import pki
from cli.localcluster import AUDIT_POLICY
from pki import bootstraptoken as bt
from pki import certlist
from pki.certlist import ClusterPKIConfig, Host
from pki.phases import kubeconfig as kubeconfig_phase
from pki.x509 import Outcome, write_private

CLUSTER = "navarch-compose"
"""The cluster's name in every kubeconfig, and the host's context."""
NODES = ("node-1", "node-2", "node-3")
ETCD_MEMBERS = ("etcd-1", "etcd-2", "etcd-3")
APISERVERS = ("apiserver-1", "apiserver-2")
SERVICE_CIDR = "10.96.0.0/12"
MOUNT = "/etc/navarch/pki"
"""Where each control-plane container sees its directory (read-only)."""
JOIN_MOUNT = "/etc/navarch-join"
"""Where each node sees its directory (read-only): ``token`` and ``ca-cert-hash``
(``navarch join`` writes ``/etc/navarch`` itself)."""
TOKEN_FILE = "bootstrap-token.json"
TOKEN_RENEW = datetime.timedelta(hours=1)
"""A token with less than this left is replaced (a node that has not joined yet may
need it for a while; one that has joined does not need it at all)."""


def etcd_ip(net: str, member: int) -> str:
    """Member ``member`` (from 1): ``.3``-``.5``."""
    return f"{net}.{2 + member}"


def apiserver_ip(net: str, index: int) -> str:
    """Apiserver ``index`` (from 1): ``.6``-``.7``."""
    return f"{net}.{5 + index}"


def node_ip(net: str, index: int) -> str:
    """Node ``index`` (from 1): ``.11``-``.13``."""
    return f"{net}.{10 + index}"


def in_cluster_server(net: str) -> str:
    """haproxy on the project bridge: every component's apiserver URL."""
    return f"https://{net}.2:6443"


def pki_config(net: str) -> ClusterPKIConfig:
    """What the certificates name in the compose topology on ``<net>.0/24``."""
    return ClusterPKIConfig(
        # No node: each gets its certificates from CSRs (navarch join's TLS bootstrap).
        nodes=(),
        control_plane=tuple(Host(a, (apiserver_ip(net, i),)) for i, a in enumerate(APISERVERS, 1)),
        etcd_members=tuple(Host(m, (etcd_ip(net, i),)) for i, m in enumerate(ETCD_MEMBERS, 1)),
        apiserver_names=("haproxy", f"{net}.2"),
        service_cidr=SERVICE_CIDR,
    )


def _bundles(state_dir: Path) -> dict[str, dict[str, Path]]:
    """Each service's files: the name it has in the mount, and where it comes from."""
    p = state_dir / "pki"
    confs = state_dir / "kubeconfigs"
    found: dict[str, dict[str, Path]] = {}
    for member in ETCD_MEMBERS:
        found[member] = {
            "ca.crt": p / "etcd/ca.crt",
            **{
                f"{kind}.{ext}": p / f"etcd/{member}/{kind}.{ext}"
                for kind in ("server", "peer")
                for ext in ("crt", "key")
            },
        }
    apiserver = {
        "ca.crt": p / "ca.crt",
        "etcd-ca.crt": p / "etcd/ca.crt",
        "sa.key": p / "sa.key",
        "sa.pub": p / "sa.pub",
        "encryption-config.yaml": p / "encryption-config.yaml",
    }
    for pair in ("apiserver", "apiserver-kubelet-client", "apiserver-etcd-client"):
        apiserver[f"{pair}.crt"] = p / f"{pair}.crt"
        apiserver[f"{pair}.key"] = p / f"{pair}.key"
    for name in APISERVERS:
        found[name] = apiserver
    found["haproxy"] = {"ca.crt": p / "ca.crt"}
    found["controller-manager"] = {
        "ca.crt": p / "ca.crt",
        # The CSR signer signs with the cluster CA, as kubeadm's controller-manager does.
        "ca.key": p / "ca.key",
        "controller-manager.conf": confs / "controller-manager.conf",
    }
    found["scheduler"] = {"scheduler.conf": confs / "scheduler.conf"}
    return found


@dataclass(frozen=True)
class JoinToken:
    token: bt.Token
    expires: datetime.datetime

    @property
    def issued(self) -> datetime.datetime:
        """When its 24 h began (the Secret's expiration is this plus ``bt.DEFAULT_TTL``)."""
        return self.expires - bt.DEFAULT_TTL


def ensure_token(state_dir: Path, now: datetime.datetime) -> JoinToken:
    """The project's bootstrap token (``<state_dir>/bootstrap-token.json``): the kept one
    while more than ``TOKEN_RENEW`` of it is left, else (or when the file is missing or
    unreadable) a new one valid for ``bt.DEFAULT_TTL`` from ``now``."""
    path = state_dir / TOKEN_FILE
    try:
        doc = json.loads(path.read_text())
        kept = JoinToken(bt.parse(doc["token"]), datetime.datetime.fromisoformat(doc["expires"]))
        if kept.expires - now > TOKEN_RENEW:
            return kept
    except (OSError, ValueError, KeyError, TypeError, bt.TokenError):
        pass
    made = JoinToken(bt.generate(), now + bt.DEFAULT_TTL)
    text = json.dumps({"token": str(made.token), "expires": made.expires.isoformat()})
    write_private(path, text.encode())
    return made


def _node_files(state_dir: Path, token: JoinToken) -> dict[str, bytes]:
    """A node's whole mount: what ``navarch join`` takes, no key of the host's."""
    ca_hash = bt.ca_cert_hash((state_dir / "pki" / "ca.crt").read_bytes())
    return {"token": f"{token.token}\n".encode(), "ca-cert-hash": f"{ca_hash}\n".encode()}


def mount_dir(state_dir: Path, service: str) -> Path:
    """The host directory mounted at ``MOUNT`` in ``service``'s containers (one for the
    two controller-managers, one for the two schedulers; a node's at ``JOIN_MOUNT``)."""
    return state_dir / "mounts" / service


def admin_kubeconfig(state_dir: Path) -> Path:
    """The cluster admin's kubeconfig for the host (``127.0.0.1:<api_port>``)."""
    return state_dir / "admin.conf"


def admin_document(state_dir: Path, api_port: int, context: str = CLUSTER) -> dict[str, object]:
    """A kubeconfig for the host: the cluster admin (``system:masters``) at haproxy's
    published port, context ``context``."""
    p = state_dir / "pki"
    admin = certlist.user_cert(certlist.ADMIN)
    return kubeconfig_phase.document(
        cluster=context,
        server=f"https://127.0.0.1:{api_port}",
        ca_pem=(p / "ca.crt").read_bytes(),
        user=context,
        cert_pem=(p / f"{admin.name}.crt").read_bytes(),
        key_pem=(p / f"{admin.name}.key").read_bytes(),
        context=context,
    )


def ensure(
    state_dir: Path,
    net: str,
    api_port: int,
    echo: Callable[[str], None] = print,
    now: datetime.datetime | None = None,
) -> tuple[list[Outcome], JoinToken]:
    """Make (or keep, or renew) the PKI, the kubeconfigs, the bootstrap token
    (``ensure_token``) and every service's mount directory under ``state_dir`` (a file
    that no longer belongs in one is removed); one summary line to ``echo``. The PKI's
    outcomes and the token."""
    for private in (state_dir, state_dir / "mounts"):
        private.mkdir(parents=True, exist_ok=True, mode=0o700)
        private.chmod(0o700)
    outcomes = pki.ensure(
        state_dir / "pki",
        pki_config(net),
        kubeconfig_dir=state_dir / "kubeconfigs",
        cluster=CLUSTER,
        server=in_cluster_server(net),
    )
    write_private(
        admin_kubeconfig(state_dir),
        yaml.safe_dump(admin_document(state_dir, api_port), sort_keys=False).encode(),
    )
    token = ensure_token(state_dir, now or datetime.datetime.now(datetime.UTC))
    audit = yaml.safe_dump(AUDIT_POLICY, sort_keys=False).encode()
    mounts: dict[str, dict[str, bytes]] = {}
    for service, files in _bundles(state_dir).items():
        mounts[service] = {name: source.read_bytes() for name, source in files.items()}
        if service in APISERVERS:
            mounts[service]["audit-policy.yaml"] = audit
    for node in NODES:
        mounts[node] = _node_files(state_dir, token)
    for service, contents in mounts.items():
        target = mount_dir(state_dir, service)
        for name, data in contents.items():
            # Unchanged files stay as they are (a running daemon may hold them open).
            if not (target / name).exists() or (target / name).read_bytes() != data:
                write_private(target / name, data)
        # What an earlier version put there (the nodes' keys of old) goes.
        for left in target.iterdir():
            if left.name not in contents and left.is_file():
                left.unlink()
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.action] = counts.get(outcome.action, 0) + 1
    summary = ", ".join(f"{n} {action}" for action, n in sorted(counts.items()))
    echo(f"pki: {state_dir / 'pki'} ({summary}); mounted read-only from {state_dir / 'mounts'}")
    return outcomes, token
