"""The authorizer of the request path: ``system:masters`` first, then every mode of
``--authorization-mode`` in order; the first allow or deny decides."""

from __future__ import annotations

from collections.abc import Sequence

from apiserver.authz import (
    ALLOW,
    DENY,
    EVERYTHING,
    NO_OPINION,
    Attributes,
    Authorizer,
    Decision,
    RuleSet,
)
from apiserver.user import MASTERS, UserInfo


class Union(Authorizer):
    name = "Union"

    def __init__(self, authorizers: Sequence[Authorizer]) -> None:
        self.authorizers = list(authorizers)

    async def authorize(self, attrs: Attributes) -> Decision:
        if MASTERS in attrs.user.groups:
            return Decision(ALLOW, "system:masters")
        reasons = []
        for authorizer in self.authorizers:
            decision = await authorizer.authorize(attrs)
            if decision.verdict in (ALLOW, DENY):
                return decision
            if decision.reason:
                reasons.append(decision.reason)
        return Decision(NO_OPINION, "; ".join(reasons))

    async def rules_for(self, user: UserInfo, namespace: str) -> RuleSet:
        if MASTERS in user.groups:
            return RuleSet(EVERYTHING.resource_rules, EVERYTHING.non_resource_rules)
        found = RuleSet()
        for authorizer in self.authorizers:
            found.add(await authorizer.rules_for(user, namespace))
        return found


def forbidden_message(attrs: Attributes, reason: str = "") -> str:
    """Kubernetes' words for a refused request."""
    user = f'User "{attrs.user.name}"'
    if not attrs.is_resource_request:
        text = f'{user} cannot {attrs.verb} path "{attrs.path}"'
    else:
        resource = attrs.resource
        what = f"{resource}/{attrs.subresource}" if attrs.subresource else resource
        qualified = f"{resource}.{attrs.api_group}" if attrs.api_group else resource
        head = (
            f'{qualified} "{attrs.name}" is forbidden'
            if attrs.name
            else f"{qualified} is forbidden"
        )
        where = (
            f' in the namespace "{attrs.namespace}"' if attrs.namespace else " at the cluster scope"
        )
        text = (
            f'{head}: {user} cannot {attrs.verb} resource "{what}" in API group '
            f'"{attrs.api_group}"{where}'
        )
    return f"{text}: {reason}" if reason else text
