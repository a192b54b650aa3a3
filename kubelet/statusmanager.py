"""Writes pod statuses to the apiserver, through the ``status`` subresource, so that
the apiserver's copy always ends up equal to what the kubelet computed.

The apiserver holds, for each pod, the status of the newest write to it: ours, or
another writer's (the node lifecycle controller marking pods not Ready, a client
patching a condition, an etcd restore). Which one is newer is decided by the pod's
``resourceVersion`` (an etcd revision here, so ordered):

- the pod as seen (the informer's copy) is at or below the version our last write
  produced: the informer has not caught up with that write, so the apiserver holds
  our last status. Equal to the new one, nothing is sent; otherwise the patch is
  computed from our last status, not from the stale copy (a patch from a stale base
  leaves out fields that the stale copy happens to share with the new status, and
  the apiserver keeps what our last write said for them);
- the pod as seen is newer than our last write (or we wrote nothing yet): it is the
  apiserver's copy. Equal to the new status, nothing is sent; otherwise the patch
  goes from it to the new status. This is also how drift is corrected: another
  writer's change arrives as a newer pod, and the next sync writes ours back.

Patches are strategic merge patches, so conditions other writers own (merged by
``type``) survive a concurrent write. ``stale`` lets the kubelet find pods whose copy
disagrees with our last write (as Kubernetes' status manager reconciles every 10 s),
including writes the apiserver lost, so that every change reaches it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from apiclient import Client, errors
from apitypes.core import Pod, PodStatus
from apitypes.patch import create_two_way_merge_patch

log = logging.getLogger(__name__)

LOST_WRITE_AFTER = 10.0
"""Seconds after which a pod copy that still does not show our write (and is not newer
than it) means the write was lost: the apiserver's data went back in time."""


def resource_version(pod: Pod) -> int:
    """The pod's resourceVersion as a number; 0 when absent or not a number."""
    text = pod.metadata.resource_version or ""
    return int(text) if text.isdigit() else 0


@dataclass
class _Write:
    status: dict[str, object]
    """The status we last sent, as on the wire."""
    version: int
    """The resourceVersion of the pod our write produced."""
    at: float
    """When it was written (the manager's clock)."""


class StatusManager:
    def __init__(self, client: Client, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.clock = clock
        self._last: dict[str, _Write] = {}
        self._reported: dict[str, PodStatus] = {}
        self.writes = 0

    def reported(self, uid: str) -> PodStatus | None:
        """The status last written for (or found already on) pod ``uid``; the next one
        starts from it, since the pod as seen may not show that write yet."""
        return self._reported.get(uid)

    def _base(self, uid: str, target: Pod) -> dict[str, object] | None:
        """The status the apiserver holds for ``target`` as far as we know; None when
        it is the pod as seen (serialised lazily: the common case needs no dict)."""
        last = self._last.get(uid)
        if last is not None and resource_version(target) <= last.version:
            return last.status
        return None

    async def set(self, target: Pod, status: PodStatus) -> bool:
        """Make the apiserver's copy of ``target`` (the pod object as seen) report
        ``status``; True if a write was sent."""
        uid = target.metadata.uid or ""
        new = status.to_dict()
        base = self._base(uid, target)
        if base is None:
            base = target.status.to_dict() if target.status is not None else {}
        if base == new:
            self._reported[uid] = status
            return False
        patch = create_two_way_merge_patch({"status": base}, {"status": new}, Pod)
        if not patch:
            self._reported[uid] = status
            return False
        try:
            written = await self.client.patch(
                Pod,
                target.metadata.name or "",
                patch,
                target.metadata.namespace,
                patch_type="strategic",
                subresource="status",
            )
        except errors.NotFoundError:
            return False
        self._last[uid] = _Write(new, resource_version(written), self.clock())
        self._reported[uid] = status
        self.writes += 1
        return True

    def stale(self, pod: Pod) -> bool:
        """Whether ``pod`` (as seen) disagrees with our last write in a way the next
        ``set`` must repair: a newer copy with another status (drift), or a copy that
        has not shown our write for ``LOST_WRITE_AFTER`` seconds (a lost write, which
        is then forgotten so that the next ``set`` starts from the copy)."""
        uid = pod.metadata.uid or ""
        last = self._last.get(uid)
        if last is None:
            return False
        seen = pod.status.to_dict() if pod.status is not None else {}
        if seen == last.status:
            return False
        if resource_version(pod) > last.version:
            return True
        if self.clock() - last.at >= LOST_WRITE_AFTER:
            log.warning(
                "pod %s/%s: the apiserver does not show our status write of version %d "
                "(it shows %s); writing it again",
                pod.metadata.namespace,
                pod.metadata.name,
                last.version,
                pod.metadata.resource_version,
            )
            del self._last[uid]
            return True
        return False

    def forget(self, uid: str) -> None:
        self._last.pop(uid, None)
        self._reported.pop(uid, None)
