"""The one bulk writer: every run, from any source, goes through ``RunWriter``.

One transaction per run. Results are buffered and flushed in batches (bulk
inserts, no per-row round trips), so memory stays flat in stream length. Test
counters are updated at the end with relative SQL (``success = success + n``)
in test-id order, so parallel ingesters neither lose updates nor deadlock.
"""
from __future__ import annotations

import datetime as dt
import itertools
import uuid as uuid_mod
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterable, Sequence

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..db import bulk
from ..db import tables as m
from . import rollups
from ..compat import rollup as osh_rollup
from .catalog import RunTests, TestIdCache
from .records import (DuplicateRunError, TestResult, check_times, normalizer_for,
                      time_in_range, to_naive_utc)
from .run_results import RunResults

_META_MAX = 255  # run_metadata / test_run_metadata value width
#: tests whose counters and daily rows ``RunWriter.finish`` writes at a time
FINISH_SLICE = 50_000
_TEST_RUN_COLUMNS = ("test_id", "run_id", "status", "start_time", "stop_time",
                     "start_time_microsecond", "stop_time_microsecond")


@dataclass
class RunOptions:
    """Everything about a run that does not come from the stream itself."""

    uuid: str | None = None
    run_at: dt.datetime | None = None
    artifacts: str | None = None
    metadata: Sequence[tuple[str, str]] = ()
    attr_regex: str | None = None
    test_attr_prefix: str | None = None
    store_attachments: bool = False
    wall_time: bool = False
    #: store a file without test results as a run of 0 tests (else refused)
    allow_empty: bool = False


@dataclass
class RunSummary:
    run_id: int
    uuid: str
    passes: int = 0
    fails: int = 0
    skips: int = 0
    tests: int = 0
    run_time: float = 0.0
    run_at: dt.datetime | None = None

    def as_json(self) -> dict:
        return {"run_id": self.run_id, "uuid": self.uuid, "passes": self.passes,
                "fails": self.fails, "skips": self.skips, "tests": self.tests}


