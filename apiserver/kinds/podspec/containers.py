"""Containers, init containers and ephemeral containers: names, images, ports, env,
mounts, devices, resources, resize policy, security context and probes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from apiserver.kinds.common import PORT_PROTOCOLS
from apiserver.kinds.podspec.checks import (
    dns_label,
    enum,
    local_descending_path,
    msgs,
    no_backsteps,
)
from apiserver.kinds.podspec.downwardapi import (
    ENV_FIELD_PATHS,
    object_field_selector,
    resource_field_selector,
)
from apiserver.kinds.podspec.probes import validate_container_probes
from apiserver.kinds.podspec.resources import validate_resource_requirements
from apiserver.kinds.podspec.security import validate_security_context
from apitypes.core import (
    Container,
    ContainerPort,
    EnvFromSource,
    EnvVar,
    EphemeralContainer,
    PodSpec,
    ResourceRequirements,
    Volume,
    VolumeMount,
)
from apitypes.validation import (
    FieldError,
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    is_config_map_key,
    is_dns1123_subdomain,
    is_env_var_name,
    is_valid_port_name,
    is_valid_port_num,
    mask_trailing_dash,
    not_found,
    not_supported,
    required,
)

_INIT_PROBE_FORBIDDEN = "may not be set for init containers without restartPolicy=Always"


_PULL_POLICIES = ("Always", "IfNotPresent", "Never")


_TERMINATION_MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")


_MOUNT_PROPAGATIONS = ("Bidirectional", "HostToContainer", "None")


_RESIZE_RESOURCES = ("cpu", "memory")


_RESIZE_POLICIES = ("NotRequired", "RestartContainer")


def _validate_ports(ports: Sequence[ContainerPort], path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, port in enumerate(ports):
        idx = path.index(i)
        if port.name:
            messages = is_valid_port_name(port.name)
            if messages:
                errs.extend(msgs(idx.child("name"), port.name, messages))
            elif port.name in names:
                errs.append(duplicate(idx.child("name"), port.name))
            else:
                names.add(port.name)
        if port.container_port == 0:
            errs.append(required(idx.child("containerPort")))
        else:
            errs.extend(
                msgs(
                    idx.child("containerPort"),
                    port.container_port,
                    is_valid_port_num(port.container_port),
                )
            )
        if port.host_port:
            errs.extend(
                msgs(idx.child("hostPort"), port.host_port, is_valid_port_num(port.host_port))
            )
        if not port.protocol:
            errs.append(required(idx.child("protocol")))
        elif port.protocol not in PORT_PROTOCOLS:
            errs.append(not_supported(idx.child("protocol"), port.protocol, PORT_PROTOCOLS))
    return errs


def _validate_env(env: Sequence[EnvVar], path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, var in enumerate(env):
        idx = path.index(i)
        if not var.name:
            errs.append(required(idx.child("name")))
        else:
            errs.extend(msgs(idx.child("name"), var.name, is_env_var_name(var.name)))
        source = var.value_from
        if source is None:
            continue
        from_path = idx.child("valueFrom")
        count = 0
        if source.field_ref is not None:
            count += 1
            errs.extend(
                object_field_selector(
                    source.field_ref, ENV_FIELD_PATHS, from_path.child("fieldRef")
                )
            )
        if source.resource_field_ref is not None:
            count += 1
            errs.extend(
                resource_field_selector(
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
    errs = msgs(path.child("name"), name, is_dns1123_subdomain(name))
    if not selector.key:
        errs.append(required(path.child("key")))
    else:
        errs.extend(msgs(path.child("key"), selector.key, is_config_map_key(selector.key)))
    return errs


def _validate_env_from(sources: Sequence[EnvFromSource], path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, source in enumerate(sources):
        idx = path.index(i)
        if source.prefix:
            errs.extend(msgs(idx.child("prefix"), source.prefix, is_env_var_name(source.prefix)))
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
                    msgs(
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
            errs.extend(local_descending_path(mount.sub_path, path.child("subPath")))
        if mount.sub_path_expr:
            if mount.sub_path:
                errs.append(
                    invalid(
                        idx.child("subPathExpr"),
                        mount.sub_path_expr,
                        "subPathExpr and subPath are mutually exclusive",
                    )
                )
            errs.extend(local_descending_path(mount.sub_path_expr, path.child("subPathExpr")))
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
        if device.device_path and no_backsteps(device.device_path, idx):
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
        errs.extend(dns_label(container.name, name_path))
    if not container.image:
        errs.append(required(path.child("image")))
    errs.extend(
        enum(
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
    errs.extend(enum(path.child("imagePullPolicy"), container.image_pull_policy, _PULL_POLICIES))
    errs.extend(
        validate_resource_requirements(
            container.resources, path.child("resources"), claim_names=claim_names
        )
    )
    errs.extend(_resize_policy(container, spec.restart_policy, path.child("resizePolicy")))
    errs.extend(
        validate_security_context(
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


def validate_containers(
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
        errs.extend(validate_container_probes(container, grace, idx))
        if container.restart_policy is not None:
            errs.append(
                forbidden(idx.child("restartPolicy"), "may not be set for non-init containers")
            )
    errs.extend(_host_port_conflicts(spec.containers, path))
    return errs


def validate_init_containers(
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
            errs.extend(validate_container_probes(container, grace, idx))
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


def validate_ephemeral_containers(
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
