"""``navctl describe``: kubectl's describe pages, with the object's events.

A describer writes lines through a ``PrefixWriter`` (two spaces per level, cells
separated by tabs); the whole page is laid out by one ``TabWriter`` with kubectl's
describe settings (minimum width 0, padding 2), so columns align in blocks exactly as
kubectl's do. Pods, nodes, deployments, replica sets, services, config maps, secrets,
namespaces, daemon sets, stateful sets, jobs and endpoints have their own pages; any
other kind gets kubectl's generic page (every field, with labels made from the field
names). Events are found as kubectl finds them: by ``involvedObject`` field selectors.
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from apitypes.core import PodSpec
from apitypes.registry import ResourceType, resource
from apitypes.resources import as_quantity, pod_limits, pod_qos_class, pod_requests
from cli.navctl_common import Session, api_error_line, err, out
from cli.navctl_printing import TabWriter, age, format_labels, parse_time
from cli.navctl_resources import Target, parse_targets

if TYPE_CHECKING:
    from collections.abc import Callable

SKIP_ANNOTATIONS = {"kubectl.kubernetes.io/last-applied-configuration"}
MAX_ANNOTATION_LEN = 140
POD_TEMPLATE_HASH = "pod-template-hash"


class PrefixWriter:
    """kubectl's PrefixWriter: text at an indentation level, laid out when rendered."""

    def __init__(self) -> None:
        self._parts: list[str] = []

    def write(self, level: int, text: str) -> None:
        self._parts.append("  " * level + text)

    def line(self, text: str = "") -> None:
        self._parts.append(text + "\n")

    def raw(self) -> str:
        return "".join(self._parts)

    def render(self) -> str:
        writer = TabWriter(minwidth=0, padding=2)
        writer.write(self.raw())
        return writer.flush()


# --- shared pieces -----------------------------------------------------------------------


def rfc1123z(timestamp: str | None) -> str:
    """Go's ``time.RFC1123Z`` in local time: ``Mon, 02 Jan 2006 15:04:05 -0700``."""
    moment = parse_time(timestamp)
    if moment is None:
        return "<unknown>"
    return moment.astimezone().strftime("%a, %d %b %Y %H:%M:%S %z")


def labels_multiline(
    w: PrefixWriter, title: str, labels: dict[str, str] | None, indent: str = ""
) -> None:
    w.write(0, f"{indent}{title}:\t")
    keys = sorted(labels or {})
    if not keys:
        w.line("<none>")
        return
    for i, key in enumerate(keys):
        if i:
            w.write(0, f"{indent}\t")
        w.write(0, f"{key}={(labels or {})[key]}\n")


def annotations_multiline(w: PrefixWriter, title: str, annotations: dict[str, str] | None) -> None:
    w.write(0, f"{title}:\t")
    keys = sorted(k for k in (annotations or {}) if k not in SKIP_ANNOTATIONS)
    if not keys:
        w.line("<none>")
        return
    for i, key in enumerate(keys):
        if i:
            w.write(0, "\t")
        value = (annotations or {})[key].removesuffix("\n")
        if len(value) + len(key) + 2 > MAX_ANNOTATION_LEN or "\n" in value:
            w.write(0, f"{key}:\n")
            for part in value.split("\n"):
                shown = part
                if len(part) > MAX_ANNOTATION_LEN - 2:
                    shown = part[: MAX_ANNOTATION_LEN - 2] + "..."
                w.write(0, f"\t  {shown}\n")
        else:
            w.write(0, f"{key}: {value}\n")


def tolerations_multiline(
    w: PrefixWriter, title: str, tolerations: list[dict[str, Any]], indent: str = ""
) -> None:
    w.write(0, f"{indent}{title}:\t")
    if not tolerations:
        w.line("<none>")
        return
    for i, tol in enumerate(tolerations):
        if i:
            w.write(0, f"{indent}\t")
        text = tol.get("key", "")
        if tol.get("value"):
            text += f"={tol['value']}"
        if tol.get("effect"):
            text += f":{tol['effect']}"
        if tol.get("operator") == "Exists" and not tol.get("value"):
            text += " op=Exists" if tol.get("key") or tol.get("effect") else "op=Exists"
        if tol.get("tolerationSeconds") is not None:
            text += f" for {tol['tolerationSeconds']}s"
        w.write(0, text + "\n")


def taints_multiline(w: PrefixWriter, title: str, taints: list[dict[str, Any]]) -> None:
    w.write(0, f"{title}:\t")
    if not taints:
        w.line("<none>")
        return
    ordered = sorted(taints, key=lambda t: f"{t.get('effect', '')},{t.get('key', '')}")
    for i, taint in enumerate(ordered):
        if i:
            w.write(0, "\t")
        value = f"={taint['value']}" if taint.get("value") else ""
        w.write(0, f"{taint.get('key', '')}{value}:{taint.get('effect', '')}\n")


def controller_of(meta: dict[str, Any]) -> str:
    for ref in meta.get("ownerReferences") or []:
        if ref.get("controller"):
            return f"{ref.get('kind')}/{ref.get('name')}"
    return ""


