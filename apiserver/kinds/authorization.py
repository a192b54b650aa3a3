"""The access reviews (authorization.k8s.io/v1): answered, never stored.

SubjectAccessReview: may ``spec.user`` (with ``groups``, ``extra``) do what
``spec.resourceAttributes`` or ``spec.nonResourceAttributes`` say (kubelets ask it of
every request, ``--authorization-mode Webhook``). LocalSubjectAccessReview: the same
within the namespace of its path. SelfSubjectAccessReview: may the caller
(``kubectl auth can-i``). SelfSubjectRulesReview: what the caller may do in a
namespace (``kubectl auth can-i --list``). Each is asked of the server's own
authorizer (``--authorization-mode``), so the answer is the one a request would get.
"""

from __future__ import annotations

from typing import Any

from apiserver import errors
from apiserver.authz import Attributes
from apiserver.registry.strategy import Strategy
from apiserver.security import ReviewContext
from apiserver.user import UserInfo
from apitypes import registry
from apitypes.authorization import (
    GROUP,
    LocalSubjectAccessReview,
    SelfSubjectAccessReview,
    SelfSubjectRulesReview,
    SubjectAccessReview,
)
from apitypes.validation import FieldError, invalid, required


def _typed(model: Any, body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except ValueError as err:
        raise errors.bad_request(f"invalid {model.KIND}: {err}") from err


def _spec_errors(spec: Any) -> list[FieldError]:
    has_resource = spec.resource_attributes is not None
    has_path = spec.non_resource_attributes is not None
    if has_resource and has_path:
        return [
            invalid(
                "spec.nonResourceAttributes",
                "",
                "cannot be specified in combination with resourceAttributes",
            )
        ]
    if not has_resource and not has_path:
        return [
            required(
                "spec.resourceAttributes",
                "exactly one of nonResourceAttributes or resourceAttributes must be specified",
            )
        ]
    return []


def spec_user(spec: Any) -> UserInfo:
    """The user a (Local)SubjectAccessReview asks about."""
    return UserInfo(
        spec.user or "",
        spec.uid or "",
        tuple(spec.groups),
        {k: tuple(v) for k, v in spec.extra.items()},
    )


def attributes(spec: Any, user: UserInfo) -> Attributes:
    """The authorizer's question of a review's spec."""
    if spec.resource_attributes is not None:
        ra = spec.resource_attributes
        return Attributes(
            user=user,
            verb=ra.verb or "",
            is_resource_request=True,
            namespace=ra.namespace or "",
            api_group=ra.group or "",
            api_version=ra.version or "",
            resource=ra.resource or "",
            subresource=ra.subresource or "",
            name=ra.name or "",
            field_selector=(ra.field_selector.raw_selector or "") if ra.field_selector else "",
            label_selector=(ra.label_selector.raw_selector or "") if ra.label_selector else "",
        )
    na = spec.non_resource_attributes
    return Attributes(user=user, verb=na.verb or "", is_resource_request=False, path=na.path or "")


async def _decide(
    body: dict[str, Any], review: Any, attrs: Attributes, context: ReviewContext
) -> dict[str, Any]:
    decision = await context.security.authorizer.authorize(attrs)
    status: dict[str, Any] = {"allowed": decision.allowed}
    if decision.verdict == "deny":
        status["denied"] = True
    if decision.reason:
        status["reason"] = decision.reason
    out = review.to_dict()
    out["status"] = status
    return out


class SubjectAccessReviewStrategy(Strategy):
    resource = registry.resource(GROUP, "subjectaccessreviews")

    async def answer(self, body: dict[str, Any], context: ReviewContext) -> dict[str, Any]:
        review: SubjectAccessReview = _typed(SubjectAccessReview, body)
        spec = review.spec
        errs = _spec_errors(spec)
        if not spec.user and not spec.groups:
            errs.append(required("spec.user", "at least one of user or group must be specified"))
        if errs:
            raise errors.invalid(self.resource.kind, "", errs, GROUP)
        return await _decide(body, review, attributes(spec, spec_user(spec)), context)


class SelfSubjectAccessReviewStrategy(Strategy):
    resource = registry.resource(GROUP, "selfsubjectaccessreviews")

    async def answer(self, body: dict[str, Any], context: ReviewContext) -> dict[str, Any]:
        review: SelfSubjectAccessReview = _typed(SelfSubjectAccessReview, body)
        errs = _spec_errors(review.spec)
        if errs:
            raise errors.invalid(self.resource.kind, "", errs, GROUP)
        return await _decide(body, review, attributes(review.spec, context.user), context)


class LocalSubjectAccessReviewStrategy(Strategy):
    resource = registry.resource(GROUP, "localsubjectaccessreviews")

    async def answer(self, body: dict[str, Any], context: ReviewContext) -> dict[str, Any]:
        review: LocalSubjectAccessReview = _typed(LocalSubjectAccessReview, body)
        spec = review.spec
        errs = _spec_errors(spec)
        if spec.resource_attributes is not None and (spec.resource_attributes.namespace or "") != (
            context.namespace or ""
        ):
            errs.append(
                invalid(
                    "spec.resourceAttributes.namespace",
                    spec.resource_attributes.namespace or "",
                    "must match metadata.namespace",
                )
            )
        if errs:
            raise errors.invalid(self.resource.kind, "", errs, GROUP)
        return await _decide(body, review, attributes(spec, spec_user(spec)), context)


class SelfSubjectRulesReviewStrategy(Strategy):
    resource = registry.resource(GROUP, "selfsubjectrulesreviews")

    async def answer(self, body: dict[str, Any], context: ReviewContext) -> dict[str, Any]:
        review: SelfSubjectRulesReview = _typed(SelfSubjectRulesReview, body)
        namespace = review.spec.namespace or ""
        rules = await context.security.authorizer.rules_for(context.user, namespace)
        out = review.to_dict()
        out["status"] = rules.to_wire()
        return out
