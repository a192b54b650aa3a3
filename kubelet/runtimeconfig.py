"""What the runtime is asked to create for a pod: its sandbox and its containers.

Pure functions of the pod and the kubelet's configuration (Kubernetes'
``generatePodSandboxConfig`` and ``generateContainerConfig``): the labels every
container carries, the sandbox's ports, DNS and hostname, and each container's image,
command, environment, mounts (the pod's kubelet-managed /etc/hosts and
/etc/resolv.conf among them), resources and security context.
"""

from __future__ import annotations

import uuid

from apitypes.core import Container, Pod, PodSpec
from apitypes.quantity import parse_quantity
from kubelet import labels as lb
from kubelet.config import KubeletConfig
from kubelet.dnsconfig import HOSTS_FILE, RESOLV_FILE, pod_hostname
from kubelet.envvars import PodContext, container_env, expand
from kubelet.runtime import ContainerConfig, Mount, PortMapping, SandboxConfig
from kubelet.volumes import VolumeManager


def pod_labels(pod: Pod, node_name: str, kind: str, name: str) -> dict[str, str]:
    """The labels of every container of ``pod`` (its sandbox's too) on this node."""
    meta = pod.metadata
    return {
        lb.MANAGED: "true",
        lb.NODE: node_name,
        lb.POD_UID: meta.uid or "",
        lb.POD_NAME: meta.name or "",
        lb.POD_NAMESPACE: meta.namespace or "default",
        lb.CONTAINER_NAME: name,
        lb.CONTAINER_KIND: kind,
        lb.GRACE_PERIOD: str(grace_period(pod)),
    }


def grace_period(pod: Pod) -> int:
    """The pod's termination grace period in seconds (30 when unset)."""
    spec = pod.spec
    grace = spec.termination_grace_period_seconds if spec else None
    return 30 if grace is None else max(grace, 0)


def sandbox_config(pod: Pod, attempt: int, config: KubeletConfig) -> SandboxConfig:
    """The pause container that holds the pod's namespaces: ports, hostname. (The
    pod's resolv.conf and hosts file are the kubelet's: ``dnsconfig``.)"""
    spec = pod.spec or PodSpec()
    meta = pod.metadata
    labels = pod_labels(pod, config.node_name, lb.KIND_SANDBOX, lb.SANDBOX_CONTAINER_NAME)
    labels[lb.SANDBOX_ATTEMPT] = str(attempt)
    ports = []
    if not spec.host_network:
        for container in spec.containers:
            for port in container.ports:
                if port.host_port:
                    ports.append(
                        PortMapping(
                            port.container_port,
                            port.host_port,
                            port.protocol or "TCP",
                            port.host_ip or "",
                        )
                    )
    hostname = pod_hostname(pod)
    sysctls = {}
    if spec.security_context is not None:
        sysctls = {s.name: s.value for s in spec.security_context.sysctls}
    return SandboxConfig(
        pod_uid=meta.uid or "",
        pod_name=meta.name or "",
        namespace=meta.namespace or "default",
        attempt=attempt,
        hostname=hostname,
        labels=labels,
        port_mappings=ports,
        host_network=bool(spec.host_network),
        share_pid=bool(spec.share_process_namespace),
        sysctls=sysctls,
    )


def container_config(
    pod: Pod,
    container: Container,
    kind: str,
    restart_count: int,
    ctx: PodContext,
    paths: dict[str, str],
    *,
    config: KubeletConfig,
    volumes: VolumeManager | None,
) -> ContainerConfig:
    """One container of the pod: image, command, environment, mounts (none without
    ``volumes``: the fake runtime), resources, security context. Raises
    ``ConfigError`` or ``VolumeError`` when the environment or a mount cannot be made."""
    spec = pod.spec or PodSpec()
    meta = pod.metadata
    uid = meta.uid or ""
    env = container_env(pod, container, ctx)
    labels = pod_labels(pod, config.node_name, kind, container.name)
    labels[lb.CONTAINER_HASH] = lb.container_hash(container)
    labels[lb.RESTART_COUNT] = str(restart_count)
    mounts: list[Mount] = []
    if volumes is not None:
        mounts = volumes.mounts(pod, container, paths, env)
        instance = f"{restart_count}-{uuid.uuid4().hex[:8]}"
        message_file = volumes.termination_message_file(uid, container.name, instance)
        path = container.termination_message_path or "/dev/termination-log"
        mounts.append(Mount(message_file, path))
        labels[lb.TERMINATION_MESSAGE] = message_file
        # The pod's own /etc/hosts and /etc/resolv.conf (dnsconfig.write_pod_files),
        # unless the container mounts something there itself, as Kubernetes does.
        taken = {m.container_path for m in mounts}
        pod_dir = volumes.pod_dir(uid)
        for name, target in ((HOSTS_FILE, "/etc/hosts"), (RESOLV_FILE, "/etc/resolv.conf")):
            if target not in taken:
                mounts.append(Mount(str(pod_dir / name), target))
    resources = container.resources
    limits = resources.limits if resources else {}
    requests = resources.requests if resources else {}
    memory = parse_quantity(limits["memory"]).value() if "memory" in limits else None
    cpu_limit = parse_quantity(limits["cpu"]).milli_value() if "cpu" in limits else None
    cpu_request = parse_quantity(requests["cpu"]).milli_value() if "cpu" in requests else None
    sc = container.security_context
    psc = spec.security_context
    run_as_user = (
        sc.run_as_user if sc and sc.run_as_user is not None else (psc.run_as_user if psc else None)
    )
    run_as_group = (
        sc.run_as_group
        if sc and sc.run_as_group is not None
        else (psc.run_as_group if psc else None)
    )
    user = None
    if run_as_user is not None:
        user = f"{run_as_user}:{run_as_group}" if run_as_group is not None else str(run_as_user)
    elif run_as_group is not None:
        user = f"0:{run_as_group}"
    caps = sc.capabilities if sc else None
    return ContainerConfig(
        name=lb.docker_name(
            kind,
            container.name,
            meta.name or "",
            meta.namespace or "default",
            uid,
            restart_count,
        ),
        image=container.image or "",
        labels=labels,
        entrypoint=[expand(x, env) for x in container.command] or None,
        command=[expand(x, env) for x in container.args] or None,
        env=env,
        working_dir=container.working_dir or None,
        mounts=mounts,
        tty=bool(container.tty),
        stdin=bool(container.stdin),
        memory_limit=memory,
        cpu_limit_millis=cpu_limit,
        cpu_request_millis=cpu_request,
        user=user,
        group_add=[str(g) for g in (psc.supplemental_groups if psc else [])],
        privileged=bool(sc and sc.privileged),
        cap_add=list(caps.add) if caps else [],
        cap_drop=list(caps.drop) if caps else [],
        read_only_rootfs=bool(sc and sc.read_only_root_filesystem),
        share_pid=bool(spec.share_process_namespace),
        host_network=bool(spec.host_network),
    )


def needs_pod_ip(container: Container) -> bool:
    """Whether the container's environment refers to the pod's IP (known once the
    sandbox runs)."""
    return any(
        var.value_from is not None
        and var.value_from.field_ref is not None
        and var.value_from.field_ref.field_path in ("status.podIP", "status.podIPs")
        for var in container.env
    )
