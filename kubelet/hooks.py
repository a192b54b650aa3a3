"""Container lifecycle hooks: ``postStart`` and ``preStop`` handlers (exec, httpGet, sleep).

As Kubernetes' ``lifecycle`` handler runner: an exec hook runs in the container, an
httpGet hook is sent from the host to the pod's IP (or the node's, for host-network
pods), a sleep hook waits; each within the time it is given.
"""

from __future__ import annotations

import asyncio

import aiohttp

from apitypes.core import Container, LifecycleHandler, Pod
from kubelet.probes import resolve_port
from kubelet.runtime import Runtime


class LifecycleHooks:
    def __init__(self, runtime: Runtime, host_ip: str) -> None:
        self.runtime = runtime
        self.host_ip = host_ip
        self._http: aiohttp.ClientSession | None = None

    async def run(
        self,
        pod: Pod,
        container: Container,
        container_id: str,
        hook: LifecycleHandler,
        timeout: float,
    ) -> tuple[bool, str]:
        """Run ``hook`` for ``container`` within ``timeout`` seconds: (succeeded, why not)."""
        try:
            if hook.exec is not None:
                result = await self.runtime.exec_sync(container_id, hook.exec.command, timeout)
                if result.exit_code != 0:
                    return (
                        False,
                        f"exec {hook.exec.command} exited {result.exit_code}: {result.output.decode(errors='replace')[-512:]}",
                    )
                return True, ""
            if hook.sleep is not None:
                await asyncio.sleep(min(hook.sleep.seconds, timeout))
                return True, ""
            if hook.http_get is not None:
                action = hook.http_get
                host = action.host or (pod.status.pod_ip if pod.status else None) or self.host_ip
                port = resolve_port(action.port, container)
                path = action.path or "/"
                url = f"{(action.scheme or 'HTTP').lower()}://{host}:{port}{path if path.startswith('/') else '/' + path}"
                if self._http is None:
                    self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False))
                async with self._http.get(
                    url, timeout=aiohttp.ClientTimeout(total=timeout)
                ) as resp:
                    await resp.read()
                    return resp.status < 400, f"HTTP {resp.status}"
        except (OSError, TimeoutError, aiohttp.ClientError, ValueError) as err:
            return False, str(err)
        return True, ""

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
