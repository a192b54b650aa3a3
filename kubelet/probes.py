"""Liveness, readiness and startup probes: one worker per running container and probe.

A worker waits ``initialDelaySeconds`` after the container started, then probes every
``periodSeconds`` with ``timeoutSeconds``, and flips its result after
``successThreshold`` successes or ``failureThreshold`` failures in a row. Results are
kept per container id (a restarted container starts afresh) and every flip wakes the
pod's sync, which acts on it: a failed liveness or startup probe kills the container,
readiness feeds the Ready condition. Until a startup probe has succeeded, the other
probes of that container do not run.

Initial results are Kubernetes': readiness false, liveness true, startup false.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import aiohttp

from apitypes.core import Container, Pod, Probe
from kubelet.labels import KIND_APP
from kubelet.runtime import Runtime, RuntimePod

log = logging.getLogger(__name__)

LIVENESS: Final = "liveness"
READINESS: Final = "readiness"
STARTUP: Final = "startup"

_INITIAL = {LIVENESS: True, READINESS: False, STARTUP: False}


def resolve_port(port: int | str, container: Container) -> int:
    """A probe's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int):
        return port
    if port.isdigit():
        return int(port)
    named = container.port_named(port)
    if named is None:
        raise ValueError(f"container {container.name} has no port named {port!r}")
    return named.container_port


