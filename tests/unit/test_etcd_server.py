"""Which etcd binary navarch runs: never one of the releases etcd advises against."""

from __future__ import annotations

from pathlib import Path

import pytest

from apiserver import etcd_server


def fake_etcd(tmp_path: Path, version: str) -> str:
    path = tmp_path / "etcd"
    path.write_text(f"#!/bin/sh\necho 'etcd Version: {version}'\necho 'Go Version: go1.19'\n")
    path.chmod(0o755)
    return str(path)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    etcd_server.etcd_binary.cache_clear()


@pytest.mark.parametrize("version", ["3.5.0", "3.5.1", "3.5.2"])
def test_releases_with_the_crash_defect_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    monkeypatch.setenv("NAVARCH_ETCD", fake_etcd(tmp_path, version))
    with pytest.raises(FileNotFoundError, match=f"etcd {version}.*advise against"):
        etcd_server.etcd_binary()


@pytest.mark.parametrize("version", ["3.4.23", "3.5.3", "3.5.17"])
def test_other_releases_are_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    binary = fake_etcd(tmp_path, version)
    monkeypatch.setenv("NAVARCH_ETCD", binary)
    assert etcd_server.etcd_binary() == binary
    assert etcd_server.etcd_version(binary) == tuple(int(p) for p in version.split("."))


def test_no_binary_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NAVARCH_ETCD", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(FileNotFoundError, match=r"ensure-etcd\.sh"):
        etcd_server.etcd_binary()
