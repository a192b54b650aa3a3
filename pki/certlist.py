"""Which certificates a cluster has: kubeadm's list (``cmd/kubeadm/app/phases/certs``),
laid out as "Kubernetes The Hard Way" and kubeadm lay it out, under one PKI directory:

================================  ============  =========================================
file (``.crt`` and ``.key``)      signed by     subject and use
================================  ============  =========================================
``ca``                            itself        CN=kubernetes: the cluster CA
``apiserver``                     ``ca``        CN=kube-apiserver, serving; SANs below
``apiserver-kubelet-client``      ``ca``        CN=kube-apiserver-kubelet-client,
                                                O=system:masters: the apiserver to kubelets
``front-proxy-ca``                itself        CN=front-proxy-ca
``front-proxy-client``            front-proxy   CN=front-proxy-client
``etcd/ca``                       itself        CN=etcd-ca: etcd's own CA
``etcd/<member>/server``          ``etcd/ca``   CN=<member>, serving and client, SANs
``etcd/<member>/peer``            ``etcd/ca``   CN=<member>, peer (serving and client)
``etcd/healthcheck-client``       ``etcd/ca``   CN=kube-etcd-healthcheck-client (etcdctl)
``apiserver-etcd-client``         ``etcd/ca``   CN=kube-apiserver-etcd-client
``kubelet/<node>``                ``ca``        CN=system:node:<node>, O=system:nodes,
                                                the kubelet's serving certificate
``users/<user>``                  ``ca``        client certificates of the kubeconfigs
``sa.key`` / ``sa.pub``           —             the service-account token signing key
================================  ============  =========================================

The apiserver's names: ``kubernetes``, ``kubernetes.default``, ``kubernetes.default.svc``,
``kubernetes.default.svc.<domain>``, ``localhost``, the control-plane hosts' names,
``127.0.0.1``, the first address of the service CIDR (the ``kubernetes`` Service,
``10.96.0.1``) and the advertise addresses.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from pki.x509 import CLIENT, SERVER, CASpec, CertSpec

CLUSTER_CA = CASpec("ca", "kubernetes")
ETCD_CA = CASpec("etcd/ca", "etcd-ca")
FRONT_PROXY_CA = CASpec("front-proxy-ca", "front-proxy-ca")

MASTERS = "system:masters"
NODES = "system:nodes"


@dataclass(frozen=True)
class Host:
    """A machine (or member) with a name and the addresses it is reached at."""

    name: str
    ips: tuple[str, ...] = ("127.0.0.1",)


@dataclass(frozen=True)
class User:
    """A client certificate for a kubeconfig: ``users/<file>``."""

    file: str
    common_name: str
    organizations: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClusterPKIConfig:
    """What the certificates must name."""

    nodes: tuple[Host, ...] = ()
    """Each kubelet: a serving certificate and a client certificate (kubeconfig)."""
    control_plane: tuple[Host, ...] = (Host("localhost"),)
    """Hosts the apiservers run on: their names and addresses go in the apiserver's SANs."""
    etcd_members: tuple[Host, ...] = (Host("etcd"),)
    apiserver_names: tuple[str, ...] = ()
    """Extra DNS names or IPs the apiserver is reached at (a load balancer)."""
    service_cidr: str = "10.96.0.0/12"
    cluster_domain: str = "cluster.local"
    extra_users: tuple[User, ...] = field(default=())


def first_service_ip(service_cidr: str) -> str:
    """The ``kubernetes`` Service's ClusterIP: the first address of the range."""
    net = ipaddress.ip_network(service_cidr.split(",", maxsplit=1)[0].strip(), strict=False)
    return str(net.network_address + 1)


def split_names(values: tuple[str, ...] | list[str]) -> tuple[list[str], list[str]]:
    """(DNS names, IPs) of a mixed list of names and addresses."""
    dns: list[str] = []
    ips: list[str] = []
    for value in values:
        try:
            ips.append(str(ipaddress.ip_address(value)))
        except ValueError:
            dns.append(value)
    return dns, ips


