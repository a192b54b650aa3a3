"""The apiserver process: stores for every kind, the HTTP app, and background duties.

``ApiServer`` owns the storage connection, one ``ResourceStore`` per kind (each with
its watch cache), the default namespaces, and etcd compaction. ``build_app`` wraps it
in a FastAPI application with the Kubernetes paths.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import platform
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from apiserver import discovery, errors, openapi, openapi_proto, security
from apiserver.aggregator import Aggregator
from apiserver.authz import bootstrappolicy
from apiserver.fieldmanager import SERVER_MANAGER
from apiserver.filters import SecureChain
from apiserver.handlers import ResourceHandler
from apiserver.kinds import all_strategies
from apiserver.kubeletclient import KubeletClient, KubeletClientConfig
from apiserver.kubernetes_service import KubernetesService
from apiserver.limits import Limits, RequestLimiter
from apiserver.lookup import StoreLookup
from apiserver.metrics import REGISTRY
from apiserver.registry.store import ResourceStore, WriteOptions
from apiserver.registry.strategy import KindSettings, Strategy
from apiserver.requestlog import RequestLog
from apiserver.rest import JSONResponse, status_response
from apiserver.security import SecurityConfig
from apiserver.storage import encryption as encryption_config
from apiserver.storage.encryption import EncryptedStorage
from apiserver.storage.etcd import EtcdConfig, EtcdStorage
from apiserver.storage.interface import Storage, StorageError
from apitypes import rbac

log = logging.getLogger(__name__)

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
KUBERNETES_VERSION = (1, 32)


@dataclass
class ServerConfig:
    etcd_servers: Sequence[str] = ("http://127.0.0.1:2379",)
    etcd_prefix: str = "/registry"
    etcd_cafile: str | None = None
    etcd_certfile: str | None = None
    etcd_keyfile: str | None = None
    compaction_interval: float = 300.0
    """Seconds between etcd compactions (0 disables), as ``--etcd-compaction-interval``."""
    watch_cache_size: int = 10_000
    encryption_provider_config: str | None = None
    """``--encryption-provider-config``: resources stored encrypted (``storage.encryption``)."""
    bookmark_interval: float = 60.0
    min_request_timeout: float = 1800.0
    advertise_address: str = "127.0.0.1:6443"
    """``host:port`` clients are told to use (discovery) and, unless loopback, this
    apiserver's endpoint of the ``kubernetes`` Service (``--advertise-address``)."""
    endpoint_reconcile_interval: float = 10.0
    """Seconds between passes over the ``kubernetes`` Service and its endpoints; 0 off."""
    service_cluster_ip_range: str = "10.96.0.0/12"
    service_node_port_range: tuple[int, int] = (30000, 32767)
    kubelet_certificate_authority: str | None = None
    kubelet_client_certificate: str | None = None
    kubelet_client_key: str | None = None
    kubelet_allowed_addresses: list[str] = field(default_factory=list)
    """CIDRs of loopback/link-local addresses kubelets may be reached at."""
    security: SecurityConfig = field(default_factory=SecurityConfig)
    limits: Limits = field(default_factory=Limits)
    verbosity: int = 0
    """The request log's level (``-v``): see ``apiserver.requestlog``."""
    extra: dict[str, Any] = field(default_factory=dict)


