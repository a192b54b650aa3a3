"""How the apiserver reaches kubelets (for ``pods/log``, ``exec``, ``portforward``).

As Kubernetes does: a Node's kubelet is at the Node's address (``InternalIP``, else
``Hostname``, else ``ExternalIP``) and ``status.daemonEndpoints.kubeletEndpoint.Port``.
One HTTP session serves every request to every kubelet; it is opened on first use and
closed when the server stops. Plain HTTP unless ``KubeletClientConfig`` says otherwise.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

import aiohttp

from apiserver import errors

DEFAULT_KUBELET_PORT = 10250
_ADDRESS_PREFERENCE = ("InternalIP", "Hostname", "ExternalIP")


@dataclass
class KubeletClientConfig:
    """How the apiserver reaches kubelets."""

    scheme: str = "http"
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure: bool = False
    timeout: float = 30.0


def kubelet_address(node: dict[str, Any]) -> tuple[str, int]:
    """(host, port) of the node's kubelet, from its status."""
    status = node.get("status") or {}
    addresses = status.get("addresses") or []
    host = ""
    for kind in _ADDRESS_PREFERENCE:
        host = next((a["address"] for a in addresses if a.get("type") == kind), "")
        if host:
            break
    if not host:
        raise errors.bad_request(
            f"node {node['metadata']['name']} reports no address to reach its kubelet"
        )
    endpoint = (status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}
    port = int(endpoint.get("Port") or DEFAULT_KUBELET_PORT)
    return host, port


class KubeletClient:
    """The apiserver's HTTP session to kubelets, and their URLs."""

    def __init__(self, config: KubeletClientConfig | None = None) -> None:
        self.config = config or KubeletClientConfig()
        self._session: aiohttp.ClientSession | None = None

    def base_url(self, node: dict[str, Any]) -> str:
        """``scheme://host:port`` of the kubelet of ``node`` (a wire-form Node)."""
        host, port = kubelet_address(node)
        if ":" in host:
            host = f"[{host}]"
        return f"{self.config.scheme}://{host}:{port}"

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            ssl_context: ssl.SSLContext | bool = False
            if self.config.scheme == "https":
                ctx = ssl.create_default_context(cafile=self.config.ca_file)
                if self.config.insecure:
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                if self.config.cert_file:
                    ctx.load_cert_chain(self.config.cert_file, self.config.key_file)
                ssl_context = ctx
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ssl=ssl_context)
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
