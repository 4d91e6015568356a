"""Retention over whole runs, in bounded batches, at a cost in proportion to
what is deleted: the runs' rollup contributions are subtracted in SQL
(health_api.ingest.rollup_sql) and only the rollup rows and tests they touched
are looked at again; every delete goes through an index (run ids, or the
batch's test_runs id range)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, case, delete, exists, func, inspect, select

from .. import rules
from ..db import bulk
from ..db import tables as m
from ..queries.common import dialect, duration_seconds
from ..verdicts import rollup as ci_rollup
from ..compat import rollup as osh_rollup
from . import rebuild, rollup_sql

_IN_CHUNK = 500
#: runs per transaction: a day of a Tempest gate (600 runs, 900,000 results) in one
BATCH_RUNS = 1000


def _deltas_columns(conn, tr):
    """(test_id, passes, failures, timed passes, their durations, min id, max id)
    aggregated per test id over result columns ``tr``."""
    passed = tr.status.in_(rules.PASS_STATUSES)
    timed = passed & tr.start_time.is_not(None) & tr.stop_time.is_not(None)
    if dialect(conn) == "postgresql":
        # as rollup_sql: the timestamps hold the microseconds the microsecond
        # columns repeat; date_part gives a double, EXTRACT a numeric (3x slower)
        took = func.date_part("epoch", tr.stop_time - tr.start_time)
    else:
        took = duration_seconds(tr.start_time, tr.stop_time, tr.start_time_microsecond,
                                tr.stop_time_microsecond, dialect(conn))

    def count(condition):
        return func.sum(case((condition, 1), else_=0))
    return (tr.test_id, count(passed), count(tr.status.in_(rules.FAIL_STATUSES)),
            count(timed), func.sum(case((timed, took), else_=0.0)),
            func.min(tr.id), func.max(tr.id))


def _deltas(rows) -> tuple[list[tuple], int | None, int | None]:
    """(rows for bulk.add_to_test_counters, lowest and highest test_runs id)."""
    rows = list(rows)
    lo = min((r[5] for r in rows), default=None)
    hi = max((r[6] for r in rows), default=None)
    return ([(test_id, -int(p or 0), -int(f or 0), -int(t or 0), -float(d or 0.0))
             for test_id, p, f, t, d, _lo, _hi in sorted(
                 (r for r in rows if r[0] is not None), key=lambda r: r[0])], lo, hi)


def _delete_results(conn, run_ids: list[int]) -> tuple[list[tuple], int | None, int | None, int]:
    """Delete the runs' test_runs; return what they added to the tests'
    counters (``_deltas``) and how many went.

    PostgreSQL: one pass, ``DELETE ... RETURNING`` aggregated by a CTE. The
    others read the results once (the counters and the id range), then
    delete them."""
    trt = m.test_runs
    if dialect(conn) == "postgresql":
        gone = delete(trt).where(trt.c.run_id.in_(run_ids)).returning(
            trt.c.id, trt.c.test_id, trt.c.status, trt.c.start_time, trt.c.stop_time).cte("gone")
        rows = conn.execute(select(*_deltas_columns(conn, gone.c), func.count())
                            .group_by(gone.c.test_id)).all()
        deltas, lo, hi = _deltas(r[:7] for r in rows)
        return deltas, lo, hi, sum(r[7] for r in rows)
    deltas, lo, hi = _deltas(conn.execute(
        select(*_deltas_columns(conn, trt.c)).where(trt.c.run_id.in_(run_ids))
        .group_by(trt.c.test_id)))
    deleted = conn.execute(delete(trt).where(trt.c.run_id.in_(run_ids))).rowcount
    return deltas, lo, hi, deleted


def expire_runs(engine: Engine, *, days: int, batch_size: int = BATCH_RUNS,
                now: dt.datetime | None = None) -> dict:
    """Delete runs older than ``days`` with their test_runs, metadata, attachments
    and rollup contributions; one transaction per batch of runs."""
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    cutoff = now - dt.timedelta(days=days)
    report = {"cutoff": cutoff.isoformat() + "Z", "runs": 0, "test_runs": 0, "tests": 0}
    while True:
        with engine.begin() as conn:
            run_ids = _oldest_days(conn, cutoff, batch_size)
            if not run_ids:
                break
            _expire_batch(conn, run_ids, report)
    return report


def _oldest_days(conn, cutoff: dt.datetime, batch_size: int) -> list[int]:
    """The oldest runs before the cutoff (through ix_run_at), up to ``batch_size``
    and whole days: a batch that holds all of a day's runs takes every rollup
    row of that day whole (rollup_sql.subtract_runs deletes them by key
    instead of subtracting); only a day of more than ``batch_size`` runs is
    split."""
    r = m.runs.c
    oldest = conn.execute(select(r.id, r.run_at).where(r.run_at < cutoff)
                          .order_by(r.run_at, r.id).limit(batch_size)).all()
    if len(oldest) < batch_size:
        return [run_id for run_id, _ in oldest]
    last_day = dt.datetime.combine(oldest[-1][1].date(), dt.time())
    whole_days = [run_id for run_id, run_at in oldest if run_at < last_day]
    return whole_days or [run_id for run_id, _ in oldest]


def _expire_batch(conn, run_ids: list[int], report: dict) -> None:
    # the rollups first: a (day, job) key the batch leaves partly is
    # subtracted from the results, which must still be there
    osh_rollup.expire_runs(conn, run_ids)
    rollup_sql.subtract_runs(conn, run_ids)
    deltas, lo, hi, deleted = _delete_results(conn, run_ids)
    bulk.add_to_test_counters(conn, m.tests, [d for d in deltas if d[1] or d[2]])
    report["test_runs"] += deleted
    if lo is not None:
        # The batch's results sat in one id range (a run's are written
        # together): the range bounds the index scan of test_run_id; what
        # lost its result in it is the batch's (or an orphan already).
        for table in (m.attachments, m.test_run_metadata):
            conn.execute(delete(table).where(
                table.c.test_run_id.between(lo, hi),
                ~exists().where(m.test_runs.c.id == table.c.test_run_id)))
    conn.execute(delete(m.run_metadata).where(m.run_metadata.c.run_id.in_(run_ids)))
    report["runs"] += conn.execute(delete(m.runs).where(m.runs.c.id.in_(run_ids))).rowcount
    report["tests"] += _delete_unused_tests(conn, [d[0] for d in deltas])


def _delete_unused_tests(conn, test_ids: list[int]) -> int:
    """Tests whose every result expired go too, with their test_metadata and
    rollup rows. One index probe per test: its newest result, ``MAX(run_id)``,
    which every engine reads from the end of uq_test_runs (test_id, run_id)
    -- the batch's results are the oldest ones, so a test still in use
    answers with its first entry. (``NOT EXISTS (test_id = t.id AND run_id >
    newest expired)`` was planned by PostgreSQL on ix_test_runs_test_id with
    the run_id as a filter, stepping over every older result of the test:
    3.5 s for 500 tests of a gate week, against 0.1 s.)"""
    removed = 0
    t, tr = m.tests.c, m.test_runs.c
    for i in range(0, len(test_ids), _IN_CHUNK):
        chunk = test_ids[i:i + _IN_CHUNK]
        newest = select(func.max(tr.run_id)).where(tr.test_id == t.id).scalar_subquery()
        unused = list(conn.execute(select(t.id).where(t.id.in_(chunk), newest.is_(None)))
                      .scalars())
        if unused:
            conn.execute(delete(m.test_metadata).where(m.test_metadata.c.test_id.in_(unused)))
            conn.execute(delete(m.test_daily).where(m.test_daily.c.test_id.in_(unused)))
            removed += conn.execute(delete(m.tests).where(m.tests.c.id.in_(unused))).rowcount
    return removed


def rebuild_rollups(engine: Engine, *, missing_only: bool = False) -> dict:
    """Recompute ch_job_daily and ch_test_daily from runs and test_runs, in SQL
    (for data written by subunit2sql, which knows nothing of rollups);
    ``missing_only``: add just the runs no writer rolled up yet."""
    if missing_only:
        return rollup_sql.catch_up(engine)
    report = rebuild.build_all(engine)
    if "ci_daily_jobs" in inspect(engine).get_table_names():
        with engine.begin() as conn:  # the CI verdicts' daily rollups too
            report.update(ci_rollup.build_all(conn))
    return report
