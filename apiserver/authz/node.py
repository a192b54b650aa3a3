"""The Node authorizer (``--authorization-mode Node``): what a kubelet may read and write,
as Kubernetes' ``plugin/pkg/auth/authorizer/node`` decides it.

It speaks only for node identities (``system:node:<name>`` in ``system:nodes``). A node
may read the Secrets, ConfigMaps, PersistentVolumeClaims and ServiceAccounts that pods
bound to it use, request tokens for those accounts, read the pods bound to it (a
list or watch of pods must select ``spec.nodeName=<node>``), and otherwise do what the
``system:node`` rules allow (its Node and Lease, pod status, mirror pods, events;
NodeRestriction admission narrows those writes to its own objects). Anything else
gets no opinion here, and without an RBAC grant, a 403.

Which objects a node's pods use is a graph kept from the pods' watch cache: it follows
the cache's events from a cursor (a full rebuild only when the cache re-listed or the
cursor fell out of its window), so a question costs dictionary lookups.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson

from apiserver.authz import ALLOW, NO_OPINION, Attributes, Authorizer, Decision, RuleSet
from apiserver.authz.bootstrappolicy import _NODE
from apiserver.authz.rules import Rule, allows
from apiserver.user import UserInfo, node_name
from apiserver.watchcache import (
    DELETED,
    CacheResetError,
    CursorExpiredError,
    WatchCache,
)

GRAPH_RESOURCES = ("secrets", "configmaps", "persistentvolumeclaims", "serviceaccounts")
NODE_RULES = [Rule.of(r) for r in _NODE]

Edge = tuple[str, str, str, str]
"""(node, resource, namespace, name)."""


def pod_references(pod: dict[str, Any]) -> set[tuple[str, str]]:
    """(resource, name) of every Secret, ConfigMap, claim and the service account a pod
    uses."""
    spec = pod.get("spec") or {}
    refs: set[tuple[str, str]] = {("serviceaccounts", spec.get("serviceAccountName") or "default")}
    for secret in spec.get("imagePullSecrets") or []:
        if secret.get("name"):
            refs.add(("secrets", secret["name"]))
    for volume in spec.get("volumes") or []:
        if (volume.get("secret") or {}).get("secretName"):
            refs.add(("secrets", volume["secret"]["secretName"]))
        if (volume.get("configMap") or {}).get("name"):
            refs.add(("configmaps", volume["configMap"]["name"]))
        if (volume.get("persistentVolumeClaim") or {}).get("claimName"):
            refs.add(("persistentvolumeclaims", volume["persistentVolumeClaim"]["claimName"]))
        for source in (volume.get("projected") or {}).get("sources") or []:
            if (source.get("secret") or {}).get("name"):
                refs.add(("secrets", source["secret"]["name"]))
            if (source.get("configMap") or {}).get("name"):
                refs.add(("configmaps", source["configMap"]["name"]))
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(key) or []:
            for source in container.get("envFrom") or []:
                if (source.get("secretRef") or {}).get("name"):
                    refs.add(("secrets", source["secretRef"]["name"]))
                if (source.get("configMapRef") or {}).get("name"):
                    refs.add(("configmaps", source["configMapRef"]["name"]))
            for var in container.get("env") or []:
                value_from = var.get("valueFrom") or {}
                if (value_from.get("secretKeyRef") or {}).get("name"):
                    refs.add(("secrets", value_from["secretKeyRef"]["name"]))
                if (value_from.get("configMapKeyRef") or {}).get("name"):
                    refs.add(("configmaps", value_from["configMapKeyRef"]["name"]))
    return refs


class PodGraph:
    """Which node uses which object, from the pods' watch cache."""

    def __init__(self, cache: WatchCache) -> None:
        self.cache = cache
        self._cursor: int | None = None
        self._epoch = -1
        self._pods: dict[str, frozenset[Edge]] = {}
        self._edges: Counter[Edge] = Counter()

    def _set(self, key: str, pod: dict[str, Any] | None) -> None:
        for edge in self._pods.pop(key, frozenset()):
            self._edges[edge] -= 1
            if self._edges[edge] <= 0:
                del self._edges[edge]
        if pod is None:
            return
        node = (pod.get("spec") or {}).get("nodeName")
        if not node:
            return
        namespace = pod["metadata"].get("namespace", "")
        edges = frozenset((node, kind, namespace, name) for kind, name in pod_references(pod))
        self._pods[key] = edges
        self._edges.update(edges)

    def sync(self) -> None:
        """Catch up with the cache."""
        if not self.cache.ready:
            return
        if self._cursor is not None:
            try:
                events, self._cursor = self.cache.events_from(self._cursor, self._epoch)
            except (CacheResetError, CursorExpiredError):
                self._cursor = None
            else:
                for event in events:
                    if event.type == DELETED or event.cur is None:
                        self._set(event.key, None)
                    else:
                        self._set(event.key, orjson.loads(event.cur.raw))
                return
        self._pods.clear()
        self._edges.clear()
        epoch = self.cache.epoch
        snap = self.cache.snapshot()
        cursor = snap.cursor
        for co in snap.objects:
            pod = orjson.loads(co.raw)
            meta = pod["metadata"]
            self._set(f"{meta.get('namespace')}/{meta.get('name')}", pod)
        self._cursor, self._epoch = cursor, epoch

    def uses(self, node: str, resource: str, namespace: str, name: str) -> bool:
        self.sync()
        return self._edges.get((node, resource, namespace, name), 0) > 0