class RunWriter:
    """Write one run inside the caller's transaction::

        with conn.begin(), RunWriter(conn, options) as writer:
            writer.start()
            for result in results:
                writer.add(result)
            summary = writer.finish()

    Full batches are written by a worker thread while the caller goes on
    parsing: the database (and SQLite's C code) works while Python parses.
    Only one batch is in flight, and the caller never touches the connection
    while it is, so memory stays bounded and the connection is never shared.
    """

    def __init__(self, conn: Connection, options: RunOptions, *,
                 cache: TestIdCache | None = None, batch_size: int = 2000):
        self.conn = conn
        self.options = options
        self.batch_size = batch_size
        self.normalizer = normalizer_for(options.attr_regex)
        self.tests = RunTests(conn, cache)
        self.buffer: list[TestResult] = []
        # tests.id -> (status, duration) of the test's last result in this run
        # (keyed by id, so test names need not stay in memory; packed)
        self.stored = RunResults()
        self.attempts: dict[int, list[str]] = {}  # tests.id -> statuses, retried tests
        self.summary: RunSummary | None = None
        self.first_start: dt.datetime | None = None
        self.last_stop: dt.datetime | None = None
        self.duration_sum = 0.0
        # SQLite does its work in this process and lets go of the GIL for every
        # row: a second thread would spend more on GIL hand-offs than it saves.
        # A server works on its own core while we go on parsing.
        self.background = conn.dialect.name != "sqlite"
        self._worker: ThreadPoolExecutor | None = None
        self._in_flight: Future | None = None

    def __enter__(self) -> "RunWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(suppress=exc_type is not None)

    # -- run row ---------------------------------------------------------
    def start(self) -> RunSummary:
        opts = self.options
        run_uuid = opts.uuid or str(uuid_mod.uuid4())
        if self.conn.execute(select(m.runs.c.id).where(m.runs.c.uuid == run_uuid)).first():
            raise DuplicateRunError(f"a run with id {run_uuid} is already stored")
        values = {"uuid": run_uuid, "passes": 0, "fails": 0, "skips": 0, "run_time": 0.0,
                  "artifacts": opts.artifacts,
                  "run_at": to_naive_utc(opts.run_at) or _utcnow()}
        try:
            run_id = self.conn.execute(insert(m.runs).values(values)).inserted_primary_key[0]
        except IntegrityError:
            raise DuplicateRunError(f"a run with id {run_uuid} is already stored") from None
        pairs = list(dict.fromkeys((k, _clip(v)) for k, v in opts.metadata))
        if pairs:
            self.conn.execute(insert(m.run_metadata),
                              [{"run_id": run_id, "key": k, "value": v} for k, v in pairs])
        self.summary = RunSummary(run_id=run_id, uuid=run_uuid, run_at=values["run_at"])
        if self.background:  # in the worker, while the caller starts parsing
            self._submit(self._prepare, rollups.build_name_of(opts.metadata))
        return self.summary

    def _prepare(self, build_name: str) -> None:
        """Ready the session for the batches to come: a new process's session
        knows neither the tables nor, with an empty cache, the test ids."""
        bulk.prepare_session(self.conn, (m.tests, m.test_runs, m.test_run_metadata,
                                         m.test_daily))
        if not self.tests.cache.committed:
            self.tests.learn_job_tests(build_name)

    # -- results ---------------------------------------------------------
    def add(self, result: TestResult) -> None:
        self.buffer.append(result)
        if len(self.buffer) >= self.batch_size:
            self._dispatch()

    def add_all(self, results: Iterable[TestResult]) -> None:
        """``add`` for each result, a batch at a time."""
        results = iter(results)
        while True:
            room = self.batch_size - len(self.buffer)
            chunk = list(itertools.islice(results, room))
            self.buffer.extend(chunk)
            if len(chunk) < room:
                return
            self._dispatch()

    def _dispatch(self) -> None:
        """Write the full buffer, in the background where that pays."""
        batch, self.buffer = self.buffer, []
        if not self.background:
            self._write_batch(batch)
            return
        self._submit(self._write_batch, batch)

    def _submit(self, fn, *args) -> None:
        """Run ``fn(*args)`` in the worker, once the work in flight is done."""
        self._wait()
        if self._worker is None:
            self._worker = ThreadPoolExecutor(1, thread_name_prefix="ci-health-writer")
        self._in_flight = self._worker.submit(fn, *args)

    def flush(self) -> None:
        """Write everything added so far (waits for the worker)."""
        self._wait()
        batch, self.buffer = self.buffer, []
        if batch:
            self._write_batch(batch)

    def close(self, suppress: bool = False) -> None:
        """Wait for the batch in flight and stop the worker. With ``suppress``
        (the caller is already failing) the batch's own error is dropped."""
        try:
            self._wait()
        except Exception:
            if not suppress:
                raise
        finally:
            if self._worker is not None:
                self._worker.shutdown(wait=True)
                self._worker = None

    def _wait(self) -> None:
        if self._in_flight is not None:
            in_flight, self._in_flight = self._in_flight, None
            in_flight.result()  # re-raises the worker's error here, in the caller

    def _write_batch(self, batch: list[TestResult]) -> None:
        # The per-result loops below run for every test of every run: they
        # inline what would otherwise be a few function calls per result.
        run_id = self.summary.run_id
        split, memo = self.normalizer.split, self.normalizer.memo
        fresh: dict[str, tuple[TestResult, str | None]] = {}
        for result in batch:
            name, attrs = memo.get(result.test_id) or split(result.test_id)
            previous = fresh.get(name)
            if previous is not None:
                # A retry inside the batch: keep the last result, as subunit2sql does.
                earlier = previous[0].metadata.get("attempts", previous[0].status)
                result.metadata["attempts"] = _clip(earlier + "," + result.status)
            fresh[name] = (result, attrs)
        self._track_times(batch)
        test_ids = self.tests.ids(fresh)
        stored, keep_files = self.stored, self.options.store_attachments
        rows, detailed = [], []
        for name, (result, attrs) in fresh.items():
            test_db_id = test_ids[name]
            if test_db_id in stored:
                self._record_retry(test_db_id, result)
                continue
            start, stop, status = result.start_time, result.stop_time, result.status
            if start is None:
                rows.append((test_db_id, run_id, status, None, stop, None,
                             None if stop is None else stop.microsecond))
                stored[test_db_id] = (status, None)
            elif stop is None:
                rows.append((test_db_id, run_id, status, start, None, start.microsecond, None))
                stored[test_db_id] = (status, None)
            else:
                rows.append((test_db_id, run_id, status, start, stop, start.microsecond,
                             stop.microsecond))
                stored[test_db_id] = (status, (stop - start).total_seconds())
            if result.metadata or result.tags:
                detailed.append((test_db_id, result, self._test_run_metadata(result, attrs)))
            elif attrs:  # the common case: only the attrs stripped from the id
                detailed.append((test_db_id, result, {"attrs": _clip(attrs)}))
            elif keep_files and result.attachments:
                detailed.append((test_db_id, result, None))
        if not rows:
            return
        # In tests.id order: the four test_id-first indexes of test_runs then
        # take neighbouring keys one after another (fewer pages touched).
        rows.sort()
        # No RETURNING: it goes row by row on SQLite and MariaDB. Where the engine
        # lets us reserve ids, child rows need no read back.
        ids = bulk.allocate_ids(self.conn, m.test_runs, len(rows)) if detailed else None
        test_run_ids: dict[int, int] = {}
        if ids is None:
            # MySQL/MariaDB: the ids the server gave, where it can tell them
            given = bulk.insert_rows_ids(self.conn, m.test_runs, _TEST_RUN_COLUMNS,
                                         rows) if detailed else None
            if given is None:
                bulk.insert_rows(self.conn, m.test_runs, _TEST_RUN_COLUMNS, rows)
            else:
                test_run_ids = {row[0]: i for i, row in zip(given, rows)}
        else:
            bulk.insert_rows(self.conn, m.test_runs, ("id",) + _TEST_RUN_COLUMNS,
                             [(i,) + row for i, row in zip(ids, rows)])
            test_run_ids = {row[0]: i for i, row in zip(ids, rows)}
        if detailed:
            self._write_details(detailed, test_run_ids)
        if self.options.test_attr_prefix:
            self._store_test_attrs(fresh, test_ids)

    def _write_details(self, detailed: list, known: dict[int, int]) -> None:
        """test_run_metadata and attachments of the test_runs just written;
        ``known`` maps tests.id -> test_runs.id where the ids were reserved."""
        run_id = self.summary.run_id
        wanted = [d[0] for d in detailed if d[0] not in known]
        for i in range(0, len(wanted), bulk.IN_CHUNK):
            stmt = select(m.test_runs.c.test_id, m.test_runs.c.id).where(
                m.test_runs.c.run_id == run_id,
                m.test_runs.c.test_id.in_(wanted[i:i + bulk.IN_CHUNK]))
            known.update(self.conn.execute(stmt).all())
        meta_rows, attach_rows = [], []
        keep_files = self.options.store_attachments
        for test_db_id, result, meta in detailed:
            test_run_id = known[test_db_id]
            if meta:
                for key, value in meta.items():
                    meta_rows.append((test_run_id, key, value))
            if keep_files:
                attach_rows.extend((test_run_id, _clip(label), data)
                                   for label, data in result.attachments)
        meta_rows.sort()  # test_runs.id order, as the index ix_test_run_id wants it
        bulk.insert_rows(self.conn, m.test_run_metadata, ("test_run_id", "key", "value"),
                         meta_rows)
        bulk.insert_rows(self.conn, m.attachments, ("test_run_id", "label", "attachment"),
                         attach_rows)

    def _track_times(self, batch: list[TestResult]) -> None:
        first = min([r.start_time for r in batch if r.start_time is not None], default=None)
        last = max([r.stop_time for r in batch if r.stop_time is not None], default=None)
        if first is not None and (self.first_start is None or first < self.first_start):
            self.first_start = first
        if last is not None and (self.last_stop is None or last > self.last_stop):
            self.last_stop = last
        durations = [(r.stop_time - r.start_time).total_seconds() for r in batch
                     if r.start_time is not None and r.stop_time is not None]
        if (durations and min(durations) < 0) or not all(
                time_in_range(t) for t in (first, last) if t is not None):
            check_times(batch, first, last)  # raises, naming what is wrong
        self.duration_sum += sum(durations)

    def _test_run_metadata(self, result: TestResult, attrs: str | None) -> dict[str, str] | None:
        if not (result.metadata or attrs or result.tags):
            return None
        meta = {k: _clip(v) for k, v in result.metadata.items()}
        if attrs:
            meta["attrs"] = _clip(attrs)
        if result.tags:
            meta["tags"] = _clip(",".join(sorted(result.tags)))
        return meta

    def _record_retry(self, test_db_id: int, result: TestResult) -> None:
        """The test ran again after its first result was flushed: the last
        result wins, and the attempts are kept as test_run_metadata."""
        attempts = self.attempts.setdefault(test_db_id, [self.stored[test_db_id][0]])
        attempts.append(result.status)
        self.tests.retried(test_db_id, *self.stored[test_db_id])
        self.stored[test_db_id] = (result.status, result.duration)
        where = (m.test_runs.c.run_id == self.summary.run_id) & \
                (m.test_runs.c.test_id == test_db_id)
        self.conn.execute(update(m.test_runs).where(where).values(
            status=result.status, start_time=result.start_time, stop_time=result.stop_time,
            start_time_microsecond=_micro(result.start_time),
            stop_time_microsecond=_micro(result.stop_time)))
        test_run_id = self.conn.execute(select(m.test_runs.c.id).where(where)).scalar_one()
        trm = m.test_run_metadata
        self.conn.execute(trm.delete().where((trm.c.test_run_id == test_run_id)
                                             & (trm.c.key == "attempts")))
        self.conn.execute(insert(trm).values(test_run_id=test_run_id, key="attempts",
                                             value=_clip(",".join(attempts))))

    def _store_test_attrs(self, fresh, test_ids) -> None:
        prefix = self.options.test_attr_prefix
        rows = sorted({(test_ids[name], "attr", _clip(attr))
                       for name, (_result, attrs) in fresh.items()
                       for attr in (attrs or "").split(",") if attr.startswith(prefix)})
        bulk.insert_ignore_rows(self.conn, m.test_metadata, ("test_id", "key", "value"),
                                ("test_id", "key", "value"), rows)

    # -- totals ----------------------------------------------------------
    def finish(self) -> RunSummary:
        """Flush, update the run's and the tests' counters; return the summary.

        The caller commits (or rolls back) the transaction. The tests'
        counters and daily rows go ``FINISH_SLICE`` tests at a time, in test
        id order: what a run of a million tests needs at its end then stays
        a slice's worth, not several structures of a million entries each."""
        self.flush()
        self.close()
        summary, stored = self.summary, self.stored
        counts = rollups.STATUS_COUNTS.get
        for status, _duration in stored.values():
            passes, fails, skips = counts(status, rollups.NOT_COUNTED)
            summary.passes += passes
            summary.fails += fails
            summary.skips += skips
        summary.tests = len(stored)
        if self.options.wall_time:
            summary.run_time = ((self.last_stop - self.first_start).total_seconds()
                                if self.first_start and self.last_stop else 0.0)
        else:
            summary.run_time = self.duration_sum
        if self.options.run_at is None and self.first_start is not None:
            summary.run_at = self.first_start.replace(microsecond=0)
        self.conn.execute(update(m.runs).where(m.runs.c.id == summary.run_id).values(
            passes=summary.passes, fails=summary.fails, skips=summary.skips,
            run_time=summary.run_time, run_at=summary.run_at))
        day, build_name = summary.run_at.date(), rollups.build_name_of(self.options.metadata)
        new_day = rollups.apply_job(
            self.conn, run_id=summary.run_id, day=day, build_name=build_name,
            passes=summary.passes, fails=summary.fails, run_time=summary.run_time)
        ids = sorted(stored)
        for i in range(0, len(ids), FINISH_SLICE):
            per_test = rollups.tally((test_db_id, *stored[test_db_id])
                                     for test_db_id in ids[i:i + FINISH_SLICE])
            self.tests.add_counts(per_test)
            rollups.apply_tests(self.conn, day=day, build_name=build_name,
                                per_test=per_test, new_day=new_day)
        osh_rollup.add_run(self.conn, summary.run_id, first_of_job_day=new_day == [True])
        return summary

    def committed(self) -> None:
        """Call after the transaction committed: share the learnt test ids."""
        self.tests.committed()


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _micro(value: dt.datetime | None) -> int | None:
    return None if value is None else value.microsecond


def _clip(value: str) -> str:
    return value if len(value) <= _META_MAX else value[:_META_MAX]
