"""The etcd v3 implementation of :class:`~apiserver.storage.interface.Storage`.

It speaks etcd's gRPC API through the generated stubs that ``aetcd`` ships (which
build against current protobuf), not through aetcd's convenience layer: that layer
cannot range at a revision, limit a range, or see watch headers and progress
notifications, which the watch cache and paginated lists need.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import grpc
import grpc.aio
from aetcd import rpc

from apiserver.metrics import ETCD_WATCHES
from apiserver.storage.interface import (
    NO_COMPANIONS,
    CompactedError,
    Companions,
    FutureRevisionError,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    ListResult,
    RevisionConflictError,
    StorageError,
    StorageEvent,
    TooLargeError,
    UnavailableError,
    WatchBatch,
)

log = logging.getLogger(__name__)

# Lists of thousands of objects exceed gRPC's 4 MiB default.
_MAX_MESSAGE = 512 * 1024 * 1024
_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", _MAX_MESSAGE),
    ("grpc.max_send_message_length", _MAX_MESSAGE),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
]
_LIST_PAGE = 2000


@dataclass(frozen=True)
class EtcdConfig:
    """How to reach etcd: ``--etcd-servers`` plus the TLS seams."""

    servers: Sequence[str]
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    request_timeout: float = 30.0


def _prefix_end(prefix: bytes) -> bytes:
    """The first key after every key that starts with ``prefix``."""
    end = bytearray(prefix)
    for i in reversed(range(len(end))):
        if end[i] < 0xFF:
            end[i] += 1
            return bytes(end[: i + 1])
    return b"\0"


def _target(servers: Sequence[str]) -> str:
    addrs = []
    for server in servers:
        parts = urlsplit(server if "://" in server else f"http://{server}")
        addrs.append(f"{parts.hostname}:{parts.port or 2379}")
    if len(addrs) == 1:
        return addrs[0]
    # gRPC's ipv4 resolver takes several addresses and fails over between them.
    return "ipv4:" + ",".join(addrs)


TLS_NAME_OF_MEMBERS = "localhost"
"""The name checked in every member's serving certificate when the channel spans several
members: gRPC verifies one name per channel (for an ``ipv4:a,b,c`` target, that whole
string, which no certificate names), and every etcd serving certificate that ``pki``
(as kubeadm) makes carries ``localhost``. The chain is still verified against
``--etcd-cafile``, etcd's own CA."""


def _channel_options(servers: Sequence[str], tls: bool) -> list[tuple[str, Any]]:
    """The gRPC channel's options: message limits, keepalives and, for TLS over several
    members, the name their certificates are checked for (``TLS_NAME_OF_MEMBERS``)."""
    options: list[tuple[str, Any]] = list(_CHANNEL_OPTIONS)
    if tls and len(servers) > 1:
        options.append(("grpc.ssl_target_name_override", TLS_NAME_OF_MEMBERS))
    return options


def _translate(err: grpc.aio.AioRpcError, size: int = 0) -> StorageError:
    details = err.details() or ""
    if "compacted" in details:
        return CompactedError(0)
    if "future revision" in details:
        return FutureRevisionError(details)
    if err.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return UnavailableError(f"etcd unavailable: {details}")
    if "request is too large" in details or (
        err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "larger than max" in details
    ):
        # etcd's own limit, or gRPC's on the message carrying the request.
        return TooLargeError(size, details)
    return StorageError(f"etcd error {err.code().name}: {details}")


def _kv(kv: Any) -> KeyValue:
    return KeyValue(
        key=kv.key.decode(),
        value=kv.value,
        mod_revision=kv.mod_revision,
        create_revision=kv.create_revision,
    )


