"""Prometheus metrics, named as Kubernetes' apiserver names them."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "apiserver_request_total",
    "Requests by verb, resource, subresource and HTTP code.",
    ["verb", "group", "resource", "subresource", "code"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "apiserver_request_duration_seconds",
    "Request latency by verb and resource (watches: time to first byte).",
    ["verb", "group", "resource", "subresource"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
WATCHERS = Gauge(
    "apiserver_registered_watchers",
    "Client watches open, by resource.",
    ["group", "resource"],
    registry=REGISTRY,
)
WATCH_EVENTS = Counter(
    "apiserver_watch_events_total",
    "Events sent to watchers, by resource.",
    ["group", "resource"],
    registry=REGISTRY,
)
ETCD_WATCHES = Gauge(
    "apiserver_storage_watches",
    "etcd watches open (one per watch cache).",
    registry=REGISTRY,
)
INFLIGHT = Gauge(
    "apiserver_current_inflight_requests",
    "Requests being served, not counting long-running ones, by kind (readOnly, mutating).",
    ["request_kind"],
    registry=REGISTRY,
)
DROPPED = Counter(
    "apiserver_dropped_requests_total",
    "Requests refused with 429 because too many were in flight, by kind.",
    ["request_kind"],
    registry=REGISTRY,
)
