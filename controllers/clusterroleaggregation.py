"""The ClusterRole aggregation controller: a ClusterRole with an ``aggregationRule`` gets
as its rules the union of the rules of every ClusterRole its selectors match (Kubernetes'
``clusterrole-aggregation-controller``), so that ``admin``, ``edit`` and ``view`` grow
with any role labelled ``rbac.authorization.k8s.io/aggregate-to-<role>: "true"``.

Watches ClusterRoles; any change enqueues every aggregated role. Rules keep the order
they are found in (roles by name, their rules in order), without duplicates.
"""

from __future__ import annotations

import contextlib
from typing import Any

from apiclient import Informer, errors
from apitypes.rbac import ClusterRole
from apitypes.registry import by_model
from apitypes.selectors import SelectorError, from_label_selector
from controllers.base import Controller, ControllerContext

CLUSTER_ROLES = by_model(ClusterRole)


def aggregate(role: ClusterRole, roles: list[ClusterRole]) -> list[dict[str, Any]]:
    """The rules ``role``'s aggregation rule collects from ``roles``."""
    assert role.aggregation_rule is not None
    selectors = []
    for raw in role.aggregation_rule.cluster_role_selectors:
        with contextlib.suppress(SelectorError):
            selectors.append(from_label_selector(raw))
    rules: list[dict[str, Any]] = []
    for other in sorted(roles, key=lambda r: r.metadata.name or ""):
        if other.metadata.name == role.metadata.name:
            continue
        labels = other.metadata.labels
        if not any(not s.is_empty() and s.matches(labels) for s in selectors):
            continue
        for rule in other.rules:
            wire = rule.to_dict()
            if wire not in rules:
                rules.append(wire)
    return rules


class ClusterRoleAggregationController(Controller):
    name = "clusterrole-aggregation-controller"
    service_account = "clusterrole-aggregation-controller"
    aliases = ("clusterrole-aggregation",)

    def __init__(self, ctx: ControllerContext, workers: int = 1) -> None:
        super().__init__(ctx, workers)
        self.roles: Informer[ClusterRole] = self.factory.informer(ClusterRole)
        self.roles.add_handler(self._changed, lambda _old, new: self._changed(new), self._changed)

    def _changed(self, _role: ClusterRole) -> None:
        for role in self.roles.store.objects():
            if role.aggregation_rule is not None:
                self.enqueue(role)

    async def reconcile(self, key: str) -> float | None:
        role = self.roles.store.get(key)
        if role is None or role.aggregation_rule is None:
            return None
        rules = aggregate(role, self.roles.store.objects())
        if [r.to_dict() for r in role.rules] == rules:
            return None
        body = role.to_dict()
        body["rules"] = rules
        with contextlib.suppress(errors.NotFoundError):
            self.remember(
                ClusterRole.model_validate(await self.client.update_raw(CLUSTER_ROLES, body))
            )
        return None
