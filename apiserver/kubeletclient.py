"""How the apiserver reaches kubelets (for ``pods/log``, ``exec``, ``portforward``).

As Kubernetes does: a Node's kubelet is at the Node's address (``InternalIP``, else
``Hostname``, else ``ExternalIP``) and ``status.daemonEndpoints.kubeletEndpoint.Port``,
and nowhere else. One HTTP session serves every request to every kubelet; it is opened
on first use and closed when the server stops.

A Node's status is written by whoever holds that node's credentials, so the address is
not trusted blindly (it could point the apiserver at etcd or any local service):

- loopback, link-local, unspecified and multicast targets are refused unless they are
  in ``--kubelet-allowed-addresses`` (a local cluster's kubelets listen on 127.0.0.1,
  and ``navarch up`` allows exactly that); a hostname is resolved first and the same
  rule applies to the address dialled;
- with ``--kubelet-certificate-authority`` the connection is HTTPS and the kubelet's
  serving certificate must be signed by that CA *for the Node's name* (the TLS server
  name is the Node's name, which the kubelet's certificate carries: ``pki.certlist``),
  so another service on an allowed address, or another node's kubelet, is refused;
- with ``--kubelet-client-certificate``/``--kubelet-client-key`` the apiserver
  authenticates itself to the kubelet (``kube-apiserver-kubelet-client``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from apiserver import errors

DEFAULT_KUBELET_PORT = 10250
_ADDRESS_PREFERENCE = ("InternalIP", "Hostname", "ExternalIP")


@dataclass
class KubeletClientConfig:
    """How the apiserver reaches kubelets (its ``--kubelet-*`` flags)."""

    ca_file: str | None = None
    """``--kubelet-certificate-authority``: HTTPS, and the kubelet's serving certificate
    is verified (for the Node's name) against this CA."""
    cert_file: str | None = None
    key_file: str | None = None
    allowed_addresses: Sequence[str] = field(default_factory=tuple)
    """CIDRs of special-purpose addresses (loopback, link-local) that kubelets may be at."""
    insecure: bool = False
    """HTTPS without verifying the kubelet (Kubernetes' behaviour without a CA)."""
    timeout: float = 30.0

    @property
    def scheme(self) -> str:
        return "https" if self.ca_file or self.insecure or self.cert_file else "http"


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
    if not 0 < port < 65536:
        raise errors.bad_request(f"node {node['metadata']['name']} reports kubelet port {port}")
    return host, port


def special_purpose(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Addresses the apiserver never dials unless told to: loopback, link-local
    (cloud metadata services live there), unspecified, multicast."""
    return ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast


@dataclass(frozen=True)
class KubeletEndpoint:
    """Where one node's kubelet is, and how to check it is that kubelet."""

    node: str
    base_url: str
    server_hostname: str | None = None

    def options(self) -> dict[str, Any]:
        """Keyword arguments for aiohttp's ``request``/``ws_connect``."""
        return {"server_hostname": self.server_hostname} if self.server_hostname else {}


class KubeletClient:
    """The apiserver's HTTP session to kubelets, and their endpoints."""

    def __init__(self, config: KubeletClientConfig | None = None) -> None:
        self.config = config or KubeletClientConfig()
        self._allowed = [
            ipaddress.ip_network(c.strip(), strict=False)
            for c in self.config.allowed_addresses
            if c.strip()
        ]
        self._session: aiohttp.ClientSession | None = None

    def allowed(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        if not special_purpose(ip):
            return True
        return any(ip.version == net.version and ip in net for net in self._allowed)

    async def endpoint(self, node: dict[str, Any]) -> KubeletEndpoint:
        """The kubelet of ``node`` (a wire-form Node); ``ApiError`` if its status names
        an address the apiserver may not dial."""
        name = node["metadata"]["name"]
        host, port = kubelet_address(node)
        ip = await self._resolve(name, host)
        if not self.allowed(ip):
            raise errors.bad_request(
                f"node {name} reports kubelet address {ip}, which the apiserver does not "
                "dial (loopback, link-local and similar addresses need "
                "--kubelet-allowed-addresses)"
            )
        text = f"[{ip}]" if ip.version == 6 else str(ip)
        verify = self.config.ca_file is not None and not self.config.insecure
        return KubeletEndpoint(
            name, f"{self.config.scheme}://{text}:{port}", name if verify else None
        )

    @staticmethod
    async def _resolve(node: str, host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        try:
            return ipaddress.ip_address(host)
        except ValueError:
            pass
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, None, type=socket.SOCK_STREAM
            )
        except OSError as err:
            raise errors.bad_request(
                f"node {node}: cannot resolve kubelet address {host}: {err}"
            ) from err
        return ipaddress.ip_address(infos[0][4][0])

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            ssl_context: ssl.SSLContext | bool = False
            if self.config.scheme == "https":
                ctx = ssl.create_default_context(cafile=self.config.ca_file)
                if self.config.insecure or not self.config.ca_file:
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
