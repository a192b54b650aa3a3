"""Encryption at rest: ``--encryption-provider-config``, an ``EncryptionConfiguration``
(``apiserver.config.k8s.io/v1``) as Kubernetes reads it.

Each entry of ``resources`` names resources (``secrets``, ``deployments.apps``,
``*.apps``, ``*.*``; the first entry naming a resource is its own) and an ordered list of
providers: ``aescbc``, ``aesgcm`` (keys of 16, 24 or 32 bytes, base64), ``secretbox`` (32
bytes) and ``identity``. Writes use the first provider; a stored value reads with the
provider and key its prefix names, ``k8s:enc:<provider>:v1:<key name>:``, so values
written under any listed key stay readable. A value without a prefix is plain JSON and
reads only when ``identity`` is listed. Key rotation is Kubernetes' procedure: add the
new key second, restart, move it first, restart, rewrite every object (an update of
each), drop the old key.

The layouts are Kubernetes': ``aescbc`` a random 16-byte IV then AES-CBC with PKCS#7
padding; ``aesgcm`` a random 12-byte nonce then AES-GCM with the etcd key as associated
data; ``secretbox`` a random 24-byte nonce then XSalsa20-Poly1305 (NaCl's secretbox).

``EncryptedStorage`` puts this between the resource stores and etcd: values are
encrypted on their way in and decrypted on every way out (reads, lists, watch events,
the current value a conflict reports), so nothing above it changes.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import nacl.exceptions
import nacl.secret
import yaml
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from apiserver.storage.interface import (
    NO_COMPANIONS,
    Companions,
    KeyValue,
    ListResult,
    RevisionConflictError,
    Storage,
    StorageError,
    StorageEvent,
    WatchBatch,
    WatchStream,
)

PREFIX = b"k8s:enc:"
API_VERSIONS = ("apiserver.config.k8s.io/v1", "apiserver.config.k8s.io/v1beta1")


class EncryptionConfigError(ValueError):
    """The configuration file cannot be used (the apiserver does not start)."""


class DecryptionError(StorageError):
    """A stored value cannot be read with the configured providers."""


class _Sealer(Protocol):
    def encrypt(self, plain: bytes, context: bytes) -> bytes: ...

    def decrypt(self, sealed: bytes, context: bytes) -> bytes: ...


class _AESCBC:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def encrypt(self, plain: bytes, context: bytes) -> bytes:
        iv = os.urandom(16)
        padder = padding.PKCS7(128).padder()
        padded = padder.update(plain) + padder.finalize()
        enc = Cipher(algorithms.AES(self._key), modes.CBC(iv)).encryptor()
        return iv + enc.update(padded) + enc.finalize()

    def decrypt(self, sealed: bytes, context: bytes) -> bytes:
        if len(sealed) < 32 or len(sealed) % 16:
            raise ValueError("the data is not a whole number of blocks")
        dec = Cipher(algorithms.AES(self._key), modes.CBC(sealed[:16])).decryptor()
        padded = dec.update(sealed[16:]) + dec.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return unpadder.update(padded) + unpadder.finalize()


class _AESGCM:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def encrypt(self, plain: bytes, context: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plain, context)

    def decrypt(self, sealed: bytes, context: bytes) -> bytes:
        return self._aead.decrypt(sealed[:12], sealed[12:], context)


class _SecretBox:
    def __init__(self, key: bytes) -> None:
        self._box = nacl.secret.SecretBox(key)

    def encrypt(self, plain: bytes, context: bytes) -> bytes:
        return bytes(self._box.encrypt(plain, os.urandom(nacl.secret.SecretBox.NONCE_SIZE)))

    def decrypt(self, sealed: bytes, context: bytes) -> bytes:
        return bytes(self._box.decrypt(sealed))


_CIPHERS: dict[str, tuple[type[Any], tuple[int, ...]]] = {
    "aescbc": (_AESCBC, (16, 24, 32)),
    "aesgcm": (_AESGCM, (16, 24, 32)),
    "secretbox": (_SecretBox, (32,)),
}
IDENTITY = "identity"


@dataclass(frozen=True)
class Key:
    provider: str
    name: str
    cipher: _Sealer

    @property
    def prefix(self) -> bytes:
        return PREFIX + f"{self.provider}:v1:{self.name}:".encode()


@dataclass(frozen=True)
class Transformer:
    """The providers of one group of resources, in order."""

    keys: tuple[Key | None, ...]
    """One entry per provider key, in order; None stands for ``identity``."""

    def encrypt(self, plain: bytes, context: bytes) -> bytes:
        first = self.keys[0]
        if first is None:
            return plain
        return first.prefix + first.cipher.encrypt(plain, context)

    def decrypt(self, stored: bytes, context: bytes) -> bytes:
        if not stored.startswith(PREFIX):
            if None in self.keys:
                return stored
            raise DecryptionError("no matching prefix found: the value is not encrypted")
        for key in self.keys:
            if key is not None and stored.startswith(key.prefix):
                try:
                    return key.cipher.decrypt(stored[len(key.prefix) :], context)
                except (
                    InvalidTag,
                    ValueError,
                    nacl.exceptions.CryptoError,
                ) as err:
                    raise DecryptionError(
                        f"{key.provider} key {key.name!r} cannot decrypt the value"
                    ) from err
        name = stored[len(PREFIX) :].split(b":", 3)
        raise DecryptionError(
            "no matching prefix found: the value was written with "
            + ":".join(p.decode(errors="replace") for p in name[:3])
        )


@dataclass(frozen=True)
class EncryptionConfig:
    """The resource groups of an ``EncryptionConfiguration``, in order."""

    rules: tuple[tuple[tuple[str, ...], Transformer], ...]

    def transformer(self, group: str, plural: str) -> Transformer | None:
        """The providers for a resource (None: stored as it is)."""
        for names, transformer in self.rules:
            for name in names:
                if _matches(name, group, plural):
                    if all(k is None for k in transformer.keys):
                        return None
                    return transformer
        return None


def _matches(name: str, group: str, plural: str) -> bool:
    """``secrets`` (core), ``deployments.apps``, ``*.apps``, ``*.`` (every core resource),
    ``*.*`` (everything)."""
    resource, dot, name_group = name.partition(".")
    if not dot:
        return resource == plural and group == ""
    if resource not in ("*", plural):
        return False
    return name_group in ("*", group)


def load(path: str | Path) -> EncryptionConfig:
    """Read and check an ``EncryptionConfiguration`` file."""
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as err:
        raise EncryptionConfigError(f"--encryption-provider-config {path}: {err}") from err
    return parse(doc)


def parse(doc: Any) -> EncryptionConfig:
    if not isinstance(doc, dict) or doc.get("kind") != "EncryptionConfiguration":
        raise EncryptionConfigError("not an EncryptionConfiguration")
    if doc.get("apiVersion") not in API_VERSIONS:
        raise EncryptionConfigError(f"apiVersion {doc.get('apiVersion')!r} is not supported")
    rules: list[tuple[tuple[str, ...], Transformer]] = []
    for i, entry in enumerate(doc.get("resources") or []):
        names = tuple(str(n) for n in (entry or {}).get("resources") or [])
        providers = (entry or {}).get("providers") or []
        if not names or not providers:
            raise EncryptionConfigError(f"resources[{i}]: needs resources and providers")
        keys: list[Key | None] = []
        for j, provider in enumerate(providers):
            keys += _provider(provider, f"resources[{i}].providers[{j}]")
        rules.append((names, Transformer(tuple(keys))))
    return EncryptionConfig(tuple(rules))


def _provider(provider: Any, where: str) -> Sequence[Key | None]:
    if not isinstance(provider, dict) or len(provider) != 1:
        raise EncryptionConfigError(f"{where}: exactly one provider per entry")
    ((kind, body),) = provider.items()
    if kind == IDENTITY:
        return [None]
    if kind not in _CIPHERS:
        raise EncryptionConfigError(
            f"{where}: provider {kind!r} is not supported (aescbc, aesgcm, secretbox, identity)"
        )
    factory, sizes = _CIPHERS[kind]
    found: list[Key | None] = []
    for entry in (body or {}).get("keys") or []:
        name = str((entry or {}).get("name") or "")
        try:
            secret = base64.b64decode(str((entry or {}).get("secret") or ""), validate=True)
        except binascii.Error as err:
            raise EncryptionConfigError(f"{where}: key {name!r} is not base64") from err
        if not name or ":" in name:
            raise EncryptionConfigError(f"{where}: a key needs a name without ':'")
        if len(secret) not in sizes:
            raise EncryptionConfigError(
                f"{where}: key {name!r} is {len(secret)} bytes; {kind} takes "
                + " or ".join(str(s) for s in sizes)
            )
        found.append(Key(kind, name, factory(secret)))
    if not found:
        raise EncryptionConfigError(f"{where}: {kind} needs at least one key")
    return found


class EncryptedStorage:
    """A ``Storage`` whose values are encrypted by ``transformer`` (the etcd key is the
    associated data)."""

    def __init__(self, inner: Storage, transformer: Transformer) -> None:
        self._inner = inner
        self._transformer = transformer

    def _seal(self, key: str, value: bytes) -> bytes:
        return self._transformer.encrypt(value, key.encode())

    def _open(self, key: str, value: bytes) -> bytes:
        return self._transformer.decrypt(value, key.encode())

    def _kv(self, kv: KeyValue) -> KeyValue:
        return replace(kv, value=self._open(kv.key, kv.value))

    async def get(self, key: str) -> KeyValue | None:
        kv = await self._inner.get(key)
        return None if kv is None else self._kv(kv)

    async def create(self, key: str, value: bytes, companions: Companions = NO_COMPANIONS) -> int:
        return await self._inner.create(key, self._seal(key, value), companions)

    async def update(
        self,
        key: str,
        value: bytes,
        expected_revision: int,
        companions: Companions = NO_COMPANIONS,
    ) -> int:
        try:
            return await self._inner.update(
                key, self._seal(key, value), expected_revision, companions
            )
        except RevisionConflictError as err:
            current = None if err.current is None else self._kv(err.current)
            raise RevisionConflictError(key, current) from err

    async def delete(
        self, key: str, expected_revision: int, companions: Companions = NO_COMPANIONS
    ) -> int:
        return await self._inner.delete(key, expected_revision, companions)

    async def list_prefix(
        self, prefix: str, *, start: str | None = None, limit: int = 0, revision: int = 0
    ) -> ListResult:
        listed = await self._inner.list_prefix(prefix, start=start, limit=limit, revision=revision)
        return replace(listed, items=[self._kv(kv) for kv in listed.items])

    async def count(self, prefix: str) -> int:
        return await self._inner.count(prefix)

    async def put_with_ttl(self, key: str, value: bytes, ttl: int) -> int:
        return await self._inner.put_with_ttl(key, self._seal(key, value), ttl)

    async def delete_key(self, key: str) -> None:
        await self._inner.delete_key(key)

    def watch(self, prefix: str, start_revision: int, *, prev_values: bool = True) -> WatchStream:
        return _DecryptingWatch(
            self, self._inner.watch(prefix, start_revision, prev_values=prev_values)
        )

    async def current_revision(self) -> int:
        return await self._inner.current_revision()

    async def compact(self, revision: int) -> None:
        await self._inner.compact(revision)

    async def close(self) -> None:
        """The shared connection is the server's to close."""


class _DecryptingWatch:
    def __init__(self, storage: EncryptedStorage, inner: WatchStream) -> None:
        self._storage = storage
        self._inner = inner

    def _event(self, ev: StorageEvent) -> StorageEvent:
        def plain(value: bytes | None) -> bytes | None:
            return None if value is None else self._storage._open(ev.key, value)

        return replace(ev, value=plain(ev.value), prev_value=plain(ev.prev_value))

    async def _batches(self) -> AsyncIterator[WatchBatch]:
        async for batch in self._inner:
            yield replace(batch, events=[self._event(ev) for ev in batch.events])

    def __aiter__(self) -> AsyncIterator[WatchBatch]:
        return self._batches()

    async def request_progress(self) -> None:
        await self._inner.request_progress()

    async def close(self) -> None:
        await self._inner.close()
