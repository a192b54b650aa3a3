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

A sync is ONE ``iptables-restore --noflush`` of both tables: the top-level chains are
always rewritten whole, a service's own chains only when the service changed (partial
sync) or on a full sync, which also deletes leftover service chains found by
``iptables-save`` and restores missing jumps from the built-in chains. Chain names
hash ``namespace/name:port`` + protocol (+ endpoint) exactly as Kubernetes does, so
they are stable across restarts.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kubeproxy.backend import SyncKind, SyncResult, load_balancer_addresses
from kubeproxy.command import CommandError, run
from kubeproxy.servicemap import EndpointInfo, ServicePort, ServicePortState, categorize

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
    """One Service's rules: lines for the shared chains and its own chains."""

    services: list[str] = field(default_factory=list)
    """Lines of nat KUBE-SERVICES."""
    nodeports: list[str] = field(default_factory=list)
    """Lines of nat KUBE-NODEPORTS."""
    filter: list[str] = field(default_factory=list)
    """Lines of the filter chains."""
    chains: dict[str, list[str]] = field(default_factory=dict)
    """Its own nat chains and their lines, in order."""
    text: dict[str, str] = field(default_factory=dict)
    """The same, joined once (``finish``): a sync only concatenates."""

    def finish(self) -> RenderedService:
        self.text = {
            "services": "\n".join(self.services),
            "nodeports": "\n".join(self.nodeports),
            "filter": "\n".join(self.filter),
            "declare": "\n".join(f":{chain} - [0:0]" for chain in self.chains),
            "chains": "\n".join(line for lines in self.chains.values() for line in lines),
        }
        return self

    def rule_count(self) -> tuple[int, int]:
        """(nat, filter) rules."""
        own = sum(len(lines) for lines in self.chains.values())
        return len(self.services) + len(self.nodeports) + own, len(self.filter)


def _comment(text: str) -> str:
    return f'-m comment --comment "{text}"'


