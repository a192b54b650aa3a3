"""The network agent's hands: the ``ip`` and ``iptables`` commands.

Everything the agent reads from or writes to the kernel goes through ``Kernel``, a
thin layer over iproute2's JSON output (``ip -json``) and ``iptables -w``, so that the
logic above it is pure and tested with a fake. Calls block (a few milliseconds each);
the agent runs them off its event loop.
"""

from __future__ import annotations

import json
import logging
import shlex
import subprocess
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)

ROUTE_PROTOCOL = 78
"""The ``proto`` of the routes the agent adds (``ip route show proto 78``): it only
ever changes or removes routes that carry it, never anyone else's."""


class CommandError(RuntimeError):
    """A command failed; ``stderr`` says why."""

    def __init__(self, argv: list[str], code: int, stderr: str) -> None:
        super().__init__(f"{shlex.join(argv)}: exit {code}: {stderr.strip()}")
        self.argv = argv
        self.code = code
        self.stderr = stderr


def run(argv: list[str], *, check: bool = True) -> str:
    """Run ``argv``; its stdout. Raises CommandError when it fails and ``check``."""
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    if check and proc.returncode != 0:
        raise CommandError(argv, proc.returncode, proc.stderr)
    return proc.stdout


def ip_json(*args: str) -> Any:
    out = run(["ip", "-json", *args])
    return json.loads(out) if out.strip() else []


@dataclass(frozen=True)
class Route:
    """A route to ``dst`` through the gateway ``via``."""

    dst: str
    via: str


@dataclass(frozen=True)
class Rule:
    """One iptables rule: ``iptables -t table -A chain *spec``."""

    table: str
    chain: str
    spec: tuple[str, ...]
    first: bool = False
    """Inserted at the top of its chain (``-I``) rather than appended."""

    def describe(self) -> str:
        return f"-t {self.table} {self.chain} {shlex.join(self.spec)}"


class Kernel(Protocol):
    """What the agent needs from the host's network stack."""

    def local_addresses(self) -> set[str]: ...

    def routes(self) -> list[Route]:
        """Every route carrying ``ROUTE_PROTOCOL``."""
        ...

    def replace_route(self, route: Route) -> None: ...

    def delete_route(self, route: Route) -> None: ...

    def has_chain(self, table: str, chain: str) -> bool: ...

    def ensure_chain(self, table: str, chain: str) -> None: ...

    def chain_rules(self, table: str, chain: str) -> list[str]:
        """The chain's rules as ``iptables -S`` prints them (``-A CHAIN ...``)."""
        ...

    def flush_chain(self, table: str, chain: str) -> None: ...

    def delete_chain(self, table: str, chain: str) -> None: ...

    def has_rule(self, rule: Rule) -> bool: ...

    def add_rule(self, rule: Rule) -> None: ...

    def delete_rule(self, rule: Rule) -> None: ...


class HostKernel:
    """``Kernel`` over the real ``ip`` and ``iptables`` commands."""

    def __init__(self, iptables: str = "iptables") -> None:
        self.iptables = iptables

    def _ipt(self, table: str, *args: str, check: bool = True) -> str:
        return run([self.iptables, "-w", "5", "-t", table, *args], check=check)

    def local_addresses(self) -> set[str]:
        found: set[str] = set()
        for link in ip_json("address", "show"):
            for addr in link.get("addr_info") or []:
                if addr.get("local"):
                    found.add(str(addr["local"]))
        return found

    def routes(self) -> list[Route]:
        found = []
        for entry in ip_json("route", "show", "proto", str(ROUTE_PROTOCOL)):
            dst = str(entry.get("dst", ""))
            if dst and entry.get("gateway"):
                found.append(Route(dst, str(entry["gateway"])))
        return found

    def replace_route(self, route: Route) -> None:
        run(["ip", "route", "replace", route.dst, "via", route.via,
             "proto", str(ROUTE_PROTOCOL)])  # fmt: skip

    def delete_route(self, route: Route) -> None:
        run(["ip", "route", "del", route.dst, "proto", str(ROUTE_PROTOCOL)], check=False)

    def has_chain(self, table: str, chain: str) -> bool:
        try:
            self._ipt(table, "-S", chain)
        except CommandError:
            return False
        return True

    def ensure_chain(self, table: str, chain: str) -> None:
        if not self.has_chain(table, chain):
            self._ipt(table, "-N", chain)

    def chain_rules(self, table: str, chain: str) -> list[str]:
        lines = self._ipt(table, "-S", chain).splitlines()
        return [line for line in lines if line.startswith("-A ")]

    def flush_chain(self, table: str, chain: str) -> None:
        self._ipt(table, "-F", chain, check=False)

    def delete_chain(self, table: str, chain: str) -> None:
        self._ipt(table, "-X", chain, check=False)

    def has_rule(self, rule: Rule) -> bool:
        try:
            self._ipt(rule.table, "-C", rule.chain, *rule.spec)
        except CommandError:
            return False
        return True

    def add_rule(self, rule: Rule) -> None:
        if rule.first:
            self._ipt(rule.table, "-I", rule.chain, "1", *rule.spec)
        else:
            self._ipt(rule.table, "-A", rule.chain, *rule.spec)

    def delete_rule(self, rule: Rule) -> None:
        # Twice over would be once too many: -D removes one copy; loop while present.
        while self.has_rule(rule):
            self._ipt(rule.table, "-D", rule.chain, *rule.spec)
