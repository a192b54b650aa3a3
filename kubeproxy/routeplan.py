"""Where one Service port's traffic goes: the routing decision every mode renders.

Kubernetes' proxiers decide the same things per service port before writing a rule
(``syncProxyRules`` in ``pkg/proxy/iptables/proxier.go`` and
``pkg/proxy/nftables/proxier.go``): which endpoints each traffic policy uses, whether
ClusterIP traffic and external traffic (node port, external and load-balancer IPs) have
an endpoint to go to or are refused, and which of the per-port chains exist. ``plan``
is that decision, once; the iptables and nftables renderers turn it into their own
chain names and rules, the userspace mode into listeners.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from kubeproxy.servicemap import Categorized, EndpointInfo, ServicePort, categorize

_T = TypeVar("_T")


class Policy(enum.Enum):
    """The endpoint chain a kind of traffic is sent to."""

    CLUSTER = "Cluster"
    """Every usable endpoint (``KUBE-SVC-*`` / ``service-*``)."""
    LOCAL = "Local"
    """This node's endpoints only (``KUBE-SVL-*`` / ``local-*``)."""

    def pick(self, cluster: _T, local: _T) -> _T:
        """``cluster`` or ``local``, whichever this policy names (a mode's chain name,
        an endpoint list)."""
        return local if self is Policy.LOCAL else cluster


@dataclass(frozen=True)
class PortPlan:
    """The routing of one Service port, independent of how a mode writes it."""

    endpoints: Categorized
    internal: Policy
    """Where ClusterIP traffic goes (``internalTrafficPolicy``)."""
    external: Policy
    """Where external traffic goes after the external chain (``externalTrafficPolicy``)."""
    has_internal: bool
    """ClusterIP traffic has an endpoint; else it is refused (``refuse_rejects``)."""
    has_external: bool
    """External traffic has an endpoint; else it is refused (``refuse_rejects``)."""
    uses_cluster_chain: bool
    """The Cluster endpoint chain exists (something is sent there and it has endpoints)."""
    uses_local_chain: bool
    """The Local endpoint chain exists."""
    uses_ext_chain: bool
    """The external chain exists (node port, external or LB IPs, and some endpoint)."""
    uses_fw_chain: bool
    """The LB firewall chain exists (LB IPs with ``loadBalancerSourceRanges``)."""

    @property
    def has_endpoints(self) -> bool:
        """Some endpoint serves the port, for one policy or the other."""
        return self.endpoints.has_any

    @property
    def refuse_rejects(self) -> bool:
        """Refused traffic is rejected (connection refused: the port has no endpoint at
        all) rather than dropped (it has endpoints, none local to a Local policy)."""
        return not self.endpoints.has_any

    @property
    def internal_endpoints(self) -> tuple[EndpointInfo, ...]:
        """The endpoints ClusterIP traffic is balanced over."""
        return self.internal.pick(self.endpoints.cluster, self.endpoints.local)

    @property
    def external_endpoints(self) -> tuple[EndpointInfo, ...]:
        """The endpoints external traffic is balanced over."""
        return self.external.pick(self.endpoints.cluster, self.endpoints.local)


def plan(port: ServicePort, endpoints: Iterable[EndpointInfo]) -> PortPlan:
    """Decide the routing of ``port`` given its endpoints (pure; no kernel, no clock)."""
    cat = categorize(port, endpoints)
    has_endpoints = cat.has_any
    internal = Policy.LOCAL if port.internal_policy_local else Policy.CLUSTER
    external = Policy.LOCAL if port.external_policy_local else Policy.CLUSTER
    return PortPlan(
        endpoints=cat,
        internal=internal,
        external=external,
        # A Local policy needs a local endpoint; a Cluster one any (categorize's
        # cluster list is non-empty exactly when has_any is, for a Cluster policy).
        has_internal=has_endpoints and (internal is Policy.CLUSTER or bool(cat.local)),
        has_external=has_endpoints and (external is Policy.CLUSTER or bool(cat.local)),
        uses_cluster_chain=bool(cat.cluster) and port.uses_cluster_endpoints,
        uses_local_chain=bool(cat.local) and port.uses_local_endpoints,
        uses_ext_chain=has_endpoints and port.externally_accessible,
        uses_fw_chain=has_endpoints and bool(port.load_balancer_ips) and bool(port.source_ranges),
    )
