"""Kubernetes' growing back-off for restarts (``CrashLoopBackOff``) and image pulls.

Per key (a pod's container, or an image): the first failure is retried at once and
sets the delay to ``base``; each later failure that comes within the current delay of
the last retry waits out the delay, and the retry doubles it up to ``cap``. A key
whose last retry is more than ``2 * cap`` behind the failure starts again from
``base`` (the container ran long enough to be forgiven).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Entry:
    delay: float
    last_update: float


class Backoff:
    def __init__(
        self, base: float = 10.0, cap: float = 300.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.base = base
        self.cap = cap
        self.clock = clock
        self._entries: dict[str, _Entry] = {}

    def _expired(self, event_time: float, entry: _Entry) -> bool:
        return event_time - entry.last_update > 2 * self.cap

    def remaining(self, key: str, event_time: float) -> float:
        """Seconds still to wait before retrying after a failure at ``event_time``
        (0: retry now)."""
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            return 0.0
        return max(0.0, event_time + entry.delay - self.clock())

    def delay(self, key: str) -> float:
        """The current delay of ``key`` (0 if it has none)."""
        entry = self._entries.get(key)
        return entry.delay if entry else 0.0

    def next(self, key: str, event_time: float) -> None:
        """Record a retry of ``key`` (after a failure at ``event_time``): grow the delay."""
        entry = self._entries.get(key)
        now = self.clock()
        if entry is None or self._expired(event_time, entry):
            self._entries[key] = _Entry(self.base, now)
        else:
            entry.delay = min(entry.delay * 2, self.cap)
            entry.last_update = now

    def reset(self, key: str) -> None:
        self._entries.pop(key, None)

    def forget_prefix(self, prefix: str) -> None:
        """Drop every key that starts with ``prefix`` (a deleted pod's containers)."""
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]

    def gc(self) -> None:
        """Drop entries unused for longer than ``2 * cap``."""
        now = self.clock()
        for key in [k for k, e in self._entries.items() if now - e.last_update > 2 * self.cap]:
            del self._entries[key]
