"""The arithmetic of Deployments, kept pure so that it can be tested on its own.

Shapes and rules follow Kubernetes' ``pkg/controller/deployment/util``: revisions live
in the ``deployment.kubernetes.io/revision`` annotation of each ReplicaSet; a
ReplicaSet is "new" when its template equals the Deployment's ignoring the
``pod-template-hash`` label; ``maxSurge`` rounds up and ``maxUnavailable`` rounds
down, and both zero means one unavailable; scaling a Deployment mid-rollout spreads
the change over its ReplicaSets in proportion to their size.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from apitypes.apps import (
    POD_TEMPLATE_HASH_LABEL,
    Deployment,
    DeploymentCondition,
    DeploymentStatus,
    ReplicaSet,
)
from apitypes.core import PodTemplateSpec
from controllers.util import compute_hash, int_or_percent, normalized

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ROLLBACK_TO = "deprecated.deployment.rollback.to"
ANNOTATIONS_TO_SKIP = frozenset(
    {LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS, ROLLBACK_TO}
)
REVISION_HISTORY_LIMIT_CHARS = 2000

PROGRESSING = "Progressing"
AVAILABLE = "Available"
REPLICA_FAILURE = "ReplicaFailure"

REPLICA_SET_UPDATED = "ReplicaSetUpdated"
FAILED_RS_CREATE = "ReplicaSetCreateError"
NEW_REPLICA_SET = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MINIMUM_AVAILABLE = "MinimumReplicasAvailable"
MINIMUM_UNAVAILABLE = "MinimumReplicasUnavailable"

MAX_INT32 = 2**31 - 1


# --- counts -------------------------------------------------------------------------------


def replicas(d: Deployment) -> int:
    return d.spec.replicas if d.spec is not None and d.spec.replicas is not None else 1


def rs_replicas(rs: ReplicaSet | None) -> int:
    if rs is None or rs.spec is None:
        return 0
    return rs.spec.replicas if rs.spec.replicas is not None else 1


def rs_status(rs: ReplicaSet | None, field: str) -> int:
    if rs is None or rs.status is None:
        return 0
    return int(getattr(rs.status, field) or 0)


def total_spec(rss: Sequence[ReplicaSet | None]) -> int:
    return sum(rs_replicas(rs) for rs in rss)


def total_status(rss: Sequence[ReplicaSet | None], field: str) -> int:
    return sum(rs_status(rs, field) for rs in rss)


def is_rolling(d: Deployment) -> bool:
    strategy = d.spec.strategy if d.spec is not None else None
    return strategy is None or strategy.type in (None, "RollingUpdate")


def resolve_fenceposts(
    max_surge: int | str | None, max_unavailable: int | str | None, desired: int
) -> tuple[int, int]:
    """(surge, unavailable) as pod counts: surge rounds up, unavailable down; never both 0."""
    surge = int_or_percent(max_surge, desired, round_up=True)
    unavailable = int_or_percent(max_unavailable, desired, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _fenceposts(d: Deployment) -> tuple[int, int]:
    rolling = d.spec.strategy.rolling_update if d.spec and d.spec.strategy else None
    surge = rolling.max_surge if rolling is not None else "25%"
    unavailable = rolling.max_unavailable if rolling is not None else "25%"
    return resolve_fenceposts(surge, unavailable, replicas(d))


def max_surge(d: Deployment) -> int:
    if not is_rolling(d):
        return 0
    return _fenceposts(d)[0]


def max_unavailable(d: Deployment) -> int:
    if not is_rolling(d) or replicas(d) == 0:
        return 0
    return min(_fenceposts(d)[1], replicas(d))


def min_available(d: Deployment) -> int:
    if not is_rolling(d):
        return 0
    return replicas(d) - max_unavailable(d)


# --- revisions and templates ------------------------------------------------------------------


def revision_of(obj: ReplicaSet | Deployment) -> int | None:
    """The revision annotation as a number; None when absent or not a number."""
    text = obj.metadata.annotations.get(REVISION)
    if text is None:
        return 0
    try:
        return int(text)
    except ValueError:
        return None


def max_revision(rss: Sequence[ReplicaSet]) -> int:
    return max((rev for rs in rss if (rev := revision_of(rs)) is not None), default=0)


def template_without_hash(template: PodTemplateSpec | None) -> dict[str, object]:
    body = template.to_dict() if template is not None else {}
    labels = (body.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(POD_TEMPLATE_HASH_LABEL, None)
    result: dict[str, object] = normalized(body)
    return result


def equal_ignore_hash(a: PodTemplateSpec | None, b: PodTemplateSpec | None) -> bool:
    """Templates equal but for ``pod-template-hash`` (and empty versus absent fields)."""
    return template_without_hash(a) == template_without_hash(b)


def pod_template_hash(template: PodTemplateSpec, collision_count: int | None) -> str:
    return compute_hash(template_without_hash(template), collision_count)


def _by_creation(rs: ReplicaSet) -> tuple[float, str]:
    created = rs.metadata.creation_timestamp
    return (created.timestamp() if created is not None else 0.0, rs.metadata.name or "")


def sort_by_creation(rss: Sequence[ReplicaSet]) -> list[ReplicaSet]:
    return sorted(rss, key=_by_creation)


def find_new_rs(d: Deployment, rss: Sequence[ReplicaSet]) -> ReplicaSet | None:
    """The oldest ReplicaSet whose template is the Deployment's."""
    template = d.spec.template if d.spec else None
    wanted = template_without_hash(template)
    for rs in sort_by_creation(rss):
        if rs.spec is not None and template_without_hash(rs.spec.template) == wanted:
            return rs
    return None


