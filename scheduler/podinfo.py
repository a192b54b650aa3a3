"""``PodInfo``: a pod plus everything the scheduler derives from it, computed once.

The informer hands the scheduler a new ``Pod`` object for every change; each becomes
one ``PodInfo``, and the per-pod work that every scheduling decision would otherwise
repeat happens here, once per version of the pod: effective requests, host ports,
parsed affinity terms, the owning controller. Problems (a request that is not a
quantity, an affinity term with an invalid selector) are kept as text, not raised, so
that the plugin that cares can leave the pod pending with a clear message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from apitypes.core import Pod, PodAffinityTerm, Toleration, WeightedPodAffinityTerm
from apitypes.resources import ResourceError
from apitypes.selectors import (
    NOTHING,
    LabelSelectorExpr,
    Operator,
    Requirement,
    SelectorError,
    from_label_selector,
)
from scheduler.resources import Requests, non_zero_requests, pod_requests

DEFAULT_SCHEDULER_NAME = "default-scheduler"
LABEL_HOSTNAME = "kubernetes.io/hostname"
LABEL_ZONE = "topology.kubernetes.io/zone"
LABEL_REGION = "topology.kubernetes.io/region"

HostPort = tuple[str, str, int]
"""(host IP, protocol, port) of a container port that claims a port on the node."""


@dataclass(slots=True, frozen=True)
class AffinityTerm:
    """A pod (anti-)affinity term, parsed: which pods it selects, and the topology key.

    ``namespaces`` already holds the owning pod's namespace when the term names none
    and has no namespace selector (the API's meaning of "my namespace").
    """

    selector: LabelSelectorExpr
    namespaces: frozenset[str]
    namespace_selector: LabelSelectorExpr
    topology_key: str

    def matches(self, pod: PodInfo, namespace_labels: Mapping[str, str] | None) -> bool:
        """Whether ``pod`` (with its namespace's labels) is selected by this term."""
        if pod.namespace in self.namespaces or (
            namespace_labels is not None and self.namespace_selector.matches(namespace_labels)
        ):
            return self.selector.matches(pod.labels)
        return False


@dataclass(slots=True, frozen=True)
class WeightedAffinityTerm:
    term: AffinityTerm
    weight: int


def _merge_label_keys(
    selector: LabelSelectorExpr, labels: Mapping[str, str], keys: list[str], operator: Operator
) -> LabelSelectorExpr:
    extra = [Requirement(key, operator, (labels[key],)) for key in keys if key in labels]
    return selector.add(*extra) if extra else selector


def parse_affinity_term(term: PodAffinityTerm, pod: Pod) -> AffinityTerm:
    """Raises :class:`SelectorError` for an invalid selector in ``term``."""
    meta = pod.metadata
    labels = meta.labels
    selector = from_label_selector(term.label_selector)
    # matchLabelKeys / mismatchLabelKeys pin the selector to this pod's own values.
    selector = _merge_label_keys(selector, labels, term.match_label_keys, Operator.IN)
    selector = _merge_label_keys(selector, labels, term.mismatch_label_keys, Operator.NOT_IN)
    namespaces = frozenset(term.namespaces)
    if term.namespace_selector is None:
        ns_selector = NOTHING
        if not namespaces:
            namespaces = frozenset({meta.namespace or "default"})
    else:
        ns_selector = from_label_selector(term.namespace_selector)
    return AffinityTerm(selector, namespaces, ns_selector, term.topology_key)


def _weighted(terms: list[WeightedPodAffinityTerm], pod: Pod) -> tuple[WeightedAffinityTerm, ...]:
    return tuple(
        WeightedAffinityTerm(parse_affinity_term(t.pod_affinity_term, pod), t.weight)
        for t in terms
        if t.weight
    )


@dataclass(slots=True, eq=False)
class PodInfo:
    """One version of a pod, with what scheduling needs precomputed.

    ``memo`` is for plugins to cache their own per-pod derivations (a compiled node
    selector, say); it dies with this version of the pod.
    """

    pod: Pod
    key: str
    namespace: str
    name: str
    uid: str
    labels: dict[str, str]
    node_name: str
    scheduler_name: str
    priority: int
    created: float
    terminating: bool
    terminal: bool
    requests: Requests
    non_zero_cpu: int
    non_zero_memory: int
    request_error: str
    host_ports: tuple[HostPort, ...]
    tolerations: tuple[Toleration, ...]
    required_affinity: tuple[AffinityTerm, ...]
    required_anti_affinity: tuple[AffinityTerm, ...]
    preferred_affinity: tuple[WeightedAffinityTerm, ...]
    preferred_anti_affinity: tuple[WeightedAffinityTerm, ...]
    affinity_error: str
    controller_uid: str
    gated: bool
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def has_pod_affinity(self) -> bool:
        """Carries any pod affinity or anti-affinity term (required or preferred)."""
        return bool(
            self.required_affinity
            or self.required_anti_affinity
            or self.preferred_affinity
            or self.preferred_anti_affinity
        )

    def assigned_to(self, node_name: str) -> PodInfo:
        """A copy of this info as if the pod were bound to ``node_name`` (for assuming)."""
        info = PodInfo(
            self.pod, self.key, self.namespace, self.name, self.uid, self.labels, node_name,
            self.scheduler_name, self.priority, self.created, self.terminating, self.terminal,
            self.requests, self.non_zero_cpu, self.non_zero_memory, self.request_error,
            self.host_ports, self.tolerations, self.required_affinity,
            self.required_anti_affinity, self.preferred_affinity, self.preferred_anti_affinity,
            self.affinity_error, self.controller_uid, self.gated,
        )  # fmt: skip
        return info


def pod_info(pod: Pod) -> PodInfo:
    """Derive a :class:`PodInfo`; never raises for bad pod content."""
    meta = pod.metadata
    spec = pod.spec
    namespace = meta.namespace or "default"
    name = meta.name or ""
    request_error = ""
    try:
        requests = pod_requests(spec)
        nz_cpu, nz_memory = non_zero_requests(spec)
    except ResourceError as err:
        requests, nz_cpu, nz_memory = Requests(), 0, 0
        request_error = str(err)

    ports: list[HostPort] = []
    required: tuple[AffinityTerm, ...] = ()
    anti: tuple[AffinityTerm, ...] = ()
    preferred: tuple[WeightedAffinityTerm, ...] = ()
    preferred_anti: tuple[WeightedAffinityTerm, ...] = ()
    affinity_error = ""
    if spec is not None:
        # Sidecars (restartable init containers) hold their ports as long as the pod runs;
        # ordinary init containers have exited before the regular containers start.
        sidecars = [c for c in spec.init_containers if c.restart_policy == "Always"]
        for container in (*sidecars, *spec.containers):
            for port in container.ports:
                if port.host_port:
                    ip = port.host_ip or "0.0.0.0"
                    ports.append((ip, port.protocol or "TCP", port.host_port))
        affinity = spec.affinity
        if affinity is not None and (affinity.pod_affinity or affinity.pod_anti_affinity):
            try:
                if affinity.pod_affinity is not None:
                    pa = affinity.pod_affinity
                    required = tuple(
                        parse_affinity_term(t, pod)
                        for t in pa.required_during_scheduling_ignored_during_execution
                    )
                    preferred = _weighted(
                        pa.preferred_during_scheduling_ignored_during_execution, pod
                    )
                if affinity.pod_anti_affinity is not None:
                    paa = affinity.pod_anti_affinity
                    anti = tuple(
                        parse_affinity_term(t, pod)
                        for t in paa.required_during_scheduling_ignored_during_execution
                    )
                    preferred_anti = _weighted(
                        paa.preferred_during_scheduling_ignored_during_execution, pod
                    )
            except SelectorError as err:
                affinity_error = str(err)
                required = anti = ()
                preferred = preferred_anti = ()
    owner = meta.controller_ref()
    phase = pod.status.phase if pod.status else None
    created = meta.creation_timestamp.timestamp() if meta.creation_timestamp else 0.0
    return PodInfo(
        pod=pod,
        key=f"{namespace}/{name}",
        namespace=namespace,
        name=name,
        uid=meta.uid or "",
        labels=meta.labels,
        node_name=(spec.node_name or "") if spec else "",
        scheduler_name=(spec.scheduler_name or DEFAULT_SCHEDULER_NAME)
        if spec
        else DEFAULT_SCHEDULER_NAME,
        priority=(spec.priority or 0) if spec else 0,
        created=created,
        terminating=meta.deletion_timestamp is not None,
        terminal=phase in ("Succeeded", "Failed"),
        requests=requests,
        non_zero_cpu=nz_cpu,
        non_zero_memory=nz_memory,
        request_error=request_error,
        host_ports=tuple(ports),
        tolerations=tuple(spec.tolerations) if spec else (),
        required_affinity=required,
        required_anti_affinity=anti,
        preferred_affinity=preferred,
        preferred_anti_affinity=preferred_anti,
        affinity_error=affinity_error,
        controller_uid=owner.uid if owner is not None else "",
        gated=bool(spec and spec.scheduling_gates),
    )
