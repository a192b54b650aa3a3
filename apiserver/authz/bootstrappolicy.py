"""The default roles and bindings an RBAC apiserver keeps in place (Kubernetes'
``bootstrappolicy``): the user-facing roles (cluster-admin, admin, edit, view, the
latter three aggregated), the roles of the system's own users (nodes, kube-proxy, the
scheduler, the controller-manager and each of its controllers, cluster DNS, the network
agent), discovery and the public health endpoints, node bootstrapping and the
certificates API, and their bindings.

``reconcile`` runs at every start: a missing object is created; an existing one with
``rbac.authorization.kubernetes.io/autoupdate`` not ``"false"`` gets back any rule or
subject of the default it lacks (what an administrator added is kept). The data is
navarch's own, following the roles Kubernetes ships.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from apiserver import errors
from apiserver.registry.store import ResourceStore, WriteOptions
from apitypes.rbac import GROUP

log = logging.getLogger(__name__)

READ = ("get", "list", "watch")
WRITE = ("create", "delete", "deletecollection", "patch", "update")
READ_WRITE = (*READ, *WRITE)
EVENTS = ("create", "patch", "update")
AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"
BOOTSTRAP_LABEL = {"kubernetes.io/bootstrapping": "rbac-defaults"}
AGGREGATE = "rbac.authorization.k8s.io/aggregate-to-"

CORE, APPS, BATCH, POLICY = "", "apps", "batch", "policy"
AUTOSCALING, NETWORKING = "autoscaling", "networking.k8s.io"
DISCOVERY, COORDINATION = "discovery.k8s.io", "coordination.k8s.io"
AUTHN, AUTHZ = "authentication.k8s.io", "authorization.k8s.io"
CERTIFICATES, STORAGE, EVENTS_GROUP = "certificates.k8s.io", "storage.k8s.io", "events.k8s.io"


def rule(
    verbs: Sequence[str],
    groups: Sequence[str] = (),
    resources: Sequence[str] = (),
    names: Sequence[str] = (),
    urls: Sequence[str] = (),
) -> dict[str, Any]:
    out: dict[str, Any] = {"verbs": list(verbs)}
    if urls:
        out["nonResourceURLs"] = list(urls)
        return out
    out["apiGroups"] = list(groups)
    out["resources"] = list(resources)
    if names:
        out["resourceNames"] = list(names)
    return out


def event_rules() -> list[dict[str, Any]]:
    return [rule(EVENTS, [CORE, EVENTS_GROUP], ["events"])]


def cluster_role(
    name: str,
    rules: list[dict[str, Any]],
    *,
    labels: dict[str, str] | None = None,
    aggregate_from: str | None = None,
) -> dict[str, Any]:
    role: dict[str, Any] = {
        "apiVersion": f"{GROUP}/v1",
        "kind": "ClusterRole",
        "metadata": {
            "name": name,
            "labels": {**BOOTSTRAP_LABEL, **(labels or {})},
            "annotations": {AUTOUPDATE: "true"},
        },
        "rules": rules,
    }
    if aggregate_from:
        role["aggregationRule"] = {
            "clusterRoleSelectors": [{"matchLabels": {f"{AGGREGATE}{aggregate_from}": "true"}}]
        }
    return role


def subject(kind: str, name: str, namespace: str = "") -> dict[str, Any]:
    if kind == "ServiceAccount":
        return {"kind": kind, "name": name, "namespace": namespace}
    return {"kind": kind, "apiGroup": GROUP, "name": name}


def cluster_binding(name: str, role: str, *subjects: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {
            "name": name,
            "labels": dict(BOOTSTRAP_LABEL),
            "annotations": {AUTOUPDATE: "true"},
        },
        "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": role},
        "subjects": list(subjects),
    }


# --- the user-facing roles, as aggregations of their parts ------------------------------

_VIEW = [
    rule(READ, [CORE], ["pods", "replicationcontrollers", "replicationcontrollers/scale",
                        "serviceaccounts", "services", "services/status", "endpoints",
                        "persistentvolumeclaims", "persistentvolumeclaims/status",
                        "configmaps"]),
    rule(READ, [CORE], ["limitranges", "resourcequotas", "bindings", "events", "pods/status",
                        "resourcequotas/status", "namespaces/status",
                        "replicationcontrollers/status", "pods/log"]),
    rule(READ, [CORE], ["namespaces"]),
    rule(READ, [DISCOVERY], ["endpointslices"]),
    rule(READ, [APPS], ["controllerrevisions", "daemonsets", "daemonsets/status", "deployments",
                        "deployments/scale", "deployments/status", "replicasets",
                        "replicasets/scale", "replicasets/status", "statefulsets",
                        "statefulsets/scale", "statefulsets/status"]),
    rule(READ, [AUTOSCALING], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
    rule(READ, [BATCH], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
    rule(READ, [POLICY], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
    rule(READ, [NETWORKING], ["ingresses", "ingresses/status", "networkpolicies"]),
]  # fmt: skip

_EDIT = [
    rule(READ, [CORE], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy",
                        "secrets", "services/proxy"]),
    rule(["impersonate"], [CORE], ["serviceaccounts"]),
    rule(WRITE, [CORE], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"]),
    rule(["create"], [CORE], ["pods/eviction"]),
    rule(WRITE, [CORE], ["configmaps", "persistentvolumeclaims", "replicationcontrollers",
                         "replicationcontrollers/scale", "secrets", "serviceaccounts",
                         "services", "services/proxy"]),
    rule(["create"], [CORE], ["serviceaccounts/token"]),
    rule(WRITE, [APPS], ["daemonsets", "deployments", "deployments/rollback",
                         "deployments/scale", "replicasets", "replicasets/scale",
                         "statefulsets", "statefulsets/scale"]),
    rule(WRITE, [AUTOSCALING], ["horizontalpodautoscalers"]),
    rule(WRITE, [BATCH], ["cronjobs", "jobs"]),
    rule(WRITE, [NETWORKING], ["ingresses", "networkpolicies"]),
    rule(WRITE, [POLICY], ["poddisruptionbudgets"]),
    rule(WRITE, [COORDINATION], ["leases"]),
]  # fmt: skip

_ADMIN = [
    rule(["create"], [AUTHZ], ["localsubjectaccessreviews"]),
    rule(READ_WRITE, [GROUP], ["rolebindings", "roles"]),
]


def aggregated(parts: Sequence[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The rules an aggregated role starts with (the aggregation controller keeps them)."""
    return [r for part in parts for r in part]


