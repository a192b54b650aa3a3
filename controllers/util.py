"""Helpers every controller shares: owner references, pod predicates, templates,
conditions, semantic comparison and the template hash.

Everything here is pure (no I/O) so that it can be unit-tested on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

import orjson

from apiclient import Client, EventRecorder
from apiclient.events import NORMAL
from apitypes.base import KubeObject
from apitypes.core import (
    ConditionStatus,
    Pod,
    PodConditionType,
    PodPhase,
    PodTemplateSpec,
)
from apitypes.meta import ObjectMeta, OwnerReference
from apitypes.registry import by_model
from apitypes.selectors import LabelSelectorExpr, SelectorError, from_label_selector
from controllers.expectations import ControllerExpectations

PODS = by_model(Pod)

# --- indexes the controllers add to the shared informers ------------------------------

CONTROLLER_UID_INDEX = "controller-uid"
"""Objects by the uid of their controlling owner."""
ORPHAN_INDEX = "orphan-namespace"
"""Objects without a controlling owner, by namespace (candidates for adoption)."""
OWNER_UID_INDEX = "owner-uid"
"""Objects by the uid of every owner they name."""
UID_INDEX = "uid"
"""Objects by their own uid."""
NODE_INDEX = "node-name"
"""Pods by ``spec.nodeName`` ("" for pods not bound yet)."""


def index_controller_uid(obj: Any) -> list[str]:
    ref = obj.metadata.controller_ref()
    return [ref.uid] if ref is not None else []


def index_orphans(obj: Any) -> list[str]:
    if obj.metadata.controller_ref() is not None:
        return []
    return [obj.metadata.namespace or ""]


def index_owner_uids(obj: Any) -> list[str]:
    return [ref.uid for ref in obj.metadata.owner_references]


def index_uid(obj: Any) -> list[str]:
    return [obj.metadata.uid] if obj.metadata.uid else []


def index_node_name(obj: Any) -> list[str]:
    spec = getattr(obj, "spec", None)
    return [getattr(spec, "node_name", None) or ""]


IndexFunc = Callable[[Any], Iterable[str]]

OWNED_INDEXERS: dict[str, IndexFunc] = {
    CONTROLLER_UID_INDEX: index_controller_uid,
    ORPHAN_INDEX: index_orphans,
}


# --- owners ---------------------------------------------------------------------------


def owner_reference(owner: KubeObject, *, controller: bool = True) -> OwnerReference:
    """The reference a controller puts on what it creates: controller, blocking deletion."""
    meta: ObjectMeta = owner.metadata  # type: ignore[attr-defined]
    return OwnerReference(
        api_version=owner.API_VERSION,
        kind=owner.KIND,
        name=meta.name or "",
        uid=meta.uid or "",
        controller=controller or None,
        block_owner_deletion=True,
    )


def controller_of(obj: KubeObject) -> OwnerReference | None:
    meta: ObjectMeta = obj.metadata  # type: ignore[attr-defined]
    return meta.controller_ref()


K_co = TypeVar("K_co", covariant=True)


class _ByName(Protocol[K_co]):
    def get_by_name(self, namespace: str | None, name: str) -> K_co | None: ...


def resolve_controller(obj: KubeObject, kind: str, store: _ByName[K_co]) -> K_co | None:
    """The ``kind`` object in ``store`` that controls ``obj`` per its controller
    reference, or None when there is none or the reference names an object that was
    replaced (same name, another uid)."""
    ref = controller_of(obj)
    if ref is None or ref.kind != kind:
        return None
    namespace = obj.metadata.namespace  # type: ignore[attr-defined]
    owner = store.get_by_name(namespace, ref.name)
    if owner is None or owner.metadata.uid != ref.uid:  # type: ignore[attr-defined]
        return None
    return owner


def is_controlled_by(obj: KubeObject, owner: KubeObject) -> bool:
    ref = controller_of(obj)
    return ref is not None and ref.uid == owner.metadata.uid  # type: ignore[attr-defined]


def adopt_patch(owner: KubeObject, obj_uid: str | None) -> dict[str, Any]:
    """Strategic merge patch that makes ``owner`` the controller of an orphan."""
    ref = owner_reference(owner).to_dict()
    meta: dict[str, Any] = {"ownerReferences": [ref]}
    if obj_uid:
        meta["uid"] = obj_uid
    return {"metadata": meta}


def release_patch(owner_uid: str, obj_uid: str | None) -> dict[str, Any]:
    """Strategic merge patch that removes the reference to ``owner_uid``."""
    meta: dict[str, Any] = {"ownerReferences": [{"$patch": "delete", "uid": owner_uid}]}
    if obj_uid:
        meta["uid"] = obj_uid
    return {"metadata": meta}


# --- pods -----------------------------------------------------------------------------


def is_pod_active(pod: Pod) -> bool:
    """Not finished and not being deleted: a pod that counts towards a controller's replicas."""
    return not pod.is_terminal() and pod.metadata.deletion_timestamp is None


