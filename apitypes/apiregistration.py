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
    """The Service of an extension apiserver."""

    namespace: str | None = None
    """The Service's namespace."""
    name: str | None = None
    """The Service's name."""
    port: int | None = None
    """The Service port to reach; 443 by default."""


class APIServiceSpec(KubeModel):
    """The group version an APIService registers."""

    service: ServiceReference | None = None
    """The Service of the extension apiserver serving the group version (its port defaults to
    443). None for a group version the apiserver serves itself."""
    group: str | None = None
    """The API group; empty for the core group."""
    version: str | None = None
    """The API version (v1, v1beta1)."""
    insecure_skip_tls_verify: bool | None = Field(default=None, alias="insecureSkipTLSVerify")
    """Do not verify the serving certificate of the extension apiserver. Discouraged: use
    caBundle."""
    ca_bundle: Base64Text | None = None
    """PEM certificate authorities that sign the extension apiserver's serving certificate."""
    group_priority_minimum: int
    """The priority of the group (at least this, for all its versions): groups are listed
    highest first, and win name clashes. 1 to 20000."""
    version_priority: int
    """The order of this version within its group, highest first. 1 to 1000."""


class APIServiceCondition(KubeModel):
    """One aspect of an APIService's state."""

    type: str
    """Available."""
    status: str
    """True, False or Unknown."""
    last_transition_time: Time | None = None
    """When the condition last changed status."""
    reason: str | None = None
    """Why it last changed, in a CamelCase word (Local, ServiceNotFound, MissingEndpoints...).
    """
    message: str | None = None
    """A human-readable message."""


class APIServiceStatus(KubeModel):
    """The observed state of an APIService."""

    conditions: list[APIServiceCondition] = merge_list("type")
    """The APIService's conditions (Available)."""


class APIService(KubeObject):
    """The registration of one API group version (<version>.<group>): served by the apiserver
    itself (Local) or by a Service (an extension apiserver)."""

    API_VERSION = "apiregistration.k8s.io/v1"
    KIND = "APIService"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata; the name is <version>.<group>."""
    spec: APIServiceSpec | None = None
    """The group version and where it is served."""
    status: APIServiceStatus | None = None
    """Whether the group version can be served now."""

    def available(self) -> APIServiceCondition | None:
        """The ``Available`` condition, if reported."""
        for cond in self.status.conditions if self.status else []:
            if cond.type == AVAILABLE:
                return cond
        return None
