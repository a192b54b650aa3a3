"""The client library against real etcd and real apiserver processes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from apiclient import (
    Client,
    ClientConfig,
    ElectionConfig,
    EventRecorder,
    Informer,
    LeaderElector,
    errors,
    index_by_node_name,
)
from apitypes.coordination import Lease
from apitypes.core import ConfigMap, Container, Event, Pod, PodSpec
from apitypes.meta import ObjectMeta
from testkit.processes import ApiServerProcess

pytestmark = pytest.mark.integration


async def eventually(check, timeout: float = 20.0, what: str = "") -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: object = None
    while loop.time() < deadline:
        last = check()
        if last:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or check}: last={last!r}")


@pytest.fixture
async def client(apiserver: ApiServerProcess, namespace: str) -> AsyncIterator[Client]:
    async with Client(apiserver.client_config(namespace=namespace)) as c:
        yield c


def cm(name: str, **data: str) -> ConfigMap:
    return ConfigMap(metadata=ObjectMeta(name=name, labels={"app": "t"}), data=data)


def pod(name: str, node: str | None = None) -> Pod:
    return Pod(
        metadata=ObjectMeta(name=name),
        spec=PodSpec(containers=[Container(name="c", image="busybox")], node_name=node),
    )


async def test_typed_verbs_and_errors(client: Client) -> None:
    created = await client.create(cm("a", k="1"))
    assert created.metadata.uid and created.data == {"k": "1"}
    got = await client.get(ConfigMap, "a")
    assert got.metadata.resource_version == created.metadata.resource_version
    got.data = {"k": "2"}
    updated = await client.update(got)
    assert updated.data == {"k": "2"}
    with pytest.raises(errors.ConflictError):
        await client.update(got)  # stale resourceVersion
    with pytest.raises(errors.AlreadyExistsError):
        await client.create(cm("a"))
    with pytest.raises(errors.NotFoundError) as missing:
        await client.get(ConfigMap, "nope")
    assert missing.value.message == 'configmaps "nope" not found'
    with pytest.raises(errors.InvalidError) as invalid:
        await client.create(cm("Bad_Name"))
    assert invalid.value.fields == ["metadata.name"]
    patched = await client.patch(ConfigMap, "a", {"data": {"x": "y"}}, patch_type="merge")
    assert patched.data == {"k": "2", "x": "y"}
    listed = await client.list(ConfigMap, label_selector="app=t")
    assert [o.metadata.name for o in listed.items] == ["a"]
    assert int(listed.resource_version) >= int(patched.metadata.resource_version or 0)
    await client.delete(ConfigMap, "a")
    with pytest.raises(errors.NotFoundError):
        await client.get(ConfigMap, "a")


async def test_status_bind_and_typed_watch(client: Client) -> None:
    start = (await client.list(Pod)).resource_version
    await client.create(pod("p"))
    await client.bind(client.namespace, "p", "node-a")
    bound = await client.get(Pod, "p")
    assert bound.spec is not None and bound.spec.node_name == "node-a"
    await client.patch_status(Pod, "p", {"status": {"phase": "Running"}})
    events = []
    async for event in client.watch(Pod, resource_version=start, timeout_seconds=5):
        events.append(
            (
                event.type,
                event.object.status.phase if event.object and event.object.status else None,
            )
        )
        if len(events) == 3:
            break
    assert events == [("ADDED", "Pending"), ("MODIFIED", "Pending"), ("MODIFIED", "Running")]


async def test_connection_refused_is_typed() -> None:
    async with Client(ClientConfig(server="http://127.0.0.1:9", timeout=2)) as c:
        with pytest.raises(errors.ConnectionFailedError):
            await c.get(ConfigMap, "x", "default")


async def test_informer_syncs_and_delivers_changes(client: Client) -> None:
    await client.create(cm("pre"))
    seen: list[tuple[str, str]] = []
    informer: Informer[ConfigMap] = Informer(client, ConfigMap, namespace=client.namespace)
    informer.add_handler(
        on_add=lambda o: seen.append(("add", o.metadata.name or "")),
        on_update=lambda old, new: seen.append(("update", new.metadata.name or "")),
        on_delete=lambda o: seen.append(("delete", o.metadata.name or "")),
    )
    informer.start()
    try:
        await informer.wait_synced(10)
        assert seen == [("add", "pre")]
        await client.create(cm("new"))
        await client.patch(ConfigMap, "pre", {"data": {"a": "b"}}, patch_type="merge")
        await client.delete(ConfigMap, "new")
        await eventually(lambda: len(seen) >= 4, what="events")
        assert seen[1:] == [("add", "new"), ("update", "pre"), ("delete", "new")]
        assert [o.metadata.name for o in informer.store.objects()] == ["pre"]
        assert informer.store.get(f"{client.namespace}/pre").data == {"a": "b"}  # type: ignore[union-attr]
    finally:
        await informer.stop()


async def test_informer_indexes(client: Client) -> None:
    for name, node in (("p1", "n1"), ("p2", "n1"), ("p3", None)):
        await client.create(pod(name, node))
    informer = Informer(
        client, Pod, namespace=client.namespace, indexers={"node": index_by_node_name}
    )
    informer.start()
    try:
        await informer.wait_synced(10)
        assert sorted(p.metadata.name or "" for p in informer.store.by_index("node", "n1")) == [
            "p1",
            "p2",
        ]
        assert [p.metadata.name for p in informer.store.by_index("node", "")] == ["p3"]
        await client.bind(client.namespace, "p3", "n2")
        await eventually(lambda: informer.store.by_index("node", "n2"), what="p3 on n2")
        assert informer.store.by_index("node", "") == []
    finally:
        await informer.stop()


@pytest.fixture
def private_apiserver(etcd: str, session_dir: Path) -> Iterator[ApiServerProcess]:
    proc = ApiServerProcess.create(etcd, session_dir, "--watch-bookmark-interval", "1")
    proc.start()
    yield proc
    proc.stop()


async def test_informer_loses_nothing_across_an_apiserver_restart(
    private_apiserver: ApiServerProcess, apiserver: ApiServerProcess
) -> None:
    ns = f"inf-{uuid.uuid4().hex[:8]}"
    other = httpx.AsyncClient(base_url=apiserver.url, verify=apiserver.verify)
    await other.post("/api/v1/namespaces", json={"metadata": {"name": ns}})
    base = f"/api/v1/namespaces/{ns}/configmaps"
    async with Client(private_apiserver.client_config(namespace=ns)) as c:
        adds: list[str] = []
        informer: Informer[ConfigMap] = Informer(c, ConfigMap, namespace=ns)
        informer.add_handler(on_add=lambda o: adds.append(o.metadata.name or ""))
        informer.start()
        try:
            await informer.wait_synced(10)
            await other.post(base, json={"metadata": {"name": "before"}})
            await eventually(lambda: adds == ["before"], what="first add")
            private_apiserver.stop()
            for i in range(3):  # written while the informer's apiserver is down
                await other.post(base, json={"metadata": {"name": f"during-{i}"}})
            await other.delete(f"{base}/before")
            private_apiserver.start()
            await eventually(
                lambda: sorted(informer.store.keys()) == [f"{ns}/during-{i}" for i in range(3)],
                what="store converges",
            )
            assert adds == ["before", "during-0", "during-1", "during-2"]
            assert informer.relists == 0, "resumed from its version, no relist needed"
        finally:
            await informer.stop()
            await other.aclose()


async def test_informer_relists_on_gone_and_delivers_only_differences(
    etcd: str, private_apiserver: ApiServerProcess, apiserver: ApiServerProcess
) -> None:
    ns = f"gone-{uuid.uuid4().hex[:8]}"
    other = httpx.AsyncClient(base_url=apiserver.url, verify=apiserver.verify)
    await other.post("/api/v1/namespaces", json={"metadata": {"name": ns}})
    base = f"/api/v1/namespaces/{ns}/configmaps"
    for name in ("same", "changed", "removed"):
        await other.post(base, json={"metadata": {"name": name}})
    async with Client(private_apiserver.client_config(namespace=ns)) as c:
        calls: list[tuple[str, str]] = []
        informer: Informer[ConfigMap] = Informer(c, ConfigMap, namespace=ns)
        informer.add_handler(
            on_add=lambda o: calls.append(("add", o.metadata.name or "")),
            on_update=lambda a, b: calls.append(("update", b.metadata.name or "")),
            on_delete=lambda o: calls.append(("delete", o.metadata.name or "")),
        )
        informer.start()
        try:
            await informer.wait_synced(10)
            calls.clear()
            private_apiserver.stop()
            await other.patch(
                base + "/changed",
                json={"data": {"a": "1"}},
                headers={"Content-Type": "application/merge-patch+json"},
            )
            await other.delete(base + "/removed")
            await other.post(base, json={"metadata": {"name": "added"}})
            latest = (await other.get(base)).json()["metadata"]["resourceVersion"]
            resp = await other.post(f"{etcd}/v3/kv/compaction", json={"revision": latest})
            assert resp.status_code == 200
            private_apiserver.start()
            await eventually(lambda: len(calls) >= 3, what="relist differences")
            # A write after the relist arrives through the watch that follows it: once it
            # is delivered, every notification of the relist has been too.
            await other.post(base, json={"metadata": {"name": "after"}})
            await eventually(lambda: ("add", "after") in calls, what="the write after the relist")
            assert calls[-1] == ("add", "after")
            assert sorted(calls[:-1]) == [
                ("add", "added"), ("delete", "removed"), ("update", "changed"),
            ]  # fmt: skip
            assert informer.relists >= 1
        finally:
            await informer.stop()
            await other.aclose()


class CountingElector(LeaderElector):
    """Records the outcome of each attempt to take or renew the Lease."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.attempts: list[bool] = []

    async def _try_acquire_or_renew(self) -> bool:
        won = await super()._try_acquire_or_renew()
        self.attempts.append(won)
        return won


