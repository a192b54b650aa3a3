"""A container's environment, and the downward API values it may refer to.

Pure functions over a ``PodContext`` that already holds every ConfigMap and Secret the
pod refers to (``referenced_objects`` names them), so they are testable without an
apiserver. The rules are Kubernetes': ``envFrom`` first, then ``env`` (later wins);
``$(VAR)`` in values, commands and args expands to earlier variables, ``$$`` escapes;
a missing object or key is an error unless the reference is optional.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from apitypes.core import ConfigMap, Container, Pod, ResourceFieldSelector, Secret, Service
from apitypes.quantity import QuantityError, parse_quantity


class ConfigError(Exception):
    """The container cannot be configured (``CreateContainerConfigError``)."""


_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


@dataclass
class PodContext:
    node_name: str
    pod_ip: str = ""
    host_ip: str = ""
    config_maps: Mapping[str, ConfigMap | None] = field(default_factory=dict)
    """Name -> object (None: looked up and absent)."""
    secrets: Mapping[str, Secret | None] = field(default_factory=dict)
    node_allocatable: Mapping[str, str] = field(default_factory=dict)
    """Used for ``limits.*`` a container does not set, as Kubernetes does."""
    tokens: Mapping[tuple[str, int | None], str] = field(default_factory=dict)
    """Service-account tokens of the pod's projected volumes, by (audience, lifetime)."""
    services: Sequence[Service] = ()
    """Every Service the kubelet knows (all namespaces): see ``service_env``."""


MASTER_NAMESPACE = "default"
MASTER_SERVICES = frozenset({"kubernetes"})


def service_env(pod: Pod, services: Sequence[Service]) -> dict[str, str]:
    """The variables Kubernetes gives every container for the Services it may use:
    the ``kubernetes`` Service of ``default`` always, and, unless the pod sets
    ``enableServiceLinks: false``, each Service of the pod's namespace (which wins
    over a ``default`` one of the same name). Services without a cluster IP (headless,
    ExternalName) give none. Per Service ``NAME``: ``NAME_SERVICE_HOST``,
    ``NAME_SERVICE_PORT`` (the first port), ``NAME_SERVICE_PORT_<PORT NAME>`` per named
    port, and the Docker-links forms ``NAME_PORT``, ``NAME_PORT_<n>_<PROTO>[_PROTO,
    _PORT, _ADDR]``. Names are upper-cased with ``-`` as ``_``."""
    namespace = pod.metadata.namespace or "default"
    links = pod.spec is None or pod.spec.enable_service_links is not False
    chosen: dict[str, Service] = {}
    for service in services:
        spec = service.spec
        ip = spec.cluster_ip if spec else None
        if not ip or ip == "None":
            continue
        name = service.metadata.name or ""
        svc_ns = service.metadata.namespace or "default"
        if svc_ns == MASTER_NAMESPACE and name in MASTER_SERVICES:
            chosen.setdefault(name, service)
        elif svc_ns == namespace and links:
            chosen[name] = service
    env: dict[str, str] = {}
    for name in sorted(chosen):
        env.update(_one_service_env(chosen[name]))
    return env


def _env_name(text: str) -> str:
    return text.upper().replace("-", "_")


def _one_service_env(service: Service) -> dict[str, str]:
    spec = service.spec
    assert spec is not None and spec.cluster_ip
    ip = spec.cluster_ip
    prefix = _env_name(service.metadata.name or "")
    env = {f"{prefix}_SERVICE_HOST": ip}
    for i, port in enumerate(spec.ports):
        if i == 0:
            env[f"{prefix}_SERVICE_PORT"] = str(port.port)
        if port.name:
            env[f"{prefix}_SERVICE_PORT_{_env_name(port.name)}"] = str(port.port)
    for i, port in enumerate(spec.ports):
        proto = (port.protocol or "TCP").lower()
        url = f"{proto}://{ip}:{port.port}"
        if i == 0:
            env[f"{prefix}_PORT"] = url
        base = f"{prefix}_PORT_{port.port}_{proto.upper()}"
        env[base] = url
        env[f"{base}_PROTO"] = proto
        env[f"{base}_PORT"] = str(port.port)
        env[f"{base}_ADDR"] = ip
    return env


