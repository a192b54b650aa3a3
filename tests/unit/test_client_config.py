from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from apiclient import errors
from apiclient.config import ConfigError, load_config, write_kubeconfig


def kubeconfig(path: Path, current: str | None, contexts: dict[str, tuple[str, str, str]],
               clusters: dict[str, dict], users: dict[str, dict]) -> Path:  # fmt: skip
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": c} for n, c in clusters.items()],
        "users": [{"name": n, "user": u} for n, u in users.items()],
        "contexts": [
            {"name": n, "context": {"cluster": c, "user": u, "namespace": ns}}
            for n, (c, u, ns) in contexts.items()
        ],
    }
    if current:
        doc["current-context"] = current
    path.write_text(yaml.safe_dump(doc))
    return path


def test_current_and_named_contexts(tmp_path: Path) -> None:
    path = kubeconfig(
        tmp_path / "config",
        "dev",
        {"dev": ("c1", "u1", "team-a"), "prod": ("c2", "u2", "")},
        {
            "c1": {"server": "http://127.0.0.1:1"},
            "c2": {"server": "https://prod:6443/", "certificate-authority": "ca.crt"},
        },
        {"u1": {"token": "t1"}, "u2": {"tokenFile": "tok"}},
    )
    dev = load_config(path)
    assert (dev.server, dev.namespace, dev.token) == ("http://127.0.0.1:1", "team-a", "t1")
    prod = load_config(path, context="prod")
    assert prod.server == "https://prod:6443"
    assert prod.namespace == "default"
    assert prod.ca_file == str(tmp_path / "ca.crt")  # relative to the kubeconfig
    assert prod.token_file == str(tmp_path / "tok")
    with pytest.raises(ConfigError, match='context "nope" is not defined'):
        load_config(path, context="nope")


def test_kubeconfig_env_merges_first_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = kubeconfig(tmp_path / "a", None, {"x": ("c", "u", "from-a")},
                   {"c": {"server": "http://a"}}, {"u": {}})  # fmt: skip
    b = kubeconfig(tmp_path / "b", "x", {"x": ("c", "u", "from-b")},
                   {"c": {"server": "http://b"}}, {"u": {}})  # fmt: skip
    monkeypatch.setenv("KUBECONFIG", f"{a}:{b}")
    cfg = load_config()
    assert (cfg.server, cfg.namespace, cfg.context) == ("http://a", "from-a", "x")


def test_inline_data_and_server_override(tmp_path: Path) -> None:
    data = base64.b64encode(b"-----BEGIN CERTIFICATE-----\n").decode()
    path = kubeconfig(tmp_path / "c", "k", {"k": ("c", "u", "")},
                      {"c": {"server": "http://x", "certificate-authority-data": data}},
                      {"u": {}})  # fmt: skip
    cfg = load_config(path, server="http://override", namespace="ns")
    assert cfg.server == "http://override" and cfg.namespace == "ns"
    assert cfg.ca_file and Path(cfg.ca_file).read_bytes() == b"-----BEGIN CERTIFICATE-----\n"


def test_no_config_needs_a_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="no current context"):
        load_config()
    assert load_config(server="http://s/").server == "http://s"


def test_write_kubeconfig_merges_and_selects(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "config", "other", {"other": ("oc", "ou", "")},
                      {"oc": {"server": "http://other"}}, {"ou": {}})  # fmt: skip
    write_kubeconfig(path, name="navarch", server="http://127.0.0.1:6443")
    write_kubeconfig(path, name="navarch", server="http://127.0.0.1:6443")
    cfg = load_config(path)
    assert (cfg.context, cfg.server) == ("navarch", "http://127.0.0.1:6443")
    assert load_config(path, context="other").server == "http://other"
    doc = yaml.safe_load(path.read_text())
    assert [c["name"] for c in doc["contexts"]] == ["other", "navarch"]


def test_status_becomes_typed_error() -> None:
    err = errors.from_status(
        {
            "kind": "Status",
            "code": 422,
            "reason": "Invalid",
            "message": "bad",
            "details": {"causes": [{"field": "spec.x"}]},
        }
    )
    assert isinstance(err, errors.InvalidError) and err.fields == ["spec.x"]
    assert isinstance(errors.from_status({"code": 409, "reason": "AlreadyExists"}),
                      errors.AlreadyExistsError)  # fmt: skip
    assert isinstance(errors.from_status({"code": 410}), errors.GoneError)
    assert isinstance(errors.from_status({"code": 502}), errors.InternalError)


def test_in_cluster_config_from_the_mounted_service_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apiclient.config import in_cluster_config

    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ConfigError):
        in_cluster_config(tmp_path)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    with pytest.raises(ConfigError, match="token"):
        in_cluster_config(tmp_path)
    (tmp_path / "token").write_text("first\n")
    (tmp_path / "ca.crt").write_text("ca")
    (tmp_path / "namespace").write_text("team-a")
    config = in_cluster_config(tmp_path)
    assert config.server == "https://10.96.0.1:443"
    assert config.namespace == "team-a"
    assert config.ca_file == str(tmp_path / "ca.crt")
    assert config.bearer_token() == "first"
    (tmp_path / "token").write_text("rotated")
    assert config.bearer_token() == "rotated"  # re-read: the kubelet rotates it
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "fd00::1")
    assert in_cluster_config(tmp_path).server == "https://[fd00::1]:443"
