"""Rebuild the CI tables from a listener journal (JSON lines, one raw event each).

The journal (as long as it was when the replay started) is cut into chunks
of ``chunk_size`` whole lines. Each chunk is decoded and prepared (events
collected, comments parsed and keyed: ``rows.py``) without typing its
events, then stored in one transaction together with a checkpoint (the
byte offset of the end of the chunk) under ``replay:<journal name>`` in
``ci_collector_state``, so ``--resume`` continues exactly where an
interrupted replay stopped. A last line without its newline is being
written (or was cut short): it is skipped and not checkpointed past.

Preparing costs about as much as writing, so on a machine with more than
one core worker processes prepare the next chunks while this process
writes (``workers``); chunks are written in journal order either way, and
the rows are the same as storing the events one by one. Storing is
idempotent: replaying a journal twice gives the same rows.
"""
from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import Engine

from ..db.models import CI_TABLES
from .journal import PreparedChunk, decode_lines, gc_paused, prepared_transactions, read_lines
from .rows import StoreStats
from .store import GerritStore

__all__ = ["DEFAULT_CHUNK_LINES", "ReplayResult", "checkpoint_key", "default_workers",
           "replay_journal", "reset_ci_tables"]

log = logging.getLogger(__name__)

#: lines per transaction at most: each commit writes the pages it touched to
#: the WAL (and may checkpoint), so big transactions write a page shared by
#: many events once; the first ones are smaller (see journal._joined)
DEFAULT_CHUNK_LINES = 50_000
#: below this many bytes to replay, starting worker processes costs more than it saves
_PARALLEL_MIN_BYTES = 4 << 20


@dataclass
class ReplayResult:
    stats: StoreStats
    lines: int
    skipped_lines: int  # malformed or truncated lines
    start_offset: int
    end_offset: int

    def as_dict(self) -> dict:
        s = self.stats
        return {"events": s.events, "lines": self.lines, "comments": s.comments,
                "job_results": s.job_results, "unparsed_comments": s.unparsed_comments,
                "patch_sets": s.patch_sets, "duplicate_comments": s.duplicate_comments,
                "non_ci_comments": s.non_ci_comments, "status_changes": s.status_changes,
                "skipped_missing": s.skipped_missing, "skipped_lines": self.skipped_lines,
                "failed": s.failed, "start_offset": self.start_offset,
                "end_offset": self.end_offset}


def checkpoint_key(journal: Path) -> str:
    name = str(Path(journal).resolve())
    if len(name) > 150:
        name = name[-100:] + "#" + hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"replay:{name}"


def reset_ci_tables(engine: Engine) -> None:
    """Empty the CI verdict tables (not the results tables)."""
    with engine.begin() as conn:
        for name in CI_TABLES:
            conn.exec_driver_sql(f"DELETE FROM {name}")


def default_workers() -> int:
    """Preparing processes beside the writer: one per spare core, at most two
    (the writer is the bottleneck beyond that)."""
    return max(0, min(2, (os.cpu_count() or 1) - 1))


# -- the replay ---------------------------------------------------------------------


def _store_chunk(store: GerritStore, journal: Path, chunk: PreparedChunk,
                 state: dict[str, str]) -> StoreStats:
    def one_by_one() -> Iterator[StoreStats]:
        lines = read_lines(journal, chunk.start, chunk.end)
        raws, _ = decode_lines(lines, chunk.start, str(journal), None)
        return (store.store_raw_batch([raw]) for raw in raws)

    batch = chunk.batch if chunk.error is None else chunk.error
    return store.store_prepared(batch, chunk.collected, chunk.events, state, one_by_one)


def replay_journal(engine: Engine, journal: str | os.PathLike, *, store: GerritStore | None = None,
                   resume: bool = False, chunk_size: int | None = None,
                   progress: Callable[[int, int], None] | None = None,
                   workers: int | None = None) -> ReplayResult:
    """Store every event of ``journal``; see the module docstring.

    ``chunk_size``: journal lines per transaction (default
    ``DEFAULT_CHUNK_LINES``). ``workers``: preparing processes (0: prepare
    here; default: ``default_workers()`` for journals big enough to gain).
    """
    journal = Path(journal)
    store = store or GerritStore(engine)
    key = checkpoint_key(journal)
    start = 0
    if resume:
        saved = store.get_state(key)
        start = int(saved) if saved and saved.isascii() and saved.isdigit() else 0
    size = journal.stat().st_size
    if workers is None:
        workers = default_workers() if size - start >= _PARALLEL_MIN_BYTES else 0
    total = StoreStats()
    lines = skipped = 0
    offset = start
    chunk_lines = max(1, chunk_size or DEFAULT_CHUNK_LINES)
    with gc_paused():
        for chunk in prepared_transactions(journal, start, size, store.config, chunk_lines,
                                           workers):
            for warning in chunk.warnings:
                log.warning("%s", warning)
            total.add(_store_chunk(store, journal, chunk, {key: str(chunk.end)}))
            lines += chunk.lines
            skipped += chunk.skipped
            offset = chunk.end
            if progress:
                progress(offset, size)
    if offset < size:
        # the last line of a journal being written (or cut short): do not
        # checkpoint past it, it may be completed later
        log.warning("skipping a truncated last line at byte %d", offset)
        lines += 1
        skipped += 1
    if offset == start:  # nothing stored: still record where the replay stands
        total.add(store.store_raw_batch([], state={key: str(offset)}))
    total.malformed += skipped
    return ReplayResult(stats=total, lines=lines, skipped_lines=skipped, start_offset=start,
                        end_offset=offset)
