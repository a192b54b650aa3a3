"""core/v1: Namespace, Pod, Node, Event, ConfigMap, Secret, Service, Endpoints,
ServiceAccount, ReplicationController, Binding, and the structures they use (Kubernetes 1.30 shapes).

Every field Kubernetes 1.30 has on these kinds is modelled, so an object read from a
manifest or from the store and written back carries exactly what it carried. Two
deliberate simplifications:

* The in-tree volume plugins nobody runs here (cloud disks, iSCSI, Ceph, ...) are
  kept as ``dict[str, Any]``: they round-trip untouched and are validated by nobody.
* A field is required (no default) only where Kubernetes' validation requires it and
  the official clients always send it (a container's ``name``, a condition's
  ``type``/``status``, a container status's ``image``...). Go fields that are merely
  emitted without ``omitempty`` (an Event's ``reportingComponent``) stay optional, so
  bodies from older or hand-written clients still parse.

Patch metadata mirrors Kubernetes' ``patchStrategy``/``patchMergeKey`` tags and its
``+listType``/``+listMapKey`` markers; where those differ (a container's ports merge by
``containerPort`` but are keyed by ``containerPort`` and ``protocol`` for apply) both
are recorded.
"""

from __future__ import annotations

from base64 import b64decode
from typing import Annotated, Any, Final, TypeAlias

from pydantic import Field

from apitypes.base import (
    LIST_MAP_KEYS,
    LIST_TYPE,
    Base64Text,
    IntOrString,
    KubeModel,
    KubeObject,
    MicroTime,
    QuantityStr,
    Time,
    WireShape,
    atomic_mapping,
    items,
    mapping,
    merge_list,
)
from apitypes.meta import Condition, LabelSelector, ObjectMeta

ResourceList: TypeAlias = dict[str, QuantityStr]
"""``v1.ResourceList``: resource name (``cpu``, ``memory``...) -> quantity text."""


# --- well-known values ------------------------------------------------------------------
# Kubernetes' enums are open strings on the wire, so fields stay ``str``; these name the
# values daemons compare against.


class ConditionStatus:
    TRUE: Final = "True"
    FALSE: Final = "False"
    UNKNOWN: Final = "Unknown"


class PodPhase:
    PENDING: Final = "Pending"
    RUNNING: Final = "Running"
    SUCCEEDED: Final = "Succeeded"
    FAILED: Final = "Failed"
    UNKNOWN: Final = "Unknown"


class PodConditionType:
    CONTAINERS_READY: Final = "ContainersReady"
    INITIALIZED: Final = "Initialized"
    READY: Final = "Ready"
    POD_SCHEDULED: Final = "PodScheduled"
    DISRUPTION_TARGET: Final = "DisruptionTarget"
    POD_READY_TO_START_CONTAINERS: Final = "PodReadyToStartContainers"


class RestartPolicy:
    ALWAYS: Final = "Always"
    ON_FAILURE: Final = "OnFailure"
    NEVER: Final = "Never"


class PullPolicy:
    ALWAYS: Final = "Always"
    NEVER: Final = "Never"
    IF_NOT_PRESENT: Final = "IfNotPresent"


class NodeConditionType:
    READY: Final = "Ready"
    MEMORY_PRESSURE: Final = "MemoryPressure"
    DISK_PRESSURE: Final = "DiskPressure"
    PID_PRESSURE: Final = "PIDPressure"
    NETWORK_UNAVAILABLE: Final = "NetworkUnavailable"


class NodeAddressType:
    HOSTNAME: Final = "Hostname"
    INTERNAL_IP: Final = "InternalIP"
    EXTERNAL_IP: Final = "ExternalIP"
    INTERNAL_DNS: Final = "InternalDNS"
    EXTERNAL_DNS: Final = "ExternalDNS"


class TaintEffect:
    NO_SCHEDULE: Final = "NoSchedule"
    PREFER_NO_SCHEDULE: Final = "PreferNoSchedule"
    NO_EXECUTE: Final = "NoExecute"


class TolerationOperator:
    EXISTS: Final = "Exists"
    EQUAL: Final = "Equal"


class ServiceType:
    CLUSTER_IP: Final = "ClusterIP"
    NODE_PORT: Final = "NodePort"
    LOAD_BALANCER: Final = "LoadBalancer"
    EXTERNAL_NAME: Final = "ExternalName"


class NamespacePhase:
    ACTIVE: Final = "Active"
    TERMINATING: Final = "Terminating"


class EventType:
    NORMAL: Final = "Normal"
    WARNING: Final = "Warning"


CLUSTER_IP_NONE: Final = "None"
"""``spec.clusterIP`` of a headless Service."""

SECRET_TYPE_OPAQUE: Final = "Opaque"
SECRET_TYPE_SERVICE_ACCOUNT_TOKEN: Final = "kubernetes.io/service-account-token"


# --- patch metadata beyond merge_list ----------------------------------------------------


def _merge_list_keyed(key: str, *map_keys: str, atomic: bool = False) -> Any:
    """A :func:`merge_list` whose apply (``+listType``) shape differs from its patch key.

    Strategic merge patch merges by ``key`` alone; server-side apply identifies items by
    all of ``map_keys`` (``containerPort`` and ``protocol``), or, with ``atomic``, treats
    the list as a whole (``status.hostIPs``).
    """
    field = merge_list(key)
    extra = field.json_schema_extra
    if not isinstance(extra, dict):  # merge_list always gives a dict; keeps mypy honest
        raise TypeError("merge_list metadata must be a dict")
    if atomic:
        extra[LIST_TYPE] = "atomic"
        extra.pop(LIST_MAP_KEYS, None)
    else:
        extra[LIST_MAP_KEYS] = [key, *map_keys]
    return field


def _protocol() -> Any:
    """A port's protocol: one of its list-map keys, so an item that leaves it out is
    identified by its default (Kubernetes declares ``+default="TCP"``)."""
    return Field(default=None, json_schema_extra={"default": "TCP"})


def _apply_map_list(*map_keys: str) -> Any:
    """A list that strategic merge patch replaces whole but apply merges by ``map_keys``."""
    return Field(
        default_factory=list,
        json_schema_extra={LIST_TYPE: "map", LIST_MAP_KEYS: list(map_keys)},
    )


# --- references ---------------------------------------------------------------------------


class ObjectReference(KubeModel):
    """A reference to an object, as complete as needed."""

    STRUCT_TYPE = "atomic"  # +structType=atomic

    kind: str | None = None
    """The object's kind."""
    namespace: str | None = None
    """The object's namespace."""
    name: str | None = None
    """The object's name."""
    uid: str | None = None
    """The object's uid."""
    api_version: str | None = None
    """The object's API version."""
    resource_version: str | None = None
    """The object's resourceVersion the reference was made from."""
    field_path: str | None = None
    """A part of the object, such as one container (spec.containers{name})."""


class LocalObjectReference(KubeModel):
    """An object in the same namespace, by name."""

    STRUCT_TYPE = "atomic"  # +structType=atomic

    name: str | None = None
    """The object's name."""


class TypedLocalObjectReference(KubeModel):
    """An object in the same namespace, with its kind."""

    STRUCT_TYPE = "atomic"  # +structType=atomic

    api_group: str | None = None
    """The object's API group; the core group when empty."""
    kind: str
    """The object's kind."""
    name: str
    """The object's name."""


class TypedObjectReference(KubeModel):
    """An object, with its kind and namespace."""

    api_group: str | None = None
    """The object's API group; the core group when empty."""
    kind: str
    """The object's kind."""
    name: str
    """The object's name."""
    namespace: str | None = None
    """The object's namespace; the claim's when empty."""


# --- environment --------------------------------------------------------------------------


class ObjectFieldSelector(KubeModel):
    """A field of the pod."""

    STRUCT_TYPE = "atomic"  # +structType=atomic

    api_version: str | None = None
    """The schema the field path is written in; v1 by default."""
    field_path: str
    """The path of the field to read."""


class ResourceFieldSelector(KubeModel):
    """A resource of a container, and its unit."""

    STRUCT_TYPE = "atomic"  # +structType=atomic

    container_name: str | None = None
    """The container; required for volumes, optional for env."""
    resource: str
    """The resource to read (limits.cpu, requests.memory...)."""
    divisor: QuantityStr | None = None
    """The unit the value is given in (1m, 1Mi...); 1 by default."""


class ConfigMapKeySelector(KubeModel):
    """One key of a ConfigMap."""

    STRUCT_TYPE = "atomic"  # +structType=atomic

    name: str | None = None
    """The ConfigMap's name."""
    key: str
    """The key to read."""
    optional: bool | None = None
    """Whether the ConfigMap or key may be missing."""


class SecretKeySelector(KubeModel):
    """One key of a Secret."""

    STRUCT_TYPE = "atomic"  # +structType=atomic

    name: str | None = None
    """The Secret's name."""
    key: str
    """The key to read."""
    optional: bool | None = None
    """Whether the Secret or key may be missing."""


class EnvVarSource(KubeModel):
    """The source of an environment variable's value."""

    field_ref: ObjectFieldSelector | None = None
    """A field of the pod: metadata.name, metadata.namespace, metadata.uid, spec.nodeName,
    status.podIP, a label or annotation..."""
    resource_field_ref: ResourceFieldSelector | None = None
    """A resource limit or request of a container (limits.cpu, requests.memory...)."""
    config_map_key_ref: ConfigMapKeySelector | None = None
    """A key of a ConfigMap in the pod's namespace."""
    secret_key_ref: SecretKeySelector | None = None
    """A key of a Secret in the pod's namespace."""


class EnvVar(KubeModel):
    """One environment variable of a container."""

    name: str
    """The variable's name."""
    value: str | None = None
    """The value; $(VAR) references to earlier variables expand, $$ escapes them. Empty by
    default."""
    value_from: EnvVarSource | None = None
    """Where the value comes from instead (a field, a resource, a ConfigMap or Secret key). Not
    with value."""


class ConfigMapEnvSource(KubeModel):
    """A ConfigMap whose keys become environment variables."""

    name: str | None = None
    """The ConfigMap's name."""
    optional: bool | None = None
    """Whether the ConfigMap may be missing."""


class SecretEnvSource(KubeModel):
    """A Secret whose keys become environment variables."""

    name: str | None = None
    """The Secret's name."""
    optional: bool | None = None
    """Whether the Secret may be missing."""


class EnvFromSource(KubeModel):
    """A ConfigMap or Secret whose keys all become environment variables."""

    prefix: str | None = None
    """A string put before every key's name."""
    config_map_ref: ConfigMapEnvSource | None = None
    """The ConfigMap to read."""
    secret_ref: SecretEnvSource | None = None
    """The Secret to read."""


# --- resources ----------------------------------------------------------------------------


class ResourceClaim(KubeModel):
    """A reference to one of the pod's resourceClaims."""

    name: str
    """The name of the entry of spec.resourceClaims."""


class ResourceRequirements(KubeModel):
    """Compute resources a container asks for and is held to."""

    limits: ResourceList = mapping()
    """The most of each resource the container may use (cpu, memory, ephemeral-storage...)."""
    requests: ResourceList = mapping()
    """The least of each resource the container needs, which scheduling reserves; defaults to
    the limits when only those are set."""
    claims: list[ResourceClaim] = _apply_map_list("name")
    """The pod's resourceClaims this container uses, by name."""


class VolumeResourceRequirements(KubeModel):
    """Storage a claim requests."""

    limits: ResourceList = mapping()
    """The most storage allowed."""
    requests: ResourceList = mapping()
    """The least storage needed."""


class ContainerResizePolicy(KubeModel):
    """What resizing one resource of a running container requires."""

    resource_name: str
    """The resource (cpu, memory)."""
    restart_policy: str
    """NotRequired (the default) or RestartContainer."""


# --- volumes ------------------------------------------------------------------------------


class KeyToPath(KubeModel):
    """A key and the file it becomes."""

    key: str
    """The key."""
    path: str
    """The relative path of the file."""
    mode: int | None = None
    """The file's permission bits; the volume's defaultMode when unset."""


