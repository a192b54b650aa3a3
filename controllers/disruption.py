"""The Disruption controller: keep each PodDisruptionBudget's status true.

Watches PodDisruptionBudgets, Pods, and the workloads whose size sets a budget's
expectations (ReplicaSets, Deployments, StatefulSets). For one budget, ``reconcile``
computes from the pods its selector matches:

- ``expectedPods``: the number of matching pods for an absolute ``minAvailable``,
  else the summed ``replicas`` of the pods' controllers (a ReplicaSet of a
  Deployment counts as the Deployment);
- ``desiredHealthy``: ``minAvailable`` (a percentage of expectedPods rounds up), or
  ``expectedPods - maxUnavailable``;
- ``currentHealthy``: pods Ready and not being deleted, leaving out those in
  ``disruptedPods`` (the eviction subresource lists a pod there when it lets it go;
  the entry is cleared once the pod is seen deleted, or after two minutes);
- ``disruptionsAllowed = max(currentHealthy - desiredHealthy, 0)``, the
  ``DisruptionAllowed`` condition, and ``observedGeneration``.

The status write is conditional on the budget's resourceVersion, because the
eviction subresource writes the same status (it spends ``disruptionsAllowed``).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from apiclient import Informer, errors
from apitypes.apps import Deployment, ReplicaSet, StatefulSet
from apitypes.core import Pod
from apitypes.meta import Condition
from apitypes.policy import PodDisruptionBudget, PodDisruptionBudgetStatus
from apitypes.registry import by_model
from apitypes.selectors import LabelSelectorExpr, SelectorError, from_label_selector
from controllers.base import Controller, ControllerContext
from controllers.util import controller_of, int_or_percent, set_condition

log = logging.getLogger(__name__)

PDBS = by_model(PodDisruptionBudget)
DELETION_TIMEOUT = timedelta(minutes=2)


class ScaleError(Exception):
    """A pod's controller is unknown: the budget cannot be computed."""


