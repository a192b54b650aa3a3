"""autoscaling/v1: Scale, the body of every ``/scale`` subresource.

``status.selector`` is the target's label selector serialised as a string
(``app=web,tier in (fe)``), the form ``kubectl`` and autoscalers pass back as a
``labelSelector`` query.
"""

from __future__ import annotations

from pydantic import Field

from apitypes.base import KubeModel, KubeObject
from apitypes.meta import ObjectMeta


class ScaleSpec(KubeModel):
    """The desired size of a scalable object."""

    replicas: int | None = None
    """The desired number of replicas."""


class ScaleStatus(KubeModel):
    # Kubernetes always writes the observed count, even when it is 0.
    """The observed size of a scalable object."""

    replicas: int
    """The number of replicas observed."""
    selector: str | None = None
    """The label selector of the pods, as text (app=web)."""


class Scale(KubeObject):
    """The replica count of a scalable resource (Deployment, ReplicaSet, StatefulSet)."""

    API_VERSION = "autoscaling/v1"
    KIND = "Scale"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata of the scaled object."""
    spec: ScaleSpec | None = None
    """The desired number of replicas."""
    status: ScaleStatus | None = None
    """The observed number of replicas and the pods' selector."""


__all__ = ["Scale", "ScaleSpec", "ScaleStatus"]
