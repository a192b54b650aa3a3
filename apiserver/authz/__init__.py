"""Authorization: may this user do this (Kubernetes' ``authorization`` union).

Each authorizer answers ``ALLOW``, ``DENY`` or ``NO_OPINION`` for ``Attributes`` (the
user and the request info); the union (``union.py``) asks them in
``--authorization-mode`` order and the first that allows or denies decides; nobody
allowing is a 403. ``system:masters`` is allowed everything before any is asked.
Modes: ``AlwaysAllow``, ``AlwaysDeny``, ``Node`` (``node.py``), ``RBAC`` (``rbac.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apiserver.requestinfo import RequestInfo
from apiserver.user import UserInfo

ALLOW = "allow"
DENY = "deny"
NO_OPINION = "no-opinion"


@dataclass(frozen=True)
class Attributes:
    """What a request wants to do, as authorizers see it."""

    user: UserInfo
    verb: str
    is_resource_request: bool
    namespace: str = ""
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    path: str = ""
    field_selector: str = ""
    label_selector: str = ""

    @classmethod
    def of(cls, user: UserInfo, info: RequestInfo) -> Attributes:
        return cls(
            user=user,
            verb=info.verb,
            is_resource_request=info.is_resource_request,
            namespace=info.namespace,
            api_group=info.api_group,
            api_version=info.api_version,
            resource=info.resource,
            subresource=info.subresource,
            name=info.name,
            path=info.path,
            field_selector=info.field_selector,
            label_selector=info.label_selector,
        )


@dataclass(frozen=True)
class Decision:
    verdict: str
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.verdict == ALLOW


@dataclass
class RuleSet:
    """What a user may do in a namespace (SelfSubjectRulesReview's status)."""

    resource_rules: list[dict[str, Any]] = field(default_factory=list)
    non_resource_rules: list[dict[str, Any]] = field(default_factory=list)
    incomplete: bool = False
    error: str = ""

    def add(self, other: RuleSet) -> None:
        self.resource_rules.extend(other.resource_rules)
        self.non_resource_rules.extend(other.non_resource_rules)
        self.incomplete = self.incomplete or other.incomplete
        if other.error:
            self.error = f"{self.error}; {other.error}" if self.error else other.error

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "resourceRules": self.resource_rules,
            "nonResourceRules": self.non_resource_rules,
            "incomplete": self.incomplete,
        }
        if self.error:
            out["evaluationError"] = self.error
        return out


EVERYTHING = RuleSet(
    [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
    [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
)


class Authorizer:
    """One authorization mode."""

    name = ""

    async def authorize(self, attrs: Attributes) -> Decision:
        raise NotImplementedError

    async def rules_for(self, user: UserInfo, namespace: str) -> RuleSet:
        """What ``user`` may do in ``namespace``, as far as this mode can list it."""
        return RuleSet(incomplete=True)


class AlwaysAllow(Authorizer):
    name = "AlwaysAllow"

    async def authorize(self, attrs: Attributes) -> Decision:
        return Decision(ALLOW)

    async def rules_for(self, user: UserInfo, namespace: str) -> RuleSet:
        return RuleSet(EVERYTHING.resource_rules, EVERYTHING.non_resource_rules)


class AlwaysDeny(Authorizer):
    name = "AlwaysDeny"

    async def rules_for(self, user: UserInfo, namespace: str) -> RuleSet:
        return RuleSet()

    async def authorize(self, attrs: Attributes) -> Decision:
        return Decision(DENY, "Everything is forbidden.")
