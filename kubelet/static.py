"""Static pods: pods read from a manifest directory, run without the apiserver.

Each ``*.yaml``/``*.yml``/``*.json`` file under ``--pod-manifest-path`` holds a Pod (or
several, as YAML documents or a PodList). The pod is named ``<name>-<node>``, gets a
uid that is a hash of its manifest, its node and its file (so an edited manifest is a
new pod), and the annotations Kubernetes gives static pods. The kubelet runs it like
any other and mirrors it into the apiserver as a *mirror pod* (annotation
``kubernetes.io/config.mirror``), which carries its status; deleting the mirror pod
does not stop the static pod: the kubelet recreates the mirror.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import ValidationError

from apitypes.base import format_time, now
from apitypes.core import Container, Pod, PodSecurityContext, PodSpec, Toleration

log = logging.getLogger(__name__)

CONFIG_HASH = "kubernetes.io/config.hash"
CONFIG_MIRROR = "kubernetes.io/config.mirror"
CONFIG_SOURCE = "kubernetes.io/config.source"
CONFIG_SEEN = "kubernetes.io/config.seen"

_SUFFIXES = (".yaml", ".yml", ".json")


def default_pull_policy(image: str | None) -> str:
    """Always for ``:latest`` or untagged images, else IfNotPresent (Kubernetes' default)."""
    ref = image or ""
    if "@" in ref:
        return "IfNotPresent"
    last = ref.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def _default_container(container: Container) -> None:
    if not container.image_pull_policy:
        container.image_pull_policy = default_pull_policy(container.image)
    if not container.termination_message_path:
        container.termination_message_path = "/dev/termination-log"
    if not container.termination_message_policy:
        container.termination_message_policy = "File"


def default_static_spec(spec: PodSpec) -> None:
    """The defaults the apiserver would have filled in (static pods never pass it)."""
    spec.restart_policy = spec.restart_policy or "Always"
    spec.dns_policy = spec.dns_policy or "ClusterFirst"
    if spec.termination_grace_period_seconds is None:
        spec.termination_grace_period_seconds = 30
    spec.scheduler_name = spec.scheduler_name or "default-scheduler"
    if spec.security_context is None:
        spec.security_context = PodSecurityContext()
    if spec.enable_service_links is None:
        spec.enable_service_links = True
    for container in (*spec.init_containers, *spec.containers):
        _default_container(container)


def static_pod(raw: dict[str, Any], node: str, source: str) -> Pod:
    """A static pod from its manifest: named for the node, uid from its content."""
    pod = Pod.model_validate(raw)
    digest = hashlib.md5(usedforsecurity=False)
    digest.update(orjson.dumps(raw, option=orjson.OPT_SORT_KEYS))
    digest.update(f"host:{node}".encode())
    digest.update(f"file:{source}".encode())
    uid = digest.hexdigest()
    meta = pod.metadata
    meta.name = f"{meta.name}-{node}"
    meta.namespace = meta.namespace or "default"
    meta.uid = uid
    meta.annotations = {
        **meta.annotations,
        CONFIG_HASH: uid,
        CONFIG_SOURCE: "file",
        CONFIG_SEEN: format_time(now()),
    }
    spec = pod.spec or PodSpec()
    pod.spec = spec
    spec.node_name = node
    default_static_spec(spec)
    if not any(
        t.operator == "Exists" and t.effect == "NoExecute" and not t.key for t in spec.tolerations
    ):
        spec.tolerations.append(Toleration(operator="Exists", effect="NoExecute"))
    pod.status = None
    return pod


def _documents(path: Path) -> list[dict[str, Any]]:
    text = path.read_text()
    docs: list[Any]
    if path.suffix == ".json":
        docs = [orjson.loads(text)]
    else:
        docs = [d for d in yaml.safe_load_all(text) if d]
    out: list[dict[str, Any]] = []
    for doc in docs:
        if not isinstance(doc, dict):
            raise ValueError("a manifest must be a mapping")
        if doc.get("kind") == "PodList":
            out.extend(doc.get("items") or [])
        elif doc.get("kind", "Pod") == "Pod":
            out.append(doc)
        else:
            raise ValueError(f"a static pod manifest holds Pods, not {doc.get('kind')}")
    return out


def read_manifests(directory: Path, node: str) -> dict[str, Pod]:
    """Every valid static pod under ``directory``, by uid (bad files are logged)."""
    pods: dict[str, Pod] = {}
    if not directory.is_dir():
        return pods
    for path in sorted(directory.iterdir()):
        if path.name.startswith(".") or path.suffix not in _SUFFIXES or not path.is_file():
            continue
        try:
            for raw in _documents(path):
                if not (raw.get("metadata") or {}).get("name"):
                    raise ValueError("metadata.name is required")
                pod = static_pod(raw, node, str(path))
                pods[pod.metadata.uid or ""] = pod
        except (OSError, ValueError, yaml.YAMLError, ValidationError) as err:
            log.warning("static pod manifest %s is invalid: %s", path, err)
    return pods


class StaticPodSource:
    """Rescans the manifest directory every ``period`` seconds; reports the pod set."""

    def __init__(
        self, directory: Path, node: str, on_update: Callable[[dict[str, Pod]], None]
    ) -> None:
        self.directory = directory
        self.node = node
        self.on_update = on_update
        self.pods: dict[str, Pod] = {}
        self.scanned = False

    def scan(self) -> None:
        fresh = read_manifests(self.directory, self.node)
        # Keep the objects of pods that did not change (their ``config.seen`` stays).
        merged = {uid: self.pods.get(uid, pod) for uid, pod in fresh.items()}
        changed = set(merged) != set(self.pods) or not self.scanned
        self.pods = merged
        self.scanned = True
        if changed:
            self.on_update(dict(merged))

    async def run(self, period: float) -> None:
        while True:
            try:
                self.scan()
            except Exception:
                log.exception("scanning %s failed", self.directory)
            await asyncio.sleep(period)


def mirror_pod(static: Pod, node_uid: str | None) -> Pod:
    """The mirror of ``static`` to create in the apiserver."""
    mirror = Pod.model_validate(static.to_dict())
    meta = mirror.metadata
    meta.uid = None
    meta.resource_version = None
    meta.annotations = {**meta.annotations, CONFIG_MIRROR: static.metadata.uid or ""}
    if node_uid:
        from apitypes.meta import OwnerReference

        meta.owner_references = [
            OwnerReference(
                api_version="v1",
                kind="Node",
                name=(static.spec.node_name if static.spec else None) or "",
                uid=node_uid,
                controller=False,
            )
        ]
    mirror.status = None
    return mirror


def is_mirror(pod: Pod) -> bool:
    return CONFIG_MIRROR in pod.metadata.annotations
