"""Token discovery, both sides, as kubeadm does it.

``publish`` (``navarch init``, as the cluster admin): the bootstrap token's Secret, the
ConfigMap ``kube-public/cluster-info`` (a kubeconfig with the server and the CA),
readable without credentials through the Role and RoleBinding kubeadm makes, and the
bindings that let a joined node's identity run kube-proxy and the network agent (the
bootstrap signer's and token cleaner's roles are the apiserver's default policy).

``discover`` (``navarch join``): fetch ``cluster-info`` without trusting the server,
check the token's JWS over it (so the server knows the token), check the CA in it
against the pinned hash (so it is the cluster's CA), then fetch it again over TLS
verified by that CA (so the server holds the CA's key).
"""

from __future__ import annotations

import base64
import datetime
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import yaml

from pki import bootstraptoken as bt

NODES_GROUP = "system:nodes"
RBAC = "/apis/rbac.authorization.k8s.io/v1"


def cluster_info_kubeconfig(server: str, ca_pem: bytes) -> str:
    """The ``kubeconfig`` of ``cluster-info``: one unnamed cluster, no user (kubeadm's)."""
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "",
                "cluster": {
                    "certificate-authority-data": base64.b64encode(ca_pem).decode(),
                    "server": server,
                },
            }
        ],
        "contexts": [],
        "current-context": "",
        "preferences": {},
        "users": [],
    }
    return yaml.safe_dump(doc, sort_keys=False)


def _role(namespace: str, name: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace}, "rules": rules}


def _binding(
    namespace: str | None, name: str, kind: str, role: str, subject: dict[str, str]
) -> dict[str, Any]:
    meta: dict[str, str] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {
        "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
        "subjects": [subject],
    }


