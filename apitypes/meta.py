"""meta.k8s.io/v1: object metadata, lists, Status, selectors, tables, discovery."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from apitypes.base import (
    KubeModel,
    KubeObject,
    MicroTime,
    Time,
    items,
    mapping,
    merge_list,
)


class OwnerReference(KubeModel):
    """Enough to identify an owning object, in the same namespace (or cluster-scoped)."""

    STRUCT_TYPE = "atomic"  # +structType=atomic

    api_version: str
    """The API version of the owner."""
    kind: str
    """The kind of the owner."""
    name: str
    """The name of the owner."""
    uid: str
    """The uid of the owner."""
    controller: bool | None = None
    """True if the owner is the managing controller of this object; at most one reference may
    say so."""
    block_owner_deletion: bool | None = None
    """If true and the owner is deleted in the foreground, the owner is not removed until this
    reference is gone."""


class ManagedFieldsEntry(KubeModel):
    """One field manager's ownership of a set of fields of an object."""

    manager: str | None = None
    """The identifier of the workflow managing these fields."""
    operation: str | None = None
    """The kind of operation that produced this entry: Apply or Update."""
    api_version: str | None = None
    """The version of the resource the field set applies to."""
    time: Time | None = None
    """When the fields were last changed by this manager."""
    fields_type: str | None = None
    """The format of fieldsV1; the only value is FieldsV1."""
    fields_v1: dict[str, Any] | None = None
    """The set of fields, in the FieldsV1 format."""
    subresource: str | None = None
    """The subresource the object was written through (status, scale), empty for the main
    resource."""


class ObjectMeta(KubeModel):
    """Metadata every persisted resource has: its name and namespace, identity and version,
    labels and annotations, owners and finalizers."""

    name: str | None = None
    """Unique name within a namespace (or the cluster, for cluster-scoped kinds). Required when
    creating, unless generateName is used; cannot be updated."""
    generate_name: str | None = None
    """A prefix the server uses to generate a unique name when name is not given: a random
    suffix is appended. The generated name is returned in the response."""
    namespace: str | None = None
    """The namespace this object belongs to; empty for cluster-scoped kinds. Must be a DNS
    label; cannot be updated."""
    uid: str | None = None
    """Unique identifier of this object in time and space, set by the server on creation;
    read-only. Two objects of the same name created one after the other have different uids."""
    resource_version: str | None = None
    """An opaque value identifying the internal version of the object, which clients use to
    detect changes (optimistic concurrency) and to resume watches. Set by the server; clients
    must treat it as opaque."""
    generation: int | None = None
    """A sequence number for the desired state, incremented by the server when the spec changes.
    Read-only."""
    creation_timestamp: Time | None = None
    """When the server created this object (RFC 3339, UTC). Set by the server; read-only."""
    deletion_timestamp: Time | None = None
    """When this object will be deleted: set by the server when a graceful deletion is
    requested. The object stays while finalizers remain or the grace period runs; read-only."""
    deletion_grace_period_seconds: int | None = None
    """Seconds allowed for the object to terminate gracefully before it is removed; set with
    deletionTimestamp, and may only be shortened. Read-only."""
    labels: dict[str, str] = mapping()
    """Map of string keys and values used to organise and select objects (by replication
    controllers, services and label selectors)."""
    annotations: dict[str, str] = mapping()
    """Unstructured key/value map of arbitrary metadata set by external tools. Not queryable."""
    owner_references: list[OwnerReference] = merge_list("uid")
    """The objects this one depends on. When all owners are deleted, this object is garbage
    collected. At most one may be the controller."""
    finalizers: list[str] = merge_list()
    """Names of finalizers that must be empty before the object is removed from the registry.
    Each entry names a component responsible for cleaning up before deletion."""
    managed_fields: list[ManagedFieldsEntry] = items()
    """Which workflow (field manager) owns which fields, for server-side apply. Maintained by
    the server; clients normally do not set it."""
    self_link: str | None = None
    """Deprecated and no longer set: a link to this object."""

    def controller_ref(self) -> OwnerReference | None:
        """The owner reference with ``controller: true``, if any."""
        for ref in self.owner_references:
            if ref.controller:
                return ref
        return None


