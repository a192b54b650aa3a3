"""kube-proxy's Prometheus metrics, named as Kubernetes' kube-proxy names them."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

_SYNC_BUCKETS = (0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024,
                 2.048, 4.096, 8.192, 16.384)  # fmt: skip
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 5, 10, 30, 60, 120, 300)

SYNC_DURATION = Histogram(
    "kubeproxy_sync_proxy_rules_duration_seconds",
    "SyncProxyRules latency in seconds (full and partial syncs).",
    buckets=_SYNC_BUCKETS,
    registry=REGISTRY,
)
FULL_SYNC_DURATION = Histogram(
    "kubeproxy_sync_full_proxy_rules_duration_seconds",
    "Latency of full syncs in seconds.",
    buckets=_SYNC_BUCKETS,
    registry=REGISTRY,
)
PARTIAL_SYNC_DURATION = Histogram(
    "kubeproxy_sync_partial_proxy_rules_duration_seconds",
    "Latency of partial syncs in seconds.",
    buckets=_SYNC_BUCKETS,
    registry=REGISTRY,
)
LAST_SYNC = Gauge(
    "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
    "The last time proxy rules were successfully synced (Unix seconds).",
    registry=REGISTRY,
)
LAST_QUEUED = Gauge(
    "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
    "The last time a sync of proxy rules was queued (Unix seconds).",
    registry=REGISTRY,
)
NETWORK_PROGRAMMING = Histogram(
    "kubeproxy_network_programming_duration_seconds",
    "From an EndpointSlice's last-change-trigger-time to its rules in place.",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
RULES = Gauge(
    "kubeproxy_sync_proxy_rules_total",
    "Rules (iptables), rules and map elements (nftables) or listeners (userspace) in place.",
    ["table"],
    registry=REGISTRY,
)
IPTABLES_RULES = Gauge(
    "kubeproxy_sync_proxy_rules_iptables_total",
    "iptables rules written by the last full or partial sync, by table.",
    ["table"],
    registry=REGISTRY,
)
SYNC_ERRORS = Counter(
    "kubeproxy_sync_proxy_rules_errors_total",
    "Syncs that failed to write the rules (the next one is a full sync).",
    registry=REGISTRY,
)
SERVICES = Gauge(
    "kubeproxy_services",
    "Services (with at least one port the proxy serves) in the last sync.",
    registry=REGISTRY,
)
