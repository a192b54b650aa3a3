"""The pods a kubelet should run, merged from its sources (Kubernetes' pod manager).

Pods bound to the node come from the apiserver (through a ``PodSource``), static pods
from the manifest directory; a static pod's mirror (its read-only reflection in the
apiserver) is kept apart, by namespace and name. Every change puts the uid of the pod
it concerns on the work queue, through ``enqueue``.
"""

from __future__ import annotations

from collections.abc import Callable

from apitypes.core import Pod
from kubelet.sources import PodHandler
from kubelet.static import CONFIG_MIRROR, is_mirror


class PodManager:
    def __init__(self, enqueue: Callable[[str], None]) -> None:
        self.enqueue = enqueue
        self.api_pods: dict[str, Pod] = {}
        self.static_pods: dict[str, Pod] = {}
        self.mirrors: dict[tuple[str, str], Pod] = {}

    def handler(self) -> PodHandler:
        return PodHandler(self.on_pod, self.on_pod_deleted)

    def on_pod(self, pod: Pod) -> None:
        meta = pod.metadata
        if is_mirror(pod):
            key = (meta.namespace or "", meta.name or "")
            self.mirrors[key] = pod
            self.enqueue(meta.annotations[CONFIG_MIRROR])
            return
        uid = meta.uid or ""
        self.api_pods[uid] = pod
        self.enqueue(uid)

    def on_pod_deleted(self, pod: Pod) -> None:
        meta = pod.metadata
        if is_mirror(pod):
            key = (meta.namespace or "", meta.name or "")
            current = self.mirrors.get(key)
            if current is not None and current.metadata.uid == meta.uid:
                del self.mirrors[key]
            self.enqueue(meta.annotations[CONFIG_MIRROR])
            return
        uid = meta.uid or ""
        self.api_pods.pop(uid, None)
        self.enqueue(uid)

    def on_static(self, pods: dict[str, Pod]) -> None:
        before = set(self.static_pods)
        self.static_pods = pods
        for uid in before | set(pods):
            self.enqueue(uid)

    def desired(self, uid: str) -> Pod | None:
        return self.static_pods.get(uid) or self.api_pods.get(uid)

    def pods(self) -> list[Pod]:
        return [*self.static_pods.values(), *self.api_pods.values()]

    def find(self, namespace: str, name: str) -> Pod | None:
        for pod in self.pods():
            meta = pod.metadata
            if meta.name == name and (meta.namespace or "default") == namespace:
                return pod
        return None
