"""Request limits (apiserver.limits, issue 12): in-flight caps and watch caps."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import pytest

from apiserver import limits
from apiserver.limits import Limits, RequestLimiter, classify


class BlockingApp:
    """An ASGI app whose requests stay in flight until ``release`` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.started += 1
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def scope(method: str, path: str, query: bytes = b"", client: str = "10.0.0.1") -> dict:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "client": (client, 40000),
        "headers": [],
    }


async def call(app: RequestLimiter, sc: dict) -> tuple[int, dict[str, str], bytes]:
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(sc, receive, send)
    headers = {k.decode(): v.decode() for k, v in sent[0].get("headers", [])}
    return sent[0]["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


async def started(app: BlockingApp, count: int) -> None:
    for _ in range(1000):
        if app.started >= count:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{app.started} of {count} requests started")


PODS = "/api/v1/namespaces/default/pods"


@pytest.mark.parametrize(
    "method,path,query,kind",
    [
        ("GET", PODS, b"", "readonly"),
        ("GET", PODS, b"watch=true", "watch"),
        ("GET", PODS, b"watch=1&resourceVersion=5", "watch"),
        ("GET", PODS, b"watch=false", "readonly"),
        ("GET", PODS, b"watch=false&watch=true", "watch"),  # the last one counts
        ("GET", PODS, b"watch=true&watch=0", "readonly"),
        ("POST", PODS, b"", "mutating"),
        ("DELETE", f"{PODS}/p", b"", "mutating"),
        ("PATCH", f"{PODS}/p/status", b"", "mutating"),
        ("GET", f"{PODS}/p/log", b"follow=true", "long"),
        ("POST", f"{PODS}/p/exec", b"command=sh", "long"),
        ("GET", f"{PODS}/p/portforward", b"", "long"),
        ("GET", "/readyz", b"", "exempt"),
        ("GET", "/livez/ping", b"", "exempt"),
        ("GET", "/openapi/v2", b"", "readonly"),
        ("GET", "/api/v1/namespaces/log", b"", "readonly"),
    ],
)
def test_classify(method: str, path: str, query: bytes, kind: str) -> None:
    assert classify(scope(method, path, query)) == kind


async def test_requests_beyond_the_in_flight_limits_are_429() -> None:
    inner = BlockingApp()
    app = RequestLimiter(inner, Limits(max_requests_inflight=2, max_mutating_requests_inflight=1))
    held = [
        asyncio.create_task(call(app, scope("GET", PODS))),
        asyncio.create_task(call(app, scope("GET", PODS))),
        asyncio.create_task(call(app, scope("POST", PODS))),
    ]
    await started(inner, 3)
    code, headers, body = await call(app, scope("GET", PODS))
    assert code == 429 and headers["retry-after"] == "1"
    status = orjson.loads(body)
    assert status["reason"] == "TooManyRequests"
    assert status["details"]["retryAfterSeconds"] == 1
    assert (await call(app, scope("PUT", f"{PODS}/p")))[0] == 429
    # Long-running requests and health probes are not counted, nor refused.
    others = [
        asyncio.create_task(call(app, scope("GET", PODS, b"watch=1"))),
        asyncio.create_task(call(app, scope("GET", f"{PODS}/p/log"))),
        asyncio.create_task(call(app, scope("GET", "/readyz"))),
    ]
    await started(inner, 6)
    assert inner.started == 6  # nothing refused reached the app
    inner.release.set()
    assert [(await t)[0] for t in held + others] == [200] * 6
    # Capacity comes back when requests finish.
    assert (await call(app, scope("POST", PODS)))[0] == 200
    assert app.inflight == {"readonly": 0, "mutating": 0}


async def test_watch_caps_per_client_and_in_total() -> None:
    inner = BlockingApp()
    app = RequestLimiter(inner, Limits(max_watches=3, max_watches_per_client=2))
    watch = scope("GET", PODS, b"watch=true")
    first = [asyncio.create_task(call(app, watch)) for _ in range(2)]
    await started(inner, 2)
    code, headers, body = await call(app, watch)
    assert code == 429 and headers["retry-after"] == "1"
    assert (
        "too many watches from 10.0.0.1: 2 open (limit 2 per client)"
        in orjson.loads(body)["message"]
    )
    other = asyncio.create_task(call(app, scope("GET", PODS, b"watch=1", client="10.0.0.2")))
    await started(inner, 3)
    code, _, body = await call(app, scope("GET", PODS, b"watch=1", client="10.0.0.3"))
    assert code == 429 and "3 open (limit 3)" in orjson.loads(body)["message"]
    inner.release.set()
    await asyncio.gather(*first, other)
    assert app.watches == 0 and app.watches_by_client == {}


class AnsweringApp:
    """An ASGI app answering every request with ``status``."""

    def __init__(self) -> None:
        self.status = 400

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def test_a_connection_refused_again_and_again_is_slowed() -> None:
    inner = AnsweringApp()
    app = RequestLimiter(inner, Limits())
    conn = scope("POST", PODS)
    for _ in range(limits.STRIKES_BEFORE_PENALTY):
        assert (await call(app, conn))[0] == 400
    assert app.strikes[conn["client"]] == limits.STRIKES_BEFORE_PENALTY
    started = time.monotonic()
    await call(app, conn)
    assert time.monotonic() - started >= limits.PENALTY / 2  # with jitter, at least half
    # Another connection is not slowed, and 404s and 409s are no strikes.
    inner.status = 404
    await call(app, scope("GET", PODS, client="10.0.0.9"))
    assert ("10.0.0.9", 40000) not in app.strikes
    # One answer that is not a refusal clears the count.
    inner.status = 201
    await call(app, conn)
    assert app.strikes == {}
