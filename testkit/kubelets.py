"""Kubelet and hollow-node processes for tests, and waiting on pods.

    kubelet = KubeletProcess.create(apiserver.url, "node-a", tmp_dir, runtime="fake")
    kubelet.start()                      # returns once the Node is Ready
    pod = wait_for_pod(api, ns, "web", running)

Test kubelets run with short periods (relist 0.5 s, resync 2 s, lease renewed every
second, restart back-off from 2 s) so that tests see changes quickly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from apiserver.etcd_server import free_port
from testkit.processes import DaemonProcess, ServingProcess, wait_until
from testkit.testca import server_flags, verify

FAST_FLAGS = (
    "--pleg-relist-period", "0.5s",
    "--sync-frequency", "2s",
    "--node-status-update-frequency", "1s",
    "--node-lease-duration", "4",
    "--crashloop-backoff-base", "2s",
    "--crashloop-backoff-max", "20s",
    "--image-pull-backoff-base", "2s",
    "--file-check-frequency", "1s",
    "--object-cache-ttl", "1s",
)  # fmt: skip

SHARED_POD_NETWORK = ("--pod-network", "navarch0", "--pod-cidr", "10.244.0.0/16")
"""Docker kubelets of tests that run no node IPAM share one pod network with a fixed
subnet (the kubelet's standalone mode): their pods need no podCIDR."""


def node_ready(api_url: str, node: str) -> bool:
    resp = httpx.get(f"{api_url}/api/v1/nodes/{node}", timeout=5, verify=verify(api_url))
    if resp.status_code != 200:
        return False
    for cond in (resp.json().get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return bool(cond.get("status") == "True")
    return False


@dataclass
class KubeletProcess(ServingProcess):
    node_name: str = ""
    api_url: str = ""
    root_dir: Path | None = None

    @classmethod
    def create(
        cls,
        api_url: str,
        node_name: str,
        work_dir: Path,
        *extra: str,
        runtime: str = "docker",
        fast: bool = True,
        node_network: bool = False,
    ) -> KubeletProcess:
        """``node_network``: pods on the node's own bridge for its podCIDR (which a
        controller-manager with ``--allocate-node-cidrs`` must give), not the shared
        ``SHARED_POD_NETWORK``."""
        port = free_port()
        root = work_dir / f"kubelet-{node_name}"
        args = [
            "kubelet",
            "--node-name", node_name,
            *server_flags(api_url),
            "--runtime", runtime,
            "--root-dir", str(root),
            "--port", str(port),
            *(FAST_FLAGS if fast else ()),
            *extra,
        ]  # fmt: skip
        own_network = {"--pod-network", "--pod-cidr", "--pod-network-cidr"} & set(extra)
        if runtime == "docker" and not own_network and not node_network:
            args += SHARED_POD_NETWORK
        return cls(
            args=args,
            log_path=work_dir / f"kubelet-{node_name}.log",
            node_name=node_name,
            port=port,
            api_url=api_url,
            root_dir=root,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        self.wait_for(
            lambda: node_ready(self.api_url, self.node_name),
            timeout,
            interval=0.1,
            what=f"node {self.node_name} Ready",
        )


@dataclass
class HollowNodesProcess(DaemonProcess):
    count: int = 0
    name_prefix: str = ""
    """What the hollow nodes' names start with (``prefix`` is the command's)."""

    @classmethod
    def create(
        cls, api_url: str, count: int, work_dir: Path, prefix: str = "hollow-", *extra: str
    ) -> HollowNodesProcess:
        args = [
            "hollow-nodes",
            "--count", str(count),
            *server_flags(api_url),
            "--name-prefix", prefix,
            *extra,
        ]  # fmt: skip
        return cls(
            args=args,
            log_path=work_dir / f"hollow-{prefix}{count}.log",
            count=count,
            name_prefix=prefix,
        )


# --- pods ----------------------------------------------------------------------------


def running(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running"


def ready(pod: dict[str, Any]) -> bool:
    return condition(pod, "Ready") == "True"


def condition(pod: dict[str, Any], kind: str) -> str | None:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return str(cond.get("status"))
    return None


def container_status(pod: dict[str, Any], name: str) -> dict[str, Any]:
    status = pod.get("status") or {}
    for key in ("containerStatuses", "initContainerStatuses"):
        for entry in status.get(key) or []:
            if entry.get("name") == name:
                return dict(entry)
    return {}


def get_pod(api: httpx.Client, namespace: str, name: str) -> dict[str, Any] | None:
    resp = api.get(f"/api/v1/namespaces/{namespace}/pods/{name}")
    if resp.status_code == 404:
        return None
    resp.raise_for_status()
    body: dict[str, Any] = resp.json()
    return body


def wait_for_pod(
    api: httpx.Client,
    namespace: str,
    name: str,
    predicate: Callable[[dict[str, Any]], bool],
    timeout: float = 60.0,
    what: str = "",
) -> dict[str, Any]:
    """The pod once ``predicate`` holds for it (polled); TimeoutError with its status."""
    last: dict[str, Any] = {}

    def check() -> dict[str, Any] | None:
        nonlocal last
        pod = get_pod(api, namespace, name)
        if pod is None:
            return None
        last = pod
        return pod if predicate(pod) else None

    try:
        result = wait_until(check, timeout, interval=0.1, what=what or f"pod {name}")
    except TimeoutError as err:
        raise TimeoutError(f"{err}; last status: {last.get('status')}") from err
    assert isinstance(result, dict)
    return result


def wait_pod_gone(api: httpx.Client, namespace: str, name: str, timeout: float = 60.0) -> None:
    wait_until(
        lambda: get_pod(api, namespace, name) is None, timeout, interval=0.1, what=f"{name} gone"
    )


def pod_manifest(
    name: str, node: str, containers: list[dict[str, Any]], **spec: Any
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"test": name}},
        "spec": {
            "nodeName": node,
            "terminationGracePeriodSeconds": 2,
            "containers": containers,
            **spec,
        },
    }