class ListMeta(KubeModel):
    """Metadata of a list: its resource version and, when paged, how to continue."""

    resource_version: str | None = None
    """The version of the collection the list was read at; a watch may start from it."""
    continue_: str | None = Field(default=None, alias="continue")
    """Set when more results are available: pass it back as the continue parameter to read the
    next page, from the same consistent snapshot."""
    remaining_item_count: int | None = None
    """How many items remain after this page (may be an estimate); only set when a limit was
    given."""
    self_link: str | None = None
    """Deprecated and no longer set."""


class LabelSelectorRequirement(KubeModel):
    """A requirement on one label: a key, an operator and values."""

    key: str
    """The label key the requirement applies to."""
    operator: str
    """How the key relates to the values: In, NotIn, Exists or DoesNotExist."""
    values: list[str] = items()
    """The values for In and NotIn (non-empty); must be empty for Exists and DoesNotExist."""


class LabelSelector(KubeModel):
    """A label query over a set of objects. Its requirements are ANDed; an empty selector
    matches every object, a missing one matches none."""

    STRUCT_TYPE = "atomic"  # +structType=atomic

    match_labels: dict[str, str] = mapping()
    """Map of label keys and values an object must carry, each equivalent to a matchExpressions
    entry with operator In and that single value."""
    match_expressions: list[LabelSelectorRequirement] = items()
    """A list of label requirements, all of which must hold."""


class Condition(KubeModel):
    """``metav1.Condition``, the standard condition shape of newer kinds."""

    type: str
    """The type of the condition, in CamelCase or as foo.example.com/CamelCase."""
    status: str
    """True, False or Unknown."""
    observed_generation: int | None = None
    """The metadata.generation the condition was set from."""
    last_transition_time: Time | None = None
    """When the condition last changed from one status to another."""
    reason: str | None = None
    """A programmatic identifier of the reason for the last transition, in CamelCase."""
    message: str | None = None
    """A human-readable message about the transition."""


# --- Status -------------------------------------------------------------------------


class StatusCause(KubeModel):
    """One cause of an error, with the field it concerns."""

    reason: str | None = None
    """A machine-readable word for the cause (FieldValueInvalid, FieldValueRequired...)."""
    message: str | None = None
    """A human-readable description of the cause."""
    field: str | None = None
    """The field that caused the error, as a JSON path (spec.containers[0].name); empty when no
    single field is at fault."""


class StatusDetails(KubeModel):
    """The object and causes a Status reports on."""

    name: str | None = None
    """The name of the object the status is about, when there is one."""
    group: str | None = None
    """The API group of the object the status is about."""
    kind: str | None = None
    """The kind (for some errors, the resource) of the object the status is about."""
    uid: str | None = None
    """The uid of the object, when there is one."""
    causes: list[StatusCause] = items()
    """Every cause of the error, each with the field it is about when that applies."""
    retry_after_seconds: int | None = None
    """When the operation may be retried, in seconds; for 429 and some 5xx answers."""


class Status(KubeObject):
    """The result of a request that returns no object: success or failure, with why."""

    API_VERSION = "v1"
    KIND = "Status"

    metadata: ListMeta = Field(default_factory=ListMeta)
    """Standard list metadata."""
    status: str | None = None
    """Success or Failure."""
    message: str | None = None
    """A human-readable description of the status of this operation."""
    reason: str | None = None
    """A machine-readable word for why the operation failed (NotFound, AlreadyExists, Conflict,
    Invalid...). Empty when no reason is known."""
    details: StatusDetails | None = None
    """More data about the failure (the object named, the causes) for the given reason; may be
    omitted."""
    code: int | None = None
    """The HTTP status code of this status; 0 when unset."""


# --- requests -------------------------------------------------------------------------


class Preconditions(KubeModel):
    """What must hold for a delete to go ahead."""

    uid: str | None = None
    """The uid the object must have."""
    resource_version: str | None = None
    """The resourceVersion the object must have."""


class DeleteOptions(KubeObject):
    """Options of a DELETE request."""

    API_VERSION = "v1"
    KIND = "DeleteOptions"

    grace_period_seconds: int | None = None
    """Seconds the object has to stop gracefully before it is removed; 0 deletes at once. Unset
    takes the kind's default."""
    preconditions: Preconditions | None = None
    """Conditions (uid, resourceVersion) that must hold or the delete is refused with a
    conflict."""
    orphan_dependents: bool | None = None
    """Deprecated: use propagationPolicy. Whether dependents are orphaned rather than deleted.
    """
    propagation_policy: str | None = None
    """Whether and how dependents are garbage collected: Orphan, Background (after the owner is
    gone) or Foreground (before the owner goes)."""
    dry_run: list[str] = items()
    """When present, the delete is checked but not persisted. The only value is All."""


