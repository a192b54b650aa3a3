"""The authenticator of the request path: every configured way to prove who one is,
tried in Kubernetes' order (client certificate, bearer token, anonymous).

Bearer tokens come from ``Authorization: Bearer <token>`` (or, on WebSocket upgrades
that cannot set headers, the ``base64url.bearer.authorization.k8s.io.<token>``
subprotocol, as Kubernetes accepts them). A token is tried against the static token
file, bootstrap tokens and service-account JWTs; a token none of them knows, or one
that is known and invalid, is a 401 even where anonymous requests are allowed. A
server with none of them configured ignores tokens (a request with one is anonymous).
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from apiserver.authn import InvalidCredentialsError, x509
from apiserver.authn.bootstrap import BootstrapTokens
from apiserver.authn.serviceaccount import TokenVerifier
from apiserver.authn.tokenfile import TokenFile
from apiserver.user import UserInfo, anonymous, with_authenticated

_WS_PREFIX = "base64url.bearer.authorization.k8s.io."
_CACHE_TTL = 10.0
"""Static and bootstrap answers are kept this long per token (Kubernetes' token cache)."""


@dataclass
class Authenticator:
    token_file: TokenFile | None = None
    bootstrap: BootstrapTokens | None = None
    service_accounts: TokenVerifier | None = None
    anonymous: bool = True
    client_certificates: bool = True

    def __post_init__(self) -> None:
        self._cache: dict[str, tuple[float, UserInfo]] = {}

    @property
    def takes_tokens(self) -> bool:
        """Whether any bearer-token authenticator is configured."""
        return any(a is not None for a in (self.token_file, self.bootstrap, self.service_accounts))

    async def authenticate(self, scope: Any) -> UserInfo:
        """The request's user (``system:authenticated`` added to a proven identity,
        ``system:anonymous`` when it proves none and anonymous requests are on);
        ``InvalidCredentialsError`` otherwise."""
        if self.client_certificates:
            user = x509.authenticate(scope)
            if user is not None:
                return with_authenticated(user)
        # With no token authenticator configured a token proves nothing, and is not
        # looked at (Kubernetes builds no bearer-token authenticator then).
        token = bearer_token(scope) if self.takes_tokens else ""
        if token:
            user = await self.authenticate_token(token)
            if user is None:
                raise InvalidCredentialsError("invalid bearer token")
            return with_authenticated(user)
        if self.anonymous:
            return anonymous()
        raise InvalidCredentialsError("no credentials")

    async def authenticate_token(
        self, token: str, audiences: Sequence[str] | None = None
    ) -> UserInfo | None:
        """The user of a bearer token (TokenReview asks this too), None if no
        authenticator knows it; ``InvalidCredentialsError`` if one knows it and it is bad."""
        now = time.monotonic()
        cached = self._cache.get(token)
        if cached is not None and cached[0] > now and not audiences:
            return cached[1]
        if self.token_file is not None:
            user = self.token_file.authenticate(token)
            if user is not None:
                self._remember(token, user, now)
                return user
        if self.service_accounts is not None and TokenVerifier.looks_like_jwt(token):
            found = await self.service_accounts.authenticate(token, audiences)
            if found is not None:
                # Not cached here: whether its pod still exists is checked every time.
                return found[0]
        if self.bootstrap is not None:
            user = await self.bootstrap.authenticate(token)
            if user is not None:
                return user
        return None

    def _remember(self, token: str, user: UserInfo, now: float) -> None:
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[token] = (now + _CACHE_TTL, user)


def bearer_token(scope: Any) -> str:
    """The bearer token of a request scope, '' when it has none."""
    for name, value in scope.get("headers") or ():
        if name == b"authorization":
            text = value.decode("latin-1").strip()
            scheme, _, token = text.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return ""
    if scope.get("type") == "websocket":
        for protocol in scope.get("subprotocols") or ():
            if protocol.startswith(_WS_PREFIX):
                encoded = protocol[len(_WS_PREFIX) :]
                try:
                    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
                except (binascii.Error, UnicodeDecodeError):
                    return ""
    return ""
