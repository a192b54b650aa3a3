"""A bounded-frequency runner, as Kubernetes' ``pkg/proxy/runner``.

``run()`` asks for the function to run soon; many requests before it runs make one run.
Runs are spaced by a token bucket (``burst`` tokens, one more every ``min_interval``),
so a storm of changes costs at most ``burst`` runs at once and then one per
``min_interval``; and the function runs at least every ``max_interval`` even when
nobody asks (the periodic resync). A run that raises is retried after
``min_interval``.

The decision is a pure function of time (``Schedule.next_delay``), so tests drive it
with a fake clock; ``BoundedFrequencyRunner.loop`` only sleeps the delays it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class Schedule:
    """When the next run may happen."""

    min_interval: float
    max_interval: float
    burst: int = 2
    tokens: float = 0.0
    last_refill: float = 0.0
    last_run: float | None = None
    requested: bool = True
    """A run is wanted (the first one always is)."""

    def __post_init__(self) -> None:
        self.tokens = float(max(self.burst, 1))

    def _refill(self, now: float) -> None:
        if self.min_interval <= 0:
            self.tokens = float(max(self.burst, 1))
        else:
            gained = (now - self.last_refill) / self.min_interval
            self.tokens = min(float(max(self.burst, 1)), self.tokens + gained)
        self.last_refill = now

    def next_delay(self, now: float) -> float:
        """Seconds until the next run; 0 means run now (and the run is accounted)."""
        self._refill(now)
        due = self.last_run is None or now - self.last_run >= self.max_interval
        if not (self.requested or due):
            assert self.last_run is not None
            return self.last_run + self.max_interval - now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            self.requested = False
            self.last_run = now
            return 0.0
        return (1.0 - self.tokens) * self.min_interval


class BoundedFrequencyRunner:
    def __init__(
        self,
        fn: Callable[[], Awaitable[None]],
        *,
        min_interval: float,
        max_interval: float,
        burst: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fn = fn
        self.clock = clock
        self.schedule = Schedule(min_interval, max_interval, burst)
        self.schedule.last_refill = clock()
        self._wake = asyncio.Event()

    def run(self) -> None:
        """Ask for a run as soon as the bounds allow."""
        self.schedule.requested = True
        self._wake.set()

    async def loop(self) -> None:
        """Run ``fn`` as scheduled until cancelled."""
        while True:
            delay = self.schedule.next_delay(self.clock())
            if delay > 0:
                self._wake.clear()
                # A request only matters when it is allowed to run earlier than the
                # delay: wake up on it, then ask the schedule again.
                if self.schedule.requested:
                    await asyncio.sleep(delay)
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), delay)
                continue
            try:
                await self.fn()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sync failed; retrying")
                self.schedule.requested = True
