"""``logs``, ``exec`` and ``port-forward``: the commands that stream bytes to a pod.

- logs: ``GET .../pods/<name>/log`` streamed to stdout (``-f`` keeps it open). A
  ``TYPE/NAME`` target (``deploy/web``) or ``-l`` resolves to pods as kubectl does.
- exec: a WebSocket GET upgrade of ``.../pods/<name>/exec`` with subprotocol
  ``v5.channel.k8s.io`` (else ``v4.channel.k8s.io``). Every frame starts with its
  channel: 0 stdin, 1 stdout, 2 stderr, 3 the final Status (the exit code is in
  ``details.causes[reason=ExitCode]``), 4 terminal resizes, and in v5 255 "close
  stream". ``-it`` puts the local terminal in raw mode and follows its size.
- port-forward: listens locally; every accepted connection opens one WebSocket to
  ``.../pods/<name>/portforward?ports=<remote>`` (subprotocol ``v4.channel.k8s.io``):
  channel 0 carries data, channel 1 errors, and the server's first frame on each
  channel is the port number (two bytes, little endian).

These use aiohttp directly (the REST client has no streaming or WebSocket verbs) with
the session's TLS settings and credentials.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import orjson

from apitypes.registry import resource
from cli.navctl.console import err, out
from cli.navctl.errors import CliError, api_error_line, fail
from cli.navctl.session import Session

if TYPE_CHECKING:
    import aiohttp

    from apiclient import ClientConfig

PODS = resource("", "pods")
EXEC_PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
PORTFORWARD_PROTOCOLS = ("v4.channel.k8s.io",)
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"


# --- transport ---------------------------------------------------------------------------


class Transport:
    """An aiohttp session for one apiserver: streamed GETs and WebSocket upgrades."""

    def __init__(self, config: ClientConfig) -> None:
        import aiohttp

        self.config = config
        connector = aiohttp.TCPConnector(ssl=config.ssl_context())
        self.session = aiohttp.ClientSession(connector=connector)

    def headers(self) -> dict[str, str]:
        token = self.config.bearer_token()
        return {"Authorization": f"Bearer {token}"} if token else {}

    def url(self, path: str, *, websocket: bool = False) -> str:
        parts = urlsplit(self.config.server)
        scheme = parts.scheme
        if websocket:
            scheme = "wss" if scheme == "https" else "ws"
        base = parts.path.rstrip("/")
        return urlunsplit((scheme, parts.netloc, base + path, "", ""))

    async def close(self) -> None:
        await self.session.close()

    async def stream(self, path: str, params: Sequence[tuple[str, str]]) -> AsyncIterator[bytes]:
        """The body of a GET as it arrives; a refused request raises its ``ApiError``."""
        import aiohttp

        from apiclient import errors

        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.config.timeout)
        try:
            async with self.session.get(
                self.url(path), params=list(params), headers=self.headers(), timeout=timeout
            ) as resp:
                if resp.status >= 400:
                    raise _api_error(resp.status, await resp.read())
                async for chunk in resp.content.iter_any():
                    yield chunk
        except aiohttp.ClientConnectorError as error:
            raise errors.ConnectionFailedError(
                {"message": f"connection refused: {error}"}
            ) from error

    async def websocket(
        self, path: str, params: Sequence[tuple[str, str]], protocols: Sequence[str]
    ) -> aiohttp.ClientWebSocketResponse:
        """Upgrade a GET of ``path`` to a WebSocket; a refusal raises the server's error."""
        import aiohttp

        from apiclient import errors

        try:
            return await self.session.ws_connect(
                self.url(path, websocket=True),
                params=list(params),
                protocols=list(protocols),
                headers=self.headers(),
                max_msg_size=0,
                autoping=True,
            )
        except aiohttp.WSServerHandshakeError as error:
            # The handshake error carries no body: ask again without the upgrade, which
            # answers with the Status the apiserver refused the upgrade with.
            raise await self._refusal(path, params, error.status) from None
        except aiohttp.ClientConnectorError as error:
            raise errors.ConnectionFailedError(
                {"message": f"connection refused: {error}"}
            ) from error

    async def _refusal(
        self, path: str, params: Sequence[tuple[str, str]], status: int
    ) -> Exception:
        import aiohttp

        try:
            async with self.session.get(
                self.url(path), params=list(params), headers=self.headers()
            ) as resp:
                body = await resp.read()
                code = resp.status
        except aiohttp.ClientError:
            body, code = b"", status
        if code < 400:
            code = status
        error = _api_error(code, body)
        if code in (404, 405) and b"Status" not in body:
            return CliError(
                f"error: the apiserver does not serve {path.rsplit('/', 1)[-1]} "
                f"(HTTP {status}); it may not support this yet"
            )
        return error


