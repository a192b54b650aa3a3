"""Node IPAM for real: controller-managers (two, with leader election) over a real
apiserver and etcd give Nodes distinct podCIDRs, release a deleted Node's, say when
none is left, and after both are killed a new one counts every Node's block before it
allocates (a cluster CIDR of four /24s, so each step has one right answer)."""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit.processes import ApiServerProcess, DaemonProcess, controller_manager, wait_until

pytestmark = pytest.mark.integration

SUITE = f"ipam-{uuid.uuid4().hex[:6]}"
CLUSTER = "10.250.0.0/22"
BLOCKS = {f"10.250.{i}.0/24" for i in range(4)}


@pytest.fixture(scope="module")
def own_apiserver(etcd: str, session_dir: Path) -> Iterator[ApiServerProcess]:
    """An apiserver of our own (its own etcd prefix): this controller-manager hands
    podCIDRs to every Node it sees, and other modules' Nodes are not its business."""
    proc = ApiServerProcess.create(etcd, session_dir, "--etcd-prefix", f"/{SUITE}")
    proc.start()
    yield proc
    proc.stop()


def manager(url: str, session_dir: Path, name: str) -> DaemonProcess:
    return controller_manager(
        url, session_dir,
        "--controllers", "nodeipam",
        "--leader-elect-resource-name", f"kcm-{SUITE}",
        "--allocate-node-cidrs", "--cluster-cidr", CLUSTER, "--node-cidr-mask-size", "24",
        name=f"{SUITE}-{name}",
    )  # fmt: skip


def create_node(api: httpx.Client, name: str) -> None:
    resp = api.post("/api/v1/nodes", json={"metadata": {"name": name}})
    assert resp.status_code == 201, resp.text


def pod_cidr(api: httpx.Client, name: str) -> str | None:
    spec = api.get(f"/api/v1/nodes/{name}").json().get("spec") or {}
    if spec.get("podCIDR"):
        assert spec["podCIDRs"] == [spec["podCIDR"]]
    return spec.get("podCIDR")


def wait_cidr(api: httpx.Client, name: str, timeout: float = 20.0) -> str:
    found = wait_until(lambda: pod_cidr(api, name), timeout, 0.1, what=f"{name}'s podCIDR")
    return str(found)


def no_cidr_event(api: httpx.Client, name: str) -> dict[str, Any] | None:
    events = api.get("/api/v1/namespaces/default/events").json()["items"]
    for event in events:
        if event["involvedObject"].get("name") == name and event["reason"] == "CIDRNotAvailable":
            return dict(event)
    return None


def all_cidrs(api: httpx.Client) -> dict[str, str | None]:
    nodes = api.get("/api/v1/nodes").json()["items"]
    return {n["metadata"]["name"]: (n.get("spec") or {}).get("podCIDR") for n in nodes}


def test_distinct_cidrs_release_exhaustion_and_restart(own_apiserver: ApiServerProcess, session_dir: Path) -> None:  # fmt: skip
    url = own_apiserver.url
    first = [manager(url, session_dir, "a"), manager(url, session_dir, "b")]
    later: DaemonProcess | None = None
    with own_apiserver.client(timeout=10) as api:
        try:
            for proc in first:
                proc.start()
            names = [f"n{i}" for i in range(1, 5)]
            for name in names:
                create_node(api, name)
            got = {name: wait_cidr(api, name) for name in names}
            assert set(got.values()) == BLOCKS  # four nodes, four distinct blocks

            # None left: an Event, the condition, and no podCIDR.
            create_node(api, "n5")
            event = wait_until(lambda: no_cidr_event(api, "n5"), 20, 0.2, what="CIDRNotAvailable")
            assert isinstance(event, dict) and event["type"] == "Warning"
            assert CLUSTER in event["message"]
            node = api.get("/api/v1/nodes/n5").json()
            cond = {c["type"]: c for c in node["status"]["conditions"]}["NetworkUnavailable"]
            assert (cond["status"], cond["reason"]) == ("True", "CIDRNotAvailable")
            assert pod_cidr(api, "n5") is None

            # A deleted node's block is released, and the waiting node gets it.
            assert api.delete("/api/v1/nodes/n2").status_code == 200
            assert wait_cidr(api, "n5") == got["n2"]

            # Both managers die; a new one counts every Node's block before it
            # allocates: with all four held, the new node gets none.
            for proc in first:
                proc.stop(signal.SIGKILL)
            later = manager(url, session_dir, "c")
            later.start()
            create_node(api, "n6")
            wait_until(lambda: no_cidr_event(api, "n6"), 30, 0.2, what="CIDRNotAvailable for n6")
            assert pod_cidr(api, "n6") is None
            assert api.delete("/api/v1/nodes/n3").status_code == 200
            assert wait_cidr(api, "n6") == got["n3"]

            final = all_cidrs(api)
            held = [c for c in final.values() if c]
            assert sorted(held) == sorted(BLOCKS), final
        finally:
            for proc in [*first, later]:
                if proc is not None:
                    proc.stop()
