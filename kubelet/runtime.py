"""The container runtime interface the kubelet's sync logic is written against.

Two implementations: ``DockerRuntime`` (real containers through the Docker Engine) and
``FakeRuntime`` (in memory, for hollow nodes and tests). The sync logic never knows
which one it drives.

The runtime's view of a pod is a ``RuntimePod``: its sandboxes and every container
instance still present (the current one and, for ``--previous`` logs, the last dead
one), each described only by what the runtime itself knows plus the kubelet's labels.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

# Container states, as the runtime reports them.
CREATED = "created"
RUNNING = "running"
EXITED = "exited"
UNKNOWN = "unknown"


class RuntimeUnavailableError(Exception):
    """The runtime does not answer (Docker daemon down or restarting)."""


class ImagePullError(Exception):
    """An image could not be pulled (no registry, unknown image, refused)."""


class ImageNotPresentError(Exception):
    """``imagePullPolicy: Never`` and the image is not on the node."""


class ContainerStartError(Exception):
    """The runtime refused to create or start a container (bad command, bad mount...)."""


@dataclass
class SandboxInfo:
    id: str
    attempt: int
    ready: bool
    ip: str | None
    created_at: float
    """Seconds since the epoch."""


@dataclass
class ContainerInfo:
    id: str
    name: str
    """The container's name in the pod spec."""
    kind: str
    """``init`` or ``app`` (see ``labels``)."""
    state: str
    image: str
    image_id: str
    hash: str
    restart_count: int
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    exit_code: int | None = None
    reason: str | None = None
    """Why it terminated (``Completed``, ``Error``, ``OOMKilled``), when it did."""
    message: str | None = None
    tty: bool = False
    termination_message_file: str | None = None

    @property
    def running(self) -> bool:
        return self.state == RUNNING

    @property
    def exited(self) -> bool:
        return self.state == EXITED


@dataclass
class RuntimePod:
    uid: str
    name: str
    namespace: str
    sandboxes: list[SandboxInfo] = field(default_factory=list)
    """Newest first."""
    containers: list[ContainerInfo] = field(default_factory=list)
    """Newest first."""
    grace_period: int | None = None

    def sandbox(self) -> SandboxInfo | None:
        """The newest sandbox, ready or not."""
        return self.sandboxes[0] if self.sandboxes else None

    def instances(self, name: str, kind: str | None = None) -> list[ContainerInfo]:
        """Every instance of the spec container ``name``, newest first."""
        return [c for c in self.containers if c.name == name and (kind is None or c.kind == kind)]

    def latest(self, name: str, kind: str | None = None) -> ContainerInfo | None:
        found = self.instances(name, kind)
        return found[0] if found else None

    def fingerprint(self) -> tuple[object, ...]:
        """What PLEG compares between relists: ids and states of everything."""
        return (
            tuple((s.id, s.ready) for s in self.sandboxes),
            tuple((c.id, c.state) for c in self.containers),
        )


@dataclass
class Mount:
    host_path: str
    container_path: str
    read_only: bool = False


@dataclass
class PortMapping:
    container_port: int
    host_port: int
    protocol: str = "TCP"
    host_ip: str = ""


@dataclass
class SandboxConfig:
    pod_uid: str
    pod_name: str
    namespace: str
    attempt: int
    hostname: str
    labels: dict[str, str]
    port_mappings: list[PortMapping] = field(default_factory=list)
    host_network: bool = False
    share_pid: bool = False
    sysctls: dict[str, str] = field(default_factory=dict)


@dataclass
class ContainerConfig:
    name: str
    """The runtime's name for this instance (``labels.docker_name``)."""
    image: str
    labels: dict[str, str]
    entrypoint: list[str] | None = None
    command: list[str] | None = None
    env: dict[str, str] = field(default_factory=dict)
    working_dir: str | None = None
    mounts: list[Mount] = field(default_factory=list)
    tty: bool = False
    stdin: bool = False
    memory_limit: int | None = None
    """Bytes."""
    cpu_limit_millis: int | None = None
    cpu_request_millis: int | None = None
    user: str | None = None
    group_add: list[str] = field(default_factory=list)
    privileged: bool = False
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    read_only_rootfs: bool = False
    share_pid: bool = False
    host_network: bool = False


