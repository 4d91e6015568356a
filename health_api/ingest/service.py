"""Ingest one run per file: parse, write and commit in one transaction."""
from __future__ import annotations

import gc
import logging
from dataclasses import dataclass
from typing import BinaryIO, Callable

from sqlalchemy import Engine

from ..db.session import DEADLOCK_ATTEMPTS, deadlock_retrying, is_deadlock
from .records import DeadlockError, IngestError, Sink
from .catalog import TestIdCache
from .writer import RunOptions, RunSummary, RunWriter

log = logging.getLogger(__name__)

#: parse(source, sink, source_name) -> number of tests
Parser = Callable[[BinaryIO, Sink, str], int]


def freeze_startup_heap() -> None:
    """For one-shot ingest processes (the CLI, benchmarks), once set up: take
    what exists so far (modules, SQLAlchemy metadata, the engine) out of the
    garbage collector's sight. Its full collections then scan only what ingest
    allocates; otherwise they cost about a fifth of the CPU of a large run.
    Whatever is frozen is never collected: for a long-lived process, only once,
    on a heap it keeps anyway (health_api.serve.freeze_startup_objects). Collection
    is on from here, also in a command that paused it while it started
    (clitools.collect_after_startup)."""
    gc.freeze()
    gc.enable()


@dataclass(frozen=True)
class FileParser:
    """A ``Parser`` for one kind of file. ``here`` parses in this process;
    calling the FileParser parses large files and pipes in a child process
    (see parallel.py) when ``child_for_large``, small files and in-memory
    streams here. Several files at once: ``parallel.ParsedAhead(here, ...)``."""

    here: Parser
    child_for_large: bool = True

    def __call__(self, source: BinaryIO, sink: Sink, source_name: str) -> int:
        from .parallel import parse_in_child, worth_a_child
        if self.child_for_large and worth_a_child(source):
            return parse_in_child(self.here, source, sink, source_name)
        return self.here(source, sink, source_name)


def subunit_parser(non_subunit_name: str | None = None,
                   store_attachments: bool = False) -> FileParser:
    from .subunit import parse_subunit

    def parse_here(source: BinaryIO, sink: Sink, source_name: str) -> int:
        return parse_subunit(source, sink, source_name=source_name,
                             non_subunit_name=non_subunit_name,
                             store_attachments=store_attachments)
    return FileParser(parse_here)


def junit_parser(run_start=None) -> FileParser:
    from .junit import parse_junit

    def parse_here(source: BinaryIO, sink: Sink, source_name: str) -> int:
        summary = parse_junit(source, sink, source_name=source_name, run_start=run_start)
        return summary.tests
    return FileParser(parse_here, child_for_large=False)


def ingest_run(engine: Engine, source: BinaryIO, source_name: str, parse: Parser,
               options: RunOptions, *, cache: TestIdCache | None = None) -> RunSummary:
    """Store one run. On any error nothing of it is left in the database.

    Ingesters running in parallel take row locks on the tests they share;
    if the server still breaks a lock cycle by rolling this run back, the
    run is read again from the start of ``source`` and stored anew (when
    ``source`` can seek: files can, pipes cannot), a few times with random
    exponential backoff. A retry queues behind the other retries (see
    ``_queue_retries``), so runs that keep meeting in lock cycles (streams
    sharing many new tests, in different orders) go one after another."""
    rewind = _rewind_point(source)
    retry = {"queued": False}

    def before(state) -> None:
        if state.attempt_number > 1:
            source.seek(rewind)
            retry["queued"] = True
    retrying = deadlock_retrying(
        enabled=rewind is not None, before=before,
        before_sleep=lambda state: log.warning(
            "%s: rolled back to break a deadlock with a concurrent ingest; storing it again "
            "(try %d of %d)", source_name, state.attempt_number + 1, DEADLOCK_ATTEMPTS))
    try:
        return retrying(lambda: _ingest_once(engine, source, source_name, parse, options, cache,
                                             queued=retry["queued"]))
    except Exception as exc:  # SQLAlchemy's error, or the driver's own from COPY
        if not is_deadlock(exc):
            raise
        tries = "" if rewind is None else f" {DEADLOCK_ATTEMPTS} times"
        raise DeadlockError(
            f"{source_name}: rolled back{tries} to break a deadlock with concurrent ingests; "
            "nothing of this run was stored: ingest it again") from None


def _rewind_point(source: BinaryIO) -> int | None:
    try:
        return source.tell() if source.seekable() else None
    except (AttributeError, OSError, ValueError):
        return None


#: PostgreSQL advisory lock key taken by retried ingests ("cihr")
_RETRY_LOCK_KEY = 0x63696872


def _queue_retries(conn) -> None:
    """PostgreSQL: a run rolled back by a deadlock waits, inside its new
    transaction, for the other retried runs to commit. First tries still run
    side by side; runs whose new tests keep crossing (each inserts them in
    its own stream's order, batch by batch) then go one at a time instead of
    deadlocking again until their tries run out."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (_RETRY_LOCK_KEY,))


def _ingest_once(engine: Engine, source: BinaryIO, source_name: str, parse: Parser,
                 options: RunOptions, cache: TestIdCache | None, *,
                 queued: bool = False) -> RunSummary:
    with engine.connect() as conn:
        # The writer closes (joins its worker) before the transaction ends.
        with conn.begin(), RunWriter(conn, options, cache=cache) as writer:
            if queued:
                _queue_retries(conn)
            writer.start()
            parse(source, writer.add, source_name)
            summary = writer.finish()
            if summary.tests == 0 and not options.allow_empty:
                raise IngestError(f"{source_name}: no test results; nothing stored "
                                  "(--allow-empty stores it as an empty run)")
        writer.committed()
    return summary
