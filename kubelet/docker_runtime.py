"""The Docker runtime: pods as real containers through the Docker Engine.

Everything but the streams goes through the Docker SDK, whose calls block; they run
on a small thread pool so that the kubelet's event loop never waits on Docker. Exec
and logs use ``dockerstream`` (asyncio over the same socket).

A pod is a sandbox container running the pause image on the pod network, sharing its
network and IPC namespaces with the pod's containers (``network_mode=container:<sandbox>``),
so they reach each other on ``localhost`` and the pod has the sandbox's IP.

The pod network is a Docker bridge network of this node's own: ``navarch-<node>`` on
the Linux bridge ``nv<8 hex of sha256(node)>``, subnet = the Node's ``spec.podCIDR``
(handed over by ``update_pod_cidr``, as Kubernetes' kubelet passes it to its runtime),
gateway ``.1``, Docker's masquerade off (the network agent decides what is NATed).
Until it exists, ``network_status`` says why and no sandbox is made. With a fixed
``pod_cidr`` (the kubelet's ``--pod-cidr``, standalone mode) the network is made at
start for that subnet, with Docker's masquerade on, and several kubelets may share it
(``--pod-network navarch0 --pod-cidr 10.244.0.0/16`` is the old shared network).
Sandbox ports on the bridge have hairpin mode on, so a pod reaches itself through a
Service.

The pause image is built on the spot when missing: ``FROM scratch`` plus the host's
static busybox (Debian's ``busybox-static``), running ``sleep`` forever. It needs no
registry. The kubelet stops sandboxes with SIGKILL, so the sleeper need not handle
SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import hashlib
import io
import ipaddress
import logging
import math
import os
import subprocess
import tarfile
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import docker
import docker.errors
import orjson
import requests.exceptions
from docker.types import IPAMConfig, IPAMPool, LogConfig

from kubelet import labels as lb
from kubelet.dockerstream import DockerConnector, DockerExecSession, DockerStreamError, read_frames
from kubelet.runtime import (
    CREATED,
    EXITED,
    RUNNING,
    UNKNOWN,
    ContainerConfig,
    ContainerInfo,
    ContainerStartError,
    ExecResult,
    ImageInfo,
    ImagePullError,
    LogOptions,
    RuntimePod,
    RuntimeUnavailableError,
    SandboxConfig,
    SandboxInfo,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

PAUSE_IMAGE = "navarch/pause:1"
PAUSE_BINARY = "/bin/busybox"
_MESSAGE_LIMIT = 4096


def network_name(node: str) -> str:
    """The Docker network of a node's pods: ``navarch-<node>``."""
    return f"navarch-{node}"


def bridge_name(node: str) -> str:
    """The Linux bridge of a node's pod network: ``nv`` + 8 hex digits of the node
    name's SHA-256 (interface names have at most 15 characters)."""
    return "nv" + hashlib.sha256(node.encode()).hexdigest()[:8]


def parse_docker_time(text: str | None) -> float | None:
    """Seconds since the epoch of a Docker timestamp (None for Go's zero time)."""
    if not text or text.startswith("0001-01-01"):
        return None
    head, _, rest = text.partition(".")
    fraction = ""
    zone = "Z"
    if rest:
        digits = ""
        for i, ch in enumerate(rest):
            if not ch.isdigit():
                zone = rest[i:]
                break
            digits += ch
        fraction = "." + digits[:6] if digits else ""
    elif text.endswith("Z"):
        head = text[:-1]
    zone = "+00:00" if zone in ("Z", "") else zone
    return datetime.fromisoformat(head + fraction + zone).timestamp()


def _state(raw: dict[str, Any]) -> str:
    status = (raw.get("State") or {}).get("Status", "")
    if status in ("running", "paused", "restarting"):
        return RUNNING
    if status == "created":
        return CREATED
    if status in ("exited", "dead", "removing"):
        return EXITED
    return UNKNOWN


