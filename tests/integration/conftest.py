"""Fixtures the integration tests share beyond ``tests/conftest.py``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from testkit.kubectl import Kubectl, kubectl_runner
from testkit.processes import ApiServerProcess


@pytest.fixture
def k8s(apiserver: ApiServerProcess) -> Iterator[client.ApiClient]:
    """The official ``kubernetes`` Python client, talking to the session's apiserver."""
    config = client.Configuration()
    config.host = apiserver.url
    with client.ApiClient(config) as api_client:
        yield api_client


@pytest.fixture
def kubectl(apiserver: ApiServerProcess, namespace: str, tmp_path: Path) -> Kubectl:
    """The real kubectl against the session's apiserver, in the test's namespace."""
    return kubectl_runner(apiserver.url, namespace, tmp_path / "cache")
