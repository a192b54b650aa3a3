"""Content negotiation: what a request's body is, and what its answer should be.

Inside the server an object is JSON (stored as such, handled as a dict). The other
media types Kubernetes serves are wire forms at the edge, as it negotiates them:

- request bodies: JSON, YAML, or protobuf (``application/vnd.kubernetes.protobuf``,
  what kubectl sends for its imperative creates), decoded to the JSON form by
  :func:`decode_body`; anything else is ``415`` naming the three;
- answers: the first ``Accept`` clause (by q-value, then by specificity) that one of
  JSON, YAML or protobuf satisfies, with its ``as=Table`` / ``as=PartialObjectMetadata``
  transform where the media type can carry it (a Table only as JSON or YAML); ``*/*``
  gets JSON; nothing acceptable is ``406``. The handlers build the JSON answer for the
  chosen form (:func:`negotiate`), and :func:`answer` re-encodes it in the chosen media
  type, errors included (a ``Status``); a watch is framed as Kubernetes frames it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import yaml
from starlette.responses import Response, StreamingResponse

from apiserver import errors, safedecode
from apitypes import protobuf

try:
    _YamlDumper: Any = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - libyaml missing
    _YamlDumper = yaml.SafeDumper

log = logging.getLogger(__name__)

MAX_BODY = 3 * 1024 * 1024
"""Kubernetes refuses request bodies over 3 MiB."""

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = protobuf.CONTENT_TYPE
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH)

SERVED = (JSON, YAML, PROTOBUF)
"""What objects are read and written as, in Kubernetes' order (``*/*`` gets the first)."""
STREAMED = (f"{JSON};stream=watch", protobuf.WATCH_CONTENT_TYPE)
"""What a watch is written as (YAML has no stream form)."""

_TRANSFORMS = ("Table", "PartialObjectMetadata", "PartialObjectMetadataList")
_META_VERSIONS = ("v1", "v1beta1")


@dataclass(frozen=True)
class Target:
    """What the client asked to receive."""

    form: str = "object"  # object | Table | PartialObjectMetadata | PartialObjectMetadataList
    version: str = "v1"  # of meta.k8s.io, for Table / PartialObjectMetadata
    media: str = JSON
    """The media type of the answer: :data:`JSON`, :data:`YAML` or :data:`PROTOBUF`."""


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


# --- request bodies ---------------------------------------------------------------------


def decode_body(raw: bytes, content_type: str | None) -> Any:
    """Parse a request body; malformed input answers 400, oversized 413, an unknown
    media type 415."""
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
    if mtype == PROTOBUF:
        try:
            decoded = protobuf.decode(raw)
            safedecode.check_depth(decoded)
            return decoded
        except protobuf.ProtobufError as err:
            raise errors.bad_request(f"error decoding protobuf: {err}") from err
        except safedecode.BodyError as err:
            raise errors.bad_request(str(err)) from err
    if mtype and mtype != JSON and not mtype.endswith("+json") and mtype != "*/*":
        raise errors.unsupported_media_type(mtype, SERVED)
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


# --- what to answer in --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Clause:
    type: str
    subtype: str
    params: tuple[tuple[str, str], ...]
    q: float


def _clauses(accept: str) -> list[_Clause]:
    """The clauses of an ``Accept`` header, most wanted first: by q-value, then the
    more specific (``application/json`` before ``application/*`` before ``*/*``), then
    in the order given. Clauses with ``q=0`` are not acceptable and left out."""
    found: list[_Clause] = []
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        mtype = pieces[0].lower()
        if not mtype:
            continue
        main, _, sub = mtype.partition("/")
        params: list[tuple[str, str]] = []
        q = 1.0
        for piece in pieces[1:]:
            key, sep, value = piece.partition("=")
            if not sep:
                continue
            key, value = key.strip().lower(), value.strip().strip('"')
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
            else:
                params.append((key, value))
        if q > 0:
            found.append(_Clause(main, sub or "*", tuple(params), q))
    return sorted(found, key=lambda c: (-c.q, c.type == "*", c.subtype == "*"))


def _matches(clause: _Clause, served: str) -> bool:
    main, _, sub = served.partition("/")
    if clause.type == "*":
        return clause.subtype == "*"
    return clause.type == main and clause.subtype in ("*", sub)


