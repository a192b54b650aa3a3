"""The ServiceAccount controller in a real controller-manager: ``default`` everywhere."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from testkit.processes import ApiServerProcess, DaemonProcess, controllers, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def manager(apiserver: ApiServerProcess, session_dir: Path) -> Iterator[DaemonProcess]:
    """The controller, once it runs: it has given a namespace made after its start an
    account (so the tests time the controller, not the process starting)."""
    with controllers(apiserver.url, session_dir, "serviceaccounts", "serviceaccount") as proc:
        api = apiserver.client(timeout=10)
        probe = f"sa-probe-{uuid.uuid4().hex[:8]}"
        api.post("/api/v1/namespaces", json={"metadata": {"name": probe}}).raise_for_status()
        path = f"/api/v1/namespaces/{probe}/serviceaccounts/default"
        proc.wait_for(lambda: api.get(path).status_code == 200, 60, what="the controller")
        api.delete(f"/api/v1/namespaces/{probe}")
        yield proc


def _default_account(core: client.CoreV1Api, namespace: str) -> client.V1ServiceAccount | None:
    try:
        return core.read_namespaced_service_account("default", namespace)
    except ApiException as err:
        if err.status == 404:
            return None
        raise


def test_a_new_namespace_gets_a_default_service_account_at_once(
    manager: DaemonProcess, k8s: client.ApiClient
) -> None:
    core = client.CoreV1Api(k8s)
    name = f"sa-{uuid.uuid4().hex[:8]}"
    ns = core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    try:
        sa = wait_until(lambda: _default_account(core, name), timeout=10, what="default SA")
        assert isinstance(sa, client.V1ServiceAccount)
        # Within a second of the namespace, by the apiserver's own clock (timestamps
        # have one-second precision, so one tick of difference is the most allowed).
        created: datetime = sa.metadata.creation_timestamp
        gap = (created - ns.metadata.creation_timestamp).total_seconds()
        assert 0 <= gap <= 1, gap
    finally:
        core.delete_namespace(name)


def test_a_deleted_default_service_account_comes_back(
    manager: DaemonProcess, k8s: client.ApiClient, namespace: str
) -> None:
    core = client.CoreV1Api(k8s)
    first = wait_until(lambda: _default_account(core, namespace), timeout=10, what="default SA")
    assert isinstance(first, client.V1ServiceAccount)
    core.delete_namespaced_service_account("default", namespace)

    def replaced() -> client.V1ServiceAccount | None:
        sa = _default_account(core, namespace)
        return sa if sa is not None and sa.metadata.uid != first.metadata.uid else None

    again = wait_until(replaced, timeout=10, what="a new default SA")
    assert isinstance(again, client.V1ServiceAccount)


def test_a_terminating_namespace_gets_none(
    manager: DaemonProcess, k8s: client.ApiClient, namespace: str
) -> None:
    core = client.CoreV1Api(k8s)
    wait_until(lambda: _default_account(core, namespace), timeout=10, what="default SA")
    # No namespace controller runs here, so the namespace stays Terminating.
    core.delete_namespace(namespace)
    core.delete_namespaced_service_account("default", namespace)

    def terminating_without_account() -> bool:
        ns = core.read_namespace(namespace)
        return ns.status.phase == "Terminating" and _default_account(core, namespace) is None

    wait_until(terminating_without_account, timeout=10, what="namespace terminating")
    # One worker takes namespaces in order: once the canary has its account, the
    # terminating namespace has been looked at too, and must still have none.
    canary = f"sa-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=canary)))
    try:
        wait_until(lambda: _default_account(core, canary), timeout=10, what="canary SA")
        assert _default_account(core, namespace) is None
    finally:
        core.delete_namespace(canary)