class DisruptionController(Controller):
    name = "disruption-controller"
    service_account = "disruption-controller"
    aliases = ("disruption",)
    workers_option = "concurrent_disruption_syncs"

    def __init__(self, ctx: ControllerContext, workers: int = 5) -> None:
        super().__init__(ctx, workers)
        self.pdbs: Informer[PodDisruptionBudget] = self.factory.informer(PodDisruptionBudget)
        self.pods: Informer[Pod] = self.factory.informer(Pod)
        self.sets: Informer[ReplicaSet] = self.factory.informer(ReplicaSet)
        self.deployments: Informer[Deployment] = self.factory.informer(Deployment)
        self.statefulsets: Informer[StatefulSet] = self.factory.informer(StatefulSet)
        self.pdbs.add_handler(self.enqueue, lambda _old, new: self.enqueue(new), None)
        self.pods.add_handler(self._pod_changed, self._pod_updated, self._pod_changed)
        for informer in (self.sets, self.deployments, self.statefulsets):
            informer.add_handler(None, self._workload_updated, None)

    def _selector(self, pdb: PodDisruptionBudget) -> LabelSelectorExpr | None:
        try:
            return from_label_selector(pdb.spec.selector if pdb.spec else None)
        except SelectorError:
            return None

    def _pod_changed(self, pod: Pod) -> None:
        for pdb in self.pdbs.store.by_index("namespace", pod.metadata.namespace or ""):
            selector = self._selector(pdb)
            if selector is not None and selector.matches(pod.metadata.labels):
                self.enqueue(pdb)

    def _pod_updated(self, old: Pod, new: Pod) -> None:
        if old.metadata.resource_version != new.metadata.resource_version:
            self._pod_changed(new)
            if old.metadata.labels != new.metadata.labels:
                self._pod_changed(old)

    def _workload_updated(self, old: object, new: object) -> None:
        old_spec = getattr(old, "spec", None)
        new_spec = getattr(new, "spec", None)
        if getattr(old_spec, "replicas", None) == getattr(new_spec, "replicas", None):
            return
        namespace = getattr(new, "metadata").namespace or ""  # noqa: B009
        for pdb in self.pdbs.store.by_index("namespace", namespace):
            self.enqueue(pdb)

    # --- reconcile ------------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        pdb = self.pdbs.store.get(key)
        if pdb is None or pdb.spec is None:
            return None
        now = self.clock.now()
        selector = self._selector(pdb)
        namespace = pdb.metadata.namespace or ""
        pods = [
            pod
            for pod in self.pods.store.by_index("namespace", namespace)
            if selector is not None
            and not selector.is_empty()
            and selector.matches(pod.metadata.labels)
        ]
        if selector is not None and selector.is_empty():
            # policy/v1: an empty selector selects every pod of the namespace.
            pods = list(self.pods.store.by_index("namespace", namespace))
        previous = pdb.status or PodDisruptionBudgetStatus()
        by_name = {pod.metadata.name: pod for pod in pods}
        disrupted = {}
        recheck: float | None = None
        for name, when in previous.disrupted_pods.items():
            pod = by_name.get(name)
            if pod is None or pod.metadata.deletion_timestamp is not None:
                continue
            expires = when + DELETION_TIMEOUT
            if expires <= now:
                continue
            disrupted[name] = when
            left = (expires - now).total_seconds()
            recheck = left if recheck is None else min(recheck, left)
        healthy = sum(
            1
            for pod in pods
            if pod.metadata.deletion_timestamp is None
            and pod.metadata.name not in disrupted
            and pod.is_ready()
        )
        try:
            expected, desired = self._expectations(pdb, pods)
        except ScaleError as err:
            status = PodDisruptionBudgetStatus(
                observed_generation=pdb.metadata.generation,
                disrupted_pods=disrupted,
                disruptions_allowed=0,
                current_healthy=healthy,
                desired_healthy=previous.desired_healthy or 0,
                expected_pods=previous.expected_pods or 0,
                conditions=set_condition(
                    list(previous.conditions),
                    Condition(
                        type="DisruptionAllowed",
                        status="False",
                        reason="SyncFailed",
                        message=str(err),
                        last_transition_time=now,
                        observed_generation=pdb.metadata.generation,
                    ),
                ),
            )
            await self._write(pdb, status)
            return 30.0
        allowed = healthy - desired if expected > 0 else 0
        allowed = max(allowed, 0)
        condition = Condition(
            type="DisruptionAllowed",
            status="True" if allowed > 0 else "False",
            reason="SufficientPods" if allowed > 0 else "InsufficientPods",
            message="",
            last_transition_time=now,
            observed_generation=pdb.metadata.generation,
        )
        status = PodDisruptionBudgetStatus(
            observed_generation=pdb.metadata.generation,
            disrupted_pods=disrupted,
            disruptions_allowed=allowed,
            current_healthy=healthy,
            desired_healthy=desired,
            expected_pods=expected,
            conditions=set_condition(list(previous.conditions), condition),
        )
        await self._write(pdb, status)
        return recheck

    def _expectations(self, pdb: PodDisruptionBudget, pods: list[Pod]) -> tuple[int, int]:
        """(expectedPods, desiredHealthy)."""
        assert pdb.spec is not None
        min_available = pdb.spec.min_available
        max_unavailable = pdb.spec.max_unavailable
        if max_unavailable is not None:
            expected = self._expected_scale(pods)
            unavailable = int_or_percent(max_unavailable, expected, round_up=True)
            return expected, max(expected - unavailable, 0)
        if min_available is None:
            return len(pods), 0
        if isinstance(min_available, int):
            return len(pods), min_available
        expected = self._expected_scale(pods)
        return expected, int_or_percent(min_available, expected, round_up=True)

    def _expected_scale(self, pods: list[Pod]) -> int:
        """The summed replicas of the distinct controllers of ``pods``."""
        seen: dict[str, int] = {}
        for pod in pods:
            ref = controller_of(pod)
            if ref is None:
                raise ScaleError(f"found no controllers for pod {pod.metadata.name!r}")
            if ref.uid in seen:
                continue
            namespace = pod.metadata.namespace
            if ref.kind == "ReplicaSet":
                rs = self.sets.store.get_by_name(namespace, ref.name)
                if rs is None or rs.metadata.uid != ref.uid:
                    raise ScaleError(f"controller {ref.kind} {ref.name} not found")
                owner = controller_of(rs)
                if owner is not None and owner.kind == "Deployment":
                    d = self.deployments.store.get_by_name(namespace, owner.name)
                    if d is not None and d.metadata.uid == owner.uid and d.spec is not None:
                        seen[owner.uid] = d.spec.replicas or 0
                        seen[ref.uid] = 0
                        continue
                seen[ref.uid] = (rs.spec.replicas or 0) if rs.spec else 0
            elif ref.kind == "StatefulSet":
                sts = self.statefulsets.store.get_by_name(namespace, ref.name)
                if sts is None or sts.metadata.uid != ref.uid:
                    raise ScaleError(f"controller {ref.kind} {ref.name} not found")
                seen[ref.uid] = (sts.spec.replicas or 0) if sts.spec else 0
            else:
                raise ScaleError(f"pods controlled by a {ref.kind} have no scale")
        return sum(seen.values())

    async def _write(self, pdb: PodDisruptionBudget, status: PodDisruptionBudgetStatus) -> None:
        if pdb.status is not None and pdb.status.to_dict() == status.to_dict():
            return
        body = pdb.to_dict()
        body["status"] = status.to_dict()
        for name in ("disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"):
            body["status"].setdefault(name, 0)
        try:
            await self.client.update_raw(PDBS, body, subresource="status")
        except errors.NotFoundError:
            return