def referenced_objects(pod: Pod) -> tuple[set[str], set[str]]:
    """Names of the ConfigMaps and Secrets ``pod`` refers to (env, envFrom, volumes)."""
    config_maps: set[str] = set()
    secrets: set[str] = set()
    spec = pod.spec
    if spec is None:
        return config_maps, secrets
    for container in (*spec.init_containers, *spec.containers):
        for source in container.env_from:
            if source.config_map_ref and source.config_map_ref.name:
                config_maps.add(source.config_map_ref.name)
            if source.secret_ref and source.secret_ref.name:
                secrets.add(source.secret_ref.name)
        for var in container.env:
            ref = var.value_from
            if ref is None:
                continue
            if ref.config_map_key_ref and ref.config_map_key_ref.name:
                config_maps.add(ref.config_map_key_ref.name)
            if ref.secret_key_ref and ref.secret_key_ref.name:
                secrets.add(ref.secret_key_ref.name)
    for volume in spec.volumes:
        if volume.config_map and volume.config_map.name:
            config_maps.add(volume.config_map.name)
        if volume.secret and volume.secret.secret_name:
            secrets.add(volume.secret.secret_name)
        if volume.projected:
            for projection in volume.projected.sources:
                if projection.config_map and projection.config_map.name:
                    config_maps.add(projection.config_map.name)
                if projection.secret and projection.secret.name:
                    secrets.add(projection.secret.name)
    return config_maps, secrets


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion: known names are replaced, unknown references
    are kept as written, ``$$`` is a literal ``$``."""
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch != "$" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(":
            end = text.find(")", i + 2)
            if end == -1:
                out.append(text[i:])
                break
            name = text[i + 2 : end]
            out.append(env[name] if name in env else text[i : end + 1])
            i = end + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _decode(secret: Secret, key: str) -> str | None:
    try:
        values = secret.decoded()
    except ValueError as err:
        raise ConfigError(f"secret {secret.metadata.name!r} holds invalid base64: {err}") from err
    raw = values.get(key)
    return None if raw is None else raw.decode(errors="replace")


def _config_map(ctx: PodContext, name: str, optional: bool) -> ConfigMap | None:
    obj = ctx.config_maps.get(name)
    if obj is None and not optional:
        raise ConfigError(f'configmap "{name}" not found')
    return obj


def _secret(ctx: PodContext, name: str, optional: bool) -> Secret | None:
    obj = ctx.secrets.get(name)
    if obj is None and not optional:
        raise ConfigError(f'secret "{name}" not found')
    return obj


def container_env(pod: Pod, container: Container, ctx: PodContext) -> dict[str, str]:
    """The environment of ``container``; raises ``ConfigError`` for a missing reference.
    The Services' variables (``service_env``) come last and never replace a variable
    the container defines, but ``$(VAR)`` in the container's values may refer to them."""
    services = service_env(pod, ctx.services)
    env: dict[str, str] = {}
    namespace = pod.metadata.namespace or "default"
    for source in container.env_from:
        prefix = source.prefix or ""
        values: dict[str, str] = {}
        if source.config_map_ref is not None:
            ref = source.config_map_ref
            cm = _config_map(ctx, ref.name or "", bool(ref.optional))
            if cm is not None:
                values = dict(cm.data)
        elif source.secret_ref is not None:
            sref = source.secret_ref
            secret = _secret(ctx, sref.name or "", bool(sref.optional))
            if secret is not None:
                values = {k: _decode(secret, k) or "" for k in secret.decoded()}
        for key, text in values.items():
            # Kubernetes skips keys that are not valid variable names (with an event).
            if _ENV_NAME.match(prefix + key):
                env[prefix + key] = text
    for var in container.env:
        if var.value_from is None:
            env[var.name] = expand(var.value or "", {**services, **env})
            continue
        source_ref = var.value_from
        value: str | None = None
        if source_ref.field_ref is not None:
            value = field_value(pod, source_ref.field_ref.field_path, ctx)
        elif source_ref.resource_field_ref is not None:
            value = resource_value(pod, container, source_ref.resource_field_ref, ctx)
        elif source_ref.config_map_key_ref is not None:
            kref = source_ref.config_map_key_ref
            cm = _config_map(ctx, kref.name or "", bool(kref.optional))
            if cm is not None:
                value = cm.data.get(kref.key)
                if value is None and not kref.optional:
                    raise ConfigError(
                        f"couldn't find key {kref.key} in ConfigMap {namespace}/{kref.name}"
                    )
        elif source_ref.secret_key_ref is not None:
            skref = source_ref.secret_key_ref
            secret = _secret(ctx, skref.name or "", bool(skref.optional))
            if secret is not None:
                value = _decode(secret, skref.key)
                if value is None and not skref.optional:
                    raise ConfigError(
                        f"couldn't find key {skref.key} in Secret {namespace}/{skref.name}"
                    )
        if value is not None:
            env[var.name] = value
    for name, value in services.items():
        env.setdefault(name, value)
    return env


