"""The kinds navarch serves: what every client and server needs to know about each.

A ``ResourceType`` names a kind's group, version, plural, scope and Python model, and
builds its URLs. The apiserver adds its per-kind rules (defaults, validation, table
columns) on top, in ``apiserver.kinds``; clients only need what is here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

from apitypes import (
    apiregistration,
    apps,
    authentication,
    authorization,
    autoscaling,
    batch,
    certificates,
    coordination,
    core,
    discovery,
    policy,
    rbac,
)
from apitypes.base import KubeObject


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    model: type[KubeObject]
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    create_only: bool = False
    """A request kind that is answered, never stored (TokenReview, the access reviews):
    ``create`` is its only verb and it has no list."""

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def qualified(self) -> str:
        """``deployments.apps`` as Kubernetes names a resource in messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def base_path(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def path(
        self,
        namespace: str | None = None,
        name: str | None = None,
        subresource: str | None = None,
    ) -> str:
        """The URL path of the collection, an object, or an object's subresource."""
        parts = [self.base_path()]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{quote(namespace, safe='')}")
        parts.append(self.plural)
        if name is not None:
            parts.append(quote(name, safe=""))
            if subresource:
                parts.append(subresource)
        return "/".join(parts)


_CORE = ("all",)
_RBAC = rbac.GROUP
_AUTHN = authentication.GROUP
_AUTHZ = authorization.GROUP

RESOURCES: tuple[ResourceType, ...] = (
    ResourceType("", "v1", "Namespace", "namespaces", False, core.Namespace, ("ns",),
                 subresources=("status", "finalize")),
    ResourceType("", "v1", "Pod", "pods", True, core.Pod, ("po",), _CORE,
                 ("status", "binding", "log", "exec", "eviction", "attach", "portforward")),
    ResourceType("", "v1", "Node", "nodes", False, core.Node, ("no",),
                 subresources=("status", "proxy")),
    ResourceType("", "v1", "Event", "events", True, core.Event, ("ev",)),
    ResourceType("", "v1", "ConfigMap", "configmaps", True, core.ConfigMap, ("cm",)),
    ResourceType("", "v1", "Secret", "secrets", True, core.Secret),
    ResourceType("", "v1", "Service", "services", True, core.Service, ("svc",), _CORE,
                 ("status", "proxy")),
    ResourceType("", "v1", "Endpoints", "endpoints", True, core.Endpoints, ("ep",)),
    ResourceType("", "v1", "LimitRange", "limitranges", True, core.LimitRange, ("limits",)),
    ResourceType("", "v1", "ResourceQuota", "resourcequotas", True, core.ResourceQuota,
                 ("quota",), subresources=("status",)),
    ResourceType("", "v1", "ServiceAccount", "serviceaccounts", True, core.ServiceAccount,
                 ("sa",), subresources=("token",)),
    ResourceType("", "v1", "ReplicationController", "replicationcontrollers", True,
                 core.ReplicationController, ("rc",), _CORE, ("status", "scale")),
    ResourceType("coordination.k8s.io", "v1", "Lease", "leases", True, coordination.Lease),
    ResourceType("apps", "v1", "ReplicaSet", "replicasets", True, apps.ReplicaSet, ("rs",),
                 _CORE, ("status", "scale")),
    ResourceType("apps", "v1", "Deployment", "deployments", True, apps.Deployment,
                 ("deploy",), _CORE, ("status", "scale")),
    ResourceType("apps", "v1", "DaemonSet", "daemonsets", True, apps.DaemonSet, ("ds",),
                 _CORE, ("status",)),
    ResourceType("apps", "v1", "StatefulSet", "statefulsets", True, apps.StatefulSet,
                 ("sts",), _CORE, ("status", "scale")),
    ResourceType("apps", "v1", "ControllerRevision", "controllerrevisions", True,
                 apps.ControllerRevision),
    ResourceType("batch", "v1", "Job", "jobs", True, batch.Job, (), _CORE, ("status",)),
    ResourceType("batch", "v1", "CronJob", "cronjobs", True, batch.CronJob, ("cj",), _CORE,
                 ("status",)),
    ResourceType("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", True,
                 discovery.EndpointSlice),
    ResourceType("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True,
                 policy.PodDisruptionBudget, ("pdb",), subresources=("status",)),
    ResourceType("apiregistration.k8s.io", "v1", "APIService", "apiservices", False,
                 apiregistration.APIService, categories=("api-extensions",),
                 subresources=("status",)),
    ResourceType(_RBAC, "v1", "ClusterRole", "clusterroles", False, rbac.ClusterRole),
    ResourceType(_RBAC, "v1", "ClusterRoleBinding", "clusterrolebindings", False,
                 rbac.ClusterRoleBinding),
    ResourceType(_RBAC, "v1", "Role", "roles", True, rbac.Role),
    ResourceType(_RBAC, "v1", "RoleBinding", "rolebindings", True, rbac.RoleBinding),
    ResourceType(certificates.GROUP, "v1", "CertificateSigningRequest",
                 "certificatesigningrequests", False, certificates.CertificateSigningRequest,
                 ("csr",), subresources=("status", "approval")),
    ResourceType(_AUTHN, "v1", "TokenReview", "tokenreviews", False,
                 authentication.TokenReview, create_only=True),
    ResourceType(_AUTHN, "v1", "SelfSubjectReview", "selfsubjectreviews", False,
                 authentication.SelfSubjectReview, create_only=True),
    ResourceType(_AUTHZ, "v1", "SubjectAccessReview", "subjectaccessreviews", False,
                 authorization.SubjectAccessReview, create_only=True),
    ResourceType(_AUTHZ, "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", False,
                 authorization.SelfSubjectAccessReview, create_only=True),
    ResourceType(_AUTHZ, "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews", True,
                 authorization.LocalSubjectAccessReview, create_only=True),
    ResourceType(_AUTHZ, "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", False,
                 authorization.SelfSubjectRulesReview, create_only=True),
)  # fmt: skip

STORED: tuple[ResourceType, ...] = tuple(r for r in RESOURCES if not r.create_only)
"""The kinds that have objects (everything but the create-only reviews): what lists,
watches, garbage collection and namespace deletion walk."""

# Kinds that only travel through subresources and are never stored.
SUBRESOURCE_KINDS: dict[str, type[KubeObject]] = {
    "Scale": autoscaling.Scale,
    "Binding": core.Binding,
    "Eviction": policy.Eviction,
    "TokenRequest": authentication.TokenRequest,
}

_BY_KIND = {(r.api_version, r.kind): r for r in RESOURCES}
_BY_PLURAL = {(r.group, r.plural): r for r in RESOURCES}
_BY_NAME: dict[str, ResourceType] = {}
for _r in RESOURCES:
    for _alias in (_r.plural, _r.singular, *_r.short_names, _r.qualified):
        _BY_NAME.setdefault(_alias, _r)


def by_kind(api_version: str, kind: str) -> ResourceType | None:
    return _BY_KIND.get((api_version, kind))


def by_plural(group: str, plural: str) -> ResourceType | None:
    return _BY_PLURAL.get((group, plural))


def by_model(model: type[KubeObject]) -> ResourceType:
    return _BY_KIND[(model.API_VERSION, model.KIND)]


def resource(group: str, plural: str) -> ResourceType:
    """The resource type of ``group``/``plural``; KeyError if navarch does not serve it."""
    return _BY_PLURAL[(group, plural)]


def lookup(name: str) -> ResourceType | None:
    """Resolve what a person types: ``po``, ``pods``, ``pod``, ``deployments.apps``."""
    return _BY_NAME.get(name.lower())


def group_versions() -> Iterator[tuple[str, str]]:
    """Every (group, version) served, core first, each once, in declaration order."""
    seen: set[tuple[str, str]] = set()
    for r in RESOURCES:
        if (r.group, r.version) not in seen:
            seen.add((r.group, r.version))
            yield r.group, r.version
