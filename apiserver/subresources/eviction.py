"""The ``pods/<name>/eviction`` subresource: a delete that honours disruption budgets.

As Kubernetes does: a pod that is not running (pending, succeeded, failed) is deleted
at once. Otherwise every PodDisruptionBudget in the pod's namespace whose selector
matches the pod must allow a disruption; the eviction takes one
(``status.disruptionsAllowed - 1``, the pod noted in ``status.disruptedPods``) with a
compare-and-swap write, then deletes the pod. A budget that allows none answers
``429 TooManyRequests`` and nothing is deleted. At most one budget may match.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from apiserver import errors, rest
from apiserver.fieldmanager import SERVER_MANAGER
from apiserver.registry.store import DeleteOptions, ListOptions, ResourceStore, WriteOptions
from apiserver.registry.subresource import Subresource, SubresourceKind, Target
from apiserver.watchcache import Predicate
from apitypes import policy
from apitypes.base import format_time, now
from apitypes.selectors import SelectorError, from_label_selector


class Eviction(Subresource):
    name = "eviction"
    verbs = ("create",)
    kind = SubresourceKind("policy", "v1", "Eviction", policy.Eviction)

    async def serve(self, request: Request, target: Target) -> Response:
        assert target.namespace is not None  # pods are namespaced
        # An eviction is a create: the query's dryRun applies, as its body's does.
        dry_run = rest.write_options(request).dry_run
        body = await rest.read_object(request)
        await self.admit(request, target)
        budgets = target.backends.stores[("policy", "poddisruptionbudgets")]
        await evict(target.store, budgets, target.namespace, target.name, body, dry_run=dry_run)
        return rest.created_status()


def _delete_options(body: dict[str, Any], dry_run: bool) -> DeleteOptions:
    """The Eviction's ``deleteOptions``; 400 for a malformed one, before any write."""
    opts = rest.decode_delete_options(body.get("deleteOptions") or {}, "deleteOptions")
    pre = opts.preconditions
    return DeleteOptions(
        grace_period_seconds=opts.grace_period_seconds,
        precondition_uid=pre.uid if pre else None,
        precondition_resource_version=pre.resource_version if pre else None,
        propagation_policy=opts.propagation_policy,
        dry_run=dry_run or bool(opts.dry_run),
    )


async def evict(
    pods: ResourceStore,
    pdbs: ResourceStore,
    namespace: str,
    name: str,
    body: dict[str, Any],
    *,
    dry_run: bool = False,
) -> None:
    """Delete pod ``name`` as the Eviction ``body`` asks, if its budget allows."""
    meta = body.get("metadata") or {}
    if not isinstance(meta, dict):
        raise errors.bad_request("Eviction.metadata: must be an object")
    if meta.get("name") and meta["name"] != name:
        raise errors.bad_request(
            f"name in URL does not match name in Eviction object: {name} vs {meta['name']}"
        )
    opts = _delete_options(body, dry_run)
    pod = await pods.get(namespace, name)
    phase = (pod.get("status") or {}).get("phase")
    if pod["metadata"].get("deletionTimestamp") or phase in ("Pending", "Succeeded", "Failed"):
        await pods.delete(namespace, name, opts)
        return
    labels = pod["metadata"].get("labels") or {}
    listed = await pdbs.list_objects(ListOptions(predicate=Predicate(namespace=namespace)))
    matching = []
    for raw in listed.items:
        pdb = orjson.loads(raw)
        try:
            selector = from_label_selector((pdb.get("spec") or {}).get("selector"))
        except SelectorError:
            continue
        if not selector.is_empty() and selector.matches(labels):
            matching.append(pdb)
    if len(matching) > 1:
        raise errors.ApiError(
            500, "InternalError",
            "This pod has more than one PodDisruptionBudget, which the eviction subresource "
            "does not support.",
        )  # fmt: skip
    if matching:
        pdb_name = matching[0]["metadata"]["name"]

        def take_one(current: dict[str, Any]) -> dict[str, Any]:
            status = current.setdefault("status", {})
            allowed = int(status.get("disruptionsAllowed") or 0)
            observed = status.get("observedGeneration")
            if observed is not None and observed < current["metadata"].get("generation", 0):
                raise _budget_refused(pdb_name, "the disruption budget is still being processed")
            if allowed < 1:
                raise _budget_refused(
                    pdb_name,
                    f"The disruption budget {pdb_name} needs {status.get('desiredHealthy', 0)} "
                    f"healthy pods and has {status.get('currentHealthy', 0)} currently",
                )
            status["disruptionsAllowed"] = allowed - 1
            status.setdefault("disruptedPods", {})[name] = format_time(now())
            return current

        await pdbs.patch(
            namespace,
            pdb_name,
            take_one,
            WriteOptions(dry_run=opts.dry_run, field_manager=SERVER_MANAGER),
            subresource="status",
        )
    await pods.delete(namespace, name, opts)


def _budget_refused(pdb: str, cause: str) -> errors.ApiError:
    return errors.ApiError(
        429,
        "TooManyRequests",
        "Cannot evict pod as it would violate the pod's disruption budget.",
        details={"causes": [{"reason": "DisruptionBudget", "message": cause}]},
    )
