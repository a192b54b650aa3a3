"""``metadata.managedFields``: which manager owns which fields, kept on every write, and
server-side apply.

Kubernetes' field manager (``k8s.io/apimachinery/pkg/util/managedfields/internal``) over
:mod:`apitypes.ownership`. One :class:`FieldManager` per resource; the store calls
:meth:`FieldManager.update` for every create, update and patch, and
:meth:`FieldManager.apply` for an apply patch. What it keeps, as Kubernetes does:

- one ``managedFields`` entry per manager: its name (``?fieldManager=``, else the
  ``User-Agent`` up to its first ``/``), the operation (``Apply`` or ``Update``), the API
  version, when it last changed something (``time``, seconds), the fields it owns
  (``fieldsType: FieldsV1``) and the subresource it wrote through;
- an update takes the fields it changed; its entry's time moves only when it did;
- at most ten ``Update`` entries: the oldest are merged into ``ancient-changes``;
- identity fields (``metadata.name``, ``uid``, ``resourceVersion`` ...) are owned by
  nobody; fields a write may not change (``status`` through the main resource,
  everything but status and metadata through ``status``) are not taken by it;
- ``managedFields`` sent in a write replace the stored ones only when they are valid
  (``[]`` or ``[{}]`` clear them); otherwise the stored ones are kept, and a
  subresource write always keeps them. An object without entries is not tracked by
  updates until it is first applied to (then what it holds goes to
  ``before-first-apply``);
- ``kubectl`` applying server-side to an object ``kubectl apply`` made client-side may
  take over the fields its last-applied annotation set, and keeps that annotation in
  step.

The cost on the hot paths (a kubelet's status patch, a controller's update) is a
comparison of the old and new object that skips equal subtrees, and the entries of the
other managers are decoded from a cache and written back untouched unless the write
took fields from them.
"""

from __future__ import annotations

import functools
import time as clock
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

import orjson

from apiserver import errors
from apitypes import fieldpath as fp
from apitypes import ownership, typed
from apitypes.base import KubeObject, format_time
from apitypes.fieldpath import FieldSet
from apitypes.ownership import ConflictError, VersionedSet
from apitypes.typed import MISSING
from apitypes.validation import FieldError, go_quote, invalid, too_long

APPLY: Final = "Apply"
UPDATE: Final = "Update"
FIELDS_V1: Final = "FieldsV1"
MAX_UPDATE_MANAGERS: Final = 10
"""Update entries kept before the oldest are merged (Kubernetes' ``DefaultMaxUpdateManagers``)."""
ANCIENT_CHANGES: Final = "ancient-changes"
BEFORE_FIRST_APPLY: Final = "before-first-apply"
UNKNOWN_MANAGER: Final = "unknown"
SERVER_MANAGER: Final = "kube-apiserver"
"""The manager of the apiserver's own writes (its default namespaces, evictions)."""
MANAGER_MAX_LENGTH: Final = 128
LAST_APPLIED: Final = "kubectl.kubernetes.io/last-applied-configuration"
KUBECTL: Final = "kubectl"
"""The only manager whose applies migrate ``kubectl apply``'s client-side annotation."""

# Fields nobody owns (Kubernetes' stripMetaManager).
_STRIPPED: Final[FieldSet] = frozenset(
    fp.path_of(*p)
    for p in (
        ("apiVersion",),
        ("kind",),
        ("metadata",),
        ("metadata", "name"),
        ("metadata", "namespace"),
        ("metadata", "creationTimestamp"),
        ("metadata", "selfLink"),
        ("metadata", "uid"),
        ("metadata", "clusterName"),
        ("metadata", "generation"),
        ("metadata", "managedFields"),
        ("metadata", "resourceVersion"),
    )
)
_UNCOMPARED_METADATA: Final = ("managedFields", "resourceVersion")


# --- managers ------------------------------------------------------------------------------


