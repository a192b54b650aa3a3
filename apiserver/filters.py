"""The one place where security meets the request path: Kubernetes' handler chain.

Every HTTP request and WebSocket upgrade passes through ``SecureChain`` before any
handler sees it, in Kubernetes' order (``DefaultBuildHandlerChain``):

    request info (requestinfo.py) -> authentication (authn/) -> authorization (authz/)
        -> the application (discovery, resources, ...)

A request without valid credentials (when anonymous requests are off, or with a bad
token) gets ``401 Unauthorized``; one its user may not make gets ``403 Forbidden`` with
Kubernetes' message. What passes carries its user and request info in the ASGI scope
(``user_of``, ``info_of``), which admission (the stores, ``admission/``) and the
subresources read. Lifespan events pass straight through.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apiserver import errors
from apiserver.authn import InvalidCredentialsError
from apiserver.authn.union import Authenticator
from apiserver.authz import Attributes, Authorizer
from apiserver.authz.union import forbidden_message
from apiserver.requestinfo import RequestInfo, request_info
from apiserver.user import UserInfo

USER_KEY = "navarch.user"
INFO_KEY = "navarch.requestinfo"


def user_of(scope: Any) -> UserInfo | None:
    """The authenticated user of a request (None: not through the chain, the server's
    own doing)."""
    found = scope.get(USER_KEY)
    return found if isinstance(found, UserInfo) else None


def info_of(scope: Any) -> RequestInfo | None:
    found = scope.get(INFO_KEY)
    return found if isinstance(found, RequestInfo) else None


def unauthorized() -> errors.ApiError:
    return errors.ApiError(401, "Unauthorized", "Unauthorized")


def forbidden(attrs: Attributes, reason: str) -> errors.ApiError:
    details: dict[str, Any] = {}
    if attrs.is_resource_request:
        details = {"kind": attrs.resource}
        if attrs.name:
            details["name"] = attrs.name
        if attrs.api_group:
            details["group"] = attrs.api_group
    return errors.ApiError(
        403, "Forbidden", forbidden_message(attrs, reason), details=details or None
    )


class SecureChain:
    """ASGI middleware: authenticate, authorize and audit every request."""

    def __init__(
        self,
        app: ASGIApp,
        authenticator: Authenticator,
        authorizer: Authorizer,
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.authorizer = authorizer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "GET") if kind == "http" else "GET"
        info = request_info(
            method, scope["path"], scope.get("query_string", b""), websocket=kind == "websocket"
        )
        scope[INFO_KEY] = info
        try:
            user = await self.authenticator.authenticate(scope)
        except InvalidCredentialsError:
            await _refuse(scope, receive, send, unauthorized())
            return
        scope[USER_KEY] = user
        attrs = Attributes.of(user, info)
        decision = await self.authorizer.authorize(attrs)
        if not decision.allowed:
            await _refuse(scope, receive, send, forbidden(attrs, decision.reason))
            return
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, receive: Receive, send: Send, err: errors.ApiError) -> None:
    body = orjson.dumps(err.status())
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": err.code, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    # A WebSocket upgrade: answer the handshake with the Status (ASGI's denial
    # response), or close it where the server cannot.
    message: Message = await receive()
    if message["type"] != "websocket.connect":
        return
    if "websocket.http.response" in (scope.get("extensions") or {}):
        await send(
            {"type": "websocket.http.response.start", "status": err.code, "headers": headers}
        )
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008})
