"""``--proxy-mode iptables``: kube-proxy's chain layout, written with iptables-restore.

The layout is Kubernetes' (``pkg/proxy/iptables/proxier.go``), IPv4:

nat table
- ``KUBE-SERVICES`` (from PREROUTING and OUTPUT): per service port, ClusterIP ->
  ``KUBE-SVC-<hash>`` (or ``KUBE-SVL-`` with internalTrafficPolicy Local), external
  and load-balancer IPs -> ``KUBE-EXT-<hash>`` (``KUBE-FW-<hash>`` first when
  ``loadBalancerSourceRanges`` is set); last, local destinations -> ``KUBE-NODEPORTS``.
- ``KUBE-NODEPORTS``: node port -> ``KUBE-EXT-<hash>``.
- ``KUBE-EXT-<hash>``: marks for masquerade (Cluster policy), or keeps the client's
  address (Local policy: pod and host traffic short-circuit to the cluster chain).
- ``KUBE-SVC-<hash>`` / ``KUBE-SVL-<hash>``: masquerade off-cluster clients of the
  ClusterIP; ``recent`` checks for ClientIP affinity; then one rule per endpoint with
  ``statistic --mode random --probability 1/(n-i)``.
- ``KUBE-SEP-<hash>``: hairpin (the endpoint calling itself) is masqueraded; DNAT to
  the endpoint (``recent --set`` for affinity).
- ``KUBE-MARK-MASQ`` sets mark 0x4000; ``KUBE-POSTROUTING`` (from POSTROUTING)
  masquerades marked packets.

filter table
- ``KUBE-SERVICES`` (FORWARD, OUTPUT) and ``KUBE-EXTERNAL-SERVICES`` (INPUT,
  FORWARD): REJECT (``has no endpoints``: connection refused at once) or DROP (``has no
  local endpoints``).
- ``KUBE-PROXY-FIREWALL``: load-balancer traffic a ``KUBE-FW`` chain did not accept;
  ``KUBE-NODEPORTS``: health-check node ports; ``KUBE-FORWARD``: forwarding of
  marked and established traffic.

A sync is ONE ``iptables-restore --noflush`` (``Transaction``), of one of three kinds:
*partial* (the changed Services' own chains rewritten, their lines in the shared
chains edited in place with ``-D``/``-I``/``-A``, the chains they no longer use
deleted), *repair* (iptables-save read back; every chain of ours that differs from
what it should hold is rewritten whole, the others get the changes' edits as in a
partial sync, leftovers are deleted, missing jumps from the built-in chains restored)
and *rewrite* (everything). Chain names hash
``namespace/name:port`` + protocol (+ endpoint) exactly as Kubernetes does, so they
are stable across restarts.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kubeproxy.backend import SyncKind, SyncResult, load_balancer_addresses
from kubeproxy.command import CommandError, run
from kubeproxy.routeplan import plan
from kubeproxy.servicemap import EndpointInfo, ServicePort, ServicePortState

log = logging.getLogger(__name__)

MASQ_MARK = "0x4000"
SERVICE_CHAIN_PREFIXES = ("KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SEP-")

NAT_CHAINS = ("KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ")
FILTER_CHAINS = (
    "KUBE-SERVICES",
    "KUBE-EXTERNAL-SERVICES",
    "KUBE-FORWARD",
    "KUBE-NODEPORTS",
    "KUBE-PROXY-FIREWALL",
)

# (table, built-in chain, rule spec) of the jumps into our chains, in the order they
# should appear at the top of each built-in chain.
JUMPS: tuple[tuple[str, str, str], ...] = (
    ("filter", "INPUT", '-m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL'),
    ("filter", "INPUT", '-m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS'),
    ("filter", "INPUT", '-m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES'),
    ("filter", "FORWARD", '-m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL'),
    ("filter", "FORWARD", '-m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD'),
    ("filter", "FORWARD", '-m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'),
    ("filter", "FORWARD", '-m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES'),
    ("filter", "OUTPUT", '-m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL'),
    ("filter", "OUTPUT", '-m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'),
    ("nat", "PREROUTING", '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES'),
    ("nat", "OUTPUT", '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES'),
    ("nat", "POSTROUTING", '-m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING'),
)  # fmt: skip

_NODEPORTS_JUMP = (
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be '
    'the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS'
)
_STATIC_NAT = (
    f"-A KUBE-POSTROUTING -m mark ! --mark {MASQ_MARK}/{MASQ_MARK} -j RETURN",
    f"-A KUBE-POSTROUTING -j MARK --xor-mark {MASQ_MARK}",
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" '
    "-j MASQUERADE --random-fully",
    f"-A KUBE-MARK-MASQ -j MARK --or-mark {MASQ_MARK}",
)
_STATIC_FILTER = (
    "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" '
    f"-m mark --mark {MASQ_MARK}/{MASQ_MARK} -j ACCEPT",
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" '
    "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
)


@functools.lru_cache(maxsize=1 << 16)
def _hash(text: str) -> str:
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16]


def port_chain_suffix(port: ServicePort) -> str:
    return _hash(str(port.name) + port.protocol.lower())


def endpoint_chain(port: ServicePort, endpoint: EndpointInfo) -> str:
    return "KUBE-SEP-" + _hash(str(port.name) + port.protocol.lower() + str(endpoint))


@dataclass
class RenderedService:
    """One Service's rules: its lines in the shared chains, and its own chains."""

    shared: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """(table, shared chain) -> this Service's ``-A`` lines in it."""
    chains: dict[str, list[str]] = field(default_factory=dict)
    """Its own nat chains (``KUBE-SVC-``, ``KUBE-SEP-``, ...) -> their ``-A`` lines."""

    def add(self, table: str, line: str) -> None:
        """A line of a shared chain (the chain is the word after ``-A``)."""
        self.shared.setdefault((table, line.split(" ", 2)[1]), []).append(line)

    def rule_count(self) -> tuple[int, int]:
        """(nat, filter) rules."""
        nat = sum(len(lines) for lines in self.chains.values())
        filt = 0
        for (table, _), lines in self.shared.items():
            if table == "nat":
                nat += len(lines)
            else:
                filt += len(lines)
        return nat, filt