def _api_error(code: int, body: bytes) -> Exception:
    from apiclient import errors

    try:
        status = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        status = {}
    if not isinstance(status, dict) or status.get("kind") != "Status":
        text = body.decode(errors="replace").strip()[:300]
        status = {"code": code, "message": text or f"HTTP {code}"}
    return errors.from_status(status, code)


# --- finding the pod ----------------------------------------------------------------------


def _owner_selector(obj: dict[str, Any]) -> str:
    """The label selector of a workload or service, as ``a=b,c=d``."""
    spec = obj.get("spec") or {}
    kind = obj.get("kind")
    if kind == "Service":
        labels = spec.get("selector") or {}
        if not labels:
            fail(f'service "{(obj.get("metadata") or {}).get("name")}" has no selector')
        return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    selector = spec.get("selector") or {}
    labels = dict(selector.get("matchLabels") or {})
    parts = [f"{k}={v}" for k, v in sorted(labels.items())]
    for expr in selector.get("matchExpressions") or []:
        op, key, values = expr.get("operator"), expr.get("key"), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    if not parts:
        fail(f"{kind} has no selector")
    return ",".join(parts)


def pod_rank(pod: dict[str, Any]) -> tuple[int, int, int, str]:
    """Sort key putting the pod kubectl would pick first: running, ready, then oldest."""
    status = pod.get("status") or {}
    meta = pod.get("metadata") or {}
    phase_rank = {"Running": 0, "Pending": 1, "Unknown": 2}.get(status.get("phase", ""), 3)
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    deleting = 1 if meta.get("deletionTimestamp") else 0
    return (deleting, phase_rank, 0 if ready else 1, meta.get("creationTimestamp", ""))


async def resolve_pods(
    session: Session, target: str, namespace: str, *, all_pods: bool = False
) -> list[dict[str, Any]]:
    """The pod(s) ``target`` means: a pod name, ``pod/NAME``, or a workload/service."""
    kind, sep, name = target.partition("/")
    if not sep:
        return [await session.client.get_raw(PODS, target, namespace)]
    rtype = await session.resolver.resolve(kind)
    if rtype.kind == "Pod":
        return [await session.client.get_raw(PODS, name, namespace)]
    obj = await session.client.get_raw(rtype, name, namespace)
    obj.setdefault("kind", rtype.kind)
    selector = _owner_selector(obj)
    listed = await session.client.list_raw(PODS, namespace, label_selector=selector)
    pods = sorted(listed.get("items") or [], key=pod_rank)
    if not pods:
        fail(f"no pods found for {rtype.kind.lower()}/{name} (selector {selector})")
    return pods if all_pods else pods[:1]


def pick_container(
    pod: dict[str, Any], wanted: str | None, *, announce: bool = True, check: bool = True
) -> str:
    """The container to use: ``-c``, else the default-container annotation, else the first."""
    spec = pod.get("spec") or {}
    names = [c.get("name", "") for c in spec.get("containers") or []]
    init = [c.get("name", "") for c in spec.get("initContainers") or []]
    meta = pod.get("metadata") or {}
    if wanted:
        if check and wanted not in names and wanted not in init:
            fail(f"container {wanted} is not valid for pod {meta.get('name')}")
        return wanted
    default = (meta.get("annotations") or {}).get(DEFAULT_CONTAINER)
    if default and default in names:
        return default
    if not names:
        fail(f"pod {meta.get('name')} has no containers")
    if len(names) > 1 and announce:
        err(f'Defaulted container "{names[0]}" out of: {", ".join(names)}')
    return names[0]


# --- logs ---------------------------------------------------------------------------------


@dataclass
class LogOptions:
    container: str | None = None
    follow: bool = False
    previous: bool = False
    tail: int = -1
    since: str | None = None
    since_time: str | None = None
    timestamps: bool = False
    selector: str | None = None
    all_containers: bool = False
    prefix: bool = False
    limit_bytes: int | None = None
    namespace: str | None = None


