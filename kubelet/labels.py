"""The labels every container the kubelet creates carries, and the names it gives them.

Labels are the kubelet's memory: after a restart it rebuilds everything it needs to
know about a container (whose pod, which container of the spec, which restart, which
spec version) from them alone, and tests clean up after themselves by selecting on
them. Names follow the old dockershim convention so that ``docker ps`` reads naturally.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

import orjson

from apitypes.core import Container

MANAGED: Final = "io.navarch.managed"
"""``"true"`` on every container (and the pause image) navarch creates."""
NODE: Final = "io.navarch.node"
POD_UID: Final = "io.navarch.pod.uid"
POD_NAME: Final = "io.navarch.pod.name"
POD_NAMESPACE: Final = "io.navarch.pod.namespace"
CONTAINER_NAME: Final = "io.navarch.container.name"
CONTAINER_KIND: Final = "io.navarch.container.kind"
"""``sandbox``, ``init`` or ``app``."""
CONTAINER_HASH: Final = "io.navarch.container.hash"
"""Hash of the container's spec: a different hash means the spec changed (restart)."""
RESTART_COUNT: Final = "io.navarch.container.restart-count"
SANDBOX_ATTEMPT: Final = "io.navarch.sandbox.attempt"
GRACE_PERIOD: Final = "io.navarch.pod.termination-grace-period"
"""The pod's grace period, so an orphan (pod gone from the API) is stopped as it asked."""
TERMINATION_MESSAGE: Final = "io.navarch.container.termination-message"
"""Host path of the file mounted at the container's ``terminationMessagePath``."""

KIND_SANDBOX: Final = "sandbox"
KIND_INIT: Final = "init"
KIND_APP: Final = "app"

SANDBOX_CONTAINER_NAME: Final = "POD"

_UNSAFE = re.compile(r"[^a-zA-Z0-9_.-]")


def container_hash(container: Container) -> str:
    """A stable hash of a container's spec (what must match for it to keep running)."""
    body = orjson.dumps(container.to_dict(), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()[:16]


def docker_name(kind: str, container: str, pod: str, namespace: str, uid: str, n: int) -> str:
    """``k8s_<container>_<pod>_<namespace>_<uid>_<n>`` (``POD`` for the sandbox)."""
    name = SANDBOX_CONTAINER_NAME if kind == KIND_SANDBOX else container
    return _UNSAFE.sub("-", f"k8s_{name}_{pod}_{namespace}_{uid}_{n}")


def node_selector(node: str) -> list[str]:
    """Docker label filters that select every container of ``node``."""
    return [f"{MANAGED}=true", f"{NODE}={node}"]
