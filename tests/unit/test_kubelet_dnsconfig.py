"""A pod's resolv.conf and /etc/hosts, by dnsPolicy and dnsConfig, as Kubernetes writes them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from apitypes.core import Pod
from kubelet.dnsconfig import (
    MAX_SEARCH_CHARS,
    ResolvConf,
    fit_searches,
    parse_resolv_conf,
    pod_hosts,
    pod_resolv_conf,
    write_pod_files,
)

HOST = parse_resolv_conf(
    "# the node's\nnameserver 127.0.0.53\nnameserver 127.0.0.54\nsearch corp.example lab.example\n"
    "options edns0 trust-ad\n"
)
CLUSTER = {"cluster_dns": ["10.96.0.10"], "cluster_domain": "cluster.local", "host": HOST}


def pod(name: str = "web-0", ns: str = "shop", **spec: Any) -> Pod:
    spec.setdefault("containers", [{"name": "c", "image": "busybox"}])
    return Pod.model_validate({"metadata": {"name": name, "namespace": ns}, "spec": spec})


def test_parse_host_resolv_conf() -> None:
    assert (
        ResolvConf(
            ["127.0.0.53", "127.0.0.54"], ["corp.example", "lab.example"], ["edns0", "trust-ad"]
        )
        == HOST
    )


def test_cluster_first_is_the_default() -> None:
    conf, warnings = pod_resolv_conf(pod(), **CLUSTER)
    assert conf.render() == (
        "nameserver 10.96.0.10\n"
        "search shop.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\n"
        "options ndots:5\n"
    )
    assert warnings == []


def test_cluster_first_on_the_host_network_is_default_unless_with_host_net() -> None:
    conf, _ = pod_resolv_conf(pod(hostNetwork=True), **CLUSTER)
    assert conf == HOST
    conf, _ = pod_resolv_conf(pod(hostNetwork=True, dnsPolicy="ClusterFirstWithHostNet"), **CLUSTER)
    assert conf.nameservers == ["10.96.0.10"] and conf.options == ["ndots:5"]


def test_default_and_none() -> None:
    assert pod_resolv_conf(pod(dnsPolicy="Default"), **CLUSTER)[0] == HOST
    none = pod(dnsPolicy="None", dnsConfig={
        "nameservers": ["192.0.2.1"], "searches": ["my.dns.search.suffix"],
        "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]})  # fmt: skip
    assert pod_resolv_conf(none, **CLUSTER)[0].render() == (
        "nameserver 192.0.2.1\nsearch my.dns.search.suffix\noptions ndots:2 edns0\n"
    )


def test_no_cluster_dns_falls_back_to_default_with_a_warning() -> None:
    conf, warnings = pod_resolv_conf(
        pod(), cluster_dns=[], cluster_domain="cluster.local", host=HOST
    )
    assert conf == HOST
    assert len(warnings) == 1 and "falling back to Default" in warnings[0]


def test_dns_config_is_merged_without_duplicates_and_options_by_name() -> None:
    p = pod(dnsConfig={
        "nameservers": ["10.96.0.10", "192.0.2.2"],
        "searches": ["svc.cluster.local", "extra.example"],
        "options": [{"name": "ndots", "value": "1"}, {"name": "timeout", "value": "3"}],
    })  # fmt: skip
    conf, _ = pod_resolv_conf(p, **CLUSTER)
    assert conf.nameservers == ["10.96.0.10", "192.0.2.2"]
    assert conf.searches == ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local",
                             "corp.example", "lab.example", "extra.example"]  # fmt: skip
    assert conf.options == ["ndots:1", "timeout:3"]


def test_limits_nameservers_and_search_line() -> None:
    p = pod(dnsConfig={"nameservers": ["192.0.2.1", "192.0.2.2", "192.0.2.3"],
                       "searches": [f"d{i}.example" for i in range(40)]})  # fmt: skip
    conf, warnings = pod_resolv_conf(p, **CLUSTER)
    assert conf.nameservers == ["10.96.0.10", "192.0.2.1", "192.0.2.2"]
    assert len(conf.searches) == 32
    assert any("Nameserver limits" in w for w in warnings)
    assert any("Search Line limits" in w for w in warnings)
    long = [("x" * 250) + f".d{i}" for i in range(10)]
    fitted = fit_searches(long)
    assert len(" ".join(fitted)) <= MAX_SEARCH_CHARS and len(fitted) == 8


def test_hosts_file_with_hostname_subdomain_and_aliases() -> None:
    p = pod("web-0", hostname="web-0", subdomain="web", hostAliases=[
        {"ip": "10.1.2.3", "hostnames": ["foo.local", "bar.local"]}])  # fmt: skip
    text = pod_hosts(p, ["10.244.1.5"], cluster_domain="cluster.local")
    lines = text.splitlines()
    assert lines[0] == "# Kubernetes-managed hosts file."
    assert "127.0.0.1\tlocalhost" in lines
    assert "10.244.1.5\tweb-0.web.shop.svc.cluster.local\tweb-0" in lines
    assert lines[-2:] == ["# Entries added by HostAliases.", "10.1.2.3\tfoo.local\tbar.local"]
    plain = pod_hosts(pod("api-7f9c"), ["10.244.1.6"], cluster_domain="cluster.local")
    assert "10.244.1.6\tapi-7f9c" in plain.splitlines()
    assert "HostAliases" not in plain


def test_host_network_hosts_file_is_the_nodes_plus_aliases() -> None:
    p = pod(hostNetwork=True, hostAliases=[{"ip": "10.1.2.3", "hostnames": ["foo.local"]}])
    text = pod_hosts(p, ["192.0.2.9"], cluster_domain="cluster.local",
                     host_hosts="127.0.0.1 localhost\n192.0.2.9 node-1\n")  # fmt: skip
    assert text.splitlines() == [
        "# Kubernetes-managed hosts file (host network).",
        "127.0.0.1 localhost", "192.0.2.9 node-1", "",
        "# Entries added by HostAliases.", "10.1.2.3\tfoo.local",
    ]  # fmt: skip


def test_files_are_rewritten_in_place(tmp_path: Path) -> None:
    resolv = tmp_path / "host-resolv.conf"
    resolv.write_text("nameserver 127.0.0.53\n")
    p = pod(hostname="web-0", subdomain="web")
    kw: dict[str, Any] = {"cluster_dns": ["10.96.0.10"], "cluster_domain": "cluster.local",
                          "resolv_conf": resolv}  # fmt: skip
    resolv_path, hosts_path, _ = write_pod_files(tmp_path / "pod", p, [], **kw)
    inode = os.stat(hosts_path).st_ino
    assert "web-0.web" not in hosts_path.read_text()  # no IP yet
    write_pod_files(tmp_path / "pod", p, ["10.244.0.9"], **kw)
    assert os.stat(hosts_path).st_ino == inode  # a bind mount of it sees the change
    assert "10.244.0.9\tweb-0.web.shop.svc.cluster.local\tweb-0" in hosts_path.read_text()
    assert resolv_path.read_text().startswith("nameserver 10.96.0.10\nsearch shop.svc")
