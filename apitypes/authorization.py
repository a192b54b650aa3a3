"""authorization.k8s.io/v1: the access reviews (never stored).

A SubjectAccessReview asks whether a user may do something (kubelets and other
servers delegating authorization ask it); a LocalSubjectAccessReview is one scoped to a
namespace; a SelfSubjectAccessReview asks it for the caller (``kubectl auth can-i``);
a SelfSubjectRulesReview lists what the caller may do in a namespace
(``kubectl auth can-i --list``).
"""

from __future__ import annotations

from pydantic import Field

from apitypes.base import KubeModel, KubeObject, items, mapping
from apitypes.meta import LabelSelectorRequirement, ObjectMeta

GROUP = "authorization.k8s.io"


class FieldSelectorRequirement(KubeModel):
    """One requirement of a field selector."""

    key: str
    """The field."""
    operator: str
    """In, NotIn, Exists or DoesNotExist."""
    values: list[str] = items()
    """The values In and NotIn compare with."""


class FieldSelectorAttributes(KubeModel):
    """The field selector of the request asked about."""

    raw_selector: str | None = None
    """The selector as a query parameter would carry it."""
    requirements: list[FieldSelectorRequirement] = items()
    """The selector as requirements."""


class LabelSelectorAttributes(KubeModel):
    """The label selector of the request asked about."""

    raw_selector: str | None = None
    """The selector as a query parameter would carry it."""
    requirements: list[LabelSelectorRequirement] = items()
    """The selector as requirements."""


class ResourceAttributes(KubeModel):
    """A request on a resource."""

    namespace: str | None = None
    """The namespace ("" : all, or a cluster-scoped resource)."""
    verb: str | None = None
    """get, list, watch, create, update, patch, delete, ..."""
    group: str | None = None
    """The API group ("" : core)."""
    version: str | None = None
    """The API version."""
    resource: str | None = None
    """The resource (pods)."""
    subresource: str | None = None
    """The subresource (log)."""
    name: str | None = None
    """The object's name ("" : all)."""
    field_selector: FieldSelectorAttributes | None = None
    """The field selector of a list or watch."""
    label_selector: LabelSelectorAttributes | None = None
    """The label selector of a list or watch."""


class NonResourceAttributes(KubeModel):
    """A request on a URL path that is not a resource."""

    path: str | None = None
    """The URL path (/healthz)."""
    verb: str | None = None
    """The lower-case HTTP method."""


class SubjectAccessReviewSpec(KubeModel):
    """The question: may this user make this request."""

    resource_attributes: ResourceAttributes | None = None
    """A request on a resource."""
    non_resource_attributes: NonResourceAttributes | None = None
    """A request on another path."""
    user: str | None = None
    """The user asked about."""
    groups: list[str] = items()
    """Its groups."""
    extra: dict[str, list[str]] = mapping()
    """What its authenticator knew besides."""
    uid: str | None = None
    """Its uid."""


class SelfSubjectAccessReviewSpec(KubeModel):
    """The question: may I make this request."""

    resource_attributes: ResourceAttributes | None = None
    """A request on a resource."""
    non_resource_attributes: NonResourceAttributes | None = None
    """A request on another path."""


class SubjectAccessReviewStatus(KubeModel):
    """The answer."""

    allowed: bool = False
    """Whether the request would be allowed."""
    denied: bool | None = None
    """Whether an authorizer refused it outright."""
    reason: str | None = None
    """Why (which binding allowed it)."""
    evaluation_error: str | None = None
    """What went wrong answering."""


class SubjectAccessReview(KubeObject):
    """May a user make a request (asked by servers delegating authorization)."""

    API_VERSION = f"{GROUP}/v1"
    KIND = "SubjectAccessReview"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: SubjectAccessReviewSpec = Field(default_factory=SubjectAccessReviewSpec)
    """The question."""
    status: SubjectAccessReviewStatus | None = None
    """The answer."""


class LocalSubjectAccessReview(KubeObject):
    """A SubjectAccessReview within one namespace."""

    API_VERSION = f"{GROUP}/v1"
    KIND = "LocalSubjectAccessReview"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: SubjectAccessReviewSpec = Field(default_factory=SubjectAccessReviewSpec)
    """The question (its namespace must be the review's)."""
    status: SubjectAccessReviewStatus | None = None
    """The answer."""


class SelfSubjectAccessReview(KubeObject):
    """May the caller make a request (``kubectl auth can-i``)."""

    API_VERSION = f"{GROUP}/v1"
    KIND = "SelfSubjectAccessReview"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: SelfSubjectAccessReviewSpec = Field(default_factory=SelfSubjectAccessReviewSpec)
    """The question."""
    status: SubjectAccessReviewStatus | None = None
    """The answer."""


class SelfSubjectRulesReviewSpec(KubeModel):
    """Which namespace to list the caller's rules in."""

    namespace: str | None = None
    """The namespace."""


class ResourceRule(KubeModel):
    """What the caller may do on resources."""

    verbs: list[str] = items()
    """The verbs allowed."""
    api_groups: list[str] = items()
    """The API groups."""
    resources: list[str] = items()
    """The resources."""
    resource_names: list[str] = items()
    """Only these objects (empty: all)."""


class NonResourceRule(KubeModel):
    """What the caller may do on other paths."""

    verbs: list[str] = items()
    """The verbs allowed."""
    non_resource_urls: list[str] = Field(default_factory=list, alias="nonResourceURLs")
    """The URL paths."""


class SubjectRulesReviewStatus(KubeModel):
    """The caller's rules."""

    resource_rules: list[ResourceRule] = items()
    """Rules on resources."""
    non_resource_rules: list[NonResourceRule] = items()
    """Rules on other paths."""
    incomplete: bool = False
    """Whether an authorizer could not list everything it allows."""
    evaluation_error: str | None = None
    """What went wrong listing."""


class SelfSubjectRulesReview(KubeObject):
    """What the caller may do in a namespace (``kubectl auth can-i --list``)."""

    API_VERSION = f"{GROUP}/v1"
    KIND = "SelfSubjectRulesReview"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: SelfSubjectRulesReviewSpec = Field(default_factory=SelfSubjectRulesReviewSpec)
    """The namespace."""
    status: SubjectRulesReviewStatus | None = None
    """The answer."""


__all__ = [
    "GROUP",
    "LocalSubjectAccessReview",
    "NonResourceAttributes",
    "NonResourceRule",
    "ResourceAttributes",
    "ResourceRule",
    "SelfSubjectAccessReview",
    "SelfSubjectRulesReview",
    "SubjectAccessReview",
    "SubjectAccessReviewSpec",
    "SubjectAccessReviewStatus",
    "SubjectRulesReviewStatus",
]
