"""Fixtures the integration tests share beyond ``tests/conftest.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit.kubectl import Kubectl, kubectl_runner
from testkit.processes import ApiServerProcess


@pytest.fixture
def kubectl(apiserver: ApiServerProcess, namespace: str, tmp_path: Path) -> Kubectl:
    """The real kubectl against the session's apiserver, in the test's namespace."""
    return kubectl_runner(apiserver.url, namespace, tmp_path / "cache")
