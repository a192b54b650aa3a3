"""What a request is about, from its path, method and query alone (Kubernetes'
``RequestInfoFactory``): the verb, API group and version, resource, subresource,
namespace and name for resource requests; the path and verb for anything else
(discovery, ``/healthz``, ``/version``, ``/openapi``, ``/metrics``).

Authorization and audit read it before any handler runs, so it never looks at stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
_NAMESPACE_SUBRESOURCES = ("status", "finalize")
_WEBSOCKET_CREATE = ("exec", "attach", "portforward")
"""Subresources whose WebSocket upgrade (a GET) is authorized as ``create``, as newer
Kubernetes does (AuthorizePodWebsocketUpgradeCreatePermission): ``get`` on pods/exec
must not be enough to run commands."""


@dataclass(frozen=True)
class RequestInfo:
    path: str
    verb: str
    is_resource_request: bool = False
    api_prefix: str = ""
    api_group: str = ""
    api_version: str = ""
    namespace: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    field_selector: str = ""
    label_selector: str = ""

    @property
    def resource_path(self) -> str:
        """``pods`` or ``pods/log``: how RBAC rules name it."""
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def request_info(
    method: str, path: str, query: bytes | str = b"", *, websocket: bool = False
) -> RequestInfo:
    """The request info of ``method path?query`` (``websocket``: an upgrade)."""
    method = method.upper()
    non_resource = RequestInfo(path=path, verb=method.lower())
    parts = [p for p in path.strip("/").split("/") if p] if path else []
    if len(parts) < 3 or parts[0] not in ("api", "apis"):
        return non_resource
    prefix = parts[0]
    parts = parts[1:]
    group = ""
    if prefix == "apis":
        group, parts = parts[0], parts[1:]
        if len(parts) < 2:  # /apis/<group>/<version>: discovery
            return non_resource
    version, parts = parts[0], parts[1:]
    raw = query.decode() if isinstance(query, bytes) else query
    params = parse_qs(raw, keep_blank_values=True)

    def param(name: str) -> str:
        values = params.get(name)
        return values[0] if values else ""

    verb = "get" if method == "GET" else _VERBS.get(method, method.lower())
    if parts and parts[0] == "watch":  # the old /watch/ prefix
        verb, parts = "watch", parts[1:]
    namespace = ""
    if parts and parts[0] == "namespaces" and len(parts) > 1:
        namespace = parts[1]
        if len(parts) > 2 and parts[2] not in _NAMESPACE_SUBRESOURCES:
            parts = parts[2:]
    if not parts:
        return non_resource
    resource = parts[0]
    name = parts[1] if len(parts) > 1 else ""
    subresource = parts[2] if len(parts) > 2 else ""
    if resource == "namespaces" and name:
        namespace = name
    field_selector = param("fieldSelector")
    if not name and method == "GET" and verb != "watch":
        verb = "watch" if param("watch").lower() in ("true", "1") else "list"
    elif not name and method == "DELETE":
        verb = "deletecollection"
    if verb == "get" and name and param("watch").lower() in ("true", "1"):
        verb = "watch"
    if not name and verb in ("list", "watch"):
        # A list or watch of one object by ``metadata.name`` names it (Kubernetes does
        # the same, so that a rule with resourceNames covers it).
        name = _selected_name(field_selector)
    if websocket and subresource in _WEBSOCKET_CREATE:
        verb = "create"
    return RequestInfo(
        path=path,
        verb=verb,
        is_resource_request=True,
        api_prefix=prefix,
        api_group=group,
        api_version=version,
        namespace=namespace,
        resource=resource,
        subresource=subresource,
        name=name,
        field_selector=field_selector,
        label_selector=param("labelSelector"),
    )


def _selected_name(field_selector: str) -> str:
    for term in field_selector.split(","):
        key, op, value = term.partition("==") if "==" in term else term.partition("=")
        if op and not key.endswith("!") and key.strip() == "metadata.name":
            return value.strip()
    return ""
