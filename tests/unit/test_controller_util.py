"""Pure helpers of the controllers: hashing, comparison, pod ranking, conditions, batching,
expectations, durations, and which controllers ``--controllers`` enables."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apitypes.apps import ReplicaSetCondition
from apitypes.core import Pod
from apitypes.duration import parse_duration
from controllers.base import Controller, Options
from controllers.expectations import ControllerExpectations, UIDTrackingExpectations
from controllers.manager import (
    CONTROLLERS,
    UnknownControllerError,
    enabled_controllers,
    known_controllers,
)
from controllers.util import (
    compute_hash,
    deletion_rank,
    fnv32a,
    int_or_percent,
    is_pod_available,
    namespace_terminating,
    normalized,
    safe_encode,
    semantic_equal,
    set_condition,
    slow_start_batch,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def pod(name: str, *, node: str | None = None, phase: str = "Running", ready_at: datetime | None = None,
        created: datetime = T0, restarts: int = 0) -> Pod:  # fmt: skip
    status: dict[str, object] = {"phase": phase}
    if ready_at is not None:
        status["conditions"] = [
            {"type": "Ready", "status": "True", "lastTransitionTime": ready_at.isoformat()}
        ]
    status["containerStatuses"] = [
        {
            "name": "c",
            "ready": ready_at is not None,
            "restartCount": restarts,
            "image": "x",
            "imageID": "x",
        }
    ]
    spec: dict[str, object] = {"containers": [{"name": "c", "image": "x"}]}
    if node:
        spec["nodeName"] = node
    return Pod.model_validate({
        "metadata": {"name": name, "creationTimestamp": created.isoformat()},
        "spec": spec, "status": status,
    })  # fmt: skip


# --- hashing and comparison ---------------------------------------------------------------


def test_fnv32a_matches_the_reference_vectors():
    assert fnv32a(b"") == 0x811C9DC5
    assert fnv32a(b"a") == 0xE40C292C
    assert fnv32a(b"foobar") == 0xBF9CF968


def test_safe_encode_uses_no_vowels_and_maps_digits():
    encoded = safe_encode("0123456789")
    assert len(encoded) == 10
    assert not set(encoded) & set("aeiou01")
    assert safe_encode("12") == safe_encode("1") + safe_encode("2")


def test_hash_ignores_empty_fields_and_key_order_but_not_content():
    a = {
        "metadata": {"labels": {"x": "1", "y": "2"}},
        "spec": {"containers": [{"name": "c"}], "volumes": []},
    }
    b = {
        "spec": {"containers": [{"name": "c", "env": []}]},
        "metadata": {"labels": {"y": "2", "x": "1"}, "annotations": {}},
    }
    c = {"metadata": {"labels": {"x": "1", "y": "3"}}, "spec": {"containers": [{"name": "c"}]}}
    assert compute_hash(a) == compute_hash(b)
    assert compute_hash(a) != compute_hash(c)
    assert compute_hash(a, 1) != compute_hash(a) != compute_hash(a, 2)
    assert semantic_equal(a, b) and not semantic_equal(a, c)


@given(st.recursive(st.none() | st.integers() | st.text(max_size=3),
                    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=2), kids, max_size=3)))  # fmt: skip
def test_normalized_is_idempotent(value: object):
    once = normalized(value)
    assert normalized(once) == once


def test_int_or_percent_rounds_as_asked():
    assert int_or_percent("25%", 10, round_up=True) == 3
    assert int_or_percent("25%", 10, round_up=False) == 2
    assert int_or_percent(4, 10, round_up=False) == 4
    assert int_or_percent("0%", 7, round_up=True) == 0
    assert int_or_percent(None, 7, round_up=True) == 0


# --- pods -------------------------------------------------------------------------------------


def test_deletion_rank_prefers_unscheduled_pending_unready_newer():
    now = T0 + timedelta(hours=1)
    unscheduled = pod("a", phase="Pending")
    pending = pod("b", node="n", phase="Pending")
    not_ready = pod("c", node="n")
    ready_new = pod("d", node="n", ready_at=now - timedelta(seconds=5))
    ready_old = pod("e", node="n", ready_at=now - timedelta(minutes=30))
    restarted = pod("f", node="n", ready_at=now - timedelta(minutes=30), restarts=3)
    younger = pod(
        "g", node="n", ready_at=now - timedelta(minutes=30), created=T0 + timedelta(minutes=1)
    )
    ranked = sorted([ready_old, younger, restarted, ready_new, not_ready, pending, unscheduled],
                    key=lambda p: deletion_rank(p, now))  # fmt: skip
    assert [p.metadata.name for p in ranked] == ["a", "b", "c", "d", "f", "g", "e"]


def test_available_needs_min_ready_seconds():
    now = T0 + timedelta(seconds=100)
    p = pod("a", node="n", ready_at=now - timedelta(seconds=10))
    assert is_pod_available(p, 0, now)
    assert is_pod_available(p, 10, now)
    assert not is_pod_available(p, 11, now)
    assert not is_pod_available(pod("b", node="n"), 0, now)


def test_set_condition_keeps_transition_time_when_status_is_unchanged():
    first = ReplicaSetCondition(
        type="ReplicaFailure", status="True", reason="A", last_transition_time=T0
    )
    later = ReplicaSetCondition(
        type="ReplicaFailure",
        status="True",
        reason="B",
        last_transition_time=T0 + timedelta(hours=1),
    )
    out = set_condition([first], later)
    assert len(out) == 1 and out[0].reason == "B" and out[0].last_transition_time == T0
    flipped = ReplicaSetCondition(
        type="ReplicaFailure",
        status="False",
        reason="C",
        last_transition_time=T0 + timedelta(hours=2),
    )
    assert set_condition(out, flipped)[0].last_transition_time == T0 + timedelta(hours=2)


def test_slow_start_batch_doubles_and_stops_at_the_first_failing_batch():
    def run(fail_at: int | None, count: int) -> tuple[int, BaseException | None, list[int]]:
        log: list[str] = []

        async def call(i: int) -> None:
            log.append("start")
            await asyncio.sleep(0)  # every call of a batch starts before any finishes
            log.append("end")
            if i == fail_at:
                raise RuntimeError("boom")

        done, error = asyncio.run(slow_start_batch(count, 1, call))
        sizes: list[int] = []
        for i, entry in enumerate(log):
            if entry == "start" and (i == 0 or log[i - 1] == "end"):
                sizes.append(0)
            if entry == "start":
                sizes[-1] += 1
        return done, error, sizes

    assert run(None, 10) == (10, None, [1, 2, 4, 3])
    done, error, sizes = run(4, 20)
    assert isinstance(error, RuntimeError)
    assert done == 6  # batches of 1 and 2, then 3 of the batch of 4
    assert sizes == [1, 2, 4]


def test_namespace_terminating_recognises_the_apiserver_refusal():
    class ForbiddenError(Exception):
        code = 403
        message = "unable to create new content in namespace x because it is being terminated"

    class OtherError(Exception):
        code = 403
        message = "forbidden: user cannot create pods"

    assert namespace_terminating(ForbiddenError())
    assert not namespace_terminating(OtherError())


# --- expectations --------------------------------------------------------------------------


def test_expectations_block_until_observed_and_expire():
    clock = [0.0]
    exp = ControllerExpectations(clock=lambda: clock[0], timeout=300)
    assert exp.satisfied("ns/a"), "no record: nothing outstanding"
    exp.expect_creations("ns/a", 2)
    assert not exp.satisfied("ns/a")
    exp.creation_observed("ns/a")
    assert not exp.satisfied("ns/a")
    exp.creation_observed("ns/a")
    assert exp.satisfied("ns/a")
    exp.expect_deletions("ns/a", 1)
    assert not exp.satisfied("ns/a")
    clock[0] = 301
    assert exp.satisfied("ns/a"), "an expired record no longer blocks"
    exp.forget("ns/a")
    assert exp.pending("ns/a") == (0, 0)


def test_uid_tracking_counts_each_deletion_once():
    exp = UIDTrackingExpectations(clock=lambda: 0.0)
    exp.expect_deletions_of("ns/rs", ["ns/p1", "ns/p2"])
    exp.deletion_observed_of("ns/rs", "ns/p1")
    exp.deletion_observed_of("ns/rs", "ns/p1")  # marked terminating, then removed
    exp.deletion_observed_of("ns/rs", "ns/other")
    assert exp.pending("ns/rs") == (0, 1)
    assert not exp.satisfied("ns/rs")
    exp.deletion_observed_of("ns/rs", "ns/p2")
    assert exp.satisfied("ns/rs")


# --- flags -------------------------------------------------------------------------------------


def test_parse_duration_accepts_go_durations_and_seconds():
    assert parse_duration("40s") == 40
    assert parse_duration("5m") == 300
    assert parse_duration("1h30m") == 5400
    assert parse_duration("250ms") == 0.25
    assert parse_duration("2.5") == 2.5
    with pytest.raises(ValueError):
        parse_duration("5 minutes")
    with pytest.raises(ValueError):
        parse_duration("")


def test_controller_table_comes_from_the_classes():
    by_name = {cls.name: cls for cls in CONTROLLERS}
    assert known_controllers()["replicaset-controller"] == ("replicaset",)
    options = Options(concurrent_replicaset_syncs=7, concurrent_gc_syncs=3)
    assert by_name["replicaset-controller"].workers_for(options) == 7
    assert by_name["garbage-collector-controller"].workers_for(options) == 3
    assert by_name["pod-garbage-collector-controller"].workers_for(options) == 1
    with pytest.raises(TypeError, match="no field 'concurrent_typo_syncs'"):

        class Typo(Controller):
            workers_option = "concurrent_typo_syncs"


def test_controllers_flag_follows_kubernetes_rules():
    known = known_controllers()
    everything = enabled_controllers(["*"], known)
    # With node-ipam, endpointslice, service-lb, replicationcontroller, serviceaccount,
    # the root CA publisher, ClusterRole aggregation, resource quotas and the three
    # certificate controllers (csrapproving, csrsigning, csrcleaner); not the two
    # bootstrap-token ones, which are off unless named (as in Kubernetes).
    assert len(everything) == 25 and len(known) == 27
    assert "bootstrap-signer-controller" not in everything
    named = enabled_controllers(["*", "bootstrapsigner", "tokencleaner"], known)
    assert len(named) == 27 and "token-cleaner-controller" in named
    without = enabled_controllers(["*", "-podgc"], known)
    assert "pod-garbage-collector-controller" not in without and len(without) == 24
    assert enabled_controllers(["replicaset", "deployment-controller"], known) == [
        "deployment-controller", "replicaset-controller",
    ]  # fmt: skip
    assert enabled_controllers(["-job", "*", "job"], known).count("job-controller") == 0
    assert enabled_controllers([], known) == []
    with pytest.raises(UnknownControllerError):
        enabled_controllers(["*", "-nonsense"], known)
