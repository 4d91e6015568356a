"""The ``ci-health`` command line (exit codes and errors: see clitools.py)."""
from __future__ import annotations

import contextlib
import json
import re
import sys
from pathlib import Path

import click

from . import __version__
from .clitools import CliError, db_option, fail_cleanly, parse_time
from .config import load_config


def open_engine(db_url: str | None, *, check: bool = True):
    from .db.session import check_schema, get_engine
    url = db_url or load_config().db_url
    engine = get_engine(url)
    if check:
        check_schema(engine)
    return engine


@click.group()
@click.version_option(__version__, prog_name="ci-health")
def main() -> None:
    """ci-health: CI health from subunit results and Gerrit CI verdicts."""


# -- db ----------------------------------------------------------------------

@main.group()
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
@click.option("--batch-size", type=click.IntRange(min=1, max=100_000), default=500,
              show_default=True, help="Runs deleted per transaction.")
@fail_cleanly()
def db_expire(db_url, days, batch_size):
    """Delete old runs with everything that belongs to them."""
    from .ingest.expire import expire_runs
    report = expire_runs(open_engine(db_url), days=days, batch_size=batch_size)
    click.echo(json.dumps(report))


@db.command("rebuild-rollups")
@db_option
@fail_cleanly()
def db_rebuild_rollups(db_url):
    """Recompute the daily rollups from the raw tables (after subunit2sql wrote)."""
    from .ingest.expire import rebuild_rollups
    click.echo(json.dumps(rebuild_rollups(open_engine(db_url))))


# -- ingest ------------------------------------------------------------------

def _parse_meta(pairs: tuple[str, ...]) -> list[tuple[str, str]]:
    meta = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"--run-meta: expected KEY=VALUE, got {pair!r}")
        if len(key) > 255 or len(value) > 255:
            raise CliError(f"--run-meta: key and value are limited to 255 characters ({key[:40]!r})")
        meta.append((key, value))
    return meta


def ingest_options(func):
    options = [
        click.option("--run-meta", "run_meta", multiple=True, metavar="KEY=VALUE",
                     help="Run metadata (repeatable), e.g. build_name=tempest-full."),
        click.option("--artifacts", metavar="URL", help="Link to the run's logs."),
        click.option("--run-id", metavar="UUID", help="The run's uuid (must be new)."),
        click.option("--run-at", metavar="TIME", help="When the run happened (ISO 8601, UTC "
                     "unless an offset is given); default: the stream's first timestamp."),
        click.option("--attr-regex", metavar="RE", help="Regex whose first group is the "
                     r"test's attrs, stripped from its id (default: \[(.*)\])."),
        click.option("--test-attr-prefix", metavar="P",
                     help="Also store attrs starting with P as test metadata."),
        click.option("--store-attachments", is_flag=True,
                     help="Store test attachments (tracebacks, logs)."),
        click.option("--wall-time", is_flag=True,
                     help="Run time = last stop - first start, not the sum of durations."),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON line per run."),
        click.argument("files", nargs=-1, required=True, metavar="FILE... | -"),
        db_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run_ingest(db_url, files, parse, *, run_meta, artifacts, run_id, run_at, attr_regex,
                test_attr_prefix, store_attachments, wall_time, as_json):
    from .ingest.parallel import ParsedAhead, can_fork
    from .ingest.service import freeze_startup_heap
    from .ingest.catalog import TestIdCache
    from .ingest.writer import RunOptions
    if run_id and len(files) > 1:
        raise CliError("--run-id names one run, but several files were given")
    if attr_regex:
        try:
            re.compile(attr_regex)
        except re.error as exc:
            raise CliError(f"--attr-regex: invalid regular expression: {exc}") from None
    options = RunOptions(uuid=run_id, run_at=parse_time(run_at, "--run-at"),
                         artifacts=artifacts, metadata=_parse_meta(run_meta),
                         attr_regex=attr_regex, test_attr_prefix=test_attr_prefix,
                         store_attachments=store_attachments, wall_time=wall_time)
    engine = open_engine(db_url)
    cache = TestIdCache()
    freeze_startup_heap()
    # Several files: one child parses them ahead of the runs written here.
    ahead = (ParsedAhead(parse.here, files) if len(files) > 1 and "-" not in files
             and can_fork() else None)
    with ahead or contextlib.nullcontext():
        for name in files:
            summary = _ingest_file(engine, name, ahead.parse if ahead else parse, options,
                                   cache)
            _report(name, summary, as_json)


def _ingest_file(engine, name, parse, options, cache):
    from .ingest.service import ingest_run
    if name == "-":
        return ingest_run(engine, sys.stdin.buffer, "<stdin>", parse, options, cache=cache)
    try:
        handle = Path(name).open("rb")
    except OSError as exc:
        raise CliError(f"{name}: cannot read: {exc.strerror}") from None
    with handle:
        return ingest_run(engine, handle, name, parse, options, cache=cache)


def _report(name, summary, as_json) -> None:
    if as_json:
        click.echo(json.dumps(summary.as_json()))
    else:
        click.echo(f"{name}: run {summary.uuid} stored: {summary.tests} tests, "
                   f"{summary.passes} passed, {summary.fails} failed, "
                   f"{summary.skips} skipped")


@main.group()
def ingest() -> None:
    """Store test results: one run per file."""


@ingest.command("subunit")
@ingest_options
@click.option("--non-subunit-name", metavar="NAME",
              help="Accept non-subunit bytes in the stream (wrapped as NAME) "
                   "instead of failing.")
@fail_cleanly()
def ingest_subunit(db_url, files, non_subunit_name, **kwargs):
    """Ingest subunit v2 streams."""
    from .ingest.service import subunit_parser
    parse = subunit_parser(non_subunit_name, kwargs["store_attachments"])
    _run_ingest(db_url, files, parse, **kwargs)


@ingest.command("junit")
@ingest_options
@fail_cleanly()
def ingest_junit(db_url, files, **kwargs):
    """Ingest JUnit XML files."""
    from .ingest.service import junit_parser
    parse = junit_parser(parse_time(kwargs["run_at"], "--run-at"))
    _run_ingest(db_url, files, parse, **kwargs)


# -- serve -------------------------------------------------------------------

@main.command("serve")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="gunicorn workers (default: [api] workers, else 2).")
@click.option("--dev", is_flag=True, help="Flask's development server instead of gunicorn.")
@fail_cleanly()
def serve(db_url, host, port, workers, dev):
    """Serve the API and the dashboard."""
    from .serve import run_server
    config = load_config()
    url = db_url or config.db_url
    open_engine(url)  # fail fast, with the usual message, if the schema is missing
    from .db.session import dispose_engines
    dispose_engines()  # the workers open their own connections
    run_server(url, host=host, port=port,
               workers=workers or config.get_int("api", "workers", 2), dev=dev)


# -- demo data ---------------------------------------------------------------

@main.command("demo-data")
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
def demo_data(db_url, days, jobs, runs_per_day, seed, end, truth_path, quiet, if_empty,
              changes_per_day):
    """Write a deterministic synthetic gate history (runs, tests, flaky tests)."""
    from .demo.gate import generate, has_runs
    from .ingest.service import freeze_startup_heap
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


from .gerrit.cli import gerrit  # noqa: E402  (the gerrit group lives with its collector)
from .tokens_cli import token  # noqa: E402
from .report_cli import report  # noqa: E402

main.add_command(gerrit)
main.add_command(token)
main.add_command(report)


if __name__ == "__main__":  # pragma: no cover
    main()
