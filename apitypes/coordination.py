"""coordination.k8s.io/v1: Lease, the heartbeat and leader-election record.

A lease's ``acquireTime`` and ``renewTime`` are ``MicroTime`` (RFC 3339 with six
fractional digits) because holders renew every few seconds and compare renewals
closer together than a second.
"""

from __future__ import annotations

from pydantic import Field

from apitypes.base import KubeModel, KubeObject, MicroTime
from apitypes.meta import ObjectMeta

# The only ``spec.strategy`` Kubernetes defines for coordinated leader election.
OLDEST_EMULATION_VERSION = "OldestEmulationVersion"


class LeaseSpec(KubeModel):
    """Who holds a lease, since when and for how long."""

    holder_identity: str | None = None
    """The identity of the current holder."""
    lease_duration_seconds: int | None = None
    """How long candidates wait, after the last renewal, before taking the lease over."""
    acquire_time: MicroTime | None = None
    """When the current holder acquired the lease."""
    renew_time: MicroTime | None = None
    """When the holder last renewed the lease."""
    lease_transitions: int | None = None
    """How many times the lease changed holders."""
    strategy: str | None = None
    """Coordinated leader election: the strategy picking the next holder
    (OldestEmulationVersion)."""
    preferred_holder: str | None = None
    """Coordinated leader election: the holder the coordinator would like to hold the lease
    next."""


class Lease(KubeObject):
    """A named, time-bounded claim: a node's heartbeat or a controller's leadership."""

    API_VERSION = "coordination.k8s.io/v1"
    KIND = "Lease"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: LeaseSpec | None = None
    """The holder of the lease and how long it holds it."""


__all__ = ["OLDEST_EMULATION_VERSION", "Lease", "LeaseSpec"]
