"""rbac.authorization.k8s.io/v1: Role, ClusterRole, RoleBinding, ClusterRoleBinding.

A rule allows ``verbs`` on ``resources`` (``pods``, ``pods/log``, ``*``) of
``apiGroups`` (``""`` is the core group), optionally only the objects in
``resourceNames``; or, in a ClusterRole, ``verbs`` on ``nonResourceURLs`` (``/healthz``,
``/api/*``). A binding grants one role's rules to its subjects (users, groups,
service accounts): a RoleBinding within its namespace, a ClusterRoleBinding everywhere.
A ClusterRole with an ``aggregationRule`` gets its rules from the ClusterRoles its
selectors match (the clusterrole-aggregation controller writes them).
"""

from __future__ import annotations

from pydantic import Field

from apitypes.base import KubeModel, KubeObject, items
from apitypes.meta import LabelSelector, ObjectMeta

GROUP = "rbac.authorization.k8s.io"


class PolicyRule(KubeModel):
    verbs: list[str] = items()
    api_groups: list[str] = items()
    resources: list[str] = items()
    resource_names: list[str] = items()
    non_resource_urls: list[str] = Field(default_factory=list, alias="nonResourceURLs")


class AggregationRule(KubeModel):
    cluster_role_selectors: list[LabelSelector] = items()


class Subject(KubeModel):
    kind: str
    """``User``, ``Group`` or ``ServiceAccount``."""
    api_group: str | None = None
    name: str
    namespace: str | None = None


class RoleRef(KubeModel):
    api_group: str
    kind: str
    """``Role`` or ``ClusterRole``."""
    name: str


class Role(KubeObject):
    API_VERSION = f"{GROUP}/v1"
    KIND = "Role"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    rules: list[PolicyRule] = items()


class ClusterRole(KubeObject):
    API_VERSION = f"{GROUP}/v1"
    KIND = "ClusterRole"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    rules: list[PolicyRule] = items()
    aggregation_rule: AggregationRule | None = None


class RoleBinding(KubeObject):
    API_VERSION = f"{GROUP}/v1"
    KIND = "RoleBinding"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    subjects: list[Subject] = items()
    role_ref: RoleRef


class ClusterRoleBinding(KubeObject):
    API_VERSION = f"{GROUP}/v1"
    KIND = "ClusterRoleBinding"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    subjects: list[Subject] = items()
    role_ref: RoleRef


__all__ = [
    "GROUP",
    "AggregationRule",
    "ClusterRole",
    "ClusterRoleBinding",
    "PolicyRule",
    "Role",
    "RoleBinding",
    "RoleRef",
    "Subject",
]
