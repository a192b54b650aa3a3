"""Streaming to and from pods: what ``logs``, ``exec`` and ``port-forward`` share.

- ``Transport``: an aiohttp session for the apiserver, with the session's TLS settings
  and credentials (the REST client has no streaming or WebSocket verbs): streamed GETs
  (``.../pods/<name>/log``) and WebSocket upgrades (``.../exec``, ``.../portforward``);
  a refusal raises the apiserver's error.
- The channel protocols: every WebSocket frame starts with its channel. exec speaks
  ``v5.channel.k8s.io`` (else ``v4.channel.k8s.io``): 0 stdin, 1 stdout, 2 stderr, 3
  the final Status, 4 terminal resizes, and in v5 255 "close stream". port-forward
  speaks ``v4.channel.k8s.io``: channel 0 carries data, channel 1 errors, and the
  server's first frame on each channel is the port number (two bytes, little endian).
- Finding the pod: ``resolve_pods`` turns a pod name, ``pod/NAME`` or a workload or
  Service (``deploy/web``, ``svc/web``) into its pods as kubectl does, and
  ``pick_container`` chooses the container.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import orjson

from cli.navctl.console import err
from cli.navctl.errors import CliError, fail
from cli.navctl.resources import resource

if TYPE_CHECKING:
    import aiohttp

    from apiclient import ClientConfig
    from cli.navctl.session import Session

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
        return self.config.auth_headers()

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
    pods_type = resource("", "pods")
    kind, sep, name = target.partition("/")
    if not sep:
        return [await session.client.get_raw(pods_type, target, namespace)]
    rtype = await session.resolver.resolve(kind)
    if rtype.kind == "Pod":
        return [await session.client.get_raw(pods_type, name, namespace)]
    obj = await session.client.get_raw(rtype, name, namespace)
    obj.setdefault("kind", rtype.kind)
    selector = _owner_selector(obj)
    listed = await session.client.list_raw(pods_type, namespace, label_selector=selector)
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
