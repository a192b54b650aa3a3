"""``<kind>/<name>/scale``: ``spec.replicas`` read and written as an ``autoscaling/v1`` Scale.

For kinds with ``spec.replicas`` and a label ``spec.selector`` (ReplicaSets,
Deployments, StatefulSets), or an equality-based one, a plain map of labels
(ReplicationControllers: ``Scale(equality_selector=True)``). A write changes only ``spec.replicas``, through the main
resource's rules (the kind's validation, generation counting); a ``resourceVersion``
in the Scale is a precondition on the object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from apiserver import errors, negotiation, rest
from apiserver.registry.subresource import Subresource, SubresourceKind, Target
from apitypes import autoscaling
from apitypes.selectors import from_label_selector, selector_from_set


class Scale(Subresource):
    name = "scale"
    verbs = ("get", "patch", "update")
    kind = SubresourceKind("autoscaling", "v1", "Scale", autoscaling.Scale)

    def __init__(self, *, equality_selector: bool = False) -> None:
        self.equality_selector = equality_selector

    def to_scale(self, obj: dict[str, Any]) -> dict[str, Any]:
        return to_scale(obj, equality_selector=self.equality_selector)

    async def serve(self, request: Request, target: Target) -> Response:
        store, name = target.store, target.name
        if request.method == "GET":
            return rest.JSONResponse(self.to_scale(await store.get(target.namespace, name)))
        raw = await rest.read_body(request)
        opts = rest.write_options(request, subresource=self.name)
        from_scale: Callable[[dict[str, Any]], dict[str, Any]]
        if request.method == "PUT":
            scale_body = negotiation.decode_object(raw, request.headers.get("content-type"))
            from_scale = lambda _current: scale_body  # noqa: E731
        else:
            apply_to_scale = rest.patcher(request, store.model, raw)
            from_scale = lambda current: apply_to_scale(self.to_scale(current))  # noqa: E731

        def set_replicas(current: dict[str, Any]) -> dict[str, Any]:
            scale = from_scale(current)
            rv = (scale.get("metadata") or {}).get("resourceVersion")
            if rv and rv != current["metadata"]["resourceVersion"]:
                raise errors.conflict(store.resource.plural, name, store.resource.group)
            # Go's ScaleSpec.replicas is not a pointer: absent is 0, as a Go client that
            # scales to zero sends it (JSON omitempty, protobuf alike).
            replicas = (scale.get("spec") or {}).get("replicas", 0)
            if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
                raise _invalid_replicas(name, replicas)
            current.setdefault("spec", {})["replicas"] = replicas
            return current

        result = await store.patch(target.namespace, name, set_replicas, opts)
        return rest.JSONResponse(self.to_scale(result.obj))


def to_scale(obj: dict[str, Any], *, equality_selector: bool = False) -> dict[str, Any]:
    """The Scale of a wire-form object: its replicas, observed replicas and selector
    (a ``LabelSelector``, or with ``equality_selector`` a map of labels)."""
    meta = obj["metadata"]
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    selector = spec.get("selector")
    scale_status: dict[str, Any] = {"replicas": status.get("replicas", 0)}
    if selector:
        parsed = selector_from_set(selector) if equality_selector else from_label_selector(selector)
        text = str(parsed)
        if text:
            scale_status["selector"] = text
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": spec.get("replicas", 1)} if "replicas" in spec else {},
        "status": scale_status,
    }


def _invalid_replicas(name: str, replicas: Any) -> errors.ApiError:
    return errors.ApiError(
        422,
        "Invalid",
        f'Scale.autoscaling "{name}" is invalid: spec.replicas: Invalid value: '
        f"{replicas!r}: must be greater than or equal to 0",
        details={
            "name": name,
            "group": "autoscaling",
            "kind": "Scale",
            "causes": [
                {
                    "reason": "FieldValueInvalid",
                    "field": "spec.replicas",
                    "message": "must be greater than or equal to 0",
                }
            ],
        },
    )