class ManagerKey(NamedTuple):
    """What identifies a managedFields entry: the manager, the operation, the API version
    (only for updates: an applier keeps its entry across versions) and the subresource."""

    manager: str
    operation: str
    api_version: str
    subresource: str

    @property
    def ident(self) -> str:
        """Kubernetes' manager identifier (the entry without fields and time, as JSON);
        conflicts and capped entries are ordered by it."""
        entry: dict[str, str] = {}
        for name, value in (
            ("manager", self.manager),
            ("operation", self.operation),
            ("apiVersion", self.api_version),
            ("subresource", self.subresource),
        ):
            if value:
                entry[name] = value
        return orjson.dumps(entry).decode()

    def describe(self) -> str:
        """How a conflict names this manager (``"kubectl" using apps/v1``)."""
        text = go_quote(self.manager)
        if self.subresource:
            text += f" with subresource {go_quote(self.subresource)}"
        if self.operation == UPDATE:
            text += f" using {self.api_version}"
        return text


def _key_of(entry: dict[str, Any]) -> ManagerKey:
    operation = entry.get("operation")
    return ManagerKey(
        _text(entry.get("manager")),
        _text(operation),
        "" if operation == APPLY else _text(entry.get("apiVersion")),
        _text(entry.get("subresource")),
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


@dataclass
class Managed:
    """Decoded managedFields: each manager's fields and time, and the entries as read
    (written back unchanged when neither changed)."""

    fields: dict[Any, VersionedSet] = field(default_factory=dict)
    times: dict[Any, str | None] = field(default_factory=dict)
    read: dict[Any, tuple[VersionedSet, str | None, dict[str, Any]]] = field(default_factory=dict)

    def copy(self) -> Managed:
        return Managed(dict(self.fields), dict(self.times), self.read)


@functools.lru_cache(maxsize=256)
def manager_from_user_agent(user_agent: str) -> str:
    """The manager of a write that names none: its ``User-Agent`` up to the first ``/``,
    printable characters only, at most 128 bytes (``kubectl/v1.32.0 (linux)`` ->
    ``kubectl``)."""
    out: list[str] = []
    size = 0
    for char in user_agent.split("/", 1)[0]:
        if not char.isprintable():
            continue
        width = len(char.encode())
        if size + width > MANAGER_MAX_LENGTH:
            break
        out.append(char)
        size += width
    return "".join(out)


def validate_manager(name: str) -> list[FieldError]:
    """Kubernetes' checks on ``fieldManager``: at most 128 bytes, printable only."""
    errs: list[FieldError] = []
    if len(name.encode()) > MANAGER_MAX_LENGTH:
        errs.append(too_long("fieldManager", "", MANAGER_MAX_LENGTH))
    position = 0
    for char in name:
        if not _printable(char):
            errs.append(
                invalid(
                    "fieldManager",
                    name,
                    f"invalid character U+{ord(char):04X} (at position {position})",
                )
            )
        position += len(char.encode())
    return errs


def _printable(char: str) -> bool:
    # Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and ASCII space.
    return char == " " or unicodedata.category(char)[0] in "LMNPS"


# --- encoding ------------------------------------------------------------------------------

_DECODED: dict[bytes, FieldSet] = {}
_ENCODED: dict[FieldSet, bytes] = {}
_CACHE_LIMIT: Final = 4096


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value


def _fields_of(document: Any) -> FieldSet:
    """The paths of a FieldsV1 document. Remembered: the objects of a kind share few
    distinct documents (every pod of a ReplicaSet has its creator's)."""
    raw = orjson.dumps(document)
    found = _DECODED.get(raw)
    if found is None:
        found = fp.from_fields_v1(document)
        _remember(_DECODED, raw, found)
    return found


def _document_of(paths: FieldSet) -> Any:
    raw = _ENCODED.get(paths)
    if raw is None:
        raw = orjson.dumps(fp.to_fields_v1(paths))
        _remember(_ENCODED, paths, raw)
    return orjson.loads(raw)


def decode(entries: Any, *, ours: bool = True) -> Managed:
    """The managers of a ``managedFields`` list; :class:`ValueError` when it is not a
    valid one (an unknown operation, no API version, a fieldsType other than FieldsV1,
    fields that are no FieldsV1 document). Entries the server wrote itself (``ours``)
    are written back as they are when they do not change; a client's are always
    re-encoded."""
    if not isinstance(entries, list):
        raise ValueError("managedFields must be a list")
    managed = Managed()
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"managed fields entry {i} is not an object")
        operation = entry.get("operation")
        if operation not in (APPLY, UPDATE):
            raise ValueError("operation must be `Apply` or `Update`")
        version = entry.get("apiVersion")
        if not isinstance(version, str) or not version:
            raise ValueError("apiVersion must not be empty")
        fields_type = entry.get("fieldsType")
        if not fields_type:
            raise ValueError(f"missing fieldsType in managed fields entry {i}")
        if fields_type != FIELDS_V1:
            raise ValueError(f"invalid fieldsType {fields_type!r} in managed fields entry {i}")
        try:
            paths = _fields_of(entry.get("fieldsV1") or {})
        except fp.FieldPathError as err:
            raise ValueError(f"error decoding managed fields entry {i}: {err}") from err
        time = entry.get("time")
        time = time if isinstance(time, str) else None
        key = _key_of(entry)
        owned = VersionedSet(paths, version, operation == APPLY)
        managed.fields[key] = owned
        managed.times[key] = time
        if ours:
            managed.read[key] = (owned, time, entry)
    return managed