class WatchEvent(KubeModel):
    type: str
    object: dict[str, Any]


# --- tables -----------------------------------------------------------------------------


class TableColumnDefinition(KubeModel):
    """A column of a Table."""

    name: str
    """The column's name, for display."""
    type: str
    """The OpenAPI type of the column's cells."""
    format: str = ""
    """The OpenAPI format of the column's cells (name...)."""
    description: str = ""
    """What the column shows."""
    priority: int = 0
    """How important the column is: 0 always shown, higher only in wide output."""


class TableRow(KubeModel):
    """A row of a Table."""

    cells: list[Any] = items()
    """The cells, one per column."""
    conditions: list[dict[str, Any]] = items()
    """Conditions of the row (Completed...)."""
    object: dict[str, Any] | None = None
    """The object of the row, or its metadata, as includeObject asked."""


class Table(KubeObject):
    """Objects as rows with columns, for display (kubectl get)."""

    API_VERSION = "meta.k8s.io/v1"
    KIND = "Table"

    metadata: ListMeta = Field(default_factory=ListMeta)
    """Standard list metadata."""
    column_definitions: list[TableColumnDefinition] = items()
    """The columns, in order."""
    rows: list[TableRow] = items()
    """One row per object."""


class PartialObjectMetadata(KubeObject):
    API_VERSION = "meta.k8s.io/v1"
    KIND = "PartialObjectMetadata"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)


# --- discovery -------------------------------------------------------------------------


class APIResource(KubeModel):
    """One resource of a group version, as discovery lists it."""

    name: str
    """The plural name of the resource (or resource/subresource)."""
    singular_name: str
    """The singular name, for display."""
    namespaced: bool
    """Whether objects of the resource live in namespaces."""
    kind: str
    """The kind of the resource's objects."""
    verbs: list[str]
    """The verbs the resource supports (get, list, watch, create, update, patch, delete,
    deletecollection)."""
    group: str | None = None
    """The group of the kind, when a subresource speaks another group's kind."""
    version: str | None = None
    """The version of the kind, when a subresource speaks another version's kind."""
    short_names: list[str] = items()
    """Short names for the resource (po for pods)."""
    categories: list[str] = items()
    """Categories the resource belongs to (all)."""
    storage_version_hash: str | None = None
    """A hash of the version the resource is stored in."""


class APIResourceList(KubeObject):
    """The resources of one group version."""

    API_VERSION = "v1"
    KIND = "APIResourceList"

    group_version: str
    """The group version listed."""
    resources: list[APIResource] = items()
    """Its resources."""


class GroupVersionForDiscovery(KubeModel):
    group_version: str
    version: str


class APIGroup(KubeObject):
    API_VERSION = "v1"
    KIND = "APIGroup"

    name: str
    versions: list[GroupVersionForDiscovery] = items()
    preferred_version: GroupVersionForDiscovery | None = None


class APIGroupList(KubeObject):
    API_VERSION = "v1"
    KIND = "APIGroupList"

    groups: list[APIGroup] = items()


class APIVersions(KubeObject):
    API_VERSION = "v1"
    KIND = "APIVersions"

    versions: list[str] = items()
    server_address_by_client_cidrs: list[dict[str, str]] = Field(
        default_factory=list, alias="serverAddressByClientCIDRs"
    )


__all__ = [
    "APIGroup",
    "APIGroupList",
    "APIResource",
    "APIResourceList",
    "APIVersions",
    "Condition",
    "DeleteOptions",
    "GroupVersionForDiscovery",
    "LabelSelector",
    "LabelSelectorRequirement",
    "ListMeta",
    "ManagedFieldsEntry",
    "MicroTime",
    "ObjectMeta",
    "OwnerReference",
    "PartialObjectMetadata",
    "Preconditions",
    "Status",
    "StatusCause",
    "StatusDetails",
    "Table",
    "TableColumnDefinition",
    "TableRow",
    "Time",
    "WatchEvent",
]
