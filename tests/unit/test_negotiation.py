"""apiserver.negotiation: which media type and form an answer takes, and writing it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
import pytest
import yaml
from starlette.responses import Response, StreamingResponse

from apiserver import errors, negotiation
from apiserver.negotiation import JSON, PROTOBUF, YAML, Target
from apitypes import protobuf as pb

TABLE = "application/json;as=Table;g=meta.k8s.io;v=v1"


@pytest.mark.parametrize(
    ("accept", "target"),
    [
        (None, Target()),
        ("", Target()),
        ("*/*", Target()),
        ("application/*", Target()),
        ("application/json, */*", Target()),
        (f"{PROTOBUF},application/json", Target(media=PROTOBUF)),
        ("text/html, application/yaml", Target(media=YAML)),
        ("application/json;q=0.5, application/yaml;q=0.9", Target(media=YAML)),
        # Equal weights: the more specific clause first, then the order given.
        ("*/*, application/yaml", Target(media=YAML)),
        (f"application/yaml, {PROTOBUF}", Target(media=YAML)),
        (f"{TABLE}, application/json", Target(form="Table")),
        (
            "application/json;as=Table;g=meta.k8s.io;v=v1beta1",
            Target(form="Table", version="v1beta1"),
        ),
        # No Table in protobuf: the next clause.
        (f"{PROTOBUF};as=Table;g=meta.k8s.io;v=v1, {TABLE}", Target(form="Table")),
        (
            f"{PROTOBUF};as=PartialObjectMetadata;g=meta.k8s.io;v=v1",
            Target(form="PartialObjectMetadata", media=PROTOBUF),
        ),
        # A transform that is not one: the next clause.
        ("application/json;as=Gadget;g=meta.k8s.io;v=v1, application/yaml", Target(media=YAML)),
        ("application/json;as=Table, application/yaml", Target(media=YAML)),
        (f"{PROTOBUF};stream=watch", Target(media=PROTOBUF)),
        ("application/json;q=0, */*;q=0.1", Target()),
    ],
)
def test_negotiate(accept: str | None, target: Target) -> None:
    assert negotiation.negotiate(accept) == target


@pytest.mark.parametrize(
    "accept",
    ["text/html", "application/json;q=0", "image/*", f"{PROTOBUF};as=Table;g=meta.k8s.io;v=v1"],
)
def test_nothing_acceptable(accept: str) -> None:
    with pytest.raises(errors.ApiError) as caught:
        negotiation.negotiate(accept)
    assert caught.value.code == 406
    assert caught.value.status()["message"] == (
        "only the following media types are accepted: "
        f"application/json, application/yaml, {PROTOBUF}"
    )


def test_a_watch_has_no_yaml_form() -> None:
    assert negotiation.negotiate_stream(f"{PROTOBUF}, {JSON}").media == PROTOBUF
    with pytest.raises(errors.ApiError) as caught:
        negotiation.negotiate_stream("application/yaml, application/json")
    assert caught.value.code == 406


def test_bodies_in_protobuf_and_unknown_formats() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    assert negotiation.decode_object(pb.encode(cm), PROTOBUF) == cm
    with pytest.raises(errors.ApiError) as bad:
        negotiation.decode_object(b"k8s\x00\xff", PROTOBUF)
    assert bad.value.code == 400
    with pytest.raises(errors.ApiError) as unknown:
        negotiation.decode_object(b"a=b", "text/plain")
    assert unknown.value.code == 415
    assert PROTOBUF in unknown.value.status()["message"]


POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "d"}}


def test_answer_in_protobuf_and_yaml_keeps_status_and_headers() -> None:
    response = Response(orjson.dumps(POD), status_code=201, media_type=JSON)
    response.headers.append("Warning", '299 - "unknown field"')
    encoded = negotiation.answer(f"{PROTOBUF}, {JSON}", response)
    assert encoded.status_code == 201
    assert encoded.headers["content-type"] == PROTOBUF
    assert encoded.headers["warning"] == '299 - "unknown field"'
    assert int(encoded.headers["content-length"]) == len(encoded.body)
    assert pb.decode(encoded.body) == POD
    as_yaml = negotiation.answer("application/yaml", Response(orjson.dumps(POD), media_type=JSON))
    assert as_yaml.headers["content-type"] == YAML
    assert yaml.safe_load(as_yaml.body) == POD


def test_answer_leaves_json_other_media_and_failed_negotiation_alone() -> None:
    plain = Response(b"log line\n", media_type="text/plain")
    assert negotiation.answer(PROTOBUF, plain) is plain
    json_answer = Response(orjson.dumps(POD), media_type=JSON)
    assert negotiation.answer("application/json", json_answer) is json_answer
    assert negotiation.answer("text/html", json_answer) is json_answer
    table = Response(
        orjson.dumps({"apiVersion": "meta.k8s.io/v1", "kind": "Table"}), media_type=JSON
    )
    assert negotiation.answer(PROTOBUF, table) is table  # no protobuf form: as is


def test_a_watch_is_reframed() -> None:
    closed: list[bool] = []

    async def lines() -> AsyncIterator[bytes]:
        try:
            added = orjson.dumps({"type": "ADDED", "object": POD}) + b"\n"
            yield added + orjson.dumps({"type": "MODIFIED", "object": POD})[:10]
            yield orjson.dumps({"type": "MODIFIED", "object": POD})[10:] + b"\n"
        finally:
            closed.append(True)

    stream = StreamingResponse(lines(), media_type=JSON, headers={"Cache-Control": "no-cache"})
    framed = negotiation.answer(f"{PROTOBUF}, {JSON}", stream)
    assert isinstance(framed, StreamingResponse)
    assert framed.headers["content-type"] == f"{PROTOBUF};stream=watch"
    assert framed.headers["cache-control"] == "no-cache"

    async def collect() -> bytes:
        return b"".join([chunk async for chunk in framed.body_iterator])  # type: ignore[misc]

    frames = pb.split_frames(asyncio.run(collect()))
    assert [pb.decode_watch_event(f)["type"] for f in frames] == ["ADDED", "MODIFIED"]
    assert pb.decode_watch_event(frames[1])["object"] == POD
    assert closed == [True]
