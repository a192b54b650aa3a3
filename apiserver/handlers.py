"""The REST surface: one handler for every resource path, dispatching to the stores.

Paths are Kubernetes' own::

    /api/v1/<resource>[/<name>[/<subresource>]]
    /api/v1/namespaces/<ns>/<resource>[/<name>[/<subresource>]]
    /apis/<group>/<version>/...            (the same shapes)

and verbs map as Kubernetes maps them (GET on a collection is list, or watch with
``?watch=true``; DELETE on a collection is deletecollection).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from apiserver import errors, eviction, negotiation, tables
from apiserver.metrics import LATENCY, REQUESTS
from apiserver.negotiation import Target
from apiserver.podproxy import PodProxy
from apiserver.registry.store import (
    DeleteOptions,
    ListOptions,
    ResourceStore,
    WriteOptions,
    WriteResult,
)
from apiserver.watch import WatchParams, WatchStream
from apiserver.watchcache import Predicate
from apitypes import patch as patches
from apitypes.selectors import SelectorError, parse_field_selector, parse_label_selector

log = logging.getLogger(__name__)

SUBRESOURCE_VERBS: dict[str, tuple[str, ...]] = {
    "status": ("get", "patch", "update"),
    "scale": ("get", "patch", "update"),
    "binding": ("create",),
    "eviction": ("create",),
    "finalize": ("update",),
    "log": ("get",),
    "exec": ("get", "create"),
    "portforward": ("get", "create"),
}
"""Subresources this server handles, and their verbs (discovery lists exactly these)."""


@dataclass(frozen=True)
class Route:
    store: ResourceStore
    namespace: str | None
    name: str | None
    subresource: str | None


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def status_response(err: errors.ApiError) -> Response:
    return JSONResponse(err.status(), status_code=err.code, headers=err.headers)


def _bool(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1")


def _int(params: Any, name: str) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError as err:
        raise errors.bad_request(f"{name}: invalid value {raw!r}: must be an integer") from err


class ResourceHandler:
    """Owns the stores of every served kind and answers their REST paths."""

    def __init__(
        self,
        stores: dict[tuple[str, str], ResourceStore],
        *,
        bookmark_interval: float = 60.0,
        min_request_timeout: float = 1800.0,
    ) -> None:
        self.stores = stores
        self._bookmark_interval = bookmark_interval
        self._min_request_timeout = min_request_timeout
        self.pod_proxy = PodProxy(stores[("", "pods")], stores[("", "nodes")])

    # --- entry point ------------------------------------------------------------------

    async def __call__(self, request: Request) -> Response:
        started = time.perf_counter()
        group = request.path_params.get("group", "")
        version = request.path_params["version"]
        path = request.path_params.get("path", "")
        verb = request.method
        labels = (verb, group, "", "")
        try:
            route = self._resolve(group, version, path)
            verb = self._verb(request, route)
            labels = (verb, group, route.store.resource.plural, route.subresource or "")
            response = await self._dispatch(request, route, verb)
        except errors.ApiError as err:
            response = status_response(err)
        except Exception:
            log.exception("%s %s failed", request.method, request.url.path)
            response = status_response(errors.internal("the server could not handle the request"))
        # Answers are built as JSON; YAML and protobuf are written here, for whoever asked.
        response = negotiation.answer(request.headers.get("accept"), response)
        LATENCY.labels(*labels).observe(time.perf_counter() - started)
        REQUESTS.labels(*labels, str(response.status_code)).inc()
        return response

    def _resolve(self, group: str, version: str, path: str) -> Route:
        segs = [s for s in path.split("/") if s]
        if not segs:
            raise errors.not_found_path(path)
        namespace: str | None = None
        if segs[0] == "namespaces" and len(segs) >= 3:
            inner = self.stores.get((group, segs[2]))
            if inner is not None and inner.resource.namespaced:
                namespace, segs = segs[1], segs[2:]
        if len(segs) > 3:
            raise errors.not_found_path(path)
        store = self.stores.get((group, segs[0]))
        if store is None or store.resource.version != version:
            raise errors.not_found_path(path)
        name = segs[1] if len(segs) > 1 else None
        sub = segs[2] if len(segs) > 2 else None
        if store.resource.namespaced and name is not None and namespace is None:
            raise errors.not_found_path(path)
        if sub is not None and (
            sub not in SUBRESOURCE_VERBS or sub not in store.resource.subresources
        ):
            raise errors.not_found_path(path)
        return Route(store, namespace, name, sub)

    @staticmethod
    def _verb(request: Request, route: Route) -> str:
        method = request.method
        if method == "GET":
            if route.name is None:
                return "WATCH" if _bool(request.query_params.get("watch")) else "LIST"
            return "GET"
        if method == "DELETE" and route.name is None:
            return "DELETECOLLECTION"
        return method

    async def _dispatch(self, request: Request, route: Route, verb: str) -> Response:
        sub = route.subresource
        if sub is not None:
            allowed = SUBRESOURCE_VERBS[sub]
            wanted = {"GET": "get", "PUT": "update", "PATCH": "patch", "POST": "create"}.get(verb)
            if wanted not in allowed:
                raise errors.method_not_allowed(
                    request.method, f"{route.store.resource.plural}/{sub}"
                )
            if sub == "scale":
                return await self._scale(request, route, verb)
            if sub == "binding":
                return await self._bind(request, route)
            if sub == "eviction":
                return await self._evict(request, route)
            if sub in ("log", "exec", "portforward"):
                assert route.namespace is not None and route.name is not None
                proxy = {
                    "log": self.pod_proxy.logs,
                    "exec": self.pod_proxy.exec_http,
                    "portforward": self.pod_proxy.portforward_http,
                }[sub]
                return await proxy(request, route.namespace, route.name)
        if verb == "LIST":
            return await self._list(request, route)
        if verb == "WATCH":
            return await self._watch(request, route)
        if verb == "GET":
            assert route.name is not None
            obj = await route.store.get(route.namespace, route.name)
            return self._render(request, route, obj)
        if verb == "POST":
            if route.name is not None:
                raise errors.method_not_allowed("POST", route.store.resource.plural)
            return await self._create(request, route)
        if verb == "PUT":
            return await self._update(request, route)
        if verb == "PATCH":
            return await self._patch(request, route)
        if verb == "DELETE":
            return await self._delete(request, route)
        if verb == "DELETECOLLECTION":
            return await self._delete_collection(request, route)
        raise errors.method_not_allowed(request.method, route.store.resource.plural)

    # --- rendering ----------------------------------------------------------------------

    def _render(
        self,
        request: Request,
        route: Route,
        obj: dict[str, Any],
        *,
        status_code: int = 200,
        warnings: list[str] | None = None,
    ) -> Response:
        target = negotiation.negotiate(request.headers.get("accept"))
        body: Any = obj
        if target.form == "Table":
            body = tables.table(
                route.store.strategy,
                [obj],
                version=target.version,
                include_object=request.query_params.get("includeObject", "Metadata"),
            )
        elif target.form in ("PartialObjectMetadata", "PartialObjectMetadataList"):
            body = tables.partial_metadata(obj, target.version)
        response = JSONResponse(body, status_code=status_code)
        for w in warnings or ():
            response.headers.append("Warning", negotiation.warning_header(w))
        return response

    # --- reads --------------------------------------------------------------------------

    def _predicate(self, request: Request, route: Route) -> Predicate:
        params = request.query_params
        labels = fields = None
        try:
            raw = params.get("labelSelector")
            if raw:
                labels = parse_label_selector(raw)
                if labels.is_empty():
                    labels = None
            raw = params.get("fieldSelector")
            if raw:
                fields = parse_field_selector(raw)
                allowed = {"metadata.name", "metadata.namespace"}
                allowed.update(route.store.strategy.selectable_fields)
                fields.check_supported(allowed)
                if fields.is_empty():
                    fields = None
        except SelectorError as err:
            raise errors.bad_request(str(err)) from err
        namespace = route.namespace if route.store.resource.namespaced else None
        return Predicate(namespace=namespace, labels=labels, fields=fields)

    async def _list(self, request: Request, route: Route) -> Response:
        params = request.query_params
        opts = ListOptions(
            predicate=self._predicate(request, route),
            limit=max(_int(params, "limit") or 0, 0),
            continue_token=params.get("continue") or None,
            resource_version=params.get("resourceVersion") or None,
            resource_version_match=params.get("resourceVersionMatch") or None,
        )
        result = await route.store.list_objects(opts)
        list_meta: dict[str, Any] = {"resourceVersion": result.resource_version}
        if result.continue_token:
            list_meta["continue"] = result.continue_token
        if result.remaining is not None:
            list_meta["remainingItemCount"] = result.remaining
        target = negotiation.negotiate(request.headers.get("accept"))
        resource = route.store.resource
        if target.form == "Table":
            body = tables.table(
                route.store.strategy,
                [orjson.loads(raw) for raw in result.items],
                version=target.version,
                include_object=params.get("includeObject", "Metadata"),
                list_meta=list_meta,
            )
        elif target.form == "PartialObjectMetadataList":
            body = {
                "kind": "PartialObjectMetadataList",
                "apiVersion": f"meta.k8s.io/{target.version}",
                "metadata": list_meta,
                "items": [
                    tables.partial_metadata(orjson.loads(raw), target.version)
                    for raw in result.items
                ],
            }
        else:
            # Objects are spliced in as stored JSON: no parse, no re-serialisation.
            head = orjson.dumps(
                {
                    "kind": resource.list_kind,
                    "apiVersion": resource.api_version,
                    "metadata": list_meta,
                }
            )
            raw_body = head[:-1] + b',"items":[' + b",".join(result.items) + b"]}"
            return Response(raw_body, media_type="application/json")
        return JSONResponse(body)

    async def _watch(self, request: Request, route: Route) -> Response:
        params = request.query_params
        timeout = _int(params, "timeoutSeconds")
        if timeout is None:
            # As Kubernetes: a random-ish spread above the minimum, so reconnects spread.
            timeout_s = self._min_request_timeout * (1 + (time.time() % 1))
        else:
            timeout_s = float(max(timeout, 0))
        watch_params = WatchParams(
            predicate=self._predicate(request, route),
            resource_version=params.get("resourceVersion") or None,
            timeout=timeout_s,
            bookmarks=_bool(params.get("allowWatchBookmarks")),
            bookmark_interval=self._bookmark_interval,
        )
        target = negotiation.negotiate_stream(request.headers.get("accept"))
        transform = self._watch_transform(route, target, params.get("includeObject", "Metadata"))
        stream = WatchStream(route.store, watch_params, transform)
        initial, cursor, revision = await stream.prepare()
        return StreamingResponse(
            stream.stream(initial, cursor, revision),
            media_type="application/json",
            headers={"Cache-Control": "no-cache, private"},
        )

    @staticmethod
    def _watch_transform(
        route: Route, target: Target, include_object: str
    ) -> Callable[[str, dict[str, Any]], dict[str, Any]] | None:
        if target.form == "Table":
            strategy = route.store.strategy
            first = [True]

            def to_table(_type: str, obj: dict[str, Any]) -> dict[str, Any]:
                with_columns = first[0]
                first[0] = False
                return tables.table(
                    strategy,
                    [obj],
                    version=target.version,
                    include_object=include_object,
                    list_meta={"resourceVersion": obj["metadata"].get("resourceVersion", "")},
                    with_columns=with_columns,
                )

            return to_table
        if target.form in ("PartialObjectMetadata", "PartialObjectMetadataList"):
            return lambda _type, obj: tables.partial_metadata(obj, target.version)
        return None

    # --- writes -----------------------------------------------------------------------

    @staticmethod
    def _write_options(request: Request) -> WriteOptions:
        params = request.query_params
        dry_run = params.getlist("dryRun")
        for value in dry_run:
            if value != "All":
                raise errors.bad_request(
                    f'dryRun: Unsupported value: "{value}": supported values: "All"'
                )
        validation = params.get("fieldValidation") or "Warn"
        if validation not in ("Ignore", "Warn", "Strict"):
            raise errors.bad_request(
                f'fieldValidation: Unsupported value: "{validation}": supported values: '
                '"Ignore", "Strict", "Warn"'
            )
        return WriteOptions(dry_run=bool(dry_run), field_validation=validation)

    @staticmethod
    async def _body(request: Request) -> bytes:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > negotiation.MAX_BODY:
            raise errors.too_large(negotiation.MAX_BODY)
        chunks = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > negotiation.MAX_BODY:
                raise errors.too_large(negotiation.MAX_BODY)
            chunks.append(chunk)
        return b"".join(chunks)

    async def _create(self, request: Request, route: Route) -> Response:
        body = negotiation.decode_object(
            await self._body(request), request.headers.get("content-type")
        )
        result = await route.store.create(route.namespace, body, self._write_options(request))
        return self._render(request, route, result.obj, status_code=201, warnings=result.warnings)

    async def _update(self, request: Request, route: Route) -> Response:
        assert route.name is not None
        body = negotiation.decode_object(
            await self._body(request), request.headers.get("content-type")
        )
        result = await route.store.update(
            route.namespace,
            route.name,
            body,
            self._write_options(request),
            subresource=route.subresource,
        )
        return self._write_response(request, route, result)

    def _write_response(self, request: Request, route: Route, result: WriteResult) -> Response:
        code = 201 if result.created else 200
        return self._render(request, route, result.obj, status_code=code, warnings=result.warnings)

    def _patcher(
        self, request: Request, route: Route, raw: bytes
    ) -> Callable[[dict[str, Any]], dict[str, Any]]:
        ctype = negotiation.media_type(request.headers.get("content-type"))
        if ctype == negotiation.APPLY_PATCH:
            raise errors.unsupported_media_type(ctype, negotiation.PATCH_TYPES)
        if ctype not in negotiation.PATCH_TYPES:
            raise errors.unsupported_media_type(ctype, negotiation.PATCH_TYPES)
        patch_body = negotiation.decode_body(raw, "application/json")
        model = route.store.model

        def apply(current: dict[str, Any]) -> dict[str, Any]:
            try:
                if ctype == negotiation.JSON_PATCH:
                    if not isinstance(patch_body, list):
                        raise errors.bad_request("a JSON patch must be a list of operations")
                    return patches.apply_json_patch(current, patch_body)
                if not isinstance(patch_body, dict):
                    raise errors.bad_request("a merge patch must be a JSON object")
                if ctype == negotiation.MERGE_PATCH:
                    return patches.apply_merge_patch(current, patch_body)
                # The store hands every attempt a private copy of the object.
                return patches.apply_strategic_merge_patch(
                    current, patch_body, model, in_place=True
                )
            except patches.PatchError as err:
                raise errors.ApiError(422, "Invalid", str(err)) from err

        return apply

    async def _patch(self, request: Request, route: Route) -> Response:
        assert route.name is not None
        apply = self._patcher(request, route, await self._body(request))
        result = await route.store.patch(
            route.namespace,
            route.name,
            apply,
            self._write_options(request),
            subresource=route.subresource,
        )
        return self._write_response(request, route, result)

    # --- delete ---------------------------------------------------------------------------

    async def _delete_options(self, request: Request) -> DeleteOptions:
        raw = await self._body(request)
        body: dict[str, Any] = {}
        if raw.strip():
            body = negotiation.decode_object(raw, request.headers.get("content-type"))
        params = request.query_params
        grace = _int(params, "gracePeriodSeconds")
        if grace is None and body.get("gracePeriodSeconds") is not None:
            grace = body["gracePeriodSeconds"]
            if not isinstance(grace, int) or isinstance(grace, bool):
                raise errors.bad_request("gracePeriodSeconds must be an integer")
        policy = params.get("propagationPolicy") or body.get("propagationPolicy")
        orphan = params.get("orphanDependents")
        orphan_flag = _bool(orphan) if orphan is not None else body.get("orphanDependents")
        if policy is None and orphan_flag is not None:
            policy = "Orphan" if orphan_flag else "Background"
        if policy not in (None, "Orphan", "Background", "Foreground"):
            raise errors.bad_request(
                f'propagationPolicy: Unsupported value: "{policy}": supported values: '
                '"Background", "Foreground", "Orphan"'
            )
        pre = body.get("preconditions") or {}
        dry_run = params.getlist("dryRun") or body.get("dryRun") or []
        return DeleteOptions(
            grace_period_seconds=grace,
            precondition_uid=pre.get("uid"),
            precondition_resource_version=pre.get("resourceVersion"),
            propagation_policy=policy,
            dry_run="All" in dry_run,
        )

    async def _delete(self, request: Request, route: Route) -> Response:
        assert route.name is not None
        opts = await self._delete_options(request)
        result = await route.store.delete(route.namespace, route.name, opts)
        if not result.deleted or route.store.strategy.return_deleted_object:
            return self._render(request, route, result.obj)
        return JSONResponse(self._success(route, result.obj))

    @staticmethod
    def _success(route: Route, obj: dict[str, Any]) -> dict[str, Any]:
        resource = route.store.resource
        details: dict[str, Any] = {"name": obj["metadata"].get("name"), "kind": resource.plural}
        if resource.group:
            details["group"] = resource.group
        if obj["metadata"].get("uid"):
            details["uid"] = obj["metadata"]["uid"]
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": details,
        }

    async def _delete_collection(self, request: Request, route: Route) -> Response:
        opts = await self._delete_options(request)
        listed = await route.store.list_objects(
            ListOptions(predicate=self._predicate(request, route))
        )
        deleted: list[dict[str, Any]] = []

        async def one(obj: dict[str, Any]) -> None:
            meta = obj["metadata"]
            try:
                result = await route.store.delete(meta.get("namespace"), meta["name"], opts)
                deleted.append(result.obj)
            except errors.ApiError as err:
                if err.code != 404:
                    raise

        await asyncio.gather(*(one(orjson.loads(raw)) for raw in listed.items))
        resource = route.store.resource
        return JSONResponse(
            {
                "kind": resource.list_kind,
                "apiVersion": resource.api_version,
                "metadata": {"resourceVersion": listed.resource_version},
                "items": deleted,
            }
        )

    # --- subresources ------------------------------------------------------------------------

    async def _scale(self, request: Request, route: Route, verb: str) -> Response:
        assert route.name is not None
        store = route.store
        if verb == "GET":
            obj = await store.get(route.namespace, route.name)
            return JSONResponse(_to_scale(obj))
        raw = await self._body(request)
        opts = self._write_options(request)
        from_scale: Callable[[dict[str, Any]], dict[str, Any]]
        if verb == "PUT":
            scale_body = negotiation.decode_object(raw, request.headers.get("content-type"))
            from_scale = lambda _current: scale_body  # noqa: E731
        else:
            apply_to_scale = self._patcher(request, route, raw)
            from_scale = lambda current: apply_to_scale(_to_scale(current))  # noqa: E731

        def set_replicas(current: dict[str, Any]) -> dict[str, Any]:
            scale = from_scale(current)
            rv = (scale.get("metadata") or {}).get("resourceVersion")
            if rv and rv != current["metadata"]["resourceVersion"]:
                raise errors.conflict(store.resource.plural, route.name or "", store.resource.group)
            replicas = (scale.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
                raise errors.ApiError(
                    422,
                    "Invalid",
                    f'Scale.autoscaling "{route.name}" is invalid: spec.replicas: Invalid value: '
                    f"{replicas!r}: must be greater than or equal to 0",
                    details={
                        "name": route.name,
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
            current.setdefault("spec", {})["replicas"] = replicas
            return current

        result = await store.patch(route.namespace, route.name, set_replicas, opts)
        return JSONResponse(_to_scale(result.obj))

    async def _evict(self, request: Request, route: Route) -> Response:
        assert route.name is not None and route.namespace is not None
        body = negotiation.decode_object(
            await self._body(request), request.headers.get("content-type")
        )
        await eviction.evict(
            route.store, self.stores[("policy", "poddisruptionbudgets")],
            route.namespace, route.name, body,
        )  # fmt: skip
        return JSONResponse(
            {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
             "code": 201},
            status_code=201,
        )  # fmt: skip

    async def _bind(self, request: Request, route: Route) -> Response:
        assert route.name is not None
        body = negotiation.decode_object(
            await self._body(request), request.headers.get("content-type")
        )
        target = body.get("target") or {}
        node = target.get("name")
        if not isinstance(node, str) or not node:
            raise errors.ApiError(
                422,
                "Invalid",
                f'Binding "{route.name}" is invalid: target.name: Required value',
                details={
                    "name": route.name,
                    "kind": "Binding",
                    "causes": [
                        {
                            "reason": "FieldValueRequired",
                            "field": "target.name",
                            "message": "Required value",
                        }
                    ],
                },
            )
        if target.get("kind") not in (None, "", "Node"):
            raise errors.bad_request(f"binding target kind must be Node, not {target.get('kind')}")
        annotations = (body.get("metadata") or {}).get("annotations") or {}
        store = route.store
        name = route.name

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

        await store.patch(
            route.namespace, name, assign, self._write_options(request), subresource="binding"
        )
        return JSONResponse(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "code": 201,
            },
            status_code=201,
        )


def _to_scale(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    selector = spec.get("selector")
    scale_status: dict[str, Any] = {"replicas": status.get("replicas", 0)}
    if selector:
        from apitypes.selectors import from_label_selector

        text = str(from_label_selector(selector))
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


def _set_pod_condition(pod: dict[str, Any], cond_type: str, status: str) -> None:
    from apitypes.base import format_time, now

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
