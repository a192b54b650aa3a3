"""The generic store: every verb for every kind, over ``Storage`` and the watch cache.

Objects live in etcd as their JSON wire form, without ``resourceVersion``: that is
the key's modification revision, stamped on every read. Writes are compare-and-swap
on that revision. An update or patch without a ``resourceVersion`` precondition
retries on conflict against the fresh object ("guaranteed update"); one with a
precondition answers 409 instead.

The per-kind rules come from the kind's ``Strategy``; nothing here is specific to a
kind.
"""

from __future__ import annotations

import base64
import binascii
import logging
import posixpath
import secrets
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import ValidationError

from apiserver import admission, errors
from apiserver.fieldmanager import FieldManager
from apiserver.registry.strategy import StoreContext, Strategy
from apiserver.storage.interface import (
    CompactedError,
    FutureRevisionError,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    RevisionConflictError,
    Storage,
    TooLargeError,
    UnavailableError,
)
from apiserver.user import UserInfo
from apiserver.watchcache import CachedObject, Codec, Predicate, WatchCache
from apitypes.base import KubeObject, now
from apitypes.schema import prune_unknown
from apitypes.typed import MISSING
from apitypes.validation import FieldError

if TYPE_CHECKING:
    from apiserver.registry.subresource import Subresource

log = logging.getLogger(__name__)

# Kubernetes retries a generated name a few times before giving up.
_GENERATE_NAME_ATTEMPTS = 8
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_FRESHNESS_TIMEOUT = 3.0
_MAX_UPDATE_ATTEMPTS = 64
# Tries of a create whose allocations (companion keys) another apiserver took first.
_ALLOCATION_ATTEMPTS = 4


@dataclass
class WriteResult:
    """The stored object, and the warnings to send with it."""

    obj: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    created: bool = False


@dataclass
class DeleteResult:
    obj: dict[str, Any]
    deleted: bool
    """True if the object is gone; False if it is only marked (finalizers, grace)."""


@dataclass
class ListResult:
    items: list[bytes]
    """Each object's JSON, ``resourceVersion`` included."""
    resource_version: str
    continue_token: str | None = None
    remaining: int | None = None


@dataclass(frozen=True)
class ListOptions:
    predicate: Predicate
    limit: int = 0
    continue_token: str | None = None
    resource_version: str | None = None
    resource_version_match: str | None = None


@dataclass(frozen=True)
class DeleteOptions:
    grace_period_seconds: int | None = None
    precondition_uid: str | None = None
    precondition_resource_version: str | None = None
    propagation_policy: str | None = None
    dry_run: bool = False
    user: UserInfo | None = None
    """Who deletes (admission sees it); None for the server's own deletes."""


@dataclass(frozen=True)
class WriteOptions:
    dry_run: bool = False
    field_validation: str = "Warn"  # Ignore | Warn | Strict
    user: UserInfo | None = None
    """Who writes: the write passes admission as this user. None for the server's own
    writes (its default namespaces, the bootstrap policy), which admission skips."""
    field_manager: str = ""
    """Who writes, as recorded in ``metadata.managedFields`` (``unknown`` if empty)."""
    subresource: str = ""
    """The subresource the write is recorded under, when it is not the one whose rules
    the store applies (``scale`` writes through the main resource's rules)."""


def stamp(obj: dict[str, Any], revision: int) -> dict[str, Any]:
    obj.setdefault("metadata", {})["resourceVersion"] = str(revision)
    return obj


def encode(obj: dict[str, Any]) -> bytes:
    """The stored form: the wire form without ``resourceVersion``."""
    meta = obj.get("metadata")
    if meta and "resourceVersion" in meta:
        meta = dict(meta)
        del meta["resourceVersion"]
        obj = {**obj, "metadata": meta}
    return orjson.dumps(obj)


