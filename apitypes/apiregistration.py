"""apiregistration.k8s.io/v1: APIService, the registration of one group version.

API aggregation is built on it: every group version a cluster serves has an
APIService, ``Local`` (served by the apiserver itself, no ``service``) or backed by a
Service (an extension apiserver such as metrics-server); its ``Available`` condition
says whether requests for the group version can be served. Shapes follow
kube-aggregator's ``apiregistration/v1`` types.
"""

from __future__ import annotations

from typing import Final

from pydantic import Field

from apitypes.base import Base64Text, KubeModel, KubeObject, Time, merge_list
from apitypes.meta import ObjectMeta

AVAILABLE: Final = "Available"
"""The condition type every APIService reports."""
AUTOMANAGED_LABEL: Final = "kube-aggregator.kubernetes.io/automanaged"
"""Label of APIServices the apiserver registers itself: ``onstart`` (created or brought
up to date when it starts) or ``true`` (kept so continuously)."""


class ServiceReference(KubeModel):
    namespace: str | None = None
    name: str | None = None
    port: int | None = None


class APIServiceSpec(KubeModel):
    service: ServiceReference | None = None
    group: str | None = None
    version: str | None = None
    insecure_skip_tls_verify: bool | None = Field(default=None, alias="insecureSkipTLSVerify")
    ca_bundle: Base64Text | None = None
    group_priority_minimum: int
    version_priority: int


class APIServiceCondition(KubeModel):
    type: str
    status: str
    last_transition_time: Time | None = None
    reason: str | None = None
    message: str | None = None


class APIServiceStatus(KubeModel):
    conditions: list[APIServiceCondition] = merge_list("type")


class APIService(KubeObject):
    API_VERSION = "apiregistration.k8s.io/v1"
    KIND = "APIService"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: APIServiceSpec | None = None
    status: APIServiceStatus | None = None

    def available(self) -> APIServiceCondition | None:
        """The ``Available`` condition, if reported."""
        for cond in self.status.conditions if self.status else []:
            if cond.type == AVAILABLE:
                return cond
        return None
