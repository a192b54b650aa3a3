"""kube-proxy's L2 announcement for real, between two network namespaces of the test's
own joined by a veth pair (nothing else can reach them): a "node" that holds LB IPs on
a kube-proxy0-like device, as every kube-proxy does, and a "client" on the same link.
Only the addresses the announcer took answer ARP; its gratuitous ARP reaches the
client; what it gives up, and nothing else, goes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from testkit.netns import sh

NODE_IP, CLIENT_IP = "10.250.0.1", "10.250.0.2"
OWNED, NOT_OWNED = "10.250.0.5", "10.250.0.6"


@dataclass
class Link:
    node: str
    client: str
    node_if: str

    def node_run(self, *argv: str) -> str:
        return sh(["ip", "netns", "exec", self.node, *argv])

    def client_run(self, *argv: str, check: bool = True) -> str:
        return sh(["ip", "netns", "exec", self.client, *argv], check=check)

    def announce(self, *addresses: str) -> None:
        code = textwrap.dedent(f"""
            import asyncio, sys
            from kubeproxy.announce import Announcer
            asyncio.run(Announcer({self.node_if!r}).ensure(set(sys.argv[1:])))
        """)
        self.node_run(sys.executable, "-c", code, *addresses)

    def reaches(self, ip: str) -> bool:
        code = textwrap.dedent("""
            import socket, sys
            s = socket.socket()
            s.settimeout(1.5)
            print(s.connect_ex((sys.argv[1], 8080)))
        """)
        return self.client_run(sys.executable, "-c", code, ip).strip() == "0"

    def node_addresses(self) -> dict[str, set[tuple[str, str]]]:
        """address -> its (device, label)s in the node's namespace."""
        found: dict[str, set[tuple[str, str]]] = {}
        for link in json.loads(self.node_run("ip", "-j", "-4", "addr", "show")):
            for info in link.get("addr_info") or []:
                found.setdefault(info["local"], set()).add((link["ifname"], info.get("label", "")))
        return found


@pytest.fixture
def link() -> Iterator[Link]:
    tag = uuid.uuid4().hex[:6]
    found = Link(f"nvan-{tag}-n", f"nvan-{tag}-c", f"nvan{tag}n")
    client_if = f"nvan{tag}c"
    sh(["ip", "netns", "add", found.node])
    sh(["ip", "netns", "add", found.client])
    listener: subprocess.Popen[bytes] | None = None
    try:
        sh(["ip", "link", "add", found.node_if, "netns", found.node, "type", "veth",
            "peer", "name", client_if, "netns", found.client])  # fmt: skip
        found.node_run("ip", "addr", "add", f"{NODE_IP}/24", "dev", found.node_if)
        found.node_run("ip", "link", "set", found.node_if, "up")
        found.client_run("ip", "addr", "add", f"{CLIENT_IP}/24", "dev", client_if)
        found.client_run("ip", "link", "set", client_if, "up")
        # Unsolicited ARP creates neighbour entries: the gratuitous one can be seen.
        found.client_run("sysctl", "-qw", f"net.ipv4.conf.{client_if}.arp_accept=1")
        for kind in ("dummy", "ifb"):
            done = subprocess.run(["ip", "netns", "exec", found.node, "ip", "link", "add", "kpx0",
                                   "type", kind], capture_output=True, check=False)  # fmt: skip
            if done.returncode == 0:
                break
        found.node_run("ip", "link", "set", "kpx0", "up")
        for ip in (OWNED, NOT_OWNED):
            found.node_run("ip", "addr", "add", f"{ip}/32", "dev", "kpx0")
        listener = subprocess.Popen(
            ["ip", "netns", "exec", found.node, sys.executable, "-c",
             "import socket\ns = socket.create_server(('0.0.0.0', 8080))\n"
             "while True: s.accept()[0].close()"],
        )  # fmt: skip
        yield found
    finally:
        if listener is not None:
            listener.kill()
            listener.wait()
        sh(["ip", "netns", "del", found.node], check=False)
        sh(["ip", "netns", "del", found.client], check=False)


def test_only_announced_addresses_answer_and_the_announcement_is_heard(link: Link) -> None:
    link.announce(OWNED)
    addresses = link.node_addresses()
    assert addresses[OWNED] == {("kpx0", "kpx0"), (link.node_if, f"{link.node_if}:lb")}
    assert addresses[NOT_OWNED] == {("kpx0", "kpx0")}
    assert link.node_run("sysctl", "-n", "net.ipv4.conf.all.arp_ignore").strip() == "1"
    # The gratuitous ARP reached the client before it asked anything.
    neigh = json.loads(link.client_run("ip", "-j", "neigh", "show", OWNED))
    mac = link.node_run("cat", f"/sys/class/net/{link.node_if}/address").strip()
    assert [n.get("lladdr") for n in neigh] == [mac]

    assert link.reaches(OWNED)
    # Strict ARP: an LB IP this node holds only on kpx0 gets no ARP answer.
    assert not link.reaches(NOT_OWNED)

    link.announce()  # ownership lost: the address goes, nothing else does
    addresses = link.node_addresses()
    assert addresses[OWNED] == addresses[NOT_OWNED] == {("kpx0", "kpx0")}
    assert addresses[NODE_IP] == {(link.node_if, link.node_if)}
