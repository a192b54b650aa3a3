"""The scheduler's configuration file: a ``KubeSchedulerConfiguration``, as Kubernetes'.

```yaml
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 0        # 0: adaptive (50% - nodes/125, at least 5%)
podInitialBackoffSeconds: 1
podMaxBackoffSeconds: 10
podMaxInUnschedulablePodsDuration: 60s
leaderElection: {leaderElect: true, leaseDuration: 15s, renewDeadline: 10s, retryPeriod: 2s}
profiles:
- schedulerName: default-scheduler
  plugins:
    score:
      disabled: [{name: NodeResourcesBalancedAllocation}]
      enabled: [{name: NodeAffinity, weight: 5}]
  pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated}}
```

Plugins are enabled per extension point (``preEnqueue``, ``preFilter``, ``filter``,
``preScore``, ``score``) or at every point a plugin implements (``multiPoint``), on top
of Kubernetes' default set; ``disabled: [{name: "*"}]`` drops the defaults of that point.
Weights come from ``score`` entries, else ``multiPoint`` entries, else the defaults
(TaintToleration 3, NodeAffinity 2, PodTopologySpread 2, InterPodAffinity 2, the rest 1).
Plugins Kubernetes has but navarch does not (volumes, images, preemption, the binder)
are accepted and ignored, so that Kubernetes configurations load.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from apitypes.duration import DurationError, parse_go_duration
from scheduler.cache import Cache
from scheduler.framework import (
    FilterPlugin,
    Handle,
    Plugin,
    PreEnqueuePlugin,
    PreFilterPlugin,
    PreScorePlugin,
    ScorePlugin,
)
from scheduler.podinfo import DEFAULT_SCHEDULER_NAME

API_VERSIONS = ("kubescheduler.config.k8s.io/v1", "kubescheduler.config.k8s.io/v1beta3")
KIND = "KubeSchedulerConfiguration"

POINTS: dict[str, type[Plugin]] = {
    "preEnqueue": PreEnqueuePlugin,
    "preFilter": PreFilterPlugin,
    "filter": FilterPlugin,
    "preScore": PreScorePlugin,
    "score": ScorePlugin,
}
# Extension points navarch has no plugins for; named in configurations, ignored.
OTHER_POINTS = ("queueSort", "postFilter", "reserve", "permit", "preBind", "bind", "postBind")

# Kubernetes' default plugins, in its order, with its default score weights.
DEFAULT_PLUGINS: tuple[tuple[str, int | None], ...] = (
    ("SchedulingGates", None),
    ("NodeUnschedulable", None),
    ("NodeName", None),
    ("TaintToleration", 3),
    ("NodeAffinity", 2),
    ("NodePorts", None),
    ("NodeResourcesFit", 1),
    ("PodTopologySpread", 2),
    ("InterPodAffinity", 2),
    ("NodeResourcesBalancedAllocation", 1),
)
NOT_IMPLEMENTED = frozenset(
    {
        "PrioritySort",  # the queue always sorts by priority, then age
        "VolumeRestrictions",
        "NodeVolumeLimits",
        "VolumeBinding",
        "VolumeZone",
        "DefaultPreemption",
        "ImageLocality",
        "DefaultBinder",
        "EBSLimits",
        "GCEPDLimits",
        "AzureDiskLimits",
        "DynamicResources",
    }
)
MAX_WEIGHT = 100


class ConfigError(ValueError):
    """A configuration that cannot be used (the message names the field)."""


@dataclass
class Profile:
    """One ``schedulerName`` and its plugins: names per extension point, in order."""

    scheduler_name: str = DEFAULT_SCHEDULER_NAME
    plugins: dict[str, list[str]] = field(default_factory=dict)
    weights: dict[str, int] = field(default_factory=dict)
    plugin_args: dict[str, dict[str, Any]] = field(default_factory=dict)
    percentage_of_nodes_to_score: int | None = None


@dataclass
class LeaderElection:
    leader_elect: bool = True
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    resource_name: str = "kube-scheduler"
    resource_namespace: str = "kube-system"


@dataclass
class SchedulerConfig:
    profiles: list[Profile]
    percentage_of_nodes_to_score: int = 0
    pod_initial_backoff_seconds: float = 1.0
    pod_max_backoff_seconds: float = 10.0
    pod_max_in_unschedulable_seconds: float = 60.0
    leader_election: LeaderElection = field(default_factory=LeaderElection)
    kubeconfig: str | None = None


def parse_duration(value: Any, path: str) -> float:
    """Seconds from a configuration value: a Go duration string (``"15s"``, ``"1m30s"``,
    ``"250ms"``, as ``metav1.Duration`` reads it) or a number of seconds."""
    if isinstance(value, bool):
        raise ConfigError(f"{path}: {value!r} is not a duration")
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{path}: {value!r} is not a duration")
    try:
        return parse_go_duration(value.strip())
    except DurationError as err:
        raise ConfigError(f'{path}: invalid duration "{value}" ({err})') from None


def _names(entries: Any, path: str) -> list[tuple[str, int | None]]:
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: must be a list of {{name, weight}}")
    out: list[tuple[str, int | None]] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            raise ConfigError(f"{path}[{i}].name: Required value")
        weight = entry.get("weight")
        if weight is not None and (
            isinstance(weight, bool) or not isinstance(weight, int) or not 0 < weight <= MAX_WEIGHT
        ):
            raise ConfigError(f"{path}[{i}].weight: must be an integer in 1..{MAX_WEIGHT}")
        out.append((entry["name"], weight))
    return out


def build_profile(
    raw: Mapping[str, Any], registry: Mapping[str, type[Plugin]], path: str = "profiles[0]"
) -> Profile:
    """A profile from its configuration (``{}`` gives Kubernetes' defaults)."""
    unknown_name = next(
        (
            n
            for n in (raw.get("plugins") or {})
            if n not in POINTS and n not in OTHER_POINTS and n != "multiPoint"
        ),
        None,
    )
    if unknown_name is not None:
        raise ConfigError(f"{path}.plugins.{unknown_name}: unknown extension point")
    name = raw.get("schedulerName") or DEFAULT_SCHEDULER_NAME
    if not isinstance(name, str):
        raise ConfigError(f"{path}.schedulerName: must be a string")
    plugins_cfg: Mapping[str, Any] = raw.get("plugins") or {}

    def check(plugin: str, where: str) -> bool:
        """Known and implemented (True), known but not implemented here (False)."""
        if plugin in registry:
            return True
        if plugin in NOT_IMPLEMENTED:
            return False
        raise ConfigError(f"{where}: unknown plugin {plugin!r}")

    multi = plugins_cfg.get("multiPoint") or {}
    multi_disabled = {
        n for n, _ in _names(multi.get("disabled"), f"{path}.plugins.multiPoint.disabled")
    }
    base: list[tuple[str, int | None]] = []
    if "*" not in multi_disabled:
        base = [(n, w) for n, w in DEFAULT_PLUGINS if n not in multi_disabled and n in registry]
    for plugin, weight in _names(multi.get("enabled"), f"{path}.plugins.multiPoint.enabled"):
        if not check(plugin, f"{path}.plugins.multiPoint.enabled"):
            continue
        base = [(n, w) for n, w in base if n != plugin]
        base.append((plugin, weight))
    weights = {n: w for n, w in base if w is not None}

    points: dict[str, list[str]] = {}
    for point, kind in POINTS.items():
        where = f"{path}.plugins.{point}"
        pset = plugins_cfg.get(point) or {}
        disabled = {n for n, _ in _names(pset.get("disabled"), f"{where}.disabled")}
        chosen = (
            []
            if "*" in disabled
            else [n for n, _ in base if n not in disabled and issubclass(registry[n], kind)]
        )
        for plugin, weight in _names(pset.get("enabled"), f"{where}.enabled"):
            if not check(plugin, f"{where}.enabled"):
                continue
            if not issubclass(registry[plugin], kind):
                raise ConfigError(f"{where}.enabled: plugin {plugin!r} does not implement {point}")
            if plugin not in chosen:
                chosen.append(plugin)
            if point == "score" and weight is not None:
                weights[plugin] = weight
        points[point] = chosen
    for plugin in points["score"]:
        weights.setdefault(plugin, 1)

    args: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(raw.get("pluginConfig") or []):
        where = f"{path}.pluginConfig[{i}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            raise ConfigError(f"{where}.name: Required value")
        if entry["name"] in args:
            raise ConfigError(f"{where}.name: Duplicate value: {entry['name']!r}")
        check(entry["name"], f"{where}.name")
        value = entry.get("args") or {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}.args: must be a mapping")
        args[entry["name"]] = dict(value)

    percentage = raw.get("percentageOfNodesToScore")
    if percentage is not None:
        percentage = _percentage(percentage, f"{path}.percentageOfNodesToScore")
    return Profile(name, points, weights, args, percentage)


def _check_plugin_args(profile: Profile, registry: Mapping[str, type[Plugin]], path: str) -> None:
    """Build every enabled plugin once, so bad ``args`` fail at start-up, naming them."""
    handle = Handle(Cache())
    enabled = {name for names in profile.plugins.values() for name in names}
    for name in sorted(enabled | set(profile.plugin_args)):
        if name not in registry:
            continue
        try:
            registry[name](profile.plugin_args.get(name, {}), handle)
        except (ValueError, TypeError, AttributeError) as err:
            raise ConfigError(f"{path}: {name}: {err}") from None


def _percentage(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ConfigError(f"{path}: must be an integer in 0..100")
    return value


_TOP_LEVEL = {
    "apiVersion",
    "kind",
    "profiles",
    "percentageOfNodesToScore",
    "podInitialBackoffSeconds",
    "podMaxBackoffSeconds",
    "podMaxInUnschedulablePodsDuration",
    "leaderElection",
    "clientConnection",
    "parallelism",
    "extenders",
    "delayCacheUntilActive",
}


def parse_config(data: Any, registry: Mapping[str, type[Plugin]]) -> SchedulerConfig:
    """A :class:`SchedulerConfig` from a decoded configuration document."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError("the configuration must be a mapping")
    api_version = data.get("apiVersion")
    if api_version is not None and api_version not in API_VERSIONS:
        raise ConfigError(f"apiVersion: Unsupported value: {api_version!r}")
    if data.get("kind") not in (None, KIND):
        raise ConfigError(f"kind: must be {KIND}")
    unknown = sorted(set(data) - _TOP_LEVEL)
    if unknown:
        raise ConfigError(f'unknown field "{unknown[0]}"')
    raw_profiles = data.get("profiles") or [{}]
    if not isinstance(raw_profiles, list):
        raise ConfigError("profiles: must be a list")
    profiles = [
        build_profile(p or {}, registry, f"profiles[{i}]") for i, p in enumerate(raw_profiles)
    ]
    seen: set[str] = set()
    for i, profile in enumerate(profiles):
        if profile.scheduler_name in seen:
            raise ConfigError(
                f"profiles[{i}].schedulerName: Duplicate value: {profile.scheduler_name!r}"
            )
        seen.add(profile.scheduler_name)
    for i, profile in enumerate(profiles):
        _check_plugin_args(profile, registry, f"profiles[{i}].pluginConfig")
    config = SchedulerConfig(profiles=profiles)
    if "percentageOfNodesToScore" in data:
        config.percentage_of_nodes_to_score = _percentage(
            data["percentageOfNodesToScore"], "percentageOfNodesToScore"
        )
    if "podInitialBackoffSeconds" in data:
        config.pod_initial_backoff_seconds = parse_duration(
            data["podInitialBackoffSeconds"], "podInitialBackoffSeconds"
        )
    if "podMaxBackoffSeconds" in data:
        config.pod_max_backoff_seconds = parse_duration(
            data["podMaxBackoffSeconds"], "podMaxBackoffSeconds"
        )
    if config.pod_initial_backoff_seconds <= 0:
        raise ConfigError("podInitialBackoffSeconds: must be greater than 0")
    if config.pod_max_backoff_seconds < config.pod_initial_backoff_seconds:
        raise ConfigError("podMaxBackoffSeconds: must be at least podInitialBackoffSeconds")
    if "podMaxInUnschedulablePodsDuration" in data:
        config.pod_max_in_unschedulable_seconds = parse_duration(
            data["podMaxInUnschedulablePodsDuration"], "podMaxInUnschedulablePodsDuration"
        )
    election = data.get("leaderElection") or {}
    if not isinstance(election, Mapping):
        raise ConfigError("leaderElection: must be a mapping")
    le = config.leader_election
    if "leaderElect" in election:
        if not isinstance(election["leaderElect"], bool):
            raise ConfigError("leaderElection.leaderElect: must be true or false")
        le.leader_elect = election["leaderElect"]
    for key, attr in (
        ("leaseDuration", "lease_duration"),
        ("renewDeadline", "renew_deadline"),
        ("retryPeriod", "retry_period"),
    ):
        if key in election:
            setattr(le, attr, parse_duration(election[key], f"leaderElection.{key}"))
    if election.get("resourceName"):
        le.resource_name = str(election["resourceName"])
    if election.get("resourceNamespace"):
        le.resource_namespace = str(election["resourceNamespace"])
    connection = data.get("clientConnection") or {}
    if isinstance(connection, Mapping) and connection.get("kubeconfig"):
        config.kubeconfig = str(connection["kubeconfig"])
    return config


def load_config(path: str | Path | None, registry: Mapping[str, type[Plugin]]) -> SchedulerConfig:
    """Read ``path`` (YAML or JSON); no path gives the defaults."""
    if path is None:
        return parse_config({}, registry)
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path} is not YAML: {err}") from None
    return parse_config(data, registry)
