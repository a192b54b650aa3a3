"""Probes and lifecycle handlers."""

from __future__ import annotations

import re
from typing import Any

from apiserver.kinds.common import nonnegative
from apiserver.kinds.podspec.checks import port_num_or_name
from apitypes.core import Container, HTTPGetAction, Lifecycle, LifecycleHandler, Probe, ProbeHandler
from apitypes.validation import (
    FieldError,
    FieldPath,
    forbidden,
    invalid,
    not_supported,
    regex_error,
    required,
)

_HTTP_SCHEMES = ("HTTP", "HTTPS")


_HTTP_HEADER_NAME_FMT = "[-A-Za-z0-9]+"


_HTTP_HEADER_NAME_RE = re.compile(_HTTP_HEADER_NAME_FMT)


def _http_get(action: HTTPGetAction, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if not action.path:
        errs.append(required(path.child("path")))
    errs.extend(port_num_or_name(action.port, path.child("port")))
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
            errs.extend(port_num_or_name(action.port, sub.child("port")))
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
        errs.extend(nonnegative(getattr(probe, attr), path.child(wire)))
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


def validate_container_probes(
    container: Container, grace: int | None, path: FieldPath
) -> list[FieldError]:
    errs: list[FieldError] = []
    if container.lifecycle is not None:
        errs.extend(_lifecycle(container.lifecycle, grace, path.child("lifecycle")))
    errs.extend(_probe(container.liveness_probe, grace, path.child("livenessProbe"), "liveness"))
    errs.extend(_probe(container.readiness_probe, grace, path.child("readinessProbe"), "readiness"))
    errs.extend(_probe(container.startup_probe, grace, path.child("startupProbe"), "startup"))
    return errs
