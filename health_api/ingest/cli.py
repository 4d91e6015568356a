"""``ci-health ingest subunit | junit``: one run per file.

Imports only what ingest needs, and that late: the command's --help loads
nothing but click, and storing a run never loads Flask, pandas or the
Gerrit collector (tests/ingest/test_cli_startup.py checks it).
"""
from __future__ import annotations

import contextlib
import json
import re
import sys
from pathlib import Path

import click

from ..clitools import CliError, db_option, fail_cleanly, open_engine, parse_time


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
    from .parallel import ParsedAhead, can_fork
    from .service import freeze_startup_heap
    from .catalog import TestIdCache
    from .writer import RunOptions
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
    from .service import ingest_run
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


@click.group()
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
    from .service import subunit_parser
    parse = subunit_parser(non_subunit_name, kwargs["store_attachments"])
    _run_ingest(db_url, files, parse, **kwargs)


@ingest.command("junit")
@ingest_options
@fail_cleanly()
def ingest_junit(db_url, files, **kwargs):
    """Ingest JUnit XML files."""
    from .service import junit_parser
    parse = junit_parser(parse_time(kwargs["run_at"], "--run-at"))
    _run_ingest(db_url, files, parse, **kwargs)