def pause_context(binary: Path) -> io.BytesIO:
    """The build context of the pause image: the static busybox and a Dockerfile."""
    dockerfile = (
        b"FROM scratch\n"
        b"COPY busybox /bin/busybox\n"
        b'ENTRYPOINT ["/bin/busybox", "sleep", "2147483647"]\n'
    )
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
        tar.add(str(binary), arcname="busybox")
    buf.seek(0)
    return buf


class DockerRuntime:
    name = "docker"
    simulated = False

    def __init__(
        self,
        node_name: str,
        *,
        base_url: str | None = None,
        network: str = "",
        pod_cidr: str = "",
        pause_image: str = PAUSE_IMAGE,
        pause_binary: str = PAUSE_BINARY,
        threads: int = 16,
        log_max_size: str = "10m",
        log_max_files: int = 5,
    ) -> None:
        self.node_name = node_name
        self.base_url = base_url
        self.network = network or network_name(node_name)
        self.bridge = network[:15] if network else bridge_name(node_name)
        self.static_cidr = pod_cidr
        """``--pod-cidr``: a fixed subnet (standalone); else the Node's podCIDR."""
        self.network_cidr = pod_cidr
        """The subnet the pod network has (or is to have); empty until known."""
        self._network_ready = False
        self._network_error = "the node has no podCIDR yet (spec.podCIDR is empty)"
        self._network_lock = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()
        self.pause_image = pause_image
        self.pause_binary = pause_binary
        self._threads = threads
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="docker")
        self._api: docker.APIClient | None = None
        self._raw_url = ""
        self._stream: DockerConnector | None = None
        self._inspected: dict[str, tuple[str, ContainerInfo | SandboxInfo, dict[str, str]]] = {}
        self._image_ids: dict[str, str] = {}
        self._log_config = LogConfig(
            type="json-file", config={"max-size": log_max_size, "max-file": str(log_max_files)}
        )

    # --- plumbing -------------------------------------------------------------------

    @property
    def api(self) -> docker.APIClient:
        if self._api is None:
            raise RuntimeUnavailableError("the Docker runtime is not started")
        return self._api

    async def _run(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, functools.partial(func, *args, **kwargs))
        except docker.errors.APIError:
            raise  # Docker answered (requests' errors are OSErrors too)
        except (requests.exceptions.ConnectionError, OSError) as err:
            raise RuntimeUnavailableError(f"Docker does not answer: {err}") from err

    def _connect(self) -> docker.APIClient:
        kwargs: dict[str, Any] = docker.utils.kwargs_from_env()
        if self.base_url:
            kwargs["base_url"] = self.base_url
        self._raw_url = kwargs.get("base_url") or "unix:///var/run/docker.sock"
        return docker.APIClient(version="auto", timeout=120, max_pool_size=self._threads, **kwargs)

    async def start(self) -> None:
        if self._api is None:
            api = await self._run(self._connect)
            self._api = api
            self._stream = DockerConnector(self._raw_url, str(api.api_version))
        await self._ensure_pause_image()
        if self.static_cidr:
            await self._ensure_network()

    async def close(self) -> None:
        if self._api is not None:
            with contextlib.suppress(Exception):
                self._api.close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def version(self) -> str:
        info = await self._run(self.api.version)
        return f"docker://{info.get('Version', 'unknown')}"

    async def healthy(self) -> bool:
        try:
            return bool(await asyncio.wait_for(self._run(self.api.ping), 5))
        except (RuntimeUnavailableError, TimeoutError, docker.errors.APIError):
            return False

    async def _ensure_pause_image(self) -> None:
        try:
            await self._run(self.api.inspect_image, self.pause_image)
            return
        except docker.errors.ImageNotFound:
            pass
        binary = Path(self.pause_binary)
        log.info("building the pause image %s from %s", self.pause_image, binary)

        def build() -> None:
            if not binary.is_file():
                raise RuntimeError(
                    f"the pause image {self.pause_image} is missing and {binary} (a static "
                    "busybox, Debian's busybox-static) is not there to build it from"
                )
            for _ in self.api.build(
                fileobj=pause_context(binary),
                custom_context=True,
                tag=self.pause_image,
                labels={lb.MANAGED: "true"},
                rm=True,
                forcerm=True,
                decode=True,
            ):
                pass

        await self._run(build)
        await self._run(self.api.inspect_image, self.pause_image)

    # --- the pod network -------------------------------------------------------------

    def network_status(self) -> tuple[bool, str]:
        if self.network in ("bridge", "host", "none"):
            return True, ""
        return self._network_ready, "" if self._network_ready else self._network_error

    async def update_pod_cidr(self, cidr: str) -> None:
        """Make (or remake, when the Node's podCIDR changed) the pod network for
        ``cidr``; a failure is kept for ``network_status`` and tried again on the next
        call. Ignored when a fixed ``--pod-cidr`` is set."""
        if self.static_cidr:
            if cidr != self.static_cidr:
                log.debug("node podCIDR %s ignored: --pod-cidr %s is set", cidr, self.static_cidr)
            return
        async with self._network_lock:
            if self._network_ready and cidr == self.network_cidr:
                return
            self.network_cidr = cidr
            await self._ensure_network()

    async def _ensure_network(self) -> None:
        if self.network in ("bridge", "host", "none"):
            return
        try:
            await self._run(self._ensure_network_locked)
        except (RuntimeError, docker.errors.APIError) as err:
            self._network_ready = False
            self._network_error = str(err)
            if self.static_cidr:
                raise
            log.warning("pod network not ready: %s", err)
            return
        self._network_ready = True
        self._network_error = ""

    def _networks_named(self) -> list[dict[str, Any]]:
        # Docker filters names by substring: keep the exact ones.
        return [n for n in self.api.networks(names=[self.network]) if n["Name"] == self.network]

    def _ensure_network_locked(self) -> None:
        """Create the pod network once, however many kubelets of this host start at
        the same moment. Docker does not serialise creates: two at once may both pass
        its duplicate check (two networks with one name) or one fails with "Pool
        overlaps". A host-wide lock file makes check-then-create one step."""
        lock_dir = Path(os.environ.get("NAVARCH_LOCK_DIR", "/run/lock"))
        if not lock_dir.is_dir():
            lock_dir = Path(tempfile.gettempdir())
        with open(lock_dir / f"navarch-network-{self.network}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                found = self._networks_named()
                if found and self._check_network(found):
                    return
                try:
                    self._create_network()
                except docker.errors.APIError as err:
                    if "overlap" in str(err) and self._remove_stale_overlaps():
                        self._create_network()
                    else:
                        # A kubelet of this host not taking the lock (an older one) may
                        # have created it a moment ago: that is the network we want.
                        found = self._networks_named()
                        if not found or not self._check_network(found):
                            raise RuntimeError(
                                f"cannot create the pod network {self.network} "
                                f"({self.network_cidr}): {err.explanation or err}"
                            ) from err
                        return
                log.info(
                    "created the pod network %s (%s, bridge %s)",
                    self.network,
                    self.network_cidr,
                    self.bridge,
                )
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _create_network(self) -> None:
        subnet = ipaddress.ip_network(self.network_cidr, strict=False)
        options = {"com.docker.network.bridge.name": self.bridge}
        labels = {lb.MANAGED: "true"}
        if not self.static_cidr:
            # This node's own network: the network agent masquerades (pod-to-pod
            # never), and ``navarch down`` finds it by the node label.
            options["com.docker.network.bridge.enable_ip_masquerade"] = "false"
            labels[lb.NODE] = self.node_name
        self.api.create_network(
            self.network,
            driver="bridge",
            ipam=IPAMConfig(
                pool_configs=[IPAMPool(subnet=str(subnet), gateway=str(next(subnet.hosts())))]
            ),
            check_duplicate=True,
            labels=labels,
            options=options,
        )

    def _check_network(self, found: list[dict[str, Any]]) -> bool:
        """True if the existing network serves; duplicates left by an earlier race are
        removed (the oldest one stays) when no container uses them. One with another
        subnet is an error with a fixed ``--pod-cidr``; for the Node's podCIDR (the
        Node was deleted and got a new one) it is removed with this node's sandboxes
        on it, which the kubelet then makes anew: False."""
        found.sort(key=lambda n: n.get("Created") or "")
        keep, extra = found[0], found[1:]
        for net in extra:
            with contextlib.suppress(docker.errors.APIError):
                self.api.remove_network(net["Id"])
                log.warning("removed a duplicate pod network %s (%s)", self.network, net["Id"])
        subnets = [c.get("Subnet") for c in ((keep.get("IPAM") or {}).get("Config") or [])]
        if self.network_cidr in subnets:
            return True
        if self.static_cidr:
            raise RuntimeError(
                f"the pod network {self.network} exists with subnet(s) {subnets}, not "
                f"{self.network_cidr}; remove it (docker network rm {self.network}) or "
                "choose another --pod-network"
            )
        log.warning(
            "pod network %s has subnet(s) %s, the node's podCIDR is %s: making it anew",
            self.network, subnets, self.network_cidr,
        )  # fmt: skip
        self._remove_network(keep["Id"], own_sandboxes=True)
        return False

    def _remove_network(self, net_id: str, *, own_sandboxes: bool) -> None:
        """Remove a network; with ``own_sandboxes``, kill this node's containers on it
        first (anyone else's keeps it: an error)."""
        attached = (self.api.inspect_network(net_id).get("Containers") or {}).keys()
        for cid in attached:
            try:
                labels = (self.api.inspect_container(cid).get("Config") or {}).get("Labels") or {}
            except docker.errors.NotFound:
                continue
            if not own_sandboxes or labels.get(lb.NODE) != self.node_name:
                raise RuntimeError(f"network {net_id[:12]} is in use by container {cid[:12]}")
            with contextlib.suppress(docker.errors.APIError):
                self.api.kill(cid)
        for attempt in range(20):
            try:
                self.api.remove_network(net_id)
                return
            except docker.errors.NotFound:
                return
            except docker.errors.APIError:
                if attempt == 19:
                    raise
                time.sleep(0.1)  # endpoints of just-killed containers are going

    def _remove_stale_overlaps(self) -> bool:
        """Remove navarch's unused networks whose subnet overlaps ours (a network left
        by an earlier cluster, or the old shared ``navarch0``); True if any went."""
        ours = ipaddress.ip_network(self.network_cidr, strict=False)
        removed = False
        for net in self.api.networks(filters={"label": f"{lb.MANAGED}=true"}):
            configs = (net.get("IPAM") or {}).get("Config") or []
            subnets = [ipaddress.ip_network(c["Subnet"]) for c in configs if c.get("Subnet")]
            if not any(s.version == ours.version and s.overlaps(ours) for s in subnets):
                continue
            if self.api.inspect_network(net["Id"]).get("Containers") or {}:
                continue
            with contextlib.suppress(docker.errors.APIError):
                self.api.remove_network(net["Id"])
                removed = True
                log.warning(
                    "removed the unused network %s (%s): it overlaps the pod network's %s",
                    net["Name"], ", ".join(map(str, subnets)), ours,
                )  # fmt: skip
        return removed

    def set_hairpin(self) -> None:
        """Hairpin mode on every port of the pod bridge, so that a pod's packet that
        kube-proxy sends back to the pod itself (its own Service) may leave by the port
        it came in. Sysfs first; ``ip link`` where sysfs is read-only (a container)."""
        ports = Path("/sys/class/net") / self.bridge / "brif"
        try:
            names = [p.name for p in ports.iterdir()]
        except OSError:
            return
        for name in names:
            flag = ports / name / "hairpin_mode"
            try:
                if flag.read_text().strip() == "1":
                    continue
                flag.write_text("1")
            except OSError:
                subprocess.run(
                    ["ip", "link", "set", "dev", name, "type", "bridge_slave", "hairpin", "on"],
                    capture_output=True, check=False, timeout=10,
                )  # fmt: skip

    # --- listing ----------------------------------------------------------------------

    def _describe(self, raw: dict[str, Any]) -> ContainerInfo | SandboxInfo:
        config = raw.get("Config") or {}
        labels: dict[str, str] = config.get("Labels") or {}
        state = raw.get("State") or {}
        cid = raw["Id"]
        created = parse_docker_time(raw.get("Created")) or 0.0
        if labels.get(lb.CONTAINER_KIND) == lb.KIND_SANDBOX:
            networks = (raw.get("NetworkSettings") or {}).get("Networks") or {}
            ip = (networks.get(self.network) or {}).get("IPAddress") or next(
                (n.get("IPAddress") for n in networks.values() if n.get("IPAddress")), None
            )
            return SandboxInfo(
                id=cid,
                attempt=int(labels.get(lb.SANDBOX_ATTEMPT, "0") or 0),
                ready=_state(raw) == RUNNING,
                ip=ip or None,
                created_at=created,
            )
        status = _state(raw)
        exit_code: int | None = None
        reason = message = None
        error = state.get("Error") or ""
        if status == CREATED and error:
            # A container whose start failed stays "created"; it ran as much as it will.
            status = EXITED
            exit_code = int(state.get("ExitCode") or 128)
            reason, message = "StartError", error
        elif status == EXITED:
            exit_code = int(state.get("ExitCode") or 0)
            if state.get("OOMKilled"):
                reason = "OOMKilled"
            elif error:
                reason, message = "StartError", error
            else:
                reason = "Completed" if exit_code == 0 else "Error"
        term_file = labels.get(lb.TERMINATION_MESSAGE)
        if status == EXITED and term_file and not message:
            with contextlib.suppress(OSError):
                text = Path(term_file).read_bytes()[:_MESSAGE_LIMIT].decode(errors="replace")
                message = text or None
        return ContainerInfo(
            id=cid,
            name=labels.get(lb.CONTAINER_NAME, ""),
            kind=labels.get(lb.CONTAINER_KIND, lb.KIND_APP),
            state=status,
            image=config.get("Image", ""),
            image_id=f"docker://{raw.get('Image', '')}",
            hash=labels.get(lb.CONTAINER_HASH, ""),
            restart_count=int(labels.get(lb.RESTART_COUNT, "0") or 0),
            created_at=created,
            started_at=parse_docker_time(state.get("StartedAt")),
            finished_at=parse_docker_time(state.get("FinishedAt")) if status == EXITED else None,
            exit_code=exit_code,
            reason=reason,
            message=message,
            tty=bool(config.get("Tty")),
            termination_message_file=term_file,
        )

    def _list_blocking(self, extra: list[str]) -> list[RuntimePod]:
        filters = {"label": [*lb.node_selector(self.node_name), *extra]}
        summaries = self.api.containers(all=True, filters=filters)
        pods: dict[str, RuntimePod] = {}
        seen: set[str] = set()
        for summary in summaries:
            cid = summary["Id"]
            seen.add(cid)
            cached = self._inspected.get(cid)
            if cached is not None and cached[0] == summary.get("State"):
                info, labels = cached[1], cached[2]
            else:
                try:
                    raw = self.api.inspect_container(cid)
                except docker.errors.NotFound:
                    continue
                info = self._describe(raw)
                labels = (raw.get("Config") or {}).get("Labels") or {}
                # Cache by the summary's state: while it is unchanged nothing we read
                # can change either (timestamps, exit code, IP).
                self._inspected[cid] = (summary.get("State", ""), info, labels)
            uid = labels.get(lb.POD_UID, "")
            pod = pods.get(uid)
            if pod is None:
                grace = labels.get(lb.GRACE_PERIOD, "")
                pod = pods[uid] = RuntimePod(
                    uid=uid,
                    name=labels.get(lb.POD_NAME, ""),
                    namespace=labels.get(lb.POD_NAMESPACE, ""),
                    grace_period=int(grace) if grace.isdigit() else None,
                )
            if isinstance(info, SandboxInfo):
                pod.sandboxes.append(info)
            else:
                pod.containers.append(info)
        if not extra:
            for cid in [c for c in self._inspected if c not in seen]:
                del self._inspected[cid]
        for pod in pods.values():
            pod.sandboxes.sort(key=lambda s: (s.attempt, s.created_at), reverse=True)
            pod.containers.sort(key=lambda c: (c.restart_count, c.created_at), reverse=True)
        return list(pods.values())

    async def list_pods(self) -> list[RuntimePod]:
        return await self._run(self._list_blocking, [])

    async def pod(self, uid: str) -> RuntimePod | None:
        found = await self._run(self._list_blocking, [f"{lb.POD_UID}={uid}"])
        return found[0] if found else None

    # --- sandboxes -------------------------------------------------------------------

    def _create_named(self, name: str, create: Callable[[], dict[str, Any]]) -> str:
        try:
            return str(create()["Id"])
        except docker.errors.APIError as err:
            if err.status_code != 409:
                raise
        # A container of ours with this name is left from an earlier life: replace it.
        try:
            old = self.api.inspect_container(name)
        except docker.errors.NotFound:
            return str(create()["Id"])
        labels = (old.get("Config") or {}).get("Labels") or {}
        if labels.get(lb.MANAGED) != "true" or labels.get(lb.NODE) != self.node_name:
            raise ContainerStartError(f"a container named {name} exists and is not ours")
        self.api.remove_container(old["Id"], force=True, v=True)
        return str(create()["Id"])

    async def create_sandbox(self, config: SandboxConfig) -> SandboxInfo:
        name = lb.docker_name(
            lb.KIND_SANDBOX, "", config.pod_name, config.namespace, config.pod_uid, config.attempt
        )
        ports: list[tuple[int, str]] = []
        bindings: dict[str, list[tuple[str, int]]] = {}
        for mapping in config.port_mappings:
            proto = mapping.protocol.lower()
            ports.append((mapping.container_port, proto))
            bindings.setdefault(f"{mapping.container_port}/{proto}", []).append(
                (mapping.host_ip, mapping.host_port)
            )
        if not config.host_network and not self.network_status()[0]:
            raise ContainerStartError(f"network is not ready: {self._network_error}")
        network_mode = "host" if config.host_network else self.network
        host_config = self.api.create_host_config(
            network_mode=network_mode,
            ipc_mode="shareable",
            port_bindings=bindings or None,
            sysctls=config.sysctls or None,
            log_config=self._log_config,
        )

        def create() -> dict[str, Any]:
            return self.api.create_container(
                self.pause_image,
                name=name,
                hostname=None if config.host_network else config.hostname,
                labels=config.labels,
                ports=ports or None,
                host_config=host_config,
                use_config_proxy=False,
            )

        try:
            cid = await self._run(self._create_named, name, create)
        except docker.errors.APIError as err:
            raise ContainerStartError(
                f"cannot create the pod sandbox: {err.explanation or err}"
            ) from err
        return SandboxInfo(cid, config.attempt, ready=False, ip=None, created_at=time.time())

    async def start_sandbox(self, sandbox_id: str) -> SandboxInfo:
        try:
            await self._run(self.api.start, sandbox_id)
            raw = await self._run(self.api.inspect_container, sandbox_id)
        except docker.errors.APIError as err:
            if err.status_code == 404 and self.network in str(err.explanation or err):
                self._network_ready = False  # removed behind our back: make it again
                self._network_error = f"the pod network {self.network} is gone"
                task = asyncio.get_running_loop().create_task(self._ensure_network())
                self._background.add(task)
                task.add_done_callback(self._background.discard)
            raise ContainerStartError(
                f"cannot start the pod sandbox: {err.explanation or err}"
            ) from err
        info = self._describe(raw)
        assert isinstance(info, SandboxInfo)
        if info.ip:
            await self._run(self.set_hairpin)
        return info

    async def stop_sandbox(self, sandbox_id: str) -> None:
        with contextlib.suppress(docker.errors.NotFound):
            try:
                await self._run(self.api.kill, sandbox_id)
            except docker.errors.APIError as err:
                if err.status_code != 409:  # not running
                    raise

    # --- images -----------------------------------------------------------------------

    async def image_id(self, image: str) -> str | None:
        cached = self._image_ids.get(image)
        if cached is not None:
            return cached
        try:
            raw = await self._run(self.api.inspect_image, image)
        except docker.errors.ImageNotFound:
            return None
        except docker.errors.APIError as err:
            if err.status_code == 404:
                return None
            raise
        image_id = str(raw.get("Id", ""))
        self._image_ids[image] = image_id
        return image_id

    async def pull_image(self, image: str) -> str:
        repository, tag = docker.utils.parse_repository_tag(image)
        self._image_ids.pop(image, None)

        def pull() -> None:
            for event in self.api.pull(repository, tag=tag or "latest", stream=True, decode=True):
                if isinstance(event, dict) and event.get("error"):
                    raise ImagePullError(str(event["error"]))

        try:
            await self._run(pull)
        except docker.errors.APIError as err:
            raise ImagePullError(str(err.explanation or err)) from err
        found = await self.image_id(image)
        if found is None:
            raise ImagePullError(f"{image} is still missing after the pull")
        return found

    async def images(self) -> list[ImageInfo]:
        raw = await self._run(self.api.images)
        out = []
        for image in raw:
            names = [t for t in image.get("RepoTags") or [] if t != "<none>:<none>"]
            if names:
                out.append(ImageInfo(names=names, size=int(image.get("Size") or 0)))
        out.sort(key=lambda i: i.size, reverse=True)
        return out[:50]

    # --- containers -------------------------------------------------------------------

    async def create_container(self, sandbox: SandboxInfo, config: ContainerConfig) -> str:
        shared = f"container:{sandbox.id}"
        binds = [
            f"{m.host_path}:{m.container_path}:{'ro' if m.read_only else 'rw'}"
            for m in config.mounts
        ]
        cpu_shares = None
        if config.cpu_request_millis is not None:
            cpu_shares = max(config.cpu_request_millis * 1024 // 1000, 2)
        host_config = self.api.create_host_config(
            network_mode="host" if config.host_network else shared,
            ipc_mode=shared,
            pid_mode=shared if config.share_pid else None,
            binds=binds or None,
            mem_limit=config.memory_limit,
            memswap_limit=config.memory_limit,
            nano_cpus=config.cpu_limit_millis * 1_000_000 if config.cpu_limit_millis else None,
            cpu_shares=cpu_shares,
            privileged=config.privileged,
            cap_add=config.cap_add or None,
            cap_drop=config.cap_drop or None,
            read_only=config.read_only_rootfs or None,
            group_add=config.group_add or None,
            log_config=self._log_config,
        )

        def create() -> dict[str, Any]:
            return self.api.create_container(
                config.image,
                command=config.command,
                entrypoint=config.entrypoint,
                environment=[f"{k}={v}" for k, v in config.env.items()],
                working_dir=config.working_dir,
                labels=config.labels,
                tty=config.tty,
                stdin_open=config.stdin,
                user=config.user,
                name=config.name,
                host_config=host_config,
                use_config_proxy=False,
            )

        try:
            return await self._run(self._create_named, config.name, create)
        except docker.errors.APIError as err:
            raise ContainerStartError(str(err.explanation or err)) from err

    async def start_container(self, container_id: str) -> None:
        try:
            await self._run(self.api.start, container_id)
        except docker.errors.APIError as err:
            raise ContainerStartError(str(err.explanation or err)) from err

    async def stop_container(self, container_id: str, grace: float) -> None:
        with contextlib.suppress(docker.errors.NotFound):
            await self._run(self.api.stop, container_id, timeout=max(math.ceil(grace), 0))

    async def remove_container(self, container_id: str) -> None:
        try:
            await self._run(self.api.remove_container, container_id, force=True, v=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as err:
            if err.status_code != 409:  # removal already in progress
                raise
        self._inspected.pop(container_id, None)

    # --- exec and logs ----------------------------------------------------------------

    @property
    def stream(self) -> DockerConnector:
        if self._stream is None:
            raise RuntimeUnavailableError("the Docker runtime is not started")
        return self._stream

    async def _json(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        try:
            reader, writer = await self.stream.request(method, path, body=body, params=params)
        except OSError as err:
            raise RuntimeUnavailableError(f"Docker does not answer: {err}") from err
        try:
            raw = await reader.read()
        finally:
            writer.close()
        return orjson.loads(raw) if raw.strip() else None

    async def _exec_create(
        self, container_id: str, command: list[str], *, stdin: bool, tty: bool
    ) -> str:
        try:
            created = await self._json(
                "POST",
                f"/containers/{container_id}/exec",
                {
                    "AttachStdin": stdin,
                    "AttachStdout": True,
                    "AttachStderr": True,
                    "Tty": tty,
                    "Cmd": command,
                },
            )
        except DockerStreamError as err:
            raise ContainerStartError(str(err)) from err
        return str(created["Id"])

    async def exec_stream(
        self,
        container_id: str,
        command: list[str],
        *,
        stdin: bool,
        tty: bool,
        size: tuple[int, int] | None = None,
    ) -> DockerExecSession:
        exec_id = await self._exec_create(container_id, command, stdin=stdin, tty=tty)
        resize = None
        if tty and size is not None:
            # Docker holds a resize of a created exec until its process exists, then
            # applies it: sent alongside the start, the size is there from the outset.
            resize = asyncio.get_running_loop().create_task(self.exec_resize(exec_id, *size))
        try:
            reader, writer = await self.stream.request(
                "POST", f"/exec/{exec_id}/start", body={"Detach": False, "Tty": tty}, upgrade=True
            )
        except DockerStreamError as err:
            if resize is not None:
                resize.cancel()
            raise ContainerStartError(str(err)) from err
        if resize is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(resize, 5)
        return DockerExecSession(self, exec_id, reader, writer, tty)

    async def exec_resize(self, exec_id: str, width: int, height: int) -> None:
        with contextlib.suppress(DockerStreamError):
            await self._json("POST", f"/exec/{exec_id}/resize", params={"h": height, "w": width})

    async def exec_exit_code(self, exec_id: str) -> int:
        for _ in range(50):
            info = await self._json("GET", f"/exec/{exec_id}/json")
            if info and not info.get("Running") and info.get("ExitCode") is not None:
                return int(info["ExitCode"])
            await asyncio.sleep(0.02)
        return -1

    async def exec_sync(self, container_id: str, command: list[str], timeout: float) -> ExecResult:
        try:
            session = await self.exec_stream(container_id, command, stdin=False, tty=False)
        except ContainerStartError as err:
            return ExecResult(126, str(err).encode())
        output = bytearray()

        async def collect() -> int:
            while (chunk := await session.read()) is not None:
                if len(output) < 65536:
                    output.extend(chunk[1])
            return await session.exit_code()

        try:
            code = await asyncio.wait_for(collect(), timeout)
        except TimeoutError:
            code = -1
        finally:
            await session.close()
        return ExecResult(code, bytes(output))

    async def logs(self, container_id: str, options: LogOptions) -> AsyncIterator[bytes]:
        params: dict[str, Any] = {
            "stdout": 1,
            "stderr": 1,
            "follow": 1 if options.follow else 0,
            "timestamps": 1 if options.timestamps else 0,
            "tail": "all" if options.tail_lines is None else max(options.tail_lines, 0),
        }
        if options.since is not None:
            params["since"] = f"{options.since:.9f}"
        raw = await self._run(self.api.inspect_container, container_id)
        tty = bool((raw.get("Config") or {}).get("Tty"))
        reader, writer = await self.stream.request(
            "GET", f"/containers/{container_id}/logs", params=params
        )
        try:
            async for _, data in read_frames(reader, tty):
                yield data
        finally:
            writer.close()
