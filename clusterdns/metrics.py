"""Prometheus metrics and the health endpoints, on one HTTP port.

``/health`` is 200 while the process serves (liveness), ``/ready`` is 200 once the
Service and EndpointSlice caches have synced (readiness: before that cluster names
would get wrong answers), ``/metrics`` is the Prometheus text format.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# CoreDNS's buckets: 0.25 ms doubling to 8 s.
BUCKETS = tuple(0.00025 * 2**i for i in range(16))


class Metrics:
    """The DNS server's counters; label children are bound once and reused."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "navarch_dns_requests_total", "DNS queries answered, by transport, type and rcode.",
            ["proto", "type", "rcode"], registry=self.registry,
        )  # fmt: skip
        self.duration = Histogram(
            "navarch_dns_request_duration_seconds", "Time from a query's arrival to its answer.",
            ["proto"], buckets=BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.cache_hits = Counter(
            "navarch_dns_cache_hits_total", "Forwarded questions answered from the cache.",
            registry=self.registry,
        )  # fmt: skip
        self.cache_misses = Counter(
            "navarch_dns_cache_misses_total", "Forwarded questions the cache could not answer.",
            registry=self.registry,
        )  # fmt: skip
        self.cache_entries = Gauge(
            "navarch_dns_cache_entries", "Answers held in the forwarding cache.",
            registry=self.registry,
        )  # fmt: skip
        self.upstream = Counter(
            "navarch_dns_forward_responses_total", "Upstream answers by upstream and outcome.",
            ["to", "rcode"], registry=self.registry,
        )  # fmt: skip
        self.services = Gauge(
            "navarch_dns_services", "Services in the cluster zone.", registry=self.registry
        )
        self.records = Gauge(
            "navarch_dns_records", "Records in the cluster zone.", registry=self.registry
        )
        self._requests: dict[tuple[str, str, str], Callable[[], None]] = {}
        self._durations: dict[str, Callable[[float], None]] = {}

    def count(self, proto: str, qtype: str, rcode: str, seconds: float) -> None:
        key = (proto, qtype, rcode)
        inc = self._requests.get(key)
        if inc is None:
            inc = self._requests[key] = self.requests.labels(proto, qtype, rcode).inc
        inc()
        observe = self._durations.get(proto)
        if observe is None:
            observe = self._durations[proto] = self.duration.labels(proto).observe
        observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def health_app(metrics: Metrics, ready: Callable[[], bool]) -> web.Application:
    async def health(_: web.Request) -> web.Response:
        return web.Response(text="OK")

    async def readiness(_: web.Request) -> web.Response:
        if ready():
            return web.Response(text="OK")
        return web.Response(status=503, text="caches not synced")

    async def exposition(_: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/ready", readiness)
    app.router.add_get("/metrics", exposition)
    return app
