"""Subresources come from the kinds' declarations: what a strategy declares is routed,
listed in discovery and OpenAPI, and written under its own rules; nothing else is."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from apiserver import discovery
from apiserver.handlers import ResourceHandler
from apiserver.kinds import all_strategies
from apiserver.kinds.configmap import ConfigMapStrategy
from apiserver.openapi import OpenAPI
from apiserver.registry.store import ResourceStore, WriteOptions
from apiserver.registry.strategy import Strategy
from apiserver.subresources.object import ObjectSubresource
from apitypes.registry import RESOURCES
from tests.unit.test_kinds_core import MemoryStorage

LABELS_ONLY = "example.com/approved"


class Approval(ObjectSubresource):
    """A made-up subresource: writes only the ``example.com/approved`` label."""

    name = "approval"
    verbs = ("update",)

    def prepare_for_update(self, strategy: Strategy, new: Any, old: Any) -> None:
        approved = new.metadata.labels.get(LABELS_ONLY)
        new.data = old.data
        new.metadata.labels = dict(old.metadata.labels)
        if approved is not None:
            new.metadata.labels[LABELS_ONLY] = approved


class ApprovedConfigMaps(ConfigMapStrategy):
    subresources = (Approval(),)


def test_every_registry_kind_has_one_strategy_in_registry_order() -> None:
    assert [s.resource for s in all_strategies()] == list(RESOURCES)


def test_discovery_lists_the_declared_subresources_only() -> None:
    core = discovery.resource_list("", "v1", all_strategies())
    assert core is not None
    listed = {r["name"] for r in core["resources"] if "/" in r["name"]}
    assert listed == {
        "namespaces/status",
        "namespaces/finalize",
        "pods/status",
        "pods/binding",
        "pods/log",
        "pods/exec",
        "pods/eviction",
        "pods/portforward",
        "nodes/status",
        "services/status",
        "serviceaccounts/token",
        "resourcequotas/status",
        "replicationcontrollers/status",
        "replicationcontrollers/scale",
    }


def test_one_declaration_adds_a_subresource_to_discovery_and_openapi() -> None:
    strategies = [ApprovedConfigMaps()]
    core = discovery.resource_list("", "v1", strategies)
    assert core is not None
    entries = {r["name"]: r for r in core["resources"]}
    assert entries["configmaps/approval"]["verbs"] == ["update"]
    assert entries["configmaps/approval"]["kind"] == "ConfigMap"
    paths = OpenAPI(strategies).v2_document["paths"]
    operations = paths["/api/v1/namespaces/{namespace}/configmaps/{name}/approval"]
    assert set(operations) == {"put", "parameters"}


def make_request(
    method: str,
    path: str,
    body: dict[str, Any] | bytes | None = None,
    *,
    content_type: str = "application/json",
    query: str = "",
    user_agent: str = "",
) -> Request:
    """An ASGI request for the resource handler (``body``: JSON, or raw bytes)."""
    raw = body if isinstance(body, bytes) else orjson.dumps(body) if body is not None else b""
    headers = [(b"content-type", content_type.encode())]
    if user_agent:
        headers.append((b"user-agent", user_agent.encode()))
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query.encode(),
        "headers": headers,
        "path_params": {"version": "v1", "path": path.removeprefix("/api/v1/")},
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return Request(scope, receive)


async def test_the_handler_serves_a_declared_subresource_under_its_own_rules() -> None:
    storage = MemoryStorage()
    store = ResourceStore(ApprovedConfigMaps(), storage)  # type: ignore[arg-type]
    handler = ResourceHandler({("", "configmaps"): store})
    body = {"metadata": {"name": "c", "namespace": "ns"}, "data": {"k": "v"}}
    await store.create("ns", body, WriteOptions())
    path = "/api/v1/namespaces/ns/configmaps/c/approval"

    change = {
        "metadata": {"name": "c", "labels": {LABELS_ONLY: "yes", "other": "x"}},
        "data": {"k": "changed"},
    }
    response = await handler(make_request("PUT", path, change))
    assert response.status_code == 200, response.body
    stored = await store.get("ns", "c")
    assert stored["metadata"]["labels"] == {LABELS_ONLY: "yes"}
    assert stored["data"] == {"k": "v"}

    refused = await handler(make_request("PATCH", path, {}))
    assert refused.status_code == 405
    missing = await handler(make_request("GET", "/api/v1/namespaces/ns/configmaps/c/attach"))
    assert missing.status_code == 404


async def test_pods_and_nodes_do_not_claim_attach_or_proxy() -> None:
    strategies = all_strategies()[:3]  # namespaces, pods, nodes
    handler = ResourceHandler(
        {(s.resource.group, s.resource.plural): _store(s) for s in strategies}
    )
    for path in ("namespaces/ns/pods/p/attach", "nodes/n/proxy"):
        response = await handler(make_request("GET", f"/api/v1/{path}"))
        assert response.status_code == 404
    exec_ = strategies[1].subresource("exec")
    assert exec_ is not None and exec_.websocket


def _store(strategy: Strategy) -> ResourceStore:
    return ResourceStore(strategy, MemoryStorage())  # type: ignore[arg-type]
