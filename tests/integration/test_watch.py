"""Watch semantics against a real etcd and real apiserver processes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from testkit.processes import ApiServerProcess, wait_until
from testkit.watching import RawWatch

pytestmark = pytest.mark.integration


def cm(name: str, labels: dict | None = None, **data: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels or {}},
        "data": data,
    }


def rv(obj: dict) -> int:
    return int(obj["metadata"]["resourceVersion"])


def compact(etcd_url: str, revision: int) -> None:
    resp = httpx.post(f"{etcd_url}/v3/kv/compaction", json={"revision": revision, "physical": True})
    assert resp.status_code == 200, resp.text


def test_watch_from_resource_version_misses_and_repeats_nothing(
    apiserver: ApiServerProcess, api: httpx.Client, namespace: str
) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    start = rv(api.post(base, json=cm("before")).json())
    a = api.post(base, json=cm("a", k="1")).json()
    b = api.post(base, json=cm("b")).json()
    a["data"] = {"k": "2"}
    a2 = api.put(f"{base}/a", json=a).json()
    gone = api.delete(f"{base}/b").json()
    watch = RawWatch(apiserver.url, base, resourceVersion=str(start))
    try:
        events = watch.collect(4)
        assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
            ("ADDED", "a"),
            ("ADDED", "b"),
            ("MODIFIED", "a"),
            ("DELETED", "b"),
        ]
        versions = [rv(e["object"]) for e in events]
        assert versions == sorted(set(versions))
        assert versions[:3] == [rv(a), rv(b), rv(a2)]
        assert events[2]["object"]["data"] == {"k": "2"}
        assert gone["status"] == "Success"
        # And the stream goes on with new writes.
        c = api.post(base, json=cm("c")).json()
        event = watch.next()
        assert (event["type"], rv(event["object"])) == ("ADDED", rv(c))
        assert watch.events.empty()
    finally:
        watch.close()


def test_watch_without_version_sends_current_state_first(
    apiserver: ApiServerProcess, api: httpx.Client, namespace: str
) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    for name in ("x1", "x2"):
        api.post(base, json=cm(name))
    watch = RawWatch(apiserver.url, base)
    try:
        first = watch.collect(2)
        assert {(e["type"], e["object"]["metadata"]["name"]) for e in first} == {
            ("ADDED", "x1"),
            ("ADDED", "x2"),
        }
        api.post(base, json=cm("x3"))
        assert watch.next()["object"]["metadata"]["name"] == "x3"
    finally:
        watch.close()


def test_selector_watch_sees_objects_enter_and_leave(
    apiserver: ApiServerProcess, api: httpx.Client, namespace: str
) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    start = rv(api.post(base, json=cm("s", {"app": "other"})).json())
    watch = RawWatch(apiserver.url, base, resourceVersion=str(start), labelSelector="app=web")
    merge = {"Content-Type": "application/merge-patch+json"}
    try:
        api.patch(f"{base}/s", json={"metadata": {"labels": {"app": "web"}}}, headers=merge)
        entered = watch.next()
        assert entered["type"] == "ADDED"
        api.patch(f"{base}/s", json={"data": {"k": "v"}}, headers=merge)
        assert watch.next()["type"] == "MODIFIED"
        left = api.patch(f"{base}/s", json={"metadata": {"labels": {"app": "db"}}}, headers=merge)
        event = watch.next()
        assert event["type"] == "DELETED"
        # The last content that matched, at the version where it stopped matching.
        assert event["object"]["metadata"]["labels"] == {"app": "web"}
        assert rv(event["object"]) == rv(left.json())
        api.post(base, json=cm("unrelated", {"app": "db"}))
        api.post(base, json=cm("marker", {"app": "web"}))
        assert watch.next()["object"]["metadata"]["name"] == "marker"
    finally:
        watch.close()


def test_timeout_and_bookmarks(
    apiserver: ApiServerProcess, api: httpx.Client, namespace: str
) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    start = rv(api.post(base, json=cm("t")).json())
    watch = RawWatch(
        apiserver.url,
        base,
        resourceVersion=str(start),
        allowWatchBookmarks="true",
        timeoutSeconds="3",
    )
    try:
        bookmark = watch.next(timeout=10, skip_bookmarks=False)
        assert bookmark["type"] == "BOOKMARK"
        assert bookmark["object"]["kind"] == "ConfigMap"
        assert rv(bookmark["object"]) >= start
        assert set(bookmark["object"]["metadata"]) == {"resourceVersion"}
        assert watch.ended.wait(15), "timeoutSeconds did not end the watch"
    finally:
        watch.close()


def _etcd_watches(api: httpx.Client) -> float:
    match = re.search(r"^apiserver_storage_watches (\S+)$", api.get("/metrics").text, re.M)
    assert match
    return float(match.group(1))


def test_hundred_watchers_share_one_etcd_watch(
    apiserver: ApiServerProcess, api: httpx.Client, namespace: str
) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    start = rv(api.post(base, json=cm("w0")).json())
    before = _etcd_watches(api)
    watches = [RawWatch(apiserver.url, base, resourceVersion=str(start)) for _ in range(100)]
    try:
        created = api.post(base, json=cm("w1")).json()
        for w in watches:
            event = w.next()
            assert (event["type"], rv(event["object"])) == ("ADDED", rv(created))
        assert _etcd_watches(api) == before
    finally:
        for w in watches:
            w.close()


def test_compacted_version_answers_410(
    etcd: str,
    api: httpx.Client,
    namespace: str,
    session_dir: Path,
    own_apiservers: list[ApiServerProcess],
) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    old = rv(api.post(base, json=cm("old")).json())
    for i in range(3):
        api.post(base, json=cm(f"n{i}"))
    first_page = api.get(f"{base}?limit=1").json()
    latest = rv(api.post(base, json=cm("latest")).json())
    compact(etcd, latest)
    # An apiserver started now has a cache that begins after ``old``: the version goes
    # to etcd, which has compacted it. (The shared apiserver may still hold it: a
    # cache that started before ``old`` serves it, as Kubernetes' does.)
    fresh = ApiServerProcess.create(etcd, session_dir)
    own_apiservers.append(fresh)
    fresh.start()
    old_watch = RawWatch(fresh.url, base, resourceVersion=str(old))
    try:
        event = old_watch.next()
        assert event["type"] == "ERROR"
        assert event["object"]["code"] == 410
        assert event["object"]["reason"] == "Expired"
    finally:
        old_watch.close()
    # A continue token from before the compaction cannot be continued.
    resp = api.get(f"{base}?limit=1&continue={first_page['metadata']['continue']}")
    assert resp.status_code == 410
    assert old < latest


@pytest.fixture
def own_apiservers(etcd: str, session_dir: Path) -> Iterator[list[ApiServerProcess]]:
    procs: list[ApiServerProcess] = []
    yield procs
    for p in procs:
        p.stop()


def test_two_apiservers_on_one_etcd(
    etcd: str, session_dir: Path, own_apiservers: list[ApiServerProcess]
) -> None:
    a = ApiServerProcess.create(etcd, session_dir)
    b = ApiServerProcess.create(etcd, session_dir)
    own_apiservers += [a, b]
    a.start()
    b.start()
    ns = f"two-{uuid.uuid4().hex[:8]}"
    with a.client() as ca, b.client() as cb:
        assert ca.post("/api/v1/namespaces", json={"metadata": {"name": ns}}).status_code == 201
        base = f"/api/v1/namespaces/{ns}/configmaps"
        # A namespace made through A is usable through B at once.
        created = cb.post(base, json=cm("shared", k="0")).json()
        start = rv(created)
        watch_b = RawWatch(b.url, base, resourceVersion=str(start))
        try:
            read_a = ca.get(f"{base}/shared").json()
            assert rv(read_a) == start
            # Both update from the same version: exactly one wins.
            read_a["data"] = {"k": "a"}
            created["data"] = {"k": "b"}
            results = [
                ca.put(f"{base}/shared", json=read_a),
                cb.put(f"{base}/shared", json=created),
            ]
            assert sorted(r.status_code for r in results) == [200, 409]
            winner = next(r for r in results if r.status_code == 200).json()
            event = watch_b.next()
            assert event["type"] == "MODIFIED" and rv(event["object"]) == rv(winner)
            # Versions from one server are valid on the other.
            listed = ca.get(base).json()
            assert rv(listed) >= rv(winner)
            resumed = RawWatch(a.url, base, resourceVersion=str(start))
            try:
                assert rv(resumed.next()["object"]) == rv(winner)
            finally:
                resumed.close()
        finally:
            watch_b.close()


def test_watch_resumes_across_an_apiserver_restart(
    etcd: str, session_dir: Path, own_apiservers: list[ApiServerProcess]
) -> None:
    a = ApiServerProcess.create(etcd, session_dir)
    other = ApiServerProcess.create(etcd, session_dir)
    own_apiservers += [a, other]
    a.start()
    other.start()
    ns = f"restart-{uuid.uuid4().hex[:8]}"
    with a.client() as ca, other.client() as co:
        ca.post("/api/v1/namespaces", json={"metadata": {"name": ns}})
        base = f"/api/v1/namespaces/{ns}/configmaps"
        start = rv(ca.post(base, json=cm("r0")).json())
        watch = RawWatch(a.url, base, resourceVersion=str(start))
        seen = rv(ca.post(base, json=cm("r1")).json())
        assert rv(watch.next()["object"]) == seen
        a.stop()
        assert watch.ended.wait(15)
        watch.close()
        # Writes while the server is down, through another apiserver.
        missed = [rv(co.post(base, json=cm(f"m{i}")).json()) for i in range(5)]
        a.start()
        resumed = RawWatch(a.url, base, resourceVersion=str(seen))
        try:
            events = resumed.collect(5)
            assert [rv(e["object"]) for e in events] == missed
            later = rv(co.post(base, json=cm("after")).json())
            assert rv(resumed.next()["object"]) == later
        finally:
            resumed.close()


def test_versions_older_than_the_cache_answer_410_without_an_etcd_watch_each(
    etcd: str, session_dir: Path, own_apiservers: list[ApiServerProcess]
) -> None:
    server = ApiServerProcess.create(etcd, session_dir, "--watch-cache-size", "5")
    own_apiservers.append(server)
    server.start()
    ns = f"old-{uuid.uuid4().hex[:8]}"
    with server.client() as api:
        assert api.post("/api/v1/namespaces", json={"metadata": {"name": ns}}).status_code == 201
        base = f"/api/v1/namespaces/{ns}/configmaps"
        first = rv(api.post(base, json=cm("c0")).json())
        for i in range(1, 12):
            api.post(base, json=cm(f"c{i}"))
        # The cache has applied every create (so its 5-event window has moved past c0):
        # a list at resourceVersion=0 is answered from the cache as it stands.
        wait_until(
            lambda: len(api.get(base, params={"resourceVersion": "0"}).json()["items"]) == 12,
            what="the watch cache to hold all 12 ConfigMaps",
        )
        before = _etcd_watches(api)
        watches = [RawWatch(server.url, base, resourceVersion=str(first)) for _ in range(50)]
        try:
            for watch in watches:
                event = watch.next(30)
                assert event["type"] == "ERROR"
                assert event["object"]["code"] == 410
                assert event["object"]["reason"] == "Expired"
                assert "too old resource version" in event["object"]["message"]
            # Every one was refused from the cache: no etcd watch was opened for them.
            assert _etcd_watches(api) == before
        finally:
            for watch in watches:
                watch.close()
