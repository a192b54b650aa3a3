"""Expectations: what a controller has asked for and not yet seen come back.

A controller acts on its informer cache, and its own writes reach that cache a little
later, through the watch. Without bookkeeping it would see "2 pods missing" again on
its next pass and create them twice. Before creating N pods it records "expect N
additions" for the owner's key; the pod handlers lower the count as the pods are
observed (or the creator lowers it for requests that failed); the controller only
creates or deletes again for that key once its expectations are satisfied.

Expectations expire (five minutes, as in Kubernetes) so that a lost event cannot
wedge a controller forever: the next pass then trusts the cache again. A key with
no record is satisfied (nothing outstanding: a fresh process starts that way).

``UIDTrackingExpectations`` remembers *which* objects it expects to go, so that a
deletion observed twice (a pod marked terminating, then removed) counts once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

EXPECTATIONS_TIMEOUT = 300.0


@dataclass
class _Record:
    add: int
    delete: int
    stamp: float


class ControllerExpectations:
    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, timeout: float = EXPECTATIONS_TIMEOUT
    ) -> None:
        self._clock = clock
        self._timeout = timeout
        self._records: dict[str, _Record] = {}

    def satisfied(self, key: str) -> bool:
        """True when nothing is outstanding for ``key`` (or the record expired)."""
        record = self._records.get(key)
        if record is None:
            return True
        if record.add <= 0 and record.delete <= 0:
            return True
        return self._clock() - record.stamp > self._timeout

    def pending(self, key: str) -> tuple[int, int]:
        """(additions, deletions) still expected for ``key``."""
        record = self._records.get(key)
        return (max(record.add, 0), max(record.delete, 0)) if record else (0, 0)

    def set(self, key: str, add: int = 0, delete: int = 0) -> None:
        self._records[key] = _Record(add, delete, self._clock())

    def expect_creations(self, key: str, count: int) -> None:
        self.set(key, add=count)

    def expect_deletions(self, key: str, count: int) -> None:
        self.set(key, delete=count)

    def raise_expectations(self, key: str, add: int = 0, delete: int = 0) -> None:
        record = self._records.get(key)
        if record is None:
            self.set(key, add, delete)
        else:
            record.add += add
            record.delete += delete

    def lower(self, key: str, add: int = 0, delete: int = 0) -> None:
        record = self._records.get(key)
        if record is not None:
            record.add -= add
            record.delete -= delete

    def creation_observed(self, key: str) -> None:
        self.lower(key, add=1)

    def deletion_observed(self, key: str) -> None:
        self.lower(key, delete=1)

    def forget(self, key: str) -> None:
        self._records.pop(key, None)


class UIDTrackingExpectations(ControllerExpectations):
    """Deletions tracked by the identity of each object expected to go."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, timeout: float = EXPECTATIONS_TIMEOUT
    ) -> None:
        super().__init__(clock=clock, timeout=timeout)
        self._doomed: dict[str, set[str]] = {}

    def expect_deletions_of(self, key: str, names: Iterable[str]) -> None:
        doomed = set(names)
        self._doomed[key] = doomed
        self.set(key, delete=len(doomed))

    def deletion_observed_of(self, key: str, name: str) -> None:
        doomed = self._doomed.get(key)
        if doomed is not None and name in doomed:
            doomed.discard(name)
            self.lower(key, delete=1)

    def forget(self, key: str) -> None:
        super().forget(key)
        self._doomed.pop(key, None)
