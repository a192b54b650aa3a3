"""Pods: the pod page, and the container, volume and pod template blocks that the
workload pages (``workloads``) show too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cli.navctl.describe.helpers import (
    EventSearch,
    Page,
    PrefixWriter,
    annotations_multiline,
    controller_of,
    describe_events,
    labels_multiline,
    rfc1123z,
    tolerations_multiline,
)
from cli.navctl.printing import age

if TYPE_CHECKING:
    from cli.navctl.session import Session


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


def describe_pod(pod: dict[str, Any], events: list[dict[str, Any]] | None) -> str:
    from apitypes.core import PodSpec
    from apitypes.resources import pod_qos_class

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


async def _pod_page(session: Session, pod: dict[str, Any], events: EventSearch) -> str:
    return describe_pod(pod, await events(with_kind=False))


PAGES: dict[str, Page] = {"Pod": _pod_page}
