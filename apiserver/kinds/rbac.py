"""Role, ClusterRole, RoleBinding, ClusterRoleBinding (rbac.authorization.k8s.io/v1).

Names are path segments (``system:node`` is a name). A rule needs verbs, and either
resources (with API groups) or, in a ClusterRole, non-resource URLs, never both. A
binding's ``roleRef`` names a Role (RoleBindings only) or ClusterRole and never changes;
its subjects are users, groups or service accounts (these with a namespace, in a
ClusterRoleBinding). Who may write a role or binding at all is decided by the
authorizer; that the writer cannot grant more than it holds (``escalate``/``bind``) is
``apiserver.authz.escalation``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apiserver.kinds.printers import AGE_COLUMN
from apiserver.registry.strategy import Column, Strategy, age
from apitypes import registry
from apitypes.base import format_time
from apitypes.rbac import GROUP, ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding
from apitypes.validation import FieldError, FieldPath, invalid, not_supported, required

SUBJECT_KINDS = ("User", "Group", "ServiceAccount")


def path_segment_errors(name: str) -> list[str]:
    """Kubernetes' ``ValidatePathSegmentName``: anything but ``.``, ``..``, ``/`` or ``%``."""
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]


def rule_errors(rules: Sequence[PolicyRule], path: FieldPath, *, cluster: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, rule in enumerate(rules):
        at = path.index(i)
        if not rule.verbs:
            errs.append(required(at.child("verbs"), "verbs must contain at least one value"))
        if rule.non_resource_urls:
            if not cluster:
                errs.append(
                    invalid(
                        at.child("nonResourceURLs"),
                        rule.non_resource_urls,
                        "namespaced rules cannot apply to non-resource URLs",
                    )
                )
            if rule.api_groups or rule.resources or rule.resource_names:
                errs.append(
                    invalid(
                        at.child("nonResourceURLs"),
                        rule.non_resource_urls,
                        "rules cannot apply to both regular resources and non-resource URLs",
                    )
                )
            continue
        if not rule.resources:
            errs.append(
                required(at.child("resources"), "resource rules must supply at least one resource")
            )
        if not rule.api_groups:
            errs.append(
                required(at.child("apiGroups"), "resource rules must supply at least one api group")
            )
    return errs


class _RBACStrategy(Strategy):
    def name_errors(self, name: str) -> list[str]:
        return path_segment_errors(name)


class _RoleStrategy(_RBACStrategy):
    columns = (
        Column("Created At", "date", "CreationTimestamp is a timestamp representing the server "
               "time when this object was created."),
    )  # fmt: skip

    def row(self, obj: Any) -> Sequence[Any]:
        return [format_time(obj.metadata.creation_timestamp)]


class ClusterRoleStrategy(_RoleStrategy):
    resource = registry.resource(GROUP, "clusterroles")

    def validate(self, obj: ClusterRole) -> list[FieldError]:
        errs = self.validate_metadata(obj)
        errs.extend(rule_errors(obj.rules, FieldPath("rules"), cluster=True))
        if obj.aggregation_rule is not None and not obj.aggregation_rule.cluster_role_selectors:
            errs.append(
                required(
                    FieldPath("aggregationRule", "clusterRoleSelectors"),
                    "at least one clusterRoleSelector required if aggregationRule is non-nil",
                )
            )
        return errs


class RoleStrategy(_RoleStrategy):
    resource = registry.resource(GROUP, "roles")

    def validate(self, obj: Role) -> list[FieldError]:
        return self.validate_metadata(obj) + rule_errors(
            obj.rules, FieldPath("rules"), cluster=False
        )


class _BindingStrategy(_RBACStrategy):
    role_kinds: tuple[str, ...] = ("ClusterRole",)

    def default(self, obj: Any) -> None:
        for subject in obj.subjects:
            if subject.api_group is None and subject.kind in ("User", "Group"):
                subject.api_group = GROUP

    def validate(self, obj: Any) -> list[FieldError]:
        errs = self.validate_metadata(obj)
        ref = obj.role_ref
        ref_path = FieldPath("roleRef")
        if ref.api_group != GROUP:
            errs.append(not_supported(ref_path.child("apiGroup"), ref.api_group, [GROUP]))
        if ref.kind not in self.role_kinds:
            errs.append(not_supported(ref_path.child("kind"), ref.kind, list(self.role_kinds)))
        if not ref.name:
            errs.append(required(ref_path.child("name")))
        else:
            errs.extend(
                invalid(ref_path.child("name"), ref.name, m) for m in path_segment_errors(ref.name)
            )
        for i, subject in enumerate(obj.subjects):
            at = FieldPath("subjects").index(i)
            if subject.kind not in SUBJECT_KINDS:
                errs.append(not_supported(at.child("kind"), subject.kind, list(SUBJECT_KINDS)))
            if not subject.name:
                errs.append(required(at.child("name")))
            if subject.kind == "ServiceAccount":
                if subject.api_group:
                    errs.append(not_supported(at.child("apiGroup"), subject.api_group, [""]))
                if not subject.namespace and self.resource.kind == "ClusterRoleBinding":
                    errs.append(required(at.child("namespace")))
            elif subject.kind in ("User", "Group") and subject.api_group != GROUP:
                errs.append(not_supported(at.child("apiGroup"), subject.api_group, [GROUP]))
        return errs

    def validate_update(self, new: Any, old: Any) -> list[FieldError]:
        if new.role_ref != old.role_ref:
            return [invalid(FieldPath("roleRef"), new.role_ref.to_dict(), "cannot change roleRef")]
        return []

    columns = (
        Column("Role", description="RoleRef is the reference to the role."),
        AGE_COLUMN,
        Column("Users", priority=1, description="The users of the subjects."),
        Column("Groups", priority=1, description="The groups of the subjects."),
        Column("ServiceAccounts", priority=1, description="The service accounts of the subjects."),
    )

    def row(self, obj: Any) -> Sequence[Any]:
        def names(kind: str) -> str:
            found = [
                (f"{s.namespace}/{s.name}" if kind == "ServiceAccount" else s.name)
                for s in obj.subjects
                if s.kind == kind
            ]
            return ", ".join(found)

        return [
            f"{obj.role_ref.kind}/{obj.role_ref.name}",
            age(obj.metadata.creation_timestamp),
            names("User"),
            names("Group"),
            names("ServiceAccount"),
        ]


class ClusterRoleBindingStrategy(_BindingStrategy):
    resource = registry.resource(GROUP, "clusterrolebindings")

    def validate(self, obj: ClusterRoleBinding) -> list[FieldError]:
        return super().validate(obj)


class RoleBindingStrategy(_BindingStrategy):
    resource = registry.resource(GROUP, "rolebindings")
    role_kinds = ("Role", "ClusterRole")

    def validate(self, obj: RoleBinding) -> list[FieldError]:
        return super().validate(obj)