ADMIN = User("admin", "kubernetes-admin", (MASTERS,))
CONTROLLER_MANAGER = User("controller-manager", "system:kube-controller-manager")
SCHEDULER = User("scheduler", "system:kube-scheduler")
KUBE_PROXY = User("kube-proxy", "system:kube-proxy")
NETWORK_AGENT = User("network-agent", "system:navarch:network-agent")
CONTROL_PLANE_USERS = (ADMIN, CONTROLLER_MANAGER, SCHEDULER, KUBE_PROXY, NETWORK_AGENT)
"""The client identities of a cluster besides its nodes (``node_user``)."""


def node_user(node: str) -> User:
    """A kubelet's client identity: ``system:node:<name>`` in ``system:nodes``, which
    the Node authorizer and NodeRestriction recognise."""
    return User(f"node-{node}", f"system:node:{node}", (NODES,))


def users(config: ClusterPKIConfig) -> list[User]:
    return [
        *CONTROL_PLANE_USERS,
        *(node_user(n.name) for n in config.nodes),
        *config.extra_users,
    ]


def user_cert(user: User) -> CertSpec:
    return CertSpec(
        f"users/{user.file}", CLUSTER_CA.name, user.common_name, user.organizations, (CLIENT,)
    )


def apiserver_cert(config: ClusterPKIConfig) -> CertSpec:
    dns = ["kubernetes", "kubernetes.default", "kubernetes.default.svc"]
    dns.append(f"kubernetes.default.svc.{config.cluster_domain}")
    dns.append("localhost")
    ips = ["127.0.0.1", first_service_ip(config.service_cidr)]
    for host in config.control_plane:
        dns.append(host.name)
        ips.extend(host.ips)
    extra_dns, extra_ips = split_names(config.apiserver_names)
    return CertSpec(
        "apiserver",
        CLUSTER_CA.name,
        "kube-apiserver",
        usages=(SERVER,),
        dns_names=tuple(dict.fromkeys(dns + extra_dns)),
        ips=tuple(dict.fromkeys(ips + extra_ips)),
    )


def etcd_certs(member: Host) -> list[CertSpec]:
    dns = tuple(dict.fromkeys(["localhost", member.name]))
    ips = tuple(dict.fromkeys(["127.0.0.1", "::1", *member.ips]))
    both = (SERVER, CLIENT)
    return [
        CertSpec(f"etcd/{member.name}/server", ETCD_CA.name, member.name, (), both, dns, ips),
        CertSpec(f"etcd/{member.name}/peer", ETCD_CA.name, member.name, (), both, dns, ips),
    ]


def kubelet_serving_cert(node: Host) -> CertSpec:
    return CertSpec(
        f"kubelet/{node.name}",
        CLUSTER_CA.name,
        f"system:node:{node.name}",
        (NODES,),
        (SERVER,),
        dns_names=(node.name,),
        ips=tuple(dict.fromkeys(node.ips)),
    )


def certificate_authorities() -> list[CASpec]:
    return [CLUSTER_CA, ETCD_CA, FRONT_PROXY_CA]


def leaf_certs(config: ClusterPKIConfig) -> list[CertSpec]:
    """Every leaf certificate of the cluster, CAs first in signing order."""
    found = [
        apiserver_cert(config),
        CertSpec(
            "apiserver-kubelet-client",
            CLUSTER_CA.name,
            "kube-apiserver-kubelet-client",
            (MASTERS,),
        ),
        CertSpec("front-proxy-client", FRONT_PROXY_CA.name, "front-proxy-client"),
        CertSpec("apiserver-etcd-client", ETCD_CA.name, "kube-apiserver-etcd-client"),
        CertSpec("etcd/healthcheck-client", ETCD_CA.name, "kube-etcd-healthcheck-client"),
    ]
    for member in config.etcd_members:
        found.extend(etcd_certs(member))
    for node in config.nodes:
        found.append(kubelet_serving_cert(node))
    found.extend(user_cert(u) for u in users(config))
    return found