class HostPathVolumeSource(KubeModel):
    """A path on the node."""

    path: str
    """The path; a symlink is followed."""
    type: str | None = None
    """What must be there: "" (no check), DirectoryOrCreate, Directory, FileOrCreate, File,
    Socket, CharDevice or BlockDevice."""


class EmptyDirVolumeSource(KubeModel):
    """A temporary directory, as long-lived as the pod."""

    medium: str | None = None
    """Where it is kept: "" (the node's disk) or Memory (a tmpfs)."""
    size_limit: QuantityStr | None = None
    """The most storage it may hold."""


class SecretVolumeSource(KubeModel):
    """A Secret's keys as files."""

    secret_name: str | None = None
    """The Secret, in the pod's namespace."""
    items: list[KeyToPath] = Field(default_factory=list)
    """Which keys, and at which paths; every key when empty."""
    default_mode: int | None = None
    """The permission bits of the files. Default 0644."""
    optional: bool | None = None
    """Whether the Secret may be missing."""


class ConfigMapVolumeSource(KubeModel):
    """A ConfigMap's keys as files."""

    name: str | None = None
    """The ConfigMap, in the pod's namespace."""
    items: list[KeyToPath] = Field(default_factory=list)
    """Which keys, and at which paths; every key when empty."""
    default_mode: int | None = None
    """The permission bits of the files. Default 0644."""
    optional: bool | None = None
    """Whether the ConfigMap may be missing."""


class DownwardAPIVolumeFile(KubeModel):
    """A file holding a field of the pod."""

    path: str
    """The relative path of the file."""
    field_ref: ObjectFieldSelector | None = None
    """A field of the pod (labels, annotations, name, namespace, uid)."""
    resource_field_ref: ResourceFieldSelector | None = None
    """A resource limit or request of a container."""
    mode: int | None = None
    """The file's permission bits."""


class DownwardAPIVolumeSource(KubeModel):
    """Pod fields as files."""

    items: list[DownwardAPIVolumeFile] = Field(default_factory=list)
    """The files."""
    default_mode: int | None = None
    """The permission bits of the files. Default 0644."""


class DownwardAPIProjection(KubeModel):
    """Pod fields in a projected volume."""

    items: list[DownwardAPIVolumeFile] = Field(default_factory=list)
    """The files."""


class SecretProjection(KubeModel):
    """A Secret in a projected volume."""

    name: str | None = None
    """The Secret."""
    items: list[KeyToPath] = Field(default_factory=list)
    """Which keys, and at which paths."""
    optional: bool | None = None
    """Whether the Secret may be missing."""


class ConfigMapProjection(KubeModel):
    """A ConfigMap in a projected volume."""

    name: str | None = None
    """The ConfigMap."""
    items: list[KeyToPath] = Field(default_factory=list)
    """Which keys, and at which paths."""
    optional: bool | None = None
    """Whether the ConfigMap may be missing."""


class ServiceAccountTokenProjection(KubeModel):
    """A service account token in a projected volume."""

    audience: str | None = None
    """The audience the token is for; the apiserver's by default."""
    expiration_seconds: int | None = None
    """How long the token is valid. Default 1 hour."""
    path: str
    """The relative path of the file."""


class ClusterTrustBundleProjection(KubeModel):
    """Certificates of ClusterTrustBundles in a projected volume."""

    name: str | None = None
    """One bundle, by name."""
    signer_name: str | None = None
    """The bundles of a signer."""
    label_selector: LabelSelector | None = None
    """The bundles with these labels."""
    optional: bool | None = None
    """Whether no bundle at all is acceptable."""
    path: str
    """The relative path of the file."""


class VolumeProjection(KubeModel):
    """One source of a projected volume."""

    secret: SecretProjection | None = None
    """A Secret's keys."""
    downward_api: DownwardAPIProjection | None = None
    """Pod fields."""
    config_map: ConfigMapProjection | None = None
    """A ConfigMap's keys."""
    service_account_token: ServiceAccountTokenProjection | None = None
    """A token of the pod's service account."""
    cluster_trust_bundle: ClusterTrustBundleProjection | None = None
    """Certificates of ClusterTrustBundles."""


class ProjectedVolumeSource(KubeModel):
    """Several sources in one directory."""

    sources: list[VolumeProjection] = items()
    """The sources."""
    default_mode: int | None = None
    """The permission bits of the files."""


class PersistentVolumeClaimVolumeSource(KubeModel):
    """A PersistentVolumeClaim's volume."""

    claim_name: str
    """The claim, in the pod's namespace."""
    read_only: bool | None = None
    """Mount it read-only."""


class NFSVolumeSource(KubeModel):
    """An NFS export."""

    server: str
    """The NFS server."""
    path: str
    """The exported path."""
    read_only: bool | None = None
    """Mount it read-only."""


class CSIVolumeSource(KubeModel):
    """An ephemeral volume of a CSI driver."""

    driver: str
    """The driver's name."""
    read_only: bool | None = None
    """Mount it read-only."""
    fs_type: str | None = None
    """The filesystem type."""
    volume_attributes: dict[str, str] = mapping()
    """Driver-specific attributes."""
    node_publish_secret_ref: LocalObjectReference | None = None
    """A Secret passed to the driver's publish calls."""


class PersistentVolumeClaimSpec(KubeModel):
    """What a claim asks for."""

    access_modes: list[str] = items()
    """How the volume may be mounted (ReadWriteOnce, ReadOnlyMany, ReadWriteMany,
    ReadWriteOncePod)."""
    selector: LabelSelector | None = None
    """Labels of the volumes that may be bound."""
    resources: VolumeResourceRequirements | None = None
    """The storage requested."""
    volume_name: str | None = None
    """A specific volume to bind."""
    storage_class_name: str | None = None
    """The StorageClass to provision from."""
    volume_mode: str | None = None
    """Filesystem (the default) or Block."""
    data_source: TypedLocalObjectReference | None = None
    """An object to populate the volume from (a snapshot, another claim)."""
    data_source_ref: TypedObjectReference | None = None
    """Like dataSource, any object of any namespace allowed."""
    volume_attributes_class_name: str | None = None
    """The VolumeAttributesClass of the volume."""


class PersistentVolumeClaimTemplate(KubeModel):
    """A claim to make for a pod."""

    metadata: ObjectMeta | None = None
    """Labels and annotations of the claim."""
    spec: PersistentVolumeClaimSpec
    """The claim's spec."""


class PersistentVolumeClaimCondition(KubeModel):
    """One aspect of a claim's state."""

    type: str | None = None
    """The type of the condition."""
    status: str | None = None
    """True, False or Unknown."""
    last_probe_time: Time | None = None
    """When the condition was last probed."""
    last_transition_time: Time | None = None
    """When the condition last changed status."""
    reason: str | None = None
    """A one-word CamelCase reason."""
    message: str | None = None
    """A human-readable message."""


class ModifyVolumeStatus(KubeModel):
    """The state of a volume attributes change."""

    target_volume_attributes_class_name: str | None = None
    """The class being changed to."""
    status: str | None = None
    """Pending, InProgress or Infeasible."""


class PersistentVolumeClaimStatus(KubeModel):
    """A claim's observed state."""

    phase: str | None = None
    """Pending, Bound or Lost."""
    access_modes: list[str] = items()
    """The access modes of the bound volume."""
    capacity: ResourceList = mapping()
    """The capacity of the bound volume."""
    conditions: list[PersistentVolumeClaimCondition] = items()
    """The claim's conditions (Resizing...)."""
    allocated_resources: ResourceList = mapping()
    """The storage allocated, including pending resizes."""
    allocated_resource_statuses: dict[str, str] = mapping()
    """The state of resizes, per resource."""
    current_volume_attributes_class_name: str | None = None
    """The VolumeAttributesClass the volume has now."""
    modify_volume_status: ModifyVolumeStatus | None = None
    """The state of a change of VolumeAttributesClass."""


class PersistentVolumeClaim(KubeObject):
    """A claim as a StatefulSet's ``volumeClaimTemplates`` carry it.

    navarch serves no PersistentVolumeClaims: this model describes the templates' wire
    shape (see :class:`~apitypes.base.WireShape`).
    """

    API_VERSION = "v1"
    KIND = "PersistentVolumeClaim"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: PersistentVolumeClaimSpec | None = None
    """What the claim asks for."""
    status: PersistentVolumeClaimStatus | None = None
    """The claim's observed state."""


class EphemeralVolumeSource(KubeModel):
    """A volume from a claim made for the pod."""

    volume_claim_template: PersistentVolumeClaimTemplate | None = None
    """The claim to make."""


# --- volume plugins kept verbatim ---------------------------------------------------------
# navarch runs none of these in-tree plugins: a Volume keeps them as plain JSON (see the
# module docstring). These models only describe their wire shape (``WireShape``), for the
# protobuf codec; nothing validates with them.


class GCEPersistentDiskVolumeSource(KubeModel):
    """A GCE persistent disk (in-tree plugin; navarch does not run it)."""

    pd_name: str | None = None
    """The disk's name in GCE."""
    fs_type: str | None = None
    """The filesystem type (ext4, xfs...)."""
    partition: int | None = None
    """The partition to mount; the whole disk when 0."""
    read_only: bool | None = None
    """Mount it read-only."""


class AWSElasticBlockStoreVolumeSource(KubeModel):
    """An AWS EBS volume (in-tree plugin; navarch does not run it)."""

    volume_id: str | None = None
    """The volume's id in AWS."""
    fs_type: str | None = None
    """The filesystem type."""
    partition: int | None = None
    """The partition to mount; the whole volume when 0."""
    read_only: bool | None = None
    """Mount it read-only."""


class GitRepoVolumeSource(KubeModel):
    """A git repository cloned into a directory (deprecated)."""

    repository: str | None = None
    """The repository URL."""
    revision: str | None = None
    """The commit to check out."""
    directory: str | None = None
    """The directory to clone into, relative to the volume."""


class ISCSIVolumeSource(KubeModel):
    """An iSCSI disk."""

    target_portal: str | None = None
    """The target portal, address[:port]."""
    iqn: str | None = None
    """The target's iSCSI qualified name."""
    lun: int | None = None
    """The target's logical unit number."""
    iscsi_interface: str | None = None
    """The iSCSI interface to use. Default "default"."""
    fs_type: str | None = None
    """The filesystem type."""
    read_only: bool | None = None
    """Mount it read-only."""
    portals: list[str] = items()
    """More target portals."""
    chap_auth_discovery: bool | None = None
    """Whether discovery uses CHAP authentication."""
    chap_auth_session: bool | None = None
    """Whether sessions use CHAP authentication."""
    secret_ref: LocalObjectReference | None = None
    """The Secret with the CHAP credentials."""
    initiator_name: str | None = None
    """A custom initiator name."""


class GlusterfsVolumeSource(KubeModel):
    """A GlusterFS volume."""

    endpoints: str | None = None
    """The Endpoints naming the GlusterFS servers."""
    path: str | None = None
    """The GlusterFS volume's path."""
    read_only: bool | None = None
    """Mount it read-only."""


class RBDVolumeSource(KubeModel):
    """A Ceph RBD image."""

    monitors: list[str] = items()
    """The Ceph monitors."""
    image: str | None = None
    """The image name."""
    fs_type: str | None = None
    """The filesystem type."""
    pool: str | None = None
    """The pool. Default rbd."""
    user: str | None = None
    """The RADOS user. Default admin."""
    keyring: str | None = None
    """The keyring path. Default /etc/ceph/keyring."""
    secret_ref: LocalObjectReference | None = None
    """The Secret with the user's key."""
    read_only: bool | None = None
    """Mount it read-only."""


class FlexVolumeSource(KubeModel):
    """A volume of a FlexVolume driver."""

    driver: str | None = None
    """The driver's name."""
    fs_type: str | None = None
    """The filesystem type."""
    secret_ref: LocalObjectReference | None = None
    """A Secret passed to the driver."""
    read_only: bool | None = None
    """Mount it read-only."""
    options: dict[str, str] = mapping()
    """Extra options for the driver."""