def _comment(text: str) -> str:
    return f'-m comment --comment "{text}"'


def render_service(
    ports: Iterable[ServicePortState], *, cluster_cidr: str | None, masquerade_all: bool = False
) -> RenderedService:
    out = RenderedService()
    for state in ports:
        _render_port(state.port, state.endpoints, out, cluster_cidr, masquerade_all)
    return out


def _render_port(
    svc: ServicePort,
    endpoints: tuple[EndpointInfo, ...],
    out: RenderedService,
    cluster_cidr: str | None,
    masquerade_all: bool,
) -> None:
    name = str(svc.name)
    proto = svc.protocol.lower()
    match = f"-m {proto} -p {proto}"
    suffix = port_chain_suffix(svc)
    cluster_chain, local_chain = f"KUBE-SVC-{suffix}", f"KUBE-SVL-{suffix}"
    ext_chain, fw_chain = f"KUBE-EXT-{suffix}", f"KUBE-FW-{suffix}"

    route = plan(svc, endpoints)
    internal_chain = route.internal.pick(cluster_chain, local_chain)
    external_policy_chain = route.external.pick(cluster_chain, local_chain)
    lb_chain = fw_chain if route.uses_fw_chain else ext_chain

    if route.refuse_rejects:
        internal_target = external_target = "REJECT"
        internal_comment = external_comment = f"{name} has no endpoints"
    else:
        internal_target = external_target = "DROP"
        internal_comment = external_comment = f"{name} has no local endpoints"

    cip = f"-d {svc.cluster_ip} --dport {svc.port}"
    if route.has_internal:
        out.add(
            "nat",
            f"-A KUBE-SERVICES {_comment(name + ' cluster IP')} {match} {cip} -j {internal_chain}",
        )
    else:
        out.add(
            "filter",
            f"-A KUBE-SERVICES {_comment(internal_comment)} {match} {cip} -j {internal_target}",
        )
    for ip in svc.external_ips:
        dst = f"-d {ip} --dport {svc.port}"
        if route.has_endpoints:
            out.add(
                "nat",
                f"-A KUBE-SERVICES {_comment(name + ' external IP')} {match} {dst} -j {ext_chain}",
            )
        if not route.has_external:
            out.add(
                "filter",
                f"-A KUBE-EXTERNAL-SERVICES {_comment(external_comment)} {match} {dst} -j {external_target}",
            )
    for ip in svc.load_balancer_ips:
        dst = f"-d {ip} --dport {svc.port}"
        if route.has_endpoints:
            out.add(
                "nat",
                f"-A KUBE-SERVICES {_comment(name + ' loadbalancer IP')} {match} {dst} -j {lb_chain}",
            )
        if route.uses_fw_chain:
            out.add(
                "filter",
                f"-A KUBE-PROXY-FIREWALL {_comment(f'{name} traffic not accepted by {fw_chain}')} "
                f"{match} {dst} -j DROP",
            )
        if not route.has_external:
            out.add(
                "filter",
                f"-A KUBE-EXTERNAL-SERVICES {_comment(external_comment)} {match} {dst} -j {external_target}",
            )
    if svc.node_port:
        if route.has_endpoints:
            out.add(
                "nat",
                f"-A KUBE-NODEPORTS {_comment(name)} {match} --dport {svc.node_port} -j {ext_chain}",
            )
        if not route.has_external:
            out.add(
                "filter",
                f"-A KUBE-EXTERNAL-SERVICES {_comment(external_comment)} -m addrtype --dst-type LOCAL "
                f"{match} --dport {svc.node_port} -j {external_target}",
            )
    if svc.health_check_node_port:
        out.add(
            "filter",
            f"-A KUBE-NODEPORTS {_comment(name + ' health check node port')} -m tcp -p tcp "
            f"--dport {svc.health_check_node_port} -j ACCEPT",
        )

    chains = out.chains
    if route.uses_ext_chain:
        lines = chains[ext_chain] = []
        if not svc.external_policy_local:
            lines.append(
                f"-A {ext_chain} {_comment(f'masquerade traffic for {name} external destinations')} "
                "-j KUBE-MARK-MASQ"
            )
        else:
            if cluster_cidr:
                lines.append(
                    f"-A {ext_chain} {_comment(f'pod traffic for {name} external destinations')} "
                    f"-s {cluster_cidr} -j {cluster_chain}"
                )
            lines.append(
                f"-A {ext_chain} {_comment(f'masquerade LOCAL traffic for {name} external destinations')} "
                "-m addrtype --src-type LOCAL -j KUBE-MARK-MASQ"
            )
            lines.append(
                f"-A {ext_chain} {_comment(f'route LOCAL traffic for {name} external destinations')} "
                f"-m addrtype --src-type LOCAL -j {cluster_chain}"
            )
        if route.has_external:
            lines.append(f"-A {ext_chain} -j {external_policy_chain}")
    if route.uses_fw_chain:
        lines = chains[fw_chain] = []
        for cidr in svc.source_ranges:
            lines.append(
                f"-A {fw_chain} {_comment(name + ' loadbalancer IP')} -s {cidr} -j {ext_chain}"
            )
        lines.append(
            f"-A {fw_chain} {_comment(f'other traffic to {name} will be dropped by KUBE-PROXY-FIREWALL')}"
        )
    if route.uses_cluster_chain:
        lines = chains[cluster_chain] = []
        masq = f"-A {cluster_chain} {_comment(name + ' cluster IP')} {match} {cip}"
        if masquerade_all:
            lines.append(f"{masq} -j KUBE-MARK-MASQ")
        elif cluster_cidr:
            lines.append(f"{masq} ! -s {cluster_cidr} -j KUBE-MARK-MASQ")
        _to_endpoints(svc, cluster_chain, route.endpoints.cluster, lines)
    if route.uses_local_chain:
        lines = chains[local_chain] = []
        _to_endpoints(svc, local_chain, route.endpoints.local, lines)
    for ep in route.endpoints.reachable:
        sep = endpoint_chain(svc, ep)
        lines = chains[sep] = [f"-A {sep} {_comment(name)} -s {ep.ip} -j KUBE-MARK-MASQ"]
        recent = f" -m recent --name {sep} --set" if svc.affinity_timeout else ""
        lines.append(f"-A {sep} {_comment(name)}{recent} {match} -j DNAT --to-destination {ep}")