def _decode_or_empty(entries: Any) -> Managed:
    if not entries:
        return Managed()
    try:
        return decode(entries)
    except ValueError:
        return Managed()


def encode(managed: Managed) -> list[dict[str, Any]]:
    """The ``managedFields`` list of ``managed``, in Kubernetes' order (applies first,
    then by time, manager, API version and subresource)."""
    entries: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    for key, owned in managed.fields.items():
        assert isinstance(key, ManagerKey)
        time = managed.times.get(key)
        read = managed.read.get(key)
        if read is not None and read[0] is owned and read[1] == time:
            entry = read[2]
        elif read is not None and read[0] is owned:
            entry = {**read[2]}  # the same fields, a new time
            entry["time"] = time
        else:
            entry = {"manager": key.manager, "operation": APPLY if owned.applied else UPDATE}
            entry["apiVersion"] = owned.api_version
            if time is not None:
                entry["time"] = time
            entry["fieldsType"] = FIELDS_V1
            entry["fieldsV1"] = _document_of(owned.fields)
            if key.subresource:
                entry["subresource"] = key.subresource
        order = (
            entry["operation"],
            _seconds(time),
            key.manager,
            owned.api_version,
            key.subresource,
        )
        entries.append((order, entry))
    entries.sort(key=lambda pair: pair[0])
    return [entry for _, entry in entries]


