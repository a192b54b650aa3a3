"""ResourceQuota: a create or update that would take a namespace past one of its quotas
is refused (Kubernetes' plugin, last in the chain). An update is charged what it adds:
for each resource, the new object's usage less the stored one's when the quota counted
that too (a Service turned into a LoadBalancer takes ``services.loadbalancers``), nothing
for what it gives back (the resource quota controller recomputes that).

For each quota of the namespace that counts the new object (``apitypes.quota``: its
scopes), the object's usage is added to the quota's ``status.used`` and compared with
``spec.hard``; over any limit is a 403 (``exceeded quota: q, requested: pods=1, used:
pods=2, limited: pods=2``), and a pod that leaves a quota'd compute resource
unspecified is refused too (``must specify limits.cpu for: web``). A quota whose status
the controller has not computed yet refuses what it would count. When everything fits,
the new usage is written to the quotas' status at once, compare-and-swap on their
version (so concurrent creates cannot both take the last unit); the resource quota
controller recomputes it from what exists.
"""

from __future__ import annotations

from typing import Any

from apiserver import errors
from apiserver.admission import CREATE, UPDATE, Attributes, Plugin
from apitypes import quota
from apitypes.core import Pod, ResourceQuota

_ATTEMPTS = 8


class ResourceQuotaPlugin(Plugin):
    name = "ResourceQuota"

    async def validate(self, attrs: Attributes) -> None:
        if attrs.operation not in (CREATE, UPDATE) or not attrs.resource.namespaced:
            return
        if attrs.subresource or (attrs.operation == UPDATE and attrs.old is None):
            return
        namespace = attrs.namespace or ""
        for _ in range(_ATTEMPTS):
            quotas = self.lookup.cached_list("resourcequotas", namespace)
            if not quotas:
                return
            obj = attrs.obj.to_dict()
            usage = quota.object_usage(attrs.resource.plural, attrs.group, obj)
            updates = [
                update for q in quotas if (update := self._charge(q, attrs, obj, usage)) is not None
            ]
            if attrs.dry_run or not updates:
                return
            try:
                for update in updates:
                    await self.lookup.update_status("resourcequotas", namespace, update)
            except errors.ApiError as err:
                if err.code == 409:
                    continue  # another create charged a quota first: count again
                raise
            return
        raise errors.ApiError(
            409, "Conflict", "too many concurrent writes to the namespace's quotas; try again"
        )

    def _charge(
        self, raw: dict[str, Any], attrs: Attributes, obj: dict[str, Any], usage: quota.Usage
    ) -> dict[str, Any] | None:
        """The quota with the object's usage added (None when it counts nothing of it);
        ``ApiError`` when the object does not fit."""
        q = ResourceQuota.model_validate(raw)
        hard = q.spec.hard if q.spec else {}
        if not hard or not quota.matches_scopes(q.spec, attrs.resource.plural, attrs.group, obj):
            return None
        name = q.metadata.name or ""
        charged = {k: v for k, v in usage.items() if k in hard}
        if attrs.operation == UPDATE:
            charged = self._added(q, attrs, charged)
        elif attrs.is_("", "pods"):
            missing = quota.missing_specs(hard, Pod.model_validate(obj))
            if missing:
                raise self._refused(
                    attrs, f"failed quota: {name}: must specify {'; '.join(missing)}"
                )
        if not charged:
            return None
        if q.status is None or not q.status.hard:
            raise self._refused(
                attrs, f"status unknown for quota: {name}, resources: {', '.join(sorted(charged))}"
            )
        used = quota.parse_list(q.status.used)
        limits = quota.parse_list(hard)
        after = dict(used)
        quota.add(after, charged)
        over = sorted(k for k in charged if k in limits and after[k] > limits[k])
        if over:

            def show(values: dict[str, Any]) -> str:
                return ",".join(f"{k}={values.get(k, 0)}" for k in over)

            raise self._refused(
                attrs,
                f"exceeded quota: {name}, requested: {show(charged)}, used: {show(used)}, "
                f"limited: {show(limits)}",
            )
        out = q.to_dict()
        out["status"]["used"] = {
            **(q.status.used or {}),
            **quota.format_list({k: after[k] for k in charged}),
        }
        return out

    @staticmethod
    def _added(q: ResourceQuota, attrs: Attributes, charged: quota.Usage) -> quota.Usage:
        """What an update adds to ``charged`` (the new object's usage) over the stored
        object's, when the quota counted the stored one too."""
        old = attrs.old.to_dict()
        plural, group = attrs.resource.plural, attrs.group
        if not quota.matches_scopes(q.spec, plural, group, old):
            return charged
        before = quota.object_usage(plural, group, old)
        added: quota.Usage = {}
        for key, amount in charged.items():
            was = before.get(key)
            if was is None:
                added[key] = amount
            elif amount > was:
                added[key] = amount - was
        return added

    @staticmethod
    def _refused(attrs: Attributes, message: str) -> errors.ApiError:
        return errors.forbidden(attrs.resource.plural, attrs.name, message, attrs.group)
