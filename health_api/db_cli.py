"""``ci-health db upgrade | current | expire | rebuild-rollups``."""
from __future__ import annotations

import json

import click

from .clitools import db_option, fail_cleanly, open_engine


@click.group()
def db() -> None:
    """Schema management and data retention."""


@db.command("upgrade")
@db_option
@click.option("--revision", default="head", show_default=True)
@fail_cleanly()
def db_upgrade(db_url, revision):
    """Create or upgrade the schema (adopts an existing subunit2sql database)."""
    from .db.migrate import upgrade
    report = upgrade(open_engine(db_url, check=False), revision)
    if report.adopted_subunit2sql and report.before is None:
        click.echo(f"adopted subunit2sql schema (revision {report.adopted_subunit2sql}); "
                   f"its tables and alembic_version were left as they were")
    if report.before == report.after:
        click.echo(f"schema already at {report.after}; nothing to do")
    else:
        click.echo(f"schema upgraded from {report.before or 'empty'} to {report.after}")
    if report.rollups:
        click.echo(f"daily rollups built for {report.rollups['runs']} runs")


@db.command("current")
@db_option
@fail_cleanly()
def db_current(db_url):
    """Print the schema revision."""
    from .db.migrate import current_revision, head_revision
    engine = open_engine(db_url, check=False)
    click.echo(json.dumps({"current": current_revision(engine), "head": head_revision()}))


@db.command("expire")
@db_option
@click.option("--days", type=click.IntRange(min=0), required=True,
              help="Delete runs whose run_at is older than this many days.")
@click.option("--batch-size", type=click.IntRange(min=1, max=100_000), default=1000,
              show_default=True, help="Runs deleted per transaction (one day's at most).")
@click.option("--journal", metavar="FILE", default=None,
              help="The Gerrit listener journal whose old day segments go too "
                   "(default: [gerrit] journal; the file being written is kept).")
@fail_cleanly()
def db_expire(db_url, days, batch_size, journal):
    """Delete old runs with everything that belongs to them, old CI verdicts
    (Gerrit CI comments and their job results) and old listener journal segments."""
    from sqlalchemy import inspect
    from .config import load_config
    from .gerrit.retention import expire_ci_verdicts
    from .gerrit.segments import expire_segments
    from .ingest.expire import expire_runs
    engine = open_engine(db_url)
    report = expire_runs(engine, days=days, batch_size=batch_size)
    if "ci_comments" in inspect(engine).get_table_names():
        # the CI verdicts collected from Gerrit age out with the test results
        report.update(expire_ci_verdicts(engine, days=days, batch_size=batch_size))
    journal = journal or load_config().get("gerrit", "journal", "gerrit-events.jsonl")
    report["journal_segments"] = expire_segments(journal, days=days)
    click.echo(json.dumps(report))


@db.command("rebuild-rollups")
@db_option
@click.option("--missing", is_flag=True,
              help="only add the runs not in the rollups yet (written by subunit2sql since "
                   "adoption), leaving those of the last 10 minutes for the next call; "
                   "for a cron job")
@fail_cleanly()
def db_rebuild_rollups(db_url, missing):
    """Recompute the daily rollups from the raw tables, in SQL (after subunit2sql wrote)."""
    from .ingest.expire import rebuild_rollups
    click.echo(json.dumps(rebuild_rollups(open_engine(db_url), missing_only=missing)))
