"""``navctl port-forward``: local ports tunnelled to a pod's ports.

navctl listens locally; every accepted connection opens its own WebSocket to
``.../pods/<name>/portforward?ports=<remote>`` and copies bytes both ways (the
channels are described in ``streams``). With ``svc/NAME`` the remote ports are the
Service's, mapped to the pod's target ports.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.navctl.console import err, out
from cli.navctl.errors import CliError, api_error_line, fail
from cli.navctl.options import Namespace, verb_app
from cli.navctl.resources import resource
from cli.navctl.session import Session, run
from cli.navctl.streams import PORTFORWARD_PROTOCOLS, Transport, resolve_pods

if TYPE_CHECKING:
    pass

app = verb_app()


@app.command("port-forward")
def port_forward_cmd(
    target: Annotated[str, typer.Argument(help="POD or TYPE/NAME (deploy/web, svc/web).")],
    ports: Annotated[
        list[str] | None,
        typer.Argument(help="[LOCAL]:REMOTE or PORT, e.g. 8080:80.", show_default=False),
    ] = None,
    address: Annotated[
        list[str] | None,
        typer.Option("--address", help="Local addresses to listen on (default localhost)."),
    ] = None,
    namespace: Namespace = None,
) -> None:
    """Forward local ports to a pod (WebSocket port-forward protocol).

    [bold]Examples:[/bold]

      navctl port-forward web-7d4b9c 8080:80

      navctl port-forward deploy/web 8080:80 9090

      navctl port-forward svc/web :80
    """

    async def go(session: Session) -> int:
        return await port_forward(
            session, target, ports or [], addresses=address or ["localhost"],
            namespace=namespace,
        )  # fmt: skip

    run(go)


# --- implementation --------------------------------------------------------------------------


@dataclass(frozen=True)
class PortPair:
    local: int
    remote: int


def parse_ports(specs: list[str]) -> list[PortPair]:
    """``8080:80``, ``80`` (same both sides) and ``:80`` (any free local port)."""
    if not specs:
        fail("at least 1 PORT is required for port-forward")
    pairs: list[PortPair] = []
    for spec in specs:
        local, sep, remote = spec.partition(":")
        if not sep:
            remote = local
        try:
            local_port = int(local) if local else 0
            remote_port = int(remote)
        except ValueError:
            fail(f"invalid port spec {spec!r}: expected [LOCAL]:REMOTE")
        if not (0 <= local_port < 65536 and 0 < remote_port < 65536):
            fail(f"invalid port spec {spec!r}: ports must be in 1-65535")
        pairs.append(PortPair(local_port, remote_port))
    return pairs


def _named_port(pod: dict[str, Any], name: str) -> int | None:
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == name:
                return int(port["containerPort"])
    return None


async def _service_ports(
    session: Session, target: str, namespace: str, pod: dict[str, Any], pairs: list[PortPair]
) -> list[PortPair]:
    """For ``svc/NAME``, remote ports are Service ports: map them to the pod's ports."""
    kind, _, name = target.partition("/")
    rtype = await session.resolver.resolve(kind)
    if rtype.kind != "Service":
        return pairs
    svc = await session.client.get_raw(rtype, name, namespace)
    mapped: list[PortPair] = []
    for pair in pairs:
        port = next(
            (p for p in (svc.get("spec") or {}).get("ports") or [] if p.get("port") == pair.remote),
            None,
        )
        if port is None:
            fail(f"Service {name} does not have a service port {pair.remote}")
        target_port = port.get("targetPort", pair.remote)
        if isinstance(target_port, str):
            resolved = _named_port(pod, target_port)
            if resolved is None:
                fail(f"Pod has no port named {target_port!r}")
            target_port = resolved
        mapped.append(PortPair(pair.local or pair.remote, int(target_port)))
    return mapped


