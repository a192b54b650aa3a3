"""policy/v1: PodDisruptionBudget."""

from __future__ import annotations

from apiserver.registry.strategy import Strategy
from apitypes import registry


class PodDisruptionBudgetStrategy(Strategy):
    resource = registry.resource("policy", "poddisruptionbudgets")
    generation = True


STRATEGIES: tuple[type[Strategy], ...] = (PodDisruptionBudgetStrategy,)
