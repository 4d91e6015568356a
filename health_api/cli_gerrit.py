"""``ci-health gerrit listen | backfill | replay``.

The CLI wiring of the Gerrit collector (health_api.gerrit), in the CLI
layer beside cli_zuul.py. Registered in health_api/cli.py with
``main.add_command(gerrit)``; kept free of imports from health_api.cli so
that registration can sit anywhere there.
Exit codes as for every command: 0 ok, 2 bad input or configuration (also a
refused host key), 4 database unreachable or schema missing.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import signal
import threading
from pathlib import Path

import click

from .clitools import CliError, db_option, fail_cleanly, parse_time
from .config import ConfigError, load_config


def _fail_cleanly(func):
    from .gerrit.listener import ListenerError
    # ValueError: ci-systems.yaml problems (one line naming the file and entry)
    return fail_cleanly(ListenerError, ValueError)(func)


def _engine(db_url: str | None):
    from sqlalchemy import inspect

    from .db.session import DatabaseError, check_schema, get_engine
    engine = get_engine(db_url or load_config().db_url)
    check_schema(engine)
    with engine.connect() as conn:
        if "ci_comments" not in inspect(conn).get_table_names():
            raise DatabaseError("the database has no CI verdict tables; run "
                                "`ci-health db upgrade --db URL` first")
    return engine


def _store(engine, config, ci_systems_path: str | None):
    from .gerrit.store import GerritStore
    from .gerrit.systems import load_ci_systems
    path = ci_systems_path or config.get("gerrit", "ci_systems", "etc/ci-systems.yaml")
    declared = {}
    if path and Path(path).is_file():
        declared = load_ci_systems(path)
    elif ci_systems_path:
        raise ConfigError(f"--ci-systems: {ci_systems_path} does not exist")
    return GerritStore(engine, declared)


def _parse_since(value: str) -> dt.datetime:
    return parse_time(value, "--since")


_ci_systems_option = click.option(
    "--ci-systems", "ci_systems_path", metavar="FILE", default=None,
    help="Per-CI settings (default: [gerrit] ci_systems, else etc/ci-systems.yaml if present).")


def _stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM (systemd, ``docker stop``) and SIGINT (Ctrl-C) end the listener
    after the batch in hand: its read loop sees ``stop`` within a fraction of a
    second. SIGINT too where it was ignored when the process started, as a
    shell starts its background jobs (``ci-health gerrit listen &``): ``kill
    -INT`` must still stop it. A second signal stops it at once."""
    def handle(_signum, _frame) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handle)


@click.group()
def gerrit() -> None:
    """Collect CI verdicts from Gerrit (stream events, REST backfill, journal replay)."""


@gerrit.command("listen")
@db_option
@_ci_systems_option
@click.option("--journal", metavar="FILE", default=None,
              help="JSON-lines journal of raw events (default: [gerrit] journal).")
@click.option("-v", "--verbose", is_flag=True, help="Log every connection and backfill.")
@_fail_cleanly
def listen(db_url, ci_systems_path, journal, verbose):
    """Follow `gerrit stream-events` over SSH ([gerrit] host, port, user, key_file,
    known_hosts) and store CI verdicts until stopped (SIGINT or SIGTERM: the
    batch in hand is stored first; a second signal stops at once)."""
    from .gerrit.listener import Listener, ListenerSettings
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = load_config()
    settings = ListenerSettings.from_config(config)
    if journal:
        settings.journal = journal
    store = _store(_engine(db_url), config, ci_systems_path)
    listener = Listener(settings, store)
    metrics_port = config.get_int("gerrit", "metrics_port", 0)
    if metrics_port:
        from .gerrit.metrics import serve
        host = config.get("gerrit", "metrics_host", "127.0.0.1")
        try:
            serve(host, metrics_port)
        except OSError as exc:
            raise CliError(f"[gerrit] metrics_host/metrics_port {host}:{metrics_port}: "
                           f"{exc.strerror or exc}", 2) from None
    _stop_on_signals(listener.stop)
    try:
        stats = listener.run()
    except KeyboardInterrupt:
        listener.stop.set()
        stats = listener.stats
    click.echo(json.dumps({"connects": stats.connects, "lines": stats.lines,
                           **stats.store.as_dict()}))


@gerrit.command("backfill")
@db_option
@_ci_systems_option
@click.option("--since", required=True, metavar="TIME",
              help="Changes updated (and messages posted) since this time (ISO 8601, UTC).")
@click.option("--project", "projects", multiple=True, metavar="P",
              help="Only this project (repeatable).")
@click.option("--rest-url", metavar="URL", default=None, help="Default: [gerrit] rest_url.")
@_fail_cleanly
def backfill_command(db_url, ci_systems_path, since, projects, rest_url):
    """Fetch CI comments from Gerrit's REST API and store them (idempotent)."""
    from .gerrit.rest import RestClient, RestError, backfill
    config = load_config()
    url = rest_url or config.get("gerrit", "rest_url")
    if not url:
        raise CliError("no REST URL: pass --rest-url or set [gerrit] rest_url")
    client = RestClient(url, config.get("gerrit", "rest_user"),
                        config.get("gerrit", "rest_password"))
    store = _store(_engine(db_url), config, ci_systems_path)
    try:
        stats = backfill(store, client, _parse_since(since), projects)
    except RestError as exc:
        raise CliError(str(exc), 2) from None
    click.echo(json.dumps(stats.as_dict()))


@gerrit.command("replay")
@db_option
@_ci_systems_option
@click.argument("journal", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@click.option("--resume", is_flag=True,
              help="Continue from the checkpoint of an interrupted replay of this journal.")
@click.option("--reset", is_flag=True, help="Empty the CI verdict tables first.")
@click.option("--chunk-size", type=click.IntRange(1, 1_000_000), default=None,
              help="Journal lines per transaction and checkpoint (default: 50000).")
@click.option("--workers", type=click.IntRange(0, 64), default=None,
              help="Processes that parse the journal while this one writes "
                   "(default: one per spare core, at most 2; 0: parse here).")
@_fail_cleanly
def replay(db_url, ci_systems_path, journal, as_json, resume, reset, chunk_size, workers):
    """Rebuild the CI tables from a listener journal (idempotent)."""
    from .gerrit.replay import replay_journal, reset_ci_tables
    config = load_config()
    engine = _engine(db_url)
    if reset:
        reset_ci_tables(engine)
    store = _store(engine, config, ci_systems_path)
    result = replay_journal(engine, journal, store=store, resume=resume, chunk_size=chunk_size,
                            workers=workers)
    counts = result.as_dict()
    if result.skipped_lines and not result.stats.events:
        # random bytes or the wrong file: not one event line (exit 2, as bad input)
        raise CliError(f"{journal}: none of its {result.skipped_lines} lines is a Gerrit "
                       "event; is it a listener journal?", 2)
    if as_json:
        click.echo(json.dumps(counts))
    else:
        click.echo(f"{counts['events']} events, {counts['comments']} new CI comments "
                   f"({counts['unparsed_comments']} unparsed), {counts['job_results']} job "
                   f"results, {counts['skipped_lines']} skipped lines")
