"""``pki.flags``: the apiserver's flags name files the PKI phases really make."""

from __future__ import annotations

from pathlib import Path

import pki
from pki.certlist import ClusterPKIConfig
from pki.flags import apiserver_pki_flags


def _files(flags: list[str]) -> dict[str, str]:
    return {flags[i]: flags[i + 1] for i in range(0, len(flags), 2)}


def test_every_file_the_flags_name_exists(tmp_path: Path) -> None:
    pki.ensure(tmp_path / "pki", ClusterPKIConfig())
    flags = _files(apiserver_pki_flags(tmp_path / "pki", encrypt_secrets=True))
    assert "--encryption-provider-config" in flags
    assert "--kubelet-certificate-authority" in flags
    for flag, path in flags.items():
        assert Path(path).is_file(), (flag, path)


def test_kubeadm_default_does_not_verify_kubelets(tmp_path: Path) -> None:
    flags = _files(apiserver_pki_flags(tmp_path, verify_kubelets=False))
    assert "--kubelet-certificate-authority" not in flags
    assert "--encryption-provider-config" not in flags
    assert flags["--client-ca-file"] == str(tmp_path / "ca.crt")
