"""The kubelet's authentication and authorization (``kubelet.auth``) against a fake
apiserver: the path/verb mapping, TokenReview and SubjectAccessReview with their caches,
anonymous access, and the middleware's 401/403 and Origin check."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from kubelet.auth import (
    ANONYMOUS,
    WEBHOOK,
    AuthConfig,
    KubeletAuth,
    User,
    request_attributes,
    same_origin,
)


class FakeApiserver:
    """Answers TokenReviews from ``tokens`` and SubjectAccessReviews from ``grants``
    ((user, verb, subresource) triples); counts the questions."""

    def __init__(self) -> None:
        self.tokens: dict[str, dict[str, Any]] = {}
        self.grants: set[tuple[str, str, str]] = set()
        self.asked: list[dict[str, Any]] = []
        self.down = False

    async def request(self, method: str, path: str, *, body: Any = None) -> Any:
        assert method == "POST"
        if self.down:
            raise ConnectionError("apiserver unreachable")
        self.asked.append(body)
        if path.endswith("/tokenreviews"):
            user = self.tokens.get(body["spec"]["token"])
            return {"status": {"authenticated": user is not None, "user": user or {}}}
        attrs = body["spec"]["resourceAttributes"]
        assert (attrs["resource"], attrs["name"]) == ("nodes", "node-a")
        key = (body["spec"]["user"], attrs["verb"], attrs["subresource"])
        return {"status": {"allowed": key in self.grants}}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_paths_and_methods_map_as_kubernetes_maps_them() -> None:
    assert request_attributes("GET", "/stats/summary") == ("get", "stats")
    assert request_attributes("GET", "/metrics/cadvisor") == ("get", "metrics")
    assert request_attributes("GET", "/logs/syslog") == ("get", "log")
    assert request_attributes("GET", "/spec/") == ("get", "spec")
    assert request_attributes("POST", "/checkpoint/ns/p/c") == ("create", "checkpoint")
    assert request_attributes("GET", "/containerLogs/ns/p/c") == ("get", "proxy")
    assert request_attributes("POST", "/exec/ns/p/c") == ("create", "proxy")
    assert request_attributes("GET", "/pods") == ("get", "proxy")
    assert request_attributes("HEAD", "/healthz") == ("get", "proxy")
    assert request_attributes("DELETE", "/statsx") == ("delete", "proxy")


def test_same_origin() -> None:
    assert same_origin("https://10.0.0.5:10250", "10.0.0.5:10250")
    assert not same_origin("https://evil.example", "10.0.0.5:10250")
    assert not same_origin("null", "10.0.0.5:10250")


async def test_tokens_are_reviewed_once_per_ttl_and_invalid_ones_refused() -> None:
    api, clock = FakeApiserver(), Clock()
    api.tokens["good"] = {"username": "alice", "uid": "u1", "groups": ["devs"]}
    auth = KubeletAuth(AuthConfig(token_webhook=True, token_cache_ttl=60), api, "node-a", clock)
    bearer = {"Authorization": "Bearer good"}
    user = await auth.authenticate(bearer, None)
    assert user == User("alice", "u1", ("devs", "system:authenticated"))
    assert await auth.authenticate(bearer, None) == user
    assert len(api.asked) == 1  # cached
    clock.now += 61
    await auth.authenticate(bearer, None)
    assert len(api.asked) == 2
    # A token nobody vouches for is refused even though anonymous access is on.
    assert await auth.authenticate({"Authorization": "Bearer forged"}, None) is None
    assert await auth.authenticate({}, None) == ANONYMOUS
    api.down = True
    assert await auth.authenticate({"Authorization": "Bearer other"}, None) is None


async def test_without_the_token_webhook_or_anonymous_nothing_authenticates() -> None:
    auth = KubeletAuth(AuthConfig(anonymous=False), None, "node-a")
    assert await auth.authenticate({}, None) is None
    assert await auth.authenticate({"Authorization": "Bearer t"}, None) is None


async def test_decisions_are_asked_and_cached_for_their_ttl() -> None:
    api, clock = FakeApiserver(), Clock()
    config = AuthConfig(authorization_mode=WEBHOOK, authorized_ttl=300, unauthorized_ttl=30)
    auth = KubeletAuth(config, api, "node-a", clock)
    bob = User("bob", groups=("system:authenticated",))
    assert not await auth.authorize(bob, "get", "proxy")
    api.grants.add(("bob", "get", "proxy"))
    assert not await auth.authorize(bob, "get", "proxy")  # the refusal is remembered
    clock.now += 31
    assert await auth.authorize(bob, "get", "proxy")
    asked = len(api.asked)
    clock.now += 299
    api.grants.clear()
    assert await auth.authorize(bob, "get", "proxy")  # the grant is remembered longer
    assert len(api.asked) == asked
    assert not await auth.authorize(bob, "get", "log")  # another subresource is asked
    review = api.asked[-1]["spec"]
    assert review["user"] == "bob" and review["groups"] == ["system:authenticated"]
    assert review["resourceAttributes"]["subresource"] == "log"


def test_webhooks_need_the_apiserver_and_modes_are_known() -> None:
    with pytest.raises(ValueError):
        KubeletAuth(AuthConfig(authorization_mode=WEBHOOK), None, "node-a")
    with pytest.raises(ValueError):
        KubeletAuth(AuthConfig(authorization_mode="RBAC"), FakeApiserver(), "node-a")


async def test_the_middleware_answers_401_403_and_checks_origin() -> None:
    api = FakeApiserver()
    api.tokens["ops"] = {"username": "ops"}
    api.tokens["nobody"] = {"username": "nobody"}
    api.grants.add(("ops", "get", "proxy"))
    config = AuthConfig(anonymous=False, token_webhook=True, authorization_mode=WEBHOOK)
    auth = KubeletAuth(config, api, "node-a")

    async def pods(_request: web.Request) -> web.Response:
        return web.Response(text="pods")

    app = web.Application(middlewares=[auth.middleware()])
    app.router.add_get("/pods", pods)
    async with TestClient(TestServer(app)) as http:
        resp = await http.get("/pods")
        assert resp.status == 401 and await resp.text() == "Unauthorized"
        resp = await http.get("/pods", headers={"Authorization": "Bearer nobody"})
        assert resp.status == 403
        assert await resp.text() == (
            "Forbidden (user=nobody, verb=get, resource=nodes, subresource=proxy)"
        )
        resp = await http.get("/pods", headers={"Authorization": "Bearer ops"})
        assert resp.status == 200 and await resp.text() == "pods"
        upgrade = {
            "Authorization": "Bearer ops",
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Origin": "https://evil.example",
        }
        resp = await http.get("/pods", headers=upgrade)
        assert resp.status == 403 and "origin" in await resp.text()
        same = {**upgrade, "Origin": f"http://{http.host}:{http.port}"}
        resp = await http.get("/pods", headers=same)
        assert resp.status == 200
