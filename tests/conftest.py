"""Shared fixtures: a real etcd and a real apiserver process per test session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from testkit.processes import ApiServerProcess, start_etcd


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
    """A real apiserver process over the session's etcd."""
    proc = ApiServerProcess.create(etcd, session_dir, "--watch-bookmark-interval", "1")
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def api(apiserver: ApiServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=apiserver.url, timeout=30) as client:
        yield client


@pytest.fixture
def namespace(api: httpx.Client) -> Iterator[str]:
    """A fresh namespace for one test, removed afterwards."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    resp = api.post("/api/v1/namespaces", json={"metadata": {"name": name}})
    assert resp.status_code == 201, resp.text
    yield name
    api.delete(f"/api/v1/namespaces/{name}")
