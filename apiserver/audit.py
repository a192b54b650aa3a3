"""Auditing: ``--audit-policy-file`` and ``--audit-log-path``, as kube-apiserver's log
backend writes them: one JSON line per event, in the ``audit.k8s.io/v1`` ``Event`` shape.

The policy (``audit.k8s.io/v1`` ``Policy``) is a list of rules; the first whose every
given field matches a request decides its level: ``users``, ``userGroups``, ``verbs``,
``resources`` (``group``, ``resources`` with ``pods/log`` or ``*/status`` forms,
``resourceNames``), ``namespaces`` and ``nonResourceURLs`` (a trailing ``*`` is a
prefix). No rule matching is ``None``: nothing is logged. Levels: ``Metadata`` (who,
what, when, the answer's code), ``Request`` (and the request's body), ``RequestResponse``
(and the response's). ``omitStages`` (the policy's and a rule's) leave stages out.

Stages: ``RequestReceived`` once the user is known, ``ResponseStarted`` for long-running
requests (watches, exec/attach/port-forward, proxies) when their answer starts, and
``ResponseComplete``. A request refused by authentication (401) is logged at
``ResponseStarted`` with no user, as Kubernetes' failed-authentication audit does;
one refused by authorization carries ``authorization.k8s.io/decision: forbid``.

Secret values never reach the log: Secrets, TokenReviews and TokenRequests
(``serviceaccounts/token``) are logged at ``Metadata`` at most, whatever the policy says,
and bodies that are not JSON are left out.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import sys
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson
import yaml

from apiserver.requestinfo import RequestInfo
from apiserver.user import UserInfo

log = logging.getLogger(__name__)

NONE, METADATA, REQUEST, REQUEST_RESPONSE = "None", "Metadata", "Request", "RequestResponse"
LEVELS = (NONE, METADATA, REQUEST, REQUEST_RESPONSE)
RECEIVED, STARTED, COMPLETE = "RequestReceived", "ResponseStarted", "ResponseComplete"
STAGES = (RECEIVED, STARTED, COMPLETE, "Panic")
SECRET_RESOURCES = {("", "secrets"), ("authentication.k8s.io", "tokenreviews")}
SECRET_SUBRESOURCES = {("", "serviceaccounts", "token")}
MAX_BODY = 1 << 20
"""Bodies larger than this are left out of the log."""


class AuditPolicyError(ValueError):
    """The policy file cannot be used (the apiserver does not start)."""


@dataclass(frozen=True)
class GroupResources:
    group: str = ""
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()

    def matches(self, info: RequestInfo) -> bool:
        if info.api_group != self.group:
            return False
        if self.resources:
            full = info.resource_path
            ok = False
            for pattern in self.resources:
                if (
                    pattern in (full, "*")
                    or (pattern == info.resource and not info.subresource)
                    or (pattern.startswith("*/") and info.subresource == pattern[2:])
                    or (pattern.endswith("/*") and info.resource == pattern[:-2])
                ):
                    ok = True
            if not ok:
                return False
        return not self.resource_names or info.name in self.resource_names


@dataclass(frozen=True)
class Rule:
    level: str
    users: tuple[str, ...] = ()
    user_groups: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()
    resources: tuple[GroupResources, ...] = ()
    namespaces: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()
    omit_stages: tuple[str, ...] = ()

    def matches(self, user: UserInfo | None, info: RequestInfo) -> bool:
        name = user.name if user else ""
        if self.users and name not in self.users:
            return False
        if self.user_groups and not set(user.groups if user else ()) & set(self.user_groups):
            return False
        if self.verbs and info.verb not in self.verbs:
            return False
        if info.is_resource_request:
            if self.non_resource_urls:
                return False
            if self.resources and not any(r.matches(info) for r in self.resources):
                return False
            return not self.namespaces or info.namespace in self.namespaces
        if self.resources or self.namespaces:
            return False
        return not self.non_resource_urls or any(
            info.path == u or (u.endswith("*") and info.path.startswith(u[:-1]))
            for u in self.non_resource_urls
        )


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...]
    omit_stages: tuple[str, ...] = ()

    def decide(self, user: UserInfo | None, info: RequestInfo) -> tuple[str, frozenset[str]]:
        """The level of a request and the stages left out."""
        for rule in self.rules:
            if rule.matches(user, info):
                level = rule.level
                if _secret(info) and level in (REQUEST, REQUEST_RESPONSE):
                    level = METADATA
                return level, frozenset((*self.omit_stages, *rule.omit_stages))
        return NONE, frozenset()


def _secret(info: RequestInfo) -> bool:
    return (info.api_group, info.resource) in SECRET_RESOURCES or (
        info.api_group,
        info.resource,
        info.subresource,
    ) in SECRET_SUBRESOURCES


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AuditPolicyError(f"{where}: must be a list of strings")
    return tuple(value)


def _stages(value: Any, where: str) -> tuple[str, ...]:
    stages = _strings(value, where)
    for stage in stages:
        if stage not in STAGES:
            raise AuditPolicyError(f"{where}: unknown stage {stage!r}")
    return stages


def parse_policy(doc: Any) -> Policy:
    if not isinstance(doc, dict) or doc.get("kind") != "Policy":
        raise AuditPolicyError("not an audit Policy")
    if doc.get("apiVersion") not in ("audit.k8s.io/v1", "audit.k8s.io/v1beta1"):
        raise AuditPolicyError(f"apiVersion {doc.get('apiVersion')!r} is not supported")
    rules = []
    for i, raw in enumerate(doc.get("rules") or []):
        where = f"rules[{i}]"
        if not isinstance(raw, dict) or raw.get("level") not in LEVELS:
            raise AuditPolicyError(f"{where}.level: must be one of {', '.join(LEVELS)}")
        groups = tuple(
            GroupResources(
                str(r.get("group") or ""),
                _strings(r.get("resources"), f"{where}.resources[{j}].resources"),
                _strings(r.get("resourceNames"), f"{where}.resources[{j}].resourceNames"),
            )
            for j, r in enumerate(raw.get("resources") or [])
        )
        rule = Rule(
            level=raw["level"],
            users=_strings(raw.get("users"), f"{where}.users"),
            user_groups=_strings(raw.get("userGroups"), f"{where}.userGroups"),
            verbs=_strings(raw.get("verbs"), f"{where}.verbs"),
            resources=groups,
            namespaces=_strings(raw.get("namespaces"), f"{where}.namespaces"),
            non_resource_urls=_strings(raw.get("nonResourceURLs"), f"{where}.nonResourceURLs"),
            omit_stages=_stages(raw.get("omitStages"), f"{where}.omitStages"),
        )
        if rule.non_resource_urls and (rule.resources or rule.namespaces):
            raise AuditPolicyError(f"{where}: nonResourceURLs with resources or namespaces")
        rules.append(rule)
    return Policy(tuple(rules), _stages(doc.get("omitStages"), "omitStages"))


def load_policy(path: str | Path) -> Policy:
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as err:
        raise AuditPolicyError(f"--audit-policy-file {path}: {err}") from err
    return parse_policy(doc)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Event:
    """One request's audit record, written at each stage."""

    level: str
    omit: frozenset[str]
    info: RequestInfo
    user: UserInfo | None
    uri: str
    source_ips: list[str]
    user_agent: str
    audit_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    received: str = field(default_factory=_now)
    annotations: dict[str, str] = field(default_factory=dict)
    code: int | None = None
    request_body: bytearray = field(default_factory=bytearray)
    response_body: bytearray = field(default_factory=bytearray)
    status: dict[str, Any] | None = None

    def record(self, stage: str) -> dict[str, Any]:
        info = self.info
        out: dict[str, Any] = {
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": self.level,
            "auditID": self.audit_id,
            "stage": stage,
            "requestURI": self.uri,
            "verb": info.verb,
            "user": self.user.to_wire() if self.user else {},
            "sourceIPs": self.source_ips,
            "userAgent": self.user_agent,
        }
        if info.is_resource_request:
            ref = {
                "resource": info.resource,
                "namespace": info.namespace,
                "name": info.name,
                "apiGroup": info.api_group,
                "apiVersion": info.api_version,
                "subresource": info.subresource,
            }
            out["objectRef"] = {k: v for k, v in ref.items() if v}
        if self.code is not None and stage != RECEIVED:
            status: dict[str, Any] = {"metadata": {}, "code": self.code}
            if self.status and self.code >= 400:
                for key in ("status", "message", "reason"):
                    if self.status.get(key):
                        status[key] = self.status[key]
            out["responseStatus"] = status
        if self.level in (REQUEST, REQUEST_RESPONSE):
            body = _json(self.request_body)
            if body is not None:
                out["requestObject"] = body
        if self.level == REQUEST_RESPONSE and stage == COMPLETE:
            body = _json(self.response_body)
            if body is not None:
                out["responseObject"] = body
        out["requestReceivedTimestamp"] = self.received
        out["stageTimestamp"] = _now()
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out


