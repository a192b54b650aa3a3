"""APIService (apiregistration.k8s.io/v1), cluster-scoped, with a ``status``.

As kube-aggregator's strategy: the name must be ``<version>.<group>`` (``v1.`` for the
core group), priorities within Kubernetes' ranges, a Service reference complete with a
valid port (443 by default) and either a ``caBundle`` or ``insecureSkipTLSVerify``; a
local APIService (no Service) has neither. SERVICE and AVAILABLE in tables as
``kubectl get apiservices`` prints them. The ``Available`` condition is written by the
apiserver itself (``apiserver.aggregator``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apiserver.kinds.common import decode_base64_field
from apiserver.kinds.printers import AGE_COLUMN
from apiserver.registry.strategy import Column, Strategy, age
from apiserver.subresources.status import Status
from apitypes import registry
from apitypes.apiregistration import APIService, APIServiceSpec
from apitypes.validation import (
    FieldError,
    FieldPath,
    invalid,
    is_dns1035_label,
    is_dns1123_subdomain,
    is_path_segment_name,
    is_valid_port_num,
    not_supported,
    required,
)

DEFAULT_SERVICE_PORT = 443
_CONDITION_STATUSES = ("True", "False", "Unknown")


def _validate_spec(spec: APIServiceSpec) -> list[FieldError]:
    path = FieldPath("spec")
    errors: list[FieldError] = []
    group, version = spec.group or "", spec.version or ""
    if not group and version != "v1":
        errors.append(
            required(
                path.child("group"), "only v1 may have an empty group and it better be legacy kube"
            )
        )
    if group:
        errors += [invalid(path.child("group"), group, m) for m in is_dns1123_subdomain(group)]
    errors += [invalid(path.child("version"), version, m) for m in is_dns1035_label(version)]
    if not 0 < spec.group_priority_minimum <= 20000:
        errors.append(
            invalid(
                path.child("groupPriorityMinimum"),
                spec.group_priority_minimum,
                "must be positive and less than 20000",
            )
        )
    if not 0 < spec.version_priority <= 1000:
        errors.append(
            invalid(
                path.child("versionPriority"),
                spec.version_priority,
                "must be positive and less than 1000",
            )
        )
    service = spec.service
    if service is None:
        if spec.ca_bundle:
            errors.append(
                invalid(
                    path.child("caBundle"),
                    f"{len(decode_base64_field(spec.ca_bundle) or b'')} bytes",
                    "local APIServices may not have a caBundle",
                )
            )
        if spec.insecure_skip_tls_verify:
            errors.append(
                invalid(
                    path.child("insecureSkipTLSVerify"),
                    True,
                    "local APIServices may not have insecureSkipTLSVerify",
                )
            )
        return errors
    where = path.child("service")
    if not service.namespace:
        errors.append(required(where.child("namespace")))
    if not service.name:
        errors.append(required(where.child("name")))
    port = service.port if service.port is not None else DEFAULT_SERVICE_PORT
    problems = is_valid_port_num(port)
    if problems:
        errors.append(
            invalid(where.child("port"), port, "port is not valid: " + ", ".join(problems))
        )
    if spec.insecure_skip_tls_verify and spec.ca_bundle:
        errors.append(
            invalid(
                path.child("insecureSkipTLSVerify"), True, "may not be true if caBundle is present"
            )
        )
    return errors


class APIServiceStrategy(Strategy):
    resource = registry.resource("apiregistration.k8s.io", "apiservices")
    subresources = (Status(),)
    columns = (
        Column("Service", description="The reference to the service that hosts this API endpoint."),
        Column("Available", description="Whether this service is available."),
        AGE_COLUMN,
    )

    def name_errors(self, name: str) -> list[str]:
        # The name must also be ``<version>.<group>``: checked in ``validate``, where
        # the spec is at hand.
        return is_path_segment_name(name)

    def default(self, obj: APIService) -> None:
        service = obj.spec.service if obj.spec else None
        if service is not None and service.port is None:
            service.port = DEFAULT_SERVICE_PORT

    def validate(self, obj: APIService) -> list[FieldError]:
        errors = self.validate_metadata(obj)
        spec = obj.spec or APIServiceSpec(group_priority_minimum=0, version_priority=0)
        wanted = f"{spec.version or ''}.{spec.group or ''}"
        name = obj.metadata.name or ""
        if name and not is_path_segment_name(name) and name != wanted:
            errors.append(
                invalid(
                    FieldPath("metadata", "name"),
                    name,
                    f'must be `spec.version+"."+spec.group`: "{wanted}"',
                )
            )
        return errors + _validate_spec(spec)

    def validate_status_update(self, new: APIService, old: APIService) -> list[FieldError]:
        errors: list[FieldError] = []
        for i, cond in enumerate(new.status.conditions if new.status else []):
            if cond.status not in _CONDITION_STATUSES:
                path = FieldPath("status", "conditions").index(i).child("status")
                errors.append(not_supported(path, cond.status, _CONDITION_STATUSES))
        return errors

    def row(self, obj: APIService) -> Sequence[Any]:
        service = obj.spec.service if obj.spec else None
        where = "Local" if service is None else f"{service.namespace}/{service.name}"
        available = "Unknown"
        cond = obj.available()
        if cond is not None:
            available = cond.status
            if cond.status != "True" and cond.reason:
                available = f"{cond.status} ({cond.reason})"
        return [where, available, age(obj.metadata.creation_timestamp)]