def find_old_rss(
    rss: Sequence[ReplicaSet], new_rs: ReplicaSet | None
) -> tuple[list[ReplicaSet], list[ReplicaSet]]:
    """(old ReplicaSets with replicas, every old ReplicaSet)."""
    olds = [rs for rs in rss if new_rs is None or rs.metadata.uid != new_rs.metadata.uid]
    return [rs for rs in olds if rs_replicas(rs) != 0], olds


def active_rss(rss: Sequence[ReplicaSet | None]) -> list[ReplicaSet]:
    return [rs for rs in rss if rs is not None and rs_replicas(rs) > 0]


def find_active_or_latest(
    new_rs: ReplicaSet | None, olds: Sequence[ReplicaSet]
) -> ReplicaSet | None:
    """The only active ReplicaSet, or the newest one if none is active; None when several are."""
    if new_rs is None and not olds:
        return None
    ordered = sorted(olds, key=_by_creation, reverse=True)
    active = active_rss([*ordered, new_rs])
    if not active:
        return new_rs if new_rs is not None else ordered[0]
    if len(active) == 1:
        return active[0]
    return None


# --- annotations --------------------------------------------------------------------------


def annotation_int(rs: ReplicaSet, key: str) -> int | None:
    try:
        return int(rs.metadata.annotations[key])
    except (KeyError, ValueError):
        return None


def set_replicas_annotations(rs: ReplicaSet, desired: int, maximum: int) -> bool:
    annotations = rs.metadata.annotations
    changed = False
    for key, value in ((DESIRED_REPLICAS, str(desired)), (MAX_REPLICAS, str(maximum))):
        if annotations.get(key) != value:
            annotations[key] = value
            changed = True
    return changed


def copy_deployment_annotations(d: Deployment, rs: ReplicaSet) -> bool:
    changed = False
    for key, value in d.metadata.annotations.items():
        if key in ANNOTATIONS_TO_SKIP or rs.metadata.annotations.get(key) == value:
            continue
        rs.metadata.annotations[key] = value
        changed = True
    return changed


def set_new_rs_annotations(d: Deployment, rs: ReplicaSet, new_revision: int, exists: bool) -> bool:
    """Bring the new ReplicaSet's annotations up to date; True when they changed.

    A ReplicaSet that gets a higher revision than it had (a rollback to it) remembers
    its earlier revisions in ``revision-history``.
    """
    changed = copy_deployment_annotations(d, rs)
    annotations = rs.metadata.annotations
    old_text = annotations.get(REVISION)
    try:
        old = int(old_text) if old_text else 0
    except ValueError:
        return changed
    if old < new_revision:
        annotations[REVISION] = str(new_revision)
        changed = True
        if old_text:
            history = [h for h in annotations.get(REVISION_HISTORY, "").split(",") if h]
            history.append(old_text)
            while history and len(",".join(history)) > REVISION_HISTORY_LIMIT_CHARS:
                history.pop(0)
            annotations[REVISION_HISTORY] = ",".join(history)
    if not exists and set_replicas_annotations(rs, replicas(d), replicas(d) + max_surge(d)):
        changed = True
    return changed