@functools.lru_cache(maxsize=1024)
def _seconds(time: str | None) -> int:
    if not time:
        return 0
    try:
        return int(datetime.fromisoformat(time.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


_clock: list[Any] = [0, ""]


def _now() -> str:
    """The time an entry records: now, to the second (formatted once a second)."""
    second = int(clock.time())
    if _clock[0] != second:
        _clock[0], _clock[1] = second, format_time(datetime.fromtimestamp(second, UTC))
    return str(_clock[1])


def _is_reset(requested: Any) -> bool:
    """``managedFields: []`` or ``[{}]``: the writer asks for them to be cleared."""
    return isinstance(requested, list) and requested in ([], [{}])


def _stripped(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` without what is never compared (its managedFields and version); shares
    everything else."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not any(k in meta for k in _UNCOMPARED_METADATA):
        return obj
    return {
        **obj,
        "metadata": {k: v for k, v in meta.items() if k not in _UNCOMPARED_METADATA},
    }


def _cap(managed: Managed) -> None:
    """Merge the oldest Update entries into ``ancient-changes`` (one per API version)
    until at most :data:`MAX_UPDATE_MANAGERS` are left (Kubernetes' capManagersManager)."""
    updaters = [key for key, owned in managed.fields.items() if not owned.applied]
    if len(updaters) <= MAX_UPDATE_MANAGERS:
        return
    updaters.sort(key=lambda key: (_seconds(managed.times.get(key)), key.ident))
    first_of_version: dict[str, ManagerKey] = {}
    count = len(updaters)
    for key in updaters:
        if count <= MAX_UPDATE_MANAGERS:
            break
        owned = managed.fields[key]
        version = owned.api_version
        bucket = ManagerKey(ANCIENT_CHANGES, UPDATE, version, "")
        first = first_of_version.get(version)
        if first is None:
            first_of_version[version] = key
            continue
        if bucket not in managed.fields:
            managed.fields[bucket] = managed.fields.pop(first)
            managed.times.pop(first, None)
        merged = managed.fields[bucket].fields | owned.fields
        managed.fields[bucket] = VersionedSet(merged, version, owned.applied)
        managed.times[bucket] = managed.times.get(key)
        del managed.fields[key]
        managed.times.pop(key, None)
        count -= 1


# --- the field manager ---------------------------------------------------------------------


class FieldManager:
    """Keeps ``managedFields`` for the objects of one kind."""

    def __init__(self, model: type[KubeObject], *, status_subresource: bool) -> None:
        self.model = model
        self.node = typed.of_model(model)
        self.api_version = model.API_VERSION
        self.kind = model.KIND
        main_only = frozenset({fp.path_of("status")}) if status_subresource else fp.EMPTY
        status_only = frozenset(
            fp.path_of(name)
            for name in self.node.fields()
            if name not in ("metadata", "status", "apiVersion", "kind")
        )
        self._reset = {"": main_only, "status": status_only}

    def _ignored(self, subresource: str) -> FieldSet:
        return self._reset.get(subresource, fp.EMPTY)

    def _order(self, key: Any) -> str:
        return key.ident if isinstance(key, ManagerKey) else ""

    # --- updates ---------------------------------------------------------------------

    def update(
        self,
        live: dict[str, Any] | None,
        new: dict[str, Any],
        manager: str,
        *,
        subresource: str = "",
        requested: Any = MISSING,
    ) -> None:
        """Record in ``new`` (a wire-form object about to be stored; its
        ``metadata.managedFields`` is set in place) that ``manager`` wrote it over
        ``live`` (None for a create). ``requested`` is the managedFields the request
        carried, MISSING when it carried none. Never fails: on a value it cannot walk,
        ``new`` keeps the stored entries."""
        meta = new["metadata"]
        stored = (live or {}).get("metadata", {}).get("managedFields") if live else None
        old = _stripped(live) if live is not None else None
        fresh = _stripped(new)
        keeps_stored = subresource or requested is MISSING or requested == stored
        if keeps_stored and old is not None and typed.same(old, fresh):
            # Nothing changes (a no-op write, which the store will skip): nor do the
            # entries.
            self._put(meta, stored)
            return
        if keeps_stored:
            managed = _decode_or_empty(stored)
        elif _is_reset(requested):
            managed = Managed()
        else:
            try:
                managed = decode(requested, ours=False)
            except ValueError:
                managed = Managed()
            if not managed.fields:
                managed = _decode_or_empty(stored)
        if not managed.fields and live is not None:
            # Not tracked yet (written before tracking, or cleared): wait for an apply.
            meta.pop("managedFields", None)
            return
        try:
            self._record_update(old, fresh, managed, manager, subresource)
        except ValueError:
            self._put(meta, stored)
            return
        self._store(meta, managed)

    def _record_update(
        self,
        old: dict[str, Any] | None,
        new: dict[str, Any],
        managed: Managed,
        manager: str,
        subresource: str,
    ) -> None:
        key = ManagerKey(manager or UNKNOWN_MANAGER, UPDATE, self.api_version, subresource)
        fields, took = ownership.update(
            old,
            new,
            self.api_version,
            managed.fields,
            key,
            node=self.node,
            ignored=self._ignored(subresource),
            never=_STRIPPED,
            order=self._order,
        )
        if took:
            managed.times[key] = _now()
        managed.fields = fields
        _cap(managed)

    def _store(self, meta: dict[str, Any], managed: Managed) -> None:
        self._put(meta, encode(managed) if managed.fields else None)

    @staticmethod
    def _put(meta: dict[str, Any], entries: Any) -> None:
        if entries:
            meta["managedFields"] = entries
        else:
            meta.pop("managedFields", None)

    # --- apply -----------------------------------------------------------------------

    def apply(
        self,
        live: dict[str, Any] | None,
        config: dict[str, Any],
        manager: str,
        *,
        force: bool,
        subresource: str = "",
    ) -> dict[str, Any]:
        """``config`` applied by ``manager`` to ``live`` (None: the object does not exist
        yet): the object to store, ``managedFields`` included (the stored object, with
        its entries, when nothing changes).

        Raises ``400`` for a configuration of another kind, one that sets managedFields
        or does not fit the schema, and ``409`` naming each conflicting field and its
        manager unless ``force``.
        """
        self._check_kind(config)
        config_meta = config.get("metadata")
        if isinstance(config_meta, dict) and config_meta.get("managedFields") is not None:
            raise errors.bad_request("metadata.managedFields must be nil")
        current: dict[str, Any] = (
            live if live is not None else {"apiVersion": self.api_version, "kind": self.kind}
        )
        try:
            managed = decode(current.get("metadata", {}).get("managedFields") or [])
        except ValueError as err:
            raise errors.internal(f"failed to decode managed fields: {err}") from err
        key = ManagerKey(manager, APPLY, "", subresource)
        try:
            result = self._apply_once(current, live is None, config, managed.copy(), key, force)
        except ConflictError as conflicts:
            allowed = self._allowed_by_last_applied(current) if manager == KUBECTL else None
            if allowed is None:
                raise self._conflict_error(conflicts) from None
            left = [c for c in conflicts.conflicts if c.path not in allowed]
            if left:
                raise self._conflict_error(ConflictError(left)) from None
            result = self._apply_once(current, live is None, config, managed.copy(), key, True)
        if manager == KUBECTL:
            self._sync_last_applied(result, config)
        return result

    def _check_kind(self, config: dict[str, Any]) -> None:
        api_version, kind = config.get("apiVersion"), config.get("kind")
        if api_version == self.api_version and kind == self.kind:
            return
        group, _, version = _text(api_version).rpartition("/")
        raise errors.bad_request(f"invalid object type: {group}/{version}, Kind={_text(kind)}")

    def _apply_once(
        self,
        current: dict[str, Any],
        creating: bool,
        config: dict[str, Any],
        managed: Managed,
        key: ManagerKey,
        force: bool,
    ) -> dict[str, Any]:
        live = _stripped(current)
        if not managed.fields and not creating:
            # The object was never applied to: what it holds is owned by someone.
            try:
                self._record_update(None, live, managed, BEFORE_FIRST_APPLY, key.subresource)
            except ValueError as err:
                raise errors.internal(
                    f"failed to create manager for existing fields: {err}"
                ) from err
        try:
            merged, fields = ownership.apply(
                live,
                config,
                self.api_version,
                managed.fields,
                key,
                force=force,
                node=self.node,
                ignored=self._ignored(key.subresource),
                order=self._order,
            )
        except typed.TypedError as err:
            raise errors.bad_request(
                f"failed to create typed patch object ({self._describe(current, config)}): {err}"
            ) from err
        except ValueError as err:
            raise errors.internal(f"failed to create typed live object: {err}") from err
        applied = fields.get(key)
        if applied is not None:
            kept = applied.fields - _STRIPPED
            if kept:
                fields[key] = VersionedSet(kept, applied.api_version, True)
            else:
                del fields[key]
        managed.fields = fields
        if merged is None:
            result = dict(current)
        else:
            managed.times[key] = _now()
            result = typed.without_nulls(merged)
            if not isinstance(result, dict):
                raise errors.bad_request("the applied configuration is not an object")
        meta = dict(result.get("metadata") or {})
        result["metadata"] = meta
        self._store(meta, managed)
        return result

    def _describe(self, live: dict[str, Any], config: dict[str, Any]) -> str:
        meta = config.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        group, _, version = self.api_version.rpartition("/")
        where = f"{meta.get('namespace') or ''}/{meta.get('name') or ''}"
        return f"{where}; {group}/{version}, Kind={self.kind}"

    def _conflict_error(self, conflicts: ConflictError) -> errors.ApiError:
        items = conflicts.conflicts
        causes = [
            {
                "reason": "FieldManagerConflict",
                "message": f"conflict with {_describe_manager(c.manager)}",
                "field": fp.path_text(c.path),
            }
            for c in items
        ]
        if len(items) == 1:
            only = items[0]
            message = (
                f"Apply failed with 1 conflict: conflict with {_describe_manager(only.manager)}: "
                f"{fp.path_text(only.path)}"
            )
        else:
            lines: list[str] = []
            by_manager: dict[Any, list[str]] = {}
            for c in items:
                by_manager.setdefault(c.manager, []).append(fp.path_text(c.path))
            for manager in sorted(by_manager, key=self._order):
                lines.append(f"conflicts with {_describe_manager(manager)}:")
                lines.extend(f"- {path}" for path in by_manager[manager])
            message = f"Apply failed with {len(items)} conflicts: " + "\n".join(lines)
        return errors.ApiError(409, "Conflict", message, details={"causes": causes})

    # --- kubectl's client-side apply ---------------------------------------------------

    def _last_applied(self, obj: dict[str, Any]) -> str:
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        value = annotations.get(LAST_APPLIED)
        return value if isinstance(value, str) else ""

    def _allowed_by_last_applied(self, live: dict[str, Any]) -> FieldSet | None:
        """The fields ``kubectl apply`` set client-side that still hold the values it
        set: kubectl may take them over without a conflict (None: no annotation)."""
        text = self._last_applied(live)
        if not text:
            return None
        try:
            last = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(last, dict) or last.get("apiVersion") != self.api_version:
            return None
        try:
            owned = typed.to_field_set(last, self.node, strict=True)
            changed = typed.compare(last, _stripped(live), self.node)
        except ValueError:
            return None
        return owned - changed.modified - changed.added - changed.removed

    def _sync_last_applied(self, result: dict[str, Any], config: dict[str, Any]) -> None:
        """Keep the client-side annotation (when the object has one) equal to what was
        applied, so that a later ``kubectl apply`` without ``--server-side`` still works."""
        if not self._last_applied(result):
            return
        applied = dict(config)
        meta = dict(applied.get("metadata") or {})
        annotations = {
            k: v for k, v in (meta.get("annotations") or {}).items() if k != LAST_APPLIED
        }
        if annotations:
            meta["annotations"] = annotations
        else:
            meta.pop("annotations", None)
        applied["metadata"] = meta
        result_meta = result["metadata"]
        result_meta["annotations"] = {
            **(result_meta.get("annotations") or {}),
            LAST_APPLIED: fp.canonical_json(applied) + "\n",
        }


def _describe_manager(key: Any) -> str:
    return key.describe() if isinstance(key, ManagerKey) else go_quote(str(key))


__all__ = [
    "APPLY",
    "SERVER_MANAGER",
    "UPDATE",
    "FieldManager",
    "Managed",
    "ManagerKey",
    "decode",
    "encode",
    "manager_from_user_agent",
    "validate_manager",
]
