"""RBAC escalation prevention: nobody grants, through a role or a binding, what they
cannot do themselves (Kubernetes' ``pkg/registry/rbac/validation`` and the roles'
"policy-based" storage).

- Writing a Role or ClusterRole: allowed when the writer may ``escalate`` that role, or
  already holds every permission in its rules (in the role's namespace; cluster-wide
  for a ClusterRole). A ClusterRole whose rules an ``aggregationRule`` fills is judged
  by its rules too.
- Writing a RoleBinding or ClusterRoleBinding: allowed when the writer may ``bind`` the
  referenced role, or already holds every permission in it.
- ``system:masters`` may do both (it holds everything).

It runs as the first validating step of admission whenever the RBAC authorizer is on;
unlike the plugins of ``--enable-admission-plugins`` it cannot be turned off.
"""

from __future__ import annotations

from typing import Any

from apiserver import errors
from apiserver.admission import CREATE, UPDATE, Attributes, Plugin, Settings
from apiserver.authz import Attributes as AuthzAttributes
from apiserver.authz import Authorizer
from apiserver.authz.rbac import RBACAuthorizer
from apiserver.authz.rules import Rule, uncovered
from apiserver.user import MASTERS
from apitypes.rbac import GROUP


class EscalationCheck(Plugin):
    name = "RBACEscalationCheck"

    def __init__(
        self, rbac: RBACAuthorizer, authorizer: Authorizer, settings: Settings | None = None
    ) -> None:
        super().__init__(rbac.lookup, settings or Settings())
        self.rbac = rbac
        self.authorizer = authorizer

    async def validate(self, attrs: Attributes) -> None:
        if attrs.group != GROUP or attrs.operation not in (CREATE, UPDATE) or attrs.subresource:
            return
        if MASTERS in attrs.user.groups:
            return
        plural = attrs.resource.plural
        namespace = attrs.namespace or ""
        obj = attrs.obj
        if plural in ("roles", "clusterroles"):
            if await self._may(attrs, "escalate", plural, obj.metadata.name or ""):
                return
            wanted = [Rule.of(r.to_dict()) for r in obj.rules]
            what = f"{obj.KIND} {obj.metadata.name}"
        elif plural in ("rolebindings", "clusterrolebindings"):
            ref = obj.role_ref
            ref_plural = "clusterroles" if ref.kind == "ClusterRole" else "roles"
            ref_namespace = "" if ref.kind == "ClusterRole" else namespace
            if await self._may(attrs, "bind", ref_plural, ref.name, ref_namespace or namespace):
                return
            role = await self.lookup.get(ref_plural, ref_namespace or None, ref.name, GROUP)
            wanted = [Rule.of(r) for r in (role or {}).get("rules") or []]
            what = f"{ref.kind} {ref.name}"
        else:
            return
        missing = uncovered(self.rbac.user_rules(attrs.user, namespace), wanted)
        if missing:
            shown = "; ".join(_describe(r) for r in missing[:8])
            more = f" (and {len(missing) - 8} more)" if len(missing) > 8 else ""
            raise errors.forbidden(
                plural,
                obj.metadata.name or "",
                f'user "{attrs.user.name}" (groups={list(attrs.user.groups)}) is attempting to '
                f"grant RBAC permissions not currently held by granting {what}: "
                f"{shown}{more}",
                GROUP,
            )

    async def _may(
        self, attrs: Attributes, verb: str, plural: str, name: str, namespace: str | None = None
    ) -> bool:
        question = AuthzAttributes(
            user=attrs.user,
            verb=verb,
            is_resource_request=True,
            namespace=attrs.namespace or "" if namespace is None else namespace,
            api_group=GROUP,
            resource=plural,
            name=name,
        )
        return (await self.authorizer.authorize(question)).allowed


def _describe(rule: Rule) -> str:
    wire: dict[str, Any] = rule.to_wire()
    if rule.urls:
        return f"{{NonResourceURLs:{wire['nonResourceURLs']}, Verbs:{wire['verbs']}}}"
    names = f", ResourceNames:{wire['resourceNames']}" if rule.resource_names else ""
    return (
        f"{{APIGroups:{wire['apiGroups']}, Resources:{wire['resources']}{names}, "
        f"Verbs:{wire['verbs']}}}"
    )
