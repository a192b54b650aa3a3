"""Content negotiation: what a request's body is, and what its answer should be.

Bodies are JSON or YAML (what kubectl and client libraries send); answers are JSON,
as objects, Tables (``kubectl get``), or PartialObjectMetadata. Protobuf is not
served: clients that ask for it also accept JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apiserver import errors, safedecode

MAX_BODY = 3 * 1024 * 1024
"""Kubernetes refuses request bodies over 3 MiB."""

JSON = "application/json"
YAML = "application/yaml"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH)


@dataclass(frozen=True)
class Target:
    """What the client asked to receive."""

    form: str = "object"  # object | Table | PartialObjectMetadata | PartialObjectMetadataList
    version: str = "v1"  # of meta.k8s.io, for Table / PartialObjectMetadata


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def decode_body(raw: bytes, content_type: str | None) -> Any:
    """Parse a request body; malformed input answers 400, oversized 413."""
    if len(raw) > MAX_BODY:
        raise errors.too_large(MAX_BODY)
    mtype = media_type(content_type)
    if not raw.strip():
        raise errors.bad_request("the request body is empty")
    if mtype in ("application/yaml", "application/x-yaml", "text/yaml", APPLY_PATCH):
        try:
            return safedecode.load_yaml(raw)
        except safedecode.BodyError as err:
            raise errors.bad_request(str(err)) from err
    if mtype and mtype != JSON and not mtype.endswith("+json") and mtype != "*/*":
        raise errors.unsupported_media_type(mtype, [JSON, YAML])
    try:
        return safedecode.load_json(raw)
    except safedecode.BodyError as err:
        raise errors.bad_request(str(err)) from err


def decode_object(raw: bytes, content_type: str | None) -> dict[str, Any]:
    body = decode_body(raw, content_type)
    if not isinstance(body, dict):
        raise errors.bad_request(
            f"the request body must be a JSON object, not {type(body).__name__}"
        )
    return body


def negotiate(accept: str | None) -> Target:
    """The best form the ``Accept`` header asks for, honouring client-go's order."""
    if not accept:
        return Target()
    for clause in accept.split(","):
        parts = [p.strip() for p in clause.split(";")]
        mtype = parts[0].lower()
        params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        if mtype not in (JSON, "*/*", "application/*"):
            continue
        as_ = params.get("as")
        if as_ is None:
            return Target()
        if params.get("g") != "meta.k8s.io" or params.get("v") not in ("v1", "v1beta1"):
            continue
        if as_ in ("Table", "PartialObjectMetadata", "PartialObjectMetadataList"):
            return Target(form=as_, version=params["v"])
    if any(media_type(c) in ("application/vnd.kubernetes.protobuf",) for c in accept.split(",")):
        raise errors.not_acceptable(f"{JSON}, {YAML}")
    return Target()


def warning_header(message: str) -> str:
    """A ``Warning`` header as Kubernetes writes them (RFC 7234 code 299)."""
    escaped = message.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{escaped}"'
