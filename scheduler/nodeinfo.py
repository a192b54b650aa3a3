"""``NodeInfo``: one node and the running totals of the pods on it.

Every filter and score reads these totals, for hundreds of nodes per decision, so
they are kept up to date as pods come and go (an informer event, an assumption, a
forgotten bind) instead of being summed per decision. Fields are plain attributes
(``__slots__``) because attribute reads are the inner loop of the scheduler.
"""

from __future__ import annotations

import itertools
import logging

from apitypes.core import Node, Taint
from apitypes.resources import ResourceError
from scheduler.podinfo import LABEL_ZONE, PodInfo
from scheduler.resources import CPU, MEMORY, PODS, amount

log = logging.getLogger(__name__)

_HARD_EFFECTS = ("NoSchedule", "NoExecute")
LEGACY_ZONE = "failure-domain.beta.kubernetes.io/zone"
WILDCARD_IP = "0.0.0.0"
# One counter for all nodes, so that a generation never repeats, not even for a node
# deleted and created again: memoised results keyed by it can never be mistaken.
_generations = itertools.count(1)


class NodeInfo:
    """A node (``node`` is None while only pods naming it are known) and its pods."""

    __slots__ = (
        "affinity_pods",
        "alloc_cpu",
        "alloc_memory",
        "alloc_other",
        "alloc_pods",
        "anti_affinity_pods",
        "generation",
        "hard_taints",
        "labels",
        "name",
        "node",
        "nz_cpu",
        "nz_memory",
        "pods",
        "prefer_taints",
        "req_cpu",
        "req_memory",
        "req_other",
        "taints",
        "unschedulable",
        "used_ports",
        "zone",
    )

    def __init__(self, name: str, node: Node | None = None) -> None:
        self.name = name
        self.node: Node | None = None
        self.labels: dict[str, str] = {}
        self.unschedulable = False
        self.taints: tuple[Taint, ...] = ()
        self.hard_taints: tuple[Taint, ...] = ()
        self.prefer_taints: tuple[Taint, ...] = ()
        self.zone = ""
        self.alloc_cpu = 0
        self.alloc_memory = 0
        self.alloc_pods = 0
        self.alloc_other: dict[str, int] = {}
        self.req_cpu = 0
        self.req_memory = 0
        self.req_other: dict[str, int] = {}
        self.nz_cpu = 0
        self.nz_memory = 0
        self.pods: dict[str, PodInfo] = {}
        # (protocol, port) -> {host IP: number of pods using it}
        self.used_ports: dict[tuple[str, int], dict[str, int]] = {}
        self.affinity_pods = 0
        self.anti_affinity_pods = 0
        self.generation = next(_generations)
        if node is not None:
            self.set_node(node)

    def __repr__(self) -> str:
        return f"NodeInfo({self.name!r}, pods={len(self.pods)})"

    # --- the node itself ---------------------------------------------------------------

    def set_node(self, node: Node) -> None:
        self.node = node
        self.labels = node.metadata.labels
        spec = node.spec
        self.unschedulable = bool(spec and spec.unschedulable)
        self.taints = tuple(spec.taints) if spec else ()
        self.hard_taints = tuple(t for t in self.taints if t.effect in _HARD_EFFECTS)
        self.prefer_taints = tuple(t for t in self.taints if t.effect == "PreferNoSchedule")
        self.zone = self.labels.get(LABEL_ZONE) or self.labels.get(LEGACY_ZONE) or ""
        allocatable = node.status.allocatable if node.status else {}
        self.alloc_cpu = self.alloc_memory = self.alloc_pods = 0
        self.alloc_other = {}
        for resource, text in allocatable.items():
            try:
                value = amount(resource, text)
            except ResourceError as err:
                log.warning("node %s: allocatable %s ignored: %s", self.name, resource, err)
                continue
            if resource == CPU:
                self.alloc_cpu = value
            elif resource == MEMORY:
                self.alloc_memory = value
            elif resource == PODS:
                self.alloc_pods = value
            else:
                self.alloc_other[resource] = value
        self.generation = next(_generations)

    # --- pods --------------------------------------------------------------------------

    def add_pod(self, pod: PodInfo) -> None:
        self.pods[pod.key] = pod
        self._account(pod, 1)

    def remove_pod(self, key: str) -> PodInfo | None:
        pod = self.pods.pop(key, None)
        if pod is not None:
            self._account(pod, -1)
        return pod

    def _account(self, pod: PodInfo, sign: int) -> None:
        req = pod.requests
        self.req_cpu += sign * req.cpu
        self.req_memory += sign * req.memory
        if req.other:
            other = self.req_other
            for name, value in req.other.items():
                other[name] = other.get(name, 0) + sign * value
        self.nz_cpu += sign * pod.non_zero_cpu
        self.nz_memory += sign * pod.non_zero_memory
        for ip, protocol, port in pod.host_ports:
            ips = self.used_ports.setdefault((protocol, port), {})
            count = ips.get(ip, 0) + sign
            if count > 0:
                ips[ip] = count
            else:
                ips.pop(ip, None)
                if not ips:
                    del self.used_ports[(protocol, port)]
        if pod.has_pod_affinity:
            self.affinity_pods += sign
        if pod.required_anti_affinity:
            self.anti_affinity_pods += sign
        self.generation = next(_generations)

    def requested(self, resource: str) -> int:
        if resource == CPU:
            return self.req_cpu
        if resource == MEMORY:
            return self.req_memory
        if resource == PODS:
            return len(self.pods)
        return self.req_other.get(resource, 0)

    def allocatable(self, resource: str) -> int:
        if resource == CPU:
            return self.alloc_cpu
        if resource == MEMORY:
            return self.alloc_memory
        if resource == PODS:
            return self.alloc_pods
        return self.alloc_other.get(resource, 0)

    def port_conflict(self, ip: str, protocol: str, port: int) -> bool:
        """Whether ``ip:port/protocol`` collides with a host port already in use here.

        The wildcard address collides with every address, and every address with it.
        """
        ips = self.used_ports.get((protocol, port))
        if not ips:
            return False
        return ip == WILDCARD_IP or WILDCARD_IP in ips or ip in ips