def set_deployment_revision(d: Deployment, revision: str) -> bool:
    if d.metadata.annotations.get(REVISION) == revision:
        return False
    d.metadata.annotations[REVISION] = revision
    return True


# --- scaling --------------------------------------------------------------------------------


def new_rs_new_replicas(
    d: Deployment,
    all_rss: Sequence[ReplicaSet],
    new_rs: ReplicaSet,
    current_pods: int | None = None,
) -> int:
    """How big the new ReplicaSet may be now.

    RollingUpdate: grow it until all ReplicaSets together reach ``replicas + maxSurge``.
    ``current_pods`` may raise the count of existing pods above the ReplicaSets' sizes
    (pods of a ReplicaSet that was scaled down but whose deletion has not been seen yet),
    so that the surge bound holds for pods and not only for sizes. Recreate: all of them.
    """
    if not is_rolling(d):
        return replicas(d)
    current = total_spec(all_rss)
    if current_pods is not None:
        current = max(current, current_pods)
    allowed = replicas(d) + max_surge(d)
    if current >= allowed:
        return rs_replicas(new_rs)
    grow = min(allowed - current, replicas(d) - rs_replicas(new_rs))
    return rs_replicas(new_rs) + max(grow, 0)


def is_saturated(d: Deployment, rs: ReplicaSet | None) -> bool:
    if rs is None:
        return False
    desired = annotation_int(rs, DESIRED_REPLICAS)
    return (
        rs_replicas(rs) == replicas(d)
        and desired == replicas(d)
        and rs_status(rs, "available_replicas") == replicas(d)
    )


def replica_set_fraction(rs: ReplicaSet, d: Deployment) -> int:
    """How much ``rs`` should grow (or shrink, negative) when the Deployment is resized."""
    if replicas(d) == 0:
        return -rs_replicas(rs)
    deployment_max = replicas(d) + max_surge(d)
    annotated = annotation_int(rs, MAX_REPLICAS)
    if annotated is None:
        annotated = d.status.replicas if d.status and d.status.replicas else 0
    if annotated == 0:
        return 0
    size = rs_replicas(rs) * deployment_max / annotated
    return int(size + 0.5) - rs_replicas(rs)


def proportion(rs: ReplicaSet, d: Deployment, to_add: int, added: int) -> int:
    if rs_replicas(rs) == 0 or to_add in (0, added):
        return 0
    fraction = replica_set_fraction(rs, d)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def proportional_sizes(d: Deployment, rss: Sequence[ReplicaSet]) -> dict[str, int]:
    """New sizes of the active ReplicaSets when a RollingUpdate Deployment is resized."""
    active = active_rss(rss)
    current = total_spec(active)
    allowed = replicas(d) + max_surge(d) if replicas(d) > 0 else 0
    to_add = allowed - current
    if to_add > 0:
        # Bigger first; for equal sizes the newer grows first.
        ordered = sorted(active, key=lambda rs: (-rs_replicas(rs), -_by_creation(rs)[0]))
    else:
        ordered = sorted(active, key=lambda rs: (-rs_replicas(rs), _by_creation(rs)[0]))
    sizes: dict[str, int] = {}
    added = 0
    for rs in ordered:
        name = rs.metadata.name or ""
        if to_add != 0:
            step = proportion(rs, d, to_add, added)
            sizes[name] = rs_replicas(rs) + step
            added += step
        else:
            sizes[name] = rs_replicas(rs)
    if ordered and to_add != 0:
        first = ordered[0].metadata.name or ""
        sizes[first] = max(sizes[first] + to_add - added, 0)
    return sizes