class CinderVolumeSource(KubeModel):
    """An OpenStack Cinder volume."""

    volume_id: str | None = None
    """The volume's id."""
    fs_type: str | None = None
    """The filesystem type."""
    read_only: bool | None = None
    """Mount it read-only."""
    secret_ref: LocalObjectReference | None = None
    """A Secret with the OpenStack credentials."""


class CephFSVolumeSource(KubeModel):
    """A CephFS mount."""

    monitors: list[str] = items()
    """The Ceph monitors."""
    path: str | None = None
    """The path to mount. Default /."""
    user: str | None = None
    """The RADOS user. Default admin."""
    secret_file: str | None = None
    """The path of the user's key file."""
    secret_ref: LocalObjectReference | None = None
    """The Secret with the user's key."""
    read_only: bool | None = None
    """Mount it read-only."""


class FlockerVolumeSource(KubeModel):
    """A Flocker dataset."""

    dataset_name: str | None = None
    """The dataset's name."""
    dataset_uuid: str | None = None
    """The dataset's UUID."""


class FCVolumeSource(KubeModel):
    """A Fibre Channel disk."""

    target_wwns: list[str] = Field(default_factory=list, alias="targetWWNs")
    """The target world wide names."""
    lun: int | None = None
    """The logical unit number."""
    fs_type: str | None = None
    """The filesystem type."""
    read_only: bool | None = None
    """Mount it read-only."""
    wwids: list[str] = items()
    """The volume's world wide identifiers (instead of targetWWNs and lun)."""


class AzureFileVolumeSource(KubeModel):
    """An Azure File share."""

    secret_name: str | None = None
    """The Secret with the storage account's name and key."""
    share_name: str | None = None
    """The share's name."""
    read_only: bool | None = None
    """Mount it read-only."""


class VsphereVirtualDiskVolumeSource(KubeModel):
    """A vSphere disk."""

    volume_path: str | None = None
    """The disk's path."""
    fs_type: str | None = None
    """The filesystem type."""
    storage_policy_name: str | None = None
    """The storage policy's name."""
    storage_policy_id: str | None = None
    """The storage policy's id."""


class QuobyteVolumeSource(KubeModel):
    """A Quobyte volume."""

    registry: str | None = None
    """The Quobyte registry, host:port."""
    volume: str | None = None
    """The volume's name."""
    read_only: bool | None = None
    """Mount it read-only."""
    user: str | None = None
    """The user to map access to."""
    group: str | None = None
    """The group to map access to."""
    tenant: str | None = None
    """The tenant owning the volume."""


class AzureDiskVolumeSource(KubeModel):
    """An Azure data disk."""

    disk_name: str | None = None
    """The disk's name."""
    disk_uri: str | None = Field(default=None, alias="diskURI")
    """The disk's URI."""
    caching_mode: str | None = None
    """The host caching mode: None, ReadOnly or ReadWrite."""
    fs_type: str | None = None
    """The filesystem type."""
    read_only: bool | None = None
    """Mount it read-only."""
    kind: str | None = None
    """Shared, Dedicated or Managed."""


class PhotonPersistentDiskVolumeSource(KubeModel):
    """A Photon Controller disk."""

    pd_id: str | None = None
    """The disk's id."""
    fs_type: str | None = None
    """The filesystem type."""


class PortworxVolumeSource(KubeModel):
    """A Portworx volume."""

    volume_id: str | None = None
    """The volume's id."""
    fs_type: str | None = None
    """The filesystem type."""
    read_only: bool | None = None
    """Mount it read-only."""


class ScaleIOVolumeSource(KubeModel):
    """A ScaleIO volume."""

    gateway: str | None = None
    """The ScaleIO API gateway."""
    system: str | None = None
    """The storage system."""
    secret_ref: LocalObjectReference | None = None
    """The Secret with the ScaleIO credentials."""
    ssl_enabled: bool | None = None
    """Whether to talk to the gateway over SSL."""
    protection_domain: str | None = None
    """The protection domain."""
    storage_pool: str | None = None
    """The storage pool."""
    storage_mode: str | None = None
    """ThickProvisioned or ThinProvisioned."""
    volume_name: str | None = None
    """The volume's name."""
    fs_type: str | None = None
    """The filesystem type."""
    read_only: bool | None = None
    """Mount it read-only."""


class StorageOSVolumeSource(KubeModel):
    """A StorageOS volume."""

    volume_name: str | None = None
    """The volume's name."""
    volume_namespace: str | None = None
    """The volume's StorageOS namespace."""
    fs_type: str | None = None
    """The filesystem type."""
    read_only: bool | None = None
    """Mount it read-only."""
    secret_ref: LocalObjectReference | None = None
    """The Secret with the API credentials."""


class Volume(KubeModel):
    """A named volume and its source (Kubernetes inlines ``VolumeSource`` here).

    Exactly one source should be set; the plugins navarch does not run are kept as
    plain dicts so that they survive a round trip.
    """

    name: str
    """The volume's name, a DNS label unique within the pod."""
    host_path: HostPathVolumeSource | None = None
    """A file or directory of the node."""
    empty_dir: EmptyDirVolumeSource | None = None
    """A directory that starts empty and lives as long as the pod."""
    gce_persistent_disk: (
        Annotated[dict[str, Any], WireShape(GCEPersistentDiskVolumeSource)] | None
    ) = None
    """Deprecated in-tree plugin: a GCE persistent disk (not run by navarch)."""
    aws_elastic_block_store: (
        Annotated[dict[str, Any], WireShape(AWSElasticBlockStoreVolumeSource)] | None
    ) = None
    """Deprecated in-tree plugin: an AWS EBS volume (not run by navarch)."""
    git_repo: Annotated[dict[str, Any], WireShape(GitRepoVolumeSource)] | None = None
    """Deprecated: a git repository cloned into an empty directory."""
    secret: SecretVolumeSource | None = None
    """The keys of a Secret as files."""
    nfs: NFSVolumeSource | None = None
    """An NFS mount (not run by navarch)."""
    iscsi: Annotated[dict[str, Any], WireShape(ISCSIVolumeSource)] | None = None
    """An iSCSI disk (not run by navarch)."""
    glusterfs: Annotated[dict[str, Any], WireShape(GlusterfsVolumeSource)] | None = None
    """A GlusterFS mount (not run by navarch)."""
    persistent_volume_claim: PersistentVolumeClaimVolumeSource | None = None
    """The volume a PersistentVolumeClaim is bound to."""
    rbd: Annotated[dict[str, Any], WireShape(RBDVolumeSource)] | None = None
    """A Ceph RBD image (not run by navarch)."""
    flex_volume: Annotated[dict[str, Any], WireShape(FlexVolumeSource)] | None = None
    """A FlexVolume driver's volume (not run by navarch)."""
    cinder: Annotated[dict[str, Any], WireShape(CinderVolumeSource)] | None = None
    """An OpenStack Cinder volume (not run by navarch)."""
    cephfs: Annotated[dict[str, Any], WireShape(CephFSVolumeSource)] | None = None
    """A CephFS mount (not run by navarch)."""
    flocker: Annotated[dict[str, Any], WireShape(FlockerVolumeSource)] | None = None
    """A Flocker dataset (not run by navarch)."""
    downward_api: DownwardAPIVolumeSource | None = None
    """Fields of the pod as files."""
    fc: Annotated[dict[str, Any], WireShape(FCVolumeSource)] | None = None
    """A Fibre Channel disk (not run by navarch)."""
    azure_file: Annotated[dict[str, Any], WireShape(AzureFileVolumeSource)] | None = None
    """An Azure File share (not run by navarch)."""
    config_map: ConfigMapVolumeSource | None = None
    """The keys of a ConfigMap as files."""
    vsphere_volume: Annotated[dict[str, Any], WireShape(VsphereVirtualDiskVolumeSource)] | None = (
        None
    )
    """A vSphere disk (not run by navarch)."""
    quobyte: Annotated[dict[str, Any], WireShape(QuobyteVolumeSource)] | None = None
    """A Quobyte mount (not run by navarch)."""
    azure_disk: Annotated[dict[str, Any], WireShape(AzureDiskVolumeSource)] | None = None
    """An Azure data disk (not run by navarch)."""
    photon_persistent_disk: (
        Annotated[dict[str, Any], WireShape(PhotonPersistentDiskVolumeSource)] | None
    ) = None
    """A Photon Controller disk (not run by navarch)."""
    projected: ProjectedVolumeSource | None = None
    """Secrets, ConfigMaps, downward API fields and service account tokens in one directory."""
    portworx_volume: Annotated[dict[str, Any], WireShape(PortworxVolumeSource)] | None = None
    """A Portworx volume (not run by navarch)."""
    scale_io: Annotated[dict[str, Any], WireShape(ScaleIOVolumeSource)] | None = Field(
        default=None, alias="scaleIO"
    )
    """A ScaleIO volume (not run by navarch)."""
    storageos: Annotated[dict[str, Any], WireShape(StorageOSVolumeSource)] | None = None
    """A StorageOS volume (not run by navarch)."""
    csi: CSIVolumeSource | None = None
    """An ephemeral volume of a CSI driver (not run by navarch)."""
    ephemeral: EphemeralVolumeSource | None = None
    """A volume from a claim made for the pod and deleted with it."""

    def source_type(self) -> str | None:
        """The wire name of the source that is set (``"emptyDir"``), or None if none is."""
        for field_name, info in type(self).model_fields.items():
            if field_name != "name" and getattr(self, field_name) is not None:
                return info.alias
        return None


# --- containers ---------------------------------------------------------------------------


class ContainerPort(KubeModel):
    """A network port of a container."""

    name: str | None = None
    """A name for the port (an IANA_SVC_NAME), unique within the pod, that Services and probes
    can refer to."""
    host_port: int | None = None
    """The port on the node to expose the container port at; none when unset. Most pods do not
    need it."""
    container_port: int
    """The port number on the pod's IP address (1-65535)."""
    protocol: str | None = _protocol()
    """The protocol: TCP (the default), UDP or SCTP."""
    host_ip: str | None = None
    """The node address to bind hostPort to."""


class VolumeMount(KubeModel):
    """One of the pod's volumes mounted into a container."""

    name: str
    """The volume's name, as in the pod's volumes."""
    read_only: bool | None = None
    """Mount read-only. Default false."""
    recursive_read_only: str | None = None
    """Whether read-only applies recursively to submounts: Disabled, IfPossible or Enabled."""
    mount_path: str
    """Where in the container the volume is mounted; must not contain ':'."""
    sub_path: str | None = None
    """A path within the volume to mount instead of its root."""
    mount_propagation: str | None = None
    """How mounts propagate between host and container: None (the default), HostToContainer or
    Bidirectional."""
    sub_path_expr: str | None = None
    """Like subPath, with $(VAR) references expanded from the container's environment. Not with
    subPath."""


class VolumeDevice(KubeModel):
    """A raw block volume mapped into a container."""

    name: str
    """The volume's name (a persistentVolumeClaim of the pod)."""
    device_path: str
    """The path of the device inside the container."""


class HTTPHeader(KubeModel):
    """A header of an HTTP probe."""

    name: str
    """The header's name."""
    value: str
    """The header's value."""


class HTTPGetAction(KubeModel):
    """An HTTP GET request."""

    path: str | None = None
    """The path to request."""
    port: IntOrString
    """The port, by number or by the container port's name."""
    host: str | None = None
    """The host to connect to; the pod's IP by default."""
    scheme: str | None = None
    """HTTP (the default) or HTTPS."""
    http_headers: list[HTTPHeader] = items()
    """Headers to send."""


class TCPSocketAction(KubeModel):
    """A TCP connection to open."""

    port: IntOrString
    """The port, by number or by the container port's name."""
    host: str | None = None
    """The host to connect to; the pod's IP by default."""


class GRPCAction(KubeModel):
    """A gRPC health check."""

    port: int
    """The port of the gRPC service."""
    service: str | None = None
    """The service name to put in the health check request; empty for the server's overall
    health."""


class ExecAction(KubeModel):
    """A command to run in the container."""

    command: list[str] = items()
    """The command line, run without a shell, in the container's root directory."""


class SleepAction(KubeModel):
    """A pause."""

    seconds: int
    """How long to sleep."""


