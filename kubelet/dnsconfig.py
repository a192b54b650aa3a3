"""A pod's ``/etc/resolv.conf`` and ``/etc/hosts``, as Kubernetes' kubelet writes them.

Pure functions (Kubernetes' ``pkg/kubelet/network/dns`` and ``managedHostsFileContent``)
plus ``write_pod_files``, which puts both under the pod's directory
(``pods/<uid>/resolv.conf``, ``pods/<uid>/etc-hosts``); every container of the pod
bind-mounts them, so they are the same in all of them and the kubelet, not the
runtime, owns them.

resolv.conf by ``dnsPolicy``:

- ``ClusterFirst`` (the default; a hostNetwork pod gets ``Default`` instead) and
  ``ClusterFirstWithHostNet``: ``nameserver`` each ``--cluster-dns`` address,
  ``search <ns>.svc.<domain> svc.<domain> <domain>`` then the node's search domains,
  ``options ndots:5``. Without ``--cluster-dns`` the pod falls back to ``Default``
  (with a warning, as Kubernetes does).
- ``Default``: the node's resolv.conf (``--resolv-conf``): its nameservers, search
  domains and options.
- ``None``: nothing but ``dnsConfig``.

``dnsConfig`` is then merged in: nameservers and searches appended without duplicates,
options by name (``dnsConfig``'s value wins). Limits as Kubernetes: at most 3
nameservers, 32 search domains and 2048 characters of search line; what is over is
dropped with a warning.

/etc/hosts: localhost lines, the pod's IPs with its hostname (``spec.hostname`` or
the pod name) and, with ``spec.subdomain``, its FQDN
``<hostname>.<subdomain>.<ns>.svc.<domain>`` first (so StatefulSet pods resolve their
own stable name), then ``hostAliases``. A hostNetwork pod gets the node's /etc/hosts
with its ``hostAliases``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from apitypes.core import Pod, PodSpec

MAX_NAMESERVERS = 3
MAX_SEARCH_PATHS = 32
MAX_SEARCH_CHARS = 2048
DEFAULT_OPTIONS = ("ndots:5",)

CLUSTER_FIRST = "ClusterFirst"
CLUSTER_FIRST_WITH_HOST_NET = "ClusterFirstWithHostNet"
DEFAULT = "Default"
NONE = "None"

RESOLV_FILE = "resolv.conf"
HOSTS_FILE = "etc-hosts"

LOCALHOST_LINES = (
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "fe00::0\tip6-mcastprefix",
    "fe00::1\tip6-allnodes",
    "fe00::2\tip6-allrouters",
)


@dataclass
class ResolvConf:
    nameservers: list[str] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"nameserver {ns}" for ns in self.nameservers]
        if self.searches:
            lines.append("search " + " ".join(self.searches))
        if self.options:
            lines.append("options " + " ".join(self.options))
        return "\n".join(lines) + "\n"


def parse_resolv_conf(text: str) -> ResolvConf:
    """The ``nameserver``, ``search``/``domain`` and ``options`` lines of a resolv.conf."""
    conf = ResolvConf()
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";", 1)[0].split()
        if not fields:
            continue
        key, values = fields[0], fields[1:]
        if key == "nameserver" and values:
            conf.nameservers.append(values[0])
        elif key in ("search", "domain"):
            # The last search/domain line wins, as the resolver reads it.
            conf.searches = [v for v in values if v != "."]
        elif key == "options":
            conf.options.extend(values)
    return conf


def read_resolv_conf(path: Path | None) -> ResolvConf:
    if path is None:
        return ResolvConf()
    try:
        return parse_resolv_conf(path.read_text())
    except OSError:
        return ResolvConf()


def pod_hostname(pod: Pod) -> str:
    """The pod's hostname: ``spec.hostname`` or its name, at most 63 characters."""
    spec = pod.spec or PodSpec()
    return (spec.hostname or pod.metadata.name or "pod")[:63].rstrip("-.")


def dns_policy(pod: Pod, cluster_dns: list[str]) -> tuple[str, str | None]:
    """The policy that applies and, when it differs from the asked one, why."""
    spec = pod.spec or PodSpec()
    policy = spec.dns_policy or CLUSTER_FIRST
    if policy == CLUSTER_FIRST and spec.host_network:
        return DEFAULT, None
    if policy in (CLUSTER_FIRST, CLUSTER_FIRST_WITH_HOST_NET) and not cluster_dns:
        return DEFAULT, (
            "the kubelet has no --cluster-dns and cannot give this pod the "
            f"{policy} policy; falling back to Default"
        )
    if policy not in (CLUSTER_FIRST, CLUSTER_FIRST_WITH_HOST_NET, DEFAULT, NONE):
        return CLUSTER_FIRST if cluster_dns else DEFAULT, None
    return policy, None


