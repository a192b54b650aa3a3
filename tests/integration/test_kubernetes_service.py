"""The ``kubernetes`` Service in ``default``: every live apiserver is an endpoint.

Two real apiserver processes over their own etcd, each with its own
``--advertise-address`` (addresses nothing is sent to: only written in objects).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from apiserver.etcd_server import free_port
from testkit.processes import ApiServerProcess, start_etcd, wait_until
from testkit.testca import verify

pytestmark = pytest.mark.integration

ADDRESS_A = "10.120.250.6"
ADDRESS_B = "10.120.250.7"


@dataclass
class BoundApiServer(ApiServerProcess):
    """An apiserver on another loopback address: all apiservers share one port."""

    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        return f"{'https' if self.ca_file else 'http'}://{self.host}:{self.port}"


def apiserver(etcd: str, log_dir: Path, host: str, port: int, advertise: str) -> BoundApiServer:
    proc = BoundApiServer.create(
        etcd, log_dir / host, "--advertise-address", advertise, port=port, bind_address=host
    )
    proc.host = host
    return proc


@pytest.fixture
def own_etcd(tmp_path: Path) -> Iterator[str]:
    proc = start_etcd(tmp_path / "etcd")
    yield proc.url
    proc.stop()


def endpoint_ips(url: str) -> list[str]:
    resp = httpx.get(
        f"{url}/api/v1/namespaces/default/endpoints/kubernetes", timeout=5, verify=verify(url)
    )
    if resp.status_code != 200:
        return []
    subsets = resp.json().get("subsets") or []
    return [a["ip"] for s in subsets for a in s.get("addresses") or []]


def slice_ips(url: str) -> list[str]:
    resp = httpx.get(
        f"{url}/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes",
        timeout=5,
        verify=verify(url),
    )
    assert resp.status_code == 200, resp.text
    return [ip for e in resp.json().get("endpoints") or [] for ip in e["addresses"]]


def test_every_live_apiserver_is_an_endpoint_of_the_kubernetes_service(
    own_etcd: str, tmp_path: Path
) -> None:
    port = free_port()
    a = apiserver(own_etcd, tmp_path, "127.0.0.1", port, ADDRESS_A)
    b = apiserver(own_etcd, tmp_path, "127.0.0.2", port, ADDRESS_B)
    try:
        a.start()
        service = httpx.get(
            f"{a.url}/api/v1/namespaces/default/services/kubernetes", timeout=5, verify=a.verify
        )
        assert service.status_code == 200, service.text
        spec = service.json()["spec"]
        assert spec["clusterIP"] == "10.96.0.1"
        assert spec["ports"][0]["name"] == "https"
        assert spec["ports"][0]["port"] == 443
        assert spec["ports"][0]["targetPort"] == a.port
        wait_until(lambda: endpoint_ips(a.url) == [ADDRESS_A], 15, 0.2, "A listed")

        b.start()
        wait_until(lambda: endpoint_ips(a.url) == [ADDRESS_A, ADDRESS_B], 15, 0.2, "A and B")
        ports = httpx.get(
            f"{a.url}/api/v1/namespaces/default/endpoints/kubernetes",
            timeout=5,
            verify=a.verify,
        ).json()["subsets"][0]["ports"]
        assert ports == [{"name": "https", "port": port, "protocol": "TCP"}]
        assert slice_ips(a.url) == [ADDRESS_A, ADDRESS_B]

        # A graceful stop takes B out at once.
        b.stop()
        wait_until(lambda: endpoint_ips(a.url) == [ADDRESS_A], 10, 0.2, "B removed on stop")
        assert slice_ips(a.url) == [ADDRESS_A]

        # A crash leaves B's record to expire (15 s TTL), then A's next pass drops it.
        b.start()
        wait_until(lambda: endpoint_ips(a.url) == [ADDRESS_A, ADDRESS_B], 15, 0.2, "B back")
        b.kill()
        wait_until(lambda: endpoint_ips(a.url) == [ADDRESS_A], 40, 0.5, "B expired")
    finally:
        b.stop()
        a.stop()


def test_a_loopback_apiserver_keeps_the_service_without_endpoints(
    own_etcd: str, tmp_path: Path
) -> None:
    a = ApiServerProcess.create(own_etcd, tmp_path)
    try:
        a.start()
        service = httpx.get(
            f"{a.url}/api/v1/namespaces/default/services/kubernetes", timeout=5, verify=a.verify
        )
        assert service.status_code == 200, service.text
        resp = httpx.get(
            f"{a.url}/api/v1/namespaces/default/endpoints/kubernetes", timeout=5, verify=a.verify
        )
        assert resp.status_code == 404
    finally:
        a.stop()
