"""Service-account tokens: signed JWTs, issued through the TokenRequest API and checked
on every request, as Kubernetes' bound service-account tokens are.

A token names its issuer (``--service-account-issuer``), audiences, expiry, the service
account (name and uid) and, when bound, the Pod or Secret it is bound to (name and uid;
a Pod's node too). It is valid while its signature checks against a key of
``--service-account-key-file`` (or the signing key's own public half), its issuer is
accepted, one of its audiences is one the request's checker wants (the API audiences by
default), it has not expired, and the objects it names still exist with the same uid:
deleting the pod (or the service account) ends the token, whatever its expiry. RS256
and ES256 keys, as Kubernetes'.

Claims (Kubernetes' ``privateClaims``)::

    {"iss", "sub": "system:serviceaccount:<ns>:<name>", "aud": [...], "exp", "iat", "nbf",
     "jti", "kubernetes.io": {"namespace", "serviceaccount": {"name", "uid"},
                              "pod": {"name", "uid"}, "node": {"name", "uid"}}}
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from apiserver.authn import InvalidCredentialsError
from apiserver.user import (
    EXTRA_CREDENTIAL_ID,
    EXTRA_NODE_NAME,
    EXTRA_NODE_UID,
    EXTRA_POD_NAME,
    EXTRA_POD_UID,
    UserInfo,
    service_account_groups,
    service_account_user,
)

DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local"
DEFAULT_EXPIRATION = 3600
"""A TokenRequest without ``expirationSeconds`` gets an hour, as in Kubernetes."""
MIN_EXPIRATION = 600
LEEWAY = 60
"""Seconds of clock skew allowed on ``nbf``/``exp``, and how long a pod being deleted
keeps its tokens (Kubernetes' grace for bound objects)."""

Getter = Callable[[str, str | None, str], Awaitable[dict[str, Any] | None]]
"""Reads an object: (plural, namespace, name) -> wire form, or None when absent."""

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def key_id(key: PublicKey) -> str:
    """Kubernetes' ``kid``: the unpadded URL-safe base64 SHA-256 of the DER public key."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).decode().rstrip("=")


def _algorithm(key: PublicKey | PrivateKey) -> str:
    return "RS256" if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey) else "ES256"


def load_private_key(path: str | Path) -> PrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path}: not an RSA or ECDSA private key")
    return key


def load_public_keys(path: str | Path) -> list[PublicKey]:
    """Every public key in a PEM file (public keys, or private keys' public halves)."""
    data = Path(path).read_bytes()
    keys: list[PublicKey] = []
    for block in data.split(b"-----END ")[:-1]:
        start = block.find(b"-----BEGIN ")
        kind = block[start + 11 : block.find(b"-----", start + 11)]
        pem = block[start:] + b"-----END " + kind + b"-----\n"
        if b"PRIVATE" in kind:
            private = serialization.load_pem_private_key(pem, None)
            candidate: Any = private.public_key()
        else:
            candidate = serialization.load_pem_public_key(pem)
        if isinstance(candidate, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
            keys.append(candidate)
    if not keys:
        raise ValueError(f"{path}: no public key")
    return keys


@dataclass(frozen=True)
class BoundObject:
    kind: str
    """``Pod``, ``Secret`` or ``Node``."""
    name: str
    uid: str


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires: datetime.datetime
    seconds: int


class TokenIssuer:
    """Signs tokens for the TokenRequest API (``--service-account-signing-key-file``)."""

    def __init__(
        self,
        key: PrivateKey,
        issuer: str = DEFAULT_ISSUER,
        api_audiences: Sequence[str] = (),
        max_expiration: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = key
        self._kid = key_id(key.public_key())
        self._alg = _algorithm(key)
        self.issuer = issuer
        self.api_audiences = list(api_audiences) or [issuer]
        self.max_expiration = max_expiration
        self._clock = clock

    def issue(
        self,
        *,
        namespace: str,
        service_account: str,
        service_account_uid: str,
        audiences: Sequence[str] = (),
        expiration_seconds: int | None = None,
        bound: BoundObject | None = None,
        node: BoundObject | None = None,
    ) -> IssuedToken:
        seconds = expiration_seconds or DEFAULT_EXPIRATION
        if self.max_expiration:
            seconds = min(seconds, self.max_expiration)
        now = int(self._clock())
        private: dict[str, Any] = {
            "namespace": namespace,
            "serviceaccount": {"name": service_account, "uid": service_account_uid},
        }
        if bound is not None:
            private[bound.kind.lower()] = {"name": bound.name, "uid": bound.uid}
        if node is not None:
            private["node"] = {"name": node.name, "uid": node.uid}
        claims = {
            "iss": self.issuer,
            "sub": service_account_user(namespace, service_account),
            "aud": list(audiences) or self.api_audiences,
            "exp": now + seconds,
            "iat": now,
            "nbf": now,
            "jti": str(uuid.uuid4()),
            "kubernetes.io": private,
        }
        token = jwt.encode(claims, self._key, algorithm=self._alg, headers={"kid": self._kid})
        return IssuedToken(
            token, datetime.datetime.fromtimestamp(now + seconds, datetime.UTC), seconds
        )


class TokenVerifier:
    """Checks service-account JWTs (``--service-account-key-file``)."""

    def __init__(
        self,
        keys: Sequence[PublicKey],
        issuers: Sequence[str],
        api_audiences: Sequence[str],
        getter: Getter,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = {key_id(k): k for k in keys}
        self.issuers = list(issuers)
        self.api_audiences = list(api_audiences) or list(issuers)
        self._get = getter
        self._clock = clock
        # Signature checks are the costly part; their result is kept per token (the
        # claims never change), while the bound objects are checked on every use.
        self._verified: dict[str, dict[str, Any]] = {}

    @staticmethod
    def looks_like_jwt(token: str) -> bool:
        return token.count(".") == 2

    def _claims(self, token: str) -> dict[str, Any] | None:
        """The verified claims, None when the token is not one of ours (another issuer,
        no key of ours); ``InvalidCredentialsError`` when it is ours and broken."""
        cached = self._verified.get(token)
        if cached is not None:
            return cached
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None
        if unverified.get("iss") not in self.issuers:
            return None
        kid = header.get("kid")
        keys = [self._keys[kid]] if kid in self._keys else list(self._keys.values())
        for key in keys:
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    key,
                    algorithms=[_algorithm(key)],
                    options={"verify_aud": False, "verify_exp": False, "verify_nbf": False},
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError as err:
                raise InvalidCredentialsError(f"invalid bearer token: {err}") from err
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[token] = claims
            return claims
        raise InvalidCredentialsError("invalid bearer token: no key of the issuer signed it")

    async def authenticate(
        self, token: str, audiences: Sequence[str] | None = None
    ) -> tuple[UserInfo, list[str]] | None:
        """(user, the audiences it was accepted for), None when it is not a token of
        this issuer; ``InvalidCredentialsError`` when it is one and not valid (anymore)."""
        claims = self._claims(token)
        if claims is None:
            return None
        now = self._clock()
        if claims.get("exp") is None or now > float(claims["exp"]) + LEEWAY:
            raise InvalidCredentialsError("invalid bearer token: token has expired")
        if claims.get("nbf") is not None and now + LEEWAY < float(claims["nbf"]):
            raise InvalidCredentialsError("invalid bearer token: token not valid yet")
        aud = claims.get("aud")
        token_audiences = [aud] if isinstance(aud, str) else list(aud or [])
        wanted = list(audiences) if audiences else self.api_audiences
        accepted = [a for a in wanted if a in token_audiences]
        if not accepted:
            raise InvalidCredentialsError("invalid bearer token: token audiences are invalid")
        private = claims.get("kubernetes.io")
        if not isinstance(private, dict):
            raise InvalidCredentialsError("invalid bearer token: no kubernetes.io claims")
        user = await self._bound_user(claims, private, now)
        return user, accepted

    async def _bound_user(
        self, claims: dict[str, Any], private: dict[str, Any], now: float
    ) -> UserInfo:
        namespace = str(private.get("namespace") or "")
        sa = private.get("serviceaccount") or {}
        sa_name, sa_uid = str(sa.get("name") or ""), str(sa.get("uid") or "")
        if not namespace or not sa_name:
            raise InvalidCredentialsError("invalid bearer token: no service account")
        account = await self._get("serviceaccounts", namespace, sa_name)
        if account is None or account["metadata"].get("uid") != sa_uid:
            raise InvalidCredentialsError(
                f"invalid bearer token: service account {namespace}/{sa_name} has been deleted"
            )
        extra: dict[str, tuple[str, ...]] = {}
        pod = private.get("pod")
        if isinstance(pod, dict):
            found = await self._get("pods", namespace, str(pod.get("name") or ""))
            if found is None or found["metadata"].get("uid") != pod.get("uid"):
                raise InvalidCredentialsError(
                    f"invalid bearer token: pod {namespace}/{pod.get('name')} has been deleted"
                )
            deleted = found["metadata"].get("deletionTimestamp")
            if deleted and _timestamp(deleted) < now - LEEWAY:
                raise InvalidCredentialsError(
                    f"invalid bearer token: pod {namespace}/{pod.get('name')} is being deleted"
                )
            extra[EXTRA_POD_NAME] = (str(pod.get("name")),)
            extra[EXTRA_POD_UID] = (str(pod.get("uid")),)
        secret = private.get("secret")
        if isinstance(secret, dict):
            found = await self._get("secrets", namespace, str(secret.get("name") or ""))
            if found is None or found["metadata"].get("uid") != secret.get("uid"):
                raise InvalidCredentialsError("invalid bearer token: its secret has been deleted")
        node = private.get("node")
        if isinstance(node, dict):
            extra[EXTRA_NODE_NAME] = (str(node.get("name")),)
            extra[EXTRA_NODE_UID] = (str(node.get("uid")),)
            if not isinstance(pod, dict):
                found = await self._get("nodes", None, str(node.get("name") or ""))
                if found is None or found["metadata"].get("uid") != node.get("uid"):
                    raise InvalidCredentialsError("invalid bearer token: its node has been deleted")
        if claims.get("jti"):
            extra[EXTRA_CREDENTIAL_ID] = (f"JTI={claims['jti']}",)
        return UserInfo(
            service_account_user(namespace, sa_name),
            sa_uid,
            service_account_groups(namespace),
            extra,
        )


def _timestamp(text: str) -> float:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
