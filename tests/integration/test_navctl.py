"""navctl as a real process against a real apiserver, compared with the real kubectl.

Each comparison runs the same command with kubectl in one namespace and navctl in
another, then compares what they printed (namespace names and ages masked) and what
they stored. kubectl comparisons carry the ``kubectl`` marker: skipped where kubectl
is not installed, failed under CI.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from testkit.processes import ApiServerProcess, wait_until
from testkit.testca import kubectl_flags, session_ca

pytestmark = [pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


Runner = Callable[..., Result]


def _runner(base: list[str], env: dict[str, str]) -> Runner:
    def run(
        *args: str,
        stdin: str | None = None,
        check: bool = True,
        extra_env: dict[str, str] | None = None,
        timeout: float = 90,
    ) -> Result:
        proc = subprocess.run(
            [*base, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**env, **(extra_env or {})},
            timeout=timeout,
            cwd=ROOT,
            check=False,
        )
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{base[-1:]} {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
            )
        return result

    run.base = base  # type: ignore[attr-defined]
    run.env = env  # type: ignore[attr-defined]
    return run


def navctl_command(server: str, namespace: str) -> list[str]:
    """navctl against ``server``; an HTTPS one through a kubeconfig that holds the test
    CA (navctl, as kubectl, takes the CA from there; ``-s`` still names the server)."""
    trust = (
        ["--kubeconfig", str(session_ca().kubeconfig(server))] if server.startswith("https") else []
    )
    return [sys.executable, "-m", "cli.navctl", *trust, "-s", server, "-n", namespace]


@pytest.fixture
def isolated_env(tmp_path: Path) -> dict[str, str]:
    """No kubeconfig of the person running the tests leaks in."""
    return {**os.environ, "KUBECONFIG": str(tmp_path / "no-kubeconfig")}


@pytest.fixture
def navctl(apiserver: ApiServerProcess, namespace: str, isolated_env: dict[str, str]) -> Runner:
    return _runner(navctl_command(apiserver.url, namespace), isolated_env)


def _make_namespace(api: httpx.Client) -> str:
    name = f"k-{uuid.uuid4().hex[:10]}"
    resp = api.post("/api/v1/namespaces", json={"metadata": {"name": name}})
    assert resp.status_code == 201, resp.text
    return name


@pytest.fixture
def kns(api: httpx.Client) -> Iterator[str]:
    """A second namespace, where kubectl does what navctl does in ``namespace``."""
    name = _make_namespace(api)
    yield name
    api.delete(f"/api/v1/namespaces/{name}")


@pytest.fixture
def kubectl(
    apiserver: ApiServerProcess, kns: str, isolated_env: dict[str, str], tmp_path: Path
) -> Runner:
    base = [
        "kubectl", "--server", apiserver.url, *kubectl_flags(apiserver.url),
        "--cache-dir", str(tmp_path / "cache"), "-n", kns,
    ]  # fmt: skip
    return _runner(base, isolated_env)


def in_parallel(*calls: Callable[[], Result]) -> list[Result]:
    """Run independent commands at once (navctl's start-up dominates these tests)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda call: call(), calls))


_AGE = re.compile(r"(?<![\w.:/-])(\d+[smhdy])+(?![\w.:/-])")
_IP = re.compile(r"\b\d+\.\d+\.\d+\.\d+\b")


def masked(text: str, *names: str) -> str:
    """Output with namespace names and ages masked, so two runs compare equal."""
    for i, name in enumerate(names):
        text = text.replace(name, f"<ns{i}>" if len(names) > 1 else "<ns>")
    text = _IP.sub("<ip>", _AGE.sub("<age>", text))
    return re.sub(r" +", " ", text)


def headers_and_names(text: str) -> list[list[str]]:
    """Each table's header columns (split on 2+ spaces) and its first column."""
    tables: list[list[str]] = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        if not lines:
            continue
        tables.append(re.split(r"\s{2,}", lines[0].strip()) + [ln.split()[0] for ln in lines[1:]])
    return tables


def stored(api: httpx.Client, path: str) -> dict[str, Any]:
    resp = api.get(path)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def comparable(obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    """A stored object without what differs between two creations of the same manifest."""
    obj = json.loads(json.dumps(obj))
    meta = obj["metadata"]
    for key in ("uid", "resourceVersion", "creationTimestamp", "namespace", "managedFields"):
        meta.pop(key, None)
    annotations = meta.get("annotations") or {}
    last = annotations.get("kubectl.kubernetes.io/last-applied-configuration")
    if last:
        recorded = json.loads(last)
        assert recorded["metadata"].get("namespace") == namespace
        recorded["metadata"]["namespace"] = "<ns>"
        annotations["kubectl.kubernetes.io/last-applied-configuration"] = json.dumps(recorded)
        # The recorded text itself must be kubectl's exact bytes: compact, sorted, "\n".
        assert last.endswith("}\n") and ", " not in last
    spec = obj.get("spec") or {}
    for key in ("clusterIP", "clusterIPs"):
        spec.pop(key, None)
    return obj


MANIFESTS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
      - name: side
        image: busybox:1
        env: [{name: A, value: "1"}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, labels: {tier: config}}
data: {mode: fast, when: 2024-01-01}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
"""

CHANGED = (
    MANIFESTS.replace("nginx:1.25", "nginx:1.26")
    .replace("replicas: 2", "replicas: 3")
    .replace(
        '      - name: side\n        image: busybox:1\n        env: [{name: A, value: "1"}]\n', ""
    )
    .replace("{mode: fast, when: 2024-01-01}", "{mode: slow}")
)
OBJECT_PATHS = (
    "/apis/apps/v1/namespaces/{}/deployments/web",
    "/api/v1/namespaces/{}/configmaps/settings",
    "/api/v1/namespaces/{}/services/web",
)


# --- apply -----------------------------------------------------------------------------------


@pytest.mark.kubectl
def test_apply_stores_what_kubectl_stores(
    navctl: Runner, kubectl: Runner, api: httpx.Client, namespace: str, kns: str, tmp_path: Path
) -> None:
    first_k, first_n = in_parallel(
        lambda: kubectl("apply", "-f", "-", stdin=MANIFESTS),
        lambda: navctl("apply", "-f", "-", stdin=MANIFESTS),
    )
    assert (
        first_n.lines
        == first_k.lines
        == [
            "deployment.apps/web created",
            "configmap/settings created",
            "service/web created",
        ]
    )

    def compare() -> None:
        for path in OBJECT_PATHS:
            mine = comparable(stored(api, path.format(namespace)), namespace)
            theirs = comparable(stored(api, path.format(kns)), kns)
            assert mine == theirs, path

    compare()
    again_k, again_n = in_parallel(
        lambda: kubectl("apply", "-f", "-", stdin=MANIFESTS),
        lambda: navctl("apply", "-f", "-", stdin=MANIFESTS),
    )
    assert again_n.lines == again_k.lines
    assert all(line.endswith(" unchanged") for line in again_n.lines)

    # Another writer changes fields the manifest does not own; apply must keep them.
    for ns in (namespace, kns):
        patch = {"metadata": {"annotations": {"team": "blue"}}, "spec": {"paused": True}}
        resp = api.patch(
            f"/apis/apps/v1/namespaces/{ns}/deployments/web",
            json=patch,
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert resp.status_code == 200, resp.text
    manifest = tmp_path / "changed.yaml"
    manifest.write_text(CHANGED)
    changed_k, changed_n = in_parallel(
        lambda: kubectl("apply", "-f", str(manifest)),
        lambda: navctl("apply", "-f", str(manifest)),
    )
    assert (
        changed_n.lines
        == changed_k.lines
        == [
            "deployment.apps/web configured",
            "configmap/settings configured",
            "service/web unchanged",
        ]
    )
    compare()
    live = stored(api, OBJECT_PATHS[0].format(namespace))
    assert [c["name"] for c in live["spec"]["template"]["spec"]["containers"]] == ["web"]
    assert live["metadata"]["annotations"]["team"] == "blue" and live["spec"]["paused"] is True
    assert "when" not in stored(api, OBJECT_PATHS[1].format(namespace))["data"]

    # A server-side dry run says what would happen and changes nothing.
    before = stored(api, OBJECT_PATHS[1].format(namespace))["metadata"]["resourceVersion"]
    dry = navctl("apply", "-f", "-", "--dry-run=server", stdin=MANIFESTS)
    assert "configmap/settings configured (server dry run)" in dry.lines
    after = stored(api, OBJECT_PATHS[1].format(namespace))["metadata"]["resourceVersion"]
    assert before == after


# --- get -------------------------------------------------------------------------------------


@pytest.mark.kubectl
def test_get_prints_the_columns_kubectl_prints(
    navctl: Runner, kubectl: Runner, namespace: str, kns: str, api: httpx.Client
) -> None:
    in_parallel(
        lambda: kubectl("apply", "-f", "-", stdin=MANIFESTS),
        lambda: navctl("apply", "-f", "-", stdin=MANIFESTS),
    )
    for ns in (namespace, kns):
        pod = {"metadata": {"name": "p1", "labels": {"app": "web"}},
               "spec": {"containers": [{"name": "c", "image": "busybox"}]}}  # fmt: skip
        assert api.post(f"/api/v1/namespaces/{ns}/pods", json=pod).status_code == 201
    table_forms = [
        ["get", "po,svc,deploy,cm"],
        ["get", "all"],
        ["get", "deploy", "-o", "wide"],
        ["get", "pods", "-o", "wide", "--show-labels"],
        ["get", "cm", "-L", "tier"],
        ["get", "deploy/web", "svc/web"],
        ["get", "pods", "-A"],
        ["get", "po", "-l", "app=web", "--sort-by=.metadata.name"],
    ]
    exact_forms = [
        ["get", "cm", "settings", "-o", "jsonpath={.data}"],
        ["get", "deploy,cm", "-o", "name"],
        ["get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[*].name}"],
        ["get", "po", "-o", "custom-columns=NAME:.metadata.name,IMAGES:.spec.containers[*].image"],
        ["get", "po", "nope"],
        ["get", "cm", "-l", "tier=none"],
        ["get", "foo"],
        ["api-resources"],
        ["api-resources", "--namespaced=false", "-o", "wide"],
    ]
    calls: list[Callable[[], Result]] = []
    for args in table_forms + exact_forms:
        calls.append(lambda args=args: kubectl(*args, check=False))
        calls.append(lambda args=args: navctl(*args, check=False))
    results = in_parallel(*calls)
    for i, args in enumerate(table_forms):
        theirs, mine = results[2 * i], results[2 * i + 1]
        assert mine.code == theirs.code == 0, (args, mine.err)
        if "-A" in args:
            # Other tests' namespaces come and go: compare this namespace's rows only.
            pick = [ln for ln in theirs.lines if ln.startswith(kns)]
            mine_rows = [ln for ln in mine.lines if ln.startswith(namespace)]
            assert [masked(ln, kns) for ln in pick] == [masked(ln, namespace) for ln in mine_rows]
            assert mine.lines[0].split() == theirs.lines[0].split()
            continue
        assert headers_and_names(mine.out) == headers_and_names(theirs.out), args
        assert masked(mine.out) == masked(theirs.out), args
    offset = 2 * len(table_forms)
    for i, args in enumerate(exact_forms):
        theirs, mine = results[offset + 2 * i], results[offset + 2 * i + 1]
        assert mine.code == theirs.code, (args, mine.err, theirs.err)
        assert masked(mine.out, namespace) == masked(theirs.out, kns), args
        assert masked(mine.err, namespace) == masked(theirs.err, kns), args
    # Whole objects: the same documents, in the same YAML layout.
    theirs, mine = in_parallel(
        lambda: kubectl("get", "deploy,cm", "-o", "yaml"),
        lambda: navctl("get", "deploy,cm", "-o", "yaml"),
    )
    mine_doc, their_doc = yaml.safe_load(mine.out), yaml.safe_load(theirs.out)
    assert mine_doc["kind"] == their_doc["kind"] == "List"
    assert [comparable(o, namespace) for o in mine_doc["items"]] == [
        comparable(o, kns) for o in their_doc["items"]
    ]
    layout = re.compile(r"(uid|resourceVersion|creationTimestamp|namespace): .*")
    assert layout.sub("", mine.out).replace(namespace, "") == layout.sub("", theirs.out).replace(
        kns, ""
    )


def test_get_watch_lists_then_prints_new_rows(
    navctl: Runner, api: httpx.Client, namespace: str
) -> None:
    url = f"/api/v1/namespaces/{namespace}/configmaps"
    api.post(url, json={"metadata": {"name": "listed"}})
    proc = subprocess.Popen(
        [*navctl.base, "get", "configmaps", "-w"],  # type: ignore[attr-defined]
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=navctl.env,  # type: ignore[attr-defined]
        cwd=ROOT,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        assert lines.get(timeout=30).split() == ["NAME", "DATA", "AGE"]
        assert lines.get(timeout=30).split()[0] == "listed"
        api.post(url, json={"metadata": {"name": "watched"}, "data": {"a": "1"}})
        assert lines.get(timeout=30).split()[:2] == ["watched", "1"]
    finally:
        proc.terminate()
        proc.wait(10)


# --- errors ----------------------------------------------------------------------------------

INVALID = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers: [{name: c}]
"""


def test_mistakes_are_one_line_errors_without_tracebacks(
    navctl: Runner, isolated_env: dict[str, str], namespace: str, tmp_path: Path
) -> None:
    from apiserver.etcd_server import free_port

    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("kind: [unclosed\n")
    refused = _runner(navctl_command(f"http://127.0.0.1:{free_port()}", namespace), isolated_env)
    results = in_parallel(
        lambda: navctl("apply", "-f", "-", stdin=INVALID, check=False),
        lambda: navctl("get", "deploy", "nope", check=False),
        lambda: navctl("apply", "-f", str(bad_yaml), check=False),
        lambda: navctl("apply", "-f", str(tmp_path / "missing.yaml"), check=False),
        lambda: navctl("get", "widgets", check=False),
        lambda: refused("get", "pods", check=False),
        lambda: navctl("get", "po", "-o", "xml", check=False),
    )
    expected = [
        'error: Deployment.apps "bad" is invalid: spec.template.spec.containers[0].image: '
        "Required value",
        'Error from server (NotFound): deployments.apps "nope" not found',
        "error: error parsing",
        f'error: the path "{tmp_path / "missing.yaml"}" does not exist',
        'error: the server doesn\'t have a resource type "widgets"',
        "The connection to the server 127.0.0.1:",
        'error: unable to match a printer suitable for the output format "xml"',
    ]
    for result, start in zip(results, expected, strict=True):
        assert result.code == 1, result
        assert "Traceback" not in result.err
        assert len(result.err.strip().splitlines()) == 1, result.err
        assert result.err.startswith(start), result.err
    assert results[5].err.strip().endswith("was refused - did you specify the right host or port?")


# --- delete, label, annotate, scale, patch ---------------------------------------------------------


@pytest.mark.kubectl
def test_delete_label_annotate_scale_match_kubectl(
    navctl: Runner, kubectl: Runner, api: httpx.Client, namespace: str, kns: str, tmp_path: Path
) -> None:
    manifest = tmp_path / "all.yaml"
    manifest.write_text(MANIFESTS)
    in_parallel(
        lambda: kubectl("apply", "-f", str(manifest)),
        lambda: navctl("apply", "-f", str(manifest)),
    )
    for ns in (namespace, kns):
        for name in ("a", "b", "c"):
            cm = {"metadata": {"name": name, "labels": {"group": "x" if name != "c" else "y"}}}
            assert api.post(f"/api/v1/namespaces/{ns}/configmaps", json=cm).status_code == 201
    steps = [
        ["label", "cm", "a", "owner=me"],
        ["label", "cm", "a", "owner=you"],
        ["label", "cm/a", "owner=you", "--overwrite"],
        ["label", "cm", "a", "owner-"],
        ["annotate", "deploy", "web", "note=hello"],
        ["annotate", "cm", "-l", "group=x", "k=v"],
        ["scale", "deploy/web", "--replicas=4"],
        ["scale", "deploy", "web", "--current-replicas=9", "--replicas=1"],
        ["patch", "cm", "c", "--type=merge", "-p", '{"data":{"x":"1"}}'],
        ["patch", "cm", "c", "--type=merge", "-p", '{"data":{"x":"1"}}'],
        ["delete", "cm", "-l", "group=x"],
        ["delete", "cm", "nope"],
        ["delete", "cm"],
        ["delete", "-f", str(manifest)],
        # No garbage collector runs here, so nothing removes the orphan finalizer:
        # waiting would never end.
        ["delete", "cm", "c", "--cascade=orphan", "--wait=false"],
        ["delete", "cm", "--all", "--wait=false"],
    ]
    for args in steps:
        theirs, mine = in_parallel(
            lambda args=args: kubectl(*args, check=False),
            lambda args=args: navctl(*args, check=False),
        )
        assert (mine.code, masked(mine.out, namespace), masked(mine.err, namespace)) == (
            theirs.code,
            masked(theirs.out, kns),
            masked(theirs.err, kns),
        ), args
    # Everything deleted but the orphaned one, which waits for the garbage collector.
    left = api.get(f"/api/v1/namespaces/{namespace}/configmaps").json()["items"]
    assert [(cm["metadata"]["name"], cm["metadata"]["finalizers"]) for cm in left] == [
        ("c", ["orphan"])
    ]
    assert left[0]["metadata"]["deletionTimestamp"]


# --- describe ----------------------------------------------------------------------------------

_TIMES = re.compile(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}|\d+\.\d+\.\d+\.\d+")


_CONFIGMAP_DATA = re.compile(r"(?<=\nData\n====\n)((?:.+\n)+\n)+(?=\nBinaryData\n====\n)")


def sorted_configmap_data(text: str) -> str:
    """A describe page with each ConfigMap's ``Data`` entries in key order.

    kubectl prints them in Go's map iteration order, which is random from run to run,
    so only the set of entries (each ``key:``, ``----``, value lines, a blank line) can
    be compared. Values with blank lines inside are not supported (none are used here).
    """

    def by_key(match: re.Match[str]) -> str:
        return "".join(sorted(re.findall(r"(?:.+\n)+\n", match.group(0))))

    return _CONFIGMAP_DATA.sub(by_key, text)


@pytest.mark.kubectl
def test_describe_pages_match_kubectl(
    navctl: Runner, kubectl: Runner, api: httpx.Client, namespace: str, kns: str
) -> None:
    in_parallel(
        lambda: kubectl("apply", "-f", "-", stdin=MANIFESTS),
        lambda: navctl("apply", "-f", "-", stdin=MANIFESTS),
    )
    for ns in (namespace, kns):
        pod = {
            "metadata": {"name": "p1", "labels": {"app": "web"}, "annotations": {"a": "b"}},
            "spec": {
                "containers": [
                    {
                        "name": "c",
                        "image": "busybox",
                        "command": ["sh", "-c", "sleep 1"],
                        "env": [{"name": "X", "value": "1"}],
                        "ports": [{"containerPort": 80}, {"containerPort": 81, "protocol": "UDP"}],
                        "resources": {"requests": {"cpu": "100m"}},
                    }
                ],
                "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}],
            },
        }
        created = api.post(f"/api/v1/namespaces/{ns}/pods", json=pod)
        assert created.status_code == 201, created.text
        # kubectl finds a pod's events by involvedObject name, namespace and uid: an event
        # without the pod's uid is not shown by kubectl either.
        involved = {
            "kind": "Pod",
            "name": "p1",
            "namespace": ns,
            "apiVersion": "v1",
            "uid": created.json()["metadata"]["uid"],
        }
        event = {
            "metadata": {"name": f"p1.{uuid.uuid4().hex[:6]}"},
            "involvedObject": involved,
            "reason": "Tested",
            "message": "hello from a test",
            "type": "Normal",
            "source": {"component": "tests"},
            "count": 1,
        }
        assert api.post(f"/api/v1/namespaces/{ns}/events", json=event).status_code == 201
    args = ["describe", "pods,deploy,svc,cm"]
    theirs, mine = in_parallel(lambda: kubectl(*args), lambda: navctl(*args))

    def norm(text: str, ns: str) -> str:
        return _TIMES.sub("<t>", masked(sorted_configmap_data(text), ns))

    assert norm(mine.out, namespace) == norm(theirs.out, kns)
    assert "hello from a test" in mine.out


# --- rollout -----------------------------------------------------------------------------------


def _fake_revisions(api: httpx.Client, ns: str) -> None:
    """The ReplicaSets a deployment controller would have made for three revisions."""
    deploy = stored(api, f"/apis/apps/v1/namespaces/{ns}/deployments/web")
    for revision, image in ((1, "nginx:1.24"), (2, "nginx:1.25"), (3, "nginx:1.26")):
        template = json.loads(json.dumps(deploy["spec"]["template"]))
        template["spec"]["containers"][0]["image"] = image
        template["metadata"]["labels"]["pod-template-hash"] = f"h{revision}"
        annotations = {"deployment.kubernetes.io/revision": str(revision)}
        if revision == 2:
            annotations["kubernetes.io/change-cause"] = "moved to 1.25"
        rs = {
            "metadata": {
                "name": f"web-h{revision}",
                "labels": template["metadata"]["labels"],
                "annotations": annotations,
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": "web",
                        "uid": deploy["metadata"]["uid"],
                        "controller": True,
                    }
                ],
            },
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": template["metadata"]["labels"]},
                "template": template,
            },
        }
        resp = api.post(f"/apis/apps/v1/namespaces/{ns}/replicasets", json=rs)
        assert resp.status_code == 201, resp.text


