"""The REST surface: one handler for every resource path, dispatching to the stores.

Paths are Kubernetes' own::

    /api/v1/<resource>[/<name>[/<subresource>]]
    /api/v1/namespaces/<ns>/<resource>[/<name>[/<subresource>]]
    /apis/<group>/<version>/...            (the same shapes)

and verbs map as Kubernetes maps them (GET on a collection is list, or watch with
``?watch=true``; DELETE on a collection is deletecollection). A subresource path goes
to the subresource object its kind declares (``Strategy.subresources``), HTTP or
WebSocket alike; nothing below an object is special-cased here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.websockets import WebSocket

from apiserver import errors, negotiation, requestlog, rest, tables
from apiserver.filters import user_of
from apiserver.kubeletclient import KubeletClient
from apiserver.metrics import LATENCY, REQUESTS
from apiserver.registry.store import ListOptions, ResourceStore
from apiserver.registry.strategy import Strategy
from apiserver.registry.subresource import VERBS, Backends, Subresource, Target
from apiserver.rest import JSONResponse, flag, int_param
from apiserver.security import ReviewContext, Security
from apiserver.watch import WatchParams, WatchStream
from apiserver.watchcache import Predicate
from apitypes.selectors import SelectorError, parse_field_selector, parse_label_selector

_COLLECTION_VERBS = {
    "collection": ("LIST", "WATCH", "POST", "DELETECOLLECTION"),
    "all-namespaces": ("LIST", "WATCH"),
}
"""The verbs served on a collection path, by what it spans."""


@dataclass(frozen=True)
class Route:
    store: ResourceStore
    namespace: str | None
    name: str | None
    subresource: Subresource | None


class ResourceHandler:
    """Owns the stores of every served kind and answers their REST paths."""

    def __init__(
        self,
        stores: dict[tuple[str, str], ResourceStore],
        *,
        reviews: dict[tuple[str, str], Strategy] | None = None,
        security: Security | None = None,
        kubelets: KubeletClient | None = None,
        bookmark_interval: float = 60.0,
        min_request_timeout: float = 1800.0,
    ) -> None:
        self.stores = stores
        self.reviews = reviews or {}
        self.backends = Backends(stores, kubelets or KubeletClient(), security)
        self._bookmark_interval = bookmark_interval
        self._min_request_timeout = min_request_timeout

    async def close(self) -> None:
        await self.backends.kubelets.close()

    # --- entry point ------------------------------------------------------------------

    async def __call__(self, request: Request) -> Response:
        started = time.perf_counter()
        group = request.path_params.get("group", "")
        version = request.path_params["version"]
        path = request.path_params.get("path", "")
        verb = request.method
        labels = (verb, group, "", "")
        try:
            review = self._review(group, version, path)
            if review is not None:
                labels = (verb, group, review.resource.plural, "")
                response = await self._answer(request, review, path)
                LATENCY.labels(*labels).observe(time.perf_counter() - started)
                REQUESTS.labels(*labels, str(response.status_code)).inc()
                return response
            route = self._resolve(group, version, path)
            verb = self._verb(request, route)
            request.scope[requestlog.SCOPE_VERB] = verb
            sub = route.subresource
            labels = (verb, group, route.store.resource.plural, sub.name if sub else "")
            response = await self._dispatch(request, route, verb)
        except errors.ApiError as err:
            if err.code >= 500:
                request.scope[requestlog.SCOPE_ERROR] = err
            response = rest.status_response(err)
        except Exception as err:
            # The request log writes the traceback with the request's line.
            request.scope[requestlog.SCOPE_ERROR] = err
            response = rest.status_response(
                errors.internal("the server could not handle the request")
            )
        # Answers are built as JSON; YAML and protobuf are written here, for whoever asked.
        response = negotiation.answer(request.headers.get("accept"), response)
        LATENCY.labels(*labels).observe(time.perf_counter() - started)
        REQUESTS.labels(*labels, str(response.status_code)).inc()
        return response

    def _review(self, group: str, version: str, path: str) -> Strategy | None:
        """The create-only kind a path names (``/apis/authorization.k8s.io/v1/
        selfsubjectaccessreviews``, namespaced ``localsubjectaccessreviews``), if any."""
        if not self.reviews:
            return None
        segs = [s for s in path.split("/") if s]
        if len(segs) == 3 and segs[0] == "namespaces":
            segs = segs[2:]
        if len(segs) != 1:
            return None
        found = self.reviews.get((group, segs[0]))
        if found is None or found.resource.version != version:
            return None
        return found

    async def _answer(self, request: Request, review: Strategy, path: str) -> Response:
        """A create on a create-only kind: the kind answers; nothing is stored."""
        if request.method != "POST":
            raise errors.method_not_allowed(request.method, review.resource.plural)
        segs = [s for s in path.split("/") if s]
        namespace = segs[1] if len(segs) == 3 else None
        if review.resource.namespaced != (namespace is not None):
            raise errors.not_found_path(path)
        user = user_of(request.scope)
        if user is None or self.backends.security is None:
            raise errors.forbidden(review.resource.plural, "", "no authenticated user")
        body = await rest.read_object(request)
        context = ReviewContext(user, namespace, self.backends.security)
        return JSONResponse(await review.answer(body, context), status_code=201)

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
        if store.resource.namespaced and name is not None and namespace is None:
            raise errors.not_found_path(path)
        sub = None
        if len(segs) > 2:
            sub = store.strategy.subresource(segs[2])
            if sub is None:
                raise errors.not_found_path(path)
        return Route(store, namespace, name, sub)

    @staticmethod
    def _verb(request: Request, route: Route) -> str:
        method = request.method
        if method == "GET":
            if route.name is None:
                return "WATCH" if flag(request.query_params.get("watch")) else "LIST"
            return "GET"
        if method == "DELETE" and route.name is None:
            return "DELETECOLLECTION"
        return method

    async def _dispatch(self, request: Request, route: Route, verb: str) -> Response:
        sub = route.subresource
        if sub is not None:
            assert route.name is not None  # a subresource path names an object
            if VERBS.get(verb) not in sub.verbs:
                raise errors.method_not_allowed(
                    request.method, f"{route.store.resource.plural}/{sub.name}"
                )
            target = Target(route.store, route.namespace, route.name, self.backends)
            return await sub.serve(request, target)
        if route.name is None and verb not in _COLLECTION_VERBS[self._scope(route)]:
            # As Kubernetes routes them: a collection takes no PUT or PATCH, and the
            # all-namespaces collection of a namespaced kind is for reading only (an
            # object is created, or a collection deleted, in its namespace).
            raise errors.method_not_allowed(request.method, route.store.resource.plural)
        if verb == "LIST":
            return await self._list(request, route)
        if verb == "WATCH":
            return await self._watch(request, route)
        if verb == "GET":
            assert route.name is not None
            return await rest.get_object(request, route.store, route.namespace, route.name)
        if verb == "POST":
            if route.name is not None:
                raise errors.method_not_allowed("POST", route.store.resource.plural)
            return await self._create(request, route)
        if verb == "PUT":
            assert route.name is not None
            return await rest.update_object(request, route.store, route.namespace, route.name)
        if verb == "PATCH":
            assert route.name is not None
            return await rest.patch_object(request, route.store, route.namespace, route.name)
        if verb == "DELETE":
            return await self._delete(request, route)
        if verb == "DELETECOLLECTION":
            return await self._delete_collection(request, route)
        raise errors.method_not_allowed(request.method, route.store.resource.plural)

    @staticmethod
    def _scope(route: Route) -> str:
        if route.store.resource.namespaced and route.namespace is None:
            return "all-namespaces"
        return "collection"

    async def websocket(self, websocket: WebSocket) -> None:
        """A WebSocket upgrade on a resource path: served by the subresource it names
        if that subresource takes WebSockets (``exec``, ``portforward``); anything else
        is closed before the handshake, as a path without a WebSocket route is."""
        params = websocket.path_params
        try:
            route = self._resolve(params.get("group", ""), params["version"], params["path"])
        except errors.ApiError:
            route = None
        sub = route.subresource if route is not None else None
        if route is None or sub is None or not sub.websocket or route.name is None:
            await websocket.close()
            return
        target = Target(route.store, route.namespace, route.name, self.backends)
        await sub.serve_websocket(websocket, target)

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
        opts = _list_options(params, self._predicate(request, route))
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
            raw_body = head[:-1] + b',"items":[' + b",".join(result.items) + b"]}\n"
            return Response(raw_body, media_type="application/json")
        return JSONResponse(body)

    async def _watch(self, request: Request, route: Route) -> Response:
        params = request.query_params
        timeout = int_param(params, "timeoutSeconds")
        if not timeout:
            # As Kubernetes: a random-ish spread above the minimum, so reconnects spread.
            timeout_s = self._min_request_timeout * (1 + (time.time() % 1))
        else:
            # A negative timeout ends the watch at once; a huge one is a watch that
            # lasts as long as the connection (asyncio's timers overflow far earlier
            # than an int64 of seconds).
            timeout_s = float(min(max(timeout, 0), _LONGEST_WATCH))
        version = params.get("resourceVersion") or None
        if version is not None:
            parse_resource_version(version)
        watch_params = WatchParams(
            predicate=self._predicate(request, route),
            resource_version=version,
            timeout=timeout_s,
            bookmarks=flag(params.get("allowWatchBookmarks")),
            bookmark_interval=self._bookmark_interval,
        )
        target = negotiation.negotiate_stream(request.headers.get("accept"))
        transform = self._watch_transform(route, target, params.get("includeObject", "Metadata"))
        stream = WatchStream(route.store, watch_params, transform)
        start = await stream.prepare()
        return StreamingResponse(
            stream.stream(start),
            media_type="application/json",
            headers={"Cache-Control": "no-cache, private"},
        )

    @staticmethod
    def _watch_transform(
        route: Route, target: negotiation.Target, include_object: str
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

    async def _create(self, request: Request, route: Route) -> Response:
        body = await rest.read_object(request)
        result = await route.store.create(route.namespace, body, rest.write_options(request))
        return rest.render(
            request, route.store, result.obj, status_code=201, warnings=result.warnings
        )

    # --- delete ---------------------------------------------------------------------------

    async def _delete(self, request: Request, route: Route) -> Response:
        assert route.name is not None
        opts = await rest.delete_options(request)
        result = await route.store.delete(route.namespace, route.name, opts)
        if not result.deleted or route.store.strategy.return_deleted_object:
            return rest.render(request, route.store, result.obj)
        return JSONResponse(self._success(route, result.obj))

    @staticmethod
    def _success(route: Route, obj: dict[str, Any]) -> dict[str, Any]:
        resource = route.store.resource
        meta = obj["metadata"]
        details = {
            "name": meta.get("name"),
            "group": resource.group,
            "kind": resource.plural,
            "uid": meta.get("uid"),
        }
        return errors.status_body("Success", details=details)

    async def _delete_collection(self, request: Request, route: Route) -> Response:
        opts = await rest.delete_options(request)
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


_LONGEST_WATCH = 10 * 365 * 24 * 3600
"""Seconds: a longer ``timeoutSeconds`` is taken as this (a decade)."""

MAX_PAGE = 10_000
"""The most objects one page of a list holds, whatever ``limit`` asks: a larger limit
gets pages of this size with a ``continue`` token (the API lets a server return fewer
than ``limit``). 10,000 is Kubernetes' cap on the pages it reads from etcd."""