# --- the system's own users ------------------------------------------------------------

_NODE = [
    rule(["create"], [AUTHN], ["tokenreviews"]),
    rule(["create"], [AUTHZ], ["subjectaccessreviews", "localsubjectaccessreviews"]),
    rule(READ, [CORE], ["services"]),
    rule(["create", *READ], [CORE], ["nodes"]),
    rule(["patch", "update"], [CORE], ["nodes/status"]),
    rule(["patch", "update"], [CORE], ["nodes"]),
    *event_rules(),
    rule(READ, [CORE], ["pods"]),
    rule(["create", "delete"], [CORE], ["pods"]),
    rule(["patch", "update"], [CORE], ["pods/status"]),
    rule(["create"], [CORE], ["pods/eviction"]),
    rule(["get"], [CORE], ["configmaps", "secrets"]),
    rule(["get"], [CORE], ["persistentvolumeclaims", "persistentvolumes"]),
    rule(["patch", "update"], [CORE], ["persistentvolumeclaims/status"]),
    rule(["create"], [CORE], ["serviceaccounts/token"]),
    rule(["get", "create", "update", "patch", "delete"], [COORDINATION], ["leases"]),
    rule(["create", *READ], [CERTIFICATES], ["certificatesigningrequests"]),
    rule(READ, [DISCOVERY], ["endpointslices"]),
]
"""What a kubelet may do (the Node authorizer narrows it to its own node, pods and the
objects they use)."""

