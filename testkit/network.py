"""Host network helpers for tests: a cluster CIDR no one on this host uses, a network
namespace standing in for "outside the cluster", and the route checks a test makes
before it sends anything."""

from __future__ import annotations

import ipaddress
import json
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

from testkit import images


def used_networks() -> list[ipaddress.IPv4Network]:
    used = []
    out = subprocess.run(
        ["ip", "-json", "route", "show"], capture_output=True, text=True, check=True
    )
    for route in json.loads(out.stdout or "[]"):
        dst = route.get("dst", "")
        if dst and dst != "default":
            used.append(ipaddress.ip_network(dst if "/" in dst else f"{dst}/32", strict=False))
    client = images.docker_client()
    try:
        for net in client.api.networks():
            for config in (net.get("IPAM") or {}).get("Config") or []:
                if config.get("Subnet"):
                    used.append(ipaddress.ip_network(config["Subnet"], strict=False))
    finally:
        client.close()
    return [n for n in used if n.version == 4]


def free_cluster_cidr() -> str:
    """A /16 in 10.160.0.0/11 that no route and no Docker network of this host
    overlaps: far from Docker's pools, the service CIDR and 10.244.0.0/16 (which a real
    cluster, or other tests' shared network, may hold), so that test clusters running
    at the same time do not collide."""
    used = used_networks()
    candidates = list(range(160, 192))
    random.shuffle(candidates)
    for second in candidates:
        net = ipaddress.ip_network(f"10.{second}.0.0/16")
        if not any(net.overlaps(u) for u in used):
            return str(net)
    raise RuntimeError("no free /16 in 10.160.0.0/11")


def route_is_local(address: str) -> tuple[bool, str]:
    """Whether a packet to ``address`` stays on this machine now (see
    ``netagent.localroutes.stays_local``)."""
    from netagent.localroutes import stays_local

    return stays_local(address)


def sh(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=30).stdout


@dataclass
class Outside:
    """A network namespace joined to the host by a veth pair on a /30 of
    10.123.0.0/16: an "outside the cluster" address that is still this machine. A
    busybox httpd in it answers ``/cgi-bin/ip`` with the peer address it sees."""

    name: str
    host_ip: str
    peer_ip: str
    port: int = 9000
    server: subprocess.Popen[bytes] | None = None

    @classmethod
    def create(cls, work: Path) -> Outside:
        from testkit.netns import NetNamespace

        netns = NetNamespace.create()
        tag = netns.name.rsplit("-", 1)[-1]
        out = cls(netns.name, netns.host_ip, netns.ns_ip)
        ns = ("ip", "netns", "exec", out.name)
        www = work / f"www-{tag}"
        (www / "cgi-bin").mkdir(parents=True)
        script = www / "cgi-bin" / "ip"
        script.write_text(
            "#!/bin/busybox sh\necho Content-Type: text/plain\necho\necho $REMOTE_ADDR\n"
        )
        script.chmod(0o755)
        busybox = str(images.busybox_binary())
        out.server = subprocess.Popen(
            [*ns, busybox, "httpd", "-f", "-p", str(out.port), "-h", str(www)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        return out

    def remove(self) -> None:
        if self.server is not None:
            self.server.kill()
            self.server.wait()
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, check=False)
