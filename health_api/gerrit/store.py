"""Store Gerrit events (stream, journal or REST) as CI verdict rows, idempotently.

The mapping from events to rows is in ``collect.py`` (which events give
which rows), ``rows.py`` (comment parsing, the comment key, column values)
and ``writer.py`` (who is a CI, ids, attempts, status order). Every entry
point goes the same way: collect a chunk of events into a ``Batch``,
prepare it (pure: parse the comments), then write it in one transaction,
so the listener, a journal replay and a REST backfill store identical rows
for the same events.

Writes go in chunks, one transaction each, with the driver-speed helpers of
``health_api.db.bulk``. If a chunk fails on bad data, its events are
retried one by one and only the failing ones are counted (``failed``) and
logged; a database that is unreachable raises.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Callable, Iterable, Mapping, Sequence

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from ..db.models import ci_comments, collector_state, patch_sets
from ..db.session import DEADLOCK_ATTEMPTS, deadlock_retrying
from .collect import collect_raw_events, collect_rest_changes
from .events import EventParseError, decode_event_line
from .rows import (Batch, CiConfig, PreparedBatch, StoreStats, comment_key, naive_utc,
                   parse_db_time, prepare_batch)
from .systems import CiSystemConfig
from .writer import LAST_EVENT_KEY, BatchWriter

__all__ = ["GerritStore", "StoreStats", "comment_key", "LAST_EVENT_KEY"]

log = logging.getLogger(__name__)

DEFAULT_CHUNK = 2000
#: builds a chunk's PreparedBatch, counting what it skips into the StoreStats
Prepare = Callable[[StoreStats], PreparedBatch]


class GerritStore:
    """Writes events into the CI tables of ``engine``.

    One instance per process part (listener, replay, backfill); its writer
    caches row ids, which stay valid because rows are never deleted
    underneath it (``replay --reset`` makes a new store).
    """

    def __init__(self, engine: Engine, ci_systems: Mapping[str, CiSystemConfig] | None = None,
                 *, chunk_size: int = DEFAULT_CHUNK):
        self.engine = engine
        self.config = CiConfig(ci_systems)
        self.chunk_size = chunk_size
        self.writer = BatchWriter(self.config)

    # -- public API ------------------------------------------------------------

    def ingest_lines(self, lines: Iterable[str | bytes]) -> StoreStats:
        """Parse and store stream-events lines; malformed ones are counted and logged."""
        stats = StoreStats()
        raws: list[dict[str, Any]] = []
        for line in lines:
            try:
                raws.append(decode_event_line(line))
            except EventParseError as exc:
                stats.malformed += 1
                log.warning("skipping a stream line that is not an event: %s", exc.message)
            if len(raws) >= self.chunk_size:
                stats.add(self.store_raw_batch(raws))
                raws = []
        if raws:
            stats.add(self.store_raw_batch(raws))
        return stats

    def store_raw_events(self, raws: Iterable[dict[str, Any]]) -> StoreStats:
        """Store decoded event dicts (as the listener and replay have them) in chunks of
        ``chunk_size``, one transaction per chunk."""
        stats = StoreStats()
        chunk: list[dict[str, Any]] = []
        for raw in raws:
            chunk.append(raw)
            if len(chunk) >= self.chunk_size:
                stats.add(self.store_raw_batch(chunk))
                chunk = []
        if chunk:
            stats.add(self.store_raw_batch(chunk))
        return stats

    def store_raw_batch(self, raws: Sequence[dict[str, Any]],
                        state: Mapping[str, str] | None = None) -> StoreStats:
        """Store decoded events (``decode_event_line``) in one transaction,
        with ``state`` key/values (e.g. a journal checkpoint). Bad data
        isolates to the failing events."""
        return self._store_safely(
            self._preparer(lambda batch, stats: collect_raw_events(raws, batch, stats,
                                                                   self.config)),
            len(raws), state, lambda: [self.store_raw_batch([r]) for r in raws])

    def store_prepared(self, batch: PreparedBatch | Exception, collected: StoreStats,
                       size: int, state: Mapping[str, str] | None,
                       one_by_one: Callable[[], Iterable[StoreStats]]) -> StoreStats:
        """Write a batch prepared elsewhere (a replay worker) from ``size``
        events whose collection counted ``collected``. ``batch`` may be the
        exception preparing raised; then, as when writing fails on bad data,
        ``one_by_one`` stores the same events singly."""
        def prepared(stats: StoreStats) -> PreparedBatch:
            if isinstance(batch, Exception):
                raise batch
            stats.add(collected)
            return batch
        return self._store_safely(prepared, size, state, one_by_one)

    def store_rest_changes(self, rest_changes: Sequence[Mapping[str, Any]],
                           since: dt.datetime | None = None) -> StoreStats:
        """Store REST ``ChangeInfo`` objects (with MESSAGES, DETAILED_ACCOUNTS and
        ALL_REVISIONS): their patch sets, status, and the messages posted at
        or after ``since``, as the same rows the stream events give."""
        since = naive_utc(since)
        return self._store_safely(
            self._preparer(lambda batch, stats: collect_rest_changes(
                rest_changes, batch, stats, self.config, since)),
            len(rest_changes), None,
            lambda: [self.store_rest_changes([c], since) for c in rest_changes])

    def last_event_time(self) -> dt.datetime | None:
        """The newest stored event time (naive UTC): the REST backfill window start."""
        with self.engine.connect() as conn:
            value = conn.execute(select(collector_state.c.value).where(
                collector_state.c.key == LAST_EVENT_KEY)).scalar()
            if value:
                return dt.datetime.fromisoformat(value)
            candidates = [conn.execute(select(func.max(ci_comments.c.posted_at))).scalar(),
                          conn.execute(select(func.max(patch_sets.c.created_on))).scalar()]
        candidates = [parse_db_time(c) for c in candidates if c is not None]
        return max(candidates) if candidates else None

    def get_state(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(collector_state.c.value).where(
                collector_state.c.key == key)).scalar()

    # -- transaction handling ------------------------------------------------------

    def _preparer(self, collect: Callable[[Batch, StoreStats], None]) -> Prepare:
        def prepare(stats: StoreStats) -> PreparedBatch:
            batch = Batch()
            collect(batch, stats)
            return prepare_batch(batch, self.config)
        return prepare

    def _write(self, batch: PreparedBatch, collected: StoreStats,
               state: Mapping[str, str] | None) -> StoreStats:
        """One transaction; the stats start from what preparing counted, anew
        on every try."""
        stats = StoreStats()
        stats.add(collected)
        with self.engine.begin() as conn:
            self.writer.write(conn, batch, stats)
            self.writer.write_state(conn, batch.last_event_at, state)
        return stats

    def _after_deadlock(self, retry_state) -> None:
        # ids learnt in the rolled-back transaction may not exist
        self.writer.reset_caches()
        log.warning("a chunk was rolled back to break a deadlock with another writer; "
                    "storing it again (try %d of %d)", retry_state.attempt_number + 1,
                    DEADLOCK_ATTEMPTS)

    def _store_safely(self, prepare: Prepare, size: int, state: Mapping[str, str] | None,
                      one_by_one: Callable[[], Iterable[StoreStats]]) -> StoreStats:
        collected = StoreStats()
        try:
            batch = prepare(collected)  # parsing is done before the write lock is taken
            return deadlock_retrying(before_sleep=self._after_deadlock)(
                self._write, batch, collected, state)
        except (OperationalError, InterfaceError):
            self.writer.reset_caches()
            raise  # the database itself is the problem: let the caller retry
        except (DBAPIError, ValueError, TypeError, OverflowError, KeyError) as exc:
            self.writer.reset_caches()
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if size <= 1:
                log.error("could not store an event: %s", reason[:300])
                return StoreStats(events=1, failed=1)
            log.warning("a chunk failed (%s); storing its items one by one", reason[:300])
            total = StoreStats()
            for part in one_by_one():
                total.add(part)
            if state:  # the checkpoint goes with the last item
                with self.engine.begin() as conn:
                    self.writer.write_state(conn, None, state)
            return total