class ResourceStore:
    """Create, read, update, delete, list and watch one resource."""

    def __init__(
        self,
        strategy: Strategy,
        storage: Storage,
        *,
        prefix: str = "/registry",
        namespace_exists: Callable[[str], Any] | None = None,
        cache_capacity: int = 10_000,
    ) -> None:
        self.strategy = strategy
        self.resource = strategy.resource
        self.model = strategy.resource.model
        self._storage = storage
        self._root = f"{prefix}/{self.resource.group + '/' if self.resource.group else ''}"
        self.prefix = f"{self._root}{self.resource.plural}/"
        self._ctx = StoreContext(storage=storage, prefix=prefix)
        self.codec = Codec(strategy.field_set)
        self.cache = WatchCache(storage, self.prefix, self.codec, capacity=cache_capacity)
        self.fields = FieldManager(self.model, status_subresource=strategy.status_subresource)
        self._namespace_exists = namespace_exists
        self.admission: admission.Chain | None = None
        """The admission chain writes with a user pass (set by the server)."""

    # --- keys -----------------------------------------------------------------------

    def key(self, namespace: str | None, name: str) -> str:
        if self.resource.namespaced:
            return f"{self.prefix}{namespace}/{name}"
        return f"{self.prefix}{name}"

    def _collection_prefix(self, namespace: str | None) -> str:
        if self.resource.namespaced and namespace:
            return f"{self.prefix}{namespace}/"
        return self.prefix

    # --- decoding ---------------------------------------------------------------------

    def decode(self, kv: KeyValue) -> dict[str, Any]:
        return stamp(orjson.loads(kv.value), kv.mod_revision)

    def typed(self, obj: dict[str, Any], *, path: str = "") -> Any:
        """The model of a wire-form object; type errors become a 422 naming the field."""
        try:
            return self.model.model_validate(obj)
        except ValidationError as err:
            name = (obj.get("metadata") or {}).get("name")
            raise errors.invalid(
                self.resource.kind, name, _validation_causes(err), self.resource.group
            ) from err

    def _untyped(self, obj: KubeObject) -> dict[str, Any]:
        return obj.to_dict()

    def _prune(self, body: dict[str, Any], opts: WriteOptions) -> list[str]:
        meta = body.get("metadata")
        managed = meta.pop("managedFields", MISSING) if isinstance(meta, dict) else MISSING
        dropped = prune_unknown(self.model, body)
        if managed is not MISSING:
            # The field manager reads these itself, and writes back only known keys.
            body["metadata"]["managedFields"] = managed
        if not dropped or opts.field_validation == "Ignore":
            return []
        if opts.field_validation == "Strict":
            detail = ", ".join(f'unknown field "{p}"' for p in dropped)
            raise errors.bad_request(f"strict decoding error: {detail}")
        return [f'unknown field "{p}"' for p in dropped]

    # --- get ----------------------------------------------------------------------------

    async def get(self, namespace: str | None, name: str) -> dict[str, Any]:
        kv = await self._read(self.key(namespace, name))
        if kv is None:
            raise self._not_found(name)
        return self.decode(kv)

    async def _read(self, key: str) -> KeyValue | None:
        try:
            return await self._storage.get(key)
        except UnavailableError as err:
            raise errors.service_unavailable(str(err)) from err

    def _not_found(self, name: str) -> errors.ApiError:
        return errors.not_found(self.resource.plural, name, self.resource.group)

    def _too_large(self, name: str, err: TooLargeError) -> errors.ApiError:
        return errors.object_too_large(self.resource.plural, name, err.size, self.resource.group)

    # --- create --------------------------------------------------------------------------

    async def create(
        self,
        namespace: str | None,
        body: dict[str, Any],
        opts: WriteOptions,
        *,
        fields_recorded: bool = False,
    ) -> WriteResult:
        """Store a new object. Its ``managedFields`` record ``opts.field_manager`` as
        the writer of everything in it, unless ``fields_recorded`` (an apply did)."""
        self._check_kind(body)
        warnings = self._prune(body, opts)
        meta = body.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        # managedFields never go through the model: the field manager reads and writes
        # them as JSON (and validating them would cost as much as the rest).
        requested = meta.pop("managedFields", MISSING)
        if self.resource.namespaced:
            body_ns = meta.get("namespace")
            if body_ns and namespace and body_ns != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent "
                    "on the request"
                )
            meta["namespace"] = namespace or body_ns
        else:
            meta.pop("namespace", None)
        obj = self.typed(body)
        self._reset_system_metadata(obj)
        self.strategy.prepare_for_create(obj)
        self.strategy.prepare_for_user(obj, opts.user)
        self.strategy.default(obj)
        generated = not obj.metadata.name and bool(obj.metadata.generate_name)
        if generated:
            obj.metadata.name = obj.metadata.generate_name + _random_suffix()
        attrs = self._attributes(admission.CREATE, obj, None, opts.user, opts.dry_run)
        await self._admission(attrs, "admit")
        self._raise_invalid(obj, self.strategy.validate(obj))
        if self.resource.namespaced:
            await self._check_namespace(obj.metadata.namespace)
        await self._admission(attrs, "validate")
        warnings = warnings + _warnings(attrs)
        attempts = _GENERATE_NAME_ATTEMPTS if generated else 1
        # The companions hook fills in what it allocates; a retry starts from this copy
        # (taken only for kinds that allocate: copying costs as much as validating).
        pristine = self._untyped(obj) if self.strategy.allocates else None
        allocation_retries = _ALLOCATION_ATTEMPTS - 1
        attempt = 0
        while attempt < attempts:
            self.strategy.canonicalize(obj)
            companions = await self.strategy.companions_for_create(obj, self._ctx)
            wire = self._untyped(obj)
            if fields_recorded:
                _set_managed_fields(wire, requested)
            else:
                self.fields.update(
                    None,
                    wire,
                    opts.field_manager,
                    subresource=opts.subresource,
                    requested=requested,
                )
            if opts.dry_run:
                return WriteResult(obj=stamp(wire, 0) | {}, warnings=warnings, created=True)
            try:
                revision = await self._storage.create(
                    self.key(obj.metadata.namespace, obj.metadata.name), encode(wire), companions
                )
            except KeyExistsError as err:
                if (
                    not err.key.startswith(self.prefix)
                    and allocation_retries > 0
                    and pristine is not None
                ):
                    # Another apiserver took an allocation between our read and write.
                    allocation_retries -= 1
                    name = obj.metadata.name
                    obj = self.typed(pristine)
                    obj.metadata.name = name
                    continue
                if generated and err.key.startswith(self.prefix) and attempt + 1 < attempts:
                    attempt += 1
                    obj.metadata.name = obj.metadata.generate_name + _random_suffix()
                    continue
                if not err.key.startswith(self.prefix):
                    # A companion (an allocated IP or port) was taken concurrently.
                    raise errors.conflict(
                        self.resource.plural,
                        obj.metadata.name,
                        self.resource.group,
                        f"allocation {err.key.rsplit('/', 1)[-1]} was taken; try again",
                    ) from err
                raise errors.already_exists(
                    self.resource.plural, obj.metadata.name, self.resource.group
                ) from err
            except UnavailableError as err:
                raise errors.service_unavailable(str(err)) from err
            except TooLargeError as err:
                raise self._too_large(obj.metadata.name, err) from err
            return WriteResult(obj=stamp(wire, revision), warnings=warnings, created=True)
        raise errors.already_exists(self.resource.plural, obj.metadata.name, self.resource.group)

    def _check_kind(self, body: dict[str, Any]) -> None:
        kind = body.get("kind")
        api_version = body.get("apiVersion")
        if kind and kind != self.resource.kind:
            raise errors.bad_request(
                f"the kind of the provided object ({kind}) does not match the kind of the "
                f"resource ({self.resource.kind}) at this URL"
            )
        if api_version and api_version != self.resource.api_version:
            raise errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected "
                f"API version ({self.resource.api_version})"
            )

    def _attributes(
        self,
        operation: str,
        obj: Any,
        old: Any,
        user: UserInfo | None,
        dry_run: bool,
        subresource: str = "",
    ) -> admission.Attributes | None:
        """What admission sees of a write; None when it is not admitted (the server's
        own writes, or no chain)."""
        if user is None or self.admission is None:
            return None
        meta = (obj if obj is not None else old).metadata
        return admission.Attributes(
            operation=operation,
            resource=self.resource,
            namespace=meta.namespace if self.resource.namespaced else None,
            name=meta.name or "",
            user=user,
            obj=obj,
            old=old,
            subresource=subresource,
            dry_run=dry_run,
        )

    async def _admission(
        self, attrs: admission.Attributes | None, phase: str, *, stale: bool = False
    ) -> bool:
        """Run admission's ``admit`` or ``validate`` phase on a write (nothing for the
        server's own writes). A refusal of a write computed from a possibly stale copy
        (the watch cache's) answers False: the caller retries from a fresh read."""
        if attrs is None or self.admission is None:
            return True
        try:
            if phase == "admit":
                await self.admission.admit(attrs)
            else:
                await self.admission.validate(attrs)
        except errors.ApiError:
            if stale:
                return False
            raise
        return True

    def _reset_system_metadata(self, obj: Any) -> None:
        meta = obj.metadata
        meta.uid = str(uuid.uuid4())
        meta.creation_timestamp = now()
        meta.resource_version = None
        meta.deletion_timestamp = None
        meta.deletion_grace_period_seconds = None
        meta.self_link = None
        meta.generation = 1 if self.strategy.generation else None

    async def _check_namespace(self, namespace: str | None) -> None:
        if not namespace:
            raise errors.bad_request("a namespace is required for namespaced resources")
        if self._namespace_exists is None:
            return
        state = await self._namespace_exists(namespace)
        if state is None:
            raise errors.not_found("namespaces", namespace)
        if state == "Terminating":
            raise errors.forbidden(
                self.resource.plural,
                "",
                f"unable to create new content in namespace {namespace} because it is being "
                "terminated",
                self.resource.group,
            )

    def _raise_invalid(self, obj: Any, errs: list[FieldError]) -> None:
        if errs:
            raise errors.invalid(self.resource.kind, obj.metadata.name, errs, self.resource.group)

    # --- update ------------------------------------------------------------------------

    async def update(
        self,
        namespace: str | None,
        name: str,
        body: dict[str, Any],
        opts: WriteOptions,
        *,
        subresource: Subresource | str | None = None,
    ) -> WriteResult:
        """Replace the object with ``body``. Through a ``subresource`` (a declared one,
        or its name), that subresource's rules say what the write may change, whether
        defaults apply and what is validated; without one, the kind's rules do."""
        self._check_kind(body)
        warnings = self._prune(body, opts)
        meta = body.get("metadata")
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        if meta.get("name") and meta["name"] != name:
            raise errors.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL "
                f"({name})"
            )
        meta["name"] = name
        if self.resource.namespaced:
            if meta.get("namespace") and namespace and meta["namespace"] != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent "
                    "on the request"
                )
            meta["namespace"] = namespace
        precondition = meta.get("resourceVersion") or None

        def transform(current: dict[str, Any]) -> dict[str, Any]:
            if precondition and precondition != current["metadata"]["resourceVersion"]:
                raise errors.conflict(self.resource.plural, name, self.resource.group)
            if not precondition and not self.strategy.allow_unconditional_update:
                raise errors.invalid(
                    self.resource.kind,
                    name,
                    [_rv_required()],
                    self.resource.group,
                )
            return orjson.loads(orjson.dumps(body))

        async def create() -> WriteResult:
            return await self.create(namespace, body, opts)

        result = await self._guaranteed_update(
            namespace,
            name,
            transform,
            opts,
            subresource=subresource,
            on_missing=create if self.strategy.allow_create_on_update else None,
        )
        result.warnings = warnings + result.warnings
        return result

    async def patch(
        self,
        namespace: str | None,
        name: str,
        apply_patch: Callable[[dict[str, Any]], dict[str, Any]],
        opts: WriteOptions,
        *,
        subresource: Subresource | str | None = None,
    ) -> WriteResult:
        """Apply ``apply_patch`` to the current object and store the result.

        A patch that sets ``metadata.resourceVersion`` is a precondition; otherwise the
        patch is re-applied to the fresh object on conflict. ``subresource`` as for
        ``update``.
        """
        warnings: list[str] = []

        def transform(current: dict[str, Any]) -> dict[str, Any]:
            rv = current["metadata"]["resourceVersion"]
            patched = apply_patch(current)
            if not isinstance(patched, dict) or not isinstance(patched.get("metadata"), dict):
                raise errors.bad_request("the patch produced an object without metadata")
            if patched["metadata"].get("resourceVersion", rv) != rv:
                raise errors.conflict(self.resource.plural, name, self.resource.group)
            patched_meta = patched["metadata"]
            if patched_meta.get("name") != name:
                raise errors.bad_request(
                    f"the name of the object ({patched_meta.get('name')}) does not match the "
                    f"name on the URL ({name})"
                )
            warnings[:] = self._prune(patched, opts)
            return patched

        result = await self._guaranteed_update(
            namespace, name, transform, opts, subresource=subresource
        )
        result.warnings = warnings + result.warnings
        return result

    async def apply(
        self,
        namespace: str | None,
        name: str,
        config: dict[str, Any],
        opts: WriteOptions,
        *,
        force: bool = False,
        subresource: Subresource | str | None = None,
    ) -> WriteResult:
        """Server-side apply ``config`` as ``opts.field_manager``: merge it into the
        object (creating the object if there is none, unless through a subresource),
        taking ownership of its fields; 409 on fields other managers own unless
        ``force``. A ``resourceVersion`` in ``config`` is a precondition."""
        warnings = self._prune(config, opts)
        if isinstance(subresource, str):
            subresource = self._declared(subresource)
        recorded = opts.subresource or (subresource.name if subresource is not None else "")
        meta = config.get("metadata")
        if meta is not None and not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        meta = meta or {}
        if meta.get("name", name) != name:
            raise errors.bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the "
                f"URL ({name})"
            )
        if self.resource.namespaced and meta.get("namespace") not in (None, "", namespace):
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        precondition = meta.get("resourceVersion") or None

        def transform(current: dict[str, Any]) -> dict[str, Any]:
            if precondition and precondition != current["metadata"]["resourceVersion"]:
                raise errors.conflict(self.resource.plural, name, self.resource.group)
            return self.fields.apply(
                current, config, opts.field_manager, force=force, subresource=recorded
            )

        async def create() -> WriteResult:
            if precondition:
                raise self._not_found(name)
            obj = self.fields.apply(
                None, config, opts.field_manager, force=force, subresource=recorded
            )
            if (obj.get("metadata") or {}).get("name") != name:
                raise errors.bad_request(
                    f"the name of the object () does not match the name on the URL ({name})"
                )
            return await self.create(namespace, obj, opts, fields_recorded=True)

        result = await self._guaranteed_update(
            namespace,
            name,
            transform,
            opts,
            subresource=subresource,
            on_missing=create if subresource is None else None,
            record_fields=False,
        )
        result.warnings = warnings + result.warnings
        return result

    async def _guaranteed_update(
        self,
        namespace: str | None,
        name: str,
        transform: Callable[[dict[str, Any]], dict[str, Any]],
        opts: WriteOptions,
        *,
        subresource: Subresource | str | None = None,
        on_missing: Callable[[], Awaitable[WriteResult]] | None = None,
        record_fields: bool = True,
    ) -> WriteResult:
        """Read, ``transform``, check and store, retrying on a concurrent write.

        ``on_missing`` answers when there is no object (a create, for kinds that allow
        one on update, and for applies); without it that is a 404. Unless told the
        transform did it (``record_fields`` false: an apply), the write is recorded in
        ``managedFields`` as ``opts.field_manager``'s.
        """
        key = self.key(namespace, name)
        if isinstance(subresource, str):
            subresource = self._declared(subresource)
        recorded = opts.subresource or (subresource.name if subresource is not None else "")
        allocation_retries = _ALLOCATION_ATTEMPTS - 1
        # The first attempt starts from the watch cache's copy, as Kubernetes'
        # GuaranteedUpdate does: it saves a read from etcd, and the write is a
        # compare-and-swap on its revision, so a stale copy costs one retry, never a
        # wrong write. Whatever the stale copy made us conclude (an error, "nothing to
        # change") is checked again against a fresh read.
        suggestion = self.cache.get(key) if self.cache.ready and not opts.dry_run else None
        for _ in range(_MAX_UPDATE_ATTEMPTS):
            from_cache, suggestion = suggestion, None
            if from_cache is not None:
                current = from_cache.obj()
                kv = KeyValue(key, b"", int(current["metadata"]["resourceVersion"]), 0)
            else:
                fresh = await self._read(key)
                if fresh is None:
                    if on_missing is not None:
                        return await on_missing()
                    raise self._not_found(name)
                kv, current = fresh, self.decode(fresh)
            try:
                desired = transform(orjson.loads(orjson.dumps(current)))
                self._check_kind(desired)
                desired_meta = desired.get("metadata")
                requested = (
                    desired_meta.pop("managedFields", MISSING)
                    if isinstance(desired_meta, dict)
                    else MISSING
                )
                old = self.typed(_without_managed_fields(current))
                new = self.typed(desired)
            except errors.ApiError:
                if from_cache is not None:
                    continue
                raise
            self._keep_system_metadata(new, old)
            # The main resource keeps status (for kinds with a status subresource); a
            # write through a subresource keeps, defaults and checks what its own rules
            # say (``status`` keeps the rest and checks metadata and status only).
            if subresource is None:
                self.strategy.prepare_for_update(new, old)
                self.strategy.default(new)
            else:
                subresource.prepare_for_update(self.strategy, new, old)
                subresource.default(self.strategy, new)
            attrs = self._attributes(
                admission.UPDATE, new, old, opts.user, opts.dry_run,
                subresource.name if subresource is not None else "",
            )  # fmt: skip
            if not await self._admission(attrs, "admit", stale=from_cache is not None):
                continue
            if subresource is None:
                errs = self.strategy.validate(new) + self.strategy.validate_update(new, old)
            else:
                errs = subresource.validate_update(self.strategy, new, old)
            if errs and from_cache is not None:
                continue
            self._raise_invalid(new, errs)
            if not await self._admission(attrs, "validate", stale=from_cache is not None):
                continue
            self.strategy.canonicalize(new)
            # May fill in allocations, so it runs before the object is serialised.
            companions = await self.strategy.companions_for_update(new, old, self._ctx)
            wire = self._untyped(new)
            if self.strategy.generation and _spec_changed(wire, current):
                wire["metadata"]["generation"] = (old.metadata.generation or 0) + 1
            if record_fields:
                self.fields.update(
                    current,
                    wire,
                    opts.field_manager,
                    subresource=recorded,
                    requested=requested,
                )
            else:
                _set_managed_fields(wire, requested)
            if _unchanged(wire, current):
                if from_cache is not None:
                    continue
                return WriteResult(obj=current)
            if opts.dry_run:
                return WriteResult(obj=stamp(wire, kv.mod_revision), warnings=_warnings(attrs))
            try:
                if _finalized(new) and not self.strategy.deletion_blocked(new):
                    revision = await self._storage.delete(
                        key, kv.mod_revision, self.strategy.companions_for_delete(old, self._ctx)
                    )
                    return WriteResult(obj=stamp(wire, revision), warnings=_warnings(attrs))
                revision = await self._storage.update(
                    key, encode(wire), kv.mod_revision, companions
                )
            except RevisionConflictError:
                continue
            except KeyNotFoundError as err:
                raise self._not_found(name) from err
            except KeyExistsError as err:
                if allocation_retries > 0:
                    # Another apiserver took an allocation first: redo the update afresh.
                    allocation_retries -= 1
                    continue
                raise errors.conflict(
                    self.resource.plural,
                    name,
                    self.resource.group,
                    f"allocation {err.key.rsplit('/', 1)[-1]} was taken; try again",
                ) from err
            except UnavailableError as err:
                raise errors.service_unavailable(str(err)) from err
            except TooLargeError as err:
                raise self._too_large(name, err) from err
            return WriteResult(obj=stamp(wire, revision), warnings=_warnings(attrs))
        raise errors.conflict(
            self.resource.plural,
            name,
            self.resource.group,
            "too many concurrent writers; try again",
        )

    def _declared(self, name: str) -> Subresource:
        declared = self.strategy.subresource(name)
        if declared is None:
            raise ValueError(f"{self.resource.plural} declares no subresource {name!r}")
        return declared

    def _keep_system_metadata(self, new: Any, old: Any) -> None:
        """Fields of metadata no client may change through an update."""
        nm, om = new.metadata, old.metadata
        nm.uid = om.uid
        nm.creation_timestamp = om.creation_timestamp
        nm.deletion_timestamp = om.deletion_timestamp
        nm.deletion_grace_period_seconds = om.deletion_grace_period_seconds
        nm.generation = om.generation
        nm.resource_version = None
        nm.self_link = None
        nm.namespace = om.namespace
        nm.generate_name = om.generate_name if nm.generate_name is None else nm.generate_name
        if om.deletion_timestamp is not None:
            # A terminating object may lose finalizers, never gain new ones.
            nm.finalizers = [f for f in nm.finalizers if f in om.finalizers]

    # --- delete ----------------------------------------------------------------------------

    async def delete(self, namespace: str | None, name: str, opts: DeleteOptions) -> DeleteResult:
        key = self.key(namespace, name)
        for _ in range(_MAX_UPDATE_ATTEMPTS):
            kv = await self._read(key)
            if kv is None:
                raise self._not_found(name)
            current = self.decode(kv)
            meta = current["metadata"]
            if opts.precondition_uid and opts.precondition_uid != meta.get("uid"):
                raise errors.conflict(
                    self.resource.plural,
                    name,
                    self.resource.group,
                    f"Precondition failed: UID in precondition: {opts.precondition_uid}, "
                    f"UID in object meta: {meta.get('uid')}",
                )
            if (
                opts.precondition_resource_version
                and opts.precondition_resource_version != meta["resourceVersion"]
            ):
                raise errors.conflict(
                    self.resource.plural,
                    name,
                    self.resource.group,
                    "Precondition failed: ResourceVersion in precondition: "
                    f"{opts.precondition_resource_version}, ResourceVersion in object meta: "
                    f"{meta['resourceVersion']}",
                )
            obj = self.typed(current)
            attrs = self._attributes(admission.DELETE, None, obj, opts.user, opts.dry_run)
            await self._admission(attrs, "validate")
            marked = self._mark_for_deletion(obj, opts)
            try:
                if marked is None:
                    if opts.dry_run:
                        return DeleteResult(obj=current, deleted=True)
                    revision = await self._storage.delete(
                        key, kv.mod_revision, self.strategy.companions_for_delete(obj, self._ctx)
                    )
                    return DeleteResult(obj=stamp(current, revision), deleted=True)
                wire = self._untyped(marked)
                if _unchanged(wire, current) or opts.dry_run:
                    return DeleteResult(obj=current, deleted=False)
                revision = await self._storage.update(key, encode(wire), kv.mod_revision)
                return DeleteResult(obj=stamp(wire, revision), deleted=False)
            except RevisionConflictError:
                continue
            except KeyNotFoundError as err:
                raise self._not_found(name) from err
            except UnavailableError as err:
                raise errors.service_unavailable(str(err)) from err
        raise errors.conflict(
            self.resource.plural,
            name,
            self.resource.group,
            "too many concurrent writers; try again",
        )

    def _mark_for_deletion(self, obj: Any, opts: DeleteOptions) -> Any | None:
        """The object marked as terminating, or None if it should go at once."""
        meta = obj.metadata
        finalizers = list(meta.finalizers)
        policy = opts.propagation_policy
        if policy == "Orphan":
            finalizers = [f for f in finalizers if f != "foregroundDeletion"]
            if "orphan" not in finalizers:
                finalizers.append("orphan")
        elif policy == "Foreground":
            finalizers = [f for f in finalizers if f != "orphan"]
            if "foregroundDeletion" not in finalizers:
                finalizers.append("foregroundDeletion")
        elif policy == "Background":
            finalizers = [f for f in finalizers if f not in ("orphan", "foregroundDeletion")]
        grace = self.strategy.delete_grace_seconds(obj, opts.grace_period_seconds)
        blocked = self.strategy.deletion_blocked(obj)
        current_time = now()
        if meta.deletion_timestamp is not None:
            # Already terminating: a delete may only shorten the remaining grace period.
            remaining = meta.deletion_grace_period_seconds or 0
            if grace >= remaining and grace != 0:
                return obj
            if grace == 0 and not meta.finalizers and not blocked:
                return None
            if grace < remaining:
                meta.deletion_timestamp = _after(current_time, grace)
                meta.deletion_grace_period_seconds = grace
            return obj
        if not finalizers and grace == 0 and not blocked:
            return None
        self.strategy.prepare_for_delete(obj)
        meta.finalizers = finalizers
        meta.deletion_timestamp = _after(current_time, grace)
        meta.deletion_grace_period_seconds = grace
        if self.strategy.generation:
            meta.generation = (meta.generation or 0) + 1
        return obj

    # --- list ---------------------------------------------------------------------------

    async def list_objects(self, opts: ListOptions) -> ListResult:
        # Only "any version" (resourceVersion=0) is served from the watch cache. A
        # consistent list (none given) or "not older than N" reads etcd, as Kubernetes
        # did before its consistent cache reads: the cache knows it is fresh only from
        # etcd's progress notifications, which etcd before 3.5.8 may send ahead of
        # events it has not delivered yet (an informer then lists without them and
        # watches from after them, and never sees them).
        if opts.resource_version != "0":
            result = await self._list_from_storage(opts)
            wanted = opts.resource_version
            if wanted and not opts.continue_token and opts.resource_version_match != "Exact":
                try:
                    too_new = int(wanted) > int(result.resource_version)
                except ValueError as err:
                    raise errors.bad_request(f'invalid resource version "{wanted}"') from err
                if too_new:
                    raise errors.timeout(
                        f"Too large resource version: {wanted}, current: {result.resource_version}"
                    )
            return result
        await self._cache_ready()
        snap = self.cache.snapshot()
        items = [co.raw for co in snap.select(opts.predicate)]
        return ListResult(items=items, resource_version=str(snap.revision))

    async def _cache_ready(self) -> None:
        try:
            await self.cache.wait_ready(_FRESHNESS_TIMEOUT * 10)
        except TimeoutError as err:
            raise errors.service_unavailable("the watch cache is not ready") from err

    async def _fresh(self, revision: int | None) -> None:
        """Wait until the cache holds every write up to ``revision`` (default: now)."""
        if revision is None:
            try:
                revision = await self._storage.current_revision()
            except UnavailableError as err:
                raise errors.service_unavailable(str(err)) from err
        await self._cache_ready()
        if not await self.cache.wait_fresh(revision, _FRESHNESS_TIMEOUT):
            raise errors.timeout(
                f"Too large resource version: {revision}, current: {self.cache.revision}"
            )

    async def _list_from_storage(self, opts: ListOptions) -> ListResult:
        base = self._collection_prefix(opts.predicate.namespace)
        revision = 0
        start: str | None = None
        if opts.continue_token:
            revision, start = _decode_continue(opts.continue_token, base)
        elif opts.resource_version_match == "Exact" and opts.resource_version:
            revision = int(opts.resource_version)
        items: list[bytes] = []
        limit = opts.limit
        pred = opts.predicate
        more = False
        last_key = ""
        count = 0
        try:
            while True:
                want = (limit - len(items)) if limit else 0
                page = await self._storage.list_prefix(
                    base, start=start, limit=max(want, 1) if limit else 0, revision=revision
                )
                revision = page.revision
                if start is None or not items:
                    count = page.count
                for kv in page.items:
                    co = self.codec.decode(kv.value, kv.mod_revision)
                    if pred.matches(co):
                        items.append(co.raw)
                    last_key = kv.key
                more = page.more
                if not more or (limit and len(items) >= limit):
                    break
                start = last_key + "\0"
        except CompactedError as err:
            raise errors.expired(
                "The provided continue parameter is too old to display a consistent list "
                "result. You can start a new list without the continue parameter."
            ) from err
        except FutureRevisionError as err:
            raise errors.timeout(f"Too large resource version: {revision}") from err
        except UnavailableError as err:
            raise errors.service_unavailable(str(err)) from err
        token = None
        remaining = None
        if more:
            token = _encode_continue(revision, last_key[len(base) :] + "\0")
            if pred.labels is None and pred.fields is None:
                remaining = max(count - len(items), 0)
        return ListResult(
            items=items, resource_version=str(revision), continue_token=token, remaining=remaining
        )

    # --- watch ------------------------------------------------------------------------------

    async def watch_start(self, pred: Predicate, resource_version: str | None) -> WatchStart:
        """Prepare a watch from the cache: for a watch without a version, the state to
        send first (a shared snapshot, never a copy per watch); the cursor into the
        cache's ring to follow, None when the version is older than the ring holds (the
        client must re-list: 410); and the starting revision."""
        if not resource_version or resource_version == "0":
            if resource_version == "0":
                await self._cache_ready()
            else:
                await self._fresh(None)
            snap = self.cache.snapshot()
            return WatchStart(snap.select(pred), snap.cursor, snap.revision)
        revision = int(resource_version)
        await self._cache_ready()
        if revision > self.cache.revision:
            await self._fresh(revision)
        if revision < self.cache.horizon:
            # Right after a (re-)list the ring's history may still be loading.
            await self.cache.wait_history(_FRESHNESS_TIMEOUT * 3)
        return WatchStart(iter(()), self.cache.cursor_after(revision), revision)