class ApiServer:
    def __init__(self, config: ServerConfig, storage: Storage | None = None) -> None:
        self.config = config
        self.storage: Storage = storage or EtcdStorage(
            EtcdConfig(
                servers=list(config.etcd_servers),
                ca_file=config.etcd_cafile,
                cert_file=config.etcd_certfile,
                key_file=config.etcd_keyfile,
            )
        )
        self.stores: dict[tuple[str, str], ResourceStore] = {}
        settings = KindSettings(
            service_cluster_ip_range=config.service_cluster_ip_range,
            service_node_port_range=config.service_node_port_range,
        )
        encryption = (
            encryption_config.load(config.encryption_provider_config)
            if config.encryption_provider_config
            else None
        )
        self.strategies = all_strategies(settings)
        self.reviews: dict[tuple[str, str], Strategy] = {}
        """Create-only kinds (TokenReview, the access reviews): answered, never stored."""
        for strategy in self.strategies:
            r = strategy.resource
            if r.create_only:
                self.reviews[(r.group, r.plural)] = strategy
                continue
            transformer = encryption.transformer(r.group, r.plural) if encryption else None
            backend: Storage = self.storage
            if transformer is not None:
                backend = EncryptedStorage(self.storage, transformer)
            self.stores[(r.group, r.plural)] = ResourceStore(
                strategy,
                backend,
                prefix=config.etcd_prefix,
                namespace_exists=self.namespace_phase,
                cache_capacity=config.watch_cache_size,
            )
        self.namespaces = self.stores[("", "namespaces")]
        self.lookup = StoreLookup(self.stores)
        pods = self.stores[("", "pods")]
        self.security = security.build(
            config.security, self.lookup, pods=pods.cache, pod_prefix=pods.prefix
        )
        for store in self.stores.values():
            store.admission = self.security.admission
        self.handler = ResourceHandler(
            self.stores,
            reviews=self.reviews,
            security=self.security,
            kubelets=KubeletClient(
                KubeletClientConfig(
                    ca_file=config.kubelet_certificate_authority,
                    cert_file=config.kubelet_client_certificate,
                    key_file=config.kubelet_client_key,
                    allowed_addresses=config.kubelet_allowed_addresses,
                )
            ),
            bookmark_interval=config.bookmark_interval,
            min_request_timeout=config.min_request_timeout,
        )
        served = dict.fromkeys((s.resource.group, s.resource.version) for s in self.strategies)
        self.aggregator = Aggregator(self.stores, served)
        self._tasks: list[asyncio.Task[None]] = []
        self.ready = asyncio.Event()
        service_range = ipaddress.ip_network(config.service_cluster_ip_range, strict=False)
        self.kubernetes_service = KubernetesService(
            self.stores,
            self.storage,
            prefix=config.etcd_prefix,
            advertise_address=config.advertise_address,
            cluster_ip=str(service_range.network_address + 1),
            interval=config.endpoint_reconcile_interval,
        )

    async def namespace_phase(self, name: str) -> str | None:
        """The phase of namespace ``name`` ("Active", "Terminating"), None if absent.

        The namespace cache answers most checks; a miss is confirmed against etcd,
        because a namespace created a moment ago may not have reached the cache yet.
        """
        cached = self.namespaces.cache.get(self.namespaces.key(None, name))
        if cached is None:
            try:
                obj = await self.namespaces.get(None, name)
            except errors.ApiError as err:
                if err.code == 404:
                    return None
                raise
        else:
            obj = cached.obj()
        if obj["metadata"].get("deletionTimestamp"):
            return "Terminating"
        return str((obj.get("status") or {}).get("phase") or "Active")

    async def start(self) -> None:
        for store in self.stores.values():
            store.cache.start()
        await self._ensure_namespaces()
        if self.security.rbac:
            await bootstrappolicy.reconcile(
                self.stores[(rbac.GROUP, "clusterroles")],
                self.stores[(rbac.GROUP, "clusterrolebindings")],
            )
        await asyncio.gather(*(s.cache.wait_ready(60) for s in self.stores.values()))
        if self.config.compaction_interval > 0:
            self._tasks.append(asyncio.create_task(self._compactor()))
        self._tasks.append(asyncio.create_task(self.aggregator.run()))
        if self.config.endpoint_reconcile_interval > 0:
            self._tasks.append(asyncio.create_task(self.kubernetes_service.run()))
        self.ready.set()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self.config.endpoint_reconcile_interval > 0:
            await self.kubernetes_service.stop()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.gather(*(s.cache.stop() for s in self.stores.values()))
        await self.handler.close()
        await self.storage.close()

    async def _ensure_namespaces(self) -> None:
        deadline = asyncio.get_running_loop().time() + 60
        for name in DEFAULT_NAMESPACES:
            while True:
                try:
                    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
                    opts = WriteOptions(field_manager=SERVER_MANAGER)
                    await self.namespaces.create(None, body, opts)
                    break
                except errors.ApiError as err:
                    if err.code == 409:
                        break
                    if err.code != 503 or asyncio.get_running_loop().time() > deadline:
                        raise
                    await asyncio.sleep(0.2)

    async def _compactor(self) -> None:
        # As kube-apiserver: every interval, compact to the revision seen one interval
        # ago, so that watchers have had a full interval to catch up.
        previous = 0
        while True:
            await asyncio.sleep(self.config.compaction_interval)
            try:
                current = await self.storage.current_revision()
                if previous:
                    await self.storage.compact(previous)
                    log.info("compacted etcd to revision %d", previous)
                previous = current
            except StorageError as err:
                log.warning("compaction failed: %s", err)


def version_info() -> dict[str, str]:
    major, minor = KUBERNETES_VERSION
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
    return {
        "major": str(major),
        "minor": str(minor),
        "gitVersion": f"v{major}.{minor}.0-navarch",
        "gitCommit": "navarch",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": f"python{platform.python_version()}",
        "compiler": "cpython",
        "platform": f"linux/{arch}",
    }


class ResourceFastPath:
    """ASGI front door: resource requests go straight to the resource handler.

    They are nearly every request the server gets, and FastAPI's routing and
    middleware stack cost about a third of their CPU; everything else (discovery,
    health, metrics, OpenAPI, lifespan) goes through the FastAPI application, whose
    routes also cover the resource paths, so behaviour does not depend on this shortcut.
    """

    def __init__(self, app: FastAPI, handler: ResourceHandler) -> None:
        self.app = app
        self.handler = handler
        self.state = app.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            params = _resource_path_params(scope["path"])
            if params is not None:
                scope["path_params"] = params
                response = await self.handler(Request(scope, receive))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _resource_path_params(path: str) -> dict[str, str] | None:
    """``{group, version, path}`` of a resource path, None for anything else."""
    parts = path.split("/", 5)
    # "", "api", version, rest... | "", "apis", group, version, rest...
    if len(parts) >= 4 and parts[1] == "api" and parts[3]:
        return {"group": "", "version": parts[2], "path": "/".join(parts[3:])}
    if len(parts) >= 5 and parts[1] == "apis" and parts[4]:
        return {"group": parts[2], "version": parts[3], "path": "/".join(parts[4:])}
    return None


