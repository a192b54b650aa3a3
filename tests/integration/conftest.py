"""Fixtures the integration tests share beyond ``tests/conftest.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client

from testkit.processes import ApiServerProcess


@pytest.fixture
def k8s(apiserver: ApiServerProcess) -> Iterator[client.ApiClient]:
    """The official ``kubernetes`` Python client, talking to the session's apiserver."""
    config = client.Configuration()
    config.host = apiserver.url
    with client.ApiClient(config) as api_client:
        yield api_client
