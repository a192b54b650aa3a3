"""Bootstrap tokens (``--enable-bootstrap-token-auth``): ``<id>.<secret>`` bearer tokens
whose record is the Secret ``kube-system/bootstrap-token-<id>`` of type
``bootstrap.kubernetes.io/token`` (``token-id``, ``token-secret``, ``expiration``,
``usage-bootstrap-authentication: "true"``, ``auth-extra-groups``), as kubeadm makes
them for joining nodes. They authenticate as ``system:bootstrap:<id>`` in
``system:bootstrappers`` and the extra groups (each must start with
``system:bootstrappers:``)."""

from __future__ import annotations

import base64
import binascii
import datetime
import hmac
import re
import time
from collections.abc import Callable

from apiserver.authn import InvalidCredentialsError
from apiserver.authn.serviceaccount import Getter
from apiserver.user import BOOTSTRAP_PREFIX, BOOTSTRAPPERS, UserInfo

TOKEN = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
SECRET_TYPE = "bootstrap.kubernetes.io/token"
NAMESPACE = "kube-system"
SECRET_PREFIX = "bootstrap-token-"


def _field(data: dict[str, str], key: str) -> str:
    raw = data.get(key)
    if raw is None:
        return ""
    try:
        return base64.b64decode(raw).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""


class BootstrapTokens:
    def __init__(self, getter: Getter, clock: Callable[[], float] = time.time) -> None:
        self._get = getter
        self._clock = clock

    async def authenticate(self, token: str) -> UserInfo | None:
        match = TOKEN.match(token)
        if match is None:
            return None
        token_id, token_secret = match.groups()
        secret = await self._get("secrets", NAMESPACE, SECRET_PREFIX + token_id)
        if secret is None or secret.get("type") != SECRET_TYPE:
            raise InvalidCredentialsError("invalid bearer token: no such bootstrap token")
        data = secret.get("data") or {}
        if _field(data, "token-id") != token_id or not hmac.compare_digest(
            _field(data, "token-secret"), token_secret
        ):
            raise InvalidCredentialsError("invalid bearer token: bootstrap token mismatch")
        if secret["metadata"].get("deletionTimestamp"):
            raise InvalidCredentialsError("invalid bearer token: bootstrap token is being deleted")
        expiration = _field(data, "expiration")
        if expiration:
            try:
                expires = datetime.datetime.fromisoformat(expiration.replace("Z", "+00:00"))
            except ValueError as err:
                raise InvalidCredentialsError("invalid bearer token: bad expiration") from err
            if expires.timestamp() < self._clock():
                raise InvalidCredentialsError("invalid bearer token: bootstrap token expired")
        if _field(data, "usage-bootstrap-authentication") != "true":
            raise InvalidCredentialsError("invalid bearer token: not for authentication")
        extra = [g.strip() for g in _field(data, "auth-extra-groups").split(",") if g.strip()]
        if any(not g.startswith(BOOTSTRAPPERS + ":") for g in extra):
            raise InvalidCredentialsError("invalid bearer token: bad auth-extra-groups")
        return UserInfo(BOOTSTRAP_PREFIX + token_id, "", (BOOTSTRAPPERS, *extra))
