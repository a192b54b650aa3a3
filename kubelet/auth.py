"""Who may use the kubelet's API, and for what (Kubernetes' ``pkg/kubelet/server/auth.go``
with the delegating webhook authenticator and authorizer).

Authentication, in order: a client certificate the TLS handshake verified against
``--client-ca-file`` (CN the user, each O a group); a bearer token, when
``--authentication-token-webhook``: the apiserver is asked (a TokenReview) and the answer
kept ``--authentication-token-webhook-cache-ttl`` (2 min); otherwise, with
``--anonymous-auth`` (true by default, as Kubernetes), ``system:anonymous`` in
``system:unauthenticated``. A token the apiserver does not vouch for, or no credential
without anonymous access, is a 401 ``Unauthorized``.

Authorization: ``--authorization-mode AlwaysAllow`` (the default) or ``Webhook``: the
apiserver is asked (a SubjectAccessReview) whether the user may ``<verb>`` the
``nodes/<subresource>`` of this Node, the verb from the HTTP method (GET/HEAD get, POST
create, PUT update, PATCH patch, DELETE delete) and the subresource from the path as
Kubernetes maps them: ``/stats`` stats, ``/metrics`` metrics, ``/logs`` log, ``/spec``
spec, ``/checkpoint`` checkpoint, everything else (``/containerLogs``, ``/exec``,
``/attach``, ``/portForward``, ``/pods``, ``/healthz``, ...) proxy. Answers are kept
``--authorization-webhook-cache-authorized-ttl`` (5 min) when allowed and
``--authorization-webhook-cache-unauthorized-ttl`` (30 s) when not; a refusal is a 403
``Forbidden (user=..., verb=..., resource=nodes, subresource=...)``.

A WebSocket upgrade whose ``Origin`` names another host than the request's ``Host`` is
refused (403), as Go's WebSocket servers check: a page in a browser cannot drive exec.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware

from pki.peer import peer_certificate

log = logging.getLogger(__name__)

ALWAYS_ALLOW = "AlwaysAllow"
WEBHOOK = "Webhook"
MODES = (ALWAYS_ALLOW, WEBHOOK)
AUTHENTICATED = "system:authenticated"

_SUBRESOURCES = (
    ("/stats", "stats"),
    ("/metrics", "metrics"),
    ("/logs", "log"),
    ("/spec", "spec"),
    ("/checkpoint", "checkpoint"),
)
_VERBS = {
    "GET": "get",
    "HEAD": "get",
    "POST": "create",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
}
_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class User:
    """Who is asking."""

    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


ANONYMOUS = User("system:anonymous", groups=("system:unauthenticated",))


@dataclass(frozen=True)
class AuthConfig:
    """The kubelet's authentication and authorization flags."""

    anonymous: bool = True
    token_webhook: bool = False
    token_cache_ttl: float = 120.0
    authorization_mode: str = ALWAYS_ALLOW
    authorized_ttl: float = 300.0
    unauthorized_ttl: float = 30.0
    client_ca_file: str | None = None


class Reviewer(Protocol):
    """What asks the apiserver (``apiclient.Client``)."""

    async def request(self, method: str, path: str, *, body: Any = None) -> Any: ...


def request_attributes(method: str, path: str) -> tuple[str, str]:
    """The (verb, subresource of ``nodes``) a request to the kubelet needs."""
    verb = _VERBS.get(method.upper(), "")
    for prefix, subresource in _SUBRESOURCES:
        if path == prefix or path.startswith(prefix + "/"):
            return verb, subresource
    return verb, "proxy"


def same_origin(origin: str, host: str) -> bool:
    """Whether a WebSocket ``Origin`` names the host the request was sent to."""
    try:
        netloc = urlsplit(origin).netloc
    except ValueError:
        return False
    return bool(netloc) and netloc.lower() == host.lower()


class _TTLCache:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._entries: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any) -> tuple[bool, Any]:
        found = self._entries.get(key)
        if found is None or found[0] <= self._clock():
            return False, None
        return True, found[1]

    def put(self, key: Any, value: Any, ttl: float) -> None:
        if ttl <= 0:
            return
        now = self._clock()
        if len(self._entries) >= _CACHE_LIMIT:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= _CACHE_LIMIT:
                self._entries.clear()
        self._entries[key] = (now + ttl, value)