def render_service(
    ports: Iterable[ServicePortState], *, cluster_cidr: str | None, masquerade_all: bool = False
) -> RenderedService:
    out = RenderedService()
    for state in ports:
        _render_port(state.port, state.endpoints, out, cluster_cidr, masquerade_all)
    return out.finish()


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

    cat = categorize(svc, endpoints)
    has_endpoints = cat.has_any
    uses_cluster_chain = bool(cat.cluster) and svc.uses_cluster_endpoints
    uses_local_chain = bool(cat.local) and svc.uses_local_endpoints
    internal_chain, has_internal = cluster_chain, has_endpoints
    if svc.internal_policy_local:
        internal_chain, has_internal = local_chain, has_endpoints and bool(cat.local)
    external_policy_chain, has_external = cluster_chain, has_endpoints
    if svc.external_policy_local:
        external_policy_chain, has_external = local_chain, has_endpoints and bool(cat.local)
    uses_ext_chain = has_endpoints and svc.externally_accessible
    uses_fw_chain = has_endpoints and bool(svc.load_balancer_ips) and bool(svc.source_ranges)
    lb_chain = fw_chain if uses_fw_chain else ext_chain

    if not has_endpoints:
        internal_target = external_target = "REJECT"
        internal_comment = external_comment = f"{name} has no endpoints"
    else:
        internal_target = external_target = "DROP"
        internal_comment = external_comment = f"{name} has no local endpoints"

    cip = f"-d {svc.cluster_ip} --dport {svc.port}"
    if has_internal:
        out.services.append(
            f"-A KUBE-SERVICES {_comment(name + ' cluster IP')} {match} {cip} -j {internal_chain}"
        )
    else:
        out.filter.append(
            f"-A KUBE-SERVICES {_comment(internal_comment)} {match} {cip} -j {internal_target}"
        )
    for ip in svc.external_ips:
        dst = f"-d {ip} --dport {svc.port}"
        if has_endpoints:
            out.services.append(
                f"-A KUBE-SERVICES {_comment(name + ' external IP')} {match} {dst} -j {ext_chain}"
            )
        if not has_external:
            out.filter.append(
                f"-A KUBE-EXTERNAL-SERVICES {_comment(external_comment)} {match} {dst} -j {external_target}"
            )
    for ip in svc.load_balancer_ips:
        dst = f"-d {ip} --dport {svc.port}"
        if has_endpoints:
            out.services.append(
                f"-A KUBE-SERVICES {_comment(name + ' loadbalancer IP')} {match} {dst} -j {lb_chain}"
            )
        if uses_fw_chain:
            out.filter.append(
                f"-A KUBE-PROXY-FIREWALL {_comment(f'{name} traffic not accepted by {fw_chain}')} "
                f"{match} {dst} -j DROP"
            )
        if not has_external:
            out.filter.append(
                f"-A KUBE-EXTERNAL-SERVICES {_comment(external_comment)} {match} {dst} -j {external_target}"
            )
    if svc.node_port:
        if has_endpoints:
            out.nodeports.append(
                f"-A KUBE-NODEPORTS {_comment(name)} {match} --dport {svc.node_port} -j {ext_chain}"
            )
        if not has_external:
            out.filter.append(
                f"-A KUBE-EXTERNAL-SERVICES {_comment(external_comment)} -m addrtype --dst-type LOCAL "
                f"{match} --dport {svc.node_port} -j {external_target}"
            )
    if svc.health_check_node_port:
        out.filter.append(
            f"-A KUBE-NODEPORTS {_comment(name + ' health check node port')} -m tcp -p tcp "
            f"--dport {svc.health_check_node_port} -j ACCEPT"
        )

    chains = out.chains
    if uses_ext_chain:
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
        if has_external:
            lines.append(f"-A {ext_chain} -j {external_policy_chain}")
    if uses_fw_chain:
        lines = chains[fw_chain] = []
        for cidr in svc.source_ranges:
            lines.append(
                f"-A {fw_chain} {_comment(name + ' loadbalancer IP')} -s {cidr} -j {ext_chain}"
            )
        lines.append(
            f"-A {fw_chain} {_comment(f'other traffic to {name} will be dropped by KUBE-PROXY-FIREWALL')}"
        )
    if uses_cluster_chain:
        lines = chains[cluster_chain] = []
        masq = f"-A {cluster_chain} {_comment(name + ' cluster IP')} {match} {cip}"
        if masquerade_all:
            lines.append(f"{masq} -j KUBE-MARK-MASQ")
        elif cluster_cidr:
            lines.append(f"{masq} ! -s {cluster_cidr} -j KUBE-MARK-MASQ")
        _to_endpoints(svc, cluster_chain, cat.cluster, lines)
    if uses_local_chain:
        lines = chains[local_chain] = []
        _to_endpoints(svc, local_chain, cat.local, lines)
    for ep in cat.reachable:
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
class _SharedEdit:
    deletes: list[str] = field(default_factory=list)
    adds: list[str] = field(default_factory=list)


@dataclass
class _Edits:
    """A sync's changes: own chains rewritten, lines of the shared chains edited."""

    declare: list[str] = field(default_factory=list)
    own: list[str] = field(default_factory=list)
    own_chains: set[str] = field(default_factory=set)
    shared_edits: dict[tuple[str, str], _SharedEdit] = field(default_factory=dict)

    def shared(self, table: str, line: str) -> _SharedEdit:
        chain = line.split(" ", 2)[1]
        return self.shared_edits.setdefault((table, chain), _SharedEdit())

    def drop_shared(self, table: str, chain: str) -> None:
        self.shared_edits.pop((table, chain), None)

    def any(self) -> bool:
        return bool(self.declare or self.own or any(
            e.deletes or e.adds for e in self.shared_edits.values()
        ))  # fmt: skip

    def text(
        self,
        stale: list[str],
        jumps: Iterable[tuple[str, str, str]] = (),
        declare: Mapping[str, list[str]] | None = None,
        rules: Mapping[str, list[str]] | None = None,
    ) -> str:
        """restore input: per table, declarations (flush), jumps, deletions, rewritten
        and own rules, additions, then the stale chains' deletion."""
        out: list[str] = []
        for table in ("filter", "nat"):
            edits = [e for (t, _), e in sorted(self.shared_edits.items()) if t == table]
            start = len(out)
            out += (declare or {}).get(table, [])
            if table == "nat":
                out += self.declare
                out += [f":{chain} - [0:0]" for chain in stale]
            out += [
                f"-I {chain} 1 {spec}" for t, chain, spec in reversed(list(jumps)) if t == table
            ]
            out += [line for e in edits for line in e.deletes]
            out += (rules or {}).get(table, [])
            if table == "nat":
                out += self.own
            out += [line for e in edits for line in e.adds]
            if table == "nat":
                out += [f"-X {chain}" for chain in stale]
            if len(out) > start:  # a table with nothing to do is left out
                out.insert(start, f"*{table}")
                out.append("COMMIT")
        return "\n".join(out) + "\n"


