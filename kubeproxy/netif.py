"""kube-proxy's own dummy interface, and the host's local addresses.

Like kube-proxy's IPVS mode with ``kube-ipvs0``, kube-proxy binds the addresses it
must answer for as /32s on a ``dummy`` interface of its own, ``kube-proxy0``: the
LoadBalancer ingress IPs in every mode (so that they answer on this host, as MetalLB's
L2 mode or k3s's servicelb make them answer on a node), and in ``userspace`` mode the
ClusterIPs and external IPs too (its listeners bind to them). Addresses on a dummy
interface are local: traffic to them never leaves the host, and nothing else is
routed through the device. Where the kernel has no ``dummy`` driver (this machine's
does not), the device is an ``ifb`` one, as ``navarch-svc0`` is (docs/network.md): it
holds local addresses the same way. ``--cleanup`` deletes the interface.

``Addresses`` keeps the /32s of one device equal to a wanted set; ``DummyInterface``
is it for ``kube-proxy0``, and the L2 announcer (``announce.py``) uses it, with a
label, for the addresses it adds to a shared interface.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from kubeproxy.command import CommandError, run

log = logging.getLogger(__name__)

DEVICE = "kube-proxy0"


async def local_addresses() -> set[str]:
    """Every IPv4 address configured on this host (network namespace)."""
    out = await run(["ip", "-j", "-4", "addr", "show"])
    found: set[str] = set()
    for link in json.loads(out or "[]"):
        for info in link.get("addr_info") or []:
            if info.get("local"):
                found.add(info["local"])
    return found


class Addresses:
    """The /32s on one device, kept equal to what is asked for. With ``label``, only the
    addresses carrying that label are read or touched (the device's others are not
    ours)."""

    def __init__(self, device: str, label: str = "") -> None:
        self.device = device
        self.label = label
        self.current: set[str] | None = None

    async def read(self) -> set[str]:
        """What the device holds now (ours only, with a label); none when it is missing."""
        try:
            out = await run(["ip", "-j", "-4", "addr", "show", "dev", self.device])
        except CommandError:
            return set()
        found: set[str] = set()
        for link in json.loads(out or "[]"):
            for info in link.get("addr_info") or []:
                if info.get("local") and (not self.label or info.get("label") == self.label):
                    found.add(info["local"])
        return found

    async def apply(self, addresses: Iterable[str]) -> list[str]:
        """Add and remove /32s (one ``ip -batch``) so the device holds ``addresses``;
        returns those added."""
        wanted = set(addresses)
        if self.current is None:
            self.current = await self.read()
        add = sorted(wanted - self.current)
        remove = sorted(self.current - wanted)
        if not add and not remove:
            return []
        label = f" label {self.label}" if self.label else ""
        batch = [f"address del {ip}/32 dev {self.device}" for ip in remove]
        batch += [f"address add {ip}/32 dev {self.device}{label}" for ip in add]
        try:
            await run(["ip", "-force", "-batch", "-"], "\n".join(batch) + "\n")
        finally:
            # -force goes on after a failing line: read back what is really there.
            self.current = await self.read()
        return add


class DummyInterface(Addresses):
    """The addresses on ``kube-proxy0``, kept equal to what is asked for."""

    def __init__(self, device: str = DEVICE) -> None:
        super().__init__(device)

    async def ensure(self, addresses: Iterable[str]) -> None:
        """Make the interface hold exactly ``addresses`` (created when missing)."""
        if self.current is None:
            try:
                await run(["ip", "link", "show", self.device])
            except CommandError:
                try:
                    await run(["ip", "link", "add", self.device, "type", "dummy"])
                except CommandError:
                    # Kernels without the dummy driver: an ifb device holds addresses
                    # the same way (as navarch-svc0 does, docs/network.md).
                    await run(["ip", "link", "add", self.device, "type", "ifb"])
            await run(["ip", "link", "set", self.device, "up"])
        await self.apply(addresses)

    async def delete(self) -> bool:
        """Remove the interface; True if it existed."""
        self.current = None
        try:
            await run(["ip", "link", "del", self.device])
        except CommandError:
            return False
        return True