def _set_status(api: httpx.Client, ns: str, status: dict[str, Any]) -> None:
    deploy = stored(api, f"/apis/apps/v1/namespaces/{ns}/deployments/web")
    status = {
        "observedGeneration": deploy["metadata"].get("generation", 1),
        "readyReplicas": status.get("availableReplicas", 0),
        **status,
    }
    resp = api.patch(
        f"/apis/apps/v1/namespaces/{ns}/deployments/web/status",
        json={"status": status},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert resp.status_code == 200, resp.text


@pytest.mark.kubectl
def test_rollout_history_undo_and_status(
    navctl: Runner, kubectl: Runner, api: httpx.Client, namespace: str, kns: str
) -> None:
    deployment = MANIFESTS.split("---", maxsplit=1)[0].replace("replicas: 2", "replicas: 3")
    in_parallel(
        lambda: kubectl("apply", "-f", "-", stdin=deployment),
        lambda: navctl("apply", "-f", "-", stdin=deployment),
    )
    for ns in (namespace, kns):
        _fake_revisions(api, ns)
        _set_status(api, ns, {"replicas": 3, "updatedReplicas": 3, "availableReplicas": 3})
    steps = [
        ["rollout", "history", "deploy/web"],
        ["rollout", "status", "deploy/web"],
        ["rollout", "undo", "deploy/web", "--to-revision=1"],
        ["get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"],
        ["rollout", "undo", "deploy/web", "--to-revision=1"],
        ["rollout", "pause", "deploy/web"],
        ["rollout", "restart", "deploy/web"],
        ["rollout", "resume", "deploy/web"],
        ["rollout", "history", "deploy/web", "--revision=9"],
    ]
    for args in steps:
        theirs, mine = in_parallel(
            lambda args=args: kubectl(*args, check=False),
            lambda args=args: navctl(*args, check=False),
        )
        assert (mine.code, mine.out, masked(mine.err, namespace)) == (
            theirs.code,
            theirs.out,
            masked(theirs.err, kns),
        ), args

    # status follows the rollout as it goes, printing kubectl's progress lines.
    _set_status(api, namespace, {"replicas": 3, "updatedReplicas": 1, "availableReplicas": 1})
    proc = subprocess.Popen(
        [*navctl.base, "rollout", "status", "deploy/web", "--timeout=60s"],  # type: ignore[attr-defined]
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=navctl.env,  # type: ignore[attr-defined]
        cwd=ROOT,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in proc.stdout or []], daemon=True
    ).start()
    try:
        assert lines.get(timeout=30) == (
            'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been '
            "updated...\n"
        )
        _set_status(api, namespace, {"replicas": 3, "updatedReplicas": 3, "availableReplicas": 2})
        assert lines.get(timeout=30) == (
            'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are '
            "available...\n"
        )
        _set_status(api, namespace, {"replicas": 3, "updatedReplicas": 3, "availableReplicas": 3})
        assert lines.get(timeout=30) == 'deployment "web" successfully rolled out\n'
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- wait, events, create, run, expose -------------------------------------------------------------