@dataclass
class WatchStart:
    """Where a watch begins: see ``ResourceStore.watch_start``."""

    initial: Iterator[CachedObject]
    cursor: int | None
    revision: int


# --- helpers ------------------------------------------------------------------------------


def _warnings(attrs: admission.Attributes | None) -> list[str]:
    return list(attrs.warnings) if attrs is not None else []


def _random_suffix() -> str:
    return "".join(secrets.choice(_NAME_ALPHABET) for _ in range(5))


def _after(start: datetime, seconds: int) -> datetime:
    """``start`` plus ``seconds``, at most the last instant a timestamp can hold (a grace
    period may be any int64, as in Kubernetes)."""
    try:
        return start + timedelta(seconds=seconds)
    except OverflowError:
        return datetime.max.replace(tzinfo=start.tzinfo)


def _spec_changed(new: dict[str, Any], old: dict[str, Any]) -> bool:
    ignore = ("metadata", "status", "apiVersion", "kind")
    return {k: v for k, v in new.items() if k not in ignore} != {
        k: v for k, v in old.items() if k not in ignore
    }


def _unchanged(new: dict[str, Any], old: dict[str, Any]) -> bool:
    """Whether writing ``new`` over ``old`` would change nothing but the version."""
    old_meta = {k: v for k, v in old.get("metadata", {}).items() if k != "resourceVersion"}
    new_meta = {k: v for k, v in new.get("metadata", {}).items() if k != "resourceVersion"}
    if old_meta != new_meta:
        return False
    return {k: v for k, v in new.items() if k != "metadata"} == {
        k: v for k, v in old.items() if k != "metadata"
    }


