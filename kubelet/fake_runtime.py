"""An in-memory runtime: containers "start" at once, nothing runs, probes pass.

Hollow nodes (``navarch hollow-nodes``) run the real kubelet logic over it, as
Kubernetes' kubemark and kwok do, so that the control plane can be tested at scale
without containers. Tests drive it further: ``crash`` ends a container with an exit
code, ``absent_images``/``unpullable`` make image handling fail.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Callable

from kubelet.labels import (
    CONTAINER_HASH,
    CONTAINER_KIND,
    CONTAINER_NAME,
    GRACE_PERIOD,
    RESTART_COUNT,
)
from kubelet.runtime import (
    CREATED,
    EXITED,
    RUNNING,
    ContainerConfig,
    ExecResult,
    ImageInfo,
    ImagePullError,
    LogOptions,
    RuntimePod,
    SandboxConfig,
    SandboxInfo,
)
from kubelet.runtime import (
    ContainerInfo as Info,
)

# Pod IPs come from 10.128.0.0/9, shared by every fake runtime of the process, so
# that hollow nodes never hand out the same IP twice.
_ips = itertools.count(1)
_ids = itertools.count(1)


def _next_ip() -> str:
    n = next(_ips)
    return f"10.{128 + (n >> 16) % 128}.{(n >> 8) & 255}.{n & 255}"


class FakeExecSession:
    """An exec that prints nothing and exits 0."""

    async def read(self) -> tuple[int, bytes] | None:
        return None

    async def write(self, data: bytes) -> None:
        return None

    async def close_stdin(self) -> None:
        return None

    async def resize(self, width: int, height: int) -> None:
        return None

    async def exit_code(self) -> int:
        return 0

    async def close(self) -> None:
        return None


class FakeRuntime:
    name = "fake"
    simulated = True

    def __init__(self, node_name: str, *, clock: Callable[[], float] = time.time) -> None:
        self.node_name = node_name
        self.clock = clock
        self._pods: dict[str, RuntimePod] = {}
        self._owner: dict[str, str] = {}
        self.absent_images: set[str] = set()
        """Images the node does not have (``Never`` fails, others pull)."""
        self.unpullable: set[str] = set()
        """Images whose pull fails."""
        self.started: list[str] = []
        """Names of containers started, in order (for tests)."""
        self.up = True
        self.pod_cidr = ""
        """The Node's podCIDR as last handed over (fake pods take their IPs elsewhere)."""
        self.network_ready = True
        """Tests set it False to play a runtime waiting for its podCIDR."""

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def version(self) -> str:
        return "fake://1.0.0"

    async def healthy(self) -> bool:
        return self.up

    def network_status(self) -> tuple[bool, str]:
        if self.network_ready:
            return True, ""  # simulated pods need no network
        return False, "the node has no podCIDR yet (spec.podCIDR is empty)"

    async def update_pod_cidr(self, cidr: str) -> None:
        self.pod_cidr = cidr
        self.network_ready = True

    async def list_pods(self) -> list[RuntimePod]:
        return [p for p in self._pods.values() if p.sandboxes or p.containers]

    async def pod(self, uid: str) -> RuntimePod | None:
        found = self._pods.get(uid)
        if found is None or not (found.sandboxes or found.containers):
            return None
        return RuntimePod(
            uid=found.uid,
            name=found.name,
            namespace=found.namespace,
            sandboxes=list(found.sandboxes),
            containers=list(found.containers),
            grace_period=found.grace_period,
        )

    async def create_sandbox(self, config: SandboxConfig) -> SandboxInfo:
        pod = self._pods.setdefault(
            config.pod_uid, RuntimePod(config.pod_uid, config.pod_name, config.namespace)
        )
        grace = config.labels.get(GRACE_PERIOD)
        pod.grace_period = int(grace) if grace and grace.isdigit() else None
        sandbox = SandboxInfo(
            id=f"fakesandbox{next(_ids):08d}",
            attempt=config.attempt,
            ready=False,
            ip=None,
            created_at=self.clock(),
        )
        pod.sandboxes.insert(0, sandbox)
        self._owner[sandbox.id] = config.pod_uid
        return sandbox

    async def start_sandbox(self, sandbox_id: str) -> SandboxInfo:
        pod = self._pods[self._owner[sandbox_id]]
        sandbox = next(s for s in pod.sandboxes if s.id == sandbox_id)
        sandbox.ready = True
        sandbox.ip = sandbox.ip or _next_ip()
        return sandbox

    async def run_sandbox(self, config: SandboxConfig) -> SandboxInfo:
        """Create and start a sandbox (tests)."""
        return await self.start_sandbox((await self.create_sandbox(config)).id)

    async def stop_sandbox(self, sandbox_id: str) -> None:
        pod = self._pods.get(self._owner.get(sandbox_id, ""))
        for sandbox in pod.sandboxes if pod else []:
            if sandbox.id == sandbox_id:
                sandbox.ready = False

    async def image_id(self, image: str) -> str | None:
        if image in self.absent_images:
            return None
        return f"sha256:{abs(hash(image)):064x}"[:71]

    async def pull_image(self, image: str) -> str:
        if image in self.unpullable:
            raise ImagePullError(f"pull access denied for {image}")
        self.absent_images.discard(image)
        return f"sha256:{abs(hash(image)):064x}"[:71]

    async def create_container(self, sandbox: SandboxInfo, config: ContainerConfig) -> str:
        uid = self._owner[sandbox.id]
        pod = self._pods[uid]
        labels = config.labels
        info = Info(
            id=f"fake{next(_ids):012d}",
            name=labels[CONTAINER_NAME],
            kind=labels[CONTAINER_KIND],
            state=CREATED,
            image=config.image,
            image_id=await self.image_id(config.image) or "",
            hash=labels.get(CONTAINER_HASH, ""),
            restart_count=int(labels.get(RESTART_COUNT, "0")),
            created_at=self.clock(),
        )
        pod.containers.insert(0, info)
        self._owner[info.id] = uid
        return info.id

    def _info(self, container_id: str) -> Info | None:
        pod = self._pods.get(self._owner.get(container_id, ""))
        for info in pod.containers if pod else []:
            if info.id == container_id:
                return info
        return None

    async def start_container(self, container_id: str) -> None:
        info = self._info(container_id)
        if info is not None:
            info.state = RUNNING
            info.started_at = self.clock()
            self.started.append(info.name)

    def crash(self, container_id: str, exit_code: int = 1) -> None:
        """End a running container as if its process exited with ``exit_code``."""
        info = self._info(container_id)
        if info is not None and info.state == RUNNING:
            info.state = EXITED
            info.exit_code = exit_code
            info.finished_at = self.clock()
            info.reason = "Completed" if exit_code == 0 else "Error"

    async def stop_container(self, container_id: str, grace: float) -> None:
        self.crash(container_id, 0)

    async def remove_container(self, container_id: str) -> None:
        uid = self._owner.pop(container_id, "")
        pod = self._pods.get(uid)
        if pod is None:
            return
        pod.containers = [c for c in pod.containers if c.id != container_id]
        pod.sandboxes = [s for s in pod.sandboxes if s.id != container_id]
        if not pod.containers and not pod.sandboxes:
            del self._pods[uid]

    async def exec_sync(self, container_id: str, command: list[str], timeout: float) -> ExecResult:
        return ExecResult(0, b"")

    async def exec_stream(
        self,
        container_id: str,
        command: list[str],
        *,
        stdin: bool,
        tty: bool,
        size: tuple[int, int] | None = None,
    ) -> FakeExecSession:
        return FakeExecSession()

    async def logs(self, container_id: str, options: LogOptions) -> AsyncIterator[bytes]:
        return
        yield b""  # pragma: no cover - makes this an async generator

    async def images(self) -> list[ImageInfo]:
        return []
