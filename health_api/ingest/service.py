"""Ingest one run per file: parse, write and commit in one transaction."""
from __future__ import annotations

import gc
from typing import BinaryIO, Callable

from sqlalchemy import Engine

from .records import Sink
from .writer import RunOptions, RunSummary, RunWriter, TestIdCache

#: parse(source, sink, source_name) -> number of tests
Parser = Callable[[BinaryIO, Sink, str], int]


def freeze_startup_heap() -> None:
    """For one-shot ingest processes (the CLI, benchmarks), once set up: take
    what exists so far (modules, SQLAlchemy metadata, the engine) out of the
    garbage collector's sight. Its full collections then scan only what ingest
    allocates; otherwise they cost about a fifth of the CPU of a large run.
    Not for long-lived servers: whatever is frozen is never collected."""
    gc.freeze()


def subunit_parser(non_subunit_name: str | None = None,
                   store_attachments: bool = False) -> Parser:
    """Parses large files and pipes in a child process (see parallel.py),
    small files and in-memory streams in this one."""
    from .parallel import worth_a_child, parse_in_child
    from .subunit import parse_subunit

    def parse_here(source: BinaryIO, sink: Sink, source_name: str) -> int:
        return parse_subunit(source, sink, source_name=source_name,
                             non_subunit_name=non_subunit_name,
                             store_attachments=store_attachments)

    def parse(source: BinaryIO, sink: Sink, source_name: str) -> int:
        if worth_a_child(source):
            return parse_in_child(parse_here, source, sink, source_name)
        return parse_here(source, sink, source_name)
    return parse


def junit_parser(run_start=None) -> Parser:
    from .junit import parse_junit

    def parse(source: BinaryIO, sink: Sink, source_name: str) -> int:
        summary = parse_junit(source, sink, source_name=source_name, run_start=run_start)
        return summary.tests
    return parse


def ingest_run(engine: Engine, source: BinaryIO, source_name: str, parse: Parser,
               options: RunOptions, *, cache: TestIdCache | None = None) -> RunSummary:
    """Store one run. On any error nothing of it is left in the database."""
    with engine.connect() as conn:
        # The writer closes (joins its worker) before the transaction ends.
        with conn.begin(), RunWriter(conn, options, cache=cache) as writer:
            writer.start()
            parse(source, writer.add, source_name)
            summary = writer.finish()
        writer.committed()
    return summary
