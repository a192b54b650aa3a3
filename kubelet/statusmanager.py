"""Writes pod statuses to the apiserver, through the ``status`` subresource, only when
they changed.

A status is compared with the pod's status as last seen from the apiserver and with
what this kubelet wrote last; equal to either, nothing is sent. Otherwise a strategic
merge patch from the seen status to the new one is sent, so conditions other writers
own (merged by ``type``) survive a concurrent write.
"""

from __future__ import annotations

import logging

from apiclient import Client, errors
from apitypes.core import Pod, PodStatus
from apitypes.patch import create_two_way_merge_patch

log = logging.getLogger(__name__)


class StatusManager:
    def __init__(self, client: Client) -> None:
        self.client = client
        self._last: dict[str, dict[str, object]] = {}
        self._reported: dict[str, PodStatus] = {}
        self.writes = 0

    def reported(self, uid: str) -> PodStatus | None:
        """The status last written for (or found already on) pod ``uid``; the next one
        starts from it, since the pod as seen may not show that write yet."""
        return self._reported.get(uid)

    async def set(self, target: Pod, status: PodStatus) -> bool:
        """Make ``target`` (the pod object as seen) report ``status``; True if written."""
        uid = target.metadata.uid or ""
        new = status.to_dict()
        if self._last.get(uid) == new:
            return False  # the usual case: the sync after our own write came back
        seen = target.status.to_dict() if target.status is not None else {}
        if new == seen:
            self._reported[uid] = status
            return False
        patch = create_two_way_merge_patch({"status": seen}, {"status": new}, Pod)
        if not patch:
            self._reported[uid] = status
            return False
        try:
            await self.client.patch(
                Pod,
                target.metadata.name or "",
                patch,
                target.metadata.namespace,
                patch_type="strategic",
                subresource="status",
            )
        except errors.NotFoundError:
            return False
        self._last[uid] = new
        self._reported[uid] = status
        self.writes += 1
        return True

    def forget(self, uid: str) -> None:
        self._last.pop(uid, None)
        self._reported.pop(uid, None)
