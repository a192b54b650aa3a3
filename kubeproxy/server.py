"""kube-proxy's HTTP endpoints: ``/healthz`` (and ``/livez``) and ``/metrics``.

``/healthz`` answers 200 once the rules were synced and no change has waited longer
than the health timeout (twice ``--sync-period``, as kube-proxy's health server
does), 503 otherwise; the body is kube-proxy's JSON
``{"lastUpdated": ..., "currentTime": ..., "nodeEligible": true}``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from kubeproxy.metrics import REGISTRY

log = logging.getLogger(__name__)


def split_address(text: str, default_port: int) -> tuple[str, int] | None:
    """``host:port`` (or ``host``); None when empty or port 0 (disabled)."""
    if not text:
        return None
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = text, str(default_port)
    number = int(port)
    return None if number == 0 else (host or "0.0.0.0", number)


class HealthState:
    """When the rules were last synced and when a change last waited for a sync."""

    def __init__(self, timeout: float, clock: Callable[[], float]) -> None:
        self.timeout = timeout
        self.clock = clock
        self.last_updated: float | None = None
        self.oldest_queued: float | None = None

    def queued(self) -> None:
        if self.oldest_queued is None:
            self.oldest_queued = self.clock()

    def updated(self) -> None:
        self.last_updated = self.clock()
        self.oldest_queued = None

    def healthy(self) -> bool:
        if self.last_updated is None:
            return False
        waiting = self.oldest_queued
        return waiting is None or self.clock() - waiting < self.timeout


def _stamp(seconds: float | None) -> str:
    if seconds is None:
        return "0001-01-01T00:00:00Z"
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


class ProxyServer:
    def __init__(self, health: HealthState, wall: Callable[[], float]) -> None:
        self.health = health
        self.wall = wall
        self._runners: list[web.AppRunner] = []

    async def healthz(self, _request: web.Request) -> web.Response:
        ok = self.health.healthy()
        offset = self.wall() - self.health.clock()
        updated = self.health.last_updated
        body = {
            "lastUpdated": _stamp(updated + offset if updated is not None else None),
            "currentTime": _stamp(self.wall()),
            "nodeEligible": True,
        }
        return web.Response(
            body=orjson.dumps(body), status=200 if ok else 503, content_type="application/json"
        )

    async def metrics(self, _request: web.Request) -> web.Response:
        response = web.Response(body=generate_latest(REGISTRY))
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    async def start(self, healthz: tuple[str, int] | None, metrics: tuple[str, int] | None) -> None:
        if healthz is not None:
            app = web.Application()
            app.router.add_get("/healthz", self.healthz)
            app.router.add_get("/livez", self.healthz)
            if metrics == healthz:
                app.router.add_get("/metrics", self.metrics)
            await self._serve(app, healthz)
        if metrics is not None and metrics != healthz:
            app = web.Application()
            app.router.add_get("/metrics", self.metrics)
            app.router.add_get("/healthz", self.healthz)
            await self._serve(app, metrics)

    async def _serve(self, app: web.Application, address: tuple[str, int]) -> None:
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, address[0], address[1]).start()
        self._runners.append(runner)
        log.info("serving http://%s:%d", *address)

    async def stop(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()
