"""The request path's authenticator (``apiserver.authn.union``): a bearer token is a
401 when token authenticators are configured and none knows it, and ignored (the
request is anonymous) when none is configured, as Kubernetes."""

from __future__ import annotations

from pathlib import Path

import pytest

from apiserver.authn import InvalidCredentialsError
from apiserver.authn.tokenfile import TokenFile
from apiserver.authn.union import Authenticator


def scope(token: str = "") -> dict[str, object]:
    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    return {"type": "http", "headers": headers}


async def test_tokens_are_ignored_without_token_authenticators() -> None:
    auth = Authenticator()
    assert not auth.takes_tokens
    user = await auth.authenticate(scope("secret-token"))
    assert user.name == "system:anonymous"
    closed = Authenticator(anonymous=False)
    with pytest.raises(InvalidCredentialsError):
        await closed.authenticate(scope("secret-token"))


async def test_an_unknown_token_is_refused_when_tokens_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "tokens.csv"
    path.write_text('good,alice,u1,"devs"\n')
    auth = Authenticator(token_file=TokenFile.load(str(path)))
    assert auth.takes_tokens
    user = await auth.authenticate(scope("good"))
    assert user.name == "alice" and "system:authenticated" in user.groups
    with pytest.raises(InvalidCredentialsError):
        await auth.authenticate(scope("forged"))
    assert (await auth.authenticate(scope())).name == "system:anonymous"
