"""The RBAC authorizer (``--authorization-mode RBAC``): Roles, ClusterRoles and their
bindings, as Kubernetes' ``rbac.go`` evaluates them.

A request is allowed when some rule of a role bound to the user (by name, by one of its
groups, or as a service account) allows it: ClusterRoleBindings everywhere,
RoleBindings (to a Role of their namespace or a ClusterRole) in their namespace. Rules
are read from the watch caches of the four kinds through an index by subject, rebuilt
whenever one of the caches changed; evaluating a request walks only the bindings of the
user and its groups. A missing role grants nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from apiserver.admission import Lookup
from apiserver.authz import ALLOW, NO_OPINION, Attributes, Authorizer, Decision, RuleSet
from apiserver.authz.rules import Rule
from apiserver.user import UserInfo, service_account_user
from apitypes.rbac import GROUP

Subject = tuple[str, str]
"""("User", name) or ("Group", name); service accounts are users."""


@dataclass(frozen=True)
class _Binding:
    description: str
    role_kind: str
    role_name: str
    namespace: str = ""


@dataclass
class _Index:
    cluster_roles: dict[str, list[Rule]] = field(default_factory=dict)
    roles: dict[tuple[str, str], list[Rule]] = field(default_factory=dict)
    cluster_bindings: dict[Subject, list[_Binding]] = field(default_factory=dict)
    bindings: dict[str, dict[Subject, list[_Binding]]] = field(default_factory=dict)


def _subject_keys(subjects: list[dict[str, str]], namespace: str) -> list[Subject]:
    keys: list[Subject] = []
    for subject in subjects or []:
        kind, name = subject.get("kind"), subject.get("name") or ""
        if kind == "ServiceAccount":
            keys.append(("User", service_account_user(subject.get("namespace") or namespace, name)))
        elif kind in ("User", "Group"):
            keys.append((kind, name))
    return keys


def _describe(kind: str, binding: dict[str, object], ref: dict[str, str], who: Subject) -> str:
    meta = binding["metadata"]
    assert isinstance(meta, dict)
    where = f' in namespace "{meta.get("namespace")}"' if meta.get("namespace") else ""
    return (
        f'{kind} "{meta.get("name")}" of {ref.get("kind")} "{ref.get("name")}" to '
        f'{who[0]} "{who[1]}"{where}'
    )


class RBACAuthorizer(Authorizer):
    name = "RBAC"

    def __init__(self, lookup: Lookup) -> None:
        self.lookup = lookup
        self._index = _Index()
        self._seen: tuple[int, ...] = ()

    def _current(self) -> _Index:
        seen = tuple(
            self.lookup.changes(plural, GROUP)
            for plural in ("clusterroles", "roles", "clusterrolebindings", "rolebindings")
        )
        if seen != self._seen:
            self._index = self._build()
            self._seen = seen
        return self._index

    def _build(self) -> _Index:
        index = _Index()
        for role in self.lookup.cached_list("clusterroles", None, GROUP):
            index.cluster_roles[role["metadata"]["name"]] = [
                Rule.of(r) for r in role.get("rules") or []
            ]
        for role in self.lookup.cached_list("roles", None, GROUP):
            meta = role["metadata"]
            index.roles[(meta.get("namespace", ""), meta["name"])] = [
                Rule.of(r) for r in role.get("rules") or []
            ]
        for binding in self.lookup.cached_list("clusterrolebindings", None, GROUP):
            ref = binding.get("roleRef") or {}
            if ref.get("kind") != "ClusterRole":
                continue
            for key in _subject_keys(binding.get("subjects") or [], ""):
                index.cluster_bindings.setdefault(key, []).append(
                    _Binding(
                        _describe("ClusterRoleBinding", binding, ref, key),
                        "ClusterRole",
                        ref.get("name", ""),
                    )
                )
        for binding in self.lookup.cached_list("rolebindings", None, GROUP):
            ref = binding.get("roleRef") or {}
            namespace = binding["metadata"].get("namespace", "")
            per_namespace = index.bindings.setdefault(namespace, {})
            for key in _subject_keys(binding.get("subjects") or [], namespace):
                per_namespace.setdefault(key, []).append(
                    _Binding(
                        _describe("RoleBinding", binding, ref, key),
                        ref.get("kind", ""),
                        ref.get("name", ""),
                        namespace,
                    )
                )
        return index

    def _bound_rules(self, user: UserInfo, namespace: str) -> Iterator[tuple[str, list[Rule]]]:
        """(which binding, its role's rules) for every binding that applies to ``user``
        in ``namespace`` ('' : cluster-wide only)."""
        index = self._current()
        keys: list[Subject] = [("User", user.name), *(("Group", g) for g in user.groups)]
        for key in keys:
            for binding in index.cluster_bindings.get(key, ()):
                yield binding.description, index.cluster_roles.get(binding.role_name, [])
        if not namespace:
            return
        per_namespace = index.bindings.get(namespace, {})
        for key in keys:
            for binding in per_namespace.get(key, ()):
                if binding.role_kind == "ClusterRole":
                    rules = index.cluster_roles.get(binding.role_name, [])
                else:
                    rules = index.roles.get((namespace, binding.role_name), [])
                yield binding.description, rules

    async def authorize(self, attrs: Attributes) -> Decision:
        for source, rules in self._bound_rules(attrs.user, attrs.namespace):
            for rule in rules:
                if rule.allows(attrs):
                    return Decision(ALLOW, f"RBAC: allowed by {source}")
        return Decision(NO_OPINION, "")

    def user_rules(self, user: UserInfo, namespace: str) -> list[Rule]:
        """Every rule that applies to ``user`` in ``namespace`` (cluster-wide with '')."""
        return [rule for _, rules in self._bound_rules(user, namespace) for rule in rules]

    async def rules_for(self, user: UserInfo, namespace: str) -> RuleSet:
        found = RuleSet()
        for rule in self.user_rules(user, namespace):
            if rule.urls:
                found.non_resource_rules.append(rule.to_wire())
            else:
                found.resource_rules.append(rule.to_wire())
        return found
