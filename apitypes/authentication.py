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
    """Who a credential authenticates."""

    username: str | None = None
    """The user's name (system:serviceaccount:<ns>:<name> for a service account)."""
    uid: str | None = None
    """The user's unique id, if it has one."""
    groups: list[str] = items()
    """The groups the user is in."""
    extra: dict[str, list[str]] = mapping()
    """What the authenticator knows besides (a bound token's pod and node)."""


class TokenReviewSpec(KubeModel):
    """The token to review."""

    token: str | None = None
    """The bearer token."""
    audiences: list[str] = items()
    """Audiences the token must be for (default: the apiserver's)."""


class TokenReviewStatus(KubeModel):
    """Whom the token authenticates."""

    authenticated: bool | None = None
    """Whether the token is valid."""
    user: UserInfo | None = None
    """Whom it authenticates."""
    audiences: list[str] = items()
    """The audiences it was accepted for."""
    error: str | None = None
    """Why it is not valid."""


class TokenReview(KubeObject):
    """Who a bearer token belongs to (what kubelets ask of every request with one)."""

    API_VERSION = f"{GROUP}/v1"
    KIND = "TokenReview"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: TokenReviewSpec = Field(default_factory=TokenReviewSpec)
    """The token to review."""
    status: TokenReviewStatus | None = None
    """The answer."""


class BoundObjectReference(KubeModel):
    """The object a token is bound to: it stops being valid when that object is gone."""

    kind: str | None = None
    """Pod, Secret or Node."""
    api_version: str | None = None
    """v1."""
    name: str | None = None
    """The object's name."""
    uid: str | None = None
    """The object's uid (checked against the stored one)."""


class TokenRequestSpec(KubeModel):
    """What token to issue."""

    audiences: list[str] = items()
    """Who the token is for (default: the apiserver's audiences)."""
    expiration_seconds: int | None = None
    """How long it is valid (10 minutes at least; default an hour)."""
    bound_object_ref: BoundObjectReference | None = None
    """The object the token is bound to."""


class TokenRequestStatus(KubeModel):
    """The issued token."""

    token: str
    """The token (a signed JWT)."""
    expiration_timestamp: Time
    """When it expires."""


class TokenRequest(KubeObject):
    """A request for a service account's token (``serviceaccounts/<name>/token``)."""

    API_VERSION = f"{GROUP}/v1"
    KIND = "TokenRequest"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: TokenRequestSpec = Field(default_factory=TokenRequestSpec)
    """What token to issue."""
    status: TokenRequestStatus | None = None
    """The issued token."""


class SelfSubjectReviewStatus(KubeModel):
    """Who the caller is."""

    user_info: UserInfo | None = None
    """The caller, as the apiserver authenticated it."""


class SelfSubjectReview(KubeObject):
    """Who the caller is (``kubectl auth whoami``)."""

    API_VERSION = f"{GROUP}/v1"
    KIND = "SelfSubjectReview"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    status: SelfSubjectReviewStatus | None = None
    """The answer."""


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
