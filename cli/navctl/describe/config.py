"""Configuration and namespaces: the ConfigMap, Secret (sizes only) and Namespace pages."""

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

if TYPE_CHECKING:
    from cli.navctl.session import Session


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


async def _configmap_page(session: Session, cm: dict[str, Any], events: EventSearch) -> str:
    return describe_configmap(cm, await events())


async def _secret_page(session: Session, secret: dict[str, Any], events: EventSearch) -> str:
    return describe_secret(secret)


async def _namespace_page(session: Session, ns: dict[str, Any], events: EventSearch) -> str:
    return describe_namespace(ns)


PAGES: dict[str, Page] = {
    "ConfigMap": _configmap_page,
    "Secret": _secret_page,
    "Namespace": _namespace_page,
}
