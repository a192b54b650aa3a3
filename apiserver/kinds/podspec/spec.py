"""The whole pod spec (``ValidatePodSpec``) and a workload's pod template."""

from __future__ import annotations

from apiserver.kinds.common import MAX_INT32
from apiserver.kinds.podspec.affinity import validate_affinity, validate_topology_spread
from apiserver.kinds.podspec.checks import dns_label, dns_subdomain, enum, msgs, qualified_name
from apiserver.kinds.podspec.containers import (
    validate_containers,
    validate_ephemeral_containers,
    validate_init_containers,
)
from apiserver.kinds.podspec.resources import validate_resource_requirements
from apiserver.kinds.podspec.security import validate_pod_security_context
from apiserver.kinds.podspec.tolerations import validate_tolerations
from apiserver.kinds.podspec.volumes import validate_volumes
from apitypes.core import PodSpec, PodTemplateSpec, ResourceRequirements
from apitypes.validation import (
    FieldError,
    FieldPath,
    duplicate,
    forbidden,
    inclusive_range_error,
    invalid,
    is_valid_ip,
    not_supported,
    required,
    validate_annotations,
    validate_labels,
)

_RESTART_POLICIES = ("Always", "OnFailure", "Never")


_DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")


_PREEMPTION_POLICIES = ("PreemptLowerPriority", "Never")


_OS_NAMES = ("linux", "windows")


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
        errs.extend(msgs(path.child("nameservers").index(i), server, is_valid_ip(server)))
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
        errs.extend(dns_subdomain(search.removesuffix("."), path.child("searches").index(i)))
    for i, option in enumerate(config.options):
        if not option.name:
            errs.append(required(path.child("options").index(i), "must not be empty"))
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
            errs.extend(dns_label(claim.name, idx.child("name")))
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
    volumes, volume_errs = validate_volumes(spec.volumes, path.child("volumes"))
    errs.extend(volume_errs)
    claim_names = frozenset(c.name for c in spec.resource_claims if c.name)
    errs.extend(_resource_claims(spec, path.child("resourceClaims")))
    errs.extend(
        validate_containers(spec, volumes, claim_names, path.child("containers"), host_users)
    )
    errs.extend(
        validate_init_containers(
            spec, volumes, claim_names, path.child("initContainers"), host_users
        )
    )
    errs.extend(
        validate_ephemeral_containers(
            spec, volumes, claim_names, path.child("ephemeralContainers"), host_users
        )
    )
    errs.extend(_host_network_ports(spec, path, is_pod=not is_template))
    errs.extend(enum(path.child("restartPolicy"), spec.restart_policy, _RESTART_POLICIES))
    errs.extend(enum(path.child("dnsPolicy"), spec.dns_policy, _DNS_POLICIES))
    errs.extend(validate_labels(spec.node_selector, path.child("nodeSelector")))
    errs.extend(validate_pod_security_context(spec, path.child("securityContext")))
    errs.extend(validate_affinity(spec.affinity, path.child("affinity")))
    errs.extend(_dns_config(spec, path.child("dnsConfig")))
    for i, gate in enumerate(spec.readiness_gates):
        errs.extend(
            qualified_name(
                gate.condition_type, path.child("readinessGates").index(i).child("conditionType")
            )
        )
    gates_seen: set[str] = set()
    for i, scheduling_gate in enumerate(spec.scheduling_gates):
        gate_path = path.child("schedulingGates").index(i)
        errs.extend(qualified_name(scheduling_gate.name, gate_path))
        if scheduling_gate.name in gates_seen:
            errs.append(duplicate(gate_path, scheduling_gate.name))
        gates_seen.add(scheduling_gate.name)
    errs.extend(validate_topology_spread(spec, path.child("topologySpreadConstraints")))
    if spec.host_users is False:
        for attr, wire in (
            ("host_network", "hostNetwork"),
            ("host_pid", "HostPID"),
            ("host_ipc", "HostIPC"),
        ):
            if getattr(spec, attr):
                errs.append(forbidden(path.child(wire), "when `pod.Spec.HostUsers` is false"))
    if spec.service_account_name:
        errs.extend(dns_subdomain(spec.service_account_name, path.child("serviceAccountName")))
    if spec.node_name:
        errs.extend(dns_subdomain(spec.node_name, path.child("nodeName")))
    if spec.active_deadline_seconds is not None:
        value = spec.active_deadline_seconds
        if not 1 <= value <= MAX_INT32:
            errs.append(
                invalid(
                    path.child("activeDeadlineSeconds"), value, inclusive_range_error(1, MAX_INT32)
                )
            )
    if spec.hostname:
        errs.extend(dns_label(spec.hostname, path.child("hostname")))
    if spec.subdomain:
        errs.extend(dns_label(spec.subdomain, path.child("subdomain")))
    errs.extend(validate_tolerations(spec.tolerations, path.child("tolerations")))
    for i, alias in enumerate(spec.host_aliases):
        alias_path = path.child("hostAliases").index(i)
        errs.extend(msgs(alias_path.child("ip"), alias.ip, is_valid_ip(alias.ip)))
        for j, hostname in enumerate(alias.hostnames):
            errs.extend(dns_subdomain(hostname, alias_path.child("hostnames").index(j)))
    if spec.priority_class_name:
        errs.extend(dns_subdomain(spec.priority_class_name, path.child("priorityClassName")))
    if spec.runtime_class_name is not None:
        errs.extend(dns_subdomain(spec.runtime_class_name, path.child("runtimeClassName")))
    if spec.preemption_policy is not None:
        errs.extend(
            enum(path.child("preemptionPolicy"), spec.preemption_policy, _PREEMPTION_POLICIES)
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
