"""Services and networking: the Service page (with its endpoints) and the Endpoints page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cli.navctl.describe.helpers import (
    EventSearch,
    Page,
    PrefixWriter,
    annotations_multiline,
    describe_events,
    labels_multiline,
)
from cli.navctl.printing import format_labels
from cli.navctl.resources import resource

if TYPE_CHECKING:
    from cli.navctl.session import Session


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


async def _service_page(session: Session, svc: dict[str, Any], events: EventSearch) -> str:
    from apiclient import errors

    meta = svc.get("metadata") or {}
    try:
        endpoints = await session.client.get_raw(
            resource("", "endpoints"), meta["name"], meta.get("namespace")
        )
    except errors.ApiError:
        endpoints = None
    return describe_service(svc, endpoints, await events())


async def _endpoints_page(session: Session, ep: dict[str, Any], events: EventSearch) -> str:
    return describe_endpoints(ep, await events())


PAGES: dict[str, Page] = {"Service": _service_page, "Endpoints": _endpoints_page}
