"""``pods/<name>/log``, ``exec`` and ``portforward``: proxied to the kubelet of the pod's node.

The apiserver checks what it can answer itself (the pod exists, is bound to a node,
the container is one of the pod's, it is not waiting to start), then talks to the
kubelet of the pod's node (``apiserver.kubeletclient``) on the kubelet's own paths
(``/containerLogs/...``, ``/exec/...``, ``/portForward/...``).

- **log** (``Log``): a plain GET, streamed back as the kubelet writes it (``follow``
  keeps the stream open while the container runs);
- **exec** (``Exec``): a WebSocket (the GET upgrade kubectl 1.30+ tries first,
  subprotocol ``v5.channel.k8s.io``, or ``v4.channel.k8s.io``). The apiserver opens a
  WebSocket to the kubelet with the client's subprotocols, accepts the client with the
  one the kubelet chose, and copies frames both ways until either side closes. SPDY
  (the older POST upgrade) is answered with ``400 Upgrade request required``.
- **portforward** (``PortForward``): a WebSocket relayed the same way: kubectl 1.30+
  asks for ``SPDY/3.1+portforward.k8s.io`` (a SPDY session carried in the WebSocket's
  binary frames), other clients for ``v4.channel.k8s.io`` with ``?ports=`` (passed on
  as the kubelet's ``port``). SPDY's POST upgrade gets ``400``.

``attach`` is not served: adding it is an ``Attach`` subresource here (relayed to the
kubelet's ``/attach`` as ``Exec`` is to ``/exec``) declared on the Pod strategy.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from apiserver import errors, rest
from apiserver.kubeletclient import KubeletClient, KubeletEndpoint
from apiserver.registry.subresource import Subresource, SubresourceKind, Target

LOG_PARAMS = (
    "follow",
    "tailLines",
    "sinceSeconds",
    "sinceTime",
    "timestamps",
    "previous",
    "limitBytes",
    "insecureSkipTLSVerifyBackend",
)


def pick_container(pod: dict[str, Any], wanted: str | None) -> str:
    """The container a log/exec request means; ``ApiError`` if it names none."""
    spec = pod.get("spec") or {}
    name = pod["metadata"]["name"]
    containers = [c["name"] for c in spec.get("containers") or []]
    init = [c["name"] for c in spec.get("initContainers") or []]
    ephemeral = [c["name"] for c in spec.get("ephemeralContainers") or []]
    if not wanted:
        if len(containers) == 1:
            return containers[0]
        message = (
            f"a container name must be specified for pod {name}, choose one of: "
            f"[{' '.join(containers)}]"
        )
        if init:
            message += f" or one of the init containers: [{' '.join(init)}]"
        raise errors.bad_request(message)
    if wanted not in (*containers, *init, *ephemeral):
        raise errors.bad_request(f"container {wanted} is not valid for pod {name}")
    return wanted


def _container_status(pod: dict[str, Any], container: str) -> dict[str, Any] | None:
    status = pod.get("status") or {}
    for key in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
        for entry in status.get(key) or []:
            if entry.get("name") == container:
                return dict(entry)
    return None


async def _pod_node(target: Target) -> tuple[dict[str, Any], KubeletEndpoint]:
    """(pod, its node's kubelet); ``ApiError`` if it has none."""
    name = target.name
    pod = await target.store.get(target.namespace, name)
    node_name = (pod.get("spec") or {}).get("nodeName")
    if not node_name:
        raise errors.bad_request(f"pod {name} does not have a host assigned")
    try:
        node = await target.backends.stores[("", "nodes")].get(None, node_name)
    except errors.ApiError as err:
        if err.code == 404:
            raise errors.bad_request(f"node {node_name} of pod {name} does not exist") from err
        raise
    return pod, await target.backends.kubelets.endpoint(node)


async def _pod_container(
    target: Target, container: str | None
) -> tuple[dict[str, Any], str, KubeletEndpoint]:
    """(pod, container, its node's kubelet)."""
    pod, base = await _pod_node(target)
    return pod, pick_container(pod, container), base


class Log(Subresource):
    """``pods/<name>/log``: the container's log, streamed from its kubelet."""

    name = "log"
    verbs = ("get",)

    async def serve(self, request: Request, target: Target) -> Response:
        namespace, name = target.namespace, target.name
        params = request.query_params
        for key in ("tailLines", "limitBytes", "sinceSeconds"):
            raw = params.get(key)
            if raw is not None and (not raw.lstrip("-").isdigit() or int(raw) < 0):
                raise errors.bad_request(f"{key}: invalid value {raw!r}: must be >= 0")
        if params.get("sinceSeconds") and params.get("sinceTime"):
            raise errors.ApiError(
                422, "Invalid", "at most one of `sinceTime` or `sinceSeconds` may be specified"
            )
        pod, container, kubelet = await _pod_container(target, params.get("container"))
        status = _container_status(pod, container)
        waiting = ((status or {}).get("state") or {}).get("waiting")
        previous = rest.flag(params.get("previous"))
        if waiting and not previous and not (status or {}).get("containerID"):
            raise errors.bad_request(
                f'container "{container}" in pod "{name}" is waiting to start: '
                f"{waiting.get('reason') or 'ContainerCreating'}"
            )
        query = {k: params[k] for k in LOG_PARAMS if params.get(k) is not None}
        url = f"{kubelet.base_url}/containerLogs/{namespace}/{name}/{container}"
        if query:
            url += "?" + urlencode(query)
        follow = rest.flag(params.get("follow"))
        kubelets = target.backends.kubelets
        timeout = aiohttp.ClientTimeout(
            total=None, connect=kubelets.config.timeout, sock_read=None if follow else 300
        )
        try:
            upstream = await kubelets.session().get(url, timeout=timeout, **kubelet.options())
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            raise errors.ApiError(
                500, "InternalError", f"error dialing backend: {err or type(err).__name__}"
            ) from err
        if upstream.status != 200:
            text = (await upstream.text()).strip()
            upstream.release()
            if upstream.status == 404:
                raise errors.ApiError(404, "NotFound", text or "not found on the node")
            raise errors.bad_request(text or f"the kubelet answered {upstream.status}")

        async def relay() -> AsyncIterator[bytes]:
            try:
                async for chunk in upstream.content.iter_any():
                    yield chunk
            except (aiohttp.ClientError, OSError):
                return
            finally:
                upstream.close()

        return StreamingResponse(
            relay(),
            media_type="text/plain",
            headers={"Cache-Control": "no-cache, private"},
        )


def _check_exec(pod: dict[str, Any], container: str) -> None:
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise errors.bad_request(
            f"cannot exec into a container in a completed pod; current phase is {phase}"
        )
    status = _container_status(pod, container)
    if status is None or not (status.get("state") or {}).get("running"):
        raise errors.bad_request(
            f'unable to upgrade connection: container not found ("{container}")'
        )


class Exec(Subresource):
    """``pods/<name>/exec``: a command in a running container, over a WebSocket relayed
    to the kubelet's ``/exec``."""

    name = "exec"
    verbs = ("get", "create")
    kind = SubresourceKind("", "v1", "PodExecOptions")
    websocket = True

    async def serve(self, request: Request, target: Target) -> Response:
        """An exec without a WebSocket upgrade (SPDY, or a plain request)."""
        pod, container, _ = await _pod_container(target, request.query_params.get("container"))
        _check_exec(pod, container)
        raise errors.bad_request("Upgrade request required")

    async def serve_websocket(self, websocket: WebSocket, target: Target) -> None:
        try:
            pod, container, kubelet = await _pod_container(
                target, websocket.query_params.get("container")
            )
            if not websocket.query_params.getlist("command"):
                raise errors.bad_request("you must specify at least 1 command")
            _check_exec(pod, container)
        except errors.ApiError as err:
            await _deny(websocket, err)
            return
        query = websocket.scope.get("query_string", b"").decode()
        url = f"{kubelet.base_url}/exec/{target.namespace}/{target.name}/{container}"
        url += f"?{query}" if query else ""
        await _relay_websocket(websocket, target.backends.kubelets, kubelet, url)


def _forward_ports(values: list[str]) -> list[str]:
    """The ``ports`` query values, checked (1-65535); ``ApiError`` otherwise."""
    ports: list[str] = []
    for value in values:
        for part in value.split(","):
            if not part.strip().isdigit() or not 0 < int(part) < 65536:
                raise errors.bad_request(f"unable to parse {value!r} as a port")
            ports.append(str(int(part)))
    return ports


class PortForward(Subresource):
    """``pods/<name>/portforward``: relayed to the kubelet's ``/portForward``.

    The kubelet picks the protocol: SPDY tunnelled in the WebSocket (kubectl's
    ``SPDY/3.1+portforward.k8s.io``) or the v4 channel protocol, whose ports are the
    ``ports`` parameter (passed on as the kubelet's ``port``)."""

    name = "portforward"
    verbs = ("get", "create")
    kind = SubresourceKind("", "v1", "PodPortForwardOptions")
    websocket = True

    async def serve(self, request: Request, target: Target) -> Response:
        """A port-forward without a WebSocket upgrade (SPDY's POST, or a plain request)."""
        await _pod_node(target)
        _forward_ports(request.query_params.getlist("ports"))
        raise errors.bad_request("Upgrade request required")

    async def serve_websocket(self, websocket: WebSocket, target: Target) -> None:
        try:
            _, kubelet = await _pod_node(target)
            ports = _forward_ports(websocket.query_params.getlist("ports"))
        except errors.ApiError as err:
            await _deny(websocket, err)
            return
        url = f"{kubelet.base_url}/portForward/{target.namespace}/{target.name}"
        if ports:
            url += "?" + urlencode([("port", p) for p in ports])
        await _relay_websocket(websocket, target.backends.kubelets, kubelet, url)


async def _relay_websocket(
    websocket: WebSocket, kubelets: KubeletClient, kubelet: KubeletEndpoint, url: str
) -> None:
    """Open a WebSocket to the kubelet with the client's subprotocols, accept the
    client with the one the kubelet chose, and copy frames both ways."""
    protocols = list(websocket.scope.get("subprotocols") or [])
    try:
        upstream = await kubelets.session().ws_connect(
            url,
            protocols=protocols,
            autoping=True,
            max_msg_size=0,
            timeout=aiohttp.ClientWSTimeout(ws_close=10),
            **kubelet.options(),
        )
    except aiohttp.WSServerHandshakeError as err:
        message = f"unable to upgrade connection: the kubelet answered {err.status}"
        await _deny(websocket, errors.bad_request(message))
        return
    except (aiohttp.ClientError, OSError, TimeoutError) as err:
        await _deny(
            websocket, errors.ApiError(500, "InternalError", f"error dialing backend: {err}")
        )
        return
    try:
        await websocket.accept(subprotocol=upstream.protocol)
        await _bridge(websocket, upstream)
    finally:
        await upstream.close()


async def _deny(websocket: WebSocket, err: errors.ApiError) -> None:
    try:
        await websocket.send_denial_response(rest.status_response(err))
    except RuntimeError:
        await websocket.close(code=1008, reason=err.message[:120])


def sendable_close_code(code: int | None, *, normal: bool) -> int:
    """The close code to pass on for an upstream that ended with ``code``: the same,
    when a close frame may carry it (RFC 6455 7.4: 1000-1003, 1007-1014, 3000-4999);
    otherwise 1000 when the upstream closed with a close frame, 1011 when it broke off.
    1005, 1006 and 1015 only report what happened and must never be sent."""
    if code is not None and (1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999):
        return code
    return 1000 if normal else 1011


async def _bridge(client: WebSocket, upstream: aiohttp.ClientWebSocketResponse) -> None:
    """Copy frames both ways until one side closes; close the other the same way (with
    the code the kubelet closed with, or 1011 when its connection broke off)."""

    async def from_client() -> None:
        while True:
            message = await client.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            if data is not None:
                await upstream.send_bytes(data)
            elif message.get("text") is not None:
                await upstream.send_str(message["text"])

    async def from_kubelet() -> int | None:
        """Relay until the kubelet closes: its close code, None when it broke off."""
        while True:
            message = await upstream.receive()
            if message.type == aiohttp.WSMsgType.BINARY:
                await client.send_bytes(message.data)
            elif message.type == aiohttp.WSMsgType.TEXT:
                await client.send_text(message.data)
            elif message.type == aiohttp.WSMsgType.CLOSE:
                # The kubelet's own close frame: its code, even when answering it
                # failed because the kubelet had already dropped the connection.
                return int(message.data)
            else:  # CLOSING, CLOSED, ERROR: the connection broke off
                return None

    inbound = asyncio.create_task(from_client())
    outbound = asyncio.create_task(from_kubelet())
    try:
        done, _ = await asyncio.wait({inbound, outbound}, return_when=asyncio.FIRST_COMPLETED)
        if outbound in done:
            closed_with = outbound.result() if outbound.exception() is None else None
            code = sendable_close_code(
                upstream.close_code if closed_with is None else closed_with,
                normal=closed_with is not None,
            )
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                await client.close(code=code)
    finally:
        for task in (inbound, outbound):
            task.cancel()
        for task in (inbound, outbound):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