@dataclass
class ExecResult:
    exit_code: int
    output: bytes


@dataclass
class LogOptions:
    follow: bool = False
    tail_lines: int | None = None
    since: float | None = None
    """Seconds since the epoch."""
    timestamps: bool = False


class ExecSession(Protocol):
    """A running ``exec``: feed stdin, read output frames, learn the exit code."""

    async def read(self) -> tuple[int, bytes] | None:
        """The next output chunk as ``(stream, data)`` (1 stdout, 2 stderr); None at end."""
        ...

    async def write(self, data: bytes) -> None: ...

    async def close_stdin(self) -> None: ...

    async def resize(self, width: int, height: int) -> None: ...

    async def exit_code(self) -> int:
        """The command's exit code (after ``read`` returned None)."""
        ...

    async def close(self) -> None: ...


@dataclass
class ImageInfo:
    names: list[str]
    size: int


class Runtime(Protocol):
    """What the kubelet needs from a container runtime. Every method may raise
    ``RuntimeUnavailableError``."""

    name: str
    simulated: bool
    """True for runtimes whose containers are not real (the fake one): probes always
    succeed and volumes are not made on the host."""

    async def start(self) -> None:
        """Get ready to run pods (connect, make the pause image, the pod network)."""
        ...

    async def close(self) -> None: ...

    async def version(self) -> str:
        """``<runtime>://<version>`` for the Node's ``nodeInfo``."""
        ...

    async def healthy(self) -> bool: ...

    def network_status(self) -> tuple[bool, str]:
        """Whether pods can get a network now (CRI's ``NetworkReady``), and why not."""
        ...

    async def update_pod_cidr(self, cidr: str) -> None:
        """The Node's ``spec.podCIDR``, as Kubernetes' kubelet hands it to its runtime
        (CRI ``UpdateRuntimeConfig``): the runtime makes its pod network for it."""
        ...

    async def list_pods(self) -> list[RuntimePod]:
        """Every pod of this node the runtime holds anything for."""
        ...

    async def pod(self, uid: str) -> RuntimePod | None:
        """A fresh look at one pod; None if the runtime holds nothing for it."""
        ...

    async def create_sandbox(self, config: SandboxConfig) -> SandboxInfo:
        """Create (not start) a pod sandbox. Containers may be created in it before it
        starts (they only start after it did)."""
        ...

    async def start_sandbox(self, sandbox_id: str) -> SandboxInfo:
        """Start a created sandbox; it with its IP."""
        ...

    async def stop_sandbox(self, sandbox_id: str) -> None: ...

    async def image_id(self, image: str) -> str | None:
        """The id of ``image`` if the node has it."""
        ...

    async def pull_image(self, image: str) -> str:
        """Pull ``image``; its id. Raises ``ImagePullError``."""
        ...

    async def create_container(self, sandbox: SandboxInfo, config: ContainerConfig) -> str:
        """Create (not start) a container in ``sandbox``'s namespaces; its id."""
        ...

    async def start_container(self, container_id: str) -> None: ...

    async def stop_container(self, container_id: str, grace: float) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; returns once it stopped."""
        ...

    async def remove_container(self, container_id: str) -> None: ...

    async def exec_sync(self, container_id: str, command: list[str], timeout: float) -> ExecResult:
        """Run ``command`` in the container; a timeout is exit code -1."""
        ...

    async def exec_stream(
        self,
        container_id: str,
        command: list[str],
        *,
        stdin: bool,
        tty: bool,
        size: tuple[int, int] | None = None,
    ) -> ExecSession:
        """Start ``command`` attached; ``size`` (width, height) is the TTY's from the
        start, so the command never sees a 0x0 terminal."""
        ...

    def logs(self, container_id: str, options: LogOptions) -> AsyncIterator[bytes]:
        """The container's output (stdout and stderr interleaved), as it was logged."""
        ...

    async def images(self) -> list[ImageInfo]: ...
