"""``ci-health analyze``: precompute failure intelligence after ingest, fire alerts."""
from __future__ import annotations

import json

import click

from ..clitools import CliError, db_option, fail_cleanly


@click.command("analyze")
@db_option
@click.option("--no-alerts", is_flag=True, help="Store the analyses only; fire no alert.")
@fail_cleanly()
def analyze(db_url, no_alerts):
    """Compute flaky tests and jobs, failure clusters, broken-since, explained-failure
    rate and suspect metadata over [insight] period_days, store them for the API, then
    fire the [alerts] that crossed their threshold. Run it after ingest (cron)."""
    from ..cli import open_engine
    from ..config import ConfigError, load_config
    from .alerts import analyze_with_alerts
    from .analyze import analyze_and_store
    from .options import alert_options, insight_options
    try:
        config = load_config()
        insight, alerts = insight_options(config), alert_options(config)
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    engine = open_engine(db_url)
    try:
        summary = analyze_and_store(engine, insight) if no_alerts else \
            analyze_with_alerts(engine, insight, alerts)
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    summary["timings"] = {k: round(v, 3) for k, v in summary["timings"].items()}
    click.echo(json.dumps(summary, default=str))