def _target(clause: _Clause, media: str) -> Target | None:
    """The answer ``clause`` asks for in ``media``, or None if ``media`` cannot give it."""
    params = dict(clause.params)
    stream = params.get("stream")
    if stream and (stream != "watch" or media == YAML):
        return None
    if not ({"as", "g", "v"} & params.keys()):
        return Target(media=media)
    form, group, version = params.get("as", ""), params.get("g", ""), params.get("v", "")
    if group != "meta.k8s.io" or version not in _META_VERSIONS or form not in _TRANSFORMS:
        return None
    if form == "Table" and media == PROTOBUF:
        return None  # Kubernetes writes Tables as JSON or YAML only
    return Target(form=form, version=version, media=media)


@functools.lru_cache(maxsize=256)
def negotiate(accept: str | None) -> Target:
    """The best answer the ``Accept`` header asks for; ``406`` if none can be given.

    No header is JSON. The result for a header is cached: clients send few distinct ones.
    """
    if not accept:
        return Target()
    for clause in _clauses(accept):
        for media in SERVED:
            if _matches(clause, media):
                target = _target(clause, media)
                if target is not None:
                    return target
    raise errors.not_acceptable(", ".join(SERVED))


def negotiate_stream(accept: str | None) -> Target:
    """:func:`negotiate` for a watch: a choice without a stream form (YAML) is ``406``,
    as in Kubernetes (it does not look further down the header)."""
    target = negotiate(accept)
    if target.media == YAML:
        raise errors.not_acceptable(", ".join(STREAMED))
    return target


# --- writing the answer ---------------------------------------------------------------------


def answer(accept: str | None, response: Response) -> Response:
    """``response`` (a handler's JSON answer, or an error's Status) in the media type
    the client negotiated. Other answers (logs, streams of bytes) pass unchanged, and so
    does everything when negotiation fails: a ``406`` itself is written as JSON.
    """
    if not accept:
        return response
    try:
        target = negotiate(accept)
    except errors.ApiError:
        return response
    if target.media == JSON or media_type(response.headers.get("content-type")) != JSON:
        return response
    if isinstance(response, StreamingResponse):
        if target.media != PROTOBUF:
            return response
        return _with_headers(
            StreamingResponse(
                _watch_frames(response.body_iterator),  # type: ignore[arg-type]
                status_code=response.status_code,
                media_type=protobuf.WATCH_CONTENT_TYPE,
            ),
            response,
        )
    try:
        body = orjson.loads(response.body)
        if target.media == PROTOBUF:
            if not isinstance(body, dict) or not protobuf.can_encode(
                body.get("apiVersion") or "", body.get("kind") or ""
            ):
                return response
            content = protobuf.encode(body)
        else:
            content = yaml.dump(
                body, Dumper=_YamlDumper, sort_keys=False, allow_unicode=True
            ).encode()
    except (orjson.JSONDecodeError, protobuf.ProtobufError) as err:
        log.error("cannot write the answer as %s: %s", target.media, err)
        failure = errors.internal(f"the object cannot be written as {target.media}: {err}")
        return Response(orjson.dumps(failure.status()), status_code=failure.code, media_type=JSON)
    return _with_headers(
        Response(content, status_code=response.status_code, media_type=target.media), response
    )


def _with_headers(new: Response, old: Response) -> Response:
    """``new`` with the headers of ``old`` it does not set itself (``Warning`` ...)."""
    for key, value in old.raw_headers:
        if key not in (b"content-type", b"content-length"):
            new.raw_headers.append((key, value))
    return new


async def _watch_frames(lines: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """A JSON watch stream (one event per line) as a protobuf one (framed events)."""
    pending = b""
    try:
        async for chunk in lines:
            *complete, pending = (pending + chunk).split(b"\n")
            if complete:
                yield b"".join(_frames(complete))
    finally:
        close = getattr(lines, "aclose", None)
        if close is not None:
            await close()


def _frames(lines: list[bytes]) -> Iterator[bytes]:
    for line in lines:
        if line:
            yield _frame(line)


@functools.lru_cache(maxsize=256)
def _frame(line: bytes) -> bytes:
    """One event's frame. The watch cache gives every watcher the same JSON for an
    event, and watchers read an event at about the same time, so a small cache makes N
    protobuf watchers cost one encoding."""
    event = orjson.loads(line)
    return protobuf.encode_watch_event(event["type"], event["object"])


def warning_header(message: str) -> str:
    """A ``Warning`` header as Kubernetes writes them (RFC 7234 code 299)."""
    escaped = message.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{escaped}"'