def _group(name: str) -> dict[str, str]:
    return {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": name}


def rbac_objects() -> list[tuple[str, dict[str, Any]]]:
    """(collection path, object) of every Role and binding ``init`` makes."""
    public = bt.PUBLIC_NAMESPACE
    found: list[tuple[str, dict[str, Any]]] = [
        # kubeadm's: anyone may read cluster-info (it holds no secret).
        (f"{RBAC}/namespaces/{public}/roles", _role(public, "kubeadm:bootstrap-signer-clusterinfo", [
            {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": [bt.CLUSTER_INFO],
             "verbs": ["get"]},
        ])),
        (f"{RBAC}/namespaces/{public}/rolebindings", _binding(
            public, "kubeadm:bootstrap-signer-clusterinfo", "Role",
            "kubeadm:bootstrap-signer-clusterinfo", {"kind": "User", "name": "system:anonymous",
                                                     "apiGroup": "rbac.authorization.k8s.io"})),
        # A joined host runs kube-proxy and the network agent with its node's identity
        # (the kubelet's rotating client certificate): nodes get their roles.
        (f"{RBAC}/clusterrolebindings", _binding(
            None, "navarch:node-proxier", "ClusterRole", "system:node-proxier",
            _group(NODES_GROUP))),
        (f"{RBAC}/clusterrolebindings", _binding(
            None, "navarch:node-network-agent", "ClusterRole", "system:navarch:network-agent",
            _group(NODES_GROUP))),
    ]  # fmt: skip
    return found


def apply_object(api: httpx.Client, collection: str, obj: dict[str, Any]) -> None:
    """Create ``obj``, or replace the one of that name (init run again)."""
    resp = api.post(collection, json=obj)
    if resp.status_code == 409:
        name = obj["metadata"]["name"]
        current = api.get(f"{collection}/{name}")
        current.raise_for_status()
        obj = {**obj, "metadata": {**obj["metadata"],
                                   "resourceVersion": current.json()["metadata"]["resourceVersion"]}}  # fmt: skip
        resp = api.put(f"{collection}/{name}", json=obj)
    if resp.status_code >= 300:
        raise RuntimeError(f"POST {collection}: {resp.status_code} {resp.text.strip()[:300]}")


def publish(
    api: httpx.Client,
    *,
    token: bt.Token,
    server: str,
    ca_pem: bytes,
    now: datetime.datetime,
    ttl: datetime.timedelta = bt.DEFAULT_TTL,
) -> None:
    """Write what joining hosts need (see the module's docstring), idempotently."""
    core = "/api/v1/namespaces"
    secret = bt.secret_manifest(token, now=now, ttl=ttl)
    apply_object(api, f"{core}/{bt.SECRET_NAMESPACE}/secrets", secret)
    info = {
        "metadata": {"name": bt.CLUSTER_INFO, "namespace": bt.PUBLIC_NAMESPACE},
        "data": {bt.KUBECONFIG_KEY: cluster_info_kubeconfig(server, ca_pem)},
    }
    resp = api.get(f"{core}/{bt.PUBLIC_NAMESPACE}/configmaps/{bt.CLUSTER_INFO}")
    if (
        resp.status_code == 200
        and (resp.json().get("data") or {}).get(bt.KUBECONFIG_KEY)
        == info["data"][bt.KUBECONFIG_KEY]
    ):
        pass  # the same: keep the signatures the bootstrap signer wrote
    else:
        apply_object(api, f"{core}/{bt.PUBLIC_NAMESPACE}/configmaps", info)
    for collection, obj in rbac_objects():
        apply_object(api, collection, obj)


class DiscoveryError(RuntimeError):
    """Discovery failed or the cluster could not be trusted; says why, in one line."""


@dataclass(frozen=True)
class Discovered:
    server: str
    """The apiserver URL of ``cluster-info``'s kubeconfig."""
    ca_pem: bytes


def _insecure() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _fetch(endpoint: str, verify: ssl.SSLContext) -> dict[str, str] | None:
    """``cluster-info``'s data, or None when the server does not answer with it (yet)."""
    url = f"https://{endpoint}/api/v1/namespaces/{bt.PUBLIC_NAMESPACE}/configmaps/{bt.CLUSTER_INFO}"
    try:
        resp = httpx.get(url, verify=verify, timeout=5.0)
    except (httpx.HTTPError, OSError):
        return None
    if resp.status_code != 200:
        return None
    data = resp.json().get("data") or {}
    return {str(k): str(v) for k, v in data.items()}


def _parse(content: str) -> Discovered:
    try:
        doc = yaml.safe_load(content)
        cluster = doc["clusters"][0]["cluster"]
        ca_pem = base64.b64decode(cluster["certificate-authority-data"])
        return Discovered(str(cluster["server"]), ca_pem)
    except (yaml.YAMLError, KeyError, IndexError, TypeError, ValueError) as err:
        raise DiscoveryError(f"the cluster-info kubeconfig is unusable: {err}") from err


def discover(
    endpoint: str,
    token: bt.Token,
    ca_hash: str,
    *,
    timeout: float = 300.0,
    echo: Callable[[str], None] = print,
) -> Discovered:
    """The cluster's server URL and CA, trusted through the token and the pinned hash.

    Retries (every 2 s, up to ``timeout``) while the apiserver does not answer or its
    ``cluster-info`` has no signature for this token yet (the bootstrap signer writes
    it shortly after ``init``); refuses at once a bad signature or another CA."""
    deadline = time.monotonic() + timeout
    key = bt.JWS_PREFIX + token.id
    said = False
    while True:
        data = _fetch(endpoint, _insecure())
        if data is not None and key in data and bt.KUBECONFIG_KEY in data:
            break
        if time.monotonic() >= deadline:
            if data is None:
                raise DiscoveryError(f"no cluster-info from https://{endpoint} in {timeout:.0f}s")
            raise DiscoveryError(
                f"there is no JWS signed token in the cluster-info ConfigMap for token ID "
                f"{token.id!r} (an expired or unknown token?)"
            )
        if not said:
            echo(f"discovery: waiting for a signed cluster-info at https://{endpoint}")
            said = True
        time.sleep(2.0)
    content = data[bt.KUBECONFIG_KEY]
    if not bt.verify_detached(data[key], content, token):
        raise DiscoveryError(
            "failed to verify the JWS signature of cluster-info with the token: "
            "this API server cannot be trusted"
        )
    found = _parse(content)
    try:
        got = bt.ca_cert_hash(found.ca_pem)
    except ValueError as err:
        raise DiscoveryError(f"the CA in cluster-info is not a certificate: {err}") from err
    if got != ca_hash:
        raise DiscoveryError(
            f"the cluster CA in cluster-info is not the pinned one: it hashes to {got}, "
            f"--discovery-token-ca-cert-hash is {ca_hash}"
        )
    # The server must also prove it holds the CA's key: fetch again, verified.
    verified = ssl.create_default_context(cadata=found.ca_pem.decode())
    verified.check_hostname = False  # the endpoint may be an address outside its SANs
    again = _fetch(endpoint, verified)
    if again is None or again.get(bt.KUBECONFIG_KEY) != content:
        raise DiscoveryError(
            f"https://{endpoint} does not serve cluster-info with a certificate of the "
            "discovered CA"
        )
    echo(f"discovery: cluster CA {got} verified; API server {found.server}")
    return found


def bootstrap_kubeconfig(found: Discovered, token: bt.Token) -> dict[str, Any]:
    """The kubelet's ``--bootstrap-kubeconfig``: the server, the CA, the token."""
    from pki.phases.kubeconfig import document

    return document(
        cluster="kubernetes",
        server=found.server,
        ca_pem=found.ca_pem,
        user="tls-bootstrap-token-user",
        token=str(token),
        context="tls-bootstrap-token-user@kubernetes",
    )
