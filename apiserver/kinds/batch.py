"""batch/v1 kinds: Job, CronJob."""

from __future__ import annotations

from apiserver.registry.strategy import Strategy
from apitypes import registry
from apitypes.registry import ResourceType


def _r(plural: str) -> ResourceType:
    return registry.resource("batch", plural)


class JobStrategy(Strategy):
    resource = _r("jobs")
    generation = True


class CronJobStrategy(Strategy):
    resource = _r("cronjobs")
    generation = True


STRATEGIES: tuple[type[Strategy], ...] = (JobStrategy, CronJobStrategy)
