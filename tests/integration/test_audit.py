"""The audit log of a real secure apiserver (``--audit-policy-file``,
``--audit-log-path``): JSON lines in the ``audit.k8s.io/v1`` Event shape, at the level
the first matching rule gives, with every stage; 401s and 403s are logged; a Secret's
values appear nowhere in the log, whatever the policy says."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from testkit.processes import wait_until
from testkit.secure import SecureControlPlane, user

pytestmark = pytest.mark.integration

MALLORY = user("mallory")
POLICY = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "omitStages": ["RequestReceived"],
    "rules": [
        {"level": "None", "nonResourceURLs": ["/readyz*", "/healthz*", "/livez*"]},
        {"level": "RequestResponse", "resources": [{"group": "", "resources": ["configmaps"]}]},
        # Asks for everything, and still gets no Secret body.
        {"level": "RequestResponse", "resources": [{"group": "", "resources": ["secrets"]}]},
        {"level": "Metadata"},
    ],
}


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SecureControlPlane, Path]]:
    root = tmp_path_factory.mktemp("audit")
    policy = root / "policy.yaml"
    policy.write_text(yaml.safe_dump(POLICY))
    log = root / "logs" / "audit.log"
    p = SecureControlPlane.start(
        root / "plane",
        "--authorization-mode", "Node,RBAC",
        "--audit-policy-file", str(policy),
        "--audit-log-path", str(log),
        extra_users=(MALLORY,),
    )  # fmt: skip
    yield p, log
    p.stop()


def _events(log: Path, marker: str) -> list[dict[str, Any]]:
    """The events whose line names ``marker`` (in the URI or a logged body)."""
    return [orjson.loads(line) for line in log.read_bytes().splitlines() if marker in line.decode()]


def test_writes_and_refusals_are_logged_at_their_level(
    plane: tuple[SecureControlPlane, Path],
) -> None:
    cluster, log = plane
    name = f"cfg-{uuid.uuid4().hex[:6]}"
    with cluster.client("admin") as admin:
        cm = {"metadata": {"name": name}, "data": {"colour": "blue"}}
        assert admin.post("/api/v1/namespaces/default/configmaps", json=cm).status_code == 201
    with cluster.client(MALLORY.file) as mallory:
        assert mallory.get(f"/api/v1/namespaces/default/configmaps/{name}").status_code == 403
    with cluster.client(None, token="forged") as stranger:
        assert stranger.get(f"/api/v1/namespaces/default/configmaps/{name}").status_code == 401

    def three() -> list[dict[str, Any]]:
        found = _events(log, name)
        return found if len(found) >= 3 else []

    created, forbidden, unauthorized = wait_until(three, 10, what="three events")  # type: ignore[misc]
    assert created["kind"] == "Event" and created["apiVersion"] == "audit.k8s.io/v1"
    assert (created["level"], created["stage"], created["verb"]) == (
        "RequestResponse",
        "ResponseComplete",
        "create",
    )
    assert created["user"]["username"] == "kubernetes-admin"
    assert created["objectRef"] == {
        "resource": "configmaps",
        "namespace": "default",
        "apiVersion": "v1",
    }
    assert created["responseStatus"]["code"] == 201
    assert created["requestObject"]["data"] == {"colour": "blue"}
    assert created["responseObject"]["metadata"]["name"] == name
    assert created["annotations"]["authorization.k8s.io/decision"] == "allow"
    assert forbidden["user"]["username"] == "mallory"
    assert forbidden["responseStatus"]["code"] == 403
    assert forbidden["annotations"]["authorization.k8s.io/decision"] == "forbid"
    assert "forbidden" in forbidden["responseStatus"]["message"]
    assert (unauthorized["stage"], unauthorized["user"]) == ("ResponseStarted", {})
    assert unauthorized["responseStatus"]["code"] == 401
    assert not [e for e in _events(log, "/readyz") if e]  # level None


def test_secret_values_never_reach_the_log(plane: tuple[SecureControlPlane, Path]) -> None:
    cluster, log = plane
    name = f"sec-{uuid.uuid4().hex[:6]}"
    value = f"s3cr3t-{uuid.uuid4().hex}"
    encoded = base64.b64encode(value.encode()).decode()
    with cluster.client("admin") as admin:
        secret = {"metadata": {"name": name}, "data": {"password": encoded}}
        assert admin.post("/api/v1/namespaces/default/secrets", json=secret).status_code == 201
        assert admin.get(f"/api/v1/namespaces/default/secrets/{name}").status_code == 200

    def secrets() -> list[dict[str, Any]]:
        found = _events(log, "/secrets")
        return found if len(found) >= 2 else []

    events = wait_until(secrets, 10, what="the create and the get")
    assert isinstance(events, list)
    assert {e["level"] for e in events} == {"Metadata"}
    assert {e["verb"] for e in events} >= {"create", "get"}
    raw = log.read_bytes()
    assert value.encode() not in raw and encoded.encode() not in raw