class Prober:
    """Runs one probe once against a container."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=False, force_close=True),
                headers={"User-Agent": "kube-probe/1.32"},
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def probe(
        self, probe: Probe, container: Container, container_id: str, pod_ip: str
    ) -> tuple[bool, str]:
        """(success, message) of one attempt."""
        timeout = float(probe.timeout_seconds or 1)
        try:
            if probe.exec is not None:
                result = await self.runtime.exec_sync(container_id, probe.exec.command, timeout)
                if result.exit_code == 0:
                    return True, ""
                if result.exit_code == -1:
                    return False, f"command timed out after {timeout:g}s"
                return False, result.output.decode(errors="replace")[-1024:]
            if probe.http_get is not None:
                action = probe.http_get
                host = action.host or pod_ip
                port = resolve_port(action.port, container)
                scheme = (action.scheme or "HTTP").lower()
                path = action.path or "/"
                if not path.startswith("/"):
                    path = "/" + path
                headers = {h.name: h.value for h in action.http_headers}
                url = f"{scheme}://{host}:{port}{path}"
                async with self._http().get(
                    url,
                    headers=headers,
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=timeout),
                ) as resp:
                    await resp.read()
                    if 200 <= resp.status < 400:
                        return True, ""
                    return False, f"HTTP probe failed with statuscode: {resp.status}"
            if probe.tcp_socket is not None:
                host = probe.tcp_socket.host or pod_ip
                port = resolve_port(probe.tcp_socket.port, container)
                _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
                return True, ""
            # gRPC probes need a gRPC health client; navarch treats them as passing.
            return True, ""
        except TimeoutError:
            return False, f"probe timed out after {timeout:g}s"
        except (OSError, aiohttp.ClientError, ValueError) as err:
            return False, str(err) or type(err).__name__


@dataclass
class _Worker:
    container_id: str
    task: asyncio.Task[None]


class ProbeManager:
    """Probe workers for the running containers of a node's pods, and their results."""

    def __init__(
        self,
        prober: Prober | None,
        on_change: Callable[[str], None],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.prober = prober
        self.on_change = on_change
        self.clock = clock
        self._results: dict[tuple[str, str], bool] = {}
        self._workers: dict[tuple[str, str, str], _Worker] = {}
        self.messages: dict[tuple[str, str], str] = {}
        self._pod_ips: dict[str, str] = {}

    @property
    def enabled(self) -> bool:
        return self.prober is not None

    def result(self, container_id: str, kind: str) -> bool:
        if not self.enabled:
            return True
        return self._results.get((container_id, kind), _INITIAL[kind])

    def seed(self, container_id: str, kind: str, value: bool) -> None:
        """Start from a known result (a restarted kubelet adopting a ready container)."""
        self._results.setdefault((container_id, kind), value)

    def failed(self, container_id: str, kind: str) -> bool:
        return self.enabled and self._results.get((container_id, kind)) is False

    def sync(self, pod: Pod, state: RuntimePod | None) -> None:
        """Run exactly the workers ``pod``'s running containers need."""
        if self.prober is None or pod.spec is None:
            return
        uid = pod.metadata.uid or ""
        wanted: set[tuple[str, str, str]] = set()
        for container in pod.spec.containers:
            latest = state.latest(container.name, KIND_APP) if state else None
            if latest is None or not latest.running:
                continue
            for kind, probe in (
                (LIVENESS, container.liveness_probe),
                (READINESS, container.readiness_probe),
                (STARTUP, container.startup_probe),
            ):
                if probe is None:
                    continue
                key = (uid, container.name, kind)
                wanted.add(key)
                worker = self._workers.get(key)
                if worker is not None and worker.container_id == latest.id:
                    continue
                if worker is not None:
                    worker.task.cancel()
                task = asyncio.get_running_loop().create_task(
                    self._run(
                        uid,
                        container,
                        kind,
                        probe,
                        latest.id,
                        latest.started_at or self.clock(),
                        pod_ip=(pod.status.pod_ip if pod.status else None) or "",
                    ),
                    name=f"probe-{kind}-{container.name}",
                )
                self._workers[key] = _Worker(latest.id, task)
        for key in [k for k in self._workers if k[0] == uid and k not in wanted]:
            self._workers.pop(key).task.cancel()

    def update_pod_ip(self, uid: str, pod_ip: str) -> None:
        """Where network probes of ``uid``'s containers connect (the sandbox's IP)."""
        self._pod_ips[uid] = pod_ip

    def remove_pod(self, uid: str, container_ids: list[str] | None = None) -> None:
        for key in [k for k in self._workers if k[0] == uid]:
            self._workers.pop(key).task.cancel()
        self._pod_ips.pop(uid, None)
        for cid in container_ids or []:
            for kind in _INITIAL:
                self._results.pop((cid, kind), None)
                self.messages.pop((cid, kind), None)

    def forget_containers(self, live_ids: set[str]) -> None:
        """Drop results of containers that no longer exist."""
        for key in [k for k in self._results if k[0] not in live_ids]:
            del self._results[key]
            self.messages.pop(key, None)

    async def close(self) -> None:
        for worker in self._workers.values():
            worker.task.cancel()
        for worker in self._workers.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await worker.task
        self._workers.clear()
        if self.prober is not None:
            await self.prober.close()

    async def _run(
        self,
        uid: str,
        container: Container,
        kind: str,
        probe: Probe,
        container_id: str,
        started_at: float,
        *,
        pod_ip: str,
    ) -> None:
        assert self.prober is not None
        period = max(probe.period_seconds or 10, 1)
        success_threshold = max(probe.success_threshold or 1, 1)
        failure_threshold = max(probe.failure_threshold or 3, 1)
        wait = started_at + (probe.initial_delay_seconds or 0) - self.clock()
        if wait > 0:
            await asyncio.sleep(wait)
        successes = failures = 0
        key = (container_id, kind)
        while True:
            waiting_for_startup = kind != STARTUP and container.startup_probe is not None
            if waiting_for_startup and not self._results.get((container_id, STARTUP), False):
                await asyncio.sleep(min(period, 1))
                continue
            ip = self._pod_ips.get(uid) or pod_ip
            ok, message = await self.prober.probe(probe, container, container_id, ip)
            if ok:
                successes, failures = successes + 1, 0
            else:
                successes, failures = 0, failures + 1
            current = self._results.get(key, _INITIAL[kind])
            new = current
            if ok and successes >= success_threshold:
                new = True
            elif not ok and failures >= failure_threshold:
                new = False
            if not ok:
                self.messages[key] = message
            if new != current or key not in self._results:
                self._results[key] = new
                if new != current:
                    log.info(
                        "%s probe of %s (%s) %s%s",
                        kind,
                        container.name,
                        container_id[:12],
                        "succeeded" if new else "failed",
                        f": {message}" if message else "",
                    )
                    self.on_change(uid)
            if kind == STARTUP and new:
                return
            if kind in (LIVENESS, STARTUP) and not new:
                # The container is about to be killed; its successor gets a new worker.
                return
            await asyncio.sleep(period)
