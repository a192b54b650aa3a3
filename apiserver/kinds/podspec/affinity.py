"""Node and pod (anti-)affinity, and topology spread constraints."""

from __future__ import annotations

from typing import Any

from apiserver.kinds.podspec.checks import NOT_POSITIVE, dns_label, dns_subdomain, qualified_name
from apitypes.core import (
    Affinity,
    NodeSelector,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    PodAffinityTerm,
    PodSpec,
)
from apitypes.validation import (
    FieldError,
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    not_supported,
    required,
    validate_label_selector,
)

_WHEN_UNSATISFIABLE = ("DoNotSchedule", "ScheduleAnyway")


_NODE_INCLUSION_POLICIES = ("Honor", "Ignore")


def _node_selector_requirement(req: NodeSelectorRequirement, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if req.operator in ("In", "NotIn"):
        if not req.values:
            errs.append(
                required(
                    path.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"
                )
            )
    elif req.operator in ("Exists", "DoesNotExist"):
        if req.values:
            errs.append(
                forbidden(
                    path.child("values"),
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                )
            )
    elif req.operator in ("Gt", "Lt"):
        if len(req.values) != 1:
            errs.append(
                required(
                    path.child("values"),
                    "must be specified single value when `operator` is 'Lt' or 'Gt'",
                )
            )
    else:
        errs.append(invalid(path.child("operator"), req.operator, "not a valid selector operator"))
    errs.extend(qualified_name(req.key, path.child("key")))
    return errs


def _node_field_requirement(req: NodeSelectorRequirement, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if req.operator in ("In", "NotIn"):
        if len(req.values) != 1:
            errs.append(
                required(
                    path.child("values"),
                    "must be only one value when `operator` is 'In' or 'NotIn' for node field selector",
                )
            )
    else:
        errs.append(invalid(path.child("operator"), req.operator, "not a valid selector operator"))
    if req.key != "metadata.name":
        errs.append(invalid(path.child("key"), req.key, "not a valid field selector key"))
    else:
        for i, value in enumerate(req.values):
            errs.extend(dns_subdomain(value, path.child("values").index(i)))
    return errs


def _node_selector_term(term: NodeSelectorTerm, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    for j, req in enumerate(term.match_expressions):
        errs.extend(_node_selector_requirement(req, path.child("matchExpressions").index(j)))
    for j, req in enumerate(term.match_fields):
        errs.extend(_node_field_requirement(req, path.child("matchFields").index(j)))
    return errs


def _node_selector(selector: NodeSelector, path: FieldPath) -> list[FieldError]:
    terms_path = path.child("nodeSelectorTerms")
    if not selector.node_selector_terms:
        return [required(terms_path, "must have at least one node selector term")]
    errs: list[FieldError] = []
    for i, term in enumerate(selector.node_selector_terms):
        errs.extend(_node_selector_term(term, terms_path.index(i)))
    return errs


def _weight(weight: int, path: FieldPath) -> list[FieldError]:
    if weight <= 0 or weight > 100:
        return [invalid(path, weight, "must be in the range 1-100")]
    return []


def _pod_affinity_term(term: PodAffinityTerm, path: FieldPath) -> list[FieldError]:
    errs = validate_label_selector(term.label_selector, path.child("labelSelector"))
    errs.extend(validate_label_selector(term.namespace_selector, path.child("namespaceSelector")))
    for name in term.namespaces:
        # Kubernetes names the list element "namespace", without an index.
        errs.extend(dns_label(name, path.child("namespace")))
    if not term.topology_key:
        errs.append(required(path.child("topologyKey"), "can not be empty"))
    errs.extend(qualified_name(term.topology_key, path.child("topologyKey")))
    return errs


def _pod_affinity(affinity: Any, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    req_path = path.child("requiredDuringSchedulingIgnoredDuringExecution")
    for i, term in enumerate(affinity.required_during_scheduling_ignored_during_execution):
        errs.extend(_pod_affinity_term(term, req_path.index(i)))
    pref_path = path.child("preferredDuringSchedulingIgnoredDuringExecution")
    for i, weighted in enumerate(affinity.preferred_during_scheduling_ignored_during_execution):
        errs.extend(_weight(weighted.weight, pref_path.index(i).child("weight")))
        errs.extend(
            _pod_affinity_term(
                weighted.pod_affinity_term, pref_path.index(i).child("podAffinityTerm")
            )
        )
    return errs


def validate_affinity(affinity: Affinity | None, path: FieldPath) -> list[FieldError]:
    if affinity is None:
        return []
    errs: list[FieldError] = []
    node = affinity.node_affinity
    if node is not None:
        node_path = path.child("nodeAffinity")
        if node.required_during_scheduling_ignored_during_execution is not None:
            errs.extend(
                _node_selector(
                    node.required_during_scheduling_ignored_during_execution,
                    node_path.child("requiredDuringSchedulingIgnoredDuringExecution"),
                )
            )
        pref_path = node_path.child("preferredDuringSchedulingIgnoredDuringExecution")
        for i, term in enumerate(node.preferred_during_scheduling_ignored_during_execution):
            errs.extend(_weight(term.weight, pref_path.index(i).child("weight")))
            errs.extend(
                _node_selector_term(term.preference, pref_path.index(i).child("preference"))
            )
    if affinity.pod_affinity is not None:
        errs.extend(_pod_affinity(affinity.pod_affinity, path.child("podAffinity")))
    if affinity.pod_anti_affinity is not None:
        errs.extend(_pod_affinity(affinity.pod_anti_affinity, path.child("podAntiAffinity")))
    return errs


def validate_topology_spread(spec: PodSpec, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    constraints = spec.topology_spread_constraints
    for i, constraint in enumerate(constraints):
        idx = path.index(i)
        if constraint.max_skew <= 0:
            errs.append(invalid(idx.child("maxSkew"), constraint.max_skew, NOT_POSITIVE))
        if not constraint.topology_key:
            errs.append(required(idx.child("topologyKey"), "can not be empty"))
        action = constraint.when_unsatisfiable
        if action not in _WHEN_UNSATISFIABLE:
            errs.append(not_supported(idx.child("whenUnsatisfiable"), action, _WHEN_UNSATISFIABLE))
        for later in constraints[i + 1 :]:
            if later.topology_key == constraint.topology_key and later.when_unsatisfiable == action:
                errs.append(
                    duplicate(
                        idx.child("{topologyKey, whenUnsatisfiable}"),
                        f"{{{constraint.topology_key}, {action}}}",
                    )
                )
                break
        if constraint.min_domains is not None:
            if constraint.min_domains <= 0:
                errs.append(invalid(idx.child("minDomains"), constraint.min_domains, NOT_POSITIVE))
            if action != "DoNotSchedule":
                errs.append(
                    invalid(
                        idx.child("minDomains"),
                        constraint.min_domains,
                        f"can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {action}",
                    )
                )
        for attr, wire in (
            ("node_affinity_policy", "nodeAffinityPolicy"),
            ("node_taints_policy", "nodeTaintsPolicy"),
        ):
            policy = getattr(constraint, attr)
            if policy is not None and policy not in _NODE_INCLUSION_POLICIES:
                errs.append(not_supported(idx.child(wire), policy, _NODE_INCLUSION_POLICIES))
        keys_path = idx.child("matchLabelKeys")
        selector = constraint.label_selector
        if constraint.match_label_keys:
            selector_keys: set[str] = set()
            if selector is None:
                errs.append(
                    forbidden(keys_path, "must not be specified when labelSelector is not set")
                )
            else:
                selector_keys = set(selector.match_labels) | {
                    e.key for e in selector.match_expressions
                }
            for j, key in enumerate(constraint.match_label_keys):
                errs.extend(qualified_name(key, keys_path.index(j)))
                if key in selector_keys:
                    errs.append(
                        invalid(
                            keys_path.index(j),
                            key,
                            "exists in both matchLabelKeys and labelSelector",
                        )
                    )
        errs.extend(validate_label_selector(selector, idx.child("labelSelector")))
    return errs
