"""What every proxy mode implements: write a sync, clean up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from kubeproxy.servicemap import ServicePortState

SyncKind = Literal["partial", "repair", "rewrite"]
"""``partial``: only the Services that changed. ``repair`` (every ``--sync-period``): read
the kernel's state back and rewrite whatever differs from what it should be, besides
the changes; also the sync after a failed write. ``rewrite`` (the first sync, and after
two failed writes in a row): everything."""


@dataclass
class SyncResult:
    rules: dict[str, int]
    """Rules (or objects, or listeners) now in place, by table or kind."""


class Backend(Protocol):
    mode: str

    async def sync(
        self, states: Mapping[str, tuple[ServicePortState, ...]], changed: set[str], kind: SyncKind
    ) -> SyncResult:
        """Make the data plane serve ``states`` (Service key -> its ports). ``changed``
        names the Services that differ from the last sync; ``kind`` says how much else
        to check and write. Raises when the write failed."""
        ...

    def local_addresses(self, states: Mapping[str, tuple[ServicePortState, ...]]) -> set[str]:
        """Addresses the host must have on kube-proxy's dummy interface."""
        ...

    async def cleanup(self) -> None:
        """Remove everything this mode created."""
        ...


def load_balancer_addresses(states: Mapping[str, tuple[ServicePortState, ...]]) -> set[str]:
    """The load-balancer IPs of the served Services: made local addresses in every mode,
    so that they answer on this host."""
    return {ip for ports in states.values() for s in ports for ip in s.port.load_balancer_ips}