class ProbeHandler(KubeModel):
    exec: ExecAction | None = None
    """Run a command in the container; exit status 0 is success."""
    http_get: HTTPGetAction | None = None
    """An HTTP GET; a status from 200 to 399 is success."""
    tcp_socket: TCPSocketAction | None = None
    """Open a TCP connection; connecting is success."""
    grpc: GRPCAction | None = None
    """A gRPC health check."""


class Probe(ProbeHandler):
    """A check the kubelet runs against a container, periodically."""

    initial_delay_seconds: int | None = None
    """Seconds after the container started before the first probe."""
    timeout_seconds: int | None = None
    """Seconds after which a probe counts as failed. Default 1."""
    period_seconds: int | None = None
    """Seconds between probes. Default 10."""
    success_threshold: int | None = None
    """Consecutive successes needed to count as healthy after a failure. Default 1 (and 1 for
    liveness and startup)."""
    failure_threshold: int | None = None
    """Consecutive failures after which the probe counts as failed. Default 3."""
    termination_grace_period_seconds: int | None = None
    """The grace period for stopping the container after this probe failed, instead of the
    pod's."""


class LifecycleHandler(KubeModel):
    """One lifecycle action."""

    exec: ExecAction | None = None
    """Run a command in the container."""
    http_get: HTTPGetAction | None = None
    """Send an HTTP GET."""
    tcp_socket: TCPSocketAction | None = None
    """Deprecated, kept for compatibility: open a TCP connection."""
    sleep: SleepAction | None = None
    """Wait for a while."""


class Lifecycle(KubeModel):
    """Actions the kubelet runs at a container's start and stop."""

    post_start: LifecycleHandler | None = None
    """Run right after the container is created; the container is restarted if it fails."""
    pre_stop: LifecycleHandler | None = None
    """Run before the container is stopped (deletion, probe failure, preemption); the grace
    period counts from before it."""


class Capabilities(KubeModel):
    """Linux capabilities of a container."""

    add: list[str] = items()
    """Capabilities to add."""
    drop: list[str] = items()
    """Capabilities to remove."""


class SELinuxOptions(KubeModel):
    """An SELinux context."""

    user: str | None = None
    """The SELinux user."""
    role: str | None = None
    """The SELinux role."""
    type: str | None = None
    """The SELinux type."""
    level: str | None = None
    """The SELinux level."""


class WindowsSecurityContextOptions(KubeModel):
    """Windows-specific security options."""

    gmsa_credential_spec_name: str | None = None
    """The GMSA credential spec to use, by name."""
    gmsa_credential_spec: str | None = None
    """The GMSA credential spec itself."""
    run_as_user_name: str | None = None
    """The Windows user name to run as."""
    host_process: bool | None = None
    """Run as a host process container."""


class SeccompProfile(KubeModel):
    """A seccomp profile."""

    type: str
    """RuntimeDefault, Unconfined or Localhost."""
    localhost_profile: str | None = None
    """The profile file on the node, for Localhost."""


class AppArmorProfile(KubeModel):
    """An AppArmor profile."""

    type: str
    """RuntimeDefault, Unconfined or Localhost."""
    localhost_profile: str | None = None
    """The profile loaded on the node, for Localhost."""


class SecurityContext(KubeModel):
    """The security options of one container; where the pod's securityContext sets the same,
    this wins."""

    capabilities: Capabilities | None = None
    """Linux capabilities to add and drop."""
    privileged: bool | None = None
    """Run as privileged: like root on the host. Default false."""
    se_linux_options: SELinuxOptions | None = None
    """The SELinux context of the container."""
    windows_options: WindowsSecurityContextOptions | None = None
    """Windows-specific options."""
    run_as_user: int | None = None
    """The user id the process runs as; the image's by default."""
    run_as_group: int | None = None
    """The group id the process runs as."""
    run_as_non_root: bool | None = None
    """Refuse to start the container if it would run as user 0."""
    read_only_root_filesystem: bool | None = None
    """Mount the container's root filesystem read-only. Default false."""
    allow_privilege_escalation: bool | None = None
    """Whether a process may gain more privileges than its parent (no_new_privs off). True when
    privileged or with CAP_SYS_ADMIN."""
    proc_mount: str | None = None
    """Which /proc mount the container gets: Default or Unmasked."""
    seccomp_profile: SeccompProfile | None = None
    """The seccomp profile of the container."""
    app_armor_profile: AppArmorProfile | None = None
    """The AppArmor profile of the container."""


class Container(KubeModel):
    """One container of a pod: an image, how it runs, what it may use."""

    name: str
    """The container's name, a DNS label unique within the pod. Cannot be updated."""
    image: str | None = None
    """The container image to run (name, tag or digest). Required by controllers that create
    pods; a pod's may be left empty only where defaults supply it."""
    command: list[str] = items()
    """The entrypoint, run without a shell: replaces the image's ENTRYPOINT. $(VAR) references
    expand from the container's environment; $$ escapes them."""
    args: list[str] = items()
    """Arguments to the entrypoint: replace the image's CMD. $(VAR) references expand as in
    command."""
    working_dir: str | None = None
    """The working directory of the container; the image's default when empty."""
    ports: list[ContainerPort] = _merge_list_keyed("containerPort", "protocol")
    """The ports the container exposes. Informational mostly: a port a process listens on is
    reachable whether listed or not; names let Services and probes refer to them."""
    env_from: list[EnvFromSource] = items()
    """Sources (ConfigMaps, Secrets) whose every key becomes an environment variable. Keys from
    later sources win; env entries win over all of them."""
    env: list[EnvVar] = merge_list("name")
    """Environment variables to set in the container."""
    resources: ResourceRequirements | None = None
    """The compute resources the container requests (for scheduling) and may not exceed
    (limits)."""
    resize_policy: list[ContainerResizePolicy] = items()
    """Whether the container is restarted when a resource is resized in place, per resource."""
    restart_policy: str | None = None
    """For init containers only: Always makes it a sidecar, started before the app containers
    and kept running alongside them."""
    volume_mounts: list[VolumeMount] = merge_list("mountPath")
    """The pod's volumes mounted into the container's filesystem."""
    volume_devices: list[VolumeDevice] = merge_list("devicePath")
    """Block devices of the pod's volumes made available to the container."""
    liveness_probe: Probe | None = None
    """A periodic check of the container's health: the container is restarted when it fails."""
    readiness_probe: Probe | None = None
    """A periodic check of whether the container can serve: the pod is taken out of Service
    endpoints while it fails."""
    startup_probe: Probe | None = None
    """A check that must succeed before liveness and readiness probes start; failing it restarts
    the container."""
    lifecycle: Lifecycle | None = None
    """Actions run right after the container starts and right before it stops."""
    termination_message_path: str | None = None
    """The file whose content becomes the container's termination message. Defaults to
    /dev/termination-log."""
    termination_message_policy: str | None = None
    """Where the termination message comes from: File (the default) or FallbackToLogsOnError
    (the log's tail when the file is empty and the container failed)."""
    image_pull_policy: str | None = None
    """When the image is pulled: Always, Never or IfNotPresent. Defaults to Always for the
    latest tag, else IfNotPresent."""
    security_context: SecurityContext | None = None
    """The security options the container runs with, overriding the pod's."""
    stdin: bool | None = None
    """Whether the container has a stdin buffer, for attach. Default false."""
    stdin_once: bool | None = None
    """Whether stdin closes after the first client detaches. Default false."""
    tty: bool | None = None
    """Whether the container gets a terminal (needs stdin). Default false."""

    def port_named(self, port_name: str) -> ContainerPort | None:
        """The port declared with ``name == port_name`` (a Service's named targetPort)."""
        for port in self.ports:
            if port.name == port_name:
                return port
        return None


class EphemeralContainer(Container):
    """A debugging container added to a running pod (``kubectl debug``)."""

    target_container_name: str | None = None
    """The container whose namespaces (IPC, PID...) the ephemeral container joins."""


# --- scheduling ---------------------------------------------------------------------------


class NodeSelectorRequirement(KubeModel):
    """A requirement on one node label or field."""

    key: str
    """The label key (or field) the requirement applies to."""
    operator: str
    """In, NotIn, Exists, DoesNotExist, Gt or Lt."""
    values: list[str] = items()
    """The values: for In and NotIn at least one, none for Exists and DoesNotExist, a single
    integer for Gt and Lt."""


class NodeSelectorTerm(KubeModel):
    """Requirements on a node, ANDed."""

    STRUCT_TYPE = "atomic"  # +structType=atomic

    match_expressions: list[NodeSelectorRequirement] = items()
    """Requirements on the node's labels."""
    match_fields: list[NodeSelectorRequirement] = items()
    """Requirements on the node's fields (metadata.name)."""


class NodeSelector(KubeModel):
    """Node selector terms, any one of which must match."""

    STRUCT_TYPE = "atomic"  # +structType=atomic

    node_selector_terms: list[NodeSelectorTerm] = items()
    """The terms, ORed."""


class PreferredSchedulingTerm(KubeModel):
    """A weighted node preference."""

    weight: int
    """The weight, 1 to 100."""
    preference: NodeSelectorTerm
    """The node selector term to match."""


class NodeAffinity(KubeModel):
    """Node selection rules."""

    required_during_scheduling_ignored_during_execution: NodeSelector | None = None
    """Rules a node must meet for the pod to be scheduled there; not re-checked once it runs."""
    preferred_during_scheduling_ignored_during_execution: list[PreferredSchedulingTerm] = items()
    """Weighted preferences: the scheduler favours nodes meeting more (and heavier) of them."""


class PodAffinityTerm(KubeModel):
    """A set of pods, and the topology domain to be (or not to be) in with them."""

    label_selector: LabelSelector | None = None
    """The pods' labels."""
    namespaces: list[str] = items()
    """The namespaces the pods are in; the pod's own when empty (and no namespaceSelector)."""
    topology_key: str
    """The node label defining the domain (kubernetes.io/hostname, topology.kubernetes.io/zone).
    """
    namespace_selector: LabelSelector | None = None
    """Namespaces, by label, the pods are in."""
    match_label_keys: list[str] = items()
    """Label keys whose values, taken from the incoming pod, are added to labelSelector."""
    mismatch_label_keys: list[str] = items()
    """Label keys whose values, taken from the incoming pod, must differ."""


class WeightedPodAffinityTerm(KubeModel):
    """A weighted pod (anti-)affinity term."""

    weight: int
    """The weight, 1 to 100."""
    pod_affinity_term: PodAffinityTerm
    """The term."""


class PodAffinity(KubeModel):
    """Rules placing a pod near other pods."""

    required_during_scheduling_ignored_during_execution: list[PodAffinityTerm] = items()
    """Terms that must all hold where the pod is scheduled."""
    preferred_during_scheduling_ignored_during_execution: list[WeightedPodAffinityTerm] = items()
    """Weighted terms the scheduler favours."""


class PodAntiAffinity(KubeModel):
    """Rules keeping a pod away from other pods."""

    required_during_scheduling_ignored_during_execution: list[PodAffinityTerm] = items()
    """Terms none of which may hold where the pod is scheduled."""
    preferred_during_scheduling_ignored_during_execution: list[WeightedPodAffinityTerm] = items()
    """Weighted terms the scheduler avoids."""


class Affinity(KubeModel):
    """Scheduling constraints of a pod."""

    node_affinity: NodeAffinity | None = None
    """Which nodes the pod may or prefers to be scheduled on, by node labels."""
    pod_affinity: PodAffinity | None = None
    """Pods this pod is to be placed near (in the same topology domain)."""
    pod_anti_affinity: PodAntiAffinity | None = None
    """Pods this pod is to be kept away from."""


class Taint(KubeModel):
    """A mark on a node that repels pods without a matching toleration."""

    key: str
    """The taint key."""
    value: str | None = None
    """The taint value."""
    effect: str
    """What the taint does to pods that do not tolerate it: NoSchedule, PreferNoSchedule or
    NoExecute."""
    time_added: Time | None = None
    """When the taint was added (NoExecute taints)."""


