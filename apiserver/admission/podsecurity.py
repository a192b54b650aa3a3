"""PodSecurity: the Pod Security Standards, enforced per namespace (Kubernetes' Pod
Security Admission).

A namespace's labels choose a level per mode: ``pod-security.kubernetes.io/enforce``
(a violating pod is refused: 403), ``.../warn`` (it is admitted with a ``Warning``
header), ``.../audit`` (admitted, with an audit annotation), each ``privileged``,
``baseline`` or ``restricted``. A namespace without an ``enforce`` label gets
``--pod-security-default``; namespaces in ``--pod-security-exempt-namespaces`` are not
checked. Pods are checked on create and when their spec changes; the pod templates of
workloads (Deployments, ReplicaSets, DaemonSets, StatefulSets, Jobs, CronJobs,
ReplicationControllers) are checked for ``warn`` and ``audit``, as Kubernetes does.

The message names each violated check and the field, as Kubernetes words it::

    pods "p" is forbidden: violates PodSecurity "baseline:latest": privileged (container
    "c" must not set securityContext.privileged=true), host namespaces (hostNetwork=true)

and the Status carries one cause per field (``spec.containers[0].securityContext.privileged``).

baseline refuses: host namespaces, privileged containers, capabilities beyond the
default set, hostPath volumes, host ports, AppArmor ``Unconfined``, SELinux types or
users/roles beyond the container ones, ``procMount`` other than ``Default``, seccomp
``Unconfined``, sysctls outside the safe set. restricted also requires: only
configMap/csi/downwardAPI/emptyDir/ephemeral/persistentVolumeClaim/projected/secret
volumes, ``allowPrivilegeEscalation: false``, ``runAsNonRoot: true`` and no
``runAsUser: 0``, a ``RuntimeDefault`` or ``Localhost`` seccomp profile, and
capabilities dropping ``ALL`` and adding nothing but ``NET_BIND_SERVICE``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from apiserver import errors
from apiserver.admission import CREATE, UPDATE, Attributes, Plugin
from apitypes.core import Container, PodSpec

PRIVILEGED, BASELINE, RESTRICTED = "privileged", "baseline", "restricted"
LEVELS = (PRIVILEGED, BASELINE, RESTRICTED)
LABEL = "pod-security.kubernetes.io/"
MODES = ("enforce", "warn", "audit")

BASELINE_CAPABILITIES = frozenset(
    {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
     "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
)  # fmt: skip
SAFE_SYSCTLS = frozenset(
    {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
     "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
     "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
     "net.ipv4.tcp_keepalive_probes"}
)  # fmt: skip
SELINUX_TYPES = frozenset(
    {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
)
RESTRICTED_VOLUMES = frozenset(
    {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
     "projected", "secret"}
)  # fmt: skip
WORKLOADS = {
    ("apps", "deployments"): ("spec", "template"),
    ("apps", "replicasets"): ("spec", "template"),
    ("apps", "daemonsets"): ("spec", "template"),
    ("apps", "statefulsets"): ("spec", "template"),
    ("batch", "jobs"): ("spec", "template"),
    ("batch", "cronjobs"): ("spec", "jobTemplate", "spec", "template"),
    ("", "replicationcontrollers"): ("spec", "template"),
}


@dataclass
class Violation:
    check: str
    details: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)

    def text(self) -> str:
        return f"{self.check} ({', '.join(self.details)})" if self.details else self.check

    def added_capabilities(self, container: Container, path: str, names: list[str]) -> None:
        """Record that ``container`` adds the capabilities ``names`` (none: nothing)."""
        if names:
            self.details.append(
                f'container "{container.name}" must not include '
                + ", ".join(f'"{c}"' for c in names)
                + " in securityContext.capabilities.add"
            )
            self.fields.append(f"{path}.securityContext.capabilities.add")


def _containers(spec: PodSpec, base: str) -> Iterator[tuple[Container, str]]:
    for key, wire in (("init_containers", "initContainers"), ("containers", "containers")):
        for i, container in enumerate(getattr(spec, key)):
            yield container, f"{base}.{wire}[{i}]"


def _names(kind: str, names: list[str]) -> str:
    quoted = ", ".join(f'"{n}"' for n in names)
    return f"{kind}s {quoted}" if len(names) > 1 else f"{kind} {quoted}"


def _baseline(spec: PodSpec, base: str) -> list[Violation]:
    found: list[Violation] = []
    hosts = Violation("host namespaces")
    for attr, wire in (
        ("host_network", "hostNetwork"),
        ("host_pid", "hostPID"),
        ("host_ipc", "hostIPC"),
    ):
        if getattr(spec, attr):
            hosts.details.append(f"{wire}=true")
            hosts.fields.append(f"{base}.{wire}")
    privileged = Violation("privileged")
    capabilities = Violation("non-default capabilities")
    ports = Violation("hostPort")
    proc = Violation("procMount")
    for container, path in _containers(spec, base):
        sc = container.security_context
        if sc is not None and sc.privileged:
            privileged.details.append(
                f'container "{container.name}" must not set securityContext.privileged=true'
            )
            privileged.fields.append(f"{path}.securityContext.privileged")
        added = (
            sorted(set(sc.capabilities.add) - BASELINE_CAPABILITIES)
            if sc and sc.capabilities
            else []
        )
        capabilities.added_capabilities(container, path, added)
        used = [p.host_port for p in container.ports if p.host_port]
        if used:
            ports.details.append(
                f'container "{container.name}" uses hostPort{"s" if len(used) > 1 else ""} '
                + ", ".join(str(p) for p in used)
            )
            ports.fields.append(f"{path}.ports")
        if sc is not None and sc.proc_mount not in (None, "", "Default"):
            proc.details.append(
                f'container "{container.name}" must not set securityContext.procMount to "{sc.proc_mount}"'
            )
            proc.fields.append(f"{path}.securityContext.procMount")
    host_paths = [v.name for v in spec.volumes if v.host_path is not None]
    paths = Violation("hostPath volumes", [_names("volume", host_paths)] if host_paths else [])
    paths.fields = [
        f"{base}.volumes[{i}].hostPath" for i, v in enumerate(spec.volumes) if v.host_path
    ]
    found += [hosts, privileged, capabilities, paths, ports]
    found += [
        _profiles(spec, base, "appArmorProfile", "app_armor_profile", "AppArmor", ("Unconfined",))
    ]
    found += [_selinux(spec, base), proc]
    found += [
        _profiles(
            spec, base, "seccompProfile", "seccomp_profile", "seccompProfile", ("Unconfined",)
        )
    ]
    sysctls = Violation("forbidden sysctls")
    for i, sysctl in enumerate(spec.security_context.sysctls if spec.security_context else []):
        if sysctl.name not in SAFE_SYSCTLS:
            sysctls.details.append(sysctl.name)
            sysctls.fields.append(f"{base}.securityContext.sysctls[{i}].name")
    found.append(sysctls)
    return [v for v in found if v.details]


def _profiles(
    spec: PodSpec, base: str, wire: str, attr: str, check: str, refused: tuple[str, ...]
) -> Violation:
    found = Violation(check)
    pod_profile = getattr(spec.security_context, attr, None) if spec.security_context else None
    if pod_profile is not None and pod_profile.type in refused:
        found.details.append(
            f'pod must not set securityContext.{wire}.type to "{pod_profile.type}"'
        )
        found.fields.append(f"{base}.securityContext.{wire}.type")
    for container, path in _containers(spec, base):
        profile = (
            getattr(container.security_context, attr, None) if container.security_context else None
        )
        if profile is not None and profile.type in refused:
            found.details.append(
                f'container "{container.name}" must not set securityContext.{wire}.type to "{profile.type}"'
            )
            found.fields.append(f"{path}.securityContext.{wire}.type")
    return found


def _selinux(spec: PodSpec, base: str) -> Violation:
    found = Violation("seLinuxOptions")
    contexts: list[tuple[str, str, Any]] = [
        ("pod", f"{base}.securityContext", spec.security_context)
    ]
    contexts += [
        (f'container "{c.name}"', f"{p}.securityContext", c.security_context)
        for c, p in _containers(spec, base)
    ]
    for who, path, sc in contexts:
        options = sc.se_linux_options if sc is not None else None
        if options is None:
            continue
        if (options.type or "") not in SELINUX_TYPES:
            found.details.append(
                f'{who} set forbidden securityContext.seLinuxOptions: type "{options.type}"'
            )
            found.fields.append(f"{path}.seLinuxOptions.type")
        for key in ("user", "role"):
            if getattr(options, key):
                found.details.append(f"{who} set forbidden securityContext.seLinuxOptions: {key}")
                found.fields.append(f"{path}.seLinuxOptions.{key}")
    return found


def _restricted(spec: PodSpec, base: str) -> list[Violation]:
    found: list[Violation] = []
    volumes = Violation("restricted volume types")
    for i, volume in enumerate(spec.volumes):
        kind = volume.source_type()
        if kind is not None and kind not in RESTRICTED_VOLUMES:
            volumes.details.append(f'volume "{volume.name}" uses restricted volume type "{kind}"')
            volumes.fields.append(f"{base}.volumes[{i}].{kind}")
    escalation = Violation("allowPrivilegeEscalation != false")
    non_root = Violation("runAsNonRoot != true")
    root_user = Violation("runAsUser=0")
    seccomp = Violation("seccompProfile")
    caps = Violation("unrestricted capabilities")
    pod_sc = spec.security_context
    pod_non_root = pod_sc is not None and pod_sc.run_as_non_root is True
    pod_seccomp = (
        pod_sc is not None
        and pod_sc.seccomp_profile is not None
        and pod_sc.seccomp_profile.type in ("RuntimeDefault", "Localhost")
    )
    if pod_sc is not None and pod_sc.run_as_user == 0:
        root_user.details.append("pod must not set runAsUser=0")
        root_user.fields.append(f"{base}.securityContext.runAsUser")
    for container, path in _containers(spec, base):
        sc = container.security_context
        if sc is None or sc.allow_privilege_escalation is not False:
            escalation.details.append(
                f'container "{container.name}" must set securityContext.allowPrivilegeEscalation=false'
            )
            escalation.fields.append(f"{path}.securityContext.allowPrivilegeEscalation")
        container_non_root = sc.run_as_non_root if sc is not None else None
        if container_non_root is False or (container_non_root is None and not pod_non_root):
            non_root.details.append(
                f'pod or container "{container.name}" must set securityContext.runAsNonRoot=true'
            )
            non_root.fields.append(f"{path}.securityContext.runAsNonRoot")
        if sc is not None and sc.run_as_user == 0:
            root_user.details.append(f'container "{container.name}" must not set runAsUser=0')
            root_user.fields.append(f"{path}.securityContext.runAsUser")
        profile = sc.seccomp_profile if sc is not None else None
        if (profile is None and not pod_seccomp) or (
            profile is not None and profile.type not in ("RuntimeDefault", "Localhost")
        ):
            seccomp.details.append(
                f'pod or container "{container.name}" must set securityContext.seccompProfile.type '
                'to "RuntimeDefault" or "Localhost"'
            )
            seccomp.fields.append(f"{path}.securityContext.seccompProfile.type")
        capabilities = sc.capabilities if sc is not None else None
        if capabilities is None or "ALL" not in capabilities.drop:
            caps.details.append(
                f'container "{container.name}" must set securityContext.capabilities.drop=["ALL"]'
            )
            caps.fields.append(f"{path}.securityContext.capabilities.drop")
        extra = sorted(set(capabilities.add) - {"NET_BIND_SERVICE"}) if capabilities else []
        caps.added_capabilities(container, path, extra)
    found += [volumes, escalation, non_root, root_user, seccomp, caps]
    return [v for v in found if v.details]


def evaluate(level: str, spec: PodSpec, base: str = "spec") -> list[Violation]:
    """The checks ``spec`` fails at ``level`` (fields under ``base``)."""
    if level == PRIVILEGED:
        return []
    found = _baseline(spec, base)
    if level == RESTRICTED:
        found += _restricted(spec, base)
    return found


def summary(level: str, violations: list[Violation]) -> str:
    return f'violates PodSecurity "{level}:latest": ' + ", ".join(v.text() for v in violations)


class PodSecurity(Plugin):
    name = "PodSecurity"

    async def _levels(self, namespace: str) -> dict[str, str]:
        """The namespace's level per mode (``enforce`` defaulted)."""
        if namespace in self.settings.pod_security_exempt_namespaces:
            return {}
        ns = await self.lookup.get("namespaces", None, namespace)
        labels = ((ns or {}).get("metadata") or {}).get("labels") or {}
        levels = {
            mode: labels[LABEL + mode] for mode in MODES if labels.get(LABEL + mode) in LEVELS
        }
        levels.setdefault("enforce", self.settings.pod_security_default)
        return {mode: level for mode, level in levels.items() if level != PRIVILEGED}

    async def validate(self, attrs: Attributes) -> None:
        if attrs.operation not in (CREATE, UPDATE) or attrs.subresource:
            return
        if attrs.is_("", "pods"):
            spec, base = attrs.obj.spec, "spec"
            if attrs.operation == UPDATE and attrs.old is not None and attrs.old.spec == spec:
                return
            enforce = True
        elif (attrs.group, attrs.resource.plural) in WORKLOADS:
            path = WORKLOADS[(attrs.group, attrs.resource.plural)]
            template = attrs.obj.to_dict()
            for step in path:
                template = (template or {}).get(step) or {}
            spec = PodSpec.model_validate(template.get("spec") or {"containers": []})
            base = ".".join(path) + ".spec"
            enforce = False
        else:
            return
        if spec is None:
            return
        levels = await self._levels(attrs.namespace or "")
        for mode in MODES:
            level = levels.get(mode)
            if level is None or (mode == "enforce" and not enforce):
                continue
            violations = evaluate(level, spec, base)
            if not violations:
                continue
            if mode == "enforce":
                raise errors.ApiError(
                    403,
                    "Forbidden",
                    f'{attrs.resource.qualified} "{attrs.name}" is forbidden: {summary(level, violations)}',
                    details={
                        "name": attrs.name,
                        "kind": attrs.resource.plural,
                        "causes": [
                            {"reason": "FieldValueForbidden", "message": v.text(), "field": f}
                            for v in violations
                            for f in v.fields
                        ],
                    },
                )
            if mode == "warn":
                what = "" if attrs.is_("", "pods") else f"{attrs.resource.kind} template "
                attrs.warnings.append(
                    f'would violate PodSecurity "{level}:latest": {what}'
                    + ", ".join(v.text() for v in violations)
                )
            else:
                attrs.annotations["pod-security.kubernetes.io/audit-violations"] = (
                    f"would {summary(level, violations)}"
                )