class PortForwarder:
    """Listens on local ports and tunnels each connection over its own WebSocket."""

    def __init__(self, transport: Transport, path: str) -> None:
        self.transport = transport
        self.path = path

    async def handle(
        self, remote: int, local: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        import aiohttp

        out(f"Handling connection for {local}\n")
        try:
            ws = await self.transport.websocket(
                self.path, [("ports", str(remote))], PORTFORWARD_PROTOCOLS
            )
        except Exception as error:
            line = error.message if isinstance(error, CliError) else api_error_line(error)
            err(f"E: error upgrading connection: {line}")
            writer.close()
            return
        seen_port = {0: False, 1: False}

        async def upstream() -> None:
            while data := await reader.read(32 * 1024):
                await ws.send_bytes(b"\x00" + data)
            # The client closed its side: end the tunnel.
            await ws.close()

        async def downstream() -> None:
            async for message in ws:
                if message.type != aiohttp.WSMsgType.BINARY or not message.data:
                    continue
                channel, data = message.data[0], message.data[1:]
                if channel in seen_port and not seen_port[channel]:
                    # The first frame of each channel names the port (little endian).
                    seen_port[channel] = True
                    data = data[2:]
                if not data:
                    continue
                if channel == 0:
                    writer.write(data)
                    await writer.drain()
                elif channel == 1:
                    err(
                        f"E: an error occurred forwarding {local} -> {remote}: "
                        f"{data.decode(errors='replace').strip()}"
                    )

        tasks = [asyncio.create_task(upstream()), asyncio.create_task(downstream())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await ws.close()
            with contextlib.suppress(Exception):
                writer.close()
                await writer.wait_closed()


def _listen_hosts(addresses: list[str]) -> list[tuple[str, str]]:
    """(bind host, how kubectl prints it) for ``--address`` values."""
    hosts: list[tuple[str, str]] = []
    for address in addresses:
        for raw in address.split(","):
            part = raw.strip()
            if part == "localhost":
                hosts.extend([("127.0.0.1", "127.0.0.1"), ("::1", "[::1]")])
            elif ":" in part:
                hosts.append((part, f"[{part}]"))
            elif part:
                hosts.append((part, part))
    return hosts


async def port_forward(
    session: Session,
    target: str,
    ports: list[str],
    *,
    addresses: list[str],
    namespace: str | None = None,
    ready: asyncio.Event | None = None,
) -> int:
    """Run ``navctl port-forward`` until interrupted."""
    pairs = parse_ports(ports)
    ns = session.namespace(namespace)
    pod = (await resolve_pods(session, target, ns))[0]
    if "/" in target:
        pairs = await _service_ports(session, target, ns, pod, pairs)
    phase = (pod.get("status") or {}).get("phase")
    if phase != "Running":
        fail(f"unable to forward port because pod is not running. Current status={phase}")
    meta = pod.get("metadata") or {}
    transport = Transport(session.config)
    forwarder = PortForwarder(
        transport, resource("", "pods").path(meta.get("namespace"), meta.get("name"), "portforward")
    )
    servers: list[asyncio.AbstractServer] = []
    try:
        for pair in pairs:
            bound = {"port": pair.local}

            def handler(
                r: asyncio.StreamReader,
                w: asyncio.StreamWriter,
                remote: int = pair.remote,
                bound: dict[str, int] = bound,
            ) -> Any:
                return forwarder.handle(remote, bound["port"], r, w)

            for host, shown in _listen_hosts(addresses):
                try:
                    server = await asyncio.start_server(handler, host, bound["port"])
                except OSError as error:
                    if host == "::1":
                        continue  # No IPv6 loopback here: IPv4 is enough, as for kubectl.
                    fail(f"unable to listen on port {bound['port']}: {error.strerror}")
                if bound["port"] == 0:
                    bound["port"] = server.sockets[0].getsockname()[1]
                servers.append(server)
                out(f"Forwarding from {shown}:{bound['port']} -> {pair.remote}\n")
        if ready is not None:
            ready.set()
        await asyncio.gather(*(s.serve_forever() for s in servers))
    finally:
        for listener in servers:
            listener.close()
        await transport.close()
    return 0