def _selects_node(field_selector: str, node: str) -> bool:
    for term in field_selector.split(","):
        key, _, value = term.partition("==") if "==" in term else term.partition("=")
        if key.strip() == "spec.nodeName" and not key.endswith("!") and value.strip() == node:
            return True
    return False


class NodeAuthorizer(Authorizer):
    name = "Node"

    def __init__(self, pods: WatchCache, pod_prefix: str) -> None:
        self.graph = PodGraph(pods)
        self._pods = pods
        self._prefix = pod_prefix

    def _pod_node(self, namespace: str, name: str) -> str | None:
        cached = self._pods.get(f"{self._prefix}{namespace}/{name}")
        if cached is None:
            return None
        return cached.fields.get("spec.nodeName") or None

    async def authorize(self, attrs: Attributes) -> Decision:
        node = node_name(attrs.user)
        if node is None:
            return Decision(NO_OPINION)
        if not attrs.is_resource_request or attrs.api_group != "":
            return self._by_rules(attrs)
        resource, sub, verb = attrs.resource, attrs.subresource, attrs.verb
        if resource in GRAPH_RESOURCES and not (resource == "serviceaccounts" and sub == "token"):
            if sub or verb not in ("get", "list", "watch") or not attrs.name:
                return Decision(NO_OPINION, f"node '{node}' can only get individual {resource}")
            return self._related(node, attrs)
        if resource == "serviceaccounts" and sub == "token":
            if verb != "create":
                return Decision(NO_OPINION, f"node '{node}' can only create tokens")
            return self._related(node, attrs)
        if resource == "pods" and not sub and verb in ("get", "list", "watch"):
            if verb == "get":
                if self._pod_node(attrs.namespace, attrs.name) == node:
                    return Decision(ALLOW, "node may read its own pods")
                return Decision(
                    NO_OPINION, f"no relationship found between node '{node}' and this object"
                )
            if _selects_node(attrs.field_selector, node):
                return Decision(ALLOW, "node may list and watch its own pods")
            return Decision(
                NO_OPINION,
                f"node '{node}' can only list/watch pods with spec.nodeName={node} field selector",
            )
        return self._by_rules(attrs)

    def _related(self, node: str, attrs: Attributes) -> Decision:
        if self.graph.uses(node, attrs.resource, attrs.namespace, attrs.name):
            return Decision(ALLOW, "a pod on the node uses it")
        return Decision(NO_OPINION, f"no relationship found between node '{node}' and this object")

    @staticmethod
    def _by_rules(attrs: Attributes) -> Decision:
        if allows(NODE_RULES, attrs):
            return Decision(ALLOW, "system:node rules")
        return Decision(NO_OPINION)

    async def rules_for(self, user: UserInfo, namespace: str) -> RuleSet:
        if node_name(user) is None:
            return RuleSet()
        return RuleSet([r.to_wire() for r in NODE_RULES if not r.urls], [], incomplete=True)
