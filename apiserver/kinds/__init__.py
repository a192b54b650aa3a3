"""The kinds the apiserver serves: one ``Strategy`` per kind, grouped by API group."""

from __future__ import annotations

from apiserver.kinds import apps, batch, coordination, core, discovery, policy
from apiserver.registry.strategy import KindSettings, Strategy


def all_strategies(settings: KindSettings | None = None) -> list[Strategy]:
    """One fresh strategy object per served kind, in registry order."""
    classes: list[type[Strategy]] = [
        *core.STRATEGIES,
        *coordination.STRATEGIES,
        *apps.STRATEGIES,
        *batch.STRATEGIES,
        *discovery.STRATEGIES,
        *policy.STRATEGIES,
    ]
    return [cls(settings) for cls in classes]