class Toleration(KubeModel):
    """A taint a pod tolerates: a key, an operator and the effect."""

    key: str | None = None
    """The taint key; empty with operator Exists matches every taint."""
    operator: str | None = None
    """Equal (the default: the value must match) or Exists (any value)."""
    value: str | None = None
    """The value to match, for Equal."""
    effect: str | None = None
    """The taint effect matched: NoSchedule, PreferNoSchedule or NoExecute; every effect when
    empty."""
    toleration_seconds: int | None = None
    """For NoExecute: how long the pod stays bound after the taint appears; forever when unset.
    """

    def tolerates(self, taint: Taint) -> bool:
        """Whether this toleration tolerates ``taint``, by Kubernetes' rules.

        An empty effect matches every effect and an empty key every key; operator
        ``Exists`` matches any value, ``Equal`` (the default) the same value only.
        """
        if self.effect and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        if self.operator in (None, "", TolerationOperator.EQUAL):
            return (self.value or "") == (taint.value or "")
        return self.operator == TolerationOperator.EXISTS


class TopologySpreadConstraint(KubeModel):
    """How a group of pods spreads across a topology."""

    max_skew: int
    """The most the number of matching pods may differ between two domains."""
    topology_key: str
    """The node label whose values are the domains."""
    when_unsatisfiable: str
    """What the scheduler does when the constraint cannot be met: DoNotSchedule or
    ScheduleAnyway."""
    label_selector: LabelSelector | None = None
    """The pods counted."""
    min_domains: int | None = None
    """The least number of eligible domains."""
    node_affinity_policy: str | None = None
    """Whether the pod's node affinity limits the domains: Honor or Ignore."""
    node_taints_policy: str | None = None
    """Whether node taints limit the domains: Honor or Ignore."""
    match_label_keys: list[str] = items()
    """Label keys whose values, from the incoming pod, narrow the pods counted."""


# --- pods ---------------------------------------------------------------------------------


class Sysctl(KubeModel):
    """A kernel parameter."""

    name: str
    """The parameter's name."""
    value: str
    """The value to set."""


class PodSecurityContext(KubeModel):
    """Security attributes of a whole pod; a container's securityContext overrides them."""

    se_linux_options: SELinuxOptions | None = None
    """The SELinux context of every container."""
    windows_options: WindowsSecurityContextOptions | None = None
    """Windows-specific options of every container."""
    run_as_user: int | None = None
    """The user id the containers' processes run as."""
    run_as_group: int | None = None
    """The group id the containers' processes run as."""
    run_as_non_root: bool | None = None
    """Refuse to start containers that would run as user 0."""
    supplemental_groups: list[int] = items()
    """More group ids for each container's first process."""
    fs_group: int | None = None
    """A group that owns the pod's volumes and is added to every process; files created in
    volumes belong to it."""
    sysctls: list[Sysctl] = items()
    """Namespaced kernel parameters to set for the pod."""
    fs_group_change_policy: str | None = None
    """When volume ownership is changed to fsGroup: OnRootMismatch or Always."""
    seccomp_profile: SeccompProfile | None = None
    """The seccomp profile of every container."""
    app_armor_profile: AppArmorProfile | None = None
    """The AppArmor profile of every container."""


class HostAlias(KubeModel):
    """An /etc/hosts entry."""

    ip: str
    """The address."""
    hostnames: list[str] = items()
    """The names for it."""


class PodDNSConfigOption(KubeModel):
    """A resolver option."""

    name: str | None = None
    """The option's name (ndots...)."""
    value: str | None = None
    """Its value, if it takes one."""


class PodDNSConfig(KubeModel):
    """DNS parameters of a pod beyond its dnsPolicy."""

    nameservers: list[str] = items()
    """DNS servers, appended to those dnsPolicy gives."""
    searches: list[str] = items()
    """Search domains, appended to those dnsPolicy gives."""
    options: list[PodDNSConfigOption] = items()
    """Resolver options; merged with those dnsPolicy gives, these winning."""


class PodReadinessGate(KubeModel):
    """An extra condition for pod readiness."""

    condition_type: str
    """The type of a pod condition that must be True."""


class PodOS(KubeModel):
    """The operating system of a pod."""

    name: str
    """linux or windows."""


class PodSchedulingGate(KubeModel):
    """A gate holding a pod back from scheduling."""

    name: str
    """The gate's name, unique within the pod."""


class ClaimSource(KubeModel):
    """A ResourceClaim, or a template to make one from."""

    resource_claim_name: str | None = None
    """An existing ResourceClaim in the pod's namespace."""
    resource_claim_template_name: str | None = None
    """A template from which a ResourceClaim is made for the pod."""


class PodResourceClaim(KubeModel):
    """A resource claim a pod's containers may use."""

    name: str
    """The name containers refer to it by."""
    source: ClaimSource | None = None
    """Where the ResourceClaim comes from."""


class PodSpec(KubeModel):
    """The description of a pod: what runs in it and how."""

    volumes: list[Volume] = merge_list("name", retain_keys=True)
    """Volumes the pod's containers may mount, by name."""
    init_containers: list[Container] = merge_list("name")
    """Containers run one after the other, each to completion, before the app containers start;
    a failure restarts the pod's initialisation per restartPolicy. An init container with
    restartPolicy Always is a sidecar that keeps running."""
    containers: list[Container] = merge_list("name")
    """The containers of the pod. At least one; they cannot be added or removed once the pod
    exists."""
    ephemeral_containers: list[EphemeralContainer] = merge_list("name")
    """Containers added to a running pod for debugging (kubectl debug), through the
    ephemeralcontainers subresource. Never restarted."""
    restart_policy: str | None = None
    """When the containers are restarted after they exit: Always (the default), OnFailure or
    Never."""
    termination_grace_period_seconds: int | None = None
    """Seconds the pod is given to stop after a deletion request (SIGTERM first, SIGKILL once it
    is over). Defaults to 30; 0 stops at once."""
    active_deadline_seconds: int | None = None
    """Seconds the pod may be active, counted from its start, before the system fails it. A
    positive integer."""
    dns_policy: str | None = None
    """How the pod's DNS is configured: ClusterFirst (the default: the cluster DNS first),
    ClusterFirstWithHostNet, Default (the node's resolver) or None (only dnsConfig)."""
    node_selector: dict[str, str] = atomic_mapping()
    """Labels a node must carry for the pod to be scheduled there."""
    service_account_name: str | None = None
    """The name of the ServiceAccount the pod runs as."""
    service_account: str | None = None
    """Deprecated alias of serviceAccountName."""
    automount_service_account_token: bool | None = None
    """Whether a token of the service account is mounted into the pod automatically."""
    node_name: str | None = None
    """The node the pod runs on. Set by the scheduler when it binds the pod; setting it oneself
    bypasses scheduling."""
    host_network: bool | None = None
    """Run the pod in the node's network namespace, with the node's addresses and ports. Default
    false."""
    host_pid: bool | None = None
    """Share the node's process ID namespace. Default false."""
    host_ipc: bool | None = None
    """Share the node's IPC namespace. Default false."""
    share_process_namespace: bool | None = None
    """Let the pod's containers see and signal each other's processes (one PID namespace for the
    pod). Default false."""
    security_context: PodSecurityContext | None = None
    """Pod-wide security attributes (user and group ids, filesystem group, sysctls, seccomp),
    defaults for every container."""
    image_pull_secrets: list[LocalObjectReference] = merge_list("name")
    """Secrets in the pod's namespace holding credentials for pulling its images."""
    hostname: str | None = None
    """The pod's hostname; defaults to the pod's name."""
    subdomain: str | None = None
    """With hostname, gives the pod the DNS name <hostname>.<subdomain>.<namespace>.svc.<cluster
    domain>, when a headless Service of that name exists."""
    affinity: Affinity | None = None
    """Scheduling constraints relative to nodes and to other pods."""
    scheduler_name: str | None = None
    """The scheduler to place the pod; the default scheduler when empty."""
    # Kubernetes gives tolerations no patch strategy: a patch replaces the whole list.
    tolerations: list[Toleration] = items()
    """The taints the pod tolerates, so that it may be scheduled on (or stay on) nodes carrying
    them."""
    host_aliases: list[HostAlias] = merge_list("ip")
    """Extra entries for the pod's /etc/hosts file."""
    priority_class_name: str | None = None
    """The PriorityClass giving the pod its priority."""
    priority: int | None = None
    """The pod's priority, resolved from priorityClassName by admission; higher values are
    scheduled first."""
    dns_config: PodDNSConfig | None = None
    """DNS parameters merged into what dnsPolicy gives (nameservers, searches, options)."""
    readiness_gates: list[PodReadinessGate] = items()
    """Extra conditions that must be True for the pod to be Ready."""
    runtime_class_name: str | None = None
    """The RuntimeClass to run the pod with."""
    enable_service_links: bool | None = None
    """Whether Services of the namespace are injected into the environment, docker links style.
    Default true."""
    preemption_policy: str | None = None
    """Whether the pod may preempt lower-priority pods: PreemptLowerPriority (the default) or
    Never."""
    overhead: ResourceList = mapping()
    """Resources the pod's sandbox uses beyond its containers' requests, set from its
    RuntimeClass."""
    topology_spread_constraints: list[TopologySpreadConstraint] = _merge_list_keyed(
        "topologyKey", "whenUnsatisfiable"
    )
    """How the pods of a group are to spread across topology domains (zones, nodes)."""
    set_hostname_as_fqdn: bool | None = Field(default=None, alias="setHostnameAsFQDN")
    """Set the pod's hostname to its fully qualified domain name rather than the short name."""
    os: PodOS | None = None
    """The operating system the pod's containers need (linux or windows)."""
    host_users: bool | None = None
    """Use the node's user namespace (true, the default) or a new one for the pod (false)."""
    scheduling_gates: list[PodSchedulingGate] = merge_list("name")
    """Gates that must all be removed before the pod is considered for scheduling."""
    resource_claims: list[PodResourceClaim] = merge_list("name", retain_keys=True)
    """Dynamically allocated resources (DRA) the pod's containers may use."""


class ContainerStateWaiting(KubeModel):
    """A container waiting to start."""

    reason: str | None = None
    """Why it is not running yet (ContainerCreating, ImagePullBackOff, CrashLoopBackOff...)."""
    message: str | None = None
    """What is happening, in words."""


class ContainerStateRunning(KubeModel):
    """A running container."""

    started_at: Time | None = None
    """When the container last (re)started."""


class ContainerStateTerminated(KubeModel):
    """A container that has exited."""

    exit_code: int
    """The exit status of its last run."""
    signal: int | None = None
    """The signal that stopped it, if any."""
    reason: str | None = None
    """Why it exited (Completed, Error, OOMKilled...)."""
    message: str | None = None
    """What happened, in words (the termination message, if the container wrote one)."""
    started_at: Time | None = None
    """When its last run started."""
    finished_at: Time | None = None
    """When its last run ended."""
    container_id: str | None = None
    """The container's id, as <runtime>://<id>."""


class ContainerState(KubeModel):
    """At most one of ``waiting``, ``running``, ``terminated`` is set."""

    waiting: ContainerStateWaiting | None = None
    """Details of a container that is not running yet."""
    running: ContainerStateRunning | None = None
    """Details of a running container."""
    terminated: ContainerStateTerminated | None = None
    """Details of a container that has exited."""


class VolumeMountStatus(KubeModel):
    """The state of one of a container's mounts."""

    name: str
    """The name of the mount."""
    mount_path: str
    """Where the volume is mounted."""
    read_only: bool | None = None
    """Whether the mount is read-only."""
    recursive_read_only: str | None = None
    """Whether read-only applies to the mounts below it too."""


class ContainerStatus(KubeModel):
    """The state of one container of a pod."""

    name: str
    """The name of the container, as in the pod's spec."""
    state: ContainerState | None = None
    """What the container does now: waiting, running or terminated."""
    last_state: ContainerState | None = None
    """How the container's previous run ended, when it was restarted."""
    ready: bool
    """Whether the container passes its readiness probe (and has started)."""
    restart_count: int
    """How many times the container was restarted."""
    image: str
    """The image the container runs."""
    image_id: str
    """The image's identifier as the runtime reports it."""
    container_id: str | None = None
    """The container's id, as <runtime>://<id>."""
    started: bool | None = None
    """Whether the container has passed its startup probe (or has none and runs)."""
    allocated_resources: ResourceList = mapping()
    """The compute resources the node allocated to the container."""
    resources: ResourceRequirements | None = None
    """The compute resources the runtime gives the running container."""
    volume_mounts: list[VolumeMountStatus] = merge_list("mountPath")
    """The mounts the container has."""


