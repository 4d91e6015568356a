"""Rebuild the CI tables from a listener journal (JSON lines, one raw event each).

The journal is read in binary chunks of whole lines; each chunk of events
is stored in one transaction together with a checkpoint (the byte offset of
the end of the chunk) under ``replay:<journal name>`` in
``ci_collector_state``, so ``--resume`` continues exactly where an
interrupted replay stopped. Storing is idempotent: replaying a journal
twice gives the same rows.
"""
from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sqlalchemy import Engine

from ..db.models import CI_TABLES
from .events import EventParseError, parse_event
from .store import GerritStore, StoreStats

__all__ = ["ReplayResult", "checkpoint_key", "replay_journal", "reset_ci_tables"]

log = logging.getLogger(__name__)


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


def replay_journal(engine: Engine, journal: str | os.PathLike, *, store: GerritStore | None = None,
                   resume: bool = False, chunk_size: int = 5000,
                   progress: Callable[[int, int], None] | None = None) -> ReplayResult:
    """Store every event of ``journal``; see the module docstring."""
    journal = Path(journal)
    store = store or GerritStore(engine)
    key = checkpoint_key(journal)
    start = 0
    if resume:
        saved = store.get_state(key)
        start = int(saved) if saved and saved.isdigit() else 0
    total = StoreStats()
    lines = skipped = 0
    size = journal.stat().st_size
    offset = start
    with open(journal, "rb") as handle:
        handle.seek(start)
        events = []
        for raw in handle:
            offset += len(raw)
            lines += 1
            if not raw.endswith(b"\n") and offset >= size:
                # the last line of a journal being written (or cut short)
                log.warning("skipping a truncated last line at byte %d", offset - len(raw))
                skipped += 1
                offset -= len(raw)  # do not checkpoint past it: it may be completed later
                break
            if not raw.strip():
                continue
            try:
                events.append(parse_event(raw))
            except EventParseError as exc:
                skipped += 1
                log.warning("journal %s byte %d: %s", journal, offset - len(raw), exc.message)
                continue
            if len(events) >= chunk_size:
                total.add(store.store_batch(events, state={key: str(offset)}))
                events = []
                if progress:
                    progress(offset, size)
        total.add(store.store_batch(events, state={key: str(offset)}))
        if progress:
            progress(offset, size)
    total.malformed += skipped
    return ReplayResult(stats=total, lines=lines, skipped_lines=skipped, start_offset=start,
                        end_offset=offset)
