"""What the security plane costs a write (issue 17): pod creates against an apiserver
with TLS on every hop (clients and etcd), ``--authorization-mode Node,RBAC`` and an
audit log at ``Metadata`` for every request, beside the same creates against a plain
one (HTTP, plain etcd, AlwaysAllow, no audit). Both run the default admission plugins.
The pods do not mount a service-account token, so that both servers store the same
object. The two alternate over a few rounds (each on a fresh namespace), so that whatever else
the machine does weighs on both; the figures are the rounds' medians. Goal: create
latency and server CPU per write at most 1.3x.
"""

from __future__ import annotations

import asyncio
import ssl
import statistics
import tempfile
import uuid
from pathlib import Path

import aiohttp
import orjson
import yaml

from bench.apiserver import JSON, Run, _closed_loop, pod
from bench.common import control_plane, write_section
from testkit.secure import SecureControlPlane

ROUNDS = 3
LEVELS = {1: 300, 16: 1000}
AUDIT_EVERYTHING = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "omitStages": ["RequestReceived"],
    "rules": [{"level": "Metadata"}],
}


async def creates(
    url: str, concurrency: int, ops: int, pid: int | None, tls: ssl.SSLContext | None
) -> Run:
    connector = aiohttp.TCPConnector(limit=concurrency, ssl=tls if tls is not None else False)
    async with aiohttp.ClientSession(url, connector=connector) as session:
        ns = f"sec-{uuid.uuid4().hex[:8]}"
        async with session.post("/api/v1/namespaces", json={"metadata": {"name": ns}}) as resp:
            if resp.status != 201:
                raise RuntimeError(await resp.text())
        # What the serviceaccount-controller would make (none runs here).
        account = {"metadata": {"name": "default"}}
        async with session.post(f"/api/v1/namespaces/{ns}/serviceaccounts", json=account) as resp:
            if resp.status != 201:
                raise RuntimeError(await resp.text())
        base = f"/api/v1/namespaces/{ns}/pods"

        def body(i: int) -> bytes:
            obj = pod(f"p{i}", ns)
            # The same object on both sides: the secure server would otherwise add a
            # service-account token volume that the plain one (no signing key) does not.
            obj["spec"]["automountServiceAccountToken"] = False
            return orjson.dumps(obj)

        async def create(i: int) -> None:
            async with session.post(base, data=body(i), headers=JSON) as r:
                if r.status != 201:
                    raise RuntimeError(await r.text())
                await r.read()

        return await _closed_loop(concurrency, ops, create, pid)


def _median(values: list[float]) -> float:
    return statistics.median(values)


def run() -> str:
    rows = [
        "| clients | plain create p50 / p99 ms | secure create p50 / p99 ms | p50 ratio "
        "| plain CPU µs/create | secure CPU µs/create | CPU ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory(prefix="navarch-bench-sec-") as tmp:
        root = Path(tmp)
        policy = root / "audit-policy.yaml"
        policy.write_text(yaml.safe_dump(AUDIT_EVERYTHING))
        secure = SecureControlPlane.start(
            root / "secure",
            "--authorization-mode", "Node,RBAC",
            "--audit-policy-file", str(policy),
            "--audit-log-path", str(root / "audit.log"),
            "--etcd-compaction-interval", "0",
        )  # fmt: skip
        try:
            with control_plane() as (_, plain):
                plain_pid = plain.process.pid if plain.process else None
                secure_proc = secure.apiserver.process
                secure_pid = secure_proc.pid if secure_proc else None
                tls = secure.tls("admin")
                for c, n in LEVELS.items():
                    runs: dict[str, list[Run]] = {"plain": [], "secure": []}
                    for _ in range(ROUNDS):
                        runs["plain"].append(asyncio.run(creates(plain.url, c, n, plain_pid, None)))
                        runs["secure"].append(
                            asyncio.run(creates(secure.url, c, n, secure_pid, tls))
                        )
                    p50 = {k: _median([r.latencies.p50_ms for r in v]) for k, v in runs.items()}
                    p99 = {k: _median([r.latencies.p99_ms for r in v]) for k, v in runs.items()}
                    cpu = {k: _median([r.cpu_us for r in v]) for k, v in runs.items()}
                    rows.append(
                        f"| {c} | {p50['plain']:.2f} / {p99['plain']:.2f} "
                        f"| {p50['secure']:.2f} / {p99['secure']:.2f} "
                        f"| {p50['secure'] / p50['plain']:.2f}x "
                        f"| {cpu['plain']:.0f} | {cpu['secure']:.0f} "
                        f"| {cpu['secure'] / cpu['plain']:.2f}x |"
                    )
                    print(rows[-1], flush=True)
        finally:
            secure.stop()
    body = "\n".join(rows) + (
        f"\n\nPod creates, {ROUNDS} alternating rounds per level (medians). Secure: client "
        "certificates over TLS, etcd over mutual TLS, Node,RBAC, every request audited at "
        "Metadata. Plain: HTTP, plain etcd, AlwaysAllow, no audit. Goal: at most 1.3x."
    )
    write_section("security: the cost of TLS, RBAC and audit per write (issue 17)", body)
    print(body)
    return body