# --- status and conditions -------------------------------------------------------------------


def get_condition(status: DeploymentStatus | None, kind: str) -> DeploymentCondition | None:
    if status is None:
        return None
    for cond in status.conditions:
        if cond.type == kind:
            return cond
    return None


def new_condition(
    kind: str, status: str, reason: str, message: str, now: datetime
) -> DeploymentCondition:
    return DeploymentCondition(
        type=kind,
        status=status,
        reason=reason,
        message=message,
        last_update_time=now,
        last_transition_time=now,
    )


def set_condition(status: DeploymentStatus, cond: DeploymentCondition) -> None:
    """Kubernetes' ``SetDeploymentCondition``: same status and reason changes nothing;
    same status keeps the transition time."""
    current = get_condition(status, cond.type or "")
    if current is not None and current.status == cond.status and current.reason == cond.reason:
        return
    if current is not None and current.status == cond.status:
        cond.last_transition_time = current.last_transition_time
    status.conditions = [c for c in status.conditions if c.type != cond.type] + [cond]


def remove_condition(status: DeploymentStatus, kind: str) -> None:
    status.conditions = [c for c in status.conditions if c.type != kind]


def has_progress_deadline(d: Deployment) -> bool:
    deadline = d.spec.progress_deadline_seconds if d.spec else None
    return deadline is not None and deadline != MAX_INT32


def calculate_status(
    all_rss: Sequence[ReplicaSet], new_rs: ReplicaSet | None, d: Deployment, now: datetime
) -> DeploymentStatus:
    """The Deployment's status from its ReplicaSets' (replicas count pods, not sizes)."""
    available = total_status(all_rss, "available_replicas")
    previous = d.status or DeploymentStatus()
    status = DeploymentStatus(
        observed_generation=d.metadata.generation,
        replicas=total_status(all_rss, "replicas"),
        updated_replicas=rs_status(new_rs, "replicas"),
        ready_replicas=total_status(all_rss, "ready_replicas"),
        available_replicas=available,
        unavailable_replicas=max(replicas(d) - available, 0),
        collision_count=previous.collision_count,
        conditions=[c.model_copy() for c in previous.conditions],
    )
    if available >= replicas(d) - max_unavailable(d):
        cond = new_condition(
            AVAILABLE, "True", MINIMUM_AVAILABLE, "Deployment has minimum availability.", now
        )
    else:
        cond = new_condition(
            AVAILABLE,
            "False",
            MINIMUM_UNAVAILABLE,
            "Deployment does not have minimum availability.",
            now,
        )
    set_condition(status, cond)
    return status


def deployment_complete(d: Deployment, status: DeploymentStatus) -> bool:
    wanted = replicas(d)
    return (
        (status.updated_replicas or 0) == wanted
        and (status.replicas or 0) == wanted
        and (status.available_replicas or 0) == wanted
        and (status.observed_generation or 0) >= (d.metadata.generation or 0)
    )


def deployment_progressing(d: Deployment, status: DeploymentStatus) -> bool:
    old = d.status or DeploymentStatus()
    old_old = (old.replicas or 0) - (old.updated_replicas or 0)
    new_old = (status.replicas or 0) - (status.updated_replicas or 0)
    return (
        (status.updated_replicas or 0) > (old.updated_replicas or 0)
        or new_old < old_old
        or (status.ready_replicas or 0) > (old.ready_replicas or 0)
        or (status.available_replicas or 0) > (old.available_replicas or 0)
    )


def deployment_timed_out(d: Deployment, status: DeploymentStatus, now: datetime) -> bool:
    if not has_progress_deadline(d):
        return False
    cond = get_condition(status, PROGRESSING)
    if cond is None or cond.reason == NEW_RS_AVAILABLE:
        return False
    if cond.reason == TIMED_OUT:
        return True
    if cond.last_update_time is None:
        return False
    deadline = d.spec.progress_deadline_seconds if d.spec else None
    return cond.last_update_time + timedelta(seconds=deadline or 0) < now


def status_equal(a: DeploymentStatus | None, b: DeploymentStatus | None) -> bool:
    return (a.to_dict() if a else {}) == (b.to_dict() if b else {})