def test_wait_events_and_generators(navctl: Runner, api: httpx.Client, namespace: str) -> None:
    pod = {"metadata": {"name": "w1", "labels": {"app": "w"}},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]}}  # fmt: skip
    assert api.post(f"/api/v1/namespaces/{namespace}/pods", json=pod).status_code == 201
    waiter = subprocess.Popen(
        [*navctl.base, "wait", "--for=condition=Ready", "pod/w1", "--timeout=60s"],  # type: ignore[attr-defined]
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=navctl.env,  # type: ignore[attr-defined]
        cwd=ROOT,
    )
    try:
        status = {
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        }

        def mark_ready() -> bool:
            resp = api.patch(
                f"/api/v1/namespaces/{namespace}/pods/w1/status",
                json=status,
                headers={"Content-Type": "application/merge-patch+json"},
            )
            return resp.status_code == 200

        wait_until(mark_ready, 30)
        out, err = waiter.communicate(timeout=60)
        assert waiter.returncode == 0, err
        assert out == "pod/w1 condition met\n"
    finally:
        if waiter.poll() is None:
            waiter.kill()
            waiter.wait()
    event = {
        "metadata": {"name": "w1.1"},
        "involvedObject": {"kind": "Pod", "name": "w1", "namespace": namespace},
        "reason": "Pulled",
        "message": "image pulled",
        "type": "Normal",
        "lastTimestamp": "2024-01-01T00:00:00Z",
        "count": 2,
        "firstTimestamp": "2023-12-31T00:00:00Z",
    }
    assert api.post(f"/api/v1/namespaces/{namespace}/events", json=event).status_code == 201
    results = in_parallel(
        lambda: navctl("wait", "--for=jsonpath={.status.phase}=Running", "pod", "-l", "app=w"),
        lambda: navctl(
            "wait", "--for=condition=Ready=false", "pod/w1", "--timeout=1s", check=False
        ),
        lambda: navctl("events", "--for", "pod/w1"),
        lambda: navctl("create", "configmap", "gen", "--from-literal=a=1"),
        lambda: navctl("create", "secret", "generic", "sec", "--from-literal=p=s3cret"),
        lambda: navctl("create", "deployment", "gd", "--image=nginx", "--replicas=2", "--port=80"),
        lambda: navctl("run", "tmp", "--image=busybox", "--restart=Never", "--", "echo", "hi"),
    )
    assert results[0].out == "pod/w1 condition met\n"
    assert results[1].code == 1
    assert results[1].err.strip() == "error: timed out waiting for the condition on pods/w1"
    rows = results[2].lines
    assert rows[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert rows[1].split()[-5:] == ["Normal", "Pulled", "Pod/w1", "image", "pulled"]
    assert "(x2 over" in rows[1]
    assert [r.out for r in results[3:]] == [
        "configmap/gen created\n",
        "secret/sec created\n",
        "deployment.apps/gd created\n",
        "pod/tmp created\n",
    ]
    assert stored(api, f"/api/v1/namespaces/{namespace}/secrets/sec")["data"] == {"p": "czNjcmV0"}
    tmp = stored(api, f"/api/v1/namespaces/{namespace}/pods/tmp")
    assert tmp["spec"]["containers"][0]["args"] == ["echo", "hi"]
    assert tmp["spec"]["restartPolicy"] == "Never"
    exposed = navctl("expose", "deploy", "gd", "--port=8080", "--target-port=80")
    assert exposed.out == "service/gd exposed\n"
    svc = stored(api, f"/api/v1/namespaces/{namespace}/services/gd")
    assert svc["spec"]["selector"] == {"app": "gd"}
    assert svc["spec"]["ports"][0]["port"] == 8080 and svc["spec"]["ports"][0]["targetPort"] == 80
    gone = navctl("delete", "pod", "w1", "tmp", "--grace-period=0", "--force")
    assert gone.lines == ['pod "w1" deleted', 'pod "tmp" deleted']


# --- edit ------------------------------------------------------------------------------------------


def test_edit_sends_the_change_and_reopens_on_refusal(
    navctl: Runner, api: httpx.Client, namespace: str, tmp_path: Path
) -> None:
    navctl("apply", "-f", "-", stdin=MANIFESTS.split("---", maxsplit=1)[0])
    good = tmp_path / "good-editor.sh"
    good.write_text('#!/bin/sh\nsed -i "s/replicas: 2/replicas: 5/" "$1"\n')
    bad = tmp_path / "bad-editor.sh"
    seen = tmp_path / "seen"
    bad.write_text(
        "#!/bin/sh\n"
        f'cat "$1" >> {seen}\n'
        'grep -q "replicas: -1" "$1" || sed -i "s/replicas: 5/replicas: -1/" "$1"\n'
    )
    for script in (good, bad):
        script.chmod(0o755)
    edited = navctl("edit", "deploy/web", extra_env={"EDITOR": str(good)})
    assert edited.out == "deployment.apps/web edited\n"
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/web"
    assert stored(api, path)["spec"]["replicas"] == 5
    refused = navctl("edit", "deploy", "web", check=False, extra_env={"KUBE_EDITOR": str(bad)})
    assert refused.code == 1
    assert refused.err.startswith("error: Edit cancelled, no valid changes were saved.")
    # The second time the editor saw the refusal, as a comment naming the field.
    assert "# * spec.replicas: Invalid value: -1" in seen.read_text()
    assert stored(api, path)["spec"]["replicas"] == 5


# --- nodes -----------------------------------------------------------------------------------------


def _node_with_pods(api: httpx.Client, ns: str) -> str:
    node = f"n-{ns}"
    assert api.post("/api/v1/nodes", json={"metadata": {"name": node}}).status_code == 201
    owners = {"rs": "ReplicaSet", "ds": "DaemonSet", "bare": None}
    for name, kind in owners.items():
        meta: dict[str, Any] = {"name": name}
        if kind:
            meta["ownerReferences"] = [
                {
                    "apiVersion": "apps/v1",
                    "kind": kind,
                    "name": "o",
                    "uid": f"u-{name}",
                    "controller": True,
                }
            ]
        pod = {"metadata": meta,
               "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]}}  # fmt: skip
        assert api.post(f"/api/v1/namespaces/{ns}/pods", json=pod).status_code == 201
    return node


def drain_lines(text: str) -> tuple[str, list[str], str]:
    """drain's output: first line, the lines between (sorted), last line.

    kubectl evicts and waits for each pod in its own goroutine, so the order of its
    "evicting pod" and "evicted" lines changes from run to run.
    """
    lines = text.splitlines()
    if len(lines) < 2:
        return (text, [], "")
    return (lines[0], sorted(lines[1:-1]), lines[-1])


def drain_error(line: str) -> str:
    """A drain refusal with the errors in its ``[a, b]`` list sorted.

    kubectl groups the refused pods by message in a Go map, whose order is random
    (navctl's own order, the listing order, is pinned by a unit test).
    """
    match = re.fullmatch(r"(.*?)\[(.*)\]", line)
    if not match:
        return line
    items = re.split(r", (?=cannot delete )", match.group(2))
    return f"{match.group(1)}[{', '.join(sorted(items))}]"


@pytest.mark.kubectl
def test_cordon_and_drain_match_kubectl(
    navctl: Runner, kubectl: Runner, api: httpx.Client, namespace: str, kns: str
) -> None:
    mine, theirs = _node_with_pods(api, namespace), _node_with_pods(api, kns)
    try:
        steps = [
            ["cordon", "{node}"],
            ["cordon", "{node}"],
            ["uncordon", "{node}"],
            ["drain", "{node}"],
            [
                "drain",
                "{node}",
                "--ignore-daemonsets",
                "--force",
                "--grace-period=0",
                "--timeout=60s",
            ],
        ]
        for step in steps:
            k, n = in_parallel(
                lambda step=step: kubectl(*[a.format(node=theirs) for a in step], check=False),
                lambda step=step: navctl(*[a.format(node=mine) for a in step], check=False),
            )
            assert n.code == k.code, (step, n.err, k.err)
            assert drain_lines(masked(n.out, namespace)) == drain_lines(masked(k.out, kns)), step
            if k.code == 0:
                assert masked(n.err, namespace) == masked(k.err, kns), step
            else:
                # kubectl spreads this error over several lines; navctl says it in one.
                kubectl_said = (
                    k.err.splitlines()[0]
                    .removesuffix(", continuing command...")
                    .replace("cannot delete cannot delete", "cannot delete")
                    .replace(kns, namespace)
                )
                assert drain_error(n.err.splitlines()[0]) == drain_error(kubectl_said)
        # kubectl also deletes the pod whose DaemonSet does not exist (--force).
        left = {
            ns: [
                p["metadata"]["name"]
                for p in api.get(f"/api/v1/namespaces/{ns}/pods").json()["items"]
            ]
            for ns in (namespace, kns)
        }
        assert left == {namespace: [], kns: []}
    finally:
        for node in (mine, theirs):
            api.delete(f"/api/v1/nodes/{node}")


# --- config, version ---------------------------------------------------------------------------------

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: one
  cluster: {server: "SERVER", certificate-authority-data: Zm9v}
- name: two
  cluster: {server: "http://127.0.0.1:1"}
users:
- name: alice
  user: {token: secret-token}
contexts:
- name: first
  context: {cluster: one, user: alice, namespace: team-a}
- name: second
  context: {cluster: two, user: alice}
current-context: first
"""


@pytest.mark.kubectl
def test_config_contexts_match_kubectl(
    apiserver: ApiServerProcess, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    mine, theirs = tmp_path / "mine.yaml", tmp_path / "theirs.yaml"
    for path in (mine, theirs):
        # Cluster "one" is the test apiserver: its CA is the test CA.
        ca = base64.b64encode(session_ca().ca_file.read_bytes()).decode()
        path.write_text(KUBECONFIG.replace("SERVER", apiserver.url).replace("Zm9v", ca))
    navctl = _runner(
        [sys.executable, "-m", "cli.navctl"], {**isolated_env, "KUBECONFIG": str(mine)}
    )
    kubectl = _runner(["kubectl"], {**isolated_env, "KUBECONFIG": str(theirs)})
    steps = [
        ["config", "get-contexts"],
        ["config", "current-context"],
        ["config", "use-context", "second"],
        ["config", "current-context"],
        ["config", "use-context", "nope"],
        ["config", "get-contexts", "-o", "name"],
        ["config", "set-context", "--current", "--namespace=team-b"],
        ["config", "get-contexts"],
        ["config", "use-context", "first"],
    ]
    for args in steps:
        k, n = in_parallel(
            lambda args=args: kubectl(*args, check=False),
            lambda args=args: navctl(*args, check=False),
        )
        assert (n.code, n.out, n.err) == (k.code, k.out, k.err), args
    view_k, view_n = kubectl("config", "view"), navctl("config", "view")
    assert yaml.safe_load(view_n.out) == yaml.safe_load(view_k.out)
    # The context's server and namespace are used without any flag.
    version = navctl("version")
    assert version.lines[0].startswith("Client Version: v1.32")
    assert version.lines[1] == "Server Version: v1.32.0-navarch"
    info = navctl("cluster-info")
    assert info.lines[0] == f"Kubernetes control plane is running at {apiserver.url}"


def test_help_for_every_command_has_an_example(isolated_env: dict[str, str]) -> None:
    commands = [
        "get", "describe", "apply", "create", "delete", "edit", "patch", "label", "annotate",
        "scale", "rollout status", "rollout history", "rollout undo", "rollout restart",
        "rollout pause", "rollout resume", "cordon", "uncordon", "drain", "run", "expose", "logs",
        "exec", "port-forward", "events", "wait", "api-resources", "version", "cluster-info",
        "config view", "config get-contexts", "config use-context", "config current-context",
        "create namespace", "create configmap", "create secret generic", "create deployment",
        "create secret", "rollout", "config", "api-versions",
    ]  # fmt: skip

    def show(command: str) -> tuple[str, Result]:
        run = _runner([sys.executable, "-m", "cli.navctl"], {**isolated_env, "COLUMNS": "120"})
        return command, run(*command.split(), "--help")

    with ThreadPoolExecutor(max_workers=4) as pool:
        for command, result in pool.map(show, commands):
            assert "navctl " in result.out, command
            assert "Example" in result.out, command
