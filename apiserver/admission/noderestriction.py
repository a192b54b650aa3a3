"""NodeRestriction: a kubelet writes only what is its own (Kubernetes' plugin).

For a node identity (``system:node:<name>``): Pods it creates must be mirror pods
(``kubernetes.io/config.mirror``) bound to it; it deletes, evicts and writes the status
of pods bound to it only; it creates, updates and deletes only its own Node; its Lease
is ``kube-node-lease/<name>``; and it asks only for service-account tokens bound to a
pod bound to it.
"""

from __future__ import annotations

from apiserver import errors
from apiserver.admission import CREATE, DELETE, UPDATE, Attributes, Plugin
from apiserver.admission.serviceaccount import MIRROR_ANNOTATION
from apiserver.user import node_name

LEASE_NAMESPACE = "kube-node-lease"


def _refused(attrs: Attributes, message: str) -> errors.ApiError:
    return errors.forbidden(
        attrs.resource.plural + (f"/{attrs.subresource}" if attrs.subresource else ""),
        attrs.name,
        message,
        attrs.group,
    )


class NodeRestriction(Plugin):
    name = "NodeRestriction"

    async def validate(self, attrs: Attributes) -> None:
        node = node_name(attrs.user)
        if node is None:
            return
        if attrs.is_("", "pods", attrs.subresource):
            await self._pods(attrs, node)
        elif attrs.is_("", "nodes", attrs.subresource):
            if attrs.name != node:
                raise _refused(attrs, f'node "{node}" is not allowed to modify node "{attrs.name}"')
        elif attrs.is_("coordination.k8s.io", "leases"):
            if attrs.namespace != LEASE_NAMESPACE or attrs.name != node:
                raise _refused(
                    attrs, "can only access node lease with the same name as the requesting node"
                )
        elif attrs.is_("", "serviceaccounts", "token"):
            await self._token(attrs, node)

    async def _pods(self, attrs: Attributes, node: str) -> None:
        if attrs.operation == CREATE and not attrs.subresource:
            pod = attrs.obj
            if MIRROR_ANNOTATION not in pod.metadata.annotations:
                raise _refused(
                    attrs,
                    f'pod does not have "{MIRROR_ANNOTATION}" annotation, node "{node}" can '
                    "only create mirror pods",
                )
            if (pod.spec.node_name if pod.spec else None) != node:
                raise _refused(
                    attrs, f'node "{node}" can only create pods with spec.nodeName set to itself'
                )
            return
        if attrs.operation == CREATE and attrs.subresource == "eviction":
            pod = await self.lookup.get("pods", attrs.namespace, attrs.name)
            bound = ((pod or {}).get("spec") or {}).get("nodeName")
            if pod is not None and bound != node:
                raise _refused(
                    attrs, f'node "{node}" can only evict pods with spec.nodeName set to itself'
                )
            return
        if attrs.operation in (UPDATE, DELETE):
            current = attrs.old
            bound = current.spec.node_name if current is not None and current.spec else None
            if bound != node:
                what = "delete" if attrs.operation == DELETE else "update"
                raise _refused(
                    attrs, f'node "{node}" can only {what} pods with spec.nodeName set to itself'
                )
            if attrs.operation == UPDATE and not attrs.subresource:
                raise _refused(attrs, f'node "{node}" can only update pod status')

    async def _token(self, attrs: Attributes, node: str) -> None:
        ref = attrs.obj.spec.bound_object_ref if attrs.obj is not None else None
        if ref is None or ref.kind != "Pod":
            raise _refused(attrs, "node requested token not bound to a pod")
        pod = await self.lookup.get("pods", attrs.namespace, ref.name or "")
        if pod is None:
            raise _refused(attrs, "node requested token bound to a pod that does not exist")
        if ref.uid and pod["metadata"].get("uid") != ref.uid:
            raise _refused(attrs, "the UID in the bound object reference does not match the pod")
        if (pod.get("spec") or {}).get("nodeName") != node:
            raise _refused(
                attrs, "node requested token bound to a pod scheduled on a different node"
            )
