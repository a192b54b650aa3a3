"""authentication.k8s.io/v1: TokenReview, TokenRequest, SelfSubjectReview.

None of them is stored: a TokenReview asks the apiserver who a bearer token belongs
to, a TokenRequest (``serviceaccounts/<name>/token``) asks for a service-account
token, a SelfSubjectReview asks who the caller is (``kubectl auth whoami``).
"""

from __future__ import annotations

from pydantic import Field

from apitypes.base import KubeModel, KubeObject, Time, items, mapping
from apitypes.meta import ObjectMeta

GROUP = "authentication.k8s.io"


class UserInfo(KubeModel):
    username: str | None = None
    uid: str | None = None
    groups: list[str] = items()
    extra: dict[str, list[str]] = mapping()


class TokenReviewSpec(KubeModel):
    token: str | None = None
    audiences: list[str] = items()


class TokenReviewStatus(KubeModel):
    authenticated: bool | None = None
    user: UserInfo | None = None
    audiences: list[str] = items()
    error: str | None = None


class TokenReview(KubeObject):
    API_VERSION = f"{GROUP}/v1"
    KIND = "TokenReview"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: TokenReviewSpec = Field(default_factory=TokenReviewSpec)
    status: TokenReviewStatus | None = None


class BoundObjectReference(KubeModel):
    kind: str | None = None
    api_version: str | None = None
    name: str | None = None
    uid: str | None = None


class TokenRequestSpec(KubeModel):
    audiences: list[str] = items()
    expiration_seconds: int | None = None
    bound_object_ref: BoundObjectReference | None = None


class TokenRequestStatus(KubeModel):
    token: str
    expiration_timestamp: Time


class TokenRequest(KubeObject):
    API_VERSION = f"{GROUP}/v1"
    KIND = "TokenRequest"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: TokenRequestSpec = Field(default_factory=TokenRequestSpec)
    status: TokenRequestStatus | None = None


class SelfSubjectReviewStatus(KubeModel):
    user_info: UserInfo | None = None


class SelfSubjectReview(KubeObject):
    API_VERSION = f"{GROUP}/v1"
    KIND = "SelfSubjectReview"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    status: SelfSubjectReviewStatus | None = None


__all__ = [
    "GROUP",
    "BoundObjectReference",
    "SelfSubjectReview",
    "SelfSubjectReviewStatus",
    "TokenRequest",
    "TokenRequestSpec",
    "TokenRequestStatus",
    "TokenReview",
    "TokenReviewSpec",
    "TokenReviewStatus",
    "UserInfo",
]
