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
    holder_identity: str | None = None
    lease_duration_seconds: int | None = None
    acquire_time: MicroTime | None = None
    renew_time: MicroTime | None = None
    lease_transitions: int | None = None
    strategy: str | None = None
    preferred_holder: str | None = None


class Lease(KubeObject):
    """A named, time-bounded claim: a node's heartbeat or a controller's leadership."""

    API_VERSION = "coordination.k8s.io/v1"
    KIND = "Lease"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: LeaseSpec | None = None


__all__ = ["OLDEST_EMULATION_VERSION", "Lease", "LeaseSpec"]