class PodCondition(KubeModel):
    """One aspect of a pod's state."""

    type: str
    """The type of the condition: PodScheduled, Initialized, ContainersReady, Ready, or a
    readiness gate's."""
    status: str
    """True, False or Unknown."""
    last_probe_time: Time | None = None
    """When the condition was last probed."""
    last_transition_time: Time | None = None
    """When the condition last changed from one status to another."""
    reason: str | None = None
    """A unique, one-word, CamelCase reason for the last transition."""
    message: str | None = None
    """A human-readable message about the last transition."""


class PodIP(KubeModel):
    """An IP address of the pod."""

    ip: str
    """The address."""


class HostIP(KubeModel):
    """An IP address of the pod's node."""

    ip: str
    """The address."""


class PodResourceClaimStatus(KubeModel):
    """The ResourceClaim made for one of a pod's resourceClaims."""

    name: str
    """The entry of spec.resourceClaims this is about."""
    resource_claim_name: str | None = None
    """The name of the ResourceClaim generated for it."""


class PodStatus(KubeModel):
    """The observed state of a pod. May lag behind the actual state."""

    phase: str | None = None
    """A summary of where the pod is in its lifecycle: Pending, Running, Succeeded, Failed or
    Unknown."""
    conditions: list[PodCondition] = merge_list("type")
    """The pod's current service state (PodScheduled, Initialized, ContainersReady, Ready...).
    """
    message: str | None = None
    """A human-readable message on why the pod is in this condition."""
    reason: str | None = None
    """A brief CamelCase reason for the pod's state (Evicted, NodeLost...)."""
    nominated_node_name: str | None = None
    """The node the scheduler preempted pods on to make room for this one; it is not bound there
    yet."""
    host_ip: str | None = None
    """The IP address of the node the pod is bound to."""
    # Patched by merging on ``ip``, yet applied as an atomic list: Kubernetes' own tags.
    host_ips: list[HostIP] = _merge_list_keyed("ip", atomic=True)
    """The IP addresses of the node, one per family."""
    pod_ip: str | None = None
    """The IP address allocated to the pod; routable at least within the cluster."""
    pod_ips: list[PodIP] = merge_list("ip")
    """The pod's IP addresses, at most one per family; the first is podIP."""
    start_time: Time | None = None
    """When the kubelet acknowledged the pod, before any image was pulled."""
    init_container_statuses: list[ContainerStatus] = items()
    """The status of each init container."""
    container_statuses: list[ContainerStatus] = items()
    """The status of each app container."""
    qos_class: str | None = None
    """The Quality of Service class of the pod from its resource requests and limits:
    Guaranteed, Burstable or BestEffort."""
    ephemeral_container_statuses: list[ContainerStatus] = items()
    """The status of each ephemeral container."""
    resize: str | None = None
    """The state of an in-place resource resize of the pod's containers."""
    resource_claim_statuses: list[PodResourceClaimStatus] = merge_list("name", retain_keys=True)
    """The ResourceClaims generated for the pod's resourceClaims."""

    def condition(self, condition_type: str) -> PodCondition | None:
        """The condition of ``condition_type`` (``"Ready"``), if the pod reports one."""
        for cond in self.conditions:
            if cond.type == condition_type:
                return cond
        return None


class Pod(KubeObject):
    """A group of containers scheduled together onto one node, sharing its network namespace and
    volumes. Created by people or by controllers (ReplicaSets, Jobs, DaemonSets, StatefulSets).
    """

    API_VERSION = "v1"
    KIND = "Pod"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: PodSpec | None = None
    """The desired behaviour of the pod: its containers, volumes, scheduling constraints and
    restart policy."""
    status: PodStatus | None = None
    """The most recently observed status of the pod, written by its kubelet. May lag behind the
    actual state; read-only for clients."""

    def phase(self) -> str | None:
        return self.status.phase if self.status else None

    def is_terminal(self) -> bool:
        """Succeeded or Failed: no container of the pod will run again."""
        return self.phase() in (PodPhase.SUCCEEDED, PodPhase.FAILED)

    def is_ready(self) -> bool:
        """The pod reports condition ``Ready`` with status ``"True"``."""
        cond = self.status.condition(PodConditionType.READY) if self.status else None
        return cond is not None and cond.status == ConditionStatus.TRUE

    def node_name(self) -> str | None:
        """The node the pod is bound to; None while unscheduled."""
        return (self.spec.node_name or None) if self.spec else None

    def container(self, name: str) -> Container | None:
        """The regular or init container called ``name``."""
        if self.spec is None:
            return None
        for container in (*self.spec.containers, *self.spec.init_containers):
            if container.name == name:
                return container
        return None

    def container_port_named(self, port_name: str) -> int | None:
        """The number of the regular container port called ``port_name``, if any.

        Endpoints resolve a Service's named ``targetPort`` this way: the first
        container (in spec order) that declares the name wins, as in Kubernetes.
        """
        if self.spec is None:
            return None
        for container in self.spec.containers:
            port = container.port_named(port_name)
            if port is not None:
                return port.container_port
        return None


class PodTemplateSpec(KubeModel):
    """The pod a workload controller stamps out (Deployment, Job, ...)."""

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Labels and annotations of the pods made from the template."""
    spec: PodSpec | None = None
    """The spec of the pods made from the template."""


# --- nodes --------------------------------------------------------------------------------


class ConfigMapNodeConfigSource(KubeModel):
    """Deprecated: a ConfigMap with kubelet configuration."""

    namespace: str
    """The ConfigMap's namespace."""
    name: str
    """The ConfigMap's name."""
    uid: str | None = None
    """The ConfigMap's uid."""
    resource_version: str | None = None
    """The ConfigMap's resourceVersion."""
    kubelet_config_key: str
    """The key holding the configuration."""


class NodeConfigSource(KubeModel):
    """Deprecated: a source of kubelet configuration."""

    config_map: ConfigMapNodeConfigSource | None = None
    """A ConfigMap holding the configuration."""


class NodeSpec(KubeModel):
    """How a node is set up."""

    pod_cidr: str | None = None
    """The range of pod addresses given to the node."""
    pod_cidrs: list[str] = merge_list()
    """The pod address ranges of the node, one per family; the first is podCIDR."""
    provider_id: str | None = None
    """The node's id at its cloud provider, as <provider>://<id>."""
    unschedulable: bool | None = None
    """Keep new pods off the node (kubectl cordon). Default false."""
    taints: list[Taint] = items()
    """The node's taints: pods without a matching toleration are not scheduled here (NoSchedule)
    or are evicted (NoExecute)."""
    config_source: NodeConfigSource | None = None
    """Deprecated: where the kubelet's configuration came from."""
    external_id: str | None = None
    """Deprecated, unused."""


class NodeCondition(KubeModel):
    """One aspect of a node's state."""

    type: str
    """Ready, MemoryPressure, DiskPressure, PIDPressure or NetworkUnavailable."""
    status: str
    """True, False or Unknown."""
    last_heartbeat_time: Time | None = None
    """When the condition was last reported."""
    last_transition_time: Time | None = None
    """When the condition last changed status."""
    reason: str | None = None
    """A one-word CamelCase reason."""
    message: str | None = None
    """A human-readable message."""


class NodeAddress(KubeModel):
    """An address of a node."""

    type: str
    """Hostname, InternalIP, ExternalIP, InternalDNS or ExternalDNS."""
    address: str
    """The address."""


class DaemonEndpoint(KubeModel):
    # Capitalised on the wire: an old Go tag without quotes fell back to the field name.
    """A port of a daemon."""

    port: int = Field(alias="Port")
    """The port number."""


class NodeDaemonEndpoints(KubeModel):
    """Ports of daemons on a node."""

    kubelet_endpoint: DaemonEndpoint | None = None
    """The kubelet's port."""


class NodeSystemInfo(KubeModel):
    """Identifiers and versions of a node's system."""

    machine_id: str
    """The machine id (/etc/machine-id)."""
    system_uuid: str
    """The system UUID the firmware reports."""
    boot_id: str
    """The boot id, which changes at every reboot."""
    kernel_version: str
    """The kernel version (uname -r)."""
    os_image: str
    """The operating system (from /etc/os-release)."""
    container_runtime_version: str
    """The container runtime and its version (docker://27.1)."""
    kubelet_version: str
    """The kubelet's version."""
    kube_proxy_version: str
    """Deprecated: the kube-proxy version the kubelet reports."""
    operating_system: str
    """The operating system (linux)."""
    architecture: str
    """The CPU architecture (amd64, arm64)."""


class ContainerImage(KubeModel):
    """A container image on a node."""

    names: list[str] = items()
    """The image's names (tags and digests)."""
    size_bytes: int | None = None
    """The image's size in bytes."""


class AttachedVolume(KubeModel):
    """A volume attached to a node."""

    name: str
    """The volume's name."""
    device_path: str
    """Where it is attached on the node."""


class NodeConfigStatus(KubeModel):
    """Deprecated: the state of a kubelet's dynamic configuration."""

    assigned: NodeConfigSource | None = None
    """The configuration assigned."""
    active: NodeConfigSource | None = None
    """The configuration in use."""
    last_known_good: NodeConfigSource | None = None
    """The last configuration that worked."""
    error: str | None = None
    """What went wrong, if anything."""


class NodeRuntimeHandlerFeatures(KubeModel):
    """Features of a runtime handler."""

    recursive_read_only_mounts: bool | None = None
    """Whether it supports recursive read-only mounts."""


class NodeRuntimeHandler(KubeModel):
    """A runtime handler of a node."""

    name: str
    """The handler's name; empty for the default."""
    features: NodeRuntimeHandlerFeatures | None = None
    """What the handler supports."""


class NodeStatus(KubeModel):
    """What a node's kubelet reports."""

    capacity: ResourceList = mapping()
    """The node's total resources (cpu, memory, ephemeral-storage, pods)."""
    allocatable: ResourceList = mapping()
    """The resources available to pods: capacity less what is reserved for the system. Defaults
    to capacity."""
    phase: str | None = None
    """Deprecated, unused."""
    conditions: list[NodeCondition] = merge_list("type")
    """The node's conditions: Ready, MemoryPressure, DiskPressure, PIDPressure,
    NetworkUnavailable."""
    addresses: list[NodeAddress] = merge_list("type")
    """The node's addresses (InternalIP, ExternalIP, Hostname)."""
    daemon_endpoints: NodeDaemonEndpoints | None = None
    """The ports of the daemons on the node (the kubelet's)."""
    node_info: NodeSystemInfo | None = None
    """Identifiers and versions of the node's system."""
    images: list[ContainerImage] = items()
    """The container images on the node."""
    volumes_in_use: list[str] = items()
    """The volumes attached and mounted on the node."""
    volumes_attached: list[AttachedVolume] = items()
    """The volumes attached to the node."""
    config: NodeConfigStatus | None = None
    """Deprecated: the state of the kubelet's dynamic configuration."""
    runtime_handlers: list[NodeRuntimeHandler] = items()
    """The runtime handlers the node's runtime offers."""

    def condition(self, condition_type: str) -> NodeCondition | None:
        """The condition of ``condition_type`` (``"Ready"``), if the node reports one."""
        for cond in self.conditions:
            if cond.type == condition_type:
                return cond
        return None

    def address(self, address_type: str) -> str | None:
        """The first address of ``address_type`` (``"InternalIP"``), if any."""
        for addr in self.addresses:
            if addr.type == address_type:
                return addr.address
        return None