class KubeletAuth:
    """Authenticates and authorizes the requests of one kubelet's server."""

    def __init__(
        self,
        config: AuthConfig,
        reviewer: Reviewer | None,
        node_name: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if config.authorization_mode not in MODES:
            raise ValueError(
                f"--authorization-mode: {config.authorization_mode!r} is not one of "
                f"{', '.join(MODES)}"
            )
        if reviewer is None and (config.token_webhook or config.authorization_mode == WEBHOOK):
            raise ValueError("the token and authorization webhooks need the apiserver")
        self.config = config
        self.reviewer = reviewer
        self.node_name = node_name
        self._tokens = _TTLCache(clock)
        self._decisions = _TTLCache(clock)

    async def authenticate(self, headers: Mapping[str, str], transport: Any) -> User | None:
        """The user of a request, None when it must be refused (401)."""
        cert = peer_certificate(transport)
        if cert is not None and cert.common_name:
            return User(cert.common_name, groups=(*cert.organizations, AUTHENTICATED))
        scheme, _, token = headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token:
            return await self._review_token(token) if self.config.token_webhook else None
        return ANONYMOUS if self.config.anonymous else None

    async def _review_token(self, token: str) -> User | None:
        hit, cached = self._tokens.get(token)
        if hit:
            return cached if isinstance(cached, User) else None
        assert self.reviewer is not None
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token},
        }
        try:
            answer = await self.reviewer.request(
                "POST", "/apis/authentication.k8s.io/v1/tokenreviews", body=body
            )
        except Exception as err:  # an apiserver that cannot answer vouches for nobody
            log.warning("token review failed: %s", err)
            return None
        status = (answer or {}).get("status") or {}
        user: User | None = None
        if status.get("authenticated"):
            info = status.get("user") or {}
            groups = tuple(info.get("groups") or ())
            user = User(
                str(info.get("username") or ""),
                str(info.get("uid") or ""),
                groups if AUTHENTICATED in groups else (*groups, AUTHENTICATED),
                {k: tuple(v) for k, v in (info.get("extra") or {}).items()},
            )
        self._tokens.put(token, user, self.config.token_cache_ttl)
        return user

    async def authorize(self, user: User, verb: str, subresource: str) -> bool:
        """Whether ``user`` may ``verb`` this Node's ``nodes/<subresource>``."""
        if self.config.authorization_mode == ALWAYS_ALLOW:
            return True
        key = (
            user.name,
            user.uid,
            user.groups,
            tuple(sorted(user.extra.items())),
            verb,
            subresource,
        )
        hit, cached = self._decisions.get(key)
        if hit:
            return bool(cached)
        assert self.reviewer is not None
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": user.name,
                "uid": user.uid,
                "groups": list(user.groups),
                "extra": {k: list(v) for k, v in user.extra.items()},
                "resourceAttributes": {
                    "verb": verb,
                    "group": "",
                    "version": "v1",
                    "resource": "nodes",
                    "subresource": subresource,
                    "name": self.node_name,
                },
            },
        }
        try:
            answer = await self.reviewer.request(
                "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body=body
            )
        except Exception as err:  # no answer is no permission, and is not remembered
            log.warning("subject access review failed: %s", err)
            return False
        allowed = bool(((answer or {}).get("status") or {}).get("allowed"))
        ttl = self.config.authorized_ttl if allowed else self.config.unauthorized_ttl
        self._decisions.put(key, allowed, ttl)
        return allowed

    def middleware(self) -> Middleware:
        """The aiohttp middleware every request of the server passes."""

        @web.middleware
        async def check(
            request: web.Request,
            handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        ) -> web.StreamResponse:
            user = await self.authenticate(request.headers, request.transport)
            if user is None:
                raise web.HTTPUnauthorized(text="Unauthorized")
            verb, subresource = request_attributes(request.method, request.path)
            if not await self.authorize(user, verb, subresource):
                raise web.HTTPForbidden(
                    text=f"Forbidden (user={user.name}, verb={verb}, resource=nodes, "
                    f"subresource={subresource})"
                )
            origin = request.headers.get("Origin")
            upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
            if upgrade and origin and not same_origin(origin, request.host):
                raise web.HTTPForbidden(text=f"origin {origin!r} not allowed")
            return await handler(request)

        return check
