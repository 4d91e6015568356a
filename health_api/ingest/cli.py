"""``ci-health ingest subunit | junit``: one run per file.

Imports only what ingest needs, and that late: the command's --help loads
nothing but click, and storing a run never loads Flask, pandas or the
Gerrit collector (tests/ingest/test_cli_startup.py checks it).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import sys
from pathlib import Path

import click

from ..clitools import (CliError, collect_after_startup, db_option, fail_cleanly,
                        open_engine, parse_time)


#: runs.uuid is VARCHAR(36): the same limit on every engine (SQLite would
#: store a longer one that the others refuse)
RUN_ID_MAX = 36


def _utf8(value: str | None, name: str) -> str | None:
    """Arguments that are not UTF-8 reach us as surrogate escapes, which no
    database driver can encode: refuse them here, naming the option."""
    if value is not None:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise CliError(f"{name}: not valid UTF-8: {value!r}") from None
    return value


def _run_at(value: str | None) -> dt.datetime | None:
    from .records import TIME_MIN, time_in_range
    run_at = parse_time(value, "--run-at")
    if run_at is not None and not time_in_range(run_at):
        raise CliError(f"--run-at: out of range (from {TIME_MIN:%Y-%m-%d} to a day from "
                       f"now): {value!r}")
    return run_at


def _parse_meta(pairs: tuple[str, ...]) -> list[tuple[str, str]]:
    meta = []
    for pair in pairs:
        key, sep, value = _utf8(pair, "--run-meta").partition("=")
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
        click.option("--allow-empty", is_flag=True,
                     help="Store a file without test results as an empty run "
                          "(refused by default: exit 2)."),
        click.argument("files", nargs=-1, required=True, metavar="FILE|DIR... | -"),
        db_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run_ingest(db_url, files, parse, *, run_meta, artifacts, run_id, run_at, attr_regex,
                test_attr_prefix, store_attachments, wall_time, as_json, allow_empty):
    from .service import freeze_startup_heap
    from .catalog import TestIdCache
    from .writer import RunOptions
    files = _expand_directories(files)
    if run_id and len(files) > 1:
        raise CliError("--run-id names one run, but several files were given")
    for value, name in ((run_id, "--run-id"), (artifacts, "--artifacts"),
                        (attr_regex, "--attr-regex"), (test_attr_prefix, "--test-attr-prefix")):
        _utf8(value, name)
    if run_id and len(run_id) > RUN_ID_MAX:
        raise CliError(f"--run-id: at most {RUN_ID_MAX} characters, got {len(run_id)}")
    if attr_regex:
        try:
            re.compile(attr_regex)
        except re.error as exc:
            raise CliError(f"--attr-regex: invalid regular expression: {exc}") from None
    options = RunOptions(uuid=run_id, run_at=_run_at(run_at), allow_empty=allow_empty,
                         artifacts=artifacts, metadata=_parse_meta(run_meta),
                         attr_regex=attr_regex, test_attr_prefix=test_attr_prefix,
                         store_attachments=store_attachments, wall_time=wall_time)
    engine = open_engine(db_url)
    cache = TestIdCache()
    freeze_startup_heap()
    # Several files: one child parses them ahead of the runs written here.
    ahead = None
    if len(files) > 1 and "-" not in files:
        from .parallel import ParsedAhead, can_fork
        ahead = ParsedAhead(parse.here, files) if can_fork() else None
    with ahead or contextlib.nullcontext():
        for name in files:
            summary = _ingest_file(engine, name, ahead.parse if ahead else parse, options,
                                   cache)
            _report(name, summary, as_json)
    # after every run is stored: an ingest that fails keeps its one-line error
    _warn_without_job(options.metadata)


def _warn_without_job(metadata) -> None:
    """A run without a build_name is in no job: say so (on stderr, so --json output
    stays one JSON line per run)."""
    from ..rules import BUILD_NAME_KEY, NO_JOB_NAME
    if not any(key == BUILD_NAME_KEY for key, _ in metadata):
        click.echo(f"warning: no --run-meta {BUILD_NAME_KEY}=...: the job views will show "
                   f"these runs as {NO_JOB_NAME!r}", err=True)


def _expand_directories(files: tuple[str, ...]) -> list[str]:
    """A directory stands for the files in it (not below it), in name order:
    one run each, in the same process and connection as the other files."""
    expanded: list[str] = []
    for name in files:
        path = Path(name)
        if name != "-" and path.is_dir():
            inside = sorted(str(p) for p in path.iterdir() if p.is_file())
            if not inside:
                raise CliError(f"{name}: directory without files")
            expanded.extend(inside)
        else:
            expanded.append(name)
    return expanded


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
@collect_after_startup
def ingest_subunit(db_url, files, non_subunit_name, **kwargs):
    """Ingest subunit v2 streams."""
    from .service import subunit_parser
    parse = subunit_parser(non_subunit_name, kwargs["store_attachments"])
    _run_ingest(db_url, files, parse, **kwargs)


@ingest.command("junit")
@ingest_options
@fail_cleanly()
@collect_after_startup
def ingest_junit(db_url, files, **kwargs):
    """Ingest JUnit XML files."""
    from .service import junit_parser
    parse = junit_parser(_run_at(kwargs["run_at"]))
    _run_ingest(db_url, files, parse, **kwargs)