def pod_resolv_conf(
    pod: Pod, *, cluster_dns: list[str], cluster_domain: str, host: ResolvConf
) -> tuple[ResolvConf, list[str]]:
    """The pod's resolv.conf, and warnings (fallbacks, limits) for Events."""
    spec = pod.spec or PodSpec()
    policy, why = dns_policy(pod, cluster_dns)
    warnings = [why] if why else []
    if policy in (CLUSTER_FIRST, CLUSTER_FIRST_WITH_HOST_NET):
        namespace = pod.metadata.namespace or "default"
        domain = cluster_domain.strip(".")
        cluster = [f"{namespace}.svc.{domain}", f"svc.{domain}", domain] if domain else []
        conf = ResolvConf(list(cluster_dns), [*cluster, *host.searches], list(DEFAULT_OPTIONS))
    elif policy == DEFAULT:
        conf = ResolvConf(list(host.nameservers), list(host.searches), list(host.options))
    else:
        conf = ResolvConf()
    if spec.dns_config is not None:
        extra = spec.dns_config
        conf.nameservers += extra.nameservers
        conf.searches += extra.searches
        conf.options = merge_options(
            conf.options,
            [
                f"{o.name}:{o.value}" if o.value is not None else o.name
                for o in extra.options
                if o.name
            ],
        )
    conf.nameservers = _unique(conf.nameservers)
    conf.searches = _unique(conf.searches)
    if len(conf.nameservers) > MAX_NAMESERVERS:
        warnings.append(
            f"Nameserver limits were exceeded, some nameservers have been omitted; "
            f"the applied nameserver line is: {' '.join(conf.nameservers[:MAX_NAMESERVERS])}"
        )
        conf.nameservers = conf.nameservers[:MAX_NAMESERVERS]
    fitted = fit_searches(conf.searches)
    if fitted != conf.searches:
        warnings.append(
            "Search Line limits were exceeded, some search paths have been omitted; "
            f"the applied search line is: {' '.join(fitted)}"
        )
        conf.searches = fitted
    return conf, warnings


def merge_options(base: list[str], extra: list[str]) -> list[str]:
    """Options by name, in first-seen order; a later value for a name replaces the earlier."""
    merged: dict[str, str] = {}
    for option in (*base, *extra):
        merged[option.split(":", 1)[0]] = option
    return list(merged.values())


def fit_searches(searches: list[str]) -> list[str]:
    """At most ``MAX_SEARCH_PATHS`` domains in at most ``MAX_SEARCH_CHARS`` characters."""
    out: list[str] = []
    length = -1
    for domain in searches[:MAX_SEARCH_PATHS]:
        if length + 1 + len(domain) > MAX_SEARCH_CHARS:
            break
        out.append(domain)
        length += 1 + len(domain)
    return out


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def pod_hosts(pod: Pod, pod_ips: list[str], *, cluster_domain: str, host_hosts: str = "") -> str:
    """The pod's /etc/hosts (``host_hosts``: the node's, for hostNetwork pods)."""
    spec = pod.spec or PodSpec()
    if spec.host_network:
        lines = ["# Kubernetes-managed hosts file (host network).", host_hosts.rstrip("\n")]
    else:
        lines = ["# Kubernetes-managed hosts file.", *LOCALHOST_LINES]
        hostname = pod_hostname(pod)
        fqdn = ""
        if spec.subdomain:
            namespace = pod.metadata.namespace or "default"
            fqdn = f"{hostname}.{spec.subdomain}.{namespace}.svc.{cluster_domain.strip('.')}"
        for ip in pod_ips:
            lines.append(f"{ip}\t{fqdn}\t{hostname}" if fqdn else f"{ip}\t{hostname}")
    if spec.host_aliases:
        lines.append("")
        lines.append("# Entries added by HostAliases.")
        for alias in spec.host_aliases:
            if alias.hostnames:
                lines.append(f"{alias.ip}\t" + "\t".join(alias.hostnames))
    return "\n".join(lines) + "\n"


def write_in_place(path: Path, text: str) -> None:
    """Write ``text`` into the same inode: a bind mount of ``path`` follows the inode, so
    a container whose mount already exists sees the new contents (no rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        data = text.encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
    finally:
        os.close(fd)


def write_pod_files(
    pod_dir: Path,
    pod: Pod,
    pod_ips: list[str],
    *,
    cluster_dns: list[str],
    cluster_domain: str,
    resolv_conf: Path | None,
    hosts: Path = Path("/etc/hosts"),
) -> tuple[Path, Path, list[str]]:
    """Write the pod's resolv.conf and hosts file; (resolv path, hosts path, warnings)."""
    conf, warnings = pod_resolv_conf(
        pod, cluster_dns=cluster_dns, cluster_domain=cluster_domain,
        host=read_resolv_conf(resolv_conf),
    )  # fmt: skip
    host_hosts = ""
    if pod.spec is not None and pod.spec.host_network:
        try:
            host_hosts = hosts.read_text()
        except OSError:
            host_hosts = "\n".join(LOCALHOST_LINES)
    resolv_path, hosts_path = pod_dir / RESOLV_FILE, pod_dir / HOSTS_FILE
    write_in_place(resolv_path, conf.render())
    write_in_place(
        hosts_path, pod_hosts(pod, pod_ips, cluster_domain=cluster_domain, host_hosts=host_hosts)
    )
    return resolv_path, hosts_path, warnings