_MATCHES = ("Exact", "NotOlderThan")


def _list_options(params: Any, predicate: Predicate) -> ListOptions:
    """A list's options; 400 naming the parameter for values or combinations
    Kubernetes refuses (its ``ValidateListOptions``), and for a negative ``limit``."""
    limit = int_param(params, "limit") or 0
    if limit < 0:
        raise errors.bad_request(f"limit: Invalid value: {limit}: must be 0 or greater")
    version = params.get("resourceVersion") or None
    match = params.get("resourceVersionMatch") or None
    token = params.get("continue") or None
    if match is not None:
        if match not in _MATCHES:
            raise errors.bad_request(
                f'resourceVersionMatch: Unsupported value: "{match}": supported values: '
                '"Exact", "NotOlderThan", ""'
            )
        if version is None:
            raise errors.bad_request(
                "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless "
                "resourceVersion is provided"
            )
        if token is not None:
            raise errors.bad_request(
                "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when "
                "continue is provided"
            )
        if match == "Exact" and version == "0":
            raise errors.bad_request(
                'resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden '
                'for resourceVersion "0"'
            )
    if version is not None:
        parse_resource_version(version)
        if token is not None and version != "0":
            raise errors.bad_request(
                "specifying resource version is not allowed when using continue"
            )
    return ListOptions(
        predicate=predicate,
        limit=min(limit, MAX_PAGE),
        continue_token=token,
        resource_version=version,
        resource_version_match=match,
    )


def parse_resource_version(version: str) -> int:
    """A ``resourceVersion`` parameter: an etcd revision, 0 to ``int64`` max; 400 if not."""
    if not version.isdigit() or int(version) > rest.INT64_MAX:
        raise errors.bad_request(f'invalid resource version "{version}"')
    return int(version)
