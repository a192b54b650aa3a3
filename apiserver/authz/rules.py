"""RBAC rules: whether one allows a request, and whether a set of rules covers another
(Kubernetes' ``rbac.RuleAllows`` and ``validation.Covers``).

A resource rule allows a verb on ``resource`` or ``resource/subresource`` of an API
group, optionally only on ``resourceNames``; ``*`` matches any verb, group or resource,
and ``*/sub`` any resource's subresource ``sub``. A non-resource rule allows a verb on
URL paths, where ``/api/*`` matches by prefix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from apiserver.authz import Attributes

WILDCARD = "*"


@dataclass(frozen=True)
class Rule:
    verbs: frozenset[str]
    api_groups: frozenset[str] = frozenset()
    resources: frozenset[str] = frozenset()
    resource_names: frozenset[str] = frozenset()
    urls: frozenset[str] = frozenset()

    @classmethod
    def of(cls, wire: dict[str, Any]) -> Rule:
        return cls(
            verbs=frozenset(wire.get("verbs") or ()),
            api_groups=frozenset(wire.get("apiGroups") or ()),
            resources=frozenset(wire.get("resources") or ()),
            resource_names=frozenset(wire.get("resourceNames") or ()),
            urls=frozenset(wire.get("nonResourceURLs") or ()),
        )

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"verbs": sorted(self.verbs)}
        if self.urls:
            out["nonResourceURLs"] = sorted(self.urls)
            return out
        out["apiGroups"] = sorted(self.api_groups)
        out["resources"] = sorted(self.resources)
        if self.resource_names:
            out["resourceNames"] = sorted(self.resource_names)
        return out

    # --- one request --------------------------------------------------------------

    def allows(self, attrs: Attributes) -> bool:
        if not (WILDCARD in self.verbs or attrs.verb in self.verbs):
            return False
        if not attrs.is_resource_request:
            return bool(self.urls) and url_matches(self.urls, attrs.path)
        if self.urls and not self.resources:
            return False
        if not (WILDCARD in self.api_groups or attrs.api_group in self.api_groups):
            return False
        if not resource_matches(self.resources, attrs.resource, attrs.subresource):
            return False
        return not self.resource_names or attrs.name in self.resource_names


def url_matches(urls: Iterable[str], path: str) -> bool:
    for url in urls:
        if url in (WILDCARD, path):
            return True
        if url.endswith("*") and path.startswith(url[:-1]):
            return True
    return False


def resource_matches(resources: Iterable[str], resource: str, subresource: str) -> bool:
    combined = f"{resource}/{subresource}" if subresource else resource
    for rule in resources:
        if rule in (WILDCARD, combined):
            return True
        if subresource and rule == f"*/{subresource}":
            return True
    return False


def allows(rules: Iterable[Rule], attrs: Attributes) -> bool:
    return any(rule.allows(attrs) for rule in rules)


# --- coverage (escalation checks) ----------------------------------------------------


def _has(owned: frozenset[str], wanted: str) -> bool:
    return WILDCARD in owned or wanted in owned


def _covers_one(owner: Rule, verb: str, group: str, resource: str, name: str) -> bool:
    if owner.urls and not owner.resources:
        return False
    if not (_has(owner.verbs, verb) and _has(owner.api_groups, group)):
        return False
    if not _has(owner.resources, resource):
        sub = resource.split("/", 1)[1] if "/" in resource else ""
        if not (sub and f"*/{sub}" in owner.resources):
            return False
    if not owner.resource_names:
        return True
    return bool(name) and name in owner.resource_names


def _covers_url(owner: Rule, verb: str, url: str) -> bool:
    if not owner.urls or not _has(owner.verbs, verb):
        return False
    for owned in owner.urls:
        if owned in (WILDCARD, url):
            return True
        if owned.endswith("*") and url.startswith(owned[:-1]):
            return True
    return False


def uncovered(owner: Sequence[Rule], requested: Iterable[Rule]) -> list[Rule]:
    """The parts of ``requested`` that no rule of ``owner`` grants: each requested rule
    is split into single (verb, group, resource, name) grants, every one of which must
    be allowed by some owner rule (a requested ``*`` only by an owner ``*``)."""
    missing: list[Rule] = []
    for rule in requested:
        if rule.urls:
            for verb in rule.verbs:
                for url in rule.urls:
                    if not any(_covers_url(o, verb, url) for o in owner):
                        missing.append(Rule(frozenset({verb}), urls=frozenset({url})))
            continue
        names = rule.resource_names or frozenset({""})
        for verb in rule.verbs:
            for group in rule.api_groups:
                for resource in rule.resources:
                    for name in names:
                        if not any(_covers_one(o, verb, group, resource, name) for o in owner):
                            missing.append(
                                Rule(
                                    frozenset({verb}),
                                    frozenset({group}),
                                    frozenset({resource}),
                                    frozenset({name}) if name else frozenset(),
                                )
                            )
    return missing
