"""Deployment arithmetic: fenceposts, new ReplicaSet sizes, proportional scaling,
revisions, and the status and conditions ``kubectl rollout status`` reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apitypes.apps import Deployment, ReplicaSet
from controllers import deployment_util as du

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def deployment(
    replicas: int = 10, surge: Any = "25%", unavailable: Any = "25%", **extra: Any
) -> Deployment:
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": "x"}},
        "template": {
            "metadata": {"labels": {"app": "x"}},
            "spec": {"containers": [{"name": "c", "image": "x:1"}]},
        },
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable},
        },
        "progressDeadlineSeconds": 600,
        **extra,
    }
    return Deployment.model_validate({"metadata": {"name": "d", "generation": 1}, "spec": spec})


def rs(name: str, replicas: int, *, available: int = 0, image: str = "x:1", created: int = 0,
       annotations: dict[str, str] | None = None, **container: Any) -> ReplicaSet:  # fmt: skip
    return ReplicaSet.model_validate({
        "metadata": {
            "name": name, "uid": f"uid-{name}", "annotations": annotations or {},
            "creationTimestamp": (T0 + timedelta(minutes=created)).isoformat(),
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "x"}},
            "template": {
                "metadata": {"labels": {"app": "x", "pod-template-hash": name}},
                "spec": {"containers": [{"name": "c", "image": image, **container}]},
            },
        },
        "status": {"replicas": replicas, "readyReplicas": available, "availableReplicas": available},
    })  # fmt: skip


@pytest.mark.parametrize(
    ("surge", "unavailable", "desired", "expected"),
    [
        ("25%", "25%", 10, (3, 2)),
        ("25%", "25%", 4, (1, 1)),
        (0, 0, 5, (0, 1)),
        ("0%", "0%", 5, (0, 1)),
        (2, "50%", 5, (2, 2)),
        ("1%", "1%", 10, (1, 0)),
        (0, "40%", 5, (0, 2)),
    ],
)
def test_resolve_fenceposts(surge: Any, unavailable: Any, desired: int, expected: tuple[int, int]):
    assert du.resolve_fenceposts(surge, unavailable, desired) == expected


def test_max_unavailable_is_capped_and_recreate_has_no_surge():
    assert du.max_unavailable(deployment(2, 0, 5)) == 2
    recreate = deployment(3)
    assert recreate.spec is not None and recreate.spec.strategy is not None
    recreate.spec.strategy.type = "Recreate"
    assert du.max_surge(recreate) == 0 and du.max_unavailable(recreate) == 0
    assert du.new_rs_new_replicas(recreate, [rs("old", 3)], rs("new", 0)) == 3


def test_new_replica_set_grows_only_within_the_surge():
    d = deployment(10, 3, 2)
    old, new = rs("old", 10, available=10), rs("new", 0, image="x:2", created=5)
    assert du.new_rs_new_replicas(d, [old, new], new) == 3
    old.spec.replicas = 8  # type: ignore[union-attr]
    new.spec.replicas = 3  # type: ignore[union-attr]
    assert du.new_rs_new_replicas(d, [old, new], new) == 5
    # Pods of the old ReplicaSet not yet seen going count against the surge too.
    assert du.new_rs_new_replicas(d, [old, new], new, current_pods=13) == 3
    new.spec.replicas = 10  # type: ignore[union-attr]
    assert du.new_rs_new_replicas(d, [old, new], new) == 10


def test_find_new_replica_set_ignores_the_hash_label_and_empty_fields():
    d = deployment()
    # kubectl's rollback sends fields Go writes even when empty ("resources": {}).
    same = rs("same", 1, created=3, resources={}, env=[])
    older_same = rs("oldsame", 1, created=1, resources={})
    other = rs("other", 1, image="x:2")
    found = du.find_new_rs(d, [same, other, older_same])
    assert found is not None and found.metadata.name == "oldsame"
    assert du.find_new_rs(d, [other]) is None
    _, olds = du.find_old_rss([same, other, older_same], found)
    assert {r.metadata.name for r in olds} == {"same", "other"}


def test_template_hash_is_stable_and_collision_count_changes_it():
    d = deployment()
    assert d.spec is not None
    first = du.pod_template_hash(d.spec.template, None)
    assert first == du.pod_template_hash(d.spec.template.model_copy(deep=True), None)
    assert first != du.pod_template_hash(d.spec.template, 1)
    d.spec.template.metadata.labels["pod-template-hash"] = "whatever"
    assert first == du.pod_template_hash(d.spec.template, None)


def test_revision_annotations_and_rollback_history():
    d = deployment(annotations=None)
    d.metadata.annotations = {"team": "a", du.LAST_APPLIED: "{...}", du.REVISION: "7"}
    new = rs("new", 0)
    assert du.set_new_rs_annotations(d, new, 3, exists=False)
    ann = new.metadata.annotations
    assert ann["team"] == "a" and du.LAST_APPLIED not in ann
    assert (ann[du.REVISION], ann[du.DESIRED_REPLICAS], ann[du.MAX_REPLICAS]) == ("3", "10", "13")
    assert not du.set_new_rs_annotations(d, new, 3, exists=True), "nothing changes twice"
    # Rolling back to it later gives it the next revision and remembers the old one.
    assert du.set_new_rs_annotations(d, new, 5, exists=True)
    assert (ann[du.REVISION], ann[du.REVISION_HISTORY]) == ("5", "3")
    du.set_new_rs_annotations(d, new, 8, exists=True)
    assert ann[du.REVISION_HISTORY] == "3,5"
    assert (
        du.max_revision(
            [
                new,
                rs("a", 0, annotations={du.REVISION: "6"}),
                rs("b", 0, annotations={du.REVISION: "x"}),
            ]
        )
        == 8
    )


def test_proportional_scaling_keeps_ratios_and_gives_leftovers_to_the_largest():
    d = deployment(20, 3, 2)  # was 10 with surge 3 -> max-replicas 13
    annotations = {du.MAX_REPLICAS: "13", du.DESIRED_REPLICAS: "10"}
    old = rs("old", 8, created=0, annotations=dict(annotations))
    new = rs("new", 5, created=1, annotations=dict(annotations))
    sizes = du.proportional_sizes(d, [old, new])
    assert sum(sizes.values()) == 23  # 20 + surge 3
    assert sizes["old"] > sizes["new"]
    assert sizes == {"old": 14, "new": 9}
    shrink = deployment(5, 1, 1)
    sizes = du.proportional_sizes(shrink, [old, new])
    assert sum(sizes.values()) == 6
    assert all(v >= 0 for v in sizes.values())


def test_find_active_or_latest():
    assert du.find_active_or_latest(None, []) is None
    only = rs("only", 3)
    assert du.find_active_or_latest(None, [only, rs("idle", 0)]) is only
    newest_idle = rs("n", 0, created=9)
    assert du.find_active_or_latest(newest_idle, [rs("o", 0, created=1)]) is newest_idle
    assert du.find_active_or_latest(rs("n2", 1, created=9), [rs("o2", 2)]) is None


def test_status_conditions_complete_progressing_and_timed_out():
    d = deployment(4, 1, 1)
    new = rs("new", 4, available=4)
    status = du.calculate_status([new], new, d, T0)
    assert (
        status.replicas,
        status.updated_replicas,
        status.available_replicas,
        status.unavailable_replicas,
    ) == (4, 4, 4, 0)
    assert du.get_condition(status, du.AVAILABLE).reason == du.MINIMUM_AVAILABLE  # type: ignore[union-attr]
    assert du.deployment_complete(d, status)

    old = rs("old", 3, available=2)
    half = rs("half", 2, available=0, image="x:2")
    status = du.calculate_status([old, half], half, d, T0)
    assert status.unavailable_replicas == 2
    assert du.get_condition(status, du.AVAILABLE).status == "False"  # type: ignore[union-attr]
    assert not du.deployment_complete(d, status)
    d.status = du.calculate_status([old], None, d, T0)
    assert du.deployment_progressing(d, status), "updated replicas went up"

    du.set_condition(
        status, du.new_condition(du.PROGRESSING, "True", du.REPLICA_SET_UPDATED, "m", T0)
    )
    assert d.spec is not None
    d.spec.progress_deadline_seconds = 60
    assert not du.deployment_timed_out(d, status, T0 + timedelta(seconds=59))
    assert du.deployment_timed_out(d, status, T0 + timedelta(seconds=61))
    d.spec.progress_deadline_seconds = du.MAX_INT32
    assert not du.deployment_timed_out(d, status, T0 + timedelta(days=9))


def test_set_condition_same_status_and_reason_changes_nothing():
    status = du.calculate_status([], None, deployment(0), T0)
    before = du.get_condition(status, du.AVAILABLE)
    du.set_condition(
        status,
        du.new_condition(du.AVAILABLE, "True", du.MINIMUM_AVAILABLE, "x", T0 + timedelta(hours=1)),
    )
    assert du.get_condition(status, du.AVAILABLE) is before
