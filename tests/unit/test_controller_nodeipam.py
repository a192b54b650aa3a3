"""Node IPAM: the block set, and the controller over a fake apiserver (allocation,
release, rebuild after a restart, exhaustion, a podCIDR set by someone else)."""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

import pytest

from apiclient import errors
from apiclient.informer import Store
from apitypes.core import Node
from controllers.base import Clock, ControllerContext, Options
from controllers.nodeipam import (
    CIDR_ASSIGNED,
    CIDR_NOT_AVAILABLE,
    CIDRExhaustedError,
    CidrSet,
    NodeIpamController,
    check_options,
)


def net(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text)


# --- the block set -------------------------------------------------------------------------


def test_blocks_go_round_robin_and_released_ones_come_back_last():
    cidrs = CidrSet("10.244.0.0/22", 24)
    assert cidrs.size == 4
    got = [str(cidrs.allocate_next()) for _ in range(3)]
    assert got == ["10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"]
    cidrs.release(net("10.244.0.0/24"))
    # The next one is after the last handed out, not the one just given back.
    assert str(cidrs.allocate_next()) == "10.244.3.0/24"
    assert str(cidrs.allocate_next()) == "10.244.0.0/24"
    with pytest.raises(CIDRExhaustedError, match=r"all 4 /24 blocks of 10\.244\.0\.0/22"):
        cidrs.allocate_next()
    assert cidrs.allocated == 4


def test_occupy_marks_every_block_a_cidr_covers_and_refuses_outsiders():
    cidrs = CidrSet("10.244.0.0/16", 24)
    cidrs.occupy(net("10.244.4.0/23"))  # two blocks
    cidrs.occupy(net("10.244.9.128/25"))  # inside one block
    assert cidrs.allocated == 3
    assert not cidrs.is_free(net("10.244.5.0/24"))
    assert not cidrs.is_free(net("10.244.9.0/24"))
    cidrs.occupy(net("10.244.4.0/24"))  # idempotent
    assert cidrs.allocated == 3
    with pytest.raises(ValueError, match="outside the cluster CIDR"):
        cidrs.occupy(net("10.245.0.0/24"))
    with pytest.raises(ValueError, match="does not fit"):
        CidrSet("10.244.0.0/16", 8)
    v6 = CidrSet("fd00:10:244::/56", 64)
    assert str(v6.allocate_next()) == "fd00:10:244::/64"
    assert str(v6.allocate_next()) == "fd00:10:244:1::/64"


def test_the_service_range_is_never_a_nodes():
    opts = Options(
        allocate_node_cidrs=True, cluster_cidr="10.0.0.0/22", service_cluster_ip_range="10.0.1.0/24"
    )
    (cidrs,) = check_options(opts)
    got = {str(cidrs.allocate_next()) for _ in range(3)}
    assert got == {"10.0.0.0/24", "10.0.2.0/24", "10.0.3.0/24"}
    with pytest.raises(ValueError, match="--cluster-cidr"):
        check_options(Options(allocate_node_cidrs=True, cluster_cidr="10.0.0.1/16"))
    with pytest.raises(ValueError, match="needs --cluster-cidr"):
        check_options(Options(allocate_node_cidrs=True))


# --- the controller over a fake apiserver ----------------------------------------------------


class FakeInformer:
    def __init__(self) -> None:
        self.store: Store[Node] = Store()
        self.handlers: list[Any] = []

    def add_handler(self, on_add: Any, on_update: Any, on_delete: Any) -> None:
        self.handlers.append((on_add, on_update, on_delete))


class FakeFactory:
    def __init__(self) -> None:
        self.nodes = FakeInformer()

    def informer(self, model: type, **_: Any) -> FakeInformer:
        assert model is Node
        return self.nodes


class FakeRecorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, str]] = []

    def event(self, obj: Any, kind: str, reason: str, message: str) -> None:
        self.events.append((obj.metadata.name, kind, reason, message))


