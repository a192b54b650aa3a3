"""Discovery documents: ``/api``, ``/apis``, ``/api/v1``, ``/apis/<group>/<version>``.

Served in the unaggregated form; client-go asks for the aggregated form first and,
reading our ``application/json`` answer, falls back to fetching each group version.
The resources are the served kinds' strategies, and their subresources exactly the
ones each strategy declares (with the verbs and kind each declares), so that clients
never discover a verb that is not there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apiserver.registry.strategy import Strategy
from apitypes.registry import group_versions

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


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
    group: str, version: str, strategies: Sequence[Strategy]
) -> dict[str, Any] | None:
    """The APIResourceList of one group version, from the served kinds' strategies."""
    served = [s for s in strategies if s.resource.group == group and s.resource.version == version]
    if not served:
        return None
    out: list[dict[str, Any]] = []
    for strategy in served:
        r = strategy.resource
        entry: dict[str, Any] = {
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": ["create"] if r.create_only else VERBS,
        }
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.categories:
            entry["categories"] = list(r.categories)
        out.append(entry)
        for sub in strategy.subresources:
            kind = sub.kind
            sub_entry: dict[str, Any] = {
                "name": f"{r.plural}/{sub.name}",
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": kind.kind if kind else r.kind,
                "verbs": list(sub.verbs),
            }
            if kind and (kind.group, kind.version) != (r.group, r.version):
                sub_entry["group"] = kind.group
                sub_entry["version"] = kind.version
            out.append(sub_entry)
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}
