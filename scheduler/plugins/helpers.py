"""Per-pod memos of the placement rules that several plugins share.

The rules themselves (node selectors and affinity, taints and tolerations) are
:mod:`apitypes.scheduling`'s; here a pod's compiled required node affinity is kept on
its ``PodInfo`` so that it is compiled once per pod version, not once per node.
"""

from __future__ import annotations

from apitypes import scheduling
from apitypes.scheduling import RequiredNodeAffinity
from scheduler.podinfo import PodInfo


def required_node_affinity(pod: PodInfo) -> RequiredNodeAffinity:
    """The pod's node selector and required node affinity, compiled (memoised)."""
    cached = pod.memo.get("required_node_affinity")
    if cached is not None:
        return cached
    result = scheduling.required_node_affinity(pod.pod.spec)
    pod.memo["required_node_affinity"] = result
    return result
