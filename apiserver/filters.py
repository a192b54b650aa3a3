"""The one place where security meets the request path: Kubernetes' handler chain.

Every HTTP request and WebSocket upgrade passes through ``SecureChain`` before any
handler sees it, in Kubernetes' order (``DefaultBuildHandlerChain``):

    request info (requestinfo.py) -> authentication (authn/) -> impersonation
        (impersonation.py) -> authorization (authz/) -> the application

A request without valid credentials (when anonymous requests are off, or with a bad
token) gets ``401 Unauthorized``; one its user may not make gets ``403 Forbidden`` with
Kubernetes' message. What passes carries its user and request info in the ASGI scope
(``user_of``, ``info_of``), which admission (the stores, ``admission/``) and the
subresources read. Lifespan events pass straight through.
"""

from __future__ import annotations

import contextlib
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apiserver import audit, errors, impersonation
from apiserver.audit import Auditor
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
        auditor: Auditor | None = None,
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.authorizer = authorizer
        self.auditor = auditor

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
            err = unauthorized()
            failed = self.auditor.event(scope, info, None) if self.auditor else None
            if failed is not None:
                failed.code, failed.status = err.code, err.status()
                self._audit(failed, audit.STARTED)
            await _refuse(scope, receive, send, err)
            return
        wanted = impersonation.requested(scope.get("headers") or [])
        if wanted is not None:
            try:
                user = await impersonation.impersonate(user, wanted, self.authorizer)
            except errors.ApiError as refused:
                await _refuse(scope, receive, send, refused)
                return
        scope[USER_KEY] = user
        event = self.auditor.event(scope, info, user) if self.auditor else None
        if event is not None:
            self._audit(event, audit.RECEIVED)
        attrs = Attributes.of(user, info)
        decision = await self.authorizer.authorize(attrs)
        if event is not None:
            event.annotations["authorization.k8s.io/decision"] = (
                "allow" if decision.allowed else "forbid"
            )
            if decision.reason:
                event.annotations["authorization.k8s.io/reason"] = decision.reason
        if not decision.allowed:
            err = forbidden(attrs, decision.reason)
            if event is not None:
                event.code, event.status = err.code, err.status()
                self._audit(event, audit.COMPLETE)
            await _refuse(scope, receive, send, err)
            return
        if event is None:
            await self.app(scope, receive, send)
            return
        await self._audited(event, scope, receive, send)

    def _audit(self, event: audit.Event, stage: str) -> None:
        assert self.auditor is not None
        self.auditor.write(event, stage)

    async def _audited(
        self, event: audit.Event, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Run the request, keeping what its audit level records: the request body
        (``Request``), the answer's code and, for errors or ``RequestResponse``, its body."""
        streaming = audit.long_running(event.info, scope)
        keep_request = event.level in (audit.REQUEST, audit.REQUEST_RESPONSE)

        async def receive_audited() -> Message:
            message = await receive()
            small = len(event.request_body) <= audit.MAX_BODY
            if keep_request and small and message["type"] == "http.request":
                event.request_body += message.get("body", b"")
            return message

        async def send_audited(message: Message) -> None:
            kind = message["type"]
            if kind in ("http.response.start", "websocket.http.response.start"):
                event.code = int(message["status"])
                if streaming:
                    self._audit(event, audit.STARTED)
            elif kind == "websocket.accept":
                event.code = 101
                self._audit(event, audit.STARTED)
            elif kind in ("http.response.body", "websocket.http.response.body"):
                wanted = (event.code or 0) >= 400 or event.level == audit.REQUEST_RESPONSE
                small = len(event.response_body) <= audit.MAX_BODY
                if wanted and small and not streaming:
                    event.response_body += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receive_audited, send_audited)
        finally:
            if event.code is None:
                event.code = 500
            if event.code >= 400 and event.response_body:
                with contextlib.suppress(orjson.JSONDecodeError):
                    found = orjson.loads(bytes(event.response_body))
                    event.status = found if isinstance(found, dict) else None
                if event.level != audit.REQUEST_RESPONSE:
                    event.response_body.clear()
            self._audit(event, audit.COMPLETE)


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
