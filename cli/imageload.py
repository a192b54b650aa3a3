"""``navarch image load``: copy images from the host's Docker Engine into the engines of
the compose cluster's nodes, as ``kind load docker-image`` does.

Each image is saved once (``docker save``) and streamed into every node container's
own engine (``docker exec -i <node> docker load``). The nodes are the running
containers labelled ``io.navarch.compose=node`` of the compose project (default
``navarch``, as ``deploy/.env`` names it).

A loaded image only helps a pod that does not pull: Kubernetes pulls an image tagged
``:latest`` (or untagged) by default, and always with ``imagePullPolicy: Always``. No
registry answers here, so such a pod fails with ``ErrImagePull``; ``warnings`` says so,
naming the pods of the cluster that would.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

COMPOSE_PROJECT_LABEL = "com.docker.compose.project"
COMPOSE_SERVICE_LABEL = "com.docker.compose.service"
ROLE_LABEL = "io.navarch.compose"


class LoadError(Exception):
    """An image or a node is missing, or a copy failed; the message says which."""


@dataclass(frozen=True)
class NodeContainer:
    container: str
    """The container's name on the host."""
    node: str
    """Its compose service (``node-1``), which is also the Node's name."""


def _docker(*args: str, stdin: Any = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["docker", *args], stdin=stdin, capture_output=True, check=False)


def node_containers(project: str, wanted: Iterable[str] = ()) -> list[NodeContainer]:
    """The running node containers of ``project``, only those named in ``wanted`` if any."""
    out = _docker(
        "ps",
        "--filter", f"label={COMPOSE_PROJECT_LABEL}={project}",
        "--filter", f"label={ROLE_LABEL}=node",
        "--format", f'{{{{.Names}}}} {{{{.Label "{COMPOSE_SERVICE_LABEL}"}}}}',
    )  # fmt: skip
    if out.returncode != 0:
        raise LoadError(f"docker ps failed: {out.stderr.decode().strip()}")
    found = []
    for line in out.stdout.decode().splitlines():
        name, _, service = line.partition(" ")
        found.append(NodeContainer(container=name, node=service or name))
    found.sort(key=lambda n: n.node)
    wanted = list(wanted)
    if wanted:
        missing = sorted(set(wanted) - {n.node for n in found})
        if missing:
            raise LoadError(
                f"no running node {', '.join(missing)} in compose project {project!r} "
                f"(running: {', '.join(n.node for n in found) or 'none'})"
            )
        found = [n for n in found if n.node in wanted]
    if not found:
        raise LoadError(
            f"no running node containers in compose project {project!r} "
            "(start the cluster with make compose-up)"
        )
    return found


def load(
    images: list[str], nodes: list[NodeContainer], echo: Callable[[str], None] = print
) -> None:
    """Copy every image into every node's engine; raise ``LoadError`` on the first failure."""
    for image in images:
        if _docker("image", "inspect", image).returncode != 0:
            raise LoadError(f"image {image} is not in the host's Docker Engine")
    with tempfile.TemporaryFile() as archive:
        saved = subprocess.run(
            ["docker", "save", *images], stdout=archive, stderr=subprocess.PIPE, check=False
        )
        if saved.returncode != 0:
            raise LoadError(f"docker save failed: {saved.stderr.decode().strip()}")
        for node in nodes:
            archive.seek(0)
            done = _docker("exec", "-i", node.container, "docker", "load", "-q", stdin=archive)
            if done.returncode != 0:
                raise LoadError(f"loading into {node.node} failed: {done.stderr.decode().strip()}")
            echo(f"{node.node}: loaded {', '.join(images)}")


def pulls_by_default(image: str) -> bool:
    """Whether Kubernetes defaults ``imagePullPolicy`` to Always for ``image``: its tag
    is ``latest`` or it has none (and no digest)."""
    if "@" in image:
        return False
    last = image.rsplit("/", 1)[-1]
    return ":" not in last or last.endswith(":latest")


def _same_image(a: str, b: str) -> bool:
    def norm(ref: str) -> str:
        for prefix in ("docker.io/library/", "docker.io/"):
            if ref.startswith(prefix):
                ref = ref[len(prefix) :]
        return ref if ":" in ref.rsplit("/", 1)[-1] or "@" in ref else f"{ref}:latest"

    return norm(a) == norm(b)


def warnings(images: list[str], pods: list[dict[str, Any]]) -> list[str]:
    """What to tell the user: images a pod would still pull, and the pods that would."""
    found = []
    for image in images:
        if pulls_by_default(image):
            found.append(
                f"warning: {image} is tagged ':latest' (or untagged): a container that does "
                "not set imagePullPolicy pulls it anyway, and no registry answers here. "
                "Use another tag, or set imagePullPolicy: IfNotPresent or Never."
            )
    for pod in pods:
        meta = pod.get("metadata") or {}
        spec = pod.get("spec") or {}
        for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            if c.get("imagePullPolicy") == "Always" and any(
                _same_image(c.get("image", ""), i) for i in images
            ):
                found.append(
                    f"warning: pod {meta.get('namespace')}/{meta.get('name')} container "
                    f"{c.get('name')} has imagePullPolicy: Always and will still try to pull "
                    f"{c.get('image')}"
                )
    return found