def _to_endpoints(
    svc: ServicePort, chain: str, endpoints: tuple[EndpointInfo, ...], lines: list[str]
) -> None:
    name = str(svc.name)
    if svc.affinity_timeout:
        for ep in endpoints:
            sep = endpoint_chain(svc, ep)
            lines.append(
                f'-A {chain} -m comment --comment "{name} -> {ep}" -m recent --name {sep} '
                f"--rcheck --seconds {svc.affinity_timeout} --reap -j {sep}"
            )
    n = len(endpoints)
    for i, ep in enumerate(endpoints):
        sep = endpoint_chain(svc, ep)
        if i < n - 1:
            lines.append(
                f'-A {chain} -m comment --comment "{name} -> {ep}" -m statistic --mode random '
                f"--probability {1.0 / (n - i):0.10f} -j {sep}"
            )
        else:
            lines.append(f'-A {chain} -m comment --comment "{name} -> {ep}" -j {sep}')


@dataclass
class TableWrite:
    """One table's part of a restore input, in the order iptables-restore applies it:
    chains declared (created, or flushed when they exist), jumps from the built-in
    chains, rule deletions, rule additions, chain deletions (flushed first)."""

    declare: list[str] = field(default_factory=list)
    jumps: list[str] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.declare or self.jumps or self.delete or self.add or self.remove)

    def lines(self, table: str) -> list[str]:
        if self.empty():
            return []
        return [
            f"*{table}",
            *(f":{chain} - [0:0]" for chain in (*self.declare, *self.remove)),
            *self.jumps,
            *self.delete,
            *self.add,
            *(f"-X {chain}" for chain in self.remove),
            "COMMIT",
        ]