def is_pod_terminating(pod: Pod) -> bool:
    return pod.metadata.deletion_timestamp is not None and not pod.is_terminal()


def pod_ready_since(pod: Pod) -> datetime | None:
    """When the pod last became Ready (None when it is not Ready)."""
    if pod.status is None:
        return None
    cond = pod.status.condition(PodConditionType.READY)
    if cond is None or cond.status != ConditionStatus.TRUE:
        return None
    return cond.last_transition_time


def is_pod_available(pod: Pod, min_ready_seconds: int, now: datetime) -> bool:
    """Ready for at least ``min_ready_seconds`` (Kubernetes' ``IsPodAvailable``)."""
    if not pod.is_ready():
        return False
    if min_ready_seconds <= 0:
        return True
    since = pod_ready_since(pod)
    return since is not None and since + timedelta(seconds=min_ready_seconds) <= now


def pod_from_template(
    template: PodTemplateSpec,
    namespace: str,
    owner: OwnerReference | None,
    *,
    name: str | None = None,
    generate_name: str | None = None,
    extra_labels: Mapping[str, str] | None = None,
) -> Pod:
    """A new pod stamped from ``template`` (labels, annotations, finalizers and spec)."""
    meta = template.metadata
    labels = dict(meta.labels)
    labels.update(extra_labels or {})
    pod_meta = ObjectMeta(
        name=name,
        generate_name=None if name else generate_name,
        namespace=namespace,
        labels=labels,
        annotations=dict(meta.annotations),
        finalizers=list(meta.finalizers),
        owner_references=[owner] if owner is not None else [],
    )
    spec = template.spec.model_copy(deep=True) if template.spec is not None else None
    return Pod(metadata=pod_meta, spec=spec)


def generate_name_prefix(owner_name: str) -> str:
    """``<owner>-`` cut so that the generated name (prefix + 5 characters) fits 63."""
    prefix = f"{owner_name}-"
    return prefix if len(prefix) <= 58 else prefix[:58]


_PHASE_RANK = {PodPhase.PENDING: 0, PodPhase.UNKNOWN: 1, PodPhase.RUNNING: 2}


def deletion_rank(pod: Pod, now: datetime) -> tuple[Any, ...]:
    """Sort key: pods that should go first when scaling down sort first.

    Kubernetes' ``ActivePods`` order: unassigned before assigned; pending before unknown
    before running; not ready before ready; ready for less time before longer; more
    container restarts before fewer; newer before older.
    """
    assigned = 1 if pod.node_name() else 0
    phase = _PHASE_RANK.get(pod.phase() or "", 0)
    ready = 1 if pod.is_ready() else 0
    since = pod_ready_since(pod)
    ready_for = (now - since).total_seconds() if since is not None else 0.0
    restarts = 0
    if pod.status is not None:
        restarts = max((c.restart_count for c in pod.status.container_statuses), default=0)
    created = pod.metadata.creation_timestamp
    created_key = -created.timestamp() if created is not None else 0.0
    return (assigned, phase, ready, ready_for, -restarts, created_key)


# --- conditions -------------------------------------------------------------------------


class _Cond(Protocol):
    type: Any
    status: Any
    reason: Any
    message: Any
    last_transition_time: Any


C = TypeVar("C", bound=_Cond)


def get_condition(conditions: Sequence[C], kind: str) -> C | None:
    for cond in conditions:
        if cond.type == kind:
            return cond
    return None


def set_condition(conditions: Sequence[C], new: C) -> list[C]:
    """``conditions`` with ``new`` in place of the one of its type.

    The transition time is kept when the status did not change; an identical
    (status, reason, message) condition leaves the list as it was.
    """
    current = get_condition(conditions, new.type)
    if current is not None:
        if (current.status, current.reason, current.message) == (
            new.status,
            new.reason,
            new.message,
        ):
            return list(conditions)
        if current.status == new.status and current.last_transition_time is not None:
            new.last_transition_time = current.last_transition_time
    return [c for c in conditions if c.type != new.type] + [new]


def remove_condition(conditions: Sequence[C], kind: str) -> list[C]:
    return [c for c in conditions if c.type != kind]


# --- comparison and hashing -------------------------------------------------------------


def normalized(value: Any) -> Any:
    """``value`` without empty maps, empty lists and nulls, at every depth.

    Two manifests that differ only in such empties mean the same to Kubernetes (Go
    decodes ``{}`` and an absent field alike); comparisons and hashes use this form.
    """
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            clean = normalized(item)
            if clean is None or clean in ({}, []):
                continue
            out[key] = clean
        return out
    if isinstance(value, list):
        return [normalized(item) for item in value]
    return value


def semantic_equal(a: Any, b: Any) -> bool:
    return bool(normalized(a) == normalized(b))


def canonical_json(value: Any) -> bytes:
    return orjson.dumps(normalized(value), option=orjson.OPT_SORT_KEYS)


