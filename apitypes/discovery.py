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
    ready: bool | None = None
    serving: bool | None = None
    terminating: bool | None = None


class ForZone(KubeModel):
    name: str


class ForNode(KubeModel):
    name: str


class EndpointHints(KubeModel):
    for_zones: list[ForZone] = items()
    for_nodes: list[ForNode] = items()


class Endpoint(KubeModel):
    addresses: list[str] = items()
    conditions: EndpointConditions | None = None
    hostname: str | None = None
    target_ref: ObjectReference | None = None
    node_name: str | None = None
    zone: str | None = None
    hints: EndpointHints | None = None
    deprecated_topology: dict[str, str] | None = None

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
    STRUCT_TYPE = "atomic"  # +structType=atomic

    name: str | None = None
    protocol: str | None = None
    port: int | None = None
    app_protocol: str | None = None


class EndpointSlice(KubeObject):
    """Some of a Service's endpoints, all of one address type."""

    API_VERSION = "discovery.k8s.io/v1"
    KIND = "EndpointSlice"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    address_type: str
    endpoints: list[Endpoint] = items()
    ports: list[EndpointPort] = items()

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
