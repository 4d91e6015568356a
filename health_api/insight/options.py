"""Settings of the failure-intelligence analyses: ``[insight]`` and ``[alerts]``
in the config file (documented in etc/ci-health.conf.sample), and the cluster
labels file (etc/cluster-labels.yaml)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..analytics.flaky import FlakyOptions
from ..config import Config, ConfigError

_CLUSTER_ID = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True)
class InsightOptions:
    change_key: str = "build_change"
    patchset_key: str = "build_patchset"
    job_key: str = "build_name"
    period_days: int = 30
    new_days: int = 3
    change_probability: float = 0.99
    suspect_keys: tuple[str, ...] = ("node_provider", "build_queue", "build_branch", "region")
    labels_file: str = "etc/cluster-labels.yaml"
    flaky: FlakyOptions = field(default_factory=FlakyOptions)


@dataclass(frozen=True)
class AlertOptions:
    webhook_url: str = ""
    window_hours: int = 24
    min_runs: int = 10
    raise_rate: float = 0.5
    clear_rate: float = 0.3
    new_clusters: bool = True


def insight_options(config: Config) -> InsightOptions:
    keys = config.get("insight", "suspect_keys", None)
    suspect = tuple(k.strip() for k in keys.split(",") if k.strip()) if keys is not None \
        else InsightOptions.suspect_keys
    return InsightOptions(
        change_key=config.get("insight", "change_key", "build_change"),
        patchset_key=config.get("insight", "patchset_key", "build_patchset"),
        job_key=config.get("insight", "job_key", "build_name"),
        period_days=config.get_int("insight", "period_days", 30),
        new_days=config.get_int("insight", "new_days", 3),
        change_probability=config.get_float("insight", "change_probability", 0.99),
        suspect_keys=suspect,
        labels_file=config.get("insight", "labels_file", "etc/cluster-labels.yaml"),
        flaky=FlakyOptions(
            min_evidence=config.get_int("insight", "flaky_min_evidence", 1),
            min_failure_rate=config.get_float("insight", "flaky_min_failure_rate", 0.005),
            infra_run_failures=config.get_int("insight", "infra_run_failures", 10),
            flip_runs=config.get_int("insight", "flip_runs", 30)))


def alert_options(config: Config) -> AlertOptions:
    options = AlertOptions(
        webhook_url=config.get("alerts", "webhook_url", "") or "",
        window_hours=config.get_int("alerts", "window_hours", 24),
        min_runs=config.get_int("alerts", "min_runs", 10),
        raise_rate=config.get_float("alerts", "raise_rate", 0.5),
        clear_rate=config.get_float("alerts", "clear_rate", 0.3),
        new_clusters=config.get_bool("alerts", "new_clusters", True))
    if not 0 <= options.clear_rate < options.raise_rate <= 1:
        raise ConfigError("[alerts] clear_rate must be below raise_rate, both within 0..1")
    return options


def file_labels(path: str | Path) -> dict[str, dict]:
    """Cluster labels from the YAML file: a list of {cluster, label, bug_url};
    no file means no labels. A bad entry is a ConfigError naming it."""
    path = Path(path)
    if not path.is_file():
        return {}
    import yaml
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, list):
        raise ConfigError(f"{path}: expected a list of {{cluster, label, bug_url}}")
    out = {}
    for n, entry in enumerate(data, 1):
        if not isinstance(entry, dict) or not _CLUSTER_ID.match(str(entry.get("cluster", ""))) \
                or not str(entry.get("label") or "").strip():
            raise ConfigError(f"{path}: entry {n} needs cluster (16 hex digits) and label")
        out[str(entry["cluster"])] = {"label": str(entry["label"]).strip()[:255],
                                      "bug_url": entry.get("bug_url")}
    return out
