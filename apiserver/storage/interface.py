"""The one interface the apiserver stores objects through.

Everything above this module sees keys, opaque values and revisions; only the
implementation behind it knows etcd. Revisions are etcd's: a single counter for the
whole store, bumped by every write, so that they order writes across resources and
across apiserver processes sharing one etcd.

Writes are compare-and-swap: ``create`` only if the key is absent, ``update`` and
``delete`` only if the key's last modification is ``expected_revision``. Companion
keys (an allocated ClusterIP, a NodePort) are created or deleted in the same
transaction as the object, so an allocation never outlives or precedes its owner.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: bytes
    mod_revision: int
    create_revision: int


@dataclass(frozen=True, slots=True)
class ListResult:
    items: list[KeyValue]
    revision: int
    """The store revision the list was read at."""
    more: bool
    """Whether keys beyond the last returned one exist in the range."""
    count: int
    """How many keys the whole range held at ``revision`` (from the start key)."""


@dataclass(frozen=True, slots=True)
class StorageEvent:
    type: Literal["PUT", "DELETE"]
    key: str
    value: bytes | None
    """The new value; ``None`` for a delete."""
    prev_value: bytes | None
    """The value before this event, when there was one."""
    revision: int
    created: bool
    """True when this PUT created the key."""


@dataclass(frozen=True, slots=True)
class WatchBatch:
    """Events from one etcd watch response, or an empty progress notification."""

    events: list[StorageEvent]
    revision: int
    """The store revision the watch has caught up to (the response header's)."""


@dataclass(frozen=True, slots=True)
class Companions:
    """Keys written or removed atomically together with an object."""

    create: Mapping[str, bytes] = field(default_factory=dict)
    """Created only if absent; if one exists the whole write fails with ``KeyExistsError``."""
    delete: Sequence[str] = ()


NO_COMPANIONS = Companions()


class StorageError(Exception):
    """Base of storage failures."""


class KeyExistsError(StorageError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key exists: {key}")
        self.key = key


class KeyNotFoundError(StorageError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key not found: {key}")
        self.key = key


class RevisionConflictError(StorageError):
    """The key changed since ``expected_revision``; ``current`` is what it holds now."""

    def __init__(self, key: str, current: KeyValue | None) -> None:
        super().__init__(f"revision conflict on {key}")
        self.key = key
        self.current = current


class CompactedError(StorageError):
    """The requested revision is older than the store's compaction point."""

    def __init__(self, compact_revision: int) -> None:
        super().__init__(f"revision compacted below {compact_revision}")
        self.compact_revision = compact_revision


class FutureRevisionError(StorageError):
    """The requested revision is newer than any the store has written."""


class TooLargeError(StorageError):
    """The write is larger than the store takes in one request (etcd's
    ``--max-request-bytes``, 1.5 MiB by default)."""

    def __init__(self, size: int, detail: str) -> None:
        super().__init__(detail)
        self.size = size


class UnavailableError(StorageError):
    """The store cannot be reached or did not answer in time."""


class WatchStream(Protocol):
    """An open watch. Iterate it for batches; close it when done.

    Yields empty batches as progress notifications. Iteration raises ``CompactedError``
    if the start revision is compacted and ``UnavailableError`` if the stream breaks.
    """

    def __aiter__(self) -> AsyncIterator[WatchBatch]: ...

    async def request_progress(self) -> None:
        """Ask for a progress notification carrying the store's current revision."""
        ...

    async def close(self) -> None: ...


class Storage(Protocol):
    async def get(self, key: str) -> KeyValue | None: ...

    async def create(self, key: str, value: bytes, companions: Companions = NO_COMPANIONS) -> int:
        """Create ``key``; return the new revision. Raises ``KeyExistsError``."""
        ...

    async def update(
        self,
        key: str,
        value: bytes,
        expected_revision: int,
        companions: Companions = NO_COMPANIONS,
    ) -> int:
        """Replace ``key`` if unchanged since ``expected_revision``; return the new revision.

        Raises ``RevisionConflictError`` (with the current value) or ``KeyNotFoundError``.
        """
        ...

    async def delete(
        self, key: str, expected_revision: int, companions: Companions = NO_COMPANIONS
    ) -> int:
        """Delete ``key`` if unchanged since ``expected_revision``; return the revision."""
        ...

    async def list_prefix(
        self,
        prefix: str,
        *,
        start: str | None = None,
        limit: int = 0,
        revision: int = 0,
    ) -> ListResult:
        """Keys under ``prefix`` in key order, from ``start`` (inclusive) if given.

        ``revision`` 0 reads the latest state; another value reads the store as it was
        then (``CompactedError`` when that is gone).
        """
        ...

    async def count(self, prefix: str) -> int: ...

    async def put_with_ttl(self, key: str, value: bytes, ttl: int) -> int:
        """Write ``key`` unconditionally; the store removes it ``ttl`` seconds later
        unless it is written again (an etcd lease). Return the new revision.

        For records of live processes (each apiserver's address), not for objects.
        """
        ...

    async def delete_key(self, key: str) -> None:
        """Remove ``key`` unconditionally, if it exists (a record of ``put_with_ttl``)."""
        ...

    def watch(self, prefix: str, start_revision: int, *, prev_values: bool = True) -> WatchStream:
        """Every change under ``prefix`` from ``start_revision`` (inclusive), in order."""
        ...

    async def current_revision(self) -> int: ...

    async def compact(self, revision: int) -> None: ...

    async def close(self) -> None: ...