class FakeApi:
    """Nodes as the apiserver keeps them, with its rule that a podCIDR is set once;
    writes show in the informer's store only when ``deliver`` is called."""

    def __init__(self, store: Store[Node]) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        self.store = store
        self.patches: list[tuple[str, dict[str, Any], str | None]] = []

    def add(self, name: str, cidr: str | None = None) -> None:
        spec: dict[str, Any] = {"podCIDR": cidr, "podCIDRs": [cidr]} if cidr else {}
        self.nodes[name] = {
            "metadata": {"name": name, "uid": str(uuid.uuid4())},
            "spec": spec,
            "status": {"conditions": []},
        }
        self.deliver(name)

    def remove(self, name: str) -> None:
        del self.nodes[name]
        self.store.remove(name)

    def deliver(self, name: str) -> None:
        self.store.put(name, Node.model_validate(self.nodes[name]))

    async def patch(
        self, model: type, name: str, body: dict[str, Any], namespace: str | None = None,
        *, patch_type: str = "strategic", subresource: str | None = None,
    ) -> Node:  # fmt: skip
        self.patches.append((name, body, subresource))
        node = self.nodes.get(name)
        if node is None:
            raise errors.NotFoundError({"code": 404, "message": f"nodes {name} not found"})
        if subresource == "status":
            conds = {c["type"]: c for c in node["status"]["conditions"]}
            for cond in body["status"]["conditions"]:
                conds[cond["type"]] = cond
            node["status"]["conditions"] = list(conds.values())
        else:
            old = node["spec"].get("podCIDRs")
            if old and old != body["spec"]["podCIDRs"]:
                raise errors.InvalidError({"code": 422, "message": "may not change podCIDR"})
            node["spec"].update(body["spec"])
        return Node.model_validate(node)


def controller(cluster_cidr: str = "10.244.0.0/16", mask: int = 24) -> tuple[NodeIpamController, FakeApi, FakeRecorder]:  # fmt: skip
    factory = FakeFactory()
    api = FakeApi(factory.nodes.store)
    recorder = FakeRecorder()
    ctx = ControllerContext(
        client=api,  # type: ignore[arg-type]
        factory=factory,  # type: ignore[arg-type]
        recorder=recorder,  # type: ignore[arg-type]
        options=Options(allocate_node_cidrs=True, cluster_cidr=cluster_cidr, node_cidr_mask_size=mask),
        clock=Clock(),
    )  # fmt: skip
    return NodeIpamController(ctx), api, recorder


def cidr_of(api: FakeApi, name: str) -> str | None:
    spec = api.nodes[name]["spec"]
    assert spec.get("podCIDRs", [spec.get("podCIDR")]) == [spec.get("podCIDR")]
    return spec.get("podCIDR")


async def reconcile_all(ctl: NodeIpamController, api: FakeApi, names: list[str]) -> None:
    for name in names:
        await ctl.reconcile(name)
        if name in api.nodes:
            api.deliver(name)


async def test_nodes_get_distinct_blocks_and_a_deleted_nodes_block_is_released():
    ctl, api, _ = controller()
    for name in ("a", "b", "c"):
        api.add(name)
    ctl.rebuild()
    await reconcile_all(ctl, api, ["a", "b", "c"])
    got = {n: cidr_of(api, n) for n in ("a", "b", "c")}
    assert got == {"a": "10.244.0.0/24", "b": "10.244.1.0/24", "c": "10.244.2.0/24"}
    # Reconciling again changes nothing (no second patch).
    before = len(api.patches)
    await reconcile_all(ctl, api, ["a", "b", "c"])
    assert len(api.patches) == before
    api.remove("b")
    await ctl.reconcile("b")
    assert ctl.sets[0].is_free(net("10.244.1.0/24"))
    assert "b" not in ctl.holdings