_SUBSCRIPT = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


def _format_map(values: Mapping[str, str]) -> str:
    # Downward API files render maps as sorted ``key="value"`` lines.
    return "\n".join(f'{k}="{_escape(v)}"' for k, v in sorted(values.items()))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def field_value(pod: Pod, path: str, ctx: PodContext) -> str:
    """The value of a downward API ``fieldRef``; ``ConfigError`` for an unsupported path."""
    meta = pod.metadata
    spec = pod.spec
    simple = {
        "metadata.name": meta.name or "",
        "metadata.namespace": meta.namespace or "default",
        "metadata.uid": meta.uid or "",
        "spec.nodeName": (spec.node_name if spec else None) or ctx.node_name,
        "spec.serviceAccountName": (spec.service_account_name if spec else None) or "",
        "status.hostIP": ctx.host_ip,
        "status.hostIPs": ctx.host_ip,
        "status.podIP": ctx.pod_ip,
        "status.podIPs": ctx.pod_ip,
    }
    if path in simple:
        return simple[path]
    if path == "metadata.labels":
        return _format_map(meta.labels)
    if path == "metadata.annotations":
        return _format_map(meta.annotations)
    match = _SUBSCRIPT.match(path)
    if match:
        source = meta.labels if match.group(1) == "labels" else meta.annotations
        return source.get(match.group(2), "")
    raise ConfigError(f"unsupported fieldRef fieldPath {path!r}")


def resource_value(
    pod: Pod, container: Container | None, ref: ResourceFieldSelector, ctx: PodContext
) -> str:
    """The value of a ``resourceFieldRef``, rounded up to whole ``divisor`` units."""
    target = container
    if ref.container_name and pod.spec is not None:
        target = pod.container(ref.container_name)
    if target is None:
        raise ConfigError(f"resourceFieldRef: unknown container {ref.container_name!r}")
    kind, _, resource = ref.resource.partition(".")
    if kind not in ("limits", "requests") or not resource:
        raise ConfigError(f"unsupported resourceFieldRef resource {ref.resource!r}")
    resources = target.resources
    values = (resources.limits if kind == "limits" else resources.requests) if resources else {}
    raw = values.get(resource)
    if raw is None and kind == "limits":
        raw = ctx.node_allocatable.get(resource)
    if raw is None:
        raw = "0"
    try:
        quantity = parse_quantity(raw)
        divisor = parse_quantity(ref.divisor or "1")
    except QuantityError as err:
        raise ConfigError(f"resourceFieldRef {ref.resource}: {err}") from err
    if resource == "cpu":
        millis = quantity.milli_value()
        per = max(divisor.milli_value(), 1)
        return str(math.ceil(millis / per))
    per_unit = max(divisor.value(), 1)
    return str(math.ceil(quantity.value() / per_unit))
