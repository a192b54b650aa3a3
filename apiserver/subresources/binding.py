"""``pods/<name>/binding``: assign a pod to a node (what the scheduler does).

As Kubernetes' binding does, without the pod strategy: it refuses a pod being deleted,
already assigned, or with scheduling gates; it sets ``spec.nodeName``, the Binding's
annotations and the ``PodScheduled`` condition on the stored pod, and checks only the
metadata (the rest was validated when the pod was written).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from apiserver import errors, rest
from apiserver.registry.strategy import Strategy
from apiserver.registry.subresource import Subresource, SubresourceKind, Target
from apitypes import core
from apitypes.base import format_time, now
from apitypes.validation import (
    FieldError,
    FieldPath,
    invalid,
    is_dns1123_subdomain,
    required,
)


class Binding(Subresource):
    name = "binding"
    verbs = ("create",)
    kind = SubresourceKind("", "v1", "Binding", core.Binding)

    async def serve(self, request: Request, target: Target) -> Response:
        name = target.name
        opts = rest.write_options(request)
        body = await rest.read_object(request)
        body.setdefault("target", {})  # a missing target is a 422 (Required), as in Kubernetes
        binding = rest.decode_as(core.Binding, body, "Binding")
        if binding.metadata.name and binding.metadata.name != name:
            raise errors.bad_request("name in URL does not match name in Binding object")
        node = _target_node(name, binding.target)
        annotations = dict(binding.metadata.annotations)

        def assign(current: dict[str, Any]) -> dict[str, Any]:
            spec = current.setdefault("spec", {})
            meta = current["metadata"]
            if meta.get("deletionTimestamp"):
                raise errors.conflict(
                    "pods", name, "", "pod is being deleted, cannot be assigned to a host"
                )
            if spec.get("nodeName"):
                raise errors.conflict(
                    "pods", name, "", f'pod {name} is already assigned to node "{spec["nodeName"]}"'
                )
            if spec.get("schedulingGates"):
                raise errors.conflict(
                    "pods", name, "", f"pod {name} has non-empty .spec.schedulingGates"
                )
            spec["nodeName"] = node
            meta.setdefault("annotations", {}).update(annotations)
            _set_pod_condition(current, "PodScheduled", "True")
            return current

        await target.store.patch(target.namespace, name, assign, opts, subresource=self)
        return rest.created_status()

    # The assignment above is the whole change: nothing to keep, default or re-check
    # but the metadata.

    def prepare_for_update(self, strategy: Strategy, new: Any, old: Any) -> None:
        pass

    def default(self, strategy: Strategy, obj: Any) -> None:
        pass

    def validate_update(self, strategy: Strategy, new: Any, old: Any) -> list[FieldError]:
        return strategy.validate_metadata(new)


def _target_node(name: str, target: core.ObjectReference) -> str:
    """The node a Binding names: 422 without one, or with one no Node could have (a
    node name is a DNS-1123 subdomain, as a pod's ``spec.nodeName`` is); 400 for a
    target that is no Node."""
    path = FieldPath("target")
    if target.kind not in (None, "", "Node"):
        raise errors.bad_request(f"binding target kind must be Node, not {target.kind}")
    node = target.name or ""
    problems = (
        [required(path.child("name"))]
        if not node
        else [invalid(path.child("name"), node, msg) for msg in is_dns1123_subdomain(node)]
    )
    if problems:
        raise errors.invalid("Binding", name, problems)
    return node


def _set_pod_condition(pod: dict[str, Any], cond_type: str, status: str) -> None:
    conditions = pod.setdefault("status", {}).setdefault("conditions", [])
    for cond in conditions:
        if cond.get("type") == cond_type:
            if cond.get("status") != status:
                cond["status"] = status
                cond["lastTransitionTime"] = format_time(now())
            return
    conditions.append(
        {"type": cond_type, "status": status, "lastTransitionTime": format_time(now())}
    )
