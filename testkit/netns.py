"""A network namespace of the test's own, joined to the host by one veth pair.

    with NetNamespace.create() as ns:          # ip netns add + veth, lo up
        ns.run(["iptables-save"])              # a command inside it
        proc = ns.daemon(["proxy", ...], log)  # a navarch daemon inside it
        api = bound_apiserver(etcd, ns.host_ip, log_dir)  # reachable from inside

The namespace has no default route: a packet for an address nothing inside routes
is dropped at once, so tests in it can never send anything off the machine. The host
side of the veth is a /30 of ``10.123.0.0/16`` (no range of docs/network.md).
"""

from __future__ import annotations

import contextlib
import random
import subprocess
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from testkit.processes import ApiServerProcess, DaemonProcess


def sh(argv: Sequence[str], stdin: str | None = None, check: bool = True) -> str:
    proc = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {proc.stderr.strip()}")
    return proc.stdout


@dataclass
class NetNamespace:
    name: str
    host_if: str
    host_ip: str
    ns_ip: str

    @classmethod
    def create(cls) -> NetNamespace:
        tag = uuid.uuid4().hex[:6]
        block = random.randrange(0, 1 << 14) * 4
        base = f"10.123.{block // 256}.{block % 256}"
        prefix = base.rsplit(".", 1)[0]
        last = int(base.rsplit(".", 1)[1])
        ns = cls(f"nvkp-{tag}", f"nvkp{tag}h", f"{prefix}.{last + 1}", f"{prefix}.{last + 2}")
        sh(["ip", "netns", "add", ns.name])
        try:
            sh(["ip", "link", "add", ns.host_if, "type", "veth", "peer", "name", f"nvkp{tag}n"])
            sh(["ip", "link", "set", f"nvkp{tag}n", "netns", ns.name])
            sh(["ip", "addr", "add", f"{ns.host_ip}/30", "dev", ns.host_if])
            sh(["ip", "link", "set", ns.host_if, "up"])
            ns.run(["ip", "addr", "add", f"{ns.ns_ip}/30", "dev", f"nvkp{tag}n"])
            ns.run(["ip", "link", "set", f"nvkp{tag}n", "up"])
            ns.run(["ip", "link", "set", "lo", "up"])
        except Exception:
            ns.delete()
            raise
        return ns

    def run(self, argv: Sequence[str], stdin: str | None = None, check: bool = True) -> str:
        return sh(["ip", "netns", "exec", self.name, *argv], stdin, check)

    def daemon(self, args: Sequence[str], log_path: Path) -> DaemonProcess:
        """``navarch <args>`` started inside the namespace (not started yet)."""
        return DaemonProcess(
            args=list(args), log_path=log_path, prefix=("ip", "netns", "exec", self.name)
        )

    def delete(self) -> None:
        with contextlib.suppress(RuntimeError):
            sh(["ip", "netns", "del", self.name])
        with contextlib.suppress(RuntimeError):
            sh(["ip", "link", "del", self.host_if], check=False)

    def __enter__(self) -> NetNamespace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.delete()


@dataclass
class BoundApiServer(ApiServerProcess):
    """An apiserver listening on ``host`` (the host side of a veth) too."""

    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        return f"{'https' if self.ca_file else 'http'}://{self.host}:{self.port}"


def bound_apiserver(
    etcd_url: str, host: str, log_dir: Path, *extra: str, tls: bool = True
) -> BoundApiServer:
    """Serving HTTPS (its certificate names ``host``) unless ``tls`` is False."""
    base = ApiServerProcess.create(etcd_url, log_dir, *extra, bind_address=host, tls=tls)
    return BoundApiServer(
        args=base.args, log_path=base.log_path, port=base.port, host=host, ca_file=base.ca_file
    )
