"""``--proxy-mode nftables``: ``table ip kube-proxy`` with sets and verdict maps.

The layout follows Kubernetes' nftables proxier (``pkg/proxy/nftables/proxier.go``):

- maps ``service-ips`` (``ip . proto . port`` of ClusterIPs, external and
  load-balancer IPs -> ``goto`` the service's chain), ``service-nodeports``
  (``proto . port`` -> its ``external-`` chain), ``no-endpoint-services`` and
  ``no-endpoint-nodeports`` (-> ``reject-chain`` when a Service has no endpoints,
  ``drop`` when it has no local ones), ``firewall-ips`` (load-balancer IPs with
  ``loadBalancerSourceRanges`` -> ``firewall-`` chains); set ``cluster-ips``.
- base chains: ``nat-prerouting``/``nat-output`` jump to ``services`` (one map lookup
  for the IPs, one for node ports on local addresses); ``nat-postrouting`` jumps to
  ``masquerading`` (mark 0x4000); ``filter-*`` chains at priority -110 look up
  ``no-endpoint-*`` and ``firewall-ips`` for new connections, and
  ``filter-output-post-dnat`` rejects connections to ClusterIP ports nobody serves.
- per service port ``service-<hash>-<ns>/<name>/<proto>/<port>`` (Cluster policy),
  ``local-...`` (Local policy), ``external-...``, ``firewall-...``; per endpoint
  ``endpoint-...__<ip>/<port>`` (hairpin masquerade, DNAT) and, with ClientIP
  affinity, a dynamic set ``affinity-...`` with the timeout, checked first in the
  service chain and refreshed by the endpoint chain. Balancing is ``numgen random mod
  n vmap {...}``.

A sync is one ``nft -f`` transaction. A full sync declares everything, flushes the
maps and every chain it writes, re-adds all rules and elements, and deletes chains and
sets no Service uses any more (found with ``nft list``). A partial sync rewrites only
the chains of the Services that changed and swaps their map elements. Affinity sets
are never flushed, so client stickiness survives resyncs.
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
from kubeproxy.routeplan import plan
from kubeproxy.servicemap import EndpointInfo, ServicePort, ServicePortState

log = logging.getLogger(__name__)

TABLE = "ip kube-proxy"
MASQ_MARK = "0x4000"

_MAPS = (
    ("service-ips", "ipv4_addr . inet_proto . inet_service : verdict"),
    ("service-nodeports", "inet_proto . inet_service : verdict"),
    ("no-endpoint-services", "ipv4_addr . inet_proto . inet_service : verdict"),
    ("no-endpoint-nodeports", "inet_proto . inet_service : verdict"),
    ("firewall-ips", "ipv4_addr . inet_proto . inet_service : verdict"),
)
_LOCAL_DST = "fib daddr type local ip daddr != 127.0.0.0/8"

# (chain, hook declaration or "", rules)
_STATIC: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("filter-prerouting", "type filter hook prerouting priority -110 ;", ("ct state new jump firewall-check",)),
    ("filter-input", "type filter hook input priority -110 ;",
     ("ct state new jump nodeport-endpoints-check", "ct state new jump service-endpoints-check")),
    ("filter-forward", "type filter hook forward priority -110 ;",
     ("ct state new jump service-endpoints-check", "ct state new jump cluster-ips-check")),
    ("filter-output", "type filter hook output priority -110 ;",
     ("ct state new jump service-endpoints-check", "ct state new jump firewall-check")),
    ("filter-output-post-dnat", "type filter hook output priority -90 ;",
     ("ct state new jump cluster-ips-check",)),
    ("nat-prerouting", "type nat hook prerouting priority -100 ;", ("jump services",)),
    ("nat-output", "type nat hook output priority -100 ;", ("jump services",)),
    ("nat-postrouting", "type nat hook postrouting priority 100 ;", ("jump masquerading",)),
    ("services", "", (
        "ip daddr . meta l4proto . th dport vmap @service-ips",
        f"{_LOCAL_DST} meta l4proto . th dport vmap @service-nodeports",
    )),
    ("service-endpoints-check", "", ("ip daddr . meta l4proto . th dport vmap @no-endpoint-services",)),
    ("nodeport-endpoints-check", "", (f"{_LOCAL_DST} meta l4proto . th dport vmap @no-endpoint-nodeports",)),
    ("firewall-check", "", ("ip daddr . meta l4proto . th dport vmap @firewall-ips",)),
    ("cluster-ips-check", "", ('ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',)),
    ("mark-for-masquerade", "", (f"meta mark set meta mark | {MASQ_MARK}",)),
    ("masquerading", "", (
        f"meta mark & {MASQ_MARK} == 0 return",
        f"meta mark set meta mark ^ {MASQ_MARK}",
        "masquerade fully-random",
    )),
    ("reject-chain", "", ("reject",)),
)  # fmt: skip
STATIC_CHAINS = frozenset(name for name, _, _ in _STATIC)
STATIC_RULES = sum(len(rules) for _, _, rules in _STATIC)


@functools.lru_cache(maxsize=1 << 16)
def _hash(text: str) -> str:
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:8]


def chain_base(port: ServicePort) -> str:
    n = port.name
    proto = port.protocol.lower()
    return f"{_hash(str(n) + proto)}-{n.namespace}/{n.name}/{proto}/{n.port}"


def endpoint_base(port: ServicePort, ep: EndpointInfo) -> str:
    n = port.name
    proto = port.protocol.lower()
    return f"{_hash(str(n) + proto + str(ep))}-{n.namespace}/{n.name}/{proto}/{n.port}__{ep.ip}/{ep.port}"


@dataclass
class RenderedService:
    chains: dict[str, list[str]] = field(default_factory=dict)
    """Chain -> rules (without the ``add rule ip kube-proxy CHAIN`` prefix)."""
    elements: list[tuple[str, str, str]] = field(default_factory=list)
    """(map, key, verdict); verdict "" for set elements."""
    affinity_sets: dict[str, int] = field(default_factory=dict)
    """Set -> timeout seconds."""
    write_text: str = ""
    """Its sets, chains and rules as ``nft -f`` lines (``finish``)."""
    elements_text: str = ""
    objects: int = 0

    def finish(self) -> RenderedService:
        lines = [
            f"add set {TABLE} {name} {{ type ipv4_addr ; flags dynamic,timeout ; timeout {t}s ; }}"
            for name, t in self.affinity_sets.items()
        ]
        # Every chain exists before a rule jumps to it.
        lines += [f"add chain {TABLE} {chain}" for chain in self.chains]
        for chain, rules in self.chains.items():
            lines.append(f"flush chain {TABLE} {chain}")
            lines += [f"add rule {TABLE} {chain} {rule}" for rule in rules]
        self.write_text = "\n".join(lines)
        self.elements_text = "\n".join(
            f"add element {TABLE} {m} {_element(m, k, v)}" for m, k, v in self.elements
        )
        self.objects = sum(len(v) for v in self.chains.values()) + len(self.elements)
        return self


def render_service(
    ports: Iterable[ServicePortState], *, cluster_cidr: str | None, masquerade_all: bool = False
) -> RenderedService:
    out = RenderedService()
    seen_ips: set[str] = set()
    for state in ports:
        _render_port(state.port, state.endpoints, out, cluster_cidr, masquerade_all)
        if state.port.cluster_ip not in seen_ips:
            seen_ips.add(state.port.cluster_ip)
            out.elements.append(("cluster-ips", state.port.cluster_ip, ""))
    return out.finish()


def _render_port(
    svc: ServicePort,
    endpoints: tuple[EndpointInfo, ...],
    out: RenderedService,
    cluster_cidr: str | None,
    masquerade_all: bool,
) -> None:
    proto = svc.protocol.lower()
    base = chain_base(svc)
    cluster_chain, local_chain = f"service-{base}", f"local-{base}"
    ext_chain, fw_chain = f"external-{base}", f"firewall-{base}"
    route = plan(svc, endpoints)
    internal_chain = route.internal.pick(cluster_chain, local_chain)
    external_policy_chain = route.external.pick(cluster_chain, local_chain)
    no_internal = no_external = "goto reject-chain" if route.refuse_rejects else "drop"

    key = f"{svc.cluster_ip} . {proto} . {svc.port}"
    if route.has_internal:
        out.elements.append(("service-ips", key, f"goto {internal_chain}"))
    else:
        out.elements.append(("no-endpoint-services", key, no_internal))
    for ip in (*svc.external_ips, *svc.load_balancer_ips):
        ext_key = f"{ip} . {proto} . {svc.port}"
        if route.has_endpoints:
            out.elements.append(("service-ips", ext_key, f"goto {ext_chain}"))
        if not route.has_external:
            out.elements.append(("no-endpoint-services", ext_key, no_external))
    if route.uses_fw_chain:
        for ip in svc.load_balancer_ips:
            out.elements.append(
                ("firewall-ips", f"{ip} . {proto} . {svc.port}", f"goto {fw_chain}")
            )
        ranges = ", ".join(svc.source_ranges)
        out.chains[fw_chain] = [f"ip saddr != {{ {ranges} }} drop"]
    if svc.node_port:
        np_key = f"{proto} . {svc.node_port}"
        if route.has_endpoints:
            out.elements.append(("service-nodeports", np_key, f"goto {ext_chain}"))
        if not route.has_external:
            out.elements.append(("no-endpoint-nodeports", np_key, no_external))

    if route.uses_ext_chain:
        lines = out.chains[ext_chain] = []
        if not svc.external_policy_local:
            lines.append("jump mark-for-masquerade")
        else:
            if cluster_cidr:
                lines.append(f"ip saddr {cluster_cidr} goto {cluster_chain}")
            lines.append("fib saddr type local jump mark-for-masquerade")
            lines.append(f"fib saddr type local goto {cluster_chain}")
        if route.has_external:
            lines.append(f"goto {external_policy_chain}")
    if route.uses_cluster_chain:
        lines = out.chains[cluster_chain] = []
        match = f"ip daddr {svc.cluster_ip} {proto} dport {svc.port}"
        if masquerade_all:
            lines.append(f"{match} jump mark-for-masquerade")
        elif cluster_cidr:
            lines.append(f"{match} ip saddr != {cluster_cidr} jump mark-for-masquerade")
        _to_endpoints(svc, route.endpoints.cluster, lines, out)
    if route.uses_local_chain:
        lines = out.chains[local_chain] = []
        _to_endpoints(svc, route.endpoints.local, lines, out)
    for ep in route.endpoints.reachable:
        ep_base = endpoint_base(svc, ep)
        lines = out.chains[f"endpoint-{ep_base}"] = [f"ip saddr {ep.ip} jump mark-for-masquerade"]
        if svc.affinity_timeout:
            affinity = f"affinity-{ep_base}"
            out.affinity_sets[affinity] = svc.affinity_timeout
            lines.append(f"update @{affinity} {{ ip saddr }}")
        lines.append(f"meta l4proto {proto} dnat to {ep}")


def _to_endpoints(
    svc: ServicePort, endpoints: tuple[EndpointInfo, ...], lines: list[str], out: RenderedService
) -> None:
    targets = [f"endpoint-{endpoint_base(svc, ep)}" for ep in endpoints]
    if svc.affinity_timeout:
        for ep, target in zip(endpoints, targets, strict=True):
            lines.append(f"ip saddr @affinity-{endpoint_base(svc, ep)} goto {target}")
    vmap = " , ".join(f"{i} : goto {t}" for i, t in enumerate(targets))
    lines.append(f"numgen random mod {len(targets)} vmap {{ {vmap} }}")


def _element(name: str, key: str, verdict: str) -> str:
    return f"{{ {key} : {verdict} }}" if verdict else f"{{ {key} }}"


@dataclass
class NftablesRenderer:
    cluster_cidr: str | None = "10.244.0.0/16"
    masquerade_all: bool = False
    rendered: dict[str, RenderedService] = field(default_factory=dict)
    objects: int = 0
    dropped: set[str] = field(default_factory=set)
    """Chains and sets the last ``partial`` deletes."""

    def _render(self, state: tuple[ServicePortState, ...]) -> RenderedService:
        return render_service(
            state, cluster_cidr=self.cluster_cidr, masquerade_all=self.masquerade_all
        )

    def _update(
        self, states: Mapping[str, tuple[ServicePortState, ...]], key: str
    ) -> tuple[RenderedService | None, RenderedService | None]:
        before = self.rendered.pop(key, None)
        state = states.get(key)
        after = self._render(state) if state else None
        if after is not None:
            self.rendered[key] = after
            self.objects += after.objects
        if before is not None:
            self.objects -= before.objects
        return before, after

    def full(
        self,
        states: Mapping[str, tuple[ServicePortState, ...]],
        changed: Iterable[str],
        existing_chains: set[str],
        existing_sets: set[str],
    ) -> str:
        """Everything (the ``changed`` Services re-rendered; affinity sets kept),
        leftovers deleted."""
        for key in changed:
            self._update(states, key)
        out = [f'add table {TABLE} {{ comment "rules for kube-proxy" ; }}']
        for name, hook, _ in _STATIC:
            out.append(
                f"add chain {TABLE} {name} {{ {hook} }}" if hook else f"add chain {TABLE} {name}"
            )
        for name, kind in _MAPS:
            out.append(f"add map {TABLE} {name} {{ type {kind} ; }}")
            out.append(f"flush map {TABLE} {name}")
        out.append(f"add set {TABLE} cluster-ips {{ type ipv4_addr ; }}")
        out.append(f"flush set {TABLE} cluster-ips")
        for name, _, rules in _STATIC:
            out.append(f"flush chain {TABLE} {name}")
            out += [f"add rule {TABLE} {name} {rule}" for rule in rules]
        wanted_chains = {c for r in self.rendered.values() for c in r.chains}
        wanted_sets = {s for r in self.rendered.values() for s in r.affinity_sets}
        stale_chains = existing_chains - wanted_chains - STATIC_CHAINS
        stale_sets = {s for s in existing_sets - wanted_sets if s.startswith("affinity-")}
        out += [f"flush chain {TABLE} {c}" for c in sorted(stale_chains)]
        for r in self.rendered.values():
            out += [text for text in (r.write_text, r.elements_text) if text]
        out += [f"delete chain {TABLE} {c}" for c in sorted(stale_chains)]
        out += [f"delete set {TABLE} {s}" for s in sorted(stale_sets)]
        return "\n".join(out) + "\n"

    def partial(
        self, states: Mapping[str, tuple[ServicePortState, ...]], keys: Iterable[str]
    ) -> str:
        """Only the Services in ``keys``: their chains rewritten, elements swapped."""
        flush: list[str] = []
        write: list[str] = []
        deletes: list[str] = []
        adds: list[str] = []
        drop: list[str] = []
        self.dropped = set()
        for key in sorted(set(keys)):
            before, after = self._update(states, key)
            if after is not None and after.write_text:
                write.append(after.write_text)
            old_elements = set(before.elements) if before else set()
            new_elements = set(after.elements) if after else set()
            deletes += [
                f"delete element {TABLE} {m} {_element(m, k, '')}"
                for m, k, v in sorted(old_elements - new_elements)
            ]
            adds += [
                f"add element {TABLE} {m} {_element(m, k, v)}"
                for m, k, v in (after.elements if after else [])
                if (m, k, v) not in old_elements
            ]
            if before is not None:
                gone = set(before.chains) - set(after.chains if after else ())
                flush += [f"flush chain {TABLE} {c}" for c in sorted(gone)]
                drop += [f"delete chain {TABLE} {c}" for c in sorted(gone)]
                gone_sets = set(before.affinity_sets) - set(after.affinity_sets if after else ())
                drop += [f"delete set {TABLE} {s}" for s in sorted(gone_sets)]
                self.dropped |= gone | gone_sets
        # Deletions of elements before additions: a key may move from one Service to
        # another in the same sync.
        return "\n".join(flush + write + deletes + adds + drop) + "\n"

    def repair(
        self,
        states: Mapping[str, tuple[ServicePortState, ...]],
        changed: Iterable[str],
        chains: set[str],
        sets: set[str],
        maps: set[str],
    ) -> str | None:
        """A periodic full resync as a repair: the changed Services as in ``partial``,
        plus every Service whose chains or affinity sets are missing from the kernel
        (``chains``, ``sets``, ``maps``: what ``nft list`` shows), leftovers deleted.
        The table is kube-proxy's alone, so this checks that its objects exist, not each
        rule. Returns None when the table itself is damaged (a base chain or map is
        missing): then only a rewrite will do."""
        if (
            not chains >= STATIC_CHAINS
            or not {m for m, _ in _MAPS} <= maps
            or "cluster-ips" not in sets
        ):
            return None
        changed = set(changed)
        out = [self.partial(states, changed).rstrip("\n")]
        for key, r in self.rendered.items():
            if key in changed:
                continue
            if not set(r.chains) <= chains or not set(r.affinity_sets) <= sets:
                out += [text for text in (r.write_text, r.elements_text) if text]
        wanted_chains = {c for r in self.rendered.values() for c in r.chains}
        wanted_sets = {s for r in self.rendered.values() for s in r.affinity_sets}
        stale_chains = sorted(chains - wanted_chains - STATIC_CHAINS - self.dropped)
        stale_sets = sorted(
            s for s in sets - wanted_sets - self.dropped if s.startswith("affinity-")
        )
        out = [f"flush chain {TABLE} {c}" for c in stale_chains] + out
        out += [f"delete chain {TABLE} {c}" for c in stale_chains]
        out += [f"delete set {TABLE} {s}" for s in stale_sets]
        text = "\n".join(line for line in out if line)
        return text + "\n" if text else ""


def parse_listing(text: str, kind: str) -> set[str]:
    """Names of ``kind`` (``chain``/``set``) inside ``table ip kube-proxy`` of an
    ``nft list`` output."""
    names: set[str] = set()
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("table "):
            inside = line.startswith("table ip kube-proxy ")
        elif inside and line.startswith(f"{kind} ") and line.endswith("{"):
            names.add(line[len(kind) + 1 : -1].strip())
    return names


class NftablesBackend:
    mode = "nftables"

    def __init__(self, *, cluster_cidr: str | None, masquerade_all: bool = False) -> None:
        self.renderer = NftablesRenderer(cluster_cidr=cluster_cidr, masquerade_all=masquerade_all)

    async def sync(
        self, states: Mapping[str, tuple[ServicePortState, ...]], changed: set[str], kind: SyncKind
    ) -> SyncResult:
        """``partial``: the changed Services only; ``repair``: also the Services whose
        objects are missing, leftovers deleted; ``rewrite``: everything."""
        r = self.renderer
        text: str | None = None
        if kind == "partial":
            text = r.partial(states, changed)
        else:
            chains = parse_listing(await run(["nft", "list", "chains", "ip"]), "chain")
            sets = parse_listing(await run(["nft", "-t", "list", "sets", "ip"]), "set")
            if kind == "repair":
                maps = parse_listing(await run(["nft", "-t", "list", "maps", "ip"]), "map")
                text = r.repair(states, changed, chains, sets, maps)
            if text is None:
                text = r.full(states, changed, chains, sets)
        if text.strip():
            await run(["nft", "-f", "-"], text)
        return SyncResult({"nftables": r.objects + STATIC_RULES})

    def local_addresses(self, states: Mapping[str, tuple[ServicePortState, ...]]) -> set[str]:
        return load_balancer_addresses(states)

    async def cleanup(self) -> None:
        await cleanup_nftables()


async def cleanup_nftables() -> bool:
    """Delete ``table ip kube-proxy``; True if it was there."""
    try:
        listing = await run(["nft", "list", "tables", "ip"])
    except (CommandError, FileNotFoundError):
        return False
    if "table ip kube-proxy" not in listing:
        return False
    await run(["nft", "delete", "table", "ip", "kube-proxy"])
    return True
