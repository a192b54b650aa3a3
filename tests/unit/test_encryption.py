"""Encryption at rest (``apiserver.storage.encryption``): the EncryptionConfiguration,
each provider's round trip and prefix, reading under rotation, and the storage wrapper
(writes sealed, reads, lists, conflicts and watch events opened)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest

from apiserver.storage.encryption import (
    DecryptionError,
    EncryptedStorage,
    EncryptionConfigError,
    Transformer,
    parse,
)
from apiserver.storage.interface import (
    KeyValue,
    ListResult,
    RevisionConflictError,
    StorageEvent,
    WatchBatch,
)
from pki.phases import encryption as encryption_phase

K16 = base64.b64encode(b"0123456789abcdef").decode()
K32 = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
K32B = base64.b64encode(b"fedcba9876543210fedcba9876543210").decode()
KEY = b"/registry/secrets/default/s"


def config(*providers: dict[str, Any], resources: tuple[str, ...] = ("secrets",)) -> Any:
    return {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "EncryptionConfiguration",
        "resources": [{"resources": list(resources), "providers": list(providers)}],
    }


def keyed(kind: str, *keys: tuple[str, str]) -> dict[str, Any]:
    return {kind: {"keys": [{"name": n, "secret": s} for n, s in keys]}}


def transformer(*providers: dict[str, Any]) -> Transformer:
    found = parse(config(*providers)).transformer("", "secrets")
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("kind", "secret"), [("aescbc", K32), ("aescbc", K16), ("aesgcm", K32), ("secretbox", K32)]
)
def test_each_provider_round_trips_under_its_prefix(kind: str, secret: str) -> None:
    t = transformer(keyed(kind, ("key1", secret)))
    plain = b'{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}'
    sealed = t.encrypt(plain, KEY)
    assert sealed.startswith(f"k8s:enc:{kind}:v1:key1:".encode())
    assert b"aHVudGVyMg" not in sealed
    assert sealed != t.encrypt(plain, KEY)  # a fresh IV/nonce every time
    assert t.decrypt(sealed, KEY) == plain


def test_aesgcm_binds_the_value_to_its_etcd_key() -> None:
    t = transformer(keyed("aesgcm", ("k", K32)))
    sealed = t.encrypt(b"x", KEY)
    with pytest.raises(DecryptionError, match="cannot decrypt"):
        t.decrypt(sealed, b"/registry/secrets/default/other")


def test_identity_reads_plain_values_only_when_listed() -> None:
    with_identity = transformer(keyed("aescbc", ("k", K32)), {"identity": {}})
    assert with_identity.decrypt(b'{"a":1}', KEY) == b'{"a":1}'
    without = transformer(keyed("aescbc", ("k", K32)))
    with pytest.raises(DecryptionError, match="not encrypted"):
        without.decrypt(b'{"a":1}', KEY)
    first = transformer({"identity": {}}, keyed("aescbc", ("k", K32)))
    assert first.encrypt(b"plain", KEY) == b"plain"  # identity first: written as it is
    assert parse(config({"identity": {}})).transformer("", "secrets") is None


def test_rotation_reads_every_listed_key_and_writes_with_the_first() -> None:
    old = transformer(keyed("aescbc", ("key1", K32)))
    written = old.encrypt(b"v1", KEY)
    rotated = transformer(keyed("aesgcm", ("key2", K32B)), keyed("aescbc", ("key1", K32)))
    assert rotated.decrypt(written, KEY) == b"v1"
    assert rotated.encrypt(b"v2", KEY).startswith(b"k8s:enc:aesgcm:v1:key2:")
    dropped = transformer(keyed("aesgcm", ("key2", K32B)))
    with pytest.raises(DecryptionError, match="aescbc:v1:key1"):
        dropped.decrypt(written, KEY)
    wrong = transformer(keyed("aescbc", ("key1", K32B)))  # same name, another key
    with pytest.raises(DecryptionError):
        wrong.decrypt(written, KEY)


def test_resources_match_as_kubernetes_names_them() -> None:
    cfg = parse(
        {
            "apiVersion": "apiserver.config.k8s.io/v1",
            "kind": "EncryptionConfiguration",
            "resources": [
                {"resources": ["secrets", "deployments.apps"], "providers": [keyed("aescbc", ("a", K32))]},
                {"resources": ["*.batch"], "providers": [keyed("secretbox", ("b", K32))]},
                {"resources": ["*."], "providers": [keyed("aesgcm", ("c", K32))]},
            ],
        }
    )  # fmt: skip

    def provider(group: str, plural: str) -> str | None:
        t = cfg.transformer(group, plural)
        first = t.keys[0] if t else None
        return first.provider if first else None

    assert provider("", "secrets") == "aescbc"
    assert provider("apps", "deployments") == "aescbc"
    assert provider("apps", "replicasets") is None
    assert provider("batch", "jobs") == "secretbox"
    assert provider("", "configmaps") == "aesgcm"
    assert provider("rbac.authorization.k8s.io", "roles") is None


@pytest.mark.parametrize(
    ("providers", "message"),
    [
        ([keyed("aescbc", ("k", base64.b64encode(b"short").decode()))], "5 bytes"),
        ([keyed("secretbox", ("k", K16))], "secretbox takes 32"),
        ([keyed("aescbc", ("k", "not base64!"))], "not base64"),
        ([keyed("aescbc")], "at least one key"),
        ([{"kms": {"name": "x"}}], "not supported"),
        ([], "needs resources and providers"),
    ],
)
def test_bad_configurations_are_refused(providers: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(EncryptionConfigError, match=message):
        parse(config(*providers))


def test_the_pki_phase_writes_a_configuration_this_reads(tmp_path: Any) -> None:
    encryption_phase.run(tmp_path)
    from apiserver.storage.encryption import load

    t = load(tmp_path / encryption_phase.FILE).transformer("", "secrets")
    assert t is not None and t.encrypt(b"x", KEY).startswith(b"k8s:enc:aescbc:v1:key1:")


class RecordingStorage:
    """What the wrapper passes down, and canned answers for what it reads."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.events: list[StorageEvent] = []

    async def get(self, key: str) -> KeyValue | None:
        return KeyValue(key, self.data[key], 1, 1) if key in self.data else None

    async def create(self, key: str, value: bytes, companions: Any = None) -> int:
        self.data[key] = value
        return 1

    async def update(self, key: str, value: bytes, expected: int, companions: Any = None) -> int:
        if expected != 1:
            raise RevisionConflictError(key, KeyValue(key, self.data[key], 1, 1))
        self.data[key] = value
        return 2

    async def list_prefix(self, prefix: str, **_: Any) -> ListResult:
        items = [KeyValue(k, v, 1, 1) for k, v in sorted(self.data.items())]
        return ListResult(items, 1, False, len(items))

    def watch(self, prefix: str, start_revision: int, *, prev_values: bool = True) -> Any:
        events = self.events

        class Stream:
            async def _gen(self) -> AsyncIterator[WatchBatch]:
                yield WatchBatch(events, 3)

            def __aiter__(self) -> AsyncIterator[WatchBatch]:
                return self._gen()

            async def request_progress(self) -> None: ...

            async def close(self) -> None: ...

        return Stream()


async def test_the_wrapper_seals_writes_and_opens_every_read() -> None:
    inner = RecordingStorage()
    storage = EncryptedStorage(inner, transformer(keyed("secretbox", ("k", K32))))  # type: ignore[arg-type]
    key = KEY.decode()
    await storage.create(key, b"first")
    assert inner.data[key].startswith(b"k8s:enc:secretbox:v1:k:")
    got = await storage.get(key)
    assert got is not None and got.value == b"first"
    assert [kv.value for kv in (await storage.list_prefix("/registry/secrets/")).items] == [
        b"first"
    ]
    with pytest.raises(RevisionConflictError) as err:
        await storage.update(key, b"second", 7)
    assert err.value.current is not None and err.value.current.value == b"first"
    await storage.update(key, b"second", 1)
    sealed = inner.data[key]
    inner.events = [StorageEvent("DELETE", key, None, sealed, 3, False)]
    batches = [b async for b in storage.watch("/registry/secrets/", 1)]
    assert batches[0].events[0].prev_value == b"second" and batches[0].events[0].value is None
