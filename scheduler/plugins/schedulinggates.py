"""SchedulingGates: a pod with ``spec.schedulingGates`` waits, outside the active queue,
until every gate is removed."""

from __future__ import annotations

from scheduler.framework import PreEnqueuePlugin, Status, unschedulable
from scheduler.podinfo import PodInfo

NAME = "SchedulingGates"


class SchedulingGates(PreEnqueuePlugin):
    name = NAME

    def pre_enqueue(self, pod: PodInfo) -> Status | None:
        if not pod.gated:
            return None
        spec = pod.pod.spec
        gates = [g.name for g in spec.scheduling_gates] if spec else []
        return unschedulable(f"waiting for scheduling gates: [{' '.join(gates)}]", resolvable=False)
