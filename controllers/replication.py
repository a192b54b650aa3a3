"""The ReplicationController controller (Kubernetes' ``ReplicationManager``).

A ReplicationController is a ReplicaSet whose selector is a map of labels every pod
must carry (equality-based), so, as in Kubernetes, the ReplicaSet controller's logic
runs it unchanged (``ReplicatedPodsController``): claims, slow-start creates,
least-valuable-first deletes, expectations, status and the ``ReplicaFailure``
condition. Only the kind, its status types and the selector differ.
"""

from __future__ import annotations

from apitypes.core import (
    ReplicationController,
    ReplicationControllerCondition,
    ReplicationControllerStatus,
)
from apitypes.selectors import LabelSelectorExpr, selector_from_set
from controllers.replicaset import ReplicatedPodsController


class ReplicationManager(ReplicatedPodsController[ReplicationController]):
    name = "replicationcontroller-controller"
    service_account = "replication-controller"
    aliases = ("replicationcontroller",)
    workers_option = "concurrent_rc_syncs"
    kind = ReplicationController
    status_type = ReplicationControllerStatus
    condition_type = ReplicationControllerCondition

    def selector(self, owner: ReplicationController) -> LabelSelectorExpr | None:
        # An empty map would select every pod: validation refuses one, and a
        # controller must never act on it.
        labels = owner.spec.selector if owner.spec else {}
        return selector_from_set(labels) if labels else None
