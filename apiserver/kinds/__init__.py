"""The kinds the apiserver serves: one module and one ``Strategy`` per kind.

Each module holds its kind's rules (defaults, validation, lifecycle, table columns, the
subresources it serves); what several kinds share lives in ``common`` (field paths,
small validators, bad values as Go prints them), ``workload`` (pod-template rules),
``printers`` (table cells) and ``podspec`` (the pod spec, shared by Pods and every
pod template). ``STRATEGIES`` lists the kinds in ``apitypes.registry`` order.
"""

from __future__ import annotations

from apiserver.kinds.apiservice import APIServiceStrategy
from apiserver.kinds.authentication import SelfSubjectReviewStrategy, TokenReviewStrategy
from apiserver.kinds.authorization import (
    LocalSubjectAccessReviewStrategy,
    SelfSubjectAccessReviewStrategy,
    SelfSubjectRulesReviewStrategy,
    SubjectAccessReviewStrategy,
)
from apiserver.kinds.certificatesigningrequest import CertificateSigningRequestStrategy
from apiserver.kinds.configmap import ConfigMapStrategy
from apiserver.kinds.controllerrevision import ControllerRevisionStrategy
from apiserver.kinds.cronjob import CronJobStrategy
from apiserver.kinds.daemonset import DaemonSetStrategy
from apiserver.kinds.deployment import DeploymentStrategy
from apiserver.kinds.endpoints import EndpointsStrategy
from apiserver.kinds.endpointslice import EndpointSliceStrategy
from apiserver.kinds.event import EventStrategy
from apiserver.kinds.job import JobStrategy
from apiserver.kinds.lease import LeaseStrategy
from apiserver.kinds.limitrange import LimitRangeStrategy
from apiserver.kinds.namespace import NamespaceStrategy
from apiserver.kinds.node import NodeStrategy
from apiserver.kinds.pod import PodStrategy
from apiserver.kinds.poddisruptionbudget import PodDisruptionBudgetStrategy
from apiserver.kinds.rbac import (
    ClusterRoleBindingStrategy,
    ClusterRoleStrategy,
    RoleBindingStrategy,
    RoleStrategy,
)
from apiserver.kinds.replicaset import ReplicaSetStrategy
from apiserver.kinds.replicationcontroller import ReplicationControllerStrategy
from apiserver.kinds.resourcequota import ResourceQuotaStrategy
from apiserver.kinds.secret import SecretStrategy
from apiserver.kinds.service import ServiceStrategy
from apiserver.kinds.serviceaccount import ServiceAccountStrategy
from apiserver.kinds.statefulset import StatefulSetStrategy
from apiserver.registry.strategy import KindSettings, Strategy

STRATEGIES: tuple[type[Strategy], ...] = (
    NamespaceStrategy,
    PodStrategy,
    NodeStrategy,
    EventStrategy,
    ConfigMapStrategy,
    SecretStrategy,
    ServiceStrategy,
    EndpointsStrategy,
    LimitRangeStrategy,
    ResourceQuotaStrategy,
    ServiceAccountStrategy,
    ReplicationControllerStrategy,
    LeaseStrategy,
    ReplicaSetStrategy,
    DeploymentStrategy,
    DaemonSetStrategy,
    StatefulSetStrategy,
    ControllerRevisionStrategy,
    JobStrategy,
    CronJobStrategy,
    EndpointSliceStrategy,
    PodDisruptionBudgetStrategy,
    APIServiceStrategy,
    ClusterRoleStrategy,
    ClusterRoleBindingStrategy,
    RoleStrategy,
    RoleBindingStrategy,
    CertificateSigningRequestStrategy,
    TokenReviewStrategy,
    SelfSubjectReviewStrategy,
    SubjectAccessReviewStrategy,
    SelfSubjectAccessReviewStrategy,
    LocalSubjectAccessReviewStrategy,
    SelfSubjectRulesReviewStrategy,
)
"""Every served kind's strategy, in ``apitypes.registry.RESOURCES`` order."""


def all_strategies(settings: KindSettings | None = None) -> list[Strategy]:
    """One fresh strategy object per served kind, in registry order."""
    return [cls(settings) for cls in STRATEGIES]
