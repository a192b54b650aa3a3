"""core/v1 kinds: Namespace, Pod, Node, Event, ConfigMap, Secret, Service, Endpoints,
ServiceAccount."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from apiserver.registry.strategy import Column, Strategy, age, get_path
from apitypes import registry
from apitypes.registry import ResourceType


def _r(plural: str) -> ResourceType:
    return registry.resource("", plural)


class NamespaceStrategy(Strategy):
    resource = _r("namespaces")
    selectable_fields = ("status.phase",)
    columns = (Column("Status", description="The status of the namespace"), Column("Age"))

    def fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        return {"status.phase": get_path(obj, "status", "phase")}

    def default(self, obj: Any) -> None:
        from apitypes.core import NamespaceSpec, NamespaceStatus

        if obj.status is None:
            obj.status = NamespaceStatus()
        if not obj.status.phase:
            obj.status.phase = "Active"
        if obj.spec is None:
            obj.spec = NamespaceSpec()
        if "kubernetes" not in obj.spec.finalizers:
            obj.spec.finalizers.append("kubernetes")
        obj.metadata.labels.setdefault("kubernetes.io/metadata.name", obj.metadata.name or "")

    def row(self, obj: Any) -> Sequence[Any]:
        phase = obj.status.phase if obj.status else ""
        return [phase or "", age(obj.metadata.creation_timestamp)]


class PodStrategy(Strategy):
    resource = _r("pods")
    return_deleted_object = True
    selectable_fields = (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    )

    def fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        return {
            "spec.nodeName": spec.get("nodeName") or "",
            "spec.restartPolicy": spec.get("restartPolicy") or "",
            "spec.schedulerName": spec.get("schedulerName") or "",
            "spec.serviceAccountName": spec.get("serviceAccountName") or "",
            "spec.hostNetwork": "true" if spec.get("hostNetwork") else "false",
            "status.phase": status.get("phase") or "",
            "status.podIP": status.get("podIP") or "",
            "status.nominatedNodeName": status.get("nominatedNodeName") or "",
        }


class NodeStrategy(Strategy):
    resource = _r("nodes")
    selectable_fields = ("spec.unschedulable",)

    def fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        return {"spec.unschedulable": get_path(obj, "spec", "unschedulable", default="false")}

    def prepare_for_create(self, obj: Any) -> None:
        # The kubelet registers its node with status already filled in.
        pass


class EventStrategy(Strategy):
    resource = _r("events")
    status_subresource = False
    selectable_fields = (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    )

    def fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        involved = obj.get("involvedObject") or {}
        source = obj.get("source") or {}
        return {
            "involvedObject.kind": involved.get("kind") or "",
            "involvedObject.namespace": involved.get("namespace") or "",
            "involvedObject.name": involved.get("name") or "",
            "involvedObject.uid": involved.get("uid") or "",
            "involvedObject.apiVersion": involved.get("apiVersion") or "",
            "involvedObject.resourceVersion": involved.get("resourceVersion") or "",
            "involvedObject.fieldPath": involved.get("fieldPath") or "",
            "reason": obj.get("reason") or "",
            "reportingComponent": obj.get("reportingComponent") or "",
            "source": source.get("component") or obj.get("reportingComponent") or "",
            "type": obj.get("type") or "",
        }


class ConfigMapStrategy(Strategy):
    resource = _r("configmaps")
    status_subresource = False


class SecretStrategy(Strategy):
    resource = _r("secrets")
    status_subresource = False
    selectable_fields = ("type",)

    def fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        return {"type": obj.get("type") or ""}


class ServiceStrategy(Strategy):
    resource = _r("services")
    return_deleted_object = True


class EndpointsStrategy(Strategy):
    resource = _r("endpoints")
    status_subresource = False


class ServiceAccountStrategy(Strategy):
    resource = _r("serviceaccounts")
    status_subresource = False


STRATEGIES: tuple[type[Strategy], ...] = (
    NamespaceStrategy,
    PodStrategy,
    NodeStrategy,
    EventStrategy,
    ConfigMapStrategy,
    SecretStrategy,
    ServiceStrategy,
    EndpointsStrategy,
    ServiceAccountStrategy,
)
