"""Matching shared by several plugins: node affinity (memoised), tolerations.

The node affinity rules are :mod:`apitypes.scheduling`'s; here a pod's compiled
required node affinity is kept on its ``PodInfo`` so that it is compiled once per pod
version, not once per node.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from apitypes import scheduling
from apitypes.core import Taint, Toleration
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


def first_untolerated(taints: Iterable[Taint], tolerations: Sequence[Toleration]) -> Taint | None:
    """The first taint none of ``tolerations`` tolerates, if any."""
    for taint in taints:
        if not any(t.tolerates(taint) for t in tolerations):
            return taint
    return None


def tolerates(tolerations: Sequence[Toleration], taint: Taint) -> bool:
    return any(t.tolerates(taint) for t in tolerations)