def build_app(server: ApiServer) -> RequestLog:
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await server.start()
        try:
            yield
        finally:
            await server.stop()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.server = server
    handler = server.handler
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    documents = openapi.OpenAPI(server.strategies)

    async def api(_request: Request) -> Response:
        return JSONResponse(discovery.api_versions(server.config.advertise_address))

    async def apis(_request: Request) -> Response:
        return JSONResponse(discovery.api_group_list())

    async def core_resources(request: Request) -> Response:
        doc = discovery.resource_list("", request.path_params["version"], server.strategies)
        if doc is None:
            return status_response(errors.not_found_path(request.url.path))
        return JSONResponse(doc)

    async def group(request: Request) -> Response:
        doc = discovery.api_group(request.path_params["group"])
        if doc is None:
            return status_response(errors.not_found_path(request.url.path))
        return JSONResponse(doc)

    async def group_resources(request: Request) -> Response:
        doc = discovery.resource_list(
            request.path_params["group"], request.path_params["version"], server.strategies
        )
        if doc is None:
            return status_response(errors.not_found_path(request.url.path))
        return JSONResponse(doc)

    async def version(_request: Request) -> Response:
        return JSONResponse(version_info())

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(_request: Request) -> Response:
        if not server.ready.is_set():
            return PlainTextResponse("[-]informer-sync failed: not ready", status_code=503)
        try:
            await asyncio.wait_for(server.storage.current_revision(), 2.0)
        except (StorageError, TimeoutError):
            return PlainTextResponse("[-]etcd failed: not reachable", status_code=503)
        return PlainTextResponse("ok")

    async def metrics(_request: Request) -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    async def openapi_v2(request: Request) -> Response:
        accept = request.headers.get("accept", "")
        if openapi_proto.MEDIA_TYPE in accept and "json" not in accept:
            return Response(documents.v2_protobuf, media_type="application/octet-stream")
        return Response(documents.v2_bytes, media_type="application/json")

    async def openapi_v3_index(_request: Request) -> Response:
        return JSONResponse(documents.v3_index())

    async def openapi_v3(request: Request) -> Response:
        doc = documents.v3_document_bytes(request.path_params["path"])
        if doc is None:
            return status_response(errors.not_found_path(request.url.path))
        return Response(doc, media_type="application/json")

    async def resources(request: Request) -> Response:
        # A plain function: Starlette would treat a callable object as a raw ASGI app.
        return await handler(request)

    async def not_found(request: Request) -> Response:
        return status_response(errors.not_found_path(request.url.path))

    add = app.add_route
    add("/api", api, ["GET"])
    add("/api/", api, ["GET"])
    add("/apis", apis, ["GET"])
    add("/apis/", apis, ["GET"])
    add("/api/{version}", core_resources, ["GET"])
    add("/api/{version}/", core_resources, ["GET"])
    add("/api/{version}/{path:path}", resources, methods)
    add("/apis/{group}", group, ["GET"])
    add("/apis/{group}/", group, ["GET"])
    add("/apis/{group}/{version}", group_resources, ["GET"])
    add("/apis/{group}/{version}/", group_resources, ["GET"])
    add("/apis/{group}/{version}/{path:path}", resources, methods)
    add("/version", version, ["GET"])
    add("/version/", version, ["GET"])
    for path in ("/healthz", "/livez", "/healthz/ping", "/livez/ping"):
        add(path, healthz, ["GET"])
    add("/readyz", readyz, ["GET"])
    add("/metrics", metrics, ["GET"])
    add("/openapi/v2", openapi_v2, ["GET"])
    add("/openapi/v3", openapi_v3_index, ["GET"])
    add("/openapi/v3/{path:path}", openapi_v3, ["GET"])
    add("/{path:path}", not_found, methods)
    # WebSocket upgrades (kubectl exec, port-forward): websocket scopes, which
    # ResourceFastPath passes on; the handler gives them to the subresource they name.
    app.router.add_websocket_route("/api/{version}/{path:path}", handler.websocket)
    app.router.add_websocket_route("/apis/{group}/{version}/{path:path}", handler.websocket)
    # The in-flight limits first (a flood of requests with bad credentials is limited
    # too), then authentication and authorization before anything else answers
    # (filters.py); the request log sees every answer, refusals included.
    return RequestLog(
        RequestLimiter(
            SecureChain(
                ResourceFastPath(app, handler),
                server.security.authenticator,
                server.security.authorizer,
                server.security.auditor,
            ),
            server.config.limits,
        ),
        server.config.verbosity,
    )