def _without_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` without ``metadata.managedFields`` (sharing the rest)."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or "managedFields" not in meta:
        return obj
    return {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}


def _set_managed_fields(wire: dict[str, Any], entries: Any) -> None:
    """Put back the managedFields an apply computed (they skip the model)."""
    if entries is MISSING or not entries:
        wire["metadata"].pop("managedFields", None)
    else:
        wire["metadata"]["managedFields"] = entries


def _finalized(obj: Any) -> bool:
    """A terminating object whose last finalizer is gone and whose grace has run out."""
    meta = obj.metadata
    return (
        meta.deletion_timestamp is not None
        and not meta.finalizers
        and not meta.deletion_grace_period_seconds
    )


def _rv_required() -> FieldError:
    from apitypes.validation import invalid

    return invalid("metadata.resourceVersion", 0, "must be specified for an update")


def _encode_continue(revision: int, start: str) -> str:
    raw = orjson.dumps({"v": "meta.k8s.io/v1", "rv": revision, "start": start})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_continue(token: str, base: str) -> tuple[int, str]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded))
        revision = int(data["rv"])
        start = str(data["start"])
    except (ValueError, KeyError, TypeError, binascii.Error) as err:
        raise errors.bad_request(f"continue key is not valid: {err}") from err
    if data.get("v") != "meta.k8s.io/v1":
        raise errors.bad_request("continue key is not valid: incorrect encoded start key")
    if not 0 < revision < 2**63:
        raise errors.bad_request(f"continue key is not valid: revision {revision} out of range")
    # As Kubernetes: a start key that is not already clean (``..``, ``//``, a leading
    # ``/``) could reach keys outside the collection, so a forged one is refused.
    relative = start[:-1] if start.endswith("\0") else start
    rooted = "/" + relative
    clean = not relative.startswith("/") and posixpath.normpath(rooted) == rooted
    if not clean or "\0" in relative:
        raise errors.bad_request(f"continue key is not valid: {relative!r} is not a clean key")
    return revision, base + start


def _validation_causes(err: ValidationError) -> list[FieldError]:
    """Pydantic's errors as Kubernetes field errors (``spec.containers[0].image``)."""
    from apitypes.validation import invalid, required

    out: list[FieldError] = []
    for e in err.errors():
        path = _wire_path(e["loc"])
        if e["type"] == "missing":
            out.append(required(path))
        else:
            value = e.get("input")
            if isinstance(value, dict | list):
                value = type(value).__name__
            out.append(invalid(path, value, e["msg"]))
    return out


def _wire_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out:
            out += f".{part}"
        else:
            out = str(part)
    return out
