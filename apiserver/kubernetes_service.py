"""The ``kubernetes`` Service in ``default``, whose endpoints are every live apiserver.

As kube-apiserver's bootstrap controller and its lease endpoint reconciler
(``--endpoint-reconciler-type=lease``), every apiserver, every ``interval`` seconds:

1. makes sure the Service exists: ClusterIP the first address of the service range,
   port ``https`` 443 to the apiservers' port;
2. writes its own advertised address under ``<prefix>/masterleases/<ip>`` with a TTL
   (an etcd lease): the record of a live apiserver, gone ``ttl`` seconds after the last
   renewal, so a stopped or crashed apiserver drops out on its own;
3. sets the Endpoints ``kubernetes`` (and the EndpointSlice ``kubernetes``, where that
   kind is served) to the addresses of all records, sorted, when they differ.

On a graceful stop an apiserver removes its record and reconciles once more without
itself. An apiserver whose address is loopback or unspecified (a single local
apiserver bound to 127.0.0.1) keeps the Service but does not take part in the
endpoints: such an address is no use to a pod, and Endpoints refuse it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import Any

from apiserver import errors
from apiserver.registry.store import ResourceStore, WriteOptions
from apiserver.storage.interface import Storage, StorageError

log = logging.getLogger(__name__)

NAME = "kubernetes"
NAMESPACE = "default"
PORT_NAME = "https"
SERVICE_PORT = 443
LEASES = "/masterleases/"
SKIP_MIRROR = "endpointslice.kubernetes.io/skip-mirror"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"


def advertisable(ip: str) -> bool:
    """Whether ``ip`` can be an endpoint: a valid address, not loopback/unspecified."""
    try:
        parsed = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return not (parsed.is_loopback or parsed.is_unspecified or parsed.is_link_local)


class KubernetesService:
    """Keeps the ``kubernetes`` Service and its endpoints (see the module docstring)."""

    def __init__(
        self,
        stores: dict[tuple[str, str], ResourceStore],
        storage: Storage,
        *,
        prefix: str,
        advertise_address: str,
        cluster_ip: str,
        interval: float = 10.0,
        ttl: int = 15,
    ) -> None:
        host, _, port = advertise_address.rpartition(":")
        self.ip = host.strip("[]")
        self.port = int(port)
        self.cluster_ip = cluster_ip
        self.services = stores[("", "services")]
        self.endpoints = stores[("", "endpoints")]
        self.slices = stores.get(("discovery.k8s.io", "endpointslices"))
        self.storage = storage
        self.lease_prefix = prefix.rstrip("/") + LEASES
        self.interval = interval
        self.ttl = ttl
        self.advertised = advertisable(self.ip)

    async def run(self) -> None:
        """Reconcile every ``interval`` seconds until cancelled; failures are retried."""
        if not self.advertised:
            log.info(
                "advertise address %s is not routable: the kubernetes Service gets no "
                "endpoint from this apiserver",
                self.ip,
            )
        while True:
            try:
                await self.reconcile()
            except (errors.ApiError, StorageError) as err:
                log.warning("kubernetes Service: %s (retrying)", err)
            await asyncio.sleep(self.interval)

    async def reconcile(self) -> None:
        await self.ensure_service()
        if not self.advertised:
            return
        await self.storage.put_with_ttl(self.lease_prefix + self.ip, self.ip.encode(), self.ttl)
        await self.write_endpoints(await self.live_addresses())

    async def stop(self) -> None:
        """Remove this apiserver's record and its endpoint (a graceful shutdown)."""
        if not self.advertised:
            return
        try:
            await self.storage.delete_key(self.lease_prefix + self.ip)
            await self.write_endpoints([ip for ip in await self.live_addresses() if ip != self.ip])
        except (errors.ApiError, StorageError) as err:
            log.warning("kubernetes Service: could not remove %s: %s", self.ip, err)

    async def live_addresses(self) -> list[str]:
        found = await self.storage.list_prefix(self.lease_prefix)
        ips = {kv.key[len(self.lease_prefix) :] for kv in found.items}
        return sorted(ip for ip in ips if advertisable(ip))

    # --- the objects -----------------------------------------------------------------

    def _ports(self) -> list[dict[str, Any]]:
        return [
            {"name": PORT_NAME, "port": SERVICE_PORT, "protocol": "TCP", "targetPort": self.port}
        ]

    async def ensure_service(self) -> None:
        body = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": NAME,
                "namespace": NAMESPACE,
                "labels": {"component": "apiserver", "provider": "kubernetes"},
            },
            "spec": {
                "type": "ClusterIP",
                "clusterIP": self.cluster_ip,
                "ports": self._ports(),
                "sessionAffinity": "None",
            },
        }
        # Created when missing; a Service someone changed is left as it is.
        await _create_or_change(self.services, body, None)

    async def write_endpoints(self, ips: list[str]) -> None:
        subsets = []
        if ips:
            subsets = [
                {
                    "addresses": [{"ip": ip} for ip in ips],
                    "ports": [{"name": PORT_NAME, "port": self.port, "protocol": "TCP"}],
                }
            ]
        meta = {"name": NAME, "namespace": NAMESPACE, "labels": {SKIP_MIRROR: "true"}}
        await self._upsert(
            self.endpoints, {"apiVersion": "v1", "kind": "Endpoints", "metadata": meta}, subsets
        )
        if self.slices is not None:
            slice_body = {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "name": NAME,
                    "namespace": NAMESPACE,
                    "labels": {
                        "kubernetes.io/service-name": NAME,
                        MANAGED_BY: "navarch-apiserver",
                    },
                },
                "addressType": "IPv4" if ":" not in self.ip else "IPv6",
            }
            endpoints = [{"addresses": [ip], "conditions": {"ready": True}} for ip in ips]
            ports = [{"name": PORT_NAME, "port": self.port, "protocol": "TCP"}]
            await self._upsert_slice(slice_body, endpoints, ports)

    async def _upsert(
        self, store: ResourceStore, body: dict[str, Any], subsets: list[dict[str, Any]]
    ) -> None:
        def change(current: dict[str, Any]) -> dict[str, Any]:
            current["subsets"] = subsets
            current["metadata"].setdefault("labels", {}).update(body["metadata"]["labels"])
            return current

        await _create_or_change(store, body | {"subsets": subsets}, change, subsets=subsets)

    async def _upsert_slice(
        self, body: dict[str, Any], endpoints: list[dict[str, Any]], ports: list[dict[str, Any]]
    ) -> None:
        assert self.slices is not None

        def change(current: dict[str, Any]) -> dict[str, Any]:
            current["endpoints"] = endpoints
            current["ports"] = ports
            return current

        full = body | {"endpoints": endpoints, "ports": ports}
        await _create_or_change(self.slices, full, change, endpoints=endpoints, ports=ports)


async def _create_or_change(
    store: ResourceStore,
    body: dict[str, Any],
    change: Any,
    **wanted: Any,
) -> None:
    """Create ``body``; when it exists and differs in the ``wanted`` fields or the labels,
    patch it with ``change`` (``None``: leave an existing object alone)."""
    meta = body["metadata"]
    try:
        current = await store.get(meta["namespace"], meta["name"])
    except errors.ApiError as err:
        if err.code != 404:
            raise
        try:
            await store.create(meta["namespace"], dict(body), WriteOptions())
        except errors.ApiError as create_err:
            if create_err.code != 409:
                raise
        return
    if change is None:
        return
    labels = current["metadata"].get("labels") or {}
    same_labels = all(labels.get(k) == v for k, v in meta["labels"].items())
    if same_labels and all(current.get(k) == v for k, v in wanted.items()):
        return
    await store.patch(meta["namespace"], meta["name"], change, WriteOptions())
