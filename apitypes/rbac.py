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
    """What a rule allows: verbs on resources of API groups (optionally only some
    names), or verbs on non-resource URLs."""

    verbs: list[str] = items()
    """The verbs the rule allows (get, list, watch, create, update, patch, delete,
    deletecollection, escalate, bind, ...; * for all)."""
    api_groups: list[str] = items()
    """The API groups of the resources ("" is the core group; * for all)."""
    resources: list[str] = items()
    """The resources (pods, pods/log, */scale; * for all)."""
    resource_names: list[str] = items()
    """Only these objects, by name (empty: all)."""
    non_resource_urls: list[str] = Field(default_factory=list, alias="nonResourceURLs")
    """URL paths that are not resources (/healthz, /api/*); ClusterRoles only."""


class AggregationRule(KubeModel):
    """Which ClusterRoles an aggregated ClusterRole collects its rules from."""

    cluster_role_selectors: list[LabelSelector] = items()
    """ClusterRoles matching any of these selectors contribute their rules."""


class Subject(KubeModel):
    """Who a binding grants its role to."""

    kind: str
    """User, Group or ServiceAccount."""
    api_group: str | None = None
    """rbac.authorization.k8s.io for users and groups, "" for service accounts."""
    name: str
    """The user's, group's or service account's name."""
    namespace: str | None = None
    """The service account's namespace."""


class RoleRef(KubeModel):
    """The role a binding grants."""

    api_group: str
    """rbac.authorization.k8s.io."""
    kind: str
    """Role or ClusterRole."""
    name: str
    """The role's name."""


class Role(KubeObject):
    """Rules that apply within one namespace."""

    API_VERSION = f"{GROUP}/v1"
    KIND = "Role"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    rules: list[PolicyRule] = items()
    """What the role allows."""


class ClusterRole(KubeObject):
    """Rules that apply in every namespace (through a ClusterRoleBinding) or one (through
    a RoleBinding), and to non-resource URLs."""

    API_VERSION = f"{GROUP}/v1"
    KIND = "ClusterRole"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    rules: list[PolicyRule] = items()
    """What the role allows (written by the aggregation controller when aggregated)."""
    aggregation_rule: AggregationRule | None = None
    """Collect the rules of the ClusterRoles these selectors match."""


class RoleBinding(KubeObject):
    """Grants a Role or ClusterRole to subjects within the binding's namespace."""

    API_VERSION = f"{GROUP}/v1"
    KIND = "RoleBinding"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    subjects: list[Subject] = items()
    """Who gets the role."""
    role_ref: RoleRef
    """The role granted; it cannot change."""


class ClusterRoleBinding(KubeObject):
    """Grants a ClusterRole to subjects everywhere."""

    API_VERSION = f"{GROUP}/v1"
    KIND = "ClusterRoleBinding"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    subjects: list[Subject] = items()
    """Who gets the role."""
    role_ref: RoleRef
    """The ClusterRole granted; it cannot change."""


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