def log_params(opts: LogOptions, container: str, tail: int) -> list[tuple[str, str]]:
    """The query of one ``pods/<name>/log`` request."""
    from cli.navctl.options import duration_flag

    params: list[tuple[str, str]] = [("container", container)]
    if opts.follow:
        params.append(("follow", "true"))
    if opts.previous:
        params.append(("previous", "true"))
    if tail >= 0:
        params.append(("tailLines", str(tail)))
    if opts.since:
        seconds = int(duration_flag(opts.since, "--since"))
        params.append(("sinceSeconds", str(max(seconds, 1))))
    if opts.since_time:
        params.append(("sinceTime", opts.since_time))
    if opts.timestamps:
        params.append(("timestamps", "true"))
    if opts.limit_bytes is not None:
        params.append(("limitBytes", str(opts.limit_bytes)))
    return params


class _LinePrefixer:
    """Prefixes whole lines with ``[pod/NAME/CONTAINER] `` (chunks may split lines)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix.encode()
        self.at_line_start = True

    def __call__(self, chunk: bytes) -> bytes:
        out_parts: list[bytes] = []
        for piece in chunk.splitlines(keepends=True):
            if self.at_line_start:
                out_parts.append(self.prefix)
            out_parts.append(piece)
            self.at_line_start = piece.endswith(b"\n")
        return b"".join(out_parts)


async def logs(session: Session, target: str | None, opts: LogOptions) -> int:
    """Run ``navctl logs``."""
    from apiclient import errors

    if opts.since and opts.since_time:
        fail("at most one of `sinceTime` or `sinceSeconds` may be specified")
    namespace = session.namespace(opts.namespace)
    if target and opts.selector:
        fail("only one of a selector (-l) or a POD name is allowed")
    if not target and not opts.selector:
        fail("expected POD, TYPE/NAME, or -l selector")
    if opts.selector:
        listed = await session.client.list_raw(PODS, namespace, label_selector=opts.selector)
        pods = sorted(
            listed.get("items") or [], key=lambda p: (p.get("metadata") or {}).get("name", "")
        )
        if not pods:
            err(f"No resources found in {namespace} namespace.")
            return 0
        tail = opts.tail if opts.tail >= 0 else 10
    else:
        assert target is not None
        try:
            pods = await resolve_pods(session, target, namespace)
        except errors.NotFoundError as error:
            # kubectl words a missing log target this way (not as a plain server error).
            fail(f'error from server (NotFound): {error.message} in namespace "{namespace}"')
        tail = opts.tail
    streams: list[tuple[dict[str, Any], str]] = []
    for pod in pods:
        if opts.all_containers:
            spec = pod.get("spec") or {}
            for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
                streams.append((pod, c.get("name", "")))
        else:
            streams.append((pod, pick_container(pod, opts.container)))
    prefix = opts.prefix or (bool(opts.selector) and len(streams) > 1 and opts.prefix)
    transport = Transport(session.config)
    try:
        if opts.follow and len(streams) > 1:
            await asyncio.gather(
                *(_copy_log(transport, pod, c, opts, tail, prefix) for pod, c in streams)
            )
        else:
            for pod, container in streams:
                await _copy_log(transport, pod, container, opts, tail, prefix)
    finally:
        await transport.close()
    return 0


async def _copy_log(
    transport: Transport,
    pod: dict[str, Any],
    container: str,
    opts: LogOptions,
    tail: int,
    prefix: bool,
) -> None:
    meta = pod.get("metadata") or {}
    path = PODS.path(meta.get("namespace"), meta.get("name"), "log")
    prefixer = _LinePrefixer(f"[pod/{meta.get('name')}/{container}] ") if prefix else None
    output = sys.stdout.buffer
    async for chunk in transport.stream(path, log_params(opts, container, tail)):
        output.write(prefixer(chunk) if prefixer else chunk)
        output.flush()


# --- exec ----------------------------------------------------------------------------------


def exit_code_of(status: dict[str, Any]) -> int | None:
    """The exit code a channel-3 Status reports (0 for Success, None for other failures)."""
    if status.get("status") == "Success":
        return 0
    if status.get("reason") == "NonZeroExitCode":
        for cause in (status.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode":
                with contextlib.suppress(TypeError, ValueError):
                    return int(cause.get("message", ""))
        return 1
    return None


def exec_params(
    command: list[str], container: str, *, stdin: bool, tty: bool
) -> list[tuple[str, str]]:
    params = [("command", part) for part in command]
    params.append(("container", container))
    params.append(("stdout", "true"))
    # With a terminal, stderr travels merged into stdout (as kubectl asks for it).
    params.append(("stderr", "false" if tty else "true"))
    if stdin:
        params.append(("stdin", "true"))
    if tty:
        params.append(("tty", "true"))
    return params


@contextlib.contextmanager
def _raw_terminal(enabled: bool) -> Any:
    if not enabled:
        yield
        return
    import termios
    import tty as ttymod

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        ttymod.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _terminal_size() -> bytes:
    size = os.get_terminal_size(sys.stdout.fileno() if sys.stdout.isatty() else 0)
    return orjson.dumps({"Width": size.columns, "Height": size.lines})


async def exec_command(
    session: Session,
    target: str,
    command: list[str],
    *,
    container: str | None = None,
    stdin: bool = False,
    tty: bool = False,
    namespace: str | None = None,
) -> int:
    """Run ``navctl exec``; returns the remote command's exit code."""
    import aiohttp

    if not command:
        fail("you must specify at least one command for the container")
    if tty and not (stdin and sys.stdin.isatty()):
        if stdin:
            err("Unable to use a TTY - input is not a terminal or the right kind of file")
        tty = False
    ns = session.namespace(namespace)
    pod = (await resolve_pods(session, target, ns))[0]
    meta = pod.get("metadata") or {}
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        fail(f"cannot exec into a container in a completed pod; current phase is {phase}")
    # The apiserver judges an unknown -c, in its own words (as for kubectl).
    name = pick_container(pod, container, check=False)
    transport = Transport(session.config)
    path = PODS.path(meta.get("namespace"), meta.get("name"), "exec")
    try:
        ws = await transport.websocket(
            path, exec_params(command, name, stdin=stdin, tty=tty), EXEC_PROTOCOLS
        )
        try:
            return await _exec_session(ws, stdin=stdin, tty=tty)
        finally:
            await ws.close()
    except aiohttp.ClientError as error:
        fail(f"exec failed: {error}")
    finally:
        await transport.close()


