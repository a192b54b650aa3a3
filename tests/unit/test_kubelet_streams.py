"""Small pure pieces around the streams: Docker's frames and times, the exec Status,
and how the apiserver picks the container and finds the kubelet."""

from __future__ import annotations

import asyncio
import io
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from apiserver import errors
from apiserver.kubeletclient import kubelet_address
from apiserver.subresources.podproxy import pick_container, sendable_close_code
from kubelet.docker_runtime import parse_docker_time, pause_context
from kubelet.dockerstream import read_frames
from kubelet.server import exec_status


def _frame(stream: int, data: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


async def _collect(raw: bytes, tty: bool) -> list[tuple[int, bytes]]:
    reader = asyncio.StreamReader()
    reader.feed_data(raw)
    reader.feed_eof()
    return [chunk async for chunk in read_frames(reader, tty)]


async def test_multiplexed_frames_are_split_by_stream() -> None:
    raw = _frame(1, b"out\n") + _frame(2, b"err\n") + _frame(1, b"") + _frame(1, b"more")
    assert await _collect(raw, tty=False) == [(1, b"out\n"), (2, b"err\n"), (1, b""), (1, b"more")]
    # A frame cut short by the end of the stream still delivers what arrived.
    assert await _collect(_frame(2, b"abcdef")[:-2], tty=False) == [(2, b"abcd")]
    assert await _collect(b"raw tty bytes", tty=True) == [(1, b"raw tty bytes")]


def test_docker_times() -> None:
    assert parse_docker_time("0001-01-01T00:00:00Z") is None
    assert parse_docker_time(None) is None
    stamp = parse_docker_time("2026-01-02T03:04:05.123456789Z")
    assert stamp == pytest.approx(datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC).timestamp())
    assert (
        parse_docker_time("2026-01-02T03:04:05Z")
        == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()
    )
    assert parse_docker_time("2026-01-02T05:04:05.5+02:00") == pytest.approx(
        datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC).timestamp()
    )


def test_pause_context_holds_busybox_and_a_dockerfile(tmp_path: Path) -> None:
    binary = tmp_path / "busybox"
    binary.write_bytes(b"\x7fELF fake")
    with tarfile.open(fileobj=pause_context(binary)) as tar:
        names = tar.getnames()
        dockerfile = tar.extractfile("Dockerfile").read().decode()  # type: ignore[union-attr]
    assert sorted(names) == ["Dockerfile", "busybox"]
    assert dockerfile.startswith("FROM scratch\n")
    assert 'ENTRYPOINT ["/bin/busybox", "sleep"' in dockerfile
    assert isinstance(pause_context(binary), io.BytesIO)


def test_exec_status_carries_the_exit_code() -> None:
    assert exec_status(0, ["true"]) == {"metadata": {}, "status": "Success"}
    failed = exec_status(3, ["sh", "-c", "exit 3"])
    assert failed["status"] == "Failure" and failed["reason"] == "NonZeroExitCode"
    assert failed["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]


def _pod(*containers: str, init: tuple[str, ...] = ()) -> dict:
    return {
        "metadata": {"name": "p"},
        "spec": {
            "containers": [{"name": c} for c in containers],
            "initContainers": [{"name": c} for c in init],
        },
    }


def test_pick_container() -> None:
    assert pick_container(_pod("only"), None) == "only"
    assert pick_container(_pod("a", "b", init=("i",)), "i") == "i"
    with pytest.raises(errors.ApiError) as err:
        pick_container(_pod("a", "b", init=("i",)), "")
    assert err.value.code == 400
    assert err.value.message == (
        "a container name must be specified for pod p, choose one of: [a b] "
        "or one of the init containers: [i]"
    )
    with pytest.raises(errors.ApiError, match="container z is not valid for pod p"):
        pick_container(_pod("a"), "z")


def test_kubelet_address_prefers_internal_ip() -> None:
    node = {
        "metadata": {"name": "n"},
        "status": {
            "addresses": [
                {"type": "Hostname", "address": "n.local"},
                {"type": "InternalIP", "address": "10.0.0.5"},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 12345}},
        },
    }
    assert kubelet_address(node) == ("10.0.0.5", 12345)
    node["status"]["addresses"] = [{"type": "Hostname", "address": "n.local"}]
    del node["status"]["daemonEndpoints"]
    assert kubelet_address(node) == ("n.local", 10250)
    node["status"]["addresses"] = []
    with pytest.raises(errors.ApiError, match="reports no address"):
        kubelet_address(node)


@pytest.mark.parametrize(
    ("code", "normal", "sent"),
    [(1000, True, 1000), (1001, True, 1001), (1011, True, 1011), (4000, True, 4000),
     (1005, True, 1000), (None, True, 1000), (1006, False, 1011), (None, False, 1011),
     (1015, False, 1011), (1004, True, 1000), (999, True, 1000), (5000, False, 1011)],
)  # fmt: skip
def test_relay_passes_on_only_close_codes_a_close_frame_may_carry(
    code: int | None, normal: bool, sent: int
) -> None:
    # 1005/1006/1015 report what happened and are refused on the wire (the relay used to
    # pass 1006 on, and the send failed: kubectl saw no close frame at all).
    assert sendable_close_code(code, normal=normal) == sent