class EtcdStorage:
    """Storage over one gRPC channel to an etcd cluster. Safe for concurrent use."""

    def __init__(self, config: EtcdConfig) -> None:
        self._config = config
        self._timeout = config.request_timeout
        self._channel: grpc.aio.Channel | None = None
        self._kv: Any = None
        self._watch: Any = None
        self._lease: Any = None

    def _open(self) -> None:
        # gRPC's asyncio channel binds to the running loop, so it is made on first use
        # (inside the server's loop), not when the storage object is built.
        config = self._config
        target = _target(config.servers)
        if config.ca_file or config.cert_file:
            creds = grpc.ssl_channel_credentials(
                root_certificates=_read(config.ca_file),
                private_key=_read(config.key_file),
                certificate_chain=_read(config.cert_file),
            )
            self._channel = grpc.aio.secure_channel(
                target, creds, options=_channel_options(config.servers, tls=True)
            )
        else:
            self._channel = grpc.aio.insecure_channel(target, options=_CHANNEL_OPTIONS)
        self._kv = rpc.KVStub(self._channel)
        self._lease = rpc.LeaseStub(self._channel)
        self._watch = rpc.WatchStub(self._channel)

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None

    # --- reads ------------------------------------------------------------------

    async def get(self, key: str) -> KeyValue | None:
        resp = await self._call("Range", rpc.RangeRequest(key=key.encode()))
        if not resp.kvs:
            return None
        return _kv(resp.kvs[0])

    async def list_prefix(
        self,
        prefix: str,
        *,
        start: str | None = None,
        limit: int = 0,
        revision: int = 0,
    ) -> ListResult:
        bprefix = prefix.encode()
        end = _prefix_end(bprefix)
        key = start.encode() if start else bprefix
        wanted = limit
        items: list[KeyValue] = []
        count = 0
        more = False
        # An unlimited list is read in pages pinned to one revision, so that it is
        # one consistent snapshot without one enormous gRPC message.
        while True:
            page = _LIST_PAGE if wanted == 0 else min(_LIST_PAGE, wanted - len(items))
            req = rpc.RangeRequest(key=key, range_end=end, limit=page, revision=revision)
            resp = await self._call("Range", req)
            if revision == 0:
                revision = resp.header.revision
            if not items:
                count = resp.count
            items.extend(_kv(kv) for kv in resp.kvs)
            more = resp.more
            if not resp.more or (wanted and len(items) >= wanted):
                break
            key = resp.kvs[-1].key + b"\0"
        return ListResult(items=items, revision=revision, more=more, count=count)

    async def count(self, prefix: str) -> int:
        bprefix = prefix.encode()
        req = rpc.RangeRequest(key=bprefix, range_end=_prefix_end(bprefix), count_only=True)
        resp = await self._call("Range", req)
        return int(resp.count)

    async def current_revision(self) -> int:
        # A range over a key nobody writes costs etcd nothing and returns the header.
        resp = await self._call("Range", rpc.RangeRequest(key=b"\0", count_only=True))
        return int(resp.header.revision)

    # --- writes -------------------------------------------------------------------

    async def create(self, key: str, value: bytes, companions: Companions = NO_COMPANIONS) -> int:
        bkey = key.encode()
        compare = [_absent(bkey)] + [_absent(k.encode()) for k in companions.create]
        ops = [_put(bkey, value), *_companion_ops(companions)]
        resp = await self._txn(compare, ops, [_get(k) for k in (key, *companions.create)])
        if not resp.succeeded:
            for name, response in zip((key, *companions.create), resp.responses, strict=True):
                if response.response_range.kvs:
                    raise KeyExistsError(name)
            raise KeyExistsError(key)
        return int(resp.header.revision)

    async def update(
        self,
        key: str,
        value: bytes,
        expected_revision: int,
        companions: Companions = NO_COMPANIONS,
    ) -> int:
        bkey = key.encode()
        compare = [_mod_equals(bkey, expected_revision)]
        compare += [_absent(k.encode()) for k in companions.create]
        ops = [_put(bkey, value), *_companion_ops(companions)]
        resp = await self._txn(compare, ops, [_get(k) for k in (key, *companions.create)])
        if not resp.succeeded:
            self._raise_failed(key, companions, resp)
        return int(resp.header.revision)

    async def delete(
        self, key: str, expected_revision: int, companions: Companions = NO_COMPANIONS
    ) -> int:
        bkey = key.encode()
        compare = [_mod_equals(bkey, expected_revision)]
        ops = [
            rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=bkey)),
            *_companion_ops(companions),
        ]
        resp = await self._txn(compare, ops, [_get(key)])
        if not resp.succeeded:
            self._raise_failed(key, NO_COMPANIONS, resp)
        return int(resp.header.revision)

    async def put_with_ttl(self, key: str, value: bytes, ttl: int) -> int:
        # A fresh lease per write: the previous one expires on its own, and a writer
        # that stops renewing leaves nothing behind.
        if self._channel is None:
            self._open()
        try:
            grant = await self._lease.LeaseGrant(
                rpc.LeaseGrantRequest(TTL=ttl), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as err:
            raise _translate(err) from err
        put = rpc.PutRequest(key=key.encode(), value=value, lease=grant.ID)
        resp = await self._call("Put", put)
        return int(resp.header.revision)

    async def delete_key(self, key: str) -> None:
        await self._call("DeleteRange", rpc.DeleteRangeRequest(key=key.encode()))

    @staticmethod
    def _raise_failed(key: str, companions: Companions, resp: Any) -> None:
        current = resp.responses[0].response_range.kvs
        if not current:
            raise KeyNotFoundError(key)
        for name, response in zip(companions.create, resp.responses[1:], strict=True):
            if response.response_range.kvs:
                raise KeyExistsError(name)
        raise RevisionConflictError(key, _kv(current[0]))

    async def compact(self, revision: int) -> None:
        # CompactedError: someone compacted at or past this revision already.
        with contextlib.suppress(CompactedError):
            await self._call("Compact", rpc.CompactionRequest(revision=revision))

    async def _txn(self, compare: list[Any], success: list[Any], failure: list[Any]) -> Any:
        req = rpc.TxnRequest(compare=compare, success=success, failure=failure)
        return await self._call("Txn", req)

    async def _call(self, method_name: str, request: Any) -> Any:
        if self._channel is None:
            self._open()
        method = getattr(self._kv, method_name)
        try:
            return await method(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as err:
            raise _translate(err, request.ByteSize()) from err

    # --- watch ---------------------------------------------------------------------

    def watch(self, prefix: str, start_revision: int, *, prev_values: bool = True) -> EtcdWatch:
        if self._channel is None:
            self._open()
        return EtcdWatch(self._watch, prefix, start_revision, prev_values)


class EtcdWatch:
    """One etcd watch on its own gRPC stream (see ``WatchStream``)."""

    def __init__(self, stub: Any, prefix: str, start_revision: int, prev_values: bool) -> None:
        bprefix = prefix.encode()
        create = rpc.WatchCreateRequest(
            key=bprefix,
            range_end=_prefix_end(bprefix),
            start_revision=start_revision,
            prev_kv=prev_values,
            progress_notify=True,
        )
        self._requests: asyncio.Queue[Any] = asyncio.Queue()
        self._requests.put_nowait(rpc.WatchRequest(create_request=create))
        self._call = stub.Watch(self._request_iter())
        self._closed = False
        ETCD_WATCHES.inc()

    async def _request_iter(self) -> AsyncIterator[Any]:
        while True:
            req = await self._requests.get()
            if req is None:
                return
            yield req

    async def request_progress(self) -> None:
        self._requests.put_nowait(rpc.WatchRequest(progress_request=rpc.WatchProgressRequest()))

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            ETCD_WATCHES.dec()
            self._requests.put_nowait(None)
            self._call.cancel()

    def __aiter__(self) -> AsyncIterator[WatchBatch]:
        return self._batches()

    async def _batches(self) -> AsyncIterator[WatchBatch]:
        try:
            async for resp in self._call:
                if resp.compact_revision:
                    raise CompactedError(resp.compact_revision)
                if resp.canceled:
                    raise UnavailableError(f"etcd cancelled the watch: {resp.cancel_reason}")
                if resp.created and not resp.events:
                    continue
                events = [
                    StorageEvent(
                        type="PUT" if ev.type == 0 else "DELETE",
                        key=ev.kv.key.decode(),
                        value=ev.kv.value if ev.type == 0 else None,
                        prev_value=ev.prev_kv.value if ev.HasField("prev_kv") else None,
                        revision=ev.kv.mod_revision,
                        created=ev.type == 0 and ev.kv.create_revision == ev.kv.mod_revision,
                    )
                    for ev in resp.events
                ]
                yield WatchBatch(events=events, revision=int(resp.header.revision))
        except grpc.aio.AioRpcError as err:
            if err.code() == grpc.StatusCode.CANCELLED and self._closed:
                return
            raise _translate(err) from err
        except asyncio.CancelledError:
            if self._closed:
                return
            raise
        if not self._closed:
            raise UnavailableError("etcd closed the watch stream")


# --- request builders -------------------------------------------------------------------


def _absent(key: bytes) -> Any:
    return rpc.Compare(
        key=key, result=rpc.Compare.EQUAL, target=rpc.Compare.CREATE, create_revision=0
    )


def _mod_equals(key: bytes, revision: int) -> Any:
    return rpc.Compare(
        key=key, result=rpc.Compare.EQUAL, target=rpc.Compare.MOD, mod_revision=revision
    )


def _put(key: bytes, value: bytes) -> Any:
    return rpc.RequestOp(request_put=rpc.PutRequest(key=key, value=value))


def _get(key: str) -> Any:
    return rpc.RequestOp(request_range=rpc.RangeRequest(key=key.encode()))


def _companion_ops(companions: Companions) -> list[Any]:
    ops = [_put(k.encode(), v) for k, v in companions.create.items()]
    ops += [
        rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=k.encode()))
        for k in companions.delete
    ]
    return ops


def _read(path: str | None) -> bytes | None:
    if not path:
        return None
    with open(path, "rb") as f:
        return f.read()