@dataclass
class IptablesRenderer:
    """Keeps every Service's rendered rules and writes restore input for a sync."""

    cluster_cidr: str | None = "10.244.0.0/16"
    masquerade_all: bool = False
    rendered: dict[str, RenderedService] = field(default_factory=dict)
    nat_rules: int = 0
    filter_rules: int = 0
    _counts: tuple[int, int] = (0, 0)
    before: dict[str, RenderedService | None] = field(default_factory=dict)
    """The rendering each Service of the last ``update`` had before it."""

    def update(
        self, states: Mapping[str, tuple[ServicePortState, ...]], keys: Iterable[str]
    ) -> set[str]:
        """Re-render ``keys`` from ``states`` (absent: the Service is gone); returns
        the chains those Services no longer use."""
        stale: set[str] = set()
        nat, filt = self._counts
        self.before = {}
        for key in keys:
            before = self.rendered.pop(key, None)
            self.before[key] = before
            state = states.get(key)
            after = (
                render_service(
                    state, cluster_cidr=self.cluster_cidr, masquerade_all=self.masquerade_all
                )
                if state
                else None
            )
            if after is not None:
                self.rendered[key] = after
                nat, filt = nat + after.rule_count()[0], filt + after.rule_count()[1]
            if before is not None:
                nat, filt = nat - before.rule_count()[0], filt - before.rule_count()[1]
                stale |= set(before.chains) - set(after.chains if after else ())
        self._counts = (nat, filt)
        return stale

    def restore_input(
        self,
        write: Iterable[str],
        stale: Iterable[str],
        missing_jumps: Iterable[tuple[str, str, str]] = (),
    ) -> str:
        """iptables-restore text: the shared chains whole, the own chains of the
        Services in ``write``, deletion of ``stale`` chains, and ``missing_jumps``."""
        rendered = [self.rendered[key] for key in sorted(self.rendered)]
        stale = sorted(set(stale))
        jumps = list(missing_jumps)
        written = [self.rendered[k] for k in sorted(set(write)) if k in self.rendered]

        def texts(items: Iterable[RenderedService], part: str) -> list[str]:
            return [text for r in items if (text := r.text[part])]

        f: list[str] = ["*filter"]
        f += [f":{chain} - [0:0]" for chain in FILTER_CHAINS]
        f += [f"-I {chain} 1 {spec}" for table, chain, spec in reversed(jumps) if table == "filter"]
        f += _STATIC_FILTER
        f += texts(rendered, "filter")
        f.append("COMMIT")
        n: list[str] = ["*nat"]
        n += [f":{chain} - [0:0]" for chain in NAT_CHAINS]
        n += texts(written, "declare")
        n += [f":{chain} - [0:0]" for chain in stale]
        n += [f"-I {chain} 1 {spec}" for table, chain, spec in reversed(jumps) if table == "nat"]
        n += _STATIC_NAT
        n += texts(rendered, "services")
        n.append(_NODEPORTS_JUMP)
        n += texts(rendered, "nodeports")
        n += texts(written, "chains")
        n += [f"-X {chain}" for chain in stale]
        n.append("COMMIT")
        self.nat_rules = self._counts[0] + len(_STATIC_NAT) + 1
        self.filter_rules = self._counts[1] + len(_STATIC_FILTER)
        return "\n".join(f + n) + "\n"

    def all_chains(self) -> set[str]:
        return {chain for r in self.rendered.values() for chain in r.chains}

    def _totals(self) -> None:
        self.nat_rules = self._counts[0] + len(_STATIC_NAT) + 1
        self.filter_rules = self._counts[1] + len(_STATIC_FILTER)

    def _edits(self, changed: Iterable[str]) -> _Edits:
        """What the changed Services alter: their own chains whole, and their lines in
        the shared chains as deletions (``-D`` by rule) and additions (``-I
        KUBE-SERVICES 1``, so the node-ports jump stays last; ``-A`` elsewhere)."""
        edits = _Edits()
        for key in sorted(set(changed)):
            old, new = self.before.get(key), self.rendered.get(key)
            if new is not None:
                if new.text["declare"]:
                    edits.declare.append(new.text["declare"])
                if new.text["chains"]:
                    edits.own.append(new.text["chains"])
                edits.own_chains |= set(new.chains)
            for part, table in (("services", "nat"), ("nodeports", "nat"), ("filter", "filter")):
                before = getattr(old, part) if old is not None else []
                after = getattr(new, part) if new is not None else []
                kept = set(before) & set(after)
                for line in before:
                    if line not in kept:
                        edits.shared(table, line).deletes.append("-D " + line[3:])
                for line in after:
                    if line in kept:
                        continue
                    chain, _, rest = line[3:].partition(" ")
                    add = f"-I {chain} 1 {rest}" if part == "services" else line
                    edits.shared(table, line).adds.append(add)
        return edits

    def incremental_input(self, changed: Iterable[str], stale: Iterable[str]) -> str:
        """A partial sync that leaves the shared chains in place: only what ``_edits``
        lists, and the stale chains deleted. Its cost follows the change, not the
        number of Services."""
        self._totals()
        return self._edits(changed).text(sorted(set(stale)))

    def expected_chains(self, previous: Iterable[str] = ()) -> dict[str, dict[str, list[str]]]:
        """table -> chain -> the rules (``-A`` lines) it should hold, in order; with the
        ``previous`` Services as they were before the last ``update``."""
        rendered = dict(self.rendered)
        for key in previous:
            old = self.before.get(key)
            if old is None:
                rendered.pop(key, None)
            else:
                rendered[key] = old
        nat: dict[str, list[str]] = {name: [] for name in NAT_CHAINS}
        filt: dict[str, list[str]] = {name: [] for name in FILTER_CHAINS}
        for line in _STATIC_NAT:
            nat[line.split(" ", 2)[1]].append(line)
        for line in _STATIC_FILTER:
            filt[line.split(" ", 2)[1]].append(line)
        for key in sorted(rendered):
            r = rendered[key]
            nat["KUBE-SERVICES"] += r.services
            nat["KUBE-NODEPORTS"] += r.nodeports
            for line in r.filter:
                filt[line.split(" ", 2)[1]].append(line)
            for chain, lines in r.chains.items():
                nat[chain] = lines
        nat["KUBE-SERVICES"].append(_NODEPORTS_JUMP)
        return {"nat": nat, "filter": filt}

    def repair_input(
        self,
        saved: Mapping[str, Mapping[str, list[str]]],
        missing_jumps: Iterable[tuple[str, str, str]],
        changed: Iterable[str] = (),
    ) -> str | None:
        """A periodic full resync as a repair, with the ``changed`` Services' edits.
        The kernel's chains (``saved``, from iptables-save) are compared with what they
        should hold before those edits, in rule count and jump targets (iptables-save
        prints matches in its own order, so whole rules are not compared); a chain that
        differs is rewritten whole with its new rules (and the edits to it dropped), the
        others only get the edits. Leftover service chains are deleted, missing jumps
        restored. None when there is nothing to write."""
        changed = set(changed)
        edits = self._edits(changed)
        before = self.expected_chains(previous=changed)
        after = self.expected_chains()
        declare: dict[str, list[str]] = {"filter": [], "nat": []}
        rules: dict[str, list[str]] = {"filter": [], "nat": []}
        for table in ("filter", "nat"):
            have = saved.get(table, {})
            for chain, lines in before[table].items():
                if chain in edits.own_chains or chain not in after[table]:
                    continue  # rewritten as a changed Service's, or deleted as stale
                if chain in have and _same_rules(chain, lines, have[chain]):
                    continue
                declare[table].append(f":{chain} - [0:0]")
                rules[table] += after[table][chain]
                edits.drop_shared(table, chain)
        stale = sorted(
            c
            for c in saved.get("nat", {})
            if c.startswith(SERVICE_CHAIN_PREFIXES) and c not in after["nat"]
        )
        jumps = list(missing_jumps)
        if not (edits.any() or stale or jumps or declare["filter"] or declare["nat"]):
            return None
        self._totals()
        return edits.text(stale, jumps, declare, rules)


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


