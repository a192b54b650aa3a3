"""Event (core/v1): validated with Kubernetes' lenient rules for this old API; printed
with the object it is about, its name last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from apiserver.kinds.common import METADATA, CoreStrategy
from apiserver.registry.strategy import Column, age
from apitypes import registry
from apitypes.core import Event
from apitypes.validation import (
    FieldError,
    FieldPath,
    invalid,
    is_dns1123_subdomain,
    is_qualified_name,
    required,
)

_REASON_LIMIT = 128
_NOTE_LIMIT = 1024
_ACTION_LIMIT = 128
_INSTANCE_LIMIT = 128


class EventStrategy(CoreStrategy):
    """core/v1 Events, validated with Kubernetes' lenient rules for this old API."""

    resource = registry.resource("", "events")
    name_column = False
    selectable_fields = (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    )
    columns = (
        Column(
            "Last Seen",
            description="The time at which the most recent occurrence of this event was recorded.",
        ),
        Column("Type", description="Type of this event (Normal, Warning)."),
        Column("Reason", description="A short, machine understandable string for the event."),
        Column("Object", description="The object that this event is about."),
        Column("Subobject", priority=1, description="The part of the object the event is about."),
        Column("Source", priority=1, description="The component reporting this event."),
        Column(
            "Message", description="A human-readable description of the status of this operation."
        ),
        Column(
            "First Seen", priority=1, description="The time at which the event was first recorded."
        ),
        Column("Count", priority=1, description="The number of times this event has occurred."),
        Column("Name", priority=1, format="name", description="The name of the event."),
    )

    def fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        involved = obj.get("involvedObject") or {}
        source = obj.get("source") or {}
        return {
            "involvedObject.kind": involved.get("kind") or "",
            "involvedObject.namespace": involved.get("namespace") or "",
            "involvedObject.name": involved.get("name") or "",
            "involvedObject.uid": involved.get("uid") or "",
            "involvedObject.apiVersion": involved.get("apiVersion") or "",
            "involvedObject.resourceVersion": involved.get("resourceVersion") or "",
            "involvedObject.fieldPath": involved.get("fieldPath") or "",
            "reason": obj.get("reason") or "",
            "reportingComponent": obj.get("reportingComponent") or "",
            "source": source.get("component") or obj.get("reportingComponent") or "",
            "type": obj.get("type") or "",
        }

    def validate(self, obj: Event) -> list[FieldError]:
        # core/v1 Events skip object-meta validation in Kubernetes; only a name is needed.
        errs: list[FieldError] = []
        if not obj.metadata.name:
            errs.append(required(METADATA.child("name"), "name or generateName is required"))
        namespace = obj.metadata.namespace or ""
        involved_ns = obj.involved_object.namespace or ""
        mismatch = invalid(
            FieldPath("involvedObject", "namespace"), involved_ns, "does not match event.namespace"
        )
        if obj.event_time is None:
            if not involved_ns:
                if namespace not in ("", "default"):
                    errs.append(mismatch)
            elif namespace != involved_ns:
                errs.append(mismatch)
        else:
            if not involved_ns and namespace not in ("default", "kube-system"):
                errs.append(mismatch)
            component = obj.reporting_component or ""
            if not component:
                errs.append(required(FieldPath("reportingComponent")))
            errs.extend(
                invalid(FieldPath("reportingComponent"), component, m)
                for m in is_qualified_name(component)
            )
            for value, name, limit in (
                (obj.reporting_instance, "reportingInstance", _INSTANCE_LIMIT),
                (obj.action, "action", _ACTION_LIMIT),
                (obj.reason, "reason", _REASON_LIMIT),
            ):
                if not value:
                    errs.append(required(FieldPath(name)))
                if len(value or "") > limit:
                    errs.append(
                        invalid(FieldPath(name), "", f"can have at most {limit} characters")
                    )
            if len(obj.message or "") > _NOTE_LIMIT:
                errs.append(
                    invalid(FieldPath("message"), "", f"can have at most {_NOTE_LIMIT} characters")
                )
        errs.extend(
            invalid(FieldPath("namespace"), namespace, m) for m in is_dns1123_subdomain(namespace)
        )
        return errs

    def row(self, obj: Event) -> Sequence[Any]:
        first = age(obj.first_timestamp) if obj.first_timestamp else age(obj.event_time)
        last = age(obj.last_timestamp) if obj.last_timestamp else first
        count = obj.count or 0
        if obj.series is not None:
            last = age(obj.series.last_observed_time)
            count = obj.series.count or 0
        elif count == 0:
            count = 1
        involved = obj.involved_object
        kind = (involved.kind or "").lower()
        target = f"{kind}/{involved.name}" if involved.name else kind
        source = obj.source
        component = (source.component if source else None) or obj.reporting_component or ""
        host = (source.host if source else None) or obj.reporting_instance or ""
        return [
            last,
            obj.type or "",
            obj.reason or "",
            target,
            involved.field_path or "",
            f"{component}, {host}" if host else component,
            (obj.message or "").strip(),
            first,
            count,
            obj.metadata.name or "",
        ]
