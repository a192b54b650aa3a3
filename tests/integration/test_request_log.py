"""The apiserver's request log, read from real apiserver processes' log files."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.kubectl import kubectl_runner
from testkit.processes import ApiServerProcess, free_port, wait_until

pytestmark = pytest.mark.integration


def _apiserver(etcd: str, session_dir: Path, *flags: str) -> Iterator[ApiServerProcess]:
    prefix = f"/reqlog-{uuid.uuid4().hex[:8]}"
    proc = ApiServerProcess.create(etcd, session_dir, "--etcd-prefix", prefix, *flags)
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def quiet(etcd: str, session_dir: Path) -> Iterator[ApiServerProcess]:
    """At the default level."""
    yield from _apiserver(etcd, session_dir)


@pytest.fixture(scope="module")
def chatty(etcd: str, session_dir: Path) -> Iterator[ApiServerProcess]:
    yield from _apiserver(etcd, session_dir, "-v=2")


def _log(proc: ApiServerProcess) -> str:
    return proc.log_path.read_text(errors="replace")


@pytest.mark.kubectl
def test_at_v2_every_request_of_kubectl_has_its_line(
    chatty: ApiServerProcess, tmp_path: Path
) -> None:
    kubectl = kubectl_runner(chatty.url, "default", tmp_path / "cache")
    kubectl("get", "configmaps")
    kubectl("get", "configmap", "nope-reqlog", check=False)

    def lines() -> list[str]:
        return [line for line in _log(chatty).splitlines() if 'userAgent="kubectl/' in line]

    wait_until(lambda: len(lines()) >= 2, timeout=5, what="kubectl's requests in the log")
    listed = [x for x in lines() if 'URI="/api/v1/namespaces/default/configmaps?limit=500"' in x]
    assert listed and 'verb="LIST"' in listed[0] and listed[0].endswith("resp=200")
    assert 'srcIP="127.0.0.1:' in listed[0] and 'latency="' in listed[0]
    missing = [x for x in lines() if "configmaps/nope-reqlog" in x]
    assert missing and 'verb="GET"' in missing[0] and missing[0].endswith("resp=404")


def test_by_default_successes_are_quiet_and_a_5xx_has_its_traceback(
    quiet: ApiServerProcess,
) -> None:
    api = quiet.client(timeout=30)
    assert api.get("/api/v1/namespaces/default/configmaps").status_code == 200
    assert api.get("/api/v1/namespaces/default/configmaps/nope-quiet").status_code == 404
    # A pod whose node's kubelet does not answer: its log is a 500 "error dialing backend".
    port = free_port()
    node = {
        "metadata": {"name": "reqlog-node"},
        "status": {
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
        },
    }
    assert api.post("/api/v1/nodes", json=node).status_code == 201
    pod = {
        "metadata": {"name": "reqlog-pod"},
        "spec": {"nodeName": "reqlog-node", "containers": [{"name": "c", "image": "x"}]},
    }
    assert api.post("/api/v1/namespaces/default/pods", json=pod).status_code == 201
    resp = api.get("/api/v1/namespaces/default/pods/reqlog-pod/log")
    assert resp.status_code == 500 and "error dialing backend" in resp.text

    def error_line() -> str | None:
        text = _log(quiet)
        at = text.find('URI="/api/v1/namespaces/default/pods/reqlog-pod/log"')
        return text[at:] if at >= 0 else None

    tail = wait_until(error_line, timeout=5, what="the 5xx in the log")
    assert isinstance(tail, str)
    assert tail.splitlines()[0].endswith("resp=500")
    assert "Traceback (most recent call last)" in tail and "error dialing backend" in tail
    assert "nope-quiet" not in _log(quiet)
    assert 'URI="/api/v1/namespaces/default/configmaps"' not in _log(quiet)
