"""``ci-health demo-data``: a deterministic synthetic gate history."""
from __future__ import annotations

import json
from pathlib import Path

import click

from ..clitools import collect_after_startup, db_option, fail_cleanly, open_engine, parse_time


@click.command("demo-data")
@db_option
@click.option("--days", type=click.IntRange(1, 400), default=14, show_default=True)
@click.option("--jobs", type=click.IntRange(1, 500), default=12, show_default=True)
@click.option("--runs-per-day", type=click.IntRange(1, 2000), default=8, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--end", metavar="TIME", help="End of the history (ISO 8601, UTC); "
              "default: the current hour, so the dashboard shows fresh data.")
@click.option("--truth", "truth_path", type=click.Path(dir_okay=False), default=None,
              help="Where to write what was planted (flaky/broken tests); default: "
                   "next to a SQLite database file as <file>.truth.json.")
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database has runs.")
@click.option("--changes-per-day", type=click.IntRange(0, 5000), default=40, show_default=True,
              help="Gerrit changes per day for the CI verdict history (0: none).")
@fail_cleanly()
@collect_after_startup
def demo_data(db_url, days, jobs, runs_per_day, seed, end, truth_path, quiet, if_empty,
              changes_per_day):
    """Write a deterministic synthetic gate history (runs, tests, flaky tests)."""
    from .gate import generate, has_runs
    from ..ingest.service import freeze_startup_heap
    engine = open_engine(db_url)
    if if_empty and has_runs(engine):
        click.echo(json.dumps({"runs": 0, "skipped": "the database already has runs"}))
        return
    if truth_path is None and engine.dialect.name == "sqlite" and engine.url.database:
        truth_path = engine.url.database + ".truth.json"

    def progress(done: int, total: int) -> None:
        if not quiet and (done % 500 == 0 or done == total):
            click.echo(f"demo-data: {done}/{total} runs", err=True)
    freeze_startup_heap()
    truth = generate(engine, days=days, jobs=jobs, runs_per_day=runs_per_day, seed=seed,
                     end=parse_time(end, "--end"), progress=progress,
                     changes_per_day=changes_per_day)
    if truth_path:
        truth.write(Path(truth_path))
    click.echo(json.dumps({"runs": truth.runs, "results": truth.results,
                           "changes": truth.gerrit.get("changes", 0),
                           "ci_comments": truth.gerrit.get("ci_comments", 0),
                           "start": truth.start, "end": truth.end, "truth": truth_path}))
