"""The host side of the compose cluster that needs no Docker: which images a pod would
still pull after ``navarch image load``, and when a node's Lease counts as fresh."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cli.compose import _after
from cli.imageload import pulls_by_default, warnings


@pytest.mark.parametrize(
    ("image", "pulls"),
    [
        ("busybox", True),
        ("busybox:latest", True),
        ("registry.local:5000/team/app", True),
        ("registry.local:5000/team/app:latest", True),
        ("navarch/sample-web:1", False),
        ("registry.local:5000/team/app:2", False),
        ("busybox@sha256:" + "a" * 64, False),
    ],
)
def test_latest_or_untagged_images_are_pulled_by_default(image: str, pulls: bool) -> None:
    assert pulls_by_default(image) is pulls


def pod(name: str, image: str, policy: str | None, init: bool = False) -> dict:
    container = {"name": "c", "image": image} | ({"imagePullPolicy": policy} if policy else {})
    key = "initContainers" if init else "containers"
    return {"metadata": {"namespace": "ns", "name": name}, "spec": {key: [container]}}


def test_warnings_name_latest_images_and_pods_that_always_pull() -> None:
    pods = [
        pod("always", "docker.io/library/app:1", "Always"),
        pod("init-always", "app:1", "Always", init=True),
        pod("if-present", "app:1", "IfNotPresent"),
        pod("other-image", "other:1", "Always"),
    ]
    found = warnings(["app:1", "tool"], pods)
    assert len(found) == 3
    assert "tool is tagged ':latest'" in found[0]
    assert "pod ns/always container c has imagePullPolicy: Always" in found[1]
    assert "pod ns/init-always" in found[2]


def test_no_warning_for_a_tagged_image_no_pod_pulls() -> None:
    assert warnings(["app:1"], [pod("p", "app:1", None)]) == []


def test_a_lease_renewed_before_the_start_is_not_fresh() -> None:
    since = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert _after("2026-01-01T12:00:00.000001Z", since)
    assert _after("2026-01-01T12:00:00Z", since)
    assert not _after("2026-01-01T11:59:59.999999Z", since)
    assert not _after(None, since)
    assert not _after("yesterday", since)
