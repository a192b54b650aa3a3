"""Overload limits of a real apiserver (issue 12): in-flight caps, watch caps, request
heads; and the project's client backing off on 429."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from apiclient.rest import Client
from apitypes import core
from testkit.processes import ApiServerProcess, wait_until
from testkit.watching import RawWatch

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def limited(etcd: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    """An apiserver with small limits: one mutating request, two watches per client,
    request heads due within two seconds."""
    server = ApiServerProcess.create(
        etcd,
        tmp_path_factory.mktemp("limited"),
        "--max-mutating-requests-inflight", "1",
        "--max-watches-per-client", "2",
        "--request-header-timeout", "2",
    )  # fmt: skip
    server.start()
    yield server
    server.stop()


@pytest.fixture
def ns(limited: ApiServerProcess) -> str:
    name = f"lim-{uuid.uuid4().hex[:8]}"
    with limited.client() as api:
        assert api.post("/api/v1/namespaces", json={"metadata": {"name": name}}).status_code == 201
    return name


class SlowPost:
    """A POST whose body is held back: it stays in flight (a mutating request) until
    ``finish`` sends the rest."""

    def __init__(self, server: ApiServerProcess, path: str, body: bytes) -> None:
        self.sock = server.connect()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.sock.sendall(head + body[:5])
        self.rest = body[5:]

    def finish(self) -> bytes:
        self.sock.sendall(self.rest)
        self.sock.settimeout(10)
        answer = self.sock.recv(65536)
        self.sock.close()
        return answer


def cm(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}


def refused_creates(server: ApiServerProcess) -> float:
    """How many mutating requests the server has refused with 429 for being over its
    in-flight limit (``apiserver_dropped_requests_total``)."""
    text = httpx.get(f"{server.url}/metrics", verify=server.verify).text
    prefix = 'apiserver_dropped_requests_total{request_kind="mutating"}'
    return sum(float(x.rsplit(" ", 1)[1]) for x in text.splitlines() if x.startswith(prefix))


def revision(api: httpx.Client) -> int:
    return int(
        api.get("/api/v1/namespaces", params={"limit": 1}).json()["metadata"]["resourceVersion"]
    )


def test_mutating_requests_beyond_the_limit_are_429(limited: ApiServerProcess, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    slow = SlowPost(limited, base, b'{"metadata":{"name":"slow"}}')
    with limited.client() as api:
        before = revision(api)
        resp = wait_until(lambda: (r := api.post(base, json=cm("fast"))).status_code == 429 and r)
        assert isinstance(resp, httpx.Response)
        assert resp.headers["Retry-After"] == "1"
        status = resp.json()
        assert status["reason"] == "TooManyRequests" and status["code"] == 429
        # Reads are another budget, and were not refused.
        assert api.get(base).status_code == 200
        assert revision(api) == before  # the refused create wrote nothing
        assert api.get(f"{base}/fast").status_code == 404
        assert b" 201 " in slow.finish()
        assert api.post(base, json=cm("fast")).status_code == 201


def test_the_client_backs_off_on_429_as_told(limited: ApiServerProcess, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    slow = SlowPost(limited, base, b'{"metadata":{"name":"held"}}')

    refused_before = refused_creates(limited)

    async def scenario() -> float:
        async with Client(limited.client_config(namespace=ns)) as client:
            started = time.monotonic()
            create = asyncio.create_task(
                client.create(core.ConfigMap.model_validate(cm("patient")))
            )
            # The client's first try is refused (the server counts the 429) before the
            # slot frees, so what follows is the client waiting and trying again.
            await asyncio.to_thread(
                wait_until, lambda: refused_creates(limited) > refused_before, 10, 0.05
            )
            await asyncio.to_thread(slow.finish)  # the slot frees while the client waits
            created = await create
            assert created.metadata.name == "patient"
            return time.monotonic() - started

    elapsed = asyncio.run(scenario())
    assert elapsed >= 1.0  # it waited the Retry-After second before trying again


def test_watches_beyond_the_per_client_cap_are_429(limited: ApiServerProcess, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    open_ = [RawWatch(limited.url, base) for _ in range(2)]
    try:
        refused = RawWatch(limited.url, base)
        assert refused.status_code == 429
        status = refused.next()
        assert status["reason"] == "TooManyRequests"
        assert "too many watches from 127.0.0.1: 2 open (limit 2 per client)" in status["message"]
        refused.close()
        # Plain requests are not watches.
        with limited.client() as api:
            assert api.get(base).status_code == 200
        open_.pop().close()
        again = wait_until(lambda: (w := RawWatch(limited.url, base)).status_code == 200 and w)
        assert isinstance(again, RawWatch)
        open_.append(again)
    finally:
        for watch in open_:
            watch.close()


def test_request_heads_are_capped_and_timed_out(limited: ApiServerProcess) -> None:
    with limited.client() as api:
        big = api.get("/api/v1/namespaces", headers={"X-Big": "x" * (2 << 20)})
        assert big.status_code == 431
        slow = [limited.connect() for _ in range(50)]
        for sock in slow:
            sock.sendall(b"GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        started = time.monotonic()
        # Good requests are served meanwhile.
        assert api.get("/api/v1/namespaces/default").status_code == 200
        answers = []
        for sock in slow:
            sock.settimeout(10)
            answers.append(sock.recv(1024))
            sock.close()
        assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers), answers[:2]
        assert time.monotonic() - started < 8
