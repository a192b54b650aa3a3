"""Shared fixtures: a real etcd and a real apiserver process per test session, and
what tests need from the machine (the real ``kubectl``, a Docker Engine).

A test that needs something the machine lacks is skipped on a developer's machine and
fails under CI (``CI=true``, as CI runs ``.ci/run``): there, ``make test`` starts a Docker
Engine and the machine has kubectl, so a missing one is a broken setup, not a reason
to report a green run that tested less.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import httpx
import pytest
from kubernetes import client

from testkit import images
from testkit.processes import ApiServerProcess, start_etcd


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def unavailable(what: str) -> NoReturn:
    """``what`` a test needs is missing: skip it, or fail it under CI (``CI=true``)."""
    if under_ci():
        pytest.fail(f"{what}, and CI=true: CI must run every test", pytrace=False)
    pytest.skip(what)


def pytest_runtest_setup(item: pytest.Item) -> None:
    # Runs before the test's fixtures are set up, so a missing kubectl starts nothing.
    if item.get_closest_marker("kubectl") is not None and shutil.which("kubectl") is None:
        unavailable("kubectl is not installed")


def _docker_answers() -> bool:
    try:
        client = images.docker_client()
    except Exception:
        return False
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        client.close()


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """A Docker Engine answers (tests that run real containers depend on this)."""
    if not _docker_answers():
        unavailable("no Docker Engine answers (run deploy/ensure-docker.sh)")


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("navarch")


@pytest.fixture(scope="session")
def etcd(session_dir: Path) -> Iterator[str]:
    """URL of a real etcd server that lives for the whole session."""
    proc = start_etcd(session_dir / "etcd")
    yield proc.url
    proc.stop()


@pytest.fixture(scope="session")
def apiserver(etcd: str, session_dir: Path) -> Iterator[ApiServerProcess]:
    """A real apiserver process over the session's etcd, serving HTTPS with a certificate
    of the session's test CA (``testkit.testca``), which every client here verifies."""
    # The node tests give pods their not-ready/unreachable tolerations through the
    # controller-manager's flags (2 s); the admission plugin would fix 300 s first.
    proc = ApiServerProcess.create(
        etcd, session_dir,
        "--watch-bookmark-interval", "1",
        "--disable-admission-plugins", "DefaultTolerationSeconds",
    )  # fmt: skip
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def api(apiserver: ApiServerProcess) -> Iterator[httpx.Client]:
    with apiserver.client(timeout=30) as client:
        yield client


@pytest.fixture
def namespace(api: httpx.Client) -> Iterator[str]:
    """A fresh namespace for one test, removed afterwards."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    resp = api.post("/api/v1/namespaces", json={"metadata": {"name": name}})
    assert resp.status_code == 201, resp.text
    yield name
    api.delete(f"/api/v1/namespaces/{name}")


@pytest.fixture
def k8s(apiserver: ApiServerProcess) -> Iterator[client.ApiClient]:
    """The official ``kubernetes`` Python client, talking to the session's apiserver."""
    config = client.Configuration()
    config.host = apiserver.url
    config.ssl_ca_cert = str(apiserver.ca_file)
    with client.ApiClient(config) as api_client:
        yield api_client
