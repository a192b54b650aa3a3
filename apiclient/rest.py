"""The async REST client every daemon and the CLI use.

``Client`` speaks the Kubernetes REST API over aiohttp: requests go to an aiohttp
session directly, watches stream through httpx over aiohttp's transport (httpcore's
connection pool is the bottleneck under concurrent requests). Two layers:

- typed verbs (``get``, ``list``, ``create``, ``update``, ``patch``, ``delete``,
  ``watch``, subresources) take and return ``apitypes`` models; the model class picks
  the resource;
- ``*_raw`` verbs take a ``ResourceType`` and plain dicts, for callers that handle
  arbitrary manifests (the CLI).

Every failure is a typed ``ApiError`` built from the server's ``Status``. Requests the
server did not process (429, 503 with Retry-After, refused connections) are retried a
few times with backoff; anything else is the caller's to decide.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import aiohttp
import httpx
import orjson
import yarl
from httpx_aiohttp import AiohttpTransport

from apiclient import errors
from apiclient.config import ClientConfig
from apitypes.base import KubeObject
from apitypes.registry import ResourceType, by_model, resource

log = logging.getLogger(__name__)

T = TypeVar("T", bound=KubeObject)

JSON = "application/json"
PATCH_TYPES = {
    "strategic": "application/strategic-merge-patch+json",
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
}
_RETRIES = 5


@dataclass
class ObjectList(Generic[T]):
    items: list[T]
    resource_version: str
    continue_: str | None = None
    remaining: int | None = None


@dataclass
class WatchEvent(Generic[T]):
    """One event of a watch. ``object`` is None for BOOKMARK events."""

    type: str
    object: T | None
    resource_version: str
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


class TokenBucket:
    """Client-side rate limit: ``qps`` tokens per second, up to ``burst`` banked."""

    def __init__(self, qps: float, burst: int) -> None:
        self.qps = qps
        self.burst = max(burst, 1)
        self._tokens = float(self.burst)
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        async with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.qps)
            self._stamp = now
            if self._tokens < 1:
                wait = (1 - self._tokens) / self.qps
                await asyncio.sleep(wait)
                self._tokens = 0
                self._stamp = time.monotonic()
            else:
                self._tokens -= 1


def _session_factory(config: ClientConfig) -> Any:
    def make() -> aiohttp.ClientSession:
        # No connection cap: every watch holds one connection for its lifetime.
        connector = aiohttp.TCPConnector(limit=0, ssl=config.ssl_context())
        return aiohttp.ClientSession(connector=connector)

    return make


def _raise_for(resp: httpx.Response, body: bytes) -> None:
    _raise_status(resp.status_code, resp.reason_phrase, body)


def _raise_status(code: int, reason: str, body: bytes) -> None:
    try:
        status = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        status = {}
    if not isinstance(status, dict) or status.get("kind") != "Status":
        text = body.decode(errors="replace").strip()[:300]
        status = {"code": code, "message": text or reason}
    raise errors.from_status(status, code)


def _status_retry_wait(code: int, retry_after: str | None, delay: float) -> float | None:
    """How long to wait before retrying an answer with status ``code``, or None when it
    is final: 429 always retries, 503 only when the server said when (Retry-After)."""
    if code not in (429, 503) or (retry_after is None and code != 429):
        return None
    wait = float(retry_after) if retry_after and retry_after.isdigit() else delay
    return min(wait, 5.0)


def _connection_failed(
    server: str, err: Exception, *, refused: bool, method: str, last: bool
) -> errors.ConnectionFailedError | None:
    """The error to raise for a transport failure, or None to retry it. Only a refused
    connection is certainly unprocessed: retry those for all verbs, other transport
    failures only for reads."""
    if (refused or method == "GET") and not last:
        return None
    return errors.ConnectionFailedError(
        {"message": f"cannot reach the apiserver at {server}: {err}"}
    )


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Client:
    """An async client for one apiserver. Use as ``async with Client(config) as c``."""

    def __init__(self, config: ClientConfig, *, user_agent: str = "navarch") -> None:
        self.config = config
        headers = {"User-Agent": user_agent, "Accept": JSON, **config.extra_headers}
        self._headers = headers
        # ``request`` talks to aiohttp directly: httpx's per-request machinery (URL
        # merging, request models, auth and redirect flows, the transport adapter)
        # costs three times what the aiohttp request itself does, and daemons send
        # thousands of small requests. Watch streams go through httpx.
        self._session: aiohttp.ClientSession | None = None
        self._http = self._new_http()
        self._retired: list[aiohttp.ClientSession | httpx.AsyncClient] = []
        self._limiter = (
            TokenBucket(config.qps, config.burst or int(config.qps * 2)) if config.qps else None
        )

    @property
    def namespace(self) -> str:
        """The default namespace of this client's context."""
        return self.config.namespace

    def _new_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.config.server,
            transport=AiohttpTransport(client=_session_factory(self.config)),
            headers=self._headers,
            timeout=httpx.Timeout(self.config.timeout, read=self.config.timeout),
        )

    async def close(self) -> None:
        await self._http.aclose()
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self._close_retired()

    async def reconnect(self, grace: float = 10.0) -> None:
        """Use new connections from now on and close the old ones ``grace`` seconds later
        (requests in flight finish; watches end, and informers resume them on new
        connections), as client-go does when its client certificate rotates: the server
        sees the new certificate at once."""
        self._retired += [self._http] + ([self._session] if self._session else [])
        self._http, self._session = self._new_http(), None
        await asyncio.sleep(grace)
        await self._close_retired()

    async def _close_retired(self) -> None:
        retired, self._retired = self._retired, []
        for old in retired:
            if isinstance(old, httpx.AsyncClient):
                await old.aclose()
            else:
                await old.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- transport ------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        content_type: str = JSON,
        accept: str | None = None,
    ) -> Any:
        """Send one request; return the decoded JSON answer or raise its ``ApiError``.

        Requests the server did not process are retried up to ``_RETRIES`` times with
        backoff: 429, 503 with Retry-After, refused connections, and for GETs any
        transport failure."""
        if self._session is None or self._session.closed:
            self._session = _session_factory(self.config)()
        headers = {**self._headers, **self.config.auth_headers()}
        content = None
        if body is not None:
            content = body if isinstance(body, bytes) else orjson.dumps(body)
            headers["Content-Type"] = content_type
        if accept:
            headers["Accept"] = accept
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None and v != ""}
        url = yarl.URL(self.config.server.rstrip("/") + path, encoded=True)
        timeout = aiohttp.ClientTimeout(
            total=None, connect=self.config.timeout, sock_read=self.config.timeout
        )
        delay = 0.1
        attempt = 0
        while True:
            last = attempt == _RETRIES
            attempt += 1
            if self._limiter is not None:
                await self._limiter.take()
            try:
                async with self._session.request(
                    method, url, params=query or None, data=content, headers=headers,
                    timeout=timeout, allow_redirects=False,
                ) as resp:  # fmt: skip
                    data = await resp.read()
                    code = resp.status
                    reason = resp.reason or ""
                    retry_after = resp.headers.get("Retry-After")
            except (aiohttp.ClientError, TimeoutError) as err:
                failed = _connection_failed(
                    self.config.server, err, method=method, last=last,
                    refused=isinstance(err, aiohttp.ClientConnectorError),
                )  # fmt: skip
                if failed is not None:
                    raise failed from err
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            wait = None if last else _status_retry_wait(code, retry_after, delay)
            if wait is not None:
                await asyncio.sleep(wait)
                delay = min(delay * 2, 2.0)
                continue
            if code >= 400:
                _raise_status(code, reason, data)
            return orjson.loads(data) if data else None

    # --- raw (dict) verbs ----------------------------------------------------------------

    def _ns(self, resource: ResourceType, namespace: str | None) -> str | None:
        if not resource.namespaced:
            return None
        return namespace or self.config.namespace

    async def get_raw(
        self, resource: ResourceType, name: str, namespace: str | None = None, *,
        subresource: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        path = resource.path(self._ns(resource, namespace), name, subresource)
        result: dict[str, Any] = await self.request("GET", path)
        return result

    async def list_raw(
        self,
        resource: ResourceType,
        namespace: str | None = None,
        *,
        all_namespaces: bool = False,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_: str | None = None,
        resource_version: str | None = None,
        accept: str | None = None,
    ) -> dict[str, Any]:
        ns = None if all_namespaces else self._ns(resource, namespace)
        params = {
            "labelSelector": label_selector,
            "fieldSelector": field_selector,
            "limit": limit,
            "continue": continue_,
            "resourceVersion": resource_version,
        }
        result: dict[str, Any] = await self.request(
            "GET", resource.path(ns), params=params, accept=accept
        )
        return result

    async def create_raw(
        self, resource: ResourceType, body: dict[str, Any], namespace: str | None = None,
        *, dry_run: bool = False, field_validation: str | None = None,
        subresource_of: str | None = None, subresource: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        ns = self._ns(resource, namespace or (body.get("metadata") or {}).get("namespace"))
        path = resource.path(ns, subresource_of, subresource) if subresource else resource.path(ns)
        params = {"dryRun": "All" if dry_run else None, "fieldValidation": field_validation}
        result: dict[str, Any] = await self.request("POST", path, params=params, body=body)
        return result

    async def update_raw(
        self, resource: ResourceType, body: dict[str, Any], *, subresource: str | None = None,
        namespace: str | None = None, dry_run: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        meta = body.get("metadata") or {}
        ns = self._ns(resource, namespace or meta.get("namespace"))
        path = resource.path(ns, meta["name"], subresource)
        params = {"dryRun": "All" if dry_run else None}
        result: dict[str, Any] = await self.request("PUT", path, params=params, body=body)
        return result

    async def patch_raw(
        self, resource: ResourceType, name: str, patch: Any, namespace: str | None = None, *,
        patch_type: str = "strategic", subresource: str | None = None, dry_run: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        path = resource.path(self._ns(resource, namespace), name, subresource)
        result: dict[str, Any] = await self.request(
            "PATCH",
            path,
            params={"dryRun": "All" if dry_run else None},
            body=patch,
            content_type=PATCH_TYPES.get(patch_type, patch_type),
        )
        return result

    async def delete_raw(
        self, resource: ResourceType, name: str, namespace: str | None = None, *,
        grace_period_seconds: int | None = None, propagation_policy: str | None = None,
        preconditions: dict[str, str] | None = None, dry_run: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        options: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        if propagation_policy:
            options["propagationPolicy"] = propagation_policy
        if preconditions:
            options["preconditions"] = preconditions
        if dry_run:
            options["dryRun"] = ["All"]
        path = resource.path(self._ns(resource, namespace), name)
        result: dict[str, Any] = await self.request("DELETE", path, body=options)
        return result

    async def delete_collection_raw(
        self, resource: ResourceType, namespace: str | None = None, *,
        label_selector: str | None = None, field_selector: str | None = None,
        propagation_policy: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        params = {
            "labelSelector": label_selector,
            "fieldSelector": field_selector,
            "propagationPolicy": propagation_policy,
        }
        result: dict[str, Any] = await self.request(
            "DELETE", resource.path(self._ns(resource, namespace)), params=params
        )
        return result

    async def watch_raw(
        self,
        resource: ResourceType,
        namespace: str | None = None,
        *,
        all_namespaces: bool = False,
        resource_version: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        timeout_seconds: int | None = None,
        allow_bookmarks: bool = True,
        accept: str | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Raw watch events (``{"type", "object"}`` dicts) until the server ends the stream.

        An ERROR event raises its ``ApiError`` (``GoneError`` for 410: relist).
        """
        ns = None if all_namespaces else self._ns(resource, namespace)
        params: dict[str, Any] = {
            "watch": "true",
            "resourceVersion": resource_version,
            "labelSelector": label_selector,
            "fieldSelector": field_selector,
            "timeoutSeconds": timeout_seconds,
            "allowWatchBookmarks": "true" if allow_bookmarks else None,
        }
        clean = {k: v for k, v in params.items() if v is not None and v != ""}
        headers = self.config.auth_headers()
        if accept:
            headers["Accept"] = accept
        timeout = httpx.Timeout(self.config.timeout, read=None)
        try:
            async with self._http.stream(
                "GET", resource.path(ns), params=clean, headers=headers, timeout=timeout
            ) as resp:
                if resp.status_code >= 400:
                    _raise_for(resp, await resp.aread())
                async for line in resp.aiter_lines():
                    if not line.strip():
                        continue
                    event = orjson.loads(line)
                    if event.get("type") == "ERROR":
                        status = event.get("object") or {}
                        raise errors.from_status(status, int(status.get("code") or 500))
                    yield event
        except httpx.TransportError as err:
            raise errors.ConnectionFailedError(
                {"message": f"watch of {resource.plural} broke: {err}"}
            ) from err

    # --- typed verbs ---------------------------------------------------------------------

    async def get(self, model: type[T], name: str, namespace: str | None = None) -> T:
        return model.model_validate(await self.get_raw(by_model(model), name, namespace))

    async def list(
        self,
        model: type[T],
        namespace: str | None = None,
        *,
        all_namespaces: bool = False,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_: str | None = None,
        resource_version: str | None = None,
    ) -> ObjectList[T]:
        body = await self.list_raw(
            by_model(model),
            namespace,
            all_namespaces=all_namespaces,
            label_selector=label_selector,
            field_selector=field_selector,
            limit=limit,
            continue_=continue_,
            resource_version=resource_version,
        )
        meta = body.get("metadata") or {}
        return ObjectList(
            items=[model.model_validate(item) for item in body.get("items") or []],
            resource_version=meta.get("resourceVersion", ""),
            continue_=meta.get("continue"),
            remaining=meta.get("remainingItemCount"),
        )

    async def create(self, obj: T, namespace: str | None = None, *, dry_run: bool = False) -> T:
        resource = by_model(type(obj))
        body = await self.create_raw(resource, obj.to_dict(), namespace, dry_run=dry_run)
        return type(obj).model_validate(body)

    async def update(self, obj: T) -> T:
        body = await self.update_raw(by_model(type(obj)), obj.to_dict())
        return type(obj).model_validate(body)

    async def update_status(self, obj: T) -> T:
        body = await self.update_raw(by_model(type(obj)), obj.to_dict(), subresource="status")
        return type(obj).model_validate(body)

    async def patch(
        self,
        model: type[T],
        name: str,
        patch: Any,
        namespace: str | None = None,
        *,
        patch_type: str = "strategic",
        subresource: str | None = None,
    ) -> T:
        body = await self.patch_raw(
            by_model(model), name, patch, namespace, patch_type=patch_type,
            subresource=subresource,
        )  # fmt: skip
        return model.model_validate(body)

    async def patch_status(
        self, model: type[T], name: str, patch: Any, namespace: str | None = None,
        *, patch_type: str = "merge",
    ) -> T:  # fmt: skip
        return await self.patch(
            model, name, patch, namespace, patch_type=patch_type, subresource="status"
        )

    async def delete(
        self,
        model: type[KubeObject],
        name: str,
        namespace: str | None = None,
        *,
        grace_period_seconds: int | None = None,
        propagation_policy: str | None = None,
        preconditions: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Delete; returns the server's answer (the object if it is only marked)."""
        return await self.delete_raw(
            by_model(model), name, namespace, grace_period_seconds=grace_period_seconds,
            propagation_policy=propagation_policy, preconditions=preconditions,
        )  # fmt: skip

    async def watch(
        self,
        model: type[T],
        namespace: str | None = None,
        *,
        all_namespaces: bool = False,
        resource_version: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        timeout_seconds: int | None = None,
        allow_bookmarks: bool = True,
    ) -> AsyncIterator[WatchEvent[T]]:
        """Typed watch events; see ``watch_raw``. Prefer an ``Informer``, which relists."""
        events = self.watch_raw(
            by_model(model), namespace, all_namespaces=all_namespaces,
            resource_version=resource_version, label_selector=label_selector,
            field_selector=field_selector, timeout_seconds=timeout_seconds,
            allow_bookmarks=allow_bookmarks,
        )  # fmt: skip
        try:
            async for event in events:
                raw = event.get("object") or {}
                rv = (raw.get("metadata") or {}).get("resourceVersion", "")
                obj = None if event["type"] == "BOOKMARK" else model.model_validate(raw)
                yield WatchEvent(event["type"], obj, rv, raw)
        finally:
            with contextlib.suppress(Exception):
                await events.aclose()  # type: ignore[attr-defined]

    # --- subresources ------------------------------------------------------------------

    async def bind(self, namespace: str, pod: str, node: str) -> None:
        """Assign ``pod`` to ``node`` through the binding subresource."""
        pods = resource("", "pods")
        body = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": pod, "namespace": namespace},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        }
        await self.request("POST", pods.path(namespace, pod, "binding"), body=body)

    async def scale(
        self, model: type[KubeObject], name: str, replicas: int, namespace: str | None = None
    ) -> dict[str, Any]:
        return await self.patch_raw(
            by_model(model), name, {"spec": {"replicas": replicas}}, namespace,
            patch_type="merge", subresource="scale",
        )  # fmt: skip

    async def evict(
        self, namespace: str, pod: str, *, grace_period_seconds: int | None = None
    ) -> None:
        """Evict through ``pods/<name>/eviction`` (honours disruption budgets)."""
        body: dict[str, Any] = {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": pod, "namespace": namespace},
        }
        if grace_period_seconds is not None:
            body["deleteOptions"] = {"gracePeriodSeconds": grace_period_seconds}
        await self.request("POST", resource("", "pods").path(namespace, pod, "eviction"), body=body)

    async def server_version(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("GET", "/version")
        return result
