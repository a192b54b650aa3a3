"""Pod specs: Kubernetes 1.30's defaults, validation, update rules and QoS class.

Shared by the Pod strategy and by every workload whose object carries a pod template
(Deployments, Jobs, ...), so that a template is defaulted and refused exactly as the pods
stamped from it would be.

Two levels of defaults exist in Kubernetes and are kept apart here:

* ``default_pod_spec(spec)`` applies what every ``PodSpec`` gets, templates included
  (``dnsPolicy``, ``restartPolicy``, container ``imagePullPolicy``, probe timings, volume
  modes, ...).
* ``default_pod_spec(spec, pod=True)`` adds what only real pods get (requests copied from
  limits, ``enableServiceLinks``, host ports under ``hostNetwork``, the ``default``
  service account that Kubernetes' admission fills in).

Validation returns ``FieldError`` lists with Kubernetes' field paths and wording; paths
are built below the ``FieldPath`` the caller passes (``spec`` for a pod,
``spec.template.spec`` for a Deployment). Values Kubernetes' decoder would refuse before
validation (a malformed quantity) are reported here as ordinary field errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from apitypes.base import KubeModel
from apitypes.core import (
    Affinity,
    Container,
    ContainerPort,
    EmptyDirVolumeSource,
    EnvFromSource,
    EnvVar,
    EphemeralContainer,
    HTTPGetAction,
    Lifecycle,
    LifecycleHandler,
    NodeSelector,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    ObjectFieldSelector,
    PodAffinityTerm,
    PodSecurityContext,
    PodSpec,
    PodTemplateSpec,
    Probe,
    ProbeHandler,
    ResourceFieldSelector,
    ResourceRequirements,
    SeccompProfile,
    SecurityContext,
    Toleration,
    Volume,
    VolumeMount,
)
from apitypes.quantity import Quantity, QuantityError
from apitypes.validation import (
    IS_NEGATIVE,
    ErrorType,
    FieldError,
    FieldPath,
    duplicate,
    forbidden,
    inclusive_range_error,
    invalid,
    is_config_map_key,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_env_var_name,
    is_qualified_name,
    is_valid_ip,
    is_valid_label_value,
    is_valid_port_name,
    is_valid_port_num,
    mask_trailing_dash,
    not_found,
    not_supported,
    regex_error,
    required,
    validate_annotations,
    validate_label_selector,
    validate_labels,
)

__all__ = [
    "DEFAULT_SCHEDULER_NAME",
    "DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS",
    "default_pod_spec",
    "default_pod_template_spec",
    "default_resource_list",
    "image_pull_policy_for",
    "parse_quantity_field",
    "pod_qos_class",
    "validate_pod_spec",
    "validate_pod_spec_update",
    "validate_pod_template_spec",
    "validate_quantity_value",
    "validate_resource_requirements",
    "validate_taint_effect",
    "validate_tolerations",
]

DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30
DEFAULT_SCHEDULER_NAME = "default-scheduler"
DEFAULT_SERVICE_ACCOUNT = "default"
TERMINATION_MESSAGE_PATH = "/dev/termination-log"
# 0644: what Kubernetes writes as the mode of projected files when none is given.
DEFAULT_FILE_MODE = 0o644
DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600
MAX_INT32 = 2**31 - 1

_NOT_POSITIVE = "must be greater than zero"
_FILE_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive"
_INIT_PROBE_FORBIDDEN = "may not be set for init containers without restartPolicy=Always"

_PORT_PROTOCOLS = ("SCTP", "TCP", "UDP")
_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_RESTART_POLICIES = ("Always", "OnFailure", "Never")
_DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
_TERMINATION_MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")
_HOST_PATH_TYPES = (
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
)
_MOUNT_PROPAGATIONS = ("Bidirectional", "HostToContainer", "None")
_HTTP_SCHEMES = ("HTTP", "HTTPS")
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_TOLERATION_OPERATORS = ("Equal", "Exists")
_SECCOMP_TYPES = ("Localhost", "RuntimeDefault", "Unconfined")
_PROC_MOUNT_TYPES = ("Default", "Unmasked")
_FS_GROUP_CHANGE_POLICIES = ("Always", "OnRootMismatch")
_PREEMPTION_POLICIES = ("PreemptLowerPriority", "Never")
_WHEN_UNSATISFIABLE = ("DoNotSchedule", "ScheduleAnyway")
_NODE_INCLUSION_POLICIES = ("Honor", "Ignore")
_OS_NAMES = ("linux", "windows")
_RESIZE_RESOURCES = ("cpu", "memory")
_RESIZE_POLICIES = ("NotRequired", "RestartContainer")

_ENV_FIELD_PATHS = (
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
)
_VOLUME_FIELD_PATHS = (
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
)
# Every label the downward API converts for pods (``ConvertDownwardAPIFieldLabel``).
_DOWNWARD_API_LABELS = frozenset(
    {
        "metadata.annotations",
        "metadata.labels",
        "metadata.name",
        "metadata.namespace",
        "metadata.uid",
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.serviceAccountName",
        "spec.schedulerName",
        "status.phase",
        "status.hostIP",
        "status.hostIPs",
        "status.podIP",
        "status.podIPs",
    }
)
_RESOURCE_FIELD_PATHS = (
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
)
_HUGEPAGES_FIELD_PREFIXES = ("limits.hugepages-", "requests.hugepages-")
_CPU_DIVISORS = frozenset({"1m", "1"})
_BYTE_DIVISORS = frozenset(
    {"1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"}
)
_BYTE_DIVISORS_TEXT = "1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei"

# Resource names Kubernetes calls standard (``helper.IsStandardResourceName``).
_STANDARD_RESOURCES = frozenset(
    {
        "cpu",
        "memory",
        "ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
        "pods",
        "services",
        "replicationcontrollers",
        "resourcequotas",
        "secrets",
        "persistentvolumeclaims",
        "storage",
        "requests.storage",
        "services.nodeports",
        "services.loadbalancers",
        "configmaps",
    }
)
_STANDARD_CONTAINER_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})
_QOS_RESOURCES = ("cpu", "memory")

_HTTP_HEADER_NAME_FMT = "[-A-Za-z0-9]+"
_HTTP_HEADER_NAME_RE = re.compile(_HTTP_HEADER_NAME_FMT)
_SUBSCRIPTED_RE = re.compile(r"(.+)\['(.*)'\]")

# Docker image references: what ``parsers.ParseImageName`` accepts, loosely.
_IMAGE_NAME_RE = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
)
_IMAGE_TAG_RE = re.compile(r"[\w][\w.-]{0,127}")


# --- defaults ------------------------------------------------------------------------


def image_pull_policy_for(image: str | None) -> str:
    """``Always`` for an image without tag or with tag ``latest``, else ``IfNotPresent``.

    A reference with a digest and no tag is pinned (``IfNotPresent``), as is one that
    does not parse as a Docker reference.
    """
    ref = image or ""
    name, _, digest = ref.partition("@")
    tag = ""
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not _IMAGE_TAG_RE.fullmatch(tag):
            return "IfNotPresent"
    if not name or not _IMAGE_NAME_RE.fullmatch(name):
        return "IfNotPresent"
    if not tag and not digest:
        tag = "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def default_resource_list(resources: dict[str, str]) -> None:
    """Round every quantity up to a whole milli-unit and write it canonically, in place.

    Malformed quantities are left for validation to report.
    """
    for name, text in list(resources.items()):
        try:
            quantity = Quantity.parse(text)
        except QuantityError:
            continue
        if quantity.nanos % 10**6:
            quantity = Quantity.from_milli(quantity.milli_value(), quantity.format)
        resources[name] = str(quantity)


def _default_http_get(action: HTTPGetAction | None) -> None:
    if action is None:
        return
    if not action.path:
        action.path = "/"
    if not action.scheme:
        action.scheme = "HTTP"


def _default_handler(handler: ProbeHandler | LifecycleHandler | None) -> None:
    if handler is None:
        return
    _default_http_get(handler.http_get)
    grpc = handler.grpc if isinstance(handler, ProbeHandler) else None
    if grpc is not None and grpc.service is None:
        grpc.service = ""


def _default_probe(probe: Probe | None) -> None:
    if probe is None:
        return
    _default_handler(probe)
    if not probe.timeout_seconds:
        probe.timeout_seconds = 1
    if not probe.period_seconds:
        probe.period_seconds = 10
    if not probe.success_threshold:
        probe.success_threshold = 1
    if not probe.failure_threshold:
        probe.failure_threshold = 3


def _default_field_ref(ref: ObjectFieldSelector | None) -> None:
    if ref is not None and not ref.api_version:
        ref.api_version = "v1"


def _default_resource_field_ref(ref: ResourceFieldSelector | None) -> None:
    # The divisor is a plain Quantity in Go: an unset one serialises as "0".
    if ref is not None and ref.divisor is None:
        ref.divisor = "0"


def _default_container(container: Container) -> None:
    if not container.image_pull_policy:
        container.image_pull_policy = image_pull_policy_for(container.image)
    if not container.termination_message_path:
        container.termination_message_path = TERMINATION_MESSAGE_PATH
    if not container.termination_message_policy:
        container.termination_message_policy = "File"
    for port in container.ports:
        if not port.protocol:
            port.protocol = "TCP"
    for env in container.env:
        if env.value_from is not None:
            _default_field_ref(env.value_from.field_ref)
            _default_resource_field_ref(env.value_from.resource_field_ref)
    # ``resources`` is a struct in Go, so it always serialises (as ``{}`` when empty).
    if container.resources is None:
        container.resources = ResourceRequirements()
    default_resource_list(container.resources.limits)
    default_resource_list(container.resources.requests)
    _default_probe(container.liveness_probe)
    _default_probe(container.readiness_probe)
    _default_probe(container.startup_probe)
    if container.lifecycle is not None:
        _default_handler(container.lifecycle.post_start)
        _default_handler(container.lifecycle.pre_stop)


def _default_volume(volume: Volume) -> None:
    if volume.source_type() is None:
        volume.empty_dir = EmptyDirVolumeSource()
    if volume.host_path is not None and volume.host_path.type is None:
        volume.host_path.type = ""
    if volume.secret is not None and volume.secret.default_mode is None:
        volume.secret.default_mode = DEFAULT_FILE_MODE
    if volume.config_map is not None and volume.config_map.default_mode is None:
        volume.config_map.default_mode = DEFAULT_FILE_MODE
    if volume.downward_api is not None:
        if volume.downward_api.default_mode is None:
            volume.downward_api.default_mode = DEFAULT_FILE_MODE
        for item in volume.downward_api.items:
            _default_field_ref(item.field_ref)
            _default_resource_field_ref(item.resource_field_ref)
    if volume.projected is not None:
        if volume.projected.default_mode is None:
            volume.projected.default_mode = DEFAULT_FILE_MODE
        for source in volume.projected.sources:
            token = source.service_account_token
            if token is not None and token.expiration_seconds is None:
                token.expiration_seconds = DEFAULT_TOKEN_EXPIRATION_SECONDS
            if source.downward_api is not None:
                for item in source.downward_api.items:
                    _default_field_ref(item.field_ref)
                    _default_resource_field_ref(item.resource_field_ref)


def default_pod_spec(spec: PodSpec, *, pod: bool = False) -> None:
    """Fill Kubernetes' defaults into ``spec`` in place.

    Without ``pod`` this is what every ``PodSpec`` gets (a workload's template); with
    ``pod`` it adds what only a Pod object gets (``SetDefaults_Pod`` and the
    ServiceAccount admission's ``default`` account). Idempotent.
    """
    if not spec.dns_policy:
        spec.dns_policy = "ClusterFirst"
    if not spec.restart_policy:
        spec.restart_policy = "Always"
    if spec.security_context is None:
        spec.security_context = PodSecurityContext()
    if spec.termination_grace_period_seconds is None:
        spec.termination_grace_period_seconds = DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS
    if not spec.scheduler_name:
        spec.scheduler_name = DEFAULT_SCHEDULER_NAME
    # ``serviceAccount`` is the deprecated spelling; the two always travel together.
    if not spec.service_account_name and spec.service_account:
        spec.service_account_name = spec.service_account
    for volume in spec.volumes:
        _default_volume(volume)
    for container in (*spec.init_containers, *spec.containers, *spec.ephemeral_containers):
        _default_container(container)
    default_resource_list(spec.overhead)
    if pod:
        for container in (*spec.init_containers, *spec.containers):
            assert container.resources is not None  # set by _default_container
            for name, value in container.resources.limits.items():
                container.resources.requests.setdefault(name, value)
        if spec.enable_service_links is None:
            spec.enable_service_links = True
        if spec.host_network:
            for container in (*spec.init_containers, *spec.containers):
                for port in container.ports:
                    if not port.host_port:
                        port.host_port = port.container_port
        if not spec.service_account_name:
            spec.service_account_name = DEFAULT_SERVICE_ACCOUNT
    if spec.service_account_name:
        spec.service_account = spec.service_account_name


def default_pod_template_spec(template: PodTemplateSpec) -> None:
    """Defaults of a workload's pod template (the ``PodSpec`` level only)."""
    if template.spec is None:
        template.spec = PodSpec()
    default_pod_spec(template.spec)


# --- QoS -------------------------------------------------------------------------------


def _positive(text: str) -> Quantity | None:
    try:
        quantity = Quantity.parse(text)
    except QuantityError:
        return None
    return quantity if quantity.sign() > 0 else None


def pod_qos_class(spec: PodSpec | None) -> str:
    """``Guaranteed``, ``Burstable`` or ``BestEffort``, as Kubernetes classifies the pod.

    Only cpu and memory count, over regular and init containers: no positive request or
    limit at all is BestEffort; every container limiting both, with requests (summed
    per resource) equal to limits, is Guaranteed; anything else is Burstable.
    """
    if spec is None:
        return "BestEffort"
    requests: dict[str, Quantity] = {}
    limits: dict[str, Quantity] = {}
    guaranteed = True
    for container in (*spec.containers, *spec.init_containers):
        resources = container.resources or ResourceRequirements()
        for name, text in resources.requests.items():
            quantity = _positive(text) if name in _QOS_RESOURCES else None
            if quantity is not None:
                requests[name] = requests.get(name, Quantity.zero()) + quantity
        found: set[str] = set()
        for name, text in resources.limits.items():
            quantity = _positive(text) if name in _QOS_RESOURCES else None
            if quantity is not None:
                found.add(name)
                limits[name] = limits.get(name, Quantity.zero()) + quantity
        if not found.issuperset(_QOS_RESOURCES):
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if guaranteed:
        for name, request in requests.items():
            limit = limits.get(name)
            if limit is None or limit != request:
                guaranteed = False
                break
    if guaranteed and len(requests) == len(limits):
        return "Guaranteed"
    return "Burstable"


# --- small checks ----------------------------------------------------------------------


def _msgs(path: FieldPath | str, value: Any, messages: Iterable[str]) -> list[FieldError]:
    return [invalid(path, value, msg) for msg in messages]


def _dns_label(value: str, path: FieldPath) -> list[FieldError]:
    return _msgs(path, value, is_dns1123_label(value))


def _dns_subdomain(value: str, path: FieldPath) -> list[FieldError]:
    return _msgs(path, value, is_dns1123_subdomain(value))


def _qualified_name(value: str, path: FieldPath) -> list[FieldError]:
    return _msgs(path, value, is_qualified_name(value))


def _enum(path: FieldPath, value: str | None, allowed: Sequence[str]) -> list[FieldError]:
    """Required when empty, NotSupported when outside ``allowed``."""
    if not value:
        return [required(path)]
    if value not in allowed:
        return [not_supported(path, value, allowed)]
    return []


def _nonnegative(value: int | None, path: FieldPath) -> list[FieldError]:
    if value is not None and value < 0:
        return [invalid(path, value, IS_NEGATIVE)]
    return []


def _file_mode(mode: int | None, path: FieldPath) -> list[FieldError]:
    if mode is not None and not 0 <= mode <= 0o777:
        return [invalid(path, mode, _FILE_MODE_ERROR)]
    return []


def _no_backsteps(target: str, path: FieldPath) -> list[FieldError]:
    if ".." in target.replace("\\", "/").split("/"):
        return [invalid(path, target, "must not contain '..'")]
    return []


def _local_descending_path(target: str, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if target.startswith("/"):
        errs.append(invalid(path, target, "must be a relative path"))
    errs.extend(_no_backsteps(target, path))
    return errs


def _local_non_reserved_path(target: str, path: FieldPath) -> list[FieldError]:
    errs = _local_descending_path(target, path)
    if target.startswith("..") and not target.startswith("../"):
        errs.append(invalid(path, target, "must not start with '..'"))
    return errs


def _port_num_or_name(port: int | str, path: FieldPath) -> list[FieldError]:
    if isinstance(port, int):
        return _msgs(path, port, is_valid_port_num(port))
    return _msgs(path, port, is_valid_port_name(port))


def _valid_id(value: int | None, path: FieldPath) -> list[FieldError]:
    if value is not None and not 0 <= value <= MAX_INT32:
        return [invalid(path, value, inclusive_range_error(0, MAX_INT32))]
    return []


def _is_native_resource(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def _is_hugepages(name: str) -> bool:
    return name.startswith("hugepages-")


def _is_extended_resource(name: str) -> bool:
    if _is_native_resource(name) or name.startswith("requests."):
        return False
    return not is_qualified_name("requests." + name)


def _overcommit_allowed(name: str) -> bool:
    return _is_native_resource(name) and not _is_hugepages(name)


def parse_quantity_field(text: str, path: FieldPath) -> tuple[Quantity | None, list[FieldError]]:
    """A quantity, or the error Kubernetes' decoder gives for its text."""
    try:
        return Quantity.parse(text), []
    except QuantityError as err:
        return None, [invalid(path, text, str(err))]


def _resource_name(name: str, path: FieldPath) -> list[FieldError]:
    errs = _qualified_name(name, path)
    if errs:
        return errs
    if "/" not in name and name not in _STANDARD_RESOURCES and not _is_hugepages(name):
        return [invalid(path, name, "must be a standard resource type or fully qualified")]
    return []


def _container_resource_name(name: str, path: FieldPath) -> list[FieldError]:
    errs = _resource_name(name, path)
    if "/" not in name:
        if name not in _STANDARD_CONTAINER_RESOURCES and not _is_hugepages(name):
            errs.append(invalid(path, name, "must be a standard resource for containers"))
    elif not _is_native_resource(name) and not _is_extended_resource(name):
        errs.append(invalid(path, name, "doesn't follow extended resource name standard"))
    return errs


def validate_quantity_value(name: str, quantity: Quantity, path: FieldPath) -> list[FieldError]:
    """Non-negative, and whole for resources counted in units (``ValidateResourceQuantityValue``)."""
    errs: list[FieldError] = []
    if quantity.sign() < 0:
        errs.append(invalid(path, str(quantity), IS_NEGATIVE))
    if _is_extended_resource(name) and quantity.milli_value() % 1000:
        errs.append(invalid(path, str(quantity), "must be an integer"))
    return errs


def validate_resource_requirements(
    resources: ResourceRequirements | None,
    path: FieldPath,
    *,
    claim_names: frozenset[str] = frozenset(),
) -> list[FieldError]:
    """Names, quantities and ``requests <= limits`` of a container's resources."""
    if resources is None:
        return []
    errs: list[FieldError] = []
    lim_path = path.child("limits")
    req_path = path.child("requests")
    has_cpu_memory = False
    has_hugepages = False
    limits: dict[str, Quantity] = {}
    for name in sorted(resources.limits):
        entry = lim_path.key(name)
        errs.extend(_container_resource_name(name, entry))
        quantity, qerrs = parse_quantity_field(resources.limits[name], entry)
        errs.extend(qerrs)
        if quantity is not None:
            limits[name] = quantity
            errs.extend(validate_quantity_value(name, quantity, entry))
        has_cpu_memory |= name in _QOS_RESOURCES
        has_hugepages |= _is_hugepages(name)
    for name in sorted(resources.requests):
        entry = req_path.key(name)
        errs.extend(_container_resource_name(name, entry))
        quantity, qerrs = parse_quantity_field(resources.requests[name], entry)
        errs.extend(qerrs)
        if quantity is not None:
            errs.extend(validate_quantity_value(name, quantity, entry))
        if name in resources.limits:
            limit = limits.get(name)
            if quantity is not None and limit is not None:
                if quantity != limit and not _overcommit_allowed(name):
                    errs.append(
                        invalid(
                            req_path,
                            str(quantity),
                            f"must be equal to {name} limit of {limit}",
                        )
                    )
                elif quantity > limit:
                    errs.append(
                        invalid(
                            req_path,
                            str(quantity),
                            f"must be less than or equal to {name} limit of {limit}",
                        )
                    )
        elif not _overcommit_allowed(name):
            errs.append(required(lim_path, "Limit must be set for non overcommitable resources"))
        has_cpu_memory |= name in _QOS_RESOURCES
        has_hugepages |= _is_hugepages(name)
    if has_hugepages and not has_cpu_memory:
        errs.append(forbidden(path, "HugePages require cpu or memory"))
    seen: set[str] = set()
    for i, claim in enumerate(resources.claims):
        claim_path = path.child("claims").index(i)
        if not claim.name:
            errs.append(required(claim_path))
            continue
        if claim.name in seen:
            errs.append(duplicate(claim_path, claim.name))
        seen.add(claim.name)
        if claim.name not in claim_names:
            detail = "must be one of the names in pod.spec.resourceClaims"
            detail += (": " + ", ".join(sorted(claim_names))) if claim_names else " which is empty"
            errs.append(FieldError(ErrorType.NOT_FOUND, str(claim_path), claim.name, detail))
    return errs


# --- volumes -----------------------------------------------------------------------------

# The order Kubernetes checks volume sources in, and the name its "more than one" error
# uses for each (two of them differ from the wire name, as in Kubernetes).
_VOLUME_SOURCES: tuple[tuple[str, str, str], ...] = (
    ("empty_dir", "emptyDir", "emptyDir"),
    ("host_path", "hostPath", "hostPath"),
    ("git_repo", "gitRepo", "gitRepo"),
    ("gce_persistent_disk", "gcePersistentDisk", "gcePersistentDisk"),
    ("aws_elastic_block_store", "awsElasticBlockStore", "awsElasticBlockStore"),
    ("secret", "secret", "secret"),
    ("nfs", "nfs", "nfs"),
    ("iscsi", "iscsi", "iscsi"),
    ("glusterfs", "glusterfs", "glusterfs"),
    ("flocker", "flocker", "flocker"),
    ("persistent_volume_claim", "persistentVolumeClaim", "persistentVolumeClaim"),
    ("rbd", "rbd", "rbd"),
    ("cinder", "cinder", "cinder"),
    ("cephfs", "cephfs", "cephFS"),
    ("quobyte", "quobyte", "quobyte"),
    ("downward_api", "downwardAPI", "downwarAPI"),
    ("fc", "fc", "fc"),
    ("flex_volume", "flexVolume", "flexVolume"),
    ("config_map", "configMap", "configMap"),
    ("azure_file", "azureFile", "azureFile"),
    ("vsphere_volume", "vsphereVolume", "vsphereVolume"),
    ("photon_persistent_disk", "photonPersistentDisk", "photonPersistentDisk"),
    ("portworx_volume", "portworxVolume", "portworxVolume"),
    ("azure_disk", "azureDisk", "azureDisk"),
    ("storageos", "storageos", "storageos"),
    ("projected", "projected", "projected"),
    ("scale_io", "scaleIO", "scaleIO"),
    ("csi", "csi", "csi"),
    ("ephemeral", "ephemeral", "ephemeral"),
)


def _key_to_path(key: str, target: str, mode: int | None, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if not key:
        errs.append(required(path.child("key")))
    if not target:
        errs.append(required(path.child("path")))
    errs.extend(_local_non_reserved_path(target, path.child("path")))
    errs.extend(_file_mode(mode, path.child("mode")))
    return errs


def _object_field_selector(
    ref: ObjectFieldSelector, allowed: Sequence[str], path: FieldPath
) -> list[FieldError]:
    if not ref.api_version:
        return [required(path.child("apiVersion"))]
    if not ref.field_path:
        return [required(path.child("fieldPath"))]
    label = ref.field_path
    subscripted = _SUBSCRIPTED_RE.fullmatch(label)
    if ref.api_version != "v1":
        detail = f"error converting fieldPath: unsupported pod version: {ref.api_version}"
        return [invalid(path.child("fieldPath"), label, detail)]
    if subscripted:
        base, subscript = subscripted.group(1), subscripted.group(2)
        if base == "metadata.annotations":
            return _qualified_name(subscript.lower(), path)
        if base == "metadata.labels":
            return _qualified_name(subscript, path)
        detail = f"error converting fieldPath: field label does not support subscript: {label}"
        return [invalid(path.child("fieldPath"), label, detail)]
    if label == "spec.host":
        label = "spec.nodeName"
    elif label not in _DOWNWARD_API_LABELS:
        detail = f"error converting fieldPath: field label not supported: {label}"
        return [invalid(path.child("fieldPath"), label, detail)]
    if label not in allowed:
        return [not_supported(path.child("fieldPath"), label, allowed)]
    return []


def _resource_field_selector(
    ref: ResourceFieldSelector, path: FieldPath, *, volume: bool
) -> list[FieldError]:
    errs: list[FieldError] = []
    if volume and not ref.container_name:
        errs.append(required(path.child("containerName")))
    elif not ref.resource:
        errs.append(required(path.child("resource")))
    elif ref.resource not in _RESOURCE_FIELD_PATHS and not ref.resource.startswith(
        _HUGEPAGES_FIELD_PREFIXES
    ):
        errs.append(not_supported(path.child("resource"), ref.resource, _RESOURCE_FIELD_PATHS))
    if ref.divisor is None:
        return errs
    divisor, qerrs = parse_quantity_field(ref.divisor, path.child("divisor"))
    if qerrs:
        return errs + qerrs
    assert divisor is not None
    if divisor.is_zero():
        return errs
    text = str(divisor)
    resource = ref.resource
    if resource in ("limits.cpu", "requests.cpu") and text not in _CPU_DIVISORS:
        detail = "only divisor's values 1m and 1 are supported with the cpu resource"
        errs.append(invalid(path.child("divisor"), resource, detail))
    elif resource in ("limits.memory", "requests.memory") and text not in _BYTE_DIVISORS:
        detail = (
            f"only divisor's values {_BYTE_DIVISORS_TEXT} are supported with the memory resource"
        )
        errs.append(invalid(path.child("divisor"), resource, detail))
    elif (
        resource in ("limits.ephemeral-storage", "requests.ephemeral-storage")
        and text not in _BYTE_DIVISORS
    ):
        detail = (
            f"only divisor's values {_BYTE_DIVISORS_TEXT} are supported with the local "
            "ephemeral storage resource"
        )
        errs.append(invalid(path.child("divisor"), resource, detail))
    return errs


def _downward_api_file(item: Any, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if not item.path:
        errs.append(required(path.child("path")))
    errs.extend(_local_non_reserved_path(item.path, path.child("path")))
    if item.field_ref is not None:
        errs.extend(
            _object_field_selector(item.field_ref, _VOLUME_FIELD_PATHS, path.child("fieldRef"))
        )
        if item.resource_field_ref is not None:
            errs.append(
                invalid(
                    path,
                    "resource",
                    "fieldRef and resourceFieldRef can not be specified simultaneously",
                )
            )
    elif item.resource_field_ref is not None:
        errs.extend(
            _resource_field_selector(
                item.resource_field_ref, path.child("resourceFieldRef"), volume=True
            )
        )
    else:
        errs.append(required(path, "one of fieldRef and resourceFieldRef is required"))
    errs.extend(_file_mode(item.mode, path.child("mode")))
    return errs


def _projected_sources(volume: Volume, path: FieldPath) -> list[FieldError]:
    assert volume.projected is not None
    errs: list[FieldError] = []
    paths: set[str] = set()
    for i, source in enumerate(volume.projected.sources):
        count = 0
        src_path = path.child("sources").index(i)
        if source.secret is not None:
            count += 1
            proj = src_path.child("secret")
            if not source.secret.name:
                errs.append(required(proj.child("name")))
            for j, kp in enumerate(source.secret.items):
                errs.extend(_key_to_path(kp.key, kp.path, kp.mode, proj.child("items").index(j)))
                if kp.path:
                    if kp.path in paths:
                        errs.append(
                            invalid(path, source.secret.name or "", "conflicting duplicate paths")
                        )
                    paths.add(kp.path)
        if source.config_map is not None:
            count += 1
            proj = src_path.child("configMap")
            if not source.config_map.name:
                errs.append(required(proj.child("name")))
            for j, kp in enumerate(source.config_map.items):
                errs.extend(_key_to_path(kp.key, kp.path, kp.mode, proj.child("items").index(j)))
                if kp.path:
                    if kp.path in paths:
                        errs.append(
                            invalid(
                                path, source.config_map.name or "", "conflicting duplicate paths"
                            )
                        )
                    paths.add(kp.path)
        if source.downward_api is not None:
            count += 1
            proj = src_path.child("downwardAPI")
            for item in source.downward_api.items:
                errs.extend(_downward_api_file(item, proj))
                if item.path:
                    if item.path in paths:
                        errs.append(invalid(path, item.path, "conflicting duplicate paths"))
                    paths.add(item.path)
        if source.service_account_token is not None:
            count += 1
            token = source.service_account_token
            proj = src_path.child("serviceAccountToken")
            seconds = token.expiration_seconds or 0
            if seconds < 600:
                errs.append(
                    invalid(
                        proj.child("expirationSeconds"),
                        seconds,
                        "may not specify a duration less than 10 minutes",
                    )
                )
            if seconds > 1 << 32:
                errs.append(
                    invalid(
                        proj.child("expirationSeconds"),
                        seconds,
                        "may not specify a duration larger than 2^32 seconds",
                    )
                )
            if not token.path:
                errs.append(required(path.child("path")))
            else:
                errs.extend(_local_non_reserved_path(token.path, path.child("path")))
        if source.cluster_trust_bundle is not None:
            count += 1
            proj = src_path.child("clusterTrustBundle")
            if not source.cluster_trust_bundle.path:
                errs.append(required(proj.child("path")))
        if count > 1:
            errs.append(forbidden(src_path, "may not specify more than 1 volume type per source"))
    return errs


def _volume_source(volume: Volume, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    count = 0
    for attr, wire, forbidden_name in _VOLUME_SOURCES:
        if getattr(volume, attr) is None:
            continue
        if count:
            errs.append(
                forbidden(path.child(forbidden_name), "may not specify more than 1 volume type")
            )
            continue
        count += 1
        errs.extend(_one_volume_source(volume, attr, path.child(wire)))
    if count == 0:
        errs.append(required(path, "must specify a volume type"))
    return errs


def _one_volume_source(volume: Volume, attr: str, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if attr == "empty_dir":
        assert volume.empty_dir is not None
        limit = volume.empty_dir.size_limit
        if limit is not None:
            quantity, qerrs = parse_quantity_field(limit, path.child("sizeLimit"))
            errs.extend(qerrs)
            if quantity is not None and quantity.sign() < 0:
                errs.append(
                    forbidden(
                        path.child("sizeLimit"), "SizeLimit field must be a valid resource quantity"
                    )
                )
    elif attr == "host_path":
        assert volume.host_path is not None
        host_path = volume.host_path
        if not host_path.path:
            return [required(path.child("path"))]
        errs.extend(_no_backsteps(host_path.path, path.child("path")))
        if host_path.type is not None and host_path.type not in _HOST_PATH_TYPES:
            errs.append(not_supported(path.child("type"), host_path.type, _HOST_PATH_TYPES))
    elif attr == "secret":
        assert volume.secret is not None
        if not volume.secret.secret_name:
            errs.append(required(path.child("secretName")))
        errs.extend(_file_mode(volume.secret.default_mode, path.child("defaultMode")))
        for i, kp in enumerate(volume.secret.items):
            errs.extend(_key_to_path(kp.key, kp.path, kp.mode, path.child("items").index(i)))
    elif attr == "config_map":
        assert volume.config_map is not None
        if not volume.config_map.name:
            errs.append(required(path.child("name")))
        errs.extend(_file_mode(volume.config_map.default_mode, path.child("defaultMode")))
        for i, kp in enumerate(volume.config_map.items):
            errs.extend(_key_to_path(kp.key, kp.path, kp.mode, path.child("items").index(i)))
    elif attr == "nfs":
        assert volume.nfs is not None
        if not volume.nfs.server:
            errs.append(required(path.child("server")))
        if not volume.nfs.path:
            errs.append(required(path.child("path")))
        if not volume.nfs.path.startswith("/"):
            errs.append(invalid(path.child("path"), volume.nfs.path, "must be an absolute path"))
    elif attr == "persistent_volume_claim":
        assert volume.persistent_volume_claim is not None
        if not volume.persistent_volume_claim.claim_name:
            errs.append(required(path.child("claimName")))
    elif attr == "downward_api":
        assert volume.downward_api is not None
        errs.extend(_file_mode(volume.downward_api.default_mode, path.child("defaultMode")))
        for item in volume.downward_api.items:
            errs.extend(_downward_api_file(item, path))
    elif attr == "projected":
        assert volume.projected is not None
        errs.extend(_file_mode(volume.projected.default_mode, path.child("defaultMode")))
        errs.extend(_projected_sources(volume, path))
    elif attr == "csi":
        assert volume.csi is not None
        if not volume.csi.driver:
            errs.append(required(path.child("driver")))
    elif attr == "ephemeral":
        assert volume.ephemeral is not None
        if volume.ephemeral.volume_claim_template is None:
            errs.append(required(path.child("volumeClaimTemplate")))
    return errs


def _validate_volumes(
    volumes: Sequence[Volume], path: FieldPath
) -> tuple[dict[str, Volume], list[FieldError]]:
    """Errors in the pod's volumes, and the valid ones by name (mounts may refer to those)."""
    errs: list[FieldError] = []
    valid: dict[str, Volume] = {}
    for i, volume in enumerate(volumes):
        idx = path.index(i)
        name_path = idx.child("name")
        own = _volume_source(volume, idx)
        if not volume.name:
            own.append(required(name_path))
        else:
            own.extend(_dns_label(volume.name, name_path))
        if volume.name in valid:
            own.append(duplicate(name_path, volume.name))
        if own:
            errs.extend(own)
        else:
            valid[volume.name] = volume
    return valid, errs


# --- containers -------------------------------------------------------------------------


def _validate_ports(ports: Sequence[ContainerPort], path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, port in enumerate(ports):
        idx = path.index(i)
        if port.name:
            messages = is_valid_port_name(port.name)
            if messages:
                errs.extend(_msgs(idx.child("name"), port.name, messages))
            elif port.name in names:
                errs.append(duplicate(idx.child("name"), port.name))
            else:
                names.add(port.name)
        if port.container_port == 0:
            errs.append(required(idx.child("containerPort")))
        else:
            errs.extend(
                _msgs(
                    idx.child("containerPort"),
                    port.container_port,
                    is_valid_port_num(port.container_port),
                )
            )
        if port.host_port:
            errs.extend(
                _msgs(idx.child("hostPort"), port.host_port, is_valid_port_num(port.host_port))
            )
        if not port.protocol:
            errs.append(required(idx.child("protocol")))
        elif port.protocol not in _PORT_PROTOCOLS:
            errs.append(not_supported(idx.child("protocol"), port.protocol, _PORT_PROTOCOLS))
    return errs


def _validate_env(env: Sequence[EnvVar], path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, var in enumerate(env):
        idx = path.index(i)
        if not var.name:
            errs.append(required(idx.child("name")))
        else:
            errs.extend(_msgs(idx.child("name"), var.name, is_env_var_name(var.name)))
        source = var.value_from
        if source is None:
            continue
        from_path = idx.child("valueFrom")
        count = 0
        if source.field_ref is not None:
            count += 1
            errs.extend(
                _object_field_selector(
                    source.field_ref, _ENV_FIELD_PATHS, from_path.child("fieldRef")
                )
            )
        if source.resource_field_ref is not None:
            count += 1
            errs.extend(
                _resource_field_selector(
                    source.resource_field_ref, from_path.child("resourceFieldRef"), volume=False
                )
            )
        if source.config_map_key_ref is not None:
            count += 1
            errs.extend(
                _key_selector(source.config_map_key_ref, from_path.child("configMapKeyRef"))
            )
        if source.secret_key_ref is not None:
            count += 1
            errs.extend(_key_selector(source.secret_key_ref, from_path.child("secretKeyRef")))
        if count == 0:
            errs.append(
                invalid(
                    from_path,
                    "",
                    "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or "
                    "`secretKeyRef`",
                )
            )
        elif var.value:
            errs.append(invalid(from_path, "", "may not be specified when `value` is not empty"))
        elif count > 1:
            errs.append(
                invalid(from_path, "", "may not have more than one field specified at a time")
            )
    return errs


def _key_selector(selector: Any, path: FieldPath) -> list[FieldError]:
    name = selector.name or ""
    errs = _msgs(path.child("name"), name, is_dns1123_subdomain(name))
    if not selector.key:
        errs.append(required(path.child("key")))
    else:
        errs.extend(_msgs(path.child("key"), selector.key, is_config_map_key(selector.key)))
    return errs


def _validate_env_from(sources: Sequence[EnvFromSource], path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, source in enumerate(sources):
        idx = path.index(i)
        if source.prefix:
            errs.extend(_msgs(idx.child("prefix"), source.prefix, is_env_var_name(source.prefix)))
        count = 0
        for ref, child in (
            (source.config_map_ref, "configMapRef"),
            (source.secret_ref, "secretRef"),
        ):
            if ref is None:
                continue
            count += 1
            if not ref.name:
                errs.append(required(idx.child(child, "name")))
            else:
                errs.extend(
                    # Checked as a name prefix, as Kubernetes does: a trailing dash passes.
                    _msgs(
                        idx.child(child, "name"),
                        ref.name,
                        is_dns1123_subdomain(mask_trailing_dash(ref.name)),
                    )
                )
        if count == 0:
            errs.append(invalid(path, "", "must specify one of: `configMapRef` or `secretRef`"))
        elif count > 1:
            errs.append(invalid(path, "", "may not have more than one field specified at a time"))
    return errs


def _validate_mounts(
    container: Container, volumes: Mapping[str, Volume], path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    mount_paths: set[str] = set()
    devices = {device.name: device.device_path for device in container.volume_devices}
    privileged = bool(container.security_context and container.security_context.privileged)
    for i, mount in enumerate(container.volume_mounts):
        idx = path.index(i)
        if not mount.name:
            errs.append(required(idx.child("name")))
        if mount.name not in volumes:
            errs.append(not_found(idx.child("name"), mount.name))
        if not mount.mount_path:
            errs.append(required(idx.child("mountPath")))
        if mount.mount_path in mount_paths:
            errs.append(invalid(idx.child("mountPath"), mount.mount_path, "must be unique"))
        mount_paths.add(mount.mount_path)
        if mount.name in devices:
            errs.append(
                invalid(idx.child("name"), mount.name, "must not already exist in volumeDevices")
            )
        if mount.mount_path in devices.values():
            errs.append(
                invalid(
                    idx.child("mountPath"),
                    mount.mount_path,
                    "must not already exist as a path in volumeDevices",
                )
            )
        # Kubernetes reports these two below the list, not the item.
        if mount.sub_path:
            errs.extend(_local_descending_path(mount.sub_path, path.child("subPath")))
        if mount.sub_path_expr:
            if mount.sub_path:
                errs.append(
                    invalid(
                        idx.child("subPathExpr"),
                        mount.sub_path_expr,
                        "subPathExpr and subPath are mutually exclusive",
                    )
                )
            errs.extend(_local_descending_path(mount.sub_path_expr, path.child("subPathExpr")))
        errs.extend(_mount_propagation(mount, privileged, path.child("mountPropagation")))
    return errs


def _mount_propagation(mount: VolumeMount, privileged: bool, path: FieldPath) -> list[FieldError]:
    if mount.mount_propagation is None:
        return []
    errs: list[FieldError] = []
    if mount.mount_propagation not in _MOUNT_PROPAGATIONS:
        errs.append(not_supported(path, mount.mount_propagation, _MOUNT_PROPAGATIONS))
    if mount.mount_propagation == "Bidirectional" and not privileged:
        errs.append(
            forbidden(
                path, "Bidirectional mount propagation is available only to privileged containers"
            )
        )
    return errs


def _validate_devices(
    container: Container, volumes: Mapping[str, Volume], path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    names: set[str] = set()
    device_paths: set[str] = set()
    mounts = {mount.name: mount.mount_path for mount in container.volume_mounts}
    for i, device in enumerate(container.volume_devices):
        idx = path.index(i)
        volume = volumes.get(device.name)
        if not device.name:
            errs.append(required(idx.child("name")))
        if device.name in names:
            errs.append(invalid(idx.child("name"), device.name, "must be unique"))
        if (
            volume is not None
            and volume.persistent_volume_claim is None
            and volume.ephemeral is None
        ):
            errs.append(
                invalid(
                    idx.child("name"),
                    device.name,
                    "can only use volume source type of PersistentVolumeClaim or Ephemeral for "
                    "block mode",
                )
            )
        if volume is None:
            errs.append(not_found(idx.child("name"), device.name))
        if not device.device_path:
            errs.append(required(idx.child("devicePath")))
        if device.device_path in device_paths:
            errs.append(invalid(idx.child("devicePath"), device.device_path, "must be unique"))
        if device.device_path and _no_backsteps(device.device_path, idx):
            errs.append(
                invalid(
                    idx.child("devicePath"), device.device_path, "can not contain backsteps ('..')"
                )
            )
        else:
            device_paths.add(device.device_path)
        if device.name in mounts:
            errs.append(
                invalid(idx.child("name"), device.name, "must not already exist in volumeMounts")
            )
        if device.device_path in mounts.values():
            errs.append(
                invalid(
                    idx.child("devicePath"),
                    device.device_path,
                    "must not already exist as a path in volumeMounts",
                )
            )
        if device.name:
            names.add(device.name)
    return errs


def _seccomp_profile(profile: SeccompProfile | None, path: FieldPath) -> list[FieldError]:
    if profile is None:
        return []
    errs: list[FieldError] = []
    if not profile.type:
        errs.append(required(path.child("type"), "type is required when seccompProfile is set"))
    elif profile.type not in _SECCOMP_TYPES:
        errs.append(not_supported(path.child("type"), profile.type, _SECCOMP_TYPES))
    if profile.type == "Localhost":
        if profile.localhost_profile is None:
            errs.append(
                required(
                    path.child("localhostProfile"), "must be set when seccomp type is Localhost"
                )
            )
        else:
            errs.extend(
                _local_descending_path(profile.localhost_profile, path.child("localhostProfile"))
            )
    elif profile.localhost_profile is not None:
        errs.append(
            invalid(
                path.child("localhostProfile"),
                profile,
                "can only be set when seccomp type is Localhost",
            )
        )
    return errs


def _security_context(
    context: SecurityContext | None, path: FieldPath, *, host_users: bool
) -> list[FieldError]:
    if context is None:
        return []
    errs = _valid_id(context.run_as_user, path.child("runAsUser"))
    errs.extend(_valid_id(context.run_as_group, path.child("runAsGroup")))
    if context.proc_mount is not None:
        if context.proc_mount not in _PROC_MOUNT_TYPES:
            errs.append(
                not_supported(path.child("procMount"), context.proc_mount, _PROC_MOUNT_TYPES)
            )
        if host_users and context.proc_mount == "Unmasked":
            errs.append(
                invalid(
                    path.child("procMount"),
                    context.proc_mount,
                    "`hostUsers` must be false to use `Unmasked`",
                )
            )
    errs.extend(_seccomp_profile(context.seccomp_profile, path.child("seccompProfile")))
    if context.allow_privilege_escalation is False:
        if context.privileged:
            errs.append(
                invalid(
                    path,
                    context,
                    "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
                )
            )
        if context.capabilities is not None and "CAP_SYS_ADMIN" in context.capabilities.add:
            errs.append(
                invalid(
                    path,
                    context,
                    "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN",
                )
            )
    return errs


def _http_get(action: HTTPGetAction, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if not action.path:
        errs.append(required(path.child("path")))
    errs.extend(_port_num_or_name(action.port, path.child("port")))
    scheme = action.scheme or ""
    if scheme not in _HTTP_SCHEMES:
        errs.append(not_supported(path.child("scheme"), scheme, _HTTP_SCHEMES))
    for header in action.http_headers:
        if not _HTTP_HEADER_NAME_RE.fullmatch(header.name):
            detail = regex_error(
                "a valid HTTP header must consist of alphanumeric characters or '-'",
                _HTTP_HEADER_NAME_FMT,
                "X-Header-Name",
            )
            errs.append(invalid(path.child("httpHeaders"), header.name, detail))
    return errs


def _handler(
    handler: ProbeHandler | LifecycleHandler, grace: int | None, path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    count = 0
    kinds: list[tuple[str, Any]] = [
        ("exec", handler.exec),
        ("httpGet", handler.http_get),
        ("tcpSocket", handler.tcp_socket),
    ]
    if isinstance(handler, ProbeHandler):
        kinds.append(("grpc", handler.grpc))
    else:
        kinds.append(("sleep", handler.sleep))
    for name, action in kinds:
        if action is None:
            continue
        if count:
            errs.append(forbidden(path.child(name), "may not specify more than 1 handler type"))
            continue
        count += 1
        sub = path.child(name)
        if name == "exec":
            if not action.command:
                errs.append(required(sub.child("command")))
        elif name == "httpGet":
            errs.extend(_http_get(action, sub))
        elif name in ("tcpSocket", "grpc"):
            errs.extend(_port_num_or_name(action.port, sub.child("port")))
        elif grace is not None and (action.seconds <= 0 or action.seconds > grace):
            errs.append(
                invalid(
                    sub,
                    action.seconds,
                    f"must be greater than 0 and less than terminationGracePeriodSeconds ({grace})",
                )
            )
    if count == 0:
        errs.append(required(path, "must specify a handler type"))
    return errs


def _lifecycle(lifecycle: Lifecycle, grace: int | None, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if lifecycle.post_start is not None:
        errs.extend(_handler(lifecycle.post_start, grace, path.child("postStart")))
    if lifecycle.pre_stop is not None:
        errs.extend(_handler(lifecycle.pre_stop, grace, path.child("preStop")))
    return errs


def _probe(probe: Probe | None, grace: int | None, path: FieldPath, kind: str) -> list[FieldError]:
    if probe is None:
        return []
    errs = _handler(probe, grace, path)
    for attr, wire in (
        ("initial_delay_seconds", "initialDelaySeconds"),
        ("timeout_seconds", "timeoutSeconds"),
        ("period_seconds", "periodSeconds"),
        ("success_threshold", "successThreshold"),
        ("failure_threshold", "failureThreshold"),
    ):
        errs.extend(_nonnegative(getattr(probe, attr), path.child(wire)))
    tgps = probe.termination_grace_period_seconds
    if tgps is not None and tgps <= 0:
        errs.append(
            invalid(path.child("terminationGracePeriodSeconds"), tgps, "must be greater than 0")
        )
    if kind in ("liveness", "startup") and (probe.success_threshold or 0) != 1:
        errs.append(
            invalid(path.child("successThreshold"), probe.success_threshold or 0, "must be 1")
        )
    if kind == "readiness" and tgps is not None:
        errs.append(
            invalid(
                path.child("terminationGracePeriodSeconds"),
                tgps,
                "must not be set for readinessProbes",
            )
        )
    return errs


def _container_probes(container: Container, grace: int | None, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if container.lifecycle is not None:
        errs.extend(_lifecycle(container.lifecycle, grace, path.child("lifecycle")))
    errs.extend(_probe(container.liveness_probe, grace, path.child("livenessProbe"), "liveness"))
    errs.extend(_probe(container.readiness_probe, grace, path.child("readinessProbe"), "readiness"))
    errs.extend(_probe(container.startup_probe, grace, path.child("startupProbe"), "startup"))
    return errs


def _resize_policy(
    container: Container, restart_policy: str | None, path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, policy in enumerate(container.resize_policy):
        if policy.resource_name in seen:
            errs.append(duplicate(path.index(i), policy.resource_name))
        seen.add(policy.resource_name)
        if not policy.resource_name:
            errs.append(required(path))
        elif policy.resource_name not in _RESIZE_RESOURCES:
            errs.append(not_supported(path, policy.resource_name, _RESIZE_RESOURCES))
        if not policy.restart_policy:
            errs.append(required(path))
        elif policy.restart_policy not in _RESIZE_POLICIES:
            errs.append(not_supported(path, policy.restart_policy, _RESIZE_POLICIES))
        if restart_policy == "Never" and policy.restart_policy != "NotRequired":
            errs.append(
                invalid(
                    path,
                    policy.restart_policy,
                    "must be 'NotRequired' when `restartPolicy` is 'Never'",
                )
            )
    return errs


def _container_common(
    container: Container,
    volumes: Mapping[str, Volume],
    claim_names: frozenset[str],
    path: FieldPath,
    spec: PodSpec,
    host_users: bool,
) -> list[FieldError]:
    errs: list[FieldError] = []
    name_path = path.child("name")
    if not container.name:
        errs.append(required(name_path))
    else:
        errs.extend(_dns_label(container.name, name_path))
    if not container.image:
        errs.append(required(path.child("image")))
    errs.extend(
        _enum(
            path.child("terminationMessagePolicy"),
            container.termination_message_policy,
            _TERMINATION_MESSAGE_POLICIES,
        )
    )
    errs.extend(_validate_ports(container.ports, path.child("ports")))
    errs.extend(_validate_env(container.env, path.child("env")))
    errs.extend(_validate_env_from(container.env_from, path.child("envFrom")))
    errs.extend(_validate_mounts(container, volumes, path.child("volumeMounts")))
    errs.extend(_validate_devices(container, volumes, path.child("volumeDevices")))
    errs.extend(_enum(path.child("imagePullPolicy"), container.image_pull_policy, _PULL_POLICIES))
    errs.extend(
        validate_resource_requirements(
            container.resources, path.child("resources"), claim_names=claim_names
        )
    )
    errs.extend(_resize_policy(container, spec.restart_policy, path.child("resizePolicy")))
    errs.extend(
        _security_context(
            container.security_context, path.child("securityContext"), host_users=host_users
        )
    )
    return errs


def _host_port_conflicts(
    containers: Sequence[Container], path: FieldPath, seen: set[str] | None = None
) -> list[FieldError]:
    errs: list[FieldError] = []
    seen = set() if seen is None else seen
    for ci, container in enumerate(containers):
        for pi, port in enumerate(container.ports):
            if not port.host_port:
                continue
            key = f"{port.protocol or ''}/{port.host_ip or ''}/{port.host_port}"
            if key in seen:
                errs.append(
                    duplicate(path.index(ci).child("ports").index(pi).child("hostPort"), key)
                )
            else:
                seen.add(key)
    return errs


def _validate_containers(
    spec: PodSpec,
    volumes: Mapping[str, Volume],
    claim_names: frozenset[str],
    path: FieldPath,
    host_users: bool,
) -> list[FieldError]:
    if not spec.containers:
        return [required(path)]
    errs: list[FieldError] = []
    grace = spec.termination_grace_period_seconds
    names: set[str] = set()
    for i, container in enumerate(spec.containers):
        idx = path.index(i)
        errs.extend(_container_common(container, volumes, claim_names, idx, spec, host_users))
        if container.name in names:
            errs.append(duplicate(idx.child("name"), container.name))
        else:
            names.add(container.name)
        errs.extend(_container_probes(container, grace, idx))
        if container.restart_policy is not None:
            errs.append(
                forbidden(idx.child("restartPolicy"), "may not be set for non-init containers")
            )
    errs.extend(_host_port_conflicts(spec.containers, path))
    return errs


def _validate_init_containers(
    spec: PodSpec,
    volumes: Mapping[str, Volume],
    claim_names: frozenset[str],
    path: FieldPath,
    host_users: bool,
) -> list[FieldError]:
    errs: list[FieldError] = []
    grace = spec.termination_grace_period_seconds
    names = {container.name for container in spec.containers}
    for i, container in enumerate(spec.init_containers):
        idx = path.index(i)
        errs.extend(_container_common(container, volumes, claim_names, idx, spec, host_users))
        restart_always = False
        if container.restart_policy is not None:
            if container.restart_policy != "Always":
                errs.append(
                    not_supported(idx.child("restartPolicy"), container.restart_policy, ["Always"])
                )
            restart_always = container.restart_policy == "Always"
        if container.name in names:
            errs.append(duplicate(idx.child("name"), container.name))
        elif container.name:
            names.add(container.name)
        # Init containers run one by one: their host ports only conflict within one.
        errs.extend(_host_port_conflicts([container], path))
        if restart_always:
            errs.extend(_container_probes(container, grace, idx))
        else:
            for attr, wire in (
                ("lifecycle", "lifecycle"),
                ("liveness_probe", "livenessProbe"),
                ("readiness_probe", "readinessProbe"),
                ("startup_probe", "startupProbe"),
            ):
                if getattr(container, attr) is not None:
                    errs.append(forbidden(idx.child(wire), _INIT_PROBE_FORBIDDEN))
        if container.resize_policy:
            errs.append(
                invalid(
                    idx.child("resizePolicy"),
                    container.resize_policy,
                    "must not be set for init containers",
                )
            )
    return errs


def _validate_ephemeral_containers(
    spec: PodSpec,
    volumes: Mapping[str, Volume],
    claim_names: frozenset[str],
    path: FieldPath,
    host_users: bool,
) -> list[FieldError]:
    errs: list[FieldError] = []
    others = {c.name for c in (*spec.containers, *spec.init_containers)}
    names = set(others)
    for i, container in enumerate(spec.ephemeral_containers):
        idx = path.index(i)
        errs.extend(_container_common(container, volumes, claim_names, idx, spec, host_users))
        if container.name in names:
            errs.append(duplicate(idx.child("name"), container.name))
        else:
            names.add(container.name)
        target = container.target_container_name
        if target and target not in others:
            errs.append(not_found(idx.child("targetContainerName"), target))
        errs.extend(_ephemeral_forbidden_fields(container, idx))
    return errs


def _ephemeral_forbidden_fields(container: EphemeralContainer, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    for attr, wire in (
        ("ports", "ports"),
        ("resources", "resources"),
        ("lifecycle", "lifecycle"),
        ("liveness_probe", "livenessProbe"),
        ("readiness_probe", "readinessProbe"),
        ("startup_probe", "startupProbe"),
    ):
        value = getattr(container, attr)
        empty = value is None or value == [] or value == ResourceRequirements()
        if not empty:
            errs.append(forbidden(path.child(wire), "cannot be set for an Ephemeral Container"))
    for i, mount in enumerate(container.volume_mounts):
        mount_path = path.child("volumeMounts").index(i)
        if mount.sub_path:
            errs.append(
                forbidden(mount_path.child("subPath"), "cannot be set for an Ephemeral Container")
            )
        if mount.sub_path_expr:
            errs.append(
                forbidden(
                    mount_path.child("subPathExpr"), "cannot be set for an Ephemeral Container"
                )
            )
    return errs


# --- scheduling ------------------------------------------------------------------------


def validate_taint_effect(
    effect: str | None, path: FieldPath, *, allow_empty: bool
) -> list[FieldError]:
    """An effect must be NoSchedule, PreferNoSchedule or NoExecute (or empty if allowed)."""
    if not effect:
        return [] if allow_empty else [required(path)]
    if effect not in _TAINT_EFFECTS:
        return [not_supported(path, effect, _TAINT_EFFECTS)]
    return []


def validate_tolerations(tolerations: Sequence[Toleration], path: FieldPath) -> list[FieldError]:
    """Keys, operators, values and effects of tolerations (``ValidateTolerations``)."""
    errs: list[FieldError] = []
    for i, toleration in enumerate(tolerations):
        idx = path.index(i)
        key = toleration.key or ""
        operator = toleration.operator or ""
        value = toleration.value or ""
        effect = toleration.effect or ""
        if key:
            errs.extend(_qualified_name(key, idx.child("key")))
        if not key and operator != "Exists":
            errs.append(
                invalid(
                    idx.child("operator"),
                    operator,
                    'operator must be Exists when `key` is empty, which means "match all values '
                    'and all keys"',
                )
            )
        if toleration.toleration_seconds is not None and effect != "NoExecute":
            errs.append(
                invalid(
                    idx.child("effect"),
                    effect,
                    "effect must be 'NoExecute' when `tolerationSeconds` is set",
                )
            )
        if operator in ("Equal", ""):
            messages = is_valid_label_value(value)
            if messages:
                errs.append(invalid(idx.child("operator"), value, ";".join(messages)))
        elif operator == "Exists":
            if value:
                errs.append(
                    invalid(
                        idx.child("operator"),
                        value,
                        "value must be empty when `operator` is 'Exists'",
                    )
                )
        else:
            errs.append(not_supported(idx.child("operator"), operator, _TOLERATION_OPERATORS))
        if effect:
            errs.extend(validate_taint_effect(effect, idx.child("effect"), allow_empty=True))
    return errs


def _node_selector_requirement(req: NodeSelectorRequirement, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if req.operator in ("In", "NotIn"):
        if not req.values:
            errs.append(
                required(
                    path.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"
                )
            )
    elif req.operator in ("Exists", "DoesNotExist"):
        if req.values:
            errs.append(
                forbidden(
                    path.child("values"),
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                )
            )
    elif req.operator in ("Gt", "Lt"):
        if len(req.values) != 1:
            errs.append(
                required(
                    path.child("values"),
                    "must be specified single value when `operator` is 'Lt' or 'Gt'",
                )
            )
    else:
        errs.append(invalid(path.child("operator"), req.operator, "not a valid selector operator"))
    errs.extend(_qualified_name(req.key, path.child("key")))
    return errs


def _node_field_requirement(req: NodeSelectorRequirement, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if req.operator in ("In", "NotIn"):
        if len(req.values) != 1:
            errs.append(
                required(
                    path.child("values"),
                    "must be only one value when `operator` is 'In' or 'NotIn' for node field selector",
                )
            )
    else:
        errs.append(invalid(path.child("operator"), req.operator, "not a valid selector operator"))
    if req.key != "metadata.name":
        errs.append(invalid(path.child("key"), req.key, "not a valid field selector key"))
    else:
        for i, value in enumerate(req.values):
            errs.extend(_dns_subdomain(value, path.child("values").index(i)))
    return errs


def _node_selector_term(term: NodeSelectorTerm, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    for j, req in enumerate(term.match_expressions):
        errs.extend(_node_selector_requirement(req, path.child("matchExpressions").index(j)))
    for j, req in enumerate(term.match_fields):
        errs.extend(_node_field_requirement(req, path.child("matchFields").index(j)))
    return errs


def _node_selector(selector: NodeSelector, path: FieldPath) -> list[FieldError]:
    terms_path = path.child("nodeSelectorTerms")
    if not selector.node_selector_terms:
        return [required(terms_path, "must have at least one node selector term")]
    errs: list[FieldError] = []
    for i, term in enumerate(selector.node_selector_terms):
        errs.extend(_node_selector_term(term, terms_path.index(i)))
    return errs


def _weight(weight: int, path: FieldPath) -> list[FieldError]:
    if weight <= 0 or weight > 100:
        return [invalid(path, weight, "must be in the range 1-100")]
    return []


def _pod_affinity_term(term: PodAffinityTerm, path: FieldPath) -> list[FieldError]:
    errs = validate_label_selector(term.label_selector, path.child("labelSelector"))
    errs.extend(validate_label_selector(term.namespace_selector, path.child("namespaceSelector")))
    for name in term.namespaces:
        # Kubernetes names the list element "namespace", without an index.
        errs.extend(_dns_label(name, path.child("namespace")))
    if not term.topology_key:
        errs.append(required(path.child("topologyKey"), "can not be empty"))
    errs.extend(_qualified_name(term.topology_key, path.child("topologyKey")))
    return errs


def _pod_affinity(affinity: Any, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    req_path = path.child("requiredDuringSchedulingIgnoredDuringExecution")
    for i, term in enumerate(affinity.required_during_scheduling_ignored_during_execution):
        errs.extend(_pod_affinity_term(term, req_path.index(i)))
    pref_path = path.child("preferredDuringSchedulingIgnoredDuringExecution")
    for i, weighted in enumerate(affinity.preferred_during_scheduling_ignored_during_execution):
        errs.extend(_weight(weighted.weight, pref_path.index(i).child("weight")))
        errs.extend(
            _pod_affinity_term(
                weighted.pod_affinity_term, pref_path.index(i).child("podAffinityTerm")
            )
        )
    return errs


def _affinity(affinity: Affinity | None, path: FieldPath) -> list[FieldError]:
    if affinity is None:
        return []
    errs: list[FieldError] = []
    node = affinity.node_affinity
    if node is not None:
        node_path = path.child("nodeAffinity")
        if node.required_during_scheduling_ignored_during_execution is not None:
            errs.extend(
                _node_selector(
                    node.required_during_scheduling_ignored_during_execution,
                    node_path.child("requiredDuringSchedulingIgnoredDuringExecution"),
                )
            )
        pref_path = node_path.child("preferredDuringSchedulingIgnoredDuringExecution")
        for i, term in enumerate(node.preferred_during_scheduling_ignored_during_execution):
            errs.extend(_weight(term.weight, pref_path.index(i).child("weight")))
            errs.extend(
                _node_selector_term(term.preference, pref_path.index(i).child("preference"))
            )
    if affinity.pod_affinity is not None:
        errs.extend(_pod_affinity(affinity.pod_affinity, path.child("podAffinity")))
    if affinity.pod_anti_affinity is not None:
        errs.extend(_pod_affinity(affinity.pod_anti_affinity, path.child("podAntiAffinity")))
    return errs


def _topology_spread(spec: PodSpec, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    constraints = spec.topology_spread_constraints
    for i, constraint in enumerate(constraints):
        idx = path.index(i)
        if constraint.max_skew <= 0:
            errs.append(invalid(idx.child("maxSkew"), constraint.max_skew, _NOT_POSITIVE))
        if not constraint.topology_key:
            errs.append(required(idx.child("topologyKey"), "can not be empty"))
        action = constraint.when_unsatisfiable
        if action not in _WHEN_UNSATISFIABLE:
            errs.append(not_supported(idx.child("whenUnsatisfiable"), action, _WHEN_UNSATISFIABLE))
        for later in constraints[i + 1 :]:
            if later.topology_key == constraint.topology_key and later.when_unsatisfiable == action:
                errs.append(
                    duplicate(
                        idx.child("{topologyKey, whenUnsatisfiable}"),
                        f"{{{constraint.topology_key}, {action}}}",
                    )
                )
                break
        if constraint.min_domains is not None:
            if constraint.min_domains <= 0:
                errs.append(invalid(idx.child("minDomains"), constraint.min_domains, _NOT_POSITIVE))
            if action != "DoNotSchedule":
                errs.append(
                    invalid(
                        idx.child("minDomains"),
                        constraint.min_domains,
                        f"can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {action}",
                    )
                )
        for attr, wire in (
            ("node_affinity_policy", "nodeAffinityPolicy"),
            ("node_taints_policy", "nodeTaintsPolicy"),
        ):
            policy = getattr(constraint, attr)
            if policy is not None and policy not in _NODE_INCLUSION_POLICIES:
                errs.append(not_supported(idx.child(wire), policy, _NODE_INCLUSION_POLICIES))
        keys_path = idx.child("matchLabelKeys")
        selector = constraint.label_selector
        if constraint.match_label_keys:
            selector_keys: set[str] = set()
            if selector is None:
                errs.append(
                    forbidden(keys_path, "must not be specified when labelSelector is not set")
                )
            else:
                selector_keys = set(selector.match_labels) | {
                    e.key for e in selector.match_expressions
                }
            for j, key in enumerate(constraint.match_label_keys):
                errs.extend(_qualified_name(key, keys_path.index(j)))
                if key in selector_keys:
                    errs.append(
                        invalid(
                            keys_path.index(j),
                            key,
                            "exists in both matchLabelKeys and labelSelector",
                        )
                    )
        errs.extend(validate_label_selector(selector, idx.child("labelSelector")))
    return errs


def _dns_config(spec: PodSpec, path: FieldPath) -> list[FieldError]:
    config = spec.dns_config
    if spec.dns_policy == "None":
        if config is None:
            return [required(path, "must provide `dnsConfig` when `dnsPolicy` is None")]
        if not config.nameservers:
            return [
                required(
                    path.child("nameservers"),
                    "must provide at least one DNS nameserver when `dnsPolicy` is None",
                )
            ]
    if config is None:
        return []
    errs: list[FieldError] = []
    if len(config.nameservers) > 3:
        errs.append(
            invalid(
                path.child("nameservers"),
                config.nameservers,
                "must not have more than 3 nameservers",
            )
        )
    for i, server in enumerate(config.nameservers):
        errs.extend(_msgs(path.child("nameservers").index(i), server, is_valid_ip(server)))
    if len(config.searches) > 32:
        errs.append(
            invalid(
                path.child("searches"), config.searches, "must not have more than 32 search paths"
            )
        )
    if len(" ".join(config.searches)) > 2048:
        errs.append(
            invalid(
                path.child("searches"),
                config.searches,
                "must not have more than 2048 characters (including spaces) in the search list",
            )
        )
    for i, search in enumerate(config.searches):
        errs.extend(_dns_subdomain(search.removesuffix("."), path.child("searches").index(i)))
    for i, option in enumerate(config.options):
        if not option.name:
            errs.append(required(path.child("options").index(i), "must not be empty"))
    return errs


def _pod_security_context(spec: PodSpec, path: FieldPath) -> list[FieldError]:
    context = spec.security_context
    if context is None:
        return []
    errs = _valid_id(context.fs_group, path.child("fsGroup"))
    errs.extend(_valid_id(context.run_as_user, path.child("runAsUser")))
    errs.extend(_valid_id(context.run_as_group, path.child("runAsGroup")))
    for i, gid in enumerate(context.supplemental_groups):
        errs.extend(_valid_id(gid, path.child("supplementalGroups").index(i)))
    if spec.share_process_namespace and spec.host_pid:
        errs.append(
            invalid(
                path.child("shareProcessNamespace"),
                True,
                "ShareProcessNamespace and HostPID cannot both be enabled",
            )
        )
    if (
        context.fs_group_change_policy is not None
        and context.fs_group_change_policy not in _FS_GROUP_CHANGE_POLICIES
    ):
        errs.append(
            not_supported(
                path.child("fsGroupChangePolicy"),
                context.fs_group_change_policy,
                _FS_GROUP_CHANGE_POLICIES,
            )
        )
    errs.extend(_seccomp_profile(context.seccomp_profile, path.child("seccompProfile")))
    for i, sysctl in enumerate(context.sysctls):
        if not sysctl.name:
            errs.append(required(path.child("sysctls").index(i).child("name")))
    return errs


def _host_network_ports(spec: PodSpec, path: FieldPath, *, is_pod: bool) -> list[FieldError]:
    if not spec.host_network:
        return []
    errs: list[FieldError] = []
    for i, container in enumerate(spec.containers):
        for j, port in enumerate(container.ports):
            host_port = port.host_port or 0
            if (is_pod or host_port != 0) and host_port != port.container_port:
                errs.append(
                    invalid(
                        path.child("containers").index(i).child("ports").index(j).child("hostPort"),
                        host_port,
                        "must match `containerPort` when `hostNetwork` is true",
                    )
                )
    return errs


def _resource_claims(spec: PodSpec, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, claim in enumerate(spec.resource_claims):
        idx = path.index(i)
        if not claim.name:
            errs.append(required(idx.child("name")))
        elif claim.name in names:
            errs.append(duplicate(idx.child("name"), claim.name))
        else:
            errs.extend(_dns_label(claim.name, idx.child("name")))
            names.add(claim.name)
        source = claim.source
        chosen = [
            value
            for value in (
                source.resource_claim_name if source else None,
                source.resource_claim_template_name if source else None,
            )
            if value is not None
        ]
        if len(chosen) > 1:
            errs.append(
                invalid(
                    idx.child("source"),
                    claim,
                    "at most one of `resourceClaimName` or `resourceClaimTemplateName` may be specified",
                )
            )
        elif not chosen:
            errs.append(
                invalid(
                    idx.child("source"),
                    claim,
                    "must specify one of: `resourceClaimName`, `resourceClaimTemplateName`",
                )
            )
    return errs


def validate_pod_spec(
    spec: PodSpec | None,
    path: FieldPath,
    *,
    is_template: bool = False,
) -> list[FieldError]:
    """Errors in a (defaulted) pod spec, at paths below ``path`` (``ValidatePodSpec``).

    ``is_template`` relaxes the rules Kubernetes applies to pods only: surrounding
    whitespace in images, and host ports left unset under ``hostNetwork``. Rules that
    depend on the owner (a Deployment's template must restart Always) are the owner's.
    """
    spec = spec if spec is not None else PodSpec()
    errs: list[FieldError] = []
    if spec.termination_grace_period_seconds is None:
        errs.append(required(path.child("terminationGracePeriodSeconds")))
    host_users = spec.host_users is None or spec.host_users
    volumes, volume_errs = _validate_volumes(spec.volumes, path.child("volumes"))
    errs.extend(volume_errs)
    claim_names = frozenset(c.name for c in spec.resource_claims if c.name)
    errs.extend(_resource_claims(spec, path.child("resourceClaims")))
    errs.extend(
        _validate_containers(spec, volumes, claim_names, path.child("containers"), host_users)
    )
    errs.extend(
        _validate_init_containers(
            spec, volumes, claim_names, path.child("initContainers"), host_users
        )
    )
    errs.extend(
        _validate_ephemeral_containers(
            spec, volumes, claim_names, path.child("ephemeralContainers"), host_users
        )
    )
    errs.extend(_host_network_ports(spec, path, is_pod=not is_template))
    errs.extend(_enum(path.child("restartPolicy"), spec.restart_policy, _RESTART_POLICIES))
    errs.extend(_enum(path.child("dnsPolicy"), spec.dns_policy, _DNS_POLICIES))
    errs.extend(validate_labels(spec.node_selector, path.child("nodeSelector")))
    errs.extend(_pod_security_context(spec, path.child("securityContext")))
    errs.extend(_affinity(spec.affinity, path.child("affinity")))
    errs.extend(_dns_config(spec, path.child("dnsConfig")))
    for i, gate in enumerate(spec.readiness_gates):
        errs.extend(
            _qualified_name(
                gate.condition_type, path.child("readinessGates").index(i).child("conditionType")
            )
        )
    gates_seen: set[str] = set()
    for i, scheduling_gate in enumerate(spec.scheduling_gates):
        gate_path = path.child("schedulingGates").index(i)
        errs.extend(_qualified_name(scheduling_gate.name, gate_path))
        if scheduling_gate.name in gates_seen:
            errs.append(duplicate(gate_path, scheduling_gate.name))
        gates_seen.add(scheduling_gate.name)
    errs.extend(_topology_spread(spec, path.child("topologySpreadConstraints")))
    if spec.host_users is False:
        for attr, wire in (
            ("host_network", "hostNetwork"),
            ("host_pid", "HostPID"),
            ("host_ipc", "HostIPC"),
        ):
            if getattr(spec, attr):
                errs.append(forbidden(path.child(wire), "when `pod.Spec.HostUsers` is false"))
    if spec.service_account_name:
        errs.extend(_dns_subdomain(spec.service_account_name, path.child("serviceAccountName")))
    if spec.node_name:
        errs.extend(_dns_subdomain(spec.node_name, path.child("nodeName")))
    if spec.active_deadline_seconds is not None:
        value = spec.active_deadline_seconds
        if not 1 <= value <= MAX_INT32:
            errs.append(
                invalid(
                    path.child("activeDeadlineSeconds"), value, inclusive_range_error(1, MAX_INT32)
                )
            )
    if spec.hostname:
        errs.extend(_dns_label(spec.hostname, path.child("hostname")))
    if spec.subdomain:
        errs.extend(_dns_label(spec.subdomain, path.child("subdomain")))
    errs.extend(validate_tolerations(spec.tolerations, path.child("tolerations")))
    for i, alias in enumerate(spec.host_aliases):
        alias_path = path.child("hostAliases").index(i)
        errs.extend(_msgs(alias_path.child("ip"), alias.ip, is_valid_ip(alias.ip)))
        for j, hostname in enumerate(alias.hostnames):
            errs.extend(_dns_subdomain(hostname, alias_path.child("hostnames").index(j)))
    if spec.priority_class_name:
        errs.extend(_dns_subdomain(spec.priority_class_name, path.child("priorityClassName")))
    if spec.runtime_class_name is not None:
        errs.extend(_dns_subdomain(spec.runtime_class_name, path.child("runtimeClassName")))
    if spec.preemption_policy is not None:
        errs.extend(
            _enum(path.child("preemptionPolicy"), spec.preemption_policy, _PREEMPTION_POLICIES)
        )
    if spec.overhead:
        errs.extend(
            validate_resource_requirements(
                ResourceRequirements(limits=spec.overhead), path.child("overhead")
            )
        )
    if spec.os is not None:
        if not spec.os.name:
            errs.append(required(path.child("os", "name"), "cannot be empty"))
        elif spec.os.name not in _OS_NAMES:
            errs.append(not_supported(path.child("os"), spec.os.name, _OS_NAMES))
    if not is_template:
        for attr, wire in (("containers", "containers"), ("init_containers", "initContainers")):
            for i, container in enumerate(getattr(spec, attr)):
                image = container.image or ""
                if image != image.strip():
                    errs.append(
                        invalid(
                            path.child(wire).index(i).child("image"),
                            image,
                            "must not have leading or trailing whitespace",
                        )
                    )
    return errs


def validate_pod_template_spec(
    template: PodTemplateSpec | None, path: FieldPath
) -> list[FieldError]:
    """A workload's pod template (``ValidatePodTemplateSpec``): labels, annotations, spec.

    As in Kubernetes, template labels are reported at ``<path>.labels`` (not below
    ``metadata``), and ephemeral containers are refused.
    """
    if template is None:
        return [required(path)]
    errs = validate_labels(template.metadata.labels, path.child("labels"))
    errs.extend(validate_annotations(template.metadata.annotations, path.child("annotations")))
    errs.extend(validate_pod_spec(template.spec, path.child("spec"), is_template=True))
    if template.spec is not None and template.spec.ephemeral_containers:
        errs.append(
            forbidden(
                path.child("spec", "ephemeralContainers"),
                "ephemeral containers not allowed in pod template",
            )
        )
    return errs


# --- updates -----------------------------------------------------------------------------

_UPDATABLE_FIELDS = ",".join(
    (
        "`spec.containers[*].image`",
        "`spec.initContainers[*].image`",
        "`spec.activeDeadlineSeconds`",
        "`spec.tolerations` (only additions to existing tolerations)",
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
    )
)


def _container_image_updates(
    new: Sequence[Container], old: Sequence[Container], path: FieldPath
) -> tuple[list[FieldError], bool]:
    if len(new) != len(old):
        return [forbidden(path, "pod updates may not add or remove containers")], True
    errs: list[FieldError] = []
    for i, container in enumerate(new):
        image = container.image or ""
        if not image:
            errs.append(required(path.index(i).child("image")))
        if image.strip() != image:
            errs.append(
                invalid(
                    path.index(i).child("image"),
                    image,
                    "must not have leading or trailing whitespace",
                )
            )
    return errs, False


def _toleration_key(toleration: Toleration) -> tuple[Any, ...]:
    return (toleration.key, toleration.operator, toleration.value, toleration.effect)


def _spec_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """A short rendering of what differs, in the spirit of the diff Kubernetes appends."""
    lines = ["  core.PodSpec{"]
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            if key in old:
                lines.append(f"- \t{key}: {_compact(old[key])},")
            if key in new:
                lines.append(f"+ \t{key}: {_compact(new[key])},")
    lines.append("  }")
    return "\n".join(lines) + "\n"


def _compact(value: Any) -> str:
    import orjson

    return orjson.dumps(value).decode()


def _wire(model: KubeModel) -> dict[str, Any]:
    return model.to_dict()


def validate_pod_spec_update(
    new: PodSpec | None, old: PodSpec | None, path: FieldPath
) -> list[FieldError]:
    """Errors in changing a pod's spec from ``old`` to ``new`` (``ValidatePodUpdate``).

    A pod's spec is immutable except for container and init container images,
    ``activeDeadlineSeconds`` (set, or lowered), added tolerations (existing ones may only
    change ``tolerationSeconds``), removed scheduling gates (and, while gated, added
    node selector entries), and ``terminationGracePeriodSeconds`` going from a negative
    value to 1.
    """
    new = new if new is not None else PodSpec()
    old = old if old is not None else PodSpec()
    errs, stop = _container_image_updates(new.containers, old.containers, path.child("containers"))
    if stop:
        return errs
    init_errs, stop = _container_image_updates(
        new.init_containers, old.init_containers, path.child("initContainers")
    )
    errs.extend(init_errs)
    if stop:
        return errs
    deadline_path = path.child("activeDeadlineSeconds")
    if new.active_deadline_seconds is not None:
        value = new.active_deadline_seconds
        if not 0 <= value <= MAX_INT32:
            errs.append(invalid(deadline_path, value, inclusive_range_error(0, MAX_INT32)))
            return errs
        if old.active_deadline_seconds is not None and old.active_deadline_seconds < value:
            errs.append(
                invalid(deadline_path, value, "must be less than or equal to previous value")
            )
            return errs
    elif old.active_deadline_seconds is not None:
        errs.append(
            invalid(deadline_path, None, "must not update from a positive integer to nil value")
        )
    for toleration in old.tolerations:
        kept = _toleration_key(toleration)
        if not any(_toleration_key(candidate) == kept for candidate in new.tolerations):
            errs.append(
                forbidden(
                    path.child("tolerations"),
                    "existing toleration can not be modified except its tolerationSeconds",
                )
            )
            break
    else:
        errs.extend(validate_tolerations(new.tolerations, path.child("tolerations")))
    old_gates = {gate.name for gate in old.scheduling_gates}
    if new.scheduling_gates:
        for i, gate in enumerate(new.scheduling_gates):
            if gate.name not in old_gates:
                errs.append(
                    forbidden(
                        path.child("schedulingGates").index(i).child("name"),
                        f"only deletion is allowed, but found new scheduling gate '{gate.name}'",
                    )
                )
    new_wire, old_wire = _wire(new), _wire(old)
    if new_wire == old_wire:
        return errs
    munged = new.model_copy(deep=True)
    for container, before in zip(munged.containers, old.containers, strict=True):
        container.image = before.image
    for container, before in zip(munged.init_containers, old.init_containers, strict=True):
        container.image = before.image
    munged.active_deadline_seconds = old.active_deadline_seconds
    munged.scheduling_gates = old.scheduling_gates
    munged.tolerations = old.tolerations
    old_grace = old.termination_grace_period_seconds
    if old_grace is not None and old_grace < 0 and munged.termination_grace_period_seconds == 1:
        munged.termination_grace_period_seconds = old_grace
    if old.scheduling_gates and munged.node_selector != old.node_selector:
        for key, label_value in old.node_selector.items():
            if munged.node_selector.get(key) != label_value:
                errs.append(
                    invalid(
                        path.child("nodeSelector"),
                        munged.node_selector,
                        "only additions to spec.nodeSelector are allowed (no mutations or deletions)",
                    )
                )
                break
        munged.node_selector = old.node_selector
    munged_wire = _wire(munged)
    if munged_wire != old_wire:
        detail = f"pod updates may not change fields other than {_UPDATABLE_FIELDS}\n" + _spec_diff(
            old_wire, munged_wire
        )
        errs.append(forbidden(path, detail))
    return errs
