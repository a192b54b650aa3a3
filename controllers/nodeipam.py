"""Node IPAM: give every Node a pod CIDR of its own (``spec.podCIDR``/``podCIDRs``).

Kubernetes' range allocator (``pkg/controller/nodeipam/ipam/range_allocator.go``), on
with ``--allocate-node-cidrs``: the cluster CIDR (``--cluster-cidr``, one per IP
family) is cut into blocks of ``--node-cidr-mask-size`` (``/24``, IPv6 ``/64``) and
each Node without a podCIDR is patched with the next free block. A deleted Node's block
is released. The allocation is not stored anywhere but in the Nodes: at start, and
whenever this process becomes the leader, it is rebuilt from every Node's podCIDRs
before anything is allocated, so neither a restart nor a second controller-manager
(leader election: one acts at a time) can hand one block to two Nodes.

Blocks go round-robin (the one after the last allocated, as Kubernetes' ``cidrset``),
so a block a deleted Node just gave back is handed out again as late as possible:
routes and addresses that still name it have time to go. Blocks inside the service
range (``--service-cluster-ip-range``) are never allocated.

When no block is left the Node gets a Warning Event ``CIDRNotAvailable``, the
condition ``NetworkUnavailable=True`` (reason ``CIDRNotAvailable``, so its node gets
the ``network-unavailable`` taint) and an error in the log; it gets a block as soon as
one is released, and the condition becomes ``False`` (reason ``CIDRAssigned``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
from dataclasses import dataclass, field

from apiclient import WARNING, Informer, errors
from apitypes.base import format_time
from apitypes.core import ConditionStatus, Node, NodeConditionType
from controllers.base import Controller, ControllerContext, Options

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

CIDR_NOT_AVAILABLE = "CIDRNotAvailable"
CIDR_ASSIGNED = "CIDRAssigned"
NO_CIDR_RETRY = 30.0
"""Seconds before a Node that found no free block looks again (a release wakes it
sooner)."""
MAX_MASK_DIFF = 16
"""At most 2**16 blocks in one cluster CIDR (Kubernetes' limit, for its bitmap)."""


class CIDRExhaustedError(Exception):
    """No block of the cluster CIDR is free."""


class CidrSet:
    """The blocks of one size (``/node_mask``) in a cluster CIDR, and which are in use.

    ``allocate_next`` takes the first free block from the one after the last it handed
    out (wrapping around); ``occupy`` and ``release`` take any CIDR that overlaps the
    cluster CIDR and mark every block it covers (a CIDR smaller than a block marks the
    block that holds it).
    """

    def __init__(self, cluster_cidr: str, node_mask: int) -> None:
        self.cluster: Network = ipaddress.ip_network(cluster_cidr, strict=True)
        self.node_mask = node_mask
        diff = node_mask - self.cluster.prefixlen
        if diff < 0 or node_mask > self.cluster.max_prefixlen:
            raise ValueError(
                f"node CIDR mask size {node_mask} does not fit in cluster CIDR {self.cluster}"
            )
        if diff > MAX_MASK_DIFF:
            raise ValueError(
                f"node CIDR mask size {node_mask} cuts {self.cluster} into more than "
                f"2^{MAX_MASK_DIFF} blocks"
            )
        self.size = 1 << diff
        self._shift = self.cluster.max_prefixlen - node_mask
        self._used: set[int] = set()
        self._next = 0

    @property
    def allocated(self) -> int:
        return len(self._used)

    def block(self, index: int) -> Network:
        base = int(self.cluster.network_address) + (index << self._shift)
        return ipaddress.ip_network((base, self.node_mask))

    def _range(self, cidr: Network) -> range:
        if cidr.version != self.cluster.version or not cidr.overlaps(self.cluster):
            raise ValueError(f"{cidr} is outside the cluster CIDR {self.cluster}")
        if cidr.prefixlen <= self.cluster.prefixlen:
            return range(self.size)  # it holds the whole cluster CIDR
        offset = int(cidr.network_address) - int(self.cluster.network_address)
        first = offset >> self._shift
        last = (offset + cidr.num_addresses - 1) >> self._shift
        return range(first, last + 1)

    def allocate_next(self) -> Network:
        if len(self._used) >= self.size:
            raise CIDRExhaustedError(
                f"all {self.size} /{self.node_mask} blocks of {self.cluster} are allocated"
            )
        index = self._next
        while index in self._used:
            index = (index + 1) % self.size
        self._used.add(index)
        self._next = (index + 1) % self.size
        return self.block(index)

    def occupy(self, cidr: Network) -> None:
        self._used.update(self._range(cidr))

    def release(self, cidr: Network) -> None:
        self._used.difference_update(self._range(cidr))

    def is_free(self, cidr: Network) -> bool:
        return not any(i in self._used for i in self._range(cidr))


def parse_cidrs(text: str) -> list[Network]:
    """``--cluster-cidr``: one CIDR, or one per IP family separated by a comma."""
    found = [ipaddress.ip_network(part.strip(), strict=True) for part in text.split(",")]
    if not found or len(found) > 2 or len({c.version for c in found}) != len(found):
        raise ValueError(f"{text!r}: give one CIDR, or one IPv4 and one IPv6 CIDR")
    return found


def check_options(opts: Options) -> list[CidrSet]:
    """The block sets ``opts`` describe; ValueError naming the flag that is wrong."""
    if not opts.cluster_cidr:
        raise ValueError("--allocate-node-cidrs needs --cluster-cidr")
    try:
        services = (
            parse_cidrs(opts.service_cluster_ip_range) if opts.service_cluster_ip_range else []
        )
    except ValueError as err:
        raise ValueError(f"--service-cluster-ip-range: {err}") from err
    sets = []
    try:
        for cluster in parse_cidrs(opts.cluster_cidr):
            v4 = cluster.version == 4
            cidr_set = CidrSet(
                str(cluster), opts.node_cidr_mask_size if v4 else opts.node_cidr_mask_size_ipv6
            )
            for service in services:
                if service.version == cluster.version and service.overlaps(cluster):
                    cidr_set.occupy(service)  # never a node's
            sets.append(cidr_set)
    except ValueError as err:
        raise ValueError(f"--cluster-cidr: {err}") from err
    return sets


@dataclass
class Holding:
    """The blocks this controller counts as a Node's (by the Node's uid)."""

    uid: str
    cidrs: list[Network]
    patched: bool = field(default=True)
    """False while our patch for a fresh allocation has not been confirmed."""


CIDR_UPDATE_WORKERS = 4
"""Nodes patched at once (allocation itself is one step, never interleaved)."""


class NodeIpamController(Controller):
    name = "node-ipam-controller"
    service_account = "node-controller"
    aliases = ("nodeipam",)

    @classmethod
    def workers_for(cls, options: Options) -> int:
        return CIDR_UPDATE_WORKERS

    def __init__(self, ctx: ControllerContext, workers: int = 1) -> None:
        super().__init__(ctx, workers)
        self.enabled = self.options.allocate_node_cidrs
        self.sets: list[CidrSet] = []
        self.holdings: dict[str, Holding] = {}
        self.owners: dict[Network, str] = {}
        if not self.enabled:
            return
        self.sets = check_options(self.options)
        self.nodes: Informer[Node] = self.factory.informer(Node)
        self.nodes.add_handler(self._added, self._updated, self._deleted)

    # --- handlers: keys only ------------------------------------------------------------

    def _added(self, node: Node) -> None:
        self.enqueue(node)

    def _updated(self, old: Node, new: Node) -> None:
        cidrs = new.pod_cidrs()
        if not cidrs or cidrs != old.pod_cidrs() or old.metadata.uid != new.metadata.uid:
            self.enqueue(new)

    def _deleted(self, node: Node) -> None:
        self.enqueue(node)

    # --- the loop -------------------------------------------------------------------------

    async def run(self) -> None:
        if not self.enabled:
            log.info("node IPAM is off (no --allocate-node-cidrs)")
            return
        self.rebuild()
        await super().run()

    def rebuild(self) -> None:
        """Count every Node's blocks as used, before the first allocation."""
        for node in self.nodes.store.objects():
            texts = node.pod_cidrs()
            if texts:
                self._adopt(node, texts)
        log.info(
            "node IPAM: %s; %d nodes hold a block",
            ", ".join(f"{s.allocated}/{s.size} of {s.cluster} in use" for s in self.sets),
            len(self.holdings),
        )

    def _adopt(self, node: Node, texts: list[str]) -> bool:
        """Record ``node``'s own podCIDRs as its blocks; False if they do not fit."""
        name = node.metadata.name or ""
        try:
            cidrs = [ipaddress.ip_network(c, strict=False) for c in texts]
            pairs = [(self._set_for(c), c) for c in cidrs]
        except ValueError as err:
            log.error("node %s has podCIDRs %s that cannot be counted: %s", name, texts, err)
            self.recorder.event(node, WARNING, "CIDRNotInClusterCIDR", str(err))
            return False
        held = self.holdings.get(name)
        if held is not None and held.cidrs != cidrs:
            self._release(name, held)
        for cidr_set, cidr in pairs:
            owner = self.owners.get(cidr)
            if owner is not None and owner != name:
                message = f"podCIDR {cidr} of node {name} is also node {owner}'s"
                log.error("%s", message)
                self.recorder.event(node, WARNING, "CIDRConflict", message)
            cidr_set.occupy(cidr)
            self.owners[cidr] = name
        self.holdings[name] = Holding(node.metadata.uid or "", cidrs)
        return True

    def _set_for(self, cidr: Network) -> CidrSet:
        for cidr_set in self.sets:
            if cidr_set.cluster.version == cidr.version and cidr_set.cluster.overlaps(cidr):
                return cidr_set
        raise ValueError(f"{cidr} is in no cluster CIDR ({self.options.cluster_cidr})")

    def _release(self, name: str, held: Holding) -> None:
        self.holdings.pop(name, None)
        for cidr in held.cidrs:
            if self.owners.get(cidr) != name:
                continue  # another Node's too (a conflict): theirs now
            del self.owners[cidr]
            other = next((n for n, h in self.holdings.items() if cidr in h.cidrs), None)
            if other is not None:
                self.owners[cidr] = other  # the other side of a conflict keeps it
                continue
            for cidr_set in self.sets:
                if cidr_set.cluster.version == cidr.version and cidr_set.cluster.overlaps(cidr):
                    cidr_set.release(cidr)
        # A Node that found nothing free may find this now.
        for node in self.nodes.store.objects():
            if not node.pod_cidrs():
                self.enqueue(node)

    async def reconcile(self, key: str) -> float | None:
        node = self.nodes.store.get(key)
        held = self.holdings.get(key)
        if node is None:
            if held is not None:
                log.info("node %s is gone: released %s", key, _text(held.cidrs))
                self._release(key, held)
            return None
        uid = node.metadata.uid or ""
        if held is not None and held.uid != uid:
            self._release(key, held)  # an older Node of that name
            held = None
        texts = node.pod_cidrs()
        if texts:
            if held is None or [str(c) for c in held.cidrs] != texts or not held.patched:
                self._adopt(node, texts)
            await self._clear_condition(node)
            return None
        if held is not None and held.patched:
            return None  # our patch is in; the cache has not shown it yet
        if held is None:
            cidrs: list[Network] = []
            try:
                for cidr_set in self.sets:
                    cidrs.append(cidr_set.allocate_next())
            except CIDRExhaustedError as err:
                # All families or none: give back what the others had room for.
                for cidr_set, cidr in zip(self.sets, cidrs, strict=False):
                    cidr_set.release(cidr)
                await self._no_cidr(node, str(err))
                return NO_CIDR_RETRY
            held = Holding(uid, cidrs, patched=False)
            self.holdings[key] = held
            for cidr in cidrs:
                self.owners[cidr] = key
        await self._patch(node, held)
        return None

    async def _patch(self, node: Node, held: Holding) -> None:
        name = node.metadata.name or ""
        texts = _text(held.cidrs)
        body = {"spec": {"podCIDR": texts[0], "podCIDRs": texts}}
        try:
            await self.client.patch(Node, name, body, patch_type="merge")
        except errors.NotFoundError:
            self._release(name, held)
            return
        except errors.InvalidError:
            # Someone set the Node's podCIDR first (it may be set only once): keep ours
            # free and count theirs when the watch brings it.
            log.info("node %s got a podCIDR from someone else; %s stays free", name, texts)
            self._release(name, held)
            raise
        except (errors.ServerTimeoutError, errors.ConnectionFailedError):
            raise  # it may have landed: keep the blocks, patch the same ones again
        except errors.ApiError:
            self._release(name, held)
            raise
        held.patched = True
        log.info("node %s: podCIDRs %s", name, ", ".join(texts))

    async def _no_cidr(self, node: Node, why: str) -> None:
        name = node.metadata.name or ""
        message = f"no podCIDR for node {name}: {why}"
        log.error("%s", message)
        self.recorder.event(node, WARNING, CIDR_NOT_AVAILABLE, message)
        await self._set_condition(node, ConditionStatus.TRUE, CIDR_NOT_AVAILABLE, message)

    async def _clear_condition(self, node: Node) -> None:
        cond = node.status.condition(NodeConditionType.NETWORK_UNAVAILABLE) if node.status else None
        if cond is None or cond.reason != CIDR_NOT_AVAILABLE or cond.status != ConditionStatus.TRUE:
            return
        message = f"node has podCIDRs {', '.join(node.pod_cidrs())}"
        await self._set_condition(node, ConditionStatus.FALSE, CIDR_ASSIGNED, message)

    async def _set_condition(self, node: Node, status: str, reason: str, message: str) -> None:
        cond = node.status.condition(NodeConditionType.NETWORK_UNAVAILABLE) if node.status else None
        if cond is not None and (cond.status, cond.reason) == (status, reason):
            return
        stamp = format_time(self.clock.now())
        body = {
            "status": {
                "conditions": [
                    {
                        "type": NodeConditionType.NETWORK_UNAVAILABLE,
                        "status": status,
                        "reason": reason,
                        "message": message,
                        "lastHeartbeatTime": stamp,
                        "lastTransitionTime": stamp,
                    }
                ]
            }
        }
        with contextlib.suppress(errors.NotFoundError):
            await self.client.patch(
                Node, node.metadata.name or "", body, patch_type="strategic", subresource="status"
            )


def _text(cidrs: list[Network]) -> list[str]:
    return [str(c) for c in cidrs]
