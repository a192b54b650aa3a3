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
    STRUCT_TYPE = "atomic"  # +structType=atomic

    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool | None = None
    block_owner_deletion: bool | None = None


class ManagedFieldsEntry(KubeModel):
    manager: str | None = None
    operation: str | None = None
    api_version: str | None = None
    time: Time | None = None
    fields_type: str | None = None
    fields_v1: dict[str, Any] | None = None
    subresource: str | None = None


class ObjectMeta(KubeModel):
    name: str | None = None
    generate_name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    generation: int | None = None
    creation_timestamp: Time | None = None
    deletion_timestamp: Time | None = None
    deletion_grace_period_seconds: int | None = None
    labels: dict[str, str] = mapping()
    annotations: dict[str, str] = mapping()
    owner_references: list[OwnerReference] = merge_list("uid")
    finalizers: list[str] = merge_list()
    managed_fields: list[ManagedFieldsEntry] = items()
    self_link: str | None = None

    def controller_ref(self) -> OwnerReference | None:
        """The owner reference with ``controller: true``, if any."""
        for ref in self.owner_references:
            if ref.controller:
                return ref
        return None


class ListMeta(KubeModel):
    resource_version: str | None = None
    continue_: str | None = Field(default=None, alias="continue")
    remaining_item_count: int | None = None
    self_link: str | None = None


class LabelSelectorRequirement(KubeModel):
    key: str
    operator: str
    values: list[str] = items()


class LabelSelector(KubeModel):
    STRUCT_TYPE = "atomic"  # +structType=atomic

    match_labels: dict[str, str] = mapping()
    match_expressions: list[LabelSelectorRequirement] = items()


class Condition(KubeModel):
    """``metav1.Condition``, the standard condition shape of newer kinds."""

    type: str
    status: str
    observed_generation: int | None = None
    last_transition_time: Time | None = None
    reason: str | None = None
    message: str | None = None


# --- Status -------------------------------------------------------------------------


class StatusCause(KubeModel):
    reason: str | None = None
    message: str | None = None
    field: str | None = None


class StatusDetails(KubeModel):
    name: str | None = None
    group: str | None = None
    kind: str | None = None
    uid: str | None = None
    causes: list[StatusCause] = items()
    retry_after_seconds: int | None = None


class Status(KubeObject):
    API_VERSION = "v1"
    KIND = "Status"

    metadata: ListMeta = Field(default_factory=ListMeta)
    status: str | None = None
    message: str | None = None
    reason: str | None = None
    details: StatusDetails | None = None
    code: int | None = None


# --- requests -------------------------------------------------------------------------


class Preconditions(KubeModel):
    uid: str | None = None
    resource_version: str | None = None


class DeleteOptions(KubeObject):
    API_VERSION = "v1"
    KIND = "DeleteOptions"

    grace_period_seconds: int | None = None
    preconditions: Preconditions | None = None
    orphan_dependents: bool | None = None
    propagation_policy: str | None = None
    dry_run: list[str] = items()


class WatchEvent(KubeModel):
    type: str
    object: dict[str, Any]


# --- tables -----------------------------------------------------------------------------


class TableColumnDefinition(KubeModel):
    name: str
    type: str
    format: str = ""
    description: str = ""
    priority: int = 0


class TableRow(KubeModel):
    cells: list[Any] = items()
    conditions: list[dict[str, Any]] = items()
    object: dict[str, Any] | None = None


class Table(KubeObject):
    API_VERSION = "meta.k8s.io/v1"
    KIND = "Table"

    metadata: ListMeta = Field(default_factory=ListMeta)
    column_definitions: list[TableColumnDefinition] = items()
    rows: list[TableRow] = items()


class PartialObjectMetadata(KubeObject):
    API_VERSION = "meta.k8s.io/v1"
    KIND = "PartialObjectMetadata"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)


# --- discovery -------------------------------------------------------------------------


class APIResource(KubeModel):
    name: str
    singular_name: str
    namespaced: bool
    kind: str
    verbs: list[str]
    group: str | None = None
    version: str | None = None
    short_names: list[str] = items()
    categories: list[str] = items()
    storage_version_hash: str | None = None


class APIResourceList(KubeObject):
    API_VERSION = "v1"
    KIND = "APIResourceList"

    group_version: str
    resources: list[APIResource] = items()


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
