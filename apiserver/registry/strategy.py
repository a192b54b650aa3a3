"""Per-kind rules behind the one generic store.

A kind is a ``Strategy`` subclass: its resource, its subresources, how it is
defaulted and validated, which fields selectors may use, and what ``kubectl get``
prints for it. The generic store (``store.py``) calls these hooks at fixed points of
every verb, so adding a kind is a declaration, not a new code path.

Hooks work on typed models (``apitypes``); only ``fields`` works on the wire dict,
because the watch cache calls it for every event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from apiserver.storage.interface import NO_COMPANIONS, Companions, Storage
from apitypes.base import KubeObject
from apitypes.duration import age
from apitypes.registry import ResourceType
from apitypes.validation import FieldError, FieldPath, is_dns1123_subdomain, validate_object_meta

if TYPE_CHECKING:
    from apiserver.registry.subresource import Subresource
    from apiserver.security import ReviewContext
    from apiserver.user import UserInfo


@dataclass(frozen=True)
class Column:
    """One column of the Table ``kubectl get`` prints (after NAME)."""

    name: str
    type: str = "string"
    description: str = ""
    priority: int = 0
    format: str = ""


@dataclass(frozen=True)
class KindSettings:
    """Server flags some kinds need (``--service-cluster-ip-range`` and the like)."""

    service_cluster_ip_range: str = "10.96.0.0/12"
    service_node_port_range: tuple[int, int] = (30000, 32767)


@dataclass(frozen=True)
class StoreContext:
    """What async hooks may use: the storage (for allocations) and its key prefix."""

    storage: Storage
    prefix: str


class Strategy:
    resource: ClassVar[ResourceType]

    def __init__(self, settings: KindSettings | None = None) -> None:
        self.settings = settings or KindSettings()

    subresources: ClassVar[tuple[Subresource, ...]] = ()
    """The subresources the kind serves (``Status()``, ``Scale()``, ...), in the order
    discovery lists them. Nothing else is served or listed below an object."""
    status_subresource: ClassVar[bool] = False
    """Whether the kind has ``status`` that the main resource ignores and /status sets
    (derived: whether ``subresources`` holds one named ``status``)."""
    _subresources: ClassVar[dict[str, Subresource]] = {}
    generation: ClassVar[bool] = False
    """Whether ``metadata.generation`` counts spec changes."""
    allow_unconditional_update: ClassVar[bool] = True
    allow_create_on_update: ClassVar[bool] = False
    allocates: ClassVar[bool] = False
    """Whether ``companions_for_create`` allocates (ClusterIPs, NodePorts) into the object."""
    return_deleted_object: ClassVar[bool] = False
    """Whether DELETE answers with the deleted object rather than a success Status."""
    selectable_fields: ClassVar[tuple[str, ...]] = ()
    """Field-selector fields beyond ``metadata.name`` and ``metadata.namespace``."""
    columns: ClassVar[tuple[Column, ...]] = (Column("Age", "string", "age"),)
    name_column: ClassVar[bool] = True
    """Whether the Table starts with a NAME column. Events print theirs last (as a wide
    column in ``columns``), so for them the row holds every cell itself."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._subresources = {sub.name: sub for sub in cls.subresources}
        cls.status_subresource = "status" in cls._subresources

    def subresource(self, name: str) -> Subresource | None:
        """The declared subresource called ``name``, None if the kind has none."""
        return self._subresources.get(name)

    # --- selectors -----------------------------------------------------------------

    def fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        """Values of ``selectable_fields`` for ``obj`` (wire form)."""
        return {}

    def field_set(self, obj: Mapping[str, Any]) -> dict[str, str]:
        meta = obj.get("metadata") or {}
        out = {
            "metadata.name": meta.get("name", ""),
            "metadata.namespace": meta.get("namespace", ""),
        }
        if self.selectable_fields:
            out.update(self.fields(obj))
        return out

    # --- lifecycle hooks -------------------------------------------------------------

    def name_errors(self, name: str) -> list[str]:
        return is_dns1123_subdomain(name)

    def prepare_for_create(self, obj: Any) -> None:
        """Clear what a client may not set on create (status, for split kinds)."""
        if self.status_subresource and hasattr(obj, "status"):
            obj.status = None

    def prepare_for_user(self, obj: Any, user: UserInfo | None) -> None:
        """Record who creates ``obj`` (None: the server itself), after
        ``prepare_for_create``: a CertificateSigningRequest's requestor."""

    def prepare_for_update(self, new: Any, old: Any) -> None:
        """Keep what the main resource may not change (status, for split kinds)."""
        if self.status_subresource and hasattr(new, "status"):
            new.status = old.status

    def prepare_for_status_update(self, new: Any, old: Any) -> None:
        """Keep everything but status from ``old``."""
        status = new.status
        for name in type(old).model_fields:
            if name not in ("status", "metadata", "api_version", "kind"):
                setattr(new, name, getattr(old, name))
        # A shallow copy: the write replaces metadata fields whole (a kind that takes
        # annotations sets them anew), it never edits old's labels or lists in place.
        new.metadata = old.metadata.model_copy()
        new.status = status

    def prepare_for_subresource_update(self, subresource: str, new: Any, old: Any) -> None:
        """Keep what a write through the declared ``subresource`` may not change (its
        ``prepare_for_update``: ``status`` keeps all but status)."""
        declared = self.subresource(subresource)
        if declared is None:
            raise KeyError(f"{self.resource.plural} has no subresource {subresource!r}")
        declared.prepare_for_update(self, new, old)

    def deletion_blocked(self, obj: Any) -> bool:
        """Whether something beyond ``metadata.finalizers`` keeps a deleted object alive
        (a namespace's ``spec.finalizers``)."""
        return False

    def prepare_for_delete(self, obj: Any) -> None:
        """Change a object being marked for deletion (a namespace becomes Terminating)."""

    def default(self, obj: Any) -> None:
        """Fill Kubernetes' defaults in place."""

    def canonicalize(self, obj: Any) -> None:
        """Normalise a valid object just before it is stored (after name generation and
        validation, on create and update): a namespace's name label."""

    def validate(self, obj: Any) -> list[FieldError]:
        """Errors in a whole new object, metadata included."""
        return self.validate_metadata(obj)

    def validate_metadata(self, obj: Any) -> list[FieldError]:
        return validate_object_meta(
            obj.metadata,
            namespaced=self.resource.namespaced,
            name_check=self.name_errors,
            path=FieldPath("metadata"),
        )

    def validate_update(self, new: Any, old: Any) -> list[FieldError]:
        """Errors in an update beyond those ``validate`` finds (immutable fields)."""
        return []

    def validate_status_update(self, new: Any, old: Any) -> list[FieldError]:
        """Errors in a status write beyond the metadata's (``Status`` checks both)."""
        return []

    def delete_grace_seconds(self, obj: Any, requested: int | None) -> int:
        """Seconds the object lives on after a delete; 0 removes it at once."""
        return 0

    # --- companion keys (allocations written atomically with the object) ------------

    async def companions_for_create(self, obj: Any, ctx: StoreContext) -> Companions:
        """Keys to create with a new object. Runs after validation and before the object
        is serialised, so it may fill in what it allocates (a Service's clusterIP); if a
        key turns out taken, the store retries the create with a fresh copy."""
        return NO_COMPANIONS

    async def companions_for_update(self, new: Any, old: Any, ctx: StoreContext) -> Companions:
        """Keys to create and delete with an update; may fill in ``new`` like
        ``companions_for_create``. A taken key makes the store retry the update."""
        return NO_COMPANIONS

    def companions_for_delete(self, obj: Any, ctx: StoreContext | None = None) -> Companions:
        """Keys to delete with the object (its allocations)."""
        return NO_COMPANIONS

    # --- printing ---------------------------------------------------------------------

    def row(self, obj: Any) -> Sequence[Any]:
        """The cells after NAME, in ``columns`` order."""
        return [age(obj.metadata.creation_timestamp)]

    def model(self) -> type[KubeObject]:
        return self.resource.model

    # --- create-only kinds ------------------------------------------------------------

    async def answer(self, body: dict[str, Any], context: ReviewContext) -> dict[str, Any]:
        """A create-only kind's answer to a create (``resource.create_only``: TokenReview,
        the access reviews): the object with its ``status``, never stored."""
        raise NotImplementedError(f"{self.resource.plural} is stored, not answered")


def get_path(obj: Mapping[str, Any], *path: str, default: str = "") -> str:
    """A nested string value of a wire-form object (for ``fields``)."""
    cur: Any = obj
    for part in path:
        if not isinstance(cur, Mapping):
            return default
        cur = cur.get(part)
        if cur is None:
            return default
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)