_KUBE_SCHEDULER = [
    *event_rules(),
    rule(["create"], [COORDINATION], ["leases"]),
    rule(["get", "update"], [COORDINATION], ["leases"], ["kube-scheduler"]),
    rule(["delete", *READ], [CORE], ["pods"]),
    rule(["create"], [CORE], ["bindings", "pods/binding"]),
    rule(["patch", "update"], [CORE], ["pods/status"]),
    rule(READ, [CORE], ["nodes", "namespaces", "services", "replicationcontrollers",
                        "persistentvolumeclaims", "persistentvolumes"]),
    rule(READ, [APPS], ["replicasets", "statefulsets"]),
    rule(READ, [POLICY], ["poddisruptionbudgets"]),
    rule(READ, [STORAGE], ["csinodes", "csidrivers", "csistoragecapacities", "storageclasses"]),
    rule(["create"], [AUTHN], ["tokenreviews"]),
    rule(["create"], [AUTHZ], ["subjectaccessreviews"]),
]  # fmt: skip

_KUBE_CONTROLLER_MANAGER = [
    *event_rules(),
    rule(["create"], [COORDINATION], ["leases"]),
    rule(["get", "update"], [COORDINATION], ["leases"], ["kube-controller-manager"]),
    rule(["create"], [CORE], ["secrets", "serviceaccounts"]),
    rule(["delete"], [CORE], ["secrets"]),
    rule(["get"], [CORE], ["configmaps", "namespaces", "secrets", "serviceaccounts"]),
    rule(["update"], [CORE], ["secrets", "serviceaccounts"]),
    rule(["create"], [CORE], ["serviceaccounts/token"]),
    rule(["create"], [AUTHN], ["tokenreviews"]),
    rule(["create"], [AUTHZ], ["subjectaccessreviews"]),
    rule(["list", "watch"], ["*"], ["*"]),
]
"""The controller-manager's own identity: its informers, its Lease, its events, and
making each controller's service account and tokens (its controllers act as those,
``--use-service-account-credentials``)."""

_NODE_PROXIER = [
    rule(["list", "watch"], [CORE], ["services", "endpoints"]),
    rule(READ, [CORE], ["nodes"]),
    rule(["list", "watch"], [DISCOVERY], ["endpointslices"]),
    *event_rules(),
]

_KUBE_DNS = [
    rule(["list", "watch"], [CORE], ["endpoints", "services"]),
    rule(["list", "watch"], [DISCOVERY], ["endpointslices"]),
]

_NETWORK_AGENT = [rule(READ, [CORE], ["nodes"]), *event_rules()]

_HEALTH = ["/healthz", "/livez", "/readyz", "/version", "/version/"]