@dataclass
class Transaction:
    """One ``iptables-restore --noflush`` input: a sync's whole write. iptables-restore
    commits each table on its own, atomically (a table is never half written); a table
    with nothing to do is left out."""

    nat: TableWrite = field(default_factory=TableWrite)
    filter: TableWrite = field(default_factory=TableWrite)

    def table(self, name: str) -> TableWrite:
        return self.nat if name == "nat" else self.filter

    def empty(self) -> bool:
        return self.nat.empty() and self.filter.empty()

    def text(self) -> str:
        return "\n".join(self.filter.lines("filter") + self.nat.lines("nat")) + "\n"


@dataclass
class Change:
    """What one ``IptablesRenderer.update`` re-rendered: each Service as it was and as
    it is now (None: absent)."""

    before: dict[str, RenderedService | None] = field(default_factory=dict)
    after: dict[str, RenderedService | None] = field(default_factory=dict)

    def stale_chains(self) -> set[str]:
        """Own chains the re-rendered Services no longer use."""
        old = {c for r in self.before.values() if r is not None for c in r.chains}
        new = {c for r in self.after.values() if r is not None for c in r.chains}
        return old - new

    def touched(self) -> set[tuple[str, str]]:
        """(table, chain) of every chain the re-rendered Services write to, then or now."""
        out: set[tuple[str, str]] = set()
        for r in (*self.before.values(), *self.after.values()):
            if r is not None:
                out |= set(r.shared)
                out |= {("nat", chain) for chain in r.chains}
        return out


def _shared_edits(
    tx: Transaction,
    old: RenderedService | None,
    new: RenderedService | None,
    skip: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset(),
) -> None:
    """A Service's lines in the shared chains, edited in place: the lines it no longer
    has deleted by rule (``-D``), the new ones added (``-I KUBE-SERVICES 1``, so the
    node-ports jump stays last; ``-A`` elsewhere, where order does not matter).
    Counted as multisets, so a line rendered twice is deleted twice. Chains in ``skip``
    (rewritten whole in the same transaction) are left alone."""
    before = old.shared if old is not None else {}
    after = new.shared if new is not None else {}
    for table, chain in sorted((set(before) | set(after)) - skip):
        had = Counter(before.get((table, chain), []))
        wants = after.get((table, chain), [])
        write = tx.table(table)
        for line, count in sorted((had - Counter(wants)).items()):
            write.delete += ["-D " + line[3:]] * count
        extra = Counter(wants) - had
        for line in wants:
            if extra[line] > 0:
                extra[line] -= 1
                if (table, chain) == ("nat", "KUBE-SERVICES"):
                    write.add.append("-I KUBE-SERVICES 1 " + line[len("-A KUBE-SERVICES ") :])
                else:
                    write.add.append(line)


