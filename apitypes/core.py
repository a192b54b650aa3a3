"""core/v1: Namespace, Pod, Node, Event, ConfigMap, Secret, Service, Endpoints,
ServiceAccount, Binding, and the structures they use (Kubernetes 1.30 shapes).

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


def _apply_map_list(*map_keys: str) -> Any:
    """A list that strategic merge patch replaces whole but apply merges by ``map_keys``."""
    return Field(
        default_factory=list,
        json_schema_extra={LIST_TYPE: "map", LIST_MAP_KEYS: list(map_keys)},
    )


# --- references ---------------------------------------------------------------------------


class ObjectReference(KubeModel):
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None
    uid: str | None = None
    api_version: str | None = None
    resource_version: str | None = None
    field_path: str | None = None


class LocalObjectReference(KubeModel):
    name: str | None = None


class TypedLocalObjectReference(KubeModel):
    api_group: str | None = None
    kind: str
    name: str


class TypedObjectReference(KubeModel):
    api_group: str | None = None
    kind: str
    name: str
    namespace: str | None = None


# --- environment --------------------------------------------------------------------------


class ObjectFieldSelector(KubeModel):
    api_version: str | None = None
    field_path: str


class ResourceFieldSelector(KubeModel):
    container_name: str | None = None
    resource: str
    divisor: QuantityStr | None = None


class ConfigMapKeySelector(KubeModel):
    name: str | None = None
    key: str
    optional: bool | None = None


class SecretKeySelector(KubeModel):
    name: str | None = None
    key: str
    optional: bool | None = None


class EnvVarSource(KubeModel):
    field_ref: ObjectFieldSelector | None = None
    resource_field_ref: ResourceFieldSelector | None = None
    config_map_key_ref: ConfigMapKeySelector | None = None
    secret_key_ref: SecretKeySelector | None = None


class EnvVar(KubeModel):
    name: str
    value: str | None = None
    value_from: EnvVarSource | None = None


class ConfigMapEnvSource(KubeModel):
    name: str | None = None
    optional: bool | None = None


class SecretEnvSource(KubeModel):
    name: str | None = None
    optional: bool | None = None


class EnvFromSource(KubeModel):
    prefix: str | None = None
    config_map_ref: ConfigMapEnvSource | None = None
    secret_ref: SecretEnvSource | None = None


# --- resources ----------------------------------------------------------------------------


class ResourceClaim(KubeModel):
    name: str


class ResourceRequirements(KubeModel):
    limits: ResourceList = mapping()
    requests: ResourceList = mapping()
    claims: list[ResourceClaim] = _apply_map_list("name")


class VolumeResourceRequirements(KubeModel):
    limits: ResourceList = mapping()
    requests: ResourceList = mapping()


class ContainerResizePolicy(KubeModel):
    resource_name: str
    restart_policy: str


# --- volumes ------------------------------------------------------------------------------


class KeyToPath(KubeModel):
    key: str
    path: str
    mode: int | None = None


class HostPathVolumeSource(KubeModel):
    path: str
    type: str | None = None


class EmptyDirVolumeSource(KubeModel):
    medium: str | None = None
    size_limit: QuantityStr | None = None


class SecretVolumeSource(KubeModel):
    secret_name: str | None = None
    items: list[KeyToPath] = Field(default_factory=list)
    default_mode: int | None = None
    optional: bool | None = None


class ConfigMapVolumeSource(KubeModel):
    name: str | None = None
    items: list[KeyToPath] = Field(default_factory=list)
    default_mode: int | None = None
    optional: bool | None = None


class DownwardAPIVolumeFile(KubeModel):
    path: str
    field_ref: ObjectFieldSelector | None = None
    resource_field_ref: ResourceFieldSelector | None = None
    mode: int | None = None


class DownwardAPIVolumeSource(KubeModel):
    items: list[DownwardAPIVolumeFile] = Field(default_factory=list)
    default_mode: int | None = None


class DownwardAPIProjection(KubeModel):
    items: list[DownwardAPIVolumeFile] = Field(default_factory=list)


class SecretProjection(KubeModel):
    name: str | None = None
    items: list[KeyToPath] = Field(default_factory=list)
    optional: bool | None = None


class ConfigMapProjection(KubeModel):
    name: str | None = None
    items: list[KeyToPath] = Field(default_factory=list)
    optional: bool | None = None


class ServiceAccountTokenProjection(KubeModel):
    audience: str | None = None
    expiration_seconds: int | None = None
    path: str


class ClusterTrustBundleProjection(KubeModel):
    name: str | None = None
    signer_name: str | None = None
    label_selector: LabelSelector | None = None
    optional: bool | None = None
    path: str


class VolumeProjection(KubeModel):
    secret: SecretProjection | None = None
    downward_api: DownwardAPIProjection | None = None
    config_map: ConfigMapProjection | None = None
    service_account_token: ServiceAccountTokenProjection | None = None
    cluster_trust_bundle: ClusterTrustBundleProjection | None = None


class ProjectedVolumeSource(KubeModel):
    sources: list[VolumeProjection] = items()
    default_mode: int | None = None


class PersistentVolumeClaimVolumeSource(KubeModel):
    claim_name: str
    read_only: bool | None = None


class NFSVolumeSource(KubeModel):
    server: str
    path: str
    read_only: bool | None = None


class CSIVolumeSource(KubeModel):
    driver: str
    read_only: bool | None = None
    fs_type: str | None = None
    volume_attributes: dict[str, str] = mapping()
    node_publish_secret_ref: LocalObjectReference | None = None


class PersistentVolumeClaimSpec(KubeModel):
    access_modes: list[str] = items()
    selector: LabelSelector | None = None
    resources: VolumeResourceRequirements | None = None
    volume_name: str | None = None
    storage_class_name: str | None = None
    volume_mode: str | None = None
    data_source: TypedLocalObjectReference | None = None
    data_source_ref: TypedObjectReference | None = None
    volume_attributes_class_name: str | None = None


class PersistentVolumeClaimTemplate(KubeModel):
    metadata: ObjectMeta | None = None
    spec: PersistentVolumeClaimSpec


class PersistentVolumeClaimCondition(KubeModel):
    type: str | None = None
    status: str | None = None
    last_probe_time: Time | None = None
    last_transition_time: Time | None = None
    reason: str | None = None
    message: str | None = None


class ModifyVolumeStatus(KubeModel):
    target_volume_attributes_class_name: str | None = None
    status: str | None = None


class PersistentVolumeClaimStatus(KubeModel):
    phase: str | None = None
    access_modes: list[str] = items()
    capacity: ResourceList = mapping()
    conditions: list[PersistentVolumeClaimCondition] = items()
    allocated_resources: ResourceList = mapping()
    allocated_resource_statuses: dict[str, str] = mapping()
    current_volume_attributes_class_name: str | None = None
    modify_volume_status: ModifyVolumeStatus | None = None


class PersistentVolumeClaim(KubeObject):
    """A claim as a StatefulSet's ``volumeClaimTemplates`` carry it.

    navarch serves no PersistentVolumeClaims: this model describes the templates' wire
    shape (see :class:`~apitypes.base.WireShape`).
    """

    API_VERSION = "v1"
    KIND = "PersistentVolumeClaim"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: PersistentVolumeClaimSpec | None = None
    status: PersistentVolumeClaimStatus | None = None


class EphemeralVolumeSource(KubeModel):
    volume_claim_template: PersistentVolumeClaimTemplate | None = None


# --- volume plugins kept verbatim ---------------------------------------------------------
# navarch runs none of these in-tree plugins: a Volume keeps them as plain JSON (see the
# module docstring). These models only describe their wire shape (``WireShape``), for the
# protobuf codec; nothing validates with them.


class GCEPersistentDiskVolumeSource(KubeModel):
    pd_name: str | None = None
    fs_type: str | None = None
    partition: int | None = None
    read_only: bool | None = None


class AWSElasticBlockStoreVolumeSource(KubeModel):
    volume_id: str | None = None
    fs_type: str | None = None
    partition: int | None = None
    read_only: bool | None = None


class GitRepoVolumeSource(KubeModel):
    repository: str | None = None
    revision: str | None = None
    directory: str | None = None


class ISCSIVolumeSource(KubeModel):
    target_portal: str | None = None
    iqn: str | None = None
    lun: int | None = None
    iscsi_interface: str | None = None
    fs_type: str | None = None
    read_only: bool | None = None
    portals: list[str] = items()
    chap_auth_discovery: bool | None = None
    chap_auth_session: bool | None = None
    secret_ref: LocalObjectReference | None = None
    initiator_name: str | None = None


class GlusterfsVolumeSource(KubeModel):
    endpoints: str | None = None
    path: str | None = None
    read_only: bool | None = None


class RBDVolumeSource(KubeModel):
    monitors: list[str] = items()
    image: str | None = None
    fs_type: str | None = None
    pool: str | None = None
    user: str | None = None
    keyring: str | None = None
    secret_ref: LocalObjectReference | None = None
    read_only: bool | None = None


class FlexVolumeSource(KubeModel):
    driver: str | None = None
    fs_type: str | None = None
    secret_ref: LocalObjectReference | None = None
    read_only: bool | None = None
    options: dict[str, str] = mapping()


class CinderVolumeSource(KubeModel):
    volume_id: str | None = None
    fs_type: str | None = None
    read_only: bool | None = None
    secret_ref: LocalObjectReference | None = None


class CephFSVolumeSource(KubeModel):
    monitors: list[str] = items()
    path: str | None = None
    user: str | None = None
    secret_file: str | None = None
    secret_ref: LocalObjectReference | None = None
    read_only: bool | None = None


class FlockerVolumeSource(KubeModel):
    dataset_name: str | None = None
    dataset_uuid: str | None = None


class FCVolumeSource(KubeModel):
    target_wwns: list[str] = Field(default_factory=list, alias="targetWWNs")
    lun: int | None = None
    fs_type: str | None = None
    read_only: bool | None = None
    wwids: list[str] = items()


class AzureFileVolumeSource(KubeModel):
    secret_name: str | None = None
    share_name: str | None = None
    read_only: bool | None = None


class VsphereVirtualDiskVolumeSource(KubeModel):
    volume_path: str | None = None
    fs_type: str | None = None
    storage_policy_name: str | None = None
    storage_policy_id: str | None = None


class QuobyteVolumeSource(KubeModel):
    registry: str | None = None
    volume: str | None = None
    read_only: bool | None = None
    user: str | None = None
    group: str | None = None
    tenant: str | None = None


class AzureDiskVolumeSource(KubeModel):
    disk_name: str | None = None
    disk_uri: str | None = Field(default=None, alias="diskURI")
    caching_mode: str | None = None
    fs_type: str | None = None
    read_only: bool | None = None
    kind: str | None = None


class PhotonPersistentDiskVolumeSource(KubeModel):
    pd_id: str | None = None
    fs_type: str | None = None


class PortworxVolumeSource(KubeModel):
    volume_id: str | None = None
    fs_type: str | None = None
    read_only: bool | None = None


class ScaleIOVolumeSource(KubeModel):
    gateway: str | None = None
    system: str | None = None
    secret_ref: LocalObjectReference | None = None
    ssl_enabled: bool | None = None
    protection_domain: str | None = None
    storage_pool: str | None = None
    storage_mode: str | None = None
    volume_name: str | None = None
    fs_type: str | None = None
    read_only: bool | None = None


class StorageOSVolumeSource(KubeModel):
    volume_name: str | None = None
    volume_namespace: str | None = None
    fs_type: str | None = None
    read_only: bool | None = None
    secret_ref: LocalObjectReference | None = None


class Volume(KubeModel):
    """A named volume and its source (Kubernetes inlines ``VolumeSource`` here).

    Exactly one source should be set; the plugins navarch does not run are kept as
    plain dicts so that they survive a round trip.
    """

    name: str
    host_path: HostPathVolumeSource | None = None
    empty_dir: EmptyDirVolumeSource | None = None
    gce_persistent_disk: (
        Annotated[dict[str, Any], WireShape(GCEPersistentDiskVolumeSource)] | None
    ) = None
    aws_elastic_block_store: (
        Annotated[dict[str, Any], WireShape(AWSElasticBlockStoreVolumeSource)] | None
    ) = None
    git_repo: Annotated[dict[str, Any], WireShape(GitRepoVolumeSource)] | None = None
    secret: SecretVolumeSource | None = None
    nfs: NFSVolumeSource | None = None
    iscsi: Annotated[dict[str, Any], WireShape(ISCSIVolumeSource)] | None = None
    glusterfs: Annotated[dict[str, Any], WireShape(GlusterfsVolumeSource)] | None = None
    persistent_volume_claim: PersistentVolumeClaimVolumeSource | None = None
    rbd: Annotated[dict[str, Any], WireShape(RBDVolumeSource)] | None = None
    flex_volume: Annotated[dict[str, Any], WireShape(FlexVolumeSource)] | None = None
    cinder: Annotated[dict[str, Any], WireShape(CinderVolumeSource)] | None = None
    cephfs: Annotated[dict[str, Any], WireShape(CephFSVolumeSource)] | None = None
    flocker: Annotated[dict[str, Any], WireShape(FlockerVolumeSource)] | None = None
    downward_api: DownwardAPIVolumeSource | None = None
    fc: Annotated[dict[str, Any], WireShape(FCVolumeSource)] | None = None
    azure_file: Annotated[dict[str, Any], WireShape(AzureFileVolumeSource)] | None = None
    config_map: ConfigMapVolumeSource | None = None
    vsphere_volume: Annotated[dict[str, Any], WireShape(VsphereVirtualDiskVolumeSource)] | None = (
        None
    )
    quobyte: Annotated[dict[str, Any], WireShape(QuobyteVolumeSource)] | None = None
    azure_disk: Annotated[dict[str, Any], WireShape(AzureDiskVolumeSource)] | None = None
    photon_persistent_disk: (
        Annotated[dict[str, Any], WireShape(PhotonPersistentDiskVolumeSource)] | None
    ) = None
    projected: ProjectedVolumeSource | None = None
    portworx_volume: Annotated[dict[str, Any], WireShape(PortworxVolumeSource)] | None = None
    scale_io: Annotated[dict[str, Any], WireShape(ScaleIOVolumeSource)] | None = Field(
        default=None, alias="scaleIO"
    )
    storageos: Annotated[dict[str, Any], WireShape(StorageOSVolumeSource)] | None = None
    csi: CSIVolumeSource | None = None
    ephemeral: EphemeralVolumeSource | None = None

    def source_type(self) -> str | None:
        """The wire name of the source that is set (``"emptyDir"``), or None if none is."""
        for field_name, info in type(self).model_fields.items():
            if field_name != "name" and getattr(self, field_name) is not None:
                return info.alias
        return None


# --- containers ---------------------------------------------------------------------------


class ContainerPort(KubeModel):
    name: str | None = None
    host_port: int | None = None
    container_port: int
    protocol: str | None = None
    host_ip: str | None = None


class VolumeMount(KubeModel):
    name: str
    read_only: bool | None = None
    recursive_read_only: str | None = None
    mount_path: str
    sub_path: str | None = None
    mount_propagation: str | None = None
    sub_path_expr: str | None = None


class VolumeDevice(KubeModel):
    name: str
    device_path: str


class HTTPHeader(KubeModel):
    name: str
    value: str


class HTTPGetAction(KubeModel):
    path: str | None = None
    port: IntOrString
    host: str | None = None
    scheme: str | None = None
    http_headers: list[HTTPHeader] = items()


class TCPSocketAction(KubeModel):
    port: IntOrString
    host: str | None = None


class GRPCAction(KubeModel):
    port: int
    service: str | None = None


class ExecAction(KubeModel):
    command: list[str] = items()


class SleepAction(KubeModel):
    seconds: int


class ProbeHandler(KubeModel):
    exec: ExecAction | None = None
    http_get: HTTPGetAction | None = None
    tcp_socket: TCPSocketAction | None = None
    grpc: GRPCAction | None = None


class Probe(ProbeHandler):
    initial_delay_seconds: int | None = None
    timeout_seconds: int | None = None
    period_seconds: int | None = None
    success_threshold: int | None = None
    failure_threshold: int | None = None
    termination_grace_period_seconds: int | None = None


class LifecycleHandler(KubeModel):
    exec: ExecAction | None = None
    http_get: HTTPGetAction | None = None
    tcp_socket: TCPSocketAction | None = None
    sleep: SleepAction | None = None


class Lifecycle(KubeModel):
    post_start: LifecycleHandler | None = None
    pre_stop: LifecycleHandler | None = None


class Capabilities(KubeModel):
    add: list[str] = items()
    drop: list[str] = items()


class SELinuxOptions(KubeModel):
    user: str | None = None
    role: str | None = None
    type: str | None = None
    level: str | None = None


class WindowsSecurityContextOptions(KubeModel):
    gmsa_credential_spec_name: str | None = None
    gmsa_credential_spec: str | None = None
    run_as_user_name: str | None = None
    host_process: bool | None = None


class SeccompProfile(KubeModel):
    type: str
    localhost_profile: str | None = None


class AppArmorProfile(KubeModel):
    type: str
    localhost_profile: str | None = None


class SecurityContext(KubeModel):
    capabilities: Capabilities | None = None
    privileged: bool | None = None
    se_linux_options: SELinuxOptions | None = None
    windows_options: WindowsSecurityContextOptions | None = None
    run_as_user: int | None = None
    run_as_group: int | None = None
    run_as_non_root: bool | None = None
    read_only_root_filesystem: bool | None = None
    allow_privilege_escalation: bool | None = None
    proc_mount: str | None = None
    seccomp_profile: SeccompProfile | None = None
    app_armor_profile: AppArmorProfile | None = None


class Container(KubeModel):
    name: str
    image: str | None = None
    command: list[str] = items()
    args: list[str] = items()
    working_dir: str | None = None
    ports: list[ContainerPort] = _merge_list_keyed("containerPort", "protocol")
    env_from: list[EnvFromSource] = items()
    env: list[EnvVar] = merge_list("name")
    resources: ResourceRequirements | None = None
    resize_policy: list[ContainerResizePolicy] = items()
    restart_policy: str | None = None
    volume_mounts: list[VolumeMount] = merge_list("mountPath")
    volume_devices: list[VolumeDevice] = merge_list("devicePath")
    liveness_probe: Probe | None = None
    readiness_probe: Probe | None = None
    startup_probe: Probe | None = None
    lifecycle: Lifecycle | None = None
    termination_message_path: str | None = None
    termination_message_policy: str | None = None
    image_pull_policy: str | None = None
    security_context: SecurityContext | None = None
    stdin: bool | None = None
    stdin_once: bool | None = None
    tty: bool | None = None

    def port_named(self, port_name: str) -> ContainerPort | None:
        """The port declared with ``name == port_name`` (a Service's named targetPort)."""
        for port in self.ports:
            if port.name == port_name:
                return port
        return None


class EphemeralContainer(Container):
    """A debugging container added to a running pod (``kubectl debug``)."""

    target_container_name: str | None = None


# --- scheduling ---------------------------------------------------------------------------


class NodeSelectorRequirement(KubeModel):
    key: str
    operator: str
    values: list[str] = items()


class NodeSelectorTerm(KubeModel):
    match_expressions: list[NodeSelectorRequirement] = items()
    match_fields: list[NodeSelectorRequirement] = items()


class NodeSelector(KubeModel):
    node_selector_terms: list[NodeSelectorTerm] = items()


class PreferredSchedulingTerm(KubeModel):
    weight: int
    preference: NodeSelectorTerm


class NodeAffinity(KubeModel):
    required_during_scheduling_ignored_during_execution: NodeSelector | None = None
    preferred_during_scheduling_ignored_during_execution: list[PreferredSchedulingTerm] = items()


class PodAffinityTerm(KubeModel):
    label_selector: LabelSelector | None = None
    namespaces: list[str] = items()
    topology_key: str
    namespace_selector: LabelSelector | None = None
    match_label_keys: list[str] = items()
    mismatch_label_keys: list[str] = items()


class WeightedPodAffinityTerm(KubeModel):
    weight: int
    pod_affinity_term: PodAffinityTerm


class PodAffinity(KubeModel):
    required_during_scheduling_ignored_during_execution: list[PodAffinityTerm] = items()
    preferred_during_scheduling_ignored_during_execution: list[WeightedPodAffinityTerm] = items()


class PodAntiAffinity(KubeModel):
    required_during_scheduling_ignored_during_execution: list[PodAffinityTerm] = items()
    preferred_during_scheduling_ignored_during_execution: list[WeightedPodAffinityTerm] = items()


class Affinity(KubeModel):
    node_affinity: NodeAffinity | None = None
    pod_affinity: PodAffinity | None = None
    pod_anti_affinity: PodAntiAffinity | None = None


class Taint(KubeModel):
    key: str
    value: str | None = None
    effect: str
    time_added: Time | None = None


class Toleration(KubeModel):
    key: str | None = None
    operator: str | None = None
    value: str | None = None
    effect: str | None = None
    toleration_seconds: int | None = None

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
    max_skew: int
    topology_key: str
    when_unsatisfiable: str
    label_selector: LabelSelector | None = None
    min_domains: int | None = None
    node_affinity_policy: str | None = None
    node_taints_policy: str | None = None
    match_label_keys: list[str] = items()


# --- pods ---------------------------------------------------------------------------------


class Sysctl(KubeModel):
    name: str
    value: str


class PodSecurityContext(KubeModel):
    se_linux_options: SELinuxOptions | None = None
    windows_options: WindowsSecurityContextOptions | None = None
    run_as_user: int | None = None
    run_as_group: int | None = None
    run_as_non_root: bool | None = None
    supplemental_groups: list[int] = items()
    fs_group: int | None = None
    sysctls: list[Sysctl] = items()
    fs_group_change_policy: str | None = None
    seccomp_profile: SeccompProfile | None = None
    app_armor_profile: AppArmorProfile | None = None


class HostAlias(KubeModel):
    ip: str
    hostnames: list[str] = items()


class PodDNSConfigOption(KubeModel):
    name: str | None = None
    value: str | None = None


class PodDNSConfig(KubeModel):
    nameservers: list[str] = items()
    searches: list[str] = items()
    options: list[PodDNSConfigOption] = items()


class PodReadinessGate(KubeModel):
    condition_type: str


class PodOS(KubeModel):
    name: str


class PodSchedulingGate(KubeModel):
    name: str


class ClaimSource(KubeModel):
    resource_claim_name: str | None = None
    resource_claim_template_name: str | None = None


class PodResourceClaim(KubeModel):
    name: str
    source: ClaimSource | None = None


class PodSpec(KubeModel):
    volumes: list[Volume] = merge_list("name", retain_keys=True)
    init_containers: list[Container] = merge_list("name")
    containers: list[Container] = merge_list("name")
    ephemeral_containers: list[EphemeralContainer] = merge_list("name")
    restart_policy: str | None = None
    termination_grace_period_seconds: int | None = None
    active_deadline_seconds: int | None = None
    dns_policy: str | None = None
    node_selector: dict[str, str] = mapping()
    service_account_name: str | None = None
    service_account: str | None = None
    automount_service_account_token: bool | None = None
    node_name: str | None = None
    host_network: bool | None = None
    host_pid: bool | None = None
    host_ipc: bool | None = None
    share_process_namespace: bool | None = None
    security_context: PodSecurityContext | None = None
    image_pull_secrets: list[LocalObjectReference] = merge_list("name")
    hostname: str | None = None
    subdomain: str | None = None
    affinity: Affinity | None = None
    scheduler_name: str | None = None
    # Kubernetes gives tolerations no patch strategy: a patch replaces the whole list.
    tolerations: list[Toleration] = items()
    host_aliases: list[HostAlias] = merge_list("ip")
    priority_class_name: str | None = None
    priority: int | None = None
    dns_config: PodDNSConfig | None = None
    readiness_gates: list[PodReadinessGate] = items()
    runtime_class_name: str | None = None
    enable_service_links: bool | None = None
    preemption_policy: str | None = None
    overhead: ResourceList = mapping()
    topology_spread_constraints: list[TopologySpreadConstraint] = _merge_list_keyed(
        "topologyKey", "whenUnsatisfiable"
    )
    set_hostname_as_fqdn: bool | None = Field(default=None, alias="setHostnameAsFQDN")
    os: PodOS | None = None
    host_users: bool | None = None
    scheduling_gates: list[PodSchedulingGate] = merge_list("name")
    resource_claims: list[PodResourceClaim] = merge_list("name", retain_keys=True)


class ContainerStateWaiting(KubeModel):
    reason: str | None = None
    message: str | None = None


class ContainerStateRunning(KubeModel):
    started_at: Time | None = None


class ContainerStateTerminated(KubeModel):
    exit_code: int
    signal: int | None = None
    reason: str | None = None
    message: str | None = None
    started_at: Time | None = None
    finished_at: Time | None = None
    container_id: str | None = None


class ContainerState(KubeModel):
    """At most one of ``waiting``, ``running``, ``terminated`` is set."""

    waiting: ContainerStateWaiting | None = None
    running: ContainerStateRunning | None = None
    terminated: ContainerStateTerminated | None = None


class VolumeMountStatus(KubeModel):
    name: str
    mount_path: str
    read_only: bool | None = None
    recursive_read_only: str | None = None


class ContainerStatus(KubeModel):
    name: str
    state: ContainerState | None = None
    last_state: ContainerState | None = None
    ready: bool
    restart_count: int
    image: str
    image_id: str
    container_id: str | None = None
    started: bool | None = None
    allocated_resources: ResourceList = mapping()
    resources: ResourceRequirements | None = None
    volume_mounts: list[VolumeMountStatus] = merge_list("mountPath")


class PodCondition(KubeModel):
    type: str
    status: str
    last_probe_time: Time | None = None
    last_transition_time: Time | None = None
    reason: str | None = None
    message: str | None = None


class PodIP(KubeModel):
    ip: str


class HostIP(KubeModel):
    ip: str


class PodResourceClaimStatus(KubeModel):
    name: str
    resource_claim_name: str | None = None


class PodStatus(KubeModel):
    phase: str | None = None
    conditions: list[PodCondition] = merge_list("type")
    message: str | None = None
    reason: str | None = None
    nominated_node_name: str | None = None
    host_ip: str | None = None
    # Patched by merging on ``ip``, yet applied as an atomic list: Kubernetes' own tags.
    host_ips: list[HostIP] = _merge_list_keyed("ip", atomic=True)
    pod_ip: str | None = None
    pod_ips: list[PodIP] = merge_list("ip")
    start_time: Time | None = None
    init_container_statuses: list[ContainerStatus] = items()
    container_statuses: list[ContainerStatus] = items()
    qos_class: str | None = None
    ephemeral_container_statuses: list[ContainerStatus] = items()
    resize: str | None = None
    resource_claim_statuses: list[PodResourceClaimStatus] = merge_list("name", retain_keys=True)

    def condition(self, condition_type: str) -> PodCondition | None:
        """The condition of ``condition_type`` (``"Ready"``), if the pod reports one."""
        for cond in self.conditions:
            if cond.type == condition_type:
                return cond
        return None


class Pod(KubeObject):
    API_VERSION = "v1"
    KIND = "Pod"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: PodSpec | None = None
    status: PodStatus | None = None

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
    spec: PodSpec | None = None


# --- nodes --------------------------------------------------------------------------------


class ConfigMapNodeConfigSource(KubeModel):
    namespace: str
    name: str
    uid: str | None = None
    resource_version: str | None = None
    kubelet_config_key: str


class NodeConfigSource(KubeModel):
    config_map: ConfigMapNodeConfigSource | None = None


class NodeSpec(KubeModel):
    pod_cidr: str | None = None
    pod_cidrs: list[str] = merge_list()
    provider_id: str | None = None
    unschedulable: bool | None = None
    taints: list[Taint] = items()
    config_source: NodeConfigSource | None = None
    external_id: str | None = None


class NodeCondition(KubeModel):
    type: str
    status: str
    last_heartbeat_time: Time | None = None
    last_transition_time: Time | None = None
    reason: str | None = None
    message: str | None = None


class NodeAddress(KubeModel):
    type: str
    address: str


class DaemonEndpoint(KubeModel):
    # Capitalised on the wire: an old Go tag without quotes fell back to the field name.
    port: int = Field(alias="Port")


class NodeDaemonEndpoints(KubeModel):
    kubelet_endpoint: DaemonEndpoint | None = None


class NodeSystemInfo(KubeModel):
    machine_id: str
    system_uuid: str
    boot_id: str
    kernel_version: str
    os_image: str
    container_runtime_version: str
    kubelet_version: str
    kube_proxy_version: str
    operating_system: str
    architecture: str


class ContainerImage(KubeModel):
    names: list[str] = items()
    size_bytes: int | None = None


class AttachedVolume(KubeModel):
    name: str
    device_path: str


class NodeConfigStatus(KubeModel):
    assigned: NodeConfigSource | None = None
    active: NodeConfigSource | None = None
    last_known_good: NodeConfigSource | None = None
    error: str | None = None


class NodeRuntimeHandlerFeatures(KubeModel):
    recursive_read_only_mounts: bool | None = None


class NodeRuntimeHandler(KubeModel):
    name: str
    features: NodeRuntimeHandlerFeatures | None = None


class NodeStatus(KubeModel):
    capacity: ResourceList = mapping()
    allocatable: ResourceList = mapping()
    phase: str | None = None
    conditions: list[NodeCondition] = merge_list("type")
    addresses: list[NodeAddress] = merge_list("type")
    daemon_endpoints: NodeDaemonEndpoints | None = None
    node_info: NodeSystemInfo | None = None
    images: list[ContainerImage] = items()
    volumes_in_use: list[str] = items()
    volumes_attached: list[AttachedVolume] = items()
    config: NodeConfigStatus | None = None
    runtime_handlers: list[NodeRuntimeHandler] = items()

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
    API_VERSION = "v1"
    KIND = "Node"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: NodeSpec | None = None
    status: NodeStatus | None = None

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
    finalizers: list[str] = items()


class NamespaceCondition(KubeModel):
    type: str
    status: str
    last_transition_time: Time | None = None
    reason: str | None = None
    message: str | None = None


class NamespaceStatus(KubeModel):
    phase: str | None = None
    conditions: list[NamespaceCondition] = merge_list("type")


class Namespace(KubeObject):
    API_VERSION = "v1"
    KIND = "Namespace"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: NamespaceSpec | None = None
    status: NamespaceStatus | None = None

    def is_terminating(self) -> bool:
        return bool(self.status and self.status.phase == NamespacePhase.TERMINATING)


# --- services -----------------------------------------------------------------------------


class ClientIPConfig(KubeModel):
    timeout_seconds: int | None = None


class SessionAffinityConfig(KubeModel):
    client_ip: ClientIPConfig | None = None


class ServicePort(KubeModel):
    name: str | None = None
    protocol: str | None = None
    app_protocol: str | None = None
    port: int
    target_port: IntOrString | None = None
    node_port: int | None = None


class ServiceSpec(KubeModel):
    ports: list[ServicePort] = _merge_list_keyed("port", "protocol")
    selector: dict[str, str] = mapping()
    cluster_ip: str | None = None
    cluster_ips: list[str] = items()
    type: str | None = None
    external_ips: list[str] = items()
    session_affinity: str | None = None
    load_balancer_ip: str | None = None
    load_balancer_source_ranges: list[str] = items()
    external_name: str | None = None
    external_traffic_policy: str | None = None
    health_check_node_port: int | None = None
    publish_not_ready_addresses: bool | None = None
    session_affinity_config: SessionAffinityConfig | None = None
    ip_families: list[str] = items()
    ip_family_policy: str | None = None
    allocate_load_balancer_node_ports: bool | None = None
    load_balancer_class: str | None = None
    internal_traffic_policy: str | None = None
    traffic_distribution: str | None = None


class PortStatus(KubeModel):
    port: int
    protocol: str
    error: str | None = None


class LoadBalancerIngress(KubeModel):
    ip: str | None = None
    hostname: str | None = None
    ip_mode: str | None = None
    ports: list[PortStatus] = items()


class LoadBalancerStatus(KubeModel):
    ingress: list[LoadBalancerIngress] = items()


class ServiceStatus(KubeModel):
    load_balancer: LoadBalancerStatus | None = None
    conditions: list[Condition] = merge_list("type")


class Service(KubeObject):
    API_VERSION = "v1"
    KIND = "Service"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: ServiceSpec | None = None
    status: ServiceStatus | None = None

    def is_headless(self) -> bool:
        """``spec.clusterIP`` is ``"None"``: DNS names the endpoints, nothing proxies."""
        return bool(self.spec and self.spec.cluster_ip == CLUSTER_IP_NONE)


# --- endpoints ----------------------------------------------------------------------------


class EndpointAddress(KubeModel):
    ip: str
    hostname: str | None = None
    node_name: str | None = None
    target_ref: ObjectReference | None = None


class EndpointPort(KubeModel):
    name: str | None = None
    port: int
    protocol: str | None = None
    app_protocol: str | None = None


class EndpointSubset(KubeModel):
    addresses: list[EndpointAddress] = items()
    not_ready_addresses: list[EndpointAddress] = items()
    ports: list[EndpointPort] = items()


class Endpoints(KubeObject):
    API_VERSION = "v1"
    KIND = "Endpoints"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    subsets: list[EndpointSubset] = items()


# --- configuration ------------------------------------------------------------------------


class ConfigMap(KubeObject):
    API_VERSION = "v1"
    KIND = "ConfigMap"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    immutable: bool | None = None
    data: dict[str, str] = mapping()
    binary_data: dict[str, Base64Text] = mapping()
    """Base64 text, as on the wire."""


class Secret(KubeObject):
    """A Secret; ``data`` values are base64 text exactly as on the wire.

    ``string_data`` is write-only plain text that the server folds into ``data``.
    """

    API_VERSION = "v1"
    KIND = "Secret"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    immutable: bool | None = None
    data: dict[str, Base64Text] = mapping()
    string_data: dict[str, str] = mapping()
    type: str | None = None

    def decoded(self) -> dict[str, bytes]:
        """Every key's bytes: ``data`` decoded, overlaid by ``string_data`` (which wins,
        as it does when the server folds it in). Raises ``binascii.Error`` on bad base64.
        """
        out = {key: b64decode(value, validate=True) for key, value in self.data.items()}
        out.update({key: value.encode() for key, value in self.string_data.items()})
        return out


class ServiceAccount(KubeObject):
    API_VERSION = "v1"
    KIND = "ServiceAccount"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    secrets: list[ObjectReference] = merge_list("name")
    # Unlike a PodSpec's, these carry no patch strategy: a patch replaces the list.
    image_pull_secrets: list[LocalObjectReference] = items()
    automount_service_account_token: bool | None = None


# --- events -------------------------------------------------------------------------------


class EventSource(KubeModel):
    component: str | None = None
    host: str | None = None


class EventSeries(KubeModel):
    count: int | None = None
    last_observed_time: MicroTime | None = None


class Event(KubeObject):
    """core/v1 Event (the older shape; events.k8s.io/v1 renames several fields)."""

    API_VERSION = "v1"
    KIND = "Event"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    involved_object: ObjectReference
    reason: str | None = None
    message: str | None = None
    source: EventSource | None = None
    first_timestamp: Time | None = None
    last_timestamp: Time | None = None
    count: int | None = None
    type: str | None = None
    event_time: MicroTime | None = None
    series: EventSeries | None = None
    action: str | None = None
    related: ObjectReference | None = None
    reporting_component: str | None = None
    reporting_instance: str | None = None


# --- binding ------------------------------------------------------------------------------


class Binding(KubeObject):
    """The body of ``POST pods/{name}/binding``: bind the pod to ``target`` (a Node)."""

    API_VERSION = "v1"
    KIND = "Binding"

    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    target: ObjectReference


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
    "ResourceClaim",
    "ResourceFieldSelector",
    "ResourceList",
    "ResourceRequirements",
    "RestartPolicy",
    "SELinuxOptions",
    "ScaleIOVolumeSource",
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
