"""Node: the kubelet registers it with status; ``podCIDRs`` and ``providerID`` may be set
once; taints must be valid and unique per key and effect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from apiserver.kinds import podspec
from apiserver.kinds.common import (
    CIDR_ERROR,
    METADATA,
    SPEC,
    STATUS,
    CoreStrategy,
    GoValue,
    dual_stack,
    valid_cidr,
)
from apiserver.kinds.printers import AGE_COLUMN, NONE, UNKNOWN
from apiserver.registry.strategy import Column, age, get_path
from apiserver.subresources.status import Status
from apitypes import registry
from apitypes.core import Node, NodeSpec
from apitypes.validation import (
    FieldError,
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    is_qualified_name,
    is_valid_label_value,
)

_NODE_ROLE_PREFIX = "node-role.kubernetes.io/"
_NODE_ROLE_LABEL = "kubernetes.io/role"


class NodeStrategy(CoreStrategy):
    """Nodes: the kubelet registers them with status; ``podCIDRs`` and ``providerID``
    may be set once; taints must be valid and unique per key and effect."""

    resource = registry.resource("", "nodes")
    subresources = (Status(),)
    selectable_fields = ("spec.unschedulable",)
    columns = (
        Column("Status", description="The status of the node"),
        Column("Roles", description="The roles of the node"),
        AGE_COLUMN,
        Column("Version", description="Kubelet Version reported by the node."),
        Column("Internal-IP", priority=1, description="The node's first internal IP address."),
        Column("External-IP", priority=1, description="The node's first external IP address."),
        Column("OS-Image", priority=1, description="OS Image reported by the node."),
        Column("Kernel-Version", priority=1, description="Kernel Version reported by the node."),
        Column(
            "Container-Runtime",
            priority=1,
            description="ContainerRuntime Version reported by the node.",
        ),
    )

    def fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        return {"spec.unschedulable": get_path(obj, "spec", "unschedulable", default="false")}

    def prepare_for_create(self, obj: Node) -> None:
        # The kubelet registers its node with status already filled in.
        pass

    def default(self, obj: Node) -> None:
        if obj.spec is None:
            obj.spec = NodeSpec()
        # ``podCIDR`` is the first of ``podCIDRs``, as conversion keeps them.
        if obj.spec.pod_cidr and not obj.spec.pod_cidrs:
            obj.spec.pod_cidrs = [obj.spec.pod_cidr]
        if obj.spec.pod_cidrs:
            obj.spec.pod_cidr = obj.spec.pod_cidrs[0]
        if obj.status is not None:
            podspec.default_resource_list(obj.status.capacity)
            if not obj.status.allocatable and obj.status.capacity:
                obj.status.allocatable = dict(obj.status.capacity)
            podspec.default_resource_list(obj.status.allocatable)

    def validate(self, obj: Node) -> list[FieldError]:
        errs = self.validate_metadata(obj)
        spec = obj.spec or NodeSpec()
        # Kubernetes reports taints below "metadata", and so do we.
        errs.extend(validate_taints(spec.taints, METADATA.child("taints")))
        errs.extend(self._resources(obj))
        if spec.pod_cidrs:
            path = SPEC.child("podCIDRs")
            for i, cidr in enumerate(spec.pod_cidrs):
                if not valid_cidr(cidr):
                    errs.append(invalid(path.index(i), cidr, CIDR_ERROR))
            if len(spec.pod_cidrs) > 1 and not dual_stack(
                [c.split("/")[0] for c in spec.pod_cidrs]
            ):
                errs.append(
                    invalid(
                        path, spec.pod_cidrs, "may specify no more than one CIDR for each IP family"
                    )
                )
        return errs

    def _resources(self, obj: Node) -> list[FieldError]:
        errs: list[FieldError] = []
        if obj.status is None:
            return errs
        for field_name, values in (
            ("capacity", obj.status.capacity),
            ("allocatable", obj.status.allocatable),
        ):
            for name in sorted(values):
                path = STATUS.child(field_name, name)
                quantity, qerrs = podspec.parse_quantity_field(values[name], path)
                errs.extend(qerrs)
                if quantity is not None:
                    errs.extend(podspec.validate_quantity_value(name, quantity, path))
        return errs

    def validate_update(self, new: Node, old: Node) -> list[FieldError]:
        errs: list[FieldError] = []
        spec = new.spec or NodeSpec()
        before = old.spec or NodeSpec()
        message = 'node updates may not change podCIDR except from "" to valid'
        if before.pod_cidrs:
            if len(before.pod_cidrs) != len(spec.pod_cidrs):
                errs.append(forbidden(SPEC.child("podCIDRs"), message))
            else:
                errs.extend(
                    forbidden(SPEC.child("podCIDRs"), message)
                    for old_cidr, new_cidr in zip(before.pod_cidrs, spec.pod_cidrs, strict=True)
                    if old_cidr != new_cidr
                )
        if before.provider_id and before.provider_id != spec.provider_id:
            errs.append(
                forbidden(
                    SPEC.child("providerID"),
                    'node updates may not change providerID except from "" to valid',
                )
            )
        if (spec.external_id or "") != (before.external_id or ""):
            errs.append(forbidden(SPEC.child("externalID"), "may not be updated"))
        seen: set[tuple[str, str]] = set()
        addresses = new.status.addresses if new.status else []
        for i, address in enumerate(addresses):
            key = (address.type, address.address)
            if key in seen:
                shown = GoValue(
                    f'core.NodeAddress{{Type:"{address.type}", Address:"{address.address}"}}'
                )
                errs.append(duplicate(STATUS.child("addresses").index(i), shown))
            seen.add(key)
        return errs

    def validate_status_update(self, new: Node, old: Node) -> list[FieldError]:
        return self.validate_update(new, old)

    def row(self, obj: Node) -> Sequence[Any]:
        status = obj.status
        ready = status.condition("Ready") if status else None
        if ready is None:
            states = ["Unknown"]
        else:
            states = ["Ready" if ready.status == "True" else "NotReady"]
        if obj.is_unschedulable():
            states.append("SchedulingDisabled")
        roles: set[str] = set()
        for key, value in obj.metadata.labels.items():
            if key.startswith(_NODE_ROLE_PREFIX):
                role = key[len(_NODE_ROLE_PREFIX) :]
                if role:
                    roles.add(role)
            elif key == _NODE_ROLE_LABEL and value:
                roles.add(value)
        info = status.node_info if status else None
        return [
            ",".join(states),
            ",".join(sorted(roles)) or NONE,
            age(obj.metadata.creation_timestamp),
            info.kubelet_version if info else "",
            (status.address("InternalIP") if status else None) or NONE,
            (status.address("ExternalIP") if status else None) or NONE,
            (info.os_image if info else "") or UNKNOWN,
            (info.kernel_version if info else "") or UNKNOWN,
            (info.container_runtime_version if info else "") or UNKNOWN,
        ]


def validate_taints(taints: Sequence[Any], path: FieldPath) -> list[FieldError]:
    """Keys, values and effects of node taints, unique by key and effect."""
    errs: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for i, taint in enumerate(taints):
        idx = path.index(i)
        errs.extend(
            invalid(idx.child("key"), taint.key, msg) for msg in is_qualified_name(taint.key)
        )
        value = taint.value or ""
        messages = is_valid_label_value(value)
        if messages:
            errs.append(invalid(idx.child("value"), value, ";".join(messages)))
        errs.extend(
            podspec.validate_taint_effect(taint.effect, idx.child("effect"), allow_empty=False)
        )
        if (taint.effect, taint.key) in seen:
            shown = GoValue(
                f'core.Taint{{Key:"{taint.key}", Value:"{value}", Effect:"{taint.effect}", '
                "TimeAdded:(*v1.Time)(nil)}"
            )
            err = duplicate(idx, shown)
            errs.append(
                FieldError(
                    err.type,
                    err.field,
                    err.bad_value,
                    "taints must be unique by key and effect pair",
                )
            )
            continue
        seen.add((taint.effect, taint.key))
    return errs
