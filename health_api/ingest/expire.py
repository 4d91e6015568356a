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
from . import rollup_sql

_IN_CHUNK = 500
#: runs per transaction: a day of a Tempest gate (600 runs, 900,000 results) in one
BATCH_RUNS = 1000


def _counter_deltas(conn, run_ids: list[int]) -> list[tuple]:
    """(tests.id, -passes, -failures, -timed passes, -their durations) of these runs'
    results, for bulk.add_to_test_counters: one GROUP BY in the database."""
    tr = m.test_runs.c
    passed = tr.status.in_(rules.PASS_STATUSES)
    timed = passed & tr.start_time.is_not(None) & tr.stop_time.is_not(None)
    took = duration_seconds(tr.start_time, tr.stop_time, tr.start_time_microsecond,
                            tr.stop_time_microsecond, dialect(conn))

    def count(condition):
        return func.sum(case((condition, 1), else_=0))
    rows = conn.execute(
        select(tr.test_id, count(passed), count(tr.status.in_(rules.FAIL_STATUSES)),
               count(timed), func.sum(case((timed, took), else_=0.0)))
        .where(tr.run_id.in_(run_ids), tr.test_id.is_not(None))
        .group_by(tr.test_id).order_by(tr.test_id))
    return [(test_id, -int(p or 0), -int(f or 0), -int(t or 0), -float(d or 0.0))
            for test_id, p, f, t, d in rows]


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
    deltas = _counter_deltas(conn, run_ids)
    osh_rollup.expire_runs(conn, run_ids)
    rollup_sql.subtract_runs(conn, run_ids)
    bulk.add_to_test_counters(conn, m.tests, [d for d in deltas if d[1] or d[2]])
    tr = m.test_runs.c
    lo, hi = conn.execute(select(func.min(tr.id), func.max(tr.id))
                          .where(tr.run_id.in_(run_ids))).one()
    if lo is not None:
        # The batch's results sit in one id range (a run's are written
        # together): the range lets every engine use the test_run_id indexes;
        # the IN keeps results of other runs inside the range.
        test_run_ids = select(tr.id).where(tr.run_id.in_(run_ids), tr.id.between(lo, hi))
        if conn.dialect.name in ("mysql", "mariadb"):
            # MySQL cannot delete with a subquery over a table it is about to change.
            test_run_ids = list(conn.execute(test_run_ids).scalars())
        for table in (m.attachments, m.test_run_metadata):
            conn.execute(delete(table).where(table.c.test_run_id.between(lo, hi),
                                             table.c.test_run_id.in_(test_run_ids)))
        report["test_runs"] += conn.execute(delete(m.test_runs).where(
            tr.run_id.in_(run_ids))).rowcount
    conn.execute(delete(m.run_metadata).where(m.run_metadata.c.run_id.in_(run_ids)))
    report["runs"] += conn.execute(delete(m.runs).where(m.runs.c.id.in_(run_ids))).rowcount
    report["tests"] += _delete_unused_tests(conn, [d[0] for d in deltas], max(run_ids))


def _delete_unused_tests(conn, test_ids: list[int], newest_expired: int) -> int:
    """Tests whose every result expired go too, with their test_metadata and
    rollup rows. Index probes (EXISTS), not a count of a test's results: first
    for a result of a run newer than the batch (uq_test_runs (test_id, run_id)
    starts past the results just deleted, which a probe by test_id alone
    would step over one by one), then, for the tests that have none, for
    any result at all."""
    removed = 0
    t, tr = m.tests.c, m.test_runs.c
    for i in range(0, len(test_ids), _IN_CHUNK):
        chunk = test_ids[i:i + _IN_CHUNK]
        maybe_unused = list(conn.execute(select(t.id).where(
            t.id.in_(chunk), ~exists().where(tr.test_id == t.id, tr.run_id > newest_expired)))
            .scalars())
        unused = maybe_unused and list(conn.execute(select(t.id).where(
            t.id.in_(maybe_unused), ~exists().where(tr.test_id == t.id))).scalars())
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
    report = rollup_sql.build_all(engine)
    report.update(osh_rollup.build_all(engine))
    if "ci_daily_jobs" in inspect(engine).get_table_names():
        with engine.begin() as conn:  # the CI verdicts' daily rollups too
            report.update(ci_rollup.build_all(conn))
    return report