async def test_leader_election_one_leads_and_hands_over(client: Client) -> None:
    name = f"lock-{uuid.uuid4().hex[:6]}"
    leading: list[str] = []

    def elector(identity: str, release: bool = True) -> CountingElector:
        async def lead() -> None:
            leading.append(identity)
            await asyncio.Event().wait()

        cfg = ElectionConfig(name=name, namespace=client.namespace, identity=identity,
                             lease_duration=2.0, renew_deadline=1.5, retry_period=0.2,
                             release_on_cancel=release)  # fmt: skip
        return CountingElector(client, cfg, lead)

    a, b = elector("a"), elector("b")
    task_a = asyncio.create_task(a.run())
    await asyncio.wait_for(a.is_leader.wait(), 10)
    task_b = asyncio.create_task(b.run())
    # b tries once per retry period (0.2 s apart at least): twelve tries span more than
    # the lease duration (2 s), so b has outlived a lease that a renews, and lost each time.
    await eventually(lambda: len(b.attempts) >= 12, what="twelve attempts of b")
    assert not any(b.attempts[:12])
    assert b.leader == "a"
    assert leading == ["a"] and not b.is_leader.is_set()
    lease = await client.get(Lease, name)
    assert lease.spec is not None and lease.spec.holder_identity == "a"
    # The leader stops and releases: the other takes over without waiting for expiry.
    task_a.cancel()
    await asyncio.gather(task_a, return_exceptions=True)
    await asyncio.wait_for(b.is_leader.wait(), 5)
    assert leading == ["a", "b"]
    lease = await client.get(Lease, name)
    assert lease.spec is not None and lease.spec.holder_identity == "b"
    assert lease.spec.lease_transitions == 1
    # A leader that vanishes without releasing is replaced once the lease expires.
    task_b.cancel()
    await asyncio.gather(task_b, return_exceptions=True)
    c = elector("c", release=False)
    task_c = asyncio.create_task(c.run())
    await asyncio.wait_for(c.is_leader.wait(), 10)
    task_c.cancel()
    await asyncio.gather(task_c, return_exceptions=True)


async def test_event_recorder_aggregates_repeats(client: Client) -> None:
    target = await client.create(cm("evented"))
    recorder = EventRecorder(client, "test-component", host="h1")
    for _ in range(3):
        recorder.event(target, "Warning", "Broken", "it broke")
    recorder.event(target, "Normal", "Fixed", "it works")
    await recorder.close()
    events = (await client.list(Event, field_selector="involvedObject.name=evented")).items
    by_reason = {e.reason: e for e in events}
    assert set(by_reason) == {"Broken", "Fixed"}
    assert by_reason["Broken"].count == 3
    assert (
        by_reason["Broken"].source is not None
        and by_reason["Broken"].source.component == "test-component"
    )
    assert by_reason["Broken"].involved_object.uid == target.metadata.uid
