"""TokenReview and SelfSubjectReview (authentication.k8s.io/v1): answered, never stored.

A TokenReview asks who a bearer token belongs to (kubelets ask it of every request
with a token, ``--authentication-token-webhook``); ``spec.audiences`` narrows the
audiences a service-account token must carry. A SelfSubjectReview answers the caller
with itself (``kubectl auth whoami``).
"""

from __future__ import annotations

from typing import Any

from apiserver import errors
from apiserver.authn import InvalidCredentialsError
from apiserver.registry.strategy import Strategy
from apiserver.security import ReviewContext
from apitypes import registry
from apitypes.authentication import GROUP, SelfSubjectReview, TokenReview


def _typed(model: Any, body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except ValueError as err:
        raise errors.bad_request(f"invalid {model.KIND}: {err}") from err


class TokenReviewStrategy(Strategy):
    resource = registry.resource(GROUP, "tokenreviews")

    async def answer(self, body: dict[str, Any], context: ReviewContext) -> dict[str, Any]:
        review: TokenReview = _typed(TokenReview, body)
        token = review.spec.token or ""
        if not token:
            raise errors.invalid("TokenReview", "", [_required("spec.token")], GROUP)
        out = review.to_dict()
        audiences = list(review.spec.audiences)
        status: dict[str, Any] = {"authenticated": False}
        try:
            user = await context.security.authenticator.authenticate_token(token, audiences or None)
        except InvalidCredentialsError as err:
            status["error"] = str(err)
        else:
            if user is not None:
                status = {"authenticated": True, "user": user.to_wire()}
                wanted = audiences or (
                    context.security.tokens.api_audiences if context.security.tokens else []
                )
                if wanted:
                    status["audiences"] = wanted
            else:
                status["error"] = "invalid bearer token"
        out["status"] = status
        out["spec"].pop("token", None)  # never echo a credential back
        return out


class SelfSubjectReviewStrategy(Strategy):
    resource = registry.resource(GROUP, "selfsubjectreviews")

    async def answer(self, body: dict[str, Any], context: ReviewContext) -> dict[str, Any]:
        review: SelfSubjectReview = _typed(SelfSubjectReview, body)
        out = review.to_dict()
        out["status"] = {"userInfo": context.user.to_wire()}
        out.setdefault("metadata", {})["creationTimestamp"] = None
        return out


def _required(path: str) -> Any:
    from apitypes.validation import required

    return required(path)