async def test_a_restarted_controller_counts_every_nodes_block_before_allocating():
    ctl, api, _ = controller("10.244.0.0/22")
    api.add("a", "10.244.0.0/24")
    api.add("b", "10.244.2.0/24")
    api.add("new")
    ctl.rebuild()
    await reconcile_all(ctl, api, ["new", "a", "b"])
    assert cidr_of(api, "new") == "10.244.1.0/24"
    api.add("newer")
    await reconcile_all(ctl, api, ["newer"])
    assert cidr_of(api, "newer") == "10.244.3.0/24"
    assert cidr_of(api, "a") == "10.244.0.0/24"
    assert cidr_of(api, "b") == "10.244.2.0/24"


async def test_exhaustion_gives_an_event_and_a_condition_until_a_block_is_released():
    ctl, api, recorder = controller("10.244.0.0/23")
    for name in ("a", "b", "c"):
        api.add(name)
    ctl.rebuild()
    delays = []
    for name in ("a", "b", "c"):
        delays.append(await ctl.reconcile(name))
        api.deliver(name)
    assert cidr_of(api, "c") is None
    assert delays[2] is not None and delays[2] > 0  # it looks again
    assert recorder.events[-1][:3] == ("c", "Warning", CIDR_NOT_AVAILABLE)
    assert "10.244.0.0/23" in recorder.events[-1][3]
    (cond,) = api.nodes["c"]["status"]["conditions"]
    assert (cond["type"], cond["status"], cond["reason"]) == (
        "NetworkUnavailable",
        "True",
        CIDR_NOT_AVAILABLE,
    )
    # Deleting a node frees a block and wakes the one waiting.
    freed = cidr_of(api, "a")
    api.remove("a")
    await ctl.reconcile("a")
    assert "c" in list(ctl.queue._queue)
    await ctl.reconcile("c")
    api.deliver("c")
    assert cidr_of(api, "c") == freed
    await ctl.reconcile("c")  # sees its podCIDR: the condition goes False
    (cond,) = api.nodes["c"]["status"]["conditions"]
    assert (cond["status"], cond["reason"]) == ("False", CIDR_ASSIGNED)


async def test_a_podcidr_set_by_someone_else_first_wins_and_ours_stays_free():
    ctl, api, _ = controller("10.244.0.0/22")
    api.add("a")
    ctl.rebuild()
    # Someone else sets it after our cache saw the node without one.
    api.nodes["a"]["spec"] = {"podCIDR": "10.244.3.0/24", "podCIDRs": ["10.244.3.0/24"]}
    with pytest.raises(errors.InvalidError):
        await ctl.reconcile("a")
    assert ctl.sets[0].allocated == 0
    api.deliver("a")
    await ctl.reconcile("a")
    assert ctl.holdings["a"].cidrs == [net("10.244.3.0/24")]
    assert not ctl.sets[0].is_free(net("10.244.3.0/24"))


async def test_a_node_recreated_under_its_name_gets_a_fresh_block():
    ctl, api, _ = controller("10.244.0.0/22")
    api.add("a")
    ctl.rebuild()
    await reconcile_all(ctl, api, ["a"])
    first = cidr_of(api, "a")
    api.remove("a")
    api.add("a")  # deleted and registered again before we looked
    await reconcile_all(ctl, api, ["a"])
    assert cidr_of(api, "a") not in (None, first)
    assert ctl.sets[0].is_free(net(first or ""))


async def test_two_nodes_claiming_one_block_are_reported():
    ctl, api, recorder = controller()
    api.add("a", "10.244.7.0/24")
    api.add("b", "10.244.7.0/24")
    ctl.rebuild()
    assert any(e[2] == "CIDRConflict" for e in recorder.events)
    api.remove("a")
    await ctl.reconcile("a")
    # b still holds it: never handed out again while b lives.
    assert not ctl.sets[0].is_free(net("10.244.7.0/24"))
