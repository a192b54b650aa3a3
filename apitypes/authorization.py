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
    key: str
    operator: str
    values: list[str] = items()


class FieldSelectorAttributes(KubeModel):
    raw_selector: str | None = None
    requirements: list[FieldSelectorRequirement] = items()


class LabelSelectorAttributes(KubeModel):
    raw_selector: str | None = None
    requirements: list[LabelSelectorRequirement] = items()


class ResourceAttributes(KubeModel):
    namespace: str | None = None
    verb: str | None = None
    group: str | None = None
    version: str | None = None
    resource: str | None = None
    subresource: str | None = None
    name: str | None = None
    field_selector: FieldSelectorAttributes | None = None
    label_selector: LabelSelectorAttributes | None = None


class NonResourceAttributes(KubeModel):
    path: str | None = None
    verb: str | None = None


class SubjectAccessReviewSpec(KubeModel):
    resource_attributes: ResourceAttributes | None = None
    non_resource_attributes: NonResourceAttributes | None = None
    user: str | None = None
    groups: list[str] = items()
    extra: dict[str, list[str]] = mapping()
    uid: str | None = None


class SelfSubjectAccessReviewSpec(KubeModel):
    resource_attributes: ResourceAttributes | None = None
    non_resource_attributes: NonResourceAttributes | None = None


class SubjectAccessReviewStatus(KubeModel):
    allowed: bool = False
    denied: bool | None = None
    reason: str | None = None
    evaluation_error: str | None = None


class SubjectAccessReview(KubeObject):
    API_VERSION = f"{GROUP}/v1"
    KIND = "SubjectAccessReview"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: SubjectAccessReviewSpec = Field(default_factory=SubjectAccessReviewSpec)
    status: SubjectAccessReviewStatus | None = None


class LocalSubjectAccessReview(KubeObject):
    API_VERSION = f"{GROUP}/v1"
    KIND = "LocalSubjectAccessReview"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: SubjectAccessReviewSpec = Field(default_factory=SubjectAccessReviewSpec)
    status: SubjectAccessReviewStatus | None = None


class SelfSubjectAccessReview(KubeObject):
    API_VERSION = f"{GROUP}/v1"
    KIND = "SelfSubjectAccessReview"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: SelfSubjectAccessReviewSpec = Field(default_factory=SelfSubjectAccessReviewSpec)
    status: SubjectAccessReviewStatus | None = None


class SelfSubjectRulesReviewSpec(KubeModel):
    namespace: str | None = None


class ResourceRule(KubeModel):
    verbs: list[str] = items()
    api_groups: list[str] = items()
    resources: list[str] = items()
    resource_names: list[str] = items()


class NonResourceRule(KubeModel):
    verbs: list[str] = items()
    non_resource_urls: list[str] = Field(default_factory=list, alias="nonResourceURLs")


class SubjectRulesReviewStatus(KubeModel):
    resource_rules: list[ResourceRule] = items()
    non_resource_rules: list[NonResourceRule] = items()
    incomplete: bool = False
    evaluation_error: str | None = None


class SelfSubjectRulesReview(KubeObject):
    API_VERSION = f"{GROUP}/v1"
    KIND = "SelfSubjectRulesReview"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: SelfSubjectRulesReviewSpec = Field(default_factory=SelfSubjectRulesReviewSpec)
    status: SubjectRulesReviewStatus | None = None


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
