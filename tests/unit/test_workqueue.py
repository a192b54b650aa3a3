from __future__ import annotations

import asyncio

import pytest

from apiclient.workqueue import (
    BucketRateLimiter,
    ItemExponentialBackoff,
    MaxOfRateLimiter,
    ShutDownError,
    WorkQueue,
    run_workers,
)


async def test_duplicate_adds_merge() -> None:
    q: WorkQueue[str] = WorkQueue()
    for key in ("a", "b", "a", "a"):
        q.add(key)
    assert len(q) == 2
    assert await q.get() == "a"
    assert await q.get() == "b"


async def test_key_added_while_processing_waits_for_done() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add("a")
    key = await q.get()
    q.add("a")  # changed again while a worker holds it
    assert len(q) == 0, "must not be handed to a second worker"
    q.done(key)
    assert len(q) == 1
    assert await q.get() == "a"


async def test_never_processed_twice_at_once() -> None:
    q: WorkQueue[int] = WorkQueue(ItemExponentialBackoff(0.001, 0.01))
    active: set[int] = set()
    overlaps = []
    counts: dict[int, int] = {}

    async def reconcile(key: int) -> None:
        if key in active:
            overlaps.append(key)
        active.add(key)
        counts[key] = counts.get(key, 0) + 1
        # The sleeps stand for a reconcile's work (not synchronisation): they hand the
        # loop to the other workers while this key is being processed.
        await asyncio.sleep(0)
        q.add(key if counts[key] < 3 else -1)  # re-add during processing
        await asyncio.sleep(0.001)
        active.discard(key)

    for k in range(5):
        q.add(k)
    runner = asyncio.create_task(run_workers(q, reconcile, workers=4))
    deadline = asyncio.get_running_loop().time() + 5
    while any(counts.get(k, 0) < 3 for k in range(5)):
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    await q.shut_down()
    await runner
    assert overlaps == []


async def test_failures_back_off_per_key_and_forget_resets() -> None:
    limiter = ItemExponentialBackoff(base=0.01, cap=1.0)
    assert [limiter.when("x") for _ in range(4)] == [0.01, 0.02, 0.04, 0.08]
    assert limiter.retries("x") == 4
    assert limiter.when("y") == 0.01
    limiter.forget("x")
    assert limiter.when("x") == 0.01
    assert max(limiter.when("z") for _ in range(20)) == 1.0


def test_bucket_limits_overall_rate() -> None:
    now = [0.0]
    bucket = BucketRateLimiter(qps=10, burst=2, clock=lambda: now[0])
    waits = [bucket.when(i) for i in range(4)]
    assert waits[:2] == [0.0, 0.0]
    assert waits[2] == pytest.approx(0.1)
    assert waits[3] == pytest.approx(0.2)
    combined = MaxOfRateLimiter(ItemExponentialBackoff(1.0, 10.0), BucketRateLimiter(100, 100))
    assert combined.when("k") == 1.0


async def test_run_workers_retries_failures_then_succeeds() -> None:
    q: WorkQueue[str] = WorkQueue(ItemExponentialBackoff(0.001, 0.01), name="t")
    attempts: list[str] = []
    done = asyncio.Event()

    async def reconcile(key: str) -> None:
        attempts.append(key)
        if len(attempts) < 3:
            raise RuntimeError("transient")
        done.set()

    q.add("k")
    runner = asyncio.create_task(run_workers(q, reconcile, workers=2))
    await asyncio.wait_for(done.wait(), 5)
    assert attempts == ["k", "k", "k"]
    assert q.num_requeues("k") == 0  # forgotten after success
    await q.shut_down()
    await runner


async def test_requeue_after_and_shutdown() -> None:
    q: WorkQueue[str] = WorkQueue()
    seen: list[float] = []
    loop = asyncio.get_running_loop()
    start = loop.time()

    async def reconcile(key: str) -> float | None:
        seen.append(loop.time() - start)
        return 0.05 if len(seen) == 1 else None

    q.add("k")
    runner = asyncio.create_task(run_workers(q, reconcile))
    deadline = loop.time() + 5
    while len(seen) < 2:
        assert loop.time() < deadline, "the requeue did not come"
        await asyncio.sleep(0.01)
    assert seen[1] - seen[0] >= 0.045
    await q.shut_down()
    await runner
    with pytest.raises(ShutDownError):
        await q.get()
