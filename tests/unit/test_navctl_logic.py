"""The pure parts of navctl's commands: argument handling, rollout, drain, generators,
describe pages, event rows, waits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apitypes.core import PodSpec
from apitypes.duration import parse_duration
from apitypes.resources import pod_qos_class
from cli.navctl.app import hoist_global_flags, kubectl_booleans
from cli.navctl.commands.create import (
    configmap_object,
    container_name,
    deployment_object,
    secret_object,
)
from cli.navctl.commands.delete import DeleteOptions, effective_grace_period
from cli.navctl.commands.drain import (
    DaemonSetLookup,
    DrainOptions,
    aggregate,
    daemonset_of,
    plan_drain,
)
from cli.navctl.commands.events import event_row, event_time
from cli.navctl.commands.exec import exit_code_of
from cli.navctl.commands.expose import service_for
from cli.navctl.commands.label import change_map, split_changes
from cli.navctl.commands.logs import _LinePrefixer
from cli.navctl.commands.port_forward import parse_ports
from cli.navctl.commands.rollout import (
    RolloutError,
    daemonset_status,
    deployment_status,
    history_text,
    rollback_patch,
    statefulset_status,
)
from cli.navctl.commands.run import pod_object
from cli.navctl.commands.wait import Condition, parse_condition
from cli.navctl.describe.generic import smart_label
from cli.navctl.describe.helpers import (
    PrefixWriter,
    annotations_multiline,
    format_selector,
    labels_multiline,
    tolerations_multiline,
)
from cli.navctl.describe.pods import describe_pod
from cli.navctl.errors import CliError
from cli.navctl.resources import _from_registry, kind_prefix
from cli.navctl.streams import pick_container, pod_rank

# --- command line ---------------------------------------------------------------------------


def test_connection_flags_move_in_front_but_not_past_double_dash():
    argv = ["get", "po", "--server", "http://x", "--context=dev", "-n", "a", "--", "-s", "y"]
    assert hoist_global_flags(argv) == [
        "--server", "http://x", "--context=dev", "get", "po", "-n", "a", "--", "-s", "y",
    ]  # fmt: skip


def test_kubectl_style_booleans_become_click_flags():
    argv = ["delete", "po", "x", "--wait=false", "--force=true", "--all=false", "--x=false"]
    assert kubectl_booleans(argv) == ["delete", "po", "x", "--no-wait", "--force", "--x=false"]


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("1m30s", 90), ("2h", 7200), ("500ms", 0.5), ("10", 10)]
)
def test_go_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_bad_durations_are_refused():
    with pytest.raises(ValueError):
        parse_duration("5 minutes")


def test_grace_period_rules_match_kubectl():
    assert effective_grace_period(DeleteOptions()) is None
    assert effective_grace_period(DeleteOptions(grace_period=0)) == 1
    assert effective_grace_period(DeleteOptions(grace_period=0, force=True)) == 0
    assert effective_grace_period(DeleteOptions(force=True)) == 0
    assert effective_grace_period(DeleteOptions(now=True)) == 1
    with pytest.raises(CliError, match="--force and --grace-period greater than 0"):
        effective_grace_period(DeleteOptions(now=True, force=True))


def test_resource_names_resolve_like_kubectl():
    assert _from_registry("deploy").plural == "deployments"  # type: ignore[union-attr]
    assert _from_registry("deployments.apps").kind == "Deployment"  # type: ignore[union-attr]
    assert _from_registry("deployment.v1.apps").kind == "Deployment"  # type: ignore[union-attr]
    assert _from_registry("Pod").plural == "pods"  # type: ignore[union-attr]
    assert _from_registry("deployments.batch") is None
    rs = _from_registry("rs")
    assert rs is not None and kind_prefix(rs) == "replicaset.apps"


# --- waits -----------------------------------------------------------------------------------


def test_conditions_parse_and_match():
    ready = parse_condition("condition=Ready")
    pod = {
        "metadata": {"generation": 1},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }
    assert ready.met(pod) and not ready.met(None)
    assert parse_condition("condition=Ready=false").met(pod) is False
    assert parse_condition("delete").met(None)
    phase = parse_condition("jsonpath={.status.phase}=Running")
    assert phase.met({"status": {"phase": "Running"}})
    assert not phase.met({"status": {"phase": "Pending"}})
    assert parse_condition("jsonpath={.status.phase}").met({"status": {"phase": "x"}})
    with pytest.raises(CliError):
        parse_condition("ready")


def test_a_condition_about_an_older_generation_does_not_count():
    stale = {
        "metadata": {"generation": 3},
        "status": {
            "conditions": [{"type": "Available", "status": "True", "observedGeneration": 2}]
        },
    }
    assert not Condition("condition", "Available").met(stale)


# --- rollout ---------------------------------------------------------------------------------


def deployment(desired=3, generation=2, observed=2, **status):
    return {
        "metadata": {"name": "web", "generation": generation},
        "spec": {"replicas": desired},
        "status": {"observedGeneration": observed, **status},
    }


def test_deployment_rollout_messages_in_kubectl_order():
    assert deployment_status(deployment(observed=1)) == (
        "Waiting for deployment spec update to be observed...\n",
        False,
    )
    assert deployment_status(deployment(updatedReplicas=1))[0] == (
        'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been '
        "updated...\n"
    )
    assert deployment_status(deployment(updatedReplicas=3, replicas=4))[0] == (
        'Waiting for deployment "web" rollout to finish: 1 old replicas are pending '
        "termination...\n"
    )
    assert deployment_status(deployment(updatedReplicas=3, replicas=3, availableReplicas=1))[0] == (
        'Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas are available...\n'
    )
    assert deployment_status(deployment(updatedReplicas=3, replicas=3, availableReplicas=3)) == (
        'deployment "web" successfully rolled out\n',
        True,
    )


def test_a_deployment_past_its_deadline_fails():
    stuck = deployment(conditions=[{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}])
    with pytest.raises(RolloutError, match="exceeded its progress deadline"):
        deployment_status(stuck)


def test_daemonset_and_statefulset_messages():
    ds = {
        "metadata": {"name": "agent", "generation": 1},
        "spec": {},
        "status": {
            "observedGeneration": 1,
            "desiredNumberScheduled": 3,
            "updatedNumberScheduled": 1,
        },
    }
    assert daemonset_status(ds)[0] == (
        'Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been updated...\n'
    )
    ds["status"].update(updatedNumberScheduled=3, numberAvailable=3)
    assert daemonset_status(ds) == ('daemon set "agent" successfully rolled out\n', True)
    sts = {
        "metadata": {"name": "db", "generation": 1},
        "spec": {"replicas": 2, "updateStrategy": {"type": "RollingUpdate"}},
        "status": {"observedGeneration": 1, "readyReplicas": 1},
    }
    assert statefulset_status(sts) == ("Waiting for 1 pods to be ready...\n", False)
    sts["status"].update(
        readyReplicas=2, currentReplicas=2, updateRevision="db-1", currentRevision="db-1"
    )
    assert statefulset_status(sts) == (
        "statefulset rolling update complete 2 pods at revision db-1...\n",
        True,
    )


def replicaset(revision, image, cause=None):
    annotations = {"deployment.kubernetes.io/revision": str(revision)}
    if cause:
        annotations["kubernetes.io/change-cause"] = cause
    return {
        "metadata": {"name": f"web-{revision}", "annotations": annotations},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "web", "pod-template-hash": f"h{revision}"}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            }
        },
    }


def test_history_lists_revisions_in_order():
    text = history_text([replicaset(2, "b", "set image"), replicaset(1, "a")])
    assert text == "REVISION  CHANGE-CAUSE\n1         <none>\n2         set image\n\n"
    assert history_text([]) == "No rollout history found.\n"


def test_undo_copies_the_previous_template_without_its_hash():
    current = {
        "metadata": {"name": "web", "annotations": {"deployment.kubernetes.io/revision": "3"}},
        "spec": {"template": replicaset(3, "c")["spec"]["template"]},
    }
    current["spec"]["template"]["metadata"]["labels"].pop("pod-template-hash")
    patch, revision = rollback_patch(
        current, [replicaset(1, "a"), replicaset(2, "b", "cause"), replicaset(3, "c")], 0
    )
    assert revision == 2
    assert patch is not None
    template = patch[0]["value"]
    assert patch[0]["path"] == "/spec/template"
    assert template["metadata"]["labels"] == {"app": "web"}
    assert template["spec"]["containers"][0]["image"] == "b"
    assert patch[1]["value"] == {
        "deployment.kubernetes.io/revision": "3",
        "kubernetes.io/change-cause": "cause",
    }
    same, _ = rollback_patch(current, [replicaset(3, "c"), replicaset(2, "b")], 3)
    assert same is None
    with pytest.raises(RolloutError, match="no rollout history"):
        rollback_patch(current, [], 0)


# --- drain -----------------------------------------------------------------------------------


def pod(name, owner=None, phase="Running", volumes=(), annotations=None):
    meta = {"name": name, "namespace": "default", "annotations": annotations or {}}
    if owner:
        meta["ownerReferences"] = [{"kind": owner, "name": "o", "uid": "u", "controller": True}]
    return {"metadata": meta, "spec": {"volumes": list(volumes)}, "status": {"phase": phase}}


def test_drain_refuses_daemonsets_unmanaged_and_local_data_by_default():
    pods = [
        pod("ds", "DaemonSet"),
        pod("bare"),
        pod("cache", "ReplicaSet", volumes=[{"name": "t", "emptyDir": {}}]),
        pod("web", "ReplicaSet"),
        pod("done", phase="Succeeded"),
        pod("static", annotations={"kubernetes.io/config.mirror": "x"}),
    ]
    plan = plan_drain(pods, DrainOptions())
    assert plan.errors == [
        "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/ds",
        "cannot delete Pods that declare no controller (use --force to override): default/bare",
        "cannot delete Pods with local storage (use --delete-emptydir-data to override): "
        "default/cache",
    ]
    plan = plan_drain(
        pods, DrainOptions(ignore_daemonsets=True, force=True, delete_emptydir_data=True)
    )
    assert plan.errors == []
    assert [p["metadata"]["name"] for p in plan.delete] == ["bare", "cache", "web", "done"]
    # As kubectl: a finished pod passes every filter (no warning for "done"), and the
    # local storage warning for "cache" is dropped by the later filter's okay.
    assert plan.warnings == [
        "ignoring DaemonSet-managed Pods: default/ds",
        "deleting Pods that declare no controller: default/bare",
    ]


def test_drain_groups_errors_by_message_in_listing_order():
    pods = [pod("bare"), pod("ds", "DaemonSet"), pod("other"), pod("gone", phase="Failed")]
    pods.append(pod("ds2", "DaemonSet"))
    pods[-1]["metadata"]["ownerReferences"][0]["name"] = "p"
    missing = DaemonSetLookup('daemonsets.apps "o" not found', not_found=True)
    assert [daemonset_of(p) for p in pods] == [None, ("default", "o"), None, None, ("default", "p")]
    plan = plan_drain(pods, DrainOptions(), {("default", "o"): missing})
    assert plan.errors == [
        "cannot delete Pods that declare no controller (use --force to override): "
        "default/bare, default/other",
        'cannot delete daemonsets.apps "o" not found: default/ds',
        "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/ds2",
    ]
    assert aggregate(plan.errors[:2]) == f"[{plan.errors[0]}, {plan.errors[1]}]"
    assert aggregate([plan.errors[1], plan.errors[1]]) == plan.errors[1]


def test_drain_force_deletes_pods_of_a_missing_daemonset_only():
    pods = [pod("ds", "DaemonSet"), pod("bare")]
    missing = DaemonSetLookup('daemonsets.apps "o" not found', not_found=True)
    plan = plan_drain(pods, DrainOptions(force=True), {("default", "o"): missing})
    assert [p["metadata"]["name"] for p in plan.delete] == ["ds", "bare"]
    # The orphan's warning is dropped by the later filters' okay, as in kubectl.
    assert plan.warnings == ["deleting Pods that declare no controller: default/bare"]
    forbidden = DaemonSetLookup('daemonsets.apps "o" is forbidden', not_found=False)
    plan = plan_drain(pods, DrainOptions(force=True), {("default", "o"): forbidden})
    assert plan.errors == ['cannot delete daemonsets.apps "o" is forbidden: default/ds']
    assert [p["metadata"]["name"] for p in plan.delete] == ["bare"]


# --- generators ------------------------------------------------------------------------------


def test_container_names_come_from_images():
    assert container_name("registry:5000/team/nginx:1.25") == "nginx"
    assert container_name("busybox@sha256:abc") == "busybox"
    assert container_name("My_Image") == "my-image"


def test_deployment_and_pod_generators():
    deploy = deployment_object("web", ["nginx", "busybox:1"], 2, 80, [])
    containers = deploy["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["nginx", "busybox"]
    assert containers[0]["ports"] == [{"containerPort": 80}]
    assert deploy["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    with pytest.raises(CliError, match="multiple --image options and command"):
        deployment_object("web", ["a", "b"], 1, None, ["sleep"])
    run = pod_object("tmp", image="busybox", restart="Never", args=["echo", "hi"], env=["A=b"])
    container = run["spec"]["containers"][0]
    assert run["metadata"]["labels"] == {"run": "tmp"}
    assert container["args"] == ["echo", "hi"] and container["env"] == [{"name": "A", "value": "b"}]
    cmd = pod_object("tmp", image="busybox", command=True, args=["sleep", "1"], labels="a=b,c=d")
    assert cmd["spec"]["containers"][0]["command"] == ["sleep", "1"]
    assert cmd["metadata"]["labels"] == {"a": "b", "c": "d"}


def test_configmap_and_secret_generators(tmp_path):
    (tmp_path / "app.conf").write_text("x=1\n")
    (tmp_path / "blob").write_bytes(b"\xff\x00")
    env = tmp_path / "e.env"
    env.write_text("# comment\nA=1\n\nB=two words\n")
    cm = configmap_object(
        "c", ["k=v"], [str(tmp_path / "app.conf"), f"renamed={tmp_path / 'blob'}"], []
    )
    assert cm["data"] == {"k": "v", "app.conf": "x=1\n"}
    assert cm["binaryData"] == {"renamed": "/wA="}
    assert configmap_object("e", [], [], [str(env)])["data"] == {"A": "1", "B": "two words"}
    with pytest.raises(CliError, match="cannot be combined"):
        configmap_object("x", ["a=b"], [], [str(env)])
    secret = secret_object("s", ["password=s3cret"], [], [], None)
    assert secret["data"] == {"password": "czNjcmV0"}


def test_expose_uses_the_selector_and_ports_of_the_object():
    deploy = deployment_object("web", ["nginx"], 1, 8080, [])
    svc = service_for(
        deploy, port="80", target_port="8080", protocol="TCP", service_type="NodePort",
        name=None, selector=None,
    )  # fmt: skip
    assert svc["spec"] == {
        "ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}],
        "selector": {"app": "web"},
        "type": "NodePort",
    }
    introspected = service_for(
        deploy, port=None, target_port=None, protocol="TCP", service_type=None, name="x",
        selector=None,
    )  # fmt: skip
    assert introspected["spec"]["ports"] == [{"port": 8080, "protocol": "TCP", "targetPort": 8080}]
    assert introspected["metadata"]["name"] == "x"


def test_label_arguments_split_into_resources_sets_and_removals():
    assert split_changes(["pods", "web", "a=1", "b-"]) == (["pods", "web"], {"a": "1"}, ["b"])
    changed, warnings = change_map(
        {"a": "1", "b": "2"}, {"c": "3"}, ["b", "z"], overwrite=False, what="label"
    )
    assert changed == {"a": "1", "c": "3"}
    assert warnings == ['label "z" not found.']
    with pytest.raises(CliError, match="'a' already has a value \\(1\\), and --overwrite is false"):
        change_map({"a": "1"}, {"a": "2"}, [], overwrite=False, what="label")


# --- streams ---------------------------------------------------------------------------------


def test_exec_exit_codes_come_from_the_final_status():
    assert exit_code_of({"status": "Success"}) == 0
    failure = {
        "status": "Failure",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
    }
    assert exit_code_of(failure) == 3
    assert exit_code_of({"status": "Failure", "message": "boom"}) is None


def test_port_specs():
    assert [(p.local, p.remote) for p in parse_ports(["8080:80", "9090", ":81"])] == [
        (8080, 80),
        (9090, 9090),
        (0, 81),
    ]
    with pytest.raises(CliError):
        parse_ports(["a:b"])


def test_default_container_and_pod_choice(capsys):
    two = {
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "main"}, {"name": "side"}]},
    }
    assert pick_container(two, None) == "main"
    assert 'Defaulted container "main" out of: main, side' in capsys.readouterr().err
    two["metadata"]["annotations"] = {"kubectl.kubernetes.io/default-container": "side"}
    assert pick_container(two, None) == "side"
    with pytest.raises(CliError, match="container nope is not valid for pod p"):
        pick_container(two, "nope")
    running = {"metadata": {"creationTimestamp": "2"}, "status": {"phase": "Running"}}
    pending = {"metadata": {"creationTimestamp": "1"}, "status": {"phase": "Pending"}}
    assert sorted([pending, running], key=pod_rank)[0] is running


def test_log_prefixes_apply_to_whole_lines_across_chunks():
    prefix = _LinePrefixer("[pod/p/c] ")
    assert prefix(b"one\ntw") + prefix(b"o\n") == b"[pod/p/c] one\n[pod/p/c] two\n"


# --- describe and events ---------------------------------------------------------------------


def test_multiline_labels_annotations_and_tolerations():
    w = PrefixWriter()
    labels_multiline(w, "Labels", {"b": "2", "a": "1"})
    annotations_multiline(
        w, "Annotations", {"kubectl.kubernetes.io/last-applied-configuration": "{}", "x": "y"}
    )
    tolerations_multiline(
        w,
        "Tolerations",
        [{"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
    )
    assert w.render() == (
        "Labels:       a=1\n"
        "              b=2\n"
        "Annotations:  x: y\n"
        "Tolerations:  k:NoExecute op=Exists for 300s\n"
    )


def test_selector_and_field_labels():
    assert (
        format_selector(
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "t", "operator": "In", "values": ["a", "b"]}],
            }
        )
        == "app=web,t in (a,b)"
    )
    assert smart_label("apiVersion") == "API Version"
    assert smart_label("creationTimestamp") == "Creation Timestamp"
    assert smart_label("podIP") == "Pod IP"
    assert smart_label("x-1") == "x-1"


def test_pod_page_has_kubectls_sections():
    page = describe_pod(
        {
            "metadata": {"name": "p", "namespace": "default", "labels": {"app": "x"}},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            "status": {"phase": "Pending", "qosClass": "BestEffort"},
        },
        [],
    )
    # Lines without a tab end a column block: the head aligns on its own, the
    # containers and what follows them align together (as in kubectl).
    assert page.splitlines() == [
        "Name:         p",
        "Namespace:    default",
        "Node:         <none>",
        "Labels:       app=x",
        "Annotations:  <none>",
        "Status:       Pending",
        "IP:           ",
        "IPs:          <none>",
        "Containers:",
        "  c:",
        "    Image:        busybox",
        "    Port:         <none>",
        "    Host Port:    <none>",
        "    Environment:  <none>",
        "    Mounts:       <none>",
        "Volumes:          <none>",
        "QoS Class:        BestEffort",
        "Node-Selectors:   <none>",
        "Tolerations:      <none>",
        "Events:           <none>",
    ]


def test_qos_classes():
    def pod_with(resources):
        return {"spec": {"containers": [{"name": "c", "resources": resources}]}}

    def qos_class(pod):
        return pod_qos_class(PodSpec.from_dict(pod["spec"]))

    assert qos_class(pod_with({})) == "BestEffort"
    both = {"cpu": "1", "memory": "1Gi"}
    assert qos_class(pod_with({"limits": both, "requests": both})) == "Guaranteed"
    assert qos_class(pod_with({"requests": {"cpu": "1"}})) == "Burstable"


def test_event_rows_and_order():
    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    event = {
        "metadata": {"namespace": "default"},
        "type": "Warning",
        "reason": "BackOff",
        "involvedObject": {"kind": "Pod", "name": "web"},
        "message": " restarting \n",
        "firstTimestamp": "2024-01-01T11:50:00Z",
        "lastTimestamp": "2024-01-01T11:58:00Z",
        "count": 3,
    }
    assert event_row(event, True, now) == [
        "default",
        "2m (x3 over 10m)",
        "Warning",
        "BackOff",
        "Pod/web",
        "restarting",
    ]
    older = {**event, "lastTimestamp": "2024-01-01T11:00:00Z"}
    assert sorted([event, older], key=event_time)[0] is older


def test_certificate_decisions_follow_kubectl() -> None:
    from cli.navctl.commands.certificate import with_decision

    pending = {"metadata": {"name": "c1"}, "spec": {}}
    approved = with_decision(pending, "Approved", "2026-01-01T00:00:00Z")
    assert approved is not None
    (cond,) = approved["status"]["conditions"]
    assert (cond["type"], cond["reason"]) == ("Approved", "KubectlApprove")
    assert cond["message"] == "This CSR was approved by kubectl certificate approve."
    assert with_decision(approved, "Approved", "t") is None
    with pytest.raises(ValueError, match='"c1" is already Approved'):
        with_decision(approved, "Denied", "t")
    forced = with_decision(approved, "Denied", "t", force=True)
    assert forced is not None
    assert [c["type"] for c in forced["status"]["conditions"]] == ["Approved", "Denied"]