@dataclass
class IptablesRenderer:
    """Every Service's rendered rules, and the restore input of each kind of sync."""

    cluster_cidr: str | None = "10.244.0.0/16"
    masquerade_all: bool = False
    rendered: dict[str, RenderedService] = field(default_factory=dict)
    _counts: tuple[int, int] = (0, 0)

    @property
    def nat_rules(self) -> int:
        return self._counts[0] + len(_STATIC_NAT) + 1

    @property
    def filter_rules(self) -> int:
        return self._counts[1] + len(_STATIC_FILTER)

    def update(
        self, states: Mapping[str, tuple[ServicePortState, ...]], keys: Iterable[str]
    ) -> Change:
        """Re-render ``keys`` from ``states`` (absent: the Service is gone)."""
        change = Change()
        nat, filt = self._counts
        for key in sorted(set(keys)):
            before = self.rendered.pop(key, None)
            state = states.get(key)
            after = None
            if state:
                after = render_service(
                    state, cluster_cidr=self.cluster_cidr, masquerade_all=self.masquerade_all
                )
                self.rendered[key] = after
                nat, filt = nat + after.rule_count()[0], filt + after.rule_count()[1]
            if before is not None:
                nat, filt = nat - before.rule_count()[0], filt - before.rule_count()[1]
            change.before[key], change.after[key] = before, after
        self._counts = (nat, filt)
        return change

    def expected(
        self, previous: Mapping[str, RenderedService | None] | None = None
    ) -> dict[str, dict[str, list[str]]]:
        """table -> chain -> the ``-A`` lines it should hold, in order: every chain of
        ours, as the kernel should have it now; with ``previous`` (a ``Change``'s
        ``before``), as it should have had it before that change."""
        rendered = dict(self.rendered)
        for key, old in (previous or {}).items():
            if old is None:
                rendered.pop(key, None)
            else:
                rendered[key] = old
        nat: dict[str, list[str]] = {name: [] for name in NAT_CHAINS}
        filt: dict[str, list[str]] = {name: [] for name in FILTER_CHAINS}
        tables = {"nat": nat, "filter": filt}
        for table, static in (("nat", _STATIC_NAT), ("filter", _STATIC_FILTER)):
            for line in static:
                tables[table][line.split(" ", 2)[1]].append(line)
        for key in sorted(rendered):
            r = rendered[key]
            for (table, chain), lines in r.shared.items():
                tables[table][chain] += lines
            nat.update(r.chains)
        nat["KUBE-SERVICES"].append(_NODEPORTS_JUMP)
        return tables

    def partial(self, change: Change) -> Transaction:
        """Only what ``change`` alters, the shared chains left in place: the changed
        Services' own chains declared (flushed) and refilled, their lines in the shared
        chains edited (``_shared_edits``), the chains they no longer use deleted. Its
        cost follows the change, not the number of Services."""
        tx = Transaction()
        for key in sorted(change.after):
            new = change.after[key]
            if new is not None:
                for chain, lines in new.chains.items():
                    tx.nat.declare.append(chain)
                    tx.nat.add += lines
            _shared_edits(tx, change.before[key], new)
        tx.nat.remove = sorted(change.stale_chains())
        return tx

    def resync(
        self,
        change: Change,
        saved: Mapping[str, Mapping[str, list[str]]],
        *,
        everything: bool = False,
    ) -> Transaction:
        """A repair (or, with ``everything``, a rewrite) against the kernel's state
        (``saved``, from iptables-save), with ``change`` in it.

        Each chain of ours in the kernel is compared with what it should have held
        before ``change``, in rule count and jump targets (iptables-save prints matches
        in its own order and spelling, so whole rules do not compare). A chain that
        matches gets only ``change``'s edits, as in a partial sync (so a repair that
        carries a change does not rewrite KUBE-SERVICES); one that differs or is
        missing is declared and refilled whole, as it should be now. The changed
        Services' own chains are always refilled. Service chains nothing uses any more
        are deleted, missing jumps from the built-in chains inserted. With nothing
        drifted and nothing changed the transaction is empty."""
        tx = Transaction()
        now = self.expected()
        was = now if everything else self.expected(change.before)
        refill = {c for r in change.after.values() if r is not None for c in r.chains}
        rewritten: set[tuple[str, str]] = set()
        for table, chains in now.items():
            have = saved.get(table, {})
            write = tx.table(table)
            for chain, lines in chains.items():
                old = was[table].get(chain)
                if (
                    not everything
                    and not (table == "nat" and chain in refill)
                    and chain in have
                    and old is not None
                    and _same_rules(chain, old, have[chain])
                ):
                    continue
                write.declare.append(chain)
                write.add += lines
                rewritten.add((table, chain))
        for key in sorted(change.after):
            _shared_edits(tx, change.before[key], change.after[key], rewritten)
        tx.nat.remove = sorted(
            chain
            for chain in saved.get("nat", {})
            if chain.startswith(SERVICE_CHAIN_PREFIXES) and chain not in now["nat"]
        )
        for table, chain, spec in missing_jumps(saved):
            # Each goes to the top: inserted in reverse, they end up in JUMPS order.
            tx.table(table).jumps.insert(0, f"-I {chain} 1 {spec}")
        return tx


