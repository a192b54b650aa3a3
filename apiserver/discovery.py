"""Discovery documents: ``/api``, ``/apis``, ``/api/v1``, ``/apis/<group>/<version>``.

Served in the unaggregated form; client-go asks for the aggregated form first and,
reading our ``application/json`` answer, falls back to fetching each group version.
Only subresources the server really handles are listed, so that clients never
discover a verb that is not there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from apitypes.registry import RESOURCES, ResourceType, group_versions

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

SUBRESOURCE_KINDS: dict[str, tuple[str, str, str]] = {
    # subresource -> (group, version, kind); "" group/version/kind: the parent's
    "status": ("", "", ""),
    "scale": ("autoscaling", "v1", "Scale"),
    "binding": ("", "", "Binding"),
    "eviction": ("policy", "v1", "Eviction"),
    "log": ("", "", "Pod"),
    "exec": ("", "", "PodExecOptions"),
    "portforward": ("", "", "PodPortForwardOptions"),
    "finalize": ("", "", ""),
}


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group_doc(group: str) -> dict[str, Any]:
    versions = [v for g, v in group_versions() if g == group]
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": gvs,
        "preferredVersion": gvs[0],
    }


def api_group_list() -> dict[str, Any]:
    groups = [_group_doc(g) for g, _ in group_versions() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group: str) -> dict[str, Any] | None:
    if not any(g == group for g, _ in group_versions()):
        return None
    return _group_doc(group)


def resource_list(
    group: str, version: str, served: Mapping[str, Sequence[str]]
) -> dict[str, Any] | None:
    """The APIResourceList of one group version; ``served`` maps each subresource the
    server handles to its verbs."""
    resources: list[ResourceType] = [
        r for r in RESOURCES if r.group == group and r.version == version
    ]
    if not resources:
        return None
    out: list[dict[str, Any]] = []
    for r in resources:
        entry: dict[str, Any] = {
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": VERBS,
        }
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.categories:
            entry["categories"] = list(r.categories)
        out.append(entry)
        for sub in r.subresources:
            verbs = served.get(sub)
            if not verbs:
                continue
            sgroup, sversion, skind = SUBRESOURCE_KINDS.get(sub, ("", "", ""))
            sub_entry: dict[str, Any] = {
                "name": f"{r.plural}/{sub}",
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": skind or r.kind,
                "verbs": list(verbs),
            }
            if sgroup:
                sub_entry["group"] = sgroup
                sub_entry["version"] = sversion
            out.append(sub_entry)
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}
