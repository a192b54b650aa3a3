"""discovery.k8s.io/v1: EndpointSlice, the scalable form of a Service's endpoints.

A Service's backends are split over slices of at most 100 endpoints each (the
EndpointSlice controller's ``--max-endpoints-per-slice``), each labelled
``kubernetes.io/service-name: <service>`` and owned by the Service, so that a change
to one pod rewrites one slice, not the whole list. kube-proxy and cluster DNS read
slices, not Endpoints. An endpoint's ``conditions`` say whether it should take new
connections (``ready``), could serve them (``serving``, true while terminating), and
whether its pod is going away (``terminating``); ``nil`` reads as "unknown", which
consumers treat as ready/serving and not terminating.
"""

from __future__ import annotations

from pydantic import Field

from apitypes.base import KubeModel, KubeObject, items
from apitypes.core import ObjectReference
from apitypes.meta import ObjectMeta

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
"""The label naming the Service a slice belongs to."""
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
"""Who writes a slice; the controller's own value is ``CONTROLLER_NAME``."""
CONTROLLER_NAME = "endpointslice-controller.k8s.io"
MAX_ENDPOINTS_PER_SLICE = 100
"""Kubernetes' default ``--max-endpoints-per-slice``; the API allows at most 1000."""

ADDRESS_TYPE_IPV4 = "IPv4"
ADDRESS_TYPE_IPV6 = "IPv6"
ADDRESS_TYPE_FQDN = "FQDN"
ADDRESS_TYPES = (ADDRESS_TYPE_IPV4, ADDRESS_TYPE_IPV6, ADDRESS_TYPE_FQDN)


class EndpointConditions(KubeModel):
    """The state of an endpoint."""

    ready: bool | None = None
    """The endpoint can take traffic: serving and not terminating (unless
    publishNotReadyAddresses)."""
    serving: bool | None = None
    """The endpoint passes its readiness checks, terminating or not."""
    terminating: bool | None = None
    """The endpoint is being deleted."""


class ForZone(KubeModel):
    """A zone an endpoint should serve."""

    name: str
    """The zone's name."""


class ForNode(KubeModel):
    """A node an endpoint should serve."""

    name: str
    """The node's name."""


class EndpointHints(KubeModel):
    """Routing hints of an endpoint."""

    for_zones: list[ForZone] = items()
    """The zones the endpoint should serve."""
    for_nodes: list[ForNode] = items()
    """The nodes the endpoint should serve."""


class Endpoint(KubeModel):
    """One backend of a Service."""

    addresses: list[str] = items()
    """The endpoint's addresses (all the same backend); the first is used."""
    conditions: EndpointConditions | None = None
    """What is known about the endpoint's state."""
    hostname: str | None = None
    """The endpoint's hostname, for DNS."""
    target_ref: ObjectReference | None = None
    """The object (a pod) behind the endpoint."""
    node_name: str | None = None
    """The node hosting the endpoint."""
    zone: str | None = None
    """The zone the endpoint is in."""
    hints: EndpointHints | None = None
    """Hints for routing (topology-aware routing)."""
    deprecated_topology: dict[str, str] | None = None
    """Deprecated topology labels, kept for compatibility with v1beta1."""

    def is_ready(self) -> bool:
        """Ready for new connections; an unknown condition counts as ready."""
        cond = self.conditions
        return cond is None or cond.ready is None or cond.ready

    def is_serving(self) -> bool:
        """Able to serve (ready, or terminating and still passing its probes)."""
        cond = self.conditions
        if cond is None:
            return True
        if cond.serving is not None:
            return cond.serving
        return cond.ready is None or cond.ready

    def is_terminating(self) -> bool:
        cond = self.conditions
        return bool(cond is not None and cond.terminating)


class EndpointPort(KubeModel):
    """A port of the endpoints of a slice."""

    STRUCT_TYPE = "atomic"  # +structType=atomic

    name: str | None = None
    """The port's name, matching the Service port's; a DNS label."""
    protocol: str | None = None
    """TCP (the default), UDP or SCTP."""
    port: int | None = None
    """The port number; every port when unset."""
    app_protocol: str | None = None
    """The application protocol of the port."""


class EndpointSlice(KubeObject):
    """Some of a Service's endpoints, all of one address type."""

    API_VERSION = "discovery.k8s.io/v1"
    KIND = "EndpointSlice"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata; the label kubernetes.io/service-name names the Service."""
    address_type: str
    """The type of every address in the slice: IPv4, IPv6 or FQDN. Cannot change."""
    endpoints: list[Endpoint] = items()
    """The endpoints of the slice: at most 1000."""
    ports: list[EndpointPort] = items()
    """The ports every endpoint of the slice has; no ports means every port."""

    def service_name(self) -> str | None:
        return self.metadata.labels.get(SERVICE_NAME_LABEL)


__all__ = [
    "ADDRESS_TYPES",
    "ADDRESS_TYPE_FQDN",
    "ADDRESS_TYPE_IPV4",
    "ADDRESS_TYPE_IPV6",
    "CONTROLLER_NAME",
    "MANAGED_BY_LABEL",
    "MAX_ENDPOINTS_PER_SLICE",
    "SERVICE_NAME_LABEL",
    "Endpoint",
    "EndpointConditions",
    "EndpointHints",
    "EndpointPort",
    "EndpointSlice",
    "ForNode",
    "ForZone",
]
