"""The OpenAPI documents kubectl reads: ``/openapi/v2`` and ``/openapi/v3/<gv>``.

Both come from the API models (``apitypes.schema``), so the patch metadata kubectl
uses to build strategic merge patches (``x-kubernetes-patch-merge-key``) is the same
the server merges with. Paths carry ``x-kubernetes-group-version-kind`` and the
``fieldValidation`` parameter on PATCH, which is how kubectl learns that this server
validates fields itself. The paths are the served kinds' (their strategies), with the
subresources each declares, under the verbs and kind each declares.

The documents are built once per server, on first request.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from typing import Any

import orjson
from pydantic import BaseModel

from apiserver import openapi_proto
from apiserver.registry.strategy import Strategy
from apitypes import meta
from apitypes.base import KubeObject
from apitypes.registry import ResourceType
from apitypes.schema import collect_definitions, gvk_extension

_PACKAGES = {
    "apitypes.core": "io.k8s.api.core.v1",
    "apitypes.apps": "io.k8s.api.apps.v1",
    "apitypes.batch": "io.k8s.api.batch.v1",
    "apitypes.coordination": "io.k8s.api.coordination.v1",
    "apitypes.policy": "io.k8s.api.policy.v1",
    "apitypes.discovery": "io.k8s.api.discovery.v1",
    "apitypes.autoscaling": "io.k8s.api.autoscaling.v1",
    "apitypes.meta": "io.k8s.apimachinery.pkg.apis.meta.v1",
    "apitypes.apiregistration": "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1",
}
_TITLE = "Kubernetes"
_VERSION = "v1.32.0"


def definition_name(cls: type[BaseModel]) -> str:
    package = _PACKAGES.get(cls.__module__, "io.navarch." + cls.__module__.rsplit(".", 1)[-1])
    return f"{package}.{cls.__name__.lstrip('_')}"


def _subresource_models(strategies: Sequence[Strategy]) -> list[type[KubeObject]]:
    """The models of the kinds that only travel through subresources (Scale, Binding,
    Eviction), each once."""
    models: dict[type[KubeObject], None] = {}
    for strategy in strategies:
        for sub in strategy.subresources:
            if sub.kind is not None and sub.kind.model is not None:
                models[sub.kind.model] = None
    return list(models)


def _param(name: str, where: str, v3: bool, type_: str = "string") -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": where, "uniqueItems": True}
    if where == "path":
        param["required"] = True
    if v3:
        param["schema"] = {"type": type_}
    else:
        param["type"] = type_
    return param


def _paths(strategies: Sequence[Strategy], *, v3: bool) -> dict[str, Any]:
    ref = "#/components/schemas/" if v3 else "#/definitions/"
    paths: dict[str, Any] = {}
    write_params = [
        _param("dryRun", "query", v3),
        _param("fieldManager", "query", v3),
        _param("fieldValidation", "query", v3),
    ]
    list_params = [
        _param(p, "query", v3)
        for p in (
            "labelSelector",
            "fieldSelector",
            "resourceVersion",
            "resourceVersionMatch",
            "continue",
        )
    ] + [
        _param("limit", "query", v3, "integer"),
        _param("timeoutSeconds", "query", v3, "integer"),
        _param("watch", "query", v3, "boolean"),
        _param("allowWatchBookmarks", "query", v3, "boolean"),
    ]

    def op(
        r: ResourceType,
        action: str,
        kind: str | None = None,
        params: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        gvk = {"group": r.group, "version": r.version, "kind": kind or r.kind}
        body_ref = {"$ref": ref + definition_name(r.model)}
        operation: dict[str, Any] = {
            "operationId": f"{action}{r.kind}",
            "consumes": ["*/*"],
            "produces": ["application/json", "application/yaml"],
            "responses": {"200": {"description": "OK", "schema": body_ref}},
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk,
            "parameters": params or [],
        }
        if v3:
            operation.pop("consumes")
            operation.pop("produces")
            operation["responses"] = {
                "200": {"description": "OK", "content": {"application/json": {"schema": body_ref}}}
            }
        return operation

    for strategy in strategies:
        r = strategy.resource
        ns_part = "/namespaces/{namespace}" if r.namespaced else ""
        collection = f"{r.base_path()}{ns_part}/{r.plural}"
        item = f"{collection}/{{name}}"
        common = [_param("namespace", "path", v3)] if r.namespaced else []
        if r.create_only:
            paths[collection] = {"post": op(r, "post", None, write_params), "parameters": common}
            continue
        paths[collection] = {
            "get": op(r, "list", f"{r.kind}List", list_params),
            "post": op(r, "post", None, write_params),
            "delete": op(r, "deletecollection", None, list_params),
            "parameters": common,
        }
        paths[item] = {
            "get": op(r, "get"),
            "put": op(r, "put", None, write_params),
            "patch": op(r, "patch", None, [*write_params, _param("force", "query", v3, "boolean")]),
            "delete": op(
                r,
                "delete",
                None,
                [
                    _param("gracePeriodSeconds", "query", v3, "integer"),
                    _param("propagationPolicy", "query", v3),
                ],
            ),
            "parameters": [*common, _param("name", "path", v3)],
        }
        for sub in strategy.subresources:
            entry: dict[str, Any] = {"parameters": [*common, _param("name", "path", v3)]}
            kind = sub.kind
            for verb in sub.verbs:
                method = {"get": "get", "update": "put", "patch": "patch", "create": "post"}[verb]
                params = write_params if method != "get" else []
                # kubectl decides whether the server validates fields from the first PATCH
                # operation it meets for a kind, so every PATCH carries fieldValidation.
                entry[method] = op(r, verb if verb != "create" else "post", None, params)
                if kind is not None:
                    entry[method]["x-kubernetes-group-version-kind"] = {
                        "group": kind.group,
                        "version": kind.version,
                        "kind": kind.kind,
                    }
            paths[f"{item}/{sub.name}"] = entry
    return paths


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


class OpenAPI:
    """The OpenAPI documents of the kinds ``strategies`` serve, built on first use."""

    def __init__(self, strategies: Sequence[Strategy]) -> None:
        self.strategies = list(strategies)

    @functools.cached_property
    def v2_document(self) -> dict[str, Any]:
        roots: list[type[BaseModel]] = [s.resource.model for s in self.strategies]
        roots += _subresource_models(self.strategies)
        roots += [meta.Status, meta.DeleteOptions, meta.APIResourceList, meta.Table]
        return {
            "swagger": "2.0",
            "info": {"title": _TITLE, "version": _VERSION},
            "paths": _paths(self.strategies, v3=False),
            "definitions": collect_definitions(roots, definition_name, extra=gvk_extension),
        }

    @functools.cached_property
    def v2_bytes(self) -> bytes:
        return orjson.dumps(self.v2_document)

    @functools.cached_property
    def v2_protobuf(self) -> bytes:
        return openapi_proto.encode_document(self.v2_document)

    @functools.cached_property
    def _v3_documents(self) -> dict[str, bytes]:
        docs: dict[str, bytes] = {}
        carried = _subresource_models(self.strategies)
        for group, version in dict.fromkeys(
            (s.resource.group, s.resource.version) for s in self.strategies
        ):
            served = [
                s
                for s in self.strategies
                if s.resource.group == group and s.resource.version == version
            ]
            schemas = collect_definitions(
                [s.resource.model for s in served] + carried + [meta.Status, meta.DeleteOptions],
                definition_name,
                ref_prefix="#/components/schemas/",
                allof_refs=True,
                extra=gvk_extension,
            )
            doc = {
                "openapi": "3.0.0",
                "info": {"title": _TITLE, "version": _VERSION},
                "paths": _paths(served, v3=True),
                "components": {"schemas": schemas},
            }
            docs[_gv_path(group, version)] = orjson.dumps(doc)
        return docs

    def v3_index(self) -> dict[str, Any]:
        paths = {}
        for gv, body in self._v3_documents.items():
            digest = hashlib.sha512(body).hexdigest()[:128].upper()
            paths[gv] = {"serverRelativeURL": f"/openapi/v3/{gv}?hash={digest}"}
        return {"paths": paths}

    def v3_document_bytes(self, path: str) -> bytes | None:
        return self._v3_documents.get(path.strip("/"))
