"""Service-account tokens for projected volumes, through the TokenRequest API (Kubernetes'
kubelet token manager).

A pod's ``serviceAccountToken`` source asks for a token of the pod's service account,
for an audience (default: the API's) and a lifetime (``expirationSeconds``, default an
hour), bound to the pod: the apiserver invalidates it when the pod is gone. Tokens are
kept per (pod, account, audience, lifetime) and requested again once 80% of their life
has passed (or after 24 hours), on the volume refresh that follows (every sync).
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass

from apiclient import Client
from apitypes.core import Pod

DEFAULT_EXPIRATION = 3600
REFRESH_FRACTION = 0.8
MAX_AGE = 24 * 3600.0


@dataclass
class _Token:
    token: str
    issued: float
    expires: float

    def due(self, now: float) -> bool:
        life = self.expires - self.issued
        return now >= self.issued + REFRESH_FRACTION * life or now - self.issued > MAX_AGE


class TokenManager:
    def __init__(self, client: Client, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._clock = clock
        self._tokens: dict[tuple[str, str, str, int], _Token] = {}

    async def token(self, pod: Pod, audience: str, expiration: int | None) -> str:
        """A valid token of ``pod``'s service account, bound to the pod."""
        meta = pod.metadata
        account = (pod.spec.service_account_name if pod.spec else None) or "default"
        seconds = expiration or DEFAULT_EXPIRATION
        key = (meta.uid or "", account, audience, seconds)
        now = self._clock()
        cached = self._tokens.get(key)
        if cached is not None and not cached.due(now):
            return cached.token
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {
                "audiences": [audience] if audience else [],
                "expirationSeconds": seconds,
                "boundObjectRef": {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "name": meta.name,
                    "uid": meta.uid,
                },
            },
        }
        path = f"/api/v1/namespaces/{meta.namespace}/serviceaccounts/{account}/token"
        answer = await self._client.request("POST", path, body=body)
        status = answer.get("status") or {}
        expires = datetime.datetime.fromisoformat(
            str(status["expirationTimestamp"]).replace("Z", "+00:00")
        ).timestamp()
        fresh = _Token(str(status["token"]), now, expires)
        self._tokens[key] = fresh
        return fresh.token

    def retain(self, pod_uids: set[str]) -> None:
        """Drop the tokens of pods that are gone."""
        for key in [k for k in self._tokens if k[0] not in pod_uids]:
            del self._tokens[key]