def _controller(name: str, rules: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    return name, [*rules, *event_rules()]


CONTROLLER_ROLES: dict[str, list[dict[str, Any]]] = dict(
    [
        _controller("replicaset-controller", [
            rule(["get", "list", "watch", "update"], [APPS], ["replicasets"]),
            rule(["update"], [APPS], ["replicasets/status", "replicasets/finalizers"]),
            rule(["create", "delete", "get", "list", "patch", "watch"], [CORE], ["pods"]),
        ]),
        _controller("replication-controller", [
            rule(["get", "list", "watch", "update"], [CORE], ["replicationcontrollers"]),
            rule(["update"], [CORE],
                 ["replicationcontrollers/status", "replicationcontrollers/finalizers"]),
            rule(["create", "delete", "get", "list", "patch", "watch"], [CORE], ["pods"]),
        ]),
        _controller("deployment-controller", [
            rule(["get", "list", "watch", "update"], [APPS], ["deployments"]),
            rule(["update"], [APPS], ["deployments/status", "deployments/finalizers"]),
            rule(["create", "delete", "get", "list", "patch", "update", "watch"], [APPS],
                 ["replicasets"]),
            rule(["get", "list", "watch", "update"], [CORE], ["pods"]),
        ]),
        _controller("daemon-set-controller", [
            rule(READ, [APPS], ["daemonsets"]),
            rule(["update"], [APPS], ["daemonsets/status", "daemonsets/finalizers"]),
            rule(["list", "watch"], [CORE], ["nodes"]),
            rule(["create", "delete", "get", "list", "patch", "watch"], [CORE], ["pods"]),
            rule(["create"], [CORE], ["pods/binding"]),
            rule(["create", "delete", "get", "list", "patch", "update", "watch"], [APPS],
                 ["controllerrevisions"]),
        ]),
        _controller("statefulset-controller", [
            rule(READ, [APPS], ["statefulsets"]),
            rule(["update"], [APPS], ["statefulsets/status", "statefulsets/finalizers"]),
            rule(["create", "delete", "get", "list", "patch", "update", "watch"], [CORE],
                 ["pods"]),
            rule(["create", "delete", "get", "list", "patch", "update", "watch"], [APPS],
                 ["controllerrevisions"]),
            rule(["create", "get"], [CORE], ["persistentvolumeclaims"]),
        ]),
        _controller("job-controller", [
            rule(["get", "list", "patch", "update", "watch"], [BATCH], ["jobs"]),
            rule(["update", "patch"], [BATCH], ["jobs/status", "jobs/finalizers"]),
            rule(["create", "delete", "get", "list", "patch", "watch"], [CORE], ["pods"]),
        ]),
        _controller("cronjob-controller", [
            rule(["get", "list", "update", "watch"], [BATCH], ["cronjobs"]),
            rule(["create", "delete", "get", "list", "patch", "update", "watch"], [BATCH],
                 ["jobs"]),
            rule(["update"], [BATCH], ["cronjobs/status", "cronjobs/finalizers"]),
            rule(["delete", "list"], [CORE], ["pods"]),
        ]),
        _controller("ttl-after-finished-controller", [
            rule(["delete", "get", "list", "watch"], [BATCH], ["jobs"]),
        ]),
        _controller("generic-garbage-collector", [
            rule(["delete", "get", "list", "patch", "update", "watch"], ["*"], ["*"]),
        ]),
        _controller("namespace-controller", [
            rule(["delete", "get", "list", "watch"], [CORE], ["namespaces"]),
            rule(["update"], [CORE], ["namespaces/finalize", "namespaces/status"]),
            rule(["delete", "deletecollection", "get", "list"], ["*"], ["*"]),
        ]),
        _controller("node-controller", [
            rule(["delete", "get", "list", "patch", "update", "watch"], [CORE], ["nodes"]),
            rule(["patch", "update"], [CORE], ["nodes/status"]),
            rule(["patch", "update"], [CORE], ["pods/status"]),
            rule(["delete", "get", "list", "watch"], [CORE], ["pods"]),
            rule(READ, [COORDINATION], ["leases"]),
        ]),
        _controller("taint-eviction-controller", [
            rule(["delete", "get", "list", "watch"], [CORE], ["pods"]),
            rule(["patch"], [CORE], ["pods/status"]),
            rule(READ, [CORE], ["nodes"]),
        ]),
        _controller("endpoint-controller", [
            rule(READ, [CORE], ["services", "pods"]),
            rule(["create", "delete", "get", "list", "update"], [CORE], ["endpoints"]),
            rule(["create"], [CORE], ["endpoints/restricted"]),
        ]),
        _controller("endpointslice-controller", [
            rule(READ, [CORE], ["services", "pods", "nodes"]),
            rule(["create", "delete", "get", "list", "update"], [DISCOVERY], ["endpointslices"]),
        ]),
        _controller("service-controller", [
            rule(READ, [CORE], ["services"]),
            rule(["patch", "update"], [CORE], ["services/status"]),
            rule(["list", "watch"], [CORE], ["nodes"]),
        ]),
        _controller("pod-garbage-collector", [
            rule(["delete", "list", "watch"], [CORE], ["pods"]),
            rule(["patch"], [CORE], ["pods/status"]),
            rule(READ, [CORE], ["nodes"]),
        ]),
        _controller("disruption-controller", [
            rule(READ, [APPS], ["deployments", "replicasets", "statefulsets"]),
            rule(READ, [CORE], ["replicationcontrollers", "pods"]),
            rule(READ, [POLICY], ["poddisruptionbudgets"]),
            rule(["update"], [POLICY], ["poddisruptionbudgets/status"]),
            rule(["get"], ["*"], ["*/scale"]),
        ]),
        _controller("certificate-controller", [
            rule(["get", "list", "watch", "delete"], [CERTIFICATES], ["certificatesigningrequests"]),
            rule(["update"], [CERTIFICATES], ["certificatesigningrequests/status",
                                              "certificatesigningrequests/approval"]),
            # navarch adds kubelet-serving and the nodes, for the approver's
            # --approve-kubelet-serving-certificates (a node's names checked against
            # its Node); Kubernetes leaves those requests to an external approver.
            rule(["approve"], [CERTIFICATES], ["signers"],
                 ["kubernetes.io/kube-apiserver-client-kubelet", "kubernetes.io/kubelet-serving"]),
            rule(["get", "list", "watch"], [CORE], ["nodes"]),
            rule(["sign"], [CERTIFICATES], ["signers"], [
                "kubernetes.io/legacy-unknown", "kubernetes.io/kube-apiserver-client",
                "kubernetes.io/kube-apiserver-client-kubelet", "kubernetes.io/kubelet-serving",
            ]),
            rule(["create"], [AUTHZ], ["subjectaccessreviews"]),
        ]),
        _controller("root-ca-cert-publisher", [
            rule(["create", "update", "patch"], [CORE], ["configmaps"]),
        ]),
        # Kubernetes grants these two namespaced Roles (kube-system, kube-public); here
        # cluster roles with only their writes (their informers read as the
        # controller-manager): the signature of kube-public/cluster-info, and deleting
        # expired bootstrap token Secrets, which the controller-manager may do itself.
        _controller("bootstrap-signer", [
            rule(["update"], [CORE], ["configmaps"], ["cluster-info"]),
        ]),
        _controller("token-cleaner", [
            rule(["delete"], [CORE], ["secrets"]),
        ]),
        _controller("service-account-controller", [
            rule(["create"], [CORE], ["serviceaccounts"]),
        ]),
        _controller("clusterrole-aggregation-controller", [
            rule(["escalate", "get", "list", "patch", "update", "watch"], [GROUP],
                 ["clusterroles"]),
        ]),
        _controller("resourcequota-controller", [
            rule(["list", "watch"], ["*"], ["*"]),
            rule(["update"], [CORE], ["resourcequotas/status"]),
        ]),
    ]
)  # fmt: skip
"""``system:controller:<name>``: each controller's own role, bound to its service
account ``kube-system/<name>`` (the controller-manager with
``--use-service-account-credentials`` acts as it)."""


def cluster_roles() -> list[dict[str, Any]]:
    # fmt: off
    roles = [
        cluster_role("cluster-admin", [rule(["*"], ["*"], ["*"]), rule(["*"], urls=["*"])]),
        cluster_role("system:discovery", [rule(["get"], urls=[
            "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
            "/openapi/*", "/readyz", "/version", "/version/",
        ])]),
        cluster_role("system:monitoring", [rule(["get"], urls=[
            "/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics", "/metrics/slis",
            "/readyz", "/readyz/*",
        ])]),
        cluster_role("system:public-info-viewer", [rule(["get"], urls=_HEALTH)]),
        cluster_role("system:basic-user", [
            rule(["create"], [AUTHZ], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            rule(["create"], [AUTHN], ["selfsubjectreviews"]),
        ]),
        cluster_role("admin", aggregated([_VIEW, _EDIT, _ADMIN]), aggregate_from="admin"),
        cluster_role("edit", aggregated([_VIEW, _EDIT]), aggregate_from="edit",
                     labels={f"{AGGREGATE}admin": "true"}),
        cluster_role("view", list(_VIEW), aggregate_from="view",
                     labels={f"{AGGREGATE}edit": "true"}),
        cluster_role("system:aggregate-to-admin", _ADMIN, labels={f"{AGGREGATE}admin": "true"}),
        cluster_role("system:aggregate-to-edit", _EDIT, labels={f"{AGGREGATE}edit": "true"}),
        cluster_role("system:aggregate-to-view", _VIEW, labels={f"{AGGREGATE}view": "true"}),
        cluster_role("system:node", _NODE),
        cluster_role("system:node-proxier", _NODE_PROXIER),
        cluster_role("system:kube-scheduler", _KUBE_SCHEDULER),
        cluster_role("system:volume-scheduler", [
            rule(["get", "list", "patch", "update", "watch"], [CORE], ["persistentvolumes"]),
            rule(READ, [STORAGE], ["storageclasses"]),
            rule(["get", "list", "patch", "update", "watch"], [CORE], ["persistentvolumeclaims"]),
        ]),
        cluster_role("system:kube-controller-manager", _KUBE_CONTROLLER_MANAGER),
        cluster_role("system:kube-dns", _KUBE_DNS),
        cluster_role("system:auth-delegator", [
            rule(["create"], [AUTHN], ["tokenreviews"]),
            rule(["create"], [AUTHZ], ["subjectaccessreviews"]),
        ]),
        cluster_role("system:kubelet-api-admin", [
            rule(READ, [CORE], ["nodes"]),
            rule(["proxy"], [CORE], ["nodes"]),
            rule(["*"], [CORE], ["nodes/proxy", "nodes/metrics", "nodes/stats", "nodes/log"]),
        ]),
        cluster_role("system:node-bootstrapper", [
            rule(["create", *READ], [CERTIFICATES], ["certificatesigningrequests"]),
        ]),
        cluster_role("system:certificates.k8s.io:certificatesigningrequests:nodeclient", [
            rule(["create"], [CERTIFICATES], ["certificatesigningrequests/nodeclient"]),
        ]),
        cluster_role("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", [
            rule(["create"], [CERTIFICATES], ["certificatesigningrequests/selfnodeclient"]),
        ]),
        cluster_role("system:certificates.k8s.io:kube-apiserver-client-approver", [
            rule(["approve"], [CERTIFICATES], ["signers"], ["kubernetes.io/kube-apiserver-client"]),
        ]),
        cluster_role("system:certificates.k8s.io:kube-apiserver-client-kubelet-approver", [
            rule(["approve"], [CERTIFICATES], ["signers"],
                 ["kubernetes.io/kube-apiserver-client-kubelet"]),
        ]),
        cluster_role("system:certificates.k8s.io:kubelet-serving-approver", [
            rule(["approve"], [CERTIFICATES], ["signers"], ["kubernetes.io/kubelet-serving"]),
        ]),
        cluster_role("system:certificates.k8s.io:legacy-unknown-approver", [
            rule(["approve"], [CERTIFICATES], ["signers"], ["kubernetes.io/legacy-unknown"]),
        ]),
        cluster_role("system:service-account-issuer-discovery", [rule(["get"], urls=[
            "/.well-known/openid-configuration", "/.well-known/openid-configuration/",
            "/openid/v1/jwks", "/openid/v1/jwks/",
        ])]),
        cluster_role("system:navarch:network-agent", _NETWORK_AGENT),
    ]
    # fmt: on
    roles += [cluster_role(f"system:controller:{name}", r) for name, r in CONTROLLER_ROLES.items()]
    return roles


def cluster_role_bindings() -> list[dict[str, Any]]:
    found = [
        cluster_binding("cluster-admin", "cluster-admin", subject("Group", "system:masters")),
        cluster_binding("system:monitoring", "system:monitoring",
                        subject("Group", "system:monitoring")),
        cluster_binding("system:discovery", "system:discovery",
                        subject("Group", "system:authenticated")),
        cluster_binding("system:basic-user", "system:basic-user",
                        subject("Group", "system:authenticated")),
        cluster_binding("system:public-info-viewer", "system:public-info-viewer",
                        subject("Group", "system:authenticated"),
                        subject("Group", "system:unauthenticated")),
        cluster_binding("system:node-proxier", "system:node-proxier",
                        subject("User", "system:kube-proxy")),
        cluster_binding("system:kube-controller-manager", "system:kube-controller-manager",
                        subject("User", "system:kube-controller-manager")),
        cluster_binding("system:kube-dns", "system:kube-dns",
                        subject("ServiceAccount", "kube-dns", "kube-system")),
        cluster_binding("system:kube-scheduler", "system:kube-scheduler",
                        subject("User", "system:kube-scheduler")),
        cluster_binding("system:volume-scheduler", "system:volume-scheduler",
                        subject("User", "system:kube-scheduler")),
        cluster_binding("system:node", "system:node"),
        cluster_binding("system:service-account-issuer-discovery",
                        "system:service-account-issuer-discovery",
                        subject("Group", "system:serviceaccounts")),
        # kubeadm's: joining nodes (bootstrap tokens) may ask for their certificates.
        cluster_binding("kubeadm:kubelet-bootstrap", "system:node-bootstrapper",
                        subject("Group", "system:bootstrappers")),
        cluster_binding("kubeadm:node-autoapprove-bootstrap",
                        "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
                        subject("Group", "system:bootstrappers")),
        cluster_binding("kubeadm:node-autoapprove-certificate-rotation",
                        "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
                        subject("Group", "system:nodes")),
        cluster_binding("system:navarch:network-agent", "system:navarch:network-agent",
                        subject("User", "system:navarch:network-agent")),
    ]  # fmt: skip
    for name in CONTROLLER_ROLES:
        found.append(
            cluster_binding(
                f"system:controller:{name}",
                f"system:controller:{name}",
                subject("ServiceAccount", name, "kube-system"),
            )
        )
    return found


def _merge(existing: dict[str, Any], default: dict[str, Any], field: str) -> bool:
    """Add the default's rules/subjects the object lacks; whether it changed."""
    have = existing.setdefault(field, []) or []
    existing[field] = have
    changed = False
    for item in default.get(field) or []:
        if item not in have:
            have.append(item)
            changed = True
    return changed


RECONCILE_CONCURRENCY = 16
"""Defaults written at once at start: one etcd round trip each, so a sequential pass
over ~100 objects held /readyz back by seconds on a three-member etcd."""


async def reconcile(roles: ResourceStore, bindings: ResourceStore) -> None:
    """Create the default ClusterRoles and ClusterRoleBindings that are missing and put
    back what an auto-updated one lacks. Each object is reconciled on its own (they do
    not depend on each other: a binding may name a role that does not exist yet), up to
    ``RECONCILE_CONCURRENCY`` at a time; the first error is raised."""
    limit = asyncio.Semaphore(RECONCILE_CONCURRENCY)

    async def one(store: ResourceStore, default: dict[str, Any], field: str) -> None:
        async with limit:
            await _reconcile_one(store, default, field)

    await asyncio.gather(
        *(one(roles, default, "rules") for default in cluster_roles()),
        *(one(bindings, default, "subjects") for default in cluster_role_bindings()),
    )


async def _reconcile_one(store: ResourceStore, default: dict[str, Any], field: str) -> None:
    name = default["metadata"]["name"]
    try:
        existing = await store.get(None, name)
    except errors.ApiError as err:
        if err.code != 404:
            raise
        try:
            await store.create(None, default, WriteOptions())
        except errors.ApiError as created:
            if created.code != 409:
                raise
        return
    annotations = existing["metadata"].get("annotations") or {}
    if annotations.get(AUTOUPDATE) == "false":
        return
    changed = _merge(existing, default, field)
    if field == "rules" and default.get("aggregationRule") and not existing.get("aggregationRule"):
        existing["aggregationRule"] = default["aggregationRule"]
        changed = True
    labels = existing["metadata"].setdefault("labels", {})
    for key, value in default["metadata"]["labels"].items():
        if labels.get(key) != value:
            labels[key] = value
            changed = True
    if changed:
        try:
            await store.update(None, name, existing, WriteOptions())
        except errors.ApiError as err:
            if err.code != 409:
                raise
            log.info("bootstrap policy: %s changed meanwhile; left for next start", name)