class Node(KubeObject):
    """A worker machine, registered by its kubelet, that pods are scheduled onto."""

    API_VERSION = "v1"
    KIND = "Node"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: NodeSpec | None = None
    """The node's configuration: its pod CIDRs, taints, and whether it takes new pods."""
    status: NodeStatus | None = None
    """The node's observed state, reported by its kubelet: capacity, conditions, addresses,
    system information."""

    def is_ready(self) -> bool:
        """The node reports condition ``Ready`` with status ``"True"``."""
        cond = self.status.condition(NodeConditionType.READY) if self.status else None
        return cond is not None and cond.status == ConditionStatus.TRUE

    def is_unschedulable(self) -> bool:
        """Cordoned: ``spec.unschedulable`` is true."""
        return bool(self.spec and self.spec.unschedulable)

    def taints(self) -> list[Taint]:
        return self.spec.taints if self.spec else []

    def pod_cidrs(self) -> list[str]:
        """``spec.podCIDRs`` (else ``[spec.podCIDR]``); empty until node IPAM set one."""
        spec = self.spec
        if spec is None:
            return []
        return list(spec.pod_cidrs) or ([spec.pod_cidr] if spec.pod_cidr else [])

    def internal_ips(self) -> list[str]:
        """The node's ``InternalIP`` addresses, in order."""
        addresses = self.status.addresses if self.status else []
        return [a.address for a in addresses if a.type == NodeAddressType.INTERNAL_IP]


# --- namespaces ---------------------------------------------------------------------------


class NamespaceSpec(KubeModel):
    """The desired state of a namespace."""

    finalizers: list[str] = items()
    """Names that must be gone before the namespace is removed (kubernetes: the namespace
    controller empties it first). Changed only through the finalize subresource."""


class NamespaceCondition(KubeModel):
    """One aspect of a namespace's state."""

    type: str
    """The type of the condition (NamespaceContentRemaining, NamespaceFinalizersRemaining,
    NamespaceDeletionDiscoveryFailure...)."""
    status: str
    """True, False or Unknown."""
    last_transition_time: Time | None = None
    """When the condition last changed from one status to another."""
    reason: str | None = None
    """A one-word, CamelCase reason for the last transition."""
    message: str | None = None
    """A human-readable message about the last transition."""


class NamespaceStatus(KubeModel):
    """The observed state of a namespace."""

    phase: str | None = None
    """Active, or Terminating once deletion was requested (no new objects may be created in it
    then)."""
    conditions: list[NamespaceCondition] = merge_list("type")
    """The latest observations of the namespace's state, such as content or finalizers still
    remaining while it terminates."""


class Namespace(KubeObject):
    """A scope for names: most objects live in one, and deleting a namespace deletes what it
    holds."""

    API_VERSION = "v1"
    KIND = "Namespace"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: NamespaceSpec | None = None
    """The behaviour of the namespace: its finalizers."""
    status: NamespaceStatus | None = None
    """The observed state of the namespace: Active or Terminating, with conditions."""

    def is_terminating(self) -> bool:
        return bool(self.status and self.status.phase == NamespacePhase.TERMINATING)


# --- services -----------------------------------------------------------------------------


class ClientIPConfig(KubeModel):
    """ClientIP affinity settings."""

    timeout_seconds: int | None = None
    """How long a client sticks to a pod. Default 10800 (3 hours)."""


class SessionAffinityConfig(KubeModel):
    """Settings of session affinity."""

    client_ip: ClientIPConfig | None = None
    """Settings of ClientIP affinity."""


class ServicePort(KubeModel):
    """A port of a Service."""

    name: str | None = None
    """The port's name, required when there are several; a DNS label."""
    protocol: str | None = _protocol()
    """TCP (the default), UDP or SCTP."""
    app_protocol: str | None = None
    """The application protocol (http, h2c, kubernetes.io/ws...), a hint for implementations."""
    port: int
    """The port the Service listens on."""
    target_port: IntOrString | None = None
    """The port of the pods, by number or by a container port's name; the same as port by
    default."""
    node_port: int | None = None
    """The port on every node (NodePort and LoadBalancer), allocated from the node port range
    unless given."""


class ServiceSpec(KubeModel):
    """What a Service offers."""

    ports: list[ServicePort] = _merge_list_keyed("port", "protocol")
    """The ports the Service exposes, each mapped to a port of the selected pods."""
    selector: dict[str, str] = atomic_mapping()
    """Labels of the pods traffic goes to. Without a selector the Service's endpoints are
    managed by someone else. Ignored for ExternalName."""
    cluster_ip: str | None = None
    """The Service's virtual IP address, allocated from the service range unless given; None
    makes a headless Service (no virtual IP, DNS names the pods). Cannot be changed once set,
    except to and from ExternalName."""
    cluster_ips: list[str] = items()
    """The Service's virtual addresses, one per family; the first is clusterIP."""
    type: str | None = None
    """How the Service is exposed: ClusterIP (the default, inside the cluster), NodePort (also a
    port on every node), LoadBalancer (also an external address) or ExternalName (a DNS alias).
    """
    external_ips: list[str] = items()
    """Addresses, not managed by the cluster, at which nodes also accept the Service's traffic.
    """
    session_affinity: str | None = None
    """ClientIP keeps a client on one pod; None (the default) balances every connection."""
    load_balancer_ip: str | None = None
    """Deprecated: the address to ask the load balancer for."""
    load_balancer_source_ranges: list[str] = items()
    """The client ranges a LoadBalancer Service accepts."""
    external_name: str | None = None
    """The DNS name an ExternalName Service is a CNAME of."""
    external_traffic_policy: str | None = None
    """Where external traffic (NodePort, LoadBalancer) goes: Cluster (any pod) or Local (only
    pods on the node it reached, keeping the client's address)."""
    health_check_node_port: int | None = None
    """The node port health checks of a Local LoadBalancer Service use."""
    publish_not_ready_addresses: bool | None = None
    """Publish the addresses of pods that are not ready too (for peer discovery of
    StatefulSets)."""
    session_affinity_config: SessionAffinityConfig | None = None
    """Settings of session affinity."""
    ip_families: list[str] = items()
    """The IP families (IPv4, IPv6) of the Service's addresses."""
    ip_family_policy: str | None = None
    """SingleStack, PreferDualStack or RequireDualStack."""
    allocate_load_balancer_node_ports: bool | None = None
    """Whether node ports are allocated for a LoadBalancer Service. Default true."""
    load_balancer_class: str | None = None
    """The load balancer implementation to use; the default one when unset."""
    internal_traffic_policy: str | None = None
    """Where traffic from inside the cluster goes: Cluster (any pod) or Local (only pods on the
    same node)."""
    traffic_distribution: str | None = None
    """A preference in how traffic is spread (PreferClose)."""


class PortStatus(KubeModel):
    """The state of one port."""

    port: int
    """The port number."""
    protocol: str
    """TCP, UDP or SCTP."""
    error: str | None = None
    """Why the port is not served, if it is not."""


class LoadBalancerIngress(KubeModel):
    """An address of a load balancer."""

    ip: str | None = None
    """An IP address."""
    hostname: str | None = None
    """A DNS name."""
    ip_mode: str | None = None
    """How traffic reaches the address: VIP (to nodes with the destination unchanged) or Proxy.
    """
    ports: list[PortStatus] = items()
    """The state of the Service's ports on it."""


class LoadBalancerStatus(KubeModel):
    """The state of a load balancer."""

    ingress: list[LoadBalancerIngress] = items()
    """The load balancer's addresses."""


class ServiceStatus(KubeModel):
    """A Service's observed state."""

    load_balancer: LoadBalancerStatus | None = None
    """The load balancer's state, if there is one."""
    conditions: list[Condition] = merge_list("type")
    """The Service's conditions."""


class Service(KubeObject):
    """A named, stable way to reach a set of pods (selected by label) at one virtual address and
    port, balanced across them."""

    API_VERSION = "v1"
    KIND = "Service"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: ServiceSpec | None = None
    """How the Service is reached and which pods it sends to."""
    status: ServiceStatus | None = None
    """The Service's observed state: its load balancer's addresses."""

    def is_headless(self) -> bool:
        """``spec.clusterIP`` is ``"None"``: DNS names the endpoints, nothing proxies."""
        return bool(self.spec and self.spec.cluster_ip == CLUSTER_IP_NONE)


# --- endpoints ----------------------------------------------------------------------------


class EndpointAddress(KubeModel):
    """One endpoint address."""

    STRUCT_TYPE = "atomic"  # +structType=atomic

    ip: str
    """The IP address."""
    hostname: str | None = None
    """The endpoint's hostname."""
    node_name: str | None = None
    """The node the endpoint is on."""
    target_ref: ObjectReference | None = None
    """The object (pod) behind the address."""


class EndpointPort(KubeModel):
    """A port of an endpoint."""

    STRUCT_TYPE = "atomic"  # +structType=atomic

    name: str | None = None
    """The port's name, matching the Service port's."""
    port: int
    """The port number."""
    protocol: str | None = None
    """TCP, UDP or SCTP."""
    app_protocol: str | None = None
    """The application protocol."""


class EndpointSubset(KubeModel):
    """Addresses that share the same ports."""

    addresses: list[EndpointAddress] = items()
    """Addresses of ready pods."""
    not_ready_addresses: list[EndpointAddress] = items()
    """Addresses of pods not ready (yet)."""
    ports: list[EndpointPort] = items()
    """The ports of every address of the subset."""


class Endpoints(KubeObject):
    """The addresses a Service sends to, grouped by port sets. Superseded by EndpointSlices;
    still written for every Service with a selector."""

    API_VERSION = "v1"
    KIND = "Endpoints"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata; the name is the Service's."""
    subsets: list[EndpointSubset] = items()
    """Sets of addresses with the ports they all have."""


# --- configuration ------------------------------------------------------------------------


class ConfigMap(KubeObject):
    """Non-confidential key/value data for pods to use as environment variables, command-line
    arguments or files."""

    API_VERSION = "v1"
    KIND = "ConfigMap"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    immutable: bool | None = None
    """When true, the data cannot be changed (only the object deleted), sparing watches on it.
    """
    data: dict[str, str] = mapping()
    """UTF-8 string values by key. Keys are alphanumerics, '-', '_' or '.'; not the same key as
    binaryData."""
    binary_data: dict[str, Base64Text] = mapping()
    """Base64 text, as on the wire."""


class Secret(KubeObject):
    """A Secret; ``data`` values are base64 text exactly as on the wire.

    ``string_data`` is write-only plain text that the server folds into ``data``.
    """

    API_VERSION = "v1"
    KIND = "Secret"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    immutable: bool | None = None
    """When true, the data cannot be changed (only the object deleted)."""
    data: dict[str, Base64Text] = mapping()
    """The secret values by key, base64-encoded in JSON."""
    string_data: dict[str, str] = mapping()
    """Write-only convenience: plain string values merged into data on write (these winning).
    Never read back."""
    type: str | None = None
    """What the Secret holds, which may constrain its keys (Opaque, kubernetes.io/tls,
    kubernetes.io/dockerconfigjson...)."""

    def decoded(self) -> dict[str, bytes]:
        """Every key's bytes: ``data`` decoded, overlaid by ``string_data`` (which wins,
        as it does when the server folds it in). Raises ``binascii.Error`` on bad base64.
        """
        out = {key: b64decode(value, validate=True) for key, value in self.data.items()}
        out.update({key: value.encode() for key, value in self.string_data.items()})
        return out


class ServiceAccount(KubeObject):
    """An identity for processes that run in pods, and the secrets they may use."""

    API_VERSION = "v1"
    KIND = "ServiceAccount"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    secrets: list[ObjectReference] = merge_list("name")
    """Deprecated: Secrets pods running as this account may use."""
    # Unlike a PodSpec's, these carry no patch strategy: a patch replaces the list.
    image_pull_secrets: list[LocalObjectReference] = items()
    """Secrets with registry credentials, added to the pods that run as this account."""
    automount_service_account_token: bool | None = None
    """Whether pods running as this account get its token mounted; a pod's own setting wins."""


# --- limits and quotas --------------------------------------------------------------------


