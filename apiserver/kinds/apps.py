"""apps/v1 kinds: ReplicaSet, Deployment, DaemonSet, StatefulSet, ControllerRevision."""

from __future__ import annotations

from apiserver.registry.strategy import Strategy
from apitypes import registry
from apitypes.registry import ResourceType


def _r(plural: str) -> ResourceType:
    return registry.resource("apps", plural)


class ReplicaSetStrategy(Strategy):
    resource = _r("replicasets")
    generation = True


class DeploymentStrategy(Strategy):
    resource = _r("deployments")
    generation = True


class DaemonSetStrategy(Strategy):
    resource = _r("daemonsets")
    generation = True


class StatefulSetStrategy(Strategy):
    resource = _r("statefulsets")
    generation = True


class ControllerRevisionStrategy(Strategy):
    resource = _r("controllerrevisions")
    status_subresource = False


STRATEGIES: tuple[type[Strategy], ...] = (
    ReplicaSetStrategy,
    DeploymentStrategy,
    DaemonSetStrategy,
    StatefulSetStrategy,
    ControllerRevisionStrategy,
)
