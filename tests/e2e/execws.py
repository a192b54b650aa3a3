"""A small client for Kubernetes' exec WebSocket protocol (v4/v5.channel.k8s.io), as
kubectl 1.30+ speaks it: one channel byte before each binary frame."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import websocket

from testkit.testca import session_ca

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"


@dataclass
class ExecResult:
    stdout: bytes
    stderr: bytes
    status: dict[str, Any] | None
    protocol: str

    @property
    def exit_code(self) -> int | None:
        if self.status is None:
            return None
        if self.status.get("status") == "Success":
            return 0
        for cause in (self.status.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode":
                return int(cause["message"])
        return None


def ws_exec(
    api_url: str,
    namespace: str,
    pod: str,
    command: list[str],
    *,
    container: str | None = None,
    stdin: bytes | None = None,
    protocol: str = V5,
    timeout: float = 20.0,
) -> ExecResult:
    """Run ``command`` in the pod through the apiserver's exec WebSocket."""
    params: list[tuple[str, str]] = [("command", part) for part in command]
    params += [("stdout", "true"), ("stderr", "true")]
    if stdin is not None:
        params.append(("stdin", "true"))
    if container:
        params.append(("container", container))
    url = (
        api_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        + f"/api/v1/namespaces/{namespace}/pods/{pod}/exec?"
        + urlencode(params)
    )
    ws = websocket.create_connection(
        url,
        subprotocols=[protocol],
        timeout=timeout,
        sslopt={"context": session_ca().ssl_context()},
    )
    chosen = ws.getsubprotocol() or ""
    try:
        if stdin is not None:
            if stdin:
                ws.send_binary(b"\x00" + stdin)
            if chosen == V5:
                ws.send_binary(b"\xff\x00")  # close stdin
        out = bytearray()
        err = bytearray()
        status: dict[str, Any] | None = None
        while True:
            try:
                opcode, data = ws.recv_data(control_frame=False)
            except websocket.WebSocketConnectionClosedException:
                break
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                break
            if not data:
                continue
            channel, payload = data[0], data[1:]
            if channel == 1:
                out += payload
            elif channel == 2:
                err += payload
            elif channel == 3:
                status = json.loads(payload)
        return ExecResult(bytes(out), bytes(err), status, chosen)
    finally:
        ws.close()