async def _exec_session(ws: aiohttp.ClientWebSocketResponse, *, stdin: bool, tty: bool) -> int:
    import aiohttp

    v5 = ws.protocol == EXEC_PROTOCOLS[0]
    loop = asyncio.get_running_loop()
    tasks: list[asyncio.Task[None]] = []

    async def pump_stdin() -> None:
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(os.dup(0), "rb", 0)
        )
        while True:
            data = await reader.read(32 * 1024)
            if not data:
                break
            await ws.send_bytes(bytes([STDIN]) + data)
        if v5:
            await ws.send_bytes(bytes([CLOSE, STDIN]))

    async def send_size() -> None:
        with contextlib.suppress(OSError):
            await ws.send_bytes(bytes([RESIZE]) + _terminal_size())

    with _raw_terminal(tty):
        if stdin:
            tasks.append(asyncio.create_task(pump_stdin()))
        if tty:
            await send_size()
            loop.add_signal_handler(
                signal.SIGWINCH, lambda: tasks.append(asyncio.create_task(send_size()))
            )
        status: dict[str, Any] | None = None
        try:
            async for message in ws:
                if message.type != aiohttp.WSMsgType.BINARY or not message.data:
                    continue
                channel, data = message.data[0], message.data[1:]
                if channel == STDOUT:
                    sys.stdout.buffer.write(data)
                    sys.stdout.buffer.flush()
                elif channel == STDERR:
                    sys.stderr.buffer.write(data)
                    sys.stderr.buffer.flush()
                elif channel == ERROR:
                    with contextlib.suppress(orjson.JSONDecodeError):
                        status = orjson.loads(data)
                elif channel == CLOSE:
                    continue
        finally:
            if tty:
                loop.remove_signal_handler(signal.SIGWINCH)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
    if status is None:
        return 0
    code = exit_code_of(status)
    if code is not None:
        if code:
            # kubectl says it on stderr too: "command terminated with exit code 3".
            err(f"command terminated with exit code {code}")
        return code
    raise CliError(f"error: {status.get('message') or 'exec failed'}")


# --- port-forward ----------------------------------------------------------------------------


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
        transport, PODS.path(meta.get("namespace"), meta.get("name"), "portforward")
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