_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


def fnv32a(data: bytes, seed: int = _FNV_OFFSET) -> int:
    value = seed
    for byte in data:
        value ^= byte
        value = (value * _FNV_PRIME) & 0xFFFFFFFF
    return value


_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def safe_encode(text: str) -> str:
    """Kubernetes' ``rand.SafeEncodeString``: no vowels, no look-alike characters."""
    return "".join(_SAFE_ALPHABET[ord(ch) % len(_SAFE_ALPHABET)] for ch in text)


def compute_hash(value: Any, collision_count: int | None = None) -> str:
    """The hash Kubernetes names ReplicaSets and revisions by (``controller.ComputeHash``).

    FNV-32a of the object's canonical JSON, then of the collision count (four bytes,
    little-endian, padded to eight) when there is one, spelled with ``safe_encode``.
    """
    value_hash = fnv32a(canonical_json(value))
    if collision_count is not None:
        extra = (collision_count & 0xFFFFFFFF).to_bytes(4, "little") + b"\0\0\0\0"
        value_hash = fnv32a(extra, value_hash)
    return safe_encode(str(value_hash))


# --- batching ---------------------------------------------------------------------------

T = TypeVar("T")


async def slow_start_batch(
    count: int, initial: int, call: Callable[[int], Awaitable[None]]
) -> tuple[int, BaseException | None]:
    """Run ``call(i)`` ``count`` times in batches of 1, 2, 4, ... starting at ``initial``.

    A batch with a failure stops the run (a misconfigured template then costs one
    failed request, not hundreds). Returns (successes, first error).
    """
    done = 0
    batch = min(count, max(initial, 1))
    while done < count:
        results = await asyncio.gather(
            *(call(done + i) for i in range(batch)), return_exceptions=True
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        done_ok = len(results) - len(errors)
        if errors:
            return done + done_ok, errors[0]
        done += batch
        batch = min(2 * batch, count - done)
    return done, None


class PodCreator(Protocol):
    """What ``create_pods`` needs of a controller."""

    @property
    def client(self) -> Client: ...
    @property
    def recorder(self) -> EventRecorder: ...
    @property
    def expectations(self) -> ControllerExpectations: ...


async def create_pods(
    ctx: PodCreator,
    owner: KubeObject,
    key: str,
    body: dict[str, Any],
    namespace: str,
    count: int,
    initial: int = 1,
) -> BaseException | None:
    """Create ``count`` pods from ``body`` in slow-start batches, on behalf of ``owner``
    (whose expectations key is ``key``), with a ``SuccessfulCreate`` event each.

    Expectations are raised for ``count`` first and lowered again for every pod that
    will never be observed (a failed create, or one not attempted after a failure), so
    the owner is never stuck waiting. Returns the first error, or None.
    """
    ctx.expectations.expect_creations(key, count)
    attempted = 0

    async def create(_: int) -> None:
        nonlocal attempted
        attempted += 1
        try:
            created = await ctx.client.create_raw(PODS, body, namespace)
        except Exception:
            ctx.expectations.creation_observed(key)
            raise
        name = (created.get("metadata") or {}).get("name", "")
        ctx.recorder.event(owner, NORMAL, "SuccessfulCreate", f"Created pod: {name}")

    _, error = await slow_start_batch(count, initial, create)
    for _ in range(count - attempted):
        ctx.expectations.creation_observed(key)
    return error


def chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def int_or_percent(value: int | str | None, total: int, *, round_up: bool) -> int:
    """An IntOrString count or percentage scaled against ``total`` (``GetScaledValueFromIntOrPercent``)."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = value.strip()
    if not text.endswith("%"):
        return int(text)
    percent = int(text[:-1])
    scaled = percent * total
    return -(-scaled // 100) if round_up else scaled // 100


def namespace_terminating(error: BaseException) -> bool:
    """A create refused because the namespace is being deleted: nobody's failure, nothing
    to retry (the namespace controller is removing the owner too)."""
    message = str(getattr(error, "message", "") or error).lower()
    return getattr(error, "code", 0) == 403 and "terminat" in message


# --- selectors ------------------------------------------------------------------------

_SELECTORS: dict[tuple[str, int], LabelSelectorExpr | None] = {}


def selector_of(obj: Any) -> LabelSelectorExpr | None:
    """The parsed ``spec.selector`` of a workload, cached per (uid, generation).

    None for a selector that does not parse (validation should have refused it).
    """
    meta = obj.metadata
    key = (meta.uid or "", meta.generation or 0)
    if key in _SELECTORS:
        return _SELECTORS[key]
    spec = getattr(obj, "spec", None)
    try:
        parsed: LabelSelectorExpr | None = from_label_selector(getattr(spec, "selector", None))
    except SelectorError:
        parsed = None
    if len(_SELECTORS) > 10_000:
        _SELECTORS.clear()
    _SELECTORS[key] = parsed
    return parsed