class LimitRangeItem(KubeModel):
    """Limits and defaults for one kind of object (Container, Pod or
    PersistentVolumeClaim)."""

    type: str
    """Container, Pod or PersistentVolumeClaim."""
    max: ResourceList = mapping()
    """The most of each resource one may use."""
    min: ResourceList = mapping()
    """The least of each resource one must ask for."""
    default: ResourceList = mapping()
    """A container's limits when it sets none."""
    default_request: ResourceList = mapping()
    """A container's requests when it sets none (else its limits)."""
    max_limit_request_ratio: ResourceList = mapping()
    """The largest limit/request ratio of each resource."""


class LimitRangeSpec(KubeModel):
    """The limits of a namespace."""

    limits: list[LimitRangeItem] = items()
    """One item per kind of object."""


class LimitRange(KubeObject):
    """Limits and defaults for the pods and containers of a namespace (applied by the
    LimitRanger admission plugin)."""

    API_VERSION = "v1"
    KIND = "LimitRange"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: LimitRangeSpec | None = None
    """The limits."""


class ScopedResourceSelectorRequirement(KubeModel):
    """One requirement of a quota's scope selector."""

    scope_name: str
    """Terminating, NotTerminating, BestEffort, NotBestEffort, PriorityClass, ..."""
    operator: str
    """In, NotIn, Exists or DoesNotExist."""
    values: list[str] = items()
    """The values In and NotIn compare with."""


class ScopeSelector(KubeModel):
    """Which objects a quota counts, by scope."""

    match_expressions: list[ScopedResourceSelectorRequirement] = items()
    """All must match."""


class ResourceQuotaSpec(KubeModel):
    """What a namespace may use."""

    hard: ResourceList = mapping()
    """The most of each resource (requests.cpu, limits.memory, pods, count/secrets...)."""
    scopes: list[str] = items()
    """Count only objects in all these scopes."""
    scope_selector: ScopeSelector | None = None
    """Count only objects these scopes select."""


class ResourceQuotaStatus(KubeModel):
    """What a namespace uses."""

    hard: ResourceList = mapping()
    """The enforced limits."""
    used: ResourceList = mapping()
    """What the namespace uses now."""


class ResourceQuota(KubeObject):
    """The total a namespace may use (enforced by the ResourceQuota admission plugin,
    counted by the resource quota controller)."""

    API_VERSION = "v1"
    KIND = "ResourceQuota"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: ResourceQuotaSpec | None = None
    """The limits."""
    status: ResourceQuotaStatus | None = None
    """What is used."""


# --- events -------------------------------------------------------------------------------


class EventSource(KubeModel):
    """The reporter of an event."""

    component: str | None = None
    """The component (kubelet, scheduler...)."""
    host: str | None = None
    """The node it runs on."""


class EventSeries(KubeModel):
    """A series of repeated events."""

    count: int | None = None
    """How many occurrences the series has had."""
    last_observed_time: MicroTime | None = None
    """When the last occurrence was seen."""


class Event(KubeObject):
    """core/v1 Event (the older shape; events.k8s.io/v1 renames several fields)."""

    API_VERSION = "v1"
    KIND = "Event"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    involved_object: ObjectReference
    """The object the event is about."""
    reason: str | None = None
    """A short, machine-understandable CamelCase word for why the event happened (Scheduled,
    Pulled, BackOff...)."""
    message: str | None = None
    """A human-readable description of what happened."""
    source: EventSource | None = None
    """The component that reported the event (deprecated in favour of reportingComponent)."""
    first_timestamp: Time | None = None
    """When the event was first recorded."""
    last_timestamp: Time | None = None
    """When the event was last recorded (repeats are counted, not stored again)."""
    count: int | None = None
    """How many times the event occurred."""
    type: str | None = None
    """Normal or Warning."""
    event_time: MicroTime | None = None
    """When the event was first observed, with microseconds."""
    series: EventSeries | None = None
    """Data of a series of repeated events."""
    action: str | None = None
    """What was done, or failed to be done, to the object."""
    related: ObjectReference | None = None
    """A second object the event is about."""
    reporting_component: str | None = None
    """The controller that reported the event (kubelet, default-scheduler...)."""
    reporting_instance: str | None = None
    """The instance of that controller (a node name)."""


# --- replication controllers --------------------------------------------------------------


class ReplicationControllerCondition(KubeModel):
    """One aspect of a replication controller's state."""

    type: str
    """The type of the condition (ReplicaFailure)."""
    status: str
    """True, False or Unknown."""
    last_transition_time: Time | None = None
    """When the condition last changed status."""
    reason: str | None = None
    """Why it last changed, in a CamelCase word."""
    message: str | None = None
    """A human-readable message."""


class ReplicationControllerSpec(KubeModel):
    """A ReplicaSet's spec before label selectors had expressions: ``selector`` is a
    plain map of labels every pod must carry."""

    replicas: int | None = None
    """How many pods are wanted. Default 1."""
    min_ready_seconds: int | None = None
    """Seconds a new pod must be ready, without crashing, to count as available. Default 0."""
    selector: dict[str, str] = atomic_mapping()
    """Labels the controlled pods carry; defaults to the template's labels, which it must
    select."""
    template: PodTemplateSpec | None = None
    """The pod to create when there are too few."""


class ReplicationControllerStatus(KubeModel):
    """The observed numbers of a replication controller's pods."""

    replicas: int
    """The number of pods the controller has."""
    fully_labeled_replicas: int | None = None
    """Pods that carry all the template's labels."""
    ready_replicas: int | None = None
    """Pods that are ready."""
    available_replicas: int | None = None
    """Pods ready for at least minReadySeconds."""
    observed_generation: int | None = None
    """The generation the status was computed for."""
    conditions: list[ReplicationControllerCondition] = merge_list("type")
    """The latest observations of the controller's state (ReplicaFailure)."""


class ReplicationController(KubeObject):
    """Keeps a number of pods of a template running; the predecessor of ReplicaSet, with an
    equality-based selector."""

    API_VERSION = "v1"
    KIND = "ReplicationController"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata; labels default to the template's."""
    spec: ReplicationControllerSpec | None = None
    """The desired number of pods, their template and selector."""
    status: ReplicationControllerStatus | None = None
    """The most recently observed numbers of pods; may lag behind."""


# --- binding ------------------------------------------------------------------------------


class Binding(KubeObject):
    """The body of ``POST pods/{name}/binding``: bind the pod to ``target`` (a Node)."""

    API_VERSION = "v1"
    KIND = "Binding"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata: the pod's name and namespace."""
    target: ObjectReference
    """The node to bind the pod to."""


__all__ = [
    "CLUSTER_IP_NONE",
    "SECRET_TYPE_OPAQUE",
    "SECRET_TYPE_SERVICE_ACCOUNT_TOKEN",
    "AWSElasticBlockStoreVolumeSource",
    "Affinity",
    "AppArmorProfile",
    "AttachedVolume",
    "AzureDiskVolumeSource",
    "AzureFileVolumeSource",
    "Binding",
    "CSIVolumeSource",
    "Capabilities",
    "CephFSVolumeSource",
    "CinderVolumeSource",
    "ClaimSource",
    "ClientIPConfig",
    "ClusterTrustBundleProjection",
    "ConditionStatus",
    "ConfigMap",
    "ConfigMapEnvSource",
    "ConfigMapKeySelector",
    "ConfigMapNodeConfigSource",
    "ConfigMapProjection",
    "ConfigMapVolumeSource",
    "Container",
    "ContainerImage",
    "ContainerPort",
    "ContainerResizePolicy",
    "ContainerState",
    "ContainerStateRunning",
    "ContainerStateTerminated",
    "ContainerStateWaiting",
    "ContainerStatus",
    "DaemonEndpoint",
    "DownwardAPIProjection",
    "DownwardAPIVolumeFile",
    "DownwardAPIVolumeSource",
    "EmptyDirVolumeSource",
    "EndpointAddress",
    "EndpointPort",
    "EndpointSubset",
    "Endpoints",
    "EnvFromSource",
    "EnvVar",
    "EnvVarSource",
    "EphemeralContainer",
    "EphemeralVolumeSource",
    "Event",
    "EventSeries",
    "EventSource",
    "EventType",
    "ExecAction",
    "FCVolumeSource",
    "FlexVolumeSource",
    "FlockerVolumeSource",
    "GCEPersistentDiskVolumeSource",
    "GRPCAction",
    "GitRepoVolumeSource",
    "GlusterfsVolumeSource",
    "HTTPGetAction",
    "HTTPHeader",
    "HostAlias",
    "HostIP",
    "HostPathVolumeSource",
    "ISCSIVolumeSource",
    "KeyToPath",
    "Lifecycle",
    "LifecycleHandler",
    "LimitRange",
    "LimitRangeItem",
    "LimitRangeSpec",
    "LoadBalancerIngress",
    "LoadBalancerStatus",
    "LocalObjectReference",
    "ModifyVolumeStatus",
    "NFSVolumeSource",
    "Namespace",
    "NamespaceCondition",
    "NamespacePhase",
    "NamespaceSpec",
    "NamespaceStatus",
    "Node",
    "NodeAddress",
    "NodeAddressType",
    "NodeAffinity",
    "NodeCondition",
    "NodeConditionType",
    "NodeConfigSource",
    "NodeConfigStatus",
    "NodeDaemonEndpoints",
    "NodeRuntimeHandler",
    "NodeRuntimeHandlerFeatures",
    "NodeSelector",
    "NodeSelectorRequirement",
    "NodeSelectorTerm",
    "NodeSpec",
    "NodeStatus",
    "NodeSystemInfo",
    "ObjectFieldSelector",
    "ObjectReference",
    "PersistentVolumeClaim",
    "PersistentVolumeClaimCondition",
    "PersistentVolumeClaimSpec",
    "PersistentVolumeClaimStatus",
    "PersistentVolumeClaimTemplate",
    "PersistentVolumeClaimVolumeSource",
    "PhotonPersistentDiskVolumeSource",
    "Pod",
    "PodAffinity",
    "PodAffinityTerm",
    "PodAntiAffinity",
    "PodCondition",
    "PodConditionType",
    "PodDNSConfig",
    "PodDNSConfigOption",
    "PodIP",
    "PodOS",
    "PodPhase",
    "PodReadinessGate",
    "PodResourceClaim",
    "PodResourceClaimStatus",
    "PodSchedulingGate",
    "PodSecurityContext",
    "PodSpec",
    "PodStatus",
    "PodTemplateSpec",
    "PortStatus",
    "PortworxVolumeSource",
    "PreferredSchedulingTerm",
    "Probe",
    "ProbeHandler",
    "ProjectedVolumeSource",
    "PullPolicy",
    "QuobyteVolumeSource",
    "RBDVolumeSource",
    "ReplicationController",
    "ReplicationControllerCondition",
    "ReplicationControllerSpec",
    "ReplicationControllerStatus",
    "ResourceClaim",
    "ResourceFieldSelector",
    "ResourceList",
    "ResourceQuota",
    "ResourceQuotaSpec",
    "ResourceQuotaStatus",
    "ResourceRequirements",
    "RestartPolicy",
    "SELinuxOptions",
    "ScaleIOVolumeSource",
    "ScopeSelector",
    "ScopedResourceSelectorRequirement",
    "SeccompProfile",
    "Secret",
    "SecretEnvSource",
    "SecretKeySelector",
    "SecretProjection",
    "SecretVolumeSource",
    "SecurityContext",
    "Service",
    "ServiceAccount",
    "ServiceAccountTokenProjection",
    "ServicePort",
    "ServiceSpec",
    "ServiceStatus",
    "ServiceType",
    "SessionAffinityConfig",
    "SleepAction",
    "StorageOSVolumeSource",
    "Sysctl",
    "TCPSocketAction",
    "Taint",
    "TaintEffect",
    "Toleration",
    "TolerationOperator",
    "TopologySpreadConstraint",
    "TypedLocalObjectReference",
    "TypedObjectReference",
    "Volume",
    "VolumeDevice",
    "VolumeMount",
    "VolumeMountStatus",
    "VolumeProjection",
    "VolumeResourceRequirements",
    "VsphereVirtualDiskVolumeSource",
    "WeightedPodAffinityTerm",
    "WindowsSecurityContextOptions",
]
