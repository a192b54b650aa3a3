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
    replicas: int | None = None


class ScaleStatus(KubeModel):
    # Kubernetes always writes the observed count, even when it is 0.
    replicas: int
    selector: str | None = None


class Scale(KubeObject):
    """The replica count of a scalable resource (Deployment, ReplicaSet, StatefulSet)."""

    API_VERSION = "autoscaling/v1"
    KIND = "Scale"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: ScaleSpec | None = None
    status: ScaleStatus | None = None


__all__ = ["Scale", "ScaleSpec", "ScaleStatus"]