def parse_save(text: str) -> tuple[dict[str, set[str]], set[tuple[str, str, str]]]:
    """From ``iptables-save`` output: the chains of each table, and the rules present
    as (table, chain, spec)."""
    chains: dict[str, set[str]] = {}
    rules: set[tuple[str, str, str]] = set()
    table = ""
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
            chains.setdefault(table, set())
        elif line.startswith(":"):
            chains.setdefault(table, set()).add(line[1:].split(" ", 1)[0])
        elif line.startswith("-A "):
            _, chain, spec = line.split(" ", 2)
            rules.add((table, chain, spec))
    return chains, rules


class IptablesBackend:
    mode = "iptables"

    def __init__(self, *, cluster_cidr: str | None, masquerade_all: bool = False) -> None:
        self.renderer = IptablesRenderer(cluster_cidr=cluster_cidr, masquerade_all=masquerade_all)

    async def sync(
        self, states: Mapping[str, tuple[ServicePortState, ...]], changed: set[str], kind: SyncKind
    ) -> SyncResult:
        """``partial``: the changed Services only; ``repair``: also whatever differs in
        the kernel; ``rewrite``: everything, leftovers removed, jumps restored."""
        r = self.renderer
        stale = r.update(states, changed)
        text: str | None
        if kind == "partial":
            text = r.incremental_input(changed, stale)
        else:
            saved = await run(["iptables-save"])
            chains, rules = parse_save(saved)
            missing = [
                jump
                for jump in JUMPS
                if jump not in rules or jump[1] not in chains.get(jump[0], set())
            ]
            if kind == "repair":
                text = r.repair_input(parse_chains(saved), missing, changed)
            else:
                existing = {
                    c for c in chains.get("nat", set()) if c.startswith(SERVICE_CHAIN_PREFIXES)
                }
                text = r.restore_input(r.rendered.keys(), existing - r.all_chains(), missing)
        if text is not None:
            await run(["iptables-restore", "-w", "5", "--noflush"], text)
        return SyncResult({"nat": r.nat_rules, "filter": r.filter_rules})

    def local_addresses(self, states: Mapping[str, tuple[ServicePortState, ...]]) -> set[str]:
        return load_balancer_addresses(states)

    async def cleanup(self) -> None:
        await cleanup_iptables()


async def cleanup_iptables() -> bool:
    """Remove every KUBE-* chain and the jumps to them; True if anything was there."""
    try:
        saved = await run(["iptables-save"])
    except (CommandError, FileNotFoundError):
        return False
    chains, rules = parse_save(saved)
    lines: list[str] = []
    found = False
    for table in ("filter", "nat"):
        known = NAT_CHAINS if table == "nat" else FILTER_CHAINS
        ours = sorted(
            c
            for c in chains.get(table, set())
            if c in known or c.startswith(SERVICE_CHAIN_PREFIXES)
        )
        jumps = [
            (chain, spec)
            for t, chain, spec in sorted(rules)
            if t == table and chain not in ours and spec.split(" -j ")[-1].split(" ")[0] in ours
        ]
        if not ours and not jumps:
            continue
        found = True
        lines.append(f"*{table}")
        lines += [f":{chain} - [0:0]" for chain in ours]
        lines += [f"-D {chain} {spec}" for chain, spec in jumps]
        lines += [f"-X {chain}" for chain in ours]
        lines.append("COMMIT")
    if found:
        await run(["iptables-restore", "-w", "5", "--noflush"], "\n".join(lines) + "\n")
    return found
