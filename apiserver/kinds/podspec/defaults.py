"""Defaults: what every ``PodSpec`` gets (templates included), and what only real pods get.

``default_pod_spec(spec)`` applies what every ``PodSpec`` gets (``dnsPolicy``,
``restartPolicy``, container ``imagePullPolicy``, probe timings, volume modes, ...);
``default_pod_spec(spec, pod=True)`` adds what only a Pod gets (requests copied from
limits, ``enableServiceLinks``, host ports under ``hostNetwork``, the ``default``
service account that Kubernetes' admission fills in).
"""

from __future__ import annotations

import re

from apitypes.core import (
    Container,
    EmptyDirVolumeSource,
    HTTPGetAction,
    LifecycleHandler,
    ObjectFieldSelector,
    PodSecurityContext,
    PodSpec,
    PodTemplateSpec,
    Probe,
    ProbeHandler,
    ResourceFieldSelector,
    ResourceRequirements,
    Volume,
)
from apitypes.quantity import Quantity, QuantityError

DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30
DEFAULT_SCHEDULER_NAME = "default-scheduler"
DEFAULT_SERVICE_ACCOUNT = "default"
TERMINATION_MESSAGE_PATH = "/dev/termination-log"
# 0644: what Kubernetes writes as the mode of projected files when none is given.
DEFAULT_FILE_MODE = 0o644
DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600


# Docker image references: what ``parsers.ParseImageName`` accepts, loosely.
_IMAGE_NAME_RE = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
)
_IMAGE_TAG_RE = re.compile(r"[\w][\w.-]{0,127}")


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