def format_selector(selector: dict[str, Any] | None) -> str:
    """``metav1.FormatLabelSelector``: ``a=b,c in (d,e)``; ``<none>`` when empty."""
    if not selector:
        return "<none>"
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op = expr.get("operator", "")
        values = ",".join(expr.get("values") or [])
        key = expr.get("key", "")
        if op == "In":
            parts.append(f"{key} in ({values})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({values})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
        else:
            parts.append(f"{key} {op} ({values})")
    return ",".join(parts) or "<none>"


def _ports(ports: list[dict[str, Any]], field: str) -> str:
    return ", ".join(f"{p.get(field, 0)}/{p.get('protocol', 'TCP')}" for p in ports)


def describe_probe(probe: dict[str, Any]) -> str:
    attrs = (
        f"delay={probe.get('initialDelaySeconds', 0)}s timeout={probe.get('timeoutSeconds', 0)}s "
        f"period={probe.get('periodSeconds', 0)}s #success={probe.get('successThreshold', 0)} "
        f"#failure={probe.get('failureThreshold', 0)}"
    )
    if probe.get("exec") is not None:
        command = " ".join((probe["exec"] or {}).get("command") or [])
        return f"exec [{command}] {attrs}"
    if probe.get("httpGet") is not None:
        get = probe["httpGet"]
        scheme = str(get.get("scheme", "HTTP")).lower()
        host = get.get("host", "")
        return f"http-get {scheme}://{host}:{get.get('port', '')}{get.get('path', '')} {attrs}"
    if probe.get("tcpSocket") is not None:
        sock = probe["tcpSocket"]
        return f"tcp-socket {sock.get('host', '')}:{sock.get('port', '')} {attrs}"
    if probe.get("grpc") is not None:
        grpc = probe["grpc"]
        return f"grpc <pod>:{grpc.get('port')} {grpc.get('service', '')} {attrs}"
    return f"unknown {attrs}"


def _state(w: PrefixWriter, name: str, state: dict[str, Any]) -> None:
    if state.get("running") is not None:
        w.write(2, f"{name}:\tRunning\n")
        w.write(3, f"Started:\t{rfc1123z(state['running'].get('startedAt'))}\n")
    elif state.get("terminated") is not None:
        term = state["terminated"]
        w.write(2, f"{name}:\tTerminated\n")
        if term.get("reason"):
            w.write(3, f"Reason:\t{term['reason']}\n")
        if term.get("message"):
            w.write(3, f"Message:\t{term['message']}\n")
        w.write(3, f"Exit Code:\t{term.get('exitCode', 0)}\n")
        if term.get("signal"):
            w.write(3, f"Signal:\t{term['signal']}\n")
        w.write(3, f"Started:\t{rfc1123z(term.get('startedAt'))}\n")
        w.write(3, f"Finished:\t{rfc1123z(term.get('finishedAt'))}\n")
    else:
        w.write(2, f"{name}:\tWaiting\n")
        reason = (state.get("waiting") or {}).get("reason")
        if reason:
            w.write(3, f"Reason:\t{reason}\n")


def _resources(w: PrefixWriter, resources: dict[str, Any] | None, level: int) -> None:
    resources = resources or {}
    for title, key in (("Limits", "limits"), ("Requests", "requests")):
        values = resources.get(key) or {}
        if values:
            w.write(level, f"{title}:\n")
        for name in sorted(values):
            w.write(level + 1, f"{name}:\t{values[name]}\n")


def describe_containers(
    w: PrefixWriter,
    label: str,
    containers: list[dict[str, Any]],
    statuses: list[dict[str, Any]] | None,
    space: str,
) -> None:
    by_name = {s.get("name"): s for s in statuses or []}
    w.write(0, f"{space}{label}:{'' if containers else ' <none>'}\n")
    name_indent = " " if space else ""
    for c in containers:
        status = by_name.get(c.get("name"))
        w.write(1, f"{name_indent}{c.get('name')}:\n")
        if status is not None:
            w.write(2, f"Container ID:\t{status.get('containerID', '')}\n")
        w.write(2, f"Image:\t{c.get('image', '')}\n")
        if status is not None:
            w.write(2, f"Image ID:\t{status.get('imageID', '')}\n")
        ports = c.get("ports") or []
        port_text = _ports(ports, "containerPort")
        host_text = _ports(ports, "hostPort")
        if "," in port_text:
            w.write(2, f"Ports:\t{port_text}\n")
        else:
            w.write(2, f"Port:\t{port_text or '<none>'}\n")
        if "," in host_text:
            w.write(2, f"Host Ports:\t{host_text}\n")
        else:
            w.write(2, f"Host Port:\t{host_text or '<none>'}\n")
        for title, key in (("Command", "command"), ("Args", "args")):
            if c.get(key):
                w.write(2, f"{title}:\n")
                for item in c[key]:
                    for part in str(item).split("\n"):
                        w.write(3, f"{part}\n")
        if status is not None:
            _state(w, "State", status.get("state") or {})
            if (status.get("lastState") or {}).get("terminated") is not None:
                _state(w, "Last State", status["lastState"])
            w.write(2, f"Ready:\t{'True' if status.get('ready') else 'False'}\n")
            w.write(2, f"Restart Count:\t{status.get('restartCount', 0)}\n")
        _resources(w, c.get("resources"), 2)
        for title, key in (
            ("Liveness", "livenessProbe"),
            ("Readiness", "readinessProbe"),
            ("Startup", "startupProbe"),
        ):
            if c.get(key) is not None:
                w.write(2, f"{title}:\t{describe_probe(c[key])}\n")
        if c.get("envFrom"):
            w.write(2, "Environment Variables from:\n")
            for source in c["envFrom"]:
                kind, ref = (
                    ("ConfigMap", source["configMapRef"])
                    if source.get("configMapRef")
                    else ("Secret", source.get("secretRef") or {})
                )
                optional = "true" if ref.get("optional") else "false"
                if source.get("prefix"):
                    w.write(
                        3,
                        f"{ref.get('name')}\t{kind} with prefix '{source['prefix']}'\t"
                        f"Optional: {optional}\n",
                    )
                else:
                    w.write(3, f"{ref.get('name')}\t{kind}\tOptional: {optional}\n")
        env = c.get("env") or []
        w.write(2, f"Environment:{'' if env else chr(9) + '<none>'}\n")
        for var in env:
            _env_var(w, var)
        mounts = sorted(c.get("volumeMounts") or [], key=lambda m: m.get("mountPath", ""))
        w.write(2, f"Mounts:{'' if mounts else chr(9) + '<none>'}\n")
        for mount in mounts:
            flags = ["ro" if mount.get("readOnly") else "rw"]
            if mount.get("subPath"):
                flags.append(f'path="{mount["subPath"]}"')
            w.write(3, f"{mount.get('mountPath')} from {mount.get('name')} ({','.join(flags)})\n")


def _env_var(w: PrefixWriter, var: dict[str, Any]) -> None:
    name = var.get("name", "")
    source = var.get("valueFrom")
    if source is None:
        for i, part in enumerate(str(var.get("value", "")).split("\n")):
            w.write(3, f"{name}:\t{part}\n" if i == 0 else f"\t{part}\n")
        return
    if source.get("fieldRef"):
        ref = source["fieldRef"]
        w.write(3, f"{name}:\t ({ref.get('apiVersion', 'v1')}:{ref.get('fieldPath', '')})\n")
    elif source.get("resourceFieldRef"):
        w.write(3, f"{name}:\t ({source['resourceFieldRef'].get('resource', '')})\n")
    elif source.get("secretKeyRef"):
        ref = source["secretKeyRef"]
        optional = "true" if ref.get("optional") else "false"
        w.write(
            3,
            f"{name}:\t<set to the key '{ref.get('key')}' in secret '{ref.get('name')}'>\t"
            f"Optional: {optional}\n",
        )
    elif source.get("configMapKeyRef"):
        ref = source["configMapKeyRef"]
        optional = "true" if ref.get("optional") else "false"
        w.write(
            3,
            f"{name}:\t<set to the key '{ref.get('key')}' of config map '{ref.get('name')}'>\t"
            f"Optional: {optional}\n",
        )


def describe_volumes(w: PrefixWriter, volumes: list[dict[str, Any]], space: str) -> None:
    if not volumes:
        w.write(0, f"{space}Volumes:\t<none>\n")
        return
    w.write(0, f"{space}Volumes:\n")
    name_indent = " " if space else ""
    for volume in volumes:
        w.write(1, f"{name_indent}{volume.get('name')}:\n")
        if volume.get("hostPath") is not None:
            source = volume["hostPath"]
            w.write(
                2,
                "Type:\tHostPath (bare host directory volume)\n"
                f"    Path:\t{source.get('path', '')}\n"
                f"    HostPathType:\t{source.get('type') or '<none>'}\n",
            )
        elif volume.get("emptyDir") is not None:
            source = volume["emptyDir"] or {}
            w.write(
                2,
                "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n"
                f"    Medium:\t{source.get('medium', '')}\n"
                f"    SizeLimit:\t{source.get('sizeLimit') or '<unset>'}\n",
            )
        elif volume.get("secret") is not None:
            source = volume["secret"]
            w.write(
                2,
                "Type:\tSecret (a volume populated by a Secret)\n"
                f"    SecretName:\t{source.get('secretName', '')}\n"
                f"    Optional:\t{'true' if source.get('optional') else 'false'}\n",
            )
        elif volume.get("configMap") is not None:
            source = volume["configMap"]
            w.write(
                2,
                "Type:\tConfigMap (a volume populated by a ConfigMap)\n"
                f"    Name:\t{source.get('name', '')}\n"
                f"    Optional:\t{'true' if source.get('optional') else 'false'}\n",
            )
        elif volume.get("persistentVolumeClaim") is not None:
            source = volume["persistentVolumeClaim"]
            w.write(
                2,
                "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in "
                "the same namespace)\n"
                f"    ClaimName:\t{source.get('claimName', '')}\n"
                f"    ReadOnly:\t{'true' if source.get('readOnly') else 'false'}\n",
            )
        elif volume.get("projected") is not None:
            w.write(
                2, "Type:\tProjected (a volume that contains injected data from multiple sources)\n"
            )
            for source in (volume["projected"] or {}).get("sources") or []:
                if source.get("secret") is not None:
                    w.write(2, f"SecretName:\t{source['secret'].get('name', '')}\n")
                elif source.get("downwardAPI") is not None:
                    w.write(2, "DownwardAPI:\ttrue\n")
                elif source.get("configMap") is not None:
                    w.write(2, f"ConfigMapName:\t{source['configMap'].get('name', '')}\n")
                elif source.get("serviceAccountToken") is not None:
                    seconds = source["serviceAccountToken"].get("expirationSeconds", 3607)
                    w.write(2, f"TokenExpirationSeconds:\t{seconds}\n")
        else:
            w.write(1, "<unknown>\n")


def describe_pod_template(w: PrefixWriter, template: dict[str, Any] | None) -> None:
    w.write(0, "Pod Template:\n")
    if template is None:
        w.write(1, "<unset>")
        return
    meta = template.get("metadata") or {}
    spec = template.get("spec") or {}
    labels_multiline(w, "  Labels", meta.get("labels"))
    if meta.get("annotations"):
        annotations_multiline(w, "  Annotations", meta.get("annotations"))
    if spec.get("serviceAccountName"):
        w.write(1, f"Service Account:\t{spec['serviceAccountName']}\n")
    if spec.get("initContainers"):
        describe_containers(w, "Init Containers", spec["initContainers"], None, "  ")
    describe_containers(w, "Containers", spec.get("containers") or [], None, "  ")
    describe_volumes(w, spec.get("volumes") or [], "  ")
    if spec.get("priorityClassName"):
        w.write(1, f"Priority Class Name:\t{spec['priorityClassName']}\n")
    labels_multiline(w, "  Node-Selectors", spec.get("nodeSelector"))
    tolerations_multiline(w, "  Tolerations", spec.get("tolerations") or [], "")


# --- events ------------------------------------------------------------------------------


def _event_time(event: dict[str, Any]) -> datetime:
    """The sort key of an event on a page; events without any time sort first."""
    moment = parse_time(event.get("lastTimestamp")) or parse_time(event.get("eventTime"))
    return moment or datetime.min.replace(tzinfo=UTC)


def describe_events(w: PrefixWriter, events: list[dict[str, Any]] | None) -> None:
    if events is None:
        return
    if not events:
        w.write(0, "Events:\t<none>\n")
        return
    w.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n")
    w.write(1, "----\t------\t----\t----\t-------\n")
    for event in sorted(events, key=_event_time):
        first = (
            age(event.get("eventTime"))
            if event.get("eventTime")
            else age(event.get("firstTimestamp"))
        )
        series = event.get("series")
        if series:
            interval = (
                f"{age(series.get('lastObservedTime'))} (x{series.get('count', 0)} over {first})"
            )
        elif (event.get("count") or 0) > 1:
            interval = f"{age(event.get('lastTimestamp'))} (x{event['count']} over {first})"
        else:
            interval = first
        source = (event.get("source") or {}).get("component") or event.get("reportingComponent", "")
        message = str(event.get("message", "")).strip()
        w.write(
            1,
            f"{event.get('type', '')}\t{event.get('reason', '')}\t{interval}\t{source}\t{message}\n",
        )


async def search_events(
    session: Session, obj: dict[str, Any], *, with_kind: bool = True, uid: str | None = None
) -> list[dict[str, Any]]:
    """The events about ``obj``, found by ``involvedObject`` fields as kubectl finds them."""
    meta = obj.get("metadata") or {}
    selectors = [f"involvedObject.name={meta.get('name', '')}"]
    namespace = meta.get("namespace") or ""
    selectors.append(f"involvedObject.namespace={namespace}")
    if with_kind and obj.get("kind"):
        selectors.append(f"involvedObject.kind={obj['kind']}")
    the_uid = uid if uid is not None else meta.get("uid")
    if the_uid:
        selectors.append(f"involvedObject.uid={the_uid}")
    listed = await session.client.list_raw(
        resource("", "events"), namespace or None, all_namespaces=not namespace,
        field_selector=",".join(selectors),
    )  # fmt: skip
    return list(listed.get("items") or [])


# --- describers ---------------------------------------------------------------------------


def describe_pod(pod: dict[str, Any], events: list[dict[str, Any]] | None) -> str:
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    if spec.get("priority") is not None:
        w.write(0, f"Priority:\t{spec['priority']}\n")
    if spec.get("priorityClassName"):
        w.write(0, f"Priority Class Name:\t{spec['priorityClassName']}\n")
    if spec.get("runtimeClassName"):
        w.write(0, f"Runtime Class Name:\t{spec['runtimeClassName']}\n")
    if spec.get("serviceAccountName"):
        w.write(0, f"Service Account:\t{spec['serviceAccountName']}\n")
    if spec.get("nodeName"):
        w.write(0, f"Node:\t{spec['nodeName']}/{status.get('hostIP', '')}\n")
    else:
        w.write(0, "Node:\t<none>\n")
    if status.get("startTime"):
        w.write(0, f"Start Time:\t{rfc1123z(status['startTime'])}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    phase = status.get("phase", "")
    if meta.get("deletionTimestamp") and phase not in ("Failed", "Succeeded"):
        w.write(0, f"Status:\tTerminating (lasts {age(meta['deletionTimestamp'])})\n")
        w.write(0, f"Termination Grace Period:\t{meta.get('deletionGracePeriodSeconds', 0)}s\n")
    else:
        w.write(0, f"Status:\t{phase}\n")
    if status.get("reason"):
        w.write(0, f"Reason:\t{status['reason']}\n")
    if status.get("message"):
        w.write(0, f"Message:\t{status['message']}\n")
    w.write(0, f"IP:\t{status.get('podIP', '')}\n")
    pod_ips = status.get("podIPs") or []
    if pod_ips:
        w.write(0, "IPs:\n")
        for ip in pod_ips:
            w.write(1, f"IP:\t{ip.get('ip', '')}\n")
    else:
        w.write(0, "IPs:\t<none>\n")
    controller = controller_of(meta)
    if controller:
        w.write(0, f"Controlled By:\t{controller}\n")
    if status.get("nominatedNodeName"):
        w.write(0, f"NominatedNodeName:\t{status['nominatedNodeName']}\n")
    if spec.get("initContainers"):
        describe_containers(
            w, "Init Containers", spec["initContainers"], status.get("initContainerStatuses"), ""
        )
    describe_containers(
        w, "Containers", spec.get("containers") or [], status.get("containerStatuses"), ""
    )
    gates = spec.get("readinessGates") or []
    conditions = status.get("conditions") or []
    if gates:
        w.write(0, "Readiness Gates:\n  Type\tStatus\n")
        for gate in gates:
            found = next(
                (c.get("status") for c in conditions if c.get("type") == gate.get("conditionType")),
                "<none>",
            )
            w.write(1, f"{gate.get('conditionType')} \t{found} \n")
    if conditions:
        w.write(0, "Conditions:\n  Type\tStatus\n")
        for cond in conditions:
            w.write(1, f"{cond.get('type')} \t{cond.get('status')} \n")
    describe_volumes(w, spec.get("volumes") or [], "")
    qos = status.get("qosClass") or pod_qos_class(PodSpec.from_dict(spec))
    w.write(0, f"QoS Class:\t{qos}\n")
    labels_multiline(w, "Node-Selectors", spec.get("nodeSelector"))
    tolerations_multiline(w, "Tolerations", spec.get("tolerations") or [])
    describe_events(w, events)
    return w.render()


def _strip_hash(template: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(template or {})
    labels = (result.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(POD_TEMPLATE_HASH, None)
    return result


def _rs_list(replicasets: list[dict[str, Any]]) -> str:
    parts = [
        f"{(rs.get('metadata') or {}).get('name')} ({(rs.get('status') or {}).get('replicas', 0)}/"
        f"{(rs.get('spec') or {}).get('replicas', 0)} replicas created)"
        for rs in replicasets
    ]
    return ", ".join(parts) or "<none>"


def describe_deployment(
    d: dict[str, Any], replicasets: list[dict[str, Any]] | None, events: list[dict[str, Any]] | None
) -> str:
    meta = d.get("metadata") or {}
    spec = d.get("spec") or {}
    status = d.get("status") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    w.write(0, f"CreationTimestamp:\t{rfc1123z(meta.get('creationTimestamp'))}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"Selector:\t{format_selector(spec.get('selector'))}\n")
    w.write(
        0,
        f"Replicas:\t{spec.get('replicas', 0)} desired | {status.get('updatedReplicas', 0)} "
        f"updated | {status.get('replicas', 0)} total | {status.get('availableReplicas', 0)} "
        f"available | {status.get('unavailableReplicas', 0)} unavailable\n",
    )
    strategy = spec.get("strategy") or {}
    w.write(0, f"StrategyType:\t{strategy.get('type', '')}\n")
    w.write(0, f"MinReadySeconds:\t{spec.get('minReadySeconds', 0)}\n")
    rolling = strategy.get("rollingUpdate")
    if rolling is not None:
        w.write(
            0,
            f"RollingUpdateStrategy:\t{rolling.get('maxUnavailable', '')} max unavailable, "
            f"{rolling.get('maxSurge', '')} max surge\n",
        )
    describe_pod_template(w, spec.get("template"))
    conditions = status.get("conditions") or []
    if conditions:
        w.write(0, "Conditions:\n  Type\tStatus\tReason\n")
        w.write(1, "----\t------\t------\n")
        for cond in conditions:
            w.write(1, f"{cond.get('type')} \t{cond.get('status')}\t{cond.get('reason', '')}\n")
    if replicasets:
        # kubectl prints these lines only when the deployment owns replica sets.
        template = _strip_hash(spec.get("template") or {})
        ordered = sorted(
            replicasets, key=lambda rs: (rs.get("metadata") or {}).get("creationTimestamp", "")
        )
        new = next(
            (
                rs
                for rs in ordered
                if _strip_hash((rs.get("spec") or {}).get("template") or {}) == template
            ),
            None,
        )
        old = [rs for rs in replicasets if rs is not new]
        w.write(0, f"OldReplicaSets:\t{_rs_list(old)}\n")
        w.write(0, f"NewReplicaSet:\t{_rs_list([new] if new is not None else [])}\n")
    describe_events(w, events)
    return w.render()


def _pod_counts(pods: list[dict[str, Any]], uid: str) -> str:
    counts = {"Running": 0, "Pending": 0, "Succeeded": 0, "Failed": 0}
    for pod in pods:
        refs = (pod.get("metadata") or {}).get("ownerReferences") or []
        if not any(r.get("controller") and r.get("uid") == uid for r in refs):
            continue
        phase = (pod.get("status") or {}).get("phase", "")
        if phase in counts:
            counts[phase] += 1
    return (
        f"{counts['Running']} Running / {counts['Pending']} Waiting / "
        f"{counts['Succeeded']} Succeeded / {counts['Failed']} Failed"
    )


def describe_replicaset(
    rs: dict[str, Any], pods: list[dict[str, Any]], events: list[dict[str, Any]] | None
) -> str:
    meta = rs.get("metadata") or {}
    spec = rs.get("spec") or {}
    status = rs.get("status") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    w.write(0, f"Selector:\t{format_selector(spec.get('selector'))}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    controller = controller_of(meta)
    if controller:
        w.write(0, f"Controlled By:\t{controller}\n")
    w.write(
        0, f"Replicas:\t{status.get('replicas', 0)} current / {spec.get('replicas', 0)} desired\n"
    )
    w.write(0, f"Pods Status:\t{_pod_counts(pods, meta.get('uid', ''))}\n")
    describe_pod_template(w, spec.get("template"))
    conditions = status.get("conditions") or []
    if conditions:
        w.write(0, "Conditions:\n  Type\tStatus\tReason\n")
        w.write(1, "----\t------\t------\n")
        for cond in conditions:
            w.write(1, f"{cond.get('type')} \t{cond.get('status')}\t{cond.get('reason', '')}\n")
    describe_events(w, events)
    return w.render()


def describe_daemonset(
    ds: dict[str, Any], pods: list[dict[str, Any]], events: list[dict[str, Any]] | None
) -> str:
    meta = ds.get("metadata") or {}
    spec = ds.get("spec") or {}
    status = ds.get("status") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    w.write(0, f"Selector:\t{format_selector(spec.get('selector'))}\n")
    node_selector = ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector") or {}
    w.write(0, f"Node-Selector:\t{format_labels(node_selector)}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    for title, key in (
        ("Desired Number of Nodes Scheduled", "desiredNumberScheduled"),
        ("Current Number of Nodes Scheduled", "currentNumberScheduled"),
        ("Number of Nodes Scheduled with Up-to-date Pods", "updatedNumberScheduled"),
        ("Number of Nodes Scheduled with Available Pods", "numberAvailable"),
        ("Number of Nodes Misscheduled", "numberMisscheduled"),
    ):
        w.write(0, f"{title}: {status.get(key, 0)}\n")
    w.write(0, f"Pods Status:\t{_pod_counts(pods, meta.get('uid', ''))}\n")
    describe_pod_template(w, spec.get("template"))
    describe_events(w, events)
    return w.render()


def describe_statefulset(
    sts: dict[str, Any], pods: list[dict[str, Any]], events: list[dict[str, Any]] | None
) -> str:
    meta = sts.get("metadata") or {}
    spec = sts.get("spec") or {}
    status = sts.get("status") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    w.write(0, f"CreationTimestamp:\t{rfc1123z(meta.get('creationTimestamp'))}\n")
    w.write(0, f"Selector:\t{format_selector(spec.get('selector'))}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(
        0, f"Replicas:\t{spec.get('replicas', 0)} desired | {status.get('replicas', 0)} total\n"
    )
    strategy = spec.get("updateStrategy") or {}
    w.write(0, f"Update Strategy:\t{strategy.get('type', '')}\n")
    partition = (strategy.get("rollingUpdate") or {}).get("partition")
    if partition is not None:
        w.write(1, f"Partition:\t{partition}\n")
    w.write(0, f"Pods Status:\t{_pod_counts(pods, meta.get('uid', ''))}\n")
    describe_pod_template(w, spec.get("template"))
    claims = spec.get("volumeClaimTemplates") or []
    if not claims:
        w.write(0, "Volume Claims:\t<none>\n")
    else:
        w.write(0, "Volume Claims:\n")
        for claim in claims:
            cmeta = claim.get("metadata") or {}
            cspec = claim.get("spec") or {}
            w.write(1, f"Name:\t{cmeta.get('name', '')}\n")
            w.write(1, f"StorageClass:\t{cspec.get('storageClassName', '')}\n")
            labels_multiline(w, "Labels", cmeta.get("labels"), "  ")
            labels_multiline(w, "Annotations", cmeta.get("annotations"), "  ")
            storage = ((cspec.get("resources") or {}).get("requests") or {}).get("storage")
            w.write(1, f"Capacity:\t{storage or '<default>'}\n")
            modes = " ".join(cspec.get("accessModes") or [])
            w.write(1, f"Access Modes:\t[{modes}]\n")
    describe_events(w, events)
    return w.render()


def describe_job(job: dict[str, Any], events: list[dict[str, Any]] | None) -> str:
    meta = job.get("metadata") or {}
    spec = job.get("spec") or {}
    status = job.get("status") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    w.write(0, f"Selector:\t{format_selector(spec.get('selector'))}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    controller = controller_of(meta)
    if controller:
        w.write(0, f"Controlled By:\t{controller}\n")
    if spec.get("parallelism") is not None:
        w.write(0, f"Parallelism:\t{spec['parallelism']}\n")
    completions = spec.get("completions")
    w.write(0, f"Completions:\t{completions if completions is not None else '<unset>'}\n")
    if spec.get("completionMode"):
        w.write(0, f"Completion Mode:\t{spec['completionMode']}\n")
    if spec.get("suspend") is not None:
        w.write(0, f"Suspend:\t{'true' if spec['suspend'] else 'false'}\n")
    if spec.get("backoffLimit") is not None:
        w.write(0, f"Backoff Limit:\t{spec['backoffLimit']}\n")
    if status.get("startTime"):
        w.write(0, f"Start Time:\t{rfc1123z(status['startTime'])}\n")
    if status.get("completionTime"):
        w.write(0, f"Completed At:\t{rfc1123z(status['completionTime'])}\n")
    active, succeeded, failed = (
        status.get("active", 0),
        status.get("succeeded", 0),
        status.get("failed", 0),
    )
    if status.get("ready") is None:
        w.write(0, f"Pods Statuses:\t{active} Active / {succeeded} Succeeded / {failed} Failed\n")
    else:
        w.write(
            0,
            f"Pods Statuses:\t{active} Active ({status['ready']} Ready) / {succeeded} Succeeded / "
            f"{failed} Failed\n",
        )
    describe_pod_template(w, spec.get("template"))
    describe_events(w, events)
    return w.render()


def _endpoints_text(endpoints: dict[str, Any] | None, port_name: str) -> str:
    if not endpoints:
        return "<none>"
    found: list[str] = []
    for subset in endpoints.get("subsets") or []:
        for port in subset.get("ports") or []:
            if (port.get("name") or "") != port_name:
                continue
            for address in subset.get("addresses") or []:
                found.append(f"{address.get('ip')}:{port.get('port')}")
    if not found:
        return "<none>"
    text = ",".join(found[:3])
    if len(found) > 3:
        text += f" + {len(found) - 3} more..."
    return text


def describe_service(
    svc: dict[str, Any], endpoints: dict[str, Any] | None, events: list[dict[str, Any]] | None
) -> str:
    meta = svc.get("metadata") or {}
    spec = svc.get("spec") or {}
    status = svc.get("status") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(
        0, f"Selector:\t{format_labels(spec.get('selector')) if spec.get('selector') else ''}\n"
    )
    w.write(0, f"Type:\t{spec.get('type', '')}\n")
    if spec.get("ipFamilyPolicy"):
        w.write(0, f"IP Family Policy:\t{spec['ipFamilyPolicy']}\n")
    if spec.get("ipFamilies"):
        w.write(0, f"IP Families:\t{','.join(spec['ipFamilies'])}\n")
    w.write(0, f"IP:\t{spec.get('clusterIP', '')}\n")
    if spec.get("clusterIPs"):
        w.write(0, f"IPs:\t{','.join(spec['clusterIPs'])}\n")
    if spec.get("externalIPs"):
        w.write(0, f"External IPs:\t{','.join(spec['externalIPs'])}\n")
    if spec.get("loadBalancerIP"):
        w.write(0, f"Desired LoadBalancer IP:\t{spec['loadBalancerIP']}\n")
    if spec.get("externalName"):
        w.write(0, f"External Name:\t{spec['externalName']}\n")
    ingress = (status.get("loadBalancer") or {}).get("ingress") or []
    if ingress:
        text = ", ".join(i.get("ip") or i.get("hostname") or "" for i in ingress)
        w.write(0, f"LoadBalancer Ingress:\t{text}\n")
    for port in spec.get("ports") or []:
        name = port.get("name") or "<unset>"
        protocol = port.get("protocol", "TCP")
        w.write(0, f"Port:\t{name}\t{port.get('port')}/{protocol}\n")
        w.write(0, f"TargetPort:\t{port.get('targetPort', port.get('port'))}/{protocol}\n")
        if port.get("nodePort"):
            w.write(0, f"NodePort:\t{name}\t{port['nodePort']}/{protocol}\n")
        w.write(0, f"Endpoints:\t{_endpoints_text(endpoints, port.get('name') or '')}\n")
    w.write(0, f"Session Affinity:\t{spec.get('sessionAffinity', '')}\n")
    if spec.get("externalTrafficPolicy"):
        w.write(0, f"External Traffic Policy:\t{spec['externalTrafficPolicy']}\n")
    if spec.get("internalTrafficPolicy"):
        w.write(0, f"Internal Traffic Policy:\t{spec['internalTrafficPolicy']}\n")
    if spec.get("healthCheckNodePort"):
        w.write(0, f"HealthCheck NodePort:\t{spec['healthCheckNodePort']}\n")
    describe_events(w, events)
    return w.render()


def describe_configmap(cm: dict[str, Any], events: list[dict[str, Any]] | None) -> str:
    meta = cm.get("metadata") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, "\nData\n====\n")
    data = cm.get("data") or {}
    for key in sorted(data):
        w.write(0, f"{key}:\n----\n")
        w.write(0, f"{data[key]}\n\n")
    w.write(0, "\nBinaryData\n====\n")
    for key, value in sorted((cm.get("binaryData") or {}).items()):
        size = len(value) * 3 // 4 - value.count("=")
        w.write(0, f"{key}: {size} bytes\n")
    w.write(0, "\n")
    describe_events(w, events)
    return w.render()


def describe_secret(secret: dict[str, Any]) -> str:
    import base64

    meta = secret.get("metadata") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"\nType:\t{secret.get('type', '')}\n")
    w.write(0, "\nData\n====\n")
    data = secret.get("data") or {}
    for key in sorted(data):
        raw = base64.b64decode(data[key] or "")
        if key == "token" and secret.get("type") == "kubernetes.io/service-account-token":
            w.write(0, f"{key}:\t{raw.decode(errors='replace')}\n")
        else:
            w.write(0, f"{key}:\t{len(raw)} bytes\n")
    return w.render()


def describe_namespace(ns: dict[str, Any]) -> str:
    meta = ns.get("metadata") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"Status:\t{(ns.get('status') or {}).get('phase', '')}\n")
    return w.render()


def describe_endpoints(ep: dict[str, Any], events: list[dict[str, Any]] | None) -> str:
    meta = ep.get("metadata") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, "Subsets:\n")
    for subset in ep.get("subsets") or []:
        ready = ",".join(a.get("ip", "") for a in subset.get("addresses") or []) or "<none>"
        not_ready = (
            ",".join(a.get("ip", "") for a in subset.get("notReadyAddresses") or []) or "<none>"
        )
        w.write(1, f"Addresses:\t{ready}\n")
        w.write(1, f"NotReadyAddresses:\t{not_ready}\n")
        if subset.get("ports"):
            w.write(1, "Ports:\n")
            w.write(2, "Name\tPort\tProtocol\n")
            w.write(2, "----\t----\t--------\n")
            for port in subset["ports"]:
                w.write(
                    2,
                    f"{port.get('name') or '<unset>'}\t{port.get('port')}\t{port.get('protocol', 'TCP')}\n",
                )
        w.write(0, "\n")
    describe_events(w, events)
    return w.render()


def _percent(part: Any, whole: Any, milli: bool) -> int:
    if whole is None:
        return 0
    denominator = whole.milli_value() if milli else whole.value()
    if not denominator:
        return 0
    numerator = part.milli_value() if milli else part.value()
    return int(numerator / denominator * 100)


def describe_node(
    node: dict[str, Any],
    pods: list[dict[str, Any]] | None,
    events: list[dict[str, Any]] | None,
    lease: dict[str, Any] | None,
) -> str:
    from apitypes.quantity import Quantity

    meta = node.get("metadata") or {}
    spec = node.get("spec") or {}
    status = node.get("status") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    roles = sorted(
        key.split("/", 1)[1]
        for key in (meta.get("labels") or {})
        if key.startswith("node-role.kubernetes.io/") and key.split("/", 1)[1]
    )
    w.write(0, f"Roles:\t{','.join(roles) or '<none>'}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"CreationTimestamp:\t{rfc1123z(meta.get('creationTimestamp'))}\n")
    taints_multiline(w, "Taints", spec.get("taints") or [])
    w.write(0, f"Unschedulable:\t{'true' if spec.get('unschedulable') else 'false'}\n")
    if lease is not None:
        lspec = lease.get("spec") or {}
        w.write(0, "Lease:\n")
        w.write(1, f"HolderIdentity:\t{lspec.get('holderIdentity') or '<unset>'}\n")
        w.write(
            1,
            f"AcquireTime:\t{rfc1123z(lspec['acquireTime']) if lspec.get('acquireTime') else '<unset>'}\n",
        )
        w.write(
            1,
            f"RenewTime:\t{rfc1123z(lspec['renewTime']) if lspec.get('renewTime') else '<unset>'}\n",
        )
    conditions = status.get("conditions") or []
    if conditions:
        w.write(
            0,
            "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n",
        )
        w.write(1, "----\t------\t-----------------\t------------------\t------\t-------\n")
        for c in conditions:
            w.write(
                1,
                f"{c.get('type')} \t{c.get('status')} \t{rfc1123z(c.get('lastHeartbeatTime'))} \t"
                f"{rfc1123z(c.get('lastTransitionTime'))} \t{c.get('reason', '')} \t"
                f"{c.get('message', '')}\n",
            )
    w.write(0, "Addresses:\n")
    for address in status.get("addresses") or []:
        w.write(1, f"{address.get('type')}:\t{address.get('address')}\n")
    for title, key in (("Capacity", "capacity"), ("Allocatable", "allocatable")):
        values = status.get(key) or {}
        if values:
            w.write(0, f"{title}:\n")
            for name in sorted(values):
                w.write(0, f"  {name}:\t{Quantity.parse(str(values[name]))}\n")
    info = status.get("nodeInfo") or {}
    w.write(0, "System Info:\n")
    for title, key in (
        ("Machine ID", "machineID"),
        ("System UUID", "systemUUID"),
        ("Boot ID", "bootID"),
        ("Kernel Version", "kernelVersion"),
        ("OS Image", "osImage"),
        ("Operating System", "operatingSystem"),
        ("Architecture", "architecture"),
        ("Container Runtime Version", "containerRuntimeVersion"),
        ("Kubelet Version", "kubeletVersion"),
        ("Kube-Proxy Version", "kubeProxyVersion"),
    ):
        w.write(0, f"  {title}:\t{info.get(key, '')}\n")
    if spec.get("podCIDR"):
        w.write(0, f"PodCIDR:\t{spec['podCIDR']}\n")
    if spec.get("podCIDRs"):
        w.write(0, f"PodCIDRs:\t{','.join(spec['podCIDRs'])}\n")
    if spec.get("providerID"):
        w.write(0, f"ProviderID:\t{spec['providerID']}\n")
    if pods is None:
        w.write(0, "Pods:\tnot authorized\n")
    else:
        _node_resources(w, node, pods)
    describe_events(w, events)
    return w.render()


def _node_resources(w: PrefixWriter, node: dict[str, Any], pods: list[dict[str, Any]]) -> None:
    from apitypes.quantity import Quantity

    status = node.get("status") or {}
    allocatable = status.get("allocatable") or status.get("capacity") or {}

    def alloc(name: str) -> Any:
        return Quantity.parse(str(allocatable[name])) if name in allocatable else None

    w.write(0, f"Non-terminated Pods:\t({len(pods)} in total)\n")
    w.write(
        1,
        "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n",
    )
    w.write(
        1,
        "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n",
    )
    totals_req: dict[str, Any] = {}
    totals_lim: dict[str, Any] = {}
    for pod in pods:
        meta = pod.get("metadata") or {}
        pod_spec = PodSpec.from_dict(pod.get("spec") or {})
        requests = pod_requests(pod_spec, as_quantity)
        limits = pod_limits(pod_spec, as_quantity)
        for name, value in requests.items():
            totals_req[name] = totals_req.get(name, Quantity.zero()) + value
        for name, value in limits.items():
            totals_lim[name] = totals_lim.get(name, Quantity.zero()) + value
        zero = Quantity.zero()
        cpu_r, cpu_l = requests.get("cpu", zero), limits.get("cpu", zero)
        mem_r, mem_l = requests.get("memory", zero), limits.get("memory", zero)
        w.write(
            1,
            f"{meta.get('namespace', '')}\t{meta.get('name', '')}\t\t"
            f"{cpu_r} ({_percent(cpu_r, alloc('cpu'), True)}%)\t"
            f"{cpu_l} ({_percent(cpu_l, alloc('cpu'), True)}%)\t"
            f"{mem_r} ({_percent(mem_r, alloc('memory'), False)}%)\t"
            f"{mem_l} ({_percent(mem_l, alloc('memory'), False)}%)\t"
            f"{age(meta.get('creationTimestamp'))}\n",
        )
    w.write(
        0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n"
    )
    w.write(1, "Resource\tRequests\tLimits\n")
    w.write(1, "--------\t--------\t------\n")
    zero = Quantity.zero()
    for name, milli in (("cpu", True), ("memory", False), ("ephemeral-storage", False)):
        req = totals_req.get(name, zero)
        lim = totals_lim.get(name, zero)
        w.write(
            1,
            f"{name}\t{req} ({_percent(req, alloc(name), milli)}%)\t"
            f"{lim} ({_percent(lim, alloc(name), milli)}%)\n",
        )
    standard = {"cpu", "memory", "ephemeral-storage", "storage", "pods"}
    for name in sorted(n for n in allocatable if n not in standard and "/" in n):
        w.write(1, f"{name}\t{totals_req.get(name, zero)}\t{totals_lim.get(name, zero)}\n")


# --- the generic page ---------------------------------------------------------------------

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^A-Za-z\d]+")
_ACRONYMS = {"API", "URL", "UID", "GUID"}


def smart_label(field: str) -> str:
    """``creationTimestamp`` -> ``Creation Timestamp``, ``apiVersion`` -> ``API Version``."""
    if any(not (ch.isalpha() or ch == "-") for ch in field):
        return field
    words: list[str] = []
    for part in _CAMEL.findall(field):
        if part.upper() in _ACRONYMS:
            words.append(part.upper())
        elif part.lower() == part:
            words.append(part[:1].upper() + part[1:])
        else:
            words.append(part)
    return " ".join(words)


def _unstructured(
    w: PrefixWriter, level: int, content: dict[str, Any], prefix: str, skip: set[str]
) -> None:
    from cli.navctl_printing import go_value_text

    for field in sorted(content):
        value = content[field]
        path = f"{prefix}.{field}"
        if path in skip:
            continue
        if isinstance(value, dict):
            w.write(level, f"{smart_label(field)}:\n")
            _unstructured(w, level + 1, value, path, skip)
        elif isinstance(value, list):
            w.write(level, f"{smart_label(field)}:\n")
            for child in value:
                if isinstance(child, dict):
                    _unstructured(w, level + 1, child, path, skip)
                else:
                    w.write(level + 1, f"{go_value_text(child)}\n")
        else:
            w.write(level, f"{smart_label(field)}:\t{go_value_text(value)}\n")


def describe_generic(obj: dict[str, Any], events: list[dict[str, Any]] | None) -> str:
    meta = obj.get("metadata") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    skip = {
        ".metadata.managedFields",
        ".metadata.name",
        ".metadata.namespace",
        ".metadata.labels",
        ".metadata.annotations",
    }
    _unstructured(w, 0, obj, "", skip)
    describe_events(w, events)
    return w.render()


# --- the command ---------------------------------------------------------------------------


async def _list(
    session: Session, group: str, plural: str, namespace: str | None, **kwargs: Any
) -> list[dict[str, Any]]:
    listed = await session.client.list_raw(resource(group, plural), namespace, **kwargs)
    return list(listed.get("items") or [])


async def describe_object(
    session: Session, rtype: ResourceType, obj: dict[str, Any], show_events: bool
) -> str:
    """The page for one object (fetching what its page needs: pods, events, ...)."""
    from apiclient import errors

    obj.setdefault("kind", rtype.kind)
    obj.setdefault("apiVersion", rtype.api_version)
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    kind = rtype.kind if rtype.group in ("", "apps", "batch") else ""

    async def events(**kwargs: Any) -> list[dict[str, Any]] | None:
        if not show_events:
            return None
        try:
            return await search_events(session, obj, **kwargs)
        except errors.ApiError:
            return None

    if kind == "Pod":
        return describe_pod(obj, await events(with_kind=False))
    if kind == "Deployment":
        replicasets = await _owned(session, "apps", "replicasets", obj)
        return describe_deployment(obj, replicasets, await events())
    if kind in ("ReplicaSet", "DaemonSet", "StatefulSet"):
        pods = await _list(session, "", "pods", ns)
        page: Callable[..., str] = {
            "ReplicaSet": describe_replicaset,
            "DaemonSet": describe_daemonset,
            "StatefulSet": describe_statefulset,
        }[kind]
        return page(obj, pods, await events())
    if kind == "Job":
        return describe_job(obj, await events())
    if kind == "Service":
        try:
            endpoints = await session.client.get_raw(resource("", "endpoints"), meta["name"], ns)
        except errors.ApiError:
            endpoints = None
        return describe_service(obj, endpoints, await events())
    if kind == "ConfigMap":
        return describe_configmap(obj, await events())
    if kind == "Secret":
        return describe_secret(obj)
    if kind == "Namespace":
        return describe_namespace(obj)
    if kind == "Endpoints":
        return describe_endpoints(obj, await events())
    if kind == "Node":
        node_pods: list[dict[str, Any]] | None
        try:
            node_pods = await _list(
                session, "", "pods", None, all_namespaces=True,
                field_selector=f"spec.nodeName={meta.get('name')},status.phase!=Succeeded,"
                "status.phase!=Failed",
            )  # fmt: skip
        except errors.ForbiddenError:
            node_pods = None
        try:
            lease = await session.client.get_raw(
                resource("coordination.k8s.io", "leases"), meta["name"], "kube-node-lease"
            )
        except errors.ApiError:
            lease = None
        return describe_node(obj, node_pods, await events(uid=meta.get("name")), lease)
    return describe_generic(obj, await events())


async def _owned(
    session: Session, group: str, plural: str, owner: dict[str, Any]
) -> list[dict[str, Any]]:
    meta = owner.get("metadata") or {}
    items = await _list(session, group, plural, meta.get("namespace"))
    uid = meta.get("uid")
    return [
        item
        for item in items
        if any(
            r.get("controller") and r.get("uid") == uid
            for r in (item.get("metadata") or {}).get("ownerReferences") or []
        )
    ]


async def _objects(
    session: Session,
    target: Target,
    namespace: str | None,
    all_namespaces: bool,
    selector: str | None,
) -> tuple[list[dict[str, Any]], list[str]]:
    from apiclient import errors

    rtype = target.resource
    client = session.client
    ns = None if not rtype.namespaced else namespace
    if not target.names:
        listed = await client.list_raw(
            rtype, ns, all_namespaces=all_namespaces, label_selector=selector
        )
        return list(listed.get("items") or []), []
    found: list[dict[str, Any]] = []
    problems: list[str] = []
    everything: list[dict[str, Any]] | None = None
    for name in target.names:
        try:
            found.append(await client.get_raw(rtype, name, ns))
            continue
        except errors.NotFoundError as error:
            missing = error
        # kubectl describes every object whose name starts with what was given.
        if everything is None:
            everything = list((await client.list_raw(rtype, ns)).get("items") or [])
        matches = [
            o for o in everything if str((o.get("metadata") or {}).get("name", "")).startswith(name)
        ]
        if matches:
            for match in matches:
                match[_BY_PREFIX] = True
            found.extend(matches)
        else:
            problems.append(api_error_line(missing, session.server))
    return found, problems


_BY_PREFIX = "\0navctl-by-prefix"
"""Marks objects found by name prefix: kubectl prints those pages differently."""


async def describe(
    session: Session,
    args: list[str],
    *,
    namespace: str | None = None,
    all_namespaces: bool = False,
    selector: str | None = None,
    filenames: list[str] | None = None,
    show_events: bool = True,
) -> int:
    """Run ``navctl describe``: pages separated by blank lines, errors after."""
    if filenames:
        from cli.navctl_manifests import load

        targets: list[Target] = []
        for m in load(filenames, verb="describe"):
            rtype = await session.resolver.resolve_kind(m.api_version, m.kind)
            targets.append(Target(rtype, [m.name]))
    else:
        targets = await parse_targets(session.resolver, args, verb="describe")
    ns = None if all_namespaces else session.namespace(namespace)
    printed = False
    problems: list[str] = []
    for target in targets:
        objects, errors_ = await _objects(session, target, ns, all_namespaces, selector)
        problems.extend(errors_)
        for obj in objects:
            by_prefix = bool(obj.pop(_BY_PREFIX, False))
            page = await describe_object(session, target.resource, obj, show_events)
            # As kubectl: pages are separated by "\n\n"; pages found by a name prefix
            # are each followed by a newline instead.
            if by_prefix:
                out(page + "\n")
            else:
                out(("\n\n" if printed else "") + page)
            printed = True
    if not printed and not problems:
        if all(t.resource.namespaced for t in targets) and not all_namespaces:
            err(f"No resources found in {ns} namespace.")
        else:
            err("No resources found")
    for line in problems:
        err(line)
    if problems:
        return 1
    return 0