_UNORDERED = frozenset(
    {"KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-EXTERNAL-SERVICES", "KUBE-PROXY-FIREWALL"}
)
"""Shared chains whose rule order does not matter (KUBE-SERVICES' last rule aside)."""


def _target(rule: str) -> str:
    _, _, rest = rule.partition(" -j ")
    return rest.split(" ", 1)[0]


def _same_rules(chain: str, mine: list[str], theirs: list[str]) -> bool:
    """Whether the kernel's rules match ours in number and jump targets (iptables-save
    prints matches in its own order, so whole rules are not compared). The shared
    chains' order does not matter, except that KUBE-SERVICES ends with the node-ports
    jump."""
    if len(mine) != len(theirs):
        return False
    a, b = [_target(r) for r in mine], [_target(r) for r in theirs]
    if chain not in _UNORDERED:
        return a == b
    return sorted(a) == sorted(b) and (chain != "KUBE-SERVICES" or a[-1:] == b[-1:])


def _comment_of(rule: str) -> str:
    _, _, rest = rule.partition('--comment "')
    return rest.partition('"')[0]


def missing_jumps(saved: Mapping[str, Mapping[str, list[str]]]) -> list[tuple[str, str, str]]:
    """The jumps of ``JUMPS`` the built-in chains lack, in ``JUMPS`` order. A jump is
    there when a rule of its chain has its target and its comment (iptables-save may
    print the matches in another order)."""
    missing = []
    for table, chain, spec in JUMPS:
        rules = saved.get(table, {}).get(chain, [])
        target, comment = _target(spec), _comment_of(spec)
        if not any(_target(r) == target and _comment_of(r) == comment for r in rules):
            missing.append((table, chain, spec))
    return missing


def parse_chains(text: str) -> dict[str, dict[str, list[str]]]:
    """From ``iptables-save`` output: table -> chain -> its rules, in order."""
    tables: dict[str, dict[str, list[str]]] = {}
    table: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("*"):
            table = tables.setdefault(line[1:].strip(), {})
        elif line.startswith(":"):
            table.setdefault(line[1:].split(" ", 1)[0], [])
        elif line.startswith("-A "):
            chain = line.split(" ", 2)[1]
            table.setdefault(chain, []).append(line)
    return tables


class IptablesBackend:
    mode = "iptables"

    def __init__(self, *, cluster_cidr: str | None, masquerade_all: bool = False) -> None:
        self.renderer = IptablesRenderer(cluster_cidr=cluster_cidr, masquerade_all=masquerade_all)

    async def sync(
        self, states: Mapping[str, tuple[ServicePortState, ...]], changed: set[str], kind: SyncKind
    ) -> SyncResult:
        """One ``iptables-restore`` (or none, when a repair finds nothing to do):
        ``partial`` edits what ``changed`` alters, ``repair`` also rewrites what
        drifted in the kernel, ``rewrite`` rewrites everything."""
        r = self.renderer
        change = r.update(states, changed)
        if kind == "partial":
            tx = r.partial(change)
        else:
            saved = parse_chains(await run(["iptables-save"]))
            tx = r.resync(change, saved, everything=kind == "rewrite")
        if not tx.empty():
            await run(["iptables-restore", "-w", "5", "--noflush"], tx.text())
        return SyncResult({"nat": r.nat_rules, "filter": r.filter_rules})

    def local_addresses(self, states: Mapping[str, tuple[ServicePortState, ...]]) -> set[str]:
        return load_balancer_addresses(states)

    async def cleanup(self) -> None:
        await cleanup_iptables()


async def cleanup_iptables() -> bool:
    """Remove every KUBE-* chain and the jumps to them, in one iptables-restore; True if
    anything was there."""
    try:
        saved = parse_chains(await run(["iptables-save"]))
    except (CommandError, FileNotFoundError):
        return False
    tx = Transaction()
    for table in ("nat", "filter"):
        known = NAT_CHAINS if table == "nat" else FILTER_CHAINS
        chains = saved.get(table, {})
        ours = {c for c in chains if c in known or c.startswith(SERVICE_CHAIN_PREFIXES)}
        write = tx.table(table)
        for chain in sorted(set(chains) - ours):
            write.delete += ["-D " + rule[3:] for rule in chains[chain] if _target(rule) in ours]
        write.remove = sorted(ours)
    if tx.empty():
        return False
    await run(["iptables-restore", "-w", "5", "--noflush"], tx.text())
    return True