def _json(raw: bytearray) -> Any:
    if not raw or len(raw) > MAX_BODY:
        return None
    try:
        return orjson.loads(bytes(raw))
    except orjson.JSONDecodeError:
        return None


class Auditor:
    """The policy and the log backend."""

    def __init__(self, policy: Policy, path: str) -> None:
        self.policy = policy
        self._lock = threading.Lock()
        self._out: IO[bytes]
        if path == "-":
            self._out = sys.stdout.buffer
        else:
            file = Path(path)
            file.parent.mkdir(parents=True, exist_ok=True)
            self._out = file.open("ab")
            with contextlib.suppress(OSError):
                file.chmod(0o600)

    def event(self, scope: Any, info: RequestInfo, user: UserInfo | None) -> Event | None:
        """A new event for a request (None: its level is None)."""
        level, omit = self.policy.decide(user, info)
        if level == NONE:
            return None
        query = scope.get("query_string", b"").decode("latin-1")
        headers = dict(scope.get("headers") or [])
        client = scope.get("client")
        return Event(
            level=level,
            omit=omit,
            info=info,
            user=user,
            uri=scope.get("path", "") + (f"?{query}" if query else ""),
            source_ips=[str(client[0])] if client else [],
            user_agent=headers.get(b"user-agent", b"").decode("latin-1"),
        )

    def write(self, event: Event, stage: str) -> None:
        if stage in event.omit:
            return
        line = orjson.dumps(event.record(stage)) + b"\n"
        with self._lock:
            try:
                self._out.write(line)
                self._out.flush()
            except OSError as err:
                log.error("audit log: %s", err)


def long_running(info: RequestInfo, scope: Any) -> bool:
    """Watches and streams, which get a ``ResponseStarted`` stage."""
    return (
        info.verb == "watch"
        or scope.get("type") == "websocket"
        or info.subresource in ("exec", "attach", "portforward", "proxy", "log")
    )
